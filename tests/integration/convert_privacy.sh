#!/bin/sh
# Patient identifiers never reach outputs or logs. The identifiers are
# read from the data here (dcmdump), not written into this test; every
# series is converted with all debug output on, and outputs, stdout and
# stderr are searched for each of them.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e
need_data
need_cmd dcmdump
D="$RTC_TEST_DATA/dicom"

: >"$T/ids"
for f in "$D"/siemens-e11-mosaic-rt/001_000013_000001.dcm \
    "$D"/siemens-vd13-mosaic/IM-0001-0001.dcm \
    "$D"/siemens-xa30-enhanced/0001_*.dcm \
    "$D"/ge-mr750-slices/s1925/i2862280.MRDC.1; do
	# PatientName, PatientID, PatientBirthDate, OtherPatientIDs,
	# PatientAddress, PatientTelephoneNumbers
	dcmdump +P 0010,0010 +P 0010,0020 +P 0010,0030 +P 0010,1000 \
	    +P 0010,1040 +P 0010,2154 "$f" |
	    sed -n 's/^[^[]*\[\([^]]*\)\].*/\1/p' >>"$T/ids"
done
sort -u "$T/ids" | grep -v '^$' >"$T/ids.u"
[ "$(wc -l <"$T/ids.u")" -ge 6 ] || { cat "$T/ids.u"; fail "too few identifiers found"; }
# the search works: the inputs do hold them
grep -a -q -F -f "$T/ids.u" "$D/siemens-e11-mosaic-rt/001_000013_000001.dcm" ||
    fail "identifiers not found in the input itself"

for s in siemens-e11-mosaic-rt siemens-vd13-mosaic siemens-xa30-enhanced \
    ge-mr750-slices; do
	"$RTC_BIN" -v --debug all convert "$D/$s" -o "$T/out" --gz \
	    >>"$T/log" 2>&1 || fail "convert $s"
	"$RTC_BIN" -v --debug all convert "$D/$s" -o "$T/out-nii" \
	    >>"$T/log" 2>&1 || fail "convert $s"
done
"$RTC_BIN" --debug all convert "$D/truncated" -o "$T/out-t" >>"$T/log" 2>&1 || true
"$RTC_BIN" --debug all bench convert "$D/siemens-e11-mosaic-rt" --repeat 1 \
    >>"$T/log" 2>&1 || fail "bench"
for f in "$T"/out-nii/* "$T/log"; do
	if grep -a -n -F -f "$T/ids.u" "$f" >"$T/hit"; then
		cat "$T/hit" >&2
		fail "a patient identifier in $f"
	fi
done
# the gzipped images too
for f in "$T"/out/*; do
	case "$f" in
	*.gz) gzip -dc "$f" >"$T/plain" ;;
	*) cp "$f" "$T/plain" ;;
	esac
	if grep -a -q -F -f "$T/ids.u" "$T/plain"; then
		fail "a patient identifier in $f"
	fi
done
# synth writes none either: the patient module is empty
"$RTC_BIN" synth -o "$T/syn" --volumes 1 >/dev/null
dcmdump +P 0010,0010 +P 0010,0020 "$T/syn/001_000001_000001.dcm" >"$T/p"
contains "$T/p" "(no value available)"
lacks "$T/p" "["
echo "PASS"
