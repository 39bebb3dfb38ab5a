/*
 * plugin: load a project's C plugin (rtc-plugin.h) and run it per volume.
 *
 * The host converts each volume to floats into a buffer it keeps (no
 * allocation once the buffer has the scan's size), gives the plugin the
 * record so far (also as JSON, from a reused encoder), checks what comes
 * back (names, count, finite numbers) and adds it to the record's values.
 * A plugin that fails a volume has the record flagged analysis_failed; a
 * plugin slower than warn_ms is reported once in the log (it runs in the
 * pipeline's thread: it cannot be interrupted).
 */
#ifndef RTC_PLUGIN_HOST_H
#define RTC_PLUGIN_HOST_H

#include <jansson.h>

#include "feedback.h"

struct rtc_ctx;
struct rtc_volume;
struct rtc_plugin_host;

struct rtc_plugin_stats {
	unsigned long long volumes;    /* process calls */
	unsigned long long failures;   /* calls that returned an error */
	unsigned long long rejected;   /* values refused (bad name, NaN...) */
	double max_ms;                 /* slowest call */
};

/*
 * dlopen path (RTLD_NOW | RTLD_LOCAL), find rtc_plugin_entry, check the
 * ABI, call init with config (an object, or NULL for {}). IN: warn_ms
 * (a call slower than this is logged; <= 0: 500). OUT: *out.
 * RET: RTC_OK; RTC_ERR_NOT_FOUND (no file); RTC_ERR_FORMAT (not a plugin:
 * dlopen error, no entry, bad struct); RTC_ERR_UNSUPPORTED (another ABI);
 * RTC_ERR_INVAL (init refused, *cause has its message).
 */
int rtc_plugin_load(struct rtc_ctx *ctx, const char *path, json_t *config,
    int warn_ms, struct rtc_plugin_host **out, char **cause);

/*
 * Run the plugin on v (frame 0) with r, adding its values to r->values.
 * RET: RTC_OK, or RTC_ERR_PROTO when the plugin failed (r flagged
 * RTC_FB_ANALYSIS_FAILED, *cause has its message).
 */
int rtc_plugin_process(struct rtc_plugin_host *h, const struct rtc_volume *v,
    struct rtc_fb_record *r, char **cause);

/* RET: the plugin's name. */
const char *rtc_plugin_name(const struct rtc_plugin_host *h);

void rtc_plugin_get_stats(const struct rtc_plugin_host *h,
    struct rtc_plugin_stats *st);

/* fini, dlclose, free. NULL is a no-op. */
void rtc_plugin_free(struct rtc_plugin_host *h);

#endif
