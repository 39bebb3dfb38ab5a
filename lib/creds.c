/*
 * creds: the lookup order is written out in creds.h. The AWS files are
 * INI text, read whole (capped at RTC_CREDS_FILE_MAX) and scanned line by
 * line; nested sub-sections of ~/.aws/config (indented lines under a
 * "key =" line) are skipped. Secrets are wiped with OPENSSL_cleanse.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config.h"
#include "creds.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void
rtc_creds_free(struct rtc_creds *c)
{
	if (c == NULL)
		return;
	free(c->access_key);
	wipe_free(c->secret_key);
	wipe_free(c->session_token);
	free(c->region);
	free(c);
}

struct rtc_creds *
rtc_creds_new(const char *access_key, const char *secret_key,
    const char *session_token, const char *region)
{
	struct rtc_creds *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->region = strdup(region != NULL && *region ? region : "us-east-1");
	if (c->region == NULL)
		goto fail;
	if (access_key == NULL || secret_key == NULL) {
		c->anonymous = 1;
		c->source = "none";
		return c;
	}
	c->access_key = strdup(access_key);
	c->secret_key = strdup(secret_key);
	if (c->access_key == NULL || c->secret_key == NULL)
		goto fail;
	if (session_token != NULL && *session_token != '\0' &&
	    (c->session_token = strdup(session_token)) == NULL)
		goto fail;
	c->source = "given";
	return c;
fail:
	rtc_creds_free(c);
	return NULL;
}

static void
trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/*
 * Walk the text; call back for each key in the matching section. When
 * key is NULL, only report whether the section exists (RTC_OK/NOT_FOUND).
 */
static int
ini_scan(const char *text, size_t len, const char *section, const char *key,
    char **value, char **cause)
{
	const char *p = text, *end = text + len;
	int in = 0, lineno = 0, seen = 0, nested = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *ls = p, *le = nl ? nl : end, *eq;
		int indented;

		p = nl ? nl + 1 : end;
		lineno++;
		if (memchr(ls, '\0', (size_t)(le - ls)) != NULL) {
			rtc_cause_set(cause, "line %d: NUL byte", lineno);
			return RTC_ERR_FORMAT;
		}
		indented = ls < le && (*ls == ' ' || *ls == '\t');
		trim(&ls, &le);
		if (ls == le || *ls == '#' || *ls == ';')
			continue;
		if (*ls == '[') {
			const char *ns = ls + 1, *ne = le - 1;

			if (le - ls < 2 || *ne != ']') {
				rtc_cause_set(cause, "line %d: bad section header",
				    lineno);
				return RTC_ERR_FORMAT;
			}
			trim(&ns, &ne);
			in = strlen(section) == (size_t)(ne - ns) &&
			    memcmp(ns, section, (size_t)(ne - ns)) == 0;
			seen |= in;
			nested = 0;
			continue;
		}
		if (indented && nested)
			continue;     /* sub-key of a nested section */
		eq = memchr(ls, '=', (size_t)(le - ls));
		if (eq == NULL) {
			rtc_cause_set(cause, "line %d: expected 'key = value'",
			    lineno);
			return RTC_ERR_FORMAT;
		}
		{
			const char *ks = ls, *ke = eq, *vs = eq + 1, *ve = le;

			trim(&ks, &ke);
			trim(&vs, &ve);
			nested = vs == ve;
			if (!in || key == NULL || strlen(key) != (size_t)(ke - ks) ||
			    memcmp(ks, key, (size_t)(ke - ks)) != 0)
				continue;
			*value = strndup(vs, (size_t)(ve - vs));
			return *value != NULL ? RTC_OK : RTC_ERR_NOMEM;
		}
	}
	if (key == NULL && seen)
		return RTC_OK;
	return RTC_ERR_NOT_FOUND;
}

int
rtc_creds_ini_get(const char *text, size_t len, const char *section,
    const char *key, char **value, char **cause)
{
	if (text == NULL || section == NULL || key == NULL)
		return RTC_ERR_INVAL;
	return ini_scan(text, len, section, key, value, cause);
}

int
rtc_creds_ini_has_section(const char *text, size_t len, const char *section)
{
	return ini_scan(text, len, section, NULL, NULL, NULL) == RTC_OK;
}

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* "$HOME/.aws/<base>" or the variable's value. RET: malloc'd or NULL. */
static char *
aws_file(const char *var, const char *base)
{
	const char *v = env_nonempty(var), *home;
	char buf[4096];

	if (v != NULL)
		return strdup(v);
	home = env_nonempty("HOME");
	if (home == NULL)
		return NULL;
	if ((size_t)snprintf(buf, sizeof(buf), "%s/.aws/%s", home, base) >=
	    sizeof(buf))
		return NULL;
	return strdup(buf);
}

static const char *
conf_string(struct rtc_ctx *ctx, const char *path)
{
	const char *s = NULL;

	if (ctx != NULL && ctx->conf != NULL &&
	    rtc_config_string(ctx->conf, path, &s, NULL) == RTC_OK &&
	    s != NULL && *s != '\0')
		return s;
	return NULL;
}

/* The profile's region from the config file, or NULL. */
static char *
region_from_config(const char *profile)
{
	char *path = aws_file("AWS_CONFIG_FILE", "config"), *text = NULL;
	char *v = NULL, sect[300];
	size_t len;

	if (path == NULL)
		return NULL;
	if (rtc_fs_read_file(path, RTC_CREDS_FILE_MAX, &text, &len, NULL) ==
	    RTC_OK) {
		if (strcmp(profile, "default") == 0)
			snprintf(sect, sizeof(sect), "default");
		else
			snprintf(sect, sizeof(sect), "profile %s", profile);
		if (rtc_creds_ini_get(text, len, sect, "region", &v, NULL) !=
		    RTC_OK)
			v = NULL;
	}
	free(path);
	free(text);
	return v;
}

