/*
 * glob: --include/--exclude patterns for dataset paths, with the
 * .gitignore-like meaning openneuro-py gives them:
 *
 *   - "*", "?" and "[...]" match within one path component; "**" as a
 *     whole component matches any number of components;
 *   - a pattern without '/' (not counting a trailing one) matches the
 *     base name at any depth ("*.tsv" matches every TSV);
 *   - every pattern also matches everything below a directory it names
 *     ("sub-01" and "sub-01/anat" take whole trees);
 *   - a leading '/' anchors the pattern at the dataset root;
 *   - wildcards never match a leading '.' of a component: hidden files
 *     need an explicit '.' ("**\/.*").
 *
 * A set of patterns decides which files to fetch; for BIDS datasets
 * every top-level file (dataset_description.json, participants.*,
 * README, CHANGES, .bidsignore, top-level sidecars) is always fetched,
 * but not top-level folders (derivatives/, sourcedata/, ...) unless an
 * include names them.
 */
#ifndef RTC_GLOB_H
#define RTC_GLOB_H

#include <stddef.h>

#define RTC_GLOB_PATTERN_MAX 1024

struct rtc_glob_set;

/* RET: nonzero when path (relative, '/'-separated) matches pattern. */
int rtc_glob_match(const char *pattern, const char *path);

/* RET: nonzero when some file below directory dir (relative, no
 * trailing '/') could match pattern: used to skip listing a folder. A
 * bare literal without a '.' ("sub-01") counts as a top-level folder. */
int rtc_glob_dir_may_match(const char *pattern, const char *dir);

/* RET: nonzero when every file below dir matches pattern. */
int rtc_glob_dir_covered(const char *pattern, const char *dir);

/*
 * IN: include/exclude pattern lists (copied); bids_toplevel: always take
 * top-level files. OUT: *out, freed with rtc_glob_set_free(). RET: RTC_OK,
 * RTC_ERR_INVAL (an empty or over-long pattern, or one with NUL or '\\'
 * at its end: *cause names it), RTC_ERR_NOMEM.
 */
int rtc_glob_set_new(const char *const *include, size_t ninclude,
    const char *const *exclude, size_t nexclude, int bids_toplevel,
    struct rtc_glob_set **out, char **cause);
void rtc_glob_set_free(struct rtc_glob_set *g);

/* RET: nonzero when path is to be fetched. Counts include matches. */
int rtc_glob_set_wants(struct rtc_glob_set *g, const char *path);

/* RET: nonzero when the folder dir may hold wanted files. */
int rtc_glob_set_wants_dir(const struct rtc_glob_set *g, const char *dir);

/* RET: the first include pattern that matched no path so far, or NULL. */
const char *rtc_glob_set_unmatched(const struct rtc_glob_set *g);

#endif
