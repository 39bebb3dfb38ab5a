/*
 * slurm: jobs as Slurm job arrays, through the command line tools (the
 * default: libslurm's ABI changes with every release) or, built
 * --with-slurm and asked for with [batch.slurm] api = "lib", through
 * libslurm for reading the configuration, polling and cancelling. All
 * libslurm calls live in this file.
 *
 * Submission: tasks with the same resources go into one array per chunk.
 * A chunk's array indices are job index - offset, below the cluster's
 * MaxArraySize (read once from `scontrol show config`); the chunk's name
 * is "<token>-o<offset>", so a daemon that lost the job id finds the
 * array by its name and maps task T back to job offset + T. MaxSubmitJobs
 * of the user's association (sacctmgr), when set, caps how many tasks go
 * in; the rest wait for a later try. `%N` throttles a run's running tasks.
 *
 * State: `sacct --parsable2` first (it remembers finished jobs), then
 * `squeue -t all` for what sacct does not know yet (it lags behind
 * submissions). A job in neither is reported LOST: a finished job leaves
 * squeue MinJobAge seconds after it ends, and the core then reads the job
 * script's own status file.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef HAVE_LIBSLURM
#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#endif

#include "backends.h"
#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "jobscript.h"
#include "process.h"

#define CMD_TIMEOUT_MS 60000
#define CMD_OUT_MAX (64u * 1024 * 1024)

struct slurm {
	struct rtc_ctx *ctx;
	pthread_mutex_t mu;
	int loaded;
	long max_array_size;     /* tasks per array: indices 0 .. size-1 */
	long max_array_conf;     /* [batch.slurm] max_array_size cap */
	long max_job_count;
	long max_submit;         /* MaxSubmitJobs of the association; 0: none */
	long min_job_age;
	int use_lib;
	char *user;
	char *partition;
	char *account;
	char *qos;
	char **extra;            /* more sbatch options */
	size_t nextra;
};

/* ---- running the tools ---- */

/* Run argv. OUT: out (stdout), *code. RET: RTC_OK when it ran. */
static int
run(struct slurm *s, const char *const *argv, struct rtc_buf *out,
    int *code, char **cause)
{
	struct rtc_buf err;
	int status = 0, r;

	rtc_buf_init(&err, 64 * 1024);
	r = rtc_process_run(argv, NULL, NULL, out, &err, CMD_TIMEOUT_MS, &status,
	    cause);
	if (r == RTC_OK) {
		*code = rtc_process_exit_status(status);
		if (*code != 0) {
			while (err.len > 0 && isspace((unsigned char)err.data[err.len - 1]))
				err.data[--err.len] = '\0';
			rtc_cause_set(cause, "%s: %s", argv[0], err.len ? err.data :
			    "failed");
		}
	} else if (r == RTC_ERR_NOT_FOUND) {
		rtc_cause_set(cause, "%s is not installed on this machine: the slurm "
		    "backend needs Slurm's commands (sbatch, sacct, squeue, scancel)",
		    argv[0]);
		r = RTC_ERR_UNAVAILABLE;
	}
	rtc_debug(s->ctx, SLURM, "%s ... -> %s (exit %d)", argv[0],
	    rtc_strerror(r), r == RTC_OK ? *code : -1);
	rtc_buf_free(&err);
	return r;
}

/* RET: an error code for a tool's complaint: temporary or not. */
static int
classify(const char *msg)
{
	static const char *const temporary[] = {
		"Unable to contact slurm controller", "Socket timed out",
		"temporarily unavailable", "Slurm temporarily unable",
		"Job submit/allocate failed: Resource temporarily",
		"submit limit", "MaxSubmitJobs", "AssocMaxSubmitJobLimit",
		"QOSMaxSubmitJobPerUserLimit", "Zero Bytes were transmitted",
		"Connection refused", "is not installed", NULL
	};
	int i;

	for (i = 0; msg != NULL && temporary[i] != NULL; i++)
		if (strstr(msg, temporary[i]) != NULL)
			return RTC_ERR_AGAIN;
	return RTC_ERR_INVAL;
}

static long
num_after(const char *text, const char *key)
{
	const char *p = text;
	size_t n = strlen(key);

	while ((p = strstr(p, key)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == ' ' || p[n] == '=')) {
			p += n;
			while (*p == ' ' || *p == '=')
				p++;
			return strtol(p, NULL, 10);
		}
		p += n;
	}
	return -1;
}

