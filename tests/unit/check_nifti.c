#include "rtc_build.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include <nifti2_io.h>

#include "check_common.h"
#include "error.h"
#include "nifti.h"
#include "volume.h"

/* An oblique affine with a flipped axis, as scanner data has. */
static void
oblique(struct rtc_volume *v)
{
	double c = cos(0.2), s = sin(0.2);

	rtc_affine_identity(v->affine);
	v->affine[0][0] = -3.0;
	v->affine[1][1] = 3.0 * c;
	v->affine[2][1] = 3.0 * s;
	v->affine[1][2] = -4.0 * s;
	v->affine[2][2] = 4.0 * c;
	v->affine[0][3] = 92.5;
	v->affine[1][3] = -111.25;
	v->affine[2][3] = -24.0;
	rtc_volume_update_voxel_size(v);
}

static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void
roundtrip(enum rtc_dtype t, int nt, const char *ext)
{
	char *dir = check_tmpdir(), p[PATH_MAX];
	struct rtc_volume *v = rtc_volume_new(7, 5, 3, nt, t), *b = NULL;
	unsigned char *d = v->data;
	size_t i;
	int r, c;

	for (i = 0; i < rtc_volume_nbytes(v); i++)
		d[i] = (unsigned char)(i * 31 + 7);
	oblique(v);
	v->tr = 1.5;
	snprintf(p, sizeof(p), "%s/img%s", dir, ext);
	ck_assert_int_eq(rtc_nifti_write(p, v, NULL, NULL), RTC_OK);
	ck_assert_int_eq(rtc_nifti_read(p, 0, &b, NULL), RTC_OK);
	ck_assert_int_eq(b->nx, 7);
	ck_assert_int_eq(b->ny, 5);
	ck_assert_int_eq(b->nz, 3);
	ck_assert_int_eq(b->nt, nt);
	ck_assert_int_eq(b->dtype, t);
	ck_assert_mem_eq(b->data, v->data, rtc_volume_nbytes(v));
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			ck_assert_double_eq_tol(b->affine[r][c], v->affine[r][c],
			    1e-5);
	ck_assert_double_eq_tol(b->tr, 1.5, 1e-6);
	ck_assert_int_eq(count_files(dir), 1);   /* no temp file left */
	rtc_volume_free(v);
	rtc_volume_free(b);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}

START_TEST(test_roundtrip_int16_4d)
{
	roundtrip(RTC_DT_INT16, 4, ".nii");
}
END_TEST

START_TEST(test_roundtrip_gz)
{
	roundtrip(RTC_DT_UINT16, 2, ".nii.gz");
}
END_TEST

START_TEST(test_roundtrip_types)
{
	roundtrip(RTC_DT_UINT8, 1, ".nii");
	roundtrip(RTC_DT_FLOAT32, 1, ".nii");
	roundtrip(RTC_DT_FLOAT64, 2, ".nii.gz");
	roundtrip(RTC_DT_INT32, 1, ".nii");
}
END_TEST

