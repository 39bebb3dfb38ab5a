/*
 * openneuro: GraphQL over lib/http with jansson. Each query is a POST of
 * {"query", "variables"}; the answer is read into a capped buffer and
 * parsed. The snapshot's tree is walked breadth-first, one query per
 * folder (the API lists one folder at a time), skipping folders the
 * caller does not want. Names from the API are checked: a file or folder
 * name is one path component, never "." or "..", never holding '/', '\\'
 * or NUL; others are skipped and reported.
 *
 * "Unreachable" means: network errors, timeouts, HTTP 5xx/408/429, a
 * body that is not JSON, or a GraphQL error naming a gateway status or
 * a timeout, each retried with backoff until the tries run out. Only
 * then does the bucket fallback start. Any other GraphQL error (no such
 * dataset, no access) is final.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "config.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "manifest.h"
#include "openneuro.h"
#include "s3_int.h"

static const char q_latest[] =
	"query ($datasetId: ID!) { dataset(id: $datasetId) "
	"{ id latestSnapshot { id tag } } }";

static const char q_files[] =
	"query ($datasetId: ID!, $tag: String!, $tree: String) "
	"{ snapshot(datasetId: $datasetId, tag: $tag) { id tag "
	"files(tree: $tree) { id key filename size directory annexed urls } } }";

static int
tag_ok(const char *t)
{
	size_t i, n = strlen(t);

	if (n == 0 || n >= 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && !strchr(".-_+", t[i]))
			return 0;
	return 1;
}

int
rtc_openneuro_is_ref(const char *s)
{
	int i;

	if (s == NULL || strncmp(s, "ds", 2) != 0)
		return 0;
	for (i = 2; i < 8; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return s[8] == '\0' || s[8] == ':';
}

int
rtc_openneuro_parse_ref(const char *s, struct rtc_on_ref *out, char **cause)
{
	struct rtc_on_ref r;

	memset(&r, 0, sizeof(r));
	if (!rtc_openneuro_is_ref(s)) {
		rtc_cause_set(cause, "'%s' is not an OpenNeuro accession "
		    "(dsNNNNNN[:TAG])", s ? s : "");
		return RTC_ERR_INVAL;
	}
	memcpy(r.id, s, 8);
	if (s[8] == ':') {
		if (!tag_ok(s + 9)) {
			rtc_cause_set(cause, "'%s': bad snapshot tag", s);
			return RTC_ERR_INVAL;
		}
		snprintf(r.tag, sizeof(r.tag), "%s", s + 9);
	}
	*out = r;
	return RTC_OK;
}

int
rtc_openneuro_annex_key(const char *key, char *sha256, char *md5,
    long long *size)
{
	const char *p, *h;
	size_t hl, i;
	int is_sha;
	long long sz = -1;

	if (key == NULL)
		return 0;
	if (strncmp(key, "SHA256E-", 8) == 0 || strncmp(key, "SHA256-", 7) == 0)
		is_sha = 1;
	else if (strncmp(key, "MD5E-", 5) == 0 || strncmp(key, "MD5-", 4) == 0)
		is_sha = 0;
	else
		return 0;
	p = strchr(key, '-') + 1;
	/* fields: s<size>, other optional fields, then "--" and the hash */
	h = strstr(p, "--");
	if (h == NULL)
		return 0;
	if (*p == 's') {
		char *end;

		sz = strtoll(p + 1, &end, 10);
		if (end == p + 1 || (*end != '-' && *end != '\0'))
			sz = -1;
	}
	h += 2;
	hl = strcspn(h, ".");
	if (hl != (is_sha ? 64u : 32u))
		return 0;
	for (i = 0; i < hl; i++)
		if (!isxdigit((unsigned char)h[i]))
			return 0;
	if (is_sha) {
		for (i = 0; i < 64; i++)
			sha256[i] = (char)tolower((unsigned char)h[i]);
		sha256[64] = '\0';
	} else {
		for (i = 0; i < 32; i++)
			md5[i] = (char)tolower((unsigned char)h[i]);
		md5[32] = '\0';
	}
	if (size != NULL)
		*size = sz;
	return 1;
}

