/*
 * fetch: source → wanted files (struct rtc_dl_item, one per file) →
 * present-or-not → lib/s3 downloads → manifest. One struct fetcher holds
 * the connection pool, credentials, S3 client, manifest and progress for
 * a run; rtc_fetch() and rtc_fetch_bids_run() differ only in how they
 * choose the files.
 *
 * "Present" is decided without the network: the file at its final path
 * has the listed size, and either the manifest recorded it verified with
 * the same size, checksum and modification time, or hashing it now gives
 * the listed checksum (when the source gave none, the size decides).
 */
#include "rtc_build.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bids.h"
#include "clock.h"
#include "config.h"
#include "creds.h"
#include "error.h"
#include "fetch.h"
#include "fsutil.h"
#include "glob.h"
#include "hash.h"
#include "http.h"
#include "log.h"
#include "manifest.h"
#include "openneuro.h"
#include "progress.h"
#include "s3.h"

#define FETCH_UNSAFE_SHOWN 20

struct fetcher {
	struct rtc_ctx *ctx;
	const char *dir;
	char part_dir[4096];
	struct rtc_http *http;
	struct rtc_creds *creds;
	struct rtc_s3 *s3;
	struct rtc_manifest *man;
	struct rtc_progress prog;
	int show;
	int jobs;
	int retries;
	int threads;
	const char *bucket;       /* for items with a key */
	struct rtc_dl_item **chunks;  /* items, FETCH_CHUNK at a time: they
	                               * never move once made */
	size_t nchunks;
	size_t n;
	size_t unsafe;
	struct rtc_dl *dl;        /* the downloads, once begun */
	pthread_mutex_t mu;       /* manifest and progress: the download
	                           * threads' callbacks and this thread */
	const char *ca_file;
	long long present_bytes;
	long long total_bytes;
	double t0;
	int ran;                  /* fetcher_begin() was reached */
	struct rtc_fetch_stats st;
};

#define FETCH_CHUNK 1024

static struct rtc_dl_item *
item_at(struct fetcher *s, size_t i)
{
	return &s->chunks[i / FETCH_CHUNK][i % FETCH_CHUNK];
}

static long
conf_long(struct rtc_ctx *ctx, const char *key, long dflt, long lo, long hi)
{
	long long v;

	if (ctx != NULL && rtc_config_int(ctx->conf, key, &v, NULL) == RTC_OK &&
	    v >= lo && v <= hi)
		return (long)v;
	return dflt;
}

/* The rtc.conf keys this module reads: wrong types are errors naming the
 * key (rtc.conf(5)); ranges are checked where they are read. */
static int
conf_check(struct rtc_ctx *ctx, char **cause)
{
	static const char *const strs[] = {
		"s3.endpoint", "s3.region", "s3.profile", "openneuro.url",
		"openneuro.cache", NULL
	};
	static const char *const ints[] = {
		"s3.jobs", "s3.retries", "s3.threads", "openneuro.retries",
		"openneuro.backoff_ms", NULL
	};
	const char *sv;
	long long iv;
	int i, r;

	if (ctx == NULL || ctx->conf == NULL)
		return RTC_OK;
	for (i = 0; strs[i] != NULL; i++)
		if ((r = rtc_config_string(ctx->conf, strs[i], &sv, cause)) ==
		    RTC_ERR_INVAL)
			return r;
	for (i = 0; ints[i] != NULL; i++)
		if ((r = rtc_config_int(ctx->conf, ints[i], &iv, cause)) ==
		    RTC_ERR_INVAL)
			return r;
	return RTC_OK;
}

static int
fetcher_open(struct fetcher *s, struct rtc_ctx *ctx, const char *dir,
    int jobs, int retries, int no_sign, const char *region, int progress,
    char **cause)
{
	struct rtc_http_opts ho;
	struct rtc_creds_opts co;
	struct rtc_s3_opts so;
	const char *ca;
	int r;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	s->ctx = ctx;
	s->dir = dir;
	if ((r = conf_check(ctx, cause)) != RTC_OK) {
		rtc_cause_wrap(cause, "rtc.conf");
		return r;
	}
	s->jobs = jobs > 0 ? jobs : (int)conf_long(ctx, "s3.jobs", 16, 1, 256);
	s->retries = retries > 0 ? retries :
	    (int)conf_long(ctx, "s3.retries", 8, 1, 100);
	s->threads = (int)conf_long(ctx, "s3.threads", 0, 1, 64);
	if ((size_t)snprintf(s->part_dir, sizeof(s->part_dir),
	    "%s/.rtc/partial", dir) >= sizeof(s->part_dir)) {
		rtc_cause_set(cause, "%s: path too long", dir);
		return RTC_ERR_INVAL;
	}
	rtc_http_opts_init(&ho);
	ho.max_conns = s->jobs;
	ca = getenv("AWS_CA_BUNDLE");
	if (ca != NULL && *ca != '\0' && rtc_fs_is_file(ca))
		ho.ca_file = s->ca_file = ca;
	if ((r = rtc_http_new(ctx, &ho, &s->http, cause)) != RTC_OK)
		return r;
	memset(&co, 0, sizeof(co));
	co.no_sign = no_sign;
	co.region = region;
	if ((r = rtc_creds_load(ctx, &co, &s->creds, cause)) != RTC_OK)
		return r;
	memset(&so, 0, sizeof(so));
	so.retries = s->retries;
	if ((r = rtc_s3_new(ctx, s->http, s->creds, &so, &s->s3, cause)) !=
	    RTC_OK)
		return r;
	if ((r = rtc_manifest_load(dir, &s->man, cause)) != RTC_OK)
		return r;
	s->show = progress && ctx != NULL && !ctx->quiet;
	rtc_progress_init(&s->prog, s->show ? stderr : NULL,
	    ctx != NULL && ctx->tty, "fetch");
	return RTC_OK;
}

