#!/bin/sh
# rtc replay from BIDS and NIfTI sources, and the BIDS it writes:
#  - a dataset with two runs: without a selection it names them and
#    refuses; --sub/--task/--run pick one the BIDS way (run 2 = run-02);
#    the TR comes from a sidecar at the dataset's root (inheritance), not
#    from the image header;
#  - a single 4D NIfTI replays frame by frame;
#  - a remote accession without --sub/--task is refused with what to say;
#  - the --out dataset is sane: names, descriptions, sidecar, image
#    shape, tables (and bids-validator agrees when it is installed).
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
set -e

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
need_cmd "$PY"

"$RTC_BIN" -q synth -o "$T/syn" --volumes 8 --matrix 32x32x12 --tr 2 \
    || fail "synth failed"
"$RTC_BIN" -q convert "$T/syn" -o "$T/nii" --gz || fail "convert failed"
nii=$(ls "$T/nii"/*.nii.gz)
ds="$T/ds"
mkdir -p "$ds/sub-01/ses-a/func"
printf '{"Name":"replay test","BIDSVersion":"1.8.0"}\n' \
    >"$ds/dataset_description.json"
# the root sidecar says 0.8 s; the images' headers say 2 s
printf '{"RepetitionTime": 0.8, "TaskName": "rest"}\n' >"$ds/task-rest_bold.json"
cp "$nii" "$ds/sub-01/ses-a/func/sub-01_ses-a_task-rest_run-01_bold.nii.gz"
cp "$nii" "$ds/sub-01/ses-a/func/sub-01_ses-a_task-rest_run-02_bold.nii.gz"

expect_status 64 "$RTC_BIN" replay "$ds" --fast
contains "$T/err" "2 BOLD runs match"
expect_status 66 "$RTC_BIN" replay "$ds" --fast --run 3
contains "$T/err" "no BOLD run matches"
expect_status 0 "$RTC_BIN" replay "$ds" --sub 01 --ses a --task rest \
    --run 2 --fast --out "$T/bout" --files "$T/files" --json
contains "$T/err" "sub-01_ses-a_task-rest_run-02_bold.nii.gz"
"$PY" - "$T/bout" "$T/files" <<'PYEOF' || fail "BIDS output from a BIDS replay is wrong"
import gzip, json, os, struct, sys
out, files = sys.argv[1], sys.argv[2]
assert json.load(open(out + "/dataset_description.json"))["BIDSVersion"]
d = json.load(open(out + "/derivatives/rtc/dataset_description.json"))
assert d["DatasetType"] == "derivative"
base = out + "/sub-sample/func/sub-sample_task-rt_run-1_bold"
side = json.load(open(base + ".json"))
# the TR the replay used is the inherited one
assert side["RepetitionTime"] == 0.8, side
assert side["TaskName"] == "rt"
h = gzip.open(base + ".nii.gz").read(352)
assert struct.unpack("<i", h[0:4])[0] == 348 and h[344:348] == b"n+1\0"
assert struct.unpack("<8h", h[40:56])[:5] == (4, 32, 32, 12, 8)
assert abs(struct.unpack("<f", h[92:96])[0] - 0.8) < 1e-6
der = out + "/derivatives/rtc/sub-sample/func/sub-sample_task-rt_run-1_desc-"
conf = open(der + "confounds_timeseries.tsv").read().splitlines()
assert conf[0] == "trans_x\ttrans_y\ttrans_z\trot_x\trot_y\trot_z\tframewise_displacement"
assert len(conf) == 9
fb = open(der + "feedback_timeseries.tsv").read().splitlines()
assert fb[0].startswith("vol\tacquisition_time\tfeedback\t") and len(fb) == 9
lat = open(der + "latency_timeseries.tsv").read().splitlines()
assert lat[0].startswith("run\tvol\tlatency_ms\tintake_ms\tdecoded_ms")
assert len(lat) == 9
assert sorted(os.listdir(files)) == sorted("run1_TR%d.json" % v for v in range(1, 9))
PYEOF
if command -v bids-validator >/dev/null 2>&1; then
	bids-validator --json "$T/bout" >"$T/bv.json" 2>/dev/null || true
	"$PY" - "$T/bv.json" <<'PYEOF' || fail "bids-validator reports errors"
import json, sys
r = json.load(open(sys.argv[1]))
errs = r.get("issues", {}).get("errors", [])
assert not errs, [e.get("key") for e in errs]
PYEOF
	note "bids-validator: no errors"
else
	note "bids-validator not installed: structural checks only"
fi

# a single 4D NIfTI, frame by frame; a run that exists is not
# overwritten: the session goes on, its exit status says an output failed
expect_status 74 "$RTC_BIN" replay "$nii" --fast --volumes 5 --out "$T/bout"
contains "$T/err" "not overwriting a recorded run"
contains "$T/out" "1 run, 5 volumes"
# pacing: one of --tr and --fast
expect_status 64 "$RTC_BIN" replay "$nii" --tr 1 --fast
contains "$T/err" "not both"
# remote sources need a run selection (tests/integration/replay_openneuro.sh
# fetches one)
expect_status 64 "$RTC_BIN" replay ds000102 --fast
contains "$T/err" "--sub L and --task L"
expect_status 66 "$RTC_BIN" replay "$T/nosuch" --fast
echo "ok: BIDS selection and inheritance, NIfTI replay, BIDS output"
