/*
 * check_backend_local: the local backend's ops table on real processes:
 * submit, poll (own children, adopted ones, zombies, lost ones), cancel of
 * a whole process group, capacity.
 */
#include "rtc_build.h"

#include <signal.h>

#include "backends.h"
#include "check_batch_common.h"
#include "clock.h"
#include "ctx.h"
#include "error.h"

static const struct rtc_backend_ops *ops = &rtc_backend_local;

/* Poll q until it is no longer running (or 20 s). */
static void
poll_until_done(void *st, struct rtc_backend_query *q)
{
	int64_t end = rtc_clock_mono_ns() + 20LL * 1000000000LL;

	do {
		ck_assert_int_eq(ops->poll(st, q, 1, NULL), RTC_OK);
		if (q->state != RTC_SCHED_RUNNING)
			return;
		rtc_clock_sleep_ns(20000000, NULL);
	} while (rtc_clock_mono_ns() < end);
	ck_abort_msg("still running");
}

static void *
open_local(struct rtc_ctx *ctx, const char *conf_text)
{
	json_t *conf = conf_text ? json_loads(conf_text, 0, NULL) : NULL;
	void *st = NULL;

	ck_assert_int_eq(ops->open(ctx, conf, &st, NULL), RTC_OK);
	json_decref(conf);
	return st;
}

START_TEST(test_submit_poll_exit_codes)
{
	struct rtc_ctx *ctx = rtc_ctx_new("t");
	char *d = check_tmpdir(), s0[4096], s1[4096], p0[4096], p1[4096];
	struct rtc_backend_task t[2];
	struct rtc_backend_submit sub;
	struct rtc_backend_query q;
	char *text;
	void *st = open_local(ctx, "{\"max_parallel\": 3}");

	snprintf(s0, sizeof(s0), "%s/a.sh", d);
	snprintf(s1, sizeof(s1), "%s/b.sh", d);
	snprintf(p0, sizeof(p0), "%s/a.pid", d);
	snprintf(p1, sizeof(p1), "%s/b.pid", d);
	put_file(d, "a.sh", "exit 0\n");
	put_file(d, "b.sh", "sleep 0.2; exit 3\n");
	memset(t, 0, sizeof(t));
	memset(&sub, 0, sizeof(sub));
	t[0].script = s0;
	t[0].pid_file = p0;
	t[1].script = s1;
	t[1].pid_file = p1;
	sub.tasks = t;
	sub.ntasks = 2;
	ck_assert_int_eq(ops->capacity(st), 3);
	ck_assert_int_eq(ops->submit(st, &sub, NULL), RTC_OK);
	ck_assert_uint_eq(sub.nsubmitted, 2);
	ck_assert_int_eq(ops->capacity(st), 1);
	ck_assert(strncmp(t[0].backend_id, "local:", 6) == 0);
	text = read_all(p1);
	ck_assert_str_eq(text, t[1].backend_id);
	free(text);
	memset(&q, 0, sizeof(q));
	snprintf(q.backend_id, sizeof(q.backend_id), "%s", t[0].backend_id);
	poll_until_done(st, &q);
	ck_assert_int_eq(q.state, RTC_SCHED_COMPLETED);
	ck_assert_int_eq(q.exit_code, 0);
	/* its id was never stored: found through the pid file */
	memset(&q, 0, sizeof(q));
	q.pid_file = p1;
	poll_until_done(st, &q);
	ck_assert_str_eq(q.backend_id, t[1].backend_id);
	ck_assert_int_eq(q.state, RTC_SCHED_FAILED);
	ck_assert_int_eq(q.exit_code, 3);
	ck_assert_int_eq(ops->capacity(st), 3);
	/* garbage and unknown ids are lost */
	snprintf(q.backend_id, sizeof(q.backend_id), "local:1:0");
	ck_assert_int_eq(ops->poll(st, &q, 1, NULL), RTC_OK);
	ck_assert_int_eq(q.state, RTC_SCHED_LOST);
	snprintf(q.backend_id, sizeof(q.backend_id), "1234_5");
	q.pid_file = NULL;
	ck_assert_int_eq(ops->poll(st, &q, 1, NULL), RTC_OK);
	ck_assert_int_eq(q.state, RTC_SCHED_LOST);
	ops->close(st);
	rtc_fs_remove_tree(d, NULL);
	free(d);
	rtc_ctx_free(ctx);
}
END_TEST

