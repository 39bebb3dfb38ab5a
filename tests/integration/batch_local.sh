#!/bin/sh
# A run on this machine (local backend, --runtime none) of six ds001
# participants with the test BIDS App: sub-02 fails once with 75 and is
# retried, sub-03 exits 16 (permanent), sub-05 exits 0 without outputs.
# Every participant ends in a state that says what happened; outputs are
# merged with their manifests; logs keep every attempt; resubmit works.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/batch_lib.sh"
set -e
need_data
write_conf '[batch.local]' 'max_parallel = 2'
mkdir "$T/st"
OUT=$T/deriv

expect_status 1 "$RTC_BIN" submit "$DATA/ds001" --app "$APP" --runtime none \
    --backend local -o "$OUT" --scratch "$T/scratch" --wait \
    --participant-label 01 --participant-label 02 --participant-label 03 \
    --participant-label 04 --participant-label 05 --participant-label 06 \
    -- --state "$T/st" --fail-once 02 --fail 03 --no-output 05
contains "$T/out" "run r1: 6 jobs on local"
contains "$T/out" "run r1 failed: 4 of 6 done, 2 failed"
contains "$T/out" "sub-03                 failed     exit 16"
contains "$T/out" "wrote no outputs for sub-05"
contains "$T/out" "rtc resubmit r1 --failed"

expect_status 0 "$RTC_BIN" status r1 --json
S=$T/status.json
cp "$T/out" "$S"
[ "$(jq_py "$S" "j['version']")" = 1 ] || fail "schema version"
[ "$(jq_py "$S" "j['runs'][0]['state']")" = failed ] || fail "run state"
[ "$(jq_py "$S" "j['runs'][0]['counts']['done']")" = 4 ] || fail "done count"
for p in 01 04 06; do
	[ "$(job_field "$S" $p state)" = done ] || fail "sub-$p not done"
	[ "$(job_field "$S" $p attempts)" = 1 ] || fail "sub-$p attempts"
	[ "$(job_field "$S" $p exit_code)" = 0 ] || fail "sub-$p exit code"
done
[ "$(job_field "$S" 02 state)" = done ] || fail "sub-02 not done"
[ "$(job_field "$S" 02 attempts)" = 2 ] || fail "sub-02 was not retried once"
[ "$(job_field "$S" 03 state)" = failed ] || fail "sub-03 not failed"
[ "$(job_field "$S" 03 attempts)" = 1 ] || fail "sub-03 was retried"
[ "$(job_field "$S" 03 exit_code)" = 16 ] || fail "sub-03 exit code"
[ "$(job_field "$S" 05 state)" = failed ] || fail "sub-05 not failed"
[ "$(job_field "$S" 01 scheduler_state)" = COMPLETED ] || fail "scheduler state"
case $(job_field "$S" 01 backend_id) in local:*) ;; *) fail "backend id" ;; esac

# real invocations: one each, two for sub-02
[ "$(count 02 start "$T/st/invocations")" = 2 ] || fail "sub-02 ran $(count 02 start "$T/st/invocations") times"
for p in 01 02 04 06; do
	[ "$(count $p ok "$T/st/success")" = 1 ] || fail "sub-$p succeeded $(count $p ok "$T/st/success") times"
done

# the derivatives dataset: description, outputs, manifests
[ "$(jq_py "$OUT/dataset_description.json" "j['DatasetType']")" = derivative ] ||
    fail "DatasetType"
sum=$(sha256sum "$APP" | cut -d' ' -f1)
contains "$OUT/dataset_description.json" "sha256:$sum"
contains "$OUT/dataset_description.json" "file://$DATA/ds001"
[ -f "$OUT/sub-04/func/sub-04_task-balloonanalogrisktask_run-02_bold_desc-rtctest_info.txt" ] ||
    fail "sub-04 outputs missing"
[ -f "$OUT/sub-02.html" ] || fail "sub-02 report missing"
[ ! -e "$OUT/sub-03" ] || fail "failed sub-03 has outputs in the run's output"
m=$OUT/logs/sub-04/manifest.tsv
[ "$(head -n1 "$m")" = "$(printf 'path\tsize\tsha256')" ] || fail "manifest header"
[ "$(wc -l <"$m")" = 10 ] || fail "manifest lines: $(wc -l <"$m")"
tail -n +2 "$m" | while IFS="$(printf '\t')" read -r path size hash; do
	[ "$(stat -c %s "$OUT/$path")" = "$size" ] || fail "size of $path"
	[ "$(sha256sum "$OUT/$path" | cut -d' ' -f1)" = "$hash" ] || fail "hash of $path"
