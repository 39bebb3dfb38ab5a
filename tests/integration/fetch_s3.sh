#!/bin/sh
# rtc fetch s3://bucket/prefix against a real S3 server (s3rver): the
# keys mirrored under DIR byte for byte, a re-run that fetches nothing,
# repairs of missing and altered files, include/exclude, unsigned
# requests, refused credentials, and usage errors.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/s3_common.sh"
set -e
need_data
need_s3rver
need_aws
# a private copy: what is seeded is what is compared
cp -r "$RTC_TEST_DATA/bids/ds001" "$T/src"
chmod -R u+w "$T/src"
DS="$T/src"
N=$(nfiles "$DS")
s3rver_start
seed "$DS" s3://openneuro.org/ds000001/
export AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET

# the whole prefix, byte-exact
expect_status 0 "$RTC_BIN" fetch s3://openneuro.org/ds000001 -o "$T/a"
same_tree "$DS" "$T/a"
contains "$T/err" "$N files"
contains "$T/err" "$N fetched"
[ -s "$T/a/.rtc/manifest.json" ] || fail "no manifest"
grep -q '"resolved_via": "s3"' "$T/a/.rtc/manifest.json" || fail "manifest lacks source"
ls "$T/a/.rtc/partial" | grep -q . && fail "partial files left behind"

# a re-run fetches nothing
expect_status 0 "$RTC_BIN" fetch s3://openneuro.org/ds000001/ -o "$T/a"
contains "$T/err" "0 fetched"
contains "$T/err" "$N already present"

# a missing file and an altered one (same size) are fetched again, and
# only they
rm "$T/a/sub-03/func/sub-03_task-balloonanalogrisktask_run-02_events.tsv"
f="$T/a/participants.tsv"
sz=$(wc -c <"$f")
head -c "$sz" /dev/zero | tr '\0' 'x' >"$f.new" && mv "$f.new" "$f"
expect_status 0 "$RTC_BIN" fetch s3://openneuro.org/ds000001 -o "$T/a"
contains "$T/err" "2 fetched"
contains "$T/err" "$((N - 2)) already present"
same_tree "$DS" "$T/a"

# include / exclude (gitignore-like; no BIDS top-level rule for s3://)
expect_status 0 "$RTC_BIN" fetch s3://openneuro.org/ds000001 -o "$T/b" \
    --include 'sub-01' --include '*.json' --exclude '*_events.tsv' -j 4
[ -f "$T/b/sub-01/anat/sub-01_T1w.nii.gz" ] || fail "include sub-01"
[ -f "$T/b/task-balloonanalogrisktask_bold.json" ] || fail "include *.json"
[ ! -e "$T/b/sub-02" ] || fail "sub-02 came along"
[ ! -e "$T/b/README" ] || fail "README came along"
[ -z "$(find "$T/b" -name '*_events.tsv')" ] || fail "exclude *_events.tsv"
expect_status 66 "$RTC_BIN" fetch s3://openneuro.org/ds000001 -o "$T/c" \
    --include 'sub-99'
contains "$T/err" "sub-99"

# unsigned requests (s3rver allows anonymous reads)
expect_status 0 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    "$RTC_BIN" -q fetch s3://openneuro.org/ds000001 -o "$T/d" --no-sign
same_tree "$DS" "$T/d"

# credentials the server refuses: 77, nothing half-written in place
expect_status 77 env AWS_ACCESS_KEY_ID=WRONGKEY "$RTC_BIN" fetch \
    s3://openneuro.org/ds000001 -o "$T/e"
contains "$T/err" "403"
[ -z "$(find "$T/e" -type f ! -path '*/.rtc/*' 2>/dev/null)" ] || fail "files written"

# a bucket that is not there, an empty prefix
expect_status 66 "$RTC_BIN" fetch s3://no-such-bucket/x -o "$T/f"
expect_status 66 "$RTC_BIN" fetch s3://openneuro.org/nothing-here -o "$T/f"

# usage errors
expect_status 64 "$RTC_BIN" fetch s3://openneuro.org/ds000001
contains "$T/err" "-o DIR"
expect_status 64 "$RTC_BIN" fetch -o "$T/g"
expect_status 64 "$RTC_BIN" fetch http://example.com/x -o "$T/g"
expect_status 64 "$RTC_BIN" fetch ds1 -o "$T/g"
expect_status 64 "$RTC_BIN" fetch s3://openneuro.org/x -o "$T/g" --jobs 0
expect_status 64 "$RTC_BIN" fetch a b -o "$T/g"
echo "PASS"
