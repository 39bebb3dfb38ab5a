#!/bin/sh
# DCMTK's own storescu pushes the real Siemens realtime series (10
# volumes and a byte copy of volume 10, sent first) to `rtc live --scp`:
# every volume is processed once, in order, giving one run1_TR<T>.json
# and one JSON line on the stimulus listener per volume; the duplicate
# is dropped with a warning; a caller outside the AE allow-list is
# refused; SIGINT ends the session with its BIDS run finished (10 frames,
# TR 1.5 s).
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e

need_data
need_cmd storescu
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
need_cmd "$PY"
SRC="$RTC_TEST_DATA/dicom/siemens-e11-mosaic-rt"

cat >"$T/listener.py" <<'PYEOF'
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(1)
ls.settimeout(30)
c, _ = ls.accept()
c.settimeout(30)
with open(sys.argv[2], "w") as out:
    for line in c.makefile("r"):
        out.write(line)
        out.flush()
PYEOF

lport=$(free_port)
"$PY" "$T/listener.py" "$lport" "$T/lines" &
lpid=$!
port=$(free_port)
"$RTC_BIN" live --project sample --scp "$port" --bind 127.0.0.1 \
    --allow-aet SCANNER --files "$T/files" \
    --feedback "tcp://127.0.0.1:$lport" --out "$T/bids" \
    >"$T/live.out" 2>"$T/live.err" &
pid=$!
stop_live() { kill "$pid" "$lpid" 2>/dev/null; true; }
at_exit stop_live
i=0
until grep -q "receiving DICOM" "$T/live.err" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { cat "$T/live.err"; fail "rtc live did not start"; }
	kill -0 "$pid" 2>/dev/null || { cat "$T/live.err"; fail "rtc live died"; }
	sleep 0.05
done

# an AE title outside the allow-list is refused; C-ECHO is answered
set +e
storescu -aet INTRUDER -aec RTC 127.0.0.1 "$port" "$SRC/001_000013_000001.dcm" \
    >"$T/intruder" 2>&1
st=$?
set -e
[ "$st" -ne 0 ] || fail "a calling AE title outside the allow-list was accepted"
if command -v echoscu >/dev/null 2>&1; then
	expect_status 0 echoscu -aet SCANNER -aec RTC 127.0.0.1 "$port"
fi
expect_status 0 storescu -aet SCANNER -aec RTC 127.0.0.1 "$port" "$SRC"/*.dcm
# every C-STORE was answered: the volumes are queued; give the pipeline
# the time to write them, then stop as an operator would
i=0
until [ "$(ls "$T/files" 2>/dev/null | wc -l)" -ge 10 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || { cat "$T/live.err"; fail "not all volumes were written"; }
	sleep 0.05
done
kill -INT "$pid"
wait "$pid" || { cat "$T/live.err"; fail "rtc live exited $?"; }
wait "$lpid" || true

# one file per volume, named as RT-Cloud's PsychoPy examples expect
[ "$(ls "$T/files" | wc -l)" -eq 10 ] || { ls "$T/files"; fail "expected 10 per-TR files"; }
for v in 1 2 3 4 5 6 7 8 9 10; do
	[ -f "$T/files/run1_TR$v.json" ] || fail "run1_TR$v.json missing"
done
# one line per volume on the listener, each volume once, in order
"$PY" - "$T/lines" "$T/files" <<'PYEOF' || fail "feedback lines or files are wrong"
import json, sys, os
lines = [json.loads(l) for l in open(sys.argv[1])]
vols = [r["vol"] for r in lines]
assert vols == list(range(1, 11)), vols
for r in lines:
    assert r["run"] == 1 and r["series"] == 13, r
    assert r["runId"] == 1 and r["trId"] == r["vol"]
    assert r["feedback"] is not None and r["feedback"] > 0
    assert r["roi"]["brain.mean"] == r["feedback"]
    for k in ("intake", "decoded", "roi", "feedback"):
        assert r["stages_ms"][k] is not None, k
    assert r["stages_ms"]["decoded"] >= 0
    f = json.load(open(os.path.join(sys.argv[2], "run1_TR%d.json" % r["vol"])))
    assert f["vol"] == r["vol"] and f["feedback"] == r["feedback"]
PYEOF
# the duplicate: received, dropped once, said so
contains "$T/live.err" "volume 10 arrived again; duplicate dropped"
contains "$T/live.out" "1 run, 10 volumes (0 dummies)"
contains "$T/live.out" "1 duplicate dropped, 0 late, 0 missing, 0 undecodable"
# the BIDS run, finished on SIGINT
img="$T/bids/sub-sample/func/sub-sample_task-rt_run-1_bold.nii.gz"
[ -f "$img" ] || { find "$T/bids"; fail "no BIDS image"; }
[ ! -f "${img%.gz}" ] || fail "the uncompressed image was left behind"
"$PY" - "$img" "${img%.nii.gz}.json" <<'PYEOF' || fail "BIDS image or sidecar wrong"
import gzip, json, struct, sys
h = gzip.open(sys.argv[1]).read(348)
dim = struct.unpack("<8h", h[40:56])
assert dim[:5] == (4, 64, 64, 27, 10), dim
assert abs(struct.unpack("<f", h[92:96])[0] - 1.5) < 1e-6
side = json.load(open(sys.argv[2]))
assert side["RepetitionTime"] == 1.5 and side["rtcComplete"] is True
assert side["rtcVolumes"] == 10 and side["rtcMissingVolumes"] == []
PYEOF
echo "ok: storescu -> rtc live --scp: 10 volumes once each, duplicate dropped"
