/*
 * kern_motion: inverse-compositional Gauss-Newton rigid registration.
 *
 * Setup (rtc_motion_new) smooths the reference (smooth_fwhm_mm) and
 * builds sample lists: for each level of a 2x pyramid, and for the
 * full-resolution B-spline stage (every final_stride-th mask voxel), each
 * sample holds its voxel position, reference value and steepest-descent
 * row SD = [g, q x g] (g: the reference's world-space gradient there, q:
 * its position relative to the rotation centre c); each list has its
 * Hessian H = sum SD'SD. The B-spline stage takes g from the central
 * differences of the reference's spline coefficients, the exact
 * derivative of the spline it is compared with.
 *
 * Per volume (rtc_motion_register): smooth the volume, prefilter it into
 * B-spline coefficients, and iterate from the previous estimate:
 *   M   = A_vol^-1 . T . A_ref        (reference voxel -> moving voxel)
 *   e_s = V(M x_s) - R_s              (cubic B-spline, or trilinear)
 *   d   = (H - sum_out SD'SD)^-1 sum_in SD e
 *   T  <- T . dT(d)^-1                (dT: rotation vector d[3..5] about
 *                                      c, then translation d[0..2])
 * until the update moves no point of a 50 mm sphere more than tol_mm.
 * When there is no previous estimate, or the first update is larger than
 * WARM_MAX_STEP_MM, the pyramid of the volume is built by 2x2x2 averaging
 * and the trilinear levels run first, coarse to fine, to bring the
 * estimate into the B-spline stage's capture range. Samples whose taps
 * fall outside the moving grid are dropped and their SD'SD is taken back
 * out of H, so the Hessian always matches the samples used.
 *
 * Sums over samples are split into NCHUNK fixed chunks: OpenMP threads
 * take whole chunks and the chunk totals are added in chunk order, so the
 * result is bit-identical for any number of threads.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kern_motion.h"
#include "volume.h"
#include "kern_smooth.h"
#include "mask.h"

#define MAX_LEVELS 4
#define NCHUNK 64
#define ACC 32          /* per chunk: b[6], cost, nvalid, hbad[21] */
#define MIN_SAMPLES 64
#define BATCH 64            /* samples summed in float, then in double */
#define WARM_MAX_STEP_MM 1.5    /* larger first step: take the pyramid */
#define COARSE_TOL_MM 0.01      /* trilinear levels before the B-spline */
#define FINAL_SAMPLES 10000     /* automatic final_stride aims at this */

/* four floats as one SIMD value (GCC/Clang vector extension) */
typedef float v4sf __attribute__((vector_size(16)));

struct sample {
	float i, j, k, r;
	float sd[6];
};

struct level {
	int nx, ny, nz;
	double S[4][4];         /* level voxel -> level-0 voxel */
	double Sinv[4][4];
	double aref[4][4];      /* reference level voxel -> world */
	struct sample *s;
	size_t ns;
	double H[6][6];
	float *mov;             /* moving volume at this level (l >= 1) */
};

struct rtc_motion {
	struct rtc_grid grid;
	struct rtc_motion_opts o;
	int nlev;
	struct level lev[MAX_LEVELS];
	double c[3];
	double trans[3], rot[3];          /* warm start */
	double prev_trans[3], prev_rot[3];
	int have_prev;
	struct level fin;                 /* B-spline refinement samples */
	double *acc;                      /* NCHUNK * ACC */
	float *scratch;                   /* nvox: B-spline coefficients */
	struct rtc_smooth *sm;            /* pre-smoothing (or NULL) */
	float *svol;                      /* nvox: the smoothed volume */
	int *rows;                        /* reslice spans, or NULL: all */
};

void
rtc_motion_opts_init(struct rtc_motion_opts *o)
{
	o->levels = 2;
	o->max_iter = 15;
	o->tol_mm = 0.005;
	o->stride = 1;
	o->fd_radius_mm = 50.0;
	o->final_bspline = 1;
	o->final_stride = 0;
	o->smooth_fwhm_mm = 5.0;
}

/* ---- rigid transform algebra ---- */

void
rtc_motion_params_to_matrix(const double trans[3], const double rot[3],
    const double c[3], double T[4][4])
{
	double R[3][3];
	int r;

	rtc_rotation_zyx(rot, R);
	for (r = 0; r < 3; r++) {
		T[r][0] = R[r][0];
		T[r][1] = R[r][1];
		T[r][2] = R[r][2];
		/* T(p) = R p + (c + t - R c) */
		T[r][3] = c[r] + trans[r] -
		    (R[r][0] * c[0] + R[r][1] * c[1] + R[r][2] * c[2]);
	}
	T[3][0] = T[3][1] = T[3][2] = 0.0;
	T[3][3] = 1.0;
}

