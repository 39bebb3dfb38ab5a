/*
 * config: file loading and typed, dotted-path lookups over the jansson tree
 * made by config_toml.cc.
 */
#include "rtc_build.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "fsutil.h"

int rtc_config_toml_parse(const char *text, size_t len, const char *name,
    json_t **out, char **cause);

int
rtc_config_parse(const char *text, size_t len, const char *name,
    json_t **out, char **cause)
{
	return rtc_config_toml_parse(text, len, name ? name : "<string>", out,
	    cause);
}

int
rtc_config_load(const char *path, json_t **out, char **cause)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	r = rtc_fs_read_file(path, RTC_CONFIG_MAX_BYTES, &text, &len, cause);
	if (r != RTC_OK)
		return r;
	r = rtc_config_parse(text, len, path, out, cause);
	free(text);
	return r;
}

json_t *
rtc_config_get(json_t *root, const char *path)
{
	char key[256];
	const char *p = path, *dot;
	size_t n;
	json_t *node = root;

	while (node != NULL && *p != '\0') {
		if (!json_is_object(node))
			return NULL;
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		node = json_object_get(node, key);
		p += n;
		if (*p == '.')
			p++;
	}
	return node;
}

static int
wrong_type(const char *path, const char *want, char **cause)
{
	rtc_cause_set(cause, "%s: expected %s", path, want);
	return RTC_ERR_INVAL;
}

int
rtc_config_string(json_t *root, const char *path, const char **out,
    char **cause)
{
	json_t *v = rtc_config_get(root, path);

	if (v == NULL)
		return RTC_ERR_NOT_FOUND;
	if (!json_is_string(v))
		return wrong_type(path, "a string", cause);
	*out = json_string_value(v);
	return RTC_OK;
}

int
rtc_config_int(json_t *root, const char *path, long long *out, char **cause)
{
	json_t *v = rtc_config_get(root, path);

	if (v == NULL)
		return RTC_ERR_NOT_FOUND;
	if (!json_is_integer(v))
		return wrong_type(path, "an integer", cause);
	*out = json_integer_value(v);
	return RTC_OK;
}

int
rtc_config_double(json_t *root, const char *path, double *out, char **cause)
{
	json_t *v = rtc_config_get(root, path);

	if (v == NULL)
		return RTC_ERR_NOT_FOUND;
	if (!json_is_number(v))
		return wrong_type(path, "a number", cause);
	*out = json_number_value(v);
	return RTC_OK;
}

int
rtc_config_bool(json_t *root, const char *path, int *out, char **cause)
{
	json_t *v = rtc_config_get(root, path);

	if (v == NULL)
		return RTC_ERR_NOT_FOUND;
	if (!json_is_boolean(v))
		return wrong_type(path, "true or false", cause);
	*out = json_is_true(v);
	return RTC_OK;
}

int
rtc_config_check_keys(json_t *root, const char *path,
    const char *const *known, char **cause)
{
	json_t *t = path && *path ? rtc_config_get(root, path) : root;
	const char *key;
	json_t *v;
	size_t i;

	if (t == NULL)
		return RTC_OK;
	if (!json_is_object(t))
		return wrong_type(path, "a table", cause);
	json_object_foreach(t, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL) {
			if (path && *path)
				rtc_cause_set(cause, "unknown key %s.%s", path, key);
			else
				rtc_cause_set(cause, "unknown key %s", key);
			return RTC_ERR_INVAL;
		}
	}
	return RTC_OK;
}
