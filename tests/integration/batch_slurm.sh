#!/bin/sh
# A run on the real single-node Slurm (tests/setup/slurm.sh): five ds001
# participants as job arrays, chunked to max_array_size = 2; sub-02 exits
# 75 once and is retried, sub-03 exits 16. States come from sacct/squeue,
# ids are Slurm's. Then a run of sleeping jobs is cancelled and Slurm's
# queue holds none of them afterwards.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/batch_lib.sh"
set -e
need_data
need_slurm
write_conf '[batch.slurm]' 'poll_interval = 0.3' 'max_array_size = 2'
# an rtcd built --with-slurm polls and cancels through libslurm here
if ldd "$RTCD_BIN" 2>/dev/null | grep -q libslurm; then
	write_conf '[batch.slurm]' 'poll_interval = 0.3' 'max_array_size = 2' \
	    'api = "lib"'
	note "rtcd has libslurm: polling and cancelling through it"
fi
mkdir "$T/st"
OUT=$T/deriv
chmod 755 "$T"   # slurmd runs jobs as this user, but let it look around

expect_status 1 "$RTC_BIN" submit "$DATA/ds001" --app "$APP" --runtime none \
    --backend slurm --mem 100 --time 5 -o "$OUT" --scratch "$T/scratch" --wait \
    --participant-label 01 --participant-label 02 --participant-label 03 \
    --participant-label 04 --participant-label 05 \
    -- --state "$T/st" --fail-once 02 --fail 03
contains "$T/out" "run r1: 5 jobs on slurm"
contains "$T/out" "run r1 failed: 4 of 5 done, 1 failed"
expect_status 0 "$RTC_BIN" status r1 --json
S=$T/status.json
cp "$T/out" "$S"
for p in 01 04 05; do
	[ "$(job_field "$S" $p state)" = done ] || fail "sub-$p not done"
	[ "$(job_field "$S" $p attempts)" = 1 ] || fail "sub-$p attempts"
	[ "$(job_field "$S" $p scheduler_state)" = COMPLETED ] || fail "sub-$p sched"
done
[ "$(job_field "$S" 02 state)" = done ] || fail "sub-02 not done"
[ "$(job_field "$S" 02 attempts)" = 2 ] || fail "sub-02 attempts"
[ "$(job_field "$S" 03 state)" = failed ] || fail "sub-03 state"
[ "$(job_field "$S" 03 exit_code)" = 16 ] || fail "sub-03 exit"
[ "$(job_field "$S" 03 scheduler_state)" = FAILED ] || fail "sub-03 sched"
[ "$(count 02 start "$T/st/invocations")" = 2 ] || fail "sub-02 runs"
[ "$(count 03 start "$T/st/invocations")" = 1 ] || fail "sub-03 runs"
# Slurm's own ids; five participants in arrays of at most two tasks
ids=$(jq_py "$S" "' '.join(x['backend_id'] for x in j['runs'][0]['jobs'])")
for id in $ids; do
	case $id in *_[01]) ;; *) fail "id $id beyond max_array_size 2" ;; esac
done
arrays=$(echo "$ids" | tr ' ' '\n' | cut -d_ -f1 | sort -u | wc -l)
[ "$arrays" -ge 3 ] || fail "expected 3+ arrays, got $arrays ($ids)"
first=$(jq_py "$S" "[x for x in j['runs'][0]['jobs'] if x['participant'] == '01'][0]['backend_id']")
sacct -X -n -P -j "${first%_*}" -o JobID,JobName,State >"$T/sacct" 2>&1 || true
note "sacct: $(cat "$T/sacct" | tr '\n' ' ')"
squeue -h -t all -j "${first%_*}" -o '%i %j %T' >>"$T/sacct" 2>&1 || true
grep -q "rtc-r1-[0-9a-f]\{8\}\.1-o0" "$T/sacct" || fail "array name in Slurm: $(cat "$T/sacct")"
# outputs and manifests, as on the local backend
[ -f "$OUT/logs/sub-05/manifest.tsv" ] || fail "no manifest for sub-05"
[ -f "$OUT/sub-05/anat/sub-05_T1w_desc-rtctest_info.txt" ] || fail "no outputs"
[ -s "$OUT/logs/sub-02/attempt-1.log" ] && [ -s "$OUT/logs/sub-02/attempt-2.log" ] ||
    fail "attempt logs"

# cancel: the queue empties
expect_status 0 "$RTC_BIN" submit "$DATA/ds001" --app "$APP" --runtime none \
    --backend slurm --mem 100 --time 5 -o "$T/deriv2" --scratch "$T/scratch" \
    --participant-label 06 --participant-label 07 --participant-label 08 \
    -- --sleep 120
expect_status 0 "$RTC_BIN" status r2 --json
jobs=$(jq_py "$T/out" "','.join(sorted(set(x['backend_id'].split('_')[0] for x in j['runs'][0]['jobs'])))")
[ -n "$jobs" ] || fail "no Slurm ids for r2"
[ -n "$(squeue -h -j "$jobs" -o %i)" ] || fail "r2 is not in Slurm's queue"
expect_status 0 "$RTC_BIN" cancel r2
contains "$T/out" "run r2: 3 jobs cancelled"
gone() { [ -z "$(squeue -h -j "$jobs" -t PD,R,CG,CF -o %i 2>/dev/null)" ]; }
wait_until 10 gone || fail "still queued after rtc cancel: $(squeue -h -j "$jobs")"
expect_status 0 "$RTC_BIN" status r2 --json
[ "$(jq_py "$T/out" "j['runs'][0]['state']")" = cancelled ] || fail "r2 state"
[ "$(jq_py "$T/out" "j['runs'][0]['counts']['cancelled']")" = 3 ] || fail "r2 counts"
expect_status 0 "$RTC_BIN" cancel r2
contains "$T/out" "nothing to cancel"
echo "PASS"
