/*
 * log: leveled, thread-safe logging with per-subsystem debug flags.
 *
 * Messages carry file/func/line. Use the macros with a struct rtc_ctx:
 *     rtc_log(ctx, WARN, "skipping %s: not DICOM", name);
 *     rtc_debug(ctx, S3, "GET %s -> %ld", key, status);
 * Never pass secrets or patient identifiers to a log call.
 */
#ifndef RTC_LOG_H
#define RTC_LOG_H

#include <stdio.h>

enum rtc_log_level {
	RTC_LOG_ERROR = 0,
	RTC_LOG_WARN = 1,
	RTC_LOG_INFO = 2,
	RTC_LOG_DEBUG = 3
};

/* Debug subsystems: bit flags, selected with rtc_log_set_debug(). */
enum rtc_log_sub {
	RTC_SUB_CORE = 1u << 0,
	RTC_SUB_DICOM = 1u << 1,
	RTC_SUB_RT = 1u << 2,
	RTC_SUB_S3 = 1u << 3,
	RTC_SUB_HTTP = 1u << 4,
	RTC_SUB_SLURM = 1u << 5,
	RTC_SUB_EC2 = 1u << 6,
	RTC_SUB_BATCH = 1u << 7,
	RTC_SUB_NET = 1u << 8,
	RTC_SUB_ALL = 0x1ffu
};

struct rtc_log;

/* A line as handed to a sink: already formatted, without newline. */
typedef void (*rtc_log_sink_fn)(void *arg, enum rtc_log_level level,
    const char *line);

/* IN: fp (not owned; stderr when NULL), prog (copied). RET: new log or
 * NULL on memory failure. Free with rtc_log_free(). */
struct rtc_log *rtc_log_new(FILE *fp, const char *prog);
void rtc_log_free(struct rtc_log *log);

/* Messages above level are dropped (debug ones also need their flag). */
void rtc_log_set_level(struct rtc_log *log, enum rtc_log_level level);
enum rtc_log_level rtc_log_get_level(const struct rtc_log *log);

/*
 * IN: spec, a comma-separated list of subsystem names ("s3,slurm"), or
 * "all". Enables debug level for those. RET: RTC_OK, or RTC_ERR_INVAL with
 * *cause naming the unknown subsystem.
 */
int rtc_log_set_debug(struct rtc_log *log, const char *spec, char **cause);

/* Prefix each line with an ISO-8601 UTC timestamp (for daemon logs). */
void rtc_log_set_timestamps(struct rtc_log *log, int on);

/* Redirect output to fp (not owned). */
void rtc_log_set_file(struct rtc_log *log, FILE *fp);

/* Also hand every emitted line to fn (tests use this). NULL removes it. */
void rtc_log_set_sink(struct rtc_log *log, rtc_log_sink_fn fn, void *arg);

/* RET: nonzero when a message of this level and subsystem would print. */
int rtc_log_enabled(const struct rtc_log *log, enum rtc_log_level level,
    unsigned sub);

void rtc_log_write(struct rtc_log *log, enum rtc_log_level level,
    unsigned sub, const char *file, const char *func, int line,
    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

#define rtc_log(ctx, level, ...)                                          \
	rtc_log_write((ctx) ? (ctx)->log : NULL, RTC_LOG_##level, 0,       \
	    __FILE__, __func__, __LINE__, __VA_ARGS__)

#define rtc_debug(ctx, sub, ...)                                          \
	do {                                                              \
		if ((ctx) && rtc_log_enabled((ctx)->log, RTC_LOG_DEBUG,    \
		    RTC_SUB_##sub))                                        \
			rtc_log_write((ctx)->log, RTC_LOG_DEBUG,           \
			    RTC_SUB_##sub, __FILE__, __func__, __LINE__,   \
			    __VA_ARGS__);                                  \
	} while (0)

#endif