/* Read the cluster's limits once (under s->mu). */
static int
load_config(struct slurm *s, char **cause)
{
	struct rtc_buf out;
	int code = 0, r;

	if (s->loaded)
		return RTC_OK;
#ifdef HAVE_LIBSLURM
	if (s->use_lib) {
		slurm_conf_t *conf = NULL;

		if (slurm_load_ctl_conf((time_t)0, &conf) != SLURM_SUCCESS) {
			rtc_cause_set(cause, "slurm_load_ctl_conf: %s",
			    slurm_strerror(slurm_get_errno()));
			return RTC_ERR_UNAVAILABLE;
		}
		s->max_array_size = (long)conf->max_array_sz;
		s->max_job_count = (long)conf->max_job_cnt;
		s->min_job_age = (long)conf->min_job_age;
		slurm_free_ctl_conf(conf);
		goto assoc;
	}
#endif
	{
		const char *argv[] = { "scontrol", "show", "config", NULL };

		rtc_buf_init(&out, CMD_OUT_MAX);
		r = run(s, argv, &out, &code, cause);
		if (r == RTC_OK && code != 0)
			r = RTC_ERR_UNAVAILABLE;
		if (r != RTC_OK) {
			rtc_buf_free(&out);
			rtc_cause_wrap(cause, "reading the cluster's configuration");
			return r;
		}
		s->max_array_size = num_after(out.data ? out.data : "",
		    "MaxArraySize");
		s->max_job_count = num_after(out.data ? out.data : "",
		    "MaxJobCount");
		s->min_job_age = num_after(out.data ? out.data : "", "MinJobAge");
		rtc_buf_free(&out);
	}
#ifdef HAVE_LIBSLURM
assoc:
#endif
	if (s->max_array_size <= 1)
		s->max_array_size = 1001;
	if (s->max_array_conf > 0 && s->max_array_conf < s->max_array_size)
		s->max_array_size = s->max_array_conf;
	{
		/* MaxSubmitJobs of our association, when accounting knows one */
		char where[300];
		const char *argv[] = { "sacctmgr", "-n", "-P", "show", "assoc",
		    where, "format=MaxSubmit", NULL };

		snprintf(where, sizeof(where), "user=%s", s->user);
		rtc_buf_init(&out, 1024 * 1024);
		if (run(s, argv, &out, &code, NULL) == RTC_OK && code == 0 &&
		    out.data != NULL) {
			char *line = out.data;

			s->max_submit = 0;
			while (line != NULL && *line != '\0') {
				long v = strtol(line, NULL, 10);

				if (v > 0 && (s->max_submit == 0 || v < s->max_submit))
					s->max_submit = v;
				line = strchr(line, '\n');
				if (line != NULL)
					line++;
			}
		}
		rtc_buf_free(&out);
	}
	rtc_log(s->ctx, INFO, "slurm: MaxArraySize %ld, MaxJobCount %ld, "
	    "MaxSubmitJobs %ld, MinJobAge %ld s", s->max_array_size,
	    s->max_job_count, s->max_submit, s->min_job_age);
	s->loaded = 1;
	return RTC_OK;
}

/* ---- open / close ---- */

static int
conf_str(json_t *conf, const char *key, char **out, char **cause)
{
	json_t *v = json_object_get(conf, key);

	if (v == NULL)
		return RTC_OK;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > 256) {
		rtc_cause_set(cause, "[batch.slurm] %s must be a string", key);
		return RTC_ERR_INVAL;
	}
	*out = strdup(json_string_value(v));
	return *out != NULL ? RTC_OK : RTC_ERR_NOMEM;
}

