/*
 * live: the session and its pipeline thread (see live.h).
 *
 * Design: producers decode into volumes from the queue's pool and push
 * them; one pipeline thread pops items in acquisition order and, for each
 * volume, runs the pipeline, writes the feedback to every output, takes
 * the latency, redraws the status line, appends to the BIDS run and
 * gives the volume back to the pool. The decode end time rides with the
 * volume through the queue as its tag (a monotonic nanosecond count in an
 * intptr_t). Counters the producers and the closed-loop waiter share are
 * under one mutex; the rest belongs to the pipeline thread and is read
 * after it is joined.
 */
#include "rtc_build.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "clock.h"
#include "ctx.h"
#include "error.h"
#include "feedback.h"
#include "live_int.h"
#include "log.h"
#include "pipeline.h"
#include "rtqueue.h"
#include "runout.h"
#include "volume.h"

void
rtc_live_opts_init(struct rtc_live_opts *o)
{
	memset(o, 0, sizeof(*o));
}

static void
note_error(struct rtc_live *lv, const char *what, const char *cause)
{
	lv->output_errors++;
	if (lv->status_on)
		rtc_status_clear(&lv->status);
	rtc_log(lv->ctx, ERROR, "%s: %s", what, cause != NULL ? cause :
	    "failed");
	if (lv->first_error == NULL && cause != NULL)
		lv->first_error = strdup(cause);
}

/* ---- the pipeline thread ---------------------------------------------- */

static void
end_run(struct rtc_live *lv)
{
	char *cause = NULL;

	if (lv->ro != NULL) {
		if (rtc_runout_finish(lv->ro, &cause) != RTC_OK)
			note_error(lv, "BIDS output", cause);
		else
			rtc_log(lv->ctx, INFO, "run %d written: %s", lv->run,
			    rtc_runout_bold_path(lv->ro));
		free(cause);
		rtc_runout_free(lv->ro);
		lv->ro = NULL;
	}
	lv->ro_failed = 0;
}

static void
start_runout(struct rtc_live *lv)
{
	const struct rtc_project *p = lv->p;
	struct rtc_runout_opts o;
	const char *keys[RTC_FB_MAX_ROI];
	char *cause = NULL;
	int i, r;

	rtc_runout_opts_init(&o);
	o.dir = lv->o.out_dir;
	o.sub = p->subject_name != NULL ? p->subject_name : "01";
	o.ses = p->session_id;
	o.task = p->task_name;
	o.run = lv->run;
	o.title = p->title;
	o.nkeys = rtc_pipeline_nkeys(lv->pl);
	for (i = 0; i < o.nkeys; i++)
		keys[i] = rtc_pipeline_key(lv->pl, i);
	o.keys = keys;
	r = rtc_runout_open(lv->ctx, &o, &lv->ro, &cause);
	if (r != RTC_OK) {
		lv->ro_failed = 1;
		note_error(lv, "BIDS output (this run is not written)", cause);
	}
	free(cause);
}

