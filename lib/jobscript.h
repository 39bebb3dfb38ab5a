/*
 * jobscript: shell text from templates without shell injection. Values
 * are single-quoted ('it'\''s'), never pasted raw; a template names each
 * value as @NAME@. The job script of one attempt is templates/job.sh with
 * the runtime's run line (templates/run-<runtime>.sh) inside it.
 */
#ifndef RTC_JOBSCRIPT_H
#define RTC_JOBSCRIPT_H

#include <stddef.h>

#include "buf.h"

#define RTC_TEMPLATE_MAX (256 * 1024)

/* Append s to out as one shell word in single quotes. */
int rtc_sh_quote(struct rtc_buf *out, const char *s);

/*
 * Append s as one shell word in which {name} stands for the value of a
 * shell variable: refs is a NULL-terminated list of pairs {"work",
 * "RTC_WORK", ...}. Text is single-quoted, each known {name} becomes
 * "${VAR}"; an unknown {name} stays literal text.
 */
int rtc_sh_quote_refs(struct rtc_buf *out, const char *s,
    const char *const *refs);

struct rtc_tmpl_var {
	const char *name;     /* without the @s */
	const char *value;    /* quoted as one word, unless raw */
	int raw;              /* insert value as it is (text we built) */
};

/*
 * Replace each @NAME@ of tmpl (NAME: capitals, digits and _) by its
 * variable. RET: RTC_OK, or RTC_ERR_INVAL naming a placeholder without a
 * variable.
 */
int rtc_tmpl_render(const char *tmpl, const struct rtc_tmpl_var *vars,
    size_t nvars, struct rtc_buf *out, char **cause);

/* Read template name from dir. OUT: *text (malloc'd). */
int rtc_tmpl_load(const char *dir, const char *name, char **text,
    char **cause);

/* Everything one attempt's job script needs. */
struct rtc_jobscript {
	const char *run;
	const char *job;            /* "sub-01" or "sub-01_ses-2" */
	int attempt;
	int cpus;
	long mem_mb;
	long limit_s;               /* enforced by the script (local); 0: none */
	const char *bids_dir;
	const char *stage_dir;
	const char *log_file;
	const char *rc_file;
	const char *scratch;        /* "" or NULL: $SLURM_TMPDIR, $TMPDIR, /tmp */
	const char *work_name;      /* the work directory's name in scratch;
	                               NULL: rtc-RUN-JOB-aATTEMPT */
	int keep_work;
	const char *runtime;        /* podman docker apptainer singularity none */
	const char *app;            /* image, or absolute command path */
	const char *participant;
	const char *session;        /* NULL or "" */
	const char *session_flag;   /* "--session-label" */
	const char *const *app_args;   /* may hold {work} {cpus} {mem_mb} */
	size_t napp_args;
	const char *const *binds;      /* SRC:DST[:ro] */
	size_t nbinds;
	const char *const *env;        /* KEY=VALUE */
	size_t nenv;
	const char *const *runtime_args;
	size_t nruntime_args;
};

/* RET: nonzero for a runtime rtc knows. */
int rtc_jobscript_runtime_known(const char *runtime);

/*
 * Check binds (absolute SRC and DST, no ':' or ',' inside, optional ":ro")
 * and env entries (KEY=VALUE with a valid name) for a runtime.
 * RET: RTC_OK or RTC_ERR_INVAL with advice.
 */
int rtc_jobscript_check(const char *runtime, const char *const *binds,
    size_t nbinds, const char *const *env, size_t nenv, char **cause);

/* The two templates a runtime's job scripts are made of, read once. */
struct rtc_jobscript_tmpl {
	char *job;                  /* job.sh */
	char *run;                  /* run-<runtime>.sh, comment lines dropped */
};

/* Read the templates for runtime from tmpl_dir. OUT: *t (free with
 * rtc_jobscript_tmpl_free). */
int rtc_jobscript_tmpl_load(const char *tmpl_dir, const char *runtime,
    struct rtc_jobscript_tmpl *t, char **cause);
void rtc_jobscript_tmpl_free(struct rtc_jobscript_tmpl *t);

/* Render the job script of js into out. */
int rtc_jobscript_render(const struct rtc_jobscript *js,
    const struct rtc_jobscript_tmpl *t, struct rtc_buf *out, char **cause);

#endif