static void
slurm_close(void *state)
{
	struct slurm *s = state;
	size_t i;

	if (s == NULL)
		return;
#ifdef HAVE_LIBSLURM
	if (s->use_lib)
		slurm_fini();
#endif
	free(s->user);
	free(s->partition);
	free(s->account);
	free(s->qos);
	for (i = 0; i < s->nextra; i++)
		free(s->extra[i]);
	free(s->extra);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static int
slurm_open(struct rtc_ctx *ctx, json_t *conf, void **state, char **cause)
{
	struct slurm *s;
	struct passwd *pw;
	json_t *v;
	size_t i;
	int r;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return RTC_ERR_NOMEM;
	s->ctx = ctx;
	pthread_mutex_init(&s->mu, NULL);
	pw = getpwuid(geteuid());
	s->user = strdup(pw != NULL ? pw->pw_name : "root");
	if (s->user == NULL) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	if ((r = conf_str(conf, "partition", &s->partition, cause)) != RTC_OK ||
	    (r = conf_str(conf, "account", &s->account, cause)) != RTC_OK ||
	    (r = conf_str(conf, "qos", &s->qos, cause)) != RTC_OK)
		goto fail;
	v = json_object_get(conf, "max_array_size");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			rtc_cause_set(cause, "[batch.slurm] max_array_size must be a "
			    "positive integer");
			r = RTC_ERR_INVAL;
			goto fail;
		}
		s->max_array_conf = (long)json_integer_value(v);
	}
	v = json_object_get(conf, "api");
	if (v != NULL) {
		const char *api = json_string_value(v);

		if (api == NULL || (strcmp(api, "cli") != 0 &&
		    strcmp(api, "lib") != 0)) {
			rtc_cause_set(cause, "[batch.slurm] api must be \"cli\" or "
			    "\"lib\"");
			r = RTC_ERR_INVAL;
			goto fail;
		}
#ifndef HAVE_LIBSLURM
		if (strcmp(api, "lib") == 0) {
			rtc_cause_set(cause, "[batch.slurm] api = \"lib\" needs rtc "
			    "built with --with-slurm");
			r = RTC_ERR_UNSUPPORTED;
			goto fail;
		}
#endif
		s->use_lib = strcmp(api, "lib") == 0;
#ifdef HAVE_LIBSLURM
		/* once per process, before any other libslurm call */
		if (s->use_lib)
			slurm_init(NULL);
#endif
	}
	v = json_object_get(conf, "sbatch_args");
	if (v != NULL) {
		json_t *e;

		if (!json_is_array(v) || json_array_size(v) > 64) {
			rtc_cause_set(cause, "[batch.slurm] sbatch_args must be a list "
			    "of strings");
			r = RTC_ERR_INVAL;
			goto fail;
		}
		s->extra = calloc(json_array_size(v) + 1, sizeof(*s->extra));
		if (s->extra == NULL) {
			r = RTC_ERR_NOMEM;
			goto fail;
		}
		json_array_foreach(v, i, e) {
			if (!json_is_string(e) ||
			    strncmp(json_string_value(e), "--", 2) != 0) {
				rtc_cause_set(cause, "[batch.slurm] sbatch_args: each entry "
				    "must be one --option=value");
				r = RTC_ERR_INVAL;
				goto fail;
			}
			if ((s->extra[s->nextra] = strdup(json_string_value(e))) == NULL) {
				r = RTC_ERR_NOMEM;
				goto fail;
			}
			s->nextra++;
		}
	}
	*state = s;
	return RTC_OK;
fail:
	slurm_close(s);
	return r;
}

static long
slurm_capacity(void *state)
{
	(void)state;
	return -1;
}

/* ---- submitting ---- */

