#!/bin/sh
# Feedback to a real stimulus-computer listener (a separate process) that
# goes away mid-run and comes back on the same port: every line arrives
# once, in order (the backlog covers the gap), the writer is never held up,
# and the per-TR files are all there. Then a listener that never reads:
# writes stay fast, the newest lines are kept, the rest counted.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e

SEND="$RTC_TOP_BUILDDIR/tests/live/fb_send"
[ -x "$SEND" ] || fail "$SEND not built"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
need_cmd "$PY"

cat >"$T/listener.py" <<'PYEOF'
import socket, sys, time
port, first, gone, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
def serve(limit):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    ls.settimeout(15)
    c, _ = ls.accept()
    ls.close()
    c.settimeout(4)
    f = c.makefile("r")
    got = []
    try:
        while limit is None or len(got) < limit:
            line = f.readline()
            if not line:
                break
            got.append(line)
    except socket.timeout:
        pass
    c.close()
    return got
lines = serve(first)          # the first volumes, then away
time.sleep(gone)
lines += serve(None)          # back on the same port
with open(out, "w") as fp:
    fp.writelines(lines)
PYEOF

port=$(free_port)
"$PY" "$T/listener.py" "$port" 10 1.5 "$T/got.txt" 2>"$T/listener.err" &
lpid=$!
sleep 0.5
expect_status 0 "$SEND" --tcp "tcp://127.0.0.1:$port" --files "$T/files" \
    --count 40 --interval-ms 60 --flush-ms 8000
cp "$T/out" "$T/send.out"
wait "$lpid" || { cat "$T/listener.err"; fail "listener failed"; }
note "$(cat "$T/send.out" | tr '\n' ' ')"
# every line once, in order, whole JSON
"$PY" - "$T/got.txt" <<'PYEOF' || fail "listener did not get volumes 1..40 once each"
import json, sys
vols = [json.loads(l)["vol"] for l in open(sys.argv[1])]
sys.exit(0 if vols == list(range(1, 41)) else 1)
PYEOF
contains "$T/send.out" "lost=0"
contains "$T/send.out" "connects=2 disconnects=1"
contains "$T/send.out" "nodelay=1"
max=$(sed -n 's/^max_write_ms //p' "$T/send.out")
awk "BEGIN { exit !($max < 50) }" || fail "a write took $max ms"
[ "$(ls "$T/files" | grep -c '^run1_TR[0-9]*\.json$')" -eq 40 ] || fail "not 40 files"
! ls -A "$T/files" | grep -q '^\.' || fail "temporary files left"
contains "$T/files/run1_TR40.json" '"trId":40'

# a listener that connects and never reads
cat >"$T/mute.py" <<'PYEOF'
import socket, sys, time
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(1)
c, _ = ls.accept()
time.sleep(float(sys.argv[2]))
PYEOF
port=$(free_port)
"$PY" "$T/mute.py" "$port" 8 &
mpid=$!
sleep 0.5
expect_status 0 "$SEND" --tcp "tcp://127.0.0.1:$port" --count 20000 \
    --interval-ms 0 --backlog 100 --flush-ms 100
note "mute listener: $(tr '\n' ' ' <"$T/out")"
max=$(sed -n 's/^max_write_ms //p' "$T/out")
awk "BEGIN { exit !($max < 50) }" || fail "a write took $max ms with a mute listener"
lost=$(sed -n 's/.* lost=\([0-9]*\) .*/\1/p' "$T/out")
[ "$lost" -gt 0 ] || fail "nothing counted lost with a mute listener"
kill "$mpid" 2>/dev/null || true
wait "$mpid" 2>/dev/null || true
echo "ok: feedback listener away and back, mute listener"
