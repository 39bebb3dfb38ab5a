#!/bin/sh
# A fetch killed at a random moment (SIGKILL, and once SIGINT) and run
# again finishes with every file verified, continues partial files where
# they stopped, and never downloads a complete file a second time: files
# that were in place before the re-run keep their inode and mtime, and
# the re-run's "verified" lines name only files that were not.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/s3_common.sh"
set -e
need_data
s3rver_start
make_dataset "$RTC_TEST_DATA/bids/ds001" "$T/src"
mkdir -p "$T/src/derivatives/big"
i=0
while [ $i -lt 16 ]; do
	head -c $((3 * 1048576 + i * 4099)) /dev/urandom >"$T/src/derivatives/big/f$i.bin"
	i=$((i + 1))
done
seed "$T/src" s3://openneuro.org/ds000001/
export AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET
total=$(cd "$T/src" && find . -type f | wc -l)

snapshot() {
	(cd "$T/dst" && find . -type f ! -path './.rtc/*' -print0 |
	    xargs -0 -r stat -c '%n|%i|%y' | sort) >"$1"
}

# how long a whole fetch takes here, to kill within it
t0=$(date +%s%N)
expect_status 0 "$RTC_BIN" -q fetch s3://openneuro.org/ds000001 -o "$T/cal" -j 4
dur=$(( ($(date +%s%N) - t0) / 1000000 ))
rm -rf "$T/cal"
note "a whole fetch takes $dur ms"

round=0
for sig in KILL KILL KILL INT KILL KILL; do
	round=$((round + 1))
	rm -rf "$T/dst"
	# a random moment within the fetch
	ms=$(awk -v s="$$$round$(date +%N)" -v d="$dur" \
	    'BEGIN { srand(s); print int(10 + rand() * d * 0.9) }')
	"$RTC_BIN" -q fetch s3://openneuro.org/ds000001 -o "$T/dst" -j 4 \
	    >"$T/run1.out" 2>&1 &
	pid=$!
	sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
	kill -s "$sig" "$pid" 2>/dev/null || true
	wait "$pid" || true
	[ -d "$T/dst" ] || mkdir -p "$T/dst"
	snapshot "$T/before"
	before=$(wc -l <"$T/before")
	parts=$(ls "$T/dst/.rtc/partial" 2>/dev/null | wc -l)
	note "round $round: SIG$sig after ${ms} ms: $before files in place, $parts partial"

	expect_status 0 "$RTC_BIN" --debug s3 fetch s3://openneuro.org/ds000001 \
	    -o "$T/dst" -j 4
	same_tree "$T/src" "$T/dst"
	# in place before: untouched
	snapshot "$T/after"
	join -t'|' "$T/before" "$T/after" >"$T/joined" || true
	[ "$(wc -l <"$T/joined")" -eq "$before" ] || fail "a file vanished"
	awk -F'|' '$2 != $4 || $3 != $5 { print; bad = 1 } END { exit bad }' \
	    "$T/joined" || fail "a complete file was written again"
	# and not fetched: the verified lines name only the others
	grep ' bytes verified' "$T/err" | sed 's/^.*: \([^:]*\): [0-9]* bytes verified.*$/.\/\1/' |
	    sort >"$T/fetched"
	cut -d'|' -f1 "$T/before" | sort >"$T/had"
	[ -z "$(comm -12 "$T/had" "$T/fetched")" ] ||
	    fail "fetched again: $(comm -12 "$T/had" "$T/fetched" | head -n 3)"
	n=$(wc -l <"$T/fetched")
	resumed=$(grep -c 'from an earlier run' "$T/err" || true)
	note "round $round: re-run fetched $n, resumed $resumed partial(s)"
	[ $((n + before)) -ge "$total" ] || fail "only $n fetched of $((total - before)) missing"
	[ -z "$(ls "$T/dst/.rtc/partial")" ] || fail "partials left"
done
echo "PASS"
