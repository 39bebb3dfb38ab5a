#!/bin/sh
# JPEG-lossless data decodes in process to the same voxels: copies made
# here with DCMTK's dcmcjpeg (lossless, first-order prediction) convert to
# images identical to the uncompressed originals, for mosaics and for
# signed per-slice GE data. A transfer syntax rtc has no decoder for
# (JPEG-LS, made with dcmcjpls) is named, exits 65 and writes nothing.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e
need_data
need_cmd dcmcjpeg
need_cmd dcmcjpls
need_cmd dcmdump
cmp="$RTC_TOP_BUILDDIR/tests/integration/convert_niicmp"
D="$RTC_TEST_DATA/dicom"

mkdir -p "$T/plain" "$T/jpeg" "$T/ge"
for f in "$D"/siemens-e11-mosaic-rt/001_000013_00000[1-4].dcm; do
	cp "$f" "$T/plain/"
	dcmcjpeg "$f" "$T/jpeg/$(basename "$f")"
done
dcmdump -M +P 0002,0010 "$T/jpeg/001_000013_000001.dcm" >"$T/xfer"
contains "$T/xfer" "JPEGLossless"
[ "$(wc -c <"$T/jpeg/001_000013_000001.dcm")" -lt \
    "$(wc -c <"$T/plain/001_000013_000001.dcm")" ] || fail "not compressed"
expect_status 0 "$RTC_BIN" convert "$T/plain" -o "$T/o-plain"
expect_status 0 "$RTC_BIN" convert "$T/jpeg" -o "$T/o-jpeg"
"$cmp" "$T"/o-plain/*.nii "$T"/o-jpeg/*.nii "$T"/o-plain/*.json \
    "$T"/o-jpeg/*.json

for f in "$D"/ge-mr750-slices/s1925/*; do
	dcmcjpeg "$f" "$T/ge/$(basename "$f")"
done
expect_status 0 "$RTC_BIN" convert "$D/ge-mr750-slices" -o "$T/o-ge"
expect_status 0 "$RTC_BIN" convert "$T/ge" -o "$T/o-gej"
"$cmp" "$T"/o-ge/*.nii "$T"/o-gej/*.nii

mkdir "$T/jls"
dcmcjpls "$T/plain/001_000013_000001.dcm" "$T/jls/x.dcm"
expect_status 65 "$RTC_BIN" convert "$T/jls" -o "$T/o-jls"
contains "$T/err" "unsupported transfer syntax JPEG-LS"
contains "$T/err" "x.dcm"
[ ! -e "$T/o-jls" ] || fail "output written for undecodable input"
echo "PASS"
