/*
 * bids_layout: one pass over the dataset with opendir/fstatat, never
 * following directory links out of it. Hidden entries (.git, .datalad,
 * editor files) are not data and are skipped. Annexed files are symlinks:
 * their size is the target's, or -1 when the content is not present.
 *
 * participants.tsv is read with a size cap; only its participant_id column
 * matters here, and every label in it is validated like a directory name.
 */
#include "rtc_build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bids_layout.h"
#include "buf.h"
#include "error.h"
#include "fsutil.h"

struct filevec {
	struct rtc_bids_file *v;
	size_t n, cap;
	size_t *total;         /* files in the whole scan, for the cap */
};

static int
filevec_add(struct filevec *fv, const char *path, long long size)
{
	struct rtc_bids_file *nv;

	if (*fv->total >= RTC_BIDS_LAYOUT_MAX_FILES)
		return RTC_ERR_TOO_BIG;
	if (fv->n == fv->cap) {
		size_t cap = fv->cap ? fv->cap * 2 : 16;

		nv = realloc(fv->v, cap * sizeof(*nv));
		if (nv == NULL)
			return RTC_ERR_NOMEM;
		fv->v = nv;
		fv->cap = cap;
	}
	fv->v[fv->n].path = strdup(path);
	if (fv->v[fv->n].path == NULL)
		return RTC_ERR_NOMEM;
	fv->v[fv->n].size = size;
	fv->n++;
	(*fv->total)++;
	return RTC_OK;
}

static int
cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct rtc_bids_file *)a)->path,
	    ((const struct rtc_bids_file *)b)->path);
}

/* Walk dir (relative to the root fd) collecting regular files. */
static int
walk(int rootfd, const char *rel, int depth, struct filevec *fv,
    char **cause)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, r = RTC_OK;
	char path[PATH_MAX];

	if (depth > RTC_BIDS_LAYOUT_MAX_DEPTH) {
		rtc_cause_set(cause, "%s: directories nested deeper than %d", rel,
		    RTC_BIDS_LAYOUT_MAX_DEPTH);
		return RTC_ERR_TOO_BIG;
	}
	/* a sub-* link at the top is followed; links deeper are not */
	fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    (depth > 0 ? O_NOFOLLOW : 0));
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		rtc_cause_set(cause, "%s: %s", rel, strerror(errno));
		if (fd >= 0)
			close(fd);
		return RTC_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", rel, de->d_name) >=
		    sizeof(path)) {
			rtc_cause_set(cause, "%s/%s: path too long", rel, de->d_name);
			r = RTC_ERR_TOO_BIG;
			break;
		}
		if (fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			r = walk(rootfd, path, depth + 1, fv, cause);
		} else if (S_ISLNK(st.st_mode)) {
			/* annexed content: the size of what it points to */
			if (fstatat(rootfd, path, &st, 0) == 0 && S_ISREG(st.st_mode))
				r = filevec_add(fv, path, (long long)st.st_size);
			else if (fstatat(rootfd, path, &st, 0) != 0)
				r = filevec_add(fv, path, -1);
		} else if (S_ISREG(st.st_mode)) {
			r = filevec_add(fv, path, (long long)st.st_size);
		}
		if (r != RTC_OK)
			break;
	}
	closedir(d);
	if (r == RTC_ERR_TOO_BIG && (cause == NULL || *cause == NULL))
		rtc_cause_set(cause, "more than %d files", RTC_BIDS_LAYOUT_MAX_FILES);
	return r;
}

static void
participant_free(struct rtc_bids_participant *p)
{
	size_t i;

	for (i = 0; i < p->nfiles; i++)
		free(p->files[i].path);
	free(p->files);
	free(p->sessions);
}

void
rtc_bids_layout_free(struct rtc_bids_layout *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		participant_free(&l->p[i]);
	free(l->p);
	for (i = 0; i < l->nbad; i++)
		free(l->bad_names[i]);
	free(l->bad_names);
	free(l->root);
	free(l->name);
	free(l->doi);
	free(l);
}

