/*
 * daemon_ops: rtcd's request handlers, one table (d_handlers). Handlers
 * check every argument's type and range before acting: the socket is
 * owner-only, but a request is still outside input. Requests that finish
 * later (submit, resubmit, cancel, wait) park a struct dwait and answer
 * from d_waits_resolve.
 *
 * The status JSON is documented in rtc(1) (STATUS JSON); keep the two
 * together.
 */
#include "rtc_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "daemon_int.h"
#include "error.h"
#include "jobscript.h"
#include "proto.h"

#define MAX_ARGS 1000
#define MAX_ARG_LEN 4096

static json_t *
iso_or_null(double t)
{
	char buf[40];

	if (t <= 0)
		return json_null();
	rtc_clock_iso8601(t, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
job_json(const struct rtc_job *j)
{
	char key[2 * RTC_JOB_LABEL_MAX + 16];

	rtc_job_key(j, key, sizeof(key));
	return json_pack("{s:s,s:s,s:s?,s:s,s:i,s:i,s:o,s:s?,s:s?,s:s,s:i,"
	    "s:I,s:I,s:i,s:I,s:o}",
	    "job", key,
	    "participant", j->participant,
	    "session", j->session[0] ? j->session : NULL,
	    "state", rtc_job_state_name(j->state),
	    "attempts", j->attempts,
	    "attempt_limit", j->attempt_limit,
	    "exit_code", j->exit_code >= 0 ? json_integer(j->exit_code) :
	    json_null(),
	    "scheduler_state", j->sched_state[0] ? j->sched_state : NULL,
	    "backend_id", j->backend_id[0] ? j->backend_id : NULL,
	    "reason", j->reason,
	    "cpus", j->cpus,
	    "mem_mb", (json_int_t)j->mem_mb,
	    "time_min", (json_int_t)j->time_min,
	    "ninputs", j->ninputs,
	    "bytes", (json_int_t)j->bytes,
	    "updated", iso_or_null(j->updated));
}

json_t *
d_run_json(struct rtc_daemon *d, struct drun *dr, int with_jobs)
{
	size_t c[RTC_JOB__NSTATES], total = 0;
	const char *state = d_run_state(d, dr, c);
	json_t *o, *counts, *jobs, *skipped;
	int i;

	counts = json_object();
	if (counts == NULL)
		return NULL;
	skipped = json_object_get(dr->run->spec, "skipped");
	skipped = skipped != NULL ? json_incref(skipped) : json_array();
	for (i = 0; i < RTC_JOB__NSTATES; i++) {
		json_object_set_new(counts, rtc_job_state_name((enum rtc_job_state)i),
		    json_integer((json_int_t)c[i]));
		total += c[i];
	}
	o = json_pack("{s:s,s:s,s:o,s:o,s:s,s:s,s:s,s:s,s:s,s:s?,s:I,s:o,s:o}",
	    "id", dr->run->id,
	    "state", state,
	    "created", iso_or_null(dr->run->created),
	    "finished", iso_or_null(dr->run->finished),
	    "dataset", dr->run->dataset,
	    "output", dr->run->output,
	    "app", dr->run->app,
	    "runtime", dr->run->runtime,
	    "backend", dr->run->backend,
	    "digest", json_string_value(json_object_get(dr->run->spec, "digest")),
	    "njobs", (json_int_t)total,
	    "counts", counts,
	    "skipped", skipped);
	if (o == NULL || !with_jobs)
		return o;
	jobs = json_array();
	if (jobs == NULL) {
		json_decref(o);
		return NULL;
	}
	{
		struct rtc_job *v = NULL;
		size_t n = 0, k;

		if (rtc_store_jobs(d->store, dr->run->id, RTC_JOB_MASK_ALL, &v, &n,
		    NULL) == RTC_OK) {
			for (k = 0; k < n; k++)
				json_array_append_new(jobs, job_json(&v[k]));
			free(v);
		}
	}
	json_object_set_new(o, "jobs", jobs);
	return o;
}

void
d_waits_resolve(struct rtc_daemon *d, const char *run, enum dwait_kind kind,
    int err, const char *cause)
{
	struct dwait **wp, *w;
	struct drun *dr = d_run_find(d, run);

	for (wp = &d->waits; *wp != NULL;) {
		json_t *reply, *res;

		w = *wp;
		if (w->kind != kind || strcmp(w->run, run) != 0) {
			wp = &w->next;
			continue;
		}
		*wp = w->next;
		if (err != RTC_OK) {
			reply = rtc_proto_reply_error(err, cause);
		} else {
			res = w->extra != NULL ? json_deep_copy(w->extra) : json_object();
			if (res != NULL && dr != NULL)
				json_object_set_new(res, "status",
				    d_run_json(d, dr, kind == W_WAIT));
			if (res != NULL && cause != NULL)
				json_object_set_new(res, "note", json_string(cause));
			reply = rtc_proto_reply_ok(res);
		}
		d_conn_reply(d, w->conn, reply);
		json_decref(w->extra);
		free(w);
	}
}

static struct dwait *
wait_add(struct rtc_daemon *d, void *conn, enum dwait_kind kind,
    const char *run, json_t *extra)
{
	struct dwait *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		json_decref(extra);
		return NULL;
	}
	w->kind = kind;
	w->conn = ((struct dconn *)conn)->id;
	snprintf(w->run, sizeof(w->run), "%s", run);
	w->extra = extra;
	w->next = d->waits;
	d->waits = w;
	return w;
}

/* ---- argument checks ---- */

static int
arg_str(json_t *args, const char *key, int required, const char **out,
    char **cause)
{
	json_t *v = json_object_get(args, key);

	if (v == NULL || json_is_null(v)) {
		if (!required) {
			*out = NULL;
			return RTC_OK;
		}
		rtc_cause_set(cause, "\"%s\" is required", key);
		return RTC_ERR_INVAL;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > MAX_ARG_LEN ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		rtc_cause_set(cause, "\"%s\" must be a non-empty string", key);
		return RTC_ERR_INVAL;
	}
	*out = json_string_value(v);
	return RTC_OK;
}

static int
arg_int(json_t *args, const char *key, long long min, long long max,
    char **cause)
{
	json_t *v = json_object_get(args, key);

	if (v == NULL)
		return RTC_OK;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		rtc_cause_set(cause, "\"%s\" must be an integer from %lld to %lld",
		    key, min, max);
		return RTC_ERR_INVAL;
	}
	return RTC_OK;
}

