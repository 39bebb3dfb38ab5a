/*
 * fetch: datasets from S3 or OpenNeuro into a directory, verified and
 * resumable; what `rtc fetch` runs, and what `rtc replay dsNNNNNN` uses to
 * get one BOLD run and the metadata it needs.
 *
 * A fetch lists the source, keeps what the include/exclude patterns want,
 * skips (with a warning naming it) every key that would land outside the
 * target, then checks what is already there: a file counts as present
 * when its size and checksum match (or when the manifest says it was
 * verified and it has not changed since). The rest is downloaded over one
 * bounded connection pool (lib/s3: partial files resumed, checksums
 * verified). DIR/.rtc/manifest.json pins the result.
 */
#ifndef RTC_FETCH_H
#define RTC_FETCH_H

#include <stddef.h>

#include "ctx.h"

struct rtc_fetch_opts {
	const char *source;          /* "dsNNNNNN[:TAG]" or "s3://bucket/prefix" */
	const char *dir;             /* the target directory */
	const char *const *include;  /* patterns (see glob.h) */
	size_t ninclude;
	const char *const *exclude;
	size_t nexclude;
	int jobs;                    /* transfers at once; 0: rtc.conf
	                              * s3.jobs, else 16 */
	int no_sign;                 /* S3: unsigned requests (OpenNeuro
	                              * always is) */
	int retries;                 /* 0: rtc.conf s3.retries, else 8 */
	int progress;                /* show progress on stderr */
};

struct rtc_fetch_stats {
	size_t files;                /* wanted */
	size_t fetched;              /* downloaded and verified now */
	size_t present;              /* already there and verified */
	size_t failed;
	size_t unsafe;               /* keys skipped: outside the target */
	long long bytes;             /* of the wanted files */
	long long bytes_fetched;     /* received now */
	double seconds;
	char tag[64];                /* OpenNeuro snapshot, "" otherwise */
	char doi[128];
	const char *via;             /* "graphql", "s3-listing", "s3" */
};

/*
 * Fetch a whole source (or what the patterns select) into o->dir.
 * OUT: *st (may be NULL). RET: RTC_OK only when every wanted file is
 * present and verified and no key was unsafe; RTC_ERR_FORMAT when keys
 * were skipped as unsafe (the rest is complete); RTC_ERR_NOT_FOUND when an
 * include pattern matched nothing or the source is empty; RTC_ERR_CANCELLED
 * on a stop request; otherwise the first failure's error. *cause says
 * what went wrong.
 */
int rtc_fetch(struct rtc_ctx *ctx, const struct rtc_fetch_opts *o,
    struct rtc_fetch_stats *st, char **cause);

/* What to fetch for a replay: one BOLD run of an OpenNeuro dataset. */
struct rtc_fetch_run_opts {
	const char *accession;       /* "dsNNNNNN" or "dsNNNNNN:TAG" */
	const char *sub;             /* required: the participant label */
	const char *ses;             /* NULL: any (must then be unique) */
	const char *task;            /* required */
	const char *run;             /* NULL: any (must then be unique);
	                              * "1" matches run-1 and run-01, not
	                              * run-10 */
	const char *cache_dir;       /* NULL: rtc.conf openneuro.cache, else
	                              * $XDG_CACHE_HOME/rtc/openneuro, else
	                              * ~/.cache/rtc/openneuro */
	int jobs;                    /* 0: default */
	int progress;                /* show progress on stderr */
};

/*
 * Fetch the run's NIfTI, its JSON sidecars by BIDS inheritance (every
 * *_bold.json from the dataset root down to the run's folder whose
 * entities are a subset of the run's), the matching events.tsv (and
 * their .json) the same way, and dataset_description.json, into
 * CACHE/dsNNNNNN (a BIDS tree holding only those files; later calls add
 * to it and skip what is verified). Then rtc_bids_sidecar_resolve(*root,
 * rel) gives the run's metadata (RepetitionTime, ...).
 * OUT: *nifti, the NIfTI's absolute path; *root, the dataset directory
 * (both malloc'd, caller frees; root may be NULL if not wanted).
 * RET: RTC_OK; RTC_ERR_INVAL (bad accession or labels); RTC_ERR_NOT_FOUND
 * (no run matches: *cause lists the BOLD runs there are);
 * RTC_ERR_EXISTS (several match: *cause lists them, narrow with --ses or
 * --run); network and verification errors as for rtc_fetch().
 */
int rtc_fetch_bids_run(struct rtc_ctx *ctx, const struct rtc_fetch_run_opts *o,
    char **nifti, char **root, char **cause);

/*
 * Of paths (relative to a dataset root), the index of the one BOLD NIfTI
 * (sub-L[/ses-S]/func/..._bold.nii[.gz]) matching the labels, BIDS-wise.
 * Exposed for tests. OUT: *index. RET: RTC_OK, RTC_ERR_NOT_FOUND,
 * RTC_ERR_EXISTS (ambiguous); *cause lists candidates.
 */
int rtc_fetch_select_run(const char *const *paths, size_t n, const char *sub,
    const char *ses, const char *task, const char *run, size_t *index,
    char **cause);

/*
 * RET: nonzero when the file at path (relative) is metadata a BOLD run at
 * bold (relative) needs: dataset_description.json, a *_bold.json or
 * *_events.tsv / *_events.json on the run's folder chain whose entities
 * are a subset of the run's. Exposed for tests.
 */
int rtc_fetch_run_needs(const char *bold, const char *path);

#endif
