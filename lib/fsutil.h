/*
 * fsutil: the file operations every module needs done the same careful
 * way: bounded reads, atomic writes (temp name + rename), directory trees,
 * and paths from outside that must never escape their directory.
 */
#ifndef RTC_FSUTIL_H
#define RTC_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Read a whole file. IN: max, the size cap. OUT: *data (malloc'd, NUL
 * appended, caller frees) and *len. RET: RTC_OK, RTC_ERR_NOT_FOUND,
 * RTC_ERR_TOO_BIG, RTC_ERR_IO; *cause names the file.
 */
int rtc_fs_read_file(const char *path, size_t max, char **data, size_t *len,
    char **cause);

/*
 * Write data to path atomically: a temp file in the same directory, fsync'd
 * when sync is nonzero, then renamed over path. Readers see the old file or
 * the whole new one, never a part. mode as for open(2).
 */
int rtc_fs_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int sync, char **cause);

/*
 * Open a new temp file next to path, named ".<base>.tmp.XXXXXX".
 * OUT: *fd and *tmp_path (malloc'd). Finish with rtc_fs_commit_tmp() or
 * rtc_fs_discard_tmp().
 */
int rtc_fs_open_tmp(const char *path, int *fd, char **tmp_path, char **cause);
int rtc_fs_commit_tmp(int fd, const char *tmp_path, const char *path,
    mode_t mode, int sync, char **cause);
void rtc_fs_discard_tmp(int fd, const char *tmp_path);

/* mkdir -p with mode for created components. */
int rtc_fs_mkdir_p(const char *path, mode_t mode, char **cause);

/* rm -rf; a missing path is success. Does not follow symlinks. */
int rtc_fs_remove_tree(const char *path, char **cause);

/*
 * RET: nonzero when rel is a relative path that stays inside its base
 * directory: not empty, not absolute, no NUL within len, no "." or ".."
 * component, no empty component ("a//b"), no backslash, at most max_len.
 */
int rtc_fs_safe_relpath(const char *rel, size_t len);

/* OUT: *out = dir "/" rel (malloc'd) when rel is safe. RET: RTC_OK or
 * RTC_ERR_INVAL. */
int rtc_fs_join_safe(const char *dir, const char *rel, char **out);

/* RET: nonzero for an existing directory / regular file. */
int rtc_fs_is_dir(const char *path);
int rtc_fs_is_file(const char *path);

/* OUT: *size of a regular file. RET: RTC_OK or RTC_ERR_NOT_FOUND/IO. */
int rtc_fs_file_size(const char *path, off_t *size);

/* Format a byte count as "1.5 MiB" into out. RET: out. */
char *rtc_fs_human_bytes(double bytes, char *out, size_t outsz);

#endif
