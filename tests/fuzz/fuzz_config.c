/*
 * fuzz_config: rtc.conf as rtc reads it: TOML through libcpptoml into a
 * jansson tree (rtc_config_parse), the typed dotted-path lookups every
 * module makes, the key check, and the settings read from it at start-up
 * (the S3 endpoint URL, the AWS profile and region).
 *
 * Invariants: the tree is an object nested no deeper than the cap; every
 * leaf is found again by its dotted path (when its keys hold no '.');
 * typed lookups agree with the node's type. Seeds: tests/fuzz/corpus/config.
 */
#include "rtc_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "creds.h"
#include "ctx.h"
#include "error.h"
#include "s3.h"

#include "fuzz_common.h"

static const char *const keys[] = {
	"s3.endpoint", "s3.region", "s3.profile", "s3.jobs", "s3.retries",
	"s3.threads", "openneuro.url", "openneuro.cache", "openneuro.retries",
	"openneuro.backoff_ms", "batch", "batch.stage", "batch.keep_work",
	"batch.poll_interval", "batch.slurm", "batch.local", NULL
};

static void
lookups(json_t *root, const char *path)
{
	const char *s = NULL;
	long long i = 0;
	double d = 0;
	int b = 0, r;
	char *cause = NULL;
	json_t *v = rtc_config_get(root, path);

	r = rtc_config_string(root, path, &s, &cause);
	FUZZ_CHECK(r == (v == NULL ? RTC_ERR_NOT_FOUND : json_is_string(v) ?
	    RTC_OK : RTC_ERR_INVAL));
	free(cause);
	cause = NULL;
	r = rtc_config_int(root, path, &i, &cause);
	FUZZ_CHECK(r == (v == NULL ? RTC_ERR_NOT_FOUND : json_is_integer(v) ?
	    RTC_OK : RTC_ERR_INVAL));
	free(cause);
	cause = NULL;
	r = rtc_config_double(root, path, &d, &cause);
	FUZZ_CHECK(r == (v == NULL ? RTC_ERR_NOT_FOUND : json_is_number(v) ?
	    RTC_OK : RTC_ERR_INVAL));
	free(cause);
	cause = NULL;
	r = rtc_config_bool(root, path, &b, &cause);
	FUZZ_CHECK(r == (v == NULL ? RTC_ERR_NOT_FOUND : json_is_boolean(v) ?
	    RTC_OK : RTC_ERR_INVAL));
	free(cause);
}

/* Every node by its dotted path; RET: the depth below node. */
static int
walk(json_t *root, json_t *node, char *path, size_t plen, size_t cap)
{
	const char *k;
	json_t *v;
	size_t i;
	int deepest = 0, d;

	if (json_is_array(node)) {
		json_array_foreach(node, i, v) {
			d = walk(root, v, path, cap, cap) + 1;
			if (d > deepest)
				deepest = d;
		}
		return deepest;
	}
	if (!json_is_object(node))
		return 0;
	json_object_foreach(node, k, v) {
		size_t kl = strlen(k), n = plen;
		int findable = plen < cap && kl > 0 && kl < 256 &&
		    strchr(k, '.') == NULL && plen + kl + 2 < cap;

		if (findable) {
			if (plen > 0)
				path[n++] = '.';
			memcpy(path + n, k, kl + 1);
			n += kl;
			FUZZ_CHECK(rtc_config_get(root, path) == v);
			lookups(root, path);
		}
		d = walk(root, v, path, findable ? n : cap, cap) + 1;
		if (d > deepest)
			deepest = d;
		if (plen < cap)
			path[plen] = '\0';
	}
	return deepest;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_aws_env_clear();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = { "s3", "openneuro", "batch",
	    "fetch", NULL };
	struct rtc_ctx *ctx;
	struct rtc_creds *creds = NULL;
	struct rtc_s3 *s3 = NULL;
	json_t *root = NULL;
	char *cause = NULL, path[1024] = "";
	int i, r;

	r = rtc_config_parse((const char *)data, size, "rtc.conf", &root,
	    &cause);
	free(cause);
	cause = NULL;
	if (r != RTC_OK) {
		FUZZ_CHECK(root == NULL);
		return 0;
	}
	FUZZ_CHECK(json_is_object(root));
	FUZZ_CHECK(walk(root, root, path, 0, sizeof(path)) <=
	    RTC_CONFIG_MAX_DEPTH + 1);
	for (i = 0; keys[i] != NULL; i++)
		lookups(root, keys[i]);
	(void)rtc_config_check_keys(root, NULL, known, &cause);
	free(cause);
	cause = NULL;
	(void)rtc_config_check_keys(root, "batch", keys, &cause);
	free(cause);
	cause = NULL;

	/* what start-up reads from it */
	ctx = rtc_ctx_new("fuzz");
	FUZZ_CHECK(ctx != NULL);
	json_decref(ctx->conf);
	ctx->conf = root;
	rtc_log_set_level(ctx->log, RTC_LOG_ERROR + 1);
	if (rtc_creds_load(ctx, NULL, &creds, &cause) == RTC_OK) {
		FUZZ_CHECK(creds->region != NULL);
		if (rtc_s3_new(ctx, NULL, creds, NULL, &s3, &cause) == RTC_OK) {
			const char *ep = rtc_s3_endpoint(s3);

			FUZZ_CHECK(strncmp(ep, "http://", 7) == 0 ||
			    strncmp(ep, "https://", 8) == 0);
			FUZZ_CHECK(strchr(ep + 8, '/') == NULL &&
			    strchr(ep, '@') == NULL);
			rtc_s3_free(s3);
		}
	}
	rtc_creds_free(creds);
	free(cause);
	rtc_ctx_free(ctx);
	return 0;
}
