/*
 * s3_get: many verified, resumable downloads over one connection pool.
 *
 * Each item becomes a transfer only while it is in flight or waiting to
 * retry; at most o->jobs of those exist, so open files and memory stay
 * bounded however many items there are. A transfer writes what arrives
 * straight to its partial file with pwrite() and feeds the digests as it
 * goes, so nothing of a body is held in memory. The partial file lives in
 * part_dir under a name derived from the destination, so a later run
 * finds it: its bytes are hashed again and the rest is asked for with
 * "Range: bytes=N-". A partial is only continued when the object's size
 * and a checksum are known (otherwise a stale partial of another version
 * could pass unnoticed); a 200 answer to a Range request starts over.
 *
 * Checks before a byte is written: the status, an HTML Content-Type, the
 * announced length against the expected size, the Content-Range start.
 * After the last byte: the size, the MD5/SHA-256, and whether a small
 * body is really {"error": ...}. Only then is the partial renamed into
 * place, so a file at its final path is always complete and verified.
 */
#include "rtc_build.h"

#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <pthread.h>

#include "clock.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "s3.h"
#include "s3_int.h"

#define DL_MAX_TOTAL_ATTEMPTS 64
#define DL_JSON_SNIFF_MAX 4096
#define DL_WBUF (256 * 1024)      /* curl hands over 16 KiB at a time */

enum dl_state { DL_ACTIVE, DL_WAIT };

struct dl {
	struct engine *e;
	struct rtc_dl_item *it;
	enum dl_state state;
	struct rtc_http_xfer *xfer;
	int fd;
	char *part;               /* partial file path */
	long long off;            /* bytes received and hashed; the last
	                           * wlen of them still in wbuf */
	char *wbuf;               /* batches writes into fewer pwrite()s */
	size_t wlen;
	long long unreported;     /* bytes not yet told to on_progress */
	long long req_from;       /* the Range start of this attempt */
	long long expect;         /* expected size, -1 unknown */
	struct rtc_hash *md5;
	struct rtc_hash *sha;     /* only when a SHA-256 is expected */
	char want_md5[33];        /* the listing's, else the response's ETag */
	int verifiable;           /* a checksum is known: partials may resume */
	int first_chunk;
	int fail_err;             /* set by callbacks: why the attempt failed */
	int fatal;                /* and retrying cannot help */
	char fail_msg[256];
	long long attempt_bytes;
	int no_progress;          /* attempts in a row without progress */
	int64_t retry_at;
	char *url;
	char **hdrs;
};

/* One worker thread: its own connection pool and transfers. */
struct engine {
	struct rtc_dl *dl;
	struct rtc_s3 *s3;            /* shared: only read */
	const struct rtc_dl_opts *o;
	struct rtc_http *http;        /* this thread's pool */
	struct dl **slots;            /* in flight or waiting */
	int nslots;
	int jobs;
	int retries;
	long backoff_ms;
	long backoff_max_ms;
	uint64_t rng;
	int in_start;                 /* start_next() is running */
	char **dirs;                  /* directories known to exist */
	size_t ndirs;
	size_t dircap;
	pthread_t tid;
	int started;
};

/*
 * The set: a queue of items the workers take from, counters, and a lock
 * that serialises the caller's callbacks, so those need no locking of
 * their own.
 */
struct rtc_dl {
	struct rtc_s3 *s3;
	struct rtc_dl_opts opts;
	pthread_mutex_t lock;         /* queue, counters, running */
	pthread_cond_t cond;
	pthread_mutex_t cb_lock;      /* the callbacks in opts */
	struct rtc_dl_item **queue;   /* added, not yet started */
	size_t qhead;
	size_t qlen;
	size_t qcap;
	int closed;                   /* no more adds */
	int aborting;                 /* stop now (rtc_dl_free) */
	size_t added;
	size_t failed;
	int first_err;
	struct engine *eng;
	int neng;
	int running;                  /* workers not yet finished */
};

void
rtc_dl_item_clear(struct rtc_dl_item *it)
{
	if (it == NULL)
		return;
	free(it->key);
	free(it->url);
	free(it->rel);
	free(it->cause);
	it->key = it->url = it->rel = it->cause = NULL;
}

int
rtc_dl_part_path(const char *part_dir, const char *rel, char **out)
{
	char hex[65];
	size_t n;
	char *s;

	if (rtc_sha256_hex(rel, strlen(rel), hex) != RTC_OK)
		return RTC_ERR_INTERNAL;
	n = strlen(part_dir) + 48;
	s = malloc(n);
	if (s == NULL)
		return RTC_ERR_NOMEM;
	snprintf(s, n, "%s/%.32s.part", part_dir, hex);
	*out = s;
	return RTC_OK;
}

