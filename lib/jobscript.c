/*
 * jobscript: single quotes are the only shell quoting with no special
 * characters inside, so every value becomes '...' with each ' written as
 * '\''. Paths the container runtimes parse themselves (SRC:DST bind
 * syntax) are checked for the separators they split on.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fsutil.h"
#include "jobscript.h"

int
rtc_sh_quote(struct rtc_buf *out, const char *s)
{
	int r = rtc_buf_append(out, "'", 1);

	for (; r == RTC_OK && *s != '\0'; s++) {
		if (*s == '\'')
			r = rtc_buf_append(out, "'\\''", 4);
		else
			r = rtc_buf_append(out, s, 1);
	}
	if (r == RTC_OK)
		r = rtc_buf_append(out, "'", 1);
	return r;
}

int
rtc_sh_quote_refs(struct rtc_buf *out, const char *s,
    const char *const *refs)
{
	const char *p = s, *open, *close;
	int r = RTC_OK, any = 0;

	while (r == RTC_OK && *p != '\0') {
		const char *var = NULL;
		size_t i, n;

		open = strchr(p, '{');
		close = open ? strchr(open, '}') : NULL;
		if (open != NULL && close != NULL) {
			n = (size_t)(close - open - 1);
			for (i = 0; refs != NULL && refs[i] != NULL; i += 2)
				if (strlen(refs[i]) == n &&
				    strncmp(open + 1, refs[i], n) == 0) {
					var = refs[i + 1];
					break;
				}
		}
		if (var == NULL) {
			/* literal up to after this '{' (or the end) */
			const char *end = open ? open + 1 : p + strlen(p);
			char *lit = strndup(p, (size_t)(end - p));

			if (lit == NULL)
				return RTC_ERR_NOMEM;
			r = rtc_sh_quote(out, lit);
			free(lit);
			p = end;
		} else {
			if (open > p) {
				char *lit = strndup(p, (size_t)(open - p));

				if (lit == NULL)
					return RTC_ERR_NOMEM;
				r = rtc_sh_quote(out, lit);
				free(lit);
			}
			if (r == RTC_OK)
				r = rtc_buf_printf(out, "\"${%s}\"", var);
			p = close + 1;
		}
		any = 1;
	}
	if (r == RTC_OK && !any)
		r = rtc_buf_append_str(out, "''");
	return r;
}

int
rtc_tmpl_render(const char *tmpl, const struct rtc_tmpl_var *vars,
    size_t nvars, struct rtc_buf *out, char **cause)
{
	const char *p = tmpl, *at, *end;
	size_t i, n;
	int r = RTC_OK;

	while (r == RTC_OK && (at = strchr(p, '@')) != NULL) {
		r = rtc_buf_append(out, p, (size_t)(at - p));
		if (r != RTC_OK)
			break;
		for (end = at + 1; isupper((unsigned char)*end) ||
		    isdigit((unsigned char)*end) || *end == '_'; end++)
			;
		if (*end != '@' || end == at + 1) {
			/* not a placeholder ("$@", an address): keep the @ */
			r = rtc_buf_append(out, "@", 1);
			p = at + 1;
			continue;
		}
		n = (size_t)(end - at - 1);
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i].name) == n &&
			    strncmp(vars[i].name, at + 1, n) == 0)
				break;
		if (i == nvars) {
			rtc_cause_set(cause, "template placeholder @%.*s@ has no "
			    "value", (int)n, at + 1);
			return RTC_ERR_INVAL;
		}
		if (vars[i].raw)
			r = rtc_buf_append_str(out, vars[i].value ? vars[i].value : "");
		else
			r = rtc_sh_quote(out, vars[i].value ? vars[i].value : "");
		p = end + 1;
	}
	if (r == RTC_OK)
		r = rtc_buf_append_str(out, p);
	return r;
}

int
rtc_tmpl_load(const char *dir, const char *name, char **text, char **cause)
{
	char *path = NULL;
	size_t len;
	int r;

	if (rtc_fs_join_safe(dir, name, &path) != RTC_OK) {
		rtc_cause_set(cause, "bad template name '%s'", name);
		return RTC_ERR_INVAL;
	}
	r = rtc_fs_read_file(path, RTC_TEMPLATE_MAX, text, &len, cause);
	if (r == RTC_ERR_NOT_FOUND)
		rtc_cause_set(cause, "template %s is missing: is rtc installed "
		    "completely? (RTC_TEMPLATE_DIR names another directory)", path);
	free(path);
	return r;
}

