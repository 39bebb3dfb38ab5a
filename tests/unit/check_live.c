/*
 * The live session: ordering, duplicates, runs and dummies as the
 * records show them, the closed loop, --volumes, intake of files and
 * buffers (whole volumes, GE slices, bad input), the summary, and the
 * BIDS output it drives.
 */
#include "rtc_build.h"

#include <dirent.h>
#include <math.h>

#include <jansson.h>

#include "dicom.h"
#include "fsutil.h"
#include "live.h"
#include "nifti.h"
#include "pipeline_testutil.h"

/* A phantom volume t of series `series` from the pool, ready to push. */
static struct rtc_volume *
phantom(struct rtc_live *lv, int series, int acq)
{
	struct rtc_synth_params sp;
	struct rtc_volume *v = rtc_live_get_free(lv);

	ck_assert_ptr_nonnull(v);
	tu_synth(&sp, 32, 32, 10, 1.0, 50);
	sp.series_number = series;
	ck_assert_int_eq(rtc_synth_volume(&sp, acq - 1, v, NULL, NULL),
	    RTC_OK);
	return v;
}

static struct rtc_live *
session(struct rtc_project *p, const char *files, const char *out,
    long max)
{
	struct rtc_live_opts o;
	struct rtc_live *lv = NULL;
	char *cause = NULL;
	int r;

	rtc_live_opts_init(&o);
	o.project = p;
	o.files_dir = files;
	o.out_dir = out;
	o.max_volumes = max;
	r = rtc_live_new(NULL, &o, &lv, &cause);
	ck_assert_msg(r == RTC_OK, "%s", cause ? cause : "");
	return lv;
}

static json_t *
record(const char *dir, int run, int vol)
{
	char path[PATH_MAX + 64];
	json_t *j;

	snprintf(path, sizeof(path), "%s/run%d_TR%d.json", dir, run, vol);
	j = json_load_file(path, 0, NULL);
	ck_assert_msg(j != NULL, "%s missing", path);
	return j;
}

static int
nfiles(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Volumes out of order come out in order; a copy is dropped; a new
 * series is run 2. */
START_TEST(test_order_duplicates_runs)
{
	struct rtc_project *p = tu_shipped("sample");
	char *dir = check_tmpdir(), files[PATH_MAX];
	struct rtc_live_summary s;
	struct rtc_live *lv;
	json_t *j;
	int64_t now = rtc_clock_mono_ns();
	int v;

	snprintf(files, sizeof(files), "%s/files", dir);
	lv = session(p, files, NULL, 0);
	ck_assert_int_eq(rtc_live_push(lv, phantom(lv, 5, 3), now, now),
	    RTC_OK);
	ck_assert_int_eq(rtc_live_push(lv, phantom(lv, 5, 1), now, now),
	    RTC_OK);
	ck_assert_int_eq(rtc_live_push(lv, phantom(lv, 5, 2), now, now),
	    RTC_OK);
	ck_assert_int_eq(rtc_live_push(lv, phantom(lv, 5, 2), now, now),
	    RTC_OK);
	ck_assert_int_eq(rtc_live_wait_idle(lv, 10000), RTC_OK);
	ck_assert_int_eq(rtc_live_push(lv, phantom(lv, 6, 1), now, now),
	    RTC_OK);
	ck_assert_int_eq(rtc_live_wait(lv, NULL), RTC_OK);
	rtc_live_get_summary(lv, &s);
	ck_assert_uint_eq(s.records, 4);
	ck_assert_uint_eq(s.runs, 2);
	ck_assert_uint_eq(s.duplicates, 1);
	ck_assert_uint_eq(s.lat.volumes, 4);
	ck_assert_uint_eq(s.lat.dropped, 0);
	ck_assert_int_eq(nfiles(files), 4);
	for (v = 1; v <= 3; v++) {
		j = record(files, 1, v);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "vol")),
		    v);
		ck_assert_int_eq(json_integer_value(json_object_get(j,
		    "series")), 5);
		json_decref(j);
	}
	j = record(files, 2, 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "series")), 6);
	json_decref(j);
	rtc_live_free(lv);
	rtc_project_free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* Dummies are written and flagged, not analysed, not in the latency;
 * the decode time rides through the queue into the record. */