static struct rtc_bids_participant *
add_participant(struct rtc_bids_layout *l, size_t *cap, const char *label)
{
	struct rtc_bids_participant *nv;

	if (l->n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;

		nv = realloc(l->p, c * sizeof(*nv));
		if (nv == NULL)
			return NULL;
		l->p = nv;
		*cap = c;
	}
	memset(&l->p[l->n], 0, sizeof(l->p[l->n]));
	snprintf(l->p[l->n].label, sizeof(l->p[l->n].label), "%s", label);
	return &l->p[l->n++];
}

static int
cmp_participant(const void *a, const void *b)
{
	return strcmp(((const struct rtc_bids_participant *)a)->label,
	    ((const struct rtc_bids_participant *)b)->label);
}

static int
add_bad(struct rtc_bids_layout *l, const char *name)
{
	char **nv = realloc(l->bad_names, (l->nbad + 1) * sizeof(*nv));

	if (nv == NULL)
		return RTC_ERR_NOMEM;
	l->bad_names = nv;
	if ((nv[l->nbad] = strdup(name)) == NULL)
		return RTC_ERR_NOMEM;
	l->nbad++;
	return RTC_OK;
}

/* Split p's files into sessions: files under sub-L/ses-S/. */
static int
find_sessions(struct rtc_bids_participant *p)
{
	size_t i, pre;
	char prefix[RTC_BIDS_MAX_LABEL + 8];

	pre = (size_t)snprintf(prefix, sizeof(prefix), "sub-%s/ses-", p->label);
	for (i = 0; i < p->nfiles; i++) {
		const char *f = p->files[i].path, *lab, *slash;
		struct rtc_bids_session *s, *nv;
		char label[RTC_BIDS_MAX_LABEL];
		size_t n;

		if (strncmp(f, prefix, pre) != 0)
			continue;
		lab = f + pre;
		slash = strchr(lab, '/');
		if (slash == NULL)
			continue;          /* a file named ses-X, not a directory */
		n = (size_t)(slash - lab);
		if (n == 0 || n >= sizeof(label))
			continue;
		memcpy(label, lab, n);
		label[n] = '\0';
		if (!rtc_bids_label_valid(label))
			continue;
		s = p->nsessions ? &p->sessions[p->nsessions - 1] : NULL;
		if (s == NULL || strcmp(s->label, label) != 0) {
			/* files are sorted: a session's files are contiguous */
			nv = realloc(p->sessions, (p->nsessions + 1) * sizeof(*nv));
			if (nv == NULL)
				return RTC_ERR_NOMEM;
			p->sessions = nv;
			s = &p->sessions[p->nsessions++];
			memset(s, 0, sizeof(*s));
			snprintf(s->label, sizeof(s->label), "%s", label);
			s->first = i;
		}
		s->nfiles++;
		if (p->files[i].size > 0)
			s->bytes += p->files[i].size;
	}
	return RTC_OK;
}

static int
read_description(struct rtc_bids_layout *l, char **cause)
{
	json_error_t jerr;
	json_t *d, *v;
	char *path = NULL;
	int r = RTC_OK;

	if (rtc_fs_join_safe(l->root, "dataset_description.json", &path) != RTC_OK)
		return RTC_ERR_NOMEM;
	if (!rtc_fs_is_file(path)) {
		rtc_cause_set(cause, "%s is not a BIDS dataset: it has no "
		    "dataset_description.json", l->root);
		free(path);
		return RTC_ERR_NOT_FOUND;
	}
	d = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (d == NULL || !json_is_object(d)) {
		rtc_cause_set(cause, "%s: %s", path, d ? "not a JSON object" :
		    jerr.text);
		r = RTC_ERR_FORMAT;
		goto out;
	}
	v = json_object_get(d, "Name");
	l->name = strdup(json_is_string(v) ? json_string_value(v) : "");
	v = json_object_get(d, "DatasetDOI");
	if (json_is_string(v))
		l->doi = strdup(json_string_value(v));
	if (l->name == NULL)
		r = RTC_ERR_NOMEM;
out:
	json_decref(d);
	free(path);
	return r;
}

