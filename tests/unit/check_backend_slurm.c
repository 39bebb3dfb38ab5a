/*
 * check_backend_slurm: the slurm backend's command-line path against
 * stand-in sbatch/sacct/squeue/scancel/scontrol/sacctmgr scripts that
 * record their arguments and answer with set texts: chunking to
 * MaxArraySize, job names, array specs, the %N throttle, refusals,
 * state parsing (ranges, "CANCELLED by", OOM, signals), the squeue
 * fallback, lookup by submission name, and scancel's task lists. The
 * same code runs against a real Slurm in tests/integration/batch_slurm.sh.
 */
#include "rtc_build.h"

#include "backends.h"
#include "check_batch_common.h"
#include "ctx.h"
#include "error.h"

static const struct rtc_backend_ops *ops = &rtc_backend_slurm;
static char *fake;
static struct rtc_ctx *ctx;

#define TOOL(name, body) put_file(fake, "bin/" name, "#!/bin/sh\n" body)

static void
setup(void)
{
	char path[8192], bin[4096];
	const char *tools[] = { "sbatch", "sacct", "squeue", "scancel",
	    "scontrol", "sacctmgr" };
	size_t i;

	fake = check_tmpdir();
	setenv("FAKE", fake, 1);
	TOOL("scontrol", "printf 'MaxArraySize            = 4\\n"
	    "MaxJobCount             = 10000\\nMinJobAge               = 300 sec\\n'\n");
	TOOL("sacctmgr", "exit 0\n");
	TOOL("sbatch",
	    "[ -e \"$FAKE/sbatch.fail\" ] && { cat \"$FAKE/sbatch.fail\" >&2; "
	    "exit 1; }\n"
	    "n=$(cat \"$FAKE/next\" 2>/dev/null || echo 100)\n"
	    "echo $((n + 1)) >\"$FAKE/next\"\n"
	    "printf '%s|' \"$@\" >>\"$FAKE/sbatch.log\"; echo >>\"$FAKE/sbatch.log\"\n"
	    "echo \"$n\"\n");
	TOOL("sacct",
	    "printf '%s|' \"$@\" >>\"$FAKE/sacct.log\"; echo >>\"$FAKE/sacct.log\"\n"
	    "[ -e \"$FAKE/sacct.fail\" ] && { echo 'sacct: error: Slurm "
	    "accounting storage is disabled' >&2; exit 1; }\n"
	    "cat \"$FAKE/sacct.out\" 2>/dev/null; exit 0\n");
	TOOL("squeue",
	    "printf '%s|' \"$@\" >>\"$FAKE/squeue.log\"; echo >>\"$FAKE/squeue.log\"\n"
	    "cat \"$FAKE/squeue.out\" 2>/dev/null; exit 0\n");
	TOOL("scancel",
	    "printf '%s|' \"$@\" >>\"$FAKE/scancel.log\"; echo >>\"$FAKE/scancel.log\"\n");
	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		snprintf(path, sizeof(path), "%s/bin/%s", fake, tools[i]);
		ck_assert_int_eq(chmod(path, 0755), 0);
	}
	snprintf(bin, sizeof(bin), "%s/bin", fake);
	snprintf(path, sizeof(path), "%s:%s", bin, getenv("PATH"));
	setenv("PATH", path, 1);
	put_file(fake, "run/jobs/.keep", "");
	ctx = rtc_ctx_new("t");
}

static void
teardown(void)
{
	rtc_ctx_free(ctx);
	rtc_fs_remove_tree(fake, NULL);
	free(fake);
}

static char *
fpath(const char *name)
{
	char *p = NULL;

	ck_assert_int_ge(asprintf(&p, "%s/%s", fake, name), 0);
	return p;
}

static char *
tmpl_dir(void)
{
	char *d = NULL;

	ck_assert_int_ge(asprintf(&d, "%s/templates", getenv("RTC_TOP_SRCDIR")),
	    0);
	return d;
}

static void *
open_slurm(const char *conf_text)
{
	json_t *conf = conf_text ? json_loads(conf_text, 0, NULL) : NULL;
	void *st = NULL;

	ck_assert_int_eq(ops->open(ctx, conf, &st, NULL), RTC_OK);
	json_decref(conf);
	return st;
}

static int
submit(void *st, struct rtc_backend_task *t, size_t n, int throttle,
    size_t *nsub, char **cause)
{
	struct rtc_backend_submit s;
	char *run = fpath("run"), *jobs = fpath("run/jobs"), *td = tmpl_dir();
	int r;

	memset(&s, 0, sizeof(s));
	s.run = "r1";
	s.run_dir = run;
	s.jobs_dir = jobs;
	s.token = "rtc-r1.1";
	s.template_dir = td;
	s.throttle = throttle;
	s.tasks = t;
	s.ntasks = n;
	r = ops->submit(st, &s, cause);
	*nsub = s.nsubmitted;
	free(run);
	free(jobs);
	free(td);
	return r;
}

