/*
 * live: the realtime engine behind rtc live, rtc replay and rtc bench
 * live. One session runs a project over the volumes that arrive:
 *
 *   intake (watch / scp / replay; any thread)
 *     -> decode (lib/dicom; per-slice series assembled by lib/series)
 *     -> ordering queue (lib/rtqueue: runs, duplicates, dummies, lag)
 *   pipeline thread
 *     -> lib/pipeline (the project's stages, stage times in the record)
 *     -> feedback outputs (TCP NDJSON, per-TR files: lib/feedback)
 *     -> latency (lib/latency) and the terminal status line
 *     -> BIDS run (lib/runout), after the feedback is out
 *
 * LATENCY of a volume: from its bytes being complete (the watcher's
 * ready time, the C-STORE's completion, a replay's release) to its
 * feedback written to every output; decoding is inside it. Dummies are
 * written but not in the latency figures.
 *
 * Runs: a new series starts a new run (numbered from the project's first
 * runNum, else 1); each run gets its own reference, BIDS files and
 * numbering of the per-TR files.
 *
 * Ending: rtc_live_finish() says no more input; the pipeline thread works
 * off what is queued (processing slower than the scanner loses nothing),
 * finishes the run's outputs, and rtc_live_wait() joins it. On SIGINT the
 * intake loops return (the ctx's stop flag) and the same happens.
 */
#ifndef RTC_LIVE_H
#define RTC_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "latency.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rtc_ctx;
struct rtc_project;
struct rtc_volume;
struct rtc_live;
struct rtc_live_intake;

struct rtc_live_opts {
	const struct rtc_project *project;  /* borrowed; required */
	const char *feedback_url;   /* "tcp://HOST:PORT" or NULL */
	const char *files_dir;      /* per-TR JSON files, or NULL */
	const char *out_dir;        /* BIDS dataset root, or NULL */
	double tr;                  /* s, overrides the data's TR; 0 */
	double arrival_s;           /* s between volumes when the source
	                             * is not the scanner (a paced replay);
	                             * 0: the volumes' TR. Waiting longer
	                             * than this is falling behind */
	int expected_volumes;       /* per run, when known; 0 */
	long max_volumes;           /* stop after this many records; 0 */
	FILE *status_fp;            /* status line there when a TTY; NULL */
	int no_custom;              /* skip the project's custom analysis */
};

/* A session's figures (after rtc_live_wait()). */
struct rtc_live_summary {
	struct rtc_lat_summary lat;       /* analysed volumes */
	unsigned long long records;       /* records written (with dummies) */
	unsigned long long dummies;
	unsigned long long not_analysed;  /* refused by the pipeline */
	unsigned long long runs;
	unsigned long long decoded;       /* volumes decoded at intake */
	unsigned long long undecodable;   /* files that gave no volume */
	unsigned long long duplicates, late, missing;
	size_t max_depth;                 /* queued volumes at worst */
	double max_wait_ms;               /* longest time in the queue */
	unsigned long long fb_lost;       /* lines the listener missed */
	unsigned long long output_errors; /* files / BIDS writes that failed */
	int threads;                      /* OpenMP threads of the kernels */
};

void rtc_live_opts_init(struct rtc_live_opts *o);

/*
 * Make the session and start its pipeline thread: the queue (from the
 * project's [intake]), the pipeline (reads the project's files, starts
 * its custom analysis), the feedback outputs. OUT: *out. RET: RTC_OK or
 * the error of one of those, with *cause.
 */
int rtc_live_new(struct rtc_ctx *ctx, const struct rtc_live_opts *o,
    struct rtc_live **out, char **cause);

/* ---- intake: one struct rtc_live_intake per producing thread ---------- */

/* RET: RTC_OK or RTC_ERR_NOMEM. Free with rtc_live_intake_free(). */
int rtc_live_intake_new(struct rtc_live *lv, struct rtc_live_intake **out);
void rtc_live_intake_free(struct rtc_live_intake *in);

