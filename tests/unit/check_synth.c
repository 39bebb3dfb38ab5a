#include "rtc_build.h"

#include <math.h>
#include <stdint.h>

#include "check_common.h"
#include "convert.h"
#include "ctx.h"
#include "dicom.h"
#include "error.h"
#include "nifti.h"
#include "synth.h"

static void
small(struct rtc_synth_params *p)
{
	rtc_synth_params_init(p);
	p->nx = 32;
	p->ny = 32;
	p->nz = 9;
	p->nvol = 4;
	p->voxel[0] = p->voxel[1] = 6.0;
	p->voxel[2] = 12.0;
}

START_TEST(test_defaults_and_checks)
{
	struct rtc_synth_params p;
	char *cause = NULL;

	rtc_synth_params_init(&p);
	ck_assert_int_eq(p.nx, 64);
	ck_assert_int_eq(p.nz, 27);
	ck_assert_int_eq(rtc_synth_check(&p, NULL), RTC_OK);
	p.nz = 0;
	ck_assert_int_eq(rtc_synth_check(&p, &cause), RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "matrix"));
	free(cause);
	rtc_synth_params_init(&p);
	p.tr = 0.0;
	ck_assert_int_eq(rtc_synth_check(&p, NULL), RTC_ERR_INVAL);
	rtc_synth_params_init(&p);
	p.nvol = 0;
	ck_assert_int_eq(rtc_synth_check(&p, NULL), RTC_ERR_INVAL);
	rtc_synth_params_init(&p);
	p.voxel[1] = -3;
	ck_assert_int_eq(rtc_synth_check(&p, NULL), RTC_ERR_INVAL);
	rtc_synth_params_init(&p);
	p.nx = 512;
	p.ny = 512;
	p.nz = 512;     /* 128 Mi voxels */
	ck_assert_int_eq(rtc_synth_check(&p, NULL), RTC_ERR_INVAL);
}
END_TEST

START_TEST(test_phantom_tissues)
{
	ck_assert_double_eq(rtc_synth_phantom(0, 0, 200), 0.0);      /* air */
	ck_assert_double_eq(rtc_synth_phantom(12, 5, 10), 1400.0);   /* CSF */
	ck_assert_double_eq(rtc_synth_phantom(0, -40, 0), 650.0);    /* WM */
	ck_assert_double_eq(rtc_synth_phantom(0, 80, 5), 250.0);     /* skull */
	ck_assert_double_eq(rtc_synth_phantom(0, 75, 5), 850.0);     /* GM */
}
END_TEST

START_TEST(test_deterministic)
{
	struct rtc_synth_params p;
	struct rtc_volume *a = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_volume *b = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_synth_truth ta, tb;

	small(&p);
	ck_assert_int_eq(rtc_synth_volume(&p, 2, a, &ta, NULL), RTC_OK);
	ck_assert_int_eq(rtc_synth_volume(&p, 2, b, &tb, NULL), RTC_OK);
	ck_assert_mem_eq(a->data, b->data, rtc_volume_nbytes(a));
	ck_assert_int_eq(ta.volume, 3);
	ck_assert_double_eq(ta.time, p.start_time + 2 * p.tr);
	/* another volume or seed: other noise */
	ck_assert_int_eq(rtc_synth_volume(&p, 1, b, NULL, NULL), RTC_OK);
	ck_assert_int_ne(memcmp(a->data, b->data, rtc_volume_nbytes(a)), 0);
	p.seed = 2;
	ck_assert_int_eq(rtc_synth_volume(&p, 2, b, NULL, NULL), RTC_OK);
	ck_assert_int_ne(memcmp(a->data, b->data, rtc_volume_nbytes(a)), 0);
	ck_assert_int_eq(rtc_synth_volume(&p, 9, b, NULL, NULL), RTC_ERR_INVAL);
	rtc_volume_free(a);
	rtc_volume_free(b);
}
END_TEST

START_TEST(test_noise_statistics)
{
	struct rtc_synth_params p;
	struct rtc_volume *a = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_volume *b = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	const uint16_t *x, *y;
	double s = 0, ss = 0;
	size_t i, n = 0;

	small(&p);
	p.drift_per_min = 0;
	ck_assert_int_eq(rtc_synth_volume(&p, 0, a, NULL, NULL), RTC_OK);
	ck_assert_int_eq(rtc_synth_volume(&p, 1, b, NULL, NULL), RTC_OK);
	x = a->data;
	y = b->data;
	/* inside the head, volume differences are noise of SD sqrt(2)*8 */
	for (i = 0; i < rtc_volume_nvox(a); i++)
		if (x[i] > 400 && y[i] > 400) {
			double d = (double)x[i] - (double)y[i];

			s += d;
			ss += d * d;
			n++;
		}
	ck_assert_uint_gt(n, 1000);
	ck_assert_double_lt(fabs(s / (double)n), 1.0);
	ck_assert_double_eq_tol(sqrt(ss / (double)n), sqrt(2.0) * 8.0, 1.0);
	rtc_volume_free(a);
	rtc_volume_free(b);
}
END_TEST