void
rtc_motion_matrix_to_params(const double T[4][4], const double c[3],
    double trans[3], double rot[3])
{
	double s = -T[2][0];
	int r;

	if (s > 1.0)
		s = 1.0;
	if (s < -1.0)
		s = -1.0;
	rot[1] = asin(s);
	rot[0] = atan2(T[2][1], T[2][2]);
	rot[2] = atan2(T[1][0], T[0][0]);
	/* t = T(c) - c */
	for (r = 0; r < 3; r++)
		trans[r] = T[r][0] * c[0] + T[r][1] * c[1] + T[r][2] * c[2] +
		    T[r][3] - c[r];
}

double
rtc_motion_fd(const double trans_a[3], const double rot_a[3],
    const double trans_b[3], const double rot_b[3], double radius_mm)
{
	double fd = 0.0;
	int q;

	for (q = 0; q < 3; q++)
		fd += fabs(trans_a[q] - trans_b[q]) +
		    radius_mm * fabs(rot_a[q] - rot_b[q]);
	return fd;
}

/* Rotation matrix of rotation vector w (Rodrigues). */
static void
rodrigues(const double w[3], double R[3][3])
{
	double th = sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
	double a, b, K[3][3], K2[3][3];
	int r, c, q;

	if (th < 1e-12) {
		/* first order: I + [w]x */
		R[0][0] = 1.0; R[0][1] = -w[2]; R[0][2] = w[1];
		R[1][0] = w[2]; R[1][1] = 1.0; R[1][2] = -w[0];
		R[2][0] = -w[1]; R[2][1] = w[0]; R[2][2] = 1.0;
		return;
	}
	a = sin(th) / th;
	b = (1.0 - cos(th)) / (th * th);
	K[0][0] = 0.0; K[0][1] = -w[2]; K[0][2] = w[1];
	K[1][0] = w[2]; K[1][1] = 0.0; K[1][2] = -w[0];
	K[2][0] = -w[1]; K[2][1] = w[0]; K[2][2] = 0.0;
	for (r = 0; r < 3; r++)
		for (c = 0; c < 3; c++) {
			K2[r][c] = 0.0;
			for (q = 0; q < 3; q++)
				K2[r][c] += K[r][q] * K[q][c];
		}
	for (r = 0; r < 3; r++)
		for (c = 0; c < 3; c++)
			R[r][c] = (r == c ? 1.0 : 0.0) + a * K[r][c] +
			    b * K2[r][c];
}

/* T <- T . dT^-1 with dT(p) = dR (p - c) + c + d[0..2], dR = exp([d3..5]x),
 * then back to parameters (which keeps T exactly rigid). */
static void
compose_inverse(double trans[3], double rot[3], const double c[3],
    const double d[6])
{
	double T[4][4], Di[4][4], R[3][3], u[3];
	int r, q;

	rtc_motion_params_to_matrix(trans, rot, c, T);
	rodrigues(d + 3, R);
	/* dT^-1(p) = dR' p + c - dR' (c + delta) */
	for (q = 0; q < 3; q++)
		u[q] = c[q] + d[q];
	for (r = 0; r < 3; r++) {
		for (q = 0; q < 3; q++)
			Di[r][q] = R[q][r];
		Di[r][3] = c[r] - (R[0][r] * u[0] + R[1][r] * u[1] +
		    R[2][r] * u[2]);
	}
	Di[3][0] = Di[3][1] = Di[3][2] = 0.0;
	Di[3][3] = 1.0;
	rtc_affine_mul(T, Di, T);
	rtc_motion_matrix_to_params(T, c, trans, rot);
}

/* Solve the 6x6 SPD system A x = b by Cholesky. RET: 0, or -1 when A is
 * not positive definite. */
static int
solve6(double A[6][6], const double b[6], double x[6])
{
	double L[6][6], y[6];
	int i, j, k;

	memset(L, 0, sizeof(L));
	for (j = 0; j < 6; j++) {
		double s = A[j][j];

		for (k = 0; k < j; k++)
			s -= L[j][k] * L[j][k];
		if (!(s > 1e-12 * (A[j][j] > 0.0 ? A[j][j] : 1.0)))
			return -1;
		L[j][j] = sqrt(s);
		for (i = j + 1; i < 6; i++) {
			s = A[i][j];
			for (k = 0; k < j; k++)
				s -= L[i][k] * L[j][k];
			L[i][j] = s / L[j][j];
		}
	}
	for (i = 0; i < 6; i++) {
		double s = b[i];

		for (k = 0; k < i; k++)
			s -= L[i][k] * y[k];
		y[i] = s / L[i][i];
	}
	for (i = 5; i >= 0; i--) {
		double s = y[i];

		for (k = i + 1; k < 6; k++)
			s -= L[k][i] * x[k];
		x[i] = s / L[i][i];
	}
	return 0;
}