static int
ends_with_ci(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static int
is_html_name(const char *rel)
{
	return ends_with_ci(rel, ".html") || ends_with_ci(rel, ".htm") ||
	    ends_with_ci(rel, ".xhtml");
}

static void
dl_fail_msg(struct dl *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
dl_fail_msg(struct dl *d, int err, const char *fmt, ...)
{
	va_list ap;

	d->fail_err = err;
	va_start(ap, fmt);
	vsnprintf(d->fail_msg, sizeof(d->fail_msg), fmt, ap);
	va_end(ap);
}

/* Start the digests over, for a partial emptied or a fresh file. */
static int
dl_reset_hashes(struct dl *d)
{
	rtc_hash_free(d->md5);
	rtc_hash_free(d->sha);
	d->md5 = rtc_hash_new(RTC_HASH_MD5);
	d->sha = d->it->sha256[0] ? rtc_hash_new(RTC_HASH_SHA256) : NULL;
	if (d->md5 == NULL || (d->it->sha256[0] && d->sha == NULL))
		return RTC_ERR_NOMEM;
	return RTC_OK;
}

static int
dl_truncate(struct dl *d)
{
	d->wlen = 0;
	if (ftruncate(d->fd, 0) != 0)
		return RTC_ERR_IO;
	d->off = 0;
	return dl_reset_hashes(d);
}

/* Hash what a partial already holds. */
static int
dl_hash_existing(struct dl *d, long long len)
{
	char *buf = malloc(1 << 18);
	long long pos = 0;
	int r = RTC_OK;

	if (buf == NULL)
		return RTC_ERR_NOMEM;
	while (pos < len && r == RTC_OK) {
		size_t want = (size_t)(len - pos < (1 << 18) ? len - pos :
		    (1 << 18));
		ssize_t got = pread(d->fd, buf, want, (off_t)pos);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = RTC_ERR_IO;
			break;
		}
		rtc_hash_update(d->md5, buf, (size_t)got);
		if (d->sha != NULL)
			rtc_hash_update(d->sha, buf, (size_t)got);
		pos += got;
	}
	free(buf);
	d->off = pos;
	return r;
}

static void
dl_free(struct dl *d)
{
	if (d == NULL)
		return;
	if (d->fd >= 0)
		close(d->fd);
	rtc_hash_free(d->md5);
	rtc_hash_free(d->sha);
	rtc_s3_request_free(d->url, d->hdrs);
	free(d->wbuf);
	free(d->part);
	free(d);
}

static void start_next(struct engine *e);

/* The caller's progress callback, one thread at a time. */
static void
notify(struct engine *e, long long bytes, const struct rtc_dl_item *done)
{
	if (e->o->on_progress == NULL)
		return;
	pthread_mutex_lock(&e->dl->cb_lock);
	e->o->on_progress(e->o->arg, bytes, done);
	pthread_mutex_unlock(&e->dl->cb_lock);
}

static int
stopping(const struct engine *e)
{
	return rtc_ctx_stopping(e->s3->ctx) || e->dl->aborting;
}

static void
item_fail(struct engine *e, struct rtc_dl_item *it, int err, const char *msg)
{
	it->status = err;
	free(it->cause);
	it->cause = strdup(msg);
	pthread_mutex_lock(&e->dl->lock);
	e->dl->failed++;
	if (e->dl->first_err == RTC_OK)
		e->dl->first_err = err;
	pthread_mutex_unlock(&e->dl->lock);
	rtc_log(e->s3->ctx, ERROR, "%s: %s", it->rel, msg);
	notify(e, 0, it);
}

static void
slot_remove(struct engine *e, struct dl *d)
{
	int i;

	for (i = 0; i < e->nslots; i++)
		if (e->slots[i] == d) {
			e->slots[i] = e->slots[--e->nslots];
			break;
		}
	dl_free(d);
	/* a free slot: start the next one now, whoever drives the pool */
	start_next(e);
}

static size_t
dir_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int
dir_known(const struct engine *e, const char *dir)
{
	size_t i;

	if (e->dircap == 0)
		return 0;
	for (i = dir_hash(dir) & (e->dircap - 1); e->dirs[i] != NULL;
	    i = (i + 1) & (e->dircap - 1))
		if (strcmp(e->dirs[i], dir) == 0)
			return 1;
	return 0;
}

static void
dir_remember(struct engine *e, const char *dir)
{
	size_t i;

	if (e->ndirs * 2 >= e->dircap) {
		size_t nc = e->dircap ? e->dircap * 2 : 256, k;
		char **t = calloc(nc, sizeof(*t));

		if (t == NULL)
			return;           /* a cache: fine to miss */
		for (k = 0; k < e->dircap; k++) {
			if (e->dirs[k] == NULL)
				continue;
			for (i = dir_hash(e->dirs[k]) & (nc - 1); t[i] != NULL;
			    i = (i + 1) & (nc - 1))
				;
			t[i] = e->dirs[k];
		}
		free(e->dirs);
		e->dirs = t;
		e->dircap = nc;
	}
	for (i = dir_hash(dir) & (e->dircap - 1); e->dirs[i] != NULL;
	    i = (i + 1) & (e->dircap - 1))
		;
	if ((e->dirs[i] = strdup(dir)) != NULL)
		e->ndirs++;
}

/* mkdir -p, trying the deepest folder first and remembering what exists:
 * most files land in a folder made (or seen) moments before. */
static int
ensure_dir(struct engine *e, char *dir)
{
	char *slash;
	int r;

	if (dir_known(e, dir))
		return RTC_OK;
	if (mkdir(dir, 0755) == 0 || errno == EEXIST) {
		dir_remember(e, dir);
		return RTC_OK;
	}
	if (errno != ENOENT)
		return RTC_ERR_IO;
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return RTC_ERR_IO;
	*slash = '\0';
	r = ensure_dir(e, dir);
	*slash = '/';
	if (r != RTC_OK)
		return r;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return RTC_ERR_IO;
	dir_remember(e, dir);
	return RTC_OK;
}

static int
make_parent(struct engine *e, const char *final, char **cause)
{
	char dir[4096];
	const char *slash = strrchr(final, '/');

	if (slash == NULL || (size_t)(slash - final) >= sizeof(dir))
		return RTC_ERR_INVAL;
	memcpy(dir, final, (size_t)(slash - final));
	dir[slash - final] = '\0';
	if (ensure_dir(e, dir) != RTC_OK) {
		rtc_cause_set(cause, "%s: %s", dir, strerror(errno));
		return RTC_ERR_IO;
	}
	return RTC_OK;
}

/* A small complete body that is {"error": ...} and nothing else. */
static int
json_error_body(struct dl *d)
{
	char buf[DL_JSON_SNIFF_MAX + 1];
	json_t *j;
	ssize_t got;
	int bad = 0;

	if (d->off <= 0 || d->off > DL_JSON_SNIFF_MAX)
		return 0;
	got = pread(d->fd, buf, (size_t)d->off, 0);
	if (got != d->off)
		return 0;
	j = json_loadb(buf, (size_t)got, 0, NULL);
	if (j != NULL && json_is_object(j) && json_object_size(j) == 1 &&
	    json_object_get(j, "error") != NULL)
		bad = 1;
	json_decref(j);
	return bad;
}

/*
 * The body is all there: verify, rename into place. RET: RTC_OK, or an
 * error with d->fail_msg (the partial has been emptied when it was bad).
 */
static int
dl_finish(struct engine *e, struct dl *d)
{
	struct rtc_dl_item *it = d->it;
	char md5[65], sha[65], *final = NULL, *why = NULL;
	int r;

	if (d->expect >= 0 && d->off != d->expect) {
		dl_fail_msg(d, RTC_ERR_TRUNCATED, "got %lld of %lld bytes",
		    d->off, d->expect);
		return d->fail_err;
	}
	if (json_error_body(d)) {
		dl_fail_msg(d, RTC_ERR_PROTO, "the server sent an {\"error\": "
		    "...} body instead of the file");
		dl_truncate(d);
		return d->fail_err;
	}
	rtc_hash_final_hex(d->md5, md5);
	rtc_hash_free(d->md5);
	d->md5 = NULL;
	sha[0] = '\0';
	if (d->sha != NULL) {
		rtc_hash_final_hex(d->sha, sha);
		rtc_hash_free(d->sha);
		d->sha = NULL;
	}
	if ((d->want_md5[0] && strcmp(md5, d->want_md5) != 0) ||
	    (it->sha256[0] && strcmp(sha, it->sha256) != 0)) {
		dl_fail_msg(d, RTC_ERR_FORMAT, "checksum mismatch (%s %s, "
		    "expected %s)", it->sha256[0] ? "SHA-256" : "MD5",
		    it->sha256[0] ? sha : md5,
		    it->sha256[0] ? it->sha256 : d->want_md5);
		dl_truncate(d);
		return d->fail_err;
	}
	if ((r = rtc_fs_join_safe(e->o->dir, it->rel, &final)) != RTC_OK) {
		dl_fail_msg(d, RTC_ERR_INVAL, "unsafe destination");
		return RTC_ERR_INVAL;
	}
	if (make_parent(e, final, &why) != RTC_OK) {
		dl_fail_msg(d, RTC_ERR_IO, "%s", why ? why : "cannot make its "
		    "directory");
		free(why);
		free(final);
		return RTC_ERR_IO;
	}
	{
		struct stat st;

		if (fstat(d->fd, &st) == 0)
			it->got_mtime_ns = (long long)st.st_mtim.tv_sec *
			    1000000000LL + st.st_mtim.tv_nsec;
	}
	if (rename(d->part, final) != 0) {
		dl_fail_msg(d, RTC_ERR_IO, "cannot move into place: %s",
		    strerror(errno));
		free(final);
		return RTC_ERR_IO;
	}
	free(final);
	memcpy(it->got_md5, md5, 33);
	snprintf(it->got_sha256, sizeof(it->got_sha256), "%s", sha);
	it->got_size = d->off;
	it->status = RTC_OK;
	return RTC_OK;
}

static int dl_begin(struct engine *e, struct dl *d, char **cause);

static int
on_head(void *arg, const struct rtc_http_resp *r)
{
	struct dl *d = arg;
	struct rtc_dl_item *it = d->it;
	char md5[33];

	if (r->status < 200 || r->status > 299)
		return RTC_OK;   /* the error body is collected for on_done */
	if (strncasecmp(r->content_type, "text/html", 9) == 0 &&
	    !is_html_name(it->rel)) {
		dl_fail_msg(d, RTC_ERR_PROTO, "the server sent an HTML page "
		    "(HTTP %ld) instead of the file", r->status);
		return RTC_ERR_PROTO;
	}
	if (r->status == 206) {
		if (r->range_first != d->req_from ||
		    (d->expect >= 0 && r->range_total != d->expect)) {
			dl_fail_msg(d, RTC_ERR_PROTO, "unexpected Content-Range "
			    "%lld-%lld/%lld", r->range_first, r->range_last,
			    r->range_total);
			return RTC_ERR_PROTO;
		}
		if (d->expect < 0 && r->range_total >= 0)
			d->expect = r->range_total;
	} else {
		if (d->off > 0 && dl_truncate(d) != RTC_OK) {
			dl_fail_msg(d, RTC_ERR_IO, "cannot empty the partial");
			return RTC_ERR_IO;
		}
		d->req_from = 0;
		if (d->expect >= 0 && r->content_length >= 0 &&
		    r->content_length != d->expect) {
			dl_fail_msg(d, RTC_ERR_PROTO, "the server announced %lld "
			    "bytes, the listing %lld", r->content_length,
			    d->expect);
			return RTC_ERR_PROTO;
		}
		if (d->expect < 0 && r->content_length >= 0)
			d->expect = r->content_length;
	}
	if (r->etag[0] && rtc_s3_etag_md5(r->etag, md5)) {
		if (d->want_md5[0] == '\0') {
			memcpy(d->want_md5, md5, sizeof(md5));
		} else if (strcmp(md5, d->want_md5) != 0 && it->key != NULL) {
			dl_fail_msg(d, RTC_ERR_FORMAT, "the object changed since "
			    "it was listed (ETag %s)", md5);
			d->fatal = 1;
			return RTC_ERR_FORMAT;
		}
	}
	d->first_chunk = 1;
	return RTC_OK;
}

static int
write_at(struct dl *d, const char *p, size_t n, long long at)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = pwrite(d->fd, p + off, n - off,
		    (off_t)(at + (long long)off));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			dl_fail_msg(d, RTC_ERR_IO, "write: %s",
			    w < 0 ? strerror(errno) : "no progress");
			return RTC_ERR_IO;
		}
		off += (size_t)w;
	}
	return RTC_OK;
}