START_TEST(test_slice_times_interleaved)
{
	struct rtc_synth_params p;
	double t[10];

	rtc_synth_params_init(&p);
	p.nz = 5;
	p.tr = 2.5;
	rtc_synth_geometry(&p, NULL, NULL, NULL, t);
	/* odd count: 0 2 4 1 3 */
	ck_assert_double_eq(t[0], 0.0);
	ck_assert_double_eq(t[2], 0.5);
	ck_assert_double_eq(t[4], 1.0);
	ck_assert_double_eq(t[1], 1.5);
	ck_assert_double_eq(t[3], 2.0);
	p.nz = 4;
	p.tr = 2.0;
	rtc_synth_geometry(&p, NULL, NULL, NULL, t);
	/* even count: 1 3 0 2 */
	ck_assert_double_eq(t[1], 0.0);
	ck_assert_double_eq(t[3], 0.5);
	ck_assert_double_eq(t[0], 1.0);
	ck_assert_double_eq(t[2], 1.5);
}
END_TEST

static int
shift_x(void *arg, int t, double m[6])
{
	(void)arg;
	memset(m, 0, 6 * sizeof(double));
	m[0] = t * 6.0;      /* one voxel per volume to the left */
	return 0;
}

static int
broken_motion(void *arg, int t, double m[6])
{
	(void)arg;
	(void)m;
	return t == 1 ? -1 : 0;
}

START_TEST(test_motion_hook)
{
	struct rtc_synth_params p;
	struct rtc_volume *a = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_volume *b = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_synth_truth tr;
	const uint16_t *x, *y;
	double diff = 0, shifted = 0;
	int i, j, k;

	small(&p);
	p.noise_sd = 0;
	p.drift_per_min = 0;
	ck_assert_int_eq(rtc_synth_volume(&p, 1, a, NULL, NULL), RTC_OK);
	p.motion = shift_x;
	ck_assert_int_eq(rtc_synth_volume(&p, 1, b, &tr, NULL), RTC_OK);
	ck_assert_double_eq(tr.motion[0], 6.0);
	x = a->data;
	y = b->data;
	/* +6 mm in LPS x is one voxel towards -i (i runs to L = +x ...
	 * RAS x = -LPS x, and i increases RAS -x): compare the images
	 * shifted by one column */
	for (k = 0; k < p.nz; k++)
		for (j = 0; j < p.ny; j++)
			for (i = 1; i < p.nx - 1; i++) {
				size_t o = ((size_t)k * p.ny + j) * p.nx + i;

				diff += fabs((double)x[o] - (double)y[o]);
				shifted += fabs((double)x[o] - (double)y[o + 1]);
			}
	ck_assert_double_gt(diff, 1000.0);
	ck_assert_double_lt(shifted, diff / 20);
	p.motion = broken_motion;
	ck_assert_int_eq(rtc_synth_volume(&p, 1, b, NULL, NULL), RTC_ERR_INVAL);
	rtc_volume_free(a);
	rtc_volume_free(b);
}
END_TEST

START_TEST(test_activation_blocks)
{
	struct rtc_synth_params p;
	struct rtc_volume *off = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_volume *on = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
	struct rtc_synth_truth t0, t1;
	double A[4][4];
	const uint16_t *a, *b;
	size_t i, up = 0, same = 0;

	small(&p);
	p.nvol = 20;
	p.noise_sd = 0;
	p.drift_per_min = 0;
	p.block_s = 10;          /* 5 volumes off, 5 on */
	p.roi.amplitude = 0.05;
	ck_assert_int_eq(rtc_synth_volume(&p, 0, off, &t0, NULL), RTC_OK);
	ck_assert_int_eq(rtc_synth_volume(&p, 5, on, &t1, NULL), RTC_OK);
	ck_assert_double_eq(t0.activation, 0.0);
	ck_assert_double_eq(t1.activation, 0.05);
	a = off->data;
	b = on->data;
	for (i = 0; i < rtc_volume_nvox(off); i++) {
		if (b[i] > a[i])
			up++;
		else if (b[i] == a[i])
			same++;
		else
			ck_abort_msg("activation lowered a voxel");
	}
	ck_assert_uint_gt(up, 5);                 /* the ROI */
	ck_assert_uint_gt(same, rtc_volume_nvox(off) - 200);
	rtc_synth_geometry(&p, NULL, NULL, A, NULL);
	ck_assert_double_eq(A[3][3], 1.0);
	rtc_volume_free(off);
	rtc_volume_free(on);
}
END_TEST

