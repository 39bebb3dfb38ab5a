/*
 * latency: per-volume latency records, the run summary, and the terminal
 * status line.
 *
 * A volume's latency is the time from its bytes being complete (the
 * record's intake_ns) to its feedback written to every output; the caller
 * measures it and adds it with the record, whose stage_ms[] give the stage
 * timestamps. Per-stage figures are durations: a stage's timestamp minus
 * the previous stage that ran (the intake is 0).
 *
 * Percentiles are nearest-rank (the smallest sample with at least p% of
 * the samples at or below it).
 *
 * Memory: samples go into an array sized up front (expected volumes), so
 * adding allocates nothing until that many; it then doubles.
 *
 * Not thread-safe: one thread adds (the pipeline), then summarises.
 */
#ifndef RTC_LATENCY_H
#define RTC_LATENCY_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "feedback.h"

struct rtc_latency;

struct rtc_lat_sample {
	int run, vol;
	unsigned flags;
	double total_ms;
	double stage_ms[RTC_STAGE__COUNT];   /* timestamps, NaN: not run */
};

struct rtc_lat_summary {
	unsigned long volumes;               /* samples */
	unsigned long dropped;               /* volumes without feedback */
	double p50, p95, p99, max, mean;     /* total latency, ms */
	double stage_median[RTC_STAGE__COUNT];  /* durations, ms; NaN: never */
};

/* IN: expected, the samples to make room for (0: 1024). RET: NULL on
 * memory failure. Free with rtc_latency_free(). */
struct rtc_latency *rtc_latency_new(size_t expected);
void rtc_latency_free(struct rtc_latency *l);

/* Add a volume's latency (ms) with its record's stage timestamps.
 * RET: RTC_OK or RTC_ERR_NOMEM. */
int rtc_latency_add(struct rtc_latency *l, const struct rtc_fb_record *r,
    double total_ms);

/* Count volumes that were received but produced no feedback. */
void rtc_latency_add_dropped(struct rtc_latency *l, unsigned long n);

/* RET: samples so far; the i-th one (NULL out of range). */
size_t rtc_latency_count(const struct rtc_latency *l);
const struct rtc_lat_sample *rtc_latency_sample(const struct rtc_latency *l,
    size_t i);

/* OUT: *s. With no samples the figures are NaN. RET: RTC_OK or NOMEM. */
int rtc_latency_summarise(const struct rtc_latency *l,
    struct rtc_lat_summary *s);

/* RET: {"volumes":N,"dropped":D,"latency_ms":{"p50":..,"p95":..,"p99":..,
 * "max":..,"mean":..},"stages_ms":{"decoded":..,...},"threads":T}, a new
 * reference (stages that never ran are left out; NaN figures are null);
 * threads < 1 leaves it out. NULL on memory failure. */
json_t *rtc_latency_summary_json(const struct rtc_lat_summary *s,
    int threads);

/* One line for people: "12 volumes, 0 dropped; latency p50 3.10 ms, p95
 * ..., max ... ms". */
void rtc_latency_summary_text(const struct rtc_lat_summary *s, char *out,
    size_t outsz);

/*
 * Per-volume TSV (header: run, vol, latency_ms, then one column per stage
 * timestamp, "n/a" when a stage did not run), written atomically.
 * RET: RTC_OK, or the error of rtc_fs_write_atomic() with *cause.
 */
int rtc_latency_write_tsv(const struct rtc_latency *l, const char *path,
    char **cause);

/* ---- status line ------------------------------------------------------ */

struct rtc_status_line {
	FILE *fp;
	int tty;          /* redraw one line in place */
	int drawn;        /* a line is on screen without its newline */
};

/* IN: fp (not owned), tty (1, 0, or -1: ask isatty). */
void rtc_status_init(struct rtc_status_line *s, FILE *fp, int tty);

/* Format the status text of one volume into out (no newline):
 * "run 1 vol 12  latency 3.4 ms  FD 0.05 mm  feedback 0.420  lag 3".
 * lag 0 leaves the lag out; unknown numbers print as "-". */
void rtc_status_format(char *out, size_t outsz, const struct rtc_fb_record *r,
    double latency_ms, size_t lag);

/* Show one volume: on a TTY the line is redrawn in place, otherwise a
 * plain line is printed. */
void rtc_status_update(struct rtc_status_line *s, const struct rtc_fb_record *r,
    double latency_ms, size_t lag);

/* Erase the line (before other output on a TTY). */
void rtc_status_clear(struct rtc_status_line *s);

/* End the line (a newline on a TTY when one is drawn). */
void rtc_status_finish(struct rtc_status_line *s);

#endif