int
rtc_openneuro_gql_error(json_t *doc, char *msg, size_t msgsz, int *retry)
{
	json_t *errs = json_object_get(doc, "errors"), *e;
	const char *m;

	*retry = 0;
	if (!json_is_array(errs) || json_array_size(errs) == 0)
		return 0;
	e = json_array_get(errs, 0);
	m = json_string_value(json_object_get(e, "message"));
	if (m == NULL)
		m = "unknown GraphQL error";
	snprintf(msg, msgsz, "%s", m);
	if (strncmp(m, "502", 3) == 0 || strncmp(m, "503", 3) == 0 ||
	    strncmp(m, "504", 3) == 0 || strcasestr(m, "timeout") != NULL ||
	    strcasestr(m, "timed out") != NULL)
		*retry = 1;
	return 1;
}

void
rtc_openneuro_listing_free(struct rtc_on_listing *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->files[i].path);
		free(l->files[i].url);
		free(l->files[i].key);
	}
	for (i = 0; i < l->nunsafe; i++)
		free(l->unsafe[i]);
	free(l->unsafe);
	free(l->files);
	free(l);
}

/* A copy of a name for messages: control bytes shown as '?'. */
static char *
printable(const char *s)
{
	char *d = strndup(s, 512);
	size_t i;

	if (d != NULL)
		for (i = 0; d[i] != '\0'; i++)
			if ((unsigned char)d[i] < 32 || d[i] == 127)
				d[i] = '?';
	return d;
}

static int
add_unsafe(struct rtc_on_listing *l, const char *name)
{
	char **u;

	if (l->nunsafe >= 10000)
		return RTC_OK;      /* counted enough */
	u = realloc(l->unsafe, (l->nunsafe + 1) * sizeof(*u));
	if (u == NULL)
		return RTC_ERR_NOMEM;
	l->unsafe = u;
	l->unsafe[l->nunsafe] = printable(name);
	if (l->unsafe[l->nunsafe] == NULL)
		return RTC_ERR_NOMEM;
	l->nunsafe++;
	return RTC_OK;
}

static struct rtc_on_file *
new_file(struct rtc_on_listing *l)
{
	if (l->n >= RTC_OPENNEURO_FILES_MAX)
		return NULL;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		struct rtc_on_file *f = realloc(l->files, nc * sizeof(*f));

		if (f == NULL)
			return NULL;
		l->files = f;
		l->cap = nc;
	}
	memset(&l->files[l->n], 0, sizeof(l->files[0]));
	l->files[l->n].size = -1;
	return &l->files[l->n++];
}

static int
component_ok(const char *s)
{
	return s != NULL && *s != '\0' && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0 && strpbrk(s, "/\\") == NULL &&
	    strlen(s) < 1024;
}

