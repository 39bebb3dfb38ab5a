/*
 * hash: SHA-256 and MD5 (for S3 ETags) of buffers and files via OpenSSL's
 * EVP interface, as lowercase hex.
 */
#ifndef RTC_HASH_H
#define RTC_HASH_H

#include <stddef.h>

#define RTC_SHA256_HEX_LEN 64
#define RTC_MD5_HEX_LEN 32

struct rtc_hash;   /* an incremental digest */

enum rtc_hash_kind { RTC_HASH_SHA256, RTC_HASH_MD5 };

/* RET: a new digest context or NULL. Free with rtc_hash_free(). */
struct rtc_hash *rtc_hash_new(enum rtc_hash_kind kind);
int rtc_hash_update(struct rtc_hash *h, const void *p, size_t n);
/* OUT: hex, at least 65 bytes. The context may not be updated after. */
int rtc_hash_final_hex(struct rtc_hash *h, char *hex);
/* OUT: raw digest (32 or 16 bytes); *n its length. */
int rtc_hash_final_raw(struct rtc_hash *h, unsigned char *out, size_t *n);
void rtc_hash_free(struct rtc_hash *h);

/* One-shot digests of a buffer. OUT: hex (65 bytes). */
int rtc_sha256_hex(const void *p, size_t n, char *hex);
int rtc_md5_hex(const void *p, size_t n, char *hex);

/* Digest of a whole file, read in blocks. OUT: hex; *size when non-NULL. */
int rtc_hash_file_hex(enum rtc_hash_kind kind, const char *path, char *hex,
    unsigned long long *size, char **cause);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void rtc_hex_encode(const unsigned char *p, size_t n, char *out);

#endif
