/*
 * plan: from a BIDS dataset and the user's filters to the list of jobs a
 * run will hold: one per participant (or per participant and session),
 * with the files each job reads, their bytes and the resources asked for.
 * Participants that cannot run (no directory, missing required files) are
 * kept in the plan as skipped, with the reason, so they are reported.
 */
#ifndef RTC_PLAN_H
#define RTC_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "bids_layout.h"

#define RTC_PLAN_REASON_MAX 256

struct rtc_plan_opts {
	const char *const *labels;     /* participant filter (NULL: all) */
	size_t nlabels;
	const char *const *required;   /* required_files globs */
	size_t nrequired;
	int per_session;               /* one job per session */
	int cpus;
	long mem_mb;
	long time_min;
};

struct rtc_plan_job {
	char participant[RTC_BIDS_MAX_LABEL];
	char session[RTC_BIDS_MAX_LABEL];      /* "" for a whole participant */
	const struct rtc_bids_file **inputs;   /* into the plan's layout */
	size_t ninputs;
	long long bytes;
};

struct rtc_plan_skip {
	char participant[RTC_BIDS_MAX_LABEL];
	char session[RTC_BIDS_MAX_LABEL];
	char reason[RTC_PLAN_REASON_MAX];
};

struct rtc_plan {
	struct rtc_bids_layout *layout;        /* owned */
	struct rtc_plan_job *jobs;
	size_t njobs;
	struct rtc_plan_skip *skipped;
	size_t nskipped;
	int cpus;
	long mem_mb;
	long time_min;
	long long bytes;                       /* all jobs' inputs */
};

/*
 * The seam between a DATASET argument and a local directory. A local path
 * is made absolute and must be a BIDS dataset; remote sources (s3://...,
 * dsNNNNNN[:TAG]) are refused for now with RTC_ERR_UNSUPPORTED and advice.
 * OUT: *dir (malloc'd). RET: RTC_OK, RTC_ERR_UNSUPPORTED, RTC_ERR_NOT_FOUND.
 */
int rtc_plan_dataset_local(const char *dataset, char **dir, char **cause);

/*
 * Make the plan. IN: layout (ownership passes to the plan, also on
 * failure), o. OUT: *out (free with rtc_plan_free). RET: RTC_OK;
 * RTC_ERR_NOT_FOUND when a --participant-label names nobody in the
 * dataset; RTC_ERR_INVAL for a bad label or glob.
 */
int rtc_plan_make(struct rtc_bids_layout *layout,
    const struct rtc_plan_opts *o, struct rtc_plan **out, char **cause);

void rtc_plan_free(struct rtc_plan *p);

/* RET: the plan as JSON (new reference): dataset, jobs with inputs
 * (when with_inputs) and bytes, skipped with reasons, resources. */
json_t *rtc_plan_to_json(const struct rtc_plan *p, int with_inputs);

/* Print the plan for people: a line per job and its inputs, the skipped
 * participants and the estimated resources. */
void rtc_plan_print(const struct rtc_plan *p, FILE *fp);

#endif