/* Put the buffered bytes on disk; report progress. */
static int
dl_flush(struct dl *d)
{
	if (d->wlen > 0) {
		if (write_at(d, d->wbuf, d->wlen, d->off - (long long)d->wlen) !=
		    RTC_OK)
			return RTC_ERR_IO;
		d->wlen = 0;
	}
	if (d->unreported > 0) {
		notify(d->e, d->unreported, NULL);
		d->unreported = 0;
	}
	return RTC_OK;
}

static int
on_body(void *arg, const void *p, size_t n)
{
	struct dl *d = arg;
	const char *s = p;

	if (d->first_chunk && d->off == 0 && !is_html_name(d->it->rel)) {
		size_t i = 0;

		while (i < n && i < 64 && (s[i] == ' ' || s[i] == '\n' ||
		    s[i] == '\r' || s[i] == '\t'))
			i++;
		if ((n - i >= 14 && strncasecmp(s + i, "<!doctype html", 14) ==
		    0) || (n - i >= 5 && strncasecmp(s + i, "<html", 5) == 0)) {
			dl_fail_msg(d, RTC_ERR_PROTO, "the server sent an HTML "
			    "page instead of the file");
			return RTC_ERR_PROTO;
		}
	}
	d->first_chunk = 0;
	if (d->expect >= 0 && d->off + (long long)n > d->expect) {
		dl_fail_msg(d, RTC_ERR_PROTO, "the server sent more than %lld "
		    "bytes", d->expect);
		return RTC_ERR_PROTO;
	}
	rtc_hash_update(d->md5, p, n);
	if (d->sha != NULL)
		rtc_hash_update(d->sha, p, n);
	if (d->wlen + n > DL_WBUF && dl_flush(d) != RTC_OK)
		return RTC_ERR_IO;
	if (n >= DL_WBUF) {
		if (write_at(d, s, n, d->off) != RTC_OK)
			return RTC_ERR_IO;
	} else {
		memcpy(d->wbuf + d->wlen, s, n);
		d->wlen += n;
	}
	d->off += (long long)n;
	d->attempt_bytes += (long long)n;
	d->it->fetched += (long long)n;
	d->unreported += (long long)n;
	if (d->unreported >= DL_WBUF) {
		notify(d->e, d->unreported, NULL);
		d->unreported = 0;
	}
	return RTC_OK;
}

