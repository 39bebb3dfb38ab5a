/*
 * daemon_int: what the parts of rtcd's core share (daemon.c: process,
 * socket, loop, workers; daemon_engine.c: the state machine's driver;
 * daemon_ops.c: the request handlers). Not installed, not for other
 * modules.
 */
#ifndef RTC_DAEMON_INT_H
#define RTC_DAEMON_INT_H

#include <pthread.h>
#include <stdint.h>

#include <jansson.h>

#include "backend.h"
#include "buf.h"
#include "daemon.h"
#include "jobscript.h"
#include "plan.h"
#include "proto.h"
#include "store.h"

#define D_WORKERS 4
#define D_MAX_CONNS 256
#define D_SUBMIT_BATCH 20000   /* jobs per backend submission at most */

struct rtc_daemon;

struct dconn {
	int fd;
	uint64_t id;
	struct rtc_buf in;
	struct rtc_buf out;
	int closing;              /* close once out is drained */
	struct dconn *next;
};

enum dwait_kind { W_SUBMIT, W_RESUBMIT, W_WAIT, W_CANCEL };

/* A reply owed to a connection, sent when its run gets there. */
struct dwait {
	enum dwait_kind kind;
	char run[RTC_RUN_ID_MAX];
	uint64_t conn;
	json_t *extra;            /* merged into the reply (owned) */
	struct dwait *next;
};

struct dbackend {
	const struct rtc_backend_ops *ops;
	void *state;
	int busy;                 /* a submit, poll or cancel in flight */
	char busy_run[RTC_RUN_ID_MAX];  /* the run being submitted, if any */
	int64_t next_poll;        /* mono ns; 0: not scheduled */
	int64_t retry_at;         /* no submission before (after a refusal) */
	char refusal[1400];       /* why it was refused, for runs submitted
	                           * while rtcd waits to try again */
	int64_t interval_ns;
	char **cancel_ids;        /* waiting for the backend to be free */
	size_t ncancel;
};

/* An in-memory copy of a run, for scheduling decisions. */
struct drun {
	struct rtc_run *run;
	struct dbackend *be;
	int finished;             /* every job ended */
	struct drun *next;
};

enum dtask_kind { T_PLAN, T_SUBMIT, T_POLL, T_CANCEL, T_COLLECT };

/* Work for a worker thread; done() runs on the main thread after. */
struct dtask {
	enum dtask_kind kind;
	void (*work)(struct dtask *t);
	void (*done)(struct rtc_daemon *d, struct dtask *t);
	struct rtc_daemon *d;
	struct dbackend *be;
	int err;
	char *cause;
	struct dtask *next;

	/* T_PLAN */
	uint64_t conn;
	json_t *args;             /* the submit request */
	struct rtc_plan *plan;
	char *dataset;
	char *app;                /* resolved app (absolute command path) */
	char *digest;
	char *output;

	/* T_SUBMIT, T_POLL, T_COLLECT */
	struct rtc_run *run;      /* a private copy */
	struct rtc_job *jobs;
	size_t njobs;
	char token[RTC_JOB_ID_MAX];
	struct rtc_backend_task *tasks;
	struct rtc_backend_query *queries;
	size_t nsubmitted;
	char **strings;           /* paths the tasks and queries point at */
	size_t nstrings;

	/* T_CANCEL */
	char **ids;
	size_t nids;

	/* T_COLLECT */
	struct rtc_job job;
	long long bytes;
	size_t nfiles;
};

struct rtc_daemon {
	struct rtc_ctx *ctx;
	const struct rtc_daemon_opts *o;
	char *state_dir;
	char *runs_dir;
	char *sock_path;
	struct rtc_store *store;
	int listen_fd;
	int sig_fd;
	int wake_rd, wake_wr;
	int lock_fd;
	int stopping;
	int reconciling;          /* no submission until it is done */
	int kick;                 /* schedule every backend at the next tick */
	uint64_t next_conn;
	struct dconn *conns;
	size_t nconns;
	struct dwait *waits;
	struct dbackend *be;
	size_t nbe;
	struct drun *runs;
	struct rtc_job_limits limits;

