#!/bin/sh
# SIGKILL rtcd in the middle of a local run: the jobs it started run on,
# the next rtcd (started by rtc wait) reconciles them, and the run ends
# with exactly one successful invocation per participant.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/batch_lib.sh"
set -e
need_data
write_conf '[batch.local]' 'max_parallel = 2'
mkdir "$T/st"

expect_status 0 "$RTC_BIN" submit "$DATA/ds005" --app "$APP" --runtime none \
    -o "$T/deriv" --scratch "$T/scratch" --participant-label 01 --participant-label 02 \
    --participant-label 03 --participant-label 04 -- --state "$T/st" --sleep 1
pid=$(rtcd_pid)
running() {
	"$RTC_BIN" status r1 --json >"$T/s.json" &&
	    [ "$(jq_py "$T/s.json" "j['runs'][0]['counts']['running']")" -ge 1 ]
}
wait_until 20 running || fail "no job started"
# a follower of the run's events, through the crash and the restart
"$RTC_BIN" logs r1 --follow >"$T/follow" 2>&1 &
follower=$!
kill -9 "$pid"
note "killed rtcd $pid with jobs running"
sleep 1.5   # jobs end while no daemon watches
expect_status 0 "$RTC_BIN" wait r1
contains "$T/out" "run r1 done: 4 of 4 done"
pid2=$(rtcd_pid)
[ "$pid2" != "$pid" ] || fail "the old daemon answered"
contains "$RTC_STATE_DIR/rtcd.log" "reconciling"
# the follower saw the end, and ended with the run
wait_until 10 gone "$follower" || fail "rtc logs --follow did not end"
contains "$T/follow" "finished (done): 4 done, 0 failed, 0 cancelled"
[ "$(grep -c 'created: 4 jobs' "$T/follow")" = 1 ] || fail "events printed twice"
for p in 01 02 03 04; do
	[ "$(count $p start "$T/st/invocations")" = 1 ] || fail "sub-$p started $(count $p start "$T/st/invocations") times"
	[ "$(count $p ok "$T/st/success")" = 1 ] || fail "sub-$p succeeded $(count $p ok "$T/st/success") times"
	[ -f "$T/deriv/logs/sub-$p/manifest.tsv" ] || fail "sub-$p has no manifest"
done
expect_status 0 "$RTC_BIN" status r1 --json
for p in 01 02 03 04; do
	[ "$(job_field "$T/out" $p attempts)" = 1 ] || fail "sub-$p attempts"
done
echo "PASS"
