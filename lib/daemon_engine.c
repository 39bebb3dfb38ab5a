/*
 * daemon_engine: the driver of the job state machine. It runs on the main
 * thread and is the only writer of the job store. The pattern is always
 * the same: decide, store the transition (one transaction for a batch),
 * then hand the action to a worker thread; when the worker is done, store
 * what came of it.
 *
 *   queued --(store submitted + token)--> sbatch --(store ids)
 *   poll --(store running / collecting / queued for a retry / failed)
 *   collecting --> merge + manifest --(store done or failed)
 *   cancel --(store cancelled)--> scancel --(store cancel_sent)
 *
 * A daemon that dies anywhere in between finds, on restart, jobs whose
 * stored state says what may have happened: "submitted" without an id is
 * looked up by its token; "collecting" is collected again (idempotent);
 * "cancelled" with cancel_sent = 0 is cancelled again.
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

#define RETRY_SUBMIT_NS (30LL * 1000000000LL)

/* ---- runs in memory ---- */

struct drun *
d_run_find(struct rtc_daemon *d, const char *id)
{
	struct drun *dr;

	for (dr = d->runs; dr != NULL; dr = dr->next)
		if (strcmp(dr->run->id, id) == 0)
			return dr;
	return NULL;
}

struct dbackend *
d_backend_find(struct rtc_daemon *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nbe; i++)
		if (strcmp(d->be[i].ops->name, name) == 0)
			return &d->be[i];
	return NULL;
}

