#!/bin/sh
# A multi-echo series (one SeriesInstanceUID, EchoNumbers 1 and 2) becomes
# one image per echo, named _e1 and _e2, each with its own volumes in
# time order (not the echoes interleaved as time points). The second echo
# is made here from real volumes with dcmodify (new SOP instance UIDs).
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e
need_data
need_cmd dcmodify
D="$RTC_TEST_DATA/dicom"

mkdir "$T/me"
for i in 1 2 3; do
	cp "$D/siemens-e11-mosaic-rt/001_000013_00000$i.dcm" "$T/me/e1_$i.dcm"
	cp "$D/siemens-e11-mosaic-rt/001_000013_00000$i.dcm" "$T/me/e2_$i.dcm"
	dcmodify -nb -gin -m "(0018,0086)=2" -m "(0018,0081)=56" \
	    "$T/me/e2_$i.dcm"
done
expect_status 0 "$RTC_BIN" convert "$T/me" -o "$T/o"
contains "$T/out" "013_func_ses-01_task-faces_run-01_e1.nii  64x64x27x3"
contains "$T/out" "013_func_ses-01_task-faces_run-01_e2.nii  64x64x27x3"
contains "$T/o/013_func_ses-01_task-faces_run-01_e2.json" '"EchoTime": 0.056'
contains "$T/o/013_func_ses-01_task-faces_run-01_e1.json" '"EchoTime": 0.028'
# the copies hold the same voxels, in the same order
"$RTC_TOP_BUILDDIR/tests/integration/convert_niicmp" \
    "$T/o/013_func_ses-01_task-faces_run-01_e1.nii" \
    "$T/o/013_func_ses-01_task-faces_run-01_e2.nii"
echo "PASS"
