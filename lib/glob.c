/*
 * glob: patterns and paths are split into components; a component is
 * matched with fnmatch(3) and FNM_PERIOD (so wildcards never match a
 * leading '.'), and "**" is handled here: it takes zero or more whole
 * components that do not start with '.'. The recursion is bounded by the
 * component counts (at most 256 each), memoised in a small table so that
 * patterns with many "**" stay polynomial.
 */
#include "rtc_build.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "glob.h"

#define GLOB_MAX_PARTS 256

struct parts {
	char *buf;
	const char *p[GLOB_MAX_PARTS];
	int n;
};

/* Split s on '/', dropping empty parts. RET: 0, or -1 when too many. */
static int
split(const char *s, struct parts *out)
{
	char *q, *start;

	out->n = 0;
	out->buf = strdup(s);
	if (out->buf == NULL)
		return -1;
	start = out->buf;
	for (q = out->buf;; q++) {
		if (*q == '/' || *q == '\0') {
			int end = *q == '\0';

			*q = '\0';
			if (*start != '\0') {
				if (out->n >= GLOB_MAX_PARTS)
					return -1;
				out->p[out->n++] = start;
			}
			if (end)
				break;
			start = q + 1;
		}
	}
	return 0;
}

/* memo: 0 unknown, 1 no, 2 yes */
static int
match_from(const struct parts *pat, int i, const struct parts *path, int j,
    unsigned char *memo)
{
	unsigned char *m = &memo[i * (path->n + 1) + j];
	int r;

	if (*m != 0)
		return *m == 2;
	if (i == pat->n) {
		r = j == path->n;
	} else if (strcmp(pat->p[i], "**") == 0) {
		/* zero components, or one more non-hidden one */
		r = match_from(pat, i + 1, path, j, memo) ||
		    (j < path->n && path->p[j][0] != '.' &&
		    match_from(pat, i, path, j + 1, memo));
	} else {
		r = j < path->n && fnmatch(pat->p[i], path->p[j],
		    FNM_PERIOD) == 0 && match_from(pat, i + 1, path, j + 1, memo);
	}
	*m = r ? 2 : 1;
	return r;
}

static int
match_parts(const struct parts *pat, const struct parts *path)
{
	unsigned char *memo;
	int r;

	memo = calloc((size_t)(pat->n + 1) * (size_t)(path->n + 1), 1);
	if (memo == NULL)
		return 0;
	r = match_from(pat, 0, path, 0, memo);
	free(memo);
	return r;
}

/* The pattern without its leading '/' and trailing '/'s. */
struct pat_info {
	char *stripped;
	int anchored;
	int bare;          /* no '/' inside: matches base names anywhere */
	int dir_only;      /* ended in '/' */
};

static int
pat_info(const char *pattern, struct pat_info *pi)
{
	size_t n;

	pi->anchored = pattern[0] == '/';
	while (*pattern == '/')
		pattern++;
	pi->stripped = strdup(pattern);
	if (pi->stripped == NULL)
		return -1;
	n = strlen(pi->stripped);
	pi->dir_only = n > 0 && pi->stripped[n - 1] == '/';
	while (n > 0 && pi->stripped[n - 1] == '/')
		pi->stripped[--n] = '\0';
	pi->bare = strchr(pi->stripped, '/') == NULL;
	return 0;
}

int
rtc_glob_match(const char *pattern, const char *path)
{
	struct pat_info pi;
	struct parts pp = { 0 }, pa = { 0 };
	int r = 0;

	if (pattern == NULL || path == NULL || pat_info(pattern, &pi) != 0)
		return 0;
	if (pi.stripped[0] == '\0')
		goto out;
	if (split(path, &pa) != 0 || pa.n == 0)
		goto out;
	if (split(pi.stripped, &pp) != 0)
		goto out;
	if (pi.bare && !pi.anchored) {
		/* the base name, anywhere (a file never matches "name/") */
		if (!pi.dir_only && fnmatch(pi.stripped, pa.p[pa.n - 1],
		    FNM_PERIOD) == 0)
			r = 1;
	} else if (!pi.dir_only && match_parts(&pp, &pa)) {
		r = 1;
	}
	if (!r) {
		/* the "pattern/..." form: everything below what it names, one
		 * component or more ("**" in the pattern may take none, so
		 * counting components cannot tell) */
		if (pp.n + 2 <= GLOB_MAX_PARTS) {
			pp.p[pp.n++] = "*";
			pp.p[pp.n++] = "**";
			r = match_parts(&pp, &pa);
		}
	}
out:
	free(pi.stripped);
	free(pp.buf);
	free(pa.buf);
	return r;
}

/* Could pattern parts pat[i..] match a path starting with dir[j..]? */
static int
prefix_ok(const struct parts *pat, int i, const struct parts *dir, int j)
{
	if (j == dir->n)
		return 1;
	if (i == pat->n)
		return 0;
	if (strcmp(pat->p[i], "**") == 0)
		return 1;
	if (fnmatch(pat->p[i], dir->p[j], FNM_PERIOD) != 0)
		return 0;
	return prefix_ok(pat, i + 1, dir, j + 1);
}

