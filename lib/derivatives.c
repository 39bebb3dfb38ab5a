/*
 * derivatives: jobs never write into the shared output tree directly;
 * each writes its own stage directory and the daemon moves files in with
 * rename(2) (same file system), so no two jobs race on a path and a
 * reader never sees half a file. Shared files use renameat2's
 * RENAME_NOREPLACE: the first copy wins, atomically.
 *
 * The list of staged files is written to <stage>/.rtc-merge before
 * anything moves; after a crash the next collect reads it back, moves what
 * is left and hashes everything at its destination.
 */
#include "rtc_build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bids.h"
#include "buf.h"
#include "derivatives.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"

#define MERGE_LIST ".rtc-merge"

static int
write_description(const char *path, const struct rtc_derivatives_info *in,
    char **cause)
{
	json_t *d, *gen, *app, *src, *cont;
	char name[512], desc[256];
	int r = RTC_ERR_NOMEM;

	snprintf(name, sizeof(name), "%s outputs%s%s", in->app_name,
	    in->source_name && *in->source_name ? " for " : "",
	    in->source_name ? in->source_name : "");
	d = json_pack("{s:s,s:s,s:s}", "Name", name, "BIDSVersion", "1.8.0",
	    "DatasetType", "derivative");
	gen = json_array();
	app = json_pack("{s:s}", "Name", in->app_name);
	src = json_array();
	if (d == NULL || gen == NULL || app == NULL || src == NULL)
		goto out;
	if (in->app_version != NULL)
		json_object_set_new(app, "Version", json_string(in->app_version));
	if (strcmp(in->runtime, "none") != 0) {
		cont = json_pack("{s:s,s:s}", "Type", in->runtime, "Tag", in->app);
		if (cont == NULL)
			goto out;
		if (in->digest != NULL) {
			char uri[1024];
			const char *colon = strrchr(in->app, ':');
			const char *slash = strrchr(in->app, '/');
			size_t n = strlen(in->app);

			/* repository@digest: drop a tag, keep a registry port */
			if (colon != NULL && (slash == NULL || colon > slash))
				n = (size_t)(colon - in->app);
			if (strncmp(in->digest, "sha256:", 7) == 0 &&
			    (strcmp(in->runtime, "podman") == 0 ||
			    strcmp(in->runtime, "docker") == 0))
				snprintf(uri, sizeof(uri), "docker://%.*s@%s", (int)n,
				    in->app, in->digest);
			else
				snprintf(uri, sizeof(uri), "file://%s", in->app);
			json_object_set_new(cont, "URI", json_string(uri));
		}
		json_object_set_new(app, "Container", cont);
		snprintf(desc, sizeof(desc), "BIDS App %s, image digest %s",
		    in->app, in->digest ? in->digest : "unknown");
	} else {
		char url[PATH_MAX + 8];

		snprintf(url, sizeof(url), "file://%s", in->app);
		json_object_set_new(app, "CodeURL", json_string(url));
		snprintf(desc, sizeof(desc), "host command, file digest %s",
		    in->digest ? in->digest : "unknown");
	}
	json_object_set_new(app, "Description", json_string(desc));
	if (json_array_append(gen, app) != 0)
		goto out;
	snprintf(desc, sizeof(desc), "rtc submit%s%s", in->run_id && *in->run_id ?
	    ", run " : "", in->run_id ? in->run_id : "");
	if (json_array_append_new(gen, json_pack("{s:s,s:s,s:s}", "Name", "rtc",
	    "Version", in->rtc_version, "Description", desc)) != 0)
		goto out;
	{
		char url[PATH_MAX + 8];
		json_t *s;

		if (in->source_url != NULL)
			snprintf(url, sizeof(url), "%s", in->source_url);
		else
			snprintf(url, sizeof(url), "file://%s", in->source_dir);
		s = json_pack("{s:s}", "URL", url);
		if (s == NULL)
			goto out;
		if (in->source_doi != NULL)
			json_object_set_new(s, "DOI", json_string(in->source_doi));
		if (json_array_append_new(src, s) != 0)
			goto out;
	}
	json_object_set(d, "GeneratedBy", gen);
	json_object_set(d, "SourceDatasets", src);
	r = rtc_bids_sidecar_write(path, d, cause);
out:
	json_decref(d);
	json_decref(gen);
	json_decref(app);
	json_decref(src);
	return r;
}

/* The app and digest an existing description names (borrowed). */
static void
described(json_t *d, const char **name, const char **digest_text)
{
	json_t *g = json_array_get(json_object_get(d, "GeneratedBy"), 0);

	*name = json_string_value(json_object_get(g, "Name"));
	*digest_text = json_string_value(json_object_get(g, "Description"));
}

