/*
 * pipeline_testutil: what the pipeline suites share: projects from TOML
 * text or the shipped ones, phantom volumes with known motion and
 * activation, and the rigid-transform error measure of the motion tests.
 */
#ifndef RTC_PIPELINE_TESTUTIL_H
#define RTC_PIPELINE_TESTUTIL_H

#include <math.h>

#include "check_common.h"
#include "clock.h"
#include "error.h"
#include "feedback.h"
#include "kern_motion.h"
#include "pipeline.h"
#include "project.h"
#include "synth.h"
#include "synth_motion.h"
#include "volume.h"

/* A project from text, in a directory of its own (kept in *dir). */
static inline struct rtc_project *
tu_project(const char *text, char **dir)
{
	struct rtc_project *p = NULL;
	char *cause = NULL;
	int r;

	*dir = check_tmpdir();
	r = rtc_project_parse(text, strlen(text), "project.toml", *dir, &p,
	    &cause);
	ck_assert_msg(r == RTC_OK, "project: %s", cause ? cause : "");
	return p;
}

/* A shipped project (projects/NAME in the source tree). */
static inline struct rtc_project *
tu_shipped(const char *name)
{
	const char *top = getenv("RTC_TOP_SRCDIR");
	struct rtc_project *p = NULL;
	char path[PATH_MAX], *cause = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/projects/%s", top ? top : "..", name);
	r = rtc_project_load(NULL, path, &p, &cause);
	ck_assert_msg(r == RTC_OK, "project %s: %s", name, cause ? cause : "");
	return p;
}

static inline void
tu_remove(char *dir)
{
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}

/* Phantom parameters: matrix, TR, volumes. */
static inline void
tu_synth(struct rtc_synth_params *sp, int nx, int ny, int nz, double tr,
    int nvol)
{
	rtc_synth_params_init(sp);
	sp->nx = nx;
	sp->ny = ny;
	sp->nz = nz;
	sp->tr = tr;
	sp->nvol = nvol;
	sp->roi.center[0] = sp->roi.center[1] = sp->roi.center[2] = 0.0;
	sp->roi.radius = 15.0;
}

/* A fresh record for volume vol (1-based) of run 1. */
static inline void
tu_record(struct rtc_fb_record *r, const struct rtc_volume *v, int vol)
{
	rtc_fb_record_init(r);
	r->run = 1;
	r->vol = vol;
	r->series = v->acq.series_number;
	r->acquisition_time = v->acq.acquisition_time;
	r->intake_ns = rtc_clock_mono_ns();
}

/* RET: the record's ROI measure called name (NaN when absent). */
static inline double
tu_roi(const struct rtc_fb_record *r, const char *name)
{
	int i;

	for (i = 0; i < r->n_roi; i++)
		if (strcmp(r->roi[i].name, name) == 0)
			return r->roi[i].value;
	return NAN;
}

/*
 * RMS distance between where transforms A and B (world -> world) put the
 * points of a solid sphere of radius R about c: sqrt(|e|^2 + R^2/5
 * |M|_F^2), M the difference of the linear parts, e of the images of c.
 */
static inline double
tu_rms_error(const double A[4][4], const double B[4][4], const double c[3],
    double R)
{
	double e2 = 0, m2 = 0;
	int i, j;

	for (i = 0; i < 3; i++) {
		double e = A[i][3] - B[i][3];

		for (j = 0; j < 3; j++) {
			double d = A[i][j] - B[i][j];

			e += d * c[j];
			m2 += d * d;
		}
		e2 += e * e;
	}
	return sqrt(e2 + R * R / 5.0 * m2);
}

#endif