static int
cmp_task(const void *a, const void *b)
{
	const struct rtc_backend_task *x = *(struct rtc_backend_task *const *)a;
	const struct rtc_backend_task *y = *(struct rtc_backend_task *const *)b;

	if (x->cpus != y->cpus)
		return x->cpus < y->cpus ? -1 : 1;
	if (x->mem_mb != y->mem_mb)
		return x->mem_mb < y->mem_mb ? -1 : 1;
	if (x->time_min != y->time_min)
		return x->time_min < y->time_min ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* "0-3,5,7-9" from sorted indices minus offset. */
static int
array_spec(struct rtc_buf *b, struct rtc_backend_task **t, size_t n,
    int offset, int throttle)
{
	size_t i = 0, j;
	int r = RTC_OK;

	while (i < n && r == RTC_OK) {
		j = i;
		while (j + 1 < n && t[j + 1]->idx == t[j]->idx + 1)
			j++;
		if (i > 0)
			r = rtc_buf_append(b, ",", 1);
		if (r == RTC_OK && j == i)
			r = rtc_buf_printf(b, "%d", t[i]->idx - offset);
		else if (r == RTC_OK)
			r = rtc_buf_printf(b, "%d-%d", t[i]->idx - offset,
			    t[j]->idx - offset);
		i = j + 1;
	}
	if (r == RTC_OK && throttle > 0)
		r = rtc_buf_printf(b, "%%%d", throttle);
	return r;
}

/* Tasks of ours queued now, for MaxSubmitJobs. */
static long
queued_jobs(struct slurm *s)
{
	const char *argv[] = { "squeue", "-h", "-r", "-u", s->user, "-o", "%i",
	    NULL };
	struct rtc_buf out;
	long n = 0;
	size_t i;
	int code = 0;

	rtc_buf_init(&out, CMD_OUT_MAX);
	if (run(s, argv, &out, &code, NULL) == RTC_OK && code == 0)
		for (i = 0; i < out.len; i++)
			n += out.data[i] == '\n';
	rtc_buf_free(&out);
	return n;
}

static int
write_wrapper(const struct rtc_backend_submit *sub, const char *path,
    char **cause)
{
	struct rtc_buf b;
	char *tmpl = NULL;
	int r;

	r = rtc_tmpl_load(sub->template_dir, "sbatch.sh", &tmpl, cause);
	if (r != RTC_OK)
		return r;
	rtc_buf_init(&b, 0);
	{
		const struct rtc_tmpl_var v[] = {
			{ "JOBS_DIR", sub->jobs_dir, 0 },
		};

		r = rtc_tmpl_render(tmpl, v, 1, &b, cause);
	}
	if (r == RTC_OK)
		r = rtc_fs_write_atomic(path, b.data, b.len, 0700, 0, cause);
	rtc_buf_free(&b);
	free(tmpl);
	return r;
}

static int
sbatch_chunk(struct slurm *s, struct rtc_backend_submit *sub,
    const char *wrapper, struct rtc_backend_task **t, size_t n, char **cause)
{
	struct rtc_buf spec, out;
	char name[RTC_JOB_ID_MAX + 16], array[64], cpus[32], mem[32], tm[32];
	char outp[4200], chdir[4200], offs[16];
	const char *argv[32 + 64];
	size_t a = 0, i;
	int offset = t[0]->idx, code = 0, r;
	long jobid;
	char *end;

	rtc_buf_init(&spec, 1024 * 1024);
	rtc_buf_init(&out, 64 * 1024);
	r = array_spec(&spec, t, n, offset, sub->throttle);
	if (r != RTC_OK)
		goto out;
	snprintf(name, sizeof(name), "--job-name=%s-o%d", sub->token, offset);
	snprintf(cpus, sizeof(cpus), "--cpus-per-task=%d", t[0]->cpus);
	snprintf(mem, sizeof(mem), "--mem=%ldM", t[0]->mem_mb);
	snprintf(tm, sizeof(tm), "--time=%ld", t[0]->time_min);
	snprintf(outp, sizeof(outp), "--output=%s/slurm/%%A_%%a.out",
	    sub->run_dir);
	snprintf(chdir, sizeof(chdir), "--chdir=%s", sub->run_dir);
	snprintf(offs, sizeof(offs), "%d", offset);
	argv[a++] = "sbatch";
	argv[a++] = "--parsable";
	argv[a++] = name;
	argv[a++] = "--array";
	argv[a++] = spec.data;
	argv[a++] = cpus;
	argv[a++] = mem;
	argv[a++] = tm;
	argv[a++] = outp;
	argv[a++] = chdir;
	if (s->partition != NULL) {
		argv[a++] = "--partition";
		argv[a++] = s->partition;
	}
	if (s->account != NULL) {
		argv[a++] = "--account";
		argv[a++] = s->account;
	}
	if (s->qos != NULL) {
		argv[a++] = "--qos";
		argv[a++] = s->qos;
	}
	for (i = 0; i < s->nextra; i++)
		argv[a++] = s->extra[i];
	argv[a++] = wrapper;
	argv[a++] = offs;
	argv[a] = NULL;
	(void)array;
	r = run(s, argv, &out, &code, cause);
	if (r == RTC_OK && code != 0)
		r = classify(cause ? *cause : NULL);
	if (r != RTC_OK)
		goto out;
	errno = 0;
	jobid = strtol(out.data ? out.data : "", &end, 10);
	if (errno != 0 || jobid <= 0 || (*end != '\n' && *end != ';' &&
	    *end != '\0')) {
		rtc_cause_set(cause, "sbatch answered '%.80s', not a job id",
		    out.data ? out.data : "");
		r = RTC_ERR_PROTO;
		goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf(t[i]->backend_id, sizeof(t[i]->backend_id), "%ld_%d", jobid,
		    t[i]->idx - offset);
		sub->nsubmitted++;
	}
	rtc_log(s->ctx, INFO, "slurm: %s: job array %ld of %zu task%s", sub->token,
	    jobid, n, n == 1 ? "" : "s");
out:
	rtc_buf_free(&spec);
	rtc_buf_free(&out);
	return r;
}

static int
slurm_submit(void *state, struct rtc_backend_submit *sub, char **cause)
{
	struct slurm *s = state;
	struct rtc_backend_task **t = NULL;
	char *wrapper = NULL, *logdir = NULL;
	size_t i, j, k;
	long allowance = -1;
	int r;

	sub->nsubmitted = 0;
	pthread_mutex_lock(&s->mu);
	r = load_config(s, cause);
	pthread_mutex_unlock(&s->mu);
	if (r != RTC_OK)
		return r == RTC_ERR_UNAVAILABLE ? RTC_ERR_AGAIN : r;
	if (sub->ntasks == 0)
		return RTC_OK;
	t = calloc(sub->ntasks, sizeof(*t));
	if (asprintf(&wrapper, "%s/sbatch.sh", sub->run_dir) < 0)
		wrapper = NULL;
	if (asprintf(&logdir, "%s/slurm", sub->run_dir) < 0)
		logdir = NULL;
	if (t == NULL || wrapper == NULL || logdir == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	if ((r = write_wrapper(sub, wrapper, cause)) != RTC_OK ||
	    (r = rtc_fs_mkdir_p(logdir, 0700, cause)) != RTC_OK)
		goto out;
	for (i = 0; i < sub->ntasks; i++)
		t[i] = &sub->tasks[i];
	qsort(t, sub->ntasks, sizeof(*t), cmp_task);
	if (s->max_submit > 0) {
		allowance = s->max_submit - queued_jobs(s);
		if (allowance <= 0) {
			rtc_cause_set(cause, "MaxSubmitJobs (%ld) reached: your jobs "
			    "fill the queue", s->max_submit);
			r = RTC_ERR_AGAIN;
			goto out;
		}
	}
	/* chunks: same resources, indices within MaxArraySize of the first */
	for (i = 0; i < sub->ntasks && r == RTC_OK; i = j) {
		for (j = i + 1; j < sub->ntasks; j++) {
			if (t[j]->cpus != t[i]->cpus ||
			    t[j]->mem_mb != t[i]->mem_mb ||
			    t[j]->time_min != t[i]->time_min)
				break;
			if (t[j]->idx - t[i]->idx >= s->max_array_size)
				break;
			if (allowance >= 0 && (long)(j - i) >= allowance)
				break;
		}
		k = j - i;
		r = sbatch_chunk(s, sub, wrapper, t + i, k, cause);
		if (r == RTC_OK && allowance >= 0) {
			allowance -= (long)k;
			if (allowance <= 0 && j < sub->ntasks) {
				rtc_cause_set(cause, "MaxSubmitJobs (%ld) reached: the "
				    "rest waits", s->max_submit);
				r = RTC_ERR_AGAIN;
			}
		}
	}
out:
	free(t);
	free(wrapper);
	free(logdir);
	return r;
}

/* ---- polling ---- */

/* A state seen for array A, tasks lo..hi (hi = lo for one task). */
struct seen {
	long job;
	long lo, hi;
	int exact;               /* one task, not a range */
	enum rtc_sched_state state;
	int exit_code;
	char name[RTC_JOB_ID_MAX + 16];
	char reason[64];
};

struct seenv {
	struct seen *v;
	size_t n, cap;
};

static int
seen_add(struct seenv *sv, const struct seen *e)
{
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 256;
		struct seen *nv = realloc(sv->v, cap * sizeof(*nv));

		if (nv == NULL)
			return RTC_ERR_NOMEM;
		sv->v = nv;
		sv->cap = cap;
	}
	sv->v[sv->n++] = *e;
	return RTC_OK;
}

/* Parse "123_4" or "123_[4-9,12%2]" and add what it says. A bare "123"
 * is skipped: rtc submits arrays only, and sacct briefly shows a bare
 * record for an array whose tasks end (with the state of one of them). */
static int
parse_jobid(struct seenv *sv, const char *id, struct seen *proto)
{
	char *end;
	long job;

	errno = 0;
	job = strtol(id, &end, 10);
	if (errno != 0 || job <= 0)
		return RTC_OK;
	proto->job = job;
	if (*end != '_')
		return RTC_OK;
	id = end + 1;
	if (*id != '[') {
		proto->lo = proto->hi = strtol(id, &end, 10);
		if (end == id || (*end != '\0'))
			return RTC_OK;   /* a step ("123_4.batch") */
		proto->exact = 1;
		return seen_add(sv, proto);
	}
	id++;
	proto->exact = 0;
	while (*id != '\0' && *id != ']' && *id != '%') {
		long lo = strtol(id, &end, 10), hi = lo;

		if (end == id)
			break;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		proto->lo = lo;
		proto->hi = hi;
		if (seen_add(sv, proto) != RTC_OK)
			return RTC_ERR_NOMEM;
		id = end;
		if (*id == ',')
			id++;
	}
	return RTC_OK;
}

/* Split "a|b|c|d" in place into at most n fields. RET: how many. */
static int
fields(char *line, char **f, int n)
{
	int i = 0;

	while (i < n) {
		f[i++] = line;
		line = strchr(line, '|');
		if (line == NULL)
			break;
		*line++ = '\0';
	}
	return i;
}

/* sacct's "CODE:SIGNAL". RET: 128 + a signal that ended the job, else
 * the exit code; -1 when unknown or out of range (0..255). */
static int
exit_code_of(const char *s)
{
	long code, sig = 0;
	char *end;

	code = strtol(s, &end, 10);
	if (end == s)
		return -1;
	if (*end == ':')
		sig = strtol(end + 1, NULL, 10);
	if (sig > 0)
		return sig < 128 ? (int)(128 + sig) : -1;
	return code >= 0 && code <= 255 ? (int)code : -1;
}

/* Run sacct (name: NULL) or squeue over ids and collect what they say. */
static int
ask_cli(struct slurm *s, int use_sacct, const char *ids, const char *since,
    struct seenv *sv, char **cause)
{
	struct rtc_buf out;
	const char *argv[16];
	char jobs[65536], start[64], user[300];
	size_t a = 0;
	char *line, *next;
	int code = 0, r;

	if (ids != NULL && (size_t)snprintf(jobs, sizeof(jobs), "--jobs=%s",
	    ids) >= sizeof(jobs)) {
		rtc_cause_set(cause, "too many job ids in one query");
		return RTC_ERR_TOO_BIG;
	}
	snprintf(user, sizeof(user), "--user=%s", s->user);
	if (use_sacct) {
		argv[a++] = "sacct";
		argv[a++] = "--parsable2";
		argv[a++] = "--noheader";
		argv[a++] = "--allocations";
		argv[a++] = "--format=JobID,State,ExitCode,JobName,Reason";
		if (ids != NULL) {
			argv[a++] = jobs;
		} else {
			snprintf(start, sizeof(start), "--starttime=%s", since);
			argv[a++] = start;
			argv[a++] = user;
		}
	} else {
		argv[a++] = "squeue";
		argv[a++] = "--noheader";
		argv[a++] = "--array";
		argv[a++] = "--states=all";
		argv[a++] = "--format=%i|%T|-|%j|%r";
		argv[a++] = ids != NULL ? jobs : user;
	}
	argv[a] = NULL;
	rtc_buf_init(&out, CMD_OUT_MAX);
	r = run(s, argv, &out, &code, cause);
	if (r == RTC_OK && code != 0) {
		/* squeue over ids it no longer knows at all says so and fails */
		if (!use_sacct && cause != NULL && *cause != NULL &&
		    strstr(*cause, "Invalid job id") != NULL) {
			free(*cause);
			*cause = NULL;
		} else {
			r = RTC_ERR_UNAVAILABLE;
		}
	}
	for (line = out.data; r == RTC_OK && line != NULL && *line != '\0';
	    line = next) {
		char *f[5] = { NULL, NULL, NULL, NULL, NULL };
		struct seen e;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (fields(line, f, 5) < 4)
			continue;
		memset(&e, 0, sizeof(e));
		if (rtc_sched_state_parse(f[1], &e.state) != RTC_OK)
			continue;
		e.exit_code = use_sacct ? exit_code_of(f[2]) : -1;
		snprintf(e.name, sizeof(e.name), "%s", f[3]);
		snprintf(e.reason, sizeof(e.reason), "%s", f[4] && f[4][0] &&
		    strcmp(f[4], "None") != 0 ? f[4] : "");
		r = parse_jobid(sv, f[0], &e);
	}
	rtc_buf_free(&out);
	return r;
}

#ifdef HAVE_LIBSLURM
static enum rtc_sched_state
lib_state(uint32_t st)
{
	switch (st & JOB_STATE_BASE) {
	case JOB_PENDING: return RTC_SCHED_PENDING;
	case JOB_RUNNING:
	case JOB_SUSPENDED: return RTC_SCHED_RUNNING;
	case JOB_COMPLETE: return RTC_SCHED_COMPLETED;
	case JOB_CANCELLED: return RTC_SCHED_CANCELLED;
	case JOB_FAILED: return RTC_SCHED_FAILED;
	case JOB_TIMEOUT:
	case JOB_DEADLINE: return RTC_SCHED_TIMEOUT;
	case JOB_NODE_FAIL:
	case JOB_PREEMPTED:
	case JOB_BOOT_FAIL: return RTC_SCHED_NODE_FAIL;
	case JOB_OOM: return RTC_SCHED_OOM;
	default: return RTC_SCHED_UNKNOWN;
	}
}

/* What slurmctld says of array jobs (the library's squeue). */
static int
ask_lib(struct slurm *s, const long *jobs, size_t n, struct seenv *sv,
    char **cause)
{
	size_t i;
	uint32_t k;

	(void)s;
	for (i = 0; i < n; i++) {
		job_info_msg_t *msg = NULL;

		if (slurm_load_job(&msg, (uint32_t)jobs[i], SHOW_ALL) !=
		    SLURM_SUCCESS) {
			if (slurm_get_errno() == ESLURM_INVALID_JOB_ID)
				continue;
			rtc_cause_set(cause, "slurm_load_job: %s",
			    slurm_strerror(slurm_get_errno()));
			return RTC_ERR_UNAVAILABLE;
		}
		for (k = 0; k < msg->record_count; k++) {
			slurm_job_info_t *j = &msg->job_array[k];
			struct seen e;

			memset(&e, 0, sizeof(e));
			e.job = j->array_job_id ? (long)j->array_job_id :
			    (long)j->job_id;
			e.state = lib_state(j->job_state);
			{
				int st = (int)j->exit_code;

				e.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) :
				    WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
			}
			if (j->name != NULL)
				snprintf(e.name, sizeof(e.name), "%s", j->name);
			if (j->array_task_str != NULL) {
				/* pending tasks as one record: "4-9%2" */
				char buf[1100];

				snprintf(buf, sizeof(buf), "%ld_[%s]", e.job,
				    j->array_task_str);
				if (parse_jobid(sv, buf, &e) != RTC_OK) {
					slurm_free_job_info_msg(msg);
					return RTC_ERR_NOMEM;
				}
				continue;
			}
			e.lo = e.hi = j->array_task_id == NO_VAL ? 0 :
			    (long)j->array_task_id;
			e.exact = 1;
			if (seen_add(sv, &e) != RTC_OK) {
				slurm_free_job_info_msg(msg);
				return RTC_ERR_NOMEM;
			}
		}
		slurm_free_job_info_msg(msg);
	}
	return RTC_OK;
}
#endif