int
rtc_jobscript_runtime_known(const char *runtime)
{
	return runtime != NULL && (strcmp(runtime, "podman") == 0 ||
	    strcmp(runtime, "docker") == 0 || strcmp(runtime, "apptainer") == 0 ||
	    strcmp(runtime, "singularity") == 0 || strcmp(runtime, "none") == 0);
}

static int
bind_path_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] != '/')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == ':' || (unsigned char)s[i] < 0x20)
			return 0;
	return 1;
}

int
rtc_jobscript_check(const char *runtime, const char *const *binds,
    size_t nbinds, const char *const *env, size_t nenv, char **cause)
{
	size_t i;

	if (!rtc_jobscript_runtime_known(runtime)) {
		rtc_cause_set(cause, "unknown runtime '%s': use podman, docker, "
		    "apptainer, singularity or none", runtime ? runtime : "");
		return RTC_ERR_INVAL;
	}
	if (nbinds > 0 && strcmp(runtime, "none") == 0) {
		rtc_cause_set(cause, "--bind needs a container runtime: with "
		    "--runtime none the app sees the host's files directly");
		return RTC_ERR_INVAL;
	}
	for (i = 0; i < nbinds; i++) {
		const char *b = binds[i], *c1 = strchr(b, ':'), *c2;
		size_t tail;

		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		tail = c2 ? strlen(c2 + 1) : 0;
		if (c1 == NULL || !bind_path_ok(b, (size_t)(c1 - b)) ||
		    !bind_path_ok(c1 + 1, c2 ? (size_t)(c2 - c1 - 1) :
		    strlen(c1 + 1)) ||
		    (c2 != NULL && (tail != 2 || strcmp(c2 + 1, "ro") != 0))) {
			rtc_cause_set(cause, "--bind '%s': use /host/path:/container/"
			    "path or /host/path:/container/path:ro (absolute paths "
			    "without ':' or ',')", b);
			return RTC_ERR_INVAL;
		}
	}
	for (i = 0; i < nenv; i++) {
		const char *e = env[i], *eq = strchr(e, '=');
		const char *p;

		if (eq == NULL || eq == e || isdigit((unsigned char)e[0])) {
			rtc_cause_set(cause, "--env '%s': use NAME=VALUE", e);
			return RTC_ERR_INVAL;
		}
		for (p = e; p < eq; p++)
			if (!isalnum((unsigned char)*p) && *p != '_') {
				rtc_cause_set(cause, "--env '%s': the name may hold "
				    "letters, digits and _ only", e);
				return RTC_ERR_INVAL;
			}
	}
	return RTC_OK;
}

/* Append words, each quoted, separated by spaces. prefix is prepended
 * inside each word ("--env=") when non-NULL. */
static int
words(struct rtc_buf *b, const char *prefix, const char *const *v, size_t n)
{
	size_t i;
	int r = RTC_OK;

	for (i = 0; i < n && r == RTC_OK; i++) {
		char *w = NULL;
		size_t len;

		if (i > 0)
			r = rtc_buf_append(b, " ", 1);
		if (r != RTC_OK)
			break;
		if (prefix == NULL) {
			r = rtc_sh_quote(b, v[i]);
			continue;
		}
		len = strlen(prefix) + strlen(v[i]) + 1;
		if ((w = malloc(len)) == NULL)
			return RTC_ERR_NOMEM;
		snprintf(w, len, "%s%s", prefix, v[i]);
		r = rtc_sh_quote(b, w);
		free(w);
	}
	return r;
}

int
rtc_jobscript_tmpl_load(const char *tmpl_dir, const char *runtime,
    struct rtc_jobscript_tmpl *t, char **cause)
{
	struct rtc_buf body;
	char tname[64], *run = NULL, *job = NULL;
	const char *line;
	int r;

