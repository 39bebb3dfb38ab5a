/*
 * store: the batch job store, one SQLite database in WAL mode under the
 * state directory. It holds runs, their jobs with their current state,
 * every attempt, and an event log per run. The schema carries a version
 * (PRAGMA user_version); opening an older database migrates it forward,
 * opening a newer one is refused.
 *
 * One struct rtc_store belongs to one thread at a time.
 */
#ifndef RTC_STORE_H
#define RTC_STORE_H

#include <stddef.h>

#include <jansson.h>

#include "job.h"

#define RTC_STORE_SCHEMA 1

struct rtc_store;

struct rtc_run {
	char id[RTC_RUN_ID_MAX];  /* "r1", "r2", ... */
	double created;           /* wall time */
	double finished;          /* when every job ended; 0 while active */
	char *dataset;            /* absolute path of the BIDS dataset */
	char *output;             /* absolute path of the derivatives */
	char *app;                /* image or host command */
	char *runtime;            /* podman, docker, apptainer, singularity, none */
	char *backend;            /* local, slurm */
	int cancelled;            /* rtc cancel was asked */
	int submit_seq;           /* submissions made so far (token numbers) */
	json_t *spec;             /* everything else the run was asked with */
};

struct rtc_attempt {
	char run[RTC_RUN_ID_MAX];
	int idx;
	int n;                    /* 1.. */
	char backend_id[RTC_JOB_ID_MAX];
	int cpus;
	long mem_mb;
	long time_min;
	double submitted;
	double ended;             /* 0 while it runs */
	char sched_state[24];
	int exit_code;            /* -1: none */
	char outcome[RTC_JOB_REASON_MAX];
};

struct rtc_event {
	long long id;
	int idx;                  /* the job, or -1 for the run */
	double time;
	char *text;
};

/*
 * Open (creating when absent) the store at path, mode 0600. OUT: *out.
 * RET: RTC_OK; RTC_ERR_UNSUPPORTED for a schema newer than this build;
 * RTC_ERR_IO with *cause from SQLite.
 */
int rtc_store_open(const char *path, struct rtc_store **out, char **cause);
void rtc_store_close(struct rtc_store *st);

/* RET: the schema version of the open database. */
int rtc_store_schema_version(struct rtc_store *st);

/* Transactions (not nested). Writes outside one are each their own. */
int rtc_store_begin(struct rtc_store *st, char **cause);
int rtc_store_commit(struct rtc_store *st, char **cause);
void rtc_store_rollback(struct rtc_store *st);

/* Add a run: run->id is set to its new id. */
int rtc_store_run_add(struct rtc_store *st, struct rtc_run *run, char **cause);

/* Store run->finished, cancelled and submit_seq. */
int rtc_store_run_update(struct rtc_store *st, const struct rtc_run *run,
    char **cause);

/* OUT: *out (free with rtc_run_free). RET: RTC_OK or RTC_ERR_NOT_FOUND. */
int rtc_store_run_get(struct rtc_store *st, const char *id,
    struct rtc_run **out, char **cause);

/* OUT: every run, oldest first (free with rtc_run_list_free). */
int rtc_store_run_list(struct rtc_store *st, struct rtc_run ***out,
    size_t *n, char **cause);

void rtc_run_free(struct rtc_run *run);
void rtc_run_list_free(struct rtc_run **runs, size_t n);

/* Add a new job / store every field of an existing one (by run, idx). */
int rtc_store_job_add(struct rtc_store *st, const struct rtc_job *job,
    char **cause);
int rtc_store_job_put(struct rtc_store *st, const struct rtc_job *job,
    char **cause);

/*
 * OUT: *out, a malloc'd array of the jobs of run (NULL: of every run)
 * whose state is in mask (RTC_JOB_MASK bits), by run and index; *n.
 * The caller frees *out.
 */
int rtc_store_jobs(struct rtc_store *st, const char *run, unsigned mask,
    struct rtc_job **out, size_t *n, char **cause);

/* OUT: one job. RET: RTC_OK or RTC_ERR_NOT_FOUND. */
int rtc_store_job_get(struct rtc_store *st, const char *run, int idx,
    struct rtc_job *out, char **cause);

/* OUT: counts[state] of the jobs of run. */
int rtc_store_job_counts(struct rtc_store *st, const char *run,
    size_t counts[RTC_JOB__NSTATES], char **cause);

/* Insert or replace an attempt (by run, idx, n). */
int rtc_store_attempt_put(struct rtc_store *st, const struct rtc_attempt *a,
    char **cause);

/* OUT: *out, attempts of run (idx < 0: of every job) by idx and n. The
 * caller frees *out. */
int rtc_store_attempts(struct rtc_store *st, const char *run, int idx,
    struct rtc_attempt **out, size_t *n, char **cause);

/* Append an event (text is copied; at most 1 KiB is kept). */
int rtc_store_event_add(struct rtc_store *st, const char *run, int idx,
    const char *text, char **cause);

/* OUT: *out, at most limit events of run with id > after, oldest first.
 * Free with rtc_store_events_free. */
int rtc_store_events(struct rtc_store *st, const char *run, long long after,
    int limit, struct rtc_event **out, size_t *n, char **cause);
void rtc_store_events_free(struct rtc_event *ev, size_t n);

#endif
