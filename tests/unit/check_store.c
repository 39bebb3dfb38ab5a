/*
 * check_store: the SQLite job store: schema and migrations, runs, jobs,
 * attempts, events, transactions, on real files.
 */
#include "rtc_build.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>

#include "check_common.h"
#include "error.h"
#include "store.h"

static char *dir;
static char db[512];

static void
setup(void)
{
	dir = check_tmpdir();
	snprintf(db, sizeof(db), "%s/jobs.db", dir);
}

static void
teardown(void)
{
	rtc_fs_remove_tree(dir, NULL);
	free(dir);
}

static struct rtc_run *
new_run(const char *dataset)
{
	struct rtc_run *r = calloc(1, sizeof(*r));

	r->created = 1700000000.5;
	r->dataset = strdup(dataset);
	r->output = strdup("/out");
	r->app = strdup("nipreps/fmriprep:23.1");
	r->runtime = strdup("podman");
	r->backend = strdup("slurm");
	r->spec = json_pack("{s:[s,s],s:i}", "labels", "01", "02", "cpus", 4);
	return r;
}

static struct rtc_job
new_job(const char *run, int idx)
{
	struct rtc_job j;

	memset(&j, 0, sizeof(j));
	snprintf(j.run, sizeof(j.run), "%s", run);
	j.idx = idx;
	snprintf(j.participant, sizeof(j.participant), "%02d", idx + 1);
	j.state = RTC_JOB_QUEUED;
	j.attempt_limit = 3;
	j.cpus = 2;
	j.mem_mb = 8192;
	j.time_min = 600;
	j.exit_code = -1;
	j.ninputs = 7;
	j.bytes = 123456789012LL;
	j.updated = 1700000001.25;
	return j;
}

