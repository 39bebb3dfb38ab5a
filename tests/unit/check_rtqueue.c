#include "rtc_build.h"

#include <pthread.h>
#include <time.h>

#include "check_common.h"
#include "clock.h"
#include "ctx.h"
#include "error.h"
#include "log.h"
#include "rtqueue.h"
#include "volume.h"
#include "watch_dcm.h"

static struct rtc_rtqueue *
make_queue(int dummies, int wait_ms)
{
	struct rtc_rtqueue_opts o;
	struct rtc_rtqueue *q = NULL;

	rtc_rtqueue_opts_init(&o);
	o.dummies = dummies;
	o.reorder_wait_ms = wait_ms;
	ck_assert_int_eq(rtc_rtqueue_new(NULL, &o, &q, NULL), RTC_OK);
	return q;
}

/* Push a volume of series ser with acquisition number acq. */
static enum rtc_rtq_verdict
push(struct rtc_rtqueue *q, int ser, int acq)
{
	struct rtc_volume *v = rtc_rtqueue_get_free(q);
	enum rtc_rtq_verdict vd = RTC_RTQ_INVALID;

	ck_assert_ptr_nonnull(v);
	v->acq.series_number = ser;
	v->acq.acquisition_number = acq;
	snprintf(v->acq.series_uid, sizeof(v->acq.series_uid), "1.2.3.%d", ser);
	ck_assert_int_eq(rtc_rtqueue_push(q, v, rtc_clock_mono_ns(),
	    (void *)(intptr_t)(ser * 1000 + acq), &vd), RTC_OK);
	return vd;
}

/* Pop one volume and check its series and key; recycles it. */
static struct rtc_rtq_item
pop_vol(struct rtc_rtqueue *q, int ser, long key, int timeout_ms)
{
	struct rtc_rtq_item it;

	ck_assert_int_eq(rtc_rtqueue_pop(q, timeout_ms, &it), RTC_OK);
	ck_assert_int_eq(it.kind, RTC_RTQ_VOLUME);
	ck_assert_int_eq(it.series, ser);
	ck_assert_int_eq(it.key, key);
	ck_assert_ptr_nonnull(it.volume);
	ck_assert_int_eq(it.volume->acq.acquisition_number, (int)key);
	ck_assert_ptr_eq(it.tag, (void *)(intptr_t)(ser * 1000 + key));
	rtc_rtqueue_recycle(q, it.volume);
	return it;
}

static void
pop_run_start(struct rtc_rtqueue *q, int run, int ser)
{
	struct rtc_rtq_item it;

	ck_assert_int_eq(rtc_rtqueue_pop(q, 1000, &it), RTC_OK);
	ck_assert_int_eq(it.kind, RTC_RTQ_RUN_START);
	ck_assert_int_eq(it.run, run);
	ck_assert_int_eq(it.series, ser);
}

START_TEST(test_in_order)
{
	struct rtc_rtqueue *q = make_queue(0, 1000);
	struct rtc_rtq_item it;
	struct rtc_rtq_stats st;
	int64_t t0 = rtc_clock_mono_ns();
	int i;

	for (i = 1; i <= 5; i++)
		ck_assert_int_eq(push(q, 7, i), RTC_RTQ_QUEUED);
	pop_run_start(q, 1, 7);
	for (i = 1; i <= 5; i++) {
		it = pop_vol(q, 7, i, 0);
		ck_assert_int_eq(it.index, i);
		ck_assert_int_eq(it.run, 1);
		ck_assert_int_eq(it.dummy, 0);
		ck_assert_int_eq(it.missing_before, 0);
		ck_assert_int_ge(it.intake_ns, t0);
		ck_assert_uint_eq(it.depth, (size_t)(5 - i));
	}
	ck_assert_int_eq(rtc_rtqueue_pop(q, 20, &it), RTC_ERR_TIMEOUT);
	rtc_rtqueue_get_stats(q, &st);
	ck_assert_uint_eq(st.pushed, 5);
	ck_assert_uint_eq(st.handed_out, 5);
	ck_assert_uint_eq(st.runs, 1);
	ck_assert_uint_eq(st.max_depth, 5);
	rtc_rtqueue_free(q);
}
END_TEST

