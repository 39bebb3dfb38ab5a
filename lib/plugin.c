/*
 * plugin: design notes (the plugin-facing contract is in rtc-plugin.h,
 * the host's in plugin.h).
 *
 * The plugin's struct is copied after its size is checked: a plugin built
 * against an older header may have a smaller struct, and we read only
 * what it has (v1 needs init and process). Messages from the plugin come
 * back in a fixed buffer, cut to its length and made printable before
 * they reach the log.
 */
#include "rtc_build.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctx.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "plugin.h"
#include "rtc-plugin.h"
#include "volume.h"

/* Fields of struct rtc_plugin in ABI 1, up to and including process. */
#define V1_SIZE (offsetof(struct rtc_plugin, process) + \
	sizeof(((struct rtc_plugin *)0)->process))

struct rtc_plugin_host {
	struct rtc_ctx *ctx;
	void *dl;
	struct rtc_plugin p;        /* the plugin's table, what it has */
	void *state;
	int inited;
	char name[64];
	float *buf;
	size_t bufcap;              /* floats */
	struct rtc_fb_encoder *enc;
	struct rtc_plugin_value roi[RTC_FB_MAX_ROI];
	struct rtc_plugin_value out[RTC_PLUGIN_MAX_VALUES];
	int warn_ms, warned_slow;
	struct rtc_plugin_stats st;
};

/* Keep printable ASCII of a plugin's message. */
static void
clean(char *s, size_t n)
{
	size_t i;

	s[n - 1] = '\0';
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			s[i] = '?';
}

int
rtc_plugin_load(struct rtc_ctx *ctx, const char *path, json_t *config,
    int warn_ms, struct rtc_plugin_host **out, char **cause)
{
	struct rtc_plugin_host *h;
	rtc_plugin_entry_fn entry;
	const struct rtc_plugin *tab;
	char err[512], *cfg = NULL;
	int r;

	if (!rtc_fs_is_file(path)) {
		rtc_cause_set(cause, "plugin %s: no such file", path);
		return RTC_ERR_NOT_FOUND;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return RTC_ERR_NOMEM;
	h->ctx = ctx;
	h->warn_ms = warn_ms > 0 ? warn_ms : 500;
	h->enc = rtc_fb_encoder_new();
	if (h->enc == NULL) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	h->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h->dl == NULL) {
		const char *e = dlerror();

		rtc_cause_set(cause, "plugin %s: %s", path, e ? e : "cannot load");
		r = RTC_ERR_FORMAT;
		goto fail;
	}
	*(void **)&entry = dlsym(h->dl, RTC_PLUGIN_ENTRY);
	if (entry == NULL) {
		rtc_cause_set(cause, "plugin %s: no %s() (see rtc-plugin.h)", path,
		    RTC_PLUGIN_ENTRY);
		r = RTC_ERR_FORMAT;
		goto fail;
	}
	tab = entry();
	if (tab == NULL) {
		rtc_cause_set(cause, "plugin %s: %s() returned NULL", path,
		    RTC_PLUGIN_ENTRY);
		r = RTC_ERR_FORMAT;
		goto fail;
	}
	if (tab->abi != RTC_PLUGIN_ABI) {
		rtc_cause_set(cause, "plugin %s: built for plugin ABI %u, this "
		    "rtc speaks %d", path, tab->abi, RTC_PLUGIN_ABI);
		r = RTC_ERR_UNSUPPORTED;
		goto fail;
	}
	if (tab->size < V1_SIZE || tab->init == NULL || tab->process == NULL) {
		rtc_cause_set(cause, "plugin %s: incomplete struct rtc_plugin "
		    "(size %u)", path, tab->size);
		r = RTC_ERR_FORMAT;
		goto fail;
	}
	memcpy(&h->p, tab, tab->size < sizeof(h->p) ? tab->size : sizeof(h->p));
	snprintf(h->name, sizeof(h->name), "%s",
	    tab->name != NULL ? tab->name : "plugin");
	clean(h->name, sizeof(h->name));
	cfg = config != NULL ? json_dumps(config, JSON_COMPACT) : strdup("{}");
	if (cfg == NULL) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	err[0] = '\0';
	if (h->p.init(cfg, &h->state, err, sizeof(err)) != 0) {
		clean(err, sizeof(err));
		rtc_cause_set(cause, "plugin %s: init failed: %s", h->name,
		    err[0] ? err : "(no message)");
		r = RTC_ERR_INVAL;
		goto fail;
	}
	h->inited = 1;
	free(cfg);
	rtc_debug(ctx, RT, "plugin %s loaded from %s", h->name, path);
	*out = h;
	return RTC_OK;
fail:
	free(cfg);
	rtc_plugin_free(h);
	return r;
}