/* ---- pyramids ---- */

/* Average blocks of fx*fy*fz voxels of src (nx, ny, nz) into dst. */
static void
downsample(const float *src, int nx, int ny, int nz, int fx, int fy,
    int fz, float *dst)
{
	int mx = nx / fx, my = ny / fy, mz = nz / fz, k;
	float w = 1.0f / (float)(fx * fy * fz);

#pragma omp parallel for schedule(static)
	for (k = 0; k < mz; k++) {
		int i, j, a, b, d;

		for (j = 0; j < my; j++)
			for (i = 0; i < mx; i++) {
				float s = 0.0f;

				for (d = 0; d < fz; d++)
					for (b = 0; b < fy; b++) {
						const float *p = src +
						    ((size_t)(k * fz + d) * ny +
						    (size_t)(j * fy + b)) * nx +
						    (size_t)i * fx;

						for (a = 0; a < fx; a++)
							s += p[a];
					}
				dst[((size_t)k * my + j) * mx + i] = s * w;
			}
	}
}

static void
level_factors(int nx, int ny, int nz, int f[3])
{
	f[0] = nx >= 16 ? 2 : 1;
	f[1] = ny >= 16 ? 2 : 1;
	f[2] = nz >= 16 ? 2 : 1;
}

/* Build level L's samples from its reference image and mask, the
 * gradients from gimg: img itself (central differences), or for the
 * B-spline stage the image's B-spline coefficients, whose central
 * differences are the exact derivatives of the spline at the voxels. */
static int
build_samples(struct level *L, const float *img, const float *gimg,
    const uint8_t *mask, int stride, const double c[3])
{
	int nx = L->nx, ny = L->ny, nz = L->nz, i, j, k, r, q;
	double inv[4][4];
	size_t sxy = (size_t)nx * ny, v, n = 0, cnt = 0, s;

	if (rtc_affine_invert(L->aref, inv) != RTC_OK)
		return RTC_ERR_INVAL;
	for (v = 0; v < sxy * (size_t)nz; v++)
		cnt += mask[v] != 0;
	cnt = (cnt + (size_t)stride - 1) / (size_t)stride;
	L->s = calloc(cnt > 0 ? cnt : 1, sizeof(*L->s));
	if (L->s == NULL)
		return RTC_ERR_NOMEM;
	s = 0;
	for (k = 0; k < nz; k++)
		for (j = 0; j < ny; j++)
			for (i = 0; i < nx; i++) {
				double gv[3], gw[3], p[3], qv[3];
				float val;
				struct sample *sp;

				v = (size_t)k * sxy + (size_t)j * nx + i;
				if (!mask[v])
					continue;
				if (s++ % (size_t)stride != 0)
					continue;
				if (n >= cnt)
					break;
				val = img[v];
				/* voxel-space gradient, one-sided at borders */
				gv[0] = i == 0 ? gimg[v + 1] - gimg[v] :
				    i == nx - 1 ? gimg[v] - gimg[v - 1] :
				    0.5 * (gimg[v + 1] - gimg[v - 1]);
				gv[1] = j == 0 ? gimg[v + nx] - gimg[v] :
				    j == ny - 1 ? gimg[v] - gimg[v - nx] :
				    0.5 * (gimg[v + nx] - gimg[v - nx]);
				gv[2] = k == 0 ? gimg[v + sxy] - gimg[v] :
				    k == nz - 1 ? gimg[v] - gimg[v - sxy] :
				    0.5 * (gimg[v + sxy] - gimg[v - sxy]);
				/* world gradient: A^-T gv */
				for (r = 0; r < 3; r++)
					gw[r] = inv[0][r] * gv[0] +
					    inv[1][r] * gv[1] + inv[2][r] * gv[2];
				for (r = 0; r < 3; r++)
					p[r] = L->aref[r][0] * i +
					    L->aref[r][1] * j +
					    L->aref[r][2] * k + L->aref[r][3];
				for (r = 0; r < 3; r++)
					qv[r] = p[r] - c[r];
				sp = &L->s[n++];
				sp->i = (float)i;
				sp->j = (float)j;
				sp->k = (float)k;
				sp->r = val;
				sp->sd[0] = (float)gw[0];
				sp->sd[1] = (float)gw[1];
				sp->sd[2] = (float)gw[2];
				sp->sd[3] = (float)(qv[1] * gw[2] - qv[2] * gw[1]);
				sp->sd[4] = (float)(qv[2] * gw[0] - qv[0] * gw[2]);
				sp->sd[5] = (float)(qv[0] * gw[1] - qv[1] * gw[0]);
			}
	L->ns = n;
	memset(L->H, 0, sizeof(L->H));
	for (s = 0; s < n; s++)
		for (r = 0; r < 6; r++)
			for (q = 0; q < 6; q++)
				L->H[r][q] += (double)L->s[s].sd[r] *
				    (double)L->s[s].sd[q];
	return RTC_OK;
}

