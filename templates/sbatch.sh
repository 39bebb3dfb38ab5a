#!/bin/sh
# rtc sbatch script: one task of a Slurm job array of a BIDS App run.
# rtcd submits it with `sbatch --parsable --array=...` and the job's
# resources on the command line; task T runs the job script of job
# OFFSET + T, where OFFSET is this script's first argument (arrays are
# chunked to the cluster's MaxArraySize). The jobs directory below was
# quoted for the shell by rtcd.
set -u
: "${SLURM_ARRAY_TASK_ID:?rtc: this script runs as a Slurm array task}"
offset=${1:-0}
case $offset in ''|*[!0-9]*) echo "rtc: bad offset '$offset'" >&2; exit 64 ;; esac
exec /bin/sh @JOBS_DIR@/"$((offset + SLURM_ARRAY_TASK_ID))"/run.sh
