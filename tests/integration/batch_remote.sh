#!/bin/sh
# rtc submit of remote datasets: an S3 prefix and an OpenNeuro accession
# served from a loopback s3rver (bucket openneuro.org, with OpenNeuro's
# GraphQL endpoint down, so the fetch falls back to the bucket listing).
# Only the selected participants and the top-level files are staged; the
# run's derivatives name the remote source.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/batch_lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/s3_common.sh"
set -e
need_data
s3rver_start
seed "$DATA/ds005" s3://openneuro.org/ds000005
export AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET
export RTC_OPENNEURO_URL="http://127.0.0.1:$(free_port)/crn/graphql"

# an S3 prefix, two participants
expect_status 0 "$RTC_BIN" submit s3://openneuro.org/ds000005 --app "$APP" \
    --runtime none --backend local --participant-label 01 \
    --participant-label 03 --stage "$T/stage" -o "$T/out1" --wait
contains "$T/err" "staged in $T/stage/s3/openneuro.org/ds000005"
S=$T/stage/s3/openneuro.org/ds000005
[ -f "$S/dataset_description.json" ] || fail "top-level files not staged"
[ -f "$S/participants.tsv" ] || fail "participants.tsv not staged"
[ -f "$S/sub-01/func/sub-01_task-mixedgamblestask_run-01_bold.nii.gz" ] ||
    fail "sub-01 not staged"
[ -d "$S/sub-03/anat" ] || fail "sub-03 not staged"
[ ! -e "$S/sub-02" ] || fail "sub-02 was staged but not asked for"
for p in 01 03; do
	[ -f "$T/out1/sub-$p.html" ] || fail "no report for sub-$p"
done
[ ! -e "$T/out1/sub-02.html" ] || fail "sub-02 ran"
jq_py "$T/out1/dataset_description.json" "j['SourceDatasets'][0]['URL']" >"$T/url"
contains "$T/url" "s3://openneuro.org/ds000005"
# the jobs read the staged copy
contains "$RTC_STATE_DIR/rtcd.log" "2 jobs of $S with"
contains "$T/out1/sub-01/anat/sub-01_T1w_desc-rtctest_info.txt" "sub-01/anat/sub-01_T1w.nii.gz"

# a second submit of the same source fetches nothing again
expect_status 0 "$RTC_BIN" submit s3://openneuro.org/ds000005 --app "$APP" \
    --runtime none --backend local --participant-label 01 \
    --stage "$T/stage" -o "$T/out2" --wait
contains "$T/err" "0 fetched now"

# an OpenNeuro accession through the bucket fallback, staged where
# rtc.conf says; --dry-run stages and plans but submits nothing
write_conf "stage = \"$T/stage\""
expect_status 0 "$RTC_BIN" submit ds000005 --app "$APP" --runtime none \
    --participant-label 02 --dry-run
contains "$T/err" "staged in $T/stage/ds000005"
contains "$T/out" "sub-02"
[ -f "$T/stage/ds000005/sub-02/anat/sub-02_T1w.nii.gz" ] || fail "ds000005 sub-02 not staged"
[ ! -e "$T/stage/ds000005/sub-01" ] || fail "sub-01 staged for a sub-02 plan"
expect_status 0 "$RTC_BIN" status --json
[ "$(jq_py "$T/out" "len(j['runs'])")" = 2 ] || fail "the dry run submitted a run"
echo "PASS"