static int
arg_strv(json_t *args, const char *key, char **cause)
{
	json_t *v = json_object_get(args, key), *e;
	size_t i;

	if (v == NULL)
		return RTC_OK;
	if (!json_is_array(v) || json_array_size(v) > MAX_ARGS)
		goto bad;
	json_array_foreach(v, i, e)
		if (!json_is_string(e) || json_string_length(e) > MAX_ARG_LEN ||
		    strlen(json_string_value(e)) != json_string_length(e))
			goto bad;
	return RTC_OK;
bad:
	rtc_cause_set(cause, "\"%s\" must be a list of at most %d strings", key,
	    MAX_ARGS);
	return RTC_ERR_INVAL;
}

static int
arg_bool(json_t *args, const char *key, char **cause)
{
	json_t *v = json_object_get(args, key);

	if (v != NULL && !json_is_boolean(v)) {
		rtc_cause_set(cause, "\"%s\" must be true or false", key);
		return RTC_ERR_INVAL;
	}
	return RTC_OK;
}

static int
find_run(struct rtc_daemon *d, json_t *args, struct drun **out, char **cause)
{
	const char *id;
	struct drun *dr;
	int r;

	if ((r = arg_str(args, "run", 1, &id, cause)) != RTC_OK)
		return r;
	dr = d_run_find(d, id);
	if (dr == NULL) {
		rtc_cause_set(cause, "no run '%s' (rtc status lists the runs)", id);
		return RTC_ERR_NOT_FOUND;
	}
	*out = dr;
	return RTC_OK;
}

/* ---- handlers ---- */

static int
op_hello(void *arg, void *conn, json_t *args, json_t **result, char **cause)
{
	struct rtc_daemon *d = arg;

	(void)conn;
	(void)args;
	(void)cause;
	*result = json_pack("{s:s,s:i,s:I,s:s}", "version", d->o->version,
	    "protocol", RTC_PROTO_VERSION, "pid", (json_int_t)getpid(),
	    "state_dir", d->state_dir);
	return *result != NULL ? RTC_OK : RTC_ERR_NOMEM;
}

static void
plan_done(struct rtc_daemon *d, struct dtask *t)
{
	d_engine_submit_planned(d, t);
}