static void
dl_schedule_retry(struct engine *e, struct dl *d, const char *why)
{
	long ms;

	/* progress: the partial kept more than the attempt started from */
	if (d->off > d->req_from)
		d->no_progress = 0;
	else
		d->no_progress++;
	if (d->no_progress >= e->retries ||
	    d->it->attempts >= DL_MAX_TOTAL_ATTEMPTS) {
		char msg[400];

		snprintf(msg, sizeof(msg), "%s (gave up after %d attempts)",
		    why, d->it->attempts);
		item_fail(e, d->it, d->fail_err != RTC_OK ? d->fail_err :
		    RTC_ERR_UNAVAILABLE, msg);
		slot_remove(e, d);
		return;
	}
	ms = d->no_progress == 0 ? 0 : s3_backoff_ms(&e->rng,
	    d->no_progress, e->backoff_ms, e->backoff_max_ms);
	rtc_log(e->s3->ctx, WARN, "%s: %s; retrying%s in %ld ms", d->it->rel,
	    why, d->off > 0 ? " from byte" : "", ms);
	if (d->off > 0)
		rtc_debug(e->s3->ctx, S3, "%s: resuming at %lld", d->it->rel,
		    d->off);
	d->state = DL_WAIT;
	d->xfer = NULL;
	d->retry_at = rtc_clock_mono_ns() + (int64_t)ms * 1000000;
}

