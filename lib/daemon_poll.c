/*
 * daemon_poll: what the scheduler says, and what comes of it. A poll asks
 * the backend about every submitted or running job of it at once (one
 * sacct for a thousand tasks), reads each ended job's status file (the
 * app's own exit code, and TIMEOUT when the script's limit stopped it),
 * and stores the verdicts of the retry policy in one transaction before
 * collects start. A collect moves a job's outputs into the run's output
 * and writes its manifest; success needs both.
 */
#include "rtc_build.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bids_layout.h"
#include "buf.h"
#include "clock.h"
#include "daemon_int.h"
#include "derivatives.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "process.h"


/* ---- polling ---- */

/* Read a job script's status file: "CODE [STATE]". RET: 0 when read. */
static int
read_rc(const char *path, int *code, char *word, size_t wsz)
{
	char *text = NULL, *end;
	size_t len;
	long v;

	if (rtc_fs_read_file(path, 256, &text, &len, NULL) != RTC_OK)
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (end == text || errno != 0 || v < 0 || v > 255) {
		free(text);
		return -1;
	}
	*code = (int)v;
	while (*end == ' ')
		end++;
	snprintf(word, wsz, "%.*s", (int)strcspn(end, " \n"), end);
	free(text);
	return 0;
}

void
d_poll_work(struct dtask *t)
{
	size_t i;

	t->err = t->be->ops->poll(t->be->state, t->queries, t->njobs, &t->cause);
	if (t->err != RTC_OK)
		return;
	for (i = 0; i < t->njobs; i++) {
		struct rtc_backend_query *q = &t->queries[i];
		char word[32];
		int code;

		if (read_rc(q->rc_file, &code, word, sizeof(word)) != 0)
			continue;
		/* the script's own record of the app's exit */
		if (q->state == RTC_SCHED_PENDING || q->state == RTC_SCHED_RUNNING)
			continue;   /* still finishing: ask again next time */
		q->exit_code = code;
		if (strcmp(word, "TIMEOUT") == 0)
			q->state = RTC_SCHED_TIMEOUT;
		else if (q->state == RTC_SCHED_UNKNOWN || q->state == RTC_SCHED_LOST)
			q->state = code == 0 ? RTC_SCHED_COMPLETED : RTC_SCHED_FAILED;
		else if (q->state == RTC_SCHED_COMPLETED && code != 0)
			q->state = RTC_SCHED_FAILED;
	}
}

