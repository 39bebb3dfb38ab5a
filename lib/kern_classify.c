/*
 * kern_classify: feature gathering, normalisation, decision values, and
 * dual coordinate descent on a Gram matrix kept up to date one labelled
 * volume at a time.
 *
 * Memory made once by the constructors: the feature index list, the
 * current normalised feature vector, the weights, per-voxel running
 * moments (RUNNING), and for online training the sample store
 * (max_samples x features floats), labels, the Gram matrix (max_samples^2
 * doubles) and the solver's vectors. Nothing is allocated per volume.
 *
 * Sums over features use NCHUNK fixed chunks added in order, so values do
 * not depend on the number of threads.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kern_classify.h"

#define NCHUNK 32
#define PAR_MIN 8192

struct rtc_clf {
	struct rtc_grid g;
	struct rtc_clf_opts o;
	int online;
	size_t nf;
	uint32_t *idx;
	float *x;                 /* normalised features of this volume */
	float *w;                 /* weights */
	double b;
	int ready;
	double *rmean, *rm2;      /* RUNNING */
	long rcount;
	/* online */
	float *store;             /* max_samples * nf */
	signed char *y;           /* +1 / -1 */
	double *K;                /* Gram (+1 bias), max_samples^2 */
	double *alpha;            /* 2 * max_samples */
	double *f;                /* Q alpha */
	int ns, head;
	double gscale;            /* 1 / features: Gram of unit-scale data */
	int blocks, prev_label, epochs;
	double part[NCHUNK], part2[NCHUNK];
};

void
rtc_clf_opts_init(struct rtc_clf_opts *o)
{
	o->norm = RTC_CLF_NORM_VOLUME;
	o->loss = RTC_CLF_LOGISTIC;
	o->C = 1.0;
	o->train_after_blocks = 4;
	o->retrain = 1;
	o->max_samples = 400;
	o->max_epochs = 200;
	o->tol = 0.1;
}

static int
opts_check(const struct rtc_clf_opts *o, char **cause)
{
	if ((o->norm != RTC_CLF_NORM_NONE && o->norm != RTC_CLF_NORM_VOLUME &&
	    o->norm != RTC_CLF_NORM_RUNNING) ||
	    (o->loss != RTC_CLF_LOGISTIC && o->loss != RTC_CLF_SVM) ||
	    !(o->C > 0.0 && o->C <= 1e6) || o->train_after_blocks < 1 ||
	    o->train_after_blocks > 100000 || o->max_samples < 2 ||
	    o->max_samples > RTC_CLF_MAX_SAMPLES || o->max_epochs < 1 ||
	    o->max_epochs > 100000 || !(o->tol > 0.0 && o->tol < 1.0)) {
		rtc_cause_set(cause, "classifier: options out of range "
		    "(C in (0, 1e6], train_after_blocks >= 1, max_samples "
		    "2..%d, max_epochs 1..100000, tol in (0, 1))",
		    RTC_CLF_MAX_SAMPLES);
		return RTC_ERR_INVAL;
	}
	return RTC_OK;
}

