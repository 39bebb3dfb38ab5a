#include "rtc_build.h"

#include <dirent.h>
#include <math.h>
#include <nifti2_io.h>
#include <time.h>

#include "analysis_ext.h"
#include "check_common.h"
#include "clock.h"
#include "error.h"
#include "fsutil.h"
#include "process.h"
#include "volume.h"

/* A stand-in analysis whose behaviour the first argument picks. */
static const char fake_py[] =
    "import json, os, sys, time\n"
    "mode = sys.argv[1]\n"
    "cfg = {}\n"
    "n = 0\n"
    "def out(o):\n"
    "    sys.stdout.write(json.dumps(o) + '\\n'); sys.stdout.flush()\n"
    "for line in sys.stdin:\n"
    "    m = json.loads(line)\n"
    "    t = m.get('type')\n"
    "    if t == 'hello':\n"
    "        cfg = m['config']\n"
    "        if mode == 'noready': time.sleep(30)\n"
    "        if mode == 'wrongready': out({'type': 'hi'}); continue\n"
    "        out({'type': 'ready'})\n"
    "    elif t == 'volume':\n"
    "        n += 1\n"
    "        s = m['seq']\n"
    "        if mode == 'slow' and m['vol'] == 2: time.sleep(0.6)\n"
    "        if mode == 'die' and n == 2: sys.exit(3)\n"
    "        if mode == 'garbage': print('this is not JSON', flush=True)\n"
    "        if mode == 'longline': print('x' * 100000, flush=True)\n"
    "        if mode == 'error': out({'seq': s, 'error': 'boom\\x01'}); continue\n"
    "        if mode == 'badvalues':\n"
    "            out({'seq': s, 'values': {'bad name': 1}}); continue\n"
    "        f = m['nifti']\n"
    "        out({'seq': s, 'values': {'vol': m['vol'],\n"
    "            'has_file': 1 if f and os.path.exists(f) else 0,\n"
    "            'dims_x': m['dims'][0], 'rec_run': m['record']['run'],\n"
    "            'cfg_k': cfg.get('k', -1)}})\n"
    "    elif t == 'bye':\n"
    "        break\n";

struct env {
	char *dir;
	char *fake;
	char *shm;
};

static int
have_python(void)
{
	const char *argv[] = { "python3", "-c", "pass", NULL };
	int st = -1;

	if (rtc_process_run(argv, NULL, NULL, NULL, NULL, 10000, &st, NULL) ==
	    RTC_OK && st == 0)
		return 1;
	if (getenv("CI") != NULL && strcmp(getenv("CI"), "true") == 0)
		ck_abort_msg("CI=true but python3 is missing");
	fprintf(stderr, "SKIP: python3 not installed\n");
	return 0;
}

static void
env_setup(struct env *e)
{
	e->dir = check_tmpdir();
	ck_assert_int_ne(asprintf(&e->fake, "%s/fake.py", e->dir), -1);
	ck_assert_int_eq(rtc_fs_write_atomic(e->fake, fake_py, strlen(fake_py),
	    0644, 0, NULL), RTC_OK);
	ck_assert_int_ne(asprintf(&e->shm, "%s/shm", e->dir), -1);
	ck_assert_int_eq(rtc_fs_mkdir_p(e->shm, 0700, NULL), RTC_OK);
}

static void
env_teardown(struct env *e)
{
	rtc_fs_remove_tree(e->dir, NULL);
	free(e->dir);
	free(e->fake);
	free(e->shm);
}

/* The NIfTI writer the pipeline will pass (here straight nifticlib). */
static int
write_nifti(void *arg, const struct rtc_volume *v, const char *path,
    char **cause)
{
	int64_t dims[8] = { 3, v->nx, v->ny, v->nz, 1, 1, 1, 1 };
	nifti_image *nim;

	(void)arg;
	nim = nifti_make_new_nim(dims, NIFTI_TYPE_FLOAT32, 1);
	if (nim == NULL)
		return RTC_ERR_NOMEM;
	nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
	if (nifti_set_filenames(nim, path, 0, 1) != 0) {
		nifti_image_free(nim);
		rtc_cause_set(cause, "%s: bad name", path);
		return RTC_ERR_IO;
	}
	rtc_volume_frame_to_float(v, 0, nim->data);
	nifti_image_write(nim);
	nifti_image_free(nim);
	return rtc_fs_is_file(path) ? RTC_OK : RTC_ERR_IO;
}