int
rtc_plugin_process(struct rtc_plugin_host *h, const struct rtc_volume *v,
    struct rtc_fb_record *r, char **cause)
{
	struct rtc_plugin_volume pv;
	struct rtc_plugin_record pr;
	size_t nvox = rtc_volume_nvox(v), len;
	const char *json = "{}";
	char err[512];
	int64_t t0;
	double ms;
	int n, i;

	if (nvox > h->bufcap) {
		float *b = realloc(h->buf, nvox * sizeof(float));

		if (b == NULL)
			return RTC_ERR_NOMEM;
		h->buf = b;
		h->bufcap = nvox;
	}
	rtc_volume_frame_to_float(v, 0, h->buf);
	memset(&pv, 0, sizeof(pv));
	pv.size = sizeof(pv);
	pv.nx = v->nx;
	pv.ny = v->ny;
	pv.nz = v->nz;
	pv.data = h->buf;
	memcpy(pv.affine, v->affine, sizeof(pv.affine));
	pv.tr = v->tr;
	pv.run = r->run;
	pv.vol = r->vol;
	pv.series = r->series;
	pv.acquisition_time = r->acquisition_time;
	memset(&pr, 0, sizeof(pr));
	pr.size = sizeof(pr);
	if (rtc_fb_encode(h->enc, r, &json, &len) != RTC_OK)
		json = "{}";
	pr.json = json;
	pr.feedback = r->feedback;
	pr.decision = r->decision;
	memcpy(pr.motion, r->motion, sizeof(pr.motion));
	pr.fd = r->fd;
	pr.n_roi = r->n_roi;
	for (i = 0; i < r->n_roi && i < RTC_FB_MAX_ROI; i++) {
		snprintf(h->roi[i].name, sizeof(h->roi[i].name), "%s",
		    r->roi[i].name);
		h->roi[i].value = r->roi[i].value;
	}
	pr.roi = h->roi;
	pr.flags = r->flags;
	err[0] = '\0';
	memset(h->out, 0, sizeof(h->out));
	t0 = rtc_clock_mono_ns();
	n = h->p.process(h->state, &pv, &pr, h->out, RTC_PLUGIN_MAX_VALUES, err,
	    sizeof(err));
	ms = (double)(rtc_clock_mono_ns() - t0) / 1e6;
	h->st.volumes++;
	if (ms > h->st.max_ms)
		h->st.max_ms = ms;
	if (ms > h->warn_ms && !h->warned_slow) {
		rtc_log(h->ctx, WARN, "plugin %s took %.1f ms for run %d volume "
		    "%d: it delays every volume", h->name, ms, r->run, r->vol);
		h->warned_slow = 1;
	}
	if (n < 0 || n > RTC_PLUGIN_MAX_VALUES) {
		clean(err, sizeof(err));
		h->st.failures++;
		r->flags |= RTC_FB_ANALYSIS_FAILED;
		rtc_cause_set(cause, "plugin %s: run %d volume %d: %s", h->name,
		    r->run, r->vol, n < 0 ? (err[0] ? err : "failed") :
		    "returned too many values");
		return RTC_ERR_PROTO;
	}
	for (i = 0; i < n; i++) {
		h->out[i].name[RTC_PLUGIN_NAME_MAX - 1] = '\0';
		if (!isfinite(h->out[i].value) ||
		    rtc_fb_record_set_value(r, h->out[i].name,
		    h->out[i].value) != RTC_OK) {
			h->st.rejected++;
			rtc_debug(h->ctx, RT, "plugin %s: value %d refused", h->name,
			    i);
		}
	}
	return RTC_OK;
}

const char *
rtc_plugin_name(const struct rtc_plugin_host *h)
{
	return h->name;
}

void
rtc_plugin_get_stats(const struct rtc_plugin_host *h,
    struct rtc_plugin_stats *st)
{
	*st = h->st;
}

void
rtc_plugin_free(struct rtc_plugin_host *h)
{
	if (h == NULL)
		return;
	if (h->inited && h->p.fini != NULL &&
	    h->p.size >= offsetof(struct rtc_plugin, fini) + sizeof(h->p.fini))
		h->p.fini(h->state);
	if (h->dl != NULL)
		dlclose(h->dl);
	rtc_fb_encoder_free(h->enc);
	free(h->buf);
	free(h);
}
