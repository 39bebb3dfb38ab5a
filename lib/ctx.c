/*
 * ctx: construction and teardown of struct rtc_ctx.
 */
#include "rtc_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "ctx.h"
#include "error.h"
#include "fsutil.h"

struct rtc_ctx *
rtc_ctx_new(const char *prog)
{
	struct rtc_ctx *ctx;

	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return NULL;
	ctx->log = rtc_log_new(NULL, prog);
	ctx->conf = json_object();
	if (ctx->log == NULL || ctx->conf == NULL) {
		rtc_ctx_free(ctx);
		return NULL;
	}
	ctx->tty = isatty(STDERR_FILENO);
	return ctx;
}

void
rtc_ctx_free(struct rtc_ctx *ctx)
{
	if (ctx == NULL)
		return;
	rtc_log_free(ctx->log);
	json_decref(ctx->conf);
	free(ctx);
}

int
rtc_ctx_stopping(const struct rtc_ctx *ctx)
{
	return ctx != NULL && ctx->stop != NULL && *ctx->stop != 0;
}

static int
load_into(struct rtc_ctx *ctx, const char *path, char **cause)
{
	json_t *conf = NULL;
	int r;

	r = rtc_config_load(path, &conf, cause);
	if (r != RTC_OK)
		return r;
	json_decref(ctx->conf);
	ctx->conf = conf;
	return RTC_OK;
}

int
rtc_ctx_load_conf(struct rtc_ctx *ctx, const char *path, char **cause)
{
	const char *env, *home;
	char buf[4096];

	if (path != NULL)
		return load_into(ctx, path, cause);
	env = getenv("RTC_CONFIG");
	if (env != NULL && *env != '\0')
		return load_into(ctx, env, cause);
	env = getenv("XDG_CONFIG_HOME");
	home = getenv("HOME");
	if (env != NULL && *env == '/')
		snprintf(buf, sizeof(buf), "%s/rtc/rtc.conf", env);
	else if (home != NULL && *home == '/')
		snprintf(buf, sizeof(buf), "%s/.config/rtc/rtc.conf", home);
	else
		buf[0] = '\0';
	if (buf[0] != '\0' && rtc_fs_is_file(buf))
		return load_into(ctx, buf, cause);
	if (rtc_fs_is_file("/etc/rtc/rtc.conf"))
		return load_into(ctx, "/etc/rtc/rtc.conf", cause);
	return RTC_OK;
}