static int
parse_backend_id(const char *id, long *job, long *task)
{
	char *end;

	*job = strtol(id, &end, 10);
	if (end == id || *end != '_')
		return -1;
	*task = strtol(end + 1, &end, 10);
	return *end == '\0' && *job > 0 && *task >= 0 ? 0 : -1;
}

/* Find what sv says of job/task: an exact record first, then a range. */
static const struct seen *
lookup(const struct seenv *sv, long job, long task)
{
	const struct seen *range = NULL;
	size_t i;

	for (i = 0; i < sv->n; i++) {
		const struct seen *e = &sv->v[i];

		if (e->job != job || task < e->lo || task > e->hi)
			continue;
		if (e->exact)
			return e;
		range = e;
	}
	return range;
}

/* For a query without an id: its token names the array "<token>-oN". */
static void
lookup_token(const struct seenv *sv, struct rtc_backend_query *q)
{
	size_t i, tl = strlen(q->token);

	for (i = 0; i < sv->n; i++) {
		const struct seen *e = &sv->v[i];
		long off, task;
		char *end;

		if (strncmp(e->name, q->token, tl) != 0 || e->name[tl] != '-' ||
		    e->name[tl + 1] != 'o')
			continue;
		if (!isdigit((unsigned char)e->name[tl + 2]))
			continue;
		errno = 0;
		off = strtol(e->name + tl + 2, &end, 10);
		if (*end != '\0' || errno != 0 || off > INT_MAX)
			continue;
		task = q->idx - off;
		if (task >= e->lo && task <= e->hi) {
			snprintf(q->backend_id, sizeof(q->backend_id), "%ld_%ld",
			    e->job, task);
			return;
		}
	}
}

