/*
 * log: one mutex-protected writer per process. Each message is formatted
 * into a bounded line first and written with a single fwrite, so lines from
 * OpenMP or intake threads never interleave. Lines longer than the bound
 * are cut and end in "...". Debug lines say where they were written.
 */
#include "rtc_build.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "log.h"

#define LOG_LINE_MAX 2048

struct rtc_log {
	pthread_mutex_t lock;
	FILE *fp;
	char prog[32];
	enum rtc_log_level level;
	unsigned debug;
	int timestamps;
	rtc_log_sink_fn sink;
	void *sink_arg;
};

static const struct {
	const char *name;
	unsigned bit;
} subsystems[] = {
	{ "core", RTC_SUB_CORE },
	{ "dicom", RTC_SUB_DICOM },
	{ "rt", RTC_SUB_RT },
	{ "s3", RTC_SUB_S3 },
	{ "http", RTC_SUB_HTTP },
	{ "slurm", RTC_SUB_SLURM },
	{ "ec2", RTC_SUB_EC2 },
	{ "batch", RTC_SUB_BATCH },
	{ "net", RTC_SUB_NET },
	{ "all", RTC_SUB_ALL },
};

struct rtc_log *
rtc_log_new(FILE *fp, const char *prog)
{
	struct rtc_log *log;

	log = calloc(1, sizeof(*log));
	if (log == NULL)
		return NULL;
	pthread_mutex_init(&log->lock, NULL);
	log->fp = fp;
	snprintf(log->prog, sizeof(log->prog), "%s", prog ? prog : "rtc");
	log->level = RTC_LOG_INFO;
	return log;
}

void
rtc_log_free(struct rtc_log *log)
{
	if (log == NULL)
		return;
	pthread_mutex_destroy(&log->lock);
	free(log);
}

void
rtc_log_set_level(struct rtc_log *log, enum rtc_log_level level)
{
	if (log != NULL)
		log->level = level;
}

enum rtc_log_level
rtc_log_get_level(const struct rtc_log *log)
{
	return log != NULL ? log->level : RTC_LOG_INFO;
}

int
rtc_log_set_debug(struct rtc_log *log, const char *spec, char **cause)
{
	unsigned bits = 0;
	const char *p = spec, *end;
	size_t n, i;

	if (log == NULL || spec == NULL)
		return RTC_ERR_INVAL;
	while (*p != '\0') {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < sizeof(subsystems) / sizeof(subsystems[0]); i++) {
			if (strlen(subsystems[i].name) == n &&
			    strncmp(subsystems[i].name, p, n) == 0)
				break;
		}
		if (i == sizeof(subsystems) / sizeof(subsystems[0])) {
			rtc_cause_set(cause, "unknown debug subsystem '%.*s' "
			    "(known: core dicom rt s3 http slurm ec2 batch net all)",
			    (int)(n > 32 ? 32 : n), p);
			return RTC_ERR_INVAL;
		}
		bits |= subsystems[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	log->debug |= bits;
	return RTC_OK;
}

void
rtc_log_set_timestamps(struct rtc_log *log, int on)
{
	if (log != NULL)
		log->timestamps = on;
}

void
rtc_log_set_file(struct rtc_log *log, FILE *fp)
{
	if (log == NULL)
		return;
	pthread_mutex_lock(&log->lock);
	log->fp = fp;
	pthread_mutex_unlock(&log->lock);
}

void
rtc_log_set_sink(struct rtc_log *log, rtc_log_sink_fn fn, void *arg)
{
	if (log == NULL)
		return;
	pthread_mutex_lock(&log->lock);
	log->sink = fn;
	log->sink_arg = arg;
	pthread_mutex_unlock(&log->lock);
}

int
rtc_log_enabled(const struct rtc_log *log, enum rtc_log_level level,
    unsigned sub)
{
	if (log == NULL)
		return level <= RTC_LOG_WARN;
	if (level == RTC_LOG_DEBUG)
		return (log->debug & sub) != 0;
	return level <= log->level;
}

static const char *
level_word(enum rtc_log_level level)
{
	switch (level) {
	case RTC_LOG_ERROR: return "error: ";
	case RTC_LOG_WARN: return "warning: ";
	case RTC_LOG_DEBUG: return "debug ";
	default: return "";
	}
}

static const char *
sub_name(unsigned sub)
{
	size_t i;

	for (i = 0; i < sizeof(subsystems) / sizeof(subsystems[0]); i++)
		if (subsystems[i].bit == sub)
			return subsystems[i].name;
	return "core";
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

void
rtc_log_write(struct rtc_log *log, enum rtc_log_level level, unsigned sub,
    const char *file, const char *func, int line, const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	size_t n = 0;
	int r;
	va_list ap;
	FILE *fp;

	if (!rtc_log_enabled(log, level, sub != 0 ? sub : RTC_SUB_CORE))
		return;

	if (log != NULL && log->timestamps) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n += strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
		r = snprintf(buf + n, sizeof(buf) - n, ".%03ldZ ",
		    ts.tv_nsec / 1000000);
		if (r > 0)
			n += (size_t)r;
	}
	r = snprintf(buf + n, sizeof(buf) - n, "%s: %s",
	    log != NULL ? log->prog : "rtc", level_word(level));
	if (r > 0)
		n += (size_t)r;
	if (level == RTC_LOG_DEBUG) {
		r = snprintf(buf + n, sizeof(buf) - n, "%s [%s:%d %s]: ",
		    sub_name(sub), base_name(file), line, func);
		if (r > 0 && (size_t)r < sizeof(buf) - n)
			n += (size_t)r;
	}
	va_start(ap, fmt);
	r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (r > 0 && (size_t)r >= sizeof(buf) - n) {
		/* cut: mark the end so a reader knows */
		n = sizeof(buf) - 4;
		memcpy(buf + n, "...", 4);
		n += 3;
	} else if (r > 0) {
		n += (size_t)r;
	}

	if (log == NULL) {
		fprintf(stderr, "%s\n", buf);
		return;
	}
	pthread_mutex_lock(&log->lock);
	fp = log->fp != NULL ? log->fp : stderr;
	buf[n] = '\n';
	fwrite(buf, 1, n + 1, fp);
	fflush(fp);
	buf[n] = '\0';
	if (log->sink != NULL)
		log->sink(log->sink_arg, level, buf);
	pthread_mutex_unlock(&log->lock);
}