START_TEST(test_header_fields)
{
	char *dir = check_tmpdir(), p[PATH_MAX];
	struct rtc_volume *v = rtc_volume_new(4, 4, 2, 3, RTC_DT_INT16);
	struct rtc_nifti_opts o = { "TE=30;rtc", 1, 2, 3, 0 };
	nifti_image *n;
	int r, c;

	oblique(v);
	v->tr = 2.0;
	v->scl_slope = 2.0;
	v->scl_inter = -1.0;
	snprintf(p, sizeof(p), "%s/h.nii", dir);
	ck_assert_int_eq(rtc_nifti_write(p, v, &o, NULL), RTC_OK);
	n = nifti_image_read(p, 0);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->nifti_type, NIFTI_FTYPE_NIFTI1_1);
	ck_assert_int_eq(n->qform_code, NIFTI_XFORM_SCANNER_ANAT);
	ck_assert_int_eq(n->sform_code, NIFTI_XFORM_SCANNER_ANAT);
	ck_assert_int_eq(n->xyz_units, NIFTI_UNITS_MM);
	ck_assert_int_eq(n->time_units, NIFTI_UNITS_SEC);
	ck_assert_int_eq(n->freq_dim, 1);
	ck_assert_int_eq(n->phase_dim, 2);
	ck_assert_int_eq(n->slice_dim, 3);
	ck_assert_int_eq(n->datatype, DT_INT16);
	ck_assert_int_eq((int)n->iname_offset, 352);
	ck_assert_double_eq_tol(n->dt, 2.0, 1e-9);
	ck_assert_double_eq_tol(n->scl_slope, 2.0, 1e-9);
	ck_assert_double_eq_tol(n->scl_inter, -1.0, 1e-9);
	ck_assert_str_eq(n->descrip, "TE=30;rtc");
	/* the qform is the same rigid + voxel-size affine */
	ck_assert_double_eq_tol(n->qfac, -1.0, 1e-9);
	for (r = 0; r < 3; r++)
		for (c = 0; c < 4; c++)
			ck_assert_double_eq_tol(n->qto_xyz.m[r][c],
			    v->affine[r][c], 1e-4);
	nifti_image_free(n);
	rtc_volume_free(v);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_write_errors)
{
	char *dir = check_tmpdir(), p[PATH_MAX], *cause = NULL;
	struct rtc_volume *v = rtc_volume_new(2, 2, 2, 1, RTC_DT_INT16);

	snprintf(p, sizeof(p), "%s/img.img", dir);
	ck_assert_int_eq(rtc_nifti_write(p, v, NULL, &cause), RTC_ERR_INVAL);
	free(cause);
	cause = NULL;
	snprintf(p, sizeof(p), "%s/no/such/dir/img.nii", dir);
	ck_assert_int_ne(rtc_nifti_write(p, v, NULL, &cause), RTC_OK);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(rtc_nifti_write(NULL, v, NULL, &cause), RTC_ERR_INVAL);
	free(cause);
	ck_assert_int_eq(count_files(dir), 0);
	rtc_volume_free(v);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_write_failure_leaves_nothing)
{
	/* the final rename fails: the temp file goes away */
	char *dir = check_tmpdir(), p[PATH_MAX], *cause = NULL;
	struct rtc_volume *v = rtc_volume_new(64, 64, 20, 1, RTC_DT_INT16);

	snprintf(p, sizeof(p), "%s/img.nii", dir);
	/* a directory in the target's place */
	ck_assert_int_eq(mkdir(p, 0755), 0);
	ck_assert_int_eq(rtc_nifti_write(p, v, NULL, &cause), RTC_ERR_IO);
	ck_assert_ptr_nonnull(strstr(cause, "img.nii"));
	free(cause);
	ck_assert_int_eq(count_files(dir), 1);   /* only that directory */
	rtc_volume_free(v);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_read_errors)
{
	char *dir = check_tmpdir(), p[PATH_MAX], *cause = NULL;
	struct rtc_volume *v = rtc_volume_new(8, 8, 8, 2, RTC_DT_FLOAT32), *b;

	snprintf(p, sizeof(p), "%s/none.nii", dir);
	ck_assert_int_eq(rtc_nifti_read(p, 0, &b, &cause), RTC_ERR_NOT_FOUND);
	free(cause);
	cause = NULL;
	snprintf(p, sizeof(p), "%s/junk.nii", dir);
	ck_assert_int_eq(rtc_fs_write_atomic(p, "not nifti at all", 16, 0644, 0,
	    NULL), RTC_OK);
	ck_assert_int_eq(rtc_nifti_read(p, 0, &b, &cause), RTC_ERR_FORMAT);
	free(cause);
	cause = NULL;
	snprintf(p, sizeof(p), "%s/big.nii", dir);
	ck_assert_int_eq(rtc_nifti_write(p, v, NULL, NULL), RTC_OK);
	ck_assert_int_eq(rtc_nifti_read(p, 1000, &b, &cause), RTC_ERR_TOO_BIG);
	ck_assert_ptr_nonnull(strstr(cause, "cap"));
	free(cause);
	rtc_volume_free(v);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_datatype_codes)
{
	ck_assert_int_eq(rtc_nifti_datatype(RTC_DT_INT16), DT_INT16);
	ck_assert_int_eq(rtc_nifti_datatype(RTC_DT_UINT16), DT_UINT16);
	ck_assert_int_eq(rtc_nifti_datatype(RTC_DT_FLOAT64), DT_FLOAT64);
	ck_assert_int_eq(rtc_nifti_datatype((enum rtc_dtype)77), 0);
}
END_TEST

START_TEST(test_read_reference_image)
{
	const char *d = check_data_dir();
	char p[PATH_MAX];
	struct rtc_volume *v;

	if (d == NULL)
		return;
	snprintf(p, sizeof(p), "%s/dicom/siemens-vd13-mosaic/ref/2_ep2d_Asc.nii",
	    d);
	ck_assert_int_eq(rtc_nifti_read(p, 0, &v, NULL), RTC_OK);
	ck_assert_int_eq(v->nx, 64);
	ck_assert_int_eq(v->nz, 36);
	ck_assert_int_eq(v->nt, 6);
	ck_assert_double_eq_tol(v->tr, 3.2, 1e-6);
	ck_assert_double_eq_tol(v->dz, 3.6, 1e-4);
	rtc_volume_free(v);
}
END_TEST

static Suite *
nifti_suite(void)
{
	Suite *s = suite_create("nifti");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_roundtrip_int16_4d);
	tcase_add_test(tc, test_roundtrip_gz);
	tcase_add_test(tc, test_roundtrip_types);
	tcase_add_test(tc, test_header_fields);
	tcase_add_test(tc, test_write_errors);
	tcase_add_test(tc, test_write_failure_leaves_nothing);
	tcase_add_test(tc, test_read_errors);
	tcase_add_test(tc, test_datatype_codes);
	tcase_add_test(tc, test_read_reference_image);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(nifti_suite)
