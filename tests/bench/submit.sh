#!/bin/sh
# tests/bench/submit.sh: submitting 1,000 participants to Slurm.
#
# Makes a 1,000-participant BIDS layout with empty files, then measures in
# the same script, on the same cluster:
#   peer: a plain loop of one `sbatch job.sh LABEL` per participant, the
#         way the fMRIPrep docs' hand-written scripts do it;
#   rtc:  `rtc submit DATASET --backend slurm` (rtcd already running, as
#         after any earlier rtc command), checking that all 1,000 tasks are
#         in Slurm's queue when it returns;
# then `rtc status RUN --json` on that run, and `rtc cancel RUN`, checking
# that the queue holds none of the run's tasks afterwards. Everything is
# cancelled at the end. Medians over REPS repetitions; ratio = peer / rtc.
# Before each repetition the cluster's daemons are let go idle (the
# accounting of the previous one's cancelled jobs takes seconds).
#
# Needs the test cluster (tests/setup/slurm.sh start) and a build
# (RTC_BIN, default build/src/rtc). N and REPS override the sizes.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-1000}
REPS=${REPS:-3}
RTC=${RTC_BIN:-$top/build/src/rtc}
: "${SLURM_CONF:=${RTC_TEST_SLURM_DIR:-/var/lib/rtc-test-slurm}/slurm.conf}"
export SLURM_CONF
[ -x "$RTC" ] || { echo "bench: no rtc at $RTC (build first)" >&2; exit 1; }
scontrol ping 2>/dev/null | grep -q 'is UP' ||
    { echo "bench: no Slurm answers (tests/setup/slurm.sh start)" >&2; exit 77; }

T=$(mktemp -d /tmp/rtc-bench-XXXXXX)
chmod 755 "$T"
RTC_STATE_DIR=$T/state
RTC_CONFIG=$T/rtc.conf
export RTC_STATE_DIR RTC_CONFIG
printf '[batch.slurm]\npoll_interval = 5\n' >"$RTC_CONFIG"
APP=$top/tests/apps/rtc-test-app