int
rtc_glob_dir_may_match(const char *pattern, const char *dir)
{
	struct pat_info pi;
	struct parts pp = { 0 }, pd = { 0 };
	int r = 1;

	if (pattern == NULL || dir == NULL || pat_info(pattern, &pi) != 0)
		return 1;
	/*
	 * A bare pattern matches base names anywhere, so no folder could be
	 * skipped. For listing, a bare literal without a '.' ("sub-01") is
	 * taken to name a top-level folder: a file deep down that is
	 * literally called "sub-01" is not worth listing the whole dataset
	 * folder by folder for.
	 */
	if (pi.bare && !pi.anchored && !pi.dir_only &&
	    strpbrk(pi.stripped, "*?[.") != NULL)
		goto out;
	if (split(pi.stripped, &pp) != 0 || split(dir, &pd) != 0)
		goto out;
	if (pp.n < GLOB_MAX_PARTS)
		pp.p[pp.n++] = "**";
	r = prefix_ok(&pp, 0, &pd, 0);
out:
	free(pi.stripped);
	free(pp.buf);
	free(pd.buf);
	return r;
}

int
rtc_glob_dir_covered(const char *pattern, const char *dir)
{
	struct pat_info pi;
	struct parts pp = { 0 }, pd = { 0 };
	int r = 0;

	if (pattern == NULL || dir == NULL || pat_info(pattern, &pi) != 0)
		return 0;
	if (pi.stripped[0] == '\0')
		goto out;
	if (split(pi.stripped, &pp) != 0 || split(dir, &pd) != 0 || pd.n == 0)
		goto out;
	/* the "pattern/..." form covers dir when the pattern names dir (a
	 * bare pattern only at the root, as that form is rooted) */
	r = match_parts(&pp, &pd);
out:
	free(pi.stripped);
	free(pp.buf);
	free(pd.buf);
	return r;
}

struct rtc_glob_set {
	char **inc;
	size_t ninc;
	size_t *hits;
	char **exc;
	size_t nexc;
	int bids_toplevel;
};

void
rtc_glob_set_free(struct rtc_glob_set *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->ninc; i++)
		free(g->inc[i]);
	for (i = 0; i < g->nexc; i++)
		free(g->exc[i]);
	free(g->inc);
	free(g->exc);
	free(g->hits);
	free(g);
}

static int
pattern_ok(const char *p)
{
	size_t n;

	if (p == NULL)
		return 0;
	n = strlen(p);
	while (n > 0 && p[0] == '/') {
		p++;
		n--;
	}
	return n > 0 && n <= RTC_GLOB_PATTERN_MAX && p[n - 1] != '\\';
}

static char **
copy_list(const char *const *l, size_t n)
{
	char **c = calloc(n + 1, sizeof(*c));
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if ((c[i] = strdup(l[i])) == NULL) {
			while (i > 0)
				free(c[--i]);
			free(c);
			return NULL;
		}
	return c;
}

int
rtc_glob_set_new(const char *const *include, size_t ninclude,
    const char *const *exclude, size_t nexclude, int bids_toplevel,
    struct rtc_glob_set **out, char **cause)
{
	struct rtc_glob_set *g;
	size_t i;

	for (i = 0; i < ninclude; i++)
		if (!pattern_ok(include[i])) {
			rtc_cause_set(cause, "bad --include pattern '%s'",
			    include[i] ? include[i] : "");
			return RTC_ERR_INVAL;
		}
	for (i = 0; i < nexclude; i++)
		if (!pattern_ok(exclude[i])) {
			rtc_cause_set(cause, "bad --exclude pattern '%s'",
			    exclude[i] ? exclude[i] : "");
			return RTC_ERR_INVAL;
		}
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return RTC_ERR_NOMEM;
	g->inc = copy_list(include, ninclude);
	g->exc = copy_list(exclude, nexclude);
	g->hits = calloc(ninclude + 1, sizeof(*g->hits));
	if (g->inc == NULL || g->exc == NULL || g->hits == NULL) {
		free(g->inc);
		free(g->exc);
		free(g->hits);
		free(g);
		return RTC_ERR_NOMEM;
	}
	g->ninc = ninclude;
	g->nexc = nexclude;
	g->bids_toplevel = bids_toplevel;
	*out = g;
	return RTC_OK;
}

int
rtc_glob_set_wants(struct rtc_glob_set *g, const char *path)
{
	size_t i;
	int want = 0;

	if (g->bids_toplevel && strchr(path, '/') == NULL)
		want = 2;
	for (i = 0; i < g->ninc; i++)
		if (rtc_glob_match(g->inc[i], path)) {
			g->hits[i]++;
			if (!want)
				want = 1;
		}
	if (want == 2)
		return 1;           /* top-level files are always fetched */
	if (g->ninc > 0 && !want)
		return 0;
	for (i = 0; i < g->nexc; i++)
		if (rtc_glob_match(g->exc[i], path))
			return 0;
	return 1;
}

int
rtc_glob_set_wants_dir(const struct rtc_glob_set *g, const char *dir)
{
	size_t i;
	int may = g->ninc == 0;

	for (i = 0; i < g->nexc; i++)
		if (rtc_glob_dir_covered(g->exc[i], dir))
			return 0;
	for (i = 0; i < g->ninc && !may; i++)
		if (rtc_glob_dir_may_match(g->inc[i], dir))
			may = 1;
	return may;
}

const char *
rtc_glob_set_unmatched(const struct rtc_glob_set *g)
{
	size_t i;

	for (i = 0; i < g->ninc; i++)
		if (g->hits[i] == 0)
			return g->inc[i];
	return NULL;
}
