/*
 * rtqueue: the ordering stage between intake (watch, scp, replay; after
 * decoding) and the pipeline.
 *
 * Volumes may arrive out of order and more than once. The queue hands
 * them out in acquisition order, one run after another:
 *
 *  - Key: a volume's place in its series is acq.acquisition_number, or
 *    acq.instance_number when that is unknown (-1), or its arrival order
 *    when both are unknown (then nothing can be reordered or deduplicated).
 *    Decoders that assemble volumes from slices must put the volume's
 *    temporal index there.
 *  - Runs: a series (number and UID) not seen before starts a new run. The
 *    consumer sees an RTC_RTQ_RUN_START item before the run's first volume.
 *  - Gaps: when the next expected volume is missing, later ones wait for
 *    it at most reorder_wait_ms (counted from the oldest waiting arrival),
 *    then the queue moves on and reports the gap (missing_before). Once a
 *    newer run has volumes queued, the older run waits for nothing.
 *  - Duplicates (same series and key as a volume queued or handed out) are
 *    dropped with a warning and counted; so are late volumes (their place
 *    was already passed). Nothing is dropped without a warning and a count.
 *  - Dummies: the first `dummies` volumes of each run (by key, counting
 *    from first_acquisition) are flagged, or dropped and counted.
 *  - Lag: when processing is slower than the scanner, volumes queue up
 *    (no limit on their number); a warning is logged when the queued
 *    volumes hold more than warn_bytes, and rtc_rtqueue_lag() tells the
 *    depth and the age of the oldest.
 *
 * Memory: volumes come from a pool (rtc_rtqueue_get_free) and go back to
 * it (rtc_rtqueue_recycle), so in steady state nothing is allocated per
 * volume once the pool's volumes have grown to the scan's size.
 *
 * Threads: any number of producers and consumers; all calls are
 * thread-safe. pop() waits on a condition variable.
 */
#ifndef RTC_RTQUEUE_H
#define RTC_RTQUEUE_H

#include <stddef.h>
#include <stdint.h>

struct rtc_ctx;
struct rtc_volume;
struct rtc_rtqueue;

enum rtc_rtq_dummy {
	RTC_RTQ_DUMMY_FLAG = 0,  /* hand dummies out with item.dummy = 1 */
	RTC_RTQ_DUMMY_DROP       /* do not hand them out (counted) */
};

struct rtc_rtqueue_opts {
	int dummies;             /* per run; 0 */
	enum rtc_rtq_dummy dummy_mode;
	int reorder_wait_ms;     /* 1000 */
	int first_acquisition;   /* key of a run's first volume: 1; -1: the
	                          * first key that arrives */
	size_t warn_bytes;       /* 1 GiB */
	int first_run;           /* index of the first run: 1 */
};

enum rtc_rtq_kind {
	RTC_RTQ_VOLUME = 1,
	RTC_RTQ_RUN_START,       /* a new series begins: run, series set */
	RTC_RTQ_END              /* after rtc_rtqueue_finish(), all handed out */
};

enum rtc_rtq_verdict {
	RTC_RTQ_QUEUED = 0,
	RTC_RTQ_DUPLICATE,       /* same series and key seen: dropped */
	RTC_RTQ_LATE,            /* its place was passed: dropped */
	RTC_RTQ_DROPPED_DUMMY,   /* a dummy, with RTC_RTQ_DUMMY_DROP */
	RTC_RTQ_INVALID          /* key out of range: dropped */
};

struct rtc_rtq_item {
	enum rtc_rtq_kind kind;
	int run;                 /* run index (first_run, first_run+1, ...) */
	int series;              /* series number, -1 unknown */
	int index;               /* 1-based place in the run, from the key:
	                          * what outputs call vol / TR */
	long key;                /* the ordering key (see above) */
	int dummy;
	int missing_before;      /* volumes skipped just before this one */
	struct rtc_volume *volume;  /* the consumer's until recycled */
	void *tag;               /* as given to push */
	int64_t intake_ns;       /* as given to push (bytes complete) */
	int64_t queued_ns;       /* time it spent in the queue */
	size_t depth;            /* volumes still queued behind it */
};

