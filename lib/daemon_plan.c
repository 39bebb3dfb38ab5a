/*
 * daemon_plan: a submit request into a run. In a worker thread: the
 * DATASET through the seam to a local directory, the layout scan and the
 * plan, the app's name and digest (sha256 of a host command or .sif, or
 * what the container runtime says of an image), and the derivatives
 * dataset's description. Then, on the main thread, the run and its jobs
 * go into the store in one transaction and the submit's reply waits for
 * the first submission.
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


/* ---- planning (T_PLAN) ---- */

/* The short name and version of an app: "nipreps/fmriprep:23.1" gives
 * "fmriprep" and "23.1"; "/opt/app/run.sh" gives "run.sh". */
static void
app_name(const char *app, const char *runtime, char *name, size_t nsz,
    char *ver, size_t vsz)
{
	const char *base = strrchr(app, '/'), *at, *colon;
	size_t n;

	base = base ? base + 1 : app;
	ver[0] = '\0';
	if (strcmp(runtime, "none") == 0) {
		snprintf(name, nsz, "%s", base);
		return;
	}
	if (strncmp(app, "docker://", 9) == 0 && strrchr(app + 9, '/') == NULL)
		base = app + 9;
	at = strchr(base, '@');
	colon = strchr(base, ':');
	n = strlen(base);
	if (at != NULL && (size_t)(at - base) < n)
		n = (size_t)(at - base);
	if (colon != NULL && (size_t)(colon - base) < n) {
		n = (size_t)(colon - base);
		snprintf(ver, vsz, "%.*s", at && at > colon ?
		    (int)(at - colon - 1) : (int)strlen(colon + 1), colon + 1);
	}
	if (n >= 4 && strcmp(base + n - 4, ".sif") == 0)
		n -= 4;
	snprintf(name, nsz, "%.*s", (int)n, base);
	if (name[0] == '\0')
		snprintf(name, nsz, "app");
}

/* The digest of the app: sha256 of a host command or .sif file, or what
 * the container runtime says of the image. NULL when unknown. */
static char *
app_digest(struct rtc_daemon *d, const char *app, const char *runtime)
{
	char hex[RTC_SHA256_HEX_LEN + 1];
	struct rtc_buf out;
	const char *argv[8];
	char *res = NULL;
	int status = 0;

	if (strcmp(runtime, "none") == 0 || (app[0] == '/' &&
	    rtc_fs_is_file(app))) {
		if (rtc_hash_file_hex(RTC_HASH_SHA256, app, hex, NULL, NULL) !=
		    RTC_OK)
			return NULL;
		return d_fmt("sha256:%s", hex);
	}
	if (strcmp(runtime, "podman") == 0 || strcmp(runtime, "docker") == 0) {
		argv[0] = runtime;
		argv[1] = "image";
		argv[2] = "inspect";
		argv[3] = "--format";
		argv[4] = strcmp(runtime, "podman") == 0 ? "{{.Digest}}" :
		    "{{.Id}}";
		argv[5] = app;
		argv[6] = NULL;
		rtc_buf_init(&out, 4096);
		if (rtc_process_run(argv, NULL, NULL, &out, NULL, 30000, &status,
		    NULL) == RTC_OK && rtc_process_exit_status(status) == 0 &&
		    out.len > 7 && strncmp(out.data, "sha256:", 7) == 0) {
			out.data[strcspn(out.data, "\n")] = '\0';
			res = strdup(out.data);
		} else {
			rtc_log(d->ctx, WARN, "no digest for image %s: it is not on "
			    "this host (yet)", app);
		}
		rtc_buf_free(&out);
	}
	return res;
}

