/*
 * bids: names are parsed into at most RTC_BIDS_MAX_ENTITIES key-label
 * pairs. Extensions start at the first '.' of the base name, so
 * "x_bold.nii.gz" has extension ".nii.gz". The entity ranks follow the
 * specification's entity table (BIDS 1.9).
 */
#include "rtc_build.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bids.h"
#include "error.h"
#include "fsutil.h"

#define SIDECAR_MAX_BYTES (4 * 1024 * 1024)

static const char *const entity_order[] = {
	"sub", "ses", "sample", "task", "tracksys", "acq", "nuc", "voi", "ce",
	"trc", "stain", "rec", "dir", "run", "mod", "echo", "flip", "inv",
	"mt", "part", "proc", "hemi", "space", "split", "recording", "chunk",
	"seg", "res", "den", "label", "desc", NULL
};

static const char *const index_entities[] = {
	"run", "echo", "flip", "inv", "split", "chunk", NULL
};

int
rtc_bids_entity_rank(const char *key)
{
	int i;

	for (i = 0; entity_order[i] != NULL; i++)
		if (strcmp(entity_order[i], key) == 0)
			return i;
	return 1000;
}

int
rtc_bids_label_valid(const char *label)
{
	size_t i, n = strlen(label);

	if (n == 0 || n >= RTC_BIDS_MAX_LABEL)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)label[i]))
			return 0;
	return 1;
}

/* Entity keys are lowercase letters ("sub", "recording"). */
static int
key_valid(const char *key, size_t n)
{
	size_t i;

	if (n == 0 || n >= sizeof(((struct rtc_bids_entity *)0)->key))
		return 0;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)key[i]))
			return 0;
	return 1;
}

/* Suffixes are letters and digits ("bold", "T1w"). */
static int
suffix_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= sizeof(((struct rtc_bids_name *)0)->suffix))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return 1;
}

int
rtc_bids_name_parse(const char *base, struct rtc_bids_name *out,
    char **cause)
{
	struct rtc_bids_name n;
	const char *dot, *p, *end, *dash;
	size_t stem_len, len;

	memset(&n, 0, sizeof(n));
	if (strchr(base, '/') != NULL) {
		rtc_cause_set(cause, "'%s' is a path, not a file name", base);
		return RTC_ERR_INVAL;
	}
	dot = strchr(base, '.');
	stem_len = dot ? (size_t)(dot - base) : strlen(base);
	if (dot != NULL) {
		if (strlen(dot) >= sizeof(n.ext)) {
			rtc_cause_set(cause, "%s: extension too long", base);
			return RTC_ERR_FORMAT;
		}
		snprintf(n.ext, sizeof(n.ext), "%s", dot);
	}
	p = base;
	while (p < base + stem_len) {
		end = memchr(p, '_', (size_t)(base + stem_len - p));
		if (end == NULL)
			end = base + stem_len;
		len = (size_t)(end - p);
		dash = memchr(p, '-', len);
		if (dash == NULL) {
			/* the suffix: only allowed as the last part */
			if (end != base + stem_len || !suffix_valid(p, len)) {
				rtc_cause_set(cause, "%s: '%.*s' is not key-label",
				    base, (int)(len > 40 ? 40 : len), p);
				return RTC_ERR_FORMAT;
			}
			memcpy(n.suffix, p, len);
			n.suffix[len] = '\0';
		} else {
			char key[16], value[RTC_BIDS_MAX_LABEL];
			size_t kl = (size_t)(dash - p), vl = len - kl - 1;

			if (!key_valid(p, kl) || vl == 0 || vl >= sizeof(value)) {
				rtc_cause_set(cause, "%s: bad entity '%.*s'", base,
				    (int)(len > 40 ? 40 : len), p);
				return RTC_ERR_FORMAT;
			}
			memcpy(key, p, kl);
			key[kl] = '\0';
			memcpy(value, dash + 1, vl);
			value[vl] = '\0';
			if (!rtc_bids_label_valid(value)) {
				rtc_cause_set(cause, "%s: label '%s' of %s is not "
				    "alphanumeric", base, value, key);
				return RTC_ERR_FORMAT;
			}
			if (rtc_bids_name_get(&n, key) != NULL) {
				rtc_cause_set(cause, "%s: entity %s twice", base, key);
				return RTC_ERR_FORMAT;
			}
			if (n.n == RTC_BIDS_MAX_ENTITIES) {
				rtc_cause_set(cause, "%s: too many entities", base);
				return RTC_ERR_FORMAT;
			}
			snprintf(n.ent[n.n].key, sizeof(n.ent[n.n].key), "%s", key);
			snprintf(n.ent[n.n].value, sizeof(n.ent[n.n].value), "%s",
			    value);
			n.n++;
		}
		p = end + 1;
	}
	*out = n;
	return RTC_OK;
}