static void
poll_apply(struct rtc_daemon *d, struct dtask *t, struct drun ***touched,
    size_t *ntouched)
{
	size_t i, k;

	for (i = 0; i < t->njobs; i++) {
		struct rtc_backend_query *q = &t->queries[i];
		struct rtc_job j;
		struct rtc_job_outcome o;
		const char *sname = rtc_sched_state_name(q->state);
		struct drun *dr = d_run_find(d, t->jobs[i].run);
		int dirty = 0;

		if (dr == NULL || rtc_store_job_get(d->store, t->jobs[i].run,
		    t->jobs[i].idx, &j, NULL) != RTC_OK)
			continue;
		if ((j.state != RTC_JOB_SUBMITTED && j.state != RTC_JOB_RUNNING) ||
		    j.attempts != t->jobs[i].attempts)
			continue;   /* it moved on while we asked */
		if (j.backend_id[0] == '\0' && q->backend_id[0] != '\0') {
			snprintf(j.backend_id, sizeof(j.backend_id), "%s",
			    q->backend_id);
			d_attempt_set_id(d, &j);
			d_event(d, j.run, j.idx, "found attempt %d as %s", j.attempts,
			    j.backend_id);
			dirty = 1;
		}
		if (j.backend_id[0] == '\0' && (q->state == RTC_SCHED_LOST ||
		    q->state == RTC_SCHED_UNKNOWN)) {
			/* the submission never reached the scheduler */
			j.state = RTC_JOB_QUEUED;
			j.attempts--;
			snprintf(j.reason, sizeof(j.reason), "its submission did not "
			    "reach the scheduler: submitting again");
			d_event(d, j.run, j.idx, "%s", j.reason);
			d_job_put(d, &j);
			goto touched;
		}
		if (q->state != RTC_SCHED_UNKNOWN && strcmp(j.sched_state,
		    sname) != 0) {
			snprintf(j.sched_state, sizeof(j.sched_state), "%s", sname);
			dirty = 1;
		}
		rtc_job_judge(&j, q->state, q->exit_code, &d->limits, &o);
		switch (o.verdict) {
		case RTC_VERDICT_WAIT:
			if (dirty)
				d_job_put(d, &j);
			continue;
		case RTC_VERDICT_RUNNING:
			if (j.state == RTC_JOB_SUBMITTED) {
				j.state = RTC_JOB_RUNNING;
				snprintf(j.reason, sizeof(j.reason), "running (attempt %d "
				    "of %d)", j.attempts, j.attempt_limit);
				d_event(d, j.run, j.idx, "running: attempt %d (%s)",
				    j.attempts, j.backend_id);
				dirty = 1;
			}
			if (dirty)
				d_job_put(d, &j);
			continue;
		case RTC_VERDICT_COLLECT:
			j.state = RTC_JOB_COLLECTING;
			j.exit_code = 0;
			snprintf(j.reason, sizeof(j.reason), "exit 0: collecting "
			    "outputs");
			d_attempt_end(d, &j, sname, 0, "exit 0");
			d_event(d, j.run, j.idx, "attempt %d ended with exit 0; "
			    "collecting outputs", j.attempts);
			d_job_put(d, &j);
			break;
		case RTC_VERDICT_RETRY:
			d_attempt_end(d, &j, sname, q->exit_code, o.reason);
			j.state = RTC_JOB_QUEUED;
			j.exit_code = q->exit_code;
			j.mem_mb = o.mem_mb;
			j.time_min = o.time_min;
			j.backend_id[0] = '\0';
			snprintf(j.reason, sizeof(j.reason), "%s", o.reason);
			d_event(d, j.run, j.idx, "attempt %d: %s", j.attempts, o.reason);
			d_job_put(d, &j);
			break;
		case RTC_VERDICT_FAIL:
			d_attempt_end(d, &j, sname, q->exit_code, o.reason);
			j.state = RTC_JOB_FAILED;
			j.exit_code = q->exit_code;
			snprintf(j.reason, sizeof(j.reason), "%s", o.reason);
			d_event(d, j.run, j.idx, "attempt %d failed: %s", j.attempts,
			    o.reason);
			d_job_put(d, &j);
			break;
		}
touched:
		for (k = 0; k < *ntouched; k++)
			if ((*touched)[k] == dr)
				break;
		if (k == *ntouched) {
			struct drun **nv = realloc(*touched, (k + 1) * sizeof(*nv));

			if (nv != NULL) {
				*touched = nv;
				nv[(*ntouched)++] = dr;
			}
		}
	}
}

void
d_poll_done(struct rtc_daemon *d, struct dtask *t)
{
	struct dbackend *be = t->be;
	struct drun **touched = NULL;
	size_t ntouched = 0, i;

	be->busy = 0;
	if (t->err != RTC_OK) {
		rtc_log(d->ctx, WARN, "%s: cannot poll: %s", be->ops->name,
		    t->cause ? t->cause : rtc_strerror(t->err));
	} else if (d_begin(d) == RTC_OK) {
		poll_apply(d, t, &touched, &ntouched);
		d_commit(d);
		/* collect after the transitions are stored */
		for (i = 0; i < t->njobs; i++) {
			struct rtc_job j;
			struct drun *dr = d_run_find(d, t->jobs[i].run);

			if (dr != NULL && rtc_store_job_get(d->store, t->jobs[i].run,
			    t->jobs[i].idx, &j, NULL) == RTC_OK &&
			    j.state == RTC_JOB_COLLECTING &&
			    j.attempts == t->jobs[i].attempts &&
			    t->jobs[i].state != RTC_JOB_COLLECTING)
				d_collect_start(d, dr, &j);
		}
		for (i = 0; i < ntouched; i++)
			d_engine_check_run(d, touched[i]);
	}
	free(touched);
	be->next_poll = 0;
	d_cancel_flush(d, be);
	d_arm_poll(d, be);
	d_engine_schedule(d, be);
}

/* Build a poll task over jobs (taken). */
struct dtask *
d_poll_task(struct rtc_daemon *d, struct dbackend *be, struct rtc_job *jobs,
    size_t n)
{
	struct dtask *t = calloc(1, sizeof(*t));
	size_t i;

	if (t == NULL) {
		free(jobs);
		return NULL;
	}
	t->kind = T_POLL;
	t->work = d_poll_work;
	t->done = d_poll_done;
	t->be = be;
	t->d = d;
	t->jobs = jobs;
	t->njobs = n;
	t->queries = calloc(n ? n : 1, sizeof(*t->queries));
	if (t->queries == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		struct drun *dr = d_run_find(d, jobs[i].run);
		char *rc = NULL, *pid = NULL;

		if (dr == NULL || d_job_paths(d, dr->run, &jobs[i],
		    jobs[i].attempts, NULL, NULL, &rc, &pid, NULL, NULL) != RTC_OK)
			goto fail;
		if (d_strvec_add(&t->strings, &t->nstrings, rc) != RTC_OK ||
		    d_strvec_add(&t->strings, &t->nstrings, pid) != RTC_OK) {
			free(rc);
			free(pid);
			goto fail;
		}
		free(rc);
		free(pid);
		/* the token is in jobs[i], which the task keeps */
		t->queries[i].idx = jobs[i].idx;
		t->queries[i].token = jobs[i].token;
		snprintf(t->queries[i].backend_id, sizeof(t->queries[i].backend_id),
		    "%s", jobs[i].backend_id);
		t->queries[i].exit_code = -1;
	}
	for (i = 0; i < n; i++) {
		t->queries[i].rc_file = t->strings[2 * i];
		t->queries[i].pid_file = t->strings[2 * i + 1];
	}
	return t;
fail:
	d_task_free(t);
	return NULL;
}