int
rtc_openneuro_add_files(struct rtc_on_listing *l, json_t *files,
    const char *base, json_t *dirs, char **cause)
{
	size_t i;
	json_t *f;

	if (!json_is_array(files)) {
		rtc_cause_set(cause, "GraphQL: 'files' is not a list");
		return RTC_ERR_FORMAT;
	}
	json_array_foreach(files, i, f) {
		json_t *jname = json_object_get(f, "filename");
		const char *name = json_string_value(jname);
		json_t *size = json_object_get(f, "size");
		json_t *urls = json_object_get(f, "urls");
		const char *key = json_string_value(json_object_get(f, "key"));
		const char *id = json_string_value(json_object_get(f, "id"));
		struct rtc_on_file *of;
		char path[4096];
		int r;

		if (!json_is_object(f) || name == NULL) {
			rtc_cause_set(cause, "GraphQL: a file entry without "
			    "'filename'");
			return RTC_ERR_FORMAT;
		}
		if (strlen(name) != json_string_length(jname)) {
			/* a NUL inside: shown with the NULs as '?' */
			char shown[1024];
			size_t k, ln = json_string_length(jname);

			for (k = 0; k < ln && k + 1 < sizeof(shown); k++)
				shown[k] = name[k] != '\0' ? name[k] : '?';
			shown[k] = '\0';
			snprintf(path, sizeof(path), "%s%s%s", base,
			    *base ? "/" : "", shown);
			if ((r = add_unsafe(l, path)) != RTC_OK)
				return r;
			continue;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", base,
		    *base ? "/" : "", name) >= sizeof(path) ||
		    !component_ok(name) ||
		    !rtc_fs_safe_relpath(path, strlen(path))) {
			if ((r = add_unsafe(l, path)) != RTC_OK)
				return r;
			continue;
		}
		if (json_is_true(json_object_get(f, "directory"))) {
			if (id == NULL) {
				rtc_cause_set(cause, "GraphQL: folder '%s' "
				    "without an id", path);
				return RTC_ERR_FORMAT;
			}
			if (json_array_append_new(dirs, json_pack("{s:s,s:s}",
			    "path", path, "id", id)) != 0)
				return RTC_ERR_NOMEM;
			continue;
		}
		of = new_file(l);
		if (of == NULL) {
			rtc_cause_set(cause, "GraphQL: more than %d files",
			    RTC_OPENNEURO_FILES_MAX);
			return RTC_ERR_TOO_BIG;
		}
		of->path = strdup(path);
		if (of->path == NULL)
			return RTC_ERR_NOMEM;
		if (json_is_integer(size) && json_integer_value(size) >= 0)
			of->size = json_integer_value(size);
		else if (json_is_real(size) && json_real_value(size) >= 0 &&
		    json_real_value(size) < 9e15)
			of->size = (long long)json_real_value(size);
		if (json_is_array(urls) && json_array_size(urls) > 0 &&
		    json_is_string(json_array_get(urls, 0))) {
			const char *u = json_string_value(json_array_get(urls,
			    0));

			if (strncmp(u, "http://", 7) != 0 &&
			    strncmp(u, "https://", 8) != 0) {
				rtc_cause_set(cause, "GraphQL: '%s' has a "
				    "non-HTTP URL", path);
				return RTC_ERR_FORMAT;
			}
			of->url = strdup(u);
			if (of->url == NULL)
				return RTC_ERR_NOMEM;
		}
		if (key != NULL) {
			long long ks = -1;

			if (rtc_openneuro_annex_key(key, of->sha256, of->md5,
			    &ks) && ks >= 0 && of->size >= 0 && ks != of->size) {
				rtc_cause_set(cause, "GraphQL: '%s': size %lld "
				    "but its key says %lld", path, of->size, ks);
				return RTC_ERR_FORMAT;
			}
		}
		if (of->url == NULL) {
			rtc_cause_set(cause, "GraphQL: '%s' has no download URL",
			    path);
			return RTC_ERR_FORMAT;
		}
	}
	return RTC_OK;
}

struct gql {
	struct rtc_ctx *ctx;
	struct rtc_http *http;
	const struct rtc_on_opts *o;
	const char *url;
	uint64_t rng;
	int retries;
	long backoff_ms;
	long backoff_max_ms;
	long timeout_ms;
};

/*
 * What one answer means. IN: err/resp/body from the transfer, why (its
 * cause or NULL). OUT: *data (a new reference to "data") on RTC_OK; msg
 * (for retries and messages). RET: RTC_OK; RTC_ERR_AGAIN when worth
 * another try; RTC_ERR_UNAVAILABLE when not but the API is unusable;
 * else a final error with *cause.
 */
static int
gql_interpret(int err, const struct rtc_http_resp *resp, const char *text,
    size_t len, const char *why, json_t **data, char *msg, size_t msgsz,
    char **cause)
{
	json_error_t jerr;
	json_t *doc;
	int retry = 1, r;

	if (err != RTC_OK) {
		snprintf(msg, msgsz, "%s", why ? why : rtc_strerror(err));
		if (err == RTC_ERR_TOO_BIG || !rtc_http_retryable(err, 0))
			return RTC_ERR_UNAVAILABLE;
		return RTC_ERR_AGAIN;
	}
	if (resp->status != 200 && !(resp->status >= 400 &&
	    resp->status < 500 && resp->status != 408 && resp->status != 429)) {
		snprintf(msg, msgsz, "HTTP %ld", resp->status);
		return rtc_http_retryable(RTC_OK, resp->status) ?
		    RTC_ERR_AGAIN : RTC_ERR_UNAVAILABLE;
	}
	doc = json_loadb(text ? text : "", len, JSON_ALLOW_NUL, &jerr);
	if (doc == NULL || !json_is_object(doc)) {
		json_decref(doc);
		snprintf(msg, msgsz, "HTTP %ld with a body that is not JSON",
		    resp->status);
		return RTC_ERR_AGAIN;
	}
	if (rtc_openneuro_gql_error(doc, msg, msgsz, &retry)) {
		json_decref(doc);
		if (retry)
			return RTC_ERR_AGAIN;
		rtc_cause_set(cause, "OpenNeuro: %s", msg);
		r = strcasestr(msg, "not found") ? RTC_ERR_NOT_FOUND :
		    strcasestr(msg, "access") ? RTC_ERR_AUTH : RTC_ERR_PROTO;
		return r;
	}
	if (!json_is_object(json_object_get(doc, "data"))) {
		json_decref(doc);
		snprintf(msg, msgsz, "a response without 'data'");
		return RTC_ERR_AGAIN;
	}
	*data = json_incref(json_object_get(doc, "data"));
	json_decref(doc);
	return RTC_OK;
}

