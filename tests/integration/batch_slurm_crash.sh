#!/bin/sh
# SIGKILL rtcd while Slurm runs its jobs: Slurm keeps them, the next rtcd
# (started by rtc wait) reconciles them with sacct/squeue instead of
# submitting them again, and each participant runs exactly once.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/batch_lib.sh"
set -e
need_data
need_slurm
write_conf '[batch.slurm]' 'poll_interval = 0.3'
# an rtcd built --with-slurm follows the jobs through libslurm here
if ldd "$RTCD_BIN" 2>/dev/null | grep -q libslurm; then
	write_conf '[batch.slurm]' 'poll_interval = 0.3' 'api = "lib"'
	note "rtcd has libslurm: polling and cancelling through it"
fi
mkdir "$T/st"
chmod 755 "$T"

expect_status 0 "$RTC_BIN" submit "$DATA/ds005" --app "$APP" --runtime none \
    --backend slurm --mem 100 --time 5 -o "$T/deriv" --scratch "$T/scratch" \
    --participant-label 01 --participant-label 02 --participant-label 03 \
    --participant-label 04 -- --state "$T/st" --sleep 2
pid=$(rtcd_pid)
running() {
	"$RTC_BIN" status r1 --json >"$T/s.json" &&
	    [ "$(jq_py "$T/s.json" "j['runs'][0]['counts']['running']")" -ge 1 ]
}
wait_until 30 running || fail "no job started"
kill -9 "$pid"
note "killed rtcd $pid while Slurm ran the jobs"
sleep 1
expect_status 0 "$RTC_BIN" wait r1
contains "$T/out" "run r1 done: 4 of 4 done"
[ "$(rtcd_pid)" != "$pid" ] || fail "the old daemon answered"
contains "$RTC_STATE_DIR/rtcd.log" "reconciling"
for p in 01 02 03 04; do
	[ "$(count $p start "$T/st/invocations")" = 1 ] || fail "sub-$p started $(count $p start "$T/st/invocations") times"
	[ "$(count $p ok "$T/st/success")" = 1 ] || fail "sub-$p succeeded $(count $p ok "$T/st/success") times"
done
expect_status 0 "$RTC_BIN" status r1 --json
for p in 01 02 03 04; do
	[ "$(job_field "$T/out" $p attempts)" = 1 ] || fail "sub-$p attempts"
done
echo "PASS"
