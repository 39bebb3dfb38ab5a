#!/bin/sh
# The folder watch against real writers (cp, cat, mv in other processes):
# the real Siemens series arrives once per file; the real half-written file
# is held back until its last bytes are appended; a non-DICOM file and a
# file that stays truncated are not handed out; files renamed in from
# hidden names count once. Both inotify and polling (network shares).
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e

need_data
LIST="$RTC_TOP_BUILDDIR/tests/live/watch_list"
[ -x "$LIST" ] || fail "$LIST not built"
SRC="$RTC_TEST_DATA/dicom/siemens-e11-mosaic-rt"
TRUNC="$RTC_TEST_DATA/dicom/truncated/trunc_001_000013_000005.dcm"
tsize=$(wc -c <"$TRUNC")

for mode in inotify poll; do
	d="$T/$mode"
	mkdir "$d"
	flag=
	[ "$mode" = poll ] && flag="--poll --poll-ms 20"
	# shellcheck disable=SC2086
	"$LIST" "$d" $flag --timeout-ms 3000 --file-timeout-ms 1500 \
	    >"$T/$mode.out" 2>"$T/$mode.err" &
	pid=$!
	sleep 0.3
	grep -q "watching $mode" "$T/$mode.out" || fail "$mode: not watching ($(cat "$T/$mode.out"))"
	# the series, one cp process per file, like a scanner export
	for f in "$SRC"/*.dcm; do cp "$f" "$d/"; done
	# the real half-written file, completed later by another writer
	cp "$TRUNC" "$d/001_000013_000105.dcm"
	# a file that stays half-written
	cp "$TRUNC" "$d/001_000013_000099.dcm"
	# not DICOM
	seq 1 100 >"$d/notes.dcm"
	# written under a hidden name, renamed in
	cp "$SRC/001_000013_000003.dcm" "$d/.incoming.tmp"
	mv "$d/.incoming.tmp" "$d/001_000013_000103.dcm"
	sleep 0.5
	tail -c +$((tsize + 1)) "$SRC/001_000013_000005.dcm" >>"$d/001_000013_000105.dcm"
	wait "$pid" || fail "$mode: watch_list failed ($(cat "$T/$mode.err"))"
	out="$T/$mode.out"
	n=$(grep -c '^ready ' "$out")
	[ "$n" -eq 13 ] || { cat "$out"; fail "$mode: $n files handed out, expected 13"; }
	for f in "$SRC"/*.dcm; do
		b=$(basename "$f")
		[ "$(grep -c "^ready $b " "$out")" -eq 1 ] || { cat "$out"; fail "$mode: $b not handed out once"; }
	done
	full=$(wc -c <"$SRC/001_000013_000005.dcm")
	grep -q "^ready 001_000013_000105.dcm $full 13 105$" "$out" ||
	    { cat "$out"; fail "$mode: the completed file was not handed out whole"; }
	grep -q "^ready 001_000013_000103.dcm " "$out" || fail "$mode: renamed file missing"
	! grep -q "000099\|notes\|incoming" "$out" || { cat "$out"; fail "$mode: handed out what it should not"; }
	contains "$out" "rejected=1 timed_out=1"
done
echo "ok: watch with inotify and polling"