static char *
gql_body(const char *query, json_t *vars)
{
	json_t *req = json_pack("{s:s,s:O}", "query", query, "variables", vars);
	char *text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;

	json_decref(req);
	return text;
}

static const char *const gql_headers[] = {
	"Content-Type: application/json",
	"Accept: application/json",
	NULL
};

/*
 * POST one query, retried. OUT: *data (a new reference to "data").
 * RET: RTC_OK; RTC_ERR_UNAVAILABLE when the API stayed unreachable;
 * others final.
 */
static int
gql_query(struct gql *g, const char *query, json_t *vars, json_t **data,
    char **cause)
{
	struct rtc_buf body;
	char *req_text;
	int attempt, r = RTC_ERR_UNAVAILABLE;

	req_text = gql_body(query, vars);
	if (req_text == NULL)
		return RTC_ERR_NOMEM;
	rtc_buf_init(&body, RTC_OPENNEURO_RESPONSE_MAX);
	for (attempt = 1; attempt <= g->retries; attempt++) {
		struct rtc_http_req hr;
		struct rtc_http_resp resp;
		char *why = NULL, msg[512];
		int err;

		if (rtc_ctx_stopping(g->ctx)) {
			rtc_cause_set(cause, "stopped");
			r = RTC_ERR_CANCELLED;
			break;
		}
		memset(&hr, 0, sizeof(hr));
		hr.method = "POST";
		hr.url = g->url;
		hr.headers = gql_headers;
		hr.body = req_text;
		hr.body_len = strlen(req_text);
		hr.body_fd = -1;
		hr.timeout_ms = g->timeout_ms;
		rtc_buf_reset(&body);
		memset(&resp, 0, sizeof(resp));
		err = rtc_http_do(g->http, &hr, &body, &resp, &why);
		r = gql_interpret(err, &resp, body.data, body.len, why, data, msg,
		    sizeof(msg), cause);
		free(why);
		if (r == RTC_OK)
			break;
		if (r == RTC_ERR_UNAVAILABLE) {
			rtc_cause_set(cause, "OpenNeuro API: %s", msg);
			break;
		}
		if (r != RTC_ERR_AGAIN)
			break;
		rtc_cause_set(cause, "OpenNeuro API: %s", msg);
		r = RTC_ERR_UNAVAILABLE;
		if (attempt < g->retries) {
			long ms = s3_backoff_ms(&g->rng, attempt, g->backoff_ms,
			    g->backoff_max_ms);

			rtc_log(g->ctx, WARN, "OpenNeuro API: %s; retrying in "
			    "%ld ms", msg, ms);
			s3_sleep_ms(g->ctx, ms);
		}
	}
	free(req_text);
	rtc_buf_free(&body);
	return r;
}

/* ---- the folders, several queries at once ---- */

#define GQL_PARALLEL 8

struct fq {
	struct gql *g;
	char *base;              /* the folder ("" for the root) */
	char *body_text;         /* the POST body */
	struct rtc_buf body;     /* the answer */
	struct rtc_http_resp resp;
	struct rtc_http_xfer *xfer;
	int state;               /* 0 to send, 1 in flight, 2 done, 3 waiting */
	int err;
	char why[256];
	int attempt;
	int64_t retry_at;
};

static int
fq_body(void *arg, const void *p, size_t n)
{
	struct fq *q = arg;

	return rtc_buf_append(&q->body, p, n);
}

static void
fq_done(void *arg, int err, const struct rtc_http_resp *r,
    const char *errbody, size_t errlen, const char *cause)
{
	struct fq *q = arg;

	q->xfer = NULL;
	q->state = 2;
	q->err = err;
	q->resp = *r;
	if (err == RTC_OK && (r->status < 200 || r->status > 299) &&
	    errlen > 0)
		(void)rtc_buf_append(&q->body, errbody, errlen);
	snprintf(q->why, sizeof(q->why), "%s", cause ? cause : "");
}