static void
fetcher_close(struct fetcher *s)
{
	size_t i;

	rtc_dl_free(s->dl);
	for (i = 0; i < s->n; i++)
		rtc_dl_item_clear(item_at(s, i));
	for (i = 0; i < s->nchunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	rtc_manifest_free(s->man);
	rtc_s3_free(s->s3);
	rtc_creds_free(s->creds);
	rtc_http_free(s->http);
	pthread_mutex_destroy(&s->mu);
}

static struct rtc_dl_item *
fetcher_add(struct fetcher *s)
{
	struct rtc_dl_item *it;

	if (s->n == s->nchunks * FETCH_CHUNK) {
		struct rtc_dl_item **c = realloc(s->chunks, (s->nchunks + 1) *
		    sizeof(*c));

		if (c == NULL)
			return NULL;
		s->chunks = c;
		c[s->nchunks] = calloc(FETCH_CHUNK, sizeof(**c));
		if (c[s->nchunks] == NULL)
			return NULL;
		s->nchunks++;
	}
	it = item_at(s, s->n++);
	memset(it, 0, sizeof(*it));
	it->size = -1;
	return it;
}

/* A relative path from outside is usable when it stays in the target and
 * does not touch rtc's own .rtc folder. */
static int
rel_ok(const char *rel)
{
	return rtc_fs_safe_relpath(rel, strlen(rel)) &&
	    strcmp(rel, ".rtc") != 0 && strncmp(rel, ".rtc/", 5) != 0;
}

static void
warn_unsafe(struct fetcher *s, const char *name)
{
	char shown[600];
	size_t i;

	s->unsafe++;
	if (s->unsafe > FETCH_UNSAFE_SHOWN)
		return;
	snprintf(shown, sizeof(shown), "%s", name);
	for (i = 0; shown[i] != '\0'; i++)
		if ((unsigned char)shown[i] < 32 || shown[i] == 127)
			shown[i] = '?';
	rtc_log(s->ctx, WARN, "skipping '%s': it would land outside %s",
	    shown, s->dir);
}

/* ---- presence ---- */

static int
hash_two(const char *path, int want_sha, char *md5, char *sha)
{
	struct rtc_hash *a = rtc_hash_new(RTC_HASH_MD5);
	struct rtc_hash *b = want_sha ? rtc_hash_new(RTC_HASH_SHA256) : NULL;
	char *buf = malloc(1 << 18);
	FILE *f = fopen(path, "rb");
	size_t got;
	int r = RTC_OK;

	if (a == NULL || buf == NULL || f == NULL || (want_sha && b == NULL)) {
		r = f == NULL ? RTC_ERR_IO : RTC_ERR_NOMEM;
		goto out;
	}
	while ((got = fread(buf, 1, 1 << 18, f)) > 0) {
		rtc_hash_update(a, buf, got);
		if (b != NULL)
			rtc_hash_update(b, buf, got);
	}
	if (ferror(f)) {
		r = RTC_ERR_IO;
		goto out;
	}
	rtc_hash_final_hex(a, md5);
	sha[0] = '\0';
	if (b != NULL)
		rtc_hash_final_hex(b, sha);
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	rtc_hash_free(a);
	rtc_hash_free(b);
	return r;
}

static long long
mtime_ns(const struct stat *st)
{
	return (long long)st->st_mtim.tv_sec * 1000000000LL +
	    st->st_mtim.tv_nsec;
}

/* RET: nonzero when the item is already in place and verified; fills
 * got_* for the manifest. */
static int
present(struct fetcher *s, struct rtc_dl_item *it)
{
	struct rtc_manifest_file mf;
	char *path = NULL, md5[65], sha[65];
	struct stat st;
	int ok = 0;

	if (rtc_fs_join_safe(s->dir, it->rel, &path) != RTC_OK)
		return 0;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (it->size >= 0 && st.st_size != it->size))
		goto out;
	pthread_mutex_lock(&s->mu);
	if (rtc_manifest_file_get(s->man, it->rel, &mf) == RTC_OK &&
	    mf.size == st.st_size && mf.mtime_ns == mtime_ns(&st) &&
	    mf.md5[0] && (it->md5[0] == '\0' || strcmp(it->md5, mf.md5) == 0) &&
	    (it->sha256[0] == '\0' || strcmp(it->sha256, mf.sha256) == 0)) {
		memcpy(it->got_md5, mf.md5, 33);
		snprintf(it->got_sha256, sizeof(it->got_sha256), "%s",
		    mf.sha256);
		ok = 1;
	}
	pthread_mutex_unlock(&s->mu);
	if (ok)
		goto out;
	if (hash_two(path, it->sha256[0] != '\0', md5, sha) != RTC_OK)
		goto out;
	if ((it->md5[0] && strcmp(md5, it->md5) != 0) ||
	    (it->sha256[0] && strcmp(sha, it->sha256) != 0)) {
		rtc_debug(s->ctx, S3, "%s: present but its checksum differs; "
		    "fetching again", it->rel);
		goto out;
	}
	memcpy(it->got_md5, md5, 33);
	memcpy(it->got_sha256, sha, 65);
	ok = 1;
out:
	if (ok) {
		it->got_size = st.st_size;
		it->got_mtime_ns = mtime_ns(&st);
		it->status = RTC_OK;
	}
	free(path);
	return ok;
}

