/*
 * kern_glm: cumulative least squares per voxel.
 *
 * Storage is structure-of-arrays over the mask's voxels: xty[j * nm + v]
 * and yty[v], so the per-volume update is p streaming multiply-adds that
 * vectorise. Contrasts work on blocks of BLOCK voxels with the block's z
 * vectors on the stack. X'X is tiny and shared; its factor is rebuilt on
 * every rtc_glm_compute() call (O(p^3), microseconds), which keeps the
 * update path trivial and makes every answer the exact least-squares fit
 * of all volumes so far.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kern_glm.h"

#define P RTC_GLM_MAX_REG
#define BLOCK 32
#define DROP_TOL 1e-9

struct rtc_glm {
	struct rtc_grid g;
	int p, nobs;
	size_t nvox, nm;
	uint32_t *idx;            /* mask voxel -> grid index */
	double *xty;              /* p * nm */
	double *yty;              /* nm */
	double xtx[P][P];
	double L[P][P];
	int keep[P], rank;
	size_t nan_voxels;
};

int
rtc_glm_new(const struct rtc_grid *g, const uint8_t *mask, int nreg,
    struct rtc_glm **gp, char **cause)
{
	struct rtc_glm *m;
	size_t v, n;
	int rc;

	if ((rc = rtc_grid_check(g, cause)) != RTC_OK)
		return rc;
	if (nreg < 1 || nreg > RTC_GLM_MAX_REG) {
		rtc_cause_set(cause, "glm: %d regressors (1..%d)", nreg,
		    RTC_GLM_MAX_REG);
		return RTC_ERR_INVAL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto nomem;
	m->g = *g;
	m->p = nreg;
	m->nvox = rtc_grid_nvox(g);
	n = 0;
	for (v = 0; v < m->nvox; v++)
		n += mask == NULL || mask[v] != 0;
	if (n == 0) {
		rtc_cause_set(cause, "glm: the mask is empty");
		rtc_glm_free(m);
		return RTC_ERR_INVAL;
	}
	m->nm = n;
	m->idx = malloc(n * sizeof(*m->idx));
	m->xty = calloc(n * (size_t)nreg, sizeof(double));
	m->yty = calloc(n, sizeof(double));
	if (m->idx == NULL || m->xty == NULL || m->yty == NULL)
		goto nomem;
	n = 0;
	for (v = 0; v < m->nvox; v++)
		if (mask == NULL || mask[v] != 0)
			m->idx[n++] = (uint32_t)v;
	*gp = m;
	return RTC_OK;
nomem:
	rtc_glm_free(m);
	rtc_cause_set(cause, "glm: out of memory");
	return RTC_ERR_NOMEM;
}

void
rtc_glm_free(struct rtc_glm *m)
{
	if (m == NULL)
		return;
	free(m->idx);
	free(m->xty);
	free(m->yty);
	free(m);
}

void
rtc_glm_reset(struct rtc_glm *m)
{
	memset(m->xty, 0, m->nm * (size_t)m->p * sizeof(double));
	memset(m->yty, 0, m->nm * sizeof(double));
	memset(m->xtx, 0, sizeof(m->xtx));
	m->nobs = 0;
	m->nan_voxels = 0;
}

int
rtc_glm_nobs(const struct rtc_glm *m)
{
	return m->nobs;
}

size_t
rtc_glm_nonfinite(const struct rtc_glm *m)
{
	return m->nan_voxels;
}

int
rtc_glm_add(struct rtc_glm *m, const double *x, const float *vol)
{
	const int p = m->p;
	const size_t nm = m->nm, nblk = (nm + BLOCK - 1) / BLOCK;
	size_t nan = 0;
	long blk;
	int r, c;

	for (r = 0; r < p; r++)
		if (!isfinite(x[r]))
			return RTC_ERR_INVAL;
	for (r = 0; r < p; r++)
		for (c = r; c < p; c++)
			m->xtx[r][c] += x[r] * x[c];
#pragma omp parallel for schedule(static) reduction(+:nan)
	for (blk = 0; blk < (long)nblk; blk++) {
		size_t v0 = (size_t)blk * BLOCK, nb = nm - v0 < BLOCK ?
		    nm - v0 : BLOCK, b;
		double yb[BLOCK];
		int j;

		for (b = 0; b < nb; b++) {
			float y = vol[m->idx[v0 + b]];

			if (!isfinite(y)) {
				y = 0.0f;
				nan++;
			}
			yb[b] = y;
		}
		for (b = 0; b < nb; b++)
			m->yty[v0 + b] += yb[b] * yb[b];
		for (j = 0; j < p; j++) {
			double xj = x[j], *d = m->xty + (size_t)j * nm + v0;

#pragma omp simd
			for (b = 0; b < nb; b++)
				d[b] += xj * yb[b];
		}
	}
	m->nan_voxels += nan;
	m->nobs++;
	return RTC_OK;
}

/* Cholesky of X'X, dropping columns that depend on earlier ones. */
static void
factor(struct rtc_glm *m)
{
	const int p = m->p;
	int i, j, k;

	memset(m->L, 0, sizeof(m->L));
	m->rank = 0;
	for (j = 0; j < p; j++) {
		double a = m->xtx[j][j], s = a;

		for (k = 0; k < j; k++)
			s -= m->L[j][k] * m->L[j][k];
		if (!(a > 0.0) || !(s > DROP_TOL * a)) {
			m->keep[j] = 0;
			continue;
		}
		m->keep[j] = 1;
		m->rank++;
		m->L[j][j] = sqrt(s);
		for (i = j + 1; i < p; i++) {
			double t = m->xtx[j][i];      /* upper triangle */

			for (k = 0; k < j; k++)
				t -= m->L[i][k] * m->L[j][k];
			m->L[i][j] = t / m->L[j][j];
		}
	}
}

/* u = L^-1 c over kept columns (0 at dropped ones). */
static void
forward(const struct rtc_glm *m, const double *c, double *u)
{
	int j, k;

	for (j = 0; j < m->p; j++) {
		double s = c[j];

		if (!m->keep[j]) {
			u[j] = 0.0;
			continue;
		}
		for (k = 0; k < j; k++)
			s -= m->L[j][k] * u[k];
		u[j] = s / m->L[j][j];
	}
}

int
rtc_glm_compute(struct rtc_glm *m, const double *C, int ncon,
    float *const *tmaps, float *const *effects, double *dof_out,
    int *rank_out)
{
	double U[RTC_GLM_MAX_CON][P], unorm[RTC_GLM_MAX_CON], dof;
	const int p = m->p;
	const size_t nm = m->nm, nblk = (nm + BLOCK - 1) / BLOCK;
	int c, j, nonzero;
	long blk;

	if (ncon < 1 || ncon > RTC_GLM_MAX_CON)
		return RTC_ERR_INVAL;
	for (c = 0; c < ncon; c++) {
		nonzero = 0;
		for (j = 0; j < p; j++) {
			if (!isfinite(C[c * p + j]))
				return RTC_ERR_INVAL;
			nonzero |= C[c * p + j] != 0.0;
		}
		if (!nonzero)
			return RTC_ERR_INVAL;
	}
	if (m->nobs == 0)
		return RTC_ERR_AGAIN;
	factor(m);
	dof = (double)(m->nobs - m->rank);
	if (dof < 1.0)
		return RTC_ERR_AGAIN;
	for (c = 0; c < ncon; c++) {
		double s = 0.0;

		for (j = 0; j < p; j++)
			if (!m->keep[j] && C[c * p + j] != 0.0)
				return RTC_ERR_AGAIN;
		forward(m, C + c * p, U[c]);
		for (j = 0; j < p; j++)
			s += U[c][j] * U[c][j];
		unorm[c] = sqrt(s);
	}
	for (c = 0; c < ncon; c++) {
		if (tmaps != NULL && tmaps[c] != NULL)
			memset(tmaps[c], 0, m->nvox * sizeof(float));
		if (effects != NULL && effects[c] != NULL)
			memset(effects[c], 0, m->nvox * sizeof(float));
	}
#pragma omp parallel for schedule(static)
	for (blk = 0; blk < (long)nblk; blk++) {
		size_t v0 = (size_t)blk * BLOCK, nb = nm - v0 < BLOCK ?
		    nm - v0 : BLOCK, b;
		double z[P][BLOCK], rss[BLOCK];
		int jj, k, cc;

		for (b = 0; b < nb; b++)
			rss[b] = m->yty[v0 + b];
		for (jj = 0; jj < p; jj++) {
			const double *xty = m->xty + (size_t)jj * nm + v0;
			double inv;

			if (!m->keep[jj]) {
				for (b = 0; b < nb; b++)
					z[jj][b] = 0.0;
				continue;
			}
			for (b = 0; b < nb; b++)
				z[jj][b] = xty[b];
			for (k = 0; k < jj; k++) {
				double l = m->L[jj][k];

				if (l == 0.0)
					continue;
#pragma omp simd
				for (b = 0; b < nb; b++)
					z[jj][b] -= l * z[k][b];
			}
			inv = 1.0 / m->L[jj][jj];
#pragma omp simd
			for (b = 0; b < nb; b++) {
				z[jj][b] *= inv;
				rss[b] -= z[jj][b] * z[jj][b];
			}
		}
		for (cc = 0; cc < ncon; cc++) {
			for (b = 0; b < nb; b++) {
				double eff = 0.0, sd, t;
				uint32_t v = m->idx[v0 + b];

				for (jj = 0; jj < p; jj++)
					eff += U[cc][jj] * z[jj][b];
				sd = rss[b] > 0.0 ? sqrt(rss[b] / dof) : 0.0;
				t = sd > 0.0 ? eff / (sd * unorm[cc]) : 0.0;
				if (tmaps != NULL && tmaps[cc] != NULL)
					tmaps[cc][v] = (float)t;
				if (effects != NULL && effects[cc] != NULL)
					effects[cc][v] = (float)eff;
			}
		}
	}
	if (dof_out != NULL)
		*dof_out = dof;
	if (rank_out != NULL)
		*rank_out = m->rank;
	return RTC_OK;
}

int
rtc_glm_voxel_beta(struct rtc_glm *m, size_t v, double *beta,
    double *sigma2)
{
	double z[P], rss;
	size_t lo = 0, hi = m->nm, mid;
	int j, k;

	if (m->nobs == 0)
		return RTC_ERR_AGAIN;
	/* idx is sorted: binary search */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->idx[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= m->nm || m->idx[lo] != v)
		return RTC_ERR_INVAL;
	factor(m);
	rss = m->yty[lo];
	for (j = 0; j < m->p; j++) {
		double s;

		if (!m->keep[j]) {
			z[j] = 0.0;
			continue;
		}
		s = m->xty[(size_t)j * m->nm + lo];
		for (k = 0; k < j; k++)
			s -= m->L[j][k] * z[k];
		z[j] = s / m->L[j][j];
		rss -= z[j] * z[j];
	}
	for (j = m->p - 1; j >= 0; j--) {
		double s;

		if (!m->keep[j]) {
			beta[j] = 0.0;
			continue;
		}
		s = z[j];
		for (k = j + 1; k < m->p; k++)
			s -= m->L[k][j] * beta[k];
		beta[j] = s / m->L[j][j];
	}
	if (sigma2 != NULL)
		*sigma2 = m->nobs > m->rank ? (rss > 0.0 ? rss : 0.0) /
		    (double)(m->nobs - m->rank) : 0.0;
	return RTC_OK;
}

/* ---- design ---- */

#define NAME_MAX_LEN (RTC_EVENTS_MAX_NAME + 1)

struct rtc_design {
	struct rtc_design_opts o;
	const struct rtc_events *ev;
	int ncols, ndrift, nmotion, ntask;
	char names[P][NAME_MAX_LEN];
};

void
rtc_design_opts_init(struct rtc_design_opts *o)
{
	o->poly_order = 2;
	o->motion = 1;
	o->tr = 0.0;
	o->expected_volumes = 300;
	o->slice_ref = 0.0;
}

static const char *const motion_names[6] = {
	"trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"
};

int
rtc_design_new(const struct rtc_design_opts *o, const struct rtc_events *ev,
    struct rtc_design **dp, char **cause)
{
	struct rtc_design *d;
	int j, ntask = ev != NULL ? rtc_events_ncond(ev) : 0;