START_TEST(test_reorders)
{
	struct rtc_rtqueue *q = make_queue(0, 5000);
	int64_t t0;

	push(q, 3, 3);
	push(q, 3, 1);
	push(q, 3, 4);
	push(q, 3, 2);
	t0 = rtc_clock_mono_ns();
	pop_run_start(q, 1, 3);
	pop_vol(q, 3, 1, 0);
	pop_vol(q, 3, 2, 0);
	pop_vol(q, 3, 3, 0);
	pop_vol(q, 3, 4, 0);
	/* nothing was held: all came at once */
	ck_assert_int_lt(rtc_clock_mono_ns() - t0, 1000 * 1000000LL);
	rtc_rtqueue_free(q);
}
END_TEST

/* A missing volume holds the next ones for reorder_wait_ms, then the gap
 * is reported. */
START_TEST(test_gap_waits_then_reports)
{
	struct rtc_rtqueue *q = make_queue(0, 150);
	struct rtc_rtq_item it;
	struct rtc_rtq_stats st;
	int64_t t0, dt;

	push(q, 5, 1);
	push(q, 5, 3);
	pop_run_start(q, 1, 5);
	pop_vol(q, 5, 1, 0);
	t0 = rtc_clock_mono_ns();
	ck_assert_int_eq(rtc_rtqueue_pop(q, 50, &it), RTC_ERR_TIMEOUT);
	it = pop_vol(q, 5, 3, 2000);
	dt = rtc_clock_mono_ns() - t0;
	ck_assert_int_eq(it.missing_before, 1);
	ck_assert_int_eq(it.index, 3);
	ck_assert_int_ge(it.queued_ns, 140 * 1000000LL);
	ck_assert_int_lt(dt, 1500 * 1000000LL);
	/* the missing one turns up after all: too late */
	ck_assert_int_eq(push(q, 5, 2), RTC_RTQ_LATE);
	rtc_rtqueue_get_stats(q, &st);
	ck_assert_uint_eq(st.missing, 1);
	ck_assert_uint_eq(st.late, 1);
	rtc_rtqueue_free(q);
}
END_TEST

START_TEST(test_duplicates)
{
	struct rtc_rtqueue *q = make_queue(0, 1000);
	struct rtc_rtq_item it;
	struct rtc_rtq_stats st;

	push(q, 9, 1);
	ck_assert_int_eq(push(q, 9, 1), RTC_RTQ_DUPLICATE);  /* both queued */
	push(q, 9, 2);
	pop_run_start(q, 1, 9);
	pop_vol(q, 9, 1, 0);
	pop_vol(q, 9, 2, 0);
	ck_assert_int_eq(push(q, 9, 2), RTC_RTQ_DUPLICATE);  /* handed out */
	ck_assert_int_eq(push(q, 9, 1), RTC_RTQ_DUPLICATE);
	ck_assert_int_eq(rtc_rtqueue_pop(q, 20, &it), RTC_ERR_TIMEOUT);
	rtc_rtqueue_get_stats(q, &st);
	ck_assert_uint_eq(st.duplicates, 3);
	ck_assert_uint_eq(st.handed_out, 2);
	rtc_rtqueue_free(q);
}
END_TEST

/* The real Siemens series: its 000000 file is a byte copy of volume 10
 * and sorts first. In name order the queue hands out 1..10 once. */
