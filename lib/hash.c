/*
 * hash: thin wrappers over OpenSSL EVP_MD_CTX.
 */
#include "rtc_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "error.h"
#include "hash.h"

struct rtc_hash {
	EVP_MD_CTX *md;
};

struct rtc_hash *
rtc_hash_new(enum rtc_hash_kind kind)
{
	struct rtc_hash *h;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->md = EVP_MD_CTX_new();
	if (h->md == NULL || EVP_DigestInit_ex(h->md, kind == RTC_HASH_MD5 ?
	    EVP_md5() : EVP_sha256(), NULL) != 1) {
		rtc_hash_free(h);
		return NULL;
	}
	return h;
}

int
rtc_hash_update(struct rtc_hash *h, const void *p, size_t n)
{
	return EVP_DigestUpdate(h->md, p, n) == 1 ? RTC_OK : RTC_ERR_INTERNAL;
}

int
rtc_hash_final_raw(struct rtc_hash *h, unsigned char *out, size_t *n)
{
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(h->md, out, &len) != 1)
		return RTC_ERR_INTERNAL;
	*n = len;
	return RTC_OK;
}

int
rtc_hash_final_hex(struct rtc_hash *h, char *hex)
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	size_t n;
	int r;

	if ((r = rtc_hash_final_raw(h, raw, &n)) != RTC_OK)
		return r;
	rtc_hex_encode(raw, n, hex);
	return RTC_OK;
}

void
rtc_hash_free(struct rtc_hash *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}

void
rtc_hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
oneshot(enum rtc_hash_kind kind, const void *p, size_t n, char *hex)
{
	struct rtc_hash *h = rtc_hash_new(kind);
	int r;

	if (h == NULL)
		return RTC_ERR_NOMEM;
	r = rtc_hash_update(h, p, n);
	if (r == RTC_OK)
		r = rtc_hash_final_hex(h, hex);
	rtc_hash_free(h);
	return r;
}

int
rtc_sha256_hex(const void *p, size_t n, char *hex)
{
	return oneshot(RTC_HASH_SHA256, p, n, hex);
}

int
rtc_md5_hex(const void *p, size_t n, char *hex)
{
	return oneshot(RTC_HASH_MD5, p, n, hex);
}

int
rtc_hash_file_hex(enum rtc_hash_kind kind, const char *path, char *hex,
    unsigned long long *size, char **cause)
{
	struct rtc_hash *h = NULL;
	unsigned long long total = 0;
	char *block = NULL;
	ssize_t r;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rtc_cause_set(cause, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? RTC_ERR_NOT_FOUND : RTC_ERR_IO;
	}
	h = rtc_hash_new(kind);
	block = malloc(1 << 16);
	if (h == NULL || block == NULL) {
		ret = RTC_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		r = read(fd, block, 1 << 16);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rtc_cause_set(cause, "%s: %s", path, strerror(errno));
			ret = RTC_ERR_IO;
			goto out;
		}
		if (r == 0)
			break;
		rtc_hash_update(h, block, (size_t)r);
		total += (unsigned long long)r;
	}
	ret = rtc_hash_final_hex(h, hex);
	if (ret == RTC_OK && size != NULL)
		*size = total;
out:
	free(block);
	rtc_hash_free(h);
	close(fd);
	return ret;
}