	if (o->poly_order < 0 || o->poly_order > 10 ||
	    o->expected_volumes < 2 || o->expected_volumes > 1000000 ||
	    !(o->slice_ref >= 0.0 && o->slice_ref <= 1.0)) {
		rtc_cause_set(cause, "design: poly_order 0..10, "
		    "expected_volumes 2..1000000, slice_ref 0..1");
		return RTC_ERR_INVAL;
	}
	if (ntask > 0 && !(o->tr > 0.0 && isfinite(o->tr) && o->tr < 1000.0)) {
		rtc_cause_set(cause, "design: task regressors need a TR > 0");
		return RTC_ERR_INVAL;
	}
	if (o->poly_order + 1 + (o->motion ? 6 : 0) + ntask > P) {
		rtc_cause_set(cause, "design: more than %d columns", P);
		return RTC_ERR_INVAL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		rtc_cause_set(cause, "design: out of memory");
		return RTC_ERR_NOMEM;
	}
	d->o = *o;
	d->ev = ev;
	d->ndrift = o->poly_order + 1;
	d->nmotion = o->motion ? 6 : 0;
	d->ntask = ntask;
	d->ncols = d->ndrift + d->nmotion + d->ntask;
	for (j = 0; j < d->ndrift; j++)
		snprintf(d->names[j], NAME_MAX_LEN, "drift%d", j);
	for (j = 0; j < d->nmotion; j++)
		snprintf(d->names[d->ndrift + j], NAME_MAX_LEN, "%s",
		    motion_names[j]);
	for (j = 0; j < ntask; j++)
		snprintf(d->names[d->ndrift + d->nmotion + j], NAME_MAX_LEN,
		    "%s", rtc_events_cond_name(ev, j));
	*dp = d;
	return RTC_OK;
}

void
rtc_design_free(struct rtc_design *d)
{
	free(d);
}

int
rtc_design_ncols(const struct rtc_design *d)
{
	return d->ncols;
}

const char *
rtc_design_col_name(const struct rtc_design *d, int j)
{
	return j >= 0 && j < d->ncols ? d->names[j] : NULL;
}

int
rtc_design_col_index(const struct rtc_design *d, const char *name)
{
	int j;

	for (j = 0; j < d->ncols; j++)
		if (strcmp(d->names[j], name) == 0)
			return j;
	return -1;
}

void
rtc_design_row(const struct rtc_design *d, int vol, const double motion[6],
    double *row)
{
	double tau = 2.0 * vol / (double)(d->o.expected_volumes - 1) - 1.0;
	double pm1 = 1.0, pk = tau;
	int j, k;

	row[0] = 1.0;
	if (d->ndrift > 1)
		row[1] = tau;
	for (k = 1; k + 1 < d->ndrift; k++) {
		double next = ((2.0 * k + 1.0) * tau * pk - k * pm1) / (k + 1.0);

		pm1 = pk;
		pk = next;
		row[k + 1] = next;
	}
	for (j = 0; j < d->nmotion; j++)
		row[d->ndrift + j] = motion != NULL ? motion[j] : 0.0;
	for (j = 0; j < d->ntask; j++)
		row[d->ndrift + d->nmotion + j] = rtc_events_regressor(d->ev,
		    j, ((double)vol + d->o.slice_ref) * d->o.tr);
}

static int
name_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == ':';
}