int
rtc_derivatives_init(const char *out_dir,
    const struct rtc_derivatives_info *info, char **cause)
{
	json_error_t jerr;
	json_t *d;
	char *path = NULL;
	const char *type, *name, *text;
	int r;

	r = rtc_fs_mkdir_p(out_dir, 0777, cause);
	if (r != RTC_OK)
		return r;
	if (rtc_fs_join_safe(out_dir, "dataset_description.json", &path) != RTC_OK)
		return RTC_ERR_NOMEM;
	if (!rtc_fs_is_file(path)) {
		r = write_description(path, info, cause);
		free(path);
		return r;
	}
	d = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (d == NULL) {
		rtc_cause_set(cause, "%s: %s: fix or remove it, or choose another "
		    "output directory (-o)", path, jerr.text);
		free(path);
		return RTC_ERR_FORMAT;
	}
	type = json_string_value(json_object_get(d, "DatasetType"));
	described(d, &name, &text);
	r = RTC_OK;
	if (type == NULL || strcmp(type, "derivative") != 0) {
		rtc_cause_set(cause, "%s holds a raw BIDS dataset, not "
		    "derivatives: choose another output directory (-o)", out_dir);
		r = RTC_ERR_EXISTS;
	} else if (name != NULL && strcmp(name, info->app_name) != 0) {
		rtc_cause_set(cause, "%s holds derivatives of %s, not %s: choose "
		    "another output directory (-o)", out_dir, name, info->app_name);
		r = RTC_ERR_EXISTS;
	} else if (info->digest != NULL && text != NULL &&
	    strstr(text, "digest sha256:") != NULL &&
	    strstr(text, info->digest) == NULL) {
		rtc_cause_set(cause, "%s holds derivatives made with another "
		    "build of %s (%s): choose another output directory (-o) so "
		    "the outputs of two versions do not mix", out_dir,
		    info->app_name, text);
		r = RTC_ERR_EXISTS;
	}
	json_decref(d);
	free(path);
	return r;
}

int
rtc_derivatives_owned(const char *rel, const char *label)
{
	size_t n = strlen(label);
	char c;

	if (strncmp(rel, "sub-", 4) != 0 || strncmp(rel + 4, label, n) != 0)
		return 0;
	c = rel[4 + n];
	return c == '\0' || c == '/' || c == '_' || c == '.';
}

struct list {
	char **v;
	size_t n, cap;
	size_t links;
};

static int
list_add(struct list *l, const char *s)
{
	if (l->n >= RTC_DERIV_MAX_FILES)
		return RTC_ERR_TOO_BIG;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **nv = realloc(l->v, cap * sizeof(*nv));

		if (nv == NULL)
			return RTC_ERR_NOMEM;
		l->v = nv;
		l->cap = cap;
	}
	if ((l->v[l->n] = strdup(s)) == NULL)
		return RTC_ERR_NOMEM;
	l->n++;
	return RTC_OK;
}

static void
list_free(struct list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int
name_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
walk(int rootfd, const char *rel, int depth, struct list *l, char **cause)
{
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX];
	DIR *d;
	int fd, r = RTC_OK;

	if (depth > RTC_DERIV_MAX_DEPTH) {
		rtc_cause_set(cause, "%s: directories nested too deep", rel);
		return RTC_ERR_TOO_BIG;
	}
	fd = openat(rootfd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		rtc_cause_set(cause, "%s: %s", *rel ? rel : ".", strerror(errno));
		if (fd >= 0)
			close(fd);
		return RTC_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (depth == 0 && strcmp(de->d_name, MERGE_LIST) == 0)
			continue;
		if (!name_ok(de->d_name)) {
			rtc_cause_set(cause, "an output file name holds control "
			    "characters (in %s)", *rel ? rel : "the top directory");
			r = RTC_ERR_FORMAT;
			break;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", rel,
		    *rel ? "/" : "", de->d_name) >= sizeof(path)) {
			rtc_cause_set(cause, "an output path is too long");
			r = RTC_ERR_TOO_BIG;
			break;
		}
		if (fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = walk(rootfd, path, depth + 1, l, cause);
		else if (S_ISREG(st.st_mode))
			r = list_add(l, path);
		else
			l->links++;
		if (r != RTC_OK)
			break;
	}
	closedir(d);
	return r;
}

/* Read back the list written by an earlier, interrupted collect. */
static int
read_list(const char *path, struct list *l, char **cause)
{
	char *text = NULL, *p, *nl;
	size_t len;
	int r;

	r = rtc_fs_read_file(path, (size_t)RTC_DERIV_MAX_FILES * 4096, &text,
	    &len, cause);
	if (r != RTC_OK)
		return r;
	for (p = text; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		if (!rtc_fs_safe_relpath(p, strlen(p))) {
			rtc_cause_set(cause, "%s: a bad entry", path);
			r = RTC_ERR_FORMAT;
			break;
		}
		if ((r = list_add(l, p)) != RTC_OK)
			break;
	}
	free(text);
	return r;
}

