/*
 * kern_roi: each ROI is a sorted list of voxel indices. Means are double
 * sums; ROIs of 16384 voxels or more are summed over NCHUNK fixed chunks
 * in parallel and the chunk sums added in order. History per ROI is a
 * ring buffer when a window is set, running sums otherwise (Welford for
 * the z-score's variance).
 */
#include "rtc_build.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kern_interp.h"
#include "kern_roi.h"

#define NCHUNK 32
#define PAR_MIN 16384

struct hist {
	int window;               /* 0: unbounded (running sums) */
	double *ring;             /* window values */
	int n, head;              /* values held, next slot */
	double sum, mean, m2;     /* running (window 0) */
	long count;
};

struct one_roi {
	uint32_t *idx;
	size_t n;
	struct hist base, all;
};

struct rtc_roi {
	struct rtc_grid g;
	struct rtc_roi_opts o;
	int nroi;
	struct one_roi *r;
	double part[NCHUNK], partn[NCHUNK];
};

void
rtc_roi_opts_init(struct rtc_roi_opts *o)
{
	o->baseline_window = 0;
	o->zscore_window = 0;
}

static void
hist_reset(struct hist *h)
{
	h->n = h->head = 0;
	h->sum = h->mean = h->m2 = 0.0;
	h->count = 0;
}

static void
hist_push(struct hist *h, double v)
{
	if (h->window > 0) {
		h->ring[h->head] = v;
		h->head = (h->head + 1) % h->window;
		if (h->n < h->window)
			h->n++;
		return;
	}
	h->count++;
	{
		double d = v - h->mean;

		h->mean += d / (double)h->count;
		h->m2 += d * (v - h->mean);
	}
	h->sum += v;
}

/* OUT: mean and sample sd of the history. RET: values held. */
static long
hist_stats(const struct hist *h, double *mean, double *sd)
{
	if (h->window > 0) {
		double s = 0.0, m, ss = 0.0;
		int i;

		if (h->n == 0)
			return 0;
		for (i = 0; i < h->n; i++)
			s += h->ring[i];
		m = s / h->n;
		for (i = 0; i < h->n; i++)
			ss += (h->ring[i] - m) * (h->ring[i] - m);
		*mean = m;
		*sd = h->n > 1 ? sqrt(ss / (h->n - 1)) : 0.0;
		return h->n;
	}
	if (h->count == 0)
		return 0;
	*mean = h->mean;
	*sd = h->count > 1 ? sqrt(h->m2 / (double)(h->count - 1)) : 0.0;
	return h->count;
}

int
rtc_roi_new(const struct rtc_grid *g, int nroi,
    const uint8_t *const *masks, const struct rtc_roi_opts *o,
    struct rtc_roi **rp, char **cause)
{
	struct rtc_roi *r;
	size_t nvox, v, n;
	int rc, i;

	if ((rc = rtc_grid_check(g, cause)) != RTC_OK)
		return rc;
	if (nroi < 1 || nroi > RTC_ROI_MAX) {
		rtc_cause_set(cause, "roi: %d ROIs (1..%d)", nroi, RTC_ROI_MAX);
		return RTC_ERR_INVAL;
	}
	if (o != NULL && (o->baseline_window < 0 || o->zscore_window < 0 ||
	    o->baseline_window > RTC_ROI_MAX_WINDOW ||
	    o->zscore_window > RTC_ROI_MAX_WINDOW)) {
		rtc_cause_set(cause, "roi: windows must be 0..%d volumes",
		    RTC_ROI_MAX_WINDOW);
		return RTC_ERR_INVAL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		goto nomem;
	r->g = *g;
	if (o != NULL)
		r->o = *o;
	else
		rtc_roi_opts_init(&r->o);
	r->nroi = nroi;
	r->r = calloc((size_t)nroi, sizeof(*r->r));
	if (r->r == NULL)
		goto nomem;
	nvox = rtc_grid_nvox(g);
	for (i = 0; i < nroi; i++) {
		struct one_roi *q = &r->r[i];

		n = 0;
		for (v = 0; v < nvox; v++)
			n += masks[i][v] != 0;
		if (n == 0) {
			rtc_cause_set(cause, "roi: ROI %d is empty", i + 1);
			rtc_roi_free(r);
			return RTC_ERR_INVAL;
		}
		q->idx = malloc(n * sizeof(*q->idx));
		if (q->idx == NULL)
			goto nomem;
		q->n = 0;
		for (v = 0; v < nvox; v++)
			if (masks[i][v])
				q->idx[q->n++] = (uint32_t)v;
		q->base.window = r->o.baseline_window;
		q->all.window = r->o.zscore_window;
		if (q->base.window > 0 && (q->base.ring = malloc(
		    (size_t)q->base.window * sizeof(double))) == NULL)
			goto nomem;
		if (q->all.window > 0 && (q->all.ring = malloc(
		    (size_t)q->all.window * sizeof(double))) == NULL)
			goto nomem;
	}
	rtc_roi_reset(r);
	*rp = r;
	return RTC_OK;
nomem:
	rtc_roi_free(r);
	rtc_cause_set(cause, "roi: out of memory");
	return RTC_ERR_NOMEM;
}

void
rtc_roi_free(struct rtc_roi *r)
{
	int i;

	if (r == NULL)
		return;
	if (r->r != NULL)
		for (i = 0; i < r->nroi; i++) {
			free(r->r[i].idx);
			free(r->r[i].base.ring);
			free(r->r[i].all.ring);
		}
	free(r->r);
	free(r);
}

void
rtc_roi_reset(struct rtc_roi *r)
{
	int i;

	for (i = 0; i < r->nroi; i++) {
		hist_reset(&r->r[i].base);
		hist_reset(&r->r[i].all);
	}
}

int
rtc_roi_count(const struct rtc_roi *r)
{
	return r->nroi;
}

size_t
rtc_roi_nvox(const struct rtc_roi *r, int i)
{
	return i >= 0 && i < r->nroi ? r->r[i].n : 0;
}

static void
sum_range(const float *vol, const uint32_t *idx, size_t a, size_t b,
    double *sum, double *cnt)
{
	double s = 0.0, c = 0.0;
	size_t i;

	for (i = a; i < b; i++) {
		float x = vol[idx[i]];

		if (isfinite(x)) {
			s += x;
			c += 1.0;
		}
	}
	*sum = s;
	*cnt = c;
}

void
rtc_roi_update(struct rtc_roi *r, const float *vol, int is_baseline,
    struct rtc_roi_value *out)
{
	int i, ch;

