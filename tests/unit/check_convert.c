#include "rtc_build.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include <jansson.h>

#include "check_common.h"
#include "convert.h"
#include "ctx.h"
#include "dicom.h"
#include "error.h"
#include "nifti.h"

static struct rtc_ctx *
quiet_ctx(void)
{
	struct rtc_ctx *c = rtc_ctx_new("check");

	ck_assert_ptr_nonnull(c);
	rtc_log_set_level(c->log, RTC_LOG_ERROR);
	return c;
}

static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void
base_meta(struct rtc_dicom_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->kind = RTC_DICOM_MOSAIC;
	m->vendor = RTC_VENDOR_SIEMENS;
	snprintf(m->manufacturer, sizeof(m->manufacturer), "SIEMENS");
	snprintf(m->model, sizeof(m->model), "Skyra");
	snprintf(m->series_description, sizeof(m->series_description),
	    "func task-rest/run 1");
	snprintf(m->image_type, sizeof(m->image_type), "ORIGINAL\\PRIMARY\\M");
	m->acq.series_number = 13;
	m->acq.acquisition_number = 1;
	m->te = 0.028;
	m->flip_angle = 64;
	m->field_strength = 3;
	m->slice_thickness = 4;
	m->pe_dir = 'C';
	m->pe_positive = 1;
}

START_TEST(test_format_time)
{
	char b[32];

	rtc_convert_format_time(12 * 3600 + 9 * 60 + 5.225, b, sizeof(b));
	ck_assert_str_eq(b, "12:09:05.225000");
	rtc_convert_format_time(0, b, sizeof(b));
	ck_assert_str_eq(b, "00:00:00.000000");
	rtc_convert_format_time(86399.9999999, b, sizeof(b));
	ck_assert_str_eq(b, "00:00:00.000000");
}
END_TEST

START_TEST(test_basename)
{
	struct rtc_dicom_meta m;
	char b[128];

	base_meta(&m);
	rtc_convert_basename(&m, b, sizeof(b));
	ck_assert_str_eq(b, "013_func_task-rest_run_1");
	m.series_description[0] = '\0';
	snprintf(m.protocol_name, sizeof(m.protocol_name), "../../etc/passwd");
	rtc_convert_basename(&m, b, sizeof(b));
	ck_assert_str_eq(b, "013_etc_passwd");
	ck_assert_ptr_null(strchr(b, '/'));
	m.protocol_name[0] = '\0';
	m.acq.series_number = -1;
	rtc_convert_basename(&m, b, sizeof(b));
	ck_assert_str_eq(b, "000_series");
}
END_TEST

START_TEST(test_pe_direction)
{
	struct rtc_dicom_meta m;
	int axis_only;

	base_meta(&m);
	ck_assert_str_eq(rtc_convert_pe_direction(&m, &axis_only), "j-");
	ck_assert_int_eq(axis_only, 0);
	m.pe_positive = 0;
	ck_assert_str_eq(rtc_convert_pe_direction(&m, &axis_only), "j");
	m.pe_dir = 'R';
	ck_assert_str_eq(rtc_convert_pe_direction(&m, &axis_only), "i-");
	m.pe_positive = 1;
	ck_assert_str_eq(rtc_convert_pe_direction(&m, &axis_only), "i");
	m.pe_positive = -1;
	ck_assert_str_eq(rtc_convert_pe_direction(&m, &axis_only), "i");
	ck_assert_int_eq(axis_only, 1);
	m.pe_dir = 0;
	ck_assert_ptr_null(rtc_convert_pe_direction(&m, &axis_only));
}
END_TEST