static void
on_done(void *arg, int err, const struct rtc_http_resp *r,
    const char *errbody, size_t errlen, const char *cause)
{
	struct dl *d = arg;
	struct engine *e = d->e;
	struct rtc_dl_item *it = d->it;
	char why[400];

	d->xfer = NULL;
	rtc_s3_request_free(d->url, d->hdrs);
	d->url = NULL;
	d->hdrs = NULL;
	/* whatever happened, what arrived goes to disk first */
	if (dl_flush(d) != RTC_OK) {
		item_fail(e, it, RTC_ERR_IO, d->fail_msg);
		slot_remove(e, d);
		return;
	}
	if (err == RTC_OK && r->status >= 200 && r->status <= 299) {
		if (dl_finish(e, d) == RTC_OK) {
			rtc_debug(e->s3->ctx, S3, "%s: %lld bytes verified%s",
			    it->rel, d->off, it->resumed ? " (resumed)" : "");
			notify(e, 0, it);
			slot_remove(e, d);
			return;
		}
		if (d->fail_err == RTC_ERR_IO || d->fail_err == RTC_ERR_INVAL) {
			item_fail(e, it, d->fail_err, d->fail_msg);
			slot_remove(e, d);
			return;
		}
		dl_schedule_retry(e, d, d->fail_msg);
		return;
	}
	if (err == RTC_OK) {
		char *c = NULL;
		int serr = rtc_s3_status_error(r->status, "GET", errbody,
		    errlen, &c);

		snprintf(why, sizeof(why), "%s", c ? c : "error");
		free(c);
		if (r->status == 416) {
			/* the partial is longer than the object: start over */
			dl_truncate(d);
			d->fail_err = RTC_ERR_PROTO;
			dl_schedule_retry(e, d, why);
			return;
		}
		if (rtc_http_retryable(RTC_OK, r->status)) {
			d->fail_err = RTC_ERR_UNAVAILABLE;
			dl_schedule_retry(e, d, why);
			return;
		}
		if (serr == RTC_ERR_AUTH && e->s3->creds != NULL &&
		    e->s3->creds->anonymous)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
			    " (unsigned request: set AWS credentials?)");
		item_fail(e, it, serr, why);
		slot_remove(e, d);
		return;
	}
	if (d->fail_err == RTC_ERR_IO || d->fatal) {
		item_fail(e, it, d->fail_err, d->fail_msg);
		slot_remove(e, d);
		return;
	}
	if (d->fail_err == RTC_OK)
		d->fail_err = err;
	snprintf(why, sizeof(why), "%s", d->fail_msg[0] ? d->fail_msg :
	    cause ? cause : rtc_strerror(err));
	dl_schedule_retry(e, d, why);
}

/* Send the request for what the partial lacks. */
static int
dl_send(struct engine *e, struct dl *d, char **cause)
{
	struct rtc_http_req req;
	struct rtc_sigv4_header range;
	char rbuf[64];
	int r;

	d->it->attempts++;
	d->attempt_bytes = 0;
	/* what a failed answer announced must not stick */
	if (d->it->size >= 0 || d->off == 0)
		d->expect = d->it->size;
	if (d->off == 0)
		snprintf(d->want_md5, sizeof(d->want_md5), "%s", d->it->md5);
	d->fail_err = RTC_OK;
	d->fatal = 0;
	d->fail_msg[0] = '\0';
	d->req_from = d->off;
	d->first_chunk = 1;
	snprintf(rbuf, sizeof(rbuf), "bytes=%lld-", d->off);
	range.name = "Range";
	range.value = rbuf;
	if (d->it->key != NULL) {
		r = rtc_s3_request(e->s3, "GET", e->o->bucket, d->it->key, NULL,
		    0, &range, d->off > 0 ? 1 : 0, NULL, &d->url, &d->hdrs,
		    cause);
		if (r != RTC_OK)
			return r;
	} else {
		d->url = strdup(d->it->url);
		d->hdrs = calloc(2, sizeof(char *));
		if (d->url == NULL || d->hdrs == NULL)
			return RTC_ERR_NOMEM;
		if (d->off > 0) {
			size_t n = strlen(rbuf) + 8;

			d->hdrs[0] = malloc(n);
			if (d->hdrs[0] == NULL)
				return RTC_ERR_NOMEM;
			snprintf(d->hdrs[0], n, "Range: %s", rbuf);
		}
	}
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = d->url;
	req.headers = (const char *const *)d->hdrs;
	req.body_fd = -1;
	req.follow = d->it->key == NULL;
	req.on_head = on_head;
	req.on_body = on_body;
	req.on_done = on_done;
	req.arg = d;
	d->state = DL_ACTIVE;
	return rtc_http_start(e->http, &req, &d->xfer, cause);
}