/* Mark (or add) the participants listed in participants.tsv. The folder
 * participants are sorted first and looked up by bsearch; labels only the
 * TSV names are appended (duplicates among them go in dedupe()), so a
 * file of millions of lines costs n log n, not n squared. */
static int
read_participants_tsv(struct rtc_bids_layout *l, size_t *cap, char **cause)
{
	char *path = NULL, *text = NULL, *line, *next, *end;
	size_t len = 0, ndir = l->n;
	int col = -1, r, lineno = 0;

	if (rtc_fs_join_safe(l->root, "participants.tsv", &path) != RTC_OK)
		return RTC_ERR_NOMEM;
	r = rtc_fs_read_file(path, RTC_BIDS_LAYOUT_MAX_TSV, &text, &len, cause);
	if (r == RTC_ERR_NOT_FOUND) {
		free(path);
		if (cause != NULL) {
			free(*cause);
			*cause = NULL;
		}
		return RTC_OK;
	}
	if (r != RTC_OK)
		goto out;
	if (memchr(text, '\0', len) != NULL) {
		rtc_cause_set(cause, "%s: binary data", path);
		r = RTC_ERR_FORMAT;
		goto out;
	}
	if (ndir > 1)
		qsort(l->p, ndir, sizeof(*l->p), cmp_participant);
	end = text + len;
	for (line = text; line < end; line = next) {
		char *nl = memchr(line, '\n', (size_t)(end - line)), *field;
		int c = 0;

		next = nl ? nl + 1 : end;
		if (nl != NULL)
			*nl = '\0';
		else
			*end = '\0';
		if (nl != NULL && nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		lineno++;
		if (*line == '\0')
			continue;
		/* walk the tab-separated fields to column col */
		field = line;
		for (;;) {
			char *tab = strchr(field, '\t');

			if (tab != NULL)
				*tab = '\0';
			if (col < 0 && strcmp(field, "participant_id") == 0) {
				col = c;
				break;
			}
			if (col >= 0 && c == col) {
				const char *lab = field;

				if (strncmp(lab, "sub-", 4) == 0)
					lab += 4;
				if (!rtc_bids_label_valid(lab)) {
					rtc_cause_set(cause, "%s line %d: '%.64s' is not "
					    "a valid participant_id", path, lineno, field);
					r = RTC_ERR_FORMAT;
					goto out;
				}
				{
					struct rtc_bids_participant key, *p = NULL;

					snprintf(key.label, sizeof(key.label), "%s",
					    lab);
					if (ndir > 0)
						p = bsearch(&key, l->p, ndir,
						    sizeof(*l->p), cmp_participant);
					if (p == NULL && l->n >=
					    RTC_BIDS_LAYOUT_MAX_PARTICIPANTS) {
						rtc_cause_set(cause, "%s: more than %d "
						    "participants", path,
						    RTC_BIDS_LAYOUT_MAX_PARTICIPANTS);
						r = RTC_ERR_TOO_BIG;
						goto out;
					}
					if (p == NULL &&
					    (p = add_participant(l, cap, lab)) == NULL) {
						r = RTC_ERR_NOMEM;
						goto out;
					}
					p->in_tsv = 1;
				}
				break;
			}
			if (tab == NULL)
				break;
			field = tab + 1;
			c++;
		}
		if (col < 0) {
			rtc_cause_set(cause, "%s: no participant_id column in its "
			    "header", path);
			r = RTC_ERR_FORMAT;
			goto out;
		}
	}
	r = RTC_OK;
out:
	free(text);
	free(path);
	return r;
}

/* Sort the participants and merge the TSV's repeated labels (only labels
 * without a folder can repeat: they hold no files). */
static void
dedupe(struct rtc_bids_layout *l)
{
	size_t i, k = 0;

	if (l->n > 1)
		qsort(l->p, l->n, sizeof(*l->p), cmp_participant);
	for (i = 0; i < l->n; i++) {
		if (k > 0 && strcmp(l->p[k - 1].label, l->p[i].label) == 0) {
			struct rtc_bids_participant t;

			if (l->p[i].has_dir && !l->p[k - 1].has_dir) {
				t = l->p[k - 1];
				l->p[k - 1] = l->p[i];
				l->p[i] = t;
			}
			l->p[k - 1].in_tsv |= l->p[i].in_tsv;
			participant_free(&l->p[i]);
			continue;
		}
		if (k != i)
			l->p[k] = l->p[i];
		k++;
	}
	l->n = k;
}

int
rtc_bids_layout_scan(const char *root, struct rtc_bids_layout **out,
    char **cause)
{
	struct rtc_bids_layout *l;
	struct dirent *de;
	struct stat st;
	size_t cap = 0, total = 0, i;
	char real[PATH_MAX];
	DIR *d = NULL;
	int rootfd = -1, r;

	if (realpath(root, real) == NULL || !rtc_fs_is_dir(real)) {
		rtc_cause_set(cause, "%s: no such directory", root);
		return RTC_ERR_NOT_FOUND;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL || (l->root = strdup(real)) == NULL) {
		free(l);
		return RTC_ERR_NOMEM;
	}
	r = read_description(l, cause);
	if (r != RTC_OK)
		goto fail;
	rootfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || (d = fdopendir(dup(rootfd))) == NULL) {
		rtc_cause_set(cause, "%s: %s", real, strerror(errno));
		r = RTC_ERR_IO;
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(rootfd, de->d_name, &st, 0) != 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			l->nshared++;
			l->shared_bytes += (long long)st.st_size;
			continue;
		}
		if (!S_ISDIR(st.st_mode) || strncmp(de->d_name, "sub-", 4) != 0)
			continue;
		if (!rtc_bids_label_valid(de->d_name + 4)) {
			if ((r = add_bad(l, de->d_name)) != RTC_OK)
				goto fail;
			continue;
		}
		{
			struct rtc_bids_participant *p;
			struct filevec fv = { .total = &total };

			p = add_participant(l, &cap, de->d_name + 4);
			if (p == NULL) {
				r = RTC_ERR_NOMEM;
				goto fail;
			}
			p->has_dir = 1;
			r = walk(rootfd, de->d_name, 0, &fv, cause);
			p->files = fv.v;
			p->nfiles = fv.n;
			if (r != RTC_OK) {
				rtc_cause_wrap(cause, "%s", real);
				goto fail;
			}
			if (p->nfiles > 1)
				qsort(p->files, p->nfiles, sizeof(*p->files), cmp_file);
			for (i = 0; i < p->nfiles; i++)
				if (p->files[i].size > 0)
					p->bytes += p->files[i].size;
			if ((r = find_sessions(p)) != RTC_OK)
				goto fail;
		}
	}
	r = read_participants_tsv(l, &cap, cause);
	if (r != RTC_OK)
		goto fail;
	dedupe(l);
	closedir(d);
	close(rootfd);
	*out = l;
	return RTC_OK;
