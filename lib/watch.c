/*
 * watch: design notes (the contract is in watch.h).
 *
 * Every name seen in the directory has an entry in a hash table, kept for
 * the life of the watch so that a file is handed out once per identity
 * (inode, size, mtime). Entries move PENDING -> DONE (handed out),
 * REJECTED (never complete) or GAVEUP (timed out); a change of identity
 * brings any of them back to PENDING. PENDING entries are also on a list,
 * in the order their names appeared (sorted within one directory scan),
 * and are checked when their next_check_ns comes: stat, then, once they
 * look finished, the completeness callback. Ready files go to a FIFO that
 * rtc_watch_next() pops, so several files found at once come out in order.
 *
 * Everything runs in the caller's thread inside rtc_watch_next(): poll(2)
 * on the inotify fd and an eventfd (the wake-up), with a timeout that is
 * the nearest of: the caller's deadline, the next pending check, the next
 * rescan (polling mode). No threads, no signals.
 *
 * Polling mode rescans with readdir every poll_ms; names already handed
 * out are compared by the inode readdir reports, so a rescan of a
 * directory with thousands of finished volumes costs no stat(2) calls on
 * a network share.
 */
#include "rtc_build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "clock.h"
#include "ctx.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "watch.h"
#include "watch_dcm.h"

enum estate { E_PENDING, E_DONE, E_REJECTED, E_GAVEUP };

struct entry {
	struct entry *hnext;
	char *name;
	enum estate state;
	int pending;            /* on the pending list */
	int closed;             /* close/rename event not yet acted on */
	int preexisting;
	int stable;             /* observations with unchanged identity */
	int observed;           /* identity fields valid */
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
	int64_t changed_ns;     /* first observation of this identity */
	int64_t event_ns;       /* last close/rename event */
	int64_t next_check_ns;
};

struct ready {
	struct entry *e;
	int64_t ready_ns;
	int64_t size;
	int preexisting;
};

struct rtc_watch {
	struct rtc_ctx *ctx;
	struct rtc_watch_opts o;
	char *pattern;
	char *dir;
	int dirfd;
	int ifd;                /* inotify, or -1 when polling */
	int wd;
	int efd;                /* eventfd for rtc_watch_wake() */
	enum rtc_watch_mode mode;
	int dir_gone;
	int need_rescan;
	int64_t next_scan_ns;

	struct entry **table;
	size_t nbuckets, nentries;

	struct entry **pend;
	size_t npend, cappend;

	struct ready *rq;       /* ring buffer */
	size_t rq_head, rq_len, rq_cap;

	char *path;             /* scratch: dir "/" name */
	size_t pathcap;
	char *outpath;          /* what rtc_watch_next() hands out */
	struct rtc_watch_stats st;
	int warned_untracked;
};

/* ---- options ---------------------------------------------------------- */

void
rtc_watch_opts_init(struct rtc_watch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = RTC_WATCH_AUTO;
	o->poll_ms = 100;
	o->stable_polls = 1;
	o->timeout_ms = 10000;
	o->process_existing = 0;
	o->max_bytes = 2LL * 1024 * 1024 * 1024;
	o->max_tracked = 1000000;
}

int
rtc_watch_mode_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "auto") == 0)
		return RTC_WATCH_AUTO;
	if (strcmp(s, "inotify") == 0)
		return RTC_WATCH_INOTIFY;
	if (strcmp(s, "poll") == 0)
		return RTC_WATCH_POLL;
	return -1;
}

int
rtc_watch_parse_siemens_name(const char *name, int *series, int *volume)
{
	static const char form[] = "###_######_######.dcm";
	int s = 0, v = 0;
	size_t i;

	if (strlen(name) != sizeof(form) - 1)
		return 0;
	for (i = 0; i < sizeof(form) - 1; i++) {
		if (form[i] == '#') {
			if (name[i] < '0' || name[i] > '9')
				return 0;
		} else if (name[i] != form[i]) {
			return 0;
		}
	}
	for (i = 4; i < 10; i++)
		s = s * 10 + (name[i] - '0');
	for (i = 11; i < 17; i++)
		v = v * 10 + (name[i] - '0');
	*series = s;
	*volume = v;
	return 1;
}

