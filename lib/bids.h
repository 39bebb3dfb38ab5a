/*
 * bids: BIDS file names (entities, suffix, extension), entity matching the
 * way BIDS means it, sidecar JSON writing, and the inheritance principle
 * for reading a data file's metadata.
 */
#ifndef RTC_BIDS_H
#define RTC_BIDS_H

#include <stddef.h>

#include <jansson.h>

#define RTC_BIDS_MAX_ENTITIES 16
#define RTC_BIDS_MAX_LABEL 64

struct rtc_bids_entity {
	char key[16];
	char value[RTC_BIDS_MAX_LABEL];
};

struct rtc_bids_name {
	int n;
	struct rtc_bids_entity ent[RTC_BIDS_MAX_ENTITIES];
	char suffix[32];      /* "bold", "T1w", "events"; "" when none */
	char ext[24];         /* ".nii.gz", ".json"; "" when none */
};

/*
 * Parse a file's base name ("sub-01_task-rest_run-1_bold.nii.gz").
 * OUT: *out. RET: RTC_OK; RTC_ERR_FORMAT when a part is not key-label,
 * a label is not alphanumeric, a key repeats, or parts are too long.
 */
int rtc_bids_name_parse(const char *base, struct rtc_bids_name *out,
    char **cause);

/* Format with entities in the specification's order, then _suffix and ext.
 * RET: RTC_OK or RTC_ERR_TOO_BIG. */
int rtc_bids_name_format(const struct rtc_bids_name *n, char *out,
    size_t outsz);

/* RET: the value of entity key, or NULL. */
const char *rtc_bids_name_get(const struct rtc_bids_name *n, const char *key);

/* Set or replace an entity. RET: RTC_OK, RTC_ERR_INVAL (bad key/label),
 * RTC_ERR_TOO_BIG (too many entities). */
int rtc_bids_name_set(struct rtc_bids_name *n, const char *key,
    const char *value);

/* RET: nonzero for a valid label (letters and digits, 1..63 chars). */
int rtc_bids_label_valid(const char *label);

/* RET: the specification's rank of an entity key (sub=0, ses=1, ...), or
 * a large number for keys it does not list. */
int rtc_bids_entity_rank(const char *key);

/*
 * RET: nonzero when a file's value "have" matches a requested "want" for
 * entity key: index entities (run, echo, flip, inv, split, chunk) compare
 * as numbers, so want "1" matches "1" and "01" but never "10"; labels
 * compare exactly.
 */
int rtc_bids_value_match(const char *key, const char *want, const char *have);

/* Write a sidecar (2-space indent, keys in insertion order) atomically. */
int rtc_bids_sidecar_write(const char *path, json_t *obj, char **cause);

/*
 * Metadata of a data file by the inheritance principle: every .json with
 * the same suffix whose entities are a subset of the file's, from the
 * dataset root down to the file's directory, later ones overriding.
 * IN: root (dataset directory), rel (data file path relative to root).
 * OUT: *out, a new object (possibly empty). RET: RTC_OK or an error.
 */
int rtc_bids_sidecar_resolve(const char *root, const char *rel, json_t **out,
    char **cause);

#endif