static void
record(struct fetcher *s, const struct rtc_dl_item *it)
{
	struct rtc_manifest_file mf;
	char *path = NULL;
	struct stat st;

	mf.md5 = it->got_md5;
	mf.sha256 = it->got_sha256;
	mf.size = it->got_size;
	mf.mtime_ns = it->got_mtime_ns;
	if (mf.mtime_ns <= 0) {
		if (rtc_fs_join_safe(s->dir, it->rel, &path) != RTC_OK ||
		    stat(path, &st) != 0) {
			free(path);
			return;
		}
		mf.size = st.st_size;
		mf.mtime_ns = mtime_ns(&st);
		free(path);
	}
	(void)rtc_manifest_file_put(s->man, it->rel, &mf);
}

/* ---- running ---- */

static void
on_progress(void *arg, long long bytes, const struct rtc_dl_item *done)
{
	struct fetcher *s = arg;

	pthread_mutex_lock(&s->mu);
	if (bytes > 0)
		rtc_progress_bytes(&s->prog, bytes);
	if (done != NULL) {
		rtc_progress_file(&s->prog, done->status == RTC_OK);
		if (done->status == RTC_OK)
			record(s, done);
	}
	pthread_mutex_unlock(&s->mu);
}

static void
on_tick(void *arg)
{
	struct fetcher *s = arg;

	pthread_mutex_lock(&s->mu);
	rtc_progress_tick(&s->prog, 0);
	pthread_mutex_unlock(&s->mu);
}

/* Start the downloads: items offered from now on go straight in. */
static int
fetcher_begin(struct fetcher *s, char **cause)
{
	struct rtc_dl_opts o;

	memset(&o, 0, sizeof(o));
	o.dir = s->dir;
	o.part_dir = s->part_dir;
	o.bucket = s->bucket;
	o.jobs = s->jobs;
	o.retries = s->retries;
	o.threads = s->threads;
	o.on_progress = on_progress;
	o.on_tick = on_tick;
	o.arg = s;
	o.ca_file = s->ca_file;
	s->ran = 1;
	s->t0 = rtc_clock_wall();
	return rtc_dl_new(s->s3, &o, &s->dl, cause);
}

/* One wanted file: already there and verified, or to be downloaded. */
static int
fetcher_offer(struct fetcher *s, struct rtc_dl_item *it)
{
	if (it->size > 0)
		s->total_bytes += it->size;
	if (present(s, it)) {
		pthread_mutex_lock(&s->mu);
		s->st.present++;
		s->present_bytes += it->got_size;
		record(s, it);
		rtc_progress_file(&s->prog, 1);
		rtc_progress_bytes(&s->prog, it->got_size);
		if (((size_t)s->st.present & 255) == 0)
			rtc_progress_tick(&s->prog, 0);
		pthread_mutex_unlock(&s->mu);
		return RTC_OK;
	}
	return rtc_dl_add(s->dl, it);
}

/*
 * Everything is offered: run the rest of the downloads, count, pin.
 * RET: RTC_OK when every item is present and verified.
 */
static int
fetcher_end(struct fetcher *s, char **cause)
{
	size_t i, ok;
	int r, r2;

	s->st.files = s->n;
	s->st.bytes = s->total_bytes;
	pthread_mutex_lock(&s->mu);
	rtc_progress_total(&s->prog, (long long)s->n, s->total_bytes);
	rtc_progress_tick(&s->prog, 0);
	pthread_mutex_unlock(&s->mu);
	r = rtc_dl_wait(s->dl, cause);
	rtc_dl_free(s->dl);
	s->dl = NULL;
	ok = 0;
	for (i = 0; i < s->n; i++) {
		struct rtc_dl_item *it = item_at(s, i);

		s->st.bytes_fetched += it->fetched;
		if (it->status == RTC_OK)
			ok++;
		else if (it->status != RTC_ERR_CANCELLED &&
		    it->status != RTC_ERR_AGAIN)
			s->st.failed++;
	}
	/* every verified item was either there already or fetched now */
	s->st.fetched = ok - s->st.present;
	rtc_progress_tick(&s->prog, 1);
	rtc_progress_end(&s->prog);
	s->st.seconds = rtc_clock_wall() - s->t0;
	/* what was verified is pinned, whatever happened to the rest */
	r2 = rtc_manifest_save(s->man, s->dir, r == RTC_OK ? cause : NULL);
	if (r == RTC_OK)
		r = r2;
	return r;
}

