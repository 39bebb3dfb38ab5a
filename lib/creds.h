/*
 * creds: AWS credentials and region, found the way the AWS tools find
 * them: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN in
 * the environment, else the shared credentials file
 * ($AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials) for the profile
 * (--profile, $AWS_PROFILE, $AWS_DEFAULT_PROFILE, rtc.conf s3.profile,
 * "default"), else none: anonymous requests. --no-sign forces anonymous.
 *
 * Region: the option, $AWS_REGION, $AWS_DEFAULT_REGION, rtc.conf
 * s3.region, the profile's region in $AWS_CONFIG_FILE or ~/.aws/config,
 * then "us-east-1".
 *
 * The secret key and session token never reach a log line; freeing the
 * struct wipes them.
 */
#ifndef RTC_CREDS_H
#define RTC_CREDS_H

#include "ctx.h"

#define RTC_CREDS_FILE_MAX (1024 * 1024)

struct rtc_creds {
	char *access_key;      /* NULL when anonymous */
	char *secret_key;      /* NULL when anonymous */
	char *session_token;   /* NULL when none */
	char *region;          /* never NULL */
	int anonymous;         /* requests go unsigned */
	const char *source;    /* "--no-sign", "environment", "credentials
	                        * file", "none": static text for messages */
};

struct rtc_creds_opts {
	const char *profile;   /* NULL: from the environment or config */
	const char *region;    /* NULL: from the environment or config */
	int no_sign;           /* anonymous whatever is configured */
};

/*
 * Find credentials and region. IN: ctx (for rtc.conf and debug lines),
 * o (may be NULL: defaults). OUT: *out, freed with rtc_creds_free().
 * RET: RTC_OK; RTC_ERR_AUTH when a profile was named (by option, the
 * environment or rtc.conf) but the credentials file lacks it, or when only
 * one of the key pair is set; RTC_ERR_FORMAT for a malformed file;
 * RTC_ERR_NOMEM. *cause never holds a secret.
 */
int rtc_creds_load(struct rtc_ctx *ctx, const struct rtc_creds_opts *o,
    struct rtc_creds **out, char **cause);

/* Make credentials from given values (tests, callers with their own
 * source). access/secret NULL means anonymous. RET: NULL on no memory. */
struct rtc_creds *rtc_creds_new(const char *access_key, const char *secret_key,
    const char *session_token, const char *region);

/* Wipe and free. NULL is a no-op. */
void rtc_creds_free(struct rtc_creds *c);

/*
 * Look a key up in an INI-style AWS file text (credentials or config):
 * "[section]" headers, "key = value" lines, '#' and ';' comments.
 * IN: text/len, section, key. OUT: *value (malloc'd) when found.
 * RET: RTC_OK, RTC_ERR_NOT_FOUND (no such section or key: *value
 * untouched), RTC_ERR_FORMAT (a malformed line, *cause says which line),
 * RTC_ERR_NOMEM. Exposed for tests.
 */
int rtc_creds_ini_get(const char *text, size_t len, const char *section,
    const char *key, char **value, char **cause);

/* RET: nonzero when the section exists in the text. */
int rtc_creds_ini_has_section(const char *text, size_t len,
    const char *section);

#endif
