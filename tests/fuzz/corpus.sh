#!/bin/sh
# corpus: every fuzz harness, linked with tests/fuzz/run_corpus.c instead of
# libFuzzer (tests/fuzz/corpus_<name>), over its committed corpus
# tests/fuzz/corpus/<name>/: the seeds, and each input that once crashed a
# parser, kept as a regression test after the fix. The DICOM harnesses get
# `rtc synth` output made here (no real data is copied into the tree).
# In the sanitizer build every input also runs under ASan and UBSan.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"

fz=$RTC_TOP_BUILDDIR/tests/fuzz
corpus=$RTC_TOP_SRCDIR/tests/fuzz/corpus
names="csa dicom s3 openneuro proto config project events bids participants
analysis slurm creds http glob nifti watch"

expect_status 0 "$RTC_BIN" synth -o "$T/synth" --volumes 2 --matrix 16x16x4 \
    --seed 7
find "$T/synth" -name '*.dcm' | head -n 4 >"$T/dcm"
[ -s "$T/dcm" ] || fail "rtc synth wrote no DICOM file"

for n in $names; do
	prog=$fz/corpus_$n
	[ -x "$prog" ] || fail "$prog is not built"
	set --
	[ -d "$corpus/$n" ] && set -- "$corpus/$n"
	case $n in
	dicom|watch)
		while read -r f; do set -- "$@" "$f"; done <"$T/dcm"
		;;
	esac
	[ $# -gt 0 ] || fail "no corpus for $n"
	set +e
	"$prog" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$T/err" >&2
		fail "fuzz harness $n failed on its corpus (exit $rc)"
	fi
	note "$(cat "$T/out")"
done
echo "PASS: every harness over its corpus"