int
rtc_watch_is_network_fs(const char *path)
{
	static const unsigned long magic[] = {
		0x6969UL,       /* NFS */
		0x517BUL,       /* SMB */
		0xFF534D42UL,   /* CIFS */
		0xFE534D42UL,   /* SMB2 */
		0x65735546UL,   /* FUSE */
		0x01021997UL,   /* 9p */
		0x5346414FUL,   /* AFS */
		0x00C36400UL,   /* Ceph */
		0x73757245UL,   /* Coda */
		0x564CUL,       /* NCP */
		0x0BD00BD0UL,   /* Lustre */
		0x47504653UL,   /* GPFS */
	};
	struct statfs sf;
	size_t i;

	if (statfs(path, &sf) != 0)
		return 0;
	for (i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if ((unsigned long)sf.f_type == magic[i])
			return 1;
	return 0;
}

/* ---- entries ---------------------------------------------------------- */

static size_t
hash_name(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct entry *
lookup(struct rtc_watch *w, const char *name)
{
	struct entry *e;

	for (e = w->table[hash_name(name) & (w->nbuckets - 1)]; e; e = e->hnext)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static int
grow_table(struct rtc_watch *w)
{
	size_t n = w->nbuckets * 2, i;
	struct entry **t = calloc(n, sizeof(*t));

	if (t == NULL)
		return RTC_ERR_NOMEM;
	for (i = 0; i < w->nbuckets; i++) {
		struct entry *e = w->table[i], *next;

		for (; e != NULL; e = next) {
			size_t b = hash_name(e->name) & (n - 1);

			next = e->hnext;
			e->hnext = t[b];
			t[b] = e;
		}
	}
	free(w->table);
	w->table = t;
	w->nbuckets = n;
	return RTC_OK;
}

/* RET: a new entry (state PENDING, not on the pending list) or NULL. */
static struct entry *
add_entry(struct rtc_watch *w, const char *name)
{
	struct entry *e;
	size_t b;

	if (w->nentries >= w->o.max_tracked) {
		w->st.untracked++;
		if (!w->warned_untracked) {
			rtc_log(w->ctx, ERROR, "watch %s: more than %zu files; "
			    "new names are no longer tracked", w->dir,
			    w->o.max_tracked);
			w->warned_untracked = 1;
		}
		return NULL;
	}
	if (w->nentries >= w->nbuckets && grow_table(w) != RTC_OK)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->name = strdup(name);
	if (e->name == NULL) {
		free(e);
		return NULL;
	}
	e->state = E_PENDING;
	b = hash_name(name) & (w->nbuckets - 1);
	e->hnext = w->table[b];
	w->table[b] = e;
	w->nentries++;
	return e;
}

static void
remove_entry(struct rtc_watch *w, struct entry *e)
{
	struct entry **pp = &w->table[hash_name(e->name) & (w->nbuckets - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp == e)
		*pp = e->hnext;
	w->nentries--;
	free(e->name);
	free(e);
}

static int
pend_add(struct rtc_watch *w, struct entry *e)
{
	if (e->pending)
		return RTC_OK;
	if (w->npend == w->cappend) {
		size_t n = w->cappend ? w->cappend * 2 : 64;
		struct entry **p = realloc(w->pend, n * sizeof(*p));

		if (p == NULL)
			return RTC_ERR_NOMEM;
		w->pend = p;
		w->cappend = n;
	}
	w->pend[w->npend++] = e;
	e->pending = 1;
	e->state = E_PENDING;
	return RTC_OK;
}

static void
pend_remove_at(struct rtc_watch *w, size_t i)
{
	w->pend[i]->pending = 0;
	memmove(&w->pend[i], &w->pend[i + 1],
	    (w->npend - i - 1) * sizeof(w->pend[0]));
	w->npend--;
}

static int
rq_push(struct rtc_watch *w, struct entry *e, int64_t ready_ns)
{
	struct ready *r;

	if (w->rq_len == w->rq_cap) {
		size_t n = w->rq_cap ? w->rq_cap * 2 : 64, i;
		struct ready *q = malloc(n * sizeof(*q));

		if (q == NULL)
			return RTC_ERR_NOMEM;
		for (i = 0; i < w->rq_len; i++)
			q[i] = w->rq[(w->rq_head + i) % w->rq_cap];
		free(w->rq);
		w->rq = q;
		w->rq_cap = n;
		w->rq_head = 0;
	}
	r = &w->rq[(w->rq_head + w->rq_len) % w->rq_cap];
	r->e = e;
	r->ready_ns = ready_ns;
	r->size = (int64_t)e->size;
	r->preexisting = e->preexisting;
	w->rq_len++;
	return RTC_OK;
}

/* ---- checks ----------------------------------------------------------- */

static int
wanted_name(const struct rtc_watch *w, const char *name)
{
	if (name[0] == '.' || name[0] == '\0')
		return 0;
	if (w->pattern != NULL && fnmatch(w->pattern, name, 0) != 0)
		return 0;
	return 1;
}

static const char *
full_path(struct rtc_watch *w, const char *name)
{
	snprintf(w->path, w->pathcap, "%s/%s", w->dir, name);
	return w->path;
}

static int64_t
mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* Record st as e's identity. RET: nonzero when it differs from before. */
static int
observe(struct entry *e, const struct stat *st, int64_t now)
{
	int changed = !e->observed || e->dev != st->st_dev ||
	    e->ino != st->st_ino || e->size != st->st_size ||
	    e->mtime_ns != mtime_ns(st);

	if (changed) {
		e->dev = st->st_dev;
		e->ino = st->st_ino;
		e->size = st->st_size;
		e->mtime_ns = mtime_ns(st);
		e->changed_ns = now;
		e->stable = 0;
		e->observed = 1;
	} else {
		e->stable++;
	}
	return changed;
}

/* RET: nonzero when the file's identity differs from e's record (the
 * record is left as it was). A vanished file counts as unchanged. */
static int
identity_differs(struct rtc_watch *w, const struct entry *e)
{
	struct stat st;

	if (fstatat(w->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	return !e->observed || e->dev != st.st_dev || e->ino != st.st_ino ||
	    e->size != st.st_size || e->mtime_ns != mtime_ns(&st);
}

/*
 * Check pending entry i at time now. RET: nonzero when it left the
 * pending list (ready, rejected, given up or gone).
 */
static int
check_entry(struct rtc_watch *w, size_t i, int64_t now)
{
	struct entry *e = w->pend[i];
	struct stat st;
	int r;

	if (fstatat(w->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT) {
			/* renamed away or deleted before it was finished */
			pend_remove_at(w, i);
			remove_entry(w, e);
			return 1;
		}
		e->next_check_ns = now + (int64_t)w->o.poll_ms * 1000000;
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		rtc_debug(w->ctx, RT, "watch: %s is not a regular file", e->name);
		observe(e, &st, now);
		pend_remove_at(w, i);
		e->state = E_REJECTED;
		return 1;
	}
	observe(e, &st, now);
	if ((long long)st.st_size > w->o.max_bytes) {
		rtc_log(w->ctx, WARN, "watch: %s: %lld bytes, over the %lld-byte "
		    "cap; skipped", e->name, (long long)st.st_size,
		    w->o.max_bytes);
		w->st.rejected++;
		pend_remove_at(w, i);
		e->state = E_REJECTED;
		return 1;
	}
	if (!e->closed && e->stable < w->o.stable_polls) {
		e->next_check_ns = now + (int64_t)w->o.poll_ms * 1000000;
		return 0;
	}
	w->st.checks++;
	r = w->o.complete(full_path(w, e->name), w->o.complete_arg);
	if (r == 1) {
		int64_t t = e->closed && e->event_ns > 0 ? e->event_ns :
		    e->changed_ns;

		if (rq_push(w, e, t) != RTC_OK) {
			e->next_check_ns = now + (int64_t)w->o.poll_ms * 1000000;
			return 0;
		}
		e->closed = 0;
		pend_remove_at(w, i);
		e->state = E_DONE;
		return 1;
	}
	if (r < 0) {
		rtc_log(w->ctx, WARN, "watch: %s: not a DICOM file (%s); skipped",
		    e->name, rtc_strerror(r));
		w->st.rejected++;
		e->closed = 0;
		pend_remove_at(w, i);
		e->state = E_REJECTED;
		return 1;
	}
	e->closed = 0;
	if (now - e->changed_ns >= (int64_t)w->o.timeout_ms * 1000000) {
		rtc_log(w->ctx, WARN, "watch: %s: still incomplete after %d ms "
		    "without change; given up", e->name, w->o.timeout_ms);
		w->st.timed_out++;
		pend_remove_at(w, i);
		e->state = E_GAVEUP;
		return 1;
	}
	e->next_check_ns = now + (int64_t)w->o.poll_ms * 1000000;
	return 0;
}

static void
run_checks(struct rtc_watch *w, int64_t now)
{
	size_t i = 0;

	while (i < w->npend) {
		if (w->pend[i]->next_check_ns <= now && check_entry(w, i, now))
			continue;
		i++;
	}
}

/* Something happened to name (event or rescan). closed: a close/rename
 * event. */
static void
touch_name(struct rtc_watch *w, const char *name, int closed, int created,
    int64_t now)
{
	struct entry *e = lookup(w, name);

	if (e == NULL) {
		e = add_entry(w, name);
		if (e == NULL)
			return;
	} else if (e->state != E_PENDING) {
		if (!identity_differs(w, e)) {
			if (e->state == E_DONE && closed)
				w->st.ignored++;
			return;
		}
		if (e->state == E_DONE)
			rtc_log(w->ctx, WARN, "watch: %s changed after it was "
			    "handed out; taking it again", e->name);
		e->stable = 0;
	}
	if (closed) {
		e->closed = 1;
		e->event_ns = now;
	}
	e->next_check_ns = created && !closed ?
	    now + (int64_t)w->o.poll_ms * 1000000 : now;
	if (pend_add(w, e) != RTC_OK && e->state == E_PENDING && !e->observed)
		remove_entry(w, e);
}

static int
name_cmp(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Read the directory. initial: the first scan (files then present are
 * preexisting). RET: RTC_OK or RTC_ERR_IO (directory unreadable).
 */
static int
rescan(struct rtc_watch *w, int initial, char **cause)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int64_t now = rtc_clock_mono_ns();
	int fd, ret = RTC_OK;

	fd = openat(w->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		rtc_cause_set(cause, "%s: %s", w->dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return RTC_ERR_IO;
	}
	w->st.rescans++;
	while ((de = readdir(d)) != NULL) {
		struct entry *e;

		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (!wanted_name(w, de->d_name))
			continue;
		e = lookup(w, de->d_name);
		if (e != NULL) {
			if (e->state == E_PENDING)
				continue;
			if (e->state == E_DONE && e->ino == de->d_ino)
				continue;
			if (!identity_differs(w, e))
				continue;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **p = realloc(names, nc * sizeof(*p));

			if (p == NULL) {
				ret = RTC_ERR_NOMEM;
				goto out;
			}
			names = p;
			cap = nc;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			ret = RTC_ERR_NOMEM;
			goto out;
		}
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		struct entry *e;

		if (!initial) {
			touch_name(w, names[i], 0, 0, now);
			continue;
		}
		e = add_entry(w, names[i]);
		if (e == NULL)
			continue;
		e->preexisting = 1;
		if (!w->o.process_existing) {
			struct stat st;

			/* Ignore what is already complete; a file still being
			 * written when we start is a new volume. */
			if (fstatat(w->dirfd, e->name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
				observe(e, &st, now);
				if (w->o.complete(full_path(w, e->name),
				    w->o.complete_arg) != 0) {
					e->state = E_DONE;
					continue;
				}
			}
		}
		e->next_check_ns = now;
		if (pend_add(w, e) != RTC_OK) {
			ret = RTC_ERR_NOMEM;
			goto out;
		}
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

/* ---- inotify ---------------------------------------------------------- */

static void
read_events(struct rtc_watch *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	for (;;) {
		int64_t now;
		char *p;

		n = read(w->ifd, buf, sizeof(buf));
		if (n <= 0)
			return;
		now = rtc_clock_mono_ns();
		for (p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				rtc_log(w->ctx, WARN, "watch %s: event queue "
				    "overflowed; rescanning", w->dir);
				w->need_rescan = 1;
				continue;
			}
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF |
			    IN_MOVE_SELF | IN_UNMOUNT)) {
				w->dir_gone = 1;
				continue;
			}
			if (ev->len == 0 || (ev->mask & IN_ISDIR) ||
			    !wanted_name(w, ev->name))
				continue;
			if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
				touch_name(w, ev->name, 1, 0, now);
			} else if (ev->mask & IN_CREATE) {
				touch_name(w, ev->name, 0, 1, now);
			} else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
				struct entry *e = lookup(w, ev->name);
				size_t i;

				if (e == NULL || e->state != E_PENDING)
					continue;
				for (i = 0; i < w->npend; i++)
					if (w->pend[i] == e)
						break;
				if (i < w->npend)
					pend_remove_at(w, i);
				remove_entry(w, e);
			}
		}
	}
}

/* ---- public ----------------------------------------------------------- */

int
rtc_watch_open(struct rtc_ctx *ctx, const char *dir,
    const struct rtc_watch_opts *o, struct rtc_watch **out, char **cause)
{
	struct rtc_watch *w;
	int ret;

	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return RTC_ERR_NOMEM;
	w->ctx = ctx;
	w->dirfd = w->ifd = w->efd = -1;
	if (o != NULL)
		w->o = *o;
	else
		rtc_watch_opts_init(&w->o);
	if (w->o.poll_ms < 1 || w->o.poll_ms > 3600000 ||
	    w->o.stable_polls < 0 || w->o.stable_polls > 1000 ||
	    w->o.timeout_ms < 0 || w->o.max_bytes <= 0 ||
	    w->o.max_tracked == 0 || w->o.mode < RTC_WATCH_AUTO ||
	    w->o.mode > RTC_WATCH_POLL) {
		rtc_cause_set(cause, "watch: invalid options");
		ret = RTC_ERR_INVAL;
		goto fail;
	}
	if (w->o.complete == NULL)
		w->o.complete = rtc_watch_dcm_complete;
	if (w->o.pattern != NULL && (w->pattern = strdup(w->o.pattern)) == NULL) {
		ret = RTC_ERR_NOMEM;
		goto fail;
	}
	w->o.pattern = w->pattern;
	w->dir = strdup(dir);
	w->pathcap = strlen(dir) + NAME_MAX + 2;
	w->path = malloc(w->pathcap);
	w->outpath = malloc(w->pathcap);
	w->nbuckets = 1024;
	w->table = calloc(w->nbuckets, sizeof(*w->table));
	if (w->dir == NULL || w->path == NULL || w->outpath == NULL ||
	    w->table == NULL) {
		ret = RTC_ERR_NOMEM;
		goto fail;
	}
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		rtc_cause_set(cause, "%s: %s", dir, strerror(errno));
		ret = errno == ENOENT || errno == ENOTDIR ? RTC_ERR_NOT_FOUND :
		    errno == EACCES ? RTC_ERR_PERM : RTC_ERR_IO;
		goto fail;
	}
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		rtc_cause_set(cause, "eventfd: %s", strerror(errno));
		ret = RTC_ERR_IO;
		goto fail;
	}
	w->mode = w->o.mode;
	if (w->mode == RTC_WATCH_AUTO)
		w->mode = rtc_watch_is_network_fs(dir) ? RTC_WATCH_POLL :
		    RTC_WATCH_INOTIFY;
	if (w->mode == RTC_WATCH_INOTIFY) {
		w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (w->ifd >= 0)
			w->wd = inotify_add_watch(w->ifd, dir, IN_CREATE |
			    IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
			    IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF |
			    IN_ONLYDIR);
		if (w->ifd < 0 || w->wd < 0) {
			if (w->o.mode == RTC_WATCH_INOTIFY) {
				rtc_cause_set(cause, "inotify on %s: %s", dir,
				    strerror(errno));
				ret = RTC_ERR_IO;
				goto fail;
			}
			rtc_log(ctx, WARN, "watch %s: inotify unavailable (%s); "
			    "polling every %d ms", dir, strerror(errno),
			    w->o.poll_ms);
			if (w->ifd >= 0)
				close(w->ifd);
			w->ifd = -1;
			w->mode = RTC_WATCH_POLL;
		}
	}
	w->st.inotify = w->mode == RTC_WATCH_INOTIFY;
	/* the inotify watch exists before this scan: nothing falls between */
	ret = rescan(w, 1, cause);
	if (ret != RTC_OK)
		goto fail;
	w->next_scan_ns = rtc_clock_mono_ns() + (int64_t)w->o.poll_ms * 1000000;
	rtc_debug(ctx, RT, "watch %s: %s, %zu files present", dir,
	    w->mode == RTC_WATCH_INOTIFY ? "inotify" : "polling", w->nentries);
	*out = w;
	return RTC_OK;
fail:
	rtc_watch_free(w);
	return ret;
}

static int64_t
next_deadline(const struct rtc_watch *w)
{
	int64_t t = INT64_MAX;
	size_t i;

	for (i = 0; i < w->npend; i++)
		if (w->pend[i]->next_check_ns < t)
			t = w->pend[i]->next_check_ns;
	if (w->mode == RTC_WATCH_POLL && w->next_scan_ns < t)
		t = w->next_scan_ns;
	return t;
}

int
rtc_watch_next(struct rtc_watch *w, int timeout_ms, struct rtc_watch_file *f,
    char **cause)
{
	int64_t deadline = timeout_ms >= 0 ?
	    rtc_clock_mono_ns() + (int64_t)timeout_ms * 1000000 : INT64_MAX;

	for (;;) {
		struct pollfd pfd[2];
		int64_t now, t;
		uint64_t one;
		int n = 0, wait_ms, r;

		if (w->rq_len > 0) {
			struct ready *rd = &w->rq[w->rq_head];

			w->rq_head = (w->rq_head + 1) % w->rq_cap;
			w->rq_len--;
			snprintf(w->outpath, w->pathcap, "%s/%s", w->dir,
			    rd->e->name);
			f->path = w->outpath;
			f->name = w->outpath + strlen(w->dir) + 1;
			f->ready_ns = rd->ready_ns;
			f->size = rd->size;
			f->preexisting = rd->preexisting;
			if (!rtc_watch_parse_siemens_name(f->name, &f->series,
			    &f->volume))
				f->series = f->volume = -1;
			w->st.ready++;
			return RTC_OK;
		}
		if (!w->dir_gone) {
			struct stat dst;

			/* with an fd open on it, a removed directory does not
			 * always raise IN_DELETE_SELF: look at its link count */
			if (fstat(w->dirfd, &dst) == 0 && dst.st_nlink == 0)
				w->dir_gone = 1;
		}
		if (w->dir_gone) {
			rtc_cause_set(cause, "%s: watched directory was removed "
			    "or moved", w->dir);
			return RTC_ERR_IO;
		}
		if (rtc_ctx_stopping(w->ctx))
			return RTC_ERR_CANCELLED;
		now = rtc_clock_mono_ns();
		if (w->need_rescan || (w->mode == RTC_WATCH_POLL &&
		    now >= w->next_scan_ns)) {
			w->need_rescan = 0;
			w->next_scan_ns = now + (int64_t)w->o.poll_ms * 1000000;
			r = rescan(w, 0, cause);
			if (r == RTC_ERR_IO && !rtc_fs_is_dir(w->dir)) {
				w->dir_gone = 1;
				continue;
			}
			if (r != RTC_OK)
				return r;
		}
		run_checks(w, now);
		if (w->rq_len > 0)
			continue;
		now = rtc_clock_mono_ns();
		if (now >= deadline)
			return RTC_ERR_TIMEOUT;
		t = next_deadline(w);
		if (deadline < t)
			t = deadline;
		if (t == INT64_MAX)
			wait_ms = -1;
		else
			wait_ms = t <= now ? 0 : (int)((t - now + 999999) / 1000000);
		if (w->ctx != NULL && w->ctx->stop != NULL &&
		    (wait_ms < 0 || wait_ms > 250))
			wait_ms = 250;
		if (wait_ms < 0 || wait_ms > 1000)
			wait_ms = 1000;     /* look at the directory now and then */
		pfd[n++] = (struct pollfd){ .fd = w->efd, .events = POLLIN };
		if (w->ifd >= 0)
			pfd[n++] = (struct pollfd){ .fd = w->ifd, .events = POLLIN };
		r = poll(pfd, (nfds_t)n, wait_ms);
		if (r < 0 && errno != EINTR) {
			rtc_cause_set(cause, "poll: %s", strerror(errno));
			return RTC_ERR_IO;
		}
		if (r > 0 && (pfd[0].revents & POLLIN)) {
			if (read(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
				return RTC_ERR_IO;
			return RTC_ERR_CANCELLED;
		}
		if (w->ifd >= 0 && r > 0 && (pfd[1].revents & POLLIN))
			read_events(w);
	}
}

void
rtc_watch_wake(struct rtc_watch *w)
{
	uint64_t one = 1;
	ssize_t r;

	if (w == NULL || w->efd < 0)
		return;
	r = write(w->efd, &one, sizeof(one));
	(void)r;
}

void
rtc_watch_get_stats(const struct rtc_watch *w, struct rtc_watch_stats *s)
{
	*s = w->st;
}

enum rtc_watch_mode
rtc_watch_mode_used(const struct rtc_watch *w)
{
	return w->mode;
}

void
rtc_watch_free(struct rtc_watch *w)
{
	size_t i;

	if (w == NULL)
		return;
	if (w->table != NULL) {
		for (i = 0; i < w->nbuckets; i++) {
			struct entry *e = w->table[i], *next;

			for (; e != NULL; e = next) {
				next = e->hnext;
				free(e->name);
				free(e);
			}
		}
	}
	free(w->table);
	free(w->pend);
	free(w->rq);
	if (w->ifd >= 0)
		close(w->ifd);
	if (w->efd >= 0)
		close(w->efd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w->path);
	free(w->outpath);
	free(w->dir);
	free(w->pattern);
	free(w);
}