/* Open (or find) the partial, decide where to resume, send. */
static int
dl_begin(struct engine *e, struct dl *d, char **cause)
{
	struct rtc_dl_item *it = d->it;
	struct stat st;
	int r;

	if ((r = rtc_dl_part_path(e->o->part_dir, it->rel, &d->part)) !=
	    RTC_OK)
		return r;
	/* the final mode at once: the partial folder itself is private */
	d->fd = open(d->part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (d->fd < 0 || fstat(d->fd, &st) != 0) {
		rtc_cause_set(cause, "%s: %s", d->part, strerror(errno));
		return RTC_ERR_IO;
	}
	if ((r = dl_reset_hashes(d)) != RTC_OK)
		return r;
	if ((d->wbuf = malloc(DL_WBUF)) == NULL)
		return RTC_ERR_NOMEM;
	d->expect = it->size;
	snprintf(d->want_md5, sizeof(d->want_md5), "%s", it->md5);
	d->verifiable = d->want_md5[0] != '\0' || it->sha256[0] != '\0';
	if (st.st_size > 0) {
		if (d->verifiable && d->expect >= 0 && st.st_size <= d->expect) {
			if ((r = dl_hash_existing(d, st.st_size)) != RTC_OK) {
				rtc_cause_set(cause, "%s: cannot read", d->part);
				return r;
			}
			it->resumed = 1;
			rtc_debug(e->s3->ctx, S3, "%s: %lld bytes from an "
			    "earlier run", it->rel, d->off);
			if (d->off == d->expect) {
				/* complete but not yet moved into place */
				if (dl_finish(e, d) == RTC_OK) {
					rtc_debug(e->s3->ctx, S3, "%s: %lld bytes "
					    "verified (all there in the partial)",
					    it->rel, d->off);
					notify(e, 0, it);
					return 1;
				}
				if (d->fail_err == RTC_ERR_IO ||
				    d->fail_err == RTC_ERR_INVAL) {
					rtc_cause_set(cause, "%s", d->fail_msg);
					return d->fail_err;
				}
				if (dl_truncate(d) != RTC_OK)
					return RTC_ERR_IO;
			}
		} else if (dl_truncate(d) != RTC_OK) {
			rtc_cause_set(cause, "%s: cannot empty", d->part);
			return RTC_ERR_IO;
		}
	}
	return dl_send(e, d, cause);
}

static void retry_due(struct engine *e);

static void
start_next(struct engine *e)
{
	struct rtc_dl *dl = e->dl;

	if (e->in_start || stopping(e))
		return;
	e->in_start = 1;
	retry_due(e);
	while (e->nslots < e->jobs) {
		struct rtc_dl_item *it = NULL;
		struct dl *d;
		char *cause = NULL;
		int r;

		pthread_mutex_lock(&dl->lock);
		if (dl->qhead < dl->qlen) {
			it = dl->queue[dl->qhead++];
			if (dl->qhead == dl->qlen)
				dl->qhead = dl->qlen = 0;   /* reuse storage */
		}
		pthread_mutex_unlock(&dl->lock);
		if (it == NULL)
			break;
		if (it->rel == NULL || !rtc_fs_safe_relpath(it->rel,
		    strlen(it->rel)) || (it->key == NULL && it->url == NULL)) {
			item_fail(e, it, RTC_ERR_INVAL, "unsafe or empty "
			    "destination");
			continue;
		}
		d = calloc(1, sizeof(*d));
		if (d == NULL) {
			item_fail(e, it, RTC_ERR_NOMEM, "out of memory");
			continue;
		}
		d->e = e;
		d->it = it;
		d->fd = -1;
		e->slots[e->nslots++] = d;
		r = dl_begin(e, d, &cause);
		if (r == 1) {
			slot_remove(e, d);       /* finished from the partial */
		} else if (r != RTC_OK) {
			item_fail(e, it, r, cause ? cause : rtc_strerror(r));
			slot_remove(e, d);
		}
		free(cause);
	}
	e->in_start = 0;
}

static void
retry_due(struct engine *e)
{
	int64_t now = rtc_clock_mono_ns();
	int i;

	for (i = 0; i < e->nslots; i++) {
		struct dl *d = e->slots[i];
		char *cause = NULL;
		int r;

		if (d->state != DL_WAIT || d->retry_at > now)
			continue;
		r = dl_send(e, d, &cause);
		if (r != RTC_OK) {
			item_fail(e, d->it, r, cause ? cause : rtc_strerror(r));
			slot_remove(e, d);
			i--;
		}
		free(cause);
	}
}

/* Abort this worker's transfers (the partials stay) and free its slots. */
static void
engine_drop(struct engine *e)
{
	int i;

	for (i = 0; i < e->nslots; i++) {
		if (e->slots[i]->xfer != NULL)
			rtc_http_cancel(e->http, e->slots[i]->xfer);
		e->slots[i]->it->status = RTC_ERR_CANCELLED;
		dl_free(e->slots[i]);
	}
	e->nslots = 0;
}

static void *
worker(void *arg)
{
	struct engine *e = arg;
	struct rtc_dl *dl = e->dl;
	int i;

	for (;;) {
		if (stopping(e))
			break;
		start_next(e);
		if (e->nslots == 0) {
			int done;

			pthread_mutex_lock(&dl->lock);
			if (dl->qhead == dl->qlen && !dl->closed &&
			    !dl->aborting) {
				struct timespec ts;

				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_nsec += 100000000;
				if (ts.tv_nsec >= 1000000000) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000;
				}
				pthread_cond_timedwait(&dl->cond, &dl->lock, &ts);
			}
			done = dl->qhead == dl->qlen && dl->closed;
			pthread_mutex_unlock(&dl->lock);
			if (done)
				break;
			continue;
		}
		if (rtc_http_active(e->http) == 0) {
			/* only waiting for backoffs to pass */
			int64_t due = INT64_MAX, wait;

			for (i = 0; i < e->nslots; i++)
				if (e->slots[i]->retry_at < due)
					due = e->slots[i]->retry_at;
			wait = due - rtc_clock_mono_ns();
			if (wait > 100000000)
				wait = 100000000;
			if (wait > 0)
				rtc_clock_sleep_ns(wait, e->s3->ctx ?
				    e->s3->ctx->stop : NULL);
		} else if (rtc_http_run(e->http, 100) < 0) {
			break;
		}
	}
	engine_drop(e);
	pthread_mutex_lock(&dl->lock);
	dl->running--;
	pthread_cond_broadcast(&dl->cond);
	pthread_mutex_unlock(&dl->lock);
	return NULL;
}

