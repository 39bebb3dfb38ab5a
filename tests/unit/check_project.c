#include "rtc_build.h"

#include <math.h>
#include <sys/stat.h>

#include "check_common.h"
#include "error.h"
#include "fsutil.h"
#include "project.h"

static char *
projects_dir(void)
{
	const char *top = getenv("RTC_TOP_SRCDIR");
	char *p = NULL;

	ck_assert_int_ne(asprintf(&p, "%s/projects", top ? top : ".."), -1);
	return p;
}

/* Parse text as a project in dir; on failure return the error and keep
 * the cause in *cause (when not NULL). */
static int
try_parse(const char *dir, const char *text, struct rtc_project **p,
    char **cause)
{
	return rtc_project_parse(text, strlen(text), "project.toml", dir, p,
	    cause);
}

/* The parse must fail with err and a cause containing want. */
static void
expect_error(const char *dir, const char *text, int err, const char *want)
{
	struct rtc_project *p = NULL;
	char *cause = NULL;
	int r = try_parse(dir, text, &p, &cause);

	ck_assert_msg(r == err, "got %d (%s), wanted %d for:\n%s", r,
	    cause ? cause : "", err, text);
	ck_assert_msg(cause != NULL && strstr(cause, want) != NULL,
	    "cause '%s' lacks '%s'", cause ? cause : "", want);
	ck_assert_ptr_null(p);
	free(cause);
}

static struct rtc_project *
parse_ok(const char *dir, const char *text)
{
	struct rtc_project *p = NULL;
	char *cause = NULL;
	int r = try_parse(dir, text, &p, &cause);

	ck_assert_msg(r == RTC_OK, "parse: %s", cause ? cause : "");
	return p;
}

static void
touch(const char *dir, const char *rel, int mode)
{
	char *path = NULL;

	ck_assert_int_ne(asprintf(&path, "%s/%s", dir, rel), -1);
	ck_assert_int_eq(rtc_fs_write_atomic(path, "x", 1, (mode_t)mode, 0, NULL),
	    RTC_OK);
	free(path);
}

/* The shipped projects load by name and hold what they promise. */
START_TEST(test_shipped_projects)
{
	char *dir = projects_dir();
	struct rtc_project *p = NULL;
	char *cause = NULL;

	setenv("RTC_PROJECTS_DIR", dir, 1);
	ck_assert_msg(rtc_project_load(NULL, "sample", &p, &cause) == RTC_OK,
	    "sample: %s", cause ? cause : "");
	ck_assert_str_eq(p->title, "Sample Project");
	ck_assert_int_eq(p->n_run_num, 1);
	ck_assert_int_eq(p->run_num[0], 1);
	ck_assert_int_eq(p->scan_num[0], 13);
	ck_assert_int_eq(p->subject_num, 101);
	ck_assert_int_eq(p->pipeline.n_rois, 1);
	ck_assert_int_eq(p->pipeline.rois[0].kind, RTC_PROJ_ROI_BRAIN);
	ck_assert_int_eq(p->feedback.has_value, 1);
	ck_assert_str_eq(p->feedback.a.key, "brain.mean");
	ck_assert_int_eq(p->pipeline.glm, 0);
	ck_assert_int_eq(p->pipeline.motion, 0);
	ck_assert_ptr_nonnull(strstr(p->file, "projects/sample/project.toml"));
	ck_assert_int_eq(p->dir[0], '/');
	rtc_project_free(p);

	ck_assert_msg(rtc_project_load(NULL, "neurofeedback", &p, &cause) ==
	    RTC_OK, "neurofeedback: %s", cause ? cause : "");
	ck_assert_int_eq(p->intake.dummies, 2);
	ck_assert_int_eq(p->pipeline.motion, 1);
	ck_assert_int_eq(p->pipeline.reslice, 1);
	ck_assert_double_eq(p->pipeline.smooth_fwhm_mm, 5.0);
	ck_assert_int_eq(p->pipeline.glm, 1);
	ck_assert_int_eq(p->pipeline.drift_order, 2);
	ck_assert_int_eq(p->pipeline.motion_regressors, 1);
	ck_assert_int_eq(p->pipeline.n_blocks, 1);
	ck_assert_double_eq(p->pipeline.blocks[0].period_s, 40.0);
	ck_assert_int_eq(p->pipeline.n_conditions, 1);
	ck_assert_int_eq(p->pipeline.n_contrasts, 1);
	ck_assert_str_eq(p->pipeline.contrasts[0].condition[0], "task");
	ck_assert_int_eq(p->pipeline.n_rois, 2);
	ck_assert_int_eq(p->pipeline.rois[0].kind, RTC_PROJ_ROI_SPHERE);
	ck_assert_int_eq(p->pipeline.rois[0].anchor, RTC_PROJ_ANCHOR_BRAIN);
	ck_assert_double_eq(p->pipeline.rois[0].radius_mm, 12.0);
	ck_assert_int_eq(p->pipeline.classifier.enabled, 1);
	ck_assert_int_eq(p->pipeline.classifier.online, 1);
	ck_assert_int_eq(p->pipeline.classifier.features_roi, 0);
	ck_assert_str_eq(p->pipeline.classifier.negative, "rest");
	ck_assert_str_eq(p->feedback.a.key, "target.psc");
	ck_assert_int_eq(p->feedback.a.stat, RTC_PROJ_STAT_PSC);
	ck_assert_int_eq(p->feedback.smooth_vols, 2);
	ck_assert_int_eq(p->feedback.clip, 1);
	rtc_project_free(p);
	free(dir);
}
END_TEST