/* Offer every item made so far, then end. */
static int
fetcher_run(struct fetcher *s, char **cause)
{
	size_t i;
	int r;

	if ((r = fetcher_begin(s, cause)) != RTC_OK)
		return r;
	for (i = 0; i < s->n && r == RTC_OK; i++)
		r = fetcher_offer(s, item_at(s, i));
	if (r != RTC_OK)
		return r;
	return fetcher_end(s, cause);
}

static void
summary(struct fetcher *s, const char *what)
{
	char a[32], b[32], rate[32];
	double secs = s->st.seconds > 1e-3 ? s->st.seconds : 1e-3;

	if (s->ctx == NULL || s->ctx->quiet)
		return;
	rtc_fs_human_bytes((double)s->st.bytes, a, sizeof(a));
	rtc_fs_human_bytes((double)s->st.bytes_fetched, b, sizeof(b));
	rtc_fs_human_bytes((double)s->st.bytes_fetched / secs, rate,
	    sizeof(rate));
	fprintf(stderr, "fetch: %s: %zu files (%s): %zu fetched (%s in "
	    "%.1f s, %s/s), %zu already present%s", what, s->st.files, a,
	    s->st.fetched, b, s->st.seconds, rate, s->st.present,
	    s->st.failed ? "" : "\n");
	if (s->st.failed)
		fprintf(stderr, ", %zu FAILED\n", s->st.failed);
	if (s->unsafe)
		fprintf(stderr, "fetch: %zu keys skipped: they would land "
		    "outside %s\n", s->unsafe, s->dir);
	if (s->st.tag[0])
		fprintf(stderr, "fetch: pinned %s snapshot %s (doi:%s) in "
		    "%s/.rtc/manifest.json\n", what, s->st.tag, s->st.doi,
		    s->dir);
}

/* ---- sources ---- */

struct s3_src {
	struct fetcher *s;
	struct rtc_glob_set *g;
	const char *prefix;
	size_t plen;
	int r;
};

static int
s3_obj(void *arg, const struct rtc_s3_object *o)
{
	struct s3_src *c = arg;
	struct rtc_dl_item *it;
	const char *rel = o->key + c->plen;

	if (o->unsafe_name) {
		warn_unsafe(c->s, o->key);
		return RTC_OK;
	}
	if (strncmp(o->key, c->prefix, c->plen) != 0) {
		/* not what was asked for: it has no place in the target */
		warn_unsafe(c->s, o->key);
		return RTC_OK;
	}
	if (strlen(o->key) <= c->plen)
		return RTC_OK;      /* the prefix itself, a folder marker */
	if (rel[strlen(rel) - 1] == '/' && o->size == 0)
		return RTC_OK;      /* a folder marker */
	if (!rel_ok(rel)) {
		warn_unsafe(c->s, o->key);
		return RTC_OK;
	}
	if (!rtc_glob_set_wants(c->g, rel))
		return RTC_OK;
	it = fetcher_add(c->s);
	if (it == NULL)
		return RTC_ERR_NOMEM;
	it->key = strdup(o->key);
	it->rel = strdup(rel);
	if (it->key == NULL || it->rel == NULL)
		return RTC_ERR_NOMEM;
	it->size = o->size;
	if (!rtc_s3_etag_md5(o->etag, it->md5))
		it->md5[0] = '\0';
	/* downloads start while the listing goes on */
	return fetcher_offer(c->s, it);
}

static int
parse_s3_url(const char *src, char *bucket, size_t bsz, char *prefix,
    size_t psz, char **cause)
{
	const char *b = src + 5, *slash;
	size_t bl;

	slash = strchr(b, '/');
	bl = slash ? (size_t)(slash - b) : strlen(b);
	if (bl == 0 || bl >= bsz || bl > 255) {
		rtc_cause_set(cause, "'%s': no bucket name", src);
		return RTC_ERR_INVAL;
	}
	memcpy(bucket, b, bl);
	bucket[bl] = '\0';
	snprintf(prefix, psz, "%s", slash ? slash + 1 : "");
	/* like aws s3 sync: the prefix names a folder */
	bl = strlen(prefix);
	if (bl > 0 && prefix[bl - 1] != '/' && bl + 1 < psz) {
		prefix[bl] = '/';
		prefix[bl + 1] = '\0';
	}
	return RTC_OK;
}

static int
fetch_s3(struct fetcher *s, const struct rtc_fetch_opts *o,
    struct rtc_glob_set *g, char **cause)
{
	char bucket[300], prefix[RTC_S3_KEY_MAX + 2];
	struct s3_src c;
	int r;