/* Two per CPU, from 4 to 8: the threads also wait on the file system
 * (creating files is slow), so a few more than CPUs keep sockets read. */
static int
default_threads(int jobs)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN) * 2;

	if (n < 4)
		n = 4;
	if (n > 8)
		n = 8;
	if (n > jobs)
		n = jobs;
	return (int)n;
}

int
rtc_dl_new(struct rtc_s3 *s3, const struct rtc_dl_opts *o, struct rtc_dl **out,
    char **cause)
{
	struct rtc_http_opts ho;
	struct rtc_dl *dl;
	int jobs, i, r = RTC_OK;

	if (o->dir == NULL || o->part_dir == NULL) {
		rtc_cause_set(cause, "download: no target directory");
		return RTC_ERR_INVAL;
	}
	if (rtc_fs_mkdir_p(o->part_dir, 0700, cause) != RTC_OK)
		return RTC_ERR_IO;
	dl = calloc(1, sizeof(*dl));
	if (dl == NULL)
		return RTC_ERR_NOMEM;
	dl->s3 = s3;
	dl->opts = *o;
	dl->first_err = RTC_OK;
	pthread_mutex_init(&dl->lock, NULL);
	pthread_mutex_init(&dl->cb_lock, NULL);
	pthread_cond_init(&dl->cond, NULL);
	jobs = o->jobs > 0 ? o->jobs : 16;
	dl->neng = o->threads > 0 ? (o->threads < jobs ? o->threads : jobs) :
	    default_threads(jobs);
	dl->eng = calloc((size_t)dl->neng, sizeof(*dl->eng));
	if (dl->eng == NULL) {
		rtc_dl_free(dl);
		return RTC_ERR_NOMEM;
	}
	rtc_http_opts_init(&ho);
	for (i = 0; i < dl->neng && r == RTC_OK; i++) {
		struct engine *e = &dl->eng[i];

		e->dl = dl;
		e->s3 = s3;
		e->o = &dl->opts;
		/* the jobs shared out; the pool of each bounded alike */
		e->jobs = jobs / dl->neng + (i < jobs % dl->neng ? 1 : 0);
		e->retries = o->retries > 0 ? o->retries : 8;
		e->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : 200;
		e->backoff_max_ms = o->backoff_max_ms > 0 ?
		    o->backoff_max_ms : 10000;
		s3_rand_seed(&e->rng);
		e->slots = calloc((size_t)e->jobs, sizeof(*e->slots));
		if (e->slots == NULL) {
			r = RTC_ERR_NOMEM;
			break;
		}
		ho.max_conns = e->jobs;
		ho.ca_file = o->ca_file;
		r = rtc_http_new(s3->ctx, &ho, &e->http, cause);
	}
	for (i = 0; i < dl->neng && r == RTC_OK; i++) {
		if (pthread_create(&dl->eng[i].tid, NULL, worker,
		    &dl->eng[i]) != 0) {
			rtc_cause_set(cause, "download: cannot start a thread");
			r = RTC_ERR_INTERNAL;
			break;
		}
		dl->eng[i].started = 1;
		pthread_mutex_lock(&dl->lock);
		dl->running++;
		pthread_mutex_unlock(&dl->lock);
	}
	if (r != RTC_OK) {
		rtc_dl_free(dl);
		return r;
	}
	rtc_debug(s3->ctx, S3, "downloads: %d threads, %d transfers at once",
	    dl->neng, jobs);
	*out = dl;
	return RTC_OK;
}

