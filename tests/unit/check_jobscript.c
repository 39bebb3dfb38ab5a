/*
 * check_jobscript: shell quoting proven by a real shell, templates, and
 * rendered job scripts run for real: hostile labels and arguments reach
 * the app verbatim, status files and work directories behave.
 */
#include "rtc_build.h"

#include <sys/wait.h>

#include "buf.h"
#include "check_batch_common.h"
#include "clock.h"
#include "error.h"
#include "jobscript.h"
#include "process.h"

static const char *const nasty[] = {
	"plain", "", "it's", "'", "''", "$(touch /tmp/rtc-pwned)", "`id`",
	"a b\tc", "line\nbreak", "back\\slash", "\"dq\"", "$HOME", "*", "-n",
	"semi;colon", "amp&", "pipe|", "{work}", "100%", NULL
};

static char *
tmpl_dir(void)
{
	const char *top = getenv("RTC_TOP_SRCDIR");
	char *d = NULL;

	ck_assert_ptr_nonnull(top);
	ck_assert_int_ge(asprintf(&d, "%s/templates", top), 0);
	return d;
}

/* Run sh -c script; OUT: stdout. RET: exit status. */
static int
sh(const char *script, struct rtc_buf *out)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	int status = 0;

	ck_assert_int_eq(rtc_process_run(argv, NULL, NULL, out, NULL, 30000,
	    &status, NULL), RTC_OK);
	return rtc_process_exit_status(status);
}

START_TEST(test_quote_through_a_shell)
{
	struct rtc_buf script, out;
	int i;

	for (i = 0; nasty[i] != NULL; i++) {
		rtc_buf_init(&script, 0);
		rtc_buf_init(&out, 0);
		rtc_buf_append_str(&script, "printf '%s' ");
		ck_assert_int_eq(rtc_sh_quote(&script, nasty[i]), RTC_OK);
		ck_assert_int_eq(sh(script.data, &out), 0);
		ck_assert_str_eq(out.data ? out.data : "", nasty[i]);
		rtc_buf_free(&script);
		rtc_buf_free(&out);
	}
	ck_assert_int_ne(access("/tmp/rtc-pwned", F_OK), 0);
}
END_TEST

START_TEST(test_quote_refs)
{
	static const char *const refs[] = { "work", "W", "cpus", "C", NULL };
	struct rtc_buf script, out;

	rtc_buf_init(&script, 0);
	rtc_buf_init(&out, 0);
	rtc_buf_append_str(&script, "W='/scratch/it'\\''s'; C=8; printf '%s|' ");
	rtc_sh_quote_refs(&script, "--work-dir={work}/x", refs);
	rtc_buf_append_str(&script, " ");
	rtc_sh_quote_refs(&script, "{cpus}", refs);
	rtc_buf_append_str(&script, " ");
	rtc_sh_quote_refs(&script, "{nope}{work}$(id)", refs);
	rtc_buf_append_str(&script, " ");
	rtc_sh_quote_refs(&script, "", refs);
	rtc_buf_append_str(&script, " ");
	rtc_sh_quote_refs(&script, "{", refs);
	ck_assert_int_eq(sh(script.data, &out), 0);
	ck_assert_str_eq(out.data, "--work-dir=/scratch/it's/x|8|"
	    "{nope}/scratch/it's$(id)||{|");
	rtc_buf_free(&script);
	rtc_buf_free(&out);
}
END_TEST

START_TEST(test_template_render)
{
	const struct rtc_tmpl_var v[] = {
		{ "NAME", "it's me", 0 },
		{ "RAW", "\"$X\"", 1 },
	};
	struct rtc_buf out;
	char *cause = NULL;

	rtc_buf_init(&out, 0);
	ck_assert_int_eq(rtc_tmpl_render("a=@NAME@ b=@RAW@ \"$@\" user@host "
	    "@lower@ @@\n", v, 2, &out, NULL), RTC_OK);
	ck_assert_str_eq(out.data, "a='it'\\''s me' b=\"$X\" \"$@\" user@host "
	    "@lower@ @@\n");
	rtc_buf_reset(&out);
	ck_assert_int_eq(rtc_tmpl_render("x=@MISSING@", v, 2, &out, &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "@MISSING@"));
	free(cause);
	rtc_buf_free(&out);
}
END_TEST

