#!/bin/sh
# tests/bench/fetch.sh [BUILDDIR]: rtc fetch against its peers on one
# s3rver, side by side:
#
#   A. a BIDS dataset of about 2,500 small files (ds001's layout, its
#      subjects replicated to sub-001..sub-312, data files 8-64 KiB of
#      random bytes, the real events.tsv and sidecars)
#   B. 4 files of 64 MiB
#
# Each tool runs RUNS times (default 3) into a fresh directory, in
# rotating order: rtc fetch, rclone copy --fast-list --transfers 16, aws
# s3 sync (Debian's awscli, default settings). Every result is compared
# byte for byte with the source. Reported: median wall times, rtc's ratio
# to the faster peer, rtc's peak RSS (/usr/bin/time -v), and the server's
# own ceiling: the same GETs issued by curl --parallel (16 connections,
# keep-alive, bodies thrown away), so no tool can beat it.
#
# Not run by make check. Needs tests/setup/s3.sh install.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
RTC_BIN=${RTC_BIN:-$build/src/rtc}
RTC_TOP_SRCDIR=$top
RTC_TOP_BUILDDIR=$build
RTC_TEST_DATA=${RTC_TEST_DATA:-$top/../shared/data}
export RTC_BIN RTC_TOP_SRCDIR RTC_TOP_BUILDDIR RTC_TEST_DATA
. "$top/tests/integration/lib.sh"
. "$top/tests/integration/s3_common.sh"
RUNS=${RUNS:-3}
need_data
need_aws
need_cmd rclone
need_cmd curl
[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (apt-get install time)"
[ -x "$RTC_BIN" ] || fail "no rtc at $RTC_BIN"

s3rver_start
export AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET

# ---- the data ----
src=$T/src
small=$src/small
big=$src/big
mkdir -p "$small" "$big"
DS="$RTC_TEST_DATA/bids/ds001"
for f in "$DS"/*; do
	[ -f "$f" ] && cp "$f" "$small/"
done
chmod -R u+w "$small"
/usr/bin/python3 - "$DS" "$small" <<'PY'
import os, random, shutil, sys
ds, out = sys.argv[1], sys.argv[2]
rng = random.Random(42)
subs = sorted(d for d in os.listdir(ds) if d.startswith("sub-"))
for i in range(1, 313):
    proto = subs[(i - 1) % len(subs)]
    new = "sub-%03d" % i
    for root, _, files in os.walk(os.path.join(ds, proto)):
        rel = os.path.relpath(root, os.path.join(ds, proto))
        dst = os.path.join(out, new, rel)
        os.makedirs(dst, exist_ok=True)
        for f in files:
            name = f.replace(proto, new)
            src = os.path.join(root, f)
            if os.path.getsize(src) == 0:
                with open(os.path.join(dst, name), "wb") as fh:
                    fh.write(rng.randbytes(rng.randint(8192, 65536)))
            else:
                shutil.copyfile(src, os.path.join(dst, name))
PY
i=0
while [ $i -lt 4 ]; do
	head -c 67108864 /dev/urandom >"$big/part-$i.bin"
	i=$((i + 1))
done
nsmall=$(find "$small" -type f | wc -l)
bsmall=$(du -sb "$small" | cut -f1)
note "A: $nsmall files, $bsmall bytes; B: 4 x 64 MiB"
note "seeding s3rver at $S3_URL"
seed "$small" s3://bench/small/
seed "$big" s3://bench/big/

# ---- the tools ----
run_rtc() {
	/usr/bin/time -v -o "$T/time.$1" "$RTC_BIN" -q fetch \
	    "s3://bench/$1" -o "$2" >/dev/null 2>"$T/rtc.err" ||
	    { cat "$T/rtc.err"; fail "rtc failed"; }
}
run_rclone() {
	env -u AWS_CA_BUNDLE RCLONE_CONFIG_B_TYPE=s3 RCLONE_CONFIG_B_PROVIDER=Other \
	    RCLONE_CONFIG_B_ACCESS_KEY_ID=$S3_KEY \
	    RCLONE_CONFIG_B_SECRET_ACCESS_KEY=$S3_SECRET \
	    RCLONE_CONFIG_B_ENDPOINT="$S3_URL" RCLONE_CONFIG_B_REGION=us-east-1 \
	    rclone copy --fast-list --transfers 16 "B:bench/$1" "$2" \
	    >/dev/null 2>"$T/rclone.err" || { cat "$T/rclone.err"; fail "rclone failed"; }
}
run_aws() {
	aws_s3 s3 sync --only-show-errors "s3://bench/$1" "$2" >/dev/null \
	    2>"$T/aws.err" || { cat "$T/aws.err"; fail "aws failed"; }
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ceiling: every GET of the set by curl, 16 at a time, keep-alive
ceiling() {
	: >"$T/curl.cfg"
	(cd "$src/$1" && find . -type f | sed 's|^\./||') | while read -r k; do
		printf 'url = "%s/bench/%s/%s"\noutput = "/dev/null"\n' "$S3_URL" \
		    "$1" "$(printf %s "$k" | sed 's/ /%20/g')" >>"$T/curl.cfg"
	done
	t0=$(now_ms)
	curl -s -f --no-progress-meter --parallel --parallel-max 16 -K "$T/curl.cfg" ||
	    fail "curl ceiling run failed"
	echo $(( $(now_ms) - t0 ))
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

bench_set() {
	set_name=$1
	: >"$T/t.rtc"; : >"$T/t.rclone"; : >"$T/t.aws"; : >"$T/t.ceil"; : >"$T/rss"
	r=0
	while [ $r -lt "$RUNS" ]; do
		r=$((r + 1))
		case $((r % 3)) in
		1) order="rtc rclone aws" ;;
		2) order="rclone aws rtc" ;;
		*) order="aws rtc rclone" ;;
		esac
		for tool in $order; do
			d="$T/dst.$tool"
			rm -rf "$d"
			sync
			t0=$(now_ms)
			"run_$tool" "$set_name" "$d"
			echo $(( $(now_ms) - t0 )) >>"$T/t.$tool"
			diff -r -x .rtc "$src/$set_name" "$d" >/dev/null ||
			    fail "$tool: $set_name not byte-exact"
			if [ "$tool" = rtc ]; then
				sed -n 's/.*Maximum resident set size (kbytes): //p' \
				    "$T/time.$set_name" >>"$T/rss"
			fi
		done
		ceiling "$set_name" >>"$T/t.ceil"
	done
	m_rtc=$(median <"$T/t.rtc")
	m_rclone=$(median <"$T/t.rclone")
	m_aws=$(median <"$T/t.aws")
	m_ceil=$(median <"$T/t.ceil")
	rss=$(sort -n "$T/rss" | tail -n 1)
	best=$m_rclone
	[ "$m_aws" -lt "$best" ] && best=$m_aws
	echo "$set_name: rtc ${m_rtc} ms, rclone ${m_rclone} ms, aws ${m_aws} ms," \
	    "curl ceiling ${m_ceil} ms (medians of $RUNS)"
	for tool in rtc rclone aws ceil; do
		echo "$set_name:   $tool runs (ms): $(tr '\n' ' ' <"$T/t.$tool")"
	done
	awk -v a="$m_rtc" -v b="$best" -v c="$m_ceil" -v r="$rss" 'BEGIN {
		printf "%s:   rtc / faster peer = %.2f (below 1: rtc faster); " \
		    "rtc reaches %.0f%% of the ceiling; rtc peak RSS %.1f MiB\n",
		    "'"$set_name"'", a / b, 100 * c / a, r / 1024 }'
	[ "$m_rtc" -le "$best" ] || echo "$set_name: NOTE: rtc slower than a peer"
	[ "$rss" -le 65536 ] || echo "$set_name: NOTE: rtc peak RSS over 64 MiB"
}

echo "fetch benchmark: $(nproc) CPUs, s3rver $(cat /opt/rtc-s3rver/node_modules/s3rver/package.json 2>/dev/null | sed -n 's/.*"version": *"\([^"]*\)".*/\1/p'), $(rclone version | head -n 1), $("$AWS_BIN" --version 2>&1 | cut -d' ' -f1)"
bench_set small
bench_set big