struct drun *
d_run_add(struct rtc_daemon *d, struct rtc_run *run)
{
	struct drun *dr = calloc(1, sizeof(*dr)), **pp;

	if (dr == NULL)
		return NULL;
	dr->run = run;
	dr->be = d_backend_find(d, run->backend);
	dr->finished = run->finished != 0;
	/* keep the list oldest first: that is the submission order */
	for (pp = &d->runs; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = dr;
	return dr;
}

int
d_engine_load(struct rtc_daemon *d, char **cause)
{
	struct rtc_run **runs = NULL;
	size_t n = 0, i;
	int r;

	r = rtc_store_run_list(d->store, &runs, &n, cause);
	if (r != RTC_OK)
		return r;
	for (i = 0; i < n; i++) {
		if (d_run_add(d, runs[i]) == NULL) {
			rtc_run_list_free(runs + i, n - i);
			free(runs);
			return RTC_ERR_NOMEM;
		}
		if (d_backend_find(d, runs[i]->backend) == NULL)
			rtc_log(d->ctx, WARN, "run %s uses backend %s, which this "
			    "rtcd lacks: its jobs wait", runs[i]->id, runs[i]->backend);
		runs[i] = NULL;
	}
	free(runs);
	return RTC_OK;
}

void
d_engine_free(struct rtc_daemon *d)
{
	struct drun *dr;

	while ((dr = d->runs) != NULL) {
		d->runs = dr->next;
		rtc_run_free(dr->run);
		free(dr);
	}
}

struct rtc_run *
d_run_dup(const struct rtc_run *src)
{
	struct rtc_run *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	*r = *src;
	r->dataset = strdup(src->dataset);
	r->output = strdup(src->output);
	r->app = strdup(src->app);
	r->runtime = strdup(src->runtime);
	r->backend = strdup(src->backend);
	r->spec = json_deep_copy(src->spec);
	if (r->dataset == NULL || r->output == NULL || r->app == NULL ||
	    r->runtime == NULL || r->backend == NULL || r->spec == NULL) {
		rtc_run_free(r);
		return NULL;
	}
	return r;
}

/* ---- paths ---- */

char *
d_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

char *
d_fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

void
d_run_uid(struct rtc_daemon *d, const struct rtc_run *run, char *out,
    size_t outsz)
{
	char text[4200], hex[RTC_SHA256_HEX_LEN + 1];

	/* runs of two state directories may both be "r1": the uid tells
	 * their work directories, stages and Slurm job names apart */
	snprintf(text, sizeof(text), "%s|%s|%.6f", d->state_dir, run->id,
	    run->created);
	rtc_sha256_hex(text, strlen(text), hex);
	snprintf(out, outsz, "%.8s", hex);
}

int
d_job_paths(struct rtc_daemon *d, const struct rtc_run *run,
    const struct rtc_job *j, int attempt, char **stage, char **log,
    char **rc, char **pid, char **script, char **manifest)
{
	char key[2 * RTC_JOB_LABEL_MAX + 16], uid[16];
	char *v[6] = { NULL };
	int i;

	rtc_job_key(j, key, sizeof(key));
	d_run_uid(d, run, uid, sizeof(uid));
	v[0] = d_fmt("%s/.rtc-stage/%s-%s-%s-a%d", run->output, run->id, uid, key,
	    attempt);
	v[1] = d_fmt("%s/logs/%s/attempt-%d.log", run->output, key, attempt);
	v[2] = d_fmt("%s/%s/jobs/%d/a%d.rc", d->runs_dir, run->id, j->idx, attempt);
	v[3] = d_fmt("%s/%s/jobs/%d/a%d.pid", d->runs_dir, run->id, j->idx, attempt);
	v[4] = d_fmt("%s/%s/jobs/%d/run.sh", d->runs_dir, run->id, j->idx);
	v[5] = d_fmt("%s/logs/%s/manifest.tsv", run->output, key);
	for (i = 0; i < 6; i++)
		if (v[i] == NULL) {
			for (i = 0; i < 6; i++)
				free(v[i]);
			return RTC_ERR_NOMEM;
		}
#define OUT(p, k) do { if (p) *(p) = v[k]; else free(v[k]); } while (0)
	OUT(stage, 0);
	OUT(log, 1);
	OUT(rc, 2);
	OUT(pid, 3);
	OUT(script, 4);
	OUT(manifest, 5);
#undef OUT
	return RTC_OK;
}

/* ---- storing transitions ---- */

void
d_event(struct rtc_daemon *d, const char *run, int idx, const char *f, ...)
    __attribute__((format(printf, 4, 5)));

void
d_event(struct rtc_daemon *d, const char *run, int idx, const char *f, ...)
{
	char text[1024];
	va_list ap;
	char *cause = NULL;

	va_start(ap, f);
	vsnprintf(text, sizeof(text), f, ap);
	va_end(ap);
	if (rtc_store_event_add(d->store, run, idx, text, &cause) != RTC_OK) {
		rtc_log(d->ctx, WARN, "%s", cause);
		free(cause);
	}
	rtc_debug(d->ctx, BATCH, "%s[%d]: %s", run, idx, text);
}

int
d_job_put(struct rtc_daemon *d, struct rtc_job *j)
{
	char *cause = NULL;
	int r;

	j->updated = rtc_clock_wall();
	r = rtc_store_job_put(d->store, j, &cause);
	if (r != RTC_OK) {
		rtc_log(d->ctx, ERROR, "%s", cause);
		free(cause);
	}
	return r;
}

/* Record the end of the job's current attempt. */
void
d_attempt_end(struct rtc_daemon *d, const struct rtc_job *j, const char *sched,
    int exit_code, const char *outcome)
{
	struct rtc_attempt *a = NULL;
	size_t n = 0, i;
	char *cause = NULL;

	if (rtc_store_attempts(d->store, j->run, j->idx, &a, &n, &cause) ==
	    RTC_OK) {
		for (i = 0; i < n; i++) {
			if (a[i].n != j->attempts)
				continue;
			a[i].ended = rtc_clock_wall();
			snprintf(a[i].sched_state, sizeof(a[i].sched_state), "%s",
			    sched);
			a[i].exit_code = exit_code;
			snprintf(a[i].outcome, sizeof(a[i].outcome), "%s", outcome);
			if (j->backend_id[0] != '\0')
				snprintf(a[i].backend_id, sizeof(a[i].backend_id), "%s",
				    j->backend_id);
			(void)rtc_store_attempt_put(d->store, &a[i], &cause);
		}
	}
	if (cause != NULL) {
		rtc_log(d->ctx, WARN, "%s", cause);
		free(cause);
	}
	free(a);
}

void
d_attempt_set_id(struct rtc_daemon *d, const struct rtc_job *j)
{
	struct rtc_attempt *a = NULL;
	size_t n = 0, i;
	char *cause = NULL;

	if (rtc_store_attempts(d->store, j->run, j->idx, &a, &n, &cause) ==
	    RTC_OK)
		for (i = 0; i < n; i++)
			if (a[i].n == j->attempts) {
				snprintf(a[i].backend_id, sizeof(a[i].backend_id), "%s",
				    j->backend_id);
				(void)rtc_store_attempt_put(d->store, &a[i], &cause);
			}
	free(cause);
	free(a);
}

int
d_begin(struct rtc_daemon *d)
{
	char *cause = NULL;
	int r = rtc_store_begin(d->store, &cause);

	if (r != RTC_OK) {
		rtc_log(d->ctx, ERROR, "%s", cause);
		free(cause);
	}
	return r;
}

void
d_commit(struct rtc_daemon *d)
{
	char *cause = NULL;

	if (rtc_store_commit(d->store, &cause) != RTC_OK) {
		rtc_log(d->ctx, ERROR, "%s", cause);
		free(cause);
		rtc_store_rollback(d->store);
	}
}

/* Jobs of every run of be in mask; *n. Caller frees. */
struct rtc_job *
d_backend_jobs(struct rtc_daemon *d, struct dbackend *be, unsigned mask,
    size_t *n)
{
	struct rtc_job *all = NULL, *v, *nv;
	struct drun *dr;
	size_t len = 0, k;
	char *cause = NULL;

	for (dr = d->runs; dr != NULL; dr = dr->next) {
		if (dr->be != be || dr->finished)
			continue;
		v = NULL;
		k = 0;
		if (rtc_store_jobs(d->store, dr->run->id, mask, &v, &k, &cause) !=
		    RTC_OK) {
			rtc_log(d->ctx, ERROR, "%s", cause);
			free(cause);
			cause = NULL;
			continue;
		}
		if (k > 0) {
			nv = realloc(all, (len + k) * sizeof(*nv));
			if (nv == NULL) {
				free(v);
				break;
			}
			all = nv;
			memcpy(all + len, v, k * sizeof(*v));
			len += k;
		}
		free(v);
	}
	*n = len;
	return all;
}

void
d_arm_poll(struct rtc_daemon *d, struct dbackend *be)
{
	struct rtc_job *j;
	size_t n = 0;

	if (be->next_poll != 0)
		return;
	j = d_backend_jobs(d, be, RTC_JOB_MASK(RTC_JOB_SUBMITTED) |
	    RTC_JOB_MASK(RTC_JOB_RUNNING), &n);
	free(j);
	if (n > 0)
		be->next_poll = rtc_clock_mono_ns() + be->interval_ns;
}

/* ---- submitting ---- */

const char **
d_json_strv(json_t *a, size_t *n)
{
	const char **v;
	size_t i;

	*n = json_is_array(a) ? json_array_size(a) : 0;
	v = calloc(*n + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (i = 0; i < *n; i++)
		v[i] = json_string_value(json_array_get(a, i));
	return v;
}

long
d_spec_int(json_t *spec, const char *key, long def)
{
	json_t *v = json_object_get(spec, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : def;
}

const char *
d_spec_str(json_t *spec, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(spec, key));

	return s != NULL ? s : def;
}

static void
submit_work(struct dtask *t)
{
	struct rtc_daemon *d = t->d;
	struct rtc_jobscript_tmpl tmpl = { NULL, NULL };
	struct rtc_backend_submit s;
	const char **app_args = NULL, **binds = NULL, **env = NULL, **rt = NULL;
	size_t napp = 0, nbinds = 0, nenv = 0, nrt = 0, i;
	struct rtc_buf script;
	char *run_dir = NULL, *jobs_dir = NULL;
	json_t *spec = t->run->spec;
	int r;

	rtc_buf_init(&script, 0);
	t->tasks = calloc(t->njobs ? t->njobs : 1, sizeof(*t->tasks));
	run_dir = d_fmt("%s/%s", d->runs_dir, t->run->id);
	jobs_dir = d_fmt("%s/%s/jobs", d->runs_dir, t->run->id);
	app_args = d_json_strv(json_object_get(spec, "app_args"), &napp);
	binds = d_json_strv(json_object_get(spec, "binds"), &nbinds);
	env = d_json_strv(json_object_get(spec, "env"), &nenv);
	rt = d_json_strv(json_object_get(spec, "runtime_args"), &nrt);
	if (t->tasks == NULL || run_dir == NULL || jobs_dir == NULL ||
	    app_args == NULL || binds == NULL || env == NULL || rt == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	r = rtc_jobscript_tmpl_load(d->o->template_dir, t->run->runtime, &tmpl,
	    &t->cause);
	if (r == RTC_OK)
		r = rtc_fs_mkdir_p(jobs_dir, 0700, &t->cause);
	for (i = 0; i < t->njobs && r == RTC_OK; i++) {
		struct rtc_job *j = &t->jobs[i];
		struct rtc_backend_task *bt = &t->tasks[i];
		char *stage = NULL, *log = NULL, *rc = NULL, *pid = NULL;
		char *path = NULL, *jobdir = NULL, key[2 * RTC_JOB_LABEL_MAX + 16];
		char work[3 * RTC_JOB_LABEL_MAX + 64];
		struct rtc_jobscript js;

		r = d_job_paths(d, t->run, j, j->attempts, &stage, &log, &rc, &pid,
		    &path, NULL);
		if (r != RTC_OK)
			break;
		rtc_job_key(j, key, sizeof(key));
		memset(&js, 0, sizeof(js));
		js.run = t->run->id;
		js.job = key;
		js.attempt = j->attempts;
		js.cpus = j->cpus;
		js.mem_mb = j->mem_mb;
		js.limit_s = j->time_min * 60;
		js.bids_dir = t->run->dataset;
		js.stage_dir = stage;
		js.log_file = log;
		js.rc_file = rc;
		js.scratch = d_spec_str(spec, "scratch", "");
		js.keep_work = json_is_true(json_object_get(spec, "keep_work"));
		js.runtime = t->run->runtime;
		js.app = t->run->app;
		js.participant = j->participant;
		js.session = j->session;
		js.session_flag = d_spec_str(spec, "session_flag", "--session-label");
		js.app_args = app_args;
		js.napp_args = napp;
		js.binds = binds;
		js.nbinds = nbinds;
		js.env = env;
		js.nenv = nenv;
		js.runtime_args = rt;
		js.nruntime_args = nrt;
		{
			char uid[16];

			d_run_uid(d, t->run, uid, sizeof(uid));
			snprintf(work, sizeof(work), "rtc-%s-%s-%s-a%d", t->run->id,
			    uid, key, j->attempts);
			js.work_name = work;
		}
		rtc_buf_reset(&script);
		jobdir = d_fmt("%s/%d", jobs_dir, j->idx);
		if (jobdir == NULL)
			r = RTC_ERR_NOMEM;
		if (r == RTC_OK && mkdir(jobdir, 0700) != 0 && errno != EEXIST) {
			rtc_cause_set(&t->cause, "%s: %s", jobdir, strerror(errno));
			r = RTC_ERR_IO;
		}
		if (r == RTC_OK) {
			/* a stale status of this attempt number must not count */
			unlink(rc);
			r = rtc_jobscript_render(&js, &tmpl, &script, &t->cause);
		}
		if (r == RTC_OK)
			r = rtc_fs_write_atomic(path, script.data, script.len, 0700,
			    0, &t->cause);
		free(jobdir);
		bt->idx = j->idx;
		bt->cpus = j->cpus;
		bt->mem_mb = j->mem_mb;
		bt->time_min = j->time_min;
		/* the task points at strings the task keeps */
		if (r == RTC_OK &&
		    (d_strvec_add(&t->strings, &t->nstrings, path) != RTC_OK ||
		    d_strvec_add(&t->strings, &t->nstrings, rc) != RTC_OK ||
		    d_strvec_add(&t->strings, &t->nstrings, pid) != RTC_OK ||
		    d_strvec_add(&t->strings, &t->nstrings, stage) != RTC_OK))
			r = RTC_ERR_NOMEM;
		free(stage);
		free(log);
		free(rc);
		free(pid);
		free(path);
	}
	if (r != RTC_OK)
		goto out;
	for (i = 0; i < t->njobs; i++) {
		t->tasks[i].script = t->strings[4 * i];
		t->tasks[i].rc_file = t->strings[4 * i + 1];
		t->tasks[i].pid_file = t->strings[4 * i + 2];
		t->tasks[i].stage_dir = t->strings[4 * i + 3];
	}
	memset(&s, 0, sizeof(s));
	s.run = t->run->id;
	s.run_dir = run_dir;
	s.jobs_dir = jobs_dir;
	s.token = t->token;
	s.template_dir = d->o->template_dir;
	s.throttle = (int)d_spec_int(spec, "throttle", 0);
	s.tasks = t->tasks;
	s.ntasks = t->njobs;
	r = t->be->ops->submit(t->be->state, &s, &t->cause);
	t->nsubmitted = s.nsubmitted;
out:
	t->err = r;
	rtc_jobscript_tmpl_free(&tmpl);
	rtc_buf_free(&script);
	free(run_dir);
	free(jobs_dir);
	free(app_args);
	free(binds);
	free(env);
	free(rt);
}

static int
temporary(int err)
{
	return err == RTC_ERR_AGAIN || err == RTC_ERR_UNAVAILABLE ||
	    err == RTC_ERR_TIMEOUT || err == RTC_ERR_BUSY || err == RTC_ERR_NET;
}

static void
submit_done(struct rtc_daemon *d, struct dtask *t)
{
	struct dbackend *be = t->be;
	struct drun *dr = d_run_find(d, t->run->id);
	size_t i, ok = 0, requeued = 0, failed = 0;
	const char *why = t->cause ? t->cause : rtc_strerror(t->err);
	struct rtc_job j;

	be->busy = 0;
	be->busy_run[0] = '\0';
	if (d_begin(d) != RTC_OK)
		return;
	for (i = 0; i < t->njobs; i++) {
		if (rtc_store_job_get(d->store, t->run->id, t->jobs[i].idx, &j,
		    NULL) != RTC_OK)
			continue;
		if (j.attempts != t->jobs[i].attempts ||
		    strcmp(j.token, t->token) != 0)
			continue;
		if (t->tasks != NULL && t->tasks[i].backend_id[0] != '\0') {
			snprintf(j.backend_id, sizeof(j.backend_id), "%s",
			    t->tasks[i].backend_id);
			if (j.state == RTC_JOB_CANCELLED) {
				/* cancelled while its submission was in flight */
				j.cancel_sent = 0;
				(void)d_strvec_add(&be->cancel_ids, &be->ncancel,
				    j.backend_id);
			}
			d_job_put(d, &j);
			d_attempt_set_id(d, &j);
			ok++;
			continue;
		}
		if (j.state != RTC_JOB_SUBMITTED)
			continue;
		if (temporary(t->err)) {
			j.state = RTC_JOB_QUEUED;
			j.attempts--;
			snprintf(j.reason, sizeof(j.reason), "waiting to submit: %s",
			    why);
			requeued++;
		} else {
			j.state = RTC_JOB_FAILED;
			snprintf(j.reason, sizeof(j.reason), "not submitted: %s", why);
			d_attempt_end(d, &j, "", -1, j.reason);
			failed++;
		}
		d_job_put(d, &j);
	}
	if (ok > 0)
		d_event(d, t->run->id, -1, "submitted %zu job%s to %s as %s", ok,
		    ok == 1 ? "" : "s", be->ops->name, t->token);
	if (requeued + failed > 0)
		d_event(d, t->run->id, -1, "%zu job%s not submitted (%s): %s",
		    requeued + failed, requeued + failed == 1 ? "" : "s",
		    requeued ? "will retry" : "failed", why);
	d_commit(d);
	if (t->err != RTC_OK)
		rtc_log(d->ctx, WARN, "run %s: submission %s: %zu of %zu "
		    "submitted: %s", t->run->id, t->token, ok, t->njobs, why);
	if (requeued > 0)
		be->retry_at = rtc_clock_mono_ns() + RETRY_SUBMIT_NS;
	if (ok > 0 || t->err == RTC_OK) {
		be->refusal[0] = '\0';
		d_waits_resolve(d, t->run->id, W_SUBMIT, RTC_OK, NULL);
		d_waits_resolve(d, t->run->id, W_RESUBMIT, RTC_OK, NULL);
	} else if (requeued > 0) {
		snprintf(be->refusal, sizeof(be->refusal), "%s refused the jobs "
		    "for now (%s): they stay queued and rtcd tries again every "
		    "%d s", be->ops->name, why,
		    (int)(RETRY_SUBMIT_NS / 1000000000LL));
		d_waits_resolve(d, t->run->id, W_SUBMIT, RTC_OK, be->refusal);
		d_waits_resolve(d, t->run->id, W_RESUBMIT, RTC_OK, be->refusal);
	} else if (failed > 0) {
		char msg[1400];

		snprintf(msg, sizeof(msg), "%s: the run's jobs are marked failed; "
		    "fix the cause, then 'rtc resubmit %s'", why, t->run->id);
		d_waits_resolve(d, t->run->id, W_SUBMIT, t->err, msg);
		d_waits_resolve(d, t->run->id, W_RESUBMIT, t->err, msg);
	}
	if (dr != NULL)
		d_engine_check_run(d, dr);
	d_cancel_flush(d, be);
	d_arm_poll(d, be);
	d_engine_schedule(d, be);
}

void
d_engine_schedule(struct rtc_daemon *d, struct dbackend *be)
{
	struct rtc_job *jobs = NULL;
	struct dtask *t;
	struct drun *dr;
	size_t n = 0, k, i;
	char uid[16];
	long cap;
	double now = rtc_clock_wall();

	if (d->stopping || d->reconciling || be->busy || be->ncancel > 0)
		return;
	if (be->retry_at != 0 && rtc_clock_mono_ns() < be->retry_at)
		return;
	be->retry_at = 0;
	cap = be->ops->capacity != NULL ? be->ops->capacity(be->state) : -1;
	if (cap == 0)
		return;
	for (dr = d->runs; dr != NULL; dr = dr->next) {
		char *cause = NULL;

		if (dr->be != be || dr->finished || dr->run->cancelled)
			continue;
		if (rtc_store_jobs(d->store, dr->run->id,
		    RTC_JOB_MASK(RTC_JOB_QUEUED), &jobs, &n, &cause) != RTC_OK) {
			rtc_log(d->ctx, ERROR, "%s", cause);
			free(cause);
			continue;
		}
		if (n > 0)
			break;
		free(jobs);
		jobs = NULL;
	}
	if (dr == NULL || n == 0)
		return;
	k = n;
	if (cap > 0 && (size_t)cap < k)
		k = (size_t)cap;
	if (k > D_SUBMIT_BATCH)
		k = D_SUBMIT_BATCH;
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->run = d_run_dup(dr->run)) == NULL) {
		free(t);
		free(jobs);
		return;
	}
	if (d_begin(d) != RTC_OK) {
		d_task_free(t);
		free(jobs);
		return;
	}
	dr->run->submit_seq++;
	d_run_uid(d, dr->run, uid, sizeof(uid));
	snprintf(t->token, sizeof(t->token), "rtc-%s-%s.%d", dr->run->id, uid,
	    dr->run->submit_seq);
	for (i = 0; i < k; i++) {
		struct rtc_job *j = &jobs[i];
		struct rtc_attempt a;

		j->state = RTC_JOB_SUBMITTED;
		j->attempts++;
		snprintf(j->token, sizeof(j->token), "%s", t->token);
		j->backend_id[0] = '\0';
		j->sched_state[0] = '\0';
		j->cancel_sent = 0;
		snprintf(j->reason, sizeof(j->reason), "submitted (attempt %d of "
		    "%d)", j->attempts, j->attempt_limit);
		d_job_put(d, j);
		memset(&a, 0, sizeof(a));
		snprintf(a.run, sizeof(a.run), "%s", j->run);
		a.idx = j->idx;
		a.n = j->attempts;
		a.cpus = j->cpus;
		a.mem_mb = j->mem_mb;
		a.time_min = j->time_min;
		a.submitted = now;
		a.exit_code = -1;
		(void)rtc_store_attempt_put(d->store, &a, NULL);
	}
	(void)rtc_store_run_update(d->store, dr->run, NULL);
	d_commit(d);
	t->kind = T_SUBMIT;
	t->work = submit_work;
	t->done = submit_done;
	t->be = be;
	t->jobs = jobs;
	t->njobs = k;
	t->run->submit_seq = dr->run->submit_seq;
	be->busy = 1;
	snprintf(be->busy_run, sizeof(be->busy_run), "%s", dr->run->id);
	d_task_start(d, t);
}

/* ---- cancelling ---- */

void
d_cancel_work(struct dtask *t)
{
	t->err = t->be->ops->cancel(t->be->state, (const char *const *)t->ids,
	    t->nids, &t->cause);
}

static int
in_ids(char **ids, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return 1;
	return 0;
}

void
d_cancel_done(struct rtc_daemon *d, struct dtask *t)
{
	struct dbackend *be = t->be;
	struct drun *dr;

	be->busy = 0;
	if (t->err != RTC_OK) {
		size_t i;

		rtc_log(d->ctx, WARN, "%s: cancel failed: %s (retrying)",
		    be->ops->name, t->cause ? t->cause : rtc_strerror(t->err));
		for (i = 0; i < t->nids; i++)
			(void)d_strvec_add(&be->cancel_ids, &be->ncancel, t->ids[i]);
		be->retry_at = rtc_clock_mono_ns() + RETRY_SUBMIT_NS / 3;
		for (dr = d->runs; dr != NULL; dr = dr->next)
			if (dr->be == be && dr->run->cancelled)
				d_waits_resolve(d, dr->run->id, W_CANCEL, t->err,
				    t->cause);
		return;
	}
	if (d_begin(d) != RTC_OK)
		return;
	for (dr = d->runs; dr != NULL; dr = dr->next) {
		struct rtc_job *jobs = NULL;
		size_t n = 0, i;

		if (dr->be != be)
			continue;
		if (rtc_store_jobs(d->store, dr->run->id,
		    RTC_JOB_MASK(RTC_JOB_CANCELLED), &jobs, &n, NULL) != RTC_OK)
			continue;
		for (i = 0; i < n; i++)
			if (!jobs[i].cancel_sent && jobs[i].backend_id[0] != '\0' &&
			    in_ids(t->ids, t->nids, jobs[i].backend_id)) {
				jobs[i].cancel_sent = 1;
				d_job_put(d, &jobs[i]);
			}
		free(jobs);
	}
	d_commit(d);
	for (dr = d->runs; dr != NULL; dr = dr->next)
		if (dr->be == be)
			d_engine_check_run(d, dr);
	d_cancel_flush(d, be);
	d_engine_schedule(d, be);
}

void
d_cancel_flush(struct rtc_daemon *d, struct dbackend *be)
{
	struct dtask *t;

	if (be->busy || be->ncancel == 0)
		return;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return;
	t->kind = T_CANCEL;
	t->work = d_cancel_work;
	t->done = d_cancel_done;
	t->be = be;
	t->ids = be->cancel_ids;
	t->nids = be->ncancel;
	be->cancel_ids = NULL;
	be->ncancel = 0;
	be->busy = 1;
	d_task_start(d, t);
}

int
d_engine_cancel(struct rtc_daemon *d, struct drun *dr, size_t *ncancelled,
    char **cause)
{
	struct rtc_job *jobs = NULL;
	size_t n = 0, i, c = 0;
	int r;

	r = rtc_store_jobs(d->store, dr->run->id, RTC_JOB_MASK(RTC_JOB_QUEUED) |
	    RTC_JOB_MASK(RTC_JOB_SUBMITTED) | RTC_JOB_MASK(RTC_JOB_RUNNING),
	    &jobs, &n, cause);
	if (r != RTC_OK)
		return r;
	if ((r = rtc_store_begin(d->store, cause)) != RTC_OK) {
		free(jobs);
		return r;
	}
	dr->run->cancelled = 1;
	for (i = 0; i < n; i++) {
		struct rtc_job *j = &jobs[i];

		if (j->state != RTC_JOB_QUEUED)
			d_attempt_end(d, j, "CANCELLED", -1, "cancelled (rtc cancel)");
		j->state = RTC_JOB_CANCELLED;
		j->cancel_sent = j->backend_id[0] == '\0';
		snprintf(j->reason, sizeof(j->reason), "cancelled (rtc cancel)");
		d_job_put(d, j);
		if (j->backend_id[0] != '\0' && dr->be != NULL)
			(void)d_strvec_add(&dr->be->cancel_ids, &dr->be->ncancel,
			    j->backend_id);
		c++;
	}
	d_event(d, dr->run->id, -1, "cancel: %zu unfinished job%s cancelled", c,
	    c == 1 ? "" : "s");
	(void)rtc_store_run_update(d->store, dr->run, NULL);
	r = rtc_store_commit(d->store, cause);
	free(jobs);
	if (r != RTC_OK) {
		rtc_store_rollback(d->store);
		return r;
	}
	if (dr->be != NULL)
		d_cancel_flush(d, dr->be);
	*ncancelled = c;
	return RTC_OK;
}

/* ---- resubmitting ---- */

int
d_engine_resubmit(struct rtc_daemon *d, struct drun *dr, int failed_only,
    size_t *nrequeued, char **cause)
{
	struct rtc_job *jobs = NULL;
	unsigned mask = RTC_JOB_MASK(RTC_JOB_FAILED);
	size_t n = 0, i;
	int r, more = (int)d_spec_int(dr->run->spec, "max_attempts", 3);

	if (!failed_only)
		mask |= RTC_JOB_MASK(RTC_JOB_CANCELLED);
	r = rtc_store_jobs(d->store, dr->run->id, mask, &jobs, &n, cause);
	if (r != RTC_OK)
		return r;
	if (n == 0) {
		free(jobs);
		*nrequeued = 0;
		return RTC_OK;
	}
	if ((r = rtc_store_begin(d->store, cause)) != RTC_OK) {
		free(jobs);
		return r;
	}
	for (i = 0; i < n; i++) {
		struct rtc_job *j = &jobs[i];

		j->state = RTC_JOB_QUEUED;
		j->attempt_limit = j->attempts + more;
		j->backend_id[0] = '\0';
		j->cancel_sent = 0;
		snprintf(j->reason, sizeof(j->reason), "resubmitted");
		d_job_put(d, j);
	}
	dr->run->cancelled = 0;
	dr->run->finished = 0;
	dr->finished = 0;
	d_event(d, dr->run->id, -1, "resubmit: %zu job%s queued again", n,
	    n == 1 ? "" : "s");
	(void)rtc_store_run_update(d->store, dr->run, NULL);
	r = rtc_store_commit(d->store, cause);
	free(jobs);
	if (r != RTC_OK) {
		rtc_store_rollback(d->store);
		return r;
	}
	*nrequeued = n;
	if (dr->be != NULL)
		d_engine_schedule(d, dr->be);
	return RTC_OK;
}

/* ---- runs ending ---- */

const char *
d_run_state(struct rtc_daemon *d, struct drun *dr,
    size_t counts[RTC_JOB__NSTATES])
{
	size_t c[RTC_JOB__NSTATES], active, total = 0;
	int i;

	if (rtc_store_job_counts(d->store, dr->run->id, c, NULL) != RTC_OK)
		memset(c, 0, sizeof(c));
	if (counts != NULL)
		memcpy(counts, c, sizeof(c));
	for (i = 0; i < RTC_JOB__NSTATES; i++)
		total += c[i];
	active = c[RTC_JOB_QUEUED] + c[RTC_JOB_SUBMITTED] + c[RTC_JOB_RUNNING] +
	    c[RTC_JOB_COLLECTING];
	if (active > 0)
		return active == c[RTC_JOB_QUEUED] ? "queued" : "running";
	if (dr->run->cancelled && c[RTC_JOB_CANCELLED] > 0)
		return "cancelled";
	if (c[RTC_JOB_FAILED] > 0)
		return "failed";
	if (c[RTC_JOB_CANCELLED] > 0)
		return "cancelled";
	return total > 0 ? "done" : "failed";
}

void
d_engine_check_run(struct rtc_daemon *d, struct drun *dr)
{
	size_t c[RTC_JOB__NSTATES], active, pending = 0;
	const char *state = d_run_state(d, dr, c);
	struct rtc_job *jobs = NULL;
	size_t n = 0, i;

	active = c[RTC_JOB_QUEUED] + c[RTC_JOB_SUBMITTED] + c[RTC_JOB_RUNNING] +
	    c[RTC_JOB_COLLECTING];
	/* a cancel is answered once the backend has been told */
	if (c[RTC_JOB_CANCELLED] > 0 && rtc_store_jobs(d->store, dr->run->id,
	    RTC_JOB_MASK(RTC_JOB_CANCELLED), &jobs, &n, NULL) == RTC_OK) {
		for (i = 0; i < n; i++)
			if (!jobs[i].cancel_sent || (jobs[i].backend_id[0] == '\0' &&
			    strcmp(dr->be ? dr->be->busy_run : "", dr->run->id) == 0))
				pending++;
		free(jobs);
	}
	if (pending == 0)
		d_waits_resolve(d, dr->run->id, W_CANCEL, RTC_OK, NULL);
	if (active > 0 || dr->finished)
		return;
	dr->finished = 1;
	dr->run->finished = rtc_clock_wall();
	(void)rtc_store_run_update(d->store, dr->run, NULL);
	d_event(d, dr->run->id, -1, "finished (%s): %zu done, %zu failed, %zu "
	    "cancelled", state, c[RTC_JOB_DONE], c[RTC_JOB_FAILED],
	    c[RTC_JOB_CANCELLED]);
	rtc_log(d->ctx, INFO, "run %s finished (%s): %zu done, %zu failed, %zu "
	    "cancelled", dr->run->id, state, c[RTC_JOB_DONE], c[RTC_JOB_FAILED],
	    c[RTC_JOB_CANCELLED]);
	d_waits_resolve(d, dr->run->id, W_WAIT, RTC_OK, NULL);
	d_waits_resolve(d, dr->run->id, W_SUBMIT, RTC_OK, NULL);
	d_waits_resolve(d, dr->run->id, W_RESUBMIT, RTC_OK, NULL);
}

/* ---- start-up ---- */

int
d_engine_reconcile(struct rtc_daemon *d, char **cause)
{
	size_t i, k;

	(void)cause;
	d->reconciling = 1;
	for (i = 0; i < d->nbe; i++) {
		struct dbackend *be = &d->be[i];
		struct rtc_job *jobs, *cj;
		struct dtask *t;
		struct drun *dr;
		size_t n = 0, nc = 0;

		/* cancels that may not have reached the backend */
		for (dr = d->runs; dr != NULL; dr = dr->next) {
			struct rtc_job *v = NULL;
			size_t m = 0;

			if (dr->be != be || rtc_store_jobs(d->store, dr->run->id,
			    RTC_JOB_MASK(RTC_JOB_CANCELLED), &v, &m, NULL) != RTC_OK)
				continue;
			for (k = 0; k < m; k++)
				if (!v[k].cancel_sent && v[k].backend_id[0] != '\0')
					(void)d_strvec_add(&be->cancel_ids, &be->ncancel,
					    v[k].backend_id);
			free(v);
		}
		if (be->ncancel > 0) {
			t = calloc(1, sizeof(*t));
			if (t != NULL) {
				t->d = d;
				t->be = be;
				t->ids = be->cancel_ids;
				t->nids = be->ncancel;
				be->cancel_ids = NULL;
				be->ncancel = 0;
				be->busy = 1;
				d_cancel_work(t);
				d_cancel_done(d, t);
				d_task_free(t);
			}
		}
		/* collects the last daemon did not finish (listed before the
		 * poll below, which may start collects of its own) */
		cj = d_backend_jobs(d, be, RTC_JOB_MASK(RTC_JOB_COLLECTING), &nc);
		/* what the scheduler says of every submitted job, now */
		jobs = d_backend_jobs(d, be, RTC_JOB_MASK(RTC_JOB_SUBMITTED) |
		    RTC_JOB_MASK(RTC_JOB_RUNNING), &n);
		if (n > 0) {
			rtc_log(d->ctx, INFO, "reconciling %zu unfinished job%s with "
			    "%s", n, n == 1 ? "" : "s", be->ops->name);
			t = d_poll_task(d, be, jobs, n);
			if (t != NULL) {
				be->busy = 1;
				d_poll_work(t);
				d_poll_done(d, t);
				d_task_free(t);
			}
		} else {
			free(jobs);
		}
		for (k = 0; k < nc; k++) {
			struct drun *r = d_run_find(d, cj[k].run);

			if (r != NULL)
				d_collect_start(d, r, &cj[k]);
		}
		free(cj);
	}
	for (struct drun *dr = d->runs; dr != NULL; dr = dr->next)
		if (!dr->finished)
			d_engine_check_run(d, dr);
	d->reconciling = 0;
	d->kick = 1;
	return RTC_OK;
}

/* ---- timers ---- */

int64_t
d_engine_next_timer(struct rtc_daemon *d)
{
	int64_t t = -1;
	size_t i;

	if (d->stopping)
		return -1;
	for (i = 0; i < d->nbe; i++) {
		struct dbackend *be = &d->be[i];

		if (be->next_poll != 0 && (t < 0 || be->next_poll < t))
			t = be->next_poll;
		if (be->retry_at != 0 && (t < 0 || be->retry_at < t))
			t = be->retry_at;
	}
	return t;
}

void
d_engine_tick(struct rtc_daemon *d)
{
	int64_t now = rtc_clock_mono_ns();
	int kick = d->kick;
	size_t i;

	if (d->stopping)
		return;
	d->kick = 0;
	for (i = 0; i < d->nbe; i++) {
		struct dbackend *be = &d->be[i];

		if (be->busy)
			continue;
		if (be->ncancel > 0) {
			if (be->retry_at == 0 || now >= be->retry_at) {
				be->retry_at = 0;
				d_cancel_flush(d, be);
			}
			continue;
		}
		if (be->next_poll != 0 && now >= be->next_poll) {
			d_poll_start(d, be);
			continue;
		}
		if (be->retry_at != 0 && now >= be->retry_at) {
			be->retry_at = 0;
			kick = 1;
		}
		if (kick) {
			d_engine_schedule(d, be);
			d_arm_poll(d, be);
		}
	}
}