struct rtc_rtq_lag {
	size_t depth;            /* volumes queued */
	int64_t oldest_ns;       /* age of the oldest queued volume, 0 if none */
	size_t bytes;            /* bytes held by queued volumes */
};

struct rtc_rtq_stats {
	unsigned long long pushed, handed_out, duplicates, late, missing,
	    dummies, invalid, runs;
	size_t max_depth;
	size_t max_bytes;
	size_t pool_volumes;     /* volumes ever allocated by the pool */
	size_t pool_live;        /* of those, not freed yet */
};

/* Defaults as documented above. */
void rtc_rtqueue_opts_init(struct rtc_rtqueue_opts *o);

/* IN: ctx (for warnings; may be NULL), o (NULL: defaults). OUT: *out.
 * RET: RTC_OK, RTC_ERR_NOMEM, RTC_ERR_INVAL. Free with rtc_rtqueue_free(). */
int rtc_rtqueue_new(struct rtc_ctx *ctx, const struct rtc_rtqueue_opts *o,
    struct rtc_rtqueue **out, char **cause);

/*
 * A volume to decode into: a recycled one when the pool has any (its data
 * capacity kept: rtc_volume_reshape() then allocates nothing), else a new
 * one. RET: the volume (owned by the caller until pushed or recycled), or
 * NULL when out of memory.
 */
struct rtc_volume *rtc_rtqueue_get_free(struct rtc_rtqueue *q);

/* Give a volume back to the pool (the consumer after processing, or a
 * producer that could not decode into it). NULL is a no-op. */
void rtc_rtqueue_recycle(struct rtc_rtqueue *q, struct rtc_volume *v);

/*
 * Queue v (its acq fields say where it belongs). Takes v in every case: a
 * dropped volume goes back to the pool. IN: intake_ns (monotonic time its
 * bytes were complete), tag (opaque, handed back with the item).
 * OUT: *verdict (may be NULL). RET: RTC_OK, or RTC_ERR_CANCELLED after
 * rtc_rtqueue_stop()/finish() (v recycled).
 */
int rtc_rtqueue_push(struct rtc_rtqueue *q, struct rtc_volume *v,
    int64_t intake_ns, void *tag, enum rtc_rtq_verdict *verdict);

/*
 * Next item, waiting at most timeout_ms (< 0: no limit). OUT: *it.
 * RET: RTC_OK (it->kind says what), RTC_ERR_TIMEOUT, RTC_ERR_CANCELLED
 * after rtc_rtqueue_stop().
 */
int rtc_rtqueue_pop(struct rtc_rtqueue *q, int timeout_ms,
    struct rtc_rtq_item *it);

/* End of input: what is queued is handed out without waiting for gaps,
 * then pop() returns an RTC_RTQ_END item (again on every later call). */
void rtc_rtqueue_finish(struct rtc_rtqueue *q);

/* Abort: pop() returns RTC_ERR_CANCELLED at once; queued volumes are
 * counted as abandoned in the log. */
void rtc_rtqueue_stop(struct rtc_rtqueue *q);

/* OUT: the current backlog. */
void rtc_rtqueue_lag(struct rtc_rtqueue *q, struct rtc_rtq_lag *l);
void rtc_rtqueue_get_stats(struct rtc_rtqueue *q, struct rtc_rtq_stats *s);

/* RET: a short name for a verdict ("duplicate"). */
const char *rtc_rtqueue_verdict_name(enum rtc_rtq_verdict v);

/* Frees queued and pooled volumes (not those a consumer still holds). */
void rtc_rtqueue_free(struct rtc_rtqueue *q);

#endif
