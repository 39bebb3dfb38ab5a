/*
 * live_int: the session's state, shared by lib/live.c (the pipeline
 * thread and outputs), lib/live_intake.c (decoding, the folder watch) and
 * lib/live_scp.cc (the C-STORE receiver). Not for use elsewhere.
 */
#ifndef RTC_LIVE_INT_H
#define RTC_LIVE_INT_H

#include <pthread.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "dicom.h"
#include "feedback.h"
#include "latency.h"
#include "live.h"
#include "project.h"

struct rtc_rtqueue;
struct rtc_pipeline;
struct rtc_runout;
struct rtc_asm;

struct rtc_live {
	struct rtc_ctx *ctx;
	struct rtc_live_opts o;
	const struct rtc_project *p;
	struct rtc_rtqueue *q;
	struct rtc_pipeline *pl;
	struct rtc_feedback *fb;
	struct rtc_latency *lat;
	struct rtc_status_line status;
	int status_on;

	pthread_t thread;
	int thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned long long queued;     /* volumes the queue took (mu) */
	unsigned long long finished;   /* records written (mu) */
	volatile int done;             /* max_volumes reached */
	int ended;                     /* rtc_live_finish() called */

	/* pipeline thread only */
	int run;
	struct rtc_runout *ro;
	int ro_failed;                 /* no BIDS output for this run */
	int lag_warned;
	char *first_error;

	/* counters (intake ones under mu) */
	unsigned long long decoded, undecodable;
	unsigned long long records, dummies, not_analysed, runs;
	unsigned long long output_errors;
	double max_wait_ms;
};

struct rtc_live_intake {
	struct rtc_live *lv;
	struct rtc_dicom *dec;
	struct rtc_asm *as;
	struct rtc_dicom_meta meta;
};

/*
 * A volume was decoded into v (a pool volume) with in->meta: queue it,
 * or, for a slice, hand it to the assembler and queue what that
 * completes. Takes v. RET: RTC_OK or an error (logged by the caller).
 */
int rtc_live_intake_decoded(struct rtc_live_intake *in, struct rtc_volume *v,
    int64_t ready_ns, char **cause);

/* Count an object that gave no volume, and say why. */
void rtc_live_intake_failed(struct rtc_live_intake *in, const char *name,
    int err, const char *cause);

#ifdef __cplusplus
}
#endif

#endif