static int
write_list(const char *path, const struct list *l, char **cause)
{
	struct rtc_buf b;
	size_t i;
	int r = RTC_OK;

	rtc_buf_init(&b, 0);
	for (i = 0; i < l->n && r == RTC_OK; i++)
		r = rtc_buf_printf(&b, "%s\n", l->v[i]);
	if (r == RTC_OK)
		r = rtc_fs_write_atomic(path, b.data ? b.data : "", b.len, 0600, 1,
		    cause);
	rtc_buf_free(&b);
	return r;
}

static int
parent_dir(const char *path, char **cause)
{
	char *d = strdup(path), *slash;
	int r = RTC_OK;

	if (d == NULL)
		return RTC_ERR_NOMEM;
	slash = strrchr(d, '/');
	if (slash != NULL && slash != d) {
		*slash = '\0';
		if (!rtc_fs_is_dir(d))
			r = rtc_fs_mkdir_p(d, 0777, cause);
	}
	free(d);
	return r;
}

int
rtc_derivatives_collect(const char *stage_dir, const char *out_dir,
    const char *participant, const char *manifest,
    struct rtc_derivatives_result *res, char **cause)
{
	struct rtc_derivatives_result rs;
	struct list l = { 0 };
	struct rtc_buf mf;
	char *listpath = NULL, *src = NULL, *dst = NULL;
	size_t i, owned = 0;
	int rootfd = -1, r;

	memset(&rs, 0, sizeof(rs));
	rtc_buf_init(&mf, 0);
	if (!rtc_fs_is_dir(stage_dir)) {
		if (rtc_fs_is_file(manifest)) {
			/* collected before a restart: nothing left to do */
			r = RTC_OK;
			goto done;
		}
		rtc_cause_set(cause, "the job left no output directory (%s)",
		    stage_dir);
		r = RTC_ERR_NOT_FOUND;
		goto out;
	}
	if (rtc_fs_join_safe(stage_dir, MERGE_LIST, &listpath) != RTC_OK) {
		r = RTC_ERR_NOMEM;
		goto out;
	}
	if (rtc_fs_is_file(listpath)) {
		r = read_list(listpath, &l, cause);
	} else {
		rootfd = open(stage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0) {
			rtc_cause_set(cause, "%s: %s", stage_dir, strerror(errno));
			r = RTC_ERR_IO;
			goto out;
		}
		r = walk(rootfd, "", 0, &l, cause);
		if (r == RTC_OK) {
			for (i = 0; i < l.n; i++)
				owned += rtc_derivatives_owned(l.v[i], participant);
			if (owned == 0) {
				rtc_cause_set(cause, "exit 0 but the app wrote no "
				    "outputs for sub-%s", participant);
				r = RTC_ERR_NOT_FOUND;
				goto out;
			}
			r = write_list(listpath, &l, cause);
		}
	}
	if (r != RTC_OK)
		goto out;
	rs.nlinks = l.links;
	r = rtc_buf_append_str(&mf, "path\tsize\tsha256\n");
	for (i = 0; i < l.n && r == RTC_OK; i++) {
		int mine = rtc_derivatives_owned(l.v[i], participant);
		char hex[RTC_SHA256_HEX_LEN + 1];
		unsigned long long size;

		free(src);
		free(dst);
		src = dst = NULL;
		if (rtc_fs_join_safe(stage_dir, l.v[i], &src) != RTC_OK ||
		    rtc_fs_join_safe(out_dir, l.v[i], &dst) != RTC_OK) {
			r = RTC_ERR_NOMEM;
			break;
		}
		if (rtc_fs_is_file(src)) {
			if ((r = parent_dir(dst, cause)) != RTC_OK)
				break;
			if (mine) {
				if (rename(src, dst) != 0) {
					rtc_cause_set(cause, "%s: %s", dst, strerror(errno));
					r = RTC_ERR_IO;
					break;
				}
			} else if (renameat2(AT_FDCWD, src, AT_FDCWD, dst,
			    RENAME_NOREPLACE) == 0) {
				rs.nshared++;
			} else if (errno == EEXIST) {
				rs.nkept++;
			} else {
				rtc_cause_set(cause, "%s: %s", dst, strerror(errno));
				r = RTC_ERR_IO;
				break;
			}
		}
		if (!mine)
			continue;
		r = rtc_hash_file_hex(RTC_HASH_SHA256, dst, hex, &size, cause);
		if (r != RTC_OK)
			break;
		rs.nfiles++;
		rs.bytes += (long long)size;
		r = rtc_buf_printf(&mf, "%s\t%llu\t%s\n", l.v[i], size, hex);
	}
	if (r != RTC_OK)
		goto out;
	if ((r = parent_dir(manifest, cause)) != RTC_OK)
		goto out;
	r = rtc_fs_write_atomic(manifest, mf.data, mf.len, 0644, 1, cause);
	if (r != RTC_OK)
		goto out;
	r = rtc_fs_remove_tree(stage_dir, cause);
done:
	if (r == RTC_OK && res != NULL)
		*res = rs;
out:
	if (rootfd >= 0)
		close(rootfd);
	list_free(&l);
	rtc_buf_free(&mf);
	free(listpath);
	free(src);
	free(dst);
	return r;
}
