/*
 * check_job: the job state machine and the retry policy.
 */
#include "rtc_build.h"

#include "check_common.h"
#include "error.h"
#include "job.h"

static struct rtc_job
job(int attempts, int limit)
{
	struct rtc_job j;

	memset(&j, 0, sizeof(j));
	snprintf(j.participant, sizeof(j.participant), "01");
	j.attempts = attempts;
	j.attempt_limit = limit;
	j.cpus = 1;
	j.mem_mb = 1000;
	j.time_min = 60;
	j.exit_code = -1;
	return j;
}

static const struct rtc_job_limits lim = { 4000, 200, 2.0 };

START_TEST(test_state_names_roundtrip)
{
	enum rtc_job_state s;
	int i;

	for (i = 0; i < RTC_JOB__NSTATES; i++) {
		ck_assert_int_eq(rtc_job_state_parse(
		    rtc_job_state_name((enum rtc_job_state)i), &s), RTC_OK);
		ck_assert_int_eq((int)s, i);
	}
	ck_assert_str_eq(rtc_job_state_name(RTC_JOB_COLLECTING), "collecting");
	ck_assert_str_eq(rtc_job_state_name((enum rtc_job_state)99), "?");
	ck_assert_int_eq(rtc_job_state_parse("finished", &s), RTC_ERR_INVAL);
	ck_assert(rtc_job_state_terminal(RTC_JOB_DONE));
	ck_assert(rtc_job_state_terminal(RTC_JOB_FAILED));
	ck_assert(rtc_job_state_terminal(RTC_JOB_CANCELLED));
	ck_assert(!rtc_job_state_terminal(RTC_JOB_COLLECTING));
	ck_assert(!rtc_job_state_terminal(RTC_JOB_QUEUED));
}
END_TEST

START_TEST(test_transitions)
{
	/* the forward path */
	ck_assert(rtc_job_transition_valid(RTC_JOB_QUEUED, RTC_JOB_SUBMITTED));
	ck_assert(rtc_job_transition_valid(RTC_JOB_SUBMITTED, RTC_JOB_RUNNING));
	ck_assert(rtc_job_transition_valid(RTC_JOB_RUNNING, RTC_JOB_COLLECTING));
	ck_assert(rtc_job_transition_valid(RTC_JOB_COLLECTING, RTC_JOB_DONE));
	/* a short job can end between two polls */
	ck_assert(rtc_job_transition_valid(RTC_JOB_SUBMITTED,
	    RTC_JOB_COLLECTING));
	/* retries and resubmits */
	ck_assert(rtc_job_transition_valid(RTC_JOB_RUNNING, RTC_JOB_QUEUED));
	ck_assert(rtc_job_transition_valid(RTC_JOB_FAILED, RTC_JOB_QUEUED));
	ck_assert(rtc_job_transition_valid(RTC_JOB_CANCELLED, RTC_JOB_QUEUED));
	/* never */
	ck_assert(!rtc_job_transition_valid(RTC_JOB_DONE, RTC_JOB_QUEUED));
	ck_assert(!rtc_job_transition_valid(RTC_JOB_DONE, RTC_JOB_FAILED));
	ck_assert(!rtc_job_transition_valid(RTC_JOB_QUEUED, RTC_JOB_DONE));
	ck_assert(!rtc_job_transition_valid(RTC_JOB_QUEUED, RTC_JOB_RUNNING));
	ck_assert(!rtc_job_transition_valid(RTC_JOB_COLLECTING,
	    RTC_JOB_CANCELLED));
	ck_assert(!rtc_job_transition_valid(RTC_JOB_CANCELLED, RTC_JOB_DONE));
}
END_TEST

START_TEST(test_sched_parse)
{
	enum rtc_sched_state s;

	ck_assert_int_eq(rtc_sched_state_parse("CANCELLED by 1000", &s), RTC_OK);
	ck_assert_int_eq(s, RTC_SCHED_CANCELLED);
	ck_assert_int_eq(rtc_sched_state_parse("OUT_OF_MEMORY", &s), RTC_OK);
	ck_assert_int_eq(s, RTC_SCHED_OOM);
	ck_assert_int_eq(rtc_sched_state_parse("TIMEOUT", &s), RTC_OK);
	ck_assert_int_eq(s, RTC_SCHED_TIMEOUT);
	ck_assert_int_eq(rtc_sched_state_parse("PENDING", &s), RTC_OK);
	ck_assert_int_eq(s, RTC_SCHED_PENDING);
	ck_assert_int_eq(rtc_sched_state_parse("COMPLETING", &s), RTC_OK);
	ck_assert_int_eq(s, RTC_SCHED_RUNNING);
	ck_assert_int_eq(rtc_sched_state_parse("PREEMPTED", &s), RTC_OK);
	ck_assert_int_eq(s, RTC_SCHED_NODE_FAIL);
	ck_assert_int_eq(rtc_sched_state_parse("BOOT_FAIL", &s), RTC_OK);
	ck_assert_int_eq(s, RTC_SCHED_NODE_FAIL);
	ck_assert_int_eq(rtc_sched_state_parse("WHATEVER", &s),
	    RTC_ERR_NOT_FOUND);
	ck_assert_int_eq(s, RTC_SCHED_UNKNOWN);
	ck_assert_int_eq(rtc_sched_state_parse(
	    "AVERYLONGSTATEWORDTHATNOSCHEDULERWOULDEVERPRINT", &s),
	    RTC_ERR_NOT_FOUND);
	ck_assert_str_eq(rtc_sched_state_name(RTC_SCHED_OOM), "OUT_OF_MEMORY");
}
END_TEST

