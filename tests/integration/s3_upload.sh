#!/bin/sh
# Uploads to a real S3 server (s3rver): one PUT for a small file, a
# multipart upload (5 MiB parts) for a larger one, an empty file; each
# read back with Debian's awscli and compared byte for byte, and listed
# by rtc's own listing. A refused key is an error (77).
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/s3_common.sh"
set -e
need_aws
s3rver_start
export AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET
head -c 1234567 /dev/urandom >"$T/small.bin"
head -c $((17 * 1048576 + 12345)) /dev/urandom >"$T/big.bin"
: >"$T/empty.bin"

expect_status 0 "$S3_TOOL" put bench "up/small file+1.bin" "$T/small.bin"
expect_status 0 env RTC_DEBUG=s3 "$S3_TOOL" put bench "up/big (multi)=1.bin" \
    "$T/big.bin" 5242880 8388608
contains "$T/err" "multipart upload, 4 parts of 5242880 bytes"
expect_status 0 "$S3_TOOL" put bench up/empty.bin "$T/empty.bin"

aws_s3 s3 cp --only-show-errors "s3://bench/up/small file+1.bin" "$T/small.back"
aws_s3 s3 cp --only-show-errors "s3://bench/up/big (multi)=1.bin" "$T/big.back"
aws_s3 s3 cp --only-show-errors "s3://bench/up/empty.bin" "$T/empty.back"
cmp "$T/small.bin" "$T/small.back" || fail "small upload differs"
cmp "$T/big.bin" "$T/big.back" || fail "multipart upload differs"
cmp "$T/empty.bin" "$T/empty.back" || fail "empty upload differs"

expect_status 0 "$S3_TOOL" list bench up/
[ "$(wc -l <"$T/out")" -eq 3 ] || fail "listing: $(cat "$T/out")"
contains "$T/out" "up/big (multi)=1.bin	$((17 * 1048576 + 12345))"
contains "$T/out" "up/small file+1.bin	1234567	"

# and back down through rtc fetch
expect_status 0 "$RTC_BIN" fetch s3://bench/up -o "$T/dl"
cmp "$T/big.bin" "$T/dl/big (multi)=1.bin" || fail "fetch of the upload differs"

expect_status 77 env AWS_ACCESS_KEY_ID=NOPE "$S3_TOOL" put bench up/x "$T/small.bin"
echo "PASS"