START_TEST(test_runtimes_and_checks)
{
	const char *good_binds[] = { "/opt/fs/license.txt:/opt/freesurfer/"
	    "license.txt:ro", "/data/tf:/templateflow" };
	const char *bad_binds[][1] = { { "relative:/x" }, { "/a" },
	    { "/a:/b:rw" }, { "/a,b:/c" }, { "/a:/b:c:ro" }, { "/a:" } };
	const char *good_env[] = { "TEMPLATEFLOW_HOME=/templateflow", "A_1=" };
	const char *bad_env[][1] = { { "NOEQUALS" }, { "=x" }, { "1A=x" },
	    { "A-B=x" } };
	char *cause = NULL;
	size_t i;

	ck_assert(rtc_jobscript_runtime_known("podman"));
	ck_assert(rtc_jobscript_runtime_known("singularity"));
	ck_assert(rtc_jobscript_runtime_known("none"));
	ck_assert(!rtc_jobscript_runtime_known("lxc"));
	ck_assert(!rtc_jobscript_runtime_known(NULL));
	ck_assert_int_eq(rtc_jobscript_check("podman", good_binds, 2, good_env,
	    2, NULL), RTC_OK);
	for (i = 0; i < sizeof(bad_binds) / sizeof(bad_binds[0]); i++)
		ck_assert_msg(rtc_jobscript_check("docker", bad_binds[i], 1, NULL,
		    0, &cause) == RTC_ERR_INVAL, "%s", bad_binds[i][0]);
	for (i = 0; i < sizeof(bad_env) / sizeof(bad_env[0]); i++)
		ck_assert_msg(rtc_jobscript_check("apptainer", NULL, 0, bad_env[i],
		    1, &cause) == RTC_ERR_INVAL, "%s", bad_env[i][0]);
	ck_assert_int_eq(rtc_jobscript_check("none", good_binds, 1, NULL, 0,
	    &cause), RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "container runtime"));
	ck_assert_int_eq(rtc_jobscript_check("lxc", NULL, 0, NULL, 0, &cause),
	    RTC_ERR_INVAL);
	free(cause);
}
END_TEST

struct fixture {
	char *dir;
	char app[4096], stage[4096], log[4096], rc[4096], script[4096];
	char bids[4096], scratch[4096];
};

static void
fixture_make(struct fixture *f, const char *app_body)
{
	f->dir = check_tmpdir();
	snprintf(f->app, sizeof(f->app), "%s/bin/app's", f->dir);
	snprintf(f->stage, sizeof(f->stage), "%s/out/.rtc-stage/r1-a1", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/out/logs/sub-x/attempt-1.log",
	    f->dir);
	snprintf(f->rc, sizeof(f->rc), "%s/jobs/0/a1.rc", f->dir);
	snprintf(f->script, sizeof(f->script), "%s/jobs/0/run.sh", f->dir);
	snprintf(f->bids, sizeof(f->bids), "%s/bids dir", f->dir);
	snprintf(f->scratch, sizeof(f->scratch), "%s/scratch", f->dir);
	put_file(f->dir, "bin/app's", app_body);
	ck_assert_int_eq(chmod(f->app, 0755), 0);
	put_file(f->dir, "jobs/0/.keep", "");
	put_file(f->dir, "bids dir/dataset_description.json", "{}");
}

static void
fixture_free(struct fixture *f)
{
	rtc_fs_remove_tree(f->dir, NULL);
	free(f->dir);
}

static struct rtc_jobscript
js_of(struct fixture *f, const char *label, const char *const *args,
    size_t nargs)
{
	struct rtc_jobscript js;

	memset(&js, 0, sizeof(js));
	js.run = "r1";
	js.job = "sub-x";
	js.attempt = 1;
	js.cpus = 3;
	js.mem_mb = 500;
	js.bids_dir = f->bids;
	js.stage_dir = f->stage;
	js.log_file = f->log;
	js.rc_file = f->rc;
	js.scratch = f->scratch;
	js.runtime = "none";
	js.app = f->app;
	js.participant = label;
	js.app_args = args;
	js.napp_args = nargs;
	return js;
}

static int
run_script(struct fixture *f, const struct rtc_jobscript *js)
{
	struct rtc_jobscript_tmpl t;
	struct rtc_buf b;
	char *td = tmpl_dir(), *cause = NULL;
	const char *argv[] = { "/bin/sh", f->script, NULL };
	int status = 0;

	rtc_buf_init(&b, 0);
	ck_assert_int_eq(rtc_jobscript_tmpl_load(td, js->runtime, &t, &cause),
	    RTC_OK);
	ck_assert_int_eq(rtc_jobscript_render(js, &t, &b, &cause), RTC_OK);
	ck_assert_int_eq(rtc_fs_write_atomic(f->script, b.data, b.len, 0700, 0,
	    NULL), RTC_OK);
	ck_assert_int_eq(rtc_process_run(argv, NULL, NULL, NULL, NULL, 60000,
	    &status, NULL), RTC_OK);
	rtc_jobscript_tmpl_free(&t);
	rtc_buf_free(&b);
	free(td);
	return rtc_process_exit_status(status);
}