static int
common_new(const struct rtc_grid *g, const uint8_t *sel, const float *wsel,
    const struct rtc_clf_opts *o, struct rtc_clf **cp, char **cause)
{
	struct rtc_clf *c;
	struct rtc_clf_opts def;
	size_t nvox, v, n = 0;
	int rc;

	if ((rc = rtc_grid_check(g, cause)) != RTC_OK)
		return rc;
	if (o == NULL) {
		rtc_clf_opts_init(&def);
		o = &def;
	}
	if ((rc = opts_check(o, cause)) != RTC_OK)
		return rc;
	nvox = rtc_grid_nvox(g);
	for (v = 0; v < nvox; v++)
		n += sel != NULL ? sel[v] != 0 : wsel[v] != 0.0f;
	if (n == 0) {
		rtc_cause_set(cause, "classifier: no feature voxel");
		return RTC_ERR_INVAL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto nomem;
	c->g = *g;
	c->o = *o;
	c->nf = n;
	c->idx = malloc(n * sizeof(*c->idx));
	c->x = malloc(n * sizeof(float));
	c->w = calloc(n, sizeof(float));
	if (c->idx == NULL || c->x == NULL || c->w == NULL)
		goto nomem;
	n = 0;
	for (v = 0; v < nvox; v++)
		if (sel != NULL ? sel[v] != 0 : wsel[v] != 0.0f)
			c->idx[n++] = (uint32_t)v;
	if (o->norm == RTC_CLF_NORM_RUNNING) {
		c->rmean = calloc(c->nf, sizeof(double));
		c->rm2 = calloc(c->nf, sizeof(double));
		if (c->rmean == NULL || c->rm2 == NULL)
			goto nomem;
	}
	c->prev_label = -1;
	*cp = c;
	return RTC_OK;
nomem:
	rtc_clf_free(c);
	rtc_cause_set(cause, "classifier: out of memory");
	return RTC_ERR_NOMEM;
}

int
rtc_clf_new_linear(const struct rtc_grid *g, const float *weights,
    double bias, const uint8_t *mask, const struct rtc_clf_opts *o,
    struct rtc_clf **cp, char **cause)
{
	struct rtc_clf *c = NULL;
	size_t nvox = rtc_grid_nvox(g), v;
	int rc;

	if (!isfinite(bias)) {
		rtc_cause_set(cause, "classifier: the bias is not finite");
		return RTC_ERR_INVAL;
	}
	for (v = 0; v < nvox; v++)
		if (!isfinite(weights[v]) && (mask == NULL || mask[v])) {
			rtc_cause_set(cause, "classifier: a weight is not "
			    "finite");
			return RTC_ERR_INVAL;
		}
	if ((rc = common_new(g, mask, weights, o, &c, cause)) != RTC_OK)
		return rc;
	for (v = 0; v < c->nf; v++)
		c->w[v] = weights[c->idx[v]];
	c->b = bias;
	c->ready = 1;
	*cp = c;
	return RTC_OK;
}

int
rtc_clf_new_online(const struct rtc_grid *g, const uint8_t *mask,
    const struct rtc_clf_opts *o, struct rtc_clf **cp, char **cause)
{
	struct rtc_clf *c = NULL;
	size_t ms;
	int rc;

	if (mask == NULL) {
		rtc_cause_set(cause, "classifier: online training needs a "
		    "mask");
		return RTC_ERR_INVAL;
	}
	if ((rc = common_new(g, mask, NULL, o, &c, cause)) != RTC_OK)
		return rc;
	ms = (size_t)c->o.max_samples;
	if (c->nf > RTC_CLF_MAX_STORE / ms) {
		rtc_cause_set(cause, "classifier: %zu features x %zu samples "
		    "is over the %zu-value limit: use a smaller mask or "
		    "max_samples", c->nf, ms, RTC_CLF_MAX_STORE);
		rtc_clf_free(c);
		return RTC_ERR_TOO_BIG;
	}
	c->online = 1;
	c->gscale = 1.0 / (double)c->nf;
	c->store = malloc(ms * c->nf * sizeof(float));
	c->y = calloc(ms, 1);
	c->K = calloc(ms * ms, sizeof(double));
	c->alpha = calloc(2 * ms, sizeof(double));
	c->f = calloc(ms, sizeof(double));
	if (c->store == NULL || c->y == NULL || c->K == NULL ||
	    c->alpha == NULL || c->f == NULL) {
		rtc_clf_free(c);
		rtc_cause_set(cause, "classifier: out of memory");
		return RTC_ERR_NOMEM;
	}
	*cp = c;
	return RTC_OK;
}

void
rtc_clf_free(struct rtc_clf *c)
{
	if (c == NULL)
		return;
	free(c->idx);
	free(c->x);
	free(c->w);
	free(c->rmean);
	free(c->rm2);
	free(c->store);
	free(c->y);
	free(c->K);
	free(c->alpha);
	free(c->f);
	free(c);
}

void
rtc_clf_reset(struct rtc_clf *c)
{
	if (c->rmean != NULL) {
		memset(c->rmean, 0, c->nf * sizeof(double));
		memset(c->rm2, 0, c->nf * sizeof(double));
	}
	c->rcount = 0;
	c->ns = c->head = 0;
	c->blocks = 0;
	c->prev_label = -1;
	c->epochs = 0;
	if (c->online) {
		memset(c->w, 0, c->nf * sizeof(float));
		c->b = 0.0;
		c->ready = 0;
	}
}

size_t
rtc_clf_nfeatures(const struct rtc_clf *c)
{
	return c->nf;
}

/* Gather and normalise this volume's features into c->x. */
static void
features(struct rtc_clf *c, const float *vol)
{
	const size_t nf = c->nf;
	double s = 0.0, ss = 0.0, mean, sd;
	int ch;

#pragma omp parallel for schedule(static) if (nf >= PAR_MIN)
	for (ch = 0; ch < NCHUNK; ch++) {
		size_t a = nf * (size_t)ch / NCHUNK;
		size_t b = nf * (size_t)(ch + 1) / NCHUNK, i;
		double ps = 0.0, pss = 0.0;

		for (i = a; i < b; i++) {
			float v = vol[c->idx[i]];

			if (!isfinite(v))
				v = 0.0f;
			c->x[i] = v;
			ps += v;
			pss += (double)v * v;
		}
		c->part[ch] = ps;
		c->part2[ch] = pss;
	}
	if (c->o.norm == RTC_CLF_NORM_VOLUME) {
		for (ch = 0; ch < NCHUNK; ch++) {
			s += c->part[ch];
			ss += c->part2[ch];
		}
		mean = s / (double)nf;
		sd = nf > 1 ? (ss - s * mean) / (double)(nf - 1) : 0.0;
		sd = sd > 0.0 ? sqrt(sd) : 0.0;
		{
			const float fm = (float)mean;
			const float inv = sd > 0.0 ? (float)(1.0 / sd) : 0.0f;
			size_t i;

#pragma omp parallel for schedule(static) if (nf >= PAR_MIN)
			for (i = 0; i < nf; i++)
				c->x[i] = (c->x[i] - fm) * inv;
		}
	} else if (c->o.norm == RTC_CLF_NORM_RUNNING) {
		const double n = (double)++c->rcount;
		size_t i;

#pragma omp parallel for schedule(static) if (nf >= PAR_MIN)
		for (i = 0; i < nf; i++) {
			double v = c->x[i], d = v - c->rmean[i], var;

			c->rmean[i] += d / n;
			c->rm2[i] += d * (v - c->rmean[i]);
			var = n > 1.0 ? c->rm2[i] / (n - 1.0) : 0.0;
			c->x[i] = var > 0.0 ? (float)((v - c->rmean[i]) /
			    sqrt(var)) : 0.0f;
		}
	}
}

static double
decision(struct rtc_clf *c)
{
	const size_t nf = c->nf;
	double d = c->b;
	int ch;

#pragma omp parallel for schedule(static) if (nf >= PAR_MIN)
	for (ch = 0; ch < NCHUNK; ch++) {
		size_t a = nf * (size_t)ch / NCHUNK;
		size_t b = nf * (size_t)(ch + 1) / NCHUNK, i;
		double s = 0.0;

		for (i = a; i < b; i++)
			s += (double)c->w[i] * c->x[i];
		c->part[ch] = s;
	}
	for (ch = 0; ch < NCHUNK; ch++)
		d += c->part[ch];
	return d;
}

static double
dot(const float *a, const float *b, size_t n)
{
	double s = 0.0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

/* Store c->x as a sample with label y (+1/-1); update the Gram matrix. */
static void
store_sample(struct rtc_clf *c, int y)
{
	const size_t ms = (size_t)c->o.max_samples, nf = c->nf;
	const int slot = c->head;
	float *xs = c->store + (size_t)slot * nf;
	int j, n;

	memcpy(xs, c->x, nf * sizeof(float));
	c->y[slot] = (signed char)y;
	/* the solvers start from the last solution; a new sample starts at
	 * the usual initial point */
	if (c->o.loss == RTC_CLF_LOGISTIC) {
		double a0 = 0.001 * c->o.C < 1e-8 ? 0.001 * c->o.C : 1e-8;

		c->alpha[2 * slot] = a0;
		c->alpha[2 * slot + 1] = c->o.C - a0;
	} else
		c->alpha[slot] = 0.0;
	if (c->ns < c->o.max_samples)
		c->ns++;
	c->head = (c->head + 1) % c->o.max_samples;
	n = c->ns;
#pragma omp parallel for schedule(static) if (nf * (size_t)n >= PAR_MIN)
	for (j = 0; j < n; j++) {
		double k = c->gscale * dot(xs, c->store + (size_t)j * nf, nf) +
		    1.0;

		c->K[(size_t)slot * ms + j] = k;
		c->K[(size_t)j * ms + slot] = k;
	}
}

static int
solve_svm(struct rtc_clf *c)
{
	const size_t ms = (size_t)c->o.max_samples;
	const int n = c->ns;
	const double D = 1.0 / (2.0 * c->o.C);
	int i, j, ep;

	/* f = Q alpha from the warm start */
	for (j = 0; j < n; j++) {
		double sum = 0.0;

		for (i = 0; i < n; i++)
			sum += c->alpha[i] * c->y[i] * c->K[(size_t)j * ms + i];
		c->f[j] = c->y[j] * sum;
	}
	for (ep = 0; ep < c->o.max_epochs; ep++) {
		double pgmax = -INFINITY, pgmin = INFINITY;

		for (i = 0; i < n; i++) {
			const double *Ki = c->K + (size_t)i * ms;
			double G = c->f[i] - 1.0 + D * c->alpha[i], pg, na, d;

			pg = c->alpha[i] == 0.0 ? (G < 0.0 ? G : 0.0) : G;
			if (pg > pgmax)
				pgmax = pg;
			if (pg < pgmin)
				pgmin = pg;
			if (fabs(pg) < 1e-12)
				continue;
			na = c->alpha[i] - G / (Ki[i] + D);
			if (na < 0.0)
				na = 0.0;
			d = na - c->alpha[i];
			c->alpha[i] = na;
			for (j = 0; j < n; j++)
				c->f[j] += d * c->y[i] * c->y[j] * Ki[j];
		}
		if (pgmax - pgmin < c->o.tol)
			return ep + 1;
	}
	return c->o.max_epochs;
}

static int
solve_logistic(struct rtc_clf *c)
{
	const size_t ms = (size_t)c->o.max_samples;
	const int n = c->ns;
	const double C = c->o.C, eps = c->o.tol;
	const double innereps_min = eps < 1e-8 ? eps : 1e-8;
	double innereps = 1e-2, *al = c->alpha;
	int i, j, ep;

	/* f = Q alpha from the warm start (alpha_i = al[2i]) */
	for (j = 0; j < n; j++) {
		double s = 0.0;

		for (i = 0; i < n; i++)
			s += al[2 * i] * c->y[i] * c->K[(size_t)j * ms + i];
		c->f[j] = c->y[j] * s;
	}
	for (ep = 0; ep < c->o.max_epochs; ep++) {
		double gmax = 0.0;
		int newton = 0;

		for (i = 0; i < n; i++) {
			const double *Ki = c->K + (size_t)i * ms;
			double a = Ki[i], b = c->f[i], z, gp, old, d;
			int ind1 = 2 * i, ind2 = 2 * i + 1, inner = 0;
			double sign = 1.0;

			if (0.5 * a * (al[ind2] - al[ind1]) + b < 0.0) {
				ind1 = 2 * i + 1;
				ind2 = 2 * i;
				sign = -1.0;
			}
			old = al[ind1];
			/* convergence: the gradient at the current point */
			gp = sign * b + log(old / (C - old));
			if (fabs(gp) > gmax)
				gmax = fabs(gp);
			z = old;
			if (C - z < 0.5 * C)
				z *= 0.1;
			gp = a * (z - old) + sign * b + log(z / (C - z));
			while (inner <= 100) {
				double gpp, tz;

				if (fabs(gp) < innereps)
					break;
				gpp = a + C / (C - z) / z;
				tz = z - gp / gpp;
				z = tz <= 0.0 ? z * 0.1 : tz;
				gp = a * (z - old) + sign * b +
				    log(z / (C - z));
				newton++;
				inner++;
			}
			if (inner == 0)
				continue;
			al[ind1] = z;
			al[ind2] = C - z;
			d = sign * (z - old);   /* change of alpha_i */
			for (j = 0; j < n; j++)
				c->f[j] += d * c->y[i] * c->y[j] * Ki[j];
		}
		if (gmax < eps)
			return ep + 1;
		if (newton <= n / 10)
			innereps = innereps_min > 0.1 * innereps ?
			    innereps_min : 0.1 * innereps;
	}
	/* alpha_i = al[2i] from here on */
	return c->o.max_epochs;
}

int
rtc_clf_train(struct rtc_clf *c)
{
	const size_t nf = c->nf;
	const int n = c->ns;
	int i, pos = 0, neg = 0, logistic;
	size_t k;
	double b = 0.0;

	if (!c->online)
		return RTC_ERR_INVAL;
	for (i = 0; i < n; i++) {
		pos += c->y[i] > 0;
		neg += c->y[i] < 0;
	}
	if (pos == 0 || neg == 0)
		return RTC_ERR_AGAIN;
	logistic = c->o.loss == RTC_CLF_LOGISTIC;
	c->epochs = logistic ? solve_logistic(c) : solve_svm(c);
	/* coefficient of sample i: alpha_i y_i */
	for (i = 0; i < n; i++) {
		double a = logistic ? c->alpha[2 * i] : c->alpha[i];

		c->f[i] = a * c->y[i];
		b += c->f[i];
	}
#pragma omp parallel for schedule(static) if (nf * (size_t)n >= PAR_MIN)
	for (k = 0; k < nf; k++) {
		double s = 0.0;
		int q;

		for (q = 0; q < n; q++)
			s += c->f[q] * c->store[(size_t)q * nf + k];
		c->w[k] = (float)(c->gscale * s);
	}
	c->b = b;
	c->ready = 1;
	return RTC_OK;
}

int
rtc_clf_update(struct rtc_clf *c, const float *vol, int label,
    struct rtc_clf_result *out)
{
	int trained = 0;

	if (label < -1 || label > 1)
		return RTC_ERR_INVAL;
	if (c->prev_label >= 0 && label != c->prev_label) {
		c->blocks++;
		if (c->online && c->blocks >= c->o.train_after_blocks &&
		    (!c->ready || c->o.retrain))
			trained = rtc_clf_train(c) == RTC_OK;
	}
	c->prev_label = label;
	features(c, vol);
	out->decision = c->ready ? decision(c) : 0.0;
	out->prob = c->ready && c->o.loss == RTC_CLF_LOGISTIC ?
	    1.0 / (1.0 + exp(-out->decision)) : 0.5;
	if (c->online && label >= 0)
		store_sample(c, label == 1 ? 1 : -1);
	out->ready = c->ready;
	out->trained = trained;
	out->nsamples = c->ns;
	out->blocks = c->blocks;
	out->epochs = c->epochs;
	return RTC_OK;
}

int
rtc_clf_weights(const struct rtc_clf *c, float *w, double *bias)
{
	size_t k;

	if (!c->ready)
		return RTC_ERR_AGAIN;
	memset(w, 0, rtc_grid_nvox(&c->g) * sizeof(float));
	for (k = 0; k < c->nf; k++)
		w[c->idx[k]] = c->w[k];
	*bias = c->b;
	return RTC_OK;
}
