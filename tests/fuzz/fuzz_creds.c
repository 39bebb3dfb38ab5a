/*
 * fuzz_creds: the AWS shared credentials and config files (INI text) as
 * lib/creds reads them: rtc_creds_ini_get / _has_section, and the whole
 * lookup rtc_creds_load does with the input as both files.
 *
 * Invariants: a value found holds no line break and is trimmed; a key
 * found is in a section that exists (or the text is malformed further
 * on); a malformed file never loads; loaded credentials are both keys or
 * neither, with a region.
 * Seeds: tests/fuzz/corpus/creds.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "ctx.h"
#include "error.h"
#include "log.h"

#include "fuzz_common.h"

static char file_path[4096];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(file_path, sizeof(file_path), "%s/aws", fuzz_dir());
	fuzz_aws_env_clear();
	setenv("AWS_SHARED_CREDENTIALS_FILE", file_path, 1);
	setenv("AWS_CONFIG_FILE", file_path, 1);
	return 0;
}

/* RET: nonzero when a line of the text is malformed (a scan for a
 * section no file has reads every line). */
static int
malformed(const char *text, size_t len)
{
	char *v = NULL;

	return rtc_creds_ini_get(text, len, "\x01", "\x01", &v, NULL) ==
	    RTC_ERR_FORMAT;
}

static void
lookup(const char *text, size_t len, const char *section, const char *key)
{
	char *v = NULL, *cause = NULL;
	int r;

	r = rtc_creds_ini_get(text, len, section, key, &v, &cause);
	if (r == RTC_OK) {
		size_t n = strlen(v);

		FUZZ_CHECK(v != NULL);
		FUZZ_CHECK(strchr(v, '\n') == NULL);
		FUZZ_CHECK(n == 0 || (!isspace((unsigned char)v[0]) &&
		    !isspace((unsigned char)v[n - 1])));
		FUZZ_CHECK(n <= len);
		/* a value is found before a later malformed line is seen */
		FUZZ_CHECK(rtc_creds_ini_has_section(text, len, section) ||
		    malformed(text, len));
		free(v);
	} else {
		FUZZ_CHECK(r == RTC_ERR_NOT_FOUND || r == RTC_ERR_FORMAT);
		FUZZ_CHECK(v == NULL);
	}
	free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const sections[] = { "default", "profile dev",
	    "dev", "" };
	static const char *const keys[] = { "aws_access_key_id",
	    "aws_secret_access_key", "aws_session_token", "region", "" };
	const char *text = (const char *)data;
	struct rtc_creds_opts o;
	struct rtc_creds *c = NULL;
	struct rtc_ctx *ctx;
	char *cause = NULL;
	size_t i, k;

	if (file_path[0] == '\0')
		LLVMFuzzerInitialize(NULL, NULL);
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			lookup(text, size, sections[i], keys[k]);

	fuzz_put(fuzz_dir(), "aws", data, size);
	ctx = rtc_ctx_new("fuzz");
	FUZZ_CHECK(ctx != NULL);
	rtc_log_set_level(ctx->log, RTC_LOG_ERROR);
	memset(&o, 0, sizeof(o));
	for (i = 0; i < 2; i++) {
		o.profile = i == 0 ? NULL : "dev";
		if (rtc_creds_load(ctx, &o, &c, &cause) == RTC_OK) {
			/* a malformed file is an error, never a quiet
			 * fallback to no credentials */
			FUZZ_CHECK(!malformed(text, size));
			FUZZ_CHECK(c->region != NULL && c->region[0] != '\0');
			FUZZ_CHECK((c->access_key == NULL) ==
			    (c->secret_key == NULL));
			FUZZ_CHECK(c->anonymous == (c->access_key == NULL));
			rtc_creds_free(c);
			c = NULL;
		}
		free(cause);
		cause = NULL;
	}
	rtc_ctx_free(ctx);
	return 0;
}