START_TEST(test_real_series_with_duplicate)
{
	const char *data = check_data_dir();
	struct rtc_rtqueue *q;
	struct rtc_rtq_item it;
	struct rtc_rtq_stats st;
	int i;

	if (data == NULL)
		return;
	q = make_queue(0, 2000);
	for (i = 0; i <= 10; i++) {
		char path[4096];
		struct rtc_dcm_probe p;
		struct rtc_volume *v = rtc_rtqueue_get_free(q);

		snprintf(path, sizeof(path),
		    "%s/dicom/siemens-e11-mosaic-rt/001_000013_%06d.dcm", data, i);
		ck_assert_int_eq(rtc_watch_dcm_probe_file(path, 0, &p, NULL),
		    RTC_OK);
		v->acq.series_number = p.series_number;
		v->acq.acquisition_number = p.acquisition_number;
		v->acq.instance_number = p.instance_number;
		snprintf(v->acq.series_uid, sizeof(v->acq.series_uid), "%s",
		    p.series_uid);
		ck_assert_int_eq(rtc_rtqueue_push(q, v, rtc_clock_mono_ns(),
		    (void *)(intptr_t)(13000 + p.acquisition_number), NULL),
		    RTC_OK);
	}
	pop_run_start(q, 1, 13);
	for (i = 1; i <= 10; i++) {
		it = pop_vol(q, 13, i, 0);
		ck_assert_int_eq(it.index, i);
	}
	ck_assert_int_eq(rtc_rtqueue_pop(q, 20, &it), RTC_ERR_TIMEOUT);
	rtc_rtqueue_get_stats(q, &st);
	ck_assert_uint_eq(st.pushed, 11);
	ck_assert_uint_eq(st.duplicates, 1);
	ck_assert_uint_eq(st.handed_out, 10);
	ck_assert_uint_eq(st.missing, 0);
	rtc_rtqueue_free(q);
}
END_TEST

START_TEST(test_series_switch)
{
	struct rtc_rtqueue *q = make_queue(0, 10000);
	struct rtc_rtq_item it;
	struct rtc_rtq_stats st;
	int64_t t0;

	push(q, 13, 1);
	push(q, 13, 3);       /* 2 never comes */
	push(q, 14, 2);
	push(q, 14, 1);
	t0 = rtc_clock_mono_ns();
	pop_run_start(q, 1, 13);
	pop_vol(q, 13, 1, 0);
	/* a newer run is queued: no waiting for the old run's gap */
	it = pop_vol(q, 13, 3, 0);
	ck_assert_int_eq(it.missing_before, 1);
	pop_run_start(q, 2, 14);
	it = pop_vol(q, 14, 1, 0);
	ck_assert_int_eq(it.run, 2);
	ck_assert_int_eq(it.index, 1);
	pop_vol(q, 14, 2, 0);
	ck_assert_int_lt(rtc_clock_mono_ns() - t0, 1000 * 1000000LL);
	/* the old series is over */
	ck_assert_int_eq(push(q, 13, 4), RTC_RTQ_LATE);
	ck_assert_int_eq(push(q, 13, 1), RTC_RTQ_DUPLICATE);
	rtc_rtqueue_get_stats(q, &st);
	ck_assert_uint_eq(st.runs, 2);
	rtc_rtqueue_free(q);
}
END_TEST

START_TEST(test_dummies)
{
	struct rtc_rtqueue_opts o;
	struct rtc_rtqueue *q;
	struct rtc_rtq_item it;
	struct rtc_rtq_stats st;
	int i;

	q = make_queue(2, 1000);
	for (i = 1; i <= 4; i++)
		push(q, 1, i);
	pop_run_start(q, 1, 1);
	for (i = 1; i <= 4; i++) {
		it = pop_vol(q, 1, i, 0);
		ck_assert_int_eq(it.dummy, i <= 2);
	}
	rtc_rtqueue_free(q);

	rtc_rtqueue_opts_init(&o);
	o.dummies = 2;
	o.dummy_mode = RTC_RTQ_DUMMY_DROP;
	ck_assert_int_eq(rtc_rtqueue_new(NULL, &o, &q, NULL), RTC_OK);
	for (i = 1; i <= 4; i++)
		push(q, 1, i);
	push(q, 2, 1);
	push(q, 2, 2);
	push(q, 2, 3);
	pop_run_start(q, 1, 1);
	it = pop_vol(q, 1, 3, 0);
	ck_assert_int_eq(it.index, 3);
	ck_assert_int_eq(it.dummy, 0);
	pop_vol(q, 1, 4, 0);
	/* each run has its own dummies */
	pop_run_start(q, 2, 2);
	pop_vol(q, 2, 3, 0);
	rtc_rtqueue_get_stats(q, &st);
	ck_assert_uint_eq(st.dummies, 4);
	ck_assert_uint_eq(st.handed_out, 3);
	rtc_rtqueue_free(q);
}
END_TEST

static void
sink(void *arg, enum rtc_log_level level, const char *line)
{
	int *warned = arg;

	if (level == RTC_LOG_WARN && strstr(line, "slower than the scanner"))
		(*warned)++;
}