static void
process_volume(struct rtc_live *lv, const struct rtc_rtq_item *it)
{
	struct rtc_volume *v = it->volume;
	struct rtc_fb_record r;
	int64_t decoded_ns = (int64_t)(intptr_t)it->tag;
	double total, wait_ms = (double)it->queued_ns / 1e6;
	char *cause = NULL;
	int ret;

	rtc_fb_record_init(&r);
	r.run = it->run;
	r.vol = it->index;
	r.series = it->series;
	r.acquisition_time = v->acq.acquisition_time;
	r.intake_ns = it->intake_ns;
	if (decoded_ns > 0)
		r.stage_ms[RTC_STAGE_DECODED] = (double)(decoded_ns -
		    it->intake_ns) / 1e6;
	if (it->depth > 0)
		r.flags |= RTC_FB_LAGGING;
	if (it->missing_before > 0)
		r.flags |= RTC_FB_GAP;
	if (wait_ms > lv->max_wait_ms)
		lv->max_wait_ms = wait_ms;
	/* behind the scanner: a volume waited longer than a TR */
	if (!lv->lag_warned && it->queued_ns > (int64_t)((lv->o.arrival_s > 0 ?
	    lv->o.arrival_s : v->tr > 0 ? v->tr : 1.0) * 1e9)) {
		lv->lag_warned = 1;
		if (lv->status_on)
			rtc_status_clear(&lv->status);
		rtc_log(lv->ctx, WARN, "run %d volume %d: processing is slower "
		    "than the scanner: it waited %.0f ms, %zu volume%s queued "
		    "behind it; nothing is dropped (the records say lagging)",
		    it->run, it->index, wait_ms, it->depth,
		    it->depth == 1 ? "" : "s");
	}
	ret = rtc_pipeline_process(lv->pl, v, it->dummy, &r, &cause);
	if (ret != RTC_OK) {
		lv->not_analysed++;
		if (lv->status_on)
			rtc_status_clear(&lv->status);
		rtc_log(lv->ctx, WARN, "run %d volume %d: %s", it->run,
		    it->index, cause != NULL ? cause : rtc_strerror(ret));
		free(cause);
		cause = NULL;
	}
	if (rtc_feedback_write(lv->fb, &r, &cause) != RTC_OK) {
		note_error(lv, "feedback", cause);
		free(cause);
		cause = NULL;
	}
	total = (double)(rtc_clock_mono_ns() - it->intake_ns) / 1e6;
	lv->records++;
	if (it->dummy)
		lv->dummies++;
	else if (rtc_latency_add(lv->lat, &r, total) != RTC_OK)
		lv->output_errors++;
	if (lv->status_on)
		rtc_status_update(&lv->status, &r, total, it->depth);
	if (lv->o.out_dir != NULL) {
		if (lv->ro == NULL && !lv->ro_failed)
			start_runout(lv);
		if (lv->ro != NULL && (ret = rtc_runout_add(lv->ro, v, &r,
		    it->dummy ? NAN : total, &cause)) != RTC_OK &&
		    ret != RTC_ERR_FORMAT && ret != RTC_ERR_EXISTS) {
			note_error(lv, "BIDS output", cause);
			lv->ro_failed = 1;
			rtc_runout_free(lv->ro);
			lv->ro = NULL;
		} else if (ret == RTC_ERR_FORMAT) {
			rtc_log(lv->ctx, WARN, "BIDS output: %s", cause);
		}
		free(cause);
		cause = NULL;
	}
}

static void *
pipeline_main(void *arg)
{
	struct rtc_live *lv = arg;
	struct rtc_rtq_item it;
	int r;

	for (;;) {
		r = rtc_rtqueue_pop(lv->q, 1000, &it);
		if (r == RTC_ERR_TIMEOUT)
			continue;
		if (r != RTC_OK)
			break;
		if (it.kind == RTC_RTQ_END)
			break;
		if (it.kind == RTC_RTQ_RUN_START) {
			end_run(lv);
			lv->run = it.run;
			lv->runs++;
			lv->lag_warned = 0;
			rtc_pipeline_run_start(lv->pl);
			if (lv->status_on)
				rtc_status_clear(&lv->status);
			rtc_log(lv->ctx, INFO, "run %d: series %d", it.run,
			    it.series);
			continue;
		}
		process_volume(lv, &it);
		rtc_rtqueue_recycle(lv->q, it.volume);
		pthread_mutex_lock(&lv->mu);
		lv->finished++;
		if (lv->o.max_volumes > 0 &&
		    lv->finished >= (unsigned long long)lv->o.max_volumes)
			lv->done = 1;
		pthread_cond_broadcast(&lv->cv);
		pthread_mutex_unlock(&lv->mu);
		if (lv->done) {
			/* --volumes N: what came after the N-th is not ours */
			rtc_rtqueue_stop(lv->q);
			break;
		}
	}
	end_run(lv);
	if (lv->status_on)
		rtc_status_finish(&lv->status);
	pthread_mutex_lock(&lv->mu);
	lv->done = 1;
	pthread_cond_broadcast(&lv->cv);
	pthread_mutex_unlock(&lv->mu);
	return NULL;
}

/* ---- life cycle ------------------------------------------------------- */

int
rtc_live_new(struct rtc_ctx *ctx, const struct rtc_live_opts *o,
    struct rtc_live **out, char **cause)
{
	const struct rtc_project *p;
	struct rtc_live *lv;
	struct rtc_rtqueue_opts qo;
	struct rtc_pipeline_opts po;
	struct rtc_feedback_opts fo;
	int r;

