#include "rtc_build.h"

#include <math.h>

#include "check_common.h"
#include "error.h"
#include "kern_testutil.h"
#include "mask.h"

#define N 40

static size_t
idx(int i, int j, int k)
{
	return ((size_t)k * N + j) * N + i;
}

/* A bright noisy ball with a dark core (a "ventricle"), a dark tube
 * through all slices (open at top and bottom), and a separate bright
 * speck: the mask is the ball, core and tube filled, speck dropped. */
START_TEST(test_ball_holes_and_speck)
{
	struct rtc_grid g;
	struct trng r = { 4 };
	float *vol;
	uint8_t *m;
	size_t cnt = 0;
	int i, j, k, wrong = 0;

	rtc_grid_set(&g, N, N, N, NULL);
	vol = malloc(rtc_grid_nvox(&g) * sizeof(float));
	m = malloc(rtc_grid_nvox(&g));
	for (k = 0; k < N; k++)
		for (j = 0; j < N; j++)
			for (i = 0; i < N; i++) {
				double d = sqrt((i - 20.0) * (i - 20.0) +
				    (j - 20.0) * (j - 20.0) + (k - 20.0) *
				    (k - 20.0));
				double t = sqrt((i - 24.0) * (i - 24.0) +
				    (j - 18.0) * (j - 18.0));
				double v = 10.0 + 3.0 * trng_unif(&r);

				if (d < 14.0 && d >= 4.0 && t >= 1.5)
					v = 800.0 + 100.0 * trng_unif(&r);
				if (i >= 2 && i <= 3 && j >= 2 && j <= 3 &&
				    k >= 2 && k <= 3)
					v = 900.0;
				vol[idx(i, j, k)] = (float)v;
			}
	ck_assert_int_eq(rtc_mask_auto(vol, &g, NULL, m, &cnt, NULL), RTC_OK);
	ck_assert_uint_eq(cnt, rtc_mask_count(m, rtc_grid_nvox(&g)));
	for (k = 0; k < N; k++)
		for (j = 0; j < N; j++)
			for (i = 0; i < N; i++) {
				double d = sqrt((i - 20.0) * (i - 20.0) +
				    (j - 20.0) * (j - 20.0) + (k - 20.0) *
				    (k - 20.0));

				/* inside the ball (core and tube included) */
				if (d < 13.0 && !m[idx(i, j, k)])
					wrong++;
				if (d > 15.0 && m[idx(i, j, k)])
					wrong++;
			}
	ck_assert_int_eq(wrong, 0);
	ck_assert_int_eq(m[idx(20, 20, 20)], 1);     /* the core */
	ck_assert_int_eq(m[idx(24, 18, 20)], 1);     /* the tube */
	ck_assert_int_eq(m[idx(2, 2, 2)], 0);        /* the speck */
	free(vol);
	free(m);
}
END_TEST

START_TEST(test_morphology)
{
	struct rtc_grid g;
	uint8_t *m;
	size_t n;

	rtc_grid_set(&g, 11, 11, 11, NULL);
	n = rtc_grid_nvox(&g);
	m = calloc(n, 1);
	m[(5 * 11 + 5) * 11 + 5] = 1;
	ck_assert_int_eq(rtc_mask_dilate(m, &g, 1), RTC_OK);
	ck_assert_uint_eq(rtc_mask_count(m, n), 7);
	ck_assert_int_eq(rtc_mask_dilate(m, &g, 1), RTC_OK);
	ck_assert_uint_eq(rtc_mask_count(m, n), 25);
	/* the 25-voxel diamond erodes back to 7, then 1, then nothing */
	ck_assert_int_eq(rtc_mask_erode(m, &g, 1), RTC_OK);
	ck_assert_uint_eq(rtc_mask_count(m, n), 7);
	ck_assert_int_eq(rtc_mask_erode(m, &g, 2), RTC_OK);
	ck_assert_uint_eq(rtc_mask_count(m, n), 0);
	/* the grid's edge is background for erosion */
	memset(m, 1, n);
	ck_assert_int_eq(rtc_mask_erode(m, &g, 1), RTC_OK);
	ck_assert_uint_eq(rtc_mask_count(m, n), 9 * 9 * 9);
	/* components */
	memset(m, 0, n);
	m[0] = m[1] = m[2] = 1;
	m[100] = m[111] = 1;
	m[500] = 1;
	{
		size_t cnt = 0;

		ck_assert_int_eq(rtc_mask_largest_component(m, &g, &cnt),
		    RTC_OK);
		ck_assert_uint_eq(cnt, 3);
		ck_assert_uint_eq(rtc_mask_count(m, n), 3);
		ck_assert_int_eq(m[1], 1);
		ck_assert_int_eq(m[500], 0);
	}
	free(m);
}
END_TEST

