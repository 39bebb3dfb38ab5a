/*
 * rtqueue: design notes (the contract is in rtqueue.h).
 *
 * One mutex guards everything; pop() waits on a condition variable bound
 * to CLOCK_MONOTONIC, with a deadline when the head of the queue is held
 * for a gap. Queued volumes sit in a doubly linked list sorted by (run,
 * key); producers insert scanning from the tail, which is O(1) for volumes
 * that arrive in order, however long the backlog.
 *
 * Each series seen gets a record: its run index, the next key expected and
 * a bitmap of keys handed out (keys are capped at RTQ_MAX_KEY, so a
 * hostile number cannot make the bitmap huge), which tells duplicates from
 * late volumes. At most RTQ_MAX_SERIES series are remembered; the oldest
 * record is reused after that.
 *
 * List nodes and volumes are recycled through free lists: a node per
 * queued volume is taken from the spare list, and at most RTQ_MAX_SPARE
 * volumes are kept for reuse.
 */
#include "rtc_build.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ctx.h"
#include "error.h"
#include "log.h"
#include "rtqueue.h"
#include "volume.h"

#define RTQ_MAX_KEY (1L << 24)
#define RTQ_MAX_SERIES 256
#define RTQ_MAX_SPARE 16

struct node {
	struct node *prev, *next;
	struct rtc_volume *vol;
	int run;
	int series_idx;
	long key;
	int64_t intake_ns;
	int64_t arrival_ns;
	void *tag;
	size_t bytes;
};

struct series {
	int used;
	int number;
	char uid[68];
	int run;
	long first_key;          /* -1 until known */
	long next_key;           /* -1 until known */
	long arrival_seq;        /* for volumes without a key */
	unsigned char *seen;     /* bitmap of keys handed out */
	size_t seen_bytes;
	int64_t last_use;
};

struct rtc_rtqueue {
	struct rtc_ctx *ctx;
	struct rtc_rtqueue_opts o;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopped, finished;

	struct node *head, *tail;
	size_t depth, bytes;
	struct node *spare_nodes;
	struct rtc_volume *spare[RTQ_MAX_SPARE];
	size_t nspare;

	struct series ser[RTQ_MAX_SERIES];
	int last_run;            /* highest run index given */
	int cur_run;             /* run of the last volume handed out */
	int announced_run;       /* last run announced with RUN_START */
	int64_t use_clock;
	int warned_bytes;

	struct rtc_rtq_stats st;
};

void
rtc_rtqueue_opts_init(struct rtc_rtqueue_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->dummies = 0;
	o->dummy_mode = RTC_RTQ_DUMMY_FLAG;
	o->reorder_wait_ms = 1000;
	o->first_acquisition = 1;
	o->warn_bytes = (size_t)1 << 30;
	o->first_run = 1;
}

const char *
rtc_rtqueue_verdict_name(enum rtc_rtq_verdict v)
{
	switch (v) {
	case RTC_RTQ_QUEUED: return "queued";
	case RTC_RTQ_DUPLICATE: return "duplicate";
	case RTC_RTQ_LATE: return "late";
	case RTC_RTQ_DROPPED_DUMMY: return "dummy";
	case RTC_RTQ_INVALID: return "invalid";
	}
	return "unknown";
}

int
rtc_rtqueue_new(struct rtc_ctx *ctx, const struct rtc_rtqueue_opts *o,
    struct rtc_rtqueue **out, char **cause)
{
	struct rtc_rtqueue *q;
	pthread_condattr_t ca;

	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return RTC_ERR_NOMEM;
	if (o != NULL)
		q->o = *o;
	else
		rtc_rtqueue_opts_init(&q->o);
	if (q->o.dummies < 0 || q->o.dummies > 100000 ||
	    q->o.reorder_wait_ms < 0 || q->o.reorder_wait_ms > 3600000 ||
	    q->o.first_acquisition < -1 || q->o.first_acquisition >= RTQ_MAX_KEY ||
	    (q->o.dummy_mode != RTC_RTQ_DUMMY_FLAG &&
	    q->o.dummy_mode != RTC_RTQ_DUMMY_DROP)) {
		rtc_cause_set(cause, "rtqueue: invalid options");
		free(q);
		return RTC_ERR_INVAL;
	}
	q->ctx = ctx;
	q->last_run = q->o.first_run - 1;
	q->cur_run = q->announced_run = q->last_run;
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = q;
	return RTC_OK;
}

