/*
 * mask: automatic brain masks. The threshold comes from a 4096-bin
 * histogram of the nonzero finite voxels (robust 2nd/98th percentiles);
 * components and hole filling are breadth-first floods over an explicit
 * queue of voxel indices (no recursion, memory bounded by the grid).
 * Setup-time code: it allocates freely and runs single-threaded.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mask.h"

#define HIST_BINS 4096

void
rtc_mask_opts_init(struct rtc_mask_opts *o)
{
	o->frac = 0.25;
	o->largest = 1;
	o->fill = 1;
	o->dilate = 0;
}

size_t
rtc_mask_count(const uint8_t *mask, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += mask[i] != 0;
	return c;
}

/* Flood from seed over voxels where m[v] == from, setting them to to;
 * 6-connected. RET: voxels set. */
static size_t
flood(uint8_t *m, const struct rtc_grid *g, uint32_t *queue, size_t seed,
    uint8_t from, uint8_t to)
{
	size_t head = 0, tail = 0, nx = (size_t)g->nx, ny = (size_t)g->ny;
	size_t nz = (size_t)g->nz, sxy = nx * ny;

	if (m[seed] != from)
		return 0;
	m[seed] = to;
	queue[tail++] = (uint32_t)seed;
	while (head < tail) {
		size_t v = queue[head++], i = v % nx, j = (v / nx) % ny;
		size_t k = v / sxy, nb[6];
		int n = 0, q;

		if (i > 0) nb[n++] = v - 1;
		if (i + 1 < nx) nb[n++] = v + 1;
		if (j > 0) nb[n++] = v - nx;
		if (j + 1 < ny) nb[n++] = v + nx;
		if (k > 0) nb[n++] = v - sxy;
		if (k + 1 < nz) nb[n++] = v + sxy;
		for (q = 0; q < n; q++)
			if (m[nb[q]] == from) {
				m[nb[q]] = to;
				queue[tail++] = (uint32_t)nb[q];
			}
	}
	return tail;
}

int
rtc_mask_largest_component(uint8_t *mask, const struct rtc_grid *g,
    size_t *count)
{
	size_t n = rtc_grid_nvox(g), v, best = 0, best_seed = 0, sz;
	uint32_t *queue;

	queue = malloc(n * sizeof(*queue));
	if (queue == NULL)
		return RTC_ERR_NOMEM;
	for (v = 0; v < n; v++)
		mask[v] = mask[v] != 0;
	/* label every component 1 -> 2, remembering the biggest */
	for (v = 0; v < n; v++)
		if (mask[v] == 1) {
			sz = flood(mask, g, queue, v, 1, 2);
			if (sz > best) {
				best = sz;
				best_seed = v;
			}
		}
	if (best > 0)
		flood(mask, g, queue, best_seed, 2, 1);
	for (v = 0; v < n; v++)
		mask[v] = mask[v] == 1;
	free(queue);
	if (count != NULL)
		*count = best;
	return RTC_OK;
}

int
rtc_mask_fill_holes(uint8_t *mask, const struct rtc_grid *g)
{
	size_t n = rtc_grid_nvox(g), v, nx = (size_t)g->nx, ny = (size_t)g->ny;
	size_t nz = (size_t)g->nz, i, j, k;
	uint32_t *queue;

	queue = malloc(n * sizeof(*queue));
	if (queue == NULL)
		return RTC_ERR_NOMEM;
	for (v = 0; v < n; v++)
		mask[v] = mask[v] != 0;
	/* 3D: background reachable from the grid's faces becomes 2 */
	for (k = 0; k < nz; k++)
		for (j = 0; j < ny; j++)
			for (i = 0; i < nx; i++) {
				if (i != 0 && i != nx - 1 && j != 0 &&
				    j != ny - 1 && k != 0 && k != nz - 1)
					continue;
				flood(mask, g, queue, (k * ny + j) * nx + i, 0, 2);
			}
	for (v = 0; v < n; v++)
		mask[v] = mask[v] != 2;
	/* 2D per axial slice: holes open only through the top or bottom */
	for (k = 0; k < nz; k++) {
		struct rtc_grid sg = *g;
		uint8_t *sl = mask + k * nx * ny;

		sg.nz = 1;
		for (j = 0; j < ny; j++)
			for (i = 0; i < nx; i++)
				if (i == 0 || i == nx - 1 || j == 0 ||
				    j == ny - 1)
					flood(sl, &sg, queue, j * nx + i, 0, 2);
		for (v = 0; v < nx * ny; v++)
			sl[v] = sl[v] != 2;
	}
	free(queue);
	return RTC_OK;
}