START_TEST(test_sidecar_fields)
{
	struct rtc_dicom_meta m;
	struct rtc_volume *v = rtc_volume_new(2, 2, 3, 1, RTC_DT_INT16);
	json_t *j, *st;
	const char *key;
	json_t *val;

	base_meta(&m);
	v->tr = 1.5;
	v->slice_timing = malloc(3 * sizeof(double));
	v->slice_timing[0] = 0;
	v->slice_timing[1] = 1.0;
	v->slice_timing[2] = 0.5;
	j = rtc_convert_sidecar(&m, v, 46070.3275);
	ck_assert_ptr_nonnull(j);
	ck_assert_double_eq(json_real_value(json_object_get(j,
	    "RepetitionTime")), 1.5);
	ck_assert_double_eq(json_real_value(json_object_get(j, "EchoTime")),
	    0.028);
	ck_assert_str_eq(json_string_value(json_object_get(j, "Manufacturer")),
	    "Siemens");
	ck_assert_str_eq(json_string_value(json_object_get(j,
	    "PhaseEncodingDirection")), "j-");
	ck_assert_str_eq(json_string_value(json_object_get(j,
	    "AcquisitionTime")), "12:47:50.327500");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "SeriesNumber")),
	    13);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "ImageType")), 3);
	st = json_object_get(j, "SliceTiming");
	ck_assert_uint_eq(json_array_size(st), 3);
	ck_assert_double_eq(json_real_value(json_array_get(st, 1)), 1.0);
	json_object_foreach(j, key, val) {
		ck_assert_ptr_null(strstr(key, "Patient"));
		ck_assert_ptr_null(strstr(key, "UID"));
		ck_assert_ptr_null(strstr(key, "Date"));
		ck_assert_ptr_null(strstr(key, "Institution"));
	}
	json_decref(j);
	/* unknown polarity: the axis only; no timing, no time */
	m.pe_positive = -1;
	free(v->slice_timing);
	v->slice_timing = NULL;
	j = rtc_convert_sidecar(&m, v, -1);
	ck_assert_str_eq(json_string_value(json_object_get(j,
	    "PhaseEncodingAxis")), "j");
	ck_assert_ptr_null(json_object_get(j, "PhaseEncodingDirection"));
	ck_assert_ptr_null(json_object_get(j, "SliceTiming"));
	ck_assert_ptr_null(json_object_get(j, "AcquisitionTime"));
	json_decref(j);
	rtc_volume_free(v);
}
END_TEST