static void
tasks(struct rtc_backend_task *t, const int *idx, size_t n, long mem)
{
	size_t i;

	memset(t, 0, n * sizeof(*t));
	for (i = 0; i < n; i++) {
		t[i].idx = idx[i];
		t[i].cpus = 2;
		t[i].mem_mb = mem;
		t[i].time_min = 30;
	}
}

START_TEST(test_submit_chunks_to_max_array_size)
{
	static const int idx[] = { 0, 1, 2, 3, 4, 5, 6 };
	struct rtc_backend_task t[7];
	char *log, *wrapper, *p, *w = fpath("run/sbatch.sh");
	size_t n = 0;
	void *st = open_slurm("{\"partition\": \"debug\"}");

	tasks(t, idx, 7, 500);
	ck_assert_int_eq(submit(st, t, 7, 0, &n, NULL), RTC_OK);
	ck_assert_uint_eq(n, 7);
	ck_assert_str_eq(t[0].backend_id, "100_0");
	ck_assert_str_eq(t[3].backend_id, "100_3");
	ck_assert_str_eq(t[4].backend_id, "101_0");
	ck_assert_str_eq(t[6].backend_id, "101_2");
	log = read_all(p = fpath("sbatch.log"));
	free(p);
	ck_assert_ptr_nonnull(strstr(log, "--parsable|--job-name=rtc-r1.1-o0|"
	    "--array|0-3|--cpus-per-task=2|--mem=500M|--time=30|"));
	ck_assert_ptr_nonnull(strstr(log, "--job-name=rtc-r1.1-o4|--array|0-2|"));
	ck_assert_ptr_nonnull(strstr(log, "--partition|debug|"));
	ck_assert_ptr_nonnull(strstr(log, "sbatch.sh|0|\n"));
	ck_assert_ptr_nonnull(strstr(log, "sbatch.sh|4|\n"));
	free(log);
	/* the array script runs job OFFSET + task of the jobs directory */
	wrapper = read_all(w);
	ck_assert_ptr_nonnull(wrapper);
	ck_assert_ptr_nonnull(strstr(wrapper, "/run/jobs'/\"$((offset + "
	    "SLURM_ARRAY_TASK_ID))\"/run.sh"));
	free(wrapper);
	free(w);
	ops->close(st);
}
END_TEST

START_TEST(test_submit_groups_and_throttle)
{
	static const int idx[] = { 9, 2, 3, 5 };
	struct rtc_backend_task t[4];
	char *log, *p;
	size_t n = 0;
	void *st = open_slurm("{\"max_array_size\": 100, "
	    "\"sbatch_args\": [\"--qos=low\"]}");

	tasks(t, idx, 4, 500);
	t[0].mem_mb = 1000;   /* a retry with more memory: its own array */
	ck_assert_int_eq(submit(st, t, 4, 2, &n, NULL), RTC_OK);
	ck_assert_str_eq(t[1].backend_id, "100_0");
	ck_assert_str_eq(t[2].backend_id, "100_1");
	ck_assert_str_eq(t[3].backend_id, "100_3");
	ck_assert_str_eq(t[0].backend_id, "101_0");
	log = read_all(p = fpath("sbatch.log"));
	free(p);
	ck_assert_ptr_nonnull(strstr(log, "--array|0-1,3%2|"));
	ck_assert_ptr_nonnull(strstr(log, "--job-name=rtc-r1.1-o9|--array|0%2|"
	    "--cpus-per-task=2|--mem=1000M|"));
	ck_assert_ptr_nonnull(strstr(log, "--qos=low|"));
	free(log);
	ops->close(st);
}
END_TEST

START_TEST(test_submit_refusals)
{
	static const int idx[] = { 0, 1 };
	struct rtc_backend_task t[2];
	char *cause = NULL;
	size_t n = 5;
	void *st = open_slurm(NULL);

	tasks(t, idx, 2, 100);
	put_file(fake, "sbatch.fail", "sbatch: error: Batch job submission "
	    "failed: Unable to contact slurm controller (connect failure)\n");
	ck_assert_int_eq(submit(st, t, 2, 0, &n, &cause), RTC_ERR_AGAIN);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(t[0].backend_id, "");
	ck_assert_ptr_nonnull(strstr(cause, "Unable to contact"));
	put_file(fake, "sbatch.fail", "sbatch: error: Batch job submission "
	    "failed: Invalid account or account/partition combination\n");
	ck_assert_int_eq(submit(st, t, 2, 0, &n, &cause), RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "Invalid account"));
	free(cause);
	cause = NULL;
	ops->close(st);
	/* bad settings are refused at open */
	{
		json_t *conf = json_pack("{s:s}", "api", "magic");
		void *s2 = NULL;

		ck_assert_int_eq(ops->open(ctx, conf, &s2, &cause), RTC_ERR_INVAL);
		json_decref(conf);
		conf = json_pack("{s:[s]}", "sbatch_args", "-p x");
		ck_assert_int_eq(ops->open(ctx, conf, &s2, &cause), RTC_ERR_INVAL);
		json_decref(conf);
		free(cause);
	}
}
END_TEST