static int
op_submit(void *arg, void *conn, json_t *args, json_t **result, char **cause)
{
	struct rtc_daemon *d = arg;
	const char *s, *runtime, *backend;
	const char *const *binds = NULL, *const *env = NULL;
	struct dtask *t;
	size_t nb, ne, i;
	int r;

	(void)result;
	if (d->stopping) {
		rtc_cause_set(cause, "rtcd is stopping: try again in a moment");
		return RTC_ERR_AGAIN;
	}
	if ((r = arg_str(args, "dataset", 1, &s, cause)) != RTC_OK ||
	    (r = arg_str(args, "app", 1, &s, cause)) != RTC_OK ||
	    (r = arg_str(args, "runtime", 1, &runtime, cause)) != RTC_OK ||
	    (r = arg_str(args, "backend", 1, &backend, cause)) != RTC_OK ||
	    (r = arg_str(args, "output", 0, &s, cause)) != RTC_OK ||
	    (r = arg_str(args, "scratch", 0, &s, cause)) != RTC_OK ||
	    (r = arg_str(args, "session_flag", 0, &s, cause)) != RTC_OK ||
	    (r = arg_int(args, "cpus", 1, 4096, cause)) != RTC_OK ||
	    (r = arg_int(args, "mem_mb", 1, 64LL * 1024 * 1024, cause)) != RTC_OK ||
	    (r = arg_int(args, "time_min", 1, 365LL * 24 * 60, cause)) != RTC_OK ||
	    (r = arg_int(args, "max_attempts", 1, 100, cause)) != RTC_OK ||
	    (r = arg_int(args, "throttle", 0, 1000000, cause)) != RTC_OK ||
	    (r = arg_strv(args, "labels", cause)) != RTC_OK ||
	    (r = arg_strv(args, "required", cause)) != RTC_OK ||
	    (r = arg_strv(args, "app_args", cause)) != RTC_OK ||
	    (r = arg_strv(args, "binds", cause)) != RTC_OK ||
	    (r = arg_strv(args, "env", cause)) != RTC_OK ||
	    (r = arg_strv(args, "runtime_args", cause)) != RTC_OK ||
	    (r = arg_bool(args, "per_session", cause)) != RTC_OK ||
	    (r = arg_bool(args, "keep_work", cause)) != RTC_OK)
		return r;
	s = json_string_value(json_object_get(args, "output"));
	if (s != NULL && s[0] != '/') {
		rtc_cause_set(cause, "\"output\" must be an absolute path");
		return RTC_ERR_INVAL;
	}
	s = json_string_value(json_object_get(args, "scratch"));
	if (s != NULL && s[0] != '/') {
		rtc_cause_set(cause, "\"scratch\" must be an absolute path");
		return RTC_ERR_INVAL;
	}
	if (d_backend_find(d, backend) == NULL) {
		rtc_cause_set(cause, "unknown backend '%s'", backend);
		return RTC_ERR_INVAL;
	}
	nb = json_array_size(json_object_get(args, "binds"));
	ne = json_array_size(json_object_get(args, "env"));
	binds = calloc(nb + 1, sizeof(*binds));
	env = calloc(ne + 1, sizeof(*env));
	if (binds == NULL || env == NULL) {
		free((void *)binds);
		free((void *)env);
		return RTC_ERR_NOMEM;
	}
	for (i = 0; i < nb; i++)
		((const char **)binds)[i] = json_string_value(
		    json_array_get(json_object_get(args, "binds"), i));
	for (i = 0; i < ne; i++)
		((const char **)env)[i] = json_string_value(
		    json_array_get(json_object_get(args, "env"), i));
	r = rtc_jobscript_check(runtime, binds, nb, env, ne, cause);
	free((void *)binds);
	free((void *)env);
	if (r != RTC_OK)
		return r;
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->args = json_deep_copy(args)) == NULL) {
		free(t);
		return RTC_ERR_NOMEM;
	}
	t->kind = T_PLAN;
	t->work = d_engine_plan_work;
	t->done = plan_done;
	t->conn = ((struct dconn *)conn)->id;
	d_task_start(d, t);
	return RTC_PROTO_DEFERRED;
}