/* ---- pool (mutex held) ------------------------------------------------ */

static void
recycle_locked(struct rtc_rtqueue *q, struct rtc_volume *v)
{
	if (v == NULL)
		return;
	if (q->nspare < RTQ_MAX_SPARE) {
		q->spare[q->nspare++] = v;
	} else {
		rtc_volume_free(v);
		if (q->st.pool_live > 0)
			q->st.pool_live--;
	}
}

struct rtc_volume *
rtc_rtqueue_get_free(struct rtc_rtqueue *q)
{
	struct rtc_volume *v = NULL;

	pthread_mutex_lock(&q->mu);
	if (q->nspare > 0)
		v = q->spare[--q->nspare];
	pthread_mutex_unlock(&q->mu);
	if (v != NULL) {
		v->acq.series_number = v->acq.acquisition_number = -1;
		v->acq.instance_number = -1;
		v->acq.acquisition_time = -1.0;
		v->acq.series_uid[0] = '\0';
		return v;
	}
	v = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
	if (v != NULL) {
		pthread_mutex_lock(&q->mu);
		q->st.pool_volumes++;
		q->st.pool_live++;
		pthread_mutex_unlock(&q->mu);
	}
	return v;
}

void
rtc_rtqueue_recycle(struct rtc_rtqueue *q, struct rtc_volume *v)
{
	if (v == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	recycle_locked(q, v);
	pthread_mutex_unlock(&q->mu);
}

static struct node *
node_get(struct rtc_rtqueue *q)
{
	struct node *n = q->spare_nodes;

	if (n != NULL) {
		q->spare_nodes = n->next;
		memset(n, 0, sizeof(*n));
		return n;
	}
	return calloc(1, sizeof(*n));
}

static void
node_put(struct rtc_rtqueue *q, struct node *n)
{
	n->next = q->spare_nodes;
	q->spare_nodes = n;
}

/* ---- series ----------------------------------------------------------- */

static int
series_find(struct rtc_rtqueue *q, const struct rtc_volume *v)
{
	int i, lru = 0;

	for (i = 0; i < RTQ_MAX_SERIES; i++) {
		struct series *s = &q->ser[i];

		if (s->used && s->number == v->acq.series_number &&
		    strcmp(s->uid, v->acq.series_uid) == 0) {
			s->last_use = ++q->use_clock;
			return i;
		}
	}
	for (i = 0; i < RTQ_MAX_SERIES; i++) {
		if (!q->ser[i].used)
			break;
		if (q->ser[i].last_use < q->ser[lru].last_use)
			lru = i;
	}
	if (i == RTQ_MAX_SERIES) {
		struct node *n;

		/* reuse the least recently used record, unless volumes of it
		 * are still queued (then there is no room: use it anyway
		 * after detaching them from dedup knowledge) */
		i = lru;
		for (n = q->head; n != NULL; n = n->next)
			if (n->series_idx == i)
				n->series_idx = -1;
		free(q->ser[i].seen);
	}
	memset(&q->ser[i], 0, sizeof(q->ser[i]));
	q->ser[i].used = 1;
	q->ser[i].number = v->acq.series_number;
	snprintf(q->ser[i].uid, sizeof(q->ser[i].uid), "%s", v->acq.series_uid);
	q->ser[i].run = ++q->last_run;
	q->ser[i].first_key = q->o.first_acquisition >= 0 ?
	    q->o.first_acquisition : -1;
	q->ser[i].next_key = q->ser[i].first_key;
	q->ser[i].last_use = ++q->use_clock;
	q->st.runs++;
	return i;
}

static int
seen_get(const struct series *s, long key)
{
	size_t b = (size_t)key / 8;

	return b < s->seen_bytes && (s->seen[b] >> (key % 8)) & 1;
}

static void
seen_set(struct series *s, long key)
{
	size_t b = (size_t)key / 8;

	if (b >= s->seen_bytes) {
		size_t n = s->seen_bytes ? s->seen_bytes : 64;
		unsigned char *p;

		while (n <= b)
			n *= 2;
		p = realloc(s->seen, n);
		if (p == NULL)
			return;   /* dedup of this key is lost; order still holds */
		memset(p + s->seen_bytes, 0, n - s->seen_bytes);
		s->seen = p;
		s->seen_bytes = n;
	}
	s->seen[b] |= (unsigned char)(1u << (key % 8));
}

/* ---- push ------------------------------------------------------------- */

static long
volume_key(const struct rtc_volume *v)
{
	if (v->acq.acquisition_number >= 0)
		return v->acq.acquisition_number;
	if (v->acq.instance_number >= 0)
		return v->acq.instance_number;
	return -1;
}

static void
warn_bytes(struct rtc_rtqueue *q)
{
	if (q->o.warn_bytes == 0)
		return;
	if (!q->warned_bytes && q->bytes > q->o.warn_bytes) {
		rtc_log(q->ctx, WARN, "realtime queue holds %zu volumes (%zu MiB): "
		    "processing is slower than the scanner", q->depth,
		    q->bytes >> 20);
		q->warned_bytes = 1;
	} else if (q->warned_bytes && q->bytes < q->o.warn_bytes / 2) {
		q->warned_bytes = 0;
	}
}

int
rtc_rtqueue_push(struct rtc_rtqueue *q, struct rtc_volume *v,
    int64_t intake_ns, void *tag, enum rtc_rtq_verdict *verdict)
{
	enum rtc_rtq_verdict vd = RTC_RTQ_QUEUED;
	struct series *s;
	struct node *n, *at;
	long key;
	int si;

	pthread_mutex_lock(&q->mu);
	if (q->stopped || q->finished) {
		recycle_locked(q, v);
		pthread_mutex_unlock(&q->mu);
		return RTC_ERR_CANCELLED;
	}
	q->st.pushed++;
	si = series_find(q, v);
	s = &q->ser[si];
	key = volume_key(v);
	if (key >= RTQ_MAX_KEY) {
		vd = RTC_RTQ_INVALID;
		q->st.invalid++;
		rtc_log(q->ctx, WARN, "series %d: volume number %ld out of range; "
		    "dropped", s->number, key);
		goto drop;
	}
	if (key < 0) {
		/* no number at all: arrival order */
		if (s->first_key < 0)
			s->first_key = s->next_key = 1;
		key = s->first_key + s->arrival_seq++;
	}
	if (s->run < q->cur_run || (s->next_key >= 0 && key < s->next_key) ||
	    (s->first_key >= 0 && key < s->first_key)) {
		if (seen_get(s, key)) {
			vd = RTC_RTQ_DUPLICATE;
			q->st.duplicates++;
			rtc_log(q->ctx, WARN, "series %d: volume %ld arrived again; "
			    "duplicate dropped", s->number, key);
		} else {
			vd = RTC_RTQ_LATE;
			q->st.late++;
			rtc_log(q->ctx, WARN, "series %d: volume %ld arrived after "
			    "its turn; dropped", s->number, key);
		}
		goto drop;
	}
	/* sorted insert from the tail; same (run, key) queued: duplicate */
	for (at = q->tail; at != NULL; at = at->prev) {
		if (at->run < s->run || (at->run == s->run && at->key < key))
			break;
		if (at->run == s->run && at->key == key) {
			vd = RTC_RTQ_DUPLICATE;
			q->st.duplicates++;
			rtc_log(q->ctx, WARN, "series %d: volume %ld arrived again; "
			    "duplicate dropped", s->number, key);
			goto drop;
		}
	}
	n = node_get(q);
	if (n == NULL) {
		recycle_locked(q, v);
		pthread_mutex_unlock(&q->mu);
		return RTC_ERR_NOMEM;
	}
	n->vol = v;
	n->run = s->run;
	n->series_idx = si;
	n->key = key;
	n->intake_ns = intake_ns;
	n->arrival_ns = rtc_clock_mono_ns();
	n->tag = tag;
	n->bytes = v->cap;
	n->prev = at;
	n->next = at != NULL ? at->next : q->head;
	if (n->next != NULL)
		n->next->prev = n;
	else
		q->tail = n;
	if (at != NULL)
		at->next = n;
	else
		q->head = n;
	q->depth++;
	q->bytes += n->bytes;
	if (q->depth > q->st.max_depth)
		q->st.max_depth = q->depth;
	if (q->bytes > q->st.max_bytes)
		q->st.max_bytes = q->bytes;
	warn_bytes(q);
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	if (verdict != NULL)
		*verdict = vd;
	return RTC_OK;
drop:
	recycle_locked(q, v);
	pthread_mutex_unlock(&q->mu);
	if (verdict != NULL)
		*verdict = vd;
	return RTC_OK;
}

/* ---- pop -------------------------------------------------------------- */

static void
unlink_node(struct rtc_rtqueue *q, struct node *n)
{
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		q->head = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		q->tail = n->prev;
	q->depth--;
	q->bytes -= n->bytes;
	warn_bytes(q);
}

/*
 * Decide about the head. RET: 1 hand it out now, 0 wait until *until_ns.
 */
static int
head_ready(struct rtc_rtqueue *q, int64_t now, int64_t *until_ns)
{
	struct node *h = q->head, *n;
	struct series *s;
	int64_t oldest;

	if (q->finished || h->series_idx < 0)
		return 1;
	s = &q->ser[h->series_idx];
	if (s->next_key < 0 || h->key == s->next_key)
		return 1;
	if (q->tail->run != h->run)
		return 1;           /* a newer run began: nothing more will come */
	oldest = h->arrival_ns;
	for (n = h->next; n != NULL && n->run == h->run; n = n->next)
		if (n->arrival_ns < oldest)
			oldest = n->arrival_ns;
	*until_ns = oldest + (int64_t)q->o.reorder_wait_ms * 1000000;
	return now >= *until_ns;
}

int
rtc_rtqueue_pop(struct rtc_rtqueue *q, int timeout_ms, struct rtc_rtq_item *it)
{
	int64_t deadline = timeout_ms >= 0 ?
	    rtc_clock_mono_ns() + (int64_t)timeout_ms * 1000000 : INT64_MAX;
	int ret;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		int64_t now = rtc_clock_mono_ns(), until = INT64_MAX, wake;
		struct timespec ts;

		if (q->stopped) {
			ret = RTC_ERR_CANCELLED;
			break;
		}
		if (q->head != NULL && head_ready(q, now, &until)) {
			struct node *h = q->head;
			struct series *s = h->series_idx >= 0 ?
			    &q->ser[h->series_idx] : NULL;
			int index, dummy;

			memset(it, 0, sizeof(*it));
			it->run = h->run;
			it->series = h->vol->acq.series_number;
			if (h->run != q->announced_run) {
				it->kind = RTC_RTQ_RUN_START;
				q->announced_run = h->run;
				q->cur_run = h->run;
				ret = RTC_OK;
				break;
			}
			unlink_node(q, h);
			q->cur_run = h->run;
			if (s != NULL) {
				if (s->first_key < 0)
					s->first_key = s->next_key = h->key;
				if (s->next_key >= 0 && h->key > s->next_key) {
					it->missing_before = (int)(h->key - s->next_key);
					q->st.missing += (unsigned long long)
					    it->missing_before;
					rtc_log(q->ctx, WARN, "run %d: %d volume(s) "
					    "before volume %ld never arrived",
					    h->run, it->missing_before, h->key);
				}
				s->next_key = h->key + 1;
				seen_set(s, h->key);
				index = (int)(h->key - s->first_key + 1);
			} else {
				index = (int)h->key;
			}
			dummy = index <= q->o.dummies;
			if (dummy)
				q->st.dummies++;
			if (dummy && q->o.dummy_mode == RTC_RTQ_DUMMY_DROP) {
				recycle_locked(q, h->vol);
				node_put(q, h);
				continue;
			}
			it->kind = RTC_RTQ_VOLUME;
			it->index = index;
			it->key = h->key;
			it->dummy = dummy;
			it->volume = h->vol;
			it->tag = h->tag;
			it->intake_ns = h->intake_ns;
			it->queued_ns = now - h->arrival_ns;
			it->depth = q->depth;
			q->st.handed_out++;
			node_put(q, h);
			ret = RTC_OK;
			break;
		}
		if (q->head == NULL && q->finished) {
			memset(it, 0, sizeof(*it));
			it->kind = RTC_RTQ_END;
			it->run = q->cur_run;
			ret = RTC_OK;
			break;
		}
		if (now >= deadline) {
			ret = RTC_ERR_TIMEOUT;
			break;
		}
		wake = until < deadline ? until : deadline;
		if (wake == INT64_MAX) {
			pthread_cond_wait(&q->cv, &q->mu);
		} else {
			ts.tv_sec = (time_t)(wake / 1000000000LL);
			ts.tv_nsec = (long)(wake % 1000000000LL);
			pthread_cond_timedwait(&q->cv, &q->mu, &ts);
		}
	}
	pthread_mutex_unlock(&q->mu);
	return ret;
}

