/*
 * fsutil: see fsutil.h. Temp files live in the target's directory so the
 * final rename(2) is atomic; their names start with a dot so directory
 * scans (watchers, BIDS layouts) skip them.
 */
#include "rtc_build.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"

int
rtc_fs_read_file(const char *path, size_t max, char **data, size_t *len,
    char **cause)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0, cap;
	ssize_t r;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? RTC_ERR_NOT_FOUND :
		    errno == EACCES ? RTC_ERR_PERM : RTC_ERR_IO;
	}
	if (fstat(fd, &st) != 0) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		ret = RTC_ERR_IO;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rtc_cause_set(cause, "%s: is a directory", path);
		ret = RTC_ERR_INVAL;
		goto out;
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		rtc_cause_set(cause, "%s: larger than %zu bytes", path, max);
		ret = RTC_ERR_TOO_BIG;
		goto out;
	}
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
	buf = malloc(cap);
	if (buf == NULL) {
		ret = RTC_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		if (n + 1 >= cap) {
			char *nb;

			if (cap > max) {
				rtc_cause_set(cause, "%s: larger than %zu bytes",
				    path, max);
				ret = RTC_ERR_TOO_BIG;
				goto out;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				ret = RTC_ERR_NOMEM;
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rtc_cause_set(cause, "%s: %s", path, strerror(errno));
			ret = RTC_ERR_IO;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rtc_cause_set(cause, "%s: larger than %zu bytes", path, max);
			ret = RTC_ERR_TOO_BIG;
			goto out;
		}
	}
	buf[n] = '\0';
	*data = buf;
	buf = NULL;
	*len = n;
	ret = RTC_OK;
out:
	free(buf);
	close(fd);
	return ret;
}

int
rtc_fs_open_tmp(const char *path, int *fd, char **tmp_path, char **cause)
{
	char *copy1 = NULL, *copy2 = NULL, *tmp = NULL;
	const char *dir, *base;
	size_t n;
	int f, ret;

	copy1 = strdup(path);
	copy2 = strdup(path);
	if (copy1 == NULL || copy2 == NULL) {
		ret = RTC_ERR_NOMEM;
		goto out;
	}
	dir = dirname(copy1);
	base = basename(copy2);
	n = strlen(dir) + strlen(base) + 32;
	tmp = malloc(n);
	if (tmp == NULL) {
		ret = RTC_ERR_NOMEM;
		goto out;
	}
	snprintf(tmp, n, "%s/.%s.tmp.XXXXXX", dir, base);
	f = mkostemp(tmp, O_CLOEXEC);
	if (f < 0) {
		rtc_cause_set(cause, "%s: cannot create a temp file: %s", path,
		    strerror(errno));
		ret = errno == ENOENT ? RTC_ERR_NOT_FOUND : RTC_ERR_IO;
		goto out;
	}
	*fd = f;
	*tmp_path = tmp;
	tmp = NULL;
	ret = RTC_OK;
out:
	free(copy1);
	free(copy2);
	free(tmp);
	return ret;
}

int
rtc_fs_commit_tmp(int fd, const char *tmp_path, const char *path,
    mode_t mode, int sync, char **cause)
{
	if (fchmod(fd, mode) != 0 || (sync && fsync(fd) != 0)) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		rtc_fs_discard_tmp(fd, tmp_path);
		return RTC_ERR_IO;
	}
	if (close(fd) != 0) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		unlink(tmp_path);
		return RTC_ERR_IO;
	}
	if (rename(tmp_path, path) != 0) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		unlink(tmp_path);
		return RTC_ERR_IO;
	}
	return RTC_OK;
}

void
rtc_fs_discard_tmp(int fd, const char *tmp_path)
{
	if (fd >= 0)
		close(fd);
	if (tmp_path != NULL)
		unlink(tmp_path);
}