int
rtc_design_contrast(const struct rtc_design *d, const char *spec, double *c,
    char **cause)
{
	double w[P];
	size_t len, pos = 0;
	int first = 1, j;

	if (spec == NULL || (len = strnlen(spec, 1025)) > 1024) {
		rtc_cause_set(cause, "contrast: missing or over 1024 bytes");
		return RTC_ERR_INVAL;
	}
	memset(w, 0, sizeof(w));
	for (;;) {
		double sign = 1.0, coef = 1.0;
		char name[NAME_MAX_LEN];
		size_t n0;

		while (pos < len && isspace((unsigned char)spec[pos]))
			pos++;
		if (pos == len) {
			if (first) {
				rtc_cause_set(cause, "contrast: empty");
				return RTC_ERR_INVAL;
			}
			break;
		}
		if (spec[pos] == '+' || spec[pos] == '-') {
			sign = spec[pos] == '-' ? -1.0 : 1.0;
			pos++;
		} else if (!first) {
			rtc_cause_set(cause, "contrast: expected + or - at "
			    "offset %zu", pos);
			return RTC_ERR_INVAL;
		}
		while (pos < len && isspace((unsigned char)spec[pos]))
			pos++;
		if (pos < len && (isdigit((unsigned char)spec[pos]) ||
		    spec[pos] == '.')) {
			char num[64], *end;
			size_t k = 0;

			while (pos < len && k + 1 < sizeof(num) &&
			    (isdigit((unsigned char)spec[pos]) ||
			    spec[pos] == '.' || spec[pos] == 'e' ||
			    spec[pos] == 'E' || ((spec[pos] == '-' ||
			    spec[pos] == '+') && k > 0 &&
			    (num[k - 1] == 'e' || num[k - 1] == 'E'))))
				num[k++] = spec[pos++];
			num[k] = '\0';
			errno = 0;
			coef = strtod(num, &end);
			if (errno != 0 || *end != '\0' || !isfinite(coef)) {
				rtc_cause_set(cause, "contrast: bad number "
				    "before offset %zu", pos);
				return RTC_ERR_INVAL;
			}
			while (pos < len && isspace((unsigned char)spec[pos]))
				pos++;
			if (pos < len && spec[pos] == '*')
				pos++;
			while (pos < len && isspace((unsigned char)spec[pos]))
				pos++;
		}
		n0 = pos;
		while (pos < len && name_char((unsigned char)spec[pos]))
			pos++;
		if (pos == n0 || pos - n0 >= NAME_MAX_LEN) {
			rtc_cause_set(cause, "contrast: expected a column name "
			    "at offset %zu", n0);
			return RTC_ERR_INVAL;
		}
		memcpy(name, spec + n0, pos - n0);
		name[pos - n0] = '\0';
		j = rtc_design_col_index(d, name);
		if (j < 0) {
			rtc_cause_set(cause, "contrast: no column named %s",
			    name);
			return RTC_ERR_INVAL;
		}
		w[j] += sign * coef;
		first = 0;
	}
	memcpy(c, w, (size_t)d->ncols * sizeof(double));
	return RTC_OK;
}
