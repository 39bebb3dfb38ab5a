/*
 * derivatives: the run's output as a BIDS derivatives dataset. It writes
 * dataset_description.json (DatasetType "derivative", GeneratedBy with the
 * app and its image digest, SourceDatasets), and collects each job's own
 * output directory into the run's output: a participant's files move in,
 * and a manifest (path, size, sha256 of every file merged) is written
 * under logs/<job>/manifest.tsv.
 */
#ifndef RTC_DERIVATIVES_H
#define RTC_DERIVATIVES_H

#include <stddef.h>

#define RTC_DERIV_MAX_FILES 1000000
#define RTC_DERIV_MAX_DEPTH 32

struct rtc_derivatives_info {
	const char *app;          /* image reference or host command path */
	const char *app_name;     /* short name ("fmriprep") */
	const char *app_version;  /* image tag, or NULL */
	const char *runtime;      /* podman, docker, apptainer, singularity, none */
	const char *digest;       /* "sha256:<hex>" of the image (or command
	                             file), or NULL when unknown */
	const char *source_dir;   /* absolute path of the input dataset */
	const char *source_url;   /* where it was fetched from, or NULL */
	const char *source_name;  /* its Name, or NULL */
	const char *source_doi;   /* its DatasetDOI, or NULL */
	const char *rtc_version;
	const char *run_id;
};

/*
 * Make out_dir a derivatives dataset. A dataset_description.json already
 * there is kept when it describes derivatives by the same app and digest.
 * RET: RTC_OK; RTC_ERR_EXISTS (with advice) when out_dir holds a raw BIDS
 * dataset or another app's (or another image's) derivatives; RTC_ERR_IO.
 */
int rtc_derivatives_init(const char *out_dir,
    const struct rtc_derivatives_info *info, char **cause);

struct rtc_derivatives_result {
	size_t nfiles;            /* files of the participant merged */
	long long bytes;
	size_t nshared;           /* shared top-level files moved in */
	size_t nkept;             /* shared files left out: already present */
	size_t nlinks;            /* symbolic links left out */
};

/*
 * RET: nonzero when rel (relative to the output root) belongs to the job
 * of participant label: its first component is "sub-<label>" or starts
 * with "sub-<label>_" or "sub-<label>.".
 */
int rtc_derivatives_owned(const char *rel, const char *label);

/*
 * Collect a job's output. IN: stage_dir (the job's own output directory),
 * out_dir (the run's output), participant (label), manifest (path of the
 * manifest to write). The participant's files replace older copies in
 * out_dir; other files (the app's top-level dataset_description.json,
 * group files) move in only when absent. Safe to run again after a crash
 * part way: a list of the stage's files is written first. The stage
 * directory is removed at the end. OUT: *res when non-NULL.
 * RET: RTC_OK; RTC_ERR_NOT_FOUND when the job wrote nothing for its
 * participant; RTC_ERR_FORMAT for a file name with control characters;
 * RTC_ERR_IO.
 */
int rtc_derivatives_collect(const char *stage_dir, const char *out_dir,
    const char *participant, const char *manifest,
    struct rtc_derivatives_result *res, char **cause);

#endif