void
d_poll_start(struct rtc_daemon *d, struct dbackend *be)
{
	struct rtc_job *jobs;
	struct dtask *t;
	size_t n = 0;

	if (d->stopping || be->busy)
		return;
	be->next_poll = 0;
	jobs = d_backend_jobs(d, be, RTC_JOB_MASK(RTC_JOB_SUBMITTED) |
	    RTC_JOB_MASK(RTC_JOB_RUNNING), &n);
	if (n == 0) {
		free(jobs);
		return;
	}
	t = d_poll_task(d, be, jobs, n);
	if (t == NULL)
		return;
	be->busy = 1;
	d_task_start(d, t);
}

/* ---- collecting ---- */

static void
collect_work(struct dtask *t)
{
	struct rtc_daemon *d = t->d;
	struct rtc_derivatives_result res;
	char *stage = NULL, *manifest = NULL;
	int r;

	r = d_job_paths(d, t->run, &t->job, t->job.attempts, &stage, NULL, NULL,
	    NULL, NULL, &manifest);
	if (r == RTC_OK && t->be != NULL && t->be->ops->collect != NULL) {
		struct rtc_backend_task bt;

		memset(&bt, 0, sizeof(bt));
		bt.idx = t->job.idx;
		bt.stage_dir = stage;
		snprintf(bt.backend_id, sizeof(bt.backend_id), "%s",
		    t->job.backend_id);
		r = t->be->ops->collect(t->be->state, &bt, &t->cause);
	}
	if (r == RTC_OK)
		r = rtc_derivatives_collect(stage, t->run->output,
		    t->job.participant, manifest, &res, &t->cause);
	if (r == RTC_OK) {
		t->nfiles = res.nfiles;
		t->bytes = res.bytes;
	}
	t->err = r;
	free(stage);
	free(manifest);
}

static void
collect_done(struct rtc_daemon *d, struct dtask *t)
{
	struct drun *dr = d_run_find(d, t->run->id);
	struct rtc_job j;
	char hb[32];

	if (dr == NULL || rtc_store_job_get(d->store, t->job.run, t->job.idx, &j,
	    NULL) != RTC_OK || j.state != RTC_JOB_COLLECTING ||
	    j.attempts != t->job.attempts)
		return;
	if (t->err == RTC_OK) {
		j.state = RTC_JOB_DONE;
		snprintf(j.reason, sizeof(j.reason), "%zu output file%s (%s) "
		    "merged; manifest written", t->nfiles, t->nfiles == 1 ? "" : "s",
		    rtc_fs_human_bytes((double)t->bytes, hb, sizeof(hb)));
		d_event(d, j.run, j.idx, "done: %s", j.reason);
	} else {
		j.state = RTC_JOB_FAILED;
		if (t->err == RTC_ERR_NOT_FOUND)
			snprintf(j.reason, sizeof(j.reason), "%s", t->cause ?
			    t->cause : "no outputs");
		else
			snprintf(j.reason, sizeof(j.reason), "collecting outputs "
			    "failed: %s", t->cause ? t->cause : rtc_strerror(t->err));
		d_event(d, j.run, j.idx, "failed: %s", j.reason);
	}
	d_job_put(d, &j);
	d_engine_check_run(d, dr);
}

void
d_collect_start(struct rtc_daemon *d, struct drun *dr, const struct rtc_job *j)
{
	struct dtask *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->run = d_run_dup(dr->run)) == NULL) {
		free(t);
		rtc_log(d->ctx, ERROR, "out of memory: %s[%d] stays collecting",
		    j->run, j->idx);
		return;
	}
	t->kind = T_COLLECT;
	t->work = collect_work;
	t->done = collect_done;
	t->be = dr->be;
	t->job = *j;
	d_task_start(d, t);
}

