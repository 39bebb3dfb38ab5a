/*
 * check_creds: the lookup order (option, environment, credentials file
 * and profile, anonymous), region sources, the INI reader, and that no
 * secret reaches a log line.
 */
#include "rtc_build.h"

#include "buf.h"
#include "check_common.h"
#include "creds.h"
#include "ctx.h"
#include "error.h"

static const char *vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION",
	"AWS_DEFAULT_REGION", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
	NULL
};

static char *tmp;

static void
setup(void)
{
	int i;

	for (i = 0; vars[i] != NULL; i++)
		unsetenv(vars[i]);
	tmp = check_tmpdir();
	setenv("HOME", tmp, 1);
}

static void
teardown(void)
{
	rtc_fs_remove_tree(tmp, NULL);
	free(tmp);
}

static void
write_file(const char *name, const char *text, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", tmp, name);
	ck_assert_int_eq(rtc_fs_write_atomic(path, text, strlen(text), 0600, 0,
	    NULL), RTC_OK);
}

static const char creds_text[] =
	"# comment\n"
	"[default]\n"
	"aws_access_key_id = AKIDDEFAULT\n"
	"aws_secret_access_key = secretdefault\n"
	"\n"
	"[lab]\n"
	"aws_access_key_id=AKIDLAB\n"
	"  aws_secret_access_key =  secret/lab+key  \n"
	"aws_session_token = tokenlab\n"
	"[half]\n"
	"aws_access_key_id = AKIDHALF\n";

START_TEST(test_ini_get)
{
	char *v = NULL, *cause = NULL;

	ck_assert_int_eq(rtc_creds_ini_get(creds_text, strlen(creds_text),
	    "lab", "aws_secret_access_key", &v, NULL), RTC_OK);
	ck_assert_str_eq(v, "secret/lab+key");
	free(v);
	v = NULL;
	ck_assert_int_eq(rtc_creds_ini_get(creds_text, strlen(creds_text),
	    "default", "aws_session_token", &v, NULL), RTC_ERR_NOT_FOUND);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(rtc_creds_ini_get(creds_text, strlen(creds_text),
	    "nope", "aws_access_key_id", &v, NULL), RTC_ERR_NOT_FOUND);
	ck_assert(rtc_creds_ini_has_section(creds_text, strlen(creds_text),
	    "half"));
	ck_assert(!rtc_creds_ini_has_section(creds_text, strlen(creds_text),
	    "hal"));
	ck_assert_int_eq(rtc_creds_ini_get("[a]\nno equals\n", 15, "a", "x",
	    &v, &cause), RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "line 2"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(rtc_creds_ini_get("[a\nx=1\n", 7, "a", "x", &v,
	    &cause), RTC_ERR_FORMAT);
	free(cause);
}
END_TEST

/* ~/.aws/config nests sub-sections under "s3 =": they are skipped. */
START_TEST(test_ini_nested)
{
	static const char t[] =
	    "[profile lab]\n"
	    "s3 =\n"
	    "    max_concurrent_requests = 20\n"
	    "    region = not-this\n"
	    "region = eu-west-1\n";
	char *v = NULL;

	ck_assert_int_eq(rtc_creds_ini_get(t, strlen(t), "profile lab",
	    "region", &v, NULL), RTC_OK);
	ck_assert_str_eq(v, "eu-west-1");
	free(v);
}
END_TEST

START_TEST(test_env_wins)
{
	struct rtc_creds *c = NULL;
	char path[512];

	write_file("c", creds_text, path, sizeof(path));
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
	setenv("AWS_SESSION_TOKEN", "tokenenv", 1);
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, NULL), RTC_OK);
	ck_assert_str_eq(c->access_key, "AKIDENV");
	ck_assert_str_eq(c->secret_key, "secretenv");
	ck_assert_str_eq(c->session_token, "tokenenv");
	ck_assert_str_eq(c->source, "environment");
	ck_assert_int_eq(c->anonymous, 0);
	ck_assert_str_eq(c->region, "us-east-1");
	rtc_creds_free(c);
}
END_TEST