int
rtc_motion_new(const float *ref, const struct rtc_grid *grid,
    const uint8_t *mask, const struct rtc_motion_opts *opts,
    struct rtc_motion **mp, char **cause)
{
	struct rtc_motion *m = NULL;
	float *img = NULL, *prev_img = NULL;
	uint8_t *lmask = NULL, *prev_mask = NULL, *auto_mask = NULL;
	float *sref = NULL;
	size_t nvox, v, cnt;
	int rc, l, f[3], fs;

	if ((rc = rtc_grid_check(grid, cause)) != RTC_OK)
		return rc;
	if (grid->nx < 4 || grid->ny < 4 || grid->nz < 4) {
		rtc_cause_set(cause, "motion: the grid needs at least 4 voxels "
		    "along each axis");
		return RTC_ERR_INVAL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto nomem;
	m->grid = *grid;
	if (opts != NULL)
		m->o = *opts;
	else
		rtc_motion_opts_init(&m->o);
	if (m->o.levels < 1 || m->o.levels > MAX_LEVELS ||
	    m->o.max_iter < 1 || m->o.max_iter > 1000 ||
	    !(m->o.tol_mm > 0.0) || m->o.stride < 1 || m->o.stride > 64 ||
	    !(m->o.fd_radius_mm >= 0.0) || m->o.final_stride < 0 ||
	    !(m->o.smooth_fwhm_mm >= 0.0 && m->o.smooth_fwhm_mm < 1e4) ||
	    m->o.final_stride > 64) {
		rtc_cause_set(cause, "motion: options out of range (levels "
		    "1..%d, max_iter 1..1000, tol_mm > 0, stride 1..64, "
		    "final_stride 0..64, smooth_fwhm_mm >= 0)",
		    MAX_LEVELS);
		rc = RTC_ERR_INVAL;
		goto out;
	}
	nvox = rtc_grid_nvox(grid);
	for (v = 0; v < nvox; v++)
		if (!isfinite(ref[v])) {
			rtc_cause_set(cause, "motion: the reference has a "
			    "non-finite voxel");
			rc = RTC_ERR_INVAL;
			goto out;
		}
	if (mask == NULL) {
		auto_mask = malloc(nvox);
		if (auto_mask == NULL)
			goto nomem;
		if ((rc = rtc_mask_auto(ref, grid, NULL, auto_mask, NULL,
		    cause)) != RTC_OK)
			goto out;
		mask = auto_mask;
	}
	rtc_grid_center(grid, m->c);
	m->acc = calloc(NCHUNK * ACC, sizeof(double));
	m->scratch = malloc(nvox * sizeof(float));
	if (m->acc == NULL || m->scratch == NULL)
		goto nomem;
	if (m->o.smooth_fwhm_mm > 0.0) {
		if ((rc = rtc_smooth_new(grid, m->o.smooth_fwhm_mm, &m->sm,
		    cause)) != RTC_OK)
			goto out;
		m->svol = malloc(nvox * sizeof(float));
		sref = malloc(nvox * sizeof(float));
		if (m->svol == NULL || sref == NULL)
			goto nomem;
		rtc_smooth_apply(m->sm, ref, sref);
		ref = sref;
	}

	for (l = 0; l < m->o.levels; l++) {
		struct level *L = &m->lev[l];
		size_t ln;

		if (l == 0) {
			L->nx = grid->nx;
			L->ny = grid->ny;
			L->nz = grid->nz;
			rtc_affine_identity(L->S);
			img = (float *)ref;
			lmask = (uint8_t *)mask;
		} else {
			struct level *P = &m->lev[l - 1];
			double D[4][4];
			float *mf;

			level_factors(P->nx, P->ny, P->nz, f);
			if (f[0] * f[1] * f[2] == 1)
				break;
			L->nx = P->nx / f[0];
			L->ny = P->ny / f[1];
			L->nz = P->nz / f[2];
			if (L->nx < 4 || L->ny < 4 || L->nz < 4)
				break;
			rtc_affine_identity(D);
			D[0][0] = f[0]; D[0][3] = 0.5 * (f[0] - 1);
			D[1][1] = f[1]; D[1][3] = 0.5 * (f[1] - 1);
			D[2][2] = f[2]; D[2][3] = 0.5 * (f[2] - 1);
			rtc_affine_mul(P->S, D, L->S);
			ln = (size_t)L->nx * L->ny * L->nz;
			L->mov = malloc(ln * sizeof(float));
			img = malloc(ln * sizeof(float));
			mf = malloc(ln * sizeof(float));
			lmask = malloc(ln);
			if (L->mov == NULL || img == NULL || mf == NULL ||
			    lmask == NULL) {
				free(mf);
				goto nomem;
			}
			downsample(prev_img, P->nx, P->ny, P->nz, f[0], f[1],
			    f[2], img);
			/* mask: majority of the block */
			{
				float *pm = malloc((size_t)P->nx * P->ny *
				    P->nz * sizeof(float));
				size_t pn = (size_t)P->nx * P->ny * P->nz;

				if (pm == NULL) {
					free(mf);
					goto nomem;
				}
				for (v = 0; v < pn; v++)
					pm[v] = prev_mask[v] ? 1.0f : 0.0f;
				downsample(pm, P->nx, P->ny, P->nz, f[0], f[1],
				    f[2], mf);
				free(pm);
			}
			for (v = 0; v < ln; v++)
				lmask[v] = mf[v] >= 0.5f;
			free(mf);
		}
		if (rtc_affine_invert(L->S, L->Sinv) != RTC_OK) {
			rc = RTC_ERR_INTERNAL;
			goto out;
		}
		rtc_affine_mul(grid->affine, L->S, L->aref);
		rc = build_samples(L, img, img, lmask,
		    l == 0 ? m->o.stride : 1, m->c);
		if (rc == RTC_ERR_NOMEM)
			goto nomem;
		if (rc != RTC_OK)
			goto out;
		if (l > 0 && prev_img != ref)
			free(prev_img);
		if (l > 0 && prev_mask != mask)
			free(prev_mask);
		prev_img = img;
		prev_mask = lmask;
		img = NULL;
		lmask = NULL;
		cnt = L->ns;
		if (cnt < MIN_SAMPLES) {
			if (l == 0) {
				rtc_cause_set(cause, "motion: the mask has %zu "
				    "usable voxels (need %d)", cnt,
				    MIN_SAMPLES);
				rc = RTC_ERR_INVAL;
				goto out;
			}
			free(L->s);
			free(L->mov);
			memset(L, 0, sizeof(*L));
			break;
		}
		m->nlev = l + 1;
	}
	if (m->o.final_bspline) {
		struct level *F = &m->fin;

		F->nx = grid->nx;
		F->ny = grid->ny;
		F->nz = grid->nz;
		rtc_affine_identity(F->S);
		rtc_affine_identity(F->Sinv);
		memcpy(F->aref, grid->affine, sizeof(F->aref));
		memcpy(m->scratch, ref, nvox * sizeof(float));
		rtc_interp_bspline_coeffs(m->scratch, grid->nx, grid->ny,
		    grid->nz);
		fs = m->o.final_stride;
		if (fs == 0) {
			/* auto: about FINAL_SAMPLES samples */
			fs = (int)((rtc_mask_count(mask, nvox) + FINAL_SAMPLES -
			    1) / FINAL_SAMPLES);
			fs = fs < 1 ? 1 : fs;
		}
		rc = build_samples(F, ref, m->scratch, mask, m->o.stride * fs,
		    m->c);
		if (rc == RTC_ERR_NOMEM)
			goto nomem;
		if (rc != RTC_OK)
			goto out;
		if (F->ns < MIN_SAMPLES) {
			rtc_cause_set(cause, "motion: the mask has %zu usable "
			    "voxels at final_stride %d (need %d)", F->ns, fs,
			    MIN_SAMPLES);
			rc = RTC_ERR_INVAL;
			goto out;
		}
	}
	rtc_motion_reset(m);
	*mp = m;
	m = NULL;
	rc = RTC_OK;
	goto out;
nomem:
	rtc_cause_set(cause, "motion: out of memory");
	rc = RTC_ERR_NOMEM;
out:
	if (img != NULL && img != ref)
		free(img);
	if (prev_img != NULL && prev_img != ref)
		free(prev_img);
	if (lmask != NULL && lmask != mask)
		free(lmask);
	if (prev_mask != NULL && prev_mask != mask)
		free(prev_mask);
	free(auto_mask);
	free(sref);
	rtc_motion_free(m);
	return rc;
}

void
rtc_motion_free(struct rtc_motion *m)
{
	int l;

	if (m == NULL)
		return;
	for (l = 0; l < MAX_LEVELS; l++) {
		free(m->lev[l].s);
		free(m->lev[l].mov);
	}
	free(m->fin.s);
	rtc_smooth_free(m->sm);
	free(m->svol);
	free(m->acc);
	free(m->scratch);
	free(m->rows);
	free(m);
}

int
rtc_motion_reslice_only(struct rtc_motion *m, const uint8_t *need)
{
	int *rows = NULL;

	if (need != NULL) {
		rows = malloc(2 * (size_t)m->grid.ny * m->grid.nz * sizeof(int));
		if (rows == NULL)
			return RTC_ERR_NOMEM;
		rtc_interp_rows(&m->grid, need, rows);
	}
	free(m->rows);
	m->rows = rows;
	return RTC_OK;
}

void
rtc_motion_reset(struct rtc_motion *m)
{
	memset(m->trans, 0, sizeof(m->trans));
	memset(m->rot, 0, sizeof(m->rot));
	m->have_prev = 0;
}

void
rtc_motion_center(const struct rtc_motion *m, double c[3])
{
	memcpy(c, m->c, sizeof(m->c));
}

/* ---- the hot loop ---- */

/* Trilinear value of img at (x, y, z); the caller keeps 0 <= x < nx - 1
 * (and likewise y, z). */
static inline float
interp_linear(const float *img, int nx, size_t sxy, float x, float y,
    float z)
{
	int i0 = (int)x, j0 = (int)y, k0 = (int)z;
	float fx = x - (float)i0, fy = y - (float)j0, fz = z - (float)k0;
	const float *p = img + (size_t)k0 * sxy + (size_t)j0 * nx + i0;
	float c00 = p[0] + fx * (p[1] - p[0]);
	float c01 = p[nx] + fx * (p[nx + 1] - p[nx]);
	float c10 = p[sxy] + fx * (p[sxy + 1] - p[sxy]);
	float c11 = p[sxy + nx] + fx * (p[sxy + nx + 1] - p[sxy + nx]);

	c00 += fy * (c01 - c00);
	c10 += fy * (c11 - c10);
	return c00 + fz * (c10 - c00);
}

static inline void
bspline_w(float t, float w[4])
{
	float t2 = t * t, t3 = t2 * t, u = 1.0f - t;

	w[0] = u * u * u * (1.0f / 6.0f);
	w[1] = (4.0f - 6.0f * t2 + 3.0f * t3) * (1.0f / 6.0f);
	w[2] = (1.0f + 3.0f * t + 3.0f * t2 - 3.0f * t3) * (1.0f / 6.0f);
	w[3] = t3 * (1.0f / 6.0f);
}

/* Cubic B-spline value from coefficients coef at (x, y, z); the caller
 * keeps 1 <= x < nx - 2 (and likewise y, z). The 16 rows of 4 taps are
 * 4-wide vectors, one accumulator per plane (independent chains), then a
 * dot product with the x weights. */
static inline float
interp_bspline(const float *coef, int nx, size_t sxy, float x, float y,
    float z)
{
	int i0 = (int)x, j0 = (int)y, k0 = (int)z, dy;
	float wx[4], wy[4], wz[4];
	const float *p;
	v4sf v0 = { 0, 0, 0, 0 }, v1 = v0, v2 = v0, v3 = v0, r, vs;

	bspline_w(x - (float)i0, wx);
	bspline_w(y - (float)j0, wy);
	bspline_w(z - (float)k0, wz);
	p = coef + (size_t)(k0 - 1) * sxy + (size_t)(j0 - 1) * nx + (i0 - 1);
	for (dy = 0; dy < 4; dy++) {
		const float *q = p + (size_t)dy * nx;

		memcpy(&r, q, sizeof(r));
		v0 += wy[dy] * r;
		memcpy(&r, q + sxy, sizeof(r));
		v1 += wy[dy] * r;
		memcpy(&r, q + 2 * sxy, sizeof(r));
		v2 += wy[dy] * r;
		memcpy(&r, q + 3 * sxy, sizeof(r));
		v3 += wy[dy] * r;
	}
	vs = wz[0] * v0 + wz[1] * v1 + wz[2] * v2 + wz[3] * v3;
	return vs[0] * wx[0] + vs[1] * wx[1] + vs[2] * wx[2] + vs[3] * wx[3];
}

/*
 * One pass over level L's samples against the moving image img (samples,
 * or B-spline coefficients when bspline) with the reference-voxel ->
 * moving-voxel map M. Per chunk: b = sum SD e, the cost, the number of
 * samples inside, and SD'SD (upper triangle) of those outside. Within a
 * chunk, BATCH samples are summed in float, batches in double.
 */
static void
accumulate(const struct level *L, const float *img, const double M[4][4],
    int bspline, double *acc)
{
	const float m00 = (float)M[0][0], m01 = (float)M[0][1];
	const float m02 = (float)M[0][2], m03 = (float)M[0][3];
	const float m10 = (float)M[1][0], m11 = (float)M[1][1];
	const float m12 = (float)M[1][2], m13 = (float)M[1][3];
	const float m20 = (float)M[2][0], m21 = (float)M[2][1];
	const float m22 = (float)M[2][2], m23 = (float)M[2][3];
	const int nx = L->nx;
	/* the taps must lie inside: [0, n-1) trilinear, [1, n-2) B-spline */
	const float lo = bspline ? 1.0f : 0.0f;
	const float hx = (float)(L->nx - (bspline ? 2 : 1));
	const float hy = (float)(L->ny - (bspline ? 2 : 1));
	const float hz = (float)(L->nz - (bspline ? 2 : 1));
	const size_t sxy = (size_t)L->nx * L->ny, ns = L->ns;
	const struct sample *smp = L->s;
	int ch;

#pragma omp parallel for schedule(static)
	for (ch = 0; ch < NCHUNK; ch++) {
		size_t s0 = ns * (size_t)ch / NCHUNK;
		size_t s1 = ns * (size_t)(ch + 1) / NCHUNK, sb;
		double b[6] = { 0, 0, 0, 0, 0, 0 }, cost = 0.0, nvalid = 0.0;
		double *a = acc + (size_t)ch * ACC;
		int r, q, t;

		memset(a, 0, ACC * sizeof(double));
		for (sb = s0; sb < s1; sb += BATCH) {
			size_t se = s1 - sb < BATCH ? s1 : sb + BATCH, s;
			float f[6] = { 0, 0, 0, 0, 0, 0 }, fc = 0.0f;

			for (s = sb; s < se; s++) {
				const struct sample *sp = &smp[s];
				float x = m00 * sp->i + m01 * sp->j +
				    m02 * sp->k + m03;
				float y = m10 * sp->i + m11 * sp->j +
				    m12 * sp->k + m13;
				float z = m20 * sp->i + m21 * sp->j +
				    m22 * sp->k + m23;
				float e;

				if (!(x >= lo && x < hx && y >= lo && y < hy &&
				    z >= lo && z < hz)) {
					/* outside: SD'SD leaves the Hessian */
					t = 8;
					for (r = 0; r < 6; r++)
						for (q = r; q < 6; q++)
							a[t++] += (double)sp->sd[r] *
							    sp->sd[q];
					continue;
				}
				e = (bspline ? interp_bspline(img, nx, sxy, x,
				    y, z) : interp_linear(img, nx, sxy, x, y,
				    z)) - sp->r;
				for (r = 0; r < 6; r++)
					f[r] += sp->sd[r] * e;
				fc += e * e;
				nvalid += 1.0;
			}
			for (r = 0; r < 6; r++)
				b[r] += f[r];
			cost += fc;
		}
		for (r = 0; r < 6; r++)
			a[r] = b[r];
		a[6] = cost;
		a[7] = nvalid;
	}
}

struct iter_state {
	double trans[3], rot[3];
	int iters, converged, nvalid;
	double rms;
};

/* Gauss-Newton iterations on one level, until an update moves points by
 * less than tol. max_step > 0: give up (not converged) when the first
 * update is larger than that. RET: RTC_OK or RTC_ERR_FORMAT. */
static int
iterate(struct rtc_motion *m, const struct level *L, const float *img,
    int bspline, const double avinv[4][4], double tol, double max_step,
    struct iter_state *st)
{
	double tot[ACC];
	int it, ch, r, q, t;