int
rtc_creds_load(struct rtc_ctx *ctx, const struct rtc_creds_opts *o,
    struct rtc_creds **out, char **cause)
{
	struct rtc_creds_opts none = { NULL, NULL, 0 };
	struct rtc_creds *c = NULL;
	const char *ak, *sk, *profile, *region;
	char *path = NULL, *text = NULL, *v = NULL;
	int named = 1, r;
	size_t len = 0;

	if (o == NULL)
		o = &none;
	profile = o->profile;
	if (profile == NULL)
		profile = env_nonempty("AWS_PROFILE");
	if (profile == NULL)
		profile = env_nonempty("AWS_DEFAULT_PROFILE");
	if (profile == NULL)
		profile = conf_string(ctx, "s3.profile");
	if (profile == NULL) {
		profile = "default";
		named = 0;
	}

	region = o->region;
	if (region == NULL)
		region = env_nonempty("AWS_REGION");
	if (region == NULL)
		region = env_nonempty("AWS_DEFAULT_REGION");
	if (region == NULL)
		region = conf_string(ctx, "s3.region");
	if (region == NULL)
		v = region_from_config(profile);
	c = rtc_creds_new(NULL, NULL, NULL, region ? region : v);
	free(v);
	v = NULL;
	if (c == NULL)
		return RTC_ERR_NOMEM;

	if (o->no_sign) {
		c->source = "--no-sign";
		goto done;
	}
	ak = env_nonempty("AWS_ACCESS_KEY_ID");
	sk = env_nonempty("AWS_SECRET_ACCESS_KEY");
	if ((ak == NULL) != (sk == NULL)) {
		rtc_cause_set(cause, "%s is set but %s is not",
		    ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		rtc_creds_free(c);
		return RTC_ERR_AUTH;
	}
	if (ak != NULL) {
		c->access_key = strdup(ak);
		c->secret_key = strdup(sk);
		if (env_nonempty("AWS_SESSION_TOKEN") != NULL)
			c->session_token = strdup(getenv("AWS_SESSION_TOKEN"));
		if (c->access_key == NULL || c->secret_key == NULL ||
		    (env_nonempty("AWS_SESSION_TOKEN") && !c->session_token)) {
			rtc_creds_free(c);
			return RTC_ERR_NOMEM;
		}
		c->anonymous = 0;
		c->source = "environment";
		goto done;
	}

	path = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	r = path ? rtc_fs_read_file(path, RTC_CREDS_FILE_MAX, &text, &len,
	    NULL) : RTC_ERR_NOT_FOUND;
	/* the whole file is checked: a malformed line anywhere is an error,
	 * not a reason to go on without credentials */
	if (r == RTC_OK &&
	    (r = ini_scan(text, len, profile, NULL, NULL, cause)) ==
	    RTC_ERR_FORMAT) {
		rtc_cause_wrap(cause, "%s", path);
		goto fail;
	}
	if (r == RTC_OK) {
		char *a = NULL, *s = NULL, *t = NULL;

		r = rtc_creds_ini_get(text, len, profile, "aws_access_key_id",
		    &a, cause);
		if (r == RTC_OK)
			r = rtc_creds_ini_get(text, len, profile,
			    "aws_secret_access_key", &s, cause);
		if (r == RTC_OK && rtc_creds_ini_get(text, len, profile,
		    "aws_session_token", &t, NULL) != RTC_OK)
			t = NULL;
		if (r != RTC_OK) {
			if (r == RTC_ERR_NOT_FOUND) {
				rtc_cause_set(cause, "%s: profile [%s] lacks "
				    "aws_access_key_id or aws_secret_access_key",
				    path, profile);
				r = RTC_ERR_AUTH;
			} else {
				rtc_cause_wrap(cause, "%s", path);
			}
			free(a);
			wipe_free(s);
			goto fail;
		}
		c->access_key = a;
		c->secret_key = s;
		c->session_token = t;
		c->anonymous = 0;
		c->source = "credentials file";
		goto done;
	}
	if (r == RTC_OK || r == RTC_ERR_NOT_FOUND) {
		if (named) {
			rtc_cause_set(cause, "profile '%s' not found in %s",
			    profile, path ? path : "~/.aws/credentials");
			r = RTC_ERR_AUTH;
			goto fail;
		}
		c->source = "none";
		goto done;
	}
	rtc_cause_set(cause, "%s: cannot read the credentials file", path);
	goto fail;
done:
	/* the key id is shown by its last four characters only */
	rtc_debug(ctx, S3, "credentials: %s%s%s, region %s", c->source,
	    c->anonymous ? " (anonymous requests)" : ", key id ...",
	    c->anonymous ? "" : c->access_key + (strlen(c->access_key) > 4 ?
	    strlen(c->access_key) - 4 : strlen(c->access_key)), c->region);
	if (text != NULL)
		OPENSSL_cleanse(text, len);
	free(text);
	free(path);
	*out = c;
	return RTC_OK;
fail:
	if (text != NULL)
		OPENSSL_cleanse(text, len);
	free(text);
	free(path);
	rtc_creds_free(c);
	return r;
}
