#!/bin/sh
# DCMTK's storescu and echoscu against the in-process C-STORE receiver
# (lib/scp through tests/live/scp_recv): the real Siemens series arrives
# once per file with its SOP instance and pixels intact, JPEG-lossless
# copies arrive decompressed to the same pixels, C-ECHO is answered,
# unknown calling AE titles are refused, every socket has TCP_NODELAY.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e

need_data
need_cmd storescu
need_cmd echoscu
need_cmd dcmcjpeg
need_cmd dcmdump
RECV="$RTC_TOP_BUILDDIR/tests/live/scp_recv"
[ -x "$RECV" ] || fail "$RECV not built"
SRC="$RTC_TEST_DATA/dicom/siemens-e11-mosaic-rt"

recv_pid=
stop_recv() { [ -n "$recv_pid" ] && kill "$recv_pid" 2>/dev/null; true; }
at_exit stop_recv

# start_recv OUT ARGS...: start the receiver, wait for its port.
start_recv() {
	out=$1; shift
	"$RECV" --bind 127.0.0.1 --timeout 120 "$@" >"$out" 2>"$out.err" &
	recv_pid=$!
	i=0
	while ! grep -q '^port ' "$out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat "$out.err" >&2; fail "receiver did not start"; }
		kill -0 "$recv_pid" 2>/dev/null || { cat "$out.err" >&2; fail "receiver died"; }
		sleep 0.05
	done
	port=$(sed -n 's/^port //p' "$out")
}

wait_recv() {
	wait "$recv_pid" || { st=$?; cat "$1" "$1.err" >&2; fail "receiver exited $st"; }
	recv_pid=
}

# 1. the whole series, allow-list in force
start_recv "$T/r1" --count 11 --allow SCANNER
expect_status 0 storescu -aet SCANNER -aec RTC 127.0.0.1 "$port" "$SRC"/*.dcm
wait_recv "$T/r1"
n=$(grep -c '^object ' "$T/r1")
[ "$n" -eq 11 ] || { cat "$T/r1"; fail "received $n objects, expected 11"; }
for f in "$SRC"/*.dcm; do
	uid=$(dcmdump +P 0008,0018 "$f" | sed 's/.*\[\(.*\)\].*/\1/')
	acq=$(dcmdump +P 0020,0012 "$f" | sed 's/.*\[\(.*\)\].*/\1/')
	grep -q "^object $acq 13 $uid 294912 [0-9a-f]\{64\} " "$T/r1" ||
	    fail "$(basename "$f") (acquisition $acq) not received intact"
done
# the duplicate file (000000 = volume 10) arrives as a second copy
[ "$(grep -c '^object 10 ' "$T/r1")" -eq 2 ] || fail "duplicate not received twice"
# nothing else arrived twice
[ "$(grep '^object ' "$T/r1" | awk '{print $2}' | sort | uniq -d)" = 10 ] ||
    fail "an object arrived more than once"
contains "$T/r1" "associations=1 rejected=0"
contains "$T/r1" "objects=11 refused=0"
contains "$T/r1" "nodelay=1"

# 2. C-ECHO answered; an unknown calling AE title refused
start_recv "$T/r2" --allow SCANNER
expect_status 0 echoscu -aet SCANNER -aec RTC 127.0.0.1 "$port"
set +e
storescu -aet INTRUDER -aec RTC 127.0.0.1 "$port" "$SRC/001_000013_000001.dcm" >"$T/s2" 2>&1
st=$?
set -e
[ "$st" -ne 0 ] || fail "storescu from INTRUDER was not refused"
grep -qi "reject" "$T/s2" || { cat "$T/s2"; fail "storescu did not report a rejection"; }
kill "$recv_pid"
wait "$recv_pid" || true
recv_pid=
contains "$T/r2" "echoes=1"
contains "$T/r2" "rejected=1"
contains "$T/r2" "objects=0"

# 3. JPEG lossless (-xs): received compressed, handed out with the same pixels
mkdir "$T/jpg"
for i in 2 3 4; do
	dcmcjpeg "$SRC/001_000013_00000$i.dcm" "$T/jpg/v$i.dcm"
done
dcmdump "$T/jpg/v2.dcm" | grep -q "JPEGLossless" || fail "dcmcjpeg did not compress"
start_recv "$T/r3" --count 3
expect_status 0 storescu -xs -aec RTC 127.0.0.1 "$port" "$T/jpg"/v*.dcm
wait_recv "$T/r3"
start_recv "$T/r4" --count 3
expect_status 0 storescu -aec RTC 127.0.0.1 "$port" \
    "$SRC/001_000013_000002.dcm" "$SRC/001_000013_000003.dcm" "$SRC/001_000013_000004.dcm"
wait_recv "$T/r4"
# same pixel digests either way
a=$(grep '^object ' "$T/r3" | awk '{print $2, $4, $5, $6}' | sort)
b=$(grep '^object ' "$T/r4" | awk '{print $2, $4, $5, $6}' | sort)
[ "$a" = "$b" ] || { echo "$a"; echo "$b"; fail "JPEG-lossless pixels differ"; }

# 4. the C++ entry: datasets handed over as DcmDataset, no Part-10 copy
DS="$RTC_TOP_BUILDDIR/tests/live/scp_ds_recv"
rm -f "$T/r5"
"$DS" 11 60 >"$T/r5" 2>"$T/r5.err" &
recv_pid=$!
i=0
while ! grep -q '^port ' "$T/r5" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "dataset receiver did not start"
	sleep 0.05
done
port=$(sed -n 's/^port //p' "$T/r5")
expect_status 0 storescu -aec RTC 127.0.0.1 "$port" "$SRC"/*.dcm
wait_recv "$T/r5"
[ "$(grep -c '^dataset .* 294912 1\.2\.840\.10008\.1\.2\.1 [01] nodata$' "$T/r5")" -eq 11 ] ||
    { cat "$T/r5"; fail "dataset hook did not get 11 whole datasets"; }
contains "$T/r5" "objects=11 kept=5"

# 5. a sender that leaves Nagle on (DCMTK's default, TCP_NODELAY=0) is not
# held up: our quick ACKs keep the push near the TCP_NODELAY figure
# (without them: ~400-550 ms here; median of three pushes)
for i in 1 2 3; do
	start_recv "$T/r6" --count 11 --no-digest
	t0=$(date +%s%N)
	TCP_NODELAY=0 storescu -aec RTC 127.0.0.1 "$port" "$SRC"/*.dcm || fail "push $i failed"
	t1=$(date +%s%N)
	wait_recv "$T/r6"
	echo $(( (t1 - t0) / 1000000 ))
done >"$T/times"
med=$(sort -n "$T/times" | sed -n 2p)
note "push with Nagle on at the sender: $(tr '\n' ' ' <"$T/times")ms, median $med ms"
[ "$med" -lt 250 ] || fail "pushes from a Nagle sender took $med ms (median)"
echo "ok: series, echo, AE refusal, JPEG lossless, dataset hook, Nagle sender"
