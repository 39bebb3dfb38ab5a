/*
 * job: one unit of batch work (a participant, or a participant's session)
 * and its state machine:
 *
 *   queued -> submitted -> running -> collecting -> done
 *      ^          |            |           |
 *      +-- retry -+------------+           +-> failed
 *   any unfinished state -> cancelled | failed
 *
 * Each transition is stored (lib/store) before the daemon acts on it, so
 * that a restarted daemon knows what may already have happened. The retry
 * policy reads the scheduler's verdict and the BIDS App's exit code.
 */
#ifndef RTC_JOB_H
#define RTC_JOB_H

#include <stddef.h>

#define RTC_RUN_ID_MAX 24
#define RTC_JOB_LABEL_MAX 64
#define RTC_JOB_ID_MAX 64
#define RTC_JOB_REASON_MAX 256

enum rtc_job_state {
	RTC_JOB_QUEUED = 0,
	RTC_JOB_SUBMITTED,
	RTC_JOB_RUNNING,
	RTC_JOB_COLLECTING,
	RTC_JOB_DONE,
	RTC_JOB_FAILED,
	RTC_JOB_CANCELLED,
	RTC_JOB__NSTATES
};

#define RTC_JOB_MASK(s) (1u << (s))
#define RTC_JOB_MASK_ALL ((1u << RTC_JOB__NSTATES) - 1)
#define RTC_JOB_MASK_ACTIVE (RTC_JOB_MASK(RTC_JOB_QUEUED) | \
	RTC_JOB_MASK(RTC_JOB_SUBMITTED) | RTC_JOB_MASK(RTC_JOB_RUNNING) | \
	RTC_JOB_MASK(RTC_JOB_COLLECTING))

/* What a scheduler says about one job attempt. */
enum rtc_sched_state {
	RTC_SCHED_UNKNOWN = 0,  /* no answer about it (yet) */
	RTC_SCHED_PENDING,
	RTC_SCHED_RUNNING,
	RTC_SCHED_COMPLETED,    /* ended; the exit code says how */
	RTC_SCHED_FAILED,       /* ended with a nonzero exit code */
	RTC_SCHED_CANCELLED,    /* cancelled by someone */
	RTC_SCHED_TIMEOUT,      /* hit its time limit */
	RTC_SCHED_OOM,          /* hit its memory limit */
	RTC_SCHED_NODE_FAIL,    /* node failure, preemption, boot failure */
	RTC_SCHED_LOST,         /* the scheduler no longer knows it */
	RTC_SCHED__N
};

struct rtc_job {
	char run[RTC_RUN_ID_MAX];
	int idx;                              /* 0.. within the run */
	char participant[RTC_JOB_LABEL_MAX];  /* label without "sub-" */
	char session[RTC_JOB_LABEL_MAX];      /* "" unless --per-session */
	enum rtc_job_state state;
	int attempts;          /* attempts begun */
	int attempt_limit;     /* attempts allowed in all */
	int cpus;
	long mem_mb;
	long time_min;
	char backend_id[RTC_JOB_ID_MAX];  /* the scheduler's id of the attempt */
	char token[RTC_JOB_ID_MAX];       /* submission name, to find an attempt
	                                     whose id was never stored */
	int exit_code;         /* of the last ended attempt; -1: none */
	char sched_state[24];  /* last scheduler state seen */
	char reason[RTC_JOB_REASON_MAX];  /* why it is where it is, in words */
	int cancel_sent;       /* the backend was told to cancel */
	int ninputs;
	long long bytes;
	double updated;        /* wall time of the last change */
};

/* Limits of the retry policy. */
struct rtc_job_limits {
	long max_mem_mb;       /* OUT_OF_MEMORY retries grow memory up to this */
	long max_time_min;     /* TIMEOUT retries grow time up to this */
	double grow;           /* factor per retry (2.0) */
};

enum rtc_job_verdict {
	RTC_VERDICT_WAIT = 0,  /* still pending: nothing to do */
	RTC_VERDICT_RUNNING,   /* it started */
	RTC_VERDICT_COLLECT,   /* ended well: collect its outputs */
	RTC_VERDICT_RETRY,     /* ended badly but may succeed: queue again */
	RTC_VERDICT_FAIL       /* ended for good */
};

struct rtc_job_outcome {
	enum rtc_job_verdict verdict;
	long mem_mb;           /* resources of the next attempt */
	long time_min;
	char reason[RTC_JOB_REASON_MAX];
};

/* RET: static name ("queued", ...), or "?" out of range. */
const char *rtc_job_state_name(enum rtc_job_state s);

/* OUT: *s for a state name. RET: RTC_OK or RTC_ERR_INVAL. */
int rtc_job_state_parse(const char *name, enum rtc_job_state *s);

/* RET: nonzero for done, failed, cancelled. */
int rtc_job_state_terminal(enum rtc_job_state s);

/* RET: nonzero when the state machine allows from -> to. */
int rtc_job_transition_valid(enum rtc_job_state from, enum rtc_job_state to);

/* RET: static name of a scheduler state ("OUT_OF_MEMORY", ...). */
const char *rtc_sched_state_name(enum rtc_sched_state s);

/* OUT: *s for a Slurm state word (sacct/squeue, "CANCELLED by 0" and
 * "PENDING" alike). RET: RTC_OK, or RTC_ERR_NOT_FOUND for a word it does
 * not know (*s is then RTC_SCHED_UNKNOWN). */
int rtc_sched_state_parse(const char *word, enum rtc_sched_state *s);

/*
 * RET: nonzero when a BIDS App exit code means "do not try again":
 * 16, 17, 18 (the app's own permanent errors), 64 (usage), 66 (no input).
 */
int rtc_job_exit_permanent(int code);

/*
 * The retry policy. IN: job (its attempts, limit and resources), what the
 * scheduler says (st) and the app's exit code (-1: unknown), lim.
 * OUT: *out: the verdict, the resources of a retry and a reason in words.
 *   pending/unknown -> WAIT; running -> RUNNING;
 *   completed with exit 0 -> COLLECT;
 *   exit 75 -> RETRY; 16, 17, 18, 64, 66 -> FAIL;
 *   OUT_OF_MEMORY -> RETRY with memory * grow (capped), TIMEOUT -> RETRY
 *   with time * grow (capped): FAIL when already at the cap;
 *   node failure or a lost job -> RETRY; other exit codes -> FAIL;
 *   cancelled by someone else -> FAIL.
 * Every RETRY becomes FAIL once job->attempts reaches job->attempt_limit.
 */
void rtc_job_judge(const struct rtc_job *job, enum rtc_sched_state st,
    int exit_code, const struct rtc_job_limits *lim,
    struct rtc_job_outcome *out);

/* Format the job's key: "sub-01" or "sub-01_ses-2" into out. */
void rtc_job_key(const struct rtc_job *job, char *out, size_t outsz);

#endif