	if (!rtc_jobscript_runtime_known(runtime)) {
		rtc_cause_set(cause, "unknown runtime '%s'", runtime);
		return RTC_ERR_INVAL;
	}
	snprintf(tname, sizeof(tname), "run-%s.sh",
	    strcmp(runtime, "singularity") == 0 ? "apptainer" : runtime);
	if ((r = rtc_tmpl_load(tmpl_dir, tname, &run, cause)) != RTC_OK)
		return r;
	if ((r = rtc_tmpl_load(tmpl_dir, "job.sh", &job, cause)) != RTC_OK) {
		free(run);
		return r;
	}
	/* the run line's own comment lines are dropped */
	rtc_buf_init(&body, RTC_TEMPLATE_MAX);
	r = rtc_buf_append_str(&body, "");
	for (line = run; r == RTC_OK && *line != '\0';) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);

		if (line[0] != '#')
			r = rtc_buf_append(&body, line, len);
		line += len;
	}
	free(run);
	if (r != RTC_OK) {
		rtc_buf_free(&body);
		free(job);
		return r;
	}
	t->run = rtc_buf_steal(&body);
	t->job = job;
	if (t->run == NULL) {
		free(job);
		return RTC_ERR_NOMEM;
	}
	return RTC_OK;
}

void
rtc_jobscript_tmpl_free(struct rtc_jobscript_tmpl *t)
{
	if (t == NULL)
		return;
	free(t->job);
	free(t->run);
	t->job = t->run = NULL;
}