const char *
rtc_bids_name_get(const struct rtc_bids_name *n, const char *key)
{
	int i;

	for (i = 0; i < n->n; i++)
		if (strcmp(n->ent[i].key, key) == 0)
			return n->ent[i].value;
	return NULL;
}

int
rtc_bids_name_set(struct rtc_bids_name *n, const char *key,
    const char *value)
{
	int i;

	if (!key_valid(key, strlen(key)) || !rtc_bids_label_valid(value))
		return RTC_ERR_INVAL;
	for (i = 0; i < n->n; i++)
		if (strcmp(n->ent[i].key, key) == 0)
			break;
	if (i == n->n) {
		if (n->n == RTC_BIDS_MAX_ENTITIES)
			return RTC_ERR_TOO_BIG;
		n->n++;
		snprintf(n->ent[i].key, sizeof(n->ent[i].key), "%s", key);
	}
	snprintf(n->ent[i].value, sizeof(n->ent[i].value), "%s", value);
	return RTC_OK;
}

int
rtc_bids_name_format(const struct rtc_bids_name *n, char *out, size_t outsz)
{
	int order[RTC_BIDS_MAX_ENTITIES], i, j, t;
	size_t len = 0;
	int r;

	for (i = 0; i < n->n; i++)
		order[i] = i;
	/* insertion sort by rank; stable for unknown keys */
	for (i = 1; i < n->n; i++)
		for (j = i; j > 0 && rtc_bids_entity_rank(n->ent[order[j - 1]].key) >
		    rtc_bids_entity_rank(n->ent[order[j]].key); j--) {
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	if (outsz == 0)
		return RTC_ERR_TOO_BIG;
	out[0] = '\0';
	for (i = 0; i < n->n; i++) {
		r = snprintf(out + len, outsz - len, "%s%s-%s", i ? "_" : "",
		    n->ent[order[i]].key, n->ent[order[i]].value);
		if (r < 0 || (size_t)r >= outsz - len)
			return RTC_ERR_TOO_BIG;
		len += (size_t)r;
	}
	if (n->suffix[0] != '\0') {
		r = snprintf(out + len, outsz - len, "%s%s", n->n ? "_" : "",
		    n->suffix);
		if (r < 0 || (size_t)r >= outsz - len)
			return RTC_ERR_TOO_BIG;
		len += (size_t)r;
	}
	r = snprintf(out + len, outsz - len, "%s", n->ext);
	if (r < 0 || (size_t)r >= outsz - len)
		return RTC_ERR_TOO_BIG;
	return RTC_OK;
}

static int
is_index_entity(const char *key)
{
	int i;

	for (i = 0; index_entities[i] != NULL; i++)
		if (strcmp(index_entities[i], key) == 0)
			return 1;
	return 0;
}

static int
parse_index(const char *s, long *out)
{
	char *end;
	long v;

	if (*s == '\0' || !isdigit((unsigned char)*s))
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	*out = v;
	return 1;
}

int
rtc_bids_value_match(const char *key, const char *want, const char *have)
{
	long a, b;

	if (want == NULL || have == NULL)
		return 0;
	if (is_index_entity(key) && parse_index(want, &a) &&
	    parse_index(have, &b))
		return a == b;
	return strcmp(want, have) == 0;
}

int
rtc_bids_sidecar_write(const char *path, json_t *obj, char **cause)
{
	char *text;
	int r;

	text = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(10));
	if (text == NULL)
		return RTC_ERR_NOMEM;
	{
		size_t n = strlen(text);
		char *t2 = realloc(text, n + 2);

		if (t2 == NULL) {
			free(text);
			return RTC_ERR_NOMEM;
		}
		text = t2;
		text[n] = '\n';
		text[n + 1] = '\0';
	}
	r = rtc_fs_write_atomic(path, text, strlen(text), 0644, 0, cause);
	free(text);
	return r;
}

