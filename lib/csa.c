/*
 * csa: the Siemens CSA header parser and writer (see csa.h).
 *
 * Design: one pass over the blob with a cursor that never moves past the
 * end: every fixed-size read first asks need(n). The whole result lives in
 * three allocations made up front from the blob's size: the element array
 * (count from the header, capped), the item-pointer array and an arena
 * for the item text (an item header takes 16 bytes, so a blob of len
 * bytes holds at most len/16 items, and their text at most len bytes plus
 * one NUL each). Nothing in the blob can make us allocate more than about
 * twice its size.
 *
 * Layout (little endian):
 *   CSA2: "SV10" 04 03 02 01, u32 n_elements, u32 77
 *   CSA1: u32 n_elements, u32 unused
 *   element: char name[64], i32 vm, char vr[4], i32 syngodt,
 *            i32 n_items, i32 77|205
 *   item: i32 x0, x1, x2, x3, then the value text padded to 4 bytes.
 *         CSA2: length = x1. CSA1: length = x0 - n_items of element 1
 *         (an oddity of that format, as documented by nibabel).
 * Items past vm (when vm > 0) are placeholders and are skipped; empty
 * items carry no value.
 */
#include "rtc_build.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csa.h"
#include "error.h"

struct cursor {
	const unsigned char *p;
	size_t len;
	size_t off;
};

static int
need(const struct cursor *c, size_t n)
{
	return n <= c->len - c->off;
}

static uint32_t
rd_u32(struct cursor *c)
{
	const unsigned char *q = c->p + c->off;

	c->off += 4;
	return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
	    (uint32_t)q[3] << 24;
}