START_TEST(test_dummies_and_stages)
{
	struct rtc_project *p = tu_shipped("neurofeedback");
	char *dir = check_tmpdir();
	struct rtc_live_summary s;
	struct rtc_live *lv = session(p, dir, NULL, 0);
	json_t *j, *st;
	int v;

	for (v = 1; v <= 5; v++) {
		int64_t t0 = rtc_clock_mono_ns();

		ck_assert_int_eq(rtc_live_push(lv, phantom(lv, 1, v), t0,
		    t0 + 2000000), RTC_OK);
		ck_assert_int_eq(rtc_live_wait_idle(lv, 10000), RTC_OK);
	}
	ck_assert_int_eq(rtc_live_wait(lv, NULL), RTC_OK);
	rtc_live_get_summary(lv, &s);
	ck_assert_uint_eq(s.records, 5);
	ck_assert_uint_eq(s.dummies, 2);
	ck_assert_uint_eq(s.lat.volumes, 3);
	j = record(dir, 1, 2);
	ck_assert(json_is_true(json_object_get(json_object_get(j, "flags"),
	    "dummy")));
	ck_assert(json_is_null(json_object_get(j, "feedback")));
	json_decref(j);
	j = record(dir, 1, 5);
	st = json_object_get(j, "stages_ms");
	ck_assert_double_eq_tol(json_number_value(json_object_get(st,
	    "decoded")), 2.0, 1e-6);
	ck_assert(json_number_value(json_object_get(st, "feedback")) >=
	    json_number_value(json_object_get(st, "glm")));
	ck_assert(!json_is_null(json_object_get(json_object_get(j, "motion"),
	    "trans_x")));
	json_decref(j);
	rtc_live_free(lv);
	rtc_project_free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* --volumes N: exactly N records; the intake sees it is done. */
START_TEST(test_max_volumes)
{
	struct rtc_project *p = tu_shipped("sample");
	char *dir = check_tmpdir();
	struct rtc_live_summary s;
	struct rtc_live *lv = session(p, dir, NULL, 2);
	int64_t now = rtc_clock_mono_ns();
	int v;

	ck_assert(!rtc_live_done(lv));
	for (v = 1; v <= 4; v++)
		(void)rtc_live_push(lv, phantom(lv, 1, v), now, now);
	ck_assert_int_eq(rtc_live_wait_idle(lv, 10000), RTC_OK);
	ck_assert(rtc_live_done(lv));
	ck_assert_int_eq(rtc_live_wait(lv, NULL), RTC_OK);
	rtc_live_get_summary(lv, &s);
	ck_assert_uint_eq(s.records, 2);
	ck_assert_int_eq(nfiles(dir), 2);
	rtc_live_free(lv);
	rtc_project_free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* Intake from files and memory: the real series, its duplicate, a
 * truncated file, a file that is not DICOM. */
START_TEST(test_intake_real_files)
{
	const char *data = check_data_dir();
	struct rtc_project *p;
	struct rtc_live_intake *in = NULL;
	struct rtc_live_summary s;
	struct rtc_live *lv;
	char *dir, path[PATH_MAX], *buf = NULL, *cause = NULL;
	size_t len;
	int v;

	if (data == NULL)
		return;
	p = tu_shipped("sample");
	dir = check_tmpdir();
	lv = session(p, dir, NULL, 0);
	ck_assert_int_eq(rtc_live_intake_new(lv, &in), RTC_OK);
	for (v = 0; v <= 10; v++) {
		snprintf(path, sizeof(path), "%s/dicom/siemens-e11-mosaic-rt/"
		    "001_000013_%06d.dcm", data, v);
		if (v % 2 == 0) {
			ck_assert_int_eq(rtc_live_intake_file(in, path,
			    rtc_clock_mono_ns(), NULL), RTC_OK);
			continue;
		}
		ck_assert_int_eq(rtc_fs_read_file(path, 1 << 24, &buf, &len,
		    NULL), RTC_OK);
		ck_assert_int_eq(rtc_live_intake_buffer(in, buf, len, "x",
		    rtc_clock_mono_ns(), NULL), RTC_OK);
		free(buf);
	}
	snprintf(path, sizeof(path), "%s/dicom/truncated/"
	    "trunc_001_000013_000005.dcm", data);
	ck_assert_int_eq(rtc_live_intake_file(in, path, rtc_clock_mono_ns(),
	    &cause), RTC_ERR_TRUNCATED);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	ck_assert_int_eq(rtc_live_intake_buffer(in, "not DICOM at all", 16,
	    "notes", rtc_clock_mono_ns(), NULL), RTC_ERR_FORMAT);
	rtc_live_intake_free(in);
	ck_assert_int_eq(rtc_live_wait(lv, NULL), RTC_OK);
	rtc_live_get_summary(lv, &s);
	ck_assert_uint_eq(s.records, 10);
	ck_assert_uint_eq(s.duplicates, 1);
	ck_assert_uint_eq(s.undecodable, 2);
	ck_assert_uint_eq(s.lat.dropped, 2);
	ck_assert_int_eq(nfiles(dir), 10);
	rtc_live_free(lv);
	rtc_project_free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* GE: one file per slice, every slice AcquisitionNumber 1; in scanner
 * order they make three volumes in order. */
START_TEST(test_intake_ge_slices)
{
	const char *data = check_data_dir();
	struct rtc_project *p;
	struct rtc_live_intake *in = NULL;
	struct rtc_live_summary s;
	struct rtc_live *lv;
	char *dir, d[PATH_MAX], path[PATH_MAX + 300], *names[64];
	struct dirent *e;
	DIR *dd;
	json_t *j;
	int n = 0, i, k;

	if (data == NULL)
		return;
	snprintf(d, sizeof(d), "%s/dicom/ge-mr750-slices/s1925", data);
	dd = opendir(d);
	ck_assert_ptr_nonnull(dd);
	while ((e = readdir(dd)) != NULL)
		if (e->d_name[0] != '.' && n < 64)
			names[n++] = strdup(e->d_name);
	closedir(dd);
	qsort(names, (size_t)n, sizeof(*names), name_cmp);
	p = tu_shipped("sample");
	dir = check_tmpdir();
	lv = session(p, dir, NULL, 0);
	ck_assert_int_eq(rtc_live_intake_new(lv, &in), RTC_OK);
	/* i2862280.MRDC.1 .. 54: the file names sort as the instances */
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", d, names[i]);
		ck_assert_int_eq(rtc_live_intake_file(in, path,
		    rtc_clock_mono_ns(), NULL), RTC_OK);
	}
	rtc_live_intake_free(in);
	ck_assert_int_eq(rtc_live_wait(lv, NULL), RTC_OK);
	rtc_live_get_summary(lv, &s);
	ck_assert_uint_eq(s.records, 3);
	ck_assert_uint_eq(s.duplicates, 0);
	for (k = 1; k <= 3; k++) {
		j = record(dir, 1, k);
		ck_assert(json_number_value(json_object_get(j, "feedback")) >
		    0);
		json_decref(j);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	rtc_live_free(lv);
	rtc_project_free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* The summary as JSON has the bench's shape. */
START_TEST(test_summary_json)
{
	struct rtc_project *p = tu_shipped("sample");
	struct rtc_live_summary s;
	struct rtc_live *lv = session(p, NULL, NULL, 0);
	int64_t now = rtc_clock_mono_ns();
	json_t *j, *lat;
	char *text;
	FILE *fp;
	size_t sz;

	ck_assert_int_eq(rtc_live_push(lv, phantom(lv, 1, 1), now, now),
	    RTC_OK);
	ck_assert_int_eq(rtc_live_wait(lv, NULL), RTC_OK);
	rtc_live_get_summary(lv, &s);
	j = rtc_live_summary_json(&s);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "volumes")), 1);
	lat = json_object_get(j, "latency_ms");
	ck_assert(json_is_number(json_object_get(lat, "p50")));
	ck_assert(json_is_number(json_object_get(lat, "p99")));
	ck_assert(json_is_number(json_object_get(lat, "max")));
	ck_assert(json_is_object(json_object_get(j, "stages_ms")));
	ck_assert_int_ge(json_integer_value(json_object_get(j, "threads")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "runs")), 1);
	json_decref(j);
	fp = open_memstream(&text, &sz);
	rtc_live_summary_print(&s, fp);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(text, "1 run, 1 volume (0 dummies)"));
	ck_assert_ptr_nonnull(strstr(text, "latency p50"));
	free(text);
	rtc_live_free(lv);
	rtc_project_free(p);
}
END_TEST