/* The app: records its arguments one per line (NUL-separated) in the stage
 * directory, its environment's CPU count and cwd, then exits with $EXIT. */
#define ARGS_APP "#!/bin/sh\n" \
	"out=$2\n" \
	"mkdir -p \"$out/sub-x\" && for a in \"$@\"; do printf '%s\\0' \"$a\"; " \
	"done >\"$out/sub-x/args\"\n" \
	"printf '%s %s %s' \"$OMP_NUM_THREADS\" \"$PWD\" \"$TMPDIR\" " \
	">\"$out/sub-x/env\"\n" \
	"echo app says hello\n" \
	"exit ${EXIT:-0}\n"

START_TEST(test_job_script_runs_hostile_input_verbatim)
{
	struct fixture f;
	const char *args[] = { "--opt", "$(touch /tmp/rtc-pwned)", "it's",
	    "a b", "--nthreads={cpus}", "-w", "{work}", "{participant}" };
	struct rtc_jobscript js;
	char path[8192], *text, *p, work[4096];
	const char *want[16];
	size_t n = 0, i;

	fixture_make(&f, ARGS_APP);
	js = js_of(&f, "x", args, 8);
	ck_assert_int_eq(run_script(&f, &js), 0);
	ck_assert_int_ne(access("/tmp/rtc-pwned", F_OK), 0);
	snprintf(work, sizeof(work), "%s/rtc-r1-sub-x-a1", f.scratch);
	want[n++] = f.bids;
	want[n++] = f.stage;
	want[n++] = "participant";
	want[n++] = "--participant-label";
	want[n++] = "x";
	want[n++] = "--opt";
	want[n++] = "$(touch /tmp/rtc-pwned)";
	want[n++] = "it's";
	want[n++] = "a b";
	want[n++] = "--nthreads=3";
	want[n++] = "-w";
	want[n++] = work;
	want[n++] = "x";
	snprintf(path, sizeof(path), "%s/sub-x/args", f.stage);
	text = read_all(path);
	ck_assert_ptr_nonnull(text);
	for (i = 0, p = text; i < n; i++, p += strlen(p) + 1)
		ck_assert_str_eq(p, want[i]);
	free(text);
	snprintf(path, sizeof(path), "%s/sub-x/env", f.stage);
	text = read_all(path);
	snprintf(path, sizeof(path), "3 %s %s", work, work);
	ck_assert_str_eq(text, path);
	free(text);
	/* status file, log, and the work directory gone after success */
	text = read_all(f.rc);
	ck_assert_str_eq(text, "0\n");
	free(text);
	text = read_all(f.log);
	ck_assert_ptr_nonnull(strstr(text, "app says hello"));
	ck_assert_ptr_nonnull(strstr(text, "# exit 0"));
	free(text);
	ck_assert(!rtc_fs_is_dir(work));
	fixture_free(&f);
}
END_TEST

START_TEST(test_job_script_failure_keeps_work)
{
	struct fixture f;
	struct rtc_jobscript js;
	const char *env[] = { "EXIT=16" };
	char work[4096], *text;

	fixture_make(&f, ARGS_APP);
	js = js_of(&f, "x", NULL, 0);
	js.env = env;
	js.nenv = 1;
	ck_assert_int_eq(run_script(&f, &js), 16);
	text = read_all(f.rc);
	ck_assert_str_eq(text, "16\n");
	free(text);
	snprintf(work, sizeof(work), "%s/rtc-r1-sub-x-a1", f.scratch);
	ck_assert(rtc_fs_is_dir(work));
	text = read_all(f.log);
	ck_assert_ptr_nonnull(strstr(text, "work directory kept"));
	free(text);
	fixture_free(&f);
}
END_TEST

START_TEST(test_job_script_time_limit)
{
	struct fixture f;
	struct rtc_jobscript js;
	int64_t t0 = rtc_clock_mono_ns();
	char *text;

	fixture_make(&f, "#!/bin/sh\nexec sleep 30\n");
	js = js_of(&f, "x", NULL, 0);
	js.limit_s = 1;
	ck_assert_int_ne(run_script(&f, &js), 0);
	ck_assert_int_lt(rtc_clock_mono_ns() - t0, 20LL * 1000000000LL);
	text = read_all(f.rc);
	ck_assert_ptr_nonnull(strstr(text, "TIMEOUT"));
	free(text);
	fixture_free(&f);
}
END_TEST

