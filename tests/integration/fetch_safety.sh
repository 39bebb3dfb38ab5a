#!/bin/sh
# Keys that would land outside the target ('..', absolute, empty parts,
# rtc's own .rtc folder, a NUL byte from the API) or that the listing
# should not have held (outside the prefix asked for) are skipped with a
# warning that names each; the rest completes; the exit status says so
# (65); nothing is written outside the target.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/s3_common.sh"
set -e
need_data
make_dataset "$RTC_TEST_DATA/bids/ds001" "$T/src"
mkdir -p "$T/jail"
printf '{"?list": ["foreign:ds000002/sub-01/other.txt"]}' >"$T/faults.json"
fault_start --faults "$T/faults.json" --root "$T/src" \
    --bucket openneuro.org --prefix ds000001/ \
    --extra-key '../../escape.txt' --extra-key '/abs.txt' \
    --extra-key 'sub-01/../../../up.txt' --extra-key '.rtc/manifest.json' \
    --extra-key 'a//b.txt' --extra-key './dot.txt' \
    --extra-key 'nul\x00name' --log "$T/requests.log"
export RTC_S3_ENDPOINT="$FAULT_URL"

expect_status 65 "$RTC_BIN" fetch s3://openneuro.org/ds000001 \
    -o "$T/jail/dst" --no-sign
for k in ../../escape.txt /abs.txt sub-01/../../../up.txt \
    .rtc/manifest.json a//b.txt ./dot.txt; do
	contains "$T/err" "skipping 'ds000001/$k'"
done
contains "$T/err" "skipping 'ds000001/nul%00name'"
contains "$T/err" "skipping 'ds000002/sub-01/other.txt'"
contains "$T/err" "8 keys skipped"
same_tree "$T/src" "$T/jail/dst"
[ ! -e "$T/escape.txt" ] && [ ! -e "$T/jail/escape.txt" ] &&
    [ ! -e /abs.txt ] && [ ! -e "$T/up.txt" ] || fail "a file escaped"
grep -q '"rtc_manifest": 1' "$T/jail/dst/.rtc/manifest.json" ||
    fail "the manifest was overwritten"
# none of them was even requested
grep -q 'escape\|abs.txt\|up.txt\|dot.txt\|a//b' "$T/requests.log" &&
    fail "an unsafe key was requested"

# the same through the OpenNeuro API, where a name may even hold a NUL
export RTC_OPENNEURO_URL="$FAULT_URL/crn/graphql"
expect_status 65 "$RTC_BIN" fetch ds000001 -o "$T/jail/on"
contains "$T/err" "skipping '../../escape.txt'"
contains "$T/err" "skipping 'nul?name'"
contains "$T/err" "skipping '/abs.txt'"
same_tree "$T/src" "$T/jail/on"
[ -z "$(find "$T" -name 'escape.txt' -o -name 'up.txt' -o -name 'nul*')" ] ||
    fail "a file escaped"
echo "PASS"