static void
fq_free(struct fq *q)
{
	if (q == NULL)
		return;
	if (q->xfer != NULL)
		rtc_http_cancel(q->g->http, q->xfer);
	free(q->base);
	free(q->body_text);
	rtc_buf_free(&q->body);
	free(q);
}

static int
fq_send(struct fq *q, char **cause)
{
	struct rtc_http_req hr;

	memset(&hr, 0, sizeof(hr));
	hr.method = "POST";
	hr.url = q->g->url;
	hr.headers = gql_headers;
	hr.body = q->body_text;
	hr.body_len = strlen(q->body_text);
	hr.body_fd = -1;
	hr.timeout_ms = q->g->timeout_ms;
	hr.on_body = fq_body;
	hr.on_done = fq_done;
	hr.arg = q;
	rtc_buf_reset(&q->body);
	q->attempt++;
	q->state = 1;
	return rtc_http_start(q->g->http, &hr, &q->xfer, cause);
}

/* Hand the files added since index from to the caller, as they come. */
static int
emit(struct gql *g, struct rtc_on_listing *l, size_t from)
{
	size_t i;
	int r = RTC_OK;

	if (g->o->on_file == NULL)
		return RTC_OK;
	for (i = from; i < l->n && r == RTC_OK; i++)
		r = g->o->on_file(g->o->arg_file, &l->files[i]);
	l->emitted += l->n - from;
	return r;
}

/*
 * Query every wanted folder of dirs (a queue it appends to), up to
 * GQL_PARALLEL at a time, each retried with backoff. RET: RTC_OK, or the
 * first final error (RTC_ERR_UNAVAILABLE when a folder's tries ran out).
 */
static int
walk(struct gql *g, struct rtc_on_listing *l, const struct rtc_on_ref *ref,
    json_t *dirs, char **cause)
{
	struct fq *act[GQL_PARALLEL];
	size_t next = 0;
	int nact = 0, i, r = RTC_OK;

	memset(act, 0, sizeof(act));
	while (r == RTC_OK && (next < json_array_size(dirs) || nact > 0)) {
		int64_t now = rtc_clock_mono_ns();
		int inflight = 0;

		if (rtc_ctx_stopping(g->ctx)) {
			rtc_cause_set(cause, "stopped");
			r = RTC_ERR_CANCELLED;
			break;
		}
		/* start folders while there is room */
		while (nact < GQL_PARALLEL && next < json_array_size(dirs) &&
		    r == RTC_OK) {
			json_t *d = json_array_get(dirs, next++), *vars;
			const char *base = json_string_value(json_object_get(d,
			    "path"));
			const char *tree = json_string_value(json_object_get(d,
			    "id"));
			struct fq *q;

			if (base[0] != '\0' && g->o->want_dir != NULL &&
			    !g->o->want_dir(g->o->arg, base)) {
				l->dirs_skipped++;
				continue;
			}
			q = calloc(1, sizeof(*q));
			vars = json_pack("{s:s,s:s,s:s?}", "datasetId", ref->id,
			    "tag", l->tag, "tree", tree);
			if (q == NULL || vars == NULL) {
				free(q);
				json_decref(vars);
				r = RTC_ERR_NOMEM;
				break;
			}
			q->g = g;
			q->base = strdup(base);
			q->body_text = gql_body(q_files, vars);
			json_decref(vars);
			rtc_buf_init(&q->body, RTC_OPENNEURO_RESPONSE_MAX);
			act[nact++] = q;
			if (q->base == NULL || q->body_text == NULL)
				r = RTC_ERR_NOMEM;
			else
				r = fq_send(q, cause);
		}
		if (r != RTC_OK)
			break;
		/* resend what waited long enough */
		for (i = 0; i < nact && r == RTC_OK; i++)
			if (act[i]->state == 3 && act[i]->retry_at <= now)
				r = fq_send(act[i], cause);
		for (i = 0; i < nact; i++)
			inflight += act[i]->state == 1;
		if (inflight > 0) {
			if (rtc_http_run(g->http, 100) < 0)
				r = RTC_ERR_INTERNAL;
		} else if (nact > 0) {
			s3_sleep_ms(g->ctx, 10);
		}
		/* what came back */
		for (i = 0; i < nact && r == RTC_OK; i++) {
			struct fq *q = act[i];
			json_t *data = NULL, *snap;
			char msg[512];
			size_t before;
			int k;

			if (q->state != 2)
				continue;
			k = gql_interpret(q->err, &q->resp, q->body.data,
			    q->body.len, q->why[0] ? q->why : NULL, &data, msg,
			    sizeof(msg), cause);
			if (k == RTC_ERR_AGAIN && q->attempt < g->retries) {
				long ms = s3_backoff_ms(&g->rng, q->attempt,
				    g->backoff_ms, g->backoff_max_ms);

				rtc_log(g->ctx, WARN, "OpenNeuro API: %s; "
				    "retrying in %ld ms", msg, ms);
				q->state = 3;
				q->retry_at = rtc_clock_mono_ns() +
				    (int64_t)ms * 1000000;
				continue;
			}
			if (k == RTC_ERR_AGAIN || k == RTC_ERR_UNAVAILABLE) {
				rtc_cause_set(cause, "OpenNeuro API: %s", msg);
				r = RTC_ERR_UNAVAILABLE;
				break;
			}
			if (k != RTC_OK) {
				r = k;
				break;
			}
			snap = json_object_get(data, "snapshot");
			if (!json_is_object(snap)) {
				rtc_cause_set(cause, "OpenNeuro: snapshot %s:%s "
				    "not found", ref->id, l->tag);
				json_decref(data);
				r = RTC_ERR_NOT_FOUND;
				break;
			}
			before = l->n;
			r = rtc_openneuro_add_files(l, json_object_get(snap,
			    "files"), q->base, dirs, cause);
			json_decref(data);
			if (r == RTC_OK)
				r = emit(g, l, before);
			fq_free(q);
			act[i] = act[--nact];
			act[nact] = NULL;
			i--;
		}
	}
	for (i = 0; i < nact; i++)
		fq_free(act[i]);
	return r;
}

