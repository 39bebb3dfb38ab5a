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

/*
 * Load rtc.conf into ctx->conf. IN: path, or NULL for the first that
 * exists of $RTC_CONFIG, $XDG_CONFIG_HOME/rtc/rtc.conf (default
 * ~/.config/rtc/rtc.conf), /etc/rtc/rtc.conf. No file is not an error
 * (conf stays empty) unless path or $RTC_CONFIG names one.
 * RET: RTC_OK or the parse error with *cause.
 */
int rtc_ctx_load_conf(struct rtc_ctx *ctx, const char *path, char **cause);

/* RET: nonzero when a stop was requested. */
int rtc_ctx_stopping(const struct rtc_ctx *ctx);

#endif