static struct rtc_backend_query
query(const char *id, int idx)
{
	struct rtc_backend_query q;

	memset(&q, 0, sizeof(q));
	snprintf(q.backend_id, sizeof(q.backend_id), "%s", id);
	q.idx = idx;
	q.token = "rtc-r1.1";
	return q;
}

START_TEST(test_poll_sacct_then_squeue)
{
	struct rtc_backend_query q[9];
	char *log, *p;
	void *st = open_slurm(NULL);

	put_file(fake, "sacct.out",
	    "200_0|COMPLETED|0:0|rtc-r1.1-o0|None\n"
	    "200_1|FAILED|16:0|rtc-r1.1-o0|NonZeroExitCode\n"
	    "200_2|OUT_OF_MEMORY|0:125|rtc-r1.1-o0|OutOfMemory\n"
	    "200_3|CANCELLED by 0|0:9|rtc-r1.1-o0|None\n"
	    "200_[4-5%2]|PENDING|0:0|rtc-r1.1-o0|JobArrayTaskLimit\n"
	    "200_[6-9]|CANCELLED by 0|0:0|rtc-r1.1-o0|None\n"
	    "200_1.batch|FAILED|16:0|batch|\n"
	    /* sacct's passing bare record of an array: not task 0 */
	    "203|FAILED|75:0|allocation|None\n");
	put_file(fake, "squeue.out", "201_0|RUNNING|-|rtc-r1.2-o0|None\n");
	q[0] = query("200_0", 0);
	q[1] = query("200_1", 1);
	q[2] = query("200_2", 2);
	q[3] = query("200_3", 3);
	q[4] = query("200_5", 5);
	q[5] = query("200_7", 7);   /* only in the range record */
	q[6] = query("201_0", 8);   /* sacct has not seen it yet */
	q[7] = query("202_0", 9);   /* nobody knows it */
	q[8] = query("203_0", 10);  /* only a bare record: not its state */
	ck_assert_int_eq(ops->poll(st, q, 9, NULL), RTC_OK);
	ck_assert_int_eq(q[0].state, RTC_SCHED_COMPLETED);
	ck_assert_int_eq(q[0].exit_code, 0);
	ck_assert_int_eq(q[1].state, RTC_SCHED_FAILED);
	ck_assert_int_eq(q[1].exit_code, 16);
	ck_assert_int_eq(q[2].state, RTC_SCHED_OOM);
	ck_assert_int_eq(q[3].state, RTC_SCHED_CANCELLED);
	ck_assert_int_eq(q[3].exit_code, 137);
	ck_assert_int_eq(q[4].state, RTC_SCHED_PENDING);
	ck_assert_str_eq(q[4].reason, "JobArrayTaskLimit");
	ck_assert_int_eq(q[5].state, RTC_SCHED_CANCELLED);
	ck_assert_int_eq(q[6].state, RTC_SCHED_RUNNING);
	ck_assert_int_eq(q[7].state, RTC_SCHED_LOST);
	ck_assert_int_eq(q[8].state, RTC_SCHED_LOST);
	/* one sacct over the arrays, then squeue for what it lacked */
	log = read_all(p = fpath("sacct.log"));
	free(p);
	ck_assert_ptr_nonnull(strstr(log, "--jobs=200,201,202,203|"));
	free(log);
	log = read_all(p = fpath("squeue.log"));
	free(p);
	ck_assert_ptr_nonnull(strstr(log, "--states=all|"));
	ck_assert_ptr_nonnull(strstr(log, "--jobs=200,201,202,203|"));
	free(log);
	ops->close(st);
}
END_TEST