int
rtc_jobscript_render(const struct rtc_jobscript *js,
    const struct rtc_jobscript_tmpl *t, struct rtc_buf *out, char **cause)
{
	static const char *const refs_host[] = { "work", "RTC_WORK", "cpus",
	    "RTC_CPUS", "mem_mb", "RTC_MEM_MB", "participant", "RTC_LABEL",
	    NULL };
	static const char *const refs_cont[] = { "cpus", "RTC_CPUS", "mem_mb",
	    "RTC_MEM_MB", "participant", "RTC_LABEL", NULL };
	struct rtc_buf runline, appargs, envargs, bindargs, rtargs, sesargs;
	char attempt[16], cpus[16], mem[24], limit[24], work[512];
	const char *bind_prefix, *env_prefix;
	int container, apptainer, r;
	size_t i;

	if (!rtc_jobscript_runtime_known(js->runtime)) {
		rtc_cause_set(cause, "unknown runtime '%s'", js->runtime);
		return RTC_ERR_INVAL;
	}
	container = strcmp(js->runtime, "none") != 0;
	apptainer = strcmp(js->runtime, "apptainer") == 0 ||
	    strcmp(js->runtime, "singularity") == 0;
	rtc_buf_init(&runline, RTC_TEMPLATE_MAX * 4);
	rtc_buf_init(&appargs, 0);
	rtc_buf_init(&envargs, 0);
	rtc_buf_init(&bindargs, 0);
	rtc_buf_init(&rtargs, 0);
	rtc_buf_init(&sesargs, 0);
	bind_prefix = apptainer ? "--bind=" : container ? "--volume=" : NULL;
	env_prefix = container ? "--env=" : NULL;
	r = RTC_OK;
	for (i = 0; i < js->napp_args && r == RTC_OK; i++) {
		if (i > 0)
			r = rtc_buf_append(&appargs, " ", 1);
		if (r != RTC_OK)
			break;
		if (container && strstr(js->app_args[i], "{work}") != NULL) {
			/* inside a container the work directory is /work */
			struct rtc_buf tmp;
			const char *s = js->app_args[i], *w;
			char *a;

			rtc_buf_init(&tmp, 0);
			while ((w = strstr(s, "{work}")) != NULL && r == RTC_OK) {
				r = rtc_buf_append(&tmp, s, (size_t)(w - s));
				if (r == RTC_OK)
					r = rtc_buf_append_str(&tmp, "/work");
				s = w + 6;
			}
			if (r == RTC_OK)
				r = rtc_buf_append_str(&tmp, s);
			a = rtc_buf_steal(&tmp);
			if (a == NULL)
				r = RTC_ERR_NOMEM;
			if (r == RTC_OK)
				r = rtc_sh_quote_refs(&appargs, a, refs_cont);
			free(a);
			rtc_buf_free(&tmp);
		} else {
			r = rtc_sh_quote_refs(&appargs, js->app_args[i],
			    container ? refs_cont : refs_host);
		}
	}
	if (r == RTC_OK)
		r = words(&envargs, env_prefix, js->env, js->nenv);
	if (r == RTC_OK && bind_prefix != NULL)
		r = words(&bindargs, bind_prefix, js->binds, js->nbinds);
	if (r == RTC_OK && container)
		r = words(&rtargs, NULL, js->runtime_args, js->nruntime_args);
	if (r == RTC_OK && js->session != NULL && *js->session != '\0') {
		const char *sv[2] = { js->session_flag ? js->session_flag :
		    "--session-label", js->session };

		r = words(&sesargs, NULL, sv, 2);
	}
	/* RTC_LABEL serves {participant} */
	if (r == RTC_OK)
		r = rtc_buf_append_str(&runline, "\tRTC_LABEL=");
	if (r == RTC_OK)
		r = rtc_sh_quote(&runline, js->participant);
	if (r == RTC_OK)
		r = rtc_buf_append_str(&runline, "\n");
	if (r == RTC_OK) {
		const struct rtc_tmpl_var rv[] = {
			{ "IMAGE", js->app, 0 },
			{ "APP", js->app, 0 },
			{ "APPTAINER", js->runtime, 0 },
			{ "LABEL", js->participant, 0 },
			{ "SESSION_ARGS", sesargs.data ? sesargs.data : "", 1 },
			{ "APP_ARGS", appargs.data ? appargs.data : "", 1 },
			{ "ENV_ARGS", envargs.data ? envargs.data : "", 1 },
			{ "BIND_ARGS", bindargs.data ? bindargs.data : "", 1 },
			{ "RUNTIME_ARGS", rtargs.data ? rtargs.data : "", 1 },
		};

		r = rtc_tmpl_render(t->run, rv, sizeof(rv) / sizeof(rv[0]),
		    &runline, cause);
	}
	if (r != RTC_OK)
		goto out;
	snprintf(attempt, sizeof(attempt), "%d", js->attempt);
	snprintf(cpus, sizeof(cpus), "%d", js->cpus);
	snprintf(mem, sizeof(mem), "%ld", js->mem_mb);
	snprintf(limit, sizeof(limit), "%ld", js->limit_s);
	if (js->work_name != NULL)
		snprintf(work, sizeof(work), "%s", js->work_name);
	else
		snprintf(work, sizeof(work), "rtc-%s-%s-a%d", js->run, js->job,
		    js->attempt);
	if (!rtc_fs_safe_relpath(work, strlen(work)) || strchr(work, '/')) {
		rtc_cause_set(cause, "bad work directory name '%s'", work);
		r = RTC_ERR_INVAL;
		goto out;
	}
	{
		const struct rtc_tmpl_var jv[] = {
			{ "RUN", js->run, 0 },
			{ "JOB", js->job, 0 },
			{ "ATTEMPT", attempt, 0 },
			{ "CPUS", cpus, 0 },
			{ "MEM_MB", mem, 0 },
			{ "BIDS_DIR", js->bids_dir, 0 },
			{ "STAGE_DIR", js->stage_dir, 0 },
			{ "LOG_FILE", js->log_file, 0 },
			{ "RC_FILE", js->rc_file, 0 },
			{ "KEEP_WORK", js->keep_work ? "yes" : "no", 0 },
			{ "SCRATCH", js->scratch ? js->scratch : "", 0 },
			{ "WORK_NAME", work, 0 },
			{ "LIMIT_S", limit, 0 },
			{ "RUN_LINE", runline.data, 1 },
		};

		r = rtc_tmpl_render(t->job, jv, sizeof(jv) / sizeof(jv[0]), out,
		    cause);
	}
out:
	rtc_buf_free(&runline);
	rtc_buf_free(&appargs);
	rtc_buf_free(&envargs);
	rtc_buf_free(&bindargs);
	rtc_buf_free(&rtargs);
	rtc_buf_free(&sesargs);
	return r;
}
