#!/bin/sh
# rtc fetch through the fault-injecting loopback server: a connection cut
# mid-file (the next request continues from the byte reached), 503 bursts
# (also on the listing), a body shorter than announced, an HTML error page
# and a JSON error body sent with status 200, and a listing that takes
# many pages. Everything arrives byte-exact; a file that keeps failing
# fails alone, and the next run fetches only it.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/s3_common.sh"
set -e
need_data

# ds001's layout with real bytes in the data files
make_dataset "$RTC_TEST_DATA/bids/ds001" "$T/src"
BOLD=sub-01/func/sub-01_task-balloonanalogrisktask_run-01_bold.nii.gz
T1=sub-02/anat/sub-02_T1w.nii.gz
P=ds000001/
cat >"$T/faults.json" <<JSON
{
 "?list": ["status:503", "ok", "ok", "status:503", "status:500"],
 "$BOLD": ["cut:100000", "cut:30000"],
 "$T1": ["status:503", "status:503", "status:503"],
 "sub-03/anat/sub-03_T1w.nii.gz": ["short:100"],
 "README": ["html200"],
 "dataset_description.json": ["jsonerr200"],
 "participants.tsv": ["status:503", "cut:10"],
 "sub-04/anat/sub-04_T1w.nii.gz": ["status:503", "status:503", "status:503",
   "status:503", "status:503", "status:503", "status:503", "status:503"]
}
JSON
fault_start --root "$T/src" --bucket openneuro.org --prefix "$P" --page 7 \
    --faults "$T/faults.json" --log "$T/requests.log"
export RTC_S3_ENDPOINT="$FAULT_URL"

expect_status 69 "$RTC_BIN" fetch s3://openneuro.org/ds000001 -o "$T/dst" \
    --no-sign -j 4 --retries 4
contains "$T/err" "sub-04/anat/sub-04_T1w.nii.gz"
contains "$T/err" "gave up after 4 attempts"
contains "$T/err" "1 FAILED"
contains "$T/err" "HTML page"
contains "$T/err" "retrying"
[ ! -e "$T/dst/sub-04/anat/sub-04_T1w.nii.gz" ] || fail "a failed file is in place"
# everything else is there, byte for byte
(cd "$T/src" && find . -type f | sort | grep -v '^./sub-04/anat/sub-04_T1w') >"$T/want"
(cd "$T/dst" && find . -type f ! -path './.rtc/*' | sort) >"$T/got"
cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" >&2; fail "file lists differ"; }
while read -r f; do
	cmp -s "$T/src/$f" "$T/dst/$f" || fail "$f differs"
done <"$T/want"

# the cut transfer went on from the byte it had reached, twice
grep -q "$BOLD bytes=100000- 206" "$T/requests.log" || fail "no resume at 100000"
grep -q "$BOLD bytes=130000- 206" "$T/requests.log" || fail "no resume at 130000"
[ "$(grep -c "GET /openneuro.org/ds000001/$BOLD " "$T/requests.log")" -eq 3 ] ||
    fail "the cut file took other than 3 requests"
# the listing: pages of 7, plus three refused pages
N=$(nfiles "$T/src")
want=$(( (N + 6) / 7 + 3 ))
pages=$(grep -c 'list-type=2' "$T/requests.log")
[ "$pages" -eq "$want" ] || fail "listing took $pages requests, expected $want"
grep -q ' 400 ' "$T/requests.log" && fail "a continuation token was mangled"

# the server mends; the next run fetches the one file left
fault_stop
fault_start --root "$T/src" --bucket openneuro.org --prefix "$P" --page 50 \
    --log "$T/requests2.log"
export RTC_S3_ENDPOINT="$FAULT_URL"
expect_status 0 "$RTC_BIN" fetch s3://openneuro.org/ds000001 -o "$T/dst" \
    --no-sign
contains "$T/err" "1 fetched"
contains "$T/err" "$((N - 1)) already present"
same_tree "$T/src" "$T/dst"
[ "$(grep -c '^GET /openneuro.org/ds000001/sub' "$T/requests2.log")" -eq 1 ] ||
    fail "files fetched again"
echo "PASS"