static void
apply(const struct seenv *sv, struct rtc_backend_query *q, size_t n,
    int *missing)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct seen *e;
		long job, task;

		if (q[i].backend_id[0] == '\0' && q[i].token != NULL)
			lookup_token(sv, &q[i]);
		if (q[i].state != RTC_SCHED_UNKNOWN)
			continue;
		if (parse_backend_id(q[i].backend_id, &job, &task) != 0 ||
		    (e = lookup(sv, job, task)) == NULL) {
			(*missing)++;
			continue;
		}
		q[i].state = e->state;
		q[i].exit_code = e->exit_code;
		snprintf(q[i].reason, sizeof(q[i].reason), "%s", e->reason);
	}
}

static int
slurm_poll(void *state, struct rtc_backend_query *q, size_t n, char **cause)
{
	struct slurm *s = state;
	struct seenv sv = { 0 };
	struct rtc_buf ids;
	long *jobs = NULL;
	size_t nj = 0, i, k;
	int missing = 0, tokens = 0, r = RTC_OK, asked = 0;

	for (i = 0; i < n; i++) {
		q[i].state = RTC_SCHED_UNKNOWN;
		q[i].exit_code = -1;
		q[i].reason[0] = '\0';
	}
	pthread_mutex_lock(&s->mu);
	(void)load_config(s, NULL);
	pthread_mutex_unlock(&s->mu);
	rtc_buf_init(&ids, 1024 * 1024);
	jobs = calloc(n ? n : 1, sizeof(*jobs));
	if (jobs == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		long job, task;

		if (parse_backend_id(q[i].backend_id, &job, &task) != 0) {
			tokens++;
			continue;
		}
		for (k = 0; k < nj && jobs[k] != job; k++)
			;
		if (k == nj) {
			jobs[nj++] = job;
			r = rtc_buf_printf(&ids, "%s%ld", ids.len ? "," : "", job);
			if (r != RTC_OK)
				goto out;
		}
	}
	if (nj > 0) {
#ifdef HAVE_LIBSLURM
		if (s->use_lib) {
			r = ask_lib(s, jobs, nj, &sv, cause);
			if (r == RTC_OK)
				asked = 1;
		}
#endif
		if (!asked) {
			/* sacct first; it lags behind, so squeue for the rest */
			r = ask_cli(s, 1, ids.data, NULL, &sv, cause);
			if (r != RTC_OK) {
				rtc_debug(s->ctx, SLURM, "sacct: %s: asking squeue",
				    cause && *cause ? *cause : "failed");
				if (cause != NULL) {
					free(*cause);
					*cause = NULL;
				}
				sv.n = 0;
			}
			apply(&sv, q, n, &missing);
			if (missing > 0 || r != RTC_OK) {
				sv.n = 0;
				missing = 0;
				r = ask_cli(s, 0, ids.data, NULL, &sv, cause);
				if (r != RTC_OK)
					goto out;
			}
			asked = 1;
		}
		apply(&sv, q, n, &missing);
	}
	if (tokens > 0) {
		/* ids never stored: find the arrays by name, recent ones first */
		sv.n = 0;
		r = ask_cli(s, 0, NULL, NULL, &sv, cause);
		if (r != RTC_OK)
			goto out;
		/* sacct remembers arrays squeue has forgotten, when there is
		 * accounting at all */
		if (ask_cli(s, 1, NULL, "now-7days", &sv, NULL) != RTC_OK)
			rtc_debug(s->ctx, SLURM, "sacct: no accounting to search");
		missing = 0;
		apply(&sv, q, n, &missing);
	}
	/* in neither: gone from squeue after MinJobAge, or never there */
	for (i = 0; i < n; i++)
		if (q[i].state == RTC_SCHED_UNKNOWN)
			q[i].state = RTC_SCHED_LOST;
out:
	free(sv.v);
	free(jobs);
	rtc_buf_free(&ids);
	return r;
}