/* --out: the session writes and finishes each run. */
START_TEST(test_bids_run_written)
{
	struct rtc_project *p = tu_shipped("sample");
	char *dir = check_tmpdir(), path[PATH_MAX + 100];
	struct rtc_volume *img = NULL;
	struct rtc_live *lv = session(p, NULL, dir, 0);
	int64_t now = rtc_clock_mono_ns();
	int v;

	for (v = 1; v <= 3; v++)
		ck_assert_int_eq(rtc_live_push(lv, phantom(lv, 2, v), now, now),
		    RTC_OK);
	ck_assert_int_eq(rtc_live_push(lv, phantom(lv, 3, 1), now, now),
	    RTC_OK);
	ck_assert_int_eq(rtc_live_wait(lv, NULL), RTC_OK);
	snprintf(path, sizeof(path), "%s/sub-sample/func/"
	    "sub-sample_task-rt_run-1_bold.nii.gz", dir);
	ck_assert_int_eq(rtc_nifti_read(path, 0, &img, NULL), RTC_OK);
	ck_assert_int_eq(img->nt, 3);
	rtc_volume_free(img);
	snprintf(path, sizeof(path), "%s/sub-sample/func/"
	    "sub-sample_task-rt_run-2_bold.nii.gz", dir);
	ck_assert(rtc_fs_is_file(path));
	rtc_live_free(lv);
	rtc_project_free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_bad_options)
{
	struct rtc_project *p = tu_shipped("sample");
	struct rtc_live_opts o;
	struct rtc_live *lv = NULL;
	char *cause = NULL;

	rtc_live_opts_init(&o);
	ck_assert_int_eq(rtc_live_new(NULL, &o, &lv, NULL), RTC_ERR_INVAL);
	o.project = p;
	o.feedback_url = "udp://x:1";
	ck_assert_int_eq(rtc_live_new(NULL, &o, &lv, &cause), RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	ck_assert_ptr_null(lv);
	rtc_live_free(NULL);
	rtc_project_free(p);
}
END_TEST

static Suite *
live_suite(void)
{
	Suite *s = suite_create("live");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_order_duplicates_runs);
	tcase_add_test(tc, test_dummies_and_stages);
	tcase_add_test(tc, test_max_volumes);
	tcase_add_test(tc, test_intake_real_files);
	tcase_add_test(tc, test_intake_ge_slices);
	tcase_add_test(tc, test_summary_json);
	tcase_add_test(tc, test_bids_run_written);
	tcase_add_test(tc, test_bad_options);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(live_suite)