	if (o == NULL || o->project == NULL || out == NULL)
		return RTC_ERR_INVAL;
	p = o->project;
	if ((lv = calloc(1, sizeof(*lv))) == NULL)
		return RTC_ERR_NOMEM;
	lv->ctx = ctx;
	lv->o = *o;
	lv->p = p;
	pthread_mutex_init(&lv->mu, NULL);
	pthread_cond_init(&lv->cv, NULL);
	rtc_rtqueue_opts_init(&qo);
	qo.dummies = p->intake.dummies;
	qo.dummy_mode = RTC_RTQ_DUMMY_FLAG;
	qo.reorder_wait_ms = p->intake.reorder_wait_ms;
	if (p->intake.queue_warn_mb > 0)
		qo.warn_bytes = (size_t)p->intake.queue_warn_mb << 20;
	qo.first_run = p->n_run_num > 0 && p->run_num[0] > 0 ?
	    p->run_num[0] : 1;
	if ((r = rtc_rtqueue_new(ctx, &qo, &lv->q, cause)) != RTC_OK)
		goto fail;
	rtc_pipeline_opts_init(&po);
	po.tr = o->tr;
	po.expected_volumes = o->expected_volumes;
	po.no_custom = o->no_custom;
	if ((r = rtc_pipeline_new(ctx, p, &po, &lv->pl, cause)) != RTC_OK)
		goto fail;
	rtc_feedback_opts_init(&fo);
	fo.tcp = o->feedback_url;
	fo.files_dir = o->files_dir;
	if ((r = rtc_feedback_open(ctx, &fo, &lv->fb, cause)) != RTC_OK)
		goto fail;
	lv->lat = rtc_latency_new(o->expected_volumes > 0 ?
	    (size_t)o->expected_volumes : 0);
	if (lv->lat == NULL) {
		r = RTC_ERR_NOMEM;
		goto fail;
	}
	if (o->status_fp != NULL && isatty(fileno(o->status_fp))) {
		rtc_status_init(&lv->status, o->status_fp, 1);
		lv->status_on = 1;
	}
	if (pthread_create(&lv->thread, NULL, pipeline_main, lv) != 0) {
		rtc_cause_set(cause, "cannot start the pipeline thread");
		r = RTC_ERR_INTERNAL;
		goto fail;
	}
	lv->thread_started = 1;
	*out = lv;
	return RTC_OK;
fail:
	rtc_live_free(lv);
	return r;
}

struct rtc_volume *
rtc_live_get_free(struct rtc_live *lv)
{
	return rtc_rtqueue_get_free(lv->q);
}

int
rtc_live_push(struct rtc_live *lv, struct rtc_volume *v, int64_t intake_ns,
    int64_t decoded_ns)
{
	enum rtc_rtq_verdict verdict = RTC_RTQ_QUEUED;
	int r;

	/* counted first, so a closed-loop waiter never misses it */
	pthread_mutex_lock(&lv->mu);
	lv->queued++;
	lv->decoded++;
	pthread_mutex_unlock(&lv->mu);
	r = rtc_rtqueue_push(lv->q, v, intake_ns,
	    (void *)(intptr_t)decoded_ns, &verdict);
	if (r != RTC_OK || verdict != RTC_RTQ_QUEUED) {
		pthread_mutex_lock(&lv->mu);
		lv->queued--;
		pthread_cond_broadcast(&lv->cv);
		pthread_mutex_unlock(&lv->mu);
	}
	return r == RTC_ERR_CANCELLED ? r : RTC_OK;
}

int
rtc_live_done(const struct rtc_live *lv)
{
	return lv->done || rtc_ctx_stopping(lv->ctx);
}

int
rtc_live_wait_idle(struct rtc_live *lv, int timeout_ms)
{
	int64_t deadline = rtc_clock_mono_ns() + (int64_t)timeout_ms *
	    1000000LL;
	int r = RTC_OK;

	pthread_mutex_lock(&lv->mu);
	while (lv->finished < lv->queued && !lv->done) {
		struct timespec ts;
		int64_t left = deadline - rtc_clock_mono_ns();

		if (left <= 0) {
			r = RTC_ERR_TIMEOUT;
			break;
		}
		if (left > 100000000LL)
			left = 100000000LL;   /* see the stop flag too */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(left / 1000000000LL);
		ts.tv_nsec += (long)(left % 1000000000LL);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&lv->cv, &lv->mu, &ts);
		if (rtc_ctx_stopping(lv->ctx))
			break;
	}
	pthread_mutex_unlock(&lv->mu);
	return r;
}

void
rtc_live_finish(struct rtc_live *lv)
{
	if (lv->ended)
		return;
	lv->ended = 1;
	rtc_rtqueue_finish(lv->q);
}

int
rtc_live_wait(struct rtc_live *lv, char **cause)
{
	rtc_live_finish(lv);
	if (lv->thread_started) {
		pthread_join(lv->thread, NULL);
		lv->thread_started = 0;
	}
	if (lv->fb != NULL && rtc_feedback_flush(lv->fb, 2000) != RTC_OK)
		rtc_log(lv->ctx, WARN, "feedback: the listener did not take "
		    "every line within 2 s");
	if (lv->first_error != NULL) {
		rtc_cause_set(cause, "%s", lv->first_error);
		return RTC_ERR_IO;
	}
	return RTC_OK;
}