START_TEST(test_container_run_lines)
{
	const char *binds[] = { "/opt/license.txt:/license.txt:ro" };
	const char *env[] = { "FS_LICENSE=/license.txt" };
	const char *rt[] = { "--network=none" };
	const char *args[] = { "--fs-license-file", "/license.txt", "-w",
	    "{work}" };
	struct rtc_jobscript_tmpl t;
	struct rtc_jobscript js;
	struct fixture f;
	struct rtc_buf b;
	char *td = tmpl_dir();

	fixture_make(&f, "");
	js = js_of(&f, "01", args, 4);
	js.binds = binds;
	js.nbinds = 1;
	js.env = env;
	js.nenv = 1;
	js.runtime_args = rt;
	js.nruntime_args = 1;
	js.session = "pre";
	js.app = "nipreps/fmriprep:23.1.4";
	js.runtime = "podman";
	rtc_buf_init(&b, 0);
	ck_assert_int_eq(rtc_jobscript_tmpl_load(td, "podman", &t, NULL), RTC_OK);
	ck_assert_int_eq(rtc_jobscript_render(&js, &t, &b, NULL), RTC_OK);
	ck_assert_ptr_nonnull(strstr(b.data, "podman run --rm"));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "'--volume=/opt/license.txt:/license.txt:ro'"));
	ck_assert_ptr_nonnull(strstr(b.data, "'--env=FS_LICENSE=/license.txt'"));
	ck_assert_ptr_nonnull(strstr(b.data, "'--network=none'"));
	ck_assert_ptr_nonnull(strstr(b.data, "'nipreps/fmriprep:23.1.4' /bids "
	    "/out participant --participant-label '01'"));
	ck_assert_ptr_nonnull(strstr(b.data, "'--session-label' 'pre'"));
	ck_assert_ptr_nonnull(strstr(b.data, "'-w' '/work'"));
	rtc_jobscript_tmpl_free(&t);
	rtc_buf_reset(&b);
	js.runtime = "singularity";
	js.app = "/images/fmriprep.sif";
	ck_assert_int_eq(rtc_jobscript_tmpl_load(td, "singularity", &t, NULL),
	    RTC_OK);
	ck_assert_int_eq(rtc_jobscript_render(&js, &t, &b, NULL), RTC_OK);
	ck_assert_ptr_nonnull(strstr(b.data, "'singularity' run --containall"));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "'--bind=/opt/license.txt:/license.txt:ro'"));
	rtc_jobscript_tmpl_free(&t);
	/* a shell must accept every rendered script */
	{
		static const char *const rts[] = { "podman", "docker", "apptainer",
		    "none" };
		size_t i;

		for (i = 0; i < 4; i++) {
			struct rtc_buf cmd, out;

			rtc_buf_reset(&b);
			js.runtime = rts[i];
			if (i == 3) {
				js.nbinds = 0;
			}
			ck_assert_int_eq(rtc_jobscript_tmpl_load(td, rts[i], &t, NULL),
			    RTC_OK);
			ck_assert_int_eq(rtc_jobscript_render(&js, &t, &b, NULL),
			    RTC_OK);
			rtc_jobscript_tmpl_free(&t);
			ck_assert_int_eq(rtc_fs_write_atomic(f.script, b.data, b.len,
			    0600, 0, NULL), RTC_OK);
			rtc_buf_init(&cmd, 0);
			rtc_buf_init(&out, 0);
			rtc_buf_append_str(&cmd, "/bin/sh -n ");
			rtc_sh_quote(&cmd, f.script);
			ck_assert_msg(sh(cmd.data, &out) == 0, "%s", rts[i]);
			rtc_buf_free(&cmd);
			rtc_buf_free(&out);
		}
	}
	rtc_buf_free(&b);
	free(td);
	fixture_free(&f);
}
END_TEST

static Suite *
jobscript_suite(void)
{
	Suite *s = suite_create("jobscript");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_quote_through_a_shell);
	tcase_add_test(tc, test_quote_refs);
	tcase_add_test(tc, test_template_render);
	tcase_add_test(tc, test_runtimes_and_checks);
	tcase_add_test(tc, test_job_script_runs_hostile_input_verbatim);
	tcase_add_test(tc, test_job_script_failure_keeps_work);
	tcase_add_test(tc, test_job_script_time_limit);
	tcase_add_test(tc, test_container_run_lines);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(jobscript_suite)
