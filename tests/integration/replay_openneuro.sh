#!/bin/sh
# rtc replay of an OpenNeuro accession whose bucket is served from a
# loopback s3rver (bucket openneuro.org; GraphQL down, so the fetch falls
# back to listing the bucket): only the selected run and its metadata are
# fetched (--run 1 takes run-01, never run-10), the TR comes from the
# dataset's top-level sidecar, and every volume gives one feedback record
# and one JSON line. A second replay fetches nothing.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/s3_common.sh"
set -e
need_data
need_cmd "$PY"
s3rver_start
export RTC_OPENNEURO_URL="http://127.0.0.1:$(free_port)/crn/graphql"
# the API is down for good here: give up on it quickly
printf '[openneuro]\nretries = 1\n' >"$T/rtc.conf"
export RTC_CONFIG="$T/rtc.conf"

# ds000001's real layout, with two real BOLD runs of sub-01 made by rtc
# synth (9 and 4 volumes) in place of its empty files
ds=$T/ds000001
mkdir -p "$ds"
cp -R "$RTC_TEST_DATA/bids/ds001/." "$ds/"
chmod -R u+w "$ds"
"$RTC_BIN" -q synth -o "$T/syn9" --volumes 9 --matrix 32x32x12 --tr 2.5
"$RTC_BIN" -q convert "$T/syn9" -o "$T/n9" --gz
"$RTC_BIN" -q synth -o "$T/syn4" --volumes 4 --matrix 32x32x12 --tr 2.5 --seed 7
"$RTC_BIN" -q convert "$T/syn4" -o "$T/n4" --gz
f=$ds/sub-01/func/sub-01_task-balloonanalogrisktask
cp "$T"/n9/*.nii.gz "${f}_run-01_bold.nii.gz"
cp "$T"/n4/*.nii.gz "${f}_run-10_bold.nii.gz"
cp "${f}_run-01_events.tsv" "${f}_run-10_events.tsv"
seed "$ds" s3://openneuro.org/ds000001

nc_port=$(free_port)
"$PY" - "$nc_port" "$T/lines" <<'PYEOF' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(60)
with open(sys.argv[2], "wb") as f:
    while True:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)
PYEOF
listener=$!
wait_listener() { kill "$listener" 2>/dev/null || true; }
at_exit wait_listener
sleep 0.3

expect_status 0 "$RTC_BIN" replay ds000001 --sub 01 \
    --task balloonanalogrisktask --run 1 --fast --cache "$T/cache" \
    --files "$T/fb" --feedback "tcp://127.0.0.1:$nc_port"
C=$T/cache/ds000001
[ -f "$C/sub-01/func/sub-01_task-balloonanalogrisktask_run-01_bold.nii.gz" ] ||
    fail "the run was not fetched"
[ -f "$C/task-balloonanalogrisktask_bold.json" ] || fail "the sidecar was not fetched"
[ -f "$C/dataset_description.json" ] || fail "dataset_description.json not fetched"
[ ! -e "$C/sub-01/func/sub-01_task-balloonanalogrisktask_run-10_bold.nii.gz" ] ||
    fail "--run 1 fetched run-10"
[ ! -e "$C/sub-02" ] || fail "another participant was fetched"
# the sidecar at the dataset's root says TR 2 s (the images say 2.5 s)
contains "$T/err" "9 volumes"
n=$(ls "$T/fb" | grep -c '^run1_TR[0-9]*\.json$')
[ "$n" = 9 ] || fail "$n feedback files for 9 volumes"
for t in 1 9; do [ -f "$T/fb/run1_TR$t.json" ] || fail "no run1_TR$t.json"; done
wait "$listener" || true
[ "$(grep -c '"vol"' "$T/lines")" = 9 ] || fail "$(grep -c '"vol"' "$T/lines") JSON lines for 9 volumes"

# again: the cache is verified and kept, not downloaded again
before=$(stat -c '%i %Y' "$C/sub-01/func/sub-01_task-balloonanalogrisktask_run-01_bold.nii.gz")
sleep 1
expect_status 0 "$RTC_BIN" replay ds000001 --sub 01 \
    --task balloonanalogrisktask --run 01 --fast --cache "$T/cache" \
    --files "$T/fb2"
after=$(stat -c '%i %Y' "$C/sub-01/func/sub-01_task-balloonanalogrisktask_run-01_bold.nii.gz")
[ "$before" = "$after" ] || fail "the cached run was downloaded again"
[ "$(ls "$T/fb2" | grep -c '^run1_TR[0-9]*\.json$')" = 9 ] || fail "second replay"
# run 10 is its own run
expect_status 0 "$RTC_BIN" replay ds000001 --sub 01 \
    --task balloonanalogrisktask --run 10 --fast --cache "$T/cache" \
    --files "$T/fb10"
[ "$(ls "$T/fb10" | grep -c '^run1_TR[0-9]*\.json$')" = 4 ] ||
    fail "run-10 did not give 4 records"
# an ambiguous selection names the runs
expect_status 64 "$RTC_BIN" replay ds000001 --sub 01 \
    --task balloonanalogrisktask --fast --cache "$T/cache"
contains "$T/err" "run-01"
echo "PASS"