static int
gql_list(struct gql *g, struct rtc_on_listing *l, const struct rtc_on_ref *ref,
    char **cause)
{
	json_t *vars = NULL, *data = NULL, *dirs = NULL;
	int r;

	snprintf(l->tag, sizeof(l->tag), "%s", ref->tag);
	if (l->tag[0] == '\0') {
		const char *tag;

		vars = json_pack("{s:s}", "datasetId", ref->id);
		if (vars == NULL)
			return RTC_ERR_NOMEM;
		r = gql_query(g, q_latest, vars, &data, cause);
		json_decref(vars);
		if (r != RTC_OK)
			return r;
		tag = json_string_value(json_object_get(json_object_get(
		    json_object_get(data, "dataset"), "latestSnapshot"), "tag"));
		if (tag == NULL || !tag_ok(tag)) {
			json_t *ds = json_object_get(data, "dataset");

			rtc_cause_set(cause, "OpenNeuro: %s %s", ref->id,
			    json_is_object(ds) ? "has no snapshot" :
			    "not found");
			json_decref(data);
			return RTC_ERR_NOT_FOUND;
		}
		snprintf(l->tag, sizeof(l->tag), "%s", tag);
		json_decref(data);
		data = NULL;
		rtc_debug(g->ctx, NET, "%s: latest snapshot %s", ref->id,
		    l->tag);
	}
	dirs = json_array();
	if (dirs == NULL)
		return RTC_ERR_NOMEM;
	/* the root first: its answer says whether the snapshot exists */
	if (json_array_append_new(dirs, json_pack("{s:s,s:n}", "path", "",
	    "id")) != 0) {
		json_decref(dirs);
		return RTC_ERR_NOMEM;
	}
	r = walk(g, l, ref, dirs, cause);
	json_decref(dirs);
	if (r == RTC_OK) {
		rtc_manifest_doi(ref->id, l->tag, l->doi, sizeof(l->doi));
		l->via = "graphql";
	}
	return r;
}

/* ---- the bucket fallback ---- */

struct s3_collect {
	const struct rtc_on_opts *o;
	struct rtc_on_listing *l;
	const char *prefix;      /* what the listing asked for */
	size_t plen;
	int toplevel_only;
};