void
rtc_rtqueue_finish(struct rtc_rtqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->finished = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void
rtc_rtqueue_stop(struct rtc_rtqueue *q)
{
	pthread_mutex_lock(&q->mu);
	if (!q->stopped && q->depth > 0)
		rtc_log(q->ctx, WARN, "realtime queue stopped with %zu volume(s) "
		    "not processed", q->depth);
	q->stopped = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void
rtc_rtqueue_lag(struct rtc_rtqueue *q, struct rtc_rtq_lag *l)
{
	struct node *n;
	int64_t now = rtc_clock_mono_ns(), oldest = now;

	pthread_mutex_lock(&q->mu);
	l->depth = q->depth;
	l->bytes = q->bytes;
	for (n = q->head; n != NULL; n = n->next)
		if (n->arrival_ns < oldest)
			oldest = n->arrival_ns;
	l->oldest_ns = q->head != NULL ? now - oldest : 0;
	pthread_mutex_unlock(&q->mu);
}

void
rtc_rtqueue_get_stats(struct rtc_rtqueue *q, struct rtc_rtq_stats *s)
{
	pthread_mutex_lock(&q->mu);
	*s = q->st;
	pthread_mutex_unlock(&q->mu);
}

void
rtc_rtqueue_free(struct rtc_rtqueue *q)
{
	struct node *n, *next;
	size_t i;

	if (q == NULL)
		return;
	for (n = q->head; n != NULL; n = next) {
		next = n->next;
		rtc_volume_free(n->vol);
		free(n);
	}
	for (n = q->spare_nodes; n != NULL; n = next) {
		next = n->next;
		free(n);
	}
	for (i = 0; i < q->nspare; i++)
		rtc_volume_free(q->spare[i]);
	for (i = 0; i < RTQ_MAX_SERIES; i++)
		free(q->ser[i].seen);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}
