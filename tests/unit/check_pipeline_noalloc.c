/*
 * The pipeline's per-volume path allocates nothing once its run is set
 * up. Linked with -Wl,--wrap for the allocator (tests/unit/alloc_count),
 * so every malloc/calloc/realloc/free/posix_memalign/aligned_alloc of
 * librtc passes through the counters; each test makes its volumes first,
 * sets the run up on its reference, then counts across
 * rtc_pipeline_process() calls only (Check's asserts allocate, so the
 * results are checked after the counted stretch).
 */
#include "rtc_build.h"

#include <math.h>
#include <stdlib.h>

#include "alloc_count.h"
#include "pipeline_testutil.h"

/* the counters see librtc's calls too: prove it */
START_TEST(test_counter_sees_library)
{
	struct rtc_volume *v;
	long n;

	alloc_count_begin();
	v = rtc_volume_new(4, 4, 4, 1, RTC_DT_INT16);
	rtc_volume_free(v);
	n = alloc_count_end();
	ck_assert_int_ge(n, 2);
}
END_TEST

/* Run project p over nvol phantom volumes (dummies flagged), counting
 * the allocations of the volumes after the first `warm`. */
static long
count_run(struct rtc_project *p, int nvol, int dummies, int warm,
    const char *motion, struct rtc_fb_record *last)
{
	struct rtc_synth_params sp;
	struct rtc_synth_traj *tj = NULL;
	struct rtc_volume **v = calloc((size_t)nvol, sizeof(*v));
	struct rtc_pipeline *pl = NULL;
	struct rtc_fb_record r;
	long n = 0;
	int t, bad = 0;

	tu_synth(&sp, 40, 40, 16, 2.0, nvol);
	sp.voxel[0] = sp.voxel[1] = 4.0;
	sp.voxel[2] = 5.0;
	sp.roi.amplitude = 0.03;
	if (motion != NULL) {
		ck_assert_int_eq(rtc_synth_traj_parse(motion, &tj, NULL),
		    RTC_OK);
		rtc_synth_traj_attach(tj, &sp);
	}
	for (t = 0; t < nvol; t++) {
		v[t] = rtc_volume_new(1, 1, 1, 1, RTC_DT_UINT16);
		ck_assert_int_eq(rtc_synth_volume(&sp, t, v[t], NULL, NULL),
		    RTC_OK);
	}
	ck_assert_int_eq(rtc_pipeline_new(NULL, p, NULL, &pl, NULL), RTC_OK);
	for (t = 0; t < nvol; t++) {
		tu_record(&r, v[t], t + 1);
		if (t == warm)
			alloc_count_begin();
		bad += rtc_pipeline_process(pl, v[t], t < dummies, &r, NULL) !=
		    RTC_OK;
	}
	n = alloc_count_end();
	ck_assert_int_eq(bad, 0);
	*last = r;
	rtc_pipeline_free(pl);
	for (t = 0; t < nvol; t++)
		rtc_volume_free(v[t]);
	free(v);
	rtc_synth_traj_free(tj);
	return n;
}

/*
 * neurofeedback: motion with shared smoothing and reslicing, the GLM and
 * its t map, two ROIs, the online classifier (trained at block ends
 * within the counted stretch: blocks of 10 volumes), the feedback value.
 */
START_TEST(test_neurofeedback_noalloc)
{
	struct rtc_project *p = tu_shipped("neurofeedback");
	struct rtc_fb_record r;
	long n;

	n = count_run(p, 60, 2, 6, "sine:1,1,30", &r);
	ck_assert_msg(n == 0, "%ld allocator calls in 54 volumes", n);
	/* and everything ran */
	ck_assert(!isnan(r.feedback));
	ck_assert(!isnan(r.decision));
	ck_assert(!isnan(r.motion[0]));
	ck_assert(!isnan(r.stage_ms[RTC_STAGE_GLM]));
	rtc_project_free(p);
}
END_TEST

/* sample, and motion without shared smoothing (trilinear reslice, 8 mm
 * smoothing after it): the other branches of the path. */
START_TEST(test_other_branches_noalloc)
{
	char *dir = NULL;
	struct rtc_project *p = tu_shipped("sample"), *q;
	struct rtc_fb_record r;
	long n;

	n = count_run(p, 8, 0, 2, NULL, &r);
	ck_assert_msg(n == 0, "sample: %ld allocator calls", n);
	ck_assert(!isnan(r.feedback));
	rtc_project_free(p);
	q = tu_project("[pipeline.motion]\nreslice = true\n"
	    "[pipeline.smooth]\nfwhm_mm = 10.0\n[[pipeline.roi]]\n"
	    "name = \"s\"\nsphere = { center_mm = [0.0, 0.0, 0.0], "
	    "radius_mm = 10.0 }\n[feedback]\nvalue = \"s.z\"\nclip = [-2.0, "
	    "2.0]\nsmooth_vols = 3\n", &dir);
	n = count_run(q, 10, 0, 2, "sine:1,1,10", &r);
	ck_assert_msg(n == 0, "motion + reslice + smooth: %ld allocator "
	    "calls", n);
	ck_assert(!isnan(r.feedback) && fabs(r.feedback) <= 2.0);
	rtc_project_free(q);
	tu_remove(dir);
}
END_TEST

static Suite *
pipeline_noalloc_suite(void)
{
	Suite *s = suite_create("pipeline_noalloc");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_counter_sees_library);
	tcase_add_test(tc, test_neurofeedback_noalloc);
	tcase_add_test(tc, test_other_branches_noalloc);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(pipeline_noalloc_suite)