/* Does sidecar name s apply to data file name d (subset of entities, same
 * suffix)? */
static int
applies(const struct rtc_bids_name *s, const struct rtc_bids_name *d)
{
	const char *v;
	int i;

	if (strcmp(s->suffix, d->suffix) != 0 || strcmp(s->ext, ".json") != 0)
		return 0;
	for (i = 0; i < s->n; i++) {
		v = rtc_bids_name_get(d, s->ent[i].key);
		if (v == NULL || strcmp(v, s->ent[i].value) != 0)
			return 0;
	}
	return 1;
}

/* Merge every applicable sidecar in dir into acc, fewest entities first so
 * that more specific files override. */
static int
merge_dir(const char *dir, const struct rtc_bids_name *data, json_t *acc,
    char **cause)
{
	struct rtc_bids_name names[32];
	char files[32][256];
	int count = 0, i, j, r;
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? RTC_OK : RTC_ERR_IO;
	while ((de = readdir(d)) != NULL && count < 32) {
		struct rtc_bids_name n;
		size_t l = strlen(de->d_name);

		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0 ||
		    l >= sizeof(files[0]))
			continue;
		if (rtc_bids_name_parse(de->d_name, &n, NULL) != RTC_OK)
			continue;
		if (!applies(&n, data))
			continue;
		names[count] = n;
		snprintf(files[count], sizeof(files[0]), "%s", de->d_name);
		count++;
	}
	closedir(d);
	for (i = 0; i < count; i++) {
		/* pick the remaining one with the fewest entities */
		int best = -1;
		json_t *j1;
		char *path = NULL, *text = NULL;
		size_t len;
		json_error_t jerr;

		for (j = 0; j < count; j++)
			if (names[j].n >= 0 && (best < 0 || names[j].n < names[best].n))
				best = j;
		if (rtc_fs_join_safe(dir, files[best], &path) != RTC_OK)
			return RTC_ERR_NOMEM;
		names[best].n = -1;
		r = rtc_fs_read_file(path, SIDECAR_MAX_BYTES, &text, &len, cause);
		if (r != RTC_OK) {
			free(path);
			return r;
		}
		j1 = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		free(text);
		if (j1 == NULL || !json_is_object(j1)) {
			rtc_cause_set(cause, "%s: not a JSON object (%s)", path,
			    j1 == NULL ? jerr.text : "wrong type");
			json_decref(j1);
			free(path);
			return RTC_ERR_FORMAT;
		}
		free(path);
		json_object_update(acc, j1);
		json_decref(j1);
	}
	return RTC_OK;
}

int
rtc_bids_sidecar_resolve(const char *root, const char *rel, json_t **out,
    char **cause)
{
	struct rtc_bids_name data;
	const char *base, *p;
	char dir[4096];
	json_t *acc;
	int r;

	if (!rtc_fs_safe_relpath(rel, strlen(rel))) {
		rtc_cause_set(cause, "%s: not a path inside the dataset", rel);
		return RTC_ERR_INVAL;
	}
	base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	if ((r = rtc_bids_name_parse(base, &data, cause)) != RTC_OK)
		return r;
	acc = json_object();
	if (acc == NULL)
		return RTC_ERR_NOMEM;
	/* root, then each directory on the way down to the file */
	if ((size_t)snprintf(dir, sizeof(dir), "%s", root) >= sizeof(dir)) {
		json_decref(acc);
		return RTC_ERR_TOO_BIG;
	}
	r = merge_dir(dir, &data, acc, cause);
	for (p = rel; r == RTC_OK && (p = strchr(p, '/')) != NULL; p++) {
		if ((size_t)snprintf(dir, sizeof(dir), "%s/%.*s", root,
		    (int)(p - rel), rel) >= sizeof(dir)) {
			r = RTC_ERR_TOO_BIG;
			break;
		}
		r = merge_dir(dir, &data, acc, cause);
	}
	if (r != RTC_OK) {
		json_decref(acc);
		return r;
	}
	*out = acc;
	return RTC_OK;
}
