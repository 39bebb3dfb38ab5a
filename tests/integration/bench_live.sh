#!/bin/sh
# rtc bench live on the real scanner series of every kind rtc reads
# (Siemens mosaic E11 and VD13, Siemens XA30 enhanced multi-frame, GE
# one file per slice): every volume through the whole live path, the
# JSON has the promised shape, and per-slice series are assembled into
# whole volumes in order (GE gives every slice AcquisitionNumber 1).
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e

need_data
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
need_cmd "$PY"
D="$RTC_TEST_DATA/dicom"

check_json() {
	"$PY" - "$T/out" "$1" "$2" <<'PYEOF' || fail "bench JSON for $3"
import json, sys
s = json.loads(open(sys.argv[1]).read())
assert s["volumes"] == int(sys.argv[2]), s
assert s["dropped"] == 0 and s["threads"] >= 1, s
lat = s["latency_ms"]
assert set(["p50", "p95", "p99", "max"]) <= set(lat), lat
assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"], lat
for k in sys.argv[3].split(","):
    assert s["stages_ms"][k] >= 0, (k, s["stages_ms"])
PYEOF
}

# the realtime export with its duplicate: 10 volumes, the copy left out;
# OpenMP threads sleep at barriers unless the user says otherwise
expect_status 0 env -u OMP_WAIT_POLICY "$RTC_BIN" bench live \
    "$D/siemens-e11-mosaic-rt" --json
check_json 10 decoded,roi,feedback e11
contains "$T/out" '"omp_wait_policy":"passive"'
expect_status 0 env OMP_WAIT_POLICY=active "$RTC_BIN" bench live \
    "$D/siemens-e11-mosaic-rt" --json
contains "$T/out" '"omp_wait_policy":"active"'
# the full neurofeedback pipeline on VD13 (6 volumes, 2 dummies)
expect_status 0 "$RTC_BIN" bench live "$D/siemens-vd13-mosaic" \
    --project neurofeedback --json
check_json 4 decoded,motion,glm,roi,classifier,feedback vd13
# enhanced multi-frame, one file per volume
expect_status 0 "$RTC_BIN" bench live "$D/siemens-xa30-enhanced" --json
check_json 20 decoded,roi xa30
# GE slices: 54 files make 3 volumes, in order, through replay's files
expect_status 0 "$RTC_BIN" replay "$D/ge-mr750-slices" --fast \
    --files "$T/ge"
[ "$(ls "$T/ge" | wc -l)" -eq 3 ] || { ls "$T/ge"; fail "GE: expected 3 volumes"; }
for v in 1 2 3; do
	grep -q "\"vol\":$v," "$T/ge/run1_TR$v.json" || fail "GE volume $v"
done
contains "$T/out" "1 run, 3 volumes"
# the text report
expect_status 0 "$RTC_BIN" bench live "$D/siemens-e11-mosaic-rt"
contains "$T/out" "latency  p50"
contains "$T/out" "(n=10)"
expect_status 66 "$RTC_BIN" bench live "$T/nosuch"
echo "ok: bench live on mosaic, enhanced and per-slice series"
