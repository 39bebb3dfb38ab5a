/*
 * example_plugin: a C plugin for rtc's realtime pipeline (rtc-plugin.h).
 *
 * Per volume it reports:
 *   mean         the mean of the voxels brighter than threshold_fraction
 *                of the brightest one (a crude brain mask),
 *   voxels       how many there are,
 *   center_mean  the mean within radius_mm of their centroid, found in
 *                world millimetres through the volume's affine, so the
 *                same plugin works on any grid.
 * Settings come from the project's [analysis.config] (JSON, read here
 * with jansson).
 *
 * Build:
 *   cc -shared -fPIC -O2 -I/usr/include -o example_plugin.so \
 *       example_plugin.c -ljansson
 * (with -I pointing at the directory that holds rtc-plugin.h)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rtc-plugin.h"

#ifndef EXAMPLE_PLUGIN_ABI
#define EXAMPLE_PLUGIN_ABI RTC_PLUGIN_ABI
#endif

struct state {
	double fraction;
	double radius_mm;
};

static int
example_init(const char *config_json, void **state, char *err, size_t errlen)
{
	struct state *s = calloc(1, sizeof(*s));
	json_error_t je;
	json_t *cfg;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->fraction = 0.2;
	s->radius_mm = 10.0;
	cfg = json_loads(config_json, 0, &je);
	if (cfg == NULL) {
		snprintf(err, errlen, "config: %s", je.text);
		free(s);
		return -1;
	}
	if (json_is_number(json_object_get(cfg, "threshold_fraction")))
		s->fraction = json_number_value(json_object_get(cfg,
		    "threshold_fraction"));
	if (json_is_number(json_object_get(cfg, "radius_mm")))
		s->radius_mm = json_number_value(json_object_get(cfg,
		    "radius_mm"));
	json_decref(cfg);
	if (!(s->fraction >= 0 && s->fraction < 1) || !(s->radius_mm > 0)) {
		snprintf(err, errlen, "threshold_fraction must be in [0, 1) and "
		    "radius_mm above 0");
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static void
to_world(const double a[4][4], double i, double j, double k, double w[3])
{
	int r;

	for (r = 0; r < 3; r++)
		w[r] = a[r][0] * i + a[r][1] * j + a[r][2] * k + a[r][3];
}

static int
example_process(void *state, const struct rtc_plugin_volume *v,
    const struct rtc_plugin_record *rec, struct rtc_plugin_value *out,
    int max_out, char *err, size_t errlen)
{
	const struct state *s = state;
	size_t n = (size_t)v->nx * v->ny * v->nz, idx;
	double top = -INFINITY, cut, sum = 0, c[3] = { 0, 0, 0 }, csum = 0;
	long count = 0, ccount = 0;
	int i, j, k;

	(void)rec;
	if (max_out < 3 || n == 0) {
		snprintf(err, errlen, "nothing to do");
		return -1;
	}
	for (idx = 0; idx < n; idx++)
		if (v->data[idx] > top)
			top = v->data[idx];
	cut = s->fraction * top;
	idx = 0;
	for (k = 0; k < v->nz; k++)
		for (j = 0; j < v->ny; j++)
			for (i = 0; i < v->nx; i++, idx++) {
				double w[3];

				if (!(v->data[idx] > cut))
					continue;
				to_world(v->affine, i, j, k, w);
				sum += v->data[idx];
				c[0] += w[0];
				c[1] += w[1];
				c[2] += w[2];
				count++;
			}
	if (count == 0) {
		snprintf(err, errlen, "no voxel above the threshold");
		return -1;
	}
	c[0] /= count;
	c[1] /= count;
	c[2] /= count;
	idx = 0;
	for (k = 0; k < v->nz; k++)
		for (j = 0; j < v->ny; j++)
			for (i = 0; i < v->nx; i++, idx++) {
				double w[3], d2;

				to_world(v->affine, i, j, k, w);
				d2 = (w[0] - c[0]) * (w[0] - c[0]) +
				    (w[1] - c[1]) * (w[1] - c[1]) +
				    (w[2] - c[2]) * (w[2] - c[2]);
				if (d2 <= s->radius_mm * s->radius_mm) {
					csum += v->data[idx];
					ccount++;
				}
			}
	snprintf(out[0].name, sizeof(out[0].name), "mean");
	out[0].value = sum / count;
	snprintf(out[1].name, sizeof(out[1].name), "voxels");
	out[1].value = (double)count;
	snprintf(out[2].name, sizeof(out[2].name), "center_mean");
	out[2].value = ccount > 0 ? csum / ccount : NAN;
	return ccount > 0 ? 3 : 2;
}

static void
example_fini(void *state)
{
	free(state);
}

static const struct rtc_plugin example = {
	.abi = EXAMPLE_PLUGIN_ABI,
	.size = sizeof(struct rtc_plugin),
	.name = "example",
	.init = example_init,
	.process = example_process,
	.fini = example_fini,
};

const struct rtc_plugin *
rtc_plugin_entry(void)
{
	return &example;
}
