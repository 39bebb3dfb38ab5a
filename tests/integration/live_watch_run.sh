#!/bin/sh
# `rtc live --watch` while a scanner's files are copied in: the real
# series one file at a time (volume 5 half-written first and completed
# later, the byte copy of volume 10 too), a file that stays truncated, a
# file that is not DICOM, then a second series (a new run with its own
# reference and geometry). Every real volume is processed once; the bad
# files are reported and skipped; the series switch starts run 2; the
# BIDS output has both runs.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e

need_data
SRC="$RTC_TEST_DATA/dicom/siemens-e11-mosaic-rt"
TRUNC="$RTC_TEST_DATA/dicom/truncated/trunc_001_000013_000005.dcm"
tsize=$(wc -c <"$TRUNC")

# the sample project, with short watch timeouts for a quick test
mkdir "$T/proj" "$T/in"
cp "$RTC_TOP_SRCDIR/projects/sample/project.toml" "$T/proj/"
cat >>"$T/proj/project.toml" <<'EOF'

[intake.watch]
poll_ms = 50
timeout_ms = 800
EOF
"$RTC_BIN" -q synth -o "$T/syn" --volumes 4 --matrix 48x40x20 --tr 1 \
    --seed 7 || fail "synth failed"

"$RTC_BIN" live --project "$T/proj" --watch "$T/in" --files "$T/files" \
    --out "$T/bids" >"$T/live.out" 2>"$T/live.err" &
pid=$!
stop_live() { kill "$pid" 2>/dev/null; true; }
at_exit stop_live
i=0
until grep -q "watching" "$T/live.err" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { cat "$T/live.err"; fail "rtc live did not start"; }
	sleep 0.05
done

# the scanner writes, one process per file
for v in 1 2 3 4; do cp "$SRC/001_000013_00000$v.dcm" "$T/in/"; done
cp "$TRUNC" "$T/in/001_000013_000005.dcm"        # half-written ...
for v in 6 7 8 9; do cp "$SRC/001_000013_00000$v.dcm" "$T/in/"; done
cp "$SRC/001_000013_000010.dcm" "$T/in/"
cp "$SRC/001_000013_000000.dcm" "$T/in/"         # a second copy of 10
cp "$TRUNC" "$T/in/001_000013_000011.dcm"        # stays truncated
seq 1 100 >"$T/in/notes.dcm"                     # not DICOM
sleep 0.3
tail -c +$((tsize + 1)) "$SRC/001_000013_000005.dcm" >>"$T/in/001_000013_000005.dcm"

wait_files() {
	i=0
	until [ "$(ls "$T/files" 2>/dev/null | grep -c "^$1")" -ge "$2" ]; do
		i=$((i + 1))
		[ $i -lt 300 ] || { ls "$T/files"; cat "$T/live.err"; fail "waiting for $2 $1 files"; }
		sleep 0.05
	done
}
wait_files run1_ 10
# the truncated one is given up after timeout_ms
i=0
until grep -q "001_000013_000011.dcm: still incomplete" "$T/live.err"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$T/live.err"; fail "the truncated file was not given up"; }
	sleep 0.05
done
# a new series: a new run
cp "$T/syn"/*.dcm "$T/in/"
wait_files run2_ 4
kill -INT "$pid"
wait "$pid" || { cat "$T/live.err"; fail "rtc live exited $?"; }

[ "$(ls "$T/files" | wc -l)" -eq 14 ] || { ls "$T/files"; fail "expected 14 per-TR files"; }
for v in 1 2 3 4 5 6 7 8 9 10; do
	[ -f "$T/files/run1_TR$v.json" ] || fail "run1_TR$v.json missing"
done
for v in 1 2 3 4; do
	[ -f "$T/files/run2_TR$v.json" ] || fail "run2_TR$v.json missing"
done
contains "$T/live.err" "notes.dcm: not a DICOM file"
contains "$T/live.err" "volume 10 arrived again; duplicate dropped"
contains "$T/live.err" "run 2: series 1"
contains "$T/live.out" "2 runs, 14 volumes"
contains "$T/live.out" "1 duplicate dropped, 0 late, 0 missing, 0 undecodable"
# run 2 set up again in its own geometry
[ "$(grep -c "reference set" "$T/live.err")" -eq 2 ] || fail "no second reference"
contains "$T/live.err" "reference set: 48x40x20"
# volume 5 (the completed file) is the real volume 5
grep -q '"vol":5' "$T/files/run1_TR5.json" || fail "run1_TR5.json is not volume 5"
for r in 1 2; do
	f=$(ls "$T/bids/sub-sample/func/"*"run-${r}_bold.nii.gz" 2>/dev/null)
	[ -n "$f" ] || { find "$T/bids"; fail "BIDS run $r missing"; }
done
echo "ok: watch with partial, truncated, foreign and duplicate files; series switch"
