/*
 * backend: the one interface between the batch core and a place that runs
 * jobs (this machine, a Slurm cluster, cloud VMs). A backend is a const
 * ops table with designated initialisers:
 *
 *   const struct rtc_backend_ops rtc_backend_slurm = {
 *       .name = "slurm", .open = ..., .submit = ..., .poll = ...,
 *       .cancel = ..., .collect = ..., .close = ...,
 *   };
 *
 * rtcd hands the tables to the core (lib/daemon), which never includes a
 * backend's header: a new backend touches nothing in lib/.
 *
 * Threads: the core calls submit, poll and cancel of one backend one at a
 * time, from a worker thread (never from its main loop: these may block
 * on a scheduler). collect may run at the same time as those and as other
 * collects. capacity is called from the main loop and must not block.
 */
#ifndef RTC_BACKEND_H
#define RTC_BACKEND_H

#include <stddef.h>

#include <jansson.h>

#include "ctx.h"
#include "job.h"

/* One attempt of one job, as a backend sees it. */
struct rtc_backend_task {
	int idx;                     /* the job's index in its run */
	const char *script;          /* the rendered job script (run.sh) */
	const char *rc_file;         /* where the script writes its status */
	const char *pid_file;        /* for backends that start processes */
	const char *stage_dir;       /* the job's own output directory */
	int cpus;
	long mem_mb;
	long time_min;
	char backend_id[RTC_JOB_ID_MAX];  /* submit: OUT; poll/cancel: IN */
};

struct rtc_backend_submit {
	const char *run;             /* run id */
	const char *run_dir;         /* the run's directory in the state dir */
	const char *jobs_dir;        /* <run_dir>/jobs: job idx's script is
	                                jobs/<idx>/run.sh */
	const char *token;           /* the submission's name ("rtc-r3.2");
	                                the scheduler must know it by it */
	const char *template_dir;    /* templates/ (sbatch.sh and the like) */
	int throttle;                /* at most this many running; 0: no cap */
	struct rtc_backend_task *tasks;
	size_t ntasks;
	size_t nsubmitted;           /* OUT: how many tasks have an id now */
};

/* A job attempt to ask about. */
struct rtc_backend_query {
	int idx;
	const char *token;           /* its submission's name */
	const char *rc_file;
	const char *pid_file;
	char backend_id[RTC_JOB_ID_MAX];  /* IN; "" when never stored: the
	                                     backend looks it up by token and
	                                     fills it in when found */
	enum rtc_sched_state state;  /* OUT */
	int exit_code;               /* OUT; -1: unknown */
	char reason[128];            /* OUT: the scheduler's words, if any */
};

struct rtc_backend_ops {
	const char *name;

	/* Make an instance. IN: ctx (outlives it), conf (rtc.conf's
	 * [batch.<name>] table or NULL; borrowed). Must not block on a
	 * scheduler: cluster settings are read on first use. */
	int (*open)(struct rtc_ctx *ctx, json_t *conf, void **state,
	    char **cause);
	void (*close)(void *state);

	/* RET: how many more tasks it takes now (-1: no limit). */
	long (*capacity)(void *state);

	/*
	 * Submit tasks. On RTC_OK every task has its backend_id. On an error
	 * the tasks that were submitted have their backend_id (the others
	 * keep ""), s->nsubmitted counts them and *cause says why the rest
	 * were not: RTC_ERR_AGAIN (or RTC_ERR_UNAVAILABLE) for a
	 * temporary refusal worth retrying later, other codes for a request
	 * the scheduler will never take.
	 */
	int (*submit)(void *state, struct rtc_backend_submit *s, char **cause);

	/*
	 * Fill in state and exit_code of each query. RET: RTC_OK, or an error
	 * when the scheduler could not be asked at all (then nothing is
	 * known and the core tries again later).
	 */
	int (*poll)(void *state, struct rtc_backend_query *q, size_t n,
	    char **cause);

	/* Cancel attempts by backend id. RET: RTC_OK when every one is gone
	 * or going. */
	int (*cancel)(void *state, const char *const *ids, size_t n,
	    char **cause);

	/*
	 * Bring a finished task's outputs to its stage_dir on this machine.
	 * NULL for backends whose nodes share the file system.
	 */
	int (*collect)(void *state, const struct rtc_backend_task *t,
	    char **cause);
};

#endif
