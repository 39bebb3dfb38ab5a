#!/bin/sh
# rtc job script: one attempt of one job of a BIDS App run.
#
# rtcd renders this file for every attempt. Each placeholder (a name in
# capitals between two at-signs) is replaced by a value quoted for the
# shell, or, for the run line, by the rendered run line of the container
# runtime, itself built from quoted values: nothing a user typed is ever
# read as shell syntax.
#
# Contract with rtcd: the app's output goes to $RTC_STAGE (the job's own
# directory, merged into the run's output by rtcd when the job succeeds),
# its stdout and stderr to $RTC_LOG, and the exit status (with TIMEOUT
# when the time limit stopped it) to $RTC_RC, written last and atomically.
set -u
RTC_RUN=@RUN@
RTC_JOB=@JOB@
RTC_ATTEMPT=@ATTEMPT@
RTC_CPUS=@CPUS@
RTC_MEM_MB=@MEM_MB@
RTC_BIDS=@BIDS_DIR@
RTC_STAGE=@STAGE_DIR@
RTC_LOG=@LOG_FILE@
RTC_RC=@RC_FILE@
RTC_KEEP_WORK=@KEEP_WORK@
RTC_SCRATCH=@SCRATCH@
RTC_LIMIT_S=@LIMIT_S@
[ -n "$RTC_SCRATCH" ] || RTC_SCRATCH=${SLURM_TMPDIR:-${TMPDIR:-/tmp}}
RTC_WORK=$RTC_SCRATCH/@WORK_NAME@
export RTC_RUN RTC_JOB RTC_ATTEMPT RTC_CPUS RTC_MEM_MB RTC_WORK
export OMP_NUM_THREADS="$RTC_CPUS"

rc_write() {
	printf '%s\n' "$*" >"$RTC_RC.tmp" && mv -f "$RTC_RC.tmp" "$RTC_RC"
}

mkdir -p "$RTC_STAGE" "$RTC_WORK" "$(dirname "$RTC_LOG")" || { rc_write 73; exit 73; }
{
	echo "# rtc $RTC_RUN $RTC_JOB attempt $RTC_ATTEMPT on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# $RTC_CPUS CPU(s), $RTC_MEM_MB MB; work directory $RTC_WORK"
} >>"$RTC_LOG" 2>&1 || { rc_write 74; exit 74; }
cd "$RTC_WORK" || { rc_write 73; exit 73; }

# the run line execs the app: $app below is the app's own process
rtc_app() {
@RUN_LINE@
}

app=
watchdog=
stop_app() {
	[ -z "$app" ] || kill -TERM "$app" 2>/dev/null
}
trap 'stop_app' TERM INT HUP

rtc_app </dev/null >>"$RTC_LOG" 2>&1 &
app=$!
if [ "$RTC_LIMIT_S" -gt 0 ]; then
	(
		sleep "$RTC_LIMIT_S"
		: >"$RTC_RC.timeout"
		kill -TERM "$app" 2>/dev/null
		sleep 10
		kill -KILL "$app" 2>/dev/null
	) </dev/null >/dev/null 2>&1 &
	watchdog=$!
fi
# wait returns early when a trapped signal arrives: wait until it is gone
while :; do
	wait "$app"
	rc=$?
	kill -0 "$app" 2>/dev/null || break
done
[ -z "$watchdog" ] || kill "$watchdog" 2>/dev/null

state=
if [ -e "$RTC_RC.timeout" ]; then
	state=TIMEOUT
	rm -f "$RTC_RC.timeout"
fi
echo "# exit $rc${state:+ ($state)} at $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$RTC_LOG" 2>&1
if [ "$rc" -eq 0 ] && [ "$RTC_KEEP_WORK" = no ]; then
	cd / && rm -rf "$RTC_WORK"
else
	echo "# work directory kept: $RTC_WORK" >>"$RTC_LOG" 2>&1
fi
rc_write "$rc" $state
exit "$rc"
