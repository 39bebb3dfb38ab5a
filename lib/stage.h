/*
 * stage: turn a DATASET of `rtc submit` into a local BIDS directory. A
 * local path is used as it is; an OpenNeuro accession (dsNNNNNN[:TAG]) or
 * an S3 prefix (s3://bucket/prefix) is fetched through lib/fetch —
 * verified and resumable — into a stage directory, taking only the
 * selected participants' folders and the dataset's top-level files.
 */
#ifndef RTC_STAGE_H
#define RTC_STAGE_H

#include <stddef.h>

#include "ctx.h"

/* RET: nonzero when dataset names a remote source (and is not an existing
 * local directory). */
int rtc_stage_is_remote(const char *dataset);

struct rtc_stage_opts {
	const char *dataset;           /* dsNNNNNN[:TAG] or s3://bucket/prefix */
	const char *root;              /* stage root; NULL: rtc.conf
	                                * batch.stage, else
	                                * $XDG_CACHE_HOME/rtc/datasets, else
	                                * ~/.cache/rtc/datasets */
	const char *const *labels;     /* participants to take; none: all */
	size_t nlabels;
	int jobs;                      /* 0: fetch's default */
	int progress;                  /* progress on stderr */
};

struct rtc_stage_result {
	char *dir;    /* the local dataset directory */
	char *url;    /* where it came from, for SourceDatasets */
	char *doi;    /* the snapshot's DOI (OpenNeuro), or NULL */
	size_t files; /* files of the stage */
	size_t fetched; /* of them downloaded now */
};

/*
 * Fetch o->dataset into <root>/<name>: dsNNNNNN for OpenNeuro,
 * s3/<bucket>/<prefix> for S3. Without labels, everything but the
 * top-level sourcedata/ and derivatives/ folders is taken.
 * OUT: *res (free with rtc_stage_result_clear()) on success.
 * RET: RTC_OK; RTC_ERR_INVAL for a bad label or source; fetch's errors
 * otherwise, with *cause.
 */
int rtc_stage_dataset(struct rtc_ctx *ctx, const struct rtc_stage_opts *o,
    struct rtc_stage_result *res, char **cause);

void rtc_stage_result_clear(struct rtc_stage_result *res);

#endif