START_TEST(test_adopted_jobs_and_zombies)
{
	struct rtc_ctx *ctx = rtc_ctx_new("t");
	char *d = check_tmpdir(), s0[4096];
	struct rtc_backend_task t;
	struct rtc_backend_submit sub;
	struct rtc_backend_query q;
	void *first = open_local(ctx, NULL), *second = open_local(ctx, NULL);

	snprintf(s0, sizeof(s0), "%s/a.sh", d);
	put_file(d, "a.sh", "sleep 0.5\n");
	memset(&t, 0, sizeof(t));
	memset(&sub, 0, sizeof(sub));
	t.script = s0;
	sub.tasks = &t;
	sub.ntasks = 1;
	ck_assert_int_eq(ops->submit(first, &sub, NULL), RTC_OK);
	/* a second instance (a restarted daemon) did not start it */
	memset(&q, 0, sizeof(q));
	snprintf(q.backend_id, sizeof(q.backend_id), "%s", t.backend_id);
	ck_assert_int_eq(ops->poll(second, &q, 1, NULL), RTC_OK);
	ck_assert_int_eq(q.state, RTC_SCHED_RUNNING);
	/* once it exits it is a zombie nobody here reaps: ended, not running */
	rtc_clock_sleep_ns(1200000000LL, NULL);
	ck_assert_int_eq(ops->poll(second, &q, 1, NULL), RTC_OK);
	ck_assert_int_eq(q.state, RTC_SCHED_LOST);
	/* a recycled pid with another start time is not the job */
	{
		char id[64];
		long pid;
		unsigned long long start;

		ck_assert_int_eq(sscanf(t.backend_id, "local:%ld:%llu", &pid,
		    &start), 2);
		snprintf(id, sizeof(id), "local:%ld:%llu", (long)getpid(), start + 1);
		snprintf(q.backend_id, sizeof(q.backend_id), "%s", id);
		ck_assert_int_eq(ops->poll(second, &q, 1, NULL), RTC_OK);
		ck_assert_int_eq(q.state, RTC_SCHED_LOST);
	}
	ops->close(first);
	ops->close(second);
	rtc_fs_remove_tree(d, NULL);
	free(d);
	rtc_ctx_free(ctx);
}
END_TEST

START_TEST(test_cancel_kills_the_group)
{
	struct rtc_ctx *ctx = rtc_ctx_new("t");
	char *d = check_tmpdir(), s0[4096], child[4096], *text;
	struct rtc_backend_task t;
	struct rtc_backend_submit sub;
	struct rtc_backend_query q;
	const char *ids[1];
	void *st = open_local(ctx, NULL);
	long cpid = 0;
	int64_t t0;

	snprintf(s0, sizeof(s0), "%s/a.sh", d);
	snprintf(child, sizeof(child), "%s/child.pid", d);
	/* the script starts a grandchild that would outlive a plain kill */
	put_file(d, "a.sh", "sleep 60 & echo $! > child.pid; wait\n");
	memset(&t, 0, sizeof(t));
	memset(&sub, 0, sizeof(sub));
	t.script = s0;
	sub.tasks = &t;
	sub.ntasks = 1;
	ck_assert_int_eq(chdir(d), 0);
	ck_assert_int_eq(ops->submit(st, &sub, NULL), RTC_OK);
	t0 = rtc_clock_mono_ns();
	while ((text = read_all(child)) == NULL || *text == '\0') {
		free(text);
		ck_assert_int_lt(rtc_clock_mono_ns() - t0, 10LL * 1000000000LL);
		rtc_clock_sleep_ns(20000000, NULL);
	}
	cpid = strtol(text, NULL, 10);
	free(text);
	ck_assert_int_eq(kill((pid_t)cpid, 0), 0);
	ids[0] = t.backend_id;
	ck_assert_int_eq(ops->cancel(st, ids, 1, NULL), RTC_OK);
	ck_assert_int_lt(rtc_clock_mono_ns() - t0, 10LL * 1000000000LL);
	memset(&q, 0, sizeof(q));
	snprintf(q.backend_id, sizeof(q.backend_id), "%s", t.backend_id);
	poll_until_done(st, &q);
	ck_assert_int_ne(q.state, RTC_SCHED_RUNNING);
	/* the grandchild got the signal too (reparented, then gone) */
	t0 = rtc_clock_mono_ns();
	while (kill((pid_t)cpid, 0) == 0 &&
	    rtc_clock_mono_ns() - t0 < 5LL * 1000000000LL)
		rtc_clock_sleep_ns(20000000, NULL);
	ck_assert_int_ne(kill((pid_t)cpid, 0), 0);
	/* cancelling what has ended is fine */
	ck_assert_int_eq(ops->cancel(st, ids, 1, NULL), RTC_OK);
	ops->close(st);
	rtc_fs_remove_tree(d, NULL);
	free(d);
	rtc_ctx_free(ctx);
}
END_TEST

START_TEST(test_bad_conf)
{
	struct rtc_ctx *ctx = rtc_ctx_new("t");
	json_t *conf = json_pack("{s:i}", "max_parallel", 0);
	void *st = NULL;
	char *cause = NULL;

	ck_assert_int_eq(ops->open(ctx, conf, &st, &cause), RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "max_parallel"));
	json_decref(conf);
	free(cause);
	/* the default is one job per CPU */
	st = open_local(ctx, NULL);
	ck_assert_int_eq(ops->capacity(st), sysconf(_SC_NPROCESSORS_ONLN));
	ops->close(st);
	ops->close(NULL);
	rtc_ctx_free(ctx);
}
END_TEST

static Suite *
backend_local_suite(void)
{
	Suite *s = suite_create("backend_local");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_submit_poll_exit_codes);
	tcase_add_test(tc, test_adopted_jobs_and_zombies);
	tcase_add_test(tc, test_cancel_kills_the_group);
	tcase_add_test(tc, test_bad_conf);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(backend_local_suite)
