#!/bin/sh
# man/rtc.1 documents every verb rtc has, with the same usage line that
# `rtc help VERB` prints, and nothing rtc does not have.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e

man1="$RTC_TOP_SRCDIR/man/rtc.1"
[ -f "$man1" ] || fail "no man/rtc.1"

verbs=$("$RTC_BIN" --help | sed -n 's/^  \([a-z]*\) .*/\1/p')
[ -n "$verbs" ] || fail "rtc --help lists no verbs"
for verb in $verbs; do
	usage=$("$RTC_BIN" help "$verb" | sed -n '1s/^usage: rtc //p')
	# the man page's synopsis for the verb: .It Nm VERB ... in roff: we
	# keep a plain line "rtc VERB USAGE" in a .nf block per verb
	grep -qxF "rtc $usage" "$man1" || fail "man/rtc.1 lacks 'rtc $usage'"
done
# every documented verb exists
for verb in $(sed -n 's/^\.SS \([a-z]*\)$/\1/p' "$man1"); do
	echo "$verbs" | grep -qx "$verb" || fail "man/rtc.1 documents '$verb' which rtc lacks"
done
# the page renders without warnings
if command -v groff >/dev/null 2>&1; then
	groff -man -Tutf8 -ww -z "$man1" 2>"$T/groff.err" || fail "groff failed"
	[ ! -s "$T/groff.err" ] || { cat "$T/groff.err"; fail "groff warnings"; }
fi
echo "PASS"
