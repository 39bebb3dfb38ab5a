/*
 * s3_tool: the S3 layer from the command line, for the integration
 * tests (not installed).
 *
 *   s3_tool sign METHOD HOST PATH EPOCH [-q NAME=VALUE]... [-H NAME:VALUE]...
 *           [-p PAYLOAD_HASH] [-e EXPIRES]
 *       sign with $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY/
 *       $AWS_SESSION_TOKEN in $AWS_REGION (service s3) and print the
 *       request target and the Authorization value (header form), or with
 *       -e the presigned target.
 *   s3_tool put BUCKET KEY FILE [PART_SIZE [THRESHOLD]]
 *   s3_tool list BUCKET PREFIX
 *       against $RTC_S3_ENDPOINT with the usual credentials.
 */
#include "rtc_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "ctx.h"
#include "error.h"
#include "http.h"
#include "s3.h"
#include "sigv4.h"

static int
usage(void)
{
	fprintf(stderr, "usage: s3_tool sign METHOD HOST PATH EPOCH [-q N=V]..."
	    " [-H N:V]... [-p HASH] [-e EXPIRES]\n"
	    "       s3_tool put BUCKET KEY FILE [PART_SIZE [THRESHOLD]]\n"
	    "       s3_tool list BUCKET PREFIX\n");
	return 64;
}

static int
do_sign(int argc, char **argv)
{
	struct rtc_sigv4_param q[RTC_SIGV4_MAX_PARAMS];
	struct rtc_sigv4_header h[RTC_SIGV4_MAX_HEADERS];
	struct rtc_sigv4_keys k;
	struct rtc_sigv4_req r;
	struct rtc_sigv4_signed s;
	char *cause = NULL, *target = NULL;
	long expires = 0;
	int i;

	if (argc < 6)
		return usage();
	memset(&r, 0, sizeof(r));
	r.method = argv[2];
	r.host = argv[3];
	r.path = argv[4];
	r.when = (time_t)strtoll(argv[5], NULL, 10);
	r.region = getenv("AWS_REGION") ? getenv("AWS_REGION") : "us-east-1";
	r.service = "s3";
	r.s3 = 1;
	r.query = q;
	r.headers = h;
	for (i = 6; i < argc; i++) {
		char *v;

		if (strcmp(argv[i], "-q") == 0 && i + 1 < argc &&
		    r.nquery < RTC_SIGV4_MAX_PARAMS) {
			v = strchr(argv[++i], '=');
			if (v == NULL)
				return usage();
			*v = '\0';
			q[r.nquery].name = argv[i];
			q[r.nquery++].value = v + 1;
		} else if (strcmp(argv[i], "-H") == 0 && i + 1 < argc &&
		    r.nheaders < RTC_SIGV4_MAX_HEADERS) {
			v = strchr(argv[++i], ':');
			if (v == NULL)
				return usage();
			*v = '\0';
			h[r.nheaders].name = argv[i];
			h[r.nheaders++].value = v + 1;
		} else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
			r.payload_hash = argv[++i];
		} else if (strcmp(argv[i], "-e") == 0 && i + 1 < argc) {
			expires = strtol(argv[++i], NULL, 10);
		} else {
			return usage();
		}
	}
	k.access_key = getenv("AWS_ACCESS_KEY_ID");
	k.secret_key = getenv("AWS_SECRET_ACCESS_KEY");
	k.session_token = getenv("AWS_SESSION_TOKEN");
	if (k.access_key == NULL || k.secret_key == NULL)
		return usage();
	if (expires > 0) {
		if (rtc_sigv4_presign(&r, &k, expires, &target, &cause) !=
		    RTC_OK) {
			fprintf(stderr, "s3_tool: %s\n", cause);
			free(cause);
			return 1;
		}
		printf("%s\n", target);
		free(target);
		return 0;
	}
	if (rtc_sigv4_sign(&r, &k, &s, &cause) != RTC_OK) {
		fprintf(stderr, "s3_tool: %s\n", cause);
		free(cause);
		return 1;
	}
	printf("%s\n%s\n", s.target, s.authorization);
	rtc_sigv4_signed_free(&s);
	return 0;
}

static int
print_obj(void *arg, const struct rtc_s3_object *o)
{
	(void)arg;
	printf("%s\t%lld\t%s\n", o->key, o->size, o->etag);
	return RTC_OK;
}

int
main(int argc, char **argv)
{
	struct rtc_ctx *ctx;
	struct rtc_http *h = NULL;
	struct rtc_creds *c = NULL;
	struct rtc_s3 *s3 = NULL;
	char *cause = NULL;
	int r;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "sign") == 0)
		return do_sign(argc, argv);
	ctx = rtc_ctx_new("s3_tool");
	if (getenv("RTC_DEBUG") != NULL)
		rtc_log_set_debug(ctx->log, getenv("RTC_DEBUG"), NULL);
	r = rtc_http_new(ctx, NULL, &h, &cause);
	if (r == RTC_OK)
		r = rtc_creds_load(ctx, NULL, &c, &cause);
	if (r == RTC_OK)
		r = rtc_s3_new(ctx, h, c, NULL, &s3, &cause);
	if (r == RTC_OK && strcmp(argv[1], "put") == 0 && argc >= 5) {
		struct rtc_s3_put_opts po;

		memset(&po, 0, sizeof(po));
		if (argc >= 6)
			po.part_size = strtoll(argv[5], NULL, 10);
		if (argc >= 7)
			po.threshold = strtoll(argv[6], NULL, 10);
		r = rtc_s3_put_file(s3, argv[2], argv[3], argv[4], &po, &cause);
	} else if (r == RTC_OK && strcmp(argv[1], "list") == 0 && argc == 4) {
		r = rtc_s3_list(s3, argv[2], argv[3], NULL, print_obj, NULL,
		    &cause);
	} else if (r == RTC_OK) {
		r = RTC_ERR_INVAL;
		rtc_cause_set(&cause, "unknown command");
	}
	if (r != RTC_OK)
		fprintf(stderr, "s3_tool: %s\n", cause ? cause :
		    rtc_strerror(r));
	free(cause);
	rtc_s3_free(s3);
	rtc_creds_free(c);
	rtc_http_free(h);
	rtc_ctx_free(ctx);
	return r == RTC_OK ? 0 : rtc_err_exit_code(r);
}