static int
op_status(void *arg, void *conn, json_t *args, json_t **result, char **cause)
{
	struct rtc_daemon *d = arg;
	struct drun *dr;
	json_t *runs, *res;
	int with_jobs = 1, r;

	(void)conn;
	if ((r = arg_bool(args, "jobs", cause)) != RTC_OK)
		return r;
	if (json_is_false(json_object_get(args, "jobs")))
		with_jobs = 0;
	runs = json_array();
	if (runs == NULL)
		return RTC_ERR_NOMEM;
	if (json_object_get(args, "run") != NULL) {
		if ((r = find_run(d, args, &dr, cause)) != RTC_OK) {
			json_decref(runs);
			return r;
		}
		json_array_append_new(runs, d_run_json(d, dr, with_jobs));
	} else {
		for (dr = d->runs; dr != NULL; dr = dr->next)
			json_array_append_new(runs, d_run_json(d, dr, with_jobs));
	}
	res = json_pack("{s:i,s:o}", "version", 1, "runs", runs);
	if (res == NULL)
		return RTC_ERR_NOMEM;
	*result = res;
	return RTC_OK;
}

static int
op_logs(void *arg, void *conn, json_t *args, json_t **result, char **cause)
{
	struct rtc_daemon *d = arg;
	struct rtc_event *ev = NULL;
	struct rtc_job *jobs = NULL;
	const char *sub = NULL;
	json_t *res, *evs, *jv;
	struct drun *dr;
	size_t n = 0, i;
	long long after = 0;
	int r, a, found = 0;

	(void)conn;
	if ((r = find_run(d, args, &dr, cause)) != RTC_OK ||
	    (r = arg_str(args, "sub", 0, &sub, cause)) != RTC_OK ||
	    (r = arg_int(args, "after", 0, INT64_MAX, cause)) != RTC_OK)
		return r;
	if (json_is_integer(json_object_get(args, "after")))
		after = json_integer_value(json_object_get(args, "after"));
	if (sub != NULL && strncmp(sub, "sub-", 4) == 0)
		sub += 4;
	res = json_pack("{s:s,s:s,s:b}", "run", dr->run->id, "state",
	    d_run_state(d, dr, NULL), "finished", dr->finished);
	evs = json_array();
	jv = json_array();
	if (res == NULL || evs == NULL || jv == NULL)
		goto nomem;
	if ((r = rtc_store_events(d->store, dr->run->id, after, 10000, &ev, &n,
	    cause)) != RTC_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		char key[2 * RTC_JOB_LABEL_MAX + 16] = "";
		struct rtc_job j;

		if (ev[i].idx >= 0 && rtc_store_job_get(d->store, dr->run->id,
		    ev[i].idx, &j, NULL) == RTC_OK) {
			if (sub != NULL && strcmp(j.participant, sub) != 0)
				continue;
			rtc_job_key(&j, key, sizeof(key));
		}
		json_array_append_new(evs, json_pack("{s:I,s:o,s:s?,s:s}", "id",
		    (json_int_t)ev[i].id, "time", iso_or_null(ev[i].time), "job",
		    key[0] ? key : NULL, "text", ev[i].text));
	}
	json_object_set_new(res, "last_event",
	    json_integer(n > 0 ? ev[n - 1].id : after));
	rtc_store_events_free(ev, n);
	n = 0;
	if ((r = rtc_store_jobs(d->store, dr->run->id, RTC_JOB_MASK_ALL, &jobs,
	    &n, cause)) != RTC_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		json_t *o, *logs;
		char *log = NULL, *manifest = NULL;

		if (sub == NULL || strcmp(jobs[i].participant, sub) != 0)
			continue;
		found = 1;
		o = job_json(&jobs[i]);
		logs = json_array();
		if (o == NULL || logs == NULL) {
			json_decref(o);
			json_decref(logs);
			goto nomem;
		}
		for (a = 1; a <= jobs[i].attempts; a++) {
			if (d_job_paths(d, dr->run, &jobs[i], a, NULL, &log, NULL, NULL,
			    NULL, a == 1 ? &manifest : NULL) != RTC_OK)
				break;
			json_array_append_new(logs, json_string(log));
			free(log);
			if (a == 1) {
				json_object_set_new(o, "manifest", json_string(manifest));
				free(manifest);
			}
		}
		json_object_set_new(o, "logs", logs);
		json_array_append_new(jv, o);
	}
	free(jobs);
	jobs = NULL;
	if (sub != NULL && !found) {
		rtc_cause_set(cause, "run %s has no job for participant %s",
		    dr->run->id, sub);
		r = RTC_ERR_NOT_FOUND;
		goto fail;
	}
	json_object_set_new(res, "events", evs);
	json_object_set_new(res, "jobs", jv);
	*result = res;
	return RTC_OK;
nomem:
	r = RTC_ERR_NOMEM;
fail:
	free(jobs);
	json_decref(res);
	json_decref(evs);
	json_decref(jv);
	return r;
}

