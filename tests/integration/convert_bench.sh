#!/bin/sh
# rtc bench convert runs and reports what it says (a smoke test: timing
# figures are for tests/bench/convert.sh, not for assertions here).
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e
need_data
D="$RTC_TEST_DATA/dicom"

expect_status 0 "$RTC_BIN" bench convert "$D/siemens-e11-mosaic-rt" \
    --repeat 2 --json
for k in '"files":11' '"kind":"mosaic"' '"shape":[64,64,27,1]' \
    '"rounds":2' '"decode_file_ms":{"p50":' '"decode_buffer_ms"' \
    '"decode_write_ms"' '"n":22' '"reallocs":0}'; do
	contains "$T/out" "$k"
done
expect_status 0 "$RTC_BIN" bench convert "$D/ge-mr750-slices" --repeat 1
contains "$T/out" "54 files (slice 64x64x1x1 int16)"
contains "$T/out" "decode file"
expect_status 65 "$RTC_BIN" bench convert "$D/truncated" --repeat 1
expect_status 66 "$RTC_BIN" bench convert "$T/none"
expect_status 64 "$RTC_BIN" bench convert
expect_status 64 "$RTC_BIN" bench convert "$D/truncated" --repeat 0
echo "PASS"