START_TEST(test_open_creates_schema_wal_private)
{
	struct rtc_store *st = NULL;
	struct stat sb;
	sqlite3 *raw;
	sqlite3_stmt *s;

	ck_assert_int_eq(rtc_store_open(db, &st, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_schema_version(st), RTC_STORE_SCHEMA);
	rtc_store_close(st);
	ck_assert_int_eq(stat(db, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 077, 0);
	ck_assert_int_eq(sqlite3_open(db, &raw), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &s,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(raw);
}
END_TEST

START_TEST(test_newer_schema_refused)
{
	struct rtc_store *st = NULL;
	char *cause = NULL;
	sqlite3 *raw;

	ck_assert_int_eq(sqlite3_open(db, &raw), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	ck_assert_int_eq(rtc_store_open(db, &st, &cause), RTC_ERR_UNSUPPORTED);
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(strstr(cause, "newer"));
	free(cause);
}
END_TEST

START_TEST(test_runs_get_ids_and_survive_reopen)
{
	struct rtc_store *st = NULL;
	struct rtc_run *a = new_run("/data/a"), *b = new_run("/data/b"), *g = NULL;
	struct rtc_run **list = NULL;
	size_t n = 0;
	char *cause = NULL;

	ck_assert_int_eq(rtc_store_open(db, &st, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_run_add(st, a, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_run_add(st, b, NULL), RTC_OK);
	ck_assert_str_eq(a->id, "r1");
	ck_assert_str_eq(b->id, "r2");
	b->cancelled = 1;
	b->submit_seq = 4;
	b->finished = 1700000100.0;
	ck_assert_int_eq(rtc_store_run_update(st, b, NULL), RTC_OK);
	rtc_store_close(st);

	ck_assert_int_eq(rtc_store_open(db, &st, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_run_get(st, "r2", &g, NULL), RTC_OK);
	ck_assert_str_eq(g->dataset, "/data/b");
	ck_assert_str_eq(g->app, "nipreps/fmriprep:23.1");
	ck_assert_int_eq(g->cancelled, 1);
	ck_assert_int_eq(g->submit_seq, 4);
	ck_assert(g->finished == 1700000100.0);
	ck_assert(g->created == 1700000000.5);
	ck_assert_int_eq(json_integer_value(json_object_get(g->spec, "cpus")), 4);
	rtc_run_free(g);
	ck_assert_int_eq(rtc_store_run_get(st, "r3", &g, &cause),
	    RTC_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(cause, "rtc status"));
	ck_assert_int_eq(rtc_store_run_list(st, &list, &n, NULL), RTC_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0]->id, "r1");
	ck_assert_str_eq(list[1]->id, "r2");
	rtc_run_list_free(list, n);
	rtc_store_close(st);
	rtc_run_free(a);
	rtc_run_free(b);
	rtc_run_free(NULL);
	free(cause);
}
END_TEST

START_TEST(test_jobs_roundtrip_and_masks)
{
	struct rtc_store *st = NULL;
	struct rtc_run *run = new_run("/d");
	struct rtc_job j, g, *v = NULL;
	size_t n = 0, counts[RTC_JOB__NSTATES];
	int i;

	ck_assert_int_eq(rtc_store_open(db, &st, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_run_add(st, run, NULL), RTC_OK);
	for (i = 0; i < 5; i++) {
		j = new_job(run->id, i);
		ck_assert_int_eq(rtc_store_job_add(st, &j, NULL), RTC_OK);
	}
	/* adding the same job twice is refused */
	j = new_job(run->id, 2);
	ck_assert_int_eq(rtc_store_job_add(st, &j, NULL), RTC_ERR_EXISTS);
	j.state = RTC_JOB_RUNNING;
	j.attempts = 2;
	snprintf(j.backend_id, sizeof(j.backend_id), "4242_2");
	snprintf(j.token, sizeof(j.token), "rtc-r1.2");
	snprintf(j.sched_state, sizeof(j.sched_state), "RUNNING");
	snprintf(j.reason, sizeof(j.reason), "it's \"running\" (attempt 2)");
	snprintf(j.session, sizeof(j.session), "pre");
	j.exit_code = 75;
	j.cancel_sent = 1;
	ck_assert_int_eq(rtc_store_job_put(st, &j, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_job_get(st, run->id, 2, &g, NULL), RTC_OK);
	ck_assert_int_eq(memcmp(&j, &g, sizeof(j)), 0);
	j = new_job(run->id, 4);
	j.state = RTC_JOB_FAILED;
	ck_assert_int_eq(rtc_store_job_put(st, &j, NULL), RTC_OK);
	j.idx = 99;
	ck_assert_int_eq(rtc_store_job_put(st, &j, NULL), RTC_ERR_NOT_FOUND);

	ck_assert_int_eq(rtc_store_jobs(st, run->id, RTC_JOB_MASK_ACTIVE, &v,
	    &n, NULL), RTC_OK);
	ck_assert_uint_eq(n, 4);
	free(v);
	ck_assert_int_eq(rtc_store_jobs(st, NULL, RTC_JOB_MASK(RTC_JOB_RUNNING) |
	    RTC_JOB_MASK(RTC_JOB_FAILED), &v, &n, NULL), RTC_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(v[0].idx, 2);
	ck_assert_int_eq(v[1].idx, 4);
	free(v);
	ck_assert_int_eq(rtc_store_job_counts(st, run->id, counts, NULL), RTC_OK);
	ck_assert_uint_eq(counts[RTC_JOB_QUEUED], 3);
	ck_assert_uint_eq(counts[RTC_JOB_RUNNING], 1);
	ck_assert_uint_eq(counts[RTC_JOB_FAILED], 1);
	ck_assert_uint_eq(counts[RTC_JOB_DONE], 0);
	rtc_store_close(st);
	rtc_run_free(run);
}
END_TEST

START_TEST(test_transaction_rollback)
{
	struct rtc_store *st = NULL;
	struct rtc_run *run = new_run("/d");
	struct rtc_job j, g;

	ck_assert_int_eq(rtc_store_open(db, &st, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_run_add(st, run, NULL), RTC_OK);
	j = new_job(run->id, 0);
	ck_assert_int_eq(rtc_store_job_add(st, &j, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_begin(st, NULL), RTC_OK);
	j.state = RTC_JOB_DONE;
	ck_assert_int_eq(rtc_store_job_put(st, &j, NULL), RTC_OK);
	rtc_store_rollback(st);
	ck_assert_int_eq(rtc_store_job_get(st, run->id, 0, &g, NULL), RTC_OK);
	ck_assert_int_eq(g.state, RTC_JOB_QUEUED);
	ck_assert_int_eq(rtc_store_begin(st, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_job_put(st, &j, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_commit(st, NULL), RTC_OK);
	rtc_store_close(st);
	/* committed means on disk */
	ck_assert_int_eq(rtc_store_open(db, &st, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_job_get(st, run->id, 0, &g, NULL), RTC_OK);
	ck_assert_int_eq(g.state, RTC_JOB_DONE);
	rtc_store_rollback(st);   /* outside a transaction: harmless */
	rtc_store_close(st);
	rtc_run_free(run);
}
END_TEST

START_TEST(test_attempts)
{
	struct rtc_store *st = NULL;
	struct rtc_attempt a, *v = NULL;
	size_t n = 0;

	ck_assert_int_eq(rtc_store_open(db, &st, NULL), RTC_OK);
	memset(&a, 0, sizeof(a));
	snprintf(a.run, sizeof(a.run), "r1");
	a.idx = 3;
	a.n = 1;
	a.mem_mb = 1000;
	a.exit_code = -1;
	ck_assert_int_eq(rtc_store_attempt_put(st, &a, NULL), RTC_OK);
	a.n = 2;
	a.mem_mb = 2000;
	ck_assert_int_eq(rtc_store_attempt_put(st, &a, NULL), RTC_OK);
	/* the first ends: replaced in place */
	a.n = 1;
	a.mem_mb = 1000;
	a.exit_code = 137;
	snprintf(a.sched_state, sizeof(a.sched_state), "OUT_OF_MEMORY");
	snprintf(a.outcome, sizeof(a.outcome), "out of memory");
	ck_assert_int_eq(rtc_store_attempt_put(st, &a, NULL), RTC_OK);
	a.idx = 4;
	ck_assert_int_eq(rtc_store_attempt_put(st, &a, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_attempts(st, "r1", 3, &v, &n, NULL), RTC_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(v[0].n, 1);
	ck_assert_int_eq(v[0].exit_code, 137);
	ck_assert_str_eq(v[0].sched_state, "OUT_OF_MEMORY");
	ck_assert_int_eq(v[1].n, 2);
	ck_assert_int_eq(v[1].mem_mb, 2000);
	free(v);
	ck_assert_int_eq(rtc_store_attempts(st, "r1", -1, &v, &n, NULL), RTC_OK);
	ck_assert_uint_eq(n, 3);
	free(v);
	rtc_store_close(st);
}
END_TEST

START_TEST(test_events)
{
	struct rtc_store *st = NULL;
	struct rtc_event *ev = NULL;
	size_t n = 0;
	char longtext[3000];
	long long last;

	ck_assert_int_eq(rtc_store_open(db, &st, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_event_add(st, "r1", -1, "created", NULL),
	    RTC_OK);
	ck_assert_int_eq(rtc_store_event_add(st, "r2", 0, "other run", NULL),
	    RTC_OK);
	ck_assert_int_eq(rtc_store_event_add(st, "r1", 4, "running", NULL),
	    RTC_OK);
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	ck_assert_int_eq(rtc_store_event_add(st, "r1", 4, longtext, NULL),
	    RTC_OK);
	ck_assert_int_eq(rtc_store_events(st, "r1", 0, 0, &ev, &n, NULL), RTC_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(ev[0].text, "created");
	ck_assert_int_eq(ev[0].idx, -1);
	ck_assert_int_eq(ev[1].idx, 4);
	ck_assert_uint_eq(strlen(ev[2].text), 1024);
	ck_assert(ev[0].time > 1.6e9);
	last = ev[1].id;
	rtc_store_events_free(ev, n);
	ck_assert_int_eq(rtc_store_events(st, "r1", last, 0, &ev, &n, NULL),
	    RTC_OK);
	ck_assert_uint_eq(n, 1);
	rtc_store_events_free(ev, n);
	ck_assert_int_eq(rtc_store_events(st, "r1", 0, 1, &ev, &n, NULL), RTC_OK);
	ck_assert_uint_eq(n, 1);
	rtc_store_events_free(ev, n);
	rtc_store_close(st);
}
END_TEST

START_TEST(test_thousand_jobs_fast)
{
	struct rtc_store *st = NULL;
	struct rtc_run *run = new_run("/d");
	struct rtc_job j, *v = NULL;
	size_t n = 0;
	struct timespec t0, t1;
	double ms;
	int i;

	ck_assert_int_eq(rtc_store_open(db, &st, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_run_add(st, run, NULL), RTC_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(rtc_store_begin(st, NULL), RTC_OK);
	for (i = 0; i < 1000; i++) {
		j = new_job(run->id, i);
		ck_assert_int_eq(rtc_store_job_add(st, &j, NULL), RTC_OK);
	}
	ck_assert_int_eq(rtc_store_commit(st, NULL), RTC_OK);
	ck_assert_int_eq(rtc_store_jobs(st, run->id, RTC_JOB_MASK_ALL, &v, &n,
	    NULL), RTC_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_uint_eq(n, 1000);
	ck_assert_int_eq(v[999].idx, 999);
	free(v);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	/* one transaction: far below a second even under sanitizers */
	ck_assert_msg(ms < 2000, "1000 jobs took %.0f ms", ms);
	rtc_store_close(st);
	rtc_run_free(run);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_open_creates_schema_wal_private);
	tcase_add_test(tc, test_newer_schema_refused);
	tcase_add_test(tc, test_runs_get_ids_and_survive_reopen);
	tcase_add_test(tc, test_jobs_roundtrip_and_masks);
	tcase_add_test(tc, test_transaction_rollback);
	tcase_add_test(tc, test_attempts);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_thousand_jobs_fast);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(store_suite)
