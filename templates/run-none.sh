# host command run line (see job.sh): the app runs on the node itself, in
# the work directory, with TMPDIR pointing there.
	exec env OMP_NUM_THREADS="$RTC_CPUS" TMPDIR="$RTC_WORK" @ENV_ARGS@ \
	    @APP@ "$RTC_BIDS" "$RTC_STAGE" participant --participant-label @LABEL@ \
	    @SESSION_ARGS@ @APP_ARGS@
