#!/bin/sh
# rtc fetch dsNNNNNN[:TAG] through a loopback GraphQL endpoint answering
# with OpenNeuro's response shapes: the latest snapshot, folder-by-folder
# listings (only the folders --include can reach), checksums from
# git-annex keys, errors reported inside HTTP 200 bodies (retried when
# they name a gateway timeout, final otherwise), and the fallback to the
# public bucket when the API is unreachable, with its tag check.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/s3_common.sh"
set -e
need_data
make_dataset "$RTC_TEST_DATA/bids/ds001" "$T/src"
printf '[openneuro]\nretries = 4\nbackoff_ms = 50\n' >"$T/rtc.conf"
export RTC_CONFIG="$T/rtc.conf"
cat >"$T/faults.json" <<'JSON'
{ "?graphql": ["ok", "error200:504 Gateway Time-out", "status:502",
               "error200:Request timed out"] }
JSON
fault_start --root "$T/src" --bucket openneuro.org --prefix ds000001/ \
    --dataset ds000001 --tag 1.0.0 --faults "$T/faults.json" \
    --log "$T/requests.log"
export RTC_OPENNEURO_URL="$FAULT_URL/crn/graphql"
export RTC_S3_ENDPOINT="$FAULT_URL"

# the latest snapshot, through three retried failures
expect_status 0 "$RTC_BIN" fetch ds000001 -o "$T/a"
same_tree "$T/src" "$T/a"
contains "$T/err" "retrying"
contains "$T/err" "pinned ds000001 snapshot 1.0.0 (doi:10.18112/openneuro.ds000001.v1.0.0)"
m="$T/a/.rtc/manifest.json"
grep -q '"tag": "1.0.0"' "$m" || fail "manifest lacks the tag"
grep -q '"doi": "10.18112/openneuro.ds000001.v1.0.0"' "$m" || fail "no DOI"
grep -q '"resolved_via": "graphql"' "$m" || fail "not via GraphQL"
want=$(sha256sum "$T/src/sub-01/anat/sub-01_T1w.nii.gz" | cut -d' ' -f1)
grep -q "\"sha256\": \"$want\"" "$m" || fail "annexed file without its SHA-256"
# the files came from the URLs the API gave
grep -q 'GET /openneuro.org/ds000001/sub-16/anat/sub-16_T1w.nii.gz - 200' \
    "$T/requests.log" || fail "file URLs not used"

# again with the tag: nothing to fetch
expect_status 0 "$RTC_BIN" fetch ds000001:1.0.0 -o "$T/a"
contains "$T/err" "0 fetched"

# --include: only sub-01 (and the top-level files); only the folders on
# the way to it are listed
: >"$T/requests.log"
expect_status 0 "$RTC_BIN" fetch ds000001:1.0.0 -o "$T/b" --include sub-01
[ -f "$T/b/sub-01/func/sub-01_task-balloonanalogrisktask_run-01_bold.nii.gz" ] ||
    fail "sub-01 missing"
for f in dataset_description.json participants.tsv participants.json README \
    CHANGES task-balloonanalogrisktask_bold.json; do
	[ -f "$T/b/$f" ] || fail "top-level $f missing"
done
[ ! -e "$T/b/sub-02" ] || fail "sub-02 came along"
q=$(grep -c '^POST /crn/graphql' "$T/requests.log")
[ "$q" -eq 4 ] || fail "$q GraphQL queries, expected 4 (root, sub-01, anat, func)"
expect_status 0 "$RTC_BIN" fetch ds000001:1.0.0 -o "$T/c" \
    --include 'sub-0[12]/anat' --exclude '*inplaneT2*'
[ -f "$T/c/sub-02/anat/sub-02_T1w.nii.gz" ] || fail "glob include"
[ -z "$(find "$T/c" -name '*inplaneT2*')" ] || fail "glob exclude"
[ ! -e "$T/c/sub-01/func" ] || fail "func came along"

# errors the API reports inside a 200: final, no fallback
expect_status 66 "$RTC_BIN" fetch ds000002 -o "$T/d"
contains "$T/err" "Dataset ds000002 not found"
lacks "$T/err" "public bucket"
expect_status 66 "$RTC_BIN" fetch ds000001:9.9.9 -o "$T/d"
contains "$T/err" "not found"

# a slow API: folders are asked for several at a time, and downloads
# start while the listing goes on (one query at a time would take 49 x
# 0.3 s = 15 s)
fault_stop
stalls=$(awk 'BEGIN { for (i = 0; i < 60; i++) printf "%s\"stall:0.3\"", i ? ", " : ""; }')
printf '{ "?graphql": [%s] }\n' "$stalls" >"$T/slow.json"
fault_start --root "$T/src" --bucket openneuro.org --prefix ds000001/ \
    --dataset ds000001 --tag 1.0.0 --faults "$T/slow.json"
export RTC_OPENNEURO_URL="$FAULT_URL/crn/graphql" RTC_S3_ENDPOINT="$FAULT_URL"
t0=$(date +%s)
expect_status 0 "$RTC_BIN" fetch ds000001:1.0.0 -o "$T/slow"
t=$(( $(date +%s) - t0 ))
same_tree "$T/src" "$T/slow"
note "slow API: $t s"
[ "$t" -lt 10 ] || fail "listing a slow API took $t s: not in parallel"

# the API unreachable: the public bucket, with a warning; its
# dataset_description.json names the snapshot
port=$(free_port)
RTC_OPENNEURO_URL="http://127.0.0.1:$port/crn/graphql"
export RTC_OPENNEURO_URL
expect_status 0 "$RTC_BIN" fetch ds000001 -o "$T/e"
contains "$T/err" "listing the public bucket s3://openneuro.org/ds000001/"
same_tree "$T/src" "$T/e"
grep -q '"resolved_via": "s3-listing"' "$T/e/.rtc/manifest.json" || fail "not via S3"
grep -q '"tag": "1.0.0"' "$T/e/.rtc/manifest.json" || fail "fallback lost the tag"
expect_status 0 "$RTC_BIN" fetch ds000001:1.0.0 -o "$T/e"
contains "$T/err" "0 fetched"
# a tag the bucket does not hold cannot be served from it
expect_status 69 "$RTC_BIN" fetch ds000001:2.0.0 -o "$T/f"
contains "$T/err" "holds snapshot 1.0.0, not 2.0.0"
echo "PASS"
