/*
 * config: TOML files (rtc.conf, project.toml) read with libcpptoml and
 * handed to C as a jansson tree: tables are objects, arrays are arrays,
 * strings/integers/floats/booleans map to their JSON kinds, and TOML dates
 * and times become ISO-8601 strings.
 *
 * Lookups take dotted paths ("pipeline.smooth.fwhm_mm") and check types;
 * a wrong type is an error that names the key, never a silent default.
 */
#ifndef RTC_CONFIG_H
#define RTC_CONFIG_H

#include <stddef.h>

#include <jansson.h>

#define RTC_CONFIG_MAX_BYTES (1024 * 1024)
#define RTC_CONFIG_MAX_DEPTH 32

/*
 * Parse TOML text. IN: text/len (need not be NUL-terminated), name (for
 * messages). OUT: *out, a new reference the caller json_decref()s.
 * RET: RTC_OK, RTC_ERR_FORMAT (*cause says where), RTC_ERR_TOO_BIG.
 */
int rtc_config_parse(const char *text, size_t len, const char *name,
    json_t **out, char **cause);

/* Read and parse a TOML file (at most RTC_CONFIG_MAX_BYTES). */
int rtc_config_load(const char *path, json_t **out, char **cause);

/* RET: the node at a dotted path, borrowed, or NULL when absent. */
json_t *rtc_config_get(json_t *root, const char *path);

/*
 * Typed lookups. OUT: *out on success only. RET: RTC_OK; RTC_ERR_NOT_FOUND
 * when absent (out untouched, so a preset default stays); RTC_ERR_INVAL
 * with *cause when present with the wrong type. Integers are accepted
 * where a double is asked for.
 */
int rtc_config_string(json_t *root, const char *path, const char **out,
    char **cause);
int rtc_config_int(json_t *root, const char *path, long long *out,
    char **cause);
int rtc_config_double(json_t *root, const char *path, double *out,
    char **cause);
int rtc_config_bool(json_t *root, const char *path, int *out, char **cause);

/*
 * Check that every key of the table at path is one of the NULL-terminated
 * list known. RET: RTC_OK, or RTC_ERR_INVAL naming the first unknown key.
 */
int rtc_config_check_keys(json_t *root, const char *path,
    const char *const *known, char **cause);

#endif