int
rtc_dl_add(struct rtc_dl *dl, struct rtc_dl_item *it)
{
	int r = RTC_OK;

	it->status = RTC_ERR_AGAIN;          /* not done yet */
	pthread_mutex_lock(&dl->lock);
	if (dl->qlen == dl->qcap) {
		size_t nc = dl->qcap ? dl->qcap * 2 : 256;
		struct rtc_dl_item **q = realloc(dl->queue, nc * sizeof(*q));

		if (q == NULL) {
			r = RTC_ERR_NOMEM;
		} else {
			dl->queue = q;
			dl->qcap = nc;
		}
	}
	if (r == RTC_OK) {
		dl->queue[dl->qlen++] = it;
		dl->added++;
		pthread_cond_signal(&dl->cond);
	}
	pthread_mutex_unlock(&dl->lock);
	return r;
}

static void
join_all(struct rtc_dl *dl)
{
	int i;

	for (i = 0; i < dl->neng; i++)
		if (dl->eng[i].started) {
			pthread_join(dl->eng[i].tid, NULL);
			dl->eng[i].started = 0;
		}
}

int
rtc_dl_wait(struct rtc_dl *dl, char **cause)
{
	int running;

	pthread_mutex_lock(&dl->lock);
	dl->closed = 1;
	pthread_cond_broadcast(&dl->cond);
	pthread_mutex_unlock(&dl->lock);
	for (;;) {
		struct timespec ts;

		pthread_mutex_lock(&dl->lock);
		running = dl->running;
		if (running > 0) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&dl->cond, &dl->lock, &ts);
			running = dl->running;
		}
		pthread_mutex_unlock(&dl->lock);
		if (dl->opts.on_tick != NULL) {
			pthread_mutex_lock(&dl->cb_lock);
			dl->opts.on_tick(dl->opts.arg);
			pthread_mutex_unlock(&dl->cb_lock);
		}
		if (running == 0)
			break;
	}
	join_all(dl);
	if (rtc_ctx_stopping(dl->s3->ctx)) {
		rtc_cause_set(cause, "stopped; partial files are kept for the "
		    "next run");
		return RTC_ERR_CANCELLED;
	}
	if (dl->failed > 0) {
		rtc_cause_set(cause, "%zu of %zu files failed", dl->failed,
		    dl->added);
		return dl->first_err;
	}
	return RTC_OK;
}

void
rtc_dl_free(struct rtc_dl *dl)
{
	size_t k;
	int i;

	if (dl == NULL)
		return;
	pthread_mutex_lock(&dl->lock);
	dl->aborting = 1;
	dl->closed = 1;
	pthread_cond_broadcast(&dl->cond);
	pthread_mutex_unlock(&dl->lock);
	if (dl->eng != NULL) {
		join_all(dl);
		for (i = 0; i < dl->neng; i++) {
			struct engine *e = &dl->eng[i];

			engine_drop(e);
			for (k = 0; k < e->dircap; k++)
				free(e->dirs[k]);
			free(e->dirs);
			free(e->slots);
			rtc_http_free(e->http);
		}
	}
	/* items never started */
	for (k = dl->qhead; k < dl->qlen; k++)
		dl->queue[k]->status = RTC_ERR_CANCELLED;
	free(dl->eng);
	free(dl->queue);
	pthread_mutex_destroy(&dl->lock);
	pthread_mutex_destroy(&dl->cb_lock);
	pthread_cond_destroy(&dl->cond);
	free(dl);
}

int
rtc_s3_download(struct rtc_s3 *s3, struct rtc_dl_item *items, size_t n,
    const struct rtc_dl_opts *o, char **cause)
{
	struct rtc_dl *dl = NULL;
	size_t i;
	int r;

	if ((r = rtc_dl_new(s3, o, &dl, cause)) != RTC_OK)
		return r;
	for (i = 0; i < n; i++)
		items[i].status = RTC_ERR_AGAIN;
	for (i = 0; i < n && r == RTC_OK; i++)
		r = rtc_dl_add(dl, &items[i]);
	if (r == RTC_OK)
		r = rtc_dl_wait(dl, cause);
	rtc_dl_free(dl);
	return r;
}
