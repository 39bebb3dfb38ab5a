#include "rtc_build.h"

#include <math.h>
#include <stdint.h>

#include "check_common.h"
#include "error.h"
#include "volume.h"

START_TEST(test_new_and_sizes)
{
	struct rtc_volume *v = rtc_volume_new(64, 64, 36, 2, RTC_DT_INT16);

	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(rtc_volume_nvox(v), 64 * 64 * 36);
	ck_assert_uint_eq(rtc_volume_nbytes(v), 64 * 64 * 36 * 2 * 2);
	ck_assert_int_eq(((int16_t *)v->data)[1000], 0);
	ck_assert_int_eq(v->acq.series_number, -1);
	ck_assert_double_eq(v->affine[3][3], 1.0);
	rtc_volume_free(v);
	rtc_volume_free(NULL);
}
END_TEST

START_TEST(test_reshape_reuses_storage)
{
	struct rtc_volume *v = rtc_volume_new(64, 64, 36, 1, RTC_DT_FLOAT32);
	void *p = v->data;

	ck_assert_int_eq(rtc_volume_reshape(v, 32, 32, 36, 1, RTC_DT_INT16),
	    RTC_OK);
	ck_assert_ptr_eq(v->data, p);
	ck_assert_int_eq(rtc_volume_reshape(v, 0, 32, 36, 1, RTC_DT_INT16),
	    RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_volume_reshape(v, 1 << 30, 1 << 30, 1 << 30,
	    1 << 30, RTC_DT_FLOAT64), RTC_ERR_TOO_BIG);
	rtc_volume_free(v);
}
END_TEST

START_TEST(test_frame_to_float_scaled)
{
	struct rtc_volume *v = rtc_volume_new(2, 2, 1, 2, RTC_DT_INT16);
	int16_t *d = v->data;
	float f[4];

	d[4] = -3;
	d[7] = 100;
	v->scl_slope = 2.0;
	v->scl_inter = 1.0;
	rtc_volume_frame_to_float(v, 1, f);
	ck_assert_float_eq(f[0], -5.0f);
	ck_assert_float_eq(f[3], 201.0f);
	v->scl_slope = 0.0;
	rtc_volume_frame_to_float(v, 1, f);
	ck_assert_float_eq(f[0], -3.0f);
	rtc_volume_free(v);
}
END_TEST

START_TEST(test_affine_invert)
{
	double a[4][4] = {
		{ -3.0, 0.1, 0.0, 90.0 },
		{ 0.0, 2.9, 0.5, -120.0 },
		{ 0.2, 0.0, 3.5, -40.0 },
		{ 0.0, 0.0, 0.0, 1.0 },
	}, inv[4][4], id[4][4];
	int r, c;

	ck_assert_int_eq(rtc_affine_invert(a, inv), RTC_OK);
	rtc_affine_mul(a, inv, id);
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			ck_assert_double_eq_tol(id[r][c], r == c ? 1.0 : 0.0, 1e-12);
	memset(a, 0, sizeof(a));
	ck_assert_int_eq(rtc_affine_invert(a, inv), RTC_ERR_INVAL);
}
END_TEST

START_TEST(test_vox2world_and_voxel_size)
{
	struct rtc_volume *v = rtc_volume_new(4, 4, 4, 1, RTC_DT_UINT8);
	double w[3];

	v->affine[0][0] = -3.0;
	v->affine[1][1] = 3.0;
	v->affine[2][2] = 3.5;
	v->affine[0][3] = 10.0;
	rtc_volume_vox2world(v, 1, 2, 3, w);
	ck_assert_double_eq(w[0], 7.0);
	ck_assert_double_eq(w[1], 6.0);
	ck_assert_double_eq(w[2], 10.5);
	rtc_volume_update_voxel_size(v);
	ck_assert_double_eq(v->dx, 3.0);
	ck_assert_double_eq(v->dz, 3.5);
	rtc_volume_free(v);
}
END_TEST

START_TEST(test_copy_header)
{
	struct rtc_volume *a = rtc_volume_new(2, 2, 3, 1, RTC_DT_INT16);
	struct rtc_volume *b = rtc_volume_new(2, 2, 3, 1, RTC_DT_FLOAT32);

	a->tr = 1.5;
	a->acq.series_number = 13;
	a->slice_timing = calloc(3, sizeof(double));
	a->slice_timing[2] = 0.75;
	ck_assert_int_eq(rtc_volume_copy_header(b, a), RTC_OK);
	ck_assert_double_eq(b->tr, 1.5);
	ck_assert_int_eq(b->acq.series_number, 13);
	ck_assert_double_eq(b->slice_timing[2], 0.75);
	ck_assert_ptr_ne(b->slice_timing, a->slice_timing);
	rtc_volume_free(a);
	rtc_volume_free(b);
}
END_TEST

START_TEST(test_rotation_zyx)
{
	double rot[3] = { 0.1, -0.2, 0.3 }, R[3][3], Rx[3][3] = { { 0 } },
	    Ry[3][3] = { { 0 } }, Rz[3][3] = { { 0 } }, t[3][3], want[3][3];
	int r, c, k;

	Rx[0][0] = 1;
	Rx[1][1] = cos(0.1); Rx[1][2] = -sin(0.1);
	Rx[2][1] = sin(0.1); Rx[2][2] = cos(0.1);
	Ry[1][1] = 1;
	Ry[0][0] = cos(-0.2); Ry[0][2] = sin(-0.2);
	Ry[2][0] = -sin(-0.2); Ry[2][2] = cos(-0.2);
	Rz[2][2] = 1;
	Rz[0][0] = cos(0.3); Rz[0][1] = -sin(0.3);
	Rz[1][0] = sin(0.3); Rz[1][1] = cos(0.3);
	for (r = 0; r < 3; r++)
		for (c = 0; c < 3; c++)
			for (t[r][c] = 0, k = 0; k < 3; k++)
				t[r][c] += Ry[r][k] * Rx[k][c];
	for (r = 0; r < 3; r++)
		for (c = 0; c < 3; c++)
			for (want[r][c] = 0, k = 0; k < 3; k++)
				want[r][c] += Rz[r][k] * t[k][c];
	rtc_rotation_zyx(rot, R);
	for (r = 0; r < 3; r++)
		for (c = 0; c < 3; c++)
			ck_assert_double_eq_tol(R[r][c], want[r][c], 1e-15);
}
END_TEST

START_TEST(test_dtype_names)
{
	ck_assert_uint_eq(rtc_dtype_size(RTC_DT_FLOAT64), 8);
	ck_assert_str_eq(rtc_dtype_name(RTC_DT_UINT16), "uint16");
	ck_assert_uint_eq(rtc_dtype_size((enum rtc_dtype)99), 0);
}
END_TEST

static Suite *
volume_suite(void)
{
	Suite *s = suite_create("volume");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_new_and_sizes);
	tcase_add_test(tc, test_reshape_reuses_storage);
	tcase_add_test(tc, test_frame_to_float_scaled);
	tcase_add_test(tc, test_affine_invert);
	tcase_add_test(tc, test_vox2world_and_voxel_size);
	tcase_add_test(tc, test_copy_header);
	tcase_add_test(tc, test_rotation_zyx);
	tcase_add_test(tc, test_dtype_names);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(volume_suite)