START_TEST(test_env_half_pair_is_error)
{
	struct rtc_creds *c = NULL;
	char *cause = NULL;

	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, &cause), RTC_ERR_AUTH);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(cause, "AWS_SECRET_ACCESS_KEY"));
	free(cause);
}
END_TEST

START_TEST(test_file_profiles)
{
	struct rtc_creds *c = NULL;
	struct rtc_creds_opts o = { "lab", NULL, 0 };
	char path[512], *cause = NULL;

	write_file("c", creds_text, path, sizeof(path));
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, NULL), RTC_OK);
	ck_assert_str_eq(c->access_key, "AKIDDEFAULT");
	ck_assert_ptr_null(c->session_token);
	ck_assert_str_eq(c->source, "credentials file");
	rtc_creds_free(c);

	ck_assert_int_eq(rtc_creds_load(NULL, &o, &c, NULL), RTC_OK);
	ck_assert_str_eq(c->access_key, "AKIDLAB");
	ck_assert_str_eq(c->secret_key, "secret/lab+key");
	ck_assert_str_eq(c->session_token, "tokenlab");
	rtc_creds_free(c);

	setenv("AWS_PROFILE", "lab", 1);
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, NULL), RTC_OK);
	ck_assert_str_eq(c->access_key, "AKIDLAB");
	rtc_creds_free(c);

	setenv("AWS_PROFILE", "missing", 1);
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, &cause), RTC_ERR_AUTH);
	ck_assert_ptr_nonnull(strstr(cause, "missing"));
	free(cause);
	cause = NULL;

	setenv("AWS_PROFILE", "half", 1);
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, &cause), RTC_ERR_AUTH);
	ck_assert_ptr_null(strstr(cause, "AKIDHALF"));
	free(cause);
}
END_TEST

/* A malformed line anywhere in the credentials file is an error naming
 * the file and line, also after the profile's keys: rtc used to go on
 * without credentials (found by tests/fuzz/fuzz_creds). */
START_TEST(test_file_malformed_later)
{
	struct rtc_creds *c = NULL;
	char path[512], *cause = NULL;

	write_file("c", "[default]\naws_access_key_id = AKIDX\n"
	    "aws_secret_access_key = secretx\n[lab\n", path, sizeof(path));
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, &cause),
	    RTC_ERR_FORMAT);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(cause, path));
	ck_assert_ptr_nonnull(strstr(cause, "line 4"));
	ck_assert_ptr_null(strstr(cause, "secretx"));
	free(cause);
	cause = NULL;
	write_file("c", "[other]\nkey = v\nno equals sign\n", path,
	    sizeof(path));
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, &cause),
	    RTC_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(cause, "line 3"));
	free(cause);
}
END_TEST

/* ~/.aws/credentials found through $HOME when no variable names it. */
START_TEST(test_home_default_file)
{
	struct rtc_creds *c = NULL;
	char dir[512], path[512];

	snprintf(dir, sizeof(dir), "%s/.aws", tmp);
	ck_assert_int_eq(rtc_fs_mkdir_p(dir, 0700, NULL), RTC_OK);
	write_file(".aws/credentials", creds_text, path, sizeof(path));
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, NULL), RTC_OK);
	ck_assert_str_eq(c->access_key, "AKIDDEFAULT");
	rtc_creds_free(c);
}
END_TEST

START_TEST(test_anonymous)
{
	struct rtc_creds *c = NULL;
	struct rtc_creds_opts o = { NULL, NULL, 1 };

	/* nothing configured: anonymous, not an error */
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, NULL), RTC_OK);
	ck_assert_int_eq(c->anonymous, 1);
	ck_assert_ptr_null(c->access_key);
	ck_assert_str_eq(c->source, "none");
	rtc_creds_free(c);
	/* --no-sign beats keys in the environment */
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
	ck_assert_int_eq(rtc_creds_load(NULL, &o, &c, NULL), RTC_OK);
	ck_assert_int_eq(c->anonymous, 1);
	ck_assert_ptr_null(c->secret_key);
	rtc_creds_free(c);
	rtc_creds_free(NULL);
}
END_TEST

