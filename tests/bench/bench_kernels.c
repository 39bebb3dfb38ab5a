/*
 * bench_kernels: per-volume timings of the realtime kernels on a real EPI
 * series (a NIfTI made by dcm2niix from the shared DICOM data), as the
 * neurofeedback pipeline runs them: motion estimation, 5 mm smoothing,
 * incremental GLM update and t map, ROI measures, online classifier.
 *
 *   bench_kernels NIFTI [--size NXxNYxNZ] [--volumes N] [--reslice]
 *
 * --size resamples the first volume (cubic B-spline) onto a grid of that
 * shape covering the same field of view, so both sizes carry real
 * anatomy. The series is made of 32 distinct volumes with a random walk of
 * head motion (0.15 mm / 0.15 degree steps), a 2% block activation in a
 * sphere, and 1% noise, then cycled to N volumes. Prints one line per
 * stage (median, p95, max in ms) and a JSON summary.
 */
#include "rtc_build.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nifti2_io.h>

#include "clock.h"
#include "error.h"
#include "events.h"
#include "kern_classify.h"
#include "kern_glm.h"
#include "kern_interp.h"
#include "kern_motion.h"
#include "kern_roi.h"
#include "kern_smooth.h"
#include "mask.h"

#define NUNIQUE 32
#define TR 2.0

enum { ST_MOTION, ST_RESLICE, ST_SMOOTH, ST_GLM_ADD, ST_GLM_T, ST_ROI,
    ST_CLF, ST_TOTAL, NST };
static const char *const stage_names[NST] = { "motion", "reslice", "smooth",
    "glm_add", "glm_tmap", "roi", "classifier", "total" };

static uint64_t rng_state = 12345;

