/*
 * rtc submit: plan a BIDS dataset into jobs and hand them to rtcd.
 * --dry-run plans here, in this process, and submits nothing.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bids_layout.h"
#include "client.h"
#include "cmd_batch.h"
#include "cmd_util.h"
#include "config.h"
#include "error.h"
#include "fsutil.h"
#include "jobscript.h"
#include "plan.h"
#include "proto.h"
#include "stage.h"

int batch_wait_run(struct rtc_ctx *ctx, const struct cmd_entry *e,
    const char *run, int quiet_progress);

static int submit_exec(struct rtc_ctx *ctx, int argc, char **argv);

const struct cmd_entry cmd_submit_entry = {
	.name = "submit",
	.usage = "DATASET --app IMAGE|CMD [--runtime podman|docker|apptainer|"
	    "singularity|none] [--backend local|slurm] [--participant-label L]... "
	    "[-o OUT] [--dry-run] [--wait] [OPTIONS] [-- APP_ARGS...]",
	.summary = "Run a BIDS App over a BIDS dataset, one job per participant.",
	.help =
	    "  --app IMAGE|CMD          the BIDS App: a container image, or with\n"
	    "                           --runtime none a command on this machine\n"
	    "  --runtime R              podman (default), docker, apptainer,\n"
	    "                           singularity or none\n"
	    "  --backend B              local (default) or slurm\n"
	    "  --participant-label L    only this participant (repeatable)\n"
	    "  --per-session            one job per session instead of per participant\n"
	    "  --require GLOB           skip participants without a matching file,\n"
	    "                           relative to sub-L/ (repeatable; ** for any dirs)\n"
	    "  -o, --output OUT         the derivatives directory\n"
	    "                           (default DATASET/derivatives/APPNAME)\n"
	    "  --cpus N                 CPUs per job (default 1)\n"
	    "  --mem MB                 memory per job: MB, or with a G or M suffix\n"
	    "                           (default 4096)\n"
	    "  --time MIN               time limit per job: minutes, Nh or H:MM:SS\n"
	    "                           (default 1440)\n"
	    "  --max-attempts N         attempts per job before it fails (default 3)\n"
	    "  --bind SRC:DST[:ro]      bind a host path into the container (repeatable)\n"
	    "  --env NAME=VALUE         set a variable for the app (repeatable)\n"
	    "  --runtime-arg ARG        pass ARG to the container runtime (repeatable)\n"
	    "  --scratch DIR            node-local scratch for work directories\n"
	    "                           (default $SLURM_TMPDIR, $TMPDIR or /tmp)\n"
	    "  --keep-work              keep work directories of jobs that succeed\n"
	    "  --work-flag FLAG         pass FLAG WORKDIR to the app (e.g. -w)\n"
	    "  --session-flag FLAG      how the app takes a session (--session-label)\n"
	    "  --throttle N             at most N jobs of the run at once (slurm %N)\n"
	    "  --stage DIR              where a remote DATASET (dsNNNNNN[:TAG] or\n"
	    "                           s3://bucket/prefix) is fetched to first\n"
	    "                           (default ~/.cache/rtc/datasets)\n"
	    "  --dry-run                print the plan and submit nothing\n"
	    "  --json                   print the plan or the result as JSON\n"
	    "  --wait                   wait until every job has ended (as rtc wait)\n"
	    "  -- APP_ARGS...           more arguments for the app; {work}, {cpus},\n"
	    "                           {mem_mb} and {participant} are replaced\n",
	.exec = submit_exec,
};

static int
parse_mem(const char *s, long *mb)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (end == s || v <= 0)
		return -1;
	if (*end == 'G' || *end == 'g')
		v *= 1024, end++;
	else if (*end == 'M' || *end == 'm')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > 64L * 1024 * 1024)
		return -1;
	*mb = v;
	return 0;
}

static int
parse_time(const char *s, long *min)
{
	long h, m, sec;
	char tail;

	if (sscanf(s, "%ld:%ld:%ld%c", &h, &m, &sec, &tail) == 3 && h >= 0 &&
	    m >= 0 && m < 60 && sec >= 0 && sec < 60) {
		*min = h * 60 + m + (sec > 0);
		return *min > 0 ? 0 : -1;
	}
	if (sscanf(s, "%ldh%c", &h, &tail) == 1 && h > 0) {
		*min = h * 60;
		return 0;
	}
	return cmd_parse_long(s, 1, 365L * 24 * 60, min);
}

/* An absolute path for a --runtime none command: as given, or from PATH. */
static char *
resolve_command(const char *app)
{
	char real[PATH_MAX], cand[PATH_MAX];
	const char *path, *p;

	if (strchr(app, '/') != NULL)
		return realpath(app, real) != NULL ? strdup(real) : NULL;
	path = getenv("PATH");
	for (p = path; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, ":");

		if (n > 0 && (size_t)snprintf(cand, sizeof(cand), "%.*s/%s", (int)n,
		    p, app) < sizeof(cand) && access(cand, X_OK) == 0 &&
		    rtc_fs_is_file(cand) && realpath(cand, real) != NULL)
			return strdup(real);
		p += n;
		if (*p == ':')
			p++;
	}
	return NULL;
}