static int32_t
rd_i32(struct cursor *c)
{
	uint32_t u = rd_u32(c);
	int32_t v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

/* Copy at most n bytes of s up to the first NUL into dst, strip trailing
 * blanks, terminate. RET: the length kept. */
static size_t
copy_text(char *dst, const unsigned char *s, size_t n)
{
	size_t k = 0;

	while (k < n && s[k] != '\0') {
		dst[k] = (char)s[k];
		k++;
	}
	while (k > 0 && (dst[k - 1] == ' ' || dst[k - 1] == '\t' ||
	    dst[k - 1] == '\n' || dst[k - 1] == '\r'))
		k--;
	dst[k] = '\0';
	return k;
}

void
rtc_csa_free(struct rtc_csa *csa)
{
	if (csa == NULL)
		return;
	free(csa->elem);
	free(csa->arena);
	free(csa->itemv);
	free(csa);
}

int
rtc_csa_parse(const void *buf, size_t len, struct rtc_csa **out, char **cause)
{
	struct cursor c = { buf, len, 0 };
	struct rtc_csa *csa = NULL;
	size_t nelem, arena_used = 0, items_used = 0, max_items, e;
	int32_t tag1_items = 0;
	int ret;

	if (buf == NULL && len > 0)
		return RTC_ERR_INVAL;
	if (len > RTC_CSA_MAX_BYTES) {
		rtc_cause_set(cause, "CSA header of %zu bytes is over the "
		    "%u-byte cap", len, RTC_CSA_MAX_BYTES);
		return RTC_ERR_TOO_BIG;
	}
	csa = calloc(1, sizeof(*csa));
	if (csa == NULL)
		return RTC_ERR_NOMEM;
	if (len >= 8 && memcmp(buf, "SV10", 4) == 0) {
		csa->version = 2;
		c.off = 8;
	} else
		csa->version = 1;
	if (!need(&c, 8)) {
		rtc_cause_set(cause, "CSA header too short (%zu bytes)", len);
		ret = RTC_ERR_FORMAT;
		goto out;
	}
	nelem = rd_u32(&c);
	(void)rd_u32(&c);
	if (nelem == 0 || nelem > RTC_CSA_MAX_ELEMS) {
		rtc_cause_set(cause, "CSA header claims %zu elements (1..%u "
		    "allowed)", nelem, RTC_CSA_MAX_ELEMS);
		ret = RTC_ERR_FORMAT;
		goto out;
	}
	/* each element header is 84 bytes: a claim the blob cannot hold is
	 * refused before we allocate for it */
	if (nelem > (len - c.off) / 84) {
		rtc_cause_set(cause, "CSA header claims %zu elements but has "
		    "room for %zu", nelem, (len - c.off) / 84);
		ret = RTC_ERR_FORMAT;
		goto out;
	}
	max_items = len / 16 + 1;
	csa->elem = calloc(nelem, sizeof(*csa->elem));
	csa->itemv = calloc(max_items, sizeof(*csa->itemv));
	csa->arena = malloc(len + max_items + 1);
	if (csa->elem == NULL || csa->itemv == NULL || csa->arena == NULL) {
		ret = RTC_ERR_NOMEM;
		goto out;
	}
	for (e = 0; e < nelem; e++) {
		struct rtc_csa_elem *el = &csa->elem[e];
		int32_t vm, nitems, i, keep;
		size_t at = c.off;

		if (!need(&c, 84)) {
			rtc_cause_set(cause, "CSA element %zu header at byte "
			    "%zu runs past the end (%zu bytes)", e, at, len);
			ret = RTC_ERR_FORMAT;
			goto out;
		}
		copy_text(el->name, c.p + c.off, RTC_CSA_NAME_MAX);
		c.off += RTC_CSA_NAME_MAX;
		vm = rd_i32(&c);
		copy_text(el->vr, c.p + c.off, 4);
		c.off += 4;
		el->syngodt = rd_i32(&c);
		nitems = rd_i32(&c);
		(void)rd_i32(&c);
		if (vm < 0 || nitems < 0 || (uint32_t)nitems > RTC_CSA_MAX_ITEMS) {
			rtc_cause_set(cause, "CSA element %zu (%s) has vm %d and "
			    "%d items (0..%u allowed)", e, el->name, (int)vm,
			    (int)nitems, RTC_CSA_MAX_ITEMS);
			ret = RTC_ERR_FORMAT;
			goto out;
		}
		el->vm = vm;
		if (e == 1)
			tag1_items = nitems;
		keep = vm > 0 ? vm : nitems;
		el->items = csa->itemv + items_used;
		for (i = 0; i < nitems; i++) {
			int32_t x0, x1;
			int64_t ilen;
			size_t k, pad;

			if (!need(&c, 16)) {
				rtc_cause_set(cause, "CSA element %s item %d "
				    "header at byte %zu runs past the end",
				    el->name, (int)i, c.off);
				ret = RTC_ERR_FORMAT;
				goto out;
			}
			x0 = rd_i32(&c);
			x1 = rd_i32(&c);
			(void)rd_i32(&c);
			(void)rd_i32(&c);
			if (csa->version == 2)
				ilen = x1;
			else
				ilen = (int64_t)x0 - tag1_items;
			if (ilen < 0 || !need(&c, (size_t)ilen)) {
				rtc_cause_set(cause, "CSA element %s item %d "
				    "claims %lld bytes at byte %zu; %zu remain",
				    el->name, (int)i, (long long)ilen, c.off,
				    len - c.off);
				ret = RTC_ERR_FORMAT;
				goto out;
			}
			if (i < keep && ilen > 0 && items_used < max_items) {
				char *dst = csa->arena + arena_used;

				k = copy_text(dst, c.p + c.off, (size_t)ilen);
				if (k > 0) {
					csa->itemv[items_used++] = dst;
					el->nvalues++;
					arena_used += k + 1;
				}
			}
			c.off += (size_t)ilen;
			pad = (4 - (size_t)ilen % 4) % 4;
			/* the last item may lack its padding */
			c.off += pad <= len - c.off ? pad : len - c.off;
		}
	}
	csa->nelem = nelem;
	*out = csa;
	csa = NULL;
	ret = RTC_OK;
out:
	rtc_csa_free(csa);
	return ret;
}

const struct rtc_csa_elem *
rtc_csa_find(const struct rtc_csa *csa, const char *name)
{
	size_t i;

	if (csa == NULL || name == NULL)
		return NULL;
	for (i = 0; i < csa->nelem; i++)
		if (strcmp(csa->elem[i].name, name) == 0)
			return &csa->elem[i];
	return NULL;
}

static int
parse_double(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v))
		return RTC_ERR_FORMAT;
	while (*end == ' ')
		end++;
	if (*end != '\0')
		return RTC_ERR_FORMAT;
	*out = v;
	return RTC_OK;
}

int
rtc_csa_get_double(const struct rtc_csa *csa, const char *name, size_t idx,
    double *out)
{
	const struct rtc_csa_elem *el = rtc_csa_find(csa, name);

	if (el == NULL || idx >= el->nvalues)
		return RTC_ERR_NOT_FOUND;
	return parse_double(el->items[idx], out);
}

