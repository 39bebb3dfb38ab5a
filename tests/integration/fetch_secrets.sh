#!/bin/sh
# Secrets never reach logs: with every debug flag on, neither the secret
# key, nor the session token, nor any signature is printed, while the
# requests themselves are.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/s3_common.sh"
set -e
need_data
cp -r "$RTC_TEST_DATA/bids/ds005" "$T/src"
s3rver_start
seed "$T/src" s3://openneuro.org/ds000005/
SECRET=TopSecretValue0123456789abcdefXYZ
TOKEN=SessionTokenValue9876543210zyxABC
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=$SECRET \
    AWS_SESSION_TOKEN=$TOKEN
expect_status 0 "$RTC_BIN" --debug s3,http,net,core fetch \
    s3://openneuro.org/ds000005 -o "$T/dst"
same_tree "$T/src" "$T/dst"
cat "$T/out" "$T/err" >"$T/all"
contains "$T/all" "GET http://127.0.0.1:$S3_PORT/openneuro.org/ds000005/"
contains "$T/all" "credentials: environment"
lacks "$T/all" "$SECRET"
lacks "$T/all" "$TOKEN"
lacks "$T/all" "Signature="
lacks "$T/all" "Authorization"
lacks "$T/all" "$(echo "$SECRET" | cut -c1-12)"
# the same through a credentials file and a profile
printf '[lab]\naws_access_key_id = S3RVER\naws_secret_access_key = %s\n' \
    "$SECRET" >"$T/credentials"
expect_status 0 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    -u AWS_SESSION_TOKEN AWS_SHARED_CREDENTIALS_FILE="$T/credentials" \
    AWS_PROFILE=lab "$RTC_BIN" --debug all fetch s3://openneuro.org/ds000005 \
    -o "$T/dst2"
cat "$T/out" "$T/err" >"$T/all"
contains "$T/all" "credentials file"
lacks "$T/all" "$SECRET"
# a failure message does not carry it either
expect_status 77 env AWS_ACCESS_KEY_ID=NOTTHEKEY "$RTC_BIN" --debug all \
    fetch s3://openneuro.org/ds000005 -o "$T/dst3"
cat "$T/out" "$T/err" >"$T/all"
lacks "$T/all" "$SECRET"
lacks "$T/all" "$TOKEN"
echo "PASS"