START_TEST(test_find)
{
	char *dir = check_tmpdir(), *shipped = projects_dir(), *env = NULL;
	char *path = NULL, *cause = NULL, *sub = NULL;

	ck_assert_int_ne(asprintf(&sub, "%s/mine", dir), -1);
	ck_assert_int_eq(rtc_fs_mkdir_p(sub, 0755, NULL), RTC_OK);
	touch(sub, "project.toml", 0644);
	/* a list: the first directory lacks it, the second has it */
	ck_assert_int_ne(asprintf(&env, "/nonexistent:%s:%s", dir, shipped), -1);
	setenv("RTC_PROJECTS_DIR", env, 1);
	ck_assert_int_eq(rtc_project_find("mine", &path, NULL), RTC_OK);
	ck_assert_ptr_nonnull(strstr(path, "/mine/project.toml"));
	free(path);
	ck_assert_int_eq(rtc_project_find("sample", &path, NULL), RTC_OK);
	free(path);
	/* paths: a directory or the file */
	ck_assert_int_eq(rtc_project_find(sub, &path, NULL), RTC_OK);
	free(path);
	free(sub);
	ck_assert_int_ne(asprintf(&sub, "%s/mine/project.toml", dir), -1);
	ck_assert_int_eq(rtc_project_find(sub, &path, NULL), RTC_OK);
	ck_assert_str_eq(path, sub);
	free(path);
	/* not found names where it looked */
	ck_assert_int_eq(rtc_project_find("absent", &path, &cause),
	    RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, dir));
	ck_assert_ptr_nonnull(strstr(cause, "/projects"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(rtc_project_find("bad name!", &path, &cause),
	    RTC_ERR_INVAL);
	free(cause);
	ck_assert_int_eq(rtc_project_find(".hidden", &path, NULL), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_project_find("", &path, NULL), RTC_ERR_INVAL);
	ck_assert_int_eq(rtc_project_find("./nope", &path, NULL),
	    RTC_ERR_NOT_FOUND);
	unsetenv("RTC_PROJECTS_DIR");
	free(sub);
	free(env);
	free(shipped);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* RT-Cloud's own sample configuration is a valid project. */
START_TEST(test_rtcloud_keys)
{
	char *dir = check_tmpdir();
	struct rtc_project *p = parse_ok(dir,
	    "title = 'Sample Project'\n"
	    "sessionId = \"20180310T123000\"\n"
	    "subjectName = \"0219191_faceMatching\"\n"
	    "datestr = \"20190219\"\n"
	    "subjectNum = 101\n"
	    "subjectDay = 1\n"
	    "sessionNum = 1\n"
	    "runNum = [1]\n"
	    "scanNum = [13]\n"
	    "plotTitle = 'Realtime Plot'\n"
	    "plotXLabel = 'Sample #'\n"
	    "plotYLabel = 'Value'\n"
	    "plotXRangeLow = 0\n"
	    "plotXRangeHigh = 20\n"
	    "plotYRangeLow = -1\n"
	    "plotYRangeHigh = 1\n"
	    "plotAutoRangeX = false\n"
	    "plotAutoRangeY = true\n"
	    "dicomNamePattern = \"001_0000{}_000{}.dcm\"\n"
	    "minExpectedDicomSize = 300000\n"
	    "trInterval = 2\n"
	    "[custom]\nnTR_skip = 10\norder_block = ['REST', 'HAPPY']\n");

	ck_assert_str_eq(p->session_id, "20180310T123000");
	ck_assert_str_eq(p->datestr, "20190219");
	ck_assert_double_eq(p->plot_y_low, -1);
	ck_assert_double_eq(p->plot_x_high, 20);
	ck_assert_int_eq(p->plot_auto_x, 0);
	ck_assert_int_eq(p->plot_auto_y, 1);
	ck_assert_int_eq(p->min_dicom_bytes, 300000);
	ck_assert_double_eq(p->tr_s, 2.0);
	ck_assert_int_eq(json_integer_value(json_object_get(p->custom,
	    "nTR_skip")), 10);
	/* nothing else set: the defaults */
	ck_assert_int_eq(p->intake.dummies, 0);
	ck_assert_int_eq(p->intake.reorder_wait_ms, 1000);
	ck_assert_str_eq(p->intake.aet, "RTC");
	ck_assert_int_eq(p->feedback.has_value, 0);
	rtc_project_free(p);
	/* scanNum as a single integer, as some projects write it */
	p = parse_ok(dir, "scanNum = 1\nrunNum = [1, 2, 3]\n");
	ck_assert_int_eq(p->n_scan_num, 1);
	ck_assert_int_eq(p->n_run_num, 3);
	ck_assert_int_eq(p->run_num[2], 3);
	rtc_project_free(p);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* Unknown keys are errors that name the key, wherever they are. */
START_TEST(test_unknown_keys)
{
	char *dir = check_tmpdir();

	expect_error(dir, "title = 'x'\nnTR_skip = 10\n", RTC_ERR_INVAL,
	    "nTR_skip: unknown key");
	expect_error(dir, "[intake]\ndummy = 2\n", RTC_ERR_INVAL,
	    "intake.dummy: unknown key");
	expect_error(dir, "[intake.watch]\npoll = 5\n", RTC_ERR_INVAL,
	    "intake.watch.poll: unknown key");
	expect_error(dir, "[pipeline.smooth]\nfwhm = 5\n", RTC_ERR_INVAL,
	    "pipeline.smooth.fwhm: unknown key");
	expect_error(dir, "[[pipeline.roi]]\nname = 'a'\nbrain = true\n"
	    "[[pipeline.roi]]\nname = 'b'\nradius = 3\n", RTC_ERR_INVAL,
	    "pipeline.roi[1].radius: unknown key");
	expect_error(dir, "[feedback]\nvalu = 'x'\n", RTC_ERR_INVAL,
	    "feedback.valu: unknown key");
	expect_error(dir, "[analysis]\ncmd = ['x']\n", RTC_ERR_INVAL,
	    "analysis.cmd: unknown key");
	expect_error(dir, "[outputs]\nx = 1\n", RTC_ERR_INVAL,
	    "outputs: unknown key");
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_types_and_ranges)
{
	char *dir = check_tmpdir();

	expect_error(dir, "[pipeline.smooth]\nfwhm_mm = 'five'\n", RTC_ERR_INVAL,
	    "pipeline.smooth.fwhm_mm: expected a number");
	expect_error(dir, "[pipeline.smooth]\nfwhm_mm = 50\n", RTC_ERR_INVAL,
	    "pipeline.smooth.fwhm_mm: 50 is out of range");
	expect_error(dir, "[intake]\ndummies = -1\n", RTC_ERR_INVAL,
	    "intake.dummies: -1 is out of range");
	expect_error(dir, "[intake]\ndummies = 2.5\n", RTC_ERR_INVAL,
	    "intake.dummies: expected an integer");
	expect_error(dir, "runNum = 'one'\n", RTC_ERR_INVAL, "runNum");
	expect_error(dir, "title = 5\n", RTC_ERR_INVAL, "title: expected a string");
	expect_error(dir, "plotAutoRangeX = 'yes'\n", RTC_ERR_INVAL,
	    "plotAutoRangeX: expected true or false");
	expect_error(dir, "[intake.watch]\nmode = 'fast'\n", RTC_ERR_INVAL,
	    "'fast' is not one of auto, inotify, poll");
	expect_error(dir, "[intake.scp]\naet = 'A_TITLE_WAY_TOO_LONG'\n",
	    RTC_ERR_INVAL, "intake.scp.aet");
	expect_error(dir, "[intake.scp]\nallow_calling = 'SCANNER'\n",
	    RTC_ERR_INVAL, "intake.scp.allow_calling");
	expect_error(dir, "[pipeline]\nreference = 0\n", RTC_ERR_INVAL,
	    "pipeline.reference");
	expect_error(dir, "[intake]\ndummies = 3\n[pipeline]\nreference = 2\n",
	    RTC_ERR_INVAL, "that volume is a dummy");
	expect_error(dir, "[[pipeline.roi]]\nname = '1bad'\nbrain = true\n",
	    RTC_ERR_INVAL, "not a valid name");
	expect_error(dir, "[[pipeline.roi]]\nname = 'a'\n", RTC_ERR_INVAL,
	    "exactly one of mask, sphere");
	expect_error(dir, "[[pipeline.roi]]\nname = 'a'\nsphere = { radius_mm = "
	    "5 }\n", RTC_ERR_INVAL, "center_mm");
	expect_error(dir, "[[pipeline.roi]]\nname = 'a'\nsphere = { center_mm = "
	    "[1, 2], radius_mm = 5 }\n", RTC_ERR_INVAL, "center_mm");
	expect_error(dir, "[[pipeline.roi]]\nname = 'a'\nbrain = true\n"
	    "[[pipeline.roi]]\nname = 'a'\nbrain = true\n", RTC_ERR_INVAL,
	    "an ROI of that name exists");
	expect_error(dir, "[feedback]\nclip = [1, -1]\n", RTC_ERR_INVAL,
	    "feedback.clip");
	expect_error(dir, "[feedback]\nsmooth_vols = 0\n", RTC_ERR_INVAL,
	    "feedback.smooth_vols");
	expect_error(dir, "title = \n", RTC_ERR_FORMAT, "project.toml");
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* Relative paths resolve in the project and may not leave it; named
 * files must exist. */
START_TEST(test_paths)
{
	char *dir = check_tmpdir(), *sub = NULL, *text = NULL;
	struct rtc_project *p;

	ck_assert_int_ne(asprintf(&sub, "%s/masks", dir), -1);
	ck_assert_int_eq(rtc_fs_mkdir_p(sub, 0755, NULL), RTC_OK);
	touch(dir, "masks/roi.nii.gz", 0644);
	touch(dir, "ref.nii", 0644);
	p = parse_ok(dir, "[pipeline]\nreference = 'ref.nii'\n"
	    "mask = './masks/roi.nii.gz'\n"
	    "[[pipeline.roi]]\nname = 'r'\nmask = 'masks/roi.nii.gz'\n");
	ck_assert_int_eq(p->pipeline.reference, RTC_PROJ_REF_NIFTI);
	ck_assert_ptr_nonnull(strstr(p->pipeline.reference_path, "/ref.nii"));
	ck_assert_int_eq(strncmp(p->pipeline.rois[0].mask, p->dir,
	    strlen(p->dir)), 0);
	ck_assert_int_eq(p->pipeline.rois[0].kind, RTC_PROJ_ROI_MASK);
	ck_assert_ptr_nonnull(p->pipeline.mask);
	rtc_project_free(p);
	expect_error(dir, "[[pipeline.roi]]\nname = 'r'\n"
	    "mask = '../../etc/passwd'\n", RTC_ERR_INVAL,
	    "leaves the project directory");
	expect_error(dir, "[[pipeline.roi]]\nname = 'r'\n"
	    "mask = 'masks/../../x'\n", RTC_ERR_INVAL,
	    "leaves the project directory");
	expect_error(dir, "[[pipeline.roi]]\nname = 'r'\nmask = 'masks/none.nii'\n",
	    RTC_ERR_NOT_FOUND, "no such file");
	/* an absolute path is the operator's choice */
	ck_assert_int_ne(asprintf(&text, "[[pipeline.roi]]\nname = 'r'\n"
	    "mask = '%s/masks/roi.nii.gz'\n", dir), -1);
	p = parse_ok(dir, text);
	rtc_project_free(p);
	free(text);
	free(sub);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static const char glm_base[] =
    "[pipeline.motion]\nenabled = true\n"
    "[pipeline.glm]\n"
    "[[pipeline.glm.blocks]]\ncondition = 'task'\nonset_s = 10\n"
    "duration_s = 10\nperiod_s = 20\n"
    "[[pipeline.glm.contrasts]]\nname = 'task'\nweights = { task = 1 }\n"
    "[[pipeline.roi]]\nname = 'target'\nsphere = { center_mm = [0, 10, 0], "
    "radius_mm = 8 }\n"
    "[[pipeline.roi]]\nname = 'brain'\nbrain = true\n";

static struct rtc_project *
with_feedback(const char *dir, const char *extra, const char *value, int ok,
    const char *want)
{
	struct rtc_project *p = NULL;
	char *text = NULL, *cause = NULL;
	int r;

	ck_assert_int_ne(asprintf(&text, "%s%s[feedback]\nvalue = '%s'\n",
	    glm_base, extra, value), -1);
	r = try_parse(dir, text, &p, &cause);
	if (ok)
		ck_assert_msg(r == RTC_OK, "%s: %s", value, cause ? cause : "");
	else {
		ck_assert_msg(r == RTC_ERR_INVAL, "%s parsed", value);
		ck_assert_msg(strstr(cause, want) != NULL, "'%s' lacks '%s'",
		    cause, want);
	}
	free(cause);
	free(text);
	return p;
}

START_TEST(test_measures)
{
	char *dir = check_tmpdir();
	struct rtc_project *p;
	const char *clf = "[pipeline.classifier]\npositive = 'task'\n";

	p = with_feedback(dir, "", "target.psc", 1, NULL);
	ck_assert_int_eq(p->feedback.a.kind, RTC_PROJ_MEAS_ROI);
	ck_assert_int_eq(p->feedback.a.roi, 0);
	rtc_project_free(p);
	p = with_feedback(dir, "", "target.t.task", 1, NULL);
	ck_assert_int_eq(p->feedback.a.stat, RTC_PROJ_STAT_T);
	ck_assert_int_eq(p->feedback.a.contrast, 0);
	rtc_project_free(p);
	p = with_feedback(dir, "", "target.z - brain.z", 1, NULL);
	ck_assert_int_eq(p->feedback.difference, 1);
	ck_assert_int_eq(p->feedback.b.roi, 1);
	rtc_project_free(p);
	p = with_feedback(dir, "", "fd", 1, NULL);
	rtc_project_free(p);
	p = with_feedback(dir, clf, "classifier", 1, NULL);
	ck_assert_int_eq(p->feedback.a.kind, RTC_PROJ_MEAS_DECISION);
	ck_assert_int_eq(p->pipeline.classifier.online, 1);
	rtc_project_free(p);
	p = with_feedback(dir, clf, "classifier.prob", 1, NULL);
	rtc_project_free(p);
	with_feedback(dir, "[pipeline.classifier]\npositive = 'task'\n"
	    "kind = 'svm'\n", "classifier.prob", 0, "only a logistic");
	with_feedback(dir, "", "classifier", 0, "needs [pipeline.classifier]");
	with_feedback(dir, "", "nowhere.psc", 0, "no ROI named 'nowhere'");
	with_feedback(dir, "", "target.t.other", 0, "no contrast named 'other'");
	with_feedback(dir, "", "target.median", 0, "not mean, psc, z");
	with_feedback(dir, "", "analysis.score", 0, "needs [analysis]");
	with_feedback(dir, "", "psc", 0, "is not a measure");
	with_feedback(dir, "", "target.psc - ", 0, "feedback.value");
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

/* The feedback value: measure (or difference), scale, offset, moving
 * mean, clip; NaN while a measure is missing. */
START_TEST(test_feedback_value)
{
	char *dir = check_tmpdir(), *text = NULL;
	struct rtc_project *p;
	struct rtc_proj_fbstate st;
	struct rtc_fb_record r;
	double v;

	ck_assert_int_ne(asprintf(&text, "%s[feedback]\nvalue = 'target.psc - "
	    "brain.psc'\nscale = 2.0\noffset = 1.0\nsmooth_vols = 2\n"
	    "clip = [-3.0, 3.0]\n", glm_base), -1);
	p = parse_ok(dir, text);
	rtc_project_fbstate_init(&st);
	rtc_fb_record_init(&r);
	ck_assert(isnan(rtc_project_feedback(p, &st, &r)));
	rtc_fb_record_set_roi(&r, "target.psc", 1.0);
	ck_assert(isnan(rtc_project_feedback(p, &st, &r)));  /* brain missing */
	rtc_fb_record_set_roi(&r, "brain.psc", 0.5);
	v = rtc_project_feedback(p, &st, &r);                 /* (0.5*2+1) */
	ck_assert_double_eq_tol(v, 2.0, 1e-12);
	rtc_fb_record_set_roi(&r, "target.psc", 0.5);
	v = rtc_project_feedback(p, &st, &r);                 /* mean(2, 1) */
	ck_assert_double_eq_tol(v, 1.5, 1e-12);
	rtc_fb_record_set_roi(&r, "target.psc", 10.0);
	v = rtc_project_feedback(p, &st, &r);                 /* mean(1, 20) */
	ck_assert_double_eq_tol(v, 3.0, 1e-12);               /* clipped */
	rtc_project_fbstate_init(&st);
	rtc_fb_record_set_roi(&r, "target.psc", -10.0);
	ck_assert_double_eq_tol(rtc_project_feedback(p, &st, &r), -3.0, 1e-12);
	rtc_project_free(p);
	free(text);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_glm_and_classifier_rules)
{
	char *dir = check_tmpdir();

	touch(dir, "events.tsv", 0644);
	touch(dir, "w.nii", 0644);
	expect_error(dir, "[pipeline.glm]\ndrift_order = 2\n", RTC_ERR_INVAL,
	    "needs events or blocks");
	expect_error(dir, "[pipeline.glm]\nevents = 'events.tsv'\n"
	    "[[pipeline.glm.blocks]]\ncondition = 'a'\nonset_s = 0\n"
	    "duration_s = 1\n", RTC_ERR_INVAL, "not both");
	expect_error(dir, "[pipeline.glm]\n[[pipeline.glm.blocks]]\n"
	    "condition = 'a'\nonset_s = 0\nduration_s = 1\n"
	    "[[pipeline.glm.contrasts]]\nname = 'c'\nweights = { b = 1 }\n",
	    RTC_ERR_INVAL, "no block has the condition 'b'");
	expect_error(dir, "[pipeline.glm]\n[[pipeline.glm.blocks]]\n"
	    "condition = 'a'\nonset_s = 0\nduration_s = 10\nperiod_s = 5\n",
	    RTC_ERR_INVAL, "period_s is shorter");
	expect_error(dir, "[pipeline.glm]\n[[pipeline.glm.blocks]]\n"
	    "condition = 'rest'\nonset_s = 0\nduration_s = 10\n",
	    RTC_ERR_INVAL, "'rest'");
	expect_error(dir, "[pipeline.glm]\nevents = 'events.tsv'\n"
	    "motion_regressors = true\n", RTC_ERR_INVAL, "[pipeline.motion]");
	expect_error(dir, "[pipeline.classifier]\npositive = 'a'\n",
	    RTC_ERR_INVAL, "enable [pipeline.glm]");
	expect_error(dir, "[pipeline.glm]\n[[pipeline.glm.blocks]]\n"
	    "condition = 'a'\nonset_s = 0\nduration_s = 1\n"
	    "[pipeline.classifier]\npositive = 'b'\n", RTC_ERR_INVAL,
	    "block conditions");
	expect_error(dir, "[pipeline.classifier]\nmode = 'weights'\n",
	    RTC_ERR_INVAL, "needs a weights file");
	expect_error(dir, "[pipeline.classifier]\nweights = 'w.nii'\n"
	    "features = 'nope'\n", RTC_ERR_INVAL, "no ROI named 'nope'");
	{
		struct rtc_project *p = parse_ok(dir, "[pipeline.classifier]\n"
		    "weights = 'w.nii'\nbias = -0.5\nkind = 'svm'\n");

		ck_assert_int_eq(p->pipeline.classifier.online, 0);
		ck_assert_double_eq(p->pipeline.classifier.bias, -0.5);
		ck_assert_str_eq(p->pipeline.classifier.kind, "svm");
		rtc_project_free(p);
		/* conditions from an events file are not known yet */
		p = parse_ok(dir, "[pipeline.glm]\nevents = 'events.tsv'\n"
		    "[[pipeline.glm.contrasts]]\nname = 'faces'\n"
		    "weights = { face = 1, house = -1 }\n");
		ck_assert_int_eq(p->pipeline.contrasts[0].n, 2);
		{
			const struct rtc_proj_contrast *c =
			    &p->pipeline.contrasts[0];
			int k = strcmp(c->condition[0], "house") == 0 ? 0 : 1;

			ck_assert_str_eq(c->condition[k], "house");
			ck_assert_double_eq(c->weight[k], -1);
			ck_assert_double_eq(c->weight[1 - k], 1);
		}
		rtc_project_free(p);
	}
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_analysis_section)
{
	char *dir = check_tmpdir();
	struct rtc_project *p;

	touch(dir, "run.sh", 0755);
	touch(dir, "data.txt", 0644);
	touch(dir, "plugin.so", 0644);
	p = parse_ok(dir, "[analysis]\ncommand = ['python3', 'analysis.py', "
	    "'--fast']\ntimeout_ms = 250\n[analysis.config]\nthreshold = 2.5\n"
	    "[feedback]\nvalue = 'analysis.score'\n");
	ck_assert_int_eq(p->analysis.argc, 3);
	ck_assert_str_eq(p->analysis.argv[0], "python3");
	ck_assert_str_eq(p->analysis.argv[2], "--fast");
	ck_assert_ptr_null(p->analysis.argv[3]);
	ck_assert_int_eq(p->analysis.timeout_ms, 250);
	ck_assert_str_eq(p->analysis.shm_dir, "/dev/shm");
	ck_assert_double_eq(json_real_value(json_object_get(p->analysis.config,
	    "threshold")), 2.5);
	ck_assert_int_eq(p->feedback.a.kind, RTC_PROJ_MEAS_ANALYSIS);
	ck_assert_str_eq(p->feedback.a.key, "score");
	ck_assert_str_eq(p->feedback.a.name, "analysis.score");
	rtc_project_free(p);
	p = parse_ok(dir, "[analysis]\ncommand = ['./run.sh']\n"
	    "plugin = 'plugin.so'\n");
	ck_assert_int_eq(p->analysis.argv[0][0], '/');
	ck_assert_ptr_nonnull(strstr(p->analysis.plugin, "/plugin.so"));
	rtc_project_free(p);
	expect_error(dir, "[analysis]\ncommand = ['./data.txt']\n",
	    RTC_ERR_INVAL, "not executable");
	expect_error(dir, "[analysis]\ncommand = ['../run.sh']\n",
	    RTC_ERR_INVAL, "leaves the project");
	expect_error(dir, "[analysis]\ncommand = 'python3 x.py'\n",
	    RTC_ERR_INVAL, "analysis.command");
	expect_error(dir, "[analysis]\ncommand = []\n", RTC_ERR_INVAL,
	    "analysis.command");
	expect_error(dir, "[analysis]\ntimeout_ms = 0\n", RTC_ERR_INVAL,
	    "analysis.timeout_ms");
	expect_error(dir, "[analysis]\nshm_dir = 'relative'\n", RTC_ERR_INVAL,
	    "analysis.shm_dir");
	expect_error(dir, "[analysis]\nplugin = 'none.so'\n", RTC_ERR_NOT_FOUND,
	    "no such file");
	expect_error(dir, "[analysis]\ncommand = ['x']\n"
	    "[feedback]\nvalue = 'analysis.a.b'\n", RTC_ERR_INVAL,
	    "analysis.NAME");
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(test_intake_section)
{
	char *dir = check_tmpdir();
	struct rtc_project *p = parse_ok(dir,
	    "watchFilePattern = '*.dcm'\n"
	    "[intake]\ndummies = 4\nreorder_wait_ms = 250\nqueue_warn_mb = 64\n"
	    "[intake.watch]\nmode = 'poll'\npoll_ms = 50\nstable_polls = 2\n"
	    "timeout_ms = 3000\nexisting = 'process'\n"
	    "[intake.scp]\naet = 'RTC_LAB'\nallow_calling = ['MRC12345', "
	    "'CONSOLE']\nmax_associations = 2\ntimeout_s = 30\n");

	ck_assert_int_eq(p->intake.dummies, 4);
	ck_assert_int_eq(p->intake.reorder_wait_ms, 250);
	ck_assert_int_eq(p->intake.queue_warn_mb, 64);
	ck_assert_int_eq(p->intake.watch_mode, RTC_WATCH_POLL);
	ck_assert_int_eq(p->intake.poll_ms, 50);
	ck_assert_int_eq(p->intake.stable_polls, 2);
	ck_assert_int_eq(p->intake.timeout_ms, 3000);
	ck_assert_int_eq(p->intake.process_existing, 1);
	ck_assert_str_eq(p->intake.pattern, "*.dcm");
	ck_assert_str_eq(p->intake.aet, "RTC_LAB");
	ck_assert_int_eq(p->intake.n_allow, 2);
	ck_assert_str_eq(p->intake.allow[1], "CONSOLE");
	ck_assert_ptr_null(p->intake.allow[2]);
	ck_assert_int_eq(p->intake.max_associations, 2);
	ck_assert_int_eq(p->intake.scp_timeout_s, 30);
	rtc_project_free(p);
	rtc_project_free(NULL);
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}
END_TEST

static Suite *
project_suite(void)
{
	Suite *s = suite_create("project");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_shipped_projects);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_rtcloud_keys);
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_types_and_ranges);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_measures);
	tcase_add_test(tc, test_feedback_value);
	tcase_add_test(tc, test_glm_and_classifier_rules);
	tcase_add_test(tc, test_analysis_section);
	tcase_add_test(tc, test_intake_section);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(project_suite)