/* ---- cancelling ---- */

static int
slurm_cancel(void *state, const char *const *ids, size_t n, char **cause)
{
	struct slurm *s = state;
	struct rtc_buf arg;
	const char **argv = NULL;
	char **specs = NULL;
	size_t i, k, nspec = 0, a = 0;
	int code = 0, r = RTC_OK;
	long job, task;

	if (n == 0)
		return RTC_OK;
	/* one "JOB_[t1,t2,...]" per array */
	specs = calloc(n, sizeof(*specs));
	argv = calloc(n + 4, sizeof(*argv));
	if (specs == NULL || argv == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n && r == RTC_OK; i++) {
		long first;

		if (parse_backend_id(ids[i], &first, &task) != 0)
			continue;
		for (k = 0; k < i; k++)
			if (parse_backend_id(ids[k], &job, &task) == 0 && job == first)
				break;
		if (k < i)
			continue;   /* this array is done already */
		rtc_buf_init(&arg, 1024 * 1024);
		r = rtc_buf_printf(&arg, "%ld_[", first);
		for (k = i; k < n && r == RTC_OK; k++)
			if (parse_backend_id(ids[k], &job, &task) == 0 && job == first)
				r = rtc_buf_printf(&arg, "%s%ld",
				    arg.data[arg.len - 1] == '[' ? "" : ",", task);
		if (r == RTC_OK)
			r = rtc_buf_append(&arg, "]", 1);
		if (r == RTC_OK)
			specs[nspec++] = rtc_buf_steal(&arg);
		rtc_buf_free(&arg);
	}
	if (r != RTC_OK || nspec == 0)
		goto out;
#ifdef HAVE_LIBSLURM
	if (s->use_lib) {
		/* libslurm takes one task at a time ("123_4"), not scancel's
		 * task lists */
		for (i = 0; i < n; i++) {
			int tries = 20, e = 0;

			if (parse_backend_id(ids[i], &job, &task) != 0)
				continue;

			/* a job in transition (just submitted, being scheduled)
			 * refuses for a moment: try again, as scancel does */
			/* SIGKILL asks for Slurm's termination: SIGTERM, KillWait,
			 * then SIGKILL, and pending jobs are cancelled */
			while (slurm_kill_job2(ids[i], SIGKILL, 0, NULL) !=
			    SLURM_SUCCESS) {
				e = slurm_get_errno();
				if (e != ESLURM_TRANSITION_STATE_NO_UPDATE || --tries == 0)
					break;
				usleep(250000);
				e = 0;
			}
			if (e != 0 && e != ESLURM_ALREADY_DONE &&
			    e != ESLURM_INVALID_JOB_ID) {
				rtc_cause_set(cause, "slurm_kill_job2 %s: %s", ids[i],
				    slurm_strerror(e));
				r = RTC_ERR_UNAVAILABLE;
			}
		}
		goto out;
	}
#endif
	argv[a++] = "scancel";
	for (i = 0; i < nspec; i++)
		argv[a++] = specs[i];
	argv[a] = NULL;
	r = run(s, argv, NULL, &code, cause);
	if (r == RTC_OK && code != 0) {
		/* jobs that already ended are gone, which is what we want */
		if (cause != NULL && *cause != NULL &&
		    (strstr(*cause, "already completing") != NULL ||
		    strstr(*cause, "Invalid job id") != NULL ||
		    strstr(*cause, "completed") != NULL)) {
			free(*cause);
			*cause = NULL;
		} else {
			r = RTC_ERR_UNAVAILABLE;
		}
	}
out:
	for (i = 0; i < nspec; i++)
		free(specs[i]);
	free(specs);
	free(argv);
	return r;
}

const struct rtc_backend_ops rtc_backend_slurm = {
	.name = "slurm",
	.open = slurm_open,
	.close = slurm_close,
	.capacity = slurm_capacity,
	.submit = slurm_submit,
	.poll = slurm_poll,
	.cancel = slurm_cancel,
	.collect = NULL,
};
