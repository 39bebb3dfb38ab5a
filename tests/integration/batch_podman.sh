#!/bin/sh
# The test BIDS App as a container image run by podman (local backend):
# the dataset read-only at /bids, the job's output at /out, a bind for the
# app's state; sub-02 exits 75 once. The derivatives name the image and
# its digest as podman reports it.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/batch_lib.sh"
set -e
need_data
need_podman
IMG=localhost/rtc-test-app:latest
mkdir "$T/st"
OUT=$T/deriv

expect_status 0 "$RTC_BIN" submit "$DATA/ds005" --app "$IMG" --runtime podman \
    --mem 200 -o "$OUT" --scratch "$T/scratch" --wait --participant-label 01 --participant-label 02 \
    --bind "$T/st:/state" --runtime-arg --network=none \
    -- --state /state --fail-once 02
contains "$T/out" "run r1 done: 2 of 2 done"
expect_status 0 "$RTC_BIN" status r1 --json
[ "$(job_field "$T/out" 02 attempts)" = 2 ] || fail "sub-02 not retried"
[ "$(job_field "$T/out" 01 attempts)" = 1 ] || fail "sub-01 attempts"
digest=$(podman image inspect --format '{{.Digest}}' "$IMG")
[ "$(jq_py "$T/out" "j['runs'][0]['digest']")" = "$digest" ] || fail "digest in status"
contains "$OUT/dataset_description.json" "\"Type\": \"podman\""
contains "$OUT/dataset_description.json" "\"Tag\": \"$IMG\""
contains "$OUT/dataset_description.json" "docker://localhost/rtc-test-app@$digest"
[ -f "$OUT/sub-02/func/sub-02_task-mixedgamblestask_run-01_bold_desc-rtctest_info.txt" ] ||
    fail "sub-02 outputs"
contains "$OUT/sub-02/func/sub-02_task-mixedgamblestask_run-01_bold_desc-rtctest_info.txt" \
    "sub-02/func/sub-02_task-mixedgamblestask_run-01_bold.nii.gz"
[ -f "$OUT/logs/sub-01/manifest.tsv" ] || fail "manifest"
[ "$(count 02 start "$T/st/invocations")" = 2 ] || fail "sub-02 invocations"
[ "$(count 02 ok "$T/st/success")" = 1 ] || fail "sub-02 successes"
# the dataset was mounted read-only: nothing of ours appeared in it
[ ! -e "$DATA/ds005/derivatives" ] || fail "the dataset was written to"
echo "PASS"
