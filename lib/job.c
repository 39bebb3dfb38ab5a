/*
 * job: the state machine's tables and the retry policy. Pure functions:
 * the daemon's engine stores what they decide.
 *
 * The exit codes follow the BIDS Apps convention and sysexits: 75
 * (EX_TEMPFAIL) asks for another try; 16, 17 and 18 are an app's own
 * permanent errors, 64 (EX_USAGE) and 66 (EX_NOINPUT) will fail again
 * however often they run. Unknown nonzero codes fail without a retry: most
 * app failures are deterministic and a retry only burns allocation.
 */
#include "rtc_build.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "job.h"

static const char *const state_names[RTC_JOB__NSTATES] = {
	"queued", "submitted", "running", "collecting", "done", "failed",
	"cancelled",
};

const char *
rtc_job_state_name(enum rtc_job_state s)
{
	if ((int)s < 0 || s >= RTC_JOB__NSTATES)
		return "?";
	return state_names[s];
}

int
rtc_job_state_parse(const char *name, enum rtc_job_state *s)
{
	int i;

	for (i = 0; i < RTC_JOB__NSTATES; i++)
		if (strcmp(state_names[i], name) == 0) {
			*s = (enum rtc_job_state)i;
			return RTC_OK;
		}
	return RTC_ERR_INVAL;
}

int
rtc_job_state_terminal(enum rtc_job_state s)
{
	return s == RTC_JOB_DONE || s == RTC_JOB_FAILED || s == RTC_JOB_CANCELLED;
}

int
rtc_job_transition_valid(enum rtc_job_state from, enum rtc_job_state to)
{
	switch (from) {
	case RTC_JOB_QUEUED:
		return to == RTC_JOB_SUBMITTED || to == RTC_JOB_CANCELLED ||
		    to == RTC_JOB_FAILED;
	case RTC_JOB_SUBMITTED:
		/* back to queued: a retry, or a submission that never
		 * reached the scheduler */
		return to == RTC_JOB_RUNNING || to == RTC_JOB_COLLECTING ||
		    to == RTC_JOB_QUEUED || to == RTC_JOB_FAILED ||
		    to == RTC_JOB_CANCELLED;
	case RTC_JOB_RUNNING:
		return to == RTC_JOB_COLLECTING || to == RTC_JOB_QUEUED ||
		    to == RTC_JOB_FAILED || to == RTC_JOB_CANCELLED;
	case RTC_JOB_COLLECTING:
		return to == RTC_JOB_DONE || to == RTC_JOB_FAILED;
	case RTC_JOB_FAILED:
	case RTC_JOB_CANCELLED:
		/* rtc resubmit */
		return to == RTC_JOB_QUEUED;
	case RTC_JOB_DONE:
	default:
		return 0;
	}
}

static const char *const sched_names[RTC_SCHED__N] = {
	"UNKNOWN", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED",
	"TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "LOST",
};

const char *
rtc_sched_state_name(enum rtc_sched_state s)
{
	if ((int)s < 0 || s >= RTC_SCHED__N)
		return "UNKNOWN";
	return sched_names[s];
}

int
rtc_sched_state_parse(const char *word, enum rtc_sched_state *s)
{
	static const struct {
		const char *word;
		enum rtc_sched_state st;
	} map[] = {
		{ "PENDING", RTC_SCHED_PENDING },
		{ "PD", RTC_SCHED_PENDING },
		{ "REQUEUED", RTC_SCHED_PENDING },
		{ "REQUEUE_HOLD", RTC_SCHED_PENDING },
		{ "REQUEUE_FED", RTC_SCHED_PENDING },
		{ "RESV_DEL_HOLD", RTC_SCHED_PENDING },
		{ "SUSPENDED", RTC_SCHED_RUNNING },
		{ "RUNNING", RTC_SCHED_RUNNING },
		{ "R", RTC_SCHED_RUNNING },
		{ "CONFIGURING", RTC_SCHED_RUNNING },
		{ "COMPLETING", RTC_SCHED_RUNNING },
		{ "RESIZING", RTC_SCHED_RUNNING },
		{ "SIGNALING", RTC_SCHED_RUNNING },
		{ "STAGE_OUT", RTC_SCHED_RUNNING },
		{ "STOPPED", RTC_SCHED_RUNNING },
		{ "COMPLETED", RTC_SCHED_COMPLETED },
		{ "CD", RTC_SCHED_COMPLETED },
		{ "FAILED", RTC_SCHED_FAILED },
		{ "F", RTC_SCHED_FAILED },
		{ "SPECIAL_EXIT", RTC_SCHED_FAILED },
		{ "CANCELLED", RTC_SCHED_CANCELLED },
		{ "CA", RTC_SCHED_CANCELLED },
		{ "REVOKED", RTC_SCHED_CANCELLED },
		{ "DEADLINE", RTC_SCHED_TIMEOUT },
		{ "TIMEOUT", RTC_SCHED_TIMEOUT },
		{ "TO", RTC_SCHED_TIMEOUT },
		{ "OUT_OF_MEMORY", RTC_SCHED_OOM },
		{ "OOM", RTC_SCHED_OOM },
		{ "NODE_FAIL", RTC_SCHED_NODE_FAIL },
		{ "NF", RTC_SCHED_NODE_FAIL },
		{ "BOOT_FAIL", RTC_SCHED_NODE_FAIL },
		{ "PREEMPTED", RTC_SCHED_NODE_FAIL },
		{ "PR", RTC_SCHED_NODE_FAIL },
	};
	char w[32];
	size_t n, i;

	/* "CANCELLED by 1000": the first word counts */
	n = strcspn(word, " +");
	if (n >= sizeof(w)) {
		*s = RTC_SCHED_UNKNOWN;
		return RTC_ERR_NOT_FOUND;
	}
	memcpy(w, word, n);
	w[n] = '\0';
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].word, w) == 0) {
			*s = map[i].st;
			return RTC_OK;
		}
	*s = RTC_SCHED_UNKNOWN;
	return RTC_ERR_NOT_FOUND;
}