START_TEST(test_judge_waiting_and_running)
{
	struct rtc_job j = job(1, 3);
	struct rtc_job_outcome o;

	rtc_job_judge(&j, RTC_SCHED_PENDING, -1, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_WAIT);
	rtc_job_judge(&j, RTC_SCHED_UNKNOWN, -1, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_WAIT);
	rtc_job_judge(&j, RTC_SCHED_RUNNING, -1, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_RUNNING);
}
END_TEST

START_TEST(test_judge_success_needs_zero)
{
	struct rtc_job j = job(1, 3);
	struct rtc_job_outcome o;

	rtc_job_judge(&j, RTC_SCHED_COMPLETED, 0, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_COLLECT);
	/* a scheduler that says COMPLETED of a nonzero exit still fails it */
	rtc_job_judge(&j, RTC_SCHED_COMPLETED, 1, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(o.reason, "exit 1"));
}
END_TEST

START_TEST(test_judge_exit_75_retries_until_limit)
{
	struct rtc_job j = job(1, 3);
	struct rtc_job_outcome o;

	rtc_job_judge(&j, RTC_SCHED_FAILED, 75, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_RETRY);
	ck_assert_ptr_nonnull(strstr(o.reason, "attempt 2 of 3"));
	ck_assert_int_eq(o.mem_mb, 1000);
	j.attempts = 3;
	rtc_job_judge(&j, RTC_SCHED_FAILED, 75, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(o.reason, "gave up after 3 attempts"));
}
END_TEST

START_TEST(test_judge_permanent_codes)
{
	static const int codes[] = { 16, 17, 18, 64, 66 };
	struct rtc_job j = job(1, 5);
	struct rtc_job_outcome o;
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		ck_assert(rtc_job_exit_permanent(codes[i]));
		rtc_job_judge(&j, RTC_SCHED_FAILED, codes[i], &lim, &o);
		ck_assert_int_eq(o.verdict, RTC_VERDICT_FAIL);
		ck_assert_ptr_nonnull(strstr(o.reason, "permanent"));
	}
	ck_assert(!rtc_job_exit_permanent(75));
	ck_assert(!rtc_job_exit_permanent(1));
	/* other codes fail without a retry; signals are named */
	rtc_job_judge(&j, RTC_SCHED_FAILED, 2, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_FAIL);
	rtc_job_judge(&j, RTC_SCHED_FAILED, 137, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(o.reason, "signal 9"));
}
END_TEST

START_TEST(test_judge_oom_grows_memory_to_cap)
{
	struct rtc_job j = job(1, 5);
	struct rtc_job_outcome o;

	rtc_job_judge(&j, RTC_SCHED_OOM, -1, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_RETRY);
	ck_assert_int_eq(o.mem_mb, 2000);
	ck_assert_int_eq(o.time_min, 60);
	j.mem_mb = 3000;
	rtc_job_judge(&j, RTC_SCHED_OOM, -1, &lim, &o);
	ck_assert_int_eq(o.mem_mb, 4000);   /* capped */
	j.mem_mb = 4000;
	rtc_job_judge(&j, RTC_SCHED_OOM, -1, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(o.reason, "--max-mem"));
}
END_TEST

START_TEST(test_judge_timeout_grows_time)
{
	struct rtc_job j = job(2, 3);
	struct rtc_job_outcome o;

	rtc_job_judge(&j, RTC_SCHED_TIMEOUT, 143, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_RETRY);
	ck_assert_int_eq(o.time_min, 120);
	ck_assert_int_eq(o.mem_mb, 1000);
	j.time_min = 200;
	rtc_job_judge(&j, RTC_SCHED_TIMEOUT, 143, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_FAIL);
	/* growth never passes the attempt limit either */
	j.time_min = 60;
	j.attempts = 3;
	rtc_job_judge(&j, RTC_SCHED_TIMEOUT, -1, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_FAIL);
}
END_TEST

START_TEST(test_judge_node_failure_lost_cancelled)
{
	struct rtc_job j = job(1, 3);
	struct rtc_job_outcome o;

	rtc_job_judge(&j, RTC_SCHED_NODE_FAIL, -1, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_RETRY);
	rtc_job_judge(&j, RTC_SCHED_LOST, -1, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_RETRY);
	ck_assert_ptr_nonnull(strstr(o.reason, "lost"));
	rtc_job_judge(&j, RTC_SCHED_CANCELLED, -1, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(o.reason, "outside rtc"));
	/* failed without a readable code: another try */
	rtc_job_judge(&j, RTC_SCHED_FAILED, -1, &lim, &o);
	ck_assert_int_eq(o.verdict, RTC_VERDICT_RETRY);
}
END_TEST

START_TEST(test_job_key)
{
	struct rtc_job j = job(0, 1);
	char key[160];

	rtc_job_key(&j, key, sizeof(key));
	ck_assert_str_eq(key, "sub-01");
	snprintf(j.session, sizeof(j.session), "pre");
	rtc_job_key(&j, key, sizeof(key));
	ck_assert_str_eq(key, "sub-01_ses-pre");
}
END_TEST

static Suite *
job_suite(void)
{
	Suite *s = suite_create("job");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_state_names_roundtrip);
	tcase_add_test(tc, test_transitions);
	tcase_add_test(tc, test_sched_parse);
	tcase_add_test(tc, test_judge_waiting_and_running);
	tcase_add_test(tc, test_judge_success_needs_zero);
	tcase_add_test(tc, test_judge_exit_75_retries_until_limit);
	tcase_add_test(tc, test_judge_permanent_codes);
	tcase_add_test(tc, test_judge_oom_grows_memory_to_cap);
	tcase_add_test(tc, test_judge_timeout_grows_time);
	tcase_add_test(tc, test_judge_node_failure_lost_cancelled);
	tcase_add_test(tc, test_job_key);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(job_suite)
