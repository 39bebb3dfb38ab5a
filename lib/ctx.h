/*
 * ctx: the state a program hands to the library. lib/ keeps no mutable
 * globals: whatever would be global (the logger, the loaded rtc.conf, the
 * stop flag set by signal handlers) lives here, made by main().
 */
#ifndef RTC_CTX_H
#define RTC_CTX_H

#include <signal.h>

#include <jansson.h>

#include "log.h"

struct rtc_ctx {
	struct rtc_log *log;
	json_t *conf;                     /* rtc.conf as a tree; never NULL */
	volatile sig_atomic_t *stop;      /* set nonzero to stop long work */
	int tty;                          /* stderr is a terminal */
	int quiet;                        /* no progress output */
};

/* IN: prog, the program name for log lines. RET: new ctx with an empty
 * conf and a logger on stderr, or NULL. Free with rtc_ctx_free(). */
struct rtc_ctx *rtc_ctx_new(const char *prog);
void rtc_ctx_free(struct rtc_ctx *ctx);

/* RET: nonzero when a stop was requested. */
int rtc_ctx_stopping(const struct rtc_ctx *ctx);

#endif