/* Slower than the scanner: everything queues, nothing is dropped, the lag
 * is readable, and the memory threshold warns. */
START_TEST(test_lag_and_memory_warning)
{
	struct rtc_ctx *ctx = rtc_ctx_new("test");
	struct rtc_rtqueue_opts o;
	struct rtc_rtqueue *q;
	struct rtc_rtq_item it;
	struct rtc_rtq_lag lag;
	struct rtc_rtq_stats st;
	struct timespec ts = { 0, 60 * 1000000L };
	int warned = 0, i;

	rtc_log_set_sink(ctx->log, sink, &warned);
	rtc_rtqueue_opts_init(&o);
	o.warn_bytes = 5 * 64 * 64 * 30 * 2;   /* five volumes */
	ck_assert_int_eq(rtc_rtqueue_new(ctx, &o, &q, NULL), RTC_OK);
	for (i = 1; i <= 50; i++) {
		struct rtc_volume *v = rtc_rtqueue_get_free(q);

		ck_assert_int_eq(rtc_volume_reshape(v, 64, 64, 30, 1,
		    RTC_DT_INT16), RTC_OK);
		v->acq.series_number = 1;
		v->acq.acquisition_number = i;
		ck_assert_int_eq(rtc_rtqueue_push(q, v, 0, NULL, NULL), RTC_OK);
	}
	nanosleep(&ts, NULL);
	rtc_rtqueue_lag(q, &lag);
	ck_assert_uint_eq(lag.depth, 50);
	ck_assert_int_ge(lag.oldest_ns, 50 * 1000000LL);
	ck_assert_uint_ge(lag.bytes, 50 * 64 * 64 * 30 * 2);
	ck_assert_int_eq(warned, 1);      /* once, not once per volume */
	pop_run_start(q, 1, 1);
	for (i = 1; i <= 50; i++) {
		ck_assert_int_eq(rtc_rtqueue_pop(q, 0, &it), RTC_OK);
		ck_assert_int_eq(it.key, i);
		ck_assert_int_ge(it.queued_ns, 50 * 1000000LL);
		rtc_rtqueue_recycle(q, it.volume);
	}
	rtc_rtqueue_lag(q, &lag);
	ck_assert_uint_eq(lag.depth, 0);
	ck_assert_int_eq(lag.oldest_ns, 0);
	rtc_rtqueue_get_stats(q, &st);
	ck_assert_uint_eq(st.handed_out, 50);
	ck_assert_uint_eq(st.max_depth, 50);
	rtc_rtqueue_free(q);
	rtc_ctx_free(ctx);
}
END_TEST

/* Steady state: volumes cycle through the pool; nothing new is allocated
 * once they have the scan's size. */
START_TEST(test_pool_recycles)
{
	struct rtc_rtqueue *q = make_queue(0, 1000);
	struct rtc_rtq_item it;
	struct rtc_rtq_stats st;
	void *data0 = NULL;
	int i;

	for (i = 1; i <= 200; i++) {
		struct rtc_volume *v = rtc_rtqueue_get_free(q);

		ck_assert_int_eq(rtc_volume_reshape(v, 64, 64, 36, 1,
		    RTC_DT_INT16), RTC_OK);
		if (i == 2)
			data0 = v->data;
		else if (i > 2)
			ck_assert_ptr_eq(v->data, data0);
		v->acq.series_number = 4;
		v->acq.acquisition_number = i;
		ck_assert_int_eq(rtc_rtqueue_push(q, v, 0, NULL, NULL), RTC_OK);
		if (i == 1)
			pop_run_start(q, 1, 4);
		ck_assert_int_eq(rtc_rtqueue_pop(q, 0, &it), RTC_OK);
		ck_assert_int_eq(it.key, i);
		rtc_rtqueue_recycle(q, it.volume);
	}
	rtc_rtqueue_get_stats(q, &st);
	ck_assert_uint_eq(st.pool_volumes, 1);
	rtc_rtqueue_free(q);
}
END_TEST

static void *
stopper(void *arg)
{
	struct timespec ts = { 0, 50 * 1000000L };

	nanosleep(&ts, NULL);
	rtc_rtqueue_stop(arg);
	return NULL;
}