START_TEST(test_region_order)
{
	struct rtc_creds *c = NULL;
	struct rtc_creds_opts o = { NULL, "ap-south-1", 0 };
	char path[512];

	write_file("cfg", "[default]\nregion = eu-central-1\n"
	    "[profile lab]\nregion = eu-north-1\n", path, sizeof(path));
	setenv("AWS_CONFIG_FILE", path, 1);
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, NULL), RTC_OK);
	ck_assert_str_eq(c->region, "eu-central-1");
	rtc_creds_free(c);
	setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, NULL), RTC_OK);
	ck_assert_str_eq(c->region, "us-west-1");
	rtc_creds_free(c);
	setenv("AWS_REGION", "us-west-2", 1);
	ck_assert_int_eq(rtc_creds_load(NULL, NULL, &c, NULL), RTC_OK);
	ck_assert_str_eq(c->region, "us-west-2");
	rtc_creds_free(c);
	ck_assert_int_eq(rtc_creds_load(NULL, &o, &c, NULL), RTC_OK);
	ck_assert_str_eq(c->region, "ap-south-1");
	rtc_creds_free(c);
}
END_TEST

START_TEST(test_conf_profile_and_region)
{
	struct rtc_ctx *ctx = rtc_ctx_new("t");
	struct rtc_creds *c = NULL;
	char path[512];

	write_file("c", creds_text, path, sizeof(path));
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	json_object_set_new(ctx->conf, "s3", json_pack("{s:s,s:s}", "profile",
	    "lab", "region", "eu-west-3"));
	ck_assert_int_eq(rtc_creds_load(ctx, NULL, &c, NULL), RTC_OK);
	ck_assert_str_eq(c->access_key, "AKIDLAB");
	ck_assert_str_eq(c->region, "eu-west-3");
	rtc_creds_free(c);
	rtc_ctx_free(ctx);
}
END_TEST

static void
collect(void *arg, enum rtc_log_level level, const char *line)
{
	struct rtc_buf *b = arg;

	(void)level;
	rtc_buf_append_str(b, line);
	rtc_buf_append_str(b, "\n");
}

START_TEST(test_debug_log_has_no_secret)
{
	struct rtc_ctx *ctx = rtc_ctx_new("t");
	struct rtc_creds *c = NULL;
	struct rtc_buf lines;
	FILE *devnull = fopen("/dev/null", "w");

	rtc_buf_init(&lines, 0);
	rtc_log_set_file(ctx->log, devnull);
	rtc_log_set_sink(ctx->log, collect, &lines);
	rtc_log_set_debug(ctx->log, "all", NULL);
	setenv("AWS_ACCESS_KEY_ID", "AKIDVISIBLEWXYZ", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SuperSecretValue", 1);
	setenv("AWS_SESSION_TOKEN", "SessionTokenValue", 1);
	ck_assert_int_eq(rtc_creds_load(ctx, NULL, &c, NULL), RTC_OK);
	ck_assert_ptr_nonnull(lines.data);
	ck_assert_ptr_nonnull(strstr(lines.data, "environment"));
	ck_assert_ptr_null(strstr(lines.data, "SuperSecret"));
	ck_assert_ptr_null(strstr(lines.data, "SessionToken"));
	ck_assert_ptr_null(strstr(lines.data, "AKIDVISIBLE"));
	ck_assert_ptr_nonnull(strstr(lines.data, "WXYZ"));
	rtc_creds_free(c);
	rtc_buf_free(&lines);
	rtc_ctx_free(ctx);
	fclose(devnull);
}
END_TEST

static Suite *
creds_suite(void)
{
	Suite *s = suite_create("creds");
	TCase *tc = tcase_create("creds");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ini_get);
	tcase_add_test(tc, test_ini_nested);
	tcase_add_test(tc, test_env_wins);
	tcase_add_test(tc, test_env_half_pair_is_error);
	tcase_add_test(tc, test_file_profiles);
	tcase_add_test(tc, test_file_malformed_later);
	tcase_add_test(tc, test_home_default_file);
	tcase_add_test(tc, test_anonymous);
	tcase_add_test(tc, test_region_order);
	tcase_add_test(tc, test_conf_profile_and_region);
	tcase_add_test(tc, test_debug_log_has_no_secret);
	suite_add_tcase(s, tc);
	return s;
}

RTC_CHECK_MAIN(creds_suite)
