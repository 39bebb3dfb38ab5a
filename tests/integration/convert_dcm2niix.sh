#!/bin/sh
# Every series in the shared data converts to the same image as Debian's
# dcm2niix, run here as the reference: compared in world space (every
# voxel mapped through both affines, affines within 1e-3 mm, TR) and the
# sidecars' RepetitionTime, SliceTiming, EchoTime, FlipAngle and phase
# encoding. The e11 series carries a byte-identical duplicate volume:
# both tools drop it.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e
need_data
need_cmd dcm2niix
cmp="$RTC_TOP_BUILDDIR/tests/integration/convert_niicmp"
D="$RTC_TEST_DATA/dicom"

one() { # one FILE-PATTERN: the single file matching, or fail
	set -- $1
	[ $# -eq 1 ] && [ -f "$1" ] || fail "expected one file, got: $*"
	echo "$1"
}

for s in siemens-e11-mosaic-rt siemens-vd13-mosaic siemens-xa30-enhanced \
    ge-mr750-slices; do
	mkdir -p "$T/rtc/$s" "$T/ref/$s"
	"$RTC_BIN" convert "$D/$s" -o "$T/rtc/$s" >"$T/$s.out" 2>"$T/$s.err" ||
	    { cat "$T/$s.err"; fail "rtc convert $s"; }
	dcm2niix -b y -z n -f %s -o "$T/ref/$s" "$D/$s" >"$T/$s.d2n" 2>&1 ||
	    { cat "$T/$s.d2n"; fail "dcm2niix $s"; }
	ours=$(one "$T/rtc/$s/*.nii")
	ref=$(one "$T/ref/$s/*.nii")
	note "$s"
	"$cmp" "$ours" "$ref" "${ours%.nii}.json" "${ref%.nii}.json" ||
	    fail "$s differs from dcm2niix"
done

# the duplicate: dcm2niix drops it, and so do we, saying which file
contains "$T/siemens-e11-mosaic-rt.d2n" "DUPLICATES REMOVED"
contains "$T/siemens-e11-mosaic-rt.err" "001_000013_000010.dcm: the same image as"
contains "$T/siemens-e11-mosaic-rt.out" "64x64x27x10"

# the references shipped with the data (a newer dcm2niix) agree too
"$cmp" "$(one "$T/rtc/siemens-vd13-mosaic/*.nii")" \
    "$D/siemens-vd13-mosaic/ref/2_ep2d_Asc.nii" \
    "$(one "$T/rtc/siemens-vd13-mosaic/*.json")" \
    "$D/siemens-vd13-mosaic/ref/2_ep2d_Asc.json"
"$cmp" "$(one "$T/rtc/siemens-xa30-enhanced/*.nii")" \
    "$(one "$T/ref/siemens-xa30-enhanced/*.nii")" \
    "$(one "$T/rtc/siemens-xa30-enhanced/*.json")" \
    "$D/siemens-xa30-enhanced/ref/7_func-bold_task-fa_run-1.json"

# the comparison maps axes: the reference with j and k reversed (voxels,
# affine, SliceTiming, phase-encoding sign) still agrees, and says so
if [ -x /usr/bin/python3 ]; then
	ref=$(one "$T/ref/siemens-e11-mosaic-rt/*.nii")
	/usr/bin/python3 "$RTC_TOP_SRCDIR/tests/integration/convert_flip.py" \
	    "$ref" "${ref%.nii}.json" "$T/flip.nii" "$T/flip.json"
	ours=$(one "$T/rtc/siemens-e11-mosaic-rt/*.nii")
	expect_status 0 "$cmp" "$ours" "$T/flip.nii" "${ours%.nii}.json" \
	    "$T/flip.json"
	contains "$T/out" "axes 0+ 1- 2-"
	contains "$T/out" "sidecars agree"
	# a reference whose slice times were not reversed with its slices
	# must then fail
	expect_status 1 "$cmp" "$ours" "$T/flip.nii" "${ours%.nii}.json" \
	    "${ref%.nii}.json"
	contains "$T/err" "SliceTiming"
fi

# the comparison can fail: one changed voxel, another series, another TR
ours=$(one "$T/rtc/siemens-vd13-mosaic/*.nii")
cp "$ours" "$T/changed.nii"
printf '\377\177' | dd of="$T/changed.nii" bs=1 seek=200000 conv=notrunc 2>/dev/null
expect_status 1 "$cmp" "$T/changed.nii" "$(one "$T/ref/siemens-vd13-mosaic/*.nii")"
contains "$T/err" "voxel"
expect_status 1 "$cmp" "$ours" "$(one "$T/ref/siemens-e11-mosaic-rt/*.nii")"
sed 's/"RepetitionTime": 3.2/"RepetitionTime": 3.3/' \
    "$(one "$T/ref/siemens-vd13-mosaic/*.json")" >"$T/tr.json"
expect_status 1 "$cmp" "$ours" "$(one "$T/ref/siemens-vd13-mosaic/*.nii")" \
    "${ours%.nii}.json" "$T/tr.json"
contains "$T/err" "RepetitionTime"
echo "PASS"