static int
collect_obj(void *arg, const struct rtc_s3_object *o)
{
	struct s3_collect *c = arg;
	const char *rel = o->key + c->plen;
	struct rtc_on_file *f;

	if (o->unsafe_name || strncmp(o->key, c->prefix, c->plen) != 0)
		return add_unsafe(c->l, o->key);   /* or not under the prefix */
	if (strlen(o->key) <= c->plen)
		return RTC_OK;
	if (rel[strlen(rel) - 1] == '/' && o->size == 0)
		return RTC_OK;       /* a folder marker */
	if (c->toplevel_only && strchr(rel, '/') != NULL)
		return RTC_OK;
	if (!rtc_fs_safe_relpath(rel, strlen(rel)))
		return add_unsafe(c->l, rel);
	f = new_file(c->l);
	if (f == NULL)
		return RTC_ERR_TOO_BIG;
	f->path = strdup(rel);
	f->key = strdup(o->key);
	if (f->path == NULL || f->key == NULL)
		return RTC_ERR_NOMEM;
	f->size = o->size;
	if (!rtc_s3_etag_md5(o->etag, f->md5))
		f->md5[0] = '\0';
	if (c->o->on_file != NULL) {
		c->l->emitted++;
		return c->o->on_file(c->o->arg_file, f);
	}
	return RTC_OK;
}

/* The tag in the bucket's dataset_description.json DatasetDOI, or "". */
static int
bucket_tag(struct rtc_s3 *s3, const char *bucket, const char *id, char *tag,
    size_t tagsz, char **cause)
{
	struct rtc_http_req req;
	struct rtc_http_resp resp;
	struct rtc_buf body;
	char key[64], pre[64], *url = NULL, **hdrs = NULL;
	const char *doi, *v;
	json_t *j;
	int r;

	tag[0] = '\0';
	snprintf(key, sizeof(key), "%s/dataset_description.json", id);
	r = rtc_s3_request(s3, "GET", bucket, key, NULL, 0, NULL, 0, NULL, &url,
	    &hdrs, cause);
	if (r != RTC_OK)
		return r;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.headers = (const char *const *)hdrs;
	req.body_fd = -1;
	req.timeout_ms = 60000;
	rtc_buf_init(&body, 1024 * 1024);
	r = rtc_http_do(rtc_s3_http(s3), &req, &body, &resp, cause);
	rtc_s3_request_free(url, hdrs);
	if (r != RTC_OK || resp.status != 200) {
		rtc_buf_free(&body);
		return r != RTC_OK ? r : RTC_ERR_NOT_FOUND;
	}
	j = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
	rtc_buf_free(&body);
	doi = json_string_value(json_object_get(j, "DatasetDOI"));
	snprintf(pre, sizeof(pre), "openneuro.%s.v", id);
	if (doi != NULL && (v = strstr(doi, pre)) != NULL &&
	    tag_ok(v + strlen(pre)))
		snprintf(tag, tagsz, "%s", v + strlen(pre));
	json_decref(j);
	return RTC_OK;
}

static int
s3_list_dataset(struct rtc_ctx *ctx, struct rtc_s3 *s3,
    const struct rtc_on_ref *ref, const struct rtc_on_opts *o,
    struct rtc_on_listing *l, char **cause)
{
	const char *bucket = o->bucket ? o->bucket : RTC_OPENNEURO_BUCKET;
	struct s3_collect c;
	char prefix[1200], found[64];
	size_t i;
	int r;

	snprintf(prefix, sizeof(prefix), "%s/", ref->id);
	c.o = o;
	c.l = l;
	c.prefix = prefix;
	c.plen = strlen(prefix);
	if (o->subtrees == NULL) {
		c.toplevel_only = 0;
		r = rtc_s3_list(s3, bucket, prefix, NULL, collect_obj, &c,
		    cause);
	} else {
		c.toplevel_only = 1;
		r = rtc_s3_list(s3, bucket, prefix, "/", collect_obj, &c,
		    cause);
		c.toplevel_only = 0;
		for (i = 0; r == RTC_OK && i < o->nsubtrees; i++) {
			snprintf(prefix, sizeof(prefix), "%s/%s/", ref->id,
			    o->subtrees[i]);
			r = rtc_s3_list(s3, bucket, prefix, NULL, collect_obj, &c,
			    cause);
		}
	}
	if (r != RTC_OK)
		return r;
	if (l->n == 0) {
		rtc_cause_set(cause, "s3://%s/%s/ holds no files", bucket,
		    ref->id);
		return RTC_ERR_NOT_FOUND;
	}
	if (bucket_tag(s3, bucket, ref->id, found, sizeof(found), NULL) !=
	    RTC_OK)
		found[0] = '\0';
	if (ref->tag[0] != '\0' && strcmp(found, ref->tag) != 0) {
		if (found[0] != '\0')
			rtc_cause_set(cause, "the public bucket holds snapshot "
			    "%s, not %s; that needs OpenNeuro's API", found,
			    ref->tag);
		else
			rtc_cause_set(cause, "the public bucket's copy names no "
			    "snapshot, so %s cannot be pinned without "
			    "OpenNeuro's API", ref->tag);
		return RTC_ERR_UNAVAILABLE;
	}
	snprintf(l->tag, sizeof(l->tag), "%s", found);
	if (found[0] != '\0')
		rtc_manifest_doi(ref->id, found, l->doi, sizeof(l->doi));
	else
		rtc_log(ctx, WARN, "%s: the bucket copy names no snapshot "
		    "(no DatasetDOI): the manifest will not pin a tag", ref->id);
	l->via = "s3-listing";
	return RTC_OK;
}