void
rtc_live_get_summary(struct rtc_live *lv, struct rtc_live_summary *s)
{
	struct rtc_rtq_stats qs;
	struct rtc_feedback_stats fs;

	memset(s, 0, sizeof(*s));
	rtc_latency_summarise(lv->lat, &s->lat);
	rtc_rtqueue_get_stats(lv->q, &qs);
	rtc_feedback_get_stats(lv->fb, &fs);
	pthread_mutex_lock(&lv->mu);
	s->decoded = lv->decoded;
	s->undecodable = lv->undecodable;
	pthread_mutex_unlock(&lv->mu);
	s->records = lv->records;
	s->dummies = lv->dummies;
	s->not_analysed = lv->not_analysed;
	s->runs = lv->runs;
	s->duplicates = qs.duplicates;
	s->late = qs.late;
	s->missing = qs.missing;
	s->max_depth = qs.max_depth;
	s->max_wait_ms = lv->max_wait_ms;
	s->fb_lost = fs.lost;
	s->output_errors = lv->output_errors;
	/* dropped: volumes that came but gave no feedback record */
	s->lat.dropped = (unsigned long)(qs.late + qs.invalid +
	    s->undecodable);
#ifdef _OPENMP
	s->threads = omp_get_max_threads();
#else
	s->threads = 1;
#endif
}

void
rtc_live_summary_print(const struct rtc_live_summary *s, FILE *fp)
{
	char line[512];

	rtc_latency_summary_text(&s->lat, line, sizeof(line));
	fprintf(fp, "rtc: %llu run%s, %llu volume%s (%llu dumm%s); analysed: "
	    "%s\n",
	    s->runs, s->runs == 1 ? "" : "s", s->records,
	    s->records == 1 ? "" : "s", s->dummies,
	    s->dummies == 1 ? "y" : "ies", line);
	fprintf(fp, "rtc: intake: %llu duplicate%s dropped, %llu late, %llu "
	    "missing, %llu undecodable; queue: at most %zu waiting, longest "
	    "wait %.1f ms; %llu not analysed; %d thread%s\n", s->duplicates,
	    s->duplicates == 1 ? "" : "s", s->late, s->missing, s->undecodable,
	    s->max_depth, s->max_wait_ms, s->not_analysed, s->threads,
	    s->threads == 1 ? "" : "s");
	if (s->fb_lost > 0 || s->output_errors > 0)
		fprintf(fp, "rtc: outputs: %llu feedback line%s lost, %llu "
		    "write error%s\n", s->fb_lost, s->fb_lost == 1 ? "" : "s",
		    s->output_errors, s->output_errors == 1 ? "" : "s");
}

json_t *
rtc_live_summary_json(const struct rtc_live_summary *s)
{
	json_t *o = rtc_latency_summary_json(&s->lat, s->threads);

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "runs", json_integer((json_int_t)s->runs));
	json_object_set_new(o, "records",
	    json_integer((json_int_t)s->records));
	json_object_set_new(o, "dummies",
	    json_integer((json_int_t)s->dummies));
	json_object_set_new(o, "duplicates",
	    json_integer((json_int_t)s->duplicates));
	json_object_set_new(o, "late", json_integer((json_int_t)s->late));
	json_object_set_new(o, "missing",
	    json_integer((json_int_t)s->missing));
	json_object_set_new(o, "undecodable",
	    json_integer((json_int_t)s->undecodable));
	json_object_set_new(o, "not_analysed",
	    json_integer((json_int_t)s->not_analysed));
	json_object_set_new(o, "max_queue_depth",
	    json_integer((json_int_t)s->max_depth));
	json_object_set_new(o, "max_queue_wait_ms", json_real(s->max_wait_ms));
	return o;
}

void
rtc_live_free(struct rtc_live *lv)
{
	if (lv == NULL)
		return;
	if (lv->thread_started) {
		if (lv->q != NULL)
			rtc_rtqueue_stop(lv->q);
		pthread_join(lv->thread, NULL);
	}
	rtc_runout_free(lv->ro);
	rtc_pipeline_free(lv->pl);
	rtc_feedback_free(lv->fb);
	rtc_latency_free(lv->lat);
	rtc_rtqueue_free(lv->q);
	free(lv->first_error);
	pthread_cond_destroy(&lv->cv);
	pthread_mutex_destroy(&lv->mu);
	free(lv);
}
