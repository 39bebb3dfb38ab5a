# docker run line (see job.sh): the dataset read-only at /bids, the job's
# output at /out, the work directory at /work.
	exec docker run --rm --cpus="$RTC_CPUS" --memory="${RTC_MEM_MB}m" \
	    --volume="$RTC_BIDS:/bids:ro" --volume="$RTC_STAGE:/out" \
	    --volume="$RTC_WORK:/work" --workdir=/work \
	    --env=OMP_NUM_THREADS="$RTC_CPUS" --env=TMPDIR=/work \
	    @ENV_ARGS@ @BIND_ARGS@ @RUNTIME_ARGS@ \
	    @IMAGE@ /bids /out participant --participant-label @LABEL@ \
	    @SESSION_ARGS@ @APP_ARGS@