	pthread_t threads[D_WORKERS];
	size_t nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dtask *todo, *todo_tail;  /* for the workers */
	struct dtask *done;              /* back from them */
	int quit_workers;
	int inflight;
};

/* daemon.c */
void d_task_start(struct rtc_daemon *d, struct dtask *t);
void d_task_free(struct dtask *t);
struct dconn *d_conn_find(struct rtc_daemon *d, uint64_t id);
void d_conn_reply(struct rtc_daemon *d, uint64_t id, json_t *reply);
int d_strvec_add(char ***v, size_t *n, const char *s);
void d_strvec_free(char **v, size_t n);

/* daemon_engine.c: shared helpers of the engine's files */
struct rtc_run *d_run_dup(const struct rtc_run *src);
struct drun *d_run_add(struct rtc_daemon *d, struct rtc_run *run);
char *d_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
void d_event(struct rtc_daemon *d, const char *run, int idx,
    const char *f, ...) __attribute__((format(printf, 4, 5)));
int d_job_put(struct rtc_daemon *d, struct rtc_job *j);
void d_attempt_end(struct rtc_daemon *d, const struct rtc_job *j,
    const char *sched, int exit_code, const char *outcome);
void d_attempt_set_id(struct rtc_daemon *d, const struct rtc_job *j);
int d_begin(struct rtc_daemon *d);
void d_commit(struct rtc_daemon *d);
struct rtc_job *d_backend_jobs(struct rtc_daemon *d, struct dbackend *be,
    unsigned mask, size_t *n);
void d_arm_poll(struct rtc_daemon *d, struct dbackend *be);
const char **d_json_strv(json_t *a, size_t *n);
long d_spec_int(json_t *spec, const char *key, long def);
const char *d_spec_str(json_t *spec, const char *key, const char *def);
void d_cancel_flush(struct rtc_daemon *d, struct dbackend *be);
void d_cancel_work(struct dtask *t);
void d_cancel_done(struct rtc_daemon *d, struct dtask *t);

/* daemon_poll.c */
void d_poll_work(struct dtask *t);
void d_poll_done(struct rtc_daemon *d, struct dtask *t);
struct dtask *d_poll_task(struct rtc_daemon *d, struct dbackend *be,
    struct rtc_job *jobs, size_t n);
void d_poll_start(struct rtc_daemon *d, struct dbackend *be);
void d_collect_start(struct rtc_daemon *d, struct drun *dr,
    const struct rtc_job *j);

/* daemon_engine.c */
int d_engine_load(struct rtc_daemon *d, char **cause);
int d_engine_reconcile(struct rtc_daemon *d, char **cause);
void d_engine_tick(struct rtc_daemon *d);
int64_t d_engine_next_timer(struct rtc_daemon *d);
struct dbackend *d_backend_find(struct rtc_daemon *d, const char *name);
struct drun *d_run_find(struct rtc_daemon *d, const char *id);
void d_engine_schedule(struct rtc_daemon *d, struct dbackend *be);
void d_engine_submit_planned(struct rtc_daemon *d, struct dtask *t);
int d_engine_cancel(struct rtc_daemon *d, struct drun *dr, size_t *ncancelled,
    char **cause);
int d_engine_resubmit(struct rtc_daemon *d, struct drun *dr, int failed_only,
    size_t *nrequeued, char **cause);
void d_engine_check_run(struct rtc_daemon *d, struct drun *dr);
void d_engine_free(struct rtc_daemon *d);

/* daemon_plan.c */
void d_engine_plan_work(struct dtask *t);
const char *d_run_state(struct rtc_daemon *d, struct drun *dr,
    size_t counts[RTC_JOB__NSTATES]);
void d_run_uid(struct rtc_daemon *d, const struct rtc_run *run, char *out,
    size_t outsz);
int d_job_paths(struct rtc_daemon *d, const struct rtc_run *run,
    const struct rtc_job *j, int attempt, char **stage, char **log,
    char **rc, char **pid, char **script, char **manifest);

/* daemon_ops.c */
extern const struct rtc_proto_handler d_handlers[];
void d_waits_resolve(struct rtc_daemon *d, const char *run,
    enum dwait_kind kind, int err, const char *cause);
json_t *d_run_json(struct rtc_daemon *d, struct drun *dr, int with_jobs);

#endif
