/*
 * check_plan: datasets into jobs: filters, sessions, required files,
 * skipped participants, the DATASET seam and the plan's JSON and text.
 */
#include "rtc_build.h"

#include "check_batch_common.h"
#include "error.h"
#include "plan.h"

static struct rtc_plan *
plan_of(const char *root, const struct rtc_plan_opts *o, int expect)
{
	struct rtc_bids_layout *l = NULL;
	struct rtc_plan *p = NULL;
	char *cause = NULL;

	ck_assert_int_eq(rtc_bids_layout_scan(root, &l, NULL), RTC_OK);
	ck_assert_int_eq(rtc_plan_make(l, o, &p, &cause), expect);
	free(cause);
	return p;
}

static char *
ds(const char *name)
{
	const char *d = check_data_dir();
	char *p = NULL;

	if (d == NULL)
		return NULL;
	ck_assert_int_ge(asprintf(&p, "%s/bids/%s", d, name), 0);
	return p;
}

static struct rtc_plan_opts
opts(void)
{
	struct rtc_plan_opts o;

	memset(&o, 0, sizeof(o));
	o.cpus = 4;
	o.mem_mb = 16000;
	o.time_min = 600;
	return o;
}

START_TEST(test_every_participant)
{
	char *root = ds("ds001");
	struct rtc_plan_opts o = opts();
	struct rtc_plan *p;
	long long sum = 0;
	size_t i;

	if (root == NULL)
		return;
	p = plan_of(root, &o, RTC_OK);
	ck_assert_uint_eq(p->njobs, 16);
	ck_assert_uint_eq(p->nskipped, 0);
	for (i = 0; i < p->njobs; i++) {
		ck_assert_uint_eq(p->jobs[i].ninputs, 8);
		ck_assert_str_eq(p->jobs[i].session, "");
		sum += p->jobs[i].bytes;
	}
	ck_assert_int_eq(sum, p->bytes);
	for (i = 0, sum = 0; i < p->layout->n; i++)
		sum += p->layout->p[i].bytes;
	ck_assert_int_eq(sum, p->bytes);
	ck_assert_int_eq(p->cpus, 4);
	rtc_plan_free(p);
	free(root);
}
END_TEST

START_TEST(test_label_filter)
{
	char *root = ds("ds001"), *cause = NULL;
	const char *labels[] = { "03", "sub-11" };
	const char *missing[] = { "03", "99", "sub-42" };
	const char *bad[] = { "0 3" };
	struct rtc_plan_opts o = opts();
	struct rtc_bids_layout *l = NULL;
	struct rtc_plan *p = NULL;

	if (root == NULL)
		return;
	o.labels = labels;
	o.nlabels = 2;
	p = plan_of(root, &o, RTC_OK);
	ck_assert_uint_eq(p->njobs, 2);
	ck_assert_str_eq(p->jobs[0].participant, "03");
	ck_assert_str_eq(p->jobs[1].participant, "11");
	rtc_plan_free(p);
	o.labels = missing;
	o.nlabels = 3;
	ck_assert_int_eq(rtc_bids_layout_scan(root, &l, NULL), RTC_OK);
	ck_assert_int_eq(rtc_plan_make(l, &o, &p, &cause), RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "99, 42"));
	o.labels = bad;
	o.nlabels = 1;
	ck_assert_int_eq(rtc_bids_layout_scan(root, &l, NULL), RTC_OK);
	ck_assert_int_eq(rtc_plan_make(l, &o, &p, &cause), RTC_ERR_INVAL);
	free(cause);
	free(root);
}
END_TEST

START_TEST(test_per_session)
{
	char *root = ds("synthetic");
	struct rtc_plan_opts o = opts();
	struct rtc_plan *p;
	size_t i, want = 0;

	if (root == NULL)
		return;
	p = plan_of(root, &o, RTC_OK);
	ck_assert_uint_eq(p->njobs, 5);
	for (i = 0; i < p->layout->n; i++)
		want += p->layout->p[i].nsessions;
	rtc_plan_free(p);
	o.per_session = 1;
	p = plan_of(root, &o, RTC_OK);
	ck_assert_uint_eq(p->njobs, want);
	ck_assert_uint_gt(want, 5);
	ck_assert_str_eq(p->jobs[0].participant, "01");
	ck_assert_str_eq(p->jobs[0].session, "01");
	ck_assert_str_eq(p->jobs[1].session, "02");
	/* a session's job reads the session and the participant-level files */
	ck_assert_uint_eq(p->jobs[0].ninputs,
	    p->layout->p[0].sessions[0].nfiles + 1);
	for (i = 0; i < p->jobs[0].ninputs; i++)
		ck_assert(strstr(p->jobs[0].inputs[i]->path, "ses-02") == NULL);
	rtc_plan_free(p);
	free(root);
}
END_TEST

START_TEST(test_required_files)
{
	char *root = ds("ds001"), *syn = ds("synthetic");
	const char *t1[] = { "anat/*_T1w.nii*" };
	const char *dwi[] = { "anat/*_T1w.nii*", "dwi/*_dwi.nii*" };
	struct rtc_plan_opts o = opts();
	struct rtc_plan *p;

	if (root == NULL)
		return;
	o.required = t1;
	o.nrequired = 1;
	p = plan_of(root, &o, RTC_OK);
	ck_assert_uint_eq(p->njobs, 16);
	rtc_plan_free(p);
	o.required = dwi;
	o.nrequired = 2;
	p = plan_of(root, &o, RTC_OK);
	ck_assert_uint_eq(p->njobs, 0);
	ck_assert_uint_eq(p->nskipped, 16);
	ck_assert_ptr_nonnull(strstr(p->skipped[0].reason, "dwi/*_dwi.nii*"));
	rtc_plan_free(p);
	/* session jobs match relative to the session */
	o.required = t1;
	o.nrequired = 1;
	o.per_session = 1;
	p = plan_of(syn, &o, RTC_OK);
	ck_assert_uint_gt(p->njobs, 0);
	rtc_plan_free(p);
	free(root);
	free(syn);
}
END_TEST