static struct rtc_volume *
cube_volume(void)
{
	struct rtc_volume *v = rtc_volume_new(16, 16, 16, 1, RTC_DT_INT16);
	int16_t *d = v->data;
	int i, j, k;

	for (k = 0; k < 16; k++)
		for (j = 0; j < 16; j++)
			for (i = 0; i < 16; i++)
				d[(k * 16 + j) * 16 + i] = (i >= 4 && i < 10 &&
				    j >= 4 && j < 10 && k >= 4 && k < 10) ? 100 : 2;
	v->tr = 1.5;
	return v;
}

static double
value_of(const struct rtc_fb_record *r, const char *name)
{
	int i;

	for (i = 0; i < r->n_values; i++)
		if (strcmp(r->values[i].name, name) == 0)
			return r->values[i].value;
	return NAN;
}

static struct rtc_analysis_ext *
start_fake(struct env *e, const char *mode, int timeout_ms, int restarts,
    int *ret)
{
	const char *argv[] = { "python3", e->fake, mode, NULL };
	struct rtc_analysis_ext_opts o;
	struct rtc_analysis_ext *a = NULL;
	json_t *cfg = json_pack("{s:i}", "k", 42);
	char *cause = NULL;
	int r;

	rtc_analysis_ext_opts_init(&o);
	o.argv = argv;
	o.shm_dir = e->shm;
	o.timeout_ms = timeout_ms;
	o.startup_timeout_ms = 10000;
	o.max_restarts = restarts;
	o.config = cfg;
	o.write_volume = write_nifti;
	r = rtc_analysis_ext_start(NULL, &o, &a, &cause);
	json_decref(cfg);
	if (ret != NULL)
		*ret = r;
	else
		ck_assert_msg(r == RTC_OK, "start: %s", cause ? cause : "");
	free(cause);
	return a;
}

static int
process(struct rtc_analysis_ext *a, struct rtc_volume *v, int vol,
    struct rtc_fb_record *r)
{
	char *cause = NULL;
	int ret;

	rtc_fb_record_init(r);
	r->run = 3;
	r->vol = vol;
	ret = rtc_analysis_ext_process(a, v, r, &cause);
	free(cause);
	return ret;
}

static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The shipped Python example on a real NIfTI volume. */
START_TEST(test_python_example)
{
	const char *top = getenv("RTC_TOP_SRCDIR");
	struct rtc_analysis_ext_opts o;
	struct rtc_analysis_ext *a = NULL;
	struct rtc_analysis_ext_stats st;
	struct rtc_volume *v;
	struct rtc_fb_record r;
	struct env e;
	char *script = NULL, *cause = NULL, *vdir;
	json_t *cfg;
	const char *argv[] = { "python3", NULL, NULL };
	int i;

	if (!have_python())
		return;
	env_setup(&e);
	ck_assert_int_ne(asprintf(&script, "%s/projects/python-analysis/"
	    "analysis.py", top ? top : ".."), -1);
	argv[1] = script;
	cfg = json_pack("{s:f}", "threshold_fraction", 0.5);
	rtc_analysis_ext_opts_init(&o);
	o.argv = argv;
	o.shm_dir = e.shm;
	o.timeout_ms = 5000;
	o.startup_timeout_ms = 10000;
	o.config = cfg;
	o.write_volume = write_nifti;
	ck_assert_msg(rtc_analysis_ext_start(NULL, &o, &a, &cause) == RTC_OK,
	    "%s", cause ? cause : "");
	vdir = strdup(rtc_analysis_ext_dir(a));
	ck_assert_int_eq(strncmp(vdir, e.shm, strlen(e.shm)), 0);
	v = cube_volume();
	for (i = 1; i <= 3; i++) {
		ck_assert_int_eq(process(a, v, i, &r), RTC_OK);
		ck_assert_double_eq_tol(value_of(&r, "mean"), 100.0, 1e-6);
		ck_assert_double_eq_tol(value_of(&r, "voxels"), 216.0, 1e-9);
		ck_assert_double_eq_tol(value_of(&r, "max"), 100.0, 1e-9);
		ck_assert_int_eq(r.flags, 0);
		/* the volume's file is gone once answered */
		ck_assert_int_eq(count_files(vdir), 0);
	}
	rtc_analysis_ext_get_stats(a, &st);
	ck_assert_uint_eq(st.sent, 3);
	ck_assert_uint_eq(st.answered, 3);
	fprintf(stderr, "# python analysis: slowest reply %.1f ms\n", st.max_ms);
	rtc_analysis_ext_free(a);
	/* its directory too */
	ck_assert_int_eq(rtc_fs_is_dir(vdir), 0);
	json_decref(cfg);
	rtc_volume_free(v);
	free(vdir);
	free(script);
	env_teardown(&e);
}
END_TEST