	if ((r = parse_s3_url(o->source, bucket, sizeof(bucket), prefix,
	    sizeof(prefix), cause)) != RTC_OK)
		return r;
	s->bucket = bucket;
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.g = g;
	c.prefix = prefix;
	c.plen = strlen(prefix);
	if (s->show)
		fprintf(stderr, "fetch: listing s3://%s/%s\n", bucket, prefix);
	rtc_manifest_set(s->man, "source", o->source);
	rtc_manifest_set(s->man, "endpoint", rtc_s3_endpoint(s->s3));
	rtc_manifest_set(s->man, "resolved_via", "s3");
	s->st.via = "s3";
	if ((r = fetcher_begin(s, cause)) != RTC_OK)
		return r;
	r = rtc_s3_list(s->s3, bucket, prefix, NULL, s3_obj, &c, cause);
	if (r != RTC_OK) {
		/* keep what was verified before the listing failed */
		rtc_dl_free(s->dl);
		s->dl = NULL;
		if (s->st.present > 0 || s->n > 0)
			(void)rtc_manifest_save(s->man, s->dir, NULL);
		s->bucket = NULL;
		return r;
	}
	if (s->n == 0 && s->unsafe == 0) {
		const char *u = rtc_glob_set_unmatched(g);

		if (u != NULL)
			rtc_cause_set(cause, "--include '%s' matched nothing in "
			    "%s", u, o->source);
		else
			rtc_cause_set(cause, "%s: nothing to fetch", o->source);
		s->bucket = NULL;
		return RTC_ERR_NOT_FOUND;
	}
	r = fetcher_end(s, cause);
	s->bucket = NULL;
	return r;
}

/* An item for one listed file. RET: the item, NULL when out of memory. */
static struct rtc_dl_item *
item_from_file(struct fetcher *s, const struct rtc_on_file *f)
{
	struct rtc_dl_item *it = fetcher_add(s);

	if (it == NULL)
		return NULL;
	it->rel = strdup(f->path);
	if (f->url != NULL)
		it->url = strdup(f->url);
	else if (f->key != NULL)
		it->key = strdup(f->key);
	if (it->rel == NULL || (it->url == NULL && it->key == NULL))
		return NULL;
	it->size = f->size;
	memcpy(it->md5, f->md5, sizeof(it->md5));
	memcpy(it->sha256, f->sha256, sizeof(it->sha256));
	return it;
}

/* Items from an OpenNeuro listing; keep() says which paths. */
static int
items_from_listing(struct fetcher *s, struct rtc_on_listing *l,
    int (*keep)(void *, const char *), void *arg)
{
	size_t i;

	for (i = 0; i < l->nunsafe; i++)
		warn_unsafe(s, l->unsafe[i]);
	for (i = 0; i < l->n; i++) {
		struct rtc_on_file *f = &l->files[i];

		if (!rel_ok(f->path)) {
			warn_unsafe(s, f->path);
			continue;
		}
		if (keep != NULL && !keep(arg, f->path))
			continue;
		if (item_from_file(s, f) == NULL)
			return RTC_ERR_NOMEM;
	}
	return RTC_OK;
}

struct on_src {
	struct fetcher *s;
	struct rtc_glob_set *g;
};

/* A file as its folder is listed: straight to the downloads. */
static int
on_listed_file(void *arg, const struct rtc_on_file *f)
{
	struct on_src *c = arg;
	struct rtc_dl_item *it;

	if (!rel_ok(f->path)) {
		warn_unsafe(c->s, f->path);
		return RTC_OK;
	}
	if (!rtc_glob_set_wants(c->g, f->path))
		return RTC_OK;
	if ((it = item_from_file(c->s, f)) == NULL)
		return RTC_ERR_NOMEM;
	return fetcher_offer(c->s, it);
}

static void
pin(struct fetcher *s, const char *source, struct rtc_on_listing *l)
{
	rtc_manifest_set(s->man, "source", source);
	rtc_manifest_set(s->man, "accession", l->id);
	rtc_manifest_set(s->man, "tag", l->tag[0] ? l->tag : NULL);
	rtc_manifest_set(s->man, "doi", l->doi[0] ? l->doi : NULL);
	rtc_manifest_set(s->man, "resolved_via", l->via);
	snprintf(s->st.tag, sizeof(s->st.tag), "%s", l->tag);
	snprintf(s->st.doi, sizeof(s->st.doi), "%s", l->doi);
	s->st.via = l->via;
}

static int
want_dir_glob(void *arg, const char *dir)
{
	return rtc_glob_set_wants_dir(arg, dir);
}

static int
fetch_openneuro(struct fetcher *s, const struct rtc_fetch_opts *o,
    struct rtc_glob_set *g, char **cause)
{
	struct rtc_on_ref ref;
	struct rtc_on_opts oo;
	struct rtc_on_listing *l = NULL;
	struct on_src src;
	const char *old;
	size_t i;
	int r;

