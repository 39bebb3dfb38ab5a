/*
 * live_intake: decoding what arrives and the folder watch (see live.h).
 *
 * Design: a whole-volume file (mosaic, enhanced multi-frame) is decoded
 * straight into a volume from the queue's pool and pushed: no copy. A
 * slice is decoded the same way and handed to the assembler (its pool
 * volume goes straight back), which fills another pool volume when its
 * volume is complete and gives it its place in the series. Whatever
 * cannot be decoded is counted and logged, and the session goes on.
 */
#include "rtc_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctx.h"
#include "dicom.h"
#include "error.h"
#include "live_int.h"
#include "log.h"
#include "rtqueue.h"
#include "series.h"
#include "volume.h"
#include "watch.h"

int
rtc_live_intake_new(struct rtc_live *lv, struct rtc_live_intake **out)
{
	struct rtc_live_intake *in = calloc(1, sizeof(*in));

	if (in == NULL)
		return RTC_ERR_NOMEM;
	in->lv = lv;
	in->dec = rtc_dicom_new();
	in->as = rtc_asm_new(0);
	if (in->dec == NULL || in->as == NULL) {
		rtc_live_intake_free(in);
		return RTC_ERR_NOMEM;
	}
	*out = in;
	return RTC_OK;
}

void
rtc_live_intake_free(struct rtc_live_intake *in)
{
	if (in == NULL)
		return;
	rtc_dicom_free(in->dec);
	rtc_asm_free(in->as);
	free(in);
}

void
rtc_live_intake_flush(struct rtc_live_intake *in)
{
	rtc_asm_reset(in->as);
}

void
rtc_live_intake_failed(struct rtc_live_intake *in, const char *name,
    int err, const char *cause)
{
	struct rtc_live *lv = in->lv;

	pthread_mutex_lock(&lv->mu);
	lv->undecodable++;
	pthread_mutex_unlock(&lv->mu);
	if (lv->status_on)
		rtc_status_clear(&lv->status);
	rtc_log(lv->ctx, WARN, "skipping %s: %s", name != NULL ? name :
	    "an object", cause != NULL ? cause : rtc_strerror(err));
}

int
rtc_live_intake_decoded(struct rtc_live_intake *in, struct rtc_volume *v,
    int64_t ready_ns, char **cause)
{
	struct rtc_live *lv = in->lv;
	struct rtc_volume *out;
	int done = 0, r;

	if (in->meta.kind != RTC_DICOM_SLICE) {
		if (v->nt != 1) {
			rtc_cause_set(cause, "a file of %d volumes is not "
			    "realtime input (one volume per file)", v->nt);
			rtc_rtqueue_recycle(lv->q, v);
			return RTC_ERR_UNSUPPORTED;
		}
		return rtc_live_push(lv, v, ready_ns, rtc_clock_mono_ns());
	}
	/* a slice: v only carried the decode; the assembler copies it */
	if ((out = rtc_live_get_free(lv)) == NULL) {
		rtc_rtqueue_recycle(lv->q, v);
		return RTC_ERR_NOMEM;
	}
	r = rtc_asm_add(in->as, v, &in->meta, out, &done, cause);
	rtc_rtqueue_recycle(lv->q, v);
	if (r != RTC_OK || !done) {
		rtc_rtqueue_recycle(lv->q, out);
		return r == RTC_ERR_EXISTS ? RTC_OK : r;
	}
	return rtc_live_push(lv, out, ready_ns, rtc_clock_mono_ns());
}

/* After the decode of v from name (r, why): on to the pipeline, or the
 * volume back to the pool and the failure reported. RET: r or the push's. */
static int
intake_decoded(struct rtc_live_intake *in, struct rtc_volume *v,
    const char *name, int r, char *why, int64_t ready_ns, char **cause)
{
	if (r == RTC_OK)
		r = rtc_live_intake_decoded(in, v, ready_ns, &why);
	else
		rtc_rtqueue_recycle(in->lv->q, v);
	if (r != RTC_OK) {
		rtc_live_intake_failed(in, name, r, why);
		if (cause != NULL) {
			free(*cause);
			*cause = why;
			why = NULL;
		}
	}
	free(why);
	return r;
}

int
rtc_live_intake_buffer(struct rtc_live_intake *in, const void *buf,
    size_t len, const char *name, int64_t ready_ns, char **cause)
{
	struct rtc_volume *v = rtc_live_get_free(in->lv);
	char *why = NULL;
	int r;

	if (v == NULL)
		return RTC_ERR_NOMEM;
	r = rtc_dicom_read_buffer(in->dec, buf, len, name, 0, &in->meta, v,
	    &why);
	return intake_decoded(in, v, name, r, why, ready_ns, cause);
}

int
rtc_live_intake_file(struct rtc_live_intake *in, const char *path,
    int64_t ready_ns, char **cause)
{
	struct rtc_volume *v = rtc_live_get_free(in->lv);
	char *why = NULL;
	int r;

	if (v == NULL)
		return RTC_ERR_NOMEM;
	r = rtc_dicom_read_file(in->dec, path, 0, &in->meta, v, &why);
	return intake_decoded(in, v, path, r, why, ready_ns, cause);
}

int
rtc_live_run_watch(struct rtc_live *lv, const char *dir, char **cause)
{
	const struct rtc_project *p = lv->p;
	struct rtc_watch_opts wo;
	struct rtc_watch *w = NULL;
	struct rtc_watch_file f;
	struct rtc_live_intake *in = NULL;
	int r;

	rtc_watch_opts_init(&wo);
	wo.mode = p->intake.watch_mode;
	wo.poll_ms = p->intake.poll_ms;
	wo.stable_polls = p->intake.stable_polls;
	wo.timeout_ms = p->intake.timeout_ms;
	wo.process_existing = p->intake.process_existing;
	wo.pattern = p->intake.pattern;
	if (p->min_dicom_bytes > 0)
		rtc_log(lv->ctx, INFO, "watch: files are taken when they read as "
		    "whole DICOM (minExpectedDicomSize is not needed)");
	if ((r = rtc_live_intake_new(lv, &in)) != RTC_OK)
		return r;
	if ((r = rtc_watch_open(lv->ctx, dir, &wo, &w, cause)) != RTC_OK)
		goto out;
	rtc_log(lv->ctx, INFO, "watching %s (%s)", dir,
	    rtc_watch_mode_used(w) == RTC_WATCH_INOTIFY ? "inotify" :
	    "polling");
	while (!rtc_live_done(lv)) {
		r = rtc_watch_next(w, 250, &f, cause);
		if (r == RTC_ERR_TIMEOUT)
			continue;
		if (r == RTC_ERR_CANCELLED)
			break;
		if (r != RTC_OK)
			goto out;
		(void)rtc_live_intake_file(in, f.path, f.ready_ns, NULL);
	}
	r = RTC_OK;
out:
	rtc_watch_free(w);
	rtc_live_intake_free(in);
	return r;
}
