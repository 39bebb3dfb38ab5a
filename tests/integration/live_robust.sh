#!/bin/sh
# The live path when things go wrong around it:
#  1. the stimulus computer's listener disconnects mid-run and comes back:
#     the pipeline never waits for it, and it gets the later volumes;
#  2. processing slower than the TR (a project whose own analysis sleeps
#     longer than the TR): volumes queue, none is dropped, the records
#     say lagging and the log says how far behind;
#  3. SIGINT in the middle of a run: the outputs are finished (the BIDS
#     image holds exactly the volumes that have records).
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
need_cmd "$PY"
"$RTC_BIN" -q synth -o "$T/syn" --volumes 30 --matrix 32x32x10 --tr 1 \
    || fail "synth failed"

# ---- 1. listener away and back ----------------------------------------
cat >"$T/listener.py" <<'PYEOF'
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
def serve(limit):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    ls.settimeout(20)
    c, _ = ls.accept()
    ls.close()
    c.settimeout(20)
    f = c.makefile("r")
    got = []
    while limit is None or len(got) < limit:
        line = f.readline()
        if not line:
            break
        got.append(line)
    c.close()
    return got
lines = serve(5)       # five volumes, then the stimulus PC goes away
time.sleep(0.4)        # ... for a while (several TRs)
lines += serve(None)   # and comes back on the same port
open(out, "w").writelines(lines)
PYEOF
lport=$(free_port)
"$PY" "$T/listener.py" "$lport" "$T/lines" &
lpid=$!
sleep 0.3
expect_status 0 "$RTC_BIN" replay "$T/syn" --tr 0.05 --project sample \
    --feedback "tcp://127.0.0.1:$lport" --files "$T/f1" --json
wait "$lpid" || fail "listener failed"
"$PY" - "$T/lines" "$T/out" <<'PYEOF' || fail "listener lines wrong"
import json, sys
vols = [json.loads(l)["vol"] for l in open(sys.argv[1])]
# in order, each at most once; the five before it left, the last ones
# after it came back (a line in flight when it closed may be lost)
assert vols == sorted(set(vols)), vols
assert vols[:5] == [1, 2, 3, 4, 5], vols
assert vols[-1] == 30 and len(vols) >= 28, vols
s = json.loads(open(sys.argv[2]).read())
assert s["volumes"] == 30 and s["dropped"] == 0, s
# the pipeline never waited for the network
assert s["latency_ms"]["max"] < 400, s
PYEOF
[ "$(ls "$T/f1" | wc -l)" -eq 30 ] || fail "per-TR files missing"

# ---- 2. slower than the TR ---------------------------------------------
mkdir "$T/slow"
cat >"$T/slow/sleepy.py" <<'PYEOF'
import json, sys, time
for line in sys.stdin:
    m = json.loads(line)
    if m.get("type") == "hello":
        print(json.dumps({"type": "ready"}), flush=True)
    elif m.get("type") == "volume":
        time.sleep(0.15)          # 3 TRs of work per volume
        print(json.dumps({"seq": m["seq"], "values": {"slept": 1}}),
              flush=True)
    elif m.get("type") == "bye":
        break
PYEOF
cat >"$T/slow/project.toml" <<EOF
title = "slow"
subjectName = "slow"
[[pipeline.roi]]
name = "brain"
brain = true
[analysis]
command = ["$PY", "sleepy.py"]
timeout_ms = 5000
[feedback]
value = "analysis.slept"
EOF
expect_status 0 "$RTC_BIN" replay "$T/syn" --tr 0.05 --volumes 10 \
    --project "$T/slow" --files "$T/f2"
contains "$T/err" "processing is slower than the scanner"
contains "$T/out" "1 run, 10 volumes"
contains "$T/out" "0 duplicates dropped, 0 late, 0 missing"
"$PY" - "$T/f2" "$T/out" <<'PYEOF' || fail "lagging run wrong"
import json, os, re, sys
recs = [json.load(open(os.path.join(sys.argv[1], "run1_TR%d.json" % v)))
        for v in range(1, 11)]
# every volume analysed by the slow code: nothing skipped or dropped
assert all(r["values"].get("slept") == 1 for r in recs), recs
assert all(r["feedback"] == 1 for r in recs)
assert sum(r["flags"]["lagging"] for r in recs) >= 5, [r["flags"] for r in recs]
assert not any(r["flags"]["analysis_skipped"] for r in recs)
# the later volumes waited in the queue: latency grows past the TR
assert recs[-1]["stages_ms"]["feedback"] > 700, recs[-1]["stages_ms"]
wait = float(re.search(r"longest wait ([0-9.]+) ms", open(sys.argv[2]).read()).group(1))
assert wait > 700, wait
PYEOF

# ---- 3. SIGINT mid-run ---------------------------------------------------
"$RTC_BIN" replay "$T/syn" --tr 0.05 --project sample --out "$T/bids" \
    --files "$T/f3" >"$T/i.out" 2>"$T/i.err" &
pid=$!
i=0
until [ "$(ls "$T/f3" 2>/dev/null | wc -l)" -ge 8 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || { cat "$T/i.err"; fail "replay did not start"; }
	sleep 0.05
done
kill -INT "$pid"
wait "$pid" || { cat "$T/i.err"; fail "replay exited $? after SIGINT"; }
n=$(ls "$T/f3" | wc -l)
[ "$n" -lt 30 ] || fail "SIGINT did not stop the replay"
img="$T/bids/sub-sample/func/sub-sample_task-rt_run-1_bold.nii.gz"
[ -f "$img" ] || { find "$T/bids"; fail "no finished image after SIGINT"; }
"$PY" - "$img" "$n" "$T/bids" <<'PYEOF' || fail "image after SIGINT wrong"
import glob, gzip, json, struct, sys
h = gzip.open(sys.argv[1]).read(348)
assert struct.unpack("<8h", h[40:56])[4] == int(sys.argv[2])
side = json.load(open(sys.argv[1].replace(".nii.gz", ".json")))
assert side["rtcComplete"] is True and side["rtcVolumes"] == int(sys.argv[2])
conf = glob.glob(sys.argv[3] + "/derivatives/rtc/sub-sample/func/*confounds*")
assert len(open(conf[0]).read().splitlines()) == int(sys.argv[2]) + 1
PYEOF
echo "ok: listener away and back, slower than the TR, SIGINT"