	if ((r = rtc_openneuro_parse_ref(o->source, &ref, cause)) != RTC_OK)
		return r;
	memset(&oo, 0, sizeof(oo));
	oo.want_dir = want_dir_glob;
	oo.arg = g;
	oo.on_file = on_listed_file;
	src.s = s;
	src.g = g;
	oo.arg_file = &src;
	if (s->show)
		fprintf(stderr, "fetch: listing %s%s%s\n", ref.id,
		    ref.tag[0] ? " snapshot " : " (latest snapshot)", ref.tag);
	s->bucket = RTC_OPENNEURO_BUCKET;
	if ((r = fetcher_begin(s, cause)) != RTC_OK)
		return r;
	r = rtc_openneuro_list(s->ctx, s->http, s->s3, &ref, &oo, &l, cause);
	if (r != RTC_OK) {
		rtc_dl_free(s->dl);
		s->dl = NULL;
		if (s->n > 0)
			(void)rtc_manifest_save(s->man, s->dir, NULL);
		return r;
	}
	for (i = 0; i < l->nunsafe; i++)
		warn_unsafe(s, l->unsafe[i]);
	old = rtc_manifest_get(s->man, "tag");
	if (old != NULL && l->tag[0] && strcmp(old, l->tag) != 0)
		rtc_log(s->ctx, WARN, "%s held snapshot %s; updating it to %s",
		    s->dir, old, l->tag);
	pthread_mutex_lock(&s->mu);
	pin(s, o->source, l);
	pthread_mutex_unlock(&s->mu);
	r = fetcher_end(s, cause);
	rtc_openneuro_listing_free(l);
	return r;
}

int
rtc_fetch(struct rtc_ctx *ctx, const struct rtc_fetch_opts *o,
    struct rtc_fetch_stats *st, char **cause)
{
	struct fetcher s;
	struct rtc_glob_set *g = NULL;
	const char *unmatched;
	int is_on, r;

	if (o == NULL || o->source == NULL || o->dir == NULL) {
		rtc_cause_set(cause, "fetch: no source or directory");
		return RTC_ERR_INVAL;
	}
	is_on = rtc_openneuro_is_ref(o->source);
	if (!is_on && strncmp(o->source, "s3://", 5) != 0) {
		rtc_cause_set(cause, "'%s': expected dsNNNNNN[:TAG] or "
		    "s3://bucket/prefix", o->source);
		return RTC_ERR_INVAL;
	}
	if ((r = rtc_glob_set_new(o->include, o->ninclude, o->exclude,
	    o->nexclude, is_on, &g, cause)) != RTC_OK)
		return r;
	if ((r = rtc_fs_mkdir_p(o->dir, 0755, cause)) != RTC_OK) {
		rtc_glob_set_free(g);
		return r;
	}
	r = fetcher_open(&s, ctx, o->dir, o->jobs, o->retries,
	    is_on ? 1 : o->no_sign, is_on ? "us-east-1" : NULL, o->progress,
	    cause);
	if (r == RTC_OK)
		r = is_on ? fetch_openneuro(&s, o, g, cause) :
		    fetch_s3(&s, o, g, cause);
	if (s.ran)
		summary(&s, o->source);
	if (r == RTC_OK && (unmatched = rtc_glob_set_unmatched(g)) != NULL) {
		rtc_cause_set(cause, "--include '%s' matched nothing in %s",
		    unmatched, o->source);
		r = RTC_ERR_NOT_FOUND;
	}
	if (r == RTC_OK && s.unsafe > 0) {
		rtc_cause_set(cause, "%zu keys were skipped because they would "
		    "land outside %s; everything else is complete", s.unsafe,
		    o->dir);
		r = RTC_ERR_FORMAT;
	}
	s.st.unsafe = s.unsafe;
	if (st != NULL)
		*st = s.st;
	fetcher_close(&s);
	rtc_glob_set_free(g);
	return r;
}

/* ---- one BOLD run for replay ---- */

static int
label_ok(const char *s)
{
	return s != NULL && rtc_bids_label_valid(s);
}

/* "sub-01/ses-1/func/x" → components; RET: count (max 4). */
static int
split4(const char *path, char comp[4][256])
{
	int n = 0;
	const char *p = path;

	while (n < 4) {
		size_t l = strcspn(p, "/");

		if (l >= 256)
			return -1;
		memcpy(comp[n], p, l);
		comp[n][l] = '\0';
		n++;
		if (p[l] == '\0')
			return n;
		p += l + 1;
	}
	return p[0] == '\0' ? n : -1;
}

static int
folder_is(const char *comp, const char *key, const char *want)
{
	size_t kl = strlen(key);

	if (strncmp(comp, key, kl) != 0 || comp[kl] != '-')
		return 0;
	return want == NULL ? rtc_bids_label_valid(comp + kl + 1) :
	    rtc_bids_value_match(key, want, comp + kl + 1);
}

