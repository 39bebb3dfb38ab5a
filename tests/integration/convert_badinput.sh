#!/bin/sh
# Bad input gets a clear error and loses nothing: a truncated file names
# itself and the missing bytes, exits 65 and leaves no output at all (not
# even of the good series next to it); non-DICOM files in a directory are
# skipped with a warning; usage errors exit 64, missing input 66.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e
need_data
D="$RTC_TEST_DATA/dicom"

expect_status 65 "$RTC_BIN" convert "$D/siemens-vd13-mosaic" "$D/truncated" \
    -o "$T/o1"
contains "$T/err" "$D/truncated/trunc_001_000013_000005.dcm"
contains "$T/err" "149830 bytes missing"
[ ! -e "$T/o1" ] || fail "a truncated input left output behind"

# a file cut while being written, next to whole ones, in a folder that
# already holds a finished conversion: that one stays as it was
mkdir "$T/half" "$T/done"
cp "$D"/siemens-e11-mosaic-rt/001_000013_00000[1-3].dcm "$T/half/"
head -c 200000 "$D/siemens-e11-mosaic-rt/001_000013_000004.dcm" \
    >"$T/half/001_000013_000004.dcm"
echo '{"keep": true}' >"$T/done/013_func_ses-01_task-faces_run-01.json"
expect_status 65 "$RTC_BIN" convert "$T/half" -o "$T/done"
contains "$T/err" "001_000013_000004.dcm: truncated"
contains "$T/err" "bytes missing"
[ "$(ls -A "$T/done")" = "013_func_ses-01_task-faces_run-01.json" ] ||
    fail "partial output: $(ls -A "$T/done")"
contains "$T/done/013_func_ses-01_task-faces_run-01.json" '"keep"'

# not DICOM: skipped with a warning, the rest converts
mkdir "$T/mixed"
cp "$D"/siemens-e11-mosaic-rt/001_000013_00000[1-3].dcm "$T/mixed/"
echo "scan notes" >"$T/mixed/notes.txt"
printf 'GIF89a....' >"$T/mixed/picture.gif"
expect_status 0 "$RTC_BIN" convert "$T/mixed" -o "$T/o2"
contains "$T/err" "skipping $T/mixed/notes.txt: not a DICOM file"
contains "$T/err" "skipping $T/mixed/picture.gif: not a DICOM file"
contains "$T/out" "64x64x27x3 int16, TR 1.5 s, from 3 files"
[ "$(ls "$T/o2" | wc -l)" -eq 2 ] || fail "expected one image + sidecar"
# a colour screenshot (secondary capture, made here with dump2dcm) is
# DICOM but not MR data: skipped with a warning too
if command -v dump2dcm >/dev/null 2>&1; then
	cat >"$T/rgb.dump" <<'DUMP'
(0008,0016) UI =SecondaryCaptureImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.2.1125.1]
(0008,0060) CS [OT]
(0020,000d) UI [1.2.826.0.1.3680043.2.1125.2]
(0020,000e) UI [1.2.826.0.1.3680043.2.1125.3]
(0028,0002) US 3
(0028,0004) CS [RGB]
(0028,0006) US 0
(0028,0010) US 2
(0028,0011) US 2
(0028,0100) US 8
(0028,0101) US 8
(0028,0102) US 7
(0028,0103) US 0
(7fe0,0010) OB 01\02\03\04\05\06\07\08\09\0a\0b\0c
DUMP
	dump2dcm --write-xfer-little "$T/rgb.dump" "$T/mixed/screenshot.dcm"
	expect_status 0 "$RTC_BIN" convert "$T/mixed" -o "$T/o2b"
	contains "$T/err" "skipping $T/mixed/screenshot.dcm: 3 samples per pixel"
	contains "$T/out" "from 3 files"
fi

# a prescription that moves between volumes is converted, with a warning
if command -v dcmodify >/dev/null 2>&1; then
	mkdir "$T/moved"
	cp "$D"/siemens-e11-mosaic-rt/001_000013_00000[1-3].dcm "$T/moved/"
	dcmodify -nb -m "(0020,0032)=-575.792\\-548.634\\-109.499" \
	    "$T/moved/001_000013_000003.dcm"
	expect_status 0 "$RTC_BIN" convert "$T/moved" -o "$T/o-moved"
	contains "$T/err" "series 13: the slice prescription moves across volumes (up to 2.000 mm"
fi

# nothing but junk: no input (66)
mkdir "$T/junk"
echo "x" >"$T/junk/a.txt"
expect_status 66 "$RTC_BIN" convert "$T/junk" -o "$T/o3"
contains "$T/err" "no DICOM images"
expect_status 66 "$RTC_BIN" convert "$T/does-not-exist" -o "$T/o3"

# usage
expect_status 64 "$RTC_BIN" convert
expect_status 64 "$RTC_BIN" convert "$T/mixed"
contains "$T/err" "-o DIR"
expect_status 64 "$RTC_BIN" convert --bogus "$T/mixed" -o "$T/x"
expect_status 0 "$RTC_BIN" convert --help
contains "$T/out" "usage: rtc convert INPUT... -o DIR [--gz]"
expect_status 64 "$RTC_BIN" synth
expect_status 64 "$RTC_BIN" synth -o "$T/s" --matrix 64x64
expect_status 64 "$RTC_BIN" synth -o "$T/s" --matrix 64x64x0
expect_status 64 "$RTC_BIN" synth -o "$T/s" --volumes 0
expect_status 64 "$RTC_BIN" synth -o "$T/s" --tr fast
expect_status 64 "$RTC_BIN" synth -o "$T/s" --seed -1
expect_status 64 "$RTC_BIN" synth -o "$T/s" extra
[ ! -e "$T/s" ] || fail "synth wrote despite a usage error"
expect_status 64 "$RTC_BIN" bench
expect_status 64 "$RTC_BIN" bench nosuch "$T"
echo "PASS"