	st->converged = 0;
	for (it = 0; it < m->o.max_iter; it++) {
		double T[4][4], M[4][4], H[6][6], b[6], d[6], step;

		rtc_motion_params_to_matrix(st->trans, st->rot, m->c, T);
		/* M = S^-1 . A_vol^-1 . T . A_ref . S */
		rtc_affine_mul(T, L->aref, M);
		rtc_affine_mul(avinv, M, M);
		rtc_affine_mul(L->Sinv, M, M);
		accumulate(L, img, M, bspline, m->acc);
		memset(tot, 0, sizeof(tot));
		for (ch = 0; ch < NCHUNK; ch++)
			for (q = 0; q < ACC; q++)
				tot[q] += m->acc[(size_t)ch * ACC + q];
		st->iters++;
		if (tot[7] < MIN_SAMPLES || !isfinite(tot[6]))
			return RTC_ERR_FORMAT;
		memcpy(H, L->H, sizeof(H));
		t = 8;
		for (r = 0; r < 6; r++)
			for (q = r; q < 6; q++) {
				H[r][q] -= tot[t];
				if (q != r)
					H[q][r] -= tot[t];
				t++;
			}
		for (r = 0; r < 6; r++)
			b[r] = tot[r];
		if (solve6(H, b, d) != 0)
			return RTC_ERR_FORMAT;
		for (r = 0; r < 6; r++)
			if (!isfinite(d[r]))
				return RTC_ERR_FORMAT;
		compose_inverse(st->trans, st->rot, m->c, d);
		st->rms = sqrt(tot[6] / tot[7]);
		st->nvalid = (int)tot[7];
		step = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) +
		    50.0 * sqrt(d[3] * d[3] + d[4] * d[4] + d[5] * d[5]);
		if (step < tol) {
			st->converged = 1;
			break;
		}
		if (max_step > 0.0 && it == 0 && step > max_step)
			break;
	}
	return RTC_OK;
}