static char *
absolute(const char *p)
{
	char cwd[PATH_MAX], *out = NULL;

	if (p[0] == '/')
		return strdup(p);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, p) < 0)
		return NULL;
	return out;
}

static int
append(json_t *args, const char *key, const char *v)
{
	json_t *a = json_object_get(args, key);

	if (a == NULL) {
		a = json_array();
		if (a == NULL || json_object_set_new(args, key, a) != 0)
			return -1;
	}
	return json_array_append_new(a, json_string(v));
}

static int
dry_run(struct rtc_ctx *ctx, json_t *args, int as_json)
{
	struct rtc_bids_layout *layout = NULL;
	struct rtc_plan *plan = NULL;
	struct rtc_plan_opts po;
	const char **labels = NULL, **req = NULL;
	char *dir = NULL, *cause = NULL;
	json_t *a;
	size_t i;
	int r;

	(void)ctx;
	memset(&po, 0, sizeof(po));
	r = rtc_plan_dataset_local(json_string_value(json_object_get(args,
	    "dataset")), &dir, &cause);
	if (r == RTC_OK)
		r = rtc_bids_layout_scan(dir, &layout, &cause);
	if (r != RTC_OK)
		goto out;
	a = json_object_get(args, "labels");
	po.nlabels = json_array_size(a);
	labels = calloc(po.nlabels + 1, sizeof(*labels));
	for (i = 0; labels != NULL && i < po.nlabels; i++)
		labels[i] = json_string_value(json_array_get(a, i));
	a = json_object_get(args, "required");
	po.nrequired = json_array_size(a);
	req = calloc(po.nrequired + 1, sizeof(*req));
	for (i = 0; req != NULL && i < po.nrequired; i++)
		req[i] = json_string_value(json_array_get(a, i));
	if (labels == NULL || req == NULL) {
		rtc_bids_layout_free(layout);
		r = RTC_ERR_NOMEM;
		goto out;
	}
	po.labels = labels;
	po.required = req;
	po.per_session = json_is_true(json_object_get(args, "per_session"));
	po.cpus = (int)json_integer_value(json_object_get(args, "cpus"));
	po.mem_mb = (long)json_integer_value(json_object_get(args, "mem_mb"));
	po.time_min = (long)json_integer_value(json_object_get(args, "time_min"));
	r = rtc_plan_make(layout, &po, &plan, &cause);
	if (r != RTC_OK)
		goto out;
	if (as_json) {
		json_t *pj = rtc_plan_to_json(plan, 1);

		if (pj != NULL) {
			json_object_set(pj, "app", json_object_get(args, "app"));
			json_object_set(pj, "runtime", json_object_get(args, "runtime"));
			json_object_set(pj, "backend", json_object_get(args, "backend"));
			json_dumpf(pj, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
		}
		json_decref(pj);
	} else {
		rtc_plan_print(plan, stdout);
		printf("would run %s (%s) on the %s backend; nothing was submitted\n",
		    json_string_value(json_object_get(args, "app")),
		    json_string_value(json_object_get(args, "runtime")),
		    json_string_value(json_object_get(args, "backend")));
	}
out:
	rtc_plan_free(plan);
	free(labels);
	free(req);
	free(dir);
	if (r != RTC_OK)
		return cmd_fail(&cmd_submit_entry, r, &cause);
	return 0;
}

/* Defaults from rtc.conf's [batch] table. */
static int
conf_defaults(struct rtc_ctx *ctx, json_t *args, char **cause)
{
	static const char *const known[] = { "runtime", "backend", "cpus",
	    "mem_mb", "time_min", "max_attempts", "scratch", "keep_work",
	    "throttle", "session_flag", "poll_interval", "stage", "local", "slurm",
	    NULL };
	static const char *const skeys[] = { "runtime", "backend", "scratch",
	    "session_flag", NULL };
	static const char *const ikeys[] = { "cpus", "mem_mb", "time_min",
	    "max_attempts", "throttle", NULL };
	char path[64];
	int i, r, b;

	if (rtc_config_get(ctx->conf, "batch") == NULL)
		return RTC_OK;
	r = rtc_config_check_keys(ctx->conf, "batch", known, cause);
	if (r != RTC_OK)
		return r;
	for (i = 0; skeys[i] != NULL; i++) {
		const char *v;

		snprintf(path, sizeof(path), "batch.%s", skeys[i]);
		r = rtc_config_string(ctx->conf, path, &v, cause);
		if (r == RTC_OK)
			json_object_set_new(args, skeys[i], json_string(v));
		else if (r != RTC_ERR_NOT_FOUND)
			return r;
	}
	for (i = 0; ikeys[i] != NULL; i++) {
		long long v;

		snprintf(path, sizeof(path), "batch.%s", ikeys[i]);
		r = rtc_config_int(ctx->conf, path, &v, cause);
		if (r == RTC_OK)
			json_object_set_new(args, ikeys[i], json_integer(v));
		else if (r != RTC_ERR_NOT_FOUND)
			return r;
	}
	r = rtc_config_bool(ctx->conf, "batch.keep_work", &b, cause);
	if (r == RTC_OK)
		json_object_set_new(args, "keep_work", json_boolean(b));
	else if (r != RTC_ERR_NOT_FOUND)
		return r;
	return RTC_OK;
}

/* Fetch a remote DATASET into the stage and point args at it. */
static int
stage(struct rtc_ctx *ctx, json_t *args, const char *root, char **cause)
{
	struct rtc_stage_opts so;
	struct rtc_stage_result res;
	json_t *a = json_object_get(args, "labels");
	const char **labels;
	size_t i;
	int r;

	memset(&so, 0, sizeof(so));
	so.dataset = json_string_value(json_object_get(args, "dataset"));
	so.root = root;
	so.nlabels = json_array_size(a);
	so.progress = !ctx->quiet;
	labels = calloc(so.nlabels + 1, sizeof(*labels));
	if (labels == NULL)
		return RTC_ERR_NOMEM;
	for (i = 0; i < so.nlabels; i++)
		labels[i] = json_string_value(json_array_get(a, i));
	so.labels = labels;
	r = rtc_stage_dataset(ctx, &so, &res, cause);
	free(labels);
	if (r != RTC_OK)
		return r;
	if (!ctx->quiet)
		fprintf(stderr, "rtc submit: %s staged in %s (%zu files, %zu "
		    "fetched now)\n", so.dataset, res.dir, res.files, res.fetched);
	json_object_set_new(args, "dataset", json_string(res.dir));
	json_object_set_new(args, "source_url", json_string(res.url));
	if (res.doi != NULL)
		json_object_set_new(args, "source_doi", json_string(res.doi));
	rtc_stage_result_clear(&res);
	return RTC_OK;
}

static int
submit_exec(struct rtc_ctx *ctx, int argc, char **argv)
{
	enum { O_APP = 256, O_RUNTIME, O_BACKEND, O_LABEL, O_PERSES, O_REQUIRE,
	    O_CPUS, O_MEM, O_TIME, O_ATTEMPTS, O_BIND, O_ENV, O_RTARG, O_SCRATCH,
	    O_KEEP, O_WORKFLAG, O_SESFLAG, O_THROTTLE, O_DRY, O_JSON, O_WAIT,
	    O_STAGE };
	static const struct option opts[] = {
		{ "app", required_argument, NULL, O_APP },
		{ "runtime", required_argument, NULL, O_RUNTIME },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "participant-label", required_argument, NULL, O_LABEL },
		{ "participant_label", required_argument, NULL, O_LABEL },
		{ "per-session", no_argument, NULL, O_PERSES },
		{ "require", required_argument, NULL, O_REQUIRE },
		{ "output", required_argument, NULL, 'o' },
		{ "cpus", required_argument, NULL, O_CPUS },
		{ "mem", required_argument, NULL, O_MEM },
		{ "time", required_argument, NULL, O_TIME },
		{ "max-attempts", required_argument, NULL, O_ATTEMPTS },
		{ "bind", required_argument, NULL, O_BIND },
		{ "env", required_argument, NULL, O_ENV },
		{ "runtime-arg", required_argument, NULL, O_RTARG },
		{ "scratch", required_argument, NULL, O_SCRATCH },
		{ "keep-work", no_argument, NULL, O_KEEP },
		{ "work-flag", required_argument, NULL, O_WORKFLAG },
		{ "session-flag", required_argument, NULL, O_SESFLAG },
		{ "throttle", required_argument, NULL, O_THROTTLE },
		{ "stage", required_argument, NULL, O_STAGE },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "json", no_argument, NULL, O_JSON },
		{ "wait", no_argument, NULL, O_WAIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry *e = &cmd_submit_entry;
	json_t *args = NULL, *res = NULL, *v;
	const char *work_flag = NULL, *runtime, *stage_root = NULL;
	char *cause = NULL, *s;
	int c, nopt, i, dry = 0, as_json = 0, wait = 0, rc = 0, r;
	long n;

	/* everything after "--" goes to the app */
	for (nopt = 1; nopt < argc && strcmp(argv[nopt], "--") != 0; nopt++)
		;
	args = json_pack("{s:s,s:s,s:i,s:i,s:i,s:i}", "runtime", "podman",
	    "backend", "local", "cpus", 1, "mem_mb", 4096, "time_min", 1440,
	    "max_attempts", 3);
	if (args == NULL)
		return cmd_fail(e, RTC_ERR_NOMEM, NULL);
	if ((r = conf_defaults(ctx, args, &cause)) != RTC_OK) {
		json_decref(args);
		rtc_cause_wrap(&cause, "rtc.conf");
		cmd_fail(e, r, &cause);
		return 78;
	}
	while ((c = getopt_long(nopt, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			json_decref(args);
			return cmd_show_help(e);
		case O_APP:
			json_object_set_new(args, "app", json_string(optarg));
			break;
		case O_RUNTIME:
			if (!rtc_jobscript_runtime_known(optarg)) {
				json_decref(args);
				return cmd_usage_error(e, "--runtime: podman, docker, "
				    "apptainer, singularity or none");
			}
			json_object_set_new(args, "runtime", json_string(optarg));
			break;
		case O_BACKEND:
			if (strcmp(optarg, "local") != 0 && strcmp(optarg, "slurm") != 0) {
				json_decref(args);
				return cmd_usage_error(e, "--backend: local or slurm");
			}
			json_object_set_new(args, "backend", json_string(optarg));
			break;
		case O_LABEL:
			append(args, "labels", optarg);
			break;
		case O_PERSES:
			json_object_set_new(args, "per_session", json_true());
			break;
		case O_REQUIRE:
			append(args, "required", optarg);
			break;
		case 'o':
			s = absolute(optarg);
			json_object_set_new(args, "output", json_string(s ? s : optarg));
			free(s);
			break;
		case O_CPUS:
			if (cmd_parse_long(optarg, 1, 4096, &n) != 0) {
				json_decref(args);
				return cmd_usage_error(e, "--cpus: a number from 1 to 4096");
			}
			json_object_set_new(args, "cpus", json_integer(n));
			break;
		case O_MEM:
			if (parse_mem(optarg, &n) != 0) {
				json_decref(args);
				return cmd_usage_error(e, "--mem: megabytes, like 4096, "
				    "500M or 16G");
			}
			json_object_set_new(args, "mem_mb", json_integer(n));
			break;
		case O_TIME:
			if (parse_time(optarg, &n) != 0) {
				json_decref(args);
				return cmd_usage_error(e, "--time: minutes, like 90, 2h "
				    "or 1:30:00");
			}
			json_object_set_new(args, "time_min", json_integer(n));
			break;
		case O_ATTEMPTS:
			if (cmd_parse_long(optarg, 1, 100, &n) != 0) {
				json_decref(args);
				return cmd_usage_error(e, "--max-attempts: 1 to 100");
			}
			json_object_set_new(args, "max_attempts", json_integer(n));
			break;
		case O_BIND:
			append(args, "binds", optarg);
			break;
		case O_ENV:
			append(args, "env", optarg);
			break;
		case O_RTARG:
			append(args, "runtime_args", optarg);
			break;
		case O_SCRATCH:
			s = absolute(optarg);
			json_object_set_new(args, "scratch", json_string(s ? s : optarg));
			free(s);
			break;
		case O_KEEP:
			json_object_set_new(args, "keep_work", json_true());
			break;
		case O_WORKFLAG:
			work_flag = optarg;
			break;
		case O_SESFLAG:
			json_object_set_new(args, "session_flag", json_string(optarg));
			break;
		case O_THROTTLE:
			if (cmd_parse_long(optarg, 0, 1000000, &n) != 0) {
				json_decref(args);
				return cmd_usage_error(e, "--throttle: a number");
			}
			json_object_set_new(args, "throttle", json_integer(n));
			break;
		case O_STAGE:
			stage_root = optarg;
			break;
		case O_DRY:
			dry = 1;
			break;
		case O_JSON:
			as_json = 1;
			break;
		case O_WAIT:
			wait = 1;
			break;
		default:
			json_decref(args);
			return cmd_usage_error(e, "unknown option");
		}
	}
	if (optind != nopt - 1) {
		json_decref(args);
		return cmd_usage_error(e, optind >= nopt ? "which DATASET?" :
		    "one DATASET only");
	}
	if (json_object_get(args, "app") == NULL) {
		json_decref(args);
		return cmd_usage_error(e, "--app is required: the BIDS App's image "
		    "(or command, with --runtime none)");
	}
	/* a local directory travels as an absolute path; remote sources as
	 * they are (the daemon's planner says what it makes of them) */
	if (!rtc_fs_is_dir(argv[optind]) && (strstr(argv[optind], "://") !=
	    NULL || (strncmp(argv[optind], "ds", 2) == 0 &&
	    strspn(argv[optind] + 2, "0123456789") == 6)))
		s = strdup(argv[optind]);
	else
		s = absolute(argv[optind]);
	json_object_set_new(args, "dataset", json_string(s ? s : argv[optind]));
	free(s);
	for (i = nopt + 1; i < argc; i++)
		append(args, "app_args", argv[i]);
	if (work_flag != NULL) {
		append(args, "app_args", work_flag);
		append(args, "app_args", "{work}");
	}
	runtime = json_string_value(json_object_get(args, "runtime"));
	if (strcmp(runtime, "none") == 0) {
		const char *app = json_string_value(json_object_get(args, "app"));

		s = resolve_command(app);
		if (s == NULL) {
			fprintf(stderr, "rtc submit: %s: no such command (with "
			    "--runtime none, --app names a program on this machine)\n",
			    app);
			json_decref(args);
			return 66;
		}
		json_object_set_new(args, "app", json_string(s));
		free(s);
	}
	{
		const char **b = NULL, **en = NULL;
		json_t *ba = json_object_get(args, "binds");
		json_t *ea = json_object_get(args, "env");
		size_t k;

		b = calloc(json_array_size(ba) + 1, sizeof(*b));
		en = calloc(json_array_size(ea) + 1, sizeof(*en));
		for (k = 0; b != NULL && k < json_array_size(ba); k++)
			b[k] = json_string_value(json_array_get(ba, k));
		for (k = 0; en != NULL && k < json_array_size(ea); k++)
			en[k] = json_string_value(json_array_get(ea, k));
		r = b != NULL && en != NULL ? rtc_jobscript_check(runtime, b,
		    json_array_size(ba), en, json_array_size(ea), &cause) :
		    RTC_ERR_NOMEM;
		free(b);
		free(en);
		if (r != RTC_OK) {
			json_decref(args);
			fprintf(stderr, "rtc submit: %s\n", cause ? cause : "bad option");
			free(cause);
			return EXIT_USAGE;
		}
	}
	/* a remote dataset is fetched here, with progress, before anything
	 * is planned: rtcd and the jobs see a local directory */
	if (rtc_stage_is_remote(json_string_value(json_object_get(args,
	    "dataset")))) {
		r = stage(ctx, args, stage_root, &cause);
		if (r != RTC_OK) {
			json_decref(args);
			return cmd_fail(e, r, &cause);
		}
	}
	if (dry) {
		rc = dry_run(ctx, args, as_json);
		json_decref(args);
		return rc;
	}
	rc = batch_call(ctx, e, "submit", args, &res);
	json_decref(args);
	if (rc != 0)
		return rc;
	if (as_json && !wait) {
		json_dumpf(res, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		json_t *st = json_object_get(res, "status");
		json_t *sk = json_object_get(res, "skipped"), *j;
		size_t k;
		const char *run = json_string_value(json_object_get(res, "run"));

		printf("run %s: %lld job%s on %s (%lld queued, %lld submitted)\n",
		    run, (long long)json_integer_value(json_object_get(res, "njobs")),
		    json_integer_value(json_object_get(res, "njobs")) == 1 ? "" : "s",
		    json_string_value(json_object_get(st, "backend")),
		    (long long)json_integer_value(json_object_get(
		    json_object_get(st, "counts"), "queued")),
		    (long long)(json_integer_value(json_object_get(
		    json_object_get(st, "counts"), "submitted")) +
		    json_integer_value(json_object_get(json_object_get(st, "counts"),
		    "running"))));
		printf("  output: %s\n", json_string_value(json_object_get(res,
		    "output")));
		json_array_foreach(sk, k, j)
			printf("  skipped sub-%s: %s\n", json_string_value(
			    json_object_get(j, "participant")),
			    json_string_value(json_object_get(j, "reason")));
		if ((v = json_object_get(res, "note")) != NULL)
			printf("  note: %s\n", json_string_value(v));
		if (!wait)
			printf("follow it with 'rtc status %s', 'rtc wait %s' or 'rtc "
			    "logs %s --sub LABEL'\n", run, run, run);
		fflush(stdout);
		if (wait) {
			char *id = strdup(run);

			json_decref(res);
			rc = id ? batch_wait_run(ctx, e, id, 0) : 70;
			free(id);
			return rc;
		}
	}
	json_decref(res);
	return 0;
}
