/*
 * bids_layout: what a BIDS dataset holds, as a batch planner needs it:
 * the participants (sub-* directories and participants.tsv), their
 * sessions, their files with sizes, and the shared top-level files.
 */
#ifndef RTC_BIDS_LAYOUT_H
#define RTC_BIDS_LAYOUT_H

#include <stddef.h>

#include "bids.h"

/* Caps on what a scan keeps (a dataset past them is refused). */
#define RTC_BIDS_LAYOUT_MAX_FILES 5000000
#define RTC_BIDS_LAYOUT_MAX_DEPTH 16
#define RTC_BIDS_LAYOUT_MAX_TSV (64 * 1024 * 1024)
#define RTC_BIDS_LAYOUT_MAX_PARTICIPANTS 1000000

struct rtc_bids_file {
	char *path;            /* relative to the dataset root */
	long long size;        /* -1: a dangling link (annexed, not present) */
};

struct rtc_bids_session {
	char label[RTC_BIDS_MAX_LABEL];
	size_t first;          /* its files: p->files[first .. first+nfiles) */
	size_t nfiles;
	long long bytes;
};

struct rtc_bids_participant {
	char label[RTC_BIDS_MAX_LABEL];   /* without "sub-" */
	int has_dir;           /* a sub-<label> directory exists */
	int in_tsv;            /* listed in participants.tsv */
	struct rtc_bids_file *files;      /* sorted by path */
	size_t nfiles;
	long long bytes;
	struct rtc_bids_session *sessions;  /* sorted by label */
	size_t nsessions;
};

struct rtc_bids_layout {
	char *root;            /* absolute path */
	char *name;            /* dataset_description.json Name, or "" */
	char *doi;             /* DatasetDOI, or NULL */
	struct rtc_bids_participant *p;     /* sorted by label */
	size_t n;
	size_t nshared;        /* top-level files every job reads */
	long long shared_bytes;
	char **bad_names;      /* sub-* entries whose label is not valid */
	size_t nbad;
};

/*
 * Scan a local BIDS dataset. IN: root, a directory holding
 * dataset_description.json. OUT: *out (free with rtc_bids_layout_free).
 * RET: RTC_OK; RTC_ERR_NOT_FOUND when root is not a directory or has no
 * dataset_description.json; RTC_ERR_FORMAT for a malformed
 * dataset_description.json or participants.tsv; RTC_ERR_TOO_BIG past the
 * caps; RTC_ERR_IO.
 */
int rtc_bids_layout_scan(const char *root, struct rtc_bids_layout **out,
    char **cause);

void rtc_bids_layout_free(struct rtc_bids_layout *l);

/* RET: the participant with label (with or without "sub-"), or NULL. */
const struct rtc_bids_participant *rtc_bids_layout_find(
    const struct rtc_bids_layout *l, const char *label);

/*
 * RET: nonzero when path matches pattern, both relative and '/'-separated.
 * Components match as fnmatch(3) patterns (a '*' never crosses a '/'); a
 * "**" component matches any number of directories, none included.
 */
int rtc_bids_glob_match(const char *pattern, const char *path);

#endif
