#!/bin/sh
# Benchmark: converting one mosaic volume in process (rtc) vs one dcm2niix
# process per volume (what RT-Cloud and similar tools do on every TR).
#
#   tests/bench/convert.sh [DICOM_DIR] [ROUNDS]
#
# DICOM_DIR defaults to ../shared/data/dicom/siemens-e11-mosaic-rt (64x64x27
# mosaics). rtc's figures come from `rtc bench convert --json`; dcm2niix is
# timed here, one process per volume file (each file alone in a folder, so
# dcm2niix converts exactly one volume), ROUNDS rounds (default 5).
# Prints both medians and their ratio. Not run by make check.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
rtc=${RTC_BIN:-$top/build/src/rtc}
dir=${1:-${RTC_TEST_DATA:-$top/../shared/data}/dicom/siemens-e11-mosaic-rt}
rounds=${2:-5}
[ -x "$rtc" ] || { echo "build rtc first (expected $rtc)" >&2; exit 1; }
[ -d "$dir" ] || { echo "no DICOM directory $dir" >&2; exit 1; }
command -v dcm2niix >/dev/null || { echo "dcm2niix is not installed" >&2; exit 1; }

T=$(mktemp -d /tmp/rtc-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT

echo "== rtc bench convert $dir"
"$rtc" bench convert "$dir" --json >"$T/rtc.json"
"$rtc" bench convert "$dir"

echo "== dcm2niix, one process per volume, $rounds rounds"
n=0
for f in "$dir"/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	mkdir -p "$T/in/$n"
	ln -s "$f" "$T/in/$n/"
done
: >"$T/d2n.ms"
r=0
while [ "$r" -lt "$rounds" ]; do
	i=1
	while [ "$i" -le "$n" ]; do
		rm -rf "$T/out"
		mkdir "$T/out"
		t0=$(date +%s%N)
		dcm2niix -b y -z n -o "$T/out" "$T/in/$i" >/dev/null 2>&1
		t1=$(date +%s%N)
		echo "$(( (t1 - t0) / 1000 ))" >>"$T/d2n.ms"
		i=$((i + 1))
	done
	r=$((r + 1))
done
median() { sort -n "$1" | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
d2n_us=$(median "$T/d2n.ms")
rtc_ms=$(sed -n 's/.*"decode_file_ms":{"p50":\([0-9.]*\).*/\1/p' "$T/rtc.json")
rtcw_ms=$(sed -n 's/.*"decode_write_ms":{"p50":\([0-9.]*\).*/\1/p' "$T/rtc.json")
samples=$(wc -l <"$T/d2n.ms")
awk -v d="$d2n_us" -v r="$rtc_ms" -v w="$rtcw_ms" -v n="$samples" 'BEGIN {
	printf "  dcm2niix per volume  p50 %8.3f ms  (n=%d)\n", d / 1000, n
	printf "\nmedian per volume: rtc decode+unmosaic %.3f ms, rtc decode+NIfTI write %.3f ms, dcm2niix process %.3f ms\n", r, w, d / 1000
	printf "ratio: dcm2niix / rtc decode = %.0fx, dcm2niix / rtc decode+write = %.1fx\n", d / 1000 / r, d / 1000 / w
	printf "target (decode + unmosaic <= 2 ms): %s\n", (r <= 2.0) ? "met" : "MISSED"
}'
