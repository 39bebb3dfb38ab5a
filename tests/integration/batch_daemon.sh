#!/bin/sh
# rtcd as a process: started on demand, one per state directory, owner-only
# socket checked with SO_PEERCRED, the protocol's version and framing, no
# CPU when idle, a stale socket after SIGKILL, a clean SIGTERM, and the
# errors the batch verbs give (with what to do next).
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/batch_lib.sh"
set -e

# started on demand by the first command
[ ! -e "$RTC_STATE_DIR" ] || fail "state dir exists before the test"
expect_status 0 "$RTC_BIN" status
contains "$T/out" "no runs yet"
pid=$(rtcd_pid)
[ -n "$pid" ] && ! gone "$pid" || fail "no rtcd after rtc status"
[ "$(stat -c %a "$RTC_STATE_DIR")" = 700 ] || fail "state dir is not 0700"
[ "$(stat -c %a "$RTC_STATE_DIR/rtcd.sock")" = 600 ] || fail "socket is not 0600"
[ -f "$RTC_STATE_DIR/jobs.db" ] || fail "no job store"
[ "$(cat /proc/$pid/comm)" = rtcd ] || fail "pid file names another process"

# a second daemon for the same directory refuses to start
expect_status 75 "$RTCD_BIN" --state-dir "$RTC_STATE_DIR"
contains "$T/err" "already runs"
contains "$T/err" "$pid"

# the protocol: version, framing, unknown requests
cat >"$T/client.py" <<'PYEOF'
import json, socket, struct, sys
def call(raw):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    try:
        s.sendall(raw)
    except BrokenPipeError:
        pass   # refused at once: the refusal is still there to read
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
        if len(data) >= 4 and len(data) >= 4 + struct.unpack(">I", data[:4])[0]:
            break
    s.close()
    if len(data) < 4:
        return None
    return json.loads(data[4:4 + struct.unpack(">I", data[:4])[0]])
def msg(o):
    b = json.dumps(o).encode()
    return struct.pack(">I", len(b)) + b
mode = sys.argv[2]
if mode == "hello":
    print(json.dumps(call(msg({"v": 1, "op": "hello", "args": {}}))))
elif mode == "version":
    print(json.dumps(call(msg({"v": 99, "op": "hello"}))))
elif mode == "unknown":
    print(json.dumps(call(msg({"v": 1, "op": "reboot"}))))
elif mode == "garbage":
    print(json.dumps(call(struct.pack(">I", 9) + b"not json!")))
elif mode == "huge":
    print(json.dumps(call(struct.pack(">I", 0x7fffffff) + b"{")))
elif mode == "badargs":
    print(json.dumps(call(msg({"v": 1, "op": "submit", "args": {"dataset": 5}}))))
PYEOF
sock=$RTC_STATE_DIR/rtcd.sock
$PY "$T/client.py" "$sock" hello >"$T/r"
[ "$(jq_py "$T/r" "j['result']['pid']")" = "$pid" ] || fail "hello: $(cat "$T/r")"
[ "$(jq_py "$T/r" "j['result']['protocol']")" = 1 ] || fail "hello: protocol"
$PY "$T/client.py" "$sock" version >"$T/r"
[ "$(jq_py "$T/r" "j['ok']")" = False ] || fail "version 99 accepted"
contains "$T/r" "different releases"
$PY "$T/client.py" "$sock" unknown >"$T/r"
contains "$T/r" "unknown request 'reboot'"
$PY "$T/client.py" "$sock" garbage >"$T/r"
contains "$T/r" "malformed message"
$PY "$T/client.py" "$sock" huge >"$T/r"
contains "$T/r" "cap"
$PY "$T/client.py" "$sock" badargs >"$T/r"
contains "$T/r" "non-empty string"
! gone "$pid" || fail "rtcd died of bad requests"