done
[ ! -e "$OUT/logs/sub-03/manifest.tsv" ] || fail "manifest for a failed job"
# each job wrote its own stage directory: merged (and gone) when it
# succeeded, kept for a look when it failed
for s in sub-01-a1 sub-02-a2 sub-04-a1 sub-06-a1; do
	ls -d "$OUT/.rtc-stage/r1-"*"-$s" >/dev/null 2>&1 && fail "stage $s left after success"
done
for s in sub-02-a1 sub-05-a1; do
	ls -d "$OUT/.rtc-stage/r1-"*"-$s" >/dev/null 2>&1 || fail "stage $s of a failure is gone"
done
# work directories: removed on success, kept on failure (with its path in
# the job's log)
work=$(sed -n 's/^# work directory kept: //p' "$OUT/logs/sub-03/attempt-1.log")
[ -d "$work" ] || fail "work dir of a failure not kept ($work)"
rm -rf "$work"
work=$(sed -n 's/.*work directory \(.*\)$/\1/p' "$OUT/logs/sub-04/attempt-1.log" | head -n1)
case $work in */rtc-r1-*-sub-04-a1) ;; *) fail "work dir name $work" ;; esac
[ ! -e "$work" ] || fail "work dir of a success kept"

# logs: the events of the run, and every attempt of a participant
expect_status 0 "$RTC_BIN" logs r1
contains "$T/out" "exit 75 (temporary failure); retrying (attempt 2 of 3)"
contains "$T/out" "finished (failed): 4 done, 2 failed, 0 cancelled"
expect_status 0 "$RTC_BIN" logs r1 --sub 02
contains "$T/out" "==> sub-02 attempt 1"
contains "$T/out" "temporary failure, try again"
contains "$T/out" "==> sub-02 attempt 2"
contains "$T/out" "rtc-test-app: sub-02: 8 files"
contains "$T/out" "manifest $OUT/logs/sub-02/manifest.tsv"
expect_status 66 "$RTC_BIN" logs r1 --sub 42

# the table for people
expect_status 0 "$RTC_BIN" status r1
contains "$T/out" "run r1: failed; 6 jobs: 4 done, 2 failed"
contains "$T/out" "sub-02                 done            2/3"
expect_status 0 "$RTC_BIN" status
contains "$T/out" "r1     failed"

# resubmit the failed ones: they fail again, with fresh attempts
expect_status 0 "$RTC_BIN" resubmit r1 --failed
contains "$T/out" "run r1: 2 jobs queued again"
expect_status 1 "$RTC_BIN" wait r1
expect_status 0 "$RTC_BIN" status r1 --json
cp "$T/out" "$S"
[ "$(job_field "$S" 03 attempts)" = 2 ] || fail "resubmitted sub-03 attempts"
[ "$(job_field "$S" 03 attempt_limit)" = 4 ] || fail "attempt limit"
[ "$(job_field "$S" 01 attempts)" = 1 ] || fail "a done job was run again"
# participants that cannot run are reported with the run, not dropped
mkdir -p "$T/ds/sub-01/anat" "$T/ds/sub-02/func"
echo '{"Name": "small", "BIDSVersion": "1.8.0"}' >"$T/ds/dataset_description.json"
printf 'participant_id\nsub-01\nsub-02\nsub-03\n' >"$T/ds/participants.tsv"
echo x >"$T/ds/sub-01/anat/sub-01_T1w.nii.gz"
echo x >"$T/ds/sub-02/func/sub-02_task-a_bold.nii.gz"
expect_status 0 "$RTC_BIN" submit "$T/ds" --app "$APP" --runtime none \
    --require 'anat/*_T1w.nii*' -o "$T/deriv3" --scratch "$T/scratch" --wait
contains "$T/out" "skipped sub-02: no file matches the required anat/*_T1w.nii*"
contains "$T/out" "skipped sub-03: listed in participants.tsv but there is no sub-03 directory"
contains "$T/out" "run r2 done: 1 of 1 done"
expect_status 0 "$RTC_BIN" status r2
contains "$T/out" "sub-01                 done"
contains "$T/out" "sub-02                 skipped"
contains "$T/out" "sub-03                 skipped"
expect_status 0 "$RTC_BIN" status r2 --json
[ "$(jq_py "$T/out" "[s['participant'] for s in j['runs'][0]['skipped']]")" = '["02", "03"]' ] ||
    fail "skipped in JSON"
echo "PASS"