/* What the process is given: config in the hello, the file, the dims,
 * the record. */
START_TEST(test_request_contents)
{
	struct rtc_analysis_ext *a;
	struct rtc_volume *v;
	struct rtc_fb_record r;
	struct env e;

	if (!have_python())
		return;
	env_setup(&e);
	a = start_fake(&e, "echo", 5000, 3, NULL);
	v = cube_volume();
	ck_assert_int_eq(process(a, v, 7, &r), RTC_OK);
	ck_assert_double_eq(value_of(&r, "vol"), 7);
	ck_assert_double_eq(value_of(&r, "has_file"), 1);
	ck_assert_double_eq(value_of(&r, "dims_x"), 16);
	ck_assert_double_eq(value_of(&r, "rec_run"), 3);
	ck_assert_double_eq(value_of(&r, "cfg_k"), 42);
	rtc_analysis_ext_free(a);
	rtc_volume_free(v);
	env_teardown(&e);
}
END_TEST

/* A slow volume: the run waits at most timeout_ms, the next volume is
 * skipped while the process is busy, its late reply is discarded, and
 * then it gets the freshest volume again. */
START_TEST(test_timeout_skip_late)
{
	struct rtc_analysis_ext *a;
	struct rtc_analysis_ext_stats st;
	struct rtc_volume *v;
	struct rtc_fb_record r;
	struct env e;
	struct timespec ts = { 0, 800 * 1000000L };
	int64_t t0;

	if (!have_python())
		return;
	env_setup(&e);
	a = start_fake(&e, "slow", 200, 3, NULL);
	v = cube_volume();
	ck_assert_int_eq(process(a, v, 1, &r), RTC_OK);
	t0 = rtc_clock_mono_ns();
	ck_assert_int_eq(process(a, v, 2, &r), RTC_ERR_TIMEOUT);
	ck_assert_int_lt(rtc_clock_mono_ns() - t0, 450 * 1000000LL);
	ck_assert_uint_ne(r.flags & RTC_FB_ANALYSIS_TIMEOUT, 0);
	ck_assert_int_eq(r.n_values, 0);
	t0 = rtc_clock_mono_ns();
	ck_assert_int_eq(process(a, v, 3, &r), RTC_ERR_BUSY);
	ck_assert_int_lt(rtc_clock_mono_ns() - t0, 50 * 1000000LL);
	ck_assert_uint_ne(r.flags & RTC_FB_ANALYSIS_SKIPPED, 0);
	nanosleep(&ts, NULL);
	ck_assert_int_eq(process(a, v, 4, &r), RTC_OK);
	ck_assert_double_eq(value_of(&r, "vol"), 4);
	rtc_analysis_ext_get_stats(a, &st);
	ck_assert_uint_eq(st.timeouts, 1);
	ck_assert_uint_eq(st.skipped, 1);
	ck_assert_uint_eq(st.late, 1);
	ck_assert_uint_eq(st.answered, 2);
	/* the given-up volume's file went with its late reply */
	ck_assert_int_eq(count_files(rtc_analysis_ext_dir(a)), 0);
	rtc_analysis_ext_free(a);
	rtc_volume_free(v);
	env_teardown(&e);
}
END_TEST

START_TEST(test_bad_replies)
{
	struct rtc_analysis_ext *a;
	struct rtc_analysis_ext_stats st;
	struct rtc_volume *v;
	struct rtc_fb_record r;
	struct env e;
	char *cause = NULL;

	if (!have_python())
		return;
	env_setup(&e);
	v = cube_volume();
	/* stray output is skipped, the reply still counts */
	a = start_fake(&e, "garbage", 5000, 3, NULL);
	ck_assert_int_eq(process(a, v, 1, &r), RTC_OK);
	ck_assert_double_eq(value_of(&r, "vol"), 1);
	rtc_analysis_ext_get_stats(a, &st);
	ck_assert_uint_ge(st.bad_lines, 1);
	rtc_analysis_ext_free(a);
	/* an error reply: flagged, message cleaned */
	a = start_fake(&e, "error", 5000, 3, NULL);
	rtc_fb_record_init(&r);
	ck_assert_int_eq(rtc_analysis_ext_process(a, v, &r, &cause),
	    RTC_ERR_PROTO);
	ck_assert_ptr_nonnull(strstr(cause, "boom?"));
	ck_assert_uint_ne(r.flags & RTC_FB_ANALYSIS_FAILED, 0);
	free(cause);
	cause = NULL;
	rtc_analysis_ext_free(a);
	/* values that are not [name = number] */
	a = start_fake(&e, "badvalues", 5000, 3, NULL);
	ck_assert_int_eq(process(a, v, 1, &r), RTC_ERR_PROTO);
	ck_assert_int_eq(r.n_values, 0);
	rtc_analysis_ext_free(a);
	/* a line past the cap: killed, started again next time */
	a = start_fake(&e, "longline", 5000, 3, NULL);
	ck_assert_int_eq(process(a, v, 1, &r), RTC_ERR_UNAVAILABLE);
	rtc_analysis_ext_free(a);
	rtc_volume_free(v);
	env_teardown(&e);
}
END_TEST