/*
 * Decode one DICOM file (or object in memory) and queue the volume it
 * completes (a slice may complete none yet). IN: ready_ns, the monotonic
 * time its bytes were complete. RET: RTC_OK, or the decoder's error
 * (logged and counted as undecodable; the session goes on).
 */
int rtc_live_intake_file(struct rtc_live_intake *in, const char *path,
    int64_t ready_ns, char **cause);
int rtc_live_intake_buffer(struct rtc_live_intake *in, const void *buf,
    size_t len, const char *name, int64_t ready_ns, char **cause);

/* Drop the slices of incomplete volumes (end of input). */
void rtc_live_intake_flush(struct rtc_live_intake *in);

/*
 * Queue an already decoded volume (e.g. a NIfTI frame). IN: v from
 * rtc_live_get_free() (taken in every case), intake_ns as above,
 * decoded_ns when its decoding ended. RET: RTC_OK (also when the queue
 * dropped it as a duplicate), RTC_ERR_CANCELLED after the end.
 */
struct rtc_volume *rtc_live_get_free(struct rtc_live *lv);
int rtc_live_push(struct rtc_live *lv, struct rtc_volume *v,
    int64_t intake_ns, int64_t decoded_ns);

/* ---- intake loops (return on the ctx's stop flag or when done) -------- */

/*
 * Watch dir (the project's [intake.watch] settings) and feed every file.
 * RET: RTC_OK when stopped, or the watcher's error.
 */
int rtc_live_run_watch(struct rtc_live *lv, const char *dir, char **cause);

struct rtc_live_scp_opts {
	int port;
	const char *bind_addr;      /* NULL: all addresses */
	const char *aet;            /* NULL: the project's (RTC) */
	const char *const *allow;   /* NULL-terminated; NULL: the project's */
};

/*
 * Receive C-STOREs (DCMTK, in process; datasets decoded from memory).
 * Prints nothing; OUT: *port_out (may be NULL) the port listened on, set
 * before serving (port 0 picks a free one) through on_ready(arg, port)
 * when given. RET: RTC_OK when stopped, or the receiver's error.
 */
int rtc_live_run_scp(struct rtc_live *lv, const struct rtc_live_scp_opts *so,
    void (*on_ready)(void *arg, int port), void *arg, char **cause);

/* ---- control ----------------------------------------------------------- */

/* RET: nonzero once max_volumes records are written (intake should
 * stop) or the ctx asks to stop. */
int rtc_live_done(const struct rtc_live *lv);

/*
 * Wait until every volume queued so far has its record written (a
 * closed loop: replay --fast, bench). RET: RTC_OK, RTC_ERR_TIMEOUT.
 */
int rtc_live_wait_idle(struct rtc_live *lv, int timeout_ms);

/* No more input: hand out what is queued, then end. */
void rtc_live_finish(struct rtc_live *lv);

/* Wait for the pipeline thread; finish the run's outputs; flush the
 * TCP backlog (up to 2 s). RET: RTC_OK or the first output error. */
int rtc_live_wait(struct rtc_live *lv, char **cause);

/* OUT: *s (meaningful after rtc_live_wait()). */
void rtc_live_get_summary(struct rtc_live *lv, struct rtc_live_summary *s);

/* The summary for people, several lines ending in '\n'. */
void rtc_live_summary_print(const struct rtc_live_summary *s, FILE *fp);

/* RET: {"volumes":N,"dropped":D,"latency_ms":{..},"stages_ms":{..},
 * "threads":T, "runs":..,"dummies":..,"duplicates":..,...}: a new
 * reference, NULL on memory failure. */
json_t *rtc_live_summary_json(const struct rtc_live_summary *s);

/* Stop (if running) and free. NULL is a no-op. */
void rtc_live_free(struct rtc_live *lv);

#ifdef __cplusplus
}
#endif

#endif