# only the owner may talk to it: open the doors, then try as nobody
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	chmod 755 "$T" "$RTC_STATE_DIR"
	chmod 666 "$sock"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    $PY "$T/client.py" "$sock" hello >"$T/r" 2>"$T/err" ||
	    { cat "$T/err"; fail "nobody could not even connect"; }
	contains "$T/r" "may not use this daemon"
	chmod 600 "$sock"
	chmod 700 "$RTC_STATE_DIR"
else
	note "not root: the SO_PEERCRED check is covered by check_proto only"
fi

# idle: no CPU time at all over two seconds
t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep 2
t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
[ $((t1 - t0)) -le 1 ] || fail "idle rtcd used $((t1 - t0)) ticks in 2 s"

# errors say what to do next
expect_status 66 "$RTC_BIN" status r99
contains "$T/err" "rtc status"
expect_status 64 "$RTC_BIN" wait
contains "$T/err" "which RUN"
expect_status 64 "$RTC_BIN" submit "$DATA/ds001"
contains "$T/err" "--app is required"
# a remote dataset whose server is not there: the fetch says so (69)
dead=$(free_port)
expect_status 69 env RTC_S3_ENDPOINT="http://127.0.0.1:$dead" \
    "$RTC_BIN" submit s3://openneuro.org/ds000001 --app x --stage "$T/stage"
contains "$T/err" "fetching s3://openneuro.org/ds000001"
expect_status 64 "$RTC_BIN" submit s3://openneuro.org/ds000001 --app x \
    --participant-label 'a/b' --stage "$T/stage"
contains "$T/err" "participant label"
expect_status 66 "$RTC_BIN" submit "$T/nonexistent" --app "$APP" --runtime none
contains "$T/err" "no such directory"
expect_status 66 "$RTC_BIN" submit "$T" --app no-such-app-anywhere --runtime none
contains "$T/err" "no such command"
expect_status 64 "$RTC_BIN" submit "$T" --app x --bind relative:/x
contains "$T/err" "--bind"
expect_status 64 "$RTC_BIN" submit "$T" --app x --runtime lxc
expect_status 66 "$RTC_BIN" logs r42
expect_status 66 "$RTC_BIN" cancel r42
expect_status 66 "$RTC_BIN" resubmit r42 --failed

# SIGKILL leaves a stale socket: the next command starts a new daemon
kill -9 "$pid"
sleep 0.2
[ -S "$sock" ] || fail "expected a stale socket"
expect_status 0 "$RTC_BIN" status
pid2=$(rtcd_pid)
[ "$pid2" != "$pid" ] && ! gone "$pid2" || fail "no new rtcd"

# SIGTERM: a clean stop takes the socket away
kill "$pid2"
wait_until 5 gone "$pid2" || fail "rtcd ignores SIGTERM"
[ ! -e "$sock" ] || fail "socket left after SIGTERM"
contains "$RTC_STATE_DIR/rtcd.log" "rtcd stopped"

# a cluster that does not answer: the jobs stay queued with a note that
# says so, and a second submit while rtcd waits to try again is told the
# same at once instead of waiting for the retry
need_data
RTC_STATE_DIR=$T/state-noslurm
: >"$T/empty-slurm.conf"
export RTC_STATE_DIR SLURM_CONF="$T/empty-slurm.conf"
for k in 1 2; do
	t0=$(date +%s)
	expect_status 0 "$RTC_BIN" submit "$DATA/ds001" --app "$APP" \
	    --runtime none --backend slurm --participant-label 01 -o "$T/sl$k"
	t1=$(date +%s)
	[ $((t1 - t0)) -lt 10 ] || fail "submit $k took $((t1 - t0)) s"
	contains "$T/out" "rtcd tries again every"
done
expect_status 0 "$RTC_BIN" status --json
[ "$(jq_py "$T/out" "[r['state'] for r in j['runs']]")" = '["queued", "queued"]' ] ||
    fail "runs of a silent cluster are not queued"
echo "PASS"
