#!/bin/sh
# rtc synth: deterministic files with realtime-export names and a
# truth.tsv, which rtc convert and dcm2niix both read, identically.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e
need_cmd dcm2niix
cmp="$RTC_TOP_BUILDDIR/tests/integration/convert_niicmp"

args="--volumes 6 --matrix 48x40x13 --tr 1.2 --seed 7"
# shellcheck disable=SC2086
expect_status 0 "$RTC_BIN" synth -o "$T/a" $args
contains "$T/out" "6 volumes of 48x40x13, TR 1.2 s, seed 7"
# shellcheck disable=SC2086
expect_status 0 "$RTC_BIN" synth -o "$T/b" $args
expect_status 0 "$RTC_BIN" synth -o "$T/c" --volumes 6 --matrix 48x40x13 \
    --tr 1.2 --seed 8
for i in 1 2 3 4 5 6; do
	f=001_000001_00000$i.dcm
	[ -f "$T/a/$f" ] || fail "missing $f"
	cmp -s "$T/a/$f" "$T/b/$f" || fail "$f differs for the same seed"
	! cmp -s "$T/a/$f" "$T/c/$f" || fail "$f equal for another seed"
done
cmp -s "$T/a/truth.tsv" "$T/b/truth.tsv" || fail "truth.tsv differs"
[ "$(wc -l <"$T/a/truth.tsv")" -eq 7 ] || fail "truth.tsv rows"
contains "$T/a/truth.tsv" "volume	file	acquisition_time"
contains "$T/a/truth.tsv" "6	001_000001_000006.dcm	43206.0000"

expect_status 0 "$RTC_BIN" convert "$T/a" -o "$T/rtc"
contains "$T/err" "skipping $T/a/truth.tsv: not a DICOM file"
contains "$T/out" "48x40x13x6 int16, TR 1.2 s, from 6 files"
mkdir "$T/ref"
dcm2niix -b y -z n -f %s -o "$T/ref" "$T/a" >"$T/d2n" 2>&1 ||
    { cat "$T/d2n"; fail "dcm2niix failed on synth output"; }
contains "$T/d2n" "(48x40x13x6)"
"$cmp" "$T"/rtc/*.nii "$T"/ref/*.nii "$T"/rtc/*.json "$T"/ref/*.json

# the default phantom: 64x64x27, 10 volumes
expect_status 0 "$RTC_BIN" synth -o "$T/d"
expect_status 0 "$RTC_BIN" convert "$T/d" -o "$T/rtc-d" --gz
mkdir "$T/ref-d"
dcm2niix -b y -z n -f %s -o "$T/ref-d" "$T/d" >/dev/null 2>&1
gzip -dc "$T"/rtc-d/*.nii.gz >"$T/rtc-d.nii"
"$cmp" "$T/rtc-d.nii" "$T"/ref-d/*.nii "$T"/rtc-d/*.json "$T"/ref-d/*.json
echo "PASS"