int
rtc_job_exit_permanent(int code)
{
	return code == 16 || code == 17 || code == 18 || code == 64 ||
	    code == 66;
}

static long
grow(long v, double factor, long cap)
{
	double g = (double)v * (factor > 1.0 ? factor : 2.0);

	if (g > (double)cap)
		return cap;
	return (long)g;
}

/* Turn a retry into a failure once the attempts are used up. */
static void
retry(const struct rtc_job *job, struct rtc_job_outcome *out,
    const char *why)
{
	if (job->attempts >= job->attempt_limit) {
		out->verdict = RTC_VERDICT_FAIL;
		snprintf(out->reason, sizeof(out->reason),
		    "%s; gave up after %d attempt%s", why, job->attempts,
		    job->attempts == 1 ? "" : "s");
		return;
	}
	out->verdict = RTC_VERDICT_RETRY;
	snprintf(out->reason, sizeof(out->reason), "%s; retrying (attempt %d "
	    "of %d)", why, job->attempts + 1, job->attempt_limit);
}

void
rtc_job_judge(const struct rtc_job *job, enum rtc_sched_state st,
    int exit_code, const struct rtc_job_limits *lim,
    struct rtc_job_outcome *out)
{
	char why[160];

	memset(out, 0, sizeof(*out));
	out->mem_mb = job->mem_mb;
	out->time_min = job->time_min;
	switch (st) {
	case RTC_SCHED_UNKNOWN:
	case RTC_SCHED_PENDING:
		out->verdict = RTC_VERDICT_WAIT;
		return;
	case RTC_SCHED_RUNNING:
		out->verdict = RTC_VERDICT_RUNNING;
		return;
	case RTC_SCHED_OOM:
		if (job->mem_mb >= lim->max_mem_mb) {
			out->verdict = RTC_VERDICT_FAIL;
			snprintf(out->reason, sizeof(out->reason), "out of memory "
			    "at %ld MB, the most allowed (raise --max-mem)",
			    job->mem_mb);
			return;
		}
		out->mem_mb = grow(job->mem_mb, lim->grow, lim->max_mem_mb);
		snprintf(why, sizeof(why), "out of memory at %ld MB, next with "
		    "%ld MB", job->mem_mb, out->mem_mb);
		retry(job, out, why);
		return;
	case RTC_SCHED_TIMEOUT:
		if (job->time_min >= lim->max_time_min) {
			out->verdict = RTC_VERDICT_FAIL;
			snprintf(out->reason, sizeof(out->reason), "hit the time "
			    "limit of %ld min, the most allowed (raise --max-time)",
			    job->time_min);
			return;
		}
		out->time_min = grow(job->time_min, lim->grow, lim->max_time_min);
		snprintf(why, sizeof(why), "hit the time limit of %ld min, next "
		    "with %ld min", job->time_min, out->time_min);
		retry(job, out, why);
		return;
	case RTC_SCHED_NODE_FAIL:
		retry(job, out, "node failure or preemption");
		return;
	case RTC_SCHED_LOST:
		retry(job, out, "the scheduler lost the job");
		return;
	case RTC_SCHED_CANCELLED:
		out->verdict = RTC_VERDICT_FAIL;
		snprintf(out->reason, sizeof(out->reason), "cancelled outside rtc "
		    "(scancel or an administrator)");
		return;
	case RTC_SCHED_COMPLETED:
	case RTC_SCHED_FAILED:
	default:
		break;
	}
	if (exit_code == 0 && st == RTC_SCHED_COMPLETED) {
		out->verdict = RTC_VERDICT_COLLECT;
		return;
	}
	if (exit_code < 0) {
		/* failed without a code we could read */
		retry(job, out, "ended without an exit code");
		return;
	}
	if (exit_code == 0) {
		/* the scheduler says failed though the app said 0 */
		retry(job, out, "the scheduler reports a failure after exit 0");
		return;
	}
	if (exit_code == 75) {
		retry(job, out, "exit 75 (temporary failure)");
		return;
	}
	out->verdict = RTC_VERDICT_FAIL;
	if (rtc_job_exit_permanent(exit_code))
		snprintf(out->reason, sizeof(out->reason), "exit %d: the app "
		    "reports a permanent error; see rtc logs", exit_code);
	else if (exit_code > 128 && exit_code < 160)
		snprintf(out->reason, sizeof(out->reason), "exit %d: killed by "
		    "signal %d; see rtc logs", exit_code, exit_code - 128);
	else
		snprintf(out->reason, sizeof(out->reason), "exit %d: the app "
		    "failed; see rtc logs", exit_code);
}

void
rtc_job_key(const struct rtc_job *job, char *out, size_t outsz)
{
	if (job->session[0] != '\0')
		snprintf(out, outsz, "sub-%s_ses-%s", job->participant,
		    job->session);
	else
		snprintf(out, outsz, "sub-%s", job->participant);
}