START_TEST(test_stop_and_finish)
{
	struct rtc_rtqueue *q = make_queue(0, 60000);
	struct rtc_rtq_item it;
	pthread_t th;
	int64_t t0;

	/* finish: the gap is not waited for; END afterwards, repeatedly */
	push(q, 2, 1);
	push(q, 2, 3);
	pop_run_start(q, 1, 2);
	pop_vol(q, 2, 1, 0);
	rtc_rtqueue_finish(q);
	it = pop_vol(q, 2, 3, 100);
	ck_assert_int_eq(it.missing_before, 1);
	ck_assert_int_eq(rtc_rtqueue_pop(q, 100, &it), RTC_OK);
	ck_assert_int_eq(it.kind, RTC_RTQ_END);
	ck_assert_int_eq(rtc_rtqueue_pop(q, 100, &it), RTC_OK);
	ck_assert_int_eq(it.kind, RTC_RTQ_END);
	{
		struct rtc_volume *v = rtc_rtqueue_get_free(q);

		ck_assert_int_eq(rtc_rtqueue_push(q, v, 0, NULL, NULL),
		    RTC_ERR_CANCELLED);
	}
	rtc_rtqueue_free(q);

	/* stop wakes a waiting consumer */
	q = make_queue(0, 60000);
	push(q, 2, 2);           /* held: waits for 1 */
	t0 = rtc_clock_mono_ns();
	ck_assert_int_eq(pthread_create(&th, NULL, stopper, q), 0);
	ck_assert_int_eq(rtc_rtqueue_pop(q, 10000, &it), RTC_ERR_CANCELLED);
	ck_assert_int_lt(rtc_clock_mono_ns() - t0, 5000 * 1000000LL);
	pthread_join(th, NULL);
	rtc_rtqueue_free(q);
}
END_TEST

START_TEST(test_unknown_keys_and_invalid)
{
	struct rtc_rtqueue_opts o;
	struct rtc_rtqueue *q;
	struct rtc_rtq_item it;
	int i;

	q = make_queue(0, 1000);
	for (i = 0; i < 3; i++) {
		struct rtc_volume *v = rtc_rtqueue_get_free(q);

		v->acq.series_number = 8;
		v->acq.instance_number = 10 + i * 2;   /* no acquisition number */
		ck_assert_int_eq(rtc_rtqueue_push(q, v, 0, NULL, NULL), RTC_OK);
	}
	for (i = 0; i < 2; i++) {
		struct rtc_volume *v = rtc_rtqueue_get_free(q);

		v->acq.series_number = 9;    /* nothing at all: arrival order */
		ck_assert_int_eq(rtc_rtqueue_push(q, v, 0, NULL, NULL), RTC_OK);
	}
	ck_assert_int_eq(push(q, 9, 1 << 30), RTC_RTQ_INVALID);
	rtc_rtqueue_finish(q);
	ck_assert_int_eq(rtc_rtqueue_pop(q, 0, &it), RTC_OK);
	ck_assert_int_eq(it.kind, RTC_RTQ_RUN_START);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(rtc_rtqueue_pop(q, 0, &it), RTC_OK);
		ck_assert_int_eq(it.key, 10 + i * 2);
		rtc_rtqueue_recycle(q, it.volume);
	}
	ck_assert_int_eq(rtc_rtqueue_pop(q, 0, &it), RTC_OK);
	ck_assert_int_eq(it.kind, RTC_RTQ_RUN_START);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(rtc_rtqueue_pop(q, 0, &it), RTC_OK);
		ck_assert_int_eq(it.index, i + 1);
		rtc_rtqueue_recycle(q, it.volume);
	}
	rtc_rtqueue_free(q);

	/* first_acquisition -1: the first arrival sets the start */
	rtc_rtqueue_opts_init(&o);
	o.first_acquisition = -1;
	o.dummies = 1;
	ck_assert_int_eq(rtc_rtqueue_new(NULL, &o, &q, NULL), RTC_OK);
	push(q, 3, 21);
	push(q, 3, 22);
	pop_run_start(q, 1, 3);
	it = pop_vol(q, 3, 21, 0);
	ck_assert_int_eq(it.index, 1);
	ck_assert_int_eq(it.dummy, 1);
	it = pop_vol(q, 3, 22, 0);
	ck_assert_int_eq(it.index, 2);
	ck_assert_int_eq(it.dummy, 0);
	rtc_rtqueue_free(q);

	o.dummies = -1;
	ck_assert_int_eq(rtc_rtqueue_new(NULL, &o, &q, NULL), RTC_ERR_INVAL);
	rtc_rtqueue_free(NULL);
}
END_TEST

