/*
 * Known trajectories for the phantom: the sine formula, TSV tables
 * (fMRIPrep/rtc confounds columns), the conversion between the
 * generator's LPS-and-degrees motion and rtc's convention, and that a
 * moved phantom really moved that way.
 */
#include "rtc_build.h"

#include <math.h>

#include "check_common.h"
#include "error.h"
#include "kern_motion.h"
#include "synth.h"
#include "synth_motion.h"

START_TEST(test_sine)
{
	struct rtc_synth_traj *tj = NULL;
	double t[3], r[3];

	ck_assert_int_eq(rtc_synth_traj_parse("sine:1.5,2,40", &tj, NULL),
	    RTC_OK);
	ck_assert_int_eq(rtc_synth_traj_rows(tj), 0);
	ck_assert_int_eq(rtc_synth_traj_at(tj, 0, 2.0, t, r), 0);
	ck_assert_double_eq(t[0], 0.0);
	ck_assert_double_eq(r[2], 0.0);
	/* a quarter period in: trans_x at its peak, 1.5 mm */
	ck_assert_int_eq(rtc_synth_traj_at(tj, 5, 2.0, t, r), 0);
	ck_assert_double_eq_tol(t[0], 1.5, 1e-12);
	ck_assert_double_eq_tol(r[0], 2.0 * M_PI / 180 *
	    sin(2 * M_PI * 0.89 * 10 / 40), 1e-12);
	ck_assert_int_eq(rtc_synth_traj_at(tj, -1, 2.0, t, r), -1);
	rtc_synth_traj_free(tj);
	/* the period defaults to 60 s */
	ck_assert_int_eq(rtc_synth_traj_parse("sine:1,1", &tj, NULL), RTC_OK);
	ck_assert_int_eq(rtc_synth_traj_at(tj, 15, 1.0, t, r), 0);
	ck_assert_double_eq_tol(t[0], 1.0, 1e-12);
	rtc_synth_traj_free(tj);
	rtc_synth_traj_free(NULL);
}
END_TEST

START_TEST(test_bad_specs)
{
	static const char *const bad[] = { "sine:", "sine:1", "sine:x,1",
	    "sine:1,1,1,1", "sine:60,1", "sine:1,45", "sine:1,1,0.5",
	    "sine:1,,2", "sine:nan,1", "", NULL };
	struct rtc_synth_traj *tj = NULL;
	char *cause = NULL;
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		ck_assert_msg(rtc_synth_traj_parse(bad[i], &tj, &cause) ==
		    RTC_ERR_INVAL, "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(cause);
		free(cause);
		cause = NULL;
	}
	ck_assert_int_eq(rtc_synth_traj_parse("/nonexistent/motion.tsv", &tj,
	    NULL), RTC_ERR_NOT_FOUND);
	ck_assert_ptr_null(tj);
}
END_TEST

static char *
write_file(const char *dir, const char *name, const char *text)
{
	char *p = NULL;

	ck_assert_int_ne(asprintf(&p, "%s/%s", dir, name), -1);
	ck_assert_int_eq(rtc_fs_write_atomic(p, text, strlen(text), 0644, 0,
	    NULL), RTC_OK);
	return p;
}

/* A confounds-like table: extra columns, another order, n/a, CRLF. */
START_TEST(test_table)
{
	char *dir = check_tmpdir(), *p, *cause = NULL;
	struct rtc_synth_traj *tj = NULL;
	struct rtc_synth_params sp;
	double t[3], r[3];

	p = write_file(dir, "conf.tsv", "global_signal\trot_z\trot_y\trot_x\t"
	    "trans_z\ttrans_y\ttrans_x\tframewise_displacement\r\n"
	    "1\t0\t0\t0\t0\t0\t0\tn/a\r\n"
	    "1\t0.01\t-0.02\t0.03\t1.5\t-2\t0.25\t1\r\n\r\n");
	ck_assert_int_eq(rtc_synth_traj_parse(p, &tj, &cause), RTC_OK);
	ck_assert_int_eq(rtc_synth_traj_rows(tj), 2);
	ck_assert_int_eq(rtc_synth_traj_at(tj, 1, 2.0, t, r), 0);
	ck_assert_double_eq(t[0], 0.25);
	ck_assert_double_eq(t[1], -2.0);
	ck_assert_double_eq(t[2], 1.5);
	ck_assert_double_eq(r[0], 0.03);
	ck_assert_double_eq(r[2], 0.01);
	ck_assert_int_eq(rtc_synth_traj_at(tj, 2, 2.0, t, r), -1);
	/* attached to a longer series: volume 3 is undefined */
	rtc_synth_params_init(&sp);
	sp.nx = sp.ny = 16;
	sp.nz = 4;
	sp.nvol = 3;
	rtc_synth_traj_attach(tj, &sp);
	{
		struct rtc_volume *v = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);

		ck_assert_int_eq(rtc_synth_volume(&sp, 1, v, NULL, NULL),
		    RTC_OK);
		ck_assert_int_eq(rtc_synth_volume(&sp, 2, v, NULL, &cause),
		    RTC_ERR_INVAL);
		free(cause);
		cause = NULL;
		rtc_volume_free(v);
	}
	rtc_synth_traj_free(tj);
	free(p);
	p = write_file(dir, "short.tsv", "trans_x\ttrans_y\ttrans_z\trot_x\t"
	    "rot_y\n0\t0\t0\t0\t0\n");
	ck_assert_int_eq(rtc_synth_traj_parse(p, &tj, &cause), RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "rot_z"));
	free(cause);
	cause = NULL;
	free(p);
	p = write_file(dir, "bad.tsv", "trans_x\ttrans_y\ttrans_z\trot_x\t"
	    "rot_y\trot_z\n0\t0\t0\t0\t0\t1e9\n");
	ck_assert_int_eq(rtc_synth_traj_parse(p, &tj, &cause), RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, ":2:"));
	free(cause);
	free(p);
	p = write_file(dir, "empty.tsv", "trans_x\ttrans_y\ttrans_z\trot_x\t"
	    "rot_y\trot_z\n");
	ck_assert_int_eq(rtc_synth_traj_parse(p, &tj, NULL), RTC_ERR_INVAL);
	free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* The generator's motion and rtc's convention describe one transform:
 * a point p of the head at rest goes to the same place in both. */