static double
unif(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (double)((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
}

static double
gauss(void)
{
	double u = unif();

	return sqrt(-2.0 * log(u > 1e-300 ? u : 1e-300)) *
	    cos(2.0 * M_PI * unif());
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
die(const char *what, int rc, char *cause)
{
	fprintf(stderr, "bench_kernels: %s: %s%s%s\n", what, rtc_strerror(rc),
	    cause ? ": " : "", cause ? cause : "");
	exit(1);
}

static float *
load_first_volume(const char *path, struct rtc_grid *g)
{
	nifti_image *nim = nifti_image_read(path, 1);
	size_t n, v;
	float *out;
	int r, c;

	if (nim == NULL) {
		fprintf(stderr, "bench_kernels: cannot read %s\n", path);
		exit(1);
	}
	g->nx = (int)nim->nx;
	g->ny = (int)nim->ny;
	g->nz = (int)nim->nz;
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			g->affine[r][c] = nim->sform_code > 0 ?
			    nim->sto_xyz.m[r][c] : nim->qto_xyz.m[r][c];
	n = rtc_grid_nvox(g);
	out = malloc(n * sizeof(float));
	for (v = 0; v < n; v++) {
		double x;

		switch (nim->datatype) {
		case NIFTI_TYPE_INT16: x = ((int16_t *)nim->data)[v]; break;
		case NIFTI_TYPE_UINT16: x = ((uint16_t *)nim->data)[v]; break;
		case NIFTI_TYPE_FLOAT32: x = ((float *)nim->data)[v]; break;
		default:
			fprintf(stderr, "bench_kernels: datatype %d\n",
			    (int)nim->datatype);
			exit(1);
		}
		out[v] = (float)(nim->scl_slope != 0.0 ?
		    x * nim->scl_slope + nim->scl_inter : x);
	}
	nifti_image_free(nim);
	return out;
}

int
main(int argc, char **argv)
{
	struct rtc_grid g0, g;
	float *base0, *base, *coef, **series, *work, *tmap, *resl;
	uint8_t *mask, *roi[2], *clfmask;
	struct rtc_motion *mot;
	struct rtc_smooth *sm;
	struct rtc_events *ev;
	struct rtc_design *des;
	struct rtc_design_opts dopt;
	struct rtc_glm *glm;
	struct rtc_roi *rois;
	struct rtc_clf *clf;
	struct rtc_clf_opts copt;
	double *times[NST], cmask[3] = { 0, 0, 0 }, trans[3] = { 0 };
	double rot[3] = { 0 }, c[3], *con, fd_sum = 0.0;
	char *cause = NULL;
	size_t n, v, nm = 0;
	int trainings = 0, max_epochs = 0;
	int nvol = 300, reslice = 0, i, k, q, rc, ncols, nx = 0, ny = 0, nz = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_kernels NIFTI [--size NXxNYxNZ] "
		    "[--volumes N] [--reslice]\n");
		return 64;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
			if (sscanf(argv[++i], "%dx%dx%d", &nx, &ny, &nz) != 3 ||
			    nx < 8 || ny < 8 || nz < 8 || nx > 512 ||
			    ny > 512 || nz > 512) {
				fprintf(stderr, "bench_kernels: bad --size\n");
				return 64;
			}
		} else if (strcmp(argv[i], "--volumes") == 0 && i + 1 < argc) {
			nvol = (int)strtol(argv[++i], NULL, 10);
			if (nvol < 20 || nvol > 100000) {
				fprintf(stderr, "bench_kernels: --volumes 20..100000\n");
				return 64;
			}
		} else if (strcmp(argv[i], "--reslice") == 0)
			reslice = 1;
		else {
			fprintf(stderr, "bench_kernels: unknown %s\n", argv[i]);
			return 64;
		}
	}
	base0 = load_first_volume(argv[1], &g0);
	coef = malloc(rtc_grid_nvox(&g0) * sizeof(float));
	memcpy(coef, base0, rtc_grid_nvox(&g0) * sizeof(float));
	rtc_interp_bspline_coeffs(coef, g0.nx, g0.ny, g0.nz);
	g = g0;
	if (nx > 0) {
		/* same field of view, voxels scaled: old index = (new + 0.5)
		 * * n_old / n_new - 0.5 */
		double S[4][4];

		rtc_affine_identity(S);
		S[0][0] = (double)g0.nx / nx; S[0][3] = 0.5 * S[0][0] - 0.5;
		S[1][1] = (double)g0.ny / ny; S[1][3] = 0.5 * S[1][1] - 0.5;
		S[2][2] = (double)g0.nz / nz; S[2][3] = 0.5 * S[2][2] - 0.5;
		rtc_affine_mul(g0.affine, S, g.affine);
		g.nx = nx;
		g.ny = ny;
		g.nz = nz;
	}
	n = rtc_grid_nvox(&g);
	base = malloc(n * sizeof(float));
	rtc_interp_resample(coef, &g0, &g, NULL, RTC_INTERP_BSPLINE, 0.0f, base);
	mask = malloc(n);
	if ((rc = rtc_mask_auto(base, &g, NULL, mask, &nm, &cause)) != RTC_OK)
		die("mask", rc, cause);
	for (k = 0; k < g.nz; k++)
		for (q = 0; q < g.ny; q++)
			for (i = 0; i < g.nx; i++)
				if (mask[((size_t)k * g.ny + q) * g.nx + i]) {
					double w[3];

					rtc_grid_vox2world(&g, i, q, k, w);
					cmask[0] += w[0] / (double)nm;
					cmask[1] += w[1] / (double)nm;
					cmask[2] += w[2] / (double)nm;
				}
	/* ROIs: a 10 mm sphere 25 mm right of the centroid (activated) and
	 * one on the other side; classifier features: a 25 mm sphere */
	for (q = 0; q < 2; q++) {
		double cc[3] = { cmask[0] + (q ? -25.0 : 25.0), cmask[1],
		    cmask[2] };

		roi[q] = malloc(n);
		rtc_roi_mask_sphere(&g, cc, 10.0, roi[q], NULL, NULL);
	}
	clfmask = malloc(n);
	rtc_roi_mask_sphere(&g, cmask, 25.0, clfmask, NULL, NULL);
	for (v = 0; v < n; v++)
		clfmask[v] = clfmask[v] && mask[v];
	/* the series */
	memcpy(coef, base, n * sizeof(float));
	free(coef);
	coef = malloc(n * sizeof(float));
	memcpy(coef, base, n * sizeof(float));
	rtc_interp_bspline_coeffs(coef, g.nx, g.ny, g.nz);
	series = malloc(NUNIQUE * sizeof(*series));
	rtc_grid_center(&g, c);
	{
		double meanI = 0.0;

		for (v = 0; v < n; v++)
			if (mask[v])
				meanI += base[v] / (double)nm;
		for (k = 0; k < NUNIQUE; k++) {
			double T[4][4], Ti[4][4];
			int on = (k / 10) % 2;   /* 20 s blocks at TR 2 s */

			for (q = 0; q < 3; q++) {
				trans[q] += 0.15 * (2.0 * unif() - 1.0);
				rot[q] += 0.15 * M_PI / 180.0 * (2.0 * unif() - 1.0);
			}
			rtc_motion_params_to_matrix(trans, rot, c, T);
			rtc_affine_invert(T, Ti);
			series[k] = malloc(n * sizeof(float));
			rtc_interp_resample(coef, &g, &g, Ti, RTC_INTERP_BSPLINE,
			    0.0f, series[k]);
			for (v = 0; v < n; v++) {
				double x = series[k][v];

				if (on && roi[0][v])
					x *= 1.02;
				series[k][v] = (float)(x + 0.01 * meanI * gauss());
			}
		}
	}
	/* the kernels, set up once */
	if ((rc = rtc_motion_new(base, &g, mask, NULL, &mot, &cause)) != RTC_OK)
		die("motion", rc, cause);
	if ((rc = rtc_smooth_new(&g, 5.0, &sm, &cause)) != RTC_OK)
		die("smooth", rc, cause);
	rtc_events_new(&ev);
	if ((rc = rtc_events_add_blocks(ev, "task", 20.0, 20.0, 40.0, 1000,
	    &cause)) != RTC_OK)
		die("events", rc, cause);
	rtc_design_opts_init(&dopt);
	dopt.tr = TR;
	dopt.expected_volumes = nvol;
	if ((rc = rtc_design_new(&dopt, ev, &des, &cause)) != RTC_OK)
		die("design", rc, cause);
	ncols = rtc_design_ncols(des);
	con = calloc((size_t)ncols, sizeof(double));
	if ((rc = rtc_design_contrast(des, "task", con, &cause)) != RTC_OK)
		die("contrast", rc, cause);
	if ((rc = rtc_glm_new(&g, mask, ncols, &glm, &cause)) != RTC_OK)
		die("glm", rc, cause);
	{
		const uint8_t *rl[2] = { roi[0], roi[1] };

		if ((rc = rtc_roi_new(&g, 2, rl, NULL, &rois, &cause)) != RTC_OK)
			die("roi", rc, cause);
	}
	rtc_clf_opts_init(&copt);
	if ((rc = rtc_clf_new_online(&g, clfmask, &copt, &clf, &cause)) !=
	    RTC_OK)
		die("classifier", rc, cause);
	work = malloc(n * sizeof(float));
	tmap = malloc(n * sizeof(float));
	resl = malloc(n * sizeof(float));
	for (q = 0; q < NST; q++)
		times[q] = calloc((size_t)nvol, sizeof(double));

	for (k = 0; k < nvol; k++) {
		const float *vol = series[k % NUNIQUE];
		struct rtc_motion_result mr;
		struct rtc_roi_value rv[2];
		struct rtc_clf_result cr;
		double row[RTC_GLM_MAX_REG], motion[6], dof;
		int64_t t0, t1;
		int label;

		t0 = rtc_clock_mono_ns();
		if ((rc = rtc_motion_register(mot, vol, NULL, &mr)) != RTC_OK)
			die("motion_register", rc, NULL);
		t1 = rtc_clock_mono_ns();
		times[ST_MOTION][k] = (double)(t1 - t0) * 1e-6;
		fd_sum += mr.fd;
		if (reslice) {
			rtc_motion_reslice(mot, vol, NULL, &mr, RTC_INTERP_LINEAR,
			    resl);
			vol = resl;
		}
		times[ST_RESLICE][k] = (double)(rtc_clock_mono_ns() - t1) * 1e-6;
		t1 = rtc_clock_mono_ns();
		rtc_smooth_apply(sm, vol, work);
		times[ST_SMOOTH][k] = (double)(rtc_clock_mono_ns() - t1) * 1e-6;
		memcpy(motion, mr.trans, sizeof(mr.trans));
		memcpy(motion + 3, mr.rot, sizeof(mr.rot));
		rtc_design_row(des, k, motion, row);
		t1 = rtc_clock_mono_ns();
		rtc_glm_add(glm, row, work);
		times[ST_GLM_ADD][k] = (double)(rtc_clock_mono_ns() - t1) * 1e-6;
		t1 = rtc_clock_mono_ns();
		{
			float *tm[1] = { tmap };

			rc = rtc_glm_compute(glm, con, 1, tm, NULL, &dof, NULL);
			if (rc != RTC_OK && rc != RTC_ERR_AGAIN)
				die("glm_compute", rc, NULL);
		}
		times[ST_GLM_T][k] = (double)(rtc_clock_mono_ns() - t1) * 1e-6;
		t1 = rtc_clock_mono_ns();
		rtc_roi_update(rois, work, rtc_events_label(ev, k * TR, 4.5) < 0,
		    rv);
		times[ST_ROI][k] = (double)(rtc_clock_mono_ns() - t1) * 1e-6;
		label = rtc_events_label(ev, k * TR, 4.5) == 0 ? 1 : 0;
		t1 = rtc_clock_mono_ns();
		rtc_clf_update(clf, work, label, &cr);
		times[ST_CLF][k] = (double)(rtc_clock_mono_ns() - t1) * 1e-6;
		if (cr.trained) {
			trainings++;
			if (cr.epochs > max_epochs)
				max_epochs = cr.epochs;
		}
		times[ST_TOTAL][k] = (double)(rtc_clock_mono_ns() - t0) * 1e-6;
	}
	printf("grid %dx%dx%d, %zu mask voxels, %d volumes, %d threads\n",
	    g.nx, g.ny, g.nz, nm, nvol, omp_get_max_threads());
	printf("%-12s %9s %9s %9s\n", "stage", "p50_ms", "p95_ms", "max_ms");
	printf("{\"grid\":\"%dx%dx%d\",\"threads\":%d,\"volumes\":%d",
	    g.nx, g.ny, g.nz, omp_get_max_threads(), nvol);
	{
		/* the first 5 volumes warm caches and thread pools */
		int skip = 5, m = nvol - skip;
		char line[4096];
		size_t off = 0;

		for (q = 0; q < NST; q++) {
			double *t = times[q] + skip;

			if (q == ST_RESLICE && !reslice)
				continue;
			qsort(t, (size_t)m, sizeof(double), cmp_double);
			fprintf(stderr, "%-12s %9.3f %9.3f %9.3f\n",
			    stage_names[q], t[m / 2], t[(int)(0.95 * (m - 1))],
			    t[m - 1]);
			off += (size_t)snprintf(line + off, sizeof(line) - off,
			    ",\"%s\":{\"p50\":%.4f,\"p95\":%.4f,\"max\":%.4f}",
			    stage_names[q], t[m / 2], t[(int)(0.95 * (m - 1))],
			    t[m - 1]);
		}
		printf("%s}\n", line);
	}
	fprintf(stderr, "mean FD %.3f mm; classifier: %zu features, %d "
	    "trainings, at most %d epochs\n", fd_sum / nvol,
	    rtc_clf_nfeatures(clf), trainings, max_epochs);
	rtc_motion_free(mot);
	rtc_smooth_free(sm);
	rtc_design_free(des);
	rtc_events_free(ev);
	rtc_glm_free(glm);
	rtc_roi_free(rois);
	rtc_clf_free(clf);
	for (k = 0; k < NUNIQUE; k++)
		free(series[k]);
	for (q = 0; q < NST; q++)
		free(times[q]);
	free(series);
	free(base0);
	free(base);
	free(coef);
	free(mask);
	free(roi[0]);
	free(roi[1]);
	free(clfmask);
	free(work);
	free(tmap);
	free(resl);
	free(con);
	return 0;
}