int
rtc_motion_register(struct rtc_motion *m, const float *vol,
    const double affine[4][4], struct rtc_motion_result *out)
{
	struct iter_state st;
	double avinv[4][4];
	int l, r, rc, iters;
	const double (*av)[4] = affine != NULL ? affine :
	    (const double (*)[4])m->grid.affine;

	if (rtc_affine_invert(av, avinv) != RTC_OK)
		return RTC_ERR_FORMAT;
	if (m->sm != NULL) {
		rtc_smooth_apply(m->sm, vol, m->svol);
		vol = m->svol;
	}
	if (m->o.final_bspline) {
		memcpy(m->scratch, vol, rtc_grid_nvox(&m->grid) * sizeof(float));
		rtc_interp_bspline_coeffs(m->scratch, m->grid.nx, m->grid.ny,
		    m->grid.nz);
	}
	memset(&st, 0, sizeof(st));
	memcpy(st.trans, m->trans, sizeof(st.trans));
	memcpy(st.rot, m->rot, sizeof(st.rot));
	/* warm path: the previous estimate is usually within a fraction of
	 * a millimetre, inside the fine stage's capture range */
	if (m->have_prev && m->o.final_bspline) {
		rc = iterate(m, &m->fin, m->scratch, 1, avinv, m->o.tol_mm,
		    WARM_MAX_STEP_MM, &st);
		if (rc == RTC_OK && st.converged)
			goto done;
		iters = st.iters;
		memset(&st, 0, sizeof(st));
		st.iters = iters;
		memcpy(st.trans, m->trans, sizeof(st.trans));
		memcpy(st.rot, m->rot, sizeof(st.rot));
	}
	/* moving pyramid */
	for (l = 1; l < m->nlev; l++) {
		const struct level *P = &m->lev[l - 1];
		struct level *L = &m->lev[l];

		downsample(l == 1 ? vol : P->mov, P->nx, P->ny, P->nz,
		    P->nx / L->nx, P->ny / L->ny, P->nz / L->nz, L->mov);
	}
	/* coarse to fine; with the B-spline stage the trilinear levels only
	 * bring the estimate into its capture range (their optimum is biased,
	 * see the header), so they stop early and level 0 is left to it */
	for (l = m->nlev - 1; l >= 0; l--) {
		double tol = m->o.tol_mm * (double)(1 << l);

		if (m->o.final_bspline) {
			if (l == 0 && m->nlev > 1)
				break;
			tol = COARSE_TOL_MM * (double)(1 << l);
		}
		rc = iterate(m, &m->lev[l], l == 0 ? vol : m->lev[l].mov, 0,
		    avinv, tol, 0.0, &st);
		if (rc != RTC_OK)
			return rc;
	}
	if (m->o.final_bspline) {
		rc = iterate(m, &m->fin, m->scratch, 1, avinv, m->o.tol_mm, 0.0,
		    &st);
		if (rc != RTC_OK)
			return rc;
	}
done:
	for (r = 0; r < 3; r++)
		if (!isfinite(st.trans[r]) || !isfinite(st.rot[r]))
			return RTC_ERR_FORMAT;
	memcpy(out->trans, st.trans, sizeof(st.trans));
	memcpy(out->rot, st.rot, sizeof(st.rot));
	rtc_motion_params_to_matrix(st.trans, st.rot, m->c, out->matrix);
	out->fd = m->have_prev ? rtc_motion_fd(st.trans, st.rot, m->prev_trans,
	    m->prev_rot, m->o.fd_radius_mm) : 0.0;
	out->rms = st.rms;
	out->iterations = st.iters;
	out->converged = st.converged;
	out->nsamples = st.nvalid;
	memcpy(m->trans, st.trans, sizeof(st.trans));
	memcpy(m->rot, st.rot, sizeof(st.rot));
	memcpy(m->prev_trans, st.trans, sizeof(st.trans));
	memcpy(m->prev_rot, st.rot, sizeof(st.rot));
	m->have_prev = 1;
	return RTC_OK;
}

int
rtc_motion_reslice(struct rtc_motion *m, const float *vol,
    const double affine[4][4], const struct rtc_motion_result *res,
    enum rtc_interp interp, float *out)
{
	struct rtc_grid src = m->grid;
	const float *img = vol;

	if (affine != NULL)
		memcpy(src.affine, affine, sizeof(src.affine));
	if (interp == RTC_INTERP_BSPLINE) {
		memcpy(m->scratch, vol, rtc_grid_nvox(&m->grid) * sizeof(float));
		rtc_interp_bspline_coeffs(m->scratch, src.nx, src.ny, src.nz);
		img = m->scratch;
	} else
		interp = RTC_INTERP_LINEAR;
	return rtc_interp_resample_rows(img, &src, &m->grid, res->matrix,
	    interp, 0.0f, m->rows, out);
}