/* The real EPI: a plausible brain (volume and position). */
START_TEST(test_real_epi)
{
	struct real_series s;
	uint8_t *m;
	size_t cnt = 0;
	double vs[3], cc;

	if (!real_series_load("siemens-vd13-mosaic", &s))
		return;
	m = malloc(rtc_grid_nvox(&s.g));
	ck_assert_int_eq(rtc_mask_auto(s.data + 3 * rtc_grid_nvox(&s.g), &s.g,
	    NULL, m, &cnt, NULL), RTC_OK);
	rtc_grid_voxel_size(&s.g, vs);
	cc = cnt * vs[0] * vs[1] * vs[2] / 1000.0;
	fprintf(stderr, "real EPI mask: %zu voxels, %.0f cm^3\n", cnt, cc);
	ck_assert_double_gt(cc, 900.0);
	ck_assert_double_lt(cc, 2200.0);
	/* nothing in the corners */
	ck_assert_int_eq(m[0], 0);
	ck_assert_int_eq(m[rtc_grid_nvox(&s.g) - 1], 0);
	free(m);
	real_series_free(&s);
}
END_TEST

START_TEST(test_bad_input)
{
	struct rtc_grid g;
	struct rtc_mask_opts o;
	float vol[27];
	uint8_t m[27];
	char *cause = NULL;
	int v;

	rtc_grid_set(&g, 3, 3, 3, NULL);
	memset(vol, 0, sizeof(vol));
	ck_assert_int_eq(rtc_mask_auto(vol, &g, NULL, m, NULL, &cause),
	    RTC_ERR_INVAL);
	for (v = 0; v < 27; v++)
		vol[v] = NAN;
	ck_assert_int_eq(rtc_mask_auto(vol, &g, NULL, m, NULL, &cause),
	    RTC_ERR_INVAL);
	vol[13] = 5.0f;
	rtc_mask_opts_init(&o);
	o.frac = 1.5;
	ck_assert_int_eq(rtc_mask_auto(vol, &g, &o, m, NULL, &cause),
	    RTC_ERR_INVAL);
	o.frac = 0.0;
	o.dilate = -1;
	ck_assert_int_eq(rtc_mask_auto(vol, &g, &o, m, NULL, &cause),
	    RTC_ERR_INVAL);
	/* a single voxel volume: threshold at its value, nothing above */
	rtc_mask_opts_init(&o);
	ck_assert_int_eq(rtc_mask_auto(vol, &g, &o, m, NULL, &cause),
	    RTC_ERR_INVAL);
	free(cause);
}
END_TEST

Suite *mask_suite(void);

Suite *
mask_suite(void)
{
	Suite *s = suite_create("mask");
	TCase *tc = tcase_create("mask");

	tcase_add_test(tc, test_ball_holes_and_speck);
	tcase_add_test(tc, test_morphology);
	tcase_add_test(tc, test_real_epi);
	tcase_add_test(tc, test_bad_input);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(mask_suite)