int
rtc_openneuro_list(struct rtc_ctx *ctx, struct rtc_http *http,
    struct rtc_s3 *s3, const struct rtc_on_ref *ref,
    const struct rtc_on_opts *o, struct rtc_on_listing **out, char **cause)
{
	struct rtc_on_opts none;
	struct rtc_on_listing *l;
	struct gql g;
	const char *url = NULL;
	char *why = NULL;
	size_t i;
	int r;

	if (o == NULL) {
		memset(&none, 0, sizeof(none));
		o = &none;
	}
	memset(&g, 0, sizeof(g));
	g.ctx = ctx;
	g.http = http;
	g.o = o;
	g.retries = o->retries > 0 ? o->retries : 5;
	if (o->retries <= 0 && ctx != NULL) {
		long long v;

		if (rtc_config_int(ctx->conf, "openneuro.retries", &v, NULL) ==
		    RTC_OK && v >= 1 && v <= 100)
			g.retries = (int)v;
	}
	if (o->backoff_ms <= 0 && ctx != NULL) {
		long long v;

		if (rtc_config_int(ctx->conf, "openneuro.backoff_ms", &v,
		    NULL) == RTC_OK && v >= 1 && v <= 600000)
			g.backoff_ms = (long)v;
	}
	g.backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : 500;
	g.backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 8000;
	g.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000;
	s3_rand_seed(&g.rng);
	url = o->url;
	if (url == NULL || *url == '\0')
		url = getenv("RTC_OPENNEURO_URL");
	if ((url == NULL || *url == '\0') && (ctx == NULL ||
	    rtc_config_string(ctx->conf, "openneuro.url", &url, NULL) !=
	    RTC_OK))
		url = NULL;
	g.url = url != NULL && *url != '\0' ? url : RTC_OPENNEURO_URL;

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return RTC_ERR_NOMEM;
	snprintf(l->id, sizeof(l->id), "%s", ref->id);
	r = gql_list(&g, l, ref, &why);
	if (r == RTC_ERR_UNAVAILABLE && l->emitted > 0) {
		/* files are already being fetched from the API's URLs: do not
		 * mix in another listing */
		rtc_cause_wrap(&why, "OpenNeuro's API stopped answering "
		    "part-way; run again");
	} else if (r == RTC_ERR_UNAVAILABLE && s3 != NULL && !o->no_fallback) {
		rtc_log(ctx, WARN, "%s; listing the public bucket s3://%s/%s/ "
		    "instead", why ? why : "OpenNeuro's API is unreachable",
		    o->bucket ? o->bucket : RTC_OPENNEURO_BUCKET, ref->id);
		for (i = 0; i < l->n; i++) {
			free(l->files[i].path);
			free(l->files[i].url);
			free(l->files[i].key);
		}
		l->n = 0;
		for (i = 0; i < l->nunsafe; i++)
			free(l->unsafe[i]);
		l->nunsafe = 0;
		l->dirs_skipped = 0;
		l->tag[0] = l->doi[0] = '\0';
		free(why);
		why = NULL;
		r = s3_list_dataset(ctx, s3, ref, o, l, &why);
	}
	if (r != RTC_OK) {
		rtc_cause_set(cause, "%s", why ? why : rtc_strerror(r));
		free(why);
		rtc_openneuro_listing_free(l);
		return r;
	}
	free(why);
	rtc_debug(ctx, NET, "%s:%s via %s: %zu files, %zu folders skipped",
	    l->id, l->tag, l->via, l->n, l->dirs_skipped);
	*out = l;
	return RTC_OK;
}