START_TEST(test_write_and_convert_roundtrip)
{
	char *dir = check_tmpdir(), syn[PATH_MAX], out[PATH_MAX], p[PATH_MAX + 16];
	char *truth = NULL;
	const char *inputs[1] = { syn };
	struct rtc_synth_params sp;
	struct rtc_ctx *ctx = rtc_ctx_new("check");
	struct rtc_convert_opts o = { out, 0 };
	struct rtc_convert_output *res = NULL;
	struct rtc_volume *img = NULL, *v = rtc_volume_new(1, 1, 1, 1,
	    RTC_DT_UINT16);
	double A[4][4];
	size_t n = 0, len, fb;
	int t, r, c, lines = 0;

	rtc_log_set_level(ctx->log, RTC_LOG_ERROR);
	small(&sp);
	sp.series_number = 12;
	snprintf(syn, sizeof(syn), "%s/syn", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	ck_assert_int_eq(rtc_synth_write(ctx, &sp, syn, NULL), RTC_OK);
	rtc_synth_filename(&sp, 3, p, sizeof(p));
	ck_assert_str_eq(p, "001_000012_000004.dcm");
	snprintf(p, sizeof(p), "%s/truth.tsv", syn);
	ck_assert_int_eq(rtc_fs_read_file(p, 1u << 20, &truth, &len, NULL),
	    RTC_OK);
	for (size_t i = 0; i < len; i++)
		lines += truth[i] == '\n';
	ck_assert_int_eq(lines, 1 + sp.nvol);
	ck_assert_ptr_nonnull(strstr(truth, "001_000012_000001.dcm\t43200.0000"));
	free(truth);
	ck_assert_int_eq(rtc_convert(ctx, inputs, 1, &o, &res, &n, NULL),
	    RTC_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(rtc_nifti_read(res[0].nifti, 0, &img, NULL), RTC_OK);
	ck_assert_int_eq(img->nx, 32);
	ck_assert_int_eq(img->nz, 9);
	ck_assert_int_eq(img->nt, 4);
	ck_assert_double_eq_tol(img->tr, sp.tr, 1e-6);
	rtc_synth_geometry(&sp, NULL, NULL, A, NULL);
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			ck_assert_double_eq_tol(img->affine[r][c], A[r][c], 1e-5);
	/* every voxel of every volume is what the generator made */
	fb = (size_t)32 * 32 * 9 * 2;
	for (t = 0; t < sp.nvol; t++) {
		ck_assert_int_eq(rtc_synth_volume(&sp, t, v, NULL, NULL), RTC_OK);
		ck_assert_mem_eq((char *)img->data + (size_t)t * fb, v->data, fb);
	}
	rtc_convert_outputs_free(res, n);
	rtc_volume_free(img);
	rtc_volume_free(v);
	rtc_ctx_free(ctx);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_write_bad_dir)
{
	struct rtc_synth_params sp;
	struct rtc_ctx *ctx = rtc_ctx_new("check");
	char *cause = NULL;

	small(&sp);
	ck_assert_int_ne(rtc_synth_write(ctx, &sp, "/proc/no/such/place", &cause),
	    RTC_OK);
	free(cause);
	sp.nvol = -1;
	ck_assert_int_eq(rtc_synth_write(ctx, &sp, "/tmp", NULL), RTC_ERR_INVAL);
	rtc_ctx_free(ctx);
}
END_TEST

static Suite *
synth_suite(void)
{
	Suite *s = suite_create("synth");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_defaults_and_checks);
	tcase_add_test(tc, test_phantom_tissues);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_noise_statistics);
	tcase_add_test(tc, test_slice_times_interleaved);
	tcase_add_test(tc, test_motion_hook);
	tcase_add_test(tc, test_activation_blocks);
	tcase_add_test(tc, test_write_and_convert_roundtrip);
	tcase_add_test(tc, test_write_bad_dir);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(synth_suite)