START_TEST(test_poll_without_accounting_and_by_name)
{
	struct rtc_backend_query q[3];
	void *st = open_slurm(NULL);

	put_file(fake, "sacct.fail", "");
	put_file(fake, "squeue.out",
	    "300_0|COMPLETED|-|rtc-r1.1-o0|None\n"
	    "301_1|RUNNING|-|rtc-r1.1-o4|None\n"
	    "302_0|RUNNING|-|rtc-r1.10-o4|None\n");
	q[0] = query("300_0", 0);
	q[1] = query("", 5);        /* submitted, id never stored */
	q[2] = query("", 6);        /* submitted, never reached Slurm */
	ck_assert_int_eq(ops->poll(st, q, 3, NULL), RTC_OK);
	ck_assert_int_eq(q[0].state, RTC_SCHED_COMPLETED);
	ck_assert_int_eq(q[0].exit_code, -1);   /* squeue knows no codes */
	ck_assert_str_eq(q[1].backend_id, "301_1");
	ck_assert_int_eq(q[1].state, RTC_SCHED_RUNNING);
	ck_assert_str_eq(q[2].backend_id, "");
	ck_assert_int_eq(q[2].state, RTC_SCHED_LOST);
	ops->close(st);
}
END_TEST

/* Odd tool output (found by tests/fuzz/fuzz_slurm): a line without its
 * reason field, exit codes and signals out of range, a job name whose
 * offset is no index. Each is read without undefined behaviour. */
START_TEST(test_poll_odd_output)
{
	struct rtc_backend_query q[5];
	void *st = open_slurm(NULL);

	put_file(fake, "sacct.out",
	    "500_0|COMPLETED|300:0|rtc-r1.1-o0\n"
	    "500_1|FAILED|0:9223372036854775807|rtc-r1.1-o0|None\n"
	    "500_2|FAILED|0:9|rtc-r1.1-o0|None\n"
	    "500_3|FAILED|-2:0|rtc-r1.1-o0|None\n");
	put_file(fake, "squeue.out",
	    "501_0|RUNNING|-|rtc-r1.1-o-9223372036854775808|None\n"
	    "502_0|RUNNING|-|rtc-r1.1-o99999999999999999999|None\n");
	q[0] = query("500_0", 0);
	q[1] = query("500_1", 1);
	q[2] = query("500_2", 2);
	q[3] = query("500_3", 3);
	q[4] = query("", 5);
	ck_assert_int_eq(ops->poll(st, q, 5, NULL), RTC_OK);
	ck_assert_int_eq(q[0].state, RTC_SCHED_COMPLETED);
	ck_assert_int_eq(q[0].exit_code, -1);
	ck_assert_str_eq(q[0].reason, "");
	ck_assert_int_eq(q[1].state, RTC_SCHED_FAILED);
	ck_assert_int_eq(q[1].exit_code, -1);
	ck_assert_int_eq(q[2].exit_code, 137);
	ck_assert_int_eq(q[3].exit_code, -1);
	ck_assert_str_eq(q[4].backend_id, "");
	ck_assert_int_eq(q[4].state, RTC_SCHED_LOST);
	ops->close(st);
}
END_TEST

START_TEST(test_poll_fails_when_nobody_answers)
{
	struct rtc_backend_query q = query("400_0", 0);
	char *cause = NULL;
	void *st = open_slurm(NULL);

	put_file(fake, "sacct.fail", "");
	TOOL("squeue", "echo 'squeue: error: Unable to contact slurm "
	    "controller' >&2; exit 1\n");
	ck_assert_int_ne(ops->poll(st, &q, 1, &cause), RTC_OK);
	/* nothing is known: certainly not "lost" */
	ck_assert_int_ne(q.state, RTC_SCHED_LOST);
	free(cause);
	ops->close(st);
}
END_TEST

START_TEST(test_cancel_task_lists)
{
	const char *ids[] = { "100_1", "101_0", "100_3", "junk" };
	char *log, *p;
	void *st = open_slurm(NULL);

	ck_assert_int_eq(ops->cancel(st, ids, 4, NULL), RTC_OK);
	log = read_all(p = fpath("scancel.log"));
	free(p);
	ck_assert_str_eq(log, "100_[1,3]|101_[0]|\n");
	free(log);
	ck_assert_int_eq(ops->cancel(st, NULL, 0, NULL), RTC_OK);
	ck_assert_int_eq(ops->capacity(st), -1);
	ops->close(st);
}
END_TEST

static Suite *
backend_slurm_suite(void)
{
	Suite *s = suite_create("backend_slurm");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_submit_chunks_to_max_array_size);
	tcase_add_test(tc, test_submit_groups_and_throttle);
	tcase_add_test(tc, test_submit_refusals);
	tcase_add_test(tc, test_poll_sacct_then_squeue);
	tcase_add_test(tc, test_poll_without_accounting_and_by_name);
	tcase_add_test(tc, test_poll_odd_output);
	tcase_add_test(tc, test_poll_fails_when_nobody_answers);
	tcase_add_test(tc, test_cancel_task_lists);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(backend_slurm_suite)