void
d_engine_plan_work(struct dtask *t)
{
	struct rtc_daemon *d = t->d;
	struct rtc_bids_layout *layout = NULL;
	struct rtc_plan_opts po;
	struct rtc_derivatives_info info;
	const char **labels = NULL, **req = NULL;
	const char *runtime, *out;
	char name[256], ver[128];
	int r;

	memset(&po, 0, sizeof(po));
	runtime = json_string_value(json_object_get(t->args, "runtime"));
	r = rtc_plan_dataset_local(json_string_value(json_object_get(t->args,
	    "dataset")), &t->dataset, &t->cause);
	if (r == RTC_OK)
		r = rtc_bids_layout_scan(t->dataset, &layout, &t->cause);
	if (r != RTC_OK)
		goto out;
	labels = d_json_strv(json_object_get(t->args, "labels"), &po.nlabels);
	req = d_json_strv(json_object_get(t->args, "required"), &po.nrequired);
	if (labels == NULL || req == NULL) {
		rtc_bids_layout_free(layout);
		r = RTC_ERR_NOMEM;
		goto out;
	}
	po.labels = labels;
	po.required = req;
	po.per_session = json_is_true(json_object_get(t->args, "per_session"));
	po.cpus = (int)d_spec_int(t->args, "cpus", 1);
	po.mem_mb = d_spec_int(t->args, "mem_mb", 4096);
	po.time_min = d_spec_int(t->args, "time_min", 1440);
	r = rtc_plan_make(layout, &po, &t->plan, &t->cause);
	if (r != RTC_OK)
		goto out;
	t->app = strdup(json_string_value(json_object_get(t->args, "app")));
	if (t->app == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	if (strcmp(runtime, "none") == 0 && (t->app[0] != '/' ||
	    access(t->app, X_OK) != 0)) {
		rtc_cause_set(&t->cause, "%s: not an executable file: with "
		    "--runtime none, --app names a command on this machine",
		    t->app);
		r = RTC_ERR_NOT_FOUND;
		goto out;
	}
	t->digest = app_digest(d, t->app, runtime);
	app_name(t->app, runtime, name, sizeof(name), ver, sizeof(ver));
	out = json_string_value(json_object_get(t->args, "output"));
	t->output = out != NULL ? strdup(out) :
	    d_fmt("%s/derivatives/%s", t->dataset, name);
	if (t->output == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	memset(&info, 0, sizeof(info));
	info.app = t->app;
	info.app_name = name;
	info.app_version = ver[0] ? ver : NULL;
	info.runtime = runtime;
	info.digest = t->digest;
	info.source_dir = t->dataset;
	info.source_name = t->plan->layout->name;
	info.source_url = json_string_value(json_object_get(t->args,
	    "source_url"));
	info.source_doi = json_string_value(json_object_get(t->args,
	    "source_doi"));
	if (info.source_doi == NULL)
		info.source_doi = t->plan->layout->doi;
	info.rtc_version = d->o->version;
	info.run_id = "";
	r = rtc_derivatives_init(t->output, &info, &t->cause);
	if (r == RTC_OK) {
		char *logs = d_fmt("%s/logs", t->output);

		r = logs ? rtc_fs_mkdir_p(logs, 0777, &t->cause) : RTC_ERR_NOMEM;
		free(logs);
	}
	if (r == RTC_OK) {
		/* realpath, now that it exists */
		char real[PATH_MAX];

		if (realpath(t->output, real) != NULL) {
			free(t->output);
			t->output = strdup(real);
		}
		if (t->output == NULL)
			r = RTC_ERR_NOMEM;
	}
	if (r == RTC_OK)
		json_object_set_new(t->args, "app_name", json_string(name));
out:
	t->err = r;
	free(labels);
	free(req);
}

void
d_engine_submit_planned(struct rtc_daemon *d, struct dtask *t)
{
	struct rtc_plan *p = t->plan;
	struct rtc_run *run = NULL;
	struct drun *dr;
	json_t *spec = NULL, *skipped, *extra;
	size_t i;
	char *cause = NULL;
	int r;

	if (t->err != RTC_OK) {
		json_t *e = rtc_proto_reply_error(t->err, t->cause);

		d_conn_reply(d, t->conn, e);
		return;
	}
	if (p->njobs == 0) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "nothing to submit: %zu participant%s "
		    "skipped%s%s%s%s (rtc submit --dry-run lists them)",
		    p->nskipped, p->nskipped == 1 ? "" : "s",
		    p->nskipped ? ", e.g. sub-" : "",
		    p->nskipped ? p->skipped[0].participant : "",
		    p->nskipped ? ": " : "",
		    p->nskipped ? p->skipped[0].reason : "");
		d_conn_reply(d, t->conn, rtc_proto_reply_error(RTC_ERR_NOT_FOUND,
		    msg));
		return;
	}
	spec = json_deep_copy(t->args);
	{
		json_t *pj = rtc_plan_to_json(p, 0);

		skipped = pj ? json_incref(json_object_get(pj, "skipped")) : NULL;
		json_decref(pj);
	}
	run = calloc(1, sizeof(*run));
	if (spec == NULL || skipped == NULL || run == NULL)
		goto nomem;
	json_object_set(spec, "skipped", skipped);
	if (t->digest != NULL)
		json_object_set_new(spec, "digest", json_string(t->digest));
	json_object_del(spec, "wait");
	run->created = rtc_clock_wall();
	run->dataset = strdup(t->dataset);
	run->output = strdup(t->output);
	run->app = strdup(t->app);
	run->runtime = strdup(json_string_value(json_object_get(spec, "runtime")));
	run->backend = strdup(json_string_value(json_object_get(spec, "backend")));
	run->spec = spec;
	spec = NULL;
	if (run->dataset == NULL || run->output == NULL || run->app == NULL ||
	    run->runtime == NULL || run->backend == NULL)
		goto nomem;
	if ((r = rtc_store_begin(d->store, &cause)) != RTC_OK)
		goto fail;
	r = rtc_store_run_add(d->store, run, &cause);
	for (i = 0; i < p->njobs && r == RTC_OK; i++) {
		struct rtc_job j;

		memset(&j, 0, sizeof(j));
		snprintf(j.run, sizeof(j.run), "%s", run->id);
		j.idx = (int)i;
		snprintf(j.participant, sizeof(j.participant), "%s",
		    p->jobs[i].participant);
		snprintf(j.session, sizeof(j.session), "%s", p->jobs[i].session);
		j.state = RTC_JOB_QUEUED;
		j.attempt_limit = (int)d_spec_int(run->spec, "max_attempts", 3);
		j.cpus = p->cpus;
		j.mem_mb = p->mem_mb;
		j.time_min = p->time_min;
		j.exit_code = -1;
		snprintf(j.reason, sizeof(j.reason), "waiting to be submitted");
		j.ninputs = (int)p->jobs[i].ninputs;
		j.bytes = p->jobs[i].bytes;
		j.updated = run->created;
		r = rtc_store_job_add(d->store, &j, &cause);
	}
	if (r == RTC_OK) {
		char msg[512];

		snprintf(msg, sizeof(msg), "created: %zu job%s, %zu skipped; %s "
		    "on %s, output %s", p->njobs, p->njobs == 1 ? "" : "s",
		    p->nskipped, run->app, run->backend, run->output);
		r = rtc_store_event_add(d->store, run->id, -1, msg, &cause);
	}
	for (i = 0; i < p->nskipped && r == RTC_OK; i++) {
		char msg[512];

		snprintf(msg, sizeof(msg), "skipped sub-%s%s%s: %s",
		    p->skipped[i].participant, p->skipped[i].session[0] ?
		    "_ses-" : "", p->skipped[i].session, p->skipped[i].reason);
		r = rtc_store_event_add(d->store, run->id, -1, msg, &cause);
	}
	if (r != RTC_OK) {
		rtc_store_rollback(d->store);
		goto fail;
	}
	if ((r = rtc_store_commit(d->store, &cause)) != RTC_OK) {
		rtc_store_rollback(d->store);
		goto fail;
	}
	rtc_log(d->ctx, INFO, "run %s: %zu jobs of %s with %s on %s", run->id,
	    p->njobs, run->dataset, run->app, run->backend);
	dr = d_run_add(d, run);
	if (dr == NULL) {
		rtc_run_free(run);
		run = NULL;
		goto nomem;
	}
	extra = json_pack("{s:s,s:I,s:O,s:s}", "run", run->id,
	    "njobs", (json_int_t)p->njobs, "skipped", skipped,
	    "output", run->output);
	json_decref(skipped);
	{
		struct dwait *w = calloc(1, sizeof(*w));

		if (w == NULL) {
			json_decref(extra);
			return;
		}
		w->kind = W_SUBMIT;
		snprintf(w->run, sizeof(w->run), "%s", run->id);
		w->conn = t->conn;
		w->extra = extra;
		w->next = d->waits;
		d->waits = w;
	}
	/* the backend refused the last submission and rtcd waits to try
	 * again: say so now rather than when the wait is over */
	if (dr->be != NULL && dr->be->retry_at != 0 &&
	    rtc_clock_mono_ns() < dr->be->retry_at && dr->be->refusal[0] != '\0')
		d_waits_resolve(d, run->id, W_SUBMIT, RTC_OK, dr->be->refusal);
	if (dr->be != NULL)
		d_engine_schedule(d, dr->be);
	return;
nomem:
	r = RTC_ERR_NOMEM;
fail:
	d_conn_reply(d, t->conn, rtc_proto_reply_error(r, cause));
	free(cause);
	json_decref(spec);
	json_decref(skipped);
	rtc_run_free(run);
}

