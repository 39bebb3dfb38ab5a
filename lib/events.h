/*
 * events: the task of a run, as conditions with events (onset, duration,
 * amplitude, in seconds from the start of the first volume), from a BIDS
 * events.tsv or from block definitions, turned into task regressors by
 * convolution with the canonical HRF (lib/hrf.h) and into per-volume
 * labels for classifiers.
 *
 * BIDS events.tsv: tab-separated, a header row naming the columns; onset
 * and duration are required; trial_type names the condition (all events
 * are one condition "trial" when the column is absent); a modulation
 * column, when present, gives the amplitude (else 1). "n/a" in
 * trial_type skips the row; "n/a" as duration means unknown and is taken
 * as 0 (an impulse). Other columns are ignored.
 *
 * Limits (outside input): file 16 MiB, line 64 KiB, 100000 events, 256
 * columns, 64 conditions, condition names 1..64 printable bytes (no tab).
 * Numbers must be finite decimal numbers; durations >= 0; |onset| and
 * duration <= 1e6 s.
 */
#ifndef RTC_EVENTS_H
#define RTC_EVENTS_H

#include <stddef.h>

#include "hrf.h"

#define RTC_EVENTS_MAX_BYTES ((size_t)16 << 20)
#define RTC_EVENTS_MAX_LINE 65536
#define RTC_EVENTS_MAX_EVENTS 100000
#define RTC_EVENTS_MAX_COLS 256
#define RTC_EVENTS_MAX_COND 64
#define RTC_EVENTS_MAX_NAME 64

struct rtc_events;

/* OUT: *ep, an empty set with the canonical HRF. RET: RTC_OK or
 * RTC_ERR_NOMEM. Free with rtc_events_free(). */
int rtc_events_new(struct rtc_events **ep);
void rtc_events_free(struct rtc_events *e);

/* Use hrf (copied) instead of the canonical one. RET: RTC_OK or
 * RTC_ERR_INVAL (rtc_hrf_valid() false). */
int rtc_events_set_hrf(struct rtc_events *e, const struct rtc_hrf *hrf);

/*
 * Add one event of condition cond (created on first use). RET: RTC_OK,
 * RTC_ERR_INVAL (bad name or numbers), RTC_ERR_TOO_BIG (limits),
 * RTC_ERR_NOMEM.
 */
int rtc_events_add(struct rtc_events *e, const char *cond, double onset,
    double duration, double amplitude, char **cause);

/*
 * Add count blocks of condition cond: onsets first_onset + n * period,
 * each lasting duration s, amplitude 1 (a block design: e.g. 20 s on
 * every 40 s is duration 20, period 40). RET: as rtc_events_add().
 */
int rtc_events_add_blocks(struct rtc_events *e, const char *cond,
    double first_onset, double duration, double period, int count,
    char **cause);

/* Parse a BIDS events.tsv held in text[0..len) / read from path, adding
 * its events. RET: RTC_OK, RTC_ERR_FORMAT (malformed; *cause gives the
 * line), RTC_ERR_TOO_BIG, RTC_ERR_NOT_FOUND / RTC_ERR_IO (load),
 * RTC_ERR_NOMEM. On error nothing is added. */
int rtc_events_parse_tsv(struct rtc_events *e, const char *text, size_t len,
    char **cause);
int rtc_events_load_tsv(struct rtc_events *e, const char *path,
    char **cause);

/* RET: conditions (in order of first appearance) and events. */
int rtc_events_ncond(const struct rtc_events *e);
int rtc_events_nevents(const struct rtc_events *e);
/* RET: name of condition c (owned by e), NULL when out of range. */
const char *rtc_events_cond_name(const struct rtc_events *e, int c);
/* RET: index of the named condition or -1. */
int rtc_events_cond_index(const struct rtc_events *e, const char *name);

/*
 * RET: condition c's task regressor at time t (s from the start of the
 * first volume): sum over its events of amplitude * rtc_hrf_response().
 * Allocates nothing; O(events of c).
 */
double rtc_events_regressor(const struct rtc_events *e, int c, double t);

/*
 * RET: the condition whose event covers time t - shift (onset <= t -
 * shift < onset + duration), -1 when none does, -2 when events of two
 * different conditions do. Used to label volumes for a classifier, with
 * shift the haemodynamic delay (e.g. 4.5 s).
 */
int rtc_events_label(const struct rtc_events *e, double t, double shift);

#endif