static int
morph(uint8_t *mask, const struct rtc_grid *g, int r, int grow)
{
	size_t n = rtc_grid_nvox(g), nx = (size_t)g->nx, ny = (size_t)g->ny;
	size_t nz = (size_t)g->nz, sxy = nx * ny, v;
	uint8_t *src;
	int it;

	if (r <= 0)
		return RTC_OK;
	src = malloc(n);
	if (src == NULL)
		return RTC_ERR_NOMEM;
	for (it = 0; it < r; it++) {
		for (v = 0; v < n; v++)
			src[v] = mask[v] != 0;
		for (v = 0; v < n; v++) {
			size_t i = v % nx, j = (v / nx) % ny, k = v / sxy;
			uint8_t want = grow ? 1 : 0;
			int hit;

			if (src[v] == want)
				continue;
			/* outside the grid counts as background */
			hit = (i > 0 ? src[v - 1] : 0) == want ||
			    (i + 1 < nx ? src[v + 1] : 0) == want ||
			    (j > 0 ? src[v - nx] : 0) == want ||
			    (j + 1 < ny ? src[v + nx] : 0) == want ||
			    (k > 0 ? src[v - sxy] : 0) == want ||
			    (k + 1 < nz ? src[v + sxy] : 0) == want;
			mask[v] = hit ? want : src[v];
		}
	}
	free(src);
	return RTC_OK;
}

int
rtc_mask_dilate(uint8_t *mask, const struct rtc_grid *g, int r)
{
	return morph(mask, g, r, 1);
}

int
rtc_mask_erode(uint8_t *mask, const struct rtc_grid *g, int r)
{
	return morph(mask, g, r, 0);
}

/* Robust range of the nonzero finite voxels. IN: hist (HIST_BINS
 * zeroed counters). RET: voxels counted. */
static size_t
robust_range(const float *vol, size_t n, size_t *hist, double *lo,
    double *hi)
{
	double mn = INFINITY, mx = -INFINITY, w, cum, total;
	size_t i, cnt = 0;
	int b;

	for (i = 0; i < n; i++) {
		float x = vol[i];

		if (!isfinite(x) || x == 0.0f)
			continue;
		cnt++;
		if (x < mn) mn = x;
		if (x > mx) mx = x;
	}
	if (cnt == 0)
		return 0;
	if (!(mx > mn)) {
		*lo = *hi = mn;
		return cnt;
	}
	w = (mx - mn) / HIST_BINS;
	for (i = 0; i < n; i++) {
		float x = vol[i];

		if (!isfinite(x) || x == 0.0f)
			continue;
		b = (int)((x - mn) / w);
		hist[b >= HIST_BINS ? HIST_BINS - 1 : b]++;
	}
	total = (double)cnt;
	*lo = mn;
	*hi = mx;
	cum = 0.0;
	for (b = 0; b < HIST_BINS; b++) {
		double prev = cum;

		cum += (double)hist[b];
		if (prev < 0.02 * total && cum >= 0.02 * total)
			*lo = mn + (b + 0.5) * w;
		if (prev < 0.98 * total && cum >= 0.98 * total) {
			*hi = mn + (b + 0.5) * w;
			break;
		}
	}
	return cnt;
}

int
rtc_mask_auto(const float *vol, const struct rtc_grid *g,
    const struct rtc_mask_opts *o, uint8_t *mask, size_t *count,
    char **cause)
{
	struct rtc_mask_opts def;
	size_t n, i, cnt;
	double lo = 0.0, hi = 0.0, thr;
	uint8_t *m = NULL;
	size_t *hist = NULL;
	int rc;

	if ((rc = rtc_grid_check(g, cause)) != RTC_OK)
		return rc;
	if (o == NULL) {
		rtc_mask_opts_init(&def);
		o = &def;
	}
	if (!(o->frac >= 0.0 && o->frac < 1.0) || o->dilate < 0 ||
	    o->dilate > 100) {
		rtc_cause_set(cause, "mask: frac must be in [0, 1) and dilate "
		    "in 0..100");
		return RTC_ERR_INVAL;
	}
	n = rtc_grid_nvox(g);
	m = malloc(n);
	hist = calloc(HIST_BINS, sizeof(*hist));
	if (m == NULL || hist == NULL) {
		rc = RTC_ERR_NOMEM;
		goto out;
	}
	if (robust_range(vol, n, hist, &lo, &hi) == 0) {
		rtc_cause_set(cause, "mask: the volume has no nonzero voxel");
		rc = RTC_ERR_INVAL;
		goto out;
	}
	thr = lo + o->frac * (hi - lo);
	for (i = 0; i < n; i++)
		m[i] = isfinite(vol[i]) && vol[i] > thr;
	if (rtc_mask_count(m, n) == 0) {
		rtc_cause_set(cause, "mask: no voxel above %g", thr);
		rc = RTC_ERR_INVAL;
		goto out;
	}
	if (o->largest && (rc = rtc_mask_largest_component(m, g, NULL)) != RTC_OK)
		goto out;
	if (o->fill && (rc = rtc_mask_fill_holes(m, g)) != RTC_OK)
		goto out;
	if ((rc = rtc_mask_dilate(m, g, o->dilate)) != RTC_OK)
		goto out;
	cnt = rtc_mask_count(m, n);
	memcpy(mask, m, n);
	if (count != NULL)
		*count = cnt;
	rc = RTC_OK;
out:
	if (rc == RTC_ERR_NOMEM)
		rtc_cause_set(cause, "mask: out of memory");
	free(m);
	free(hist);
	return rc;
}
