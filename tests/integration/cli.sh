#!/bin/sh
# The command contract: help, version, usage errors and their exit codes.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e

expect_status 0 "$RTC_BIN" --version
grep -Eq '^rtc [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" || fail "bad version line"

expect_status 0 "$RTC_BIN" --help
contains "$T/out" "usage: rtc"
contains "$T/out" "help"

expect_status 0 "$RTC_BIN" help help
contains "$T/out" "usage: rtc help [VERB]"

# no verb, unknown verb, unknown global option, unknown verb for help
expect_status 64 "$RTC_BIN"
contains "$T/err" "usage: rtc"
expect_status 64 "$RTC_BIN" frobnicate
contains "$T/err" "unknown verb 'frobnicate'"
expect_status 64 "$RTC_BIN" --bogus version
expect_status 64 "$RTC_BIN" help frobnicate
expect_status 64 "$RTC_BIN" version extra
contains "$T/err" "usage: rtc version"
expect_status 64 "$RTC_BIN" --debug nosuchsubsystem version
contains "$T/err" "unknown debug subsystem"

# every verb: help works, and an unknown option is a usage error (64)
for verb in $("$RTC_BIN" --help | sed -n 's/^  \([a-z]*\) .*/\1/p'); do
	expect_status 0 "$RTC_BIN" help "$verb"
	contains "$T/out" "usage: rtc $verb"
	[ "$verb" = help ] || [ "$verb" = version ] && continue
	expect_status 64 "$RTC_BIN" "$verb" --no-such-option
	contains "$T/err" "usage: rtc $verb"
done
# rtc.conf: a broken file named by RTC_CONFIG is reported with exit 78
printf 'a = = 1\n' >"$T/bad.conf"
expect_status 78 env RTC_CONFIG="$T/bad.conf" "$RTC_BIN" version
contains "$T/err" "bad.conf"
expect_status 78 env RTC_CONFIG="$T/missing.conf" "$RTC_BIN" version
printf '[s3]\njobs = 4\n' >"$T/good.conf"
expect_status 0 env RTC_CONFIG="$T/good.conf" "$RTC_BIN" version
echo "PASS"