int
rtc_fs_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int sync, char **cause)
{
	const char *p = data;
	char *tmp = NULL;
	size_t off = 0;
	ssize_t w;
	int fd, r;

	if ((r = rtc_fs_open_tmp(path, &fd, &tmp, cause)) != RTC_OK)
		return r;
	while (off < len) {
		w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rtc_cause_set(cause, "%s: %s", path, strerror(errno));
			rtc_fs_discard_tmp(fd, tmp);
			free(tmp);
			return RTC_ERR_IO;
		}
		off += (size_t)w;
	}
	r = rtc_fs_commit_tmp(fd, tmp, path, mode, sync, cause);
	free(tmp);
	return r;
}

int
rtc_fs_mkdir_p(const char *path, mode_t mode, char **cause)
{
	char *p;
	size_t i, n;
	int ret = RTC_OK;

	n = strlen(path);
	if (n == 0) {
		rtc_cause_set(cause, "empty directory name");
		return RTC_ERR_INVAL;
	}
	p = strdup(path);
	if (p == NULL)
		return RTC_ERR_NOMEM;
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST) {
			rtc_cause_set(cause, "%s: %s", p, strerror(errno));
			ret = errno == EACCES ? RTC_ERR_PERM : RTC_ERR_IO;
			break;
		}
		if (i < n)
			p[i] = '/';
	}
	if (ret == RTC_OK && !rtc_fs_is_dir(path)) {
		rtc_cause_set(cause, "%s: exists and is not a directory", path);
		ret = RTC_ERR_EXISTS;
	}
	free(p);
	return ret;
}

static int
remove_one(const char *fpath, const struct stat *sb, int typeflag,
    struct FTW *ftwbuf)
{
	(void)sb;
	(void)ftwbuf;
	if (typeflag == FTW_DP || typeflag == FTW_D)
		return rmdir(fpath) != 0 && errno != ENOENT ? -1 : 0;
	return unlink(fpath) != 0 && errno != ENOENT ? -1 : 0;
}

int
rtc_fs_remove_tree(const char *path, char **cause)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? RTC_OK : RTC_ERR_IO;
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0) {
			rtc_cause_set(cause, "%s: %s", path, strerror(errno));
			return RTC_ERR_IO;
		}
		return RTC_OK;
	}
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		rtc_cause_set(cause, "%s: cannot remove: %s", path,
		    strerror(errno));
		return RTC_ERR_IO;
	}
	return RTC_OK;
}

int
rtc_fs_safe_relpath(const char *rel, size_t len)
{
	size_t i, start = 0;

	if (rel == NULL || len == 0 || len > 4096 || rel[0] == '/')
		return 0;
	if (memchr(rel, '\0', len) != NULL)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i < len && rel[i] == '\\')
			return 0;
		if (i < len && rel[i] != '/')
			continue;
		/* component rel[start..i) */
		if (i == start)
			return 0;
		if (i - start == 1 && rel[start] == '.')
			return 0;
		if (i - start == 2 && rel[start] == '.' && rel[start + 1] == '.')
			return 0;
		start = i + 1;
	}
	return 1;
}

int
rtc_fs_join_safe(const char *dir, const char *rel, char **out)
{
	size_t n;
	char *s;

	if (!rtc_fs_safe_relpath(rel, strlen(rel)))
		return RTC_ERR_INVAL;
	n = strlen(dir) + strlen(rel) + 2;
	s = malloc(n);
	if (s == NULL)
		return RTC_ERR_NOMEM;
	snprintf(s, n, "%s/%s", dir, rel);
	*out = s;
	return RTC_OK;
}

int
rtc_fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
rtc_fs_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
rtc_fs_file_size(const char *path, off_t *size)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno == ENOENT ? RTC_ERR_NOT_FOUND : RTC_ERR_IO;
	if (!S_ISREG(st.st_mode))
		return RTC_ERR_INVAL;
	*size = st.st_size;
	return RTC_OK;
}

char *
rtc_fs_human_bytes(double bytes, char *out, size_t outsz)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (bytes >= 1024.0 && u < 4) {
		bytes /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(out, outsz, "%.0f %s", bytes, unit[u]);
	else
		snprintf(out, outsz, "%.1f %s", bytes, unit[u]);
	return out;
}