START_TEST(test_skipped_are_reported)
{
	char *d = check_tmpdir();
	const char *bad[] = { "/abs/*" };
	struct rtc_plan_opts o = opts();
	struct rtc_bids_layout *l = NULL;
	struct rtc_plan *p;
	char *cause = NULL;

	put_file(d, "dataset_description.json", "{\"Name\": \"x\"}");
	put_file(d, "participants.tsv", "participant_id\nsub-01\nsub-02\n");
	put_file(d, "sub-01/anat/sub-01_T1w.nii", "1");
	ck_assert_int_eq(rtc_fs_mkdir_p(d, 0755, NULL), 0);
	{
		char empty[4096];

		snprintf(empty, sizeof(empty), "%s/sub-03/anat", d);
		ck_assert_int_eq(rtc_fs_mkdir_p(empty, 0755, NULL), 0);
	}
	p = plan_of(d, &o, RTC_OK);
	ck_assert_uint_eq(p->njobs, 1);
	ck_assert_uint_eq(p->nskipped, 2);
	ck_assert_str_eq(p->skipped[0].participant, "02");
	ck_assert_ptr_nonnull(strstr(p->skipped[0].reason, "participants.tsv"));
	ck_assert_str_eq(p->skipped[1].participant, "03");
	ck_assert_ptr_nonnull(strstr(p->skipped[1].reason, "no files"));
	rtc_plan_free(p);
	o.required = bad;
	o.nrequired = 1;
	ck_assert_int_eq(rtc_bids_layout_scan(d, &l, NULL), RTC_OK);
	ck_assert_int_eq(rtc_plan_make(l, &o, &p, &cause), RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "relative"));
	free(cause);
	rtc_fs_remove_tree(d, NULL);
	free(d);
}
END_TEST

START_TEST(test_dataset_seam)
{
	char *dir = NULL, *cause = NULL, *t = check_tmpdir(), cwd[4096];

	ck_assert_int_eq(rtc_plan_dataset_local("s3://openneuro.org/ds000001",
	    &dir, &cause), RTC_ERR_UNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(cause, "rtc fetch"));
	ck_assert_int_eq(rtc_plan_dataset_local("ds000001", &dir, &cause),
	    RTC_ERR_UNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(cause, "local directories only"));
	ck_assert_int_eq(rtc_plan_dataset_local("ds000001:1.0.0", &dir, &cause),
	    RTC_ERR_UNSUPPORTED);
	ck_assert_int_eq(rtc_plan_dataset_local("/nonexistent/ds", &dir, &cause),
	    RTC_ERR_NOT_FOUND);
	ck_assert_ptr_null(dir);
	/* a relative directory comes back absolute */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(t), 0);
	ck_assert_int_eq(mkdir("ds000002", 0755), 0);
	ck_assert_int_eq(rtc_plan_dataset_local("ds000002", &dir, &cause),
	    RTC_OK);
	ck_assert_ptr_nonnull(strstr(dir, "/ds000002"));
	ck_assert_int_eq(dir[0], '/');
	ck_assert_int_eq(chdir(cwd), 0);
	free(dir);
	free(cause);
	rtc_fs_remove_tree(t, NULL);
	free(t);
}
END_TEST

START_TEST(test_json_and_text)
{
	char *root = ds("ds005"), *text = NULL;
	const char *labels[] = { "01", "02" };
	struct rtc_plan_opts o = opts();
	struct rtc_plan *p;
	json_t *j, *jobs;
	size_t len = 0;
	FILE *fp;

	if (root == NULL)
		return;
	o.labels = labels;
	o.nlabels = 2;
	p = plan_of(root, &o, RTC_OK);
	j = rtc_plan_to_json(p, 1);
	ck_assert_ptr_nonnull(j);
	jobs = json_object_get(j, "jobs");
	ck_assert_uint_eq(json_array_size(jobs), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(jobs,
	    1), "participant")), "02");
	ck_assert(json_is_null(json_object_get(json_array_get(jobs, 1),
	    "session")));
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(jobs,
	    0), "inputs")), p->jobs[0].ninputs);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j,
	    "resources"), "mem_mb")), 16000);
	ck_assert(json_real_value(json_object_get(json_object_get(j,
	    "resources"), "cpu_hours_max")) == 2 * 4 * 10.0);
	json_decref(j);
	j = rtc_plan_to_json(p, 0);
	ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(j,
	    "jobs"), 0), "inputs"));
	json_decref(j);
	fp = open_memstream(&text, &len);
	rtc_plan_print(p, fp);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(text, "2 jobs, 0 skipped"));
	ck_assert_ptr_nonnull(strstr(text, "sub-02/anat/sub-02_T1w.nii.gz"));
	ck_assert_ptr_nonnull(strstr(text, "4 CPUs, 16000 MB memory, 600 min"));
	free(text);
	rtc_plan_free(p);
	free(root);
}
END_TEST

static Suite *
plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_every_participant);
	tcase_add_test(tc, test_label_filter);
	tcase_add_test(tc, test_per_session);
	tcase_add_test(tc, test_required_files);
	tcase_add_test(tc, test_skipped_are_reported);
	tcase_add_test(tc, test_dataset_seam);
	tcase_add_test(tc, test_json_and_text);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(plan_suite)