fail:
	if (d != NULL)
		closedir(d);
	if (rootfd >= 0)
		close(rootfd);
	rtc_bids_layout_free(l);
	return r;
}

const struct rtc_bids_participant *
rtc_bids_layout_find(const struct rtc_bids_layout *l, const char *label)
{
	struct rtc_bids_participant key;

	if (strncmp(label, "sub-", 4) == 0)
		label += 4;
	if (l->n == 0 || strlen(label) >= sizeof(key.label))
		return NULL;
	snprintf(key.label, sizeof(key.label), "%s", label);
	return bsearch(&key, l->p, l->n, sizeof(*l->p), cmp_participant);
}

/*
 * Glob matching, component by component, ** included. A state is (pattern
 * component i, path component j); index n means the end of the string.
 * Each state is decided once (memo), so patterns of many "**" stay
 * polynomial: a plain recursion took exponential time on them.
 */
#define GM_MAX_PARTS 1024

struct gm_parts {
	const char *s;
	size_t *start;        /* component k is s[start[k] .. next '/' or end) */
	int n;
};

struct gm {
	struct gm_parts pat, path;
	unsigned char *memo;  /* 0 unknown, 1 no, 2 yes */
};

/* Component starts of s: 0 and after each '/', less the end itself.
 * RET: 0, or -1 (no memory, too many parts). */
