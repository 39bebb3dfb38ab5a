#!/bin/sh
# fuzz.sh: the work behind `make fuzz` and `make fuzz-run` (lib/fuzz.am
# passes the compilers, flags and lists in the environment).
#
#   fuzz.sh build SRCDIR NAMES...   compile librtc's C and C++ sources once
#                                   with clang's coverage and sanitizers
#                                   into tests/fuzz/obj/librtc-fuzz.a (only
#                                   what changed), then link each harness
#                                   tests/fuzz/fuzz_NAME.c with libFuzzer
#   fuzz.sh run SRCDIR SECONDS NAMES...
#                                   run each harness for SECONDS on a copy
#                                   of its seed corpus (tests/fuzz/runs/NAME;
#                                   crashes go to tests/fuzz/crashes/), and
#                                   print its executions and coverage
#
# Environment for build: FUZZ_CC, FUZZ_CXX, FUZZ_CPPFLAGS, FUZZ_CFLAGS,
# FUZZ_LIBS, FUZZ_LIB_SOURCES (librtc's sources, relative to SRCDIR),
# FUZZ_JOBS (parallel compilers).
set -eu

obj=tests/fuzz/obj

# The extra sources and link options of a harness.
extra_sources() {
	case $1 in
	slurm) echo cloud/slurm.c ;;
	esac
}
extra_ldflags() {
	case $1 in
	slurm) echo -Wl,--wrap=rtc_process_run ;;
	esac
}
run_options() {
	case $1 in
	dicom|watch) echo -max_len=1048576 ;;
	nifti) echo -max_len=262144 ;;
	*) echo -max_len=65536 ;;
	esac
}

# compile SRC OUT [fuzzer]: one translation unit
compile() {
	src=$1 out=$2 san=-fsanitize=fuzzer-no-link
	case $src in
	*.cc) set -- $FUZZ_CXX -std=c++17 ;;
	*) set -- $FUZZ_CC ;;
	esac
	echo "  FUZZCC   $out"
	# shellcheck disable=SC2086
	"$@" $FUZZ_CPPFLAGS $FUZZ_CFLAGS $san -c -o "$out.tmp" "$src"
	mv "$out.tmp" "$out"
}

# Is $2 older than $1 or than any header of lib/, cloud/ or tests/fuzz/?
stale() {
	[ -f "$2" ] || return 0
	[ "$1" -nt "$2" ] && return 0
	[ -n "$(find "$srcdir/lib" "$srcdir/cloud" "$srcdir/tests/fuzz" \
	    \( -name '*.h' -o -name '*.hh' \) -newer "$2" | head -n 1)" ]
}

# A harness may #include a lib/ source to reach its statics.
stale_harness() {
	stale "$1" "$2" && return 0
	[ -n "$(find "$srcdir/lib" "$srcdir/cloud" \( -name '*.c' -o \
	    -name '*.cc' \) -newer "$2" | head -n 1)" ]
}

build() {
	srcdir=$1
	shift
	mkdir -p "$obj"
	todo=
	objs=
	for s in $FUZZ_LIB_SOURCES; do
		case $s in *.c|*.cc) ;; *) continue ;; esac
		o=$obj/$(echo "$s" | tr / _).o
		objs="$objs $o"
		if stale "$srcdir/$s" "$o"; then
			todo="$todo $srcdir/$s:$o"
		fi
	done
	if [ -n "$todo" ]; then
		# shellcheck disable=SC2086
		printf '%s\n' $todo | xargs -P "${FUZZ_JOBS:-2}" -n 1 \
		    "$SHELL_CMD" "$0" compile-one
		rm -f "$obj/librtc-fuzz.a"
	fi
	if [ ! -f "$obj/librtc-fuzz.a" ]; then
		# shellcheck disable=SC2086
		ar rcs "$obj/librtc-fuzz.a" $objs
	fi
	for n in "$@"; do
		h=$srcdir/tests/fuzz/fuzz_$n.c
		o=$obj/fuzz_$n.o
		hobjs=$o
		if stale_harness "$h" "$o"; then
			compile "$h" "$o"
		fi
		for e in $(extra_sources "$n"); do
			eo=$obj/$(echo "$e" | tr / _).o
			if stale "$srcdir/$e" "$eo"; then
				compile "$srcdir/$e" "$eo"
			fi
			hobjs="$hobjs $eo"
		done
		relink=
		for o in $hobjs "$obj/librtc-fuzz.a"; do
			[ "$o" -nt "tests/fuzz/fuzz_$n" ] && relink=1
		done
		[ -f "tests/fuzz/fuzz_$n" ] || relink=1
		[ -n "$relink" ] || continue
		echo "  FUZZLD   tests/fuzz/fuzz_$n"
		# shellcheck disable=SC2086
		$FUZZ_CXX $FUZZ_CFLAGS -fsanitize=fuzzer -o "tests/fuzz/fuzz_$n" \
		    $hobjs "$obj/librtc-fuzz.a" $(extra_ldflags "$n") $FUZZ_LIBS
	done
}

run() {
	srcdir=$1 secs=$2
	shift 2
	mkdir -p tests/fuzz/runs tests/fuzz/crashes
	for n in "$@"; do
		w=tests/fuzz/runs/$n
		mkdir -p "$w"
		if [ -d "$srcdir/tests/fuzz/corpus/$n" ]; then
			cp "$srcdir/tests/fuzz/corpus/$n"/* "$w"/ 2>/dev/null || :
		fi
		case $n in
		dicom|watch)
			# DICOM seeds are made here, never copied from real data
			if [ ! -d tests/fuzz/runs/synth ]; then
				src/rtc synth -o tests/fuzz/runs/synth --volumes 2 \
				    --matrix 16x16x4 >/dev/null
			fi
			find tests/fuzz/runs/synth -name '*.dcm' -exec cp {} "$w"/ \;
			;;
		esac
		log=tests/fuzz/runs/$n.log
		# shellcheck disable=SC2046
		tests/fuzz/fuzz_$n -max_total_time="$secs" -timeout=10 \
		    -rss_limit_mb=4096 -print_final_stats=1 \
		    -artifact_prefix=tests/fuzz/crashes/"$n"- \
		    $(run_options "$n") "$w" >"$log" 2>&1 || {
			echo "fuzz_$n: FAILED (see $log)"
			continue
		}
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
		ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1)
		corp=$(grep -o 'corp: [0-9]*/[0-9a-zA-Z]*' "$log" | tail -n 1)
		echo "fuzz_$n: $execs executions in $secs s, $cov, $ft, $corp"
	done
}

SHELL_CMD=${SHELL_CMD:-/bin/sh}
cmd=$1
shift
case $cmd in
build) build "$@" ;;
run) run "$@" ;;
compile-one)
	compile "${1%%:*}" "${1#*:}"
	;;
*) echo "usage: $0 build|run ..." >&2; exit 64 ;;
esac
