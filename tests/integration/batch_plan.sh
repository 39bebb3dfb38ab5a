#!/bin/sh
# rtc submit --dry-run: the plan of real BIDS datasets, printed for people
# and as JSON, with filters, sessions and required files; nothing is
# submitted and no daemon is started.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/batch_lib.sh"
set -e
need_data

expect_status 0 "$RTC_BIN" submit "$DATA/ds001" --app "$APP" --runtime none \
    --cpus 4 --mem 8G --time 2h --dry-run
contains "$T/out" "16 jobs, 0 skipped"
contains "$T/out" "sub-16/func/sub-16_task-balloonanalogrisktask_run-03_bold.nii.gz"
contains "$T/out" "4 CPUs, 8192 MB memory, 120 min"
contains "$T/out" "at most 128.0 CPU-hours"
contains "$T/out" "nothing was submitted"
[ ! -e "$RTC_STATE_DIR" ] || fail "--dry-run started a daemon"

# JSON: jobs, their inputs and bytes
expect_status 0 "$RTC_BIN" submit "$DATA/ds005" --app img:1 --dry-run --json \
    --participant-label 03 --participant-label sub-07
[ "$(jq_py "$T/out" "j['njobs']")" = 2 ] || fail "njobs"
[ "$(jq_py "$T/out" "[x['participant'] for x in j['jobs']]")" = '["03", "07"]' ] ||
    fail "labels"
[ "$(jq_py "$T/out" "len(j['jobs'][0]['inputs'])")" = \
    "$(cd "$DATA/ds005" && find sub-03 -type f | wc -l)" ] || fail "inputs"
[ "$(jq_py "$T/out" "j['jobs'][1]['bytes'] == sum(__import__('os').path.getsize('$DATA/ds005/' + p) for p in j['jobs'][1]['inputs'])")" = True ] ||
    fail "bytes"
[ "$(jq_py "$T/out" "j['runtime']")" = podman ] || fail "runtime default"

# sessions: one job per session, with the session in the job's name
expect_status 0 "$RTC_BIN" submit "$DATA/synthetic" --app "$APP" --runtime none \
    --per-session --dry-run --json
want=$(cd "$DATA/synthetic" && ls -d sub-*/ses-* | wc -l)
[ "$(jq_py "$T/out" "j['njobs']")" = "$want" ] || fail "per-session job count"
[ "$(jq_py "$T/out" "j['jobs'][1]['session']")" = 02 ] || fail "session label"

# required files: those lacking them are listed, not planned
expect_status 0 "$RTC_BIN" submit "$DATA/ds001" --app "$APP" --runtime none \
    --require 'anat/*_T1w.nii*' --require 'dwi/*_dwi.nii*' --dry-run
contains "$T/out" "0 jobs, 16 skipped"
contains "$T/out" "no file matches the required dwi/*_dwi.nii*"

# mistakes, and what to do about them
expect_status 66 "$RTC_BIN" submit "$DATA/ds001" --app "$APP" --runtime none \
    --participant-label 99 --dry-run
contains "$T/err" "has no participant 99"
contains "$T/err" "--dry-run without --participant-label"
expect_status 64 "$RTC_BIN" submit "$DATA/ds001" --app x --mem lots --dry-run
contains "$T/err" "--mem"
expect_status 64 "$RTC_BIN" submit "$DATA/ds001" --app x --time never --dry-run
expect_status 64 "$RTC_BIN" submit "$DATA/ds001" "$DATA/ds005" --app x --dry-run
contains "$T/err" "one DATASET only"
expect_status 66 "$RTC_BIN" submit "$RTC_TOP_SRCDIR" --app x --dry-run
contains "$T/err" "not a BIDS dataset"
[ ! -e "$RTC_STATE_DIR" ] || fail "a daemon was started"
echo "PASS"