static int
gm_split(const char *s, struct gm_parts *p)
{
	size_t len = strlen(s), i, k = 0, n = 1;

	for (i = 0; i < len; i++)
		n += s[i] == '/';
	p->s = s;
	p->n = 0;
	if (n > GM_MAX_PARTS || (p->start = malloc(n * sizeof(size_t))) == NULL)
		return -1;
	if (len > 0)
		p->start[k++] = 0;
	for (i = 0; i < len; i++)
		if (s[i] == '/' && i + 1 < len)
			p->start[k++] = i + 1;
	p->n = (int)k;
	return 0;
}

/* Component k into buf (NUL-terminated). OUT: *slash, whether a '/'
 * follows it. RET: 0, or -1 when it does not fit. */
static int
gm_part(const struct gm_parts *p, int k, char *buf, size_t bufsz,
    int *slash)
{
	const char *c = p->s + p->start[k], *e = strchr(c, '/');
	size_t n = e != NULL ? (size_t)(e - c) : strlen(c);

	*slash = e != NULL;
	if (n >= bufsz)
		return -1;
	memcpy(buf, c, n);
	buf[n] = '\0';
	return 0;
}

/* RET: nonzero when a '/' follows component k. */
static int
gm_slash(const struct gm_parts *p, int k)
{
	return strchr(p->s + p->start[k], '/') != NULL;
}

static int
gm_match(struct gm *g, int i, int j)
{
	unsigned char *m = &g->memo[(size_t)i * (size_t)(g->path.n + 1) +
	    (size_t)j];
	char pc[256], qc[256];
	int pslash, qslash, r;

	if (*m != 0)
		return *m == 2;
	if (i == g->pat.n) {
		r = j == g->path.n;
	} else if (gm_part(&g->pat, i, pc, sizeof(pc), &pslash) != 0) {
		r = 0;
	} else if (strcmp(pc, "**") == 0) {
		/* a final ** takes whatever is left; else zero directories,
		 * or one more (one that a '/' follows) and try again */
		r = i + 1 == g->pat.n || gm_match(g, i + 1, j) ||
		    (j < g->path.n && gm_slash(&g->path, j) &&
		    gm_match(g, i, j + 1));
	} else if (j == g->path.n ||
	    gm_part(&g->path, j, qc, sizeof(qc), &qslash) != 0 ||
	    fnmatch(pc, qc, FNM_PERIOD) != 0) {
		r = 0;
	} else if (!pslash) {
		r = !qslash;
	} else {
		r = gm_match(g, i + 1, qslash ? j + 1 : g->path.n);
	}
	*m = r ? 2 : 1;
	return r;
}

int
rtc_bids_glob_match(const char *pattern, const char *path)
{
	struct gm g;
	int r = 0;

	if (pattern == NULL || path == NULL || *pattern == '/')
		return 0;
	memset(&g, 0, sizeof(g));
	if (gm_split(pattern, &g.pat) == 0 && gm_split(path, &g.path) == 0) {
		g.memo = calloc((size_t)(g.pat.n + 1) * (size_t)(g.path.n + 1),
		    1);
		if (g.memo != NULL)
			r = gm_match(&g, 0, 0);
	}
	free(g.memo);
	free(g.pat.start);
	free(g.path.start);
	return r;
}