int
rtc_fetch_select_run(const char *const *paths, size_t n, const char *sub,
    const char *ses, const char *task, const char *run, size_t *index,
    char **cause)
{
	struct rtc_buf list;
	size_t i, found = 0, pick = 0, nbold = 0;

	rtc_buf_init(&list, 8192);
	for (i = 0; i < n; i++) {
		char comp[4][256];
		struct rtc_bids_name nm;
		int nc = split4(paths[i], comp), fi;
		const char *v;

		if (nc != 3 && nc != 4)
			continue;
		fi = nc - 2;          /* the func folder's index */
		if (strcmp(comp[fi], "func") != 0 ||
		    !folder_is(comp[0], "sub", NULL) ||
		    (nc == 4 && !folder_is(comp[1], "ses", NULL)))
			continue;
		if (rtc_bids_name_parse(comp[nc - 1], &nm, NULL) != RTC_OK ||
		    strcmp(nm.suffix, "bold") != 0 ||
		    (strcmp(nm.ext, ".nii.gz") != 0 &&
		    strcmp(nm.ext, ".nii") != 0))
			continue;
		nbold++;
		if (nbold <= 12)
			rtc_buf_printf(&list, "\n  %s", paths[i]);
		v = rtc_bids_name_get(&nm, "sub");
		if (v == NULL || !rtc_bids_value_match("sub", sub, v) ||
		    !folder_is(comp[0], "sub", sub))
			continue;
		v = rtc_bids_name_get(&nm, "ses");
		if (ses != NULL && (v == NULL ||
		    !rtc_bids_value_match("ses", ses, v)))
			continue;
		v = rtc_bids_name_get(&nm, "task");
		if (v == NULL || !rtc_bids_value_match("task", task, v))
			continue;
		v = rtc_bids_name_get(&nm, "run");
		if (run != NULL && (v == NULL ||
		    !rtc_bids_value_match("run", run, v)))
			continue;
		if (found++ == 0)
			pick = i;
	}
	if (found == 1) {
		rtc_buf_free(&list);
		*index = pick;
		return RTC_OK;
	}
	if (found == 0) {
		rtc_cause_set(cause, "no BOLD run matches sub-%s%s%s task-%s"
		    "%s%s; the dataset has %zu BOLD runs%s%s", sub,
		    ses ? " ses-" : "", ses ? ses : "", task, run ? " run-" : "",
		    run ? run : "", nbold, nbold ? ":" : "",
		    list.data ? list.data : "");
		rtc_buf_free(&list);
		return RTC_ERR_NOT_FOUND;
	}
	rtc_buf_reset(&list);
	for (i = 0; i < n; i++) {
		size_t one;

		/* list the matches: re-select each path on its own */
		if (rtc_fetch_select_run(&paths[i], 1, sub, ses, task, run,
		    &one, NULL) == RTC_OK)
			rtc_buf_printf(&list, "\n  %s", paths[i]);
	}
	rtc_cause_set(cause, "%zu BOLD runs match; narrow with --ses or "
	    "--run:%s", found, list.data ? list.data : "");
	rtc_buf_free(&list);
	return RTC_ERR_EXISTS;
}

/* Every entity of meta is in bold with a matching value. */
static int
entities_subset(const struct rtc_bids_name *meta,
    const struct rtc_bids_name *bold)
{
	int i;

	for (i = 0; i < meta->n; i++) {
		const char *v = rtc_bids_name_get(bold, meta->ent[i].key);

		if (v == NULL || !rtc_bids_value_match(meta->ent[i].key,
		    meta->ent[i].value, v))
			return 0;
	}
	return 1;
}

int
rtc_fetch_run_needs(const char *bold, const char *path)
{
	struct rtc_bids_name bn, pn;
	const char *bbase, *pbase;
	size_t pdir;

	if (strcmp(path, "dataset_description.json") == 0)
		return 1;
	bbase = strrchr(bold, '/');
	bbase = bbase ? bbase + 1 : bold;
	pbase = strrchr(path, '/');
	pdir = pbase ? (size_t)(pbase - path) : 0;
	pbase = pbase ? pbase + 1 : path;
	/* the file's folder is on the way from the root to the run's */
	if (pdir > 0 && (strncmp(bold, path, pdir) != 0 || bold[pdir] != '/'))
		return 0;
	if (rtc_bids_name_parse(bbase, &bn, NULL) != RTC_OK ||
	    rtc_bids_name_parse(pbase, &pn, NULL) != RTC_OK)
		return 0;
	if (!((strcmp(pn.suffix, "bold") == 0 && strcmp(pn.ext, ".json") == 0) ||
	    (strcmp(pn.suffix, "events") == 0 && (strcmp(pn.ext, ".tsv") == 0 ||
	    strcmp(pn.ext, ".json") == 0))))
		return 0;
	return entities_subset(&pn, &bn);
}

struct run_sel {
	const char *sub;
	const char *ses;
};

/* Folders on the way to sub-L[/ses-S]/func. */
static int
want_run_dir(void *arg, const char *dir)
{
	struct run_sel *rs = arg;
	char comp[4][256];
	int n = split4(dir, comp);

	if (n < 1 || n > 3 || !folder_is(comp[0], "sub", rs->sub))
		return 0;
	if (n == 1)
		return 1;
	if (n == 2)
		return strcmp(comp[1], "func") == 0 ||
		    folder_is(comp[1], "ses", rs->ses);
	return folder_is(comp[1], "ses", rs->ses) &&
	    strcmp(comp[2], "func") == 0;
}

static int
keep_for_run(void *arg, const char *path)
{
	return rtc_fetch_run_needs(arg, path);
}

