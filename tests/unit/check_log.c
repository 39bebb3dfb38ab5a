#include "rtc_build.h"

#include "check_common.h"
#include "ctx.h"
#include "error.h"
#include "log.h"

struct captured {
	char last[4096];
	int count;
};

static void
sink(void *arg, enum rtc_log_level level, const char *line)
{
	struct captured *c = arg;

	(void)level;
	snprintf(c->last, sizeof(c->last), "%s", line);
	c->count++;
}

static struct rtc_ctx *
quiet_ctx(struct captured *c, FILE **fp)
{
	struct rtc_ctx *ctx = rtc_ctx_new("rtc");

	ck_assert_ptr_nonnull(ctx);
	*fp = fopen("/dev/null", "w");
	rtc_log_set_file(ctx->log, *fp);
	rtc_log_set_sink(ctx->log, sink, c);
	return ctx;
}

START_TEST(test_levels)
{
	struct captured c = { "", 0 };
	FILE *fp;
	struct rtc_ctx *ctx = quiet_ctx(&c, &fp);

	rtc_log(ctx, INFO, "hello %d", 1);
	ck_assert_int_eq(c.count, 1);
	ck_assert_str_eq(c.last, "rtc: hello 1");
	rtc_log(ctx, WARN, "careful");
	ck_assert_str_eq(c.last, "rtc: warning: careful");
	rtc_log(ctx, ERROR, "bad");
	ck_assert_str_eq(c.last, "rtc: error: bad");
	rtc_log_set_level(ctx->log, RTC_LOG_WARN);
	rtc_log(ctx, INFO, "dropped");
	ck_assert_int_eq(c.count, 3);
	rtc_ctx_free(ctx);
	fclose(fp);
}
END_TEST

START_TEST(test_debug_flags)
{
	struct captured c = { "", 0 };
	FILE *fp;
	struct rtc_ctx *ctx = quiet_ctx(&c, &fp);
	char *cause = NULL;

	rtc_debug(ctx, S3, "off");
	ck_assert_int_eq(c.count, 0);
	ck_assert_int_eq(rtc_log_set_debug(ctx->log, "s3,slurm", &cause), RTC_OK);
	rtc_debug(ctx, S3, "on %s", "now");
	ck_assert_int_eq(c.count, 1);
	ck_assert_ptr_nonnull(strstr(c.last, "debug s3 [check_log.c:"));
	ck_assert_ptr_nonnull(strstr(c.last, "]: on now"));
	rtc_debug(ctx, EC2, "still off");
	ck_assert_int_eq(c.count, 1);
	ck_assert_int_eq(rtc_log_set_debug(ctx->log, "s3,bogus", &cause),
	    RTC_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(cause, "bogus"));
	free(cause);
	rtc_ctx_free(ctx);
	fclose(fp);
}
END_TEST

START_TEST(test_long_line_cut)
{
	struct captured c = { "", 0 };
	FILE *fp;
	struct rtc_ctx *ctx = quiet_ctx(&c, &fp);
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rtc_log(ctx, INFO, "%s", big);
	ck_assert_int_eq(c.count, 1);
	ck_assert_uint_lt(strlen(c.last), 2100);
	ck_assert_str_eq(c.last + strlen(c.last) - 3, "...");
	rtc_ctx_free(ctx);
	fclose(fp);
}
END_TEST

START_TEST(test_timestamps)
{
	struct captured c = { "", 0 };
	FILE *fp;
	struct rtc_ctx *ctx = quiet_ctx(&c, &fp);

	rtc_log_set_timestamps(ctx->log, 1);
	rtc_log(ctx, INFO, "stamped");
	/* 2026-11-21T10:00:00.000Z rtc: stamped */
	ck_assert_int_eq(c.last[4], '-');
	ck_assert_int_eq(c.last[10], 'T');
	ck_assert_int_eq(c.last[23], 'Z');
	ck_assert_str_eq(c.last + 25, "rtc: stamped");
	rtc_ctx_free(ctx);
	fclose(fp);
}
END_TEST

START_TEST(test_null_ctx)
{
	struct rtc_ctx *ctx = NULL;

	/* must not crash: goes to stderr */
	rtc_log(ctx, WARN, "no context");
	ck_assert_int_eq(rtc_log_enabled(NULL, RTC_LOG_INFO, 0), 0);
	ck_assert_int_ne(rtc_log_enabled(NULL, RTC_LOG_ERROR, 0), 0);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_levels);
	tcase_add_test(tc, test_debug_flags);
	tcase_add_test(tc, test_long_line_cut);
	tcase_add_test(tc, test_timestamps);
	tcase_add_test(tc, test_null_ctx);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(log_suite)