/* A process that dies is started again, up to max_restarts. */
START_TEST(test_restart)
{
	struct rtc_analysis_ext *a;
	struct rtc_analysis_ext_stats st;
	struct rtc_volume *v;
	struct rtc_fb_record r;
	struct env e;

	if (!have_python())
		return;
	env_setup(&e);
	v = cube_volume();
	a = start_fake(&e, "die", 5000, 1, NULL);
	ck_assert_int_eq(process(a, v, 1, &r), RTC_OK);
	ck_assert_int_eq(process(a, v, 2, &r), RTC_ERR_UNAVAILABLE);
	ck_assert_uint_ne(r.flags & RTC_FB_ANALYSIS_FAILED, 0);
	ck_assert_int_eq(process(a, v, 3, &r), RTC_OK);     /* restarted */
	ck_assert_int_eq(process(a, v, 4, &r), RTC_ERR_UNAVAILABLE);
	ck_assert_int_eq(process(a, v, 5, &r), RTC_ERR_UNAVAILABLE); /* no more */
	ck_assert_uint_ne(r.flags & RTC_FB_ANALYSIS_FAILED, 0);
	rtc_analysis_ext_get_stats(a, &st);
	ck_assert_uint_eq(st.restarts, 1);
	rtc_analysis_ext_free(a);
	rtc_volume_free(v);
	env_teardown(&e);
}
END_TEST

START_TEST(test_start_failures)
{
	const char *none[] = { "no-such-analysis-program", NULL };
	struct rtc_analysis_ext_opts o;
	struct rtc_analysis_ext *a = NULL;
	struct env e;
	char *cause = NULL;
	int r;

	env_setup(&e);
	rtc_analysis_ext_opts_init(&o);
	o.argv = none;
	o.shm_dir = e.shm;
	r = rtc_analysis_ext_start(NULL, &o, &a, &cause);
	ck_assert_int_eq(r, RTC_ERR_NOT_FOUND);
	free(cause);
	cause = NULL;
	o.shm_dir = "/nonexistent";
	o.argv = (const char *[]){ "true", NULL };
	ck_assert_int_eq(rtc_analysis_ext_start(NULL, &o, &a, NULL), RTC_ERR_IO);
	o.argv = NULL;
	ck_assert_int_eq(rtc_analysis_ext_start(NULL, &o, &a, NULL),
	    RTC_ERR_INVAL);
	if (have_python()) {
		const char *argv[] = { "python3", e.fake, "noready", NULL };
		int64_t t0 = rtc_clock_mono_ns();

		o.argv = argv;
		o.shm_dir = e.shm;
		o.startup_timeout_ms = 300;
		ck_assert_int_eq(rtc_analysis_ext_start(NULL, &o, &a, &cause),
		    RTC_ERR_TIMEOUT);
		ck_assert_int_lt(rtc_clock_mono_ns() - t0, 3000 * 1000000LL);
		free(cause);
		cause = NULL;
		argv[2] = "wrongready";
		o.startup_timeout_ms = 10000;
		ck_assert_int_eq(rtc_analysis_ext_start(NULL, &o, &a, &cause),
		    RTC_ERR_PROTO);
		free(cause);
		/* nothing left behind in the RAM directory */
		ck_assert_int_eq(count_files(e.shm), 0);
	}
	rtc_analysis_ext_free(NULL);
	env_teardown(&e);
}
END_TEST

static Suite *
analysis_ext_suite(void)
{
	Suite *s = suite_create("analysis_ext");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_python_example);
	tcase_add_test(tc, test_request_contents);
	tcase_add_test(tc, test_timeout_skip_late);
	tcase_add_test(tc, test_bad_replies);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_start_failures);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(analysis_ext_suite)