cleanup() {
	scancel --name=rtc-bench-loop >/dev/null 2>&1 || true
	for r in $(seq 1 "$REPS"); do "$RTC" cancel "r$r" >/dev/null 2>&1 || true; done
	p=$(cat "$RTC_STATE_DIR/rtcd.pid" 2>/dev/null || true)
	[ -z "$p" ] || kill "$p" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

now_ms() { date +%s%N | cut -c1-13; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# ---- a 1,000-participant dataset (empty files) ----
DS=$T/ds
mkdir -p "$DS"
printf '{"Name": "bench", "BIDSVersion": "1.8.0"}\n' >"$DS/dataset_description.json"
printf '{"RepetitionTime": 2.0, "TaskName": "rest"}\n' >"$DS/task-rest_bold.json"
echo participant_id >"$DS/participants.tsv"
i=1
while [ $i -le "$N" ]; do
	l=$(printf '%04d' $i)
	mkdir -p "$DS/sub-$l/anat" "$DS/sub-$l/func"
	: >"$DS/sub-$l/anat/sub-${l}_T1w.nii.gz"
	: >"$DS/sub-$l/func/sub-${l}_task-rest_bold.nii.gz"
	: >"$DS/sub-$l/func/sub-${l}_task-rest_events.tsv"
	echo "sub-$l" >>"$DS/participants.tsv"
	i=$((i + 1))
done
echo "bench: $N participants in $DS"

# Wait until the cluster's daemons are idle again: after 1,000 jobs are
# cancelled slurmctld, slurmdbd and MariaDB spend seconds recording them,
# and a measurement taken meanwhile would pay for the previous one's
# aftermath. Idle: under 30 ms of their CPU time in a 0.5 s window.
daemons_cpu() {
	for p in $(pgrep -x 'slurmctld|slurmdbd|mariadbd|mysqld|slurmd'); do
		awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null
	done | awk '{ s += $1 } END { print s + 0 }'
}
settle() {
	n=120
	while [ $n -gt 0 ]; do
		a=$(daemons_cpu)
		sleep 0.5
		b=$(daemons_cpu)
		[ $((b - a)) -lt 3 ] && return 0
		n=$((n - 1))
	done
	echo "bench: the cluster's daemons did not go idle within 60 s" >&2
}

queued_by_name() { squeue -h -r -n "$1" -o %i 2>/dev/null | wc -l; }
wait_empty_name() {
	n=100
	while [ $n -gt 0 ] && [ "$(squeue -h -n "$1" -t PD,R,CG -o %i | wc -l)" -gt 0 ]; do
		sleep 0.2; n=$((n - 1))
	done
}

settle

# ---- peer: one sbatch per participant ----
cat >"$T/loop-job.sh" <<JOB
#!/bin/sh
exec "$APP" "$DS" "$T/loop-out" participant --participant-label "\$1" --sleep 300
JOB
chmod 755 "$T/loop-job.sh"
: >"$T/loop.ms"
for r in $(seq 1 "$REPS"); do
	t0=$(now_ms)
	i=1
	while [ $i -le "$N" ]; do
		sbatch --parsable --job-name=rtc-bench-loop --cpus-per-task=1 \
		    --mem=100M --time=10 --output=/dev/null "$T/loop-job.sh" \
		    "$(printf '%04d' $i)" >/dev/null
		i=$((i + 1))
	done
	t1=$(now_ms)
	q=$(queued_by_name rtc-bench-loop)
	echo "bench: peer rep $r: $N sbatch calls in $((t1 - t0)) ms ($q queued)"
	echo $((t1 - t0)) >>"$T/loop.ms"
	scancel --name=rtc-bench-loop
	wait_empty_name rtc-bench-loop
	settle
done

# ---- rtc ----
t0=$(now_ms)
"$RTC" status >/dev/null      # starts rtcd, as any first rtc command does
t1=$(now_ms)
echo "bench: rtcd started by the first rtc command in $((t1 - t0)) ms"
: >"$T/submit.ms"
: >"$T/status.ms"
: >"$T/cancel.ms"
for r in $(seq 1 "$REPS"); do
	t0=$(now_ms)
	"$RTC" submit "$DS" --app "$APP" --runtime none --backend slurm \
	    --mem 100 --time 10 -o "$T/out$r" --scratch "$T/scratch" \
	    -- --sleep 300 >"$T/submit.out"
	t1=$(now_ms)
	run=r$r
	grep -q "run $run: $N jobs on slurm" "$T/submit.out" ||
	    { cat "$T/submit.out"; echo "bench: submit failed" >&2; exit 1; }
	"$RTC" status "$run" --json >"$T/st.json"
	ids=$(/usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(",".join(sorted(set(x["backend_id"].split("_")[0] for x in j["runs"][0]["jobs"]))))' "$T/st.json")
	q=$(squeue -h -r -j "$ids" -o %i | wc -l)
	echo "bench: rtc rep $r: submit returned in $((t1 - t0)) ms; Slurm holds $q of $N tasks (arrays $ids)"
	[ "$q" -eq "$N" ] || { echo "bench: not every task is queued" >&2; exit 1; }
	echo $((t1 - t0)) >>"$T/submit.ms"
	for k in 1 2 3 4 5; do
		s0=$(now_ms)
		"$RTC" status "$run" --json >/dev/null
		s1=$(now_ms)
		echo $((s1 - s0)) >>"$T/status.ms"
	done
	c0=$(now_ms)
	"$RTC" cancel "$run" >/dev/null
	c1=$(now_ms)
	echo $((c1 - c0)) >>"$T/cancel.ms"
	left=$(squeue -h -r -j "$ids" -t PD,R -o %i | wc -l)
	echo "bench: rtc rep $r: rtc cancel returned in $((c1 - c0)) ms; $left tasks pending or running after it"
	[ "$left" -eq 0 ] || { echo "bench: the queue did not empty" >&2; exit 1; }
	settle
done

loop=$(median <"$T/loop.ms")
sub=$(median <"$T/submit.ms")
st=$(median <"$T/status.ms")
ca=$(median <"$T/cancel.ms")
echo "bench: median of $REPS: sbatch loop $loop ms, rtc submit $sub ms, ratio $(echo "$loop $sub" | awk '{printf "%.1f", $1 / $2}')x"
echo "bench: rtc status RUN --json ($N jobs): median $st ms of $((REPS * 5))"
echo "bench: rtc cancel: median $ca ms; queue empty after each"