int
rtc_csa_get_long(const struct rtc_csa *csa, const char *name, size_t idx,
    long *out)
{
	double d;
	int r;

	if ((r = rtc_csa_get_double(csa, name, idx, &d)) != RTC_OK)
		return r;
	/* integers may be written "27" or "27.0"; nothing else */
	if (d != floor(d) || d < -2147483648.0 || d > 2147483647.0)
		return RTC_ERR_FORMAT;
	*out = (long)d;
	return RTC_OK;
}

int
rtc_csa_get_doubles(const struct rtc_csa *csa, const char *name,
    double *out, size_t max, size_t *n)
{
	const struct rtc_csa_elem *el = rtc_csa_find(csa, name);
	size_t i;
	int r;

	if (el == NULL || el->nvalues == 0)
		return RTC_ERR_NOT_FOUND;
	if (el->nvalues > max)
		return RTC_ERR_TOO_BIG;
	for (i = 0; i < el->nvalues; i++)
		if ((r = parse_double(el->items[i], &out[i])) != RTC_OK)
			return r;
	*n = el->nvalues;
	return RTC_OK;
}

static int
put_u32(struct rtc_buf *b, uint32_t v)
{
	unsigned char q[4] = { (unsigned char)v, (unsigned char)(v >> 8),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 24) };

	return rtc_buf_append(b, q, 4);
}

static int
put_fixed(struct rtc_buf *b, const char *s, size_t width)
{
	char tmp[RTC_CSA_NAME_MAX];
	size_t n = strlen(s);

	if (n >= width || width > sizeof(tmp))
		return RTC_ERR_INVAL;
	memset(tmp, 0, width);
	memcpy(tmp, s, n);
	return rtc_buf_append(b, tmp, width);
}

int
rtc_csa_write(const struct rtc_csa_field *fields, size_t nfields,
    struct rtc_buf *out)
{
	static const unsigned char zeros[4];
	size_t f, i;
	int r;

	if (nfields == 0 || nfields > RTC_CSA_MAX_ELEMS)
		return RTC_ERR_INVAL;
	if ((r = rtc_buf_append(out, "SV10\4\3\2\1", 8)) != RTC_OK ||
	    (r = put_u32(out, (uint32_t)nfields)) != RTC_OK ||
	    (r = put_u32(out, 77)) != RTC_OK)
		return r;
	for (f = 0; f < nfields; f++) {
		const struct rtc_csa_field *fl = &fields[f];
		size_t nitems;

		if (fl->name == NULL || fl->vr == NULL ||
		    fl->nvalues > RTC_CSA_MAX_ITEMS ||
		    fl->nitems > RTC_CSA_MAX_ITEMS || fl->vm < 0 ||
		    (fl->nvalues > 0 && fl->values == NULL))
			return RTC_ERR_INVAL;
		nitems = fl->nitems > fl->nvalues ? fl->nitems : fl->nvalues;
		if ((r = put_fixed(out, fl->name, RTC_CSA_NAME_MAX)) != RTC_OK ||
		    (r = put_u32(out, (uint32_t)fl->vm)) != RTC_OK ||
		    (r = put_fixed(out, fl->vr, 4)) != RTC_OK ||
		    (r = put_u32(out, (uint32_t)fl->syngodt)) != RTC_OK ||
		    (r = put_u32(out, (uint32_t)nitems)) != RTC_OK ||
		    (r = put_u32(out, nitems > 0 ? 77 : 205)) != RTC_OK)
			return r;
		for (i = 0; i < nitems; i++) {
			const char *v;
			size_t n;

			if (i >= fl->nvalues) {
				if ((r = put_u32(out, 0)) != RTC_OK ||
				    (r = put_u32(out, 0)) != RTC_OK ||
				    (r = put_u32(out, 205)) != RTC_OK ||
				    (r = put_u32(out, 0)) != RTC_OK)
					return r;
				continue;
			}
			v = fl->values[i] != NULL ? fl->values[i] : "";
			n = strlen(v) + 1;   /* the NUL is part of it */
			if (n > 0xffffu)
				return RTC_ERR_INVAL;
			if ((r = put_u32(out, (uint32_t)n)) != RTC_OK ||
			    (r = put_u32(out, (uint32_t)n)) != RTC_OK ||
			    (r = put_u32(out, 77)) != RTC_OK ||
			    (r = put_u32(out, (uint32_t)n)) != RTC_OK ||
			    (r = rtc_buf_append(out, v, n)) != RTC_OK ||
			    (r = rtc_buf_append(out, zeros,
			    (4 - n % 4) % 4)) != RTC_OK)
				return r;
		}
	}
	return RTC_OK;
}
