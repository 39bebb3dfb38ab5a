/*
 * ctx: construction and teardown of struct rtc_ctx.
 */
#include "rtc_build.h"

#include <stdlib.h>
#include <unistd.h>

#include "ctx.h"

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