	for (i = 0; i < r->nroi; i++) {
		struct one_roi *q = &r->r[i];
		struct rtc_roi_value *o = &out[i];
		double sum = 0.0, cnt = 0.0, mu, sd;

		if (q->n >= PAR_MIN) {
#pragma omp parallel for schedule(static)
			for (ch = 0; ch < NCHUNK; ch++)
				sum_range(vol, q->idx, q->n * (size_t)ch /
				    NCHUNK, q->n * (size_t)(ch + 1) / NCHUNK,
				    &r->part[ch], &r->partn[ch]);
			for (ch = 0; ch < NCHUNK; ch++) {
				sum += r->part[ch];
				cnt += r->partn[ch];
			}
		} else
			sum_range(vol, q->idx, 0, q->n, &sum, &cnt);
		o->mean = cnt > 0.0 ? sum / cnt : 0.0;
		o->psc = 0.0;
		o->baseline = 0.0;
		o->valid_psc = 0;
		if (hist_stats(&q->base, &mu, &sd) > 0 && mu != 0.0) {
			o->baseline = mu;
			o->psc = 100.0 * (o->mean - mu) / mu;
			o->valid_psc = 1;
		}
		o->z = 0.0;
		o->valid_z = 0;
		if (hist_stats(&q->all, &mu, &sd) > 1 && sd > 0.0) {
			o->z = (o->mean - mu) / sd;
			o->valid_z = 1;
		}
		if (is_baseline)
			hist_push(&q->base, o->mean);
		hist_push(&q->all, o->mean);
	}
}

int
rtc_roi_mask_sphere(const struct rtc_grid *g, const double center[3],
    double radius_mm, uint8_t *mask, size_t *count, char **cause)
{
	size_t n = 0;
	int rc, i, j, k;

	if ((rc = rtc_grid_check(g, cause)) != RTC_OK)
		return rc;
	if (!(radius_mm > 0.0) || !isfinite(radius_mm) ||
	    !isfinite(center[0]) || !isfinite(center[1]) ||
	    !isfinite(center[2])) {
		rtc_cause_set(cause, "roi: sphere needs a finite centre and "
		    "a radius > 0");
		return RTC_ERR_INVAL;
	}
	for (k = 0; k < g->nz; k++)
		for (j = 0; j < g->ny; j++)
			for (i = 0; i < g->nx; i++) {
				double w[3], d2;
				size_t v = ((size_t)k * g->ny + j) * g->nx + i;

				rtc_grid_vox2world(g, i, j, k, w);
				d2 = (w[0] - center[0]) * (w[0] - center[0]) +
				    (w[1] - center[1]) * (w[1] - center[1]) +
				    (w[2] - center[2]) * (w[2] - center[2]);
				mask[v] = d2 <= radius_mm * radius_mm;
				n += mask[v];
			}
	if (count != NULL)
		*count = n;
	return RTC_OK;
}

int
rtc_roi_mask_resample(const float *src, const struct rtc_grid *src_grid,
    const struct rtc_grid *dst, double threshold, uint8_t *mask,
    size_t *count, char **cause)
{
	size_t nvox, v, n = 0;
	float *tmp;
	int rc;

	if ((rc = rtc_grid_check(src_grid, cause)) != RTC_OK ||
	    (rc = rtc_grid_check(dst, cause)) != RTC_OK)
		return rc;
	if (!isfinite(threshold)) {
		rtc_cause_set(cause, "roi: threshold must be finite");
		return RTC_ERR_INVAL;
	}
	nvox = rtc_grid_nvox(dst);
	tmp = malloc(nvox * sizeof(float));
	if (tmp == NULL) {
		rtc_cause_set(cause, "roi: out of memory");
		return RTC_ERR_NOMEM;
	}
	rc = rtc_interp_resample(src, src_grid, dst, NULL, RTC_INTERP_LINEAR,
	    0.0f, tmp);
	if (rc == RTC_OK) {
		for (v = 0; v < nvox; v++) {
			mask[v] = tmp[v] >= threshold;
			n += mask[v];
		}
		if (count != NULL)
			*count = n;
	}
	free(tmp);
	return rc;
}