static int
op_wait(void *arg, void *conn, json_t *args, json_t **result, char **cause)
{
	struct rtc_daemon *d = arg;
	struct drun *dr;
	int r;

	if ((r = find_run(d, args, &dr, cause)) != RTC_OK)
		return r;
	if (dr->finished) {
		*result = json_pack("{s:s,s:o}", "run", dr->run->id, "status",
		    d_run_json(d, dr, 1));
		return *result != NULL ? RTC_OK : RTC_ERR_NOMEM;
	}
	if (wait_add(d, conn, W_WAIT, dr->run->id,
	    json_pack("{s:s}", "run", dr->run->id)) == NULL)
		return RTC_ERR_NOMEM;
	return RTC_PROTO_DEFERRED;
}

static int
op_cancel(void *arg, void *conn, json_t *args, json_t **result, char **cause)
{
	struct rtc_daemon *d = arg;
	struct drun *dr;
	struct dwait *w;
	size_t n = 0;
	int r;

	if ((r = find_run(d, args, &dr, cause)) != RTC_OK)
		return r;
	if (dr->finished) {
		*result = json_pack("{s:s,s:i,s:s}", "run", dr->run->id,
		    "cancelled", 0, "note", "the run has finished: nothing to "
		    "cancel");
		return *result != NULL ? RTC_OK : RTC_ERR_NOMEM;
	}
	w = wait_add(d, conn, W_CANCEL, dr->run->id, NULL);
	if (w == NULL)
		return RTC_ERR_NOMEM;
	r = d_engine_cancel(d, dr, &n, cause);
	/* the wait may have been answered already; else fill in its count */
	for (w = d->waits; w != NULL; w = w->next)
		if (w->kind == W_CANCEL && w->conn == ((struct dconn *)conn)->id)
			w->extra = json_pack("{s:s,s:I}", "run", dr->run->id,
			    "cancelled", (json_int_t)n);
	if (r != RTC_OK)
		d_waits_resolve(d, dr->run->id, W_CANCEL, r, *cause);
	else
		d_engine_check_run(d, dr);
	return RTC_PROTO_DEFERRED;
}

static int
op_resubmit(void *arg, void *conn, json_t *args, json_t **result,
    char **cause)
{
	struct rtc_daemon *d = arg;
	struct drun *dr;
	int failed_only, r;
	size_t n = 0;

	(void)result;
	if ((r = find_run(d, args, &dr, cause)) != RTC_OK ||
	    (r = arg_bool(args, "failed_only", cause)) != RTC_OK)
		return r;
	failed_only = json_is_true(json_object_get(args, "failed_only"));
	if (wait_add(d, conn, W_RESUBMIT, dr->run->id, NULL) == NULL)
		return RTC_ERR_NOMEM;
	r = d_engine_resubmit(d, dr, failed_only, &n, cause);
	if (r == RTC_OK && n == 0) {
		rtc_cause_set(cause, "run %s has no %s jobs to resubmit "
		    "(rtc status %s shows its jobs)", dr->run->id, failed_only ?
		    "failed" : "failed or cancelled", dr->run->id);
		r = RTC_ERR_NOT_FOUND;
	}
	if (r != RTC_OK) {
		d_waits_resolve(d, dr->run->id, W_RESUBMIT, r, *cause);
		return RTC_PROTO_DEFERRED;
	}
	{
		struct dwait *w;

		for (w = d->waits; w != NULL; w = w->next)
			if (w->kind == W_RESUBMIT && w->extra == NULL &&
			    w->conn == ((struct dconn *)conn)->id)
				w->extra = json_pack("{s:s,s:I}", "run", dr->run->id,
				    "requeued", (json_int_t)n);
	}
	return RTC_PROTO_DEFERRED;
}

const struct rtc_proto_handler d_handlers[] = {
	{ "hello", op_hello },
	{ "submit", op_submit },
	{ "status", op_status },
	{ "logs", op_logs },
	{ "wait", op_wait },
	{ "cancel", op_cancel },
	{ "resubmit", op_resubmit },
	{ NULL, NULL },
};