#define NVOL 600

struct producer {
	struct rtc_rtqueue *q;
	unsigned seed;
};

static void *
produce(void *arg)
{
	struct producer *p = arg;
	int order[NVOL], i;

	for (i = 0; i < NVOL; i++)
		order[i] = i + 1;
	/* shuffle within windows of 4: arrivals a little out of order */
	for (i = 0; i + 4 <= NVOL; i += 4) {
		int a = i + (int)(rand_r(&p->seed) % 4);
		int b = i + (int)(rand_r(&p->seed) % 4);
		int t = order[a];

		order[a] = order[b];
		order[b] = t;
	}
	for (i = 0; i < NVOL; i++) {
		struct rtc_volume *v = rtc_rtqueue_get_free(p->q);

		ck_assert_ptr_nonnull(v);
		ck_assert_int_eq(rtc_volume_reshape(v, 16, 16, 8, 1,
		    RTC_DT_INT16), RTC_OK);
		((int16_t *)v->data)[0] = (int16_t)order[i];
		v->acq.series_number = 1;
		v->acq.acquisition_number = order[i];
		ck_assert_int_eq(rtc_rtqueue_push(p->q, v, rtc_clock_mono_ns(),
		    NULL, NULL), RTC_OK);
		if (i % 50 == 0) {
			/* and one duplicate now and then */
			v = rtc_rtqueue_get_free(p->q);
			v->acq.series_number = 1;
			v->acq.acquisition_number = order[i];
			rtc_rtqueue_push(p->q, v, 0, NULL, NULL);
		}
	}
	rtc_rtqueue_finish(p->q);
	return NULL;
}

/* Producer and consumer threads: every volume once, in order. */
START_TEST(test_threads)
{
	struct rtc_rtqueue *q = make_queue(0, 2000);
	struct producer p = { q, 42 };
	struct rtc_rtq_item it;
	struct rtc_rtq_stats st;
	pthread_t th;
	int next = 1;

	ck_assert_int_eq(pthread_create(&th, NULL, produce, &p), 0);
	for (;;) {
		ck_assert_int_eq(rtc_rtqueue_pop(q, 10000, &it), RTC_OK);
		if (it.kind == RTC_RTQ_END)
			break;
		if (it.kind == RTC_RTQ_RUN_START)
			continue;
		ck_assert_int_eq(it.key, next);
		ck_assert_int_eq(((int16_t *)it.volume->data)[0], next);
		ck_assert_int_eq(it.missing_before, 0);
		next++;
		rtc_rtqueue_recycle(q, it.volume);
	}
	pthread_join(th, NULL);
	ck_assert_int_eq(next, NVOL + 1);
	rtc_rtqueue_get_stats(q, &st);
	ck_assert_uint_eq(st.handed_out, NVOL);
	ck_assert_uint_eq(st.duplicates, NVOL / 50);
	ck_assert_uint_eq(st.missing, 0);
	/* everything came back: the pool keeps at most 16 spares */
	ck_assert_uint_le(st.pool_live, 16);
	ck_assert_uint_ge(st.pool_volumes, st.pool_live);
	rtc_rtqueue_free(q);
}
END_TEST

static Suite *
rtqueue_suite(void)
{
	Suite *s = suite_create("rtqueue");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_in_order);
	tcase_add_test(tc, test_reorders);
	tcase_add_test(tc, test_gap_waits_then_reports);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_real_series_with_duplicate);
	tcase_add_test(tc, test_series_switch);
	tcase_add_test(tc, test_dummies);
	tcase_add_test(tc, test_lag_and_memory_warning);
	tcase_add_test(tc, test_pool_recycles);
	tcase_add_test(tc, test_stop_and_finish);
	tcase_add_test(tc, test_unknown_keys_and_invalid);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(rtqueue_suite)
