# Shared by tests/integration/batch_*.sh, sourced after lib.sh: a private
# rtcd state directory and configuration per test, the test BIDS App, JSON
# queries, and checks that Slurm and podman are there.

RTC_STATE_DIR=$T/state
RTC_CONFIG=$T/rtc.conf
RTC_TEMPLATE_DIR=$RTC_TOP_SRCDIR/templates
export RTC_STATE_DIR RTC_CONFIG RTC_TEMPLATE_DIR
APP=$RTC_TOP_SRCDIR/tests/apps/rtc-test-app
DATA=${RTC_TEST_DATA:-}/bids
[ ! -d "$DATA" ] || DATA=$(cd "$DATA" && pwd -P)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# write_conf LINES...: rtc.conf for rtc and rtcd (short poll intervals)
write_conf() {
	printf '[batch]\npoll_interval = 0.2\n' >"$RTC_CONFIG"
	for l in "$@"; do printf '%s\n' "$l" >>"$RTC_CONFIG"; done
}
write_conf

# The daemon this test started (by the pid in its pid file).
rtcd_pid() { cat "$RTC_STATE_DIR/rtcd.pid" 2>/dev/null | tr -d '\n'; }
# gone PID: the process has exited (a zombie waiting for init counts)
gone() {
	[ ! -e "/proc/$1" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]
}
stop_rtcd() {
	p=$(rtcd_pid)
	[ -n "$p" ] || return 0
	kill "$p" 2>/dev/null || return 0
	n=50
	while [ $n -gt 0 ] && ! gone "$p"; do sleep 0.1; n=$((n - 1)); done
	gone "$p" || { echo "# rtcd $p ignored SIGTERM: killed" >&2; kill -9 "$p" 2>/dev/null; }
	return 0
}
at_exit stop_rtcd

# jq_py FILE EXPR: evaluate a Python expression over the JSON in FILE
# (bound to j) and print the result.
jq_py() {
	"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(r if not isinstance(r, (list, dict)) else json.dumps(r))' "$1" "$2"
}

# job_field FILE PARTICIPANT FIELD: a field of a job in status JSON
job_field() {
	jq_py "$1" "[x for x in j['runs'][0]['jobs'] if x['participant'] == '$2'][0]['$3']"
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s
wait_until() {
	n=$(( $1 * 10 )); shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# count LABEL WORD FILE: lines "LABEL WORD" the test app wrote
count() { grep -c "^$1 $2\$" "$3" 2>/dev/null || true; }

# need_slurm: a Slurm that answers (tests/setup/slurm.sh start), else skip
need_slurm() {
	: "${SLURM_CONF:=${RTC_TEST_SLURM_DIR:-/var/lib/rtc-test-slurm}/slurm.conf}"
	export SLURM_CONF
	if ! command -v sbatch >/dev/null 2>&1 || [ ! -f "$SLURM_CONF" ] ||
	    ! scontrol ping 2>/dev/null | grep -q 'is UP'; then
		[ "${CI:-}" = true ] && fail "CI=true but Slurm does not answer (tests/setup/slurm.sh start)"
		skip "no Slurm answers (run tests/setup/slurm.sh install and start)"
	fi
}

# need_podman: podman with the test image (tests/setup/podman.sh start)
need_podman() {
	: "${CONTAINERS_CONF:=${RTC_TEST_PODMAN_DIR:-/var/lib/rtc-test-podman}/containers.conf}"
	export CONTAINERS_CONF
	if ! command -v podman >/dev/null 2>&1 || [ ! -f "$CONTAINERS_CONF" ] ||
	    ! podman image exists localhost/rtc-test-app:latest 2>/dev/null; then
		[ "${CI:-}" = true ] && fail "CI=true but podman or its test image is missing (tests/setup/podman.sh start)"
		skip "podman or the test image is missing (run tests/setup/podman.sh install and start)"
	fi
}

# On failure, show what rtcd knew: the runs' events and its log.
fail() {
	echo "FAIL: $*" >&2
	if [ -S "$RTC_STATE_DIR/rtcd.sock" ]; then
		for r in $("$RTC_BIN" status 2>/dev/null | awk 'NR > 1 {print $1}'); do
			echo "---- rtc logs $r" >&2
			"$RTC_BIN" logs "$r" >&2 2>&1 || true
		done
	fi
	[ ! -f "$RTC_STATE_DIR/rtcd.log" ] || { echo "---- rtcd.log" >&2; tail -n 40 "$RTC_STATE_DIR/rtcd.log" >&2; }
	exit 1
}
