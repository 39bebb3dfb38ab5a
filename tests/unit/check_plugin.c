#include "rtc_build.h"

#include <math.h>

#include "check_common.h"
#include "error.h"
#include "fsutil.h"
#include "plugin.h"
#include "project.h"
#include "volume.h"

static char *
built(const char *name)
{
	const char *b = getenv("RTC_TOP_BUILDDIR");
	char *p = NULL;

	ck_assert_int_ne(asprintf(&p, "%s/tests/live/%s", b ? b : "..", name),
	    -1);
	return p;
}

/* 20^3 floats, 2 mm voxels; a bright 6^3 cube (value 100) at voxels
 * 7..12 on a dim background (value 1). */
static struct rtc_volume *
cube_volume(void)
{
	struct rtc_volume *v = rtc_volume_new(20, 20, 20, 1, RTC_DT_FLOAT32);
	float *d = v->data;
	int i, j, k;

	for (k = 0; k < 20; k++)
		for (j = 0; j < 20; j++)
			for (i = 0; i < 20; i++)
				d[(k * 20 + j) * 20 + i] =
				    (i >= 7 && i <= 12 && j >= 7 && j <= 12 &&
				    k >= 7 && k <= 12) ? 100.0f : 1.0f;
	rtc_affine_identity(v->affine);
	v->affine[0][0] = v->affine[1][1] = v->affine[2][2] = 2.0;
	v->affine[0][3] = -20;
	rtc_volume_update_voxel_size(v);
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

START_TEST(test_example_plugin)
{
	char *so = built("example_plugin.so"), *cause = NULL;
	struct rtc_plugin_host *h = NULL;
	struct rtc_plugin_stats st;
	struct rtc_volume *v = cube_volume();
	struct rtc_fb_record r;
	json_t *cfg = json_pack("{s:f, s:f}", "threshold_fraction", 0.5,
	    "radius_mm", 2.5);
	int vol;

	ck_assert_msg(rtc_plugin_load(NULL, so, cfg, 0, &h, &cause) == RTC_OK,
	    "load: %s", cause ? cause : "");
	ck_assert_str_eq(rtc_plugin_name(h), "example");
	for (vol = 1; vol <= 3; vol++) {
		rtc_fb_record_init(&r);
		r.run = 1;
		r.vol = vol;
		ck_assert_int_eq(rtc_fb_record_set_roi(&r, "brain.mean", 5.0),
		    RTC_OK);
		ck_assert_int_eq(rtc_plugin_process(h, v, &r, &cause), RTC_OK);
		ck_assert_int_eq(r.n_values, 3);
		ck_assert_double_eq_tol(value_of(&r, "mean"), 100.0, 1e-9);
		ck_assert_double_eq_tol(value_of(&r, "voxels"), 216.0, 1e-9);
		/* the cube's centroid is voxel 9.5: within 2.5 mm are the 8
		 * voxels around it, all bright */
		ck_assert_double_eq_tol(value_of(&r, "center_mean"), 100.0,
		    1e-9);
		ck_assert_int_eq(r.flags & RTC_FB_ANALYSIS_FAILED, 0);
	}
	rtc_plugin_get_stats(h, &st);
	ck_assert_uint_eq(st.volumes, 3);
	ck_assert_uint_eq(st.failures, 0);
	ck_assert(st.max_ms >= 0);
	/* an all-dark volume: the plugin fails the volume, the run goes on */
	memset(v->data, 0, v->cap);
	rtc_fb_record_init(&r);
	ck_assert_int_eq(rtc_plugin_process(h, v, &r, &cause), RTC_ERR_PROTO);
	ck_assert_ptr_nonnull(strstr(cause, "no voxel above the threshold"));
	ck_assert_uint_ne(r.flags & RTC_FB_ANALYSIS_FAILED, 0);
	rtc_plugin_get_stats(h, &st);
	ck_assert_uint_eq(st.failures, 1);
	free(cause);
	rtc_plugin_free(h);
	rtc_plugin_free(NULL);
	json_decref(cfg);
	rtc_volume_free(v);
	free(so);
}
END_TEST

START_TEST(test_refused_plugins)
{
	char *so = built("example_plugin.so"), *bad = built("bad_abi_plugin.so");
	char *dir = check_tmpdir(), *junk = NULL, *cause = NULL;
	struct rtc_plugin_host *h = NULL;
	json_t *cfg;

	ck_assert_int_eq(rtc_plugin_load(NULL, bad, NULL, 0, &h, &cause),
	    RTC_ERR_UNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(cause, "ABI 99"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(rtc_plugin_load(NULL, "/nonexistent/p.so", NULL, 0, &h,
	    &cause), RTC_ERR_NOT_FOUND);
	free(cause);
	cause = NULL;
	ck_assert_int_ne(asprintf(&junk, "%s/junk.so", dir), -1);
	ck_assert_int_eq(rtc_fs_write_atomic(junk, "not ELF", 7, 0644, 0, NULL),
	    RTC_OK);
	ck_assert_int_eq(rtc_plugin_load(NULL, junk, NULL, 0, &h, &cause),
	    RTC_ERR_FORMAT);
	free(cause);
	cause = NULL;
	/* a real shared object that is not a plugin */
	if (rtc_fs_is_file("/lib/x86_64-linux-gnu/libm.so.6")) {
		ck_assert_int_eq(rtc_plugin_load(NULL,
		    "/lib/x86_64-linux-gnu/libm.so.6", NULL, 0, &h, &cause),
		    RTC_ERR_FORMAT);
		ck_assert_ptr_nonnull(strstr(cause, "rtc_plugin_entry"));
		free(cause);
		cause = NULL;
	}
	/* init refuses its configuration, with its own words */
	cfg = json_pack("{s:f}", "threshold_fraction", 2.0);
	ck_assert_int_eq(rtc_plugin_load(NULL, so, cfg, 0, &h, &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "threshold_fraction must be"));
	free(cause);
	json_decref(cfg);
	free(junk);
	free(so);
	free(bad);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* The shipped example project, with its plugin built: the project names
 * the plugin and its config, the plugin's value is the feedback. */
START_TEST(test_example_project)
{
	const char *top = getenv("RTC_TOP_SRCDIR");
	char *so = built("example_plugin.so"), *dir = check_tmpdir();
	char *src = NULL, *dst = NULL, *text = NULL, *cause = NULL;
	struct rtc_project *p = NULL;
	struct rtc_plugin_host *h = NULL;
	struct rtc_proj_fbstate fs;
	struct rtc_volume *v = cube_volume();
	struct rtc_fb_record r;
	size_t len = 0;

	ck_assert_int_ne(asprintf(&src, "%s/projects/plugin-example/project.toml",
	    top ? top : ".."), -1);
	ck_assert_int_eq(rtc_fs_read_file(src, 1 << 20, &text, &len, NULL),
	    RTC_OK);
	ck_assert_int_ne(asprintf(&dst, "%s/project.toml", dir), -1);
	ck_assert_int_eq(rtc_fs_write_atomic(dst, text, len, 0644, 0, NULL),
	    RTC_OK);
	free(text);
	text = NULL;
	/* without the plugin built, the project says what is missing */
	ck_assert_int_eq(rtc_project_load(NULL, dst, &p, &cause),
	    RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "example_plugin.so"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(rtc_fs_read_file(so, 16 << 20, &text, &len, NULL),
	    RTC_OK);
	free(dst);
	ck_assert_int_ne(asprintf(&dst, "%s/example_plugin.so", dir), -1);
	ck_assert_int_eq(rtc_fs_write_atomic(dst, text, len, 0755, 0, NULL),
	    RTC_OK);
	ck_assert_msg(rtc_project_load(NULL, dir, &p, &cause) == RTC_OK, "%s",
	    cause ? cause : "");
	ck_assert_ptr_nonnull(p->analysis.plugin);
	ck_assert_msg(rtc_plugin_load(NULL, p->analysis.plugin,
	    p->analysis.config, p->analysis.timeout_ms, &h, &cause) == RTC_OK,
	    "%s", cause ? cause : "");
	rtc_fb_record_init(&r);
	r.run = 1;
	r.vol = 1;
	ck_assert_int_eq(rtc_plugin_process(h, v, &r, NULL), RTC_OK);
	rtc_project_fbstate_init(&fs);
	/* radius 10 mm around the centroid reaches the dim background */
	ck_assert_double_eq_tol(rtc_project_feedback(p, &fs, &r),
	    value_of(&r, "center_mean"), 1e-12);
	ck_assert(value_of(&r, "center_mean") < 100.0);
	ck_assert(value_of(&r, "center_mean") > 1.0);
	rtc_plugin_free(h);
	rtc_project_free(p);
	rtc_volume_free(v);
	free(text);
	free(src);
	free(dst);
	free(so);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static Suite *
plugin_suite(void)
{
	Suite *s = suite_create("plugin");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_example_plugin);
	tcase_add_test(tc, test_refused_plugins);
	tcase_add_test(tc, test_example_project);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(plugin_suite)