START_TEST(test_collect)
{
	char *dir = check_tmpdir(), p[PATH_MAX], **files = NULL;
	const char *in[1];
	size_t n = 0;

	snprintf(p, sizeof(p), "%s/b", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/b/2.dcm", dir);
	rtc_fs_write_atomic(p, "x", 1, 0644, 0, NULL);
	snprintf(p, sizeof(p), "%s/a.dcm", dir);
	rtc_fs_write_atomic(p, "x", 1, 0644, 0, NULL);
	snprintf(p, sizeof(p), "%s/.hidden", dir);
	rtc_fs_write_atomic(p, "x", 1, 0644, 0, NULL);
	in[0] = dir;
	ck_assert_int_eq(rtc_convert_collect(in, 1, &files, &n, NULL), RTC_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_nonnull(strstr(files[0], "/a.dcm"));
	ck_assert_ptr_nonnull(strstr(files[1], "/b/2.dcm"));
	rtc_convert_files_free(files, n);
	snprintf(p, sizeof(p), "%s/none", dir);
	in[0] = p;
	ck_assert_int_eq(rtc_convert_collect(in, 1, &files, &n, NULL),
	    RTC_ERR_NOT_FOUND);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_convert_e11)
{
	const char *d = check_data_dir();
	char in[PATH_MAX], *out = check_tmpdir(), *cause = NULL;
	const char *inputs[1] = { in };
	struct rtc_convert_opts o = { out, 0 };
	struct rtc_convert_output *res = NULL;
	struct rtc_ctx *ctx = quiet_ctx();
	struct rtc_volume *img = NULL, *v1 = rtc_volume_new(1, 1, 1, 1,
	    RTC_DT_INT16);
	struct rtc_dicom *dec = rtc_dicom_new();
	struct rtc_dicom_meta m;
	json_t *j;
	size_t n = 0, fb;

	if (d == NULL)
		goto done;
	snprintf(in, sizeof(in), "%s/dicom/siemens-e11-mosaic-rt", d);
	ck_assert_int_eq(rtc_convert(ctx, inputs, 1, &o, &res, &n, &cause),
	    RTC_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(res[0].nt, 10);
	ck_assert_uint_eq(res[0].nfiles, 10);
	ck_assert_uint_eq(res[0].ndup, 1);
	ck_assert_int_eq(res[0].dtype, RTC_DT_INT16);
	ck_assert_ptr_nonnull(strstr(res[0].nifti,
	    "013_func_ses-01_task-faces_run-01.nii"));
	ck_assert_int_eq(rtc_nifti_read(res[0].nifti, 0, &img, NULL), RTC_OK);
	ck_assert_int_eq(img->nt, 10);
	ck_assert_double_eq_tol(img->tr, 1.5, 1e-6);
	/* frame 1 is volume 2 of the run, exactly */
	snprintf(in, sizeof(in),
	    "%s/dicom/siemens-e11-mosaic-rt/001_000013_000002.dcm", d);
	ck_assert_int_eq(rtc_dicom_read_file(dec, in, 0, &m, v1, NULL), RTC_OK);
	fb = rtc_volume_nbytes(v1);
	ck_assert_mem_eq((char *)img->data + fb, v1->data, fb);
	j = json_load_file(res[0].sidecar, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_double_eq(json_real_value(json_object_get(j,
	    "RepetitionTime")), 1.5);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "SliceTiming")),
	    27);
	json_decref(j);
	ck_assert_int_eq(count_files(out), 2);
done:
	rtc_convert_outputs_free(res, n);
	rtc_volume_free(img);
	rtc_volume_free(v1);
	rtc_dicom_free(dec);
	rtc_ctx_free(ctx);
	rtc_fs_remove_tree(out, NULL);
	free(out);
}
END_TEST

START_TEST(test_convert_ge_gz)
{
	const char *d = check_data_dir();
	char in[PATH_MAX], *out = check_tmpdir();
	const char *inputs[1] = { in };
	struct rtc_convert_opts o = { out, 1 };
	struct rtc_convert_output *res = NULL;
	struct rtc_ctx *ctx = quiet_ctx();
	struct rtc_volume *img = NULL;
	size_t n = 0;

	if (d == NULL)
		goto done;
	snprintf(in, sizeof(in), "%s/dicom/ge-mr750-slices", d);
	ck_assert_int_eq(rtc_convert(ctx, inputs, 1, &o, &res, &n, NULL),
	    RTC_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(res[0].nifti, ".nii.gz"));
	ck_assert_int_eq(rtc_nifti_read(res[0].nifti, 0, &img, NULL), RTC_OK);
	ck_assert_int_eq(img->nz, 18);
	ck_assert_int_eq(img->nt, 3);
	ck_assert_double_eq_tol(img->dz, 3.800124, 1e-5);
done:
	rtc_convert_outputs_free(res, n);
	rtc_volume_free(img);
	rtc_ctx_free(ctx);
	rtc_fs_remove_tree(out, NULL);
	free(out);
}
END_TEST

START_TEST(test_convert_truncated_writes_nothing)
{
	const char *d = check_data_dir();
	char a[PATH_MAX], b[PATH_MAX], *out = check_tmpdir(), *cause = NULL;
	char outdir[PATH_MAX];
	const char *inputs[2] = { a, b };
	struct rtc_convert_opts o = { outdir, 0 };
	struct rtc_convert_output *res = NULL;
	struct rtc_ctx *ctx = quiet_ctx();
	size_t n = 0;

	if (d == NULL)
		goto done;
	snprintf(outdir, sizeof(outdir), "%s/out", out);
	snprintf(a, sizeof(a), "%s/dicom/siemens-vd13-mosaic", d);
	snprintf(b, sizeof(b), "%s/dicom/truncated", d);
	ck_assert_int_eq(rtc_convert(ctx, inputs, 2, &o, &res, &n, &cause),
	    RTC_ERR_TRUNCATED);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(strstr(cause, "trunc_001_000013_000005.dcm"));
	ck_assert_ptr_nonnull(strstr(cause, "149830 bytes missing"));
	free(cause);
	/* not even the good series, not even the directory */
	ck_assert_int_eq(count_files(outdir), -1);
done:
	rtc_convert_outputs_free(res, n);
	rtc_ctx_free(ctx);
	rtc_fs_remove_tree(out, NULL);
	free(out);
}
END_TEST

START_TEST(test_convert_no_input)
{
	char *dir = check_tmpdir(), p[PATH_MAX], *cause = NULL;
	const char *inputs[1] = { p };
	struct rtc_convert_opts o = { dir, 0 };
	struct rtc_convert_output *res = NULL;
	struct rtc_ctx *ctx = quiet_ctx();
	size_t n = 0;

	snprintf(p, sizeof(p), "%s/missing", dir);
	ck_assert_int_eq(rtc_convert(ctx, inputs, 1, &o, &res, &n, &cause),
	    RTC_ERR_NOT_FOUND);
	free(cause);
	cause = NULL;
	/* a directory with only junk: no images */
	snprintf(p, sizeof(p), "%s/junk", dir);
	mkdir(p, 0755);
	{
		char f[PATH_MAX + 16];

		snprintf(f, sizeof(f), "%s/readme.txt", p);
		rtc_fs_write_atomic(f, "hello", 5, 0644, 0, NULL);
	}
	ck_assert_int_eq(rtc_convert(ctx, inputs, 1, &o, &res, &n, &cause),
	    RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "no DICOM images"));
	free(cause);
	ck_assert_int_eq(rtc_convert(ctx, inputs, 1, NULL, &res, &n, NULL),
	    RTC_ERR_INVAL);
	rtc_convert_outputs_free(res, n);
	rtc_ctx_free(ctx);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static int warned;

static void
sink(void *arg, enum rtc_log_level level, const char *line)
{
	(void)arg;
	if (level == RTC_LOG_WARN && strstr(line, "not a DICOM file") != NULL)
		warned++;
}

START_TEST(test_convert_skips_junk_with_warning)
{
	const char *d = check_data_dir();
	char in[PATH_MAX], *out = check_tmpdir();
	const char *inputs[1] = { in };
	struct rtc_convert_opts o = { out, 0 };
	struct rtc_convert_output *res = NULL;
	struct rtc_ctx *ctx = quiet_ctx();
	FILE *devnull = fopen("/dev/null", "w");
	size_t n = 0;

	if (d == NULL)
		goto done;
	rtc_log_set_level(ctx->log, RTC_LOG_WARN);
	rtc_log_set_file(ctx->log, devnull);
	rtc_log_set_sink(ctx->log, sink, NULL);
	warned = 0;
	/* the vd13 folder holds ref/ with dcm2niix's .nii and .json */
	snprintf(in, sizeof(in), "%s/dicom/siemens-vd13-mosaic", d);
	ck_assert_int_eq(rtc_convert(ctx, inputs, 1, &o, &res, &n, NULL),
	    RTC_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(warned, 2);
done:
	rtc_convert_outputs_free(res, n);
	rtc_ctx_free(ctx);
	fclose(devnull);
	rtc_fs_remove_tree(out, NULL);
	free(out);
}
END_TEST

static Suite *
convert_suite(void)
{
	Suite *s = suite_create("convert");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_format_time);
	tcase_add_test(tc, test_basename);
	tcase_add_test(tc, test_pe_direction);
	tcase_add_test(tc, test_sidecar_fields);
	tcase_add_test(tc, test_collect);
	tcase_add_test(tc, test_convert_e11);
	tcase_add_test(tc, test_convert_ge_gz);
	tcase_add_test(tc, test_convert_truncated_writes_nothing);
	tcase_add_test(tc, test_convert_no_input);
	tcase_add_test(tc, test_convert_skips_junk_with_warning);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(convert_suite)
