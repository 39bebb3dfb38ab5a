# apptainer (or singularity) run line (see job.sh): a clean environment,
# the dataset read-only at /bids, the job's output at /out, the work
# directory at /work.
	exec @APPTAINER@ run --containall --cleanenv --pwd /work \
	    --bind "$RTC_BIDS:/bids:ro" --bind "$RTC_STAGE:/out" \
	    --bind "$RTC_WORK:/work" \
	    --env OMP_NUM_THREADS="$RTC_CPUS" --env TMPDIR=/work \
	    @ENV_ARGS@ @BIND_ARGS@ @RUNTIME_ARGS@ \
	    @IMAGE@ /bids /out participant --participant-label @LABEL@ \
	    @SESSION_ARGS@ @APP_ARGS@