START_TEST(test_conventions_agree)
{
	double m[6] = { 1.0, -2.0, 0.5, 3.0, -1.5, 2.0 }, t[3], r[3], back[6];
	double T[4][4], c[3] = { 0, 0, 0 }, DEG = M_PI / 180;
	double p_lps[3] = { 20, -30, 10 }, moved_lps[3], p_ras[3], q[3];
	double ca = cos(m[3] * DEG), sa = sin(m[3] * DEG);
	double cb = cos(m[4] * DEG), sb = sin(m[4] * DEG);
	double cg = cos(m[5] * DEG), sg = sin(m[5] * DEG);
	double Rx[3][3] = { { 1, 0, 0 }, { 0, ca, -sa }, { 0, sa, ca } };
	double Ry[3][3] = { { cb, 0, sb }, { 0, 1, 0 }, { -sb, 0, cb } };
	double Rz[3][3] = { { cg, -sg, 0 }, { sg, cg, 0 }, { 0, 0, 1 } };
	double a[3], b[3];
	int i, j;

	rtc_synth_motion_to_rtc(m, t, r);
	rtc_synth_motion_from_rtc(t, r, back);
	for (i = 0; i < 6; i++)
		ck_assert_double_eq_tol(back[i], m[i], 1e-12);
	/* the generator: w = Rz Ry Rx h + t, in LPS */
	for (i = 0; i < 3; i++) {
		a[i] = 0;
		for (j = 0; j < 3; j++)
			a[i] += Rx[i][j] * p_lps[j];
	}
	for (i = 0; i < 3; i++) {
		b[i] = 0;
		for (j = 0; j < 3; j++)
			b[i] += Ry[i][j] * a[j];
	}
	for (i = 0; i < 3; i++) {
		moved_lps[i] = m[i];
		for (j = 0; j < 3; j++)
			moved_lps[i] += Rz[i][j] * b[j];
	}
	/* rtc: T(p) in RAS */
	rtc_motion_params_to_matrix(t, r, c, T);
	p_ras[0] = -p_lps[0];
	p_ras[1] = -p_lps[1];
	p_ras[2] = p_lps[2];
	for (i = 0; i < 3; i++) {
		q[i] = T[i][3];
		for (j = 0; j < 3; j++)
			q[i] += T[i][j] * p_ras[j];
	}
	ck_assert_double_eq_tol(q[0], -moved_lps[0], 1e-9);
	ck_assert_double_eq_tol(q[1], -moved_lps[1], 1e-9);
	ck_assert_double_eq_tol(q[2], moved_lps[2], 1e-9);
}
END_TEST

/* rtc synth --motion: truth.tsv carries both conventions. */
START_TEST(test_truth_columns)
{
	char *dir = check_tmpdir(), *text = NULL, path[PATH_MAX + 20];
	struct rtc_synth_traj *tj = NULL;
	struct rtc_synth_params sp;
	size_t len;

	rtc_synth_params_init(&sp);
	sp.nx = sp.ny = 16;
	sp.nz = 4;
	sp.nvol = 3;
	sp.roi.amplitude = 0.02;
	sp.block_s = 2.0;
	ck_assert_int_eq(rtc_synth_traj_parse("sine:2,1,8", &tj, NULL), RTC_OK);
	rtc_synth_traj_attach(tj, &sp);
	ck_assert_int_eq(rtc_synth_write(NULL, &sp, dir, NULL), RTC_OK);
	snprintf(path, sizeof(path), "%s/truth.tsv", dir);
	ck_assert_int_eq(rtc_fs_read_file(path, 1 << 20, &text, &len, NULL),
	    RTC_OK);
	ck_assert_ptr_nonnull(strstr(text, "\tactivation\tdrift\ttrans_x\t"
	    "trans_y\ttrans_z\trot_x\trot_y\trot_z\n"));
	/* volume 2 (t = 2 s, a quarter period): trans_x 2 mm (RAS), the
	 * generator's -2 (LPS); the activation block is on */
	ck_assert_ptr_nonnull(strstr(text, "\n2\t001_000001_000002.dcm\t"
	    "43202.0000\t-2.000000\t"));
	ck_assert_ptr_nonnull(strstr(text, "\t0.020000\t1.000333\t2.000000\t"));
	free(text);
	rtc_synth_traj_free(tj);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static Suite *
synth_motion_suite(void)
{
	Suite *s = suite_create("synth_motion");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_sine);
	tcase_add_test(tc, test_bad_specs);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_conventions_agree);
	tcase_add_test(tc, test_truth_columns);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(synth_motion_suite)
