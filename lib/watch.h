/*
 * watch: hand out the files a scanner writes into a directory, each once,
 * as soon as its bytes are complete.
 *
 * Two ways to notice files: inotify (IN_CREATE, IN_CLOSE_WRITE,
 * IN_MOVED_TO) for local file systems, and polling (readdir + stat every
 * poll_ms) for network shares, where inotify sees nothing of what other
 * hosts write. A file is ready when
 *   - inotify: it was closed after writing or renamed into the directory,
 *     or (files that were already open when the watch began) its identity
 *     stayed the same across stable_polls checks, and
 *   - polling: its identity (inode, size, mtime) stayed the same across
 *     stable_polls consecutive polls,
 * and in both cases the completeness check says so (by default: the file
 * reads as a whole DICOM Part-10 object, see watch_dcm.h). A file that is
 * not complete yet is checked again every poll_ms until it is, or until it
 * has not changed for timeout_ms (then it is given up with a warning; if it
 * changes later it is tried again). A file that can never be complete (not
 * DICOM, over the size cap) is rejected with a warning.
 *
 * Identity: a file is handed out once per (name, inode, size, mtime).
 * Repeated events for an unchanged file are ignored; a file rewritten
 * under the same name (new inode, size or mtime) counts as a new file.
 * Names starting with '.' (temporary files, rtc_fs_write_atomic's) and
 * anything but regular files are never handed out. Subdirectories are not
 * watched.
 *
 * Latency clock: ready_ns is the monotonic time at which the watcher first
 * saw the file's final bytes: the moment it read the close/rename event,
 * or (polling, or no event) the first poll that saw the final identity.
 *
 * Threads: one thread calls rtc_watch_next(); rtc_watch_wake() may be
 * called from any thread (or a signal handler) to make it return.
 */
#ifndef RTC_WATCH_H
#define RTC_WATCH_H

#include <stdint.h>
#include <sys/types.h>

struct rtc_ctx;
struct rtc_watch;

enum rtc_watch_mode {
	RTC_WATCH_AUTO = 0,   /* inotify, or polling on network file systems */
	RTC_WATCH_INOTIFY,
	RTC_WATCH_POLL
};

/*
 * A completeness check. IN: path of a candidate file. RET: 1 complete;
 * 0 not yet (check again later); negative (an enum rtc_err) never: the
 * file is rejected and not checked again until it changes.
 */
typedef int (*rtc_watch_complete_fn)(const char *path, void *arg);

struct rtc_watch_opts {
	enum rtc_watch_mode mode;
	int poll_ms;            /* rescan (polling) / recheck interval; 100 */
	int stable_polls;       /* unchanged observations needed; 1 */
	int timeout_ms;         /* give up on a file unchanged but incomplete
	                         * this long; 10000 */
	int process_existing;   /* files present at open: 1 hand out, 0 ignore */
	const char *pattern;    /* fnmatch(3) glob on the name; NULL: any */
	long long max_bytes;    /* larger files are rejected; 2 GiB */
	size_t max_tracked;     /* names remembered at most; 1,000,000 */
	rtc_watch_complete_fn complete;  /* NULL: rtc_watch_dcm_complete */
	void *complete_arg;
};

/* One ready file, as returned by rtc_watch_next(). */
struct rtc_watch_file {
	const char *path;       /* dir "/" name; valid until the next call */
	const char *name;       /* points into path */
	int64_t ready_ns;       /* monotonic: bytes seen complete (see above) */
	int64_t size;
	int series;             /* from a 001_SSSSSS_VVVVVV.dcm name, else -1 */
	int volume;             /* likewise, else -1 */
	int preexisting;        /* was there when the watch began */
};

struct rtc_watch_stats {
	unsigned long long ready;      /* files handed out */
	unsigned long long rejected;   /* never complete (not DICOM, too big) */
	unsigned long long timed_out;  /* given up after timeout_ms */
	unsigned long long ignored;    /* repeated events for handed-out files */
	unsigned long long checks;     /* completeness checks run */
	unsigned long long rescans;    /* full directory scans */
	unsigned long long untracked;  /* names not tracked: max_tracked hit */
	int inotify;                   /* 1 when events come from inotify */
};

/* Defaults as documented in struct rtc_watch_opts. */
void rtc_watch_opts_init(struct rtc_watch_opts *o);

/*
 * Start watching dir. IN: ctx (logging; may be NULL), o (NULL: defaults;
 * copied, pattern too). The directory is scanned once here (files present
 * are handed out or ignored per process_existing). OUT: *out, freed with
 * rtc_watch_free(). RET: RTC_OK, RTC_ERR_NOT_FOUND (no such directory),
 * RTC_ERR_INVAL (bad options), RTC_ERR_IO.
 */
int rtc_watch_open(struct rtc_ctx *ctx, const char *dir,
    const struct rtc_watch_opts *o, struct rtc_watch **out, char **cause);

/*
 * Wait for the next ready file, at most timeout_ms (< 0: no limit).
 * OUT: *f on RTC_OK (its strings owned by w, valid until the next call).
 * RET: RTC_OK; RTC_ERR_TIMEOUT; RTC_ERR_CANCELLED after rtc_watch_wake()
 * or when ctx's stop flag is set; RTC_ERR_IO when the directory went away.
 */
int rtc_watch_next(struct rtc_watch *w, int timeout_ms,
    struct rtc_watch_file *f, char **cause);

/* Make a waiting (or the next) rtc_watch_next() return RTC_ERR_CANCELLED.
 * Safe from any thread and from signal handlers. */
void rtc_watch_wake(struct rtc_watch *w);

/* OUT: counters so far. */
void rtc_watch_get_stats(const struct rtc_watch *w, struct rtc_watch_stats *s);

/* RET: the mode in use (RTC_WATCH_INOTIFY or RTC_WATCH_POLL). */
enum rtc_watch_mode rtc_watch_mode_used(const struct rtc_watch *w);

void rtc_watch_free(struct rtc_watch *w);

/*
 * Parse a Siemens realtime-export name "NNN_SSSSSS_VVVVVV.dcm" (3, 6 and 6
 * digits). OUT: *series, *volume on success. RET: 1 when name has that
 * form, else 0.
 */
int rtc_watch_parse_siemens_name(const char *name, int *series, int *volume);

/* RET: nonzero when the file system holding path is a network or FUSE one
 * (NFS, SMB/CIFS, 9p, FUSE, AFS, Ceph...), where inotify cannot be trusted. */
int rtc_watch_is_network_fs(const char *path);

/* RET: mode from "auto", "inotify", "poll"; -1 for anything else. */
int rtc_watch_mode_parse(const char *s);

#endif