static char *
default_cache(struct rtc_ctx *ctx)
{
	const char *c = NULL, *home;
	char buf[4096];

	if (ctx != NULL && rtc_config_string(ctx->conf, "openneuro.cache", &c,
	    NULL) == RTC_OK && c != NULL && *c != '\0')
		return strdup(c);
	c = getenv("XDG_CACHE_HOME");
	home = getenv("HOME");
	if (c != NULL && *c == '/')
		snprintf(buf, sizeof(buf), "%s/rtc/openneuro", c);
	else if (home != NULL && *home == '/')
		snprintf(buf, sizeof(buf), "%s/.cache/rtc/openneuro", home);
	else
		snprintf(buf, sizeof(buf), "/tmp/rtc-cache/openneuro");
	return strdup(buf);
}

int
rtc_fetch_bids_run(struct rtc_ctx *ctx, const struct rtc_fetch_run_opts *o,
    char **nifti, char **root, char **cause)
{
	struct fetcher s;
	struct rtc_on_ref ref;
	struct rtc_on_opts oo;
	struct rtc_on_listing *l = NULL;
	struct run_sel rs;
	const char **paths = NULL;
	char *cache = NULL, *dsdir = NULL, *bold = NULL, *np = NULL;
	const char *subtrees[1];
	char subdir[300];
	size_t i, idx;
	int r, opened = 0;

	if (o == NULL || !label_ok(o->sub) || !label_ok(o->task) ||
	    (o->ses != NULL && !label_ok(o->ses)) ||
	    (o->run != NULL && !label_ok(o->run))) {
		rtc_cause_set(cause, "replay: --sub and --task are required; "
		    "labels are letters and digits");
		return RTC_ERR_INVAL;
	}
	if ((r = rtc_openneuro_parse_ref(o->accession, &ref, cause)) != RTC_OK)
		return r;
	cache = o->cache_dir != NULL ? strdup(o->cache_dir) :
	    default_cache(ctx);
	if (cache == NULL)
		return RTC_ERR_NOMEM;
	if ((r = rtc_fs_join_safe(cache, ref.id, &dsdir)) != RTC_OK)
		goto out;
	if ((r = rtc_fs_mkdir_p(dsdir, 0755, cause)) != RTC_OK)
		goto out;
	r = fetcher_open(&s, ctx, dsdir, o->jobs, 0, 1, "us-east-1",
	    o->progress, cause);
	opened = 1;
	if (r != RTC_OK)
		goto out;

	rs.sub = o->sub;
	rs.ses = o->ses;
	memset(&oo, 0, sizeof(oo));
	oo.want_dir = want_run_dir;
	oo.arg = &rs;
	snprintf(subdir, sizeof(subdir), "sub-%s", o->sub);
	subtrees[0] = subdir;
	oo.subtrees = subtrees;
	oo.nsubtrees = 1;
	r = rtc_openneuro_list(ctx, s.http, s.s3, &ref, &oo, &l, cause);
	if (r != RTC_OK)
		goto out;
	paths = calloc(l->n + 1, sizeof(*paths));
	if (paths == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < l->n; i++)
		paths[i] = l->files[i].path;
	r = rtc_fetch_select_run(paths, l->n, o->sub, o->ses, o->task, o->run,
	    &idx, cause);
	if (r != RTC_OK) {
		rtc_cause_wrap(cause, "%s%s%s", ref.id, l->tag[0] ? ":" : "",
		    l->tag);
		goto out;
	}
	bold = strdup(l->files[idx].path);
	if (bold == NULL) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	rtc_debug(ctx, NET, "%s: replaying %s", ref.id, bold);
	if ((r = items_from_listing(&s, l, keep_for_run, bold)) != RTC_OK)
		goto out;
	/* the run itself: keep_for_run takes metadata only */
	for (i = 0; i < s.n && strcmp(item_at(&s, i)->rel, bold) != 0; i++)
		;
	if (i == s.n) {
		struct rtc_on_file *f = &l->files[idx];
		struct rtc_dl_item *it = fetcher_add(&s);

		if (it == NULL) {
			r = RTC_ERR_NOMEM;
			goto out;
		}
		it->rel = strdup(f->path);
		it->url = f->url ? strdup(f->url) : NULL;
		it->key = f->key ? strdup(f->key) : NULL;
		it->size = f->size;
		memcpy(it->md5, f->md5, sizeof(it->md5));
		memcpy(it->sha256, f->sha256, sizeof(it->sha256));
		if (it->rel == NULL || (it->url == NULL && it->key == NULL)) {
			r = RTC_ERR_NOMEM;
			goto out;
		}
	}
	pin(&s, o->accession, l);
	s.bucket = RTC_OPENNEURO_BUCKET;
	r = fetcher_run(&s, cause);
	summary(&s, o->accession);
	if (r != RTC_OK)
		goto out;
	if ((r = rtc_fs_join_safe(dsdir, bold, &np)) != RTC_OK)
		goto out;
	*nifti = np;
	np = NULL;
	if (root != NULL) {
		*root = dsdir;
		dsdir = NULL;
	}
out:
	if (opened)
		fetcher_close(&s);
	rtc_openneuro_listing_free(l);
	free(paths);
	free(bold);
	free(np);
	free(dsdir);
	free(cache);
	return r;
}
