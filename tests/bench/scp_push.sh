#!/bin/sh
# Push time of the real 11-file Siemens series with DCMTK's storescu into
# the in-process receiver (lib/scp via tests/live/scp_recv), with Nagle on
# and off on storescu's side (DCMTK reads the TCP_NODELAY environment
# variable), and the same into DCMTK's own storescp (--ignore: receive,
# store nothing) as the peer, in the same conditions.
#
# usage: tests/bench/scp_push.sh [BUILD_DIR] [REPEATS]
# Prints medians in ms. storescp cannot bind to loopback only, so the peer
# runs in a private network namespace (unshare --net; needs root).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
reps=${2:-7}
data=${RTC_TEST_DATA:-$top/../shared/data}
src=$data/dicom/siemens-e11-mosaic-rt
recv=$build/tests/live/scp_recv
[ -x "$recv" ] || { echo "build $recv first (make check)" >&2; exit 1; }
[ -d "$src" ] || { echo "no test data at $src" >&2; exit 1; }
command -v storescu >/dev/null || { echo "storescu missing (apt-get install dcmtk)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/rtc-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

now_ms() { date +%s%N | awk '{printf "%.3f", $1 / 1e6}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# push_rtc NODELAY_SCU RECV_ARGS...: one timed push into scp_recv (ms)
push_rtc() {
	nd=$1; shift
	rm -f "$tmp/out"
	"$recv" --bind 127.0.0.1 --count 11 --no-digest --timeout 60 "$@" >"$tmp/out" 2>&1 &
	pid=$!
	while ! grep -q '^port ' "$tmp/out" 2>/dev/null; do sleep 0.02; done
	port=$(sed -n 's/^port //p' "$tmp/out")
	t0=$(now_ms)
	TCP_NODELAY=$nd storescu -aec RTC 127.0.0.1 "$port" "$src"/*.dcm
	t1=$(now_ms)
	wait "$pid"
	grep -q 'objects=11 ' "$tmp/out" || { cat "$tmp/out" >&2; exit 1; }
	echo "$t0 $t1" | awk '{printf "%.1f\n", $2 - $1}'
}

row() {
	label=$1; shift
	: >"$tmp/times"
	i=0
	while [ $i -lt "$reps" ]; do
		"$@" >>"$tmp/times"
		i=$((i + 1))
	done
	printf "%-52s median %7.1f ms  (%s)\n" "$label" "$(median <"$tmp/times")" \
	    "$(tr '\n' ' ' <"$tmp/times")"
}

echo "scp push: 11 files of $(du -sh "$src" | cut -f1), $reps pushes each"
row "rtc scp, storescu Nagle on" push_rtc 0
row "rtc scp, storescu TCP_NODELAY=1" push_rtc 1
row "rtc scp without QUICKACK, storescu Nagle on" push_rtc 0 --no-quickack
row "rtc scp without QUICKACK, storescu TCP_NODELAY=1" push_rtc 1 --no-quickack
row "rtc scp without NODELAY/QUICKACK, storescu Nagle on" push_rtc 0 \
    --no-nodelay --no-quickack

if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && command -v storescp >/dev/null; then
	cat >"$tmp/peer.sh" <<EOF
set -e
ip link set lo up
mkdir -p "$tmp/store"
for nd in 0 1; do
	: >"$tmp/peer\$nd"
	i=0
	while [ \$i -lt $reps ]; do
		TCP_NODELAY=\$nd storescp --ignore -od "$tmp/store" 11113 &
		p=\$!
		sleep 0.3
		t0=\$(date +%s%N)
		TCP_NODELAY=\$nd storescu -aec ANY 127.0.0.1 11113 "$src"/*.dcm
		t1=\$(date +%s%N)
		kill \$p; wait \$p 2>/dev/null || true
		echo "\$t0 \$t1" | awk '{printf "%.1f\n", (\$2 - \$1) / 1e6}' >>"$tmp/peer\$nd"
		i=\$((i + 1))
	done
done
EOF
	unshare --net sh "$tmp/peer.sh"
	printf "%-52s median %7.1f ms  (%s)\n" "peer: storescp, both sides Nagle on" \
	    "$(median <"$tmp/peer0")" "$(tr '\n' ' ' <"$tmp/peer0")"
	printf "%-52s median %7.1f ms  (%s)\n" "peer: storescp, both sides TCP_NODELAY=1" \
	    "$(median <"$tmp/peer1")" "$(tr '\n' ' ' <"$tmp/peer1")"
else
	echo "peer (storescp in a network namespace) skipped: needs root, unshare, storescp"
fi
