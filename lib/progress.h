/*
 * progress: what a long transfer shows. On a terminal, one line redrawn
 * in place at most ten times a second: a bar, files, bytes, rate and ETA.
 * Otherwise (logs, pipes, CI), a plain line every few seconds. The rate
 * is measured over the last few seconds, not since the start.
 */
#ifndef RTC_PROGRESS_H
#define RTC_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

#define RTC_PROGRESS_SAMPLES 32

struct rtc_progress {
	FILE *fp;                 /* borrowed; NULL: show nothing */
	int tty;
	const char *label;        /* "fetch" */
	long long files_total;    /* -1 while unknown */
	long long files_done;
	long long files_failed;
	long long bytes_total;    /* -1 while unknown */
	long long bytes_done;
	double t0;                /* seconds, monotonic */
	double last_draw;
	double interval;          /* between draws: 0.1 s tty, 5 s plain */
	int drawn;                /* a tty line is on screen */
	/* rate samples (time, bytes), a ring */
	double st[RTC_PROGRESS_SAMPLES];
	long long sb[RTC_PROGRESS_SAMPLES];
	int ns;
	int si;
	double last_sample;
};

/* Initialise. IN: fp (NULL: silent), tty (redraw in place), label. */
void rtc_progress_init(struct rtc_progress *p, FILE *fp, int tty,
    const char *label);

/* Totals, once known (files or bytes -1: unknown). */
void rtc_progress_total(struct rtc_progress *p, long long files,
    long long bytes);

/* Count work: bytes received, files finished (ok or failed). */
void rtc_progress_bytes(struct rtc_progress *p, long long n);
void rtc_progress_file(struct rtc_progress *p, int ok);

/* Redraw when due (or now when force). */
void rtc_progress_tick(struct rtc_progress *p, int force);

/* Clear the tty line, leaving the screen for the summary. */
void rtc_progress_end(struct rtc_progress *p);

/* RET: bytes per second over the sampled window at time now. */
double rtc_progress_rate(const struct rtc_progress *p, double now);

/*
 * Format the status line (no newline) for time now, at most width
 * columns when bar is nonzero (the bar fills what is left). RET: out.
 */
char *rtc_progress_format(const struct rtc_progress *p, double now, int bar,
    int width, char *out, size_t outsz);

/* Format seconds as "42s", "3m05s", "2h07m". RET: out. */
char *rtc_progress_eta(double s, char *out, size_t outsz);

#endif
