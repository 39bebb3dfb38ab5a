/*
 * dicom_geom: the arithmetic of DICOM decoding, in C and free of DCMTK so
 * that it can be tested on its own: times, vendors, vectors, the mosaic
 * corner correction, the affine, unmosaicking, GE slice timing and the GE
 * protocol block.
 *
 * The affine (see dicom.h for the voxel order): with r and c the row and
 * column direction cosines (LPS), sr and sc the spacing between rows and
 * between columns, p the first voxel of slice 0 and s the slice step,
 * a stored pixel (col i, row r, slice k) sits at
 *     p + i*sc*r + r*sr*c + k*s.
 * rtc stores rows reversed (j = ny-1-r), so in (i, j, k)
 *     p + (ny-1)*sr*c  +  i*sc*r  -  j*sr*c  +  k*s,
 * and RAS is LPS with x and y negated.
 */
#include "rtc_build.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "dicom.h"
#include "error.h"

const char *
rtc_dicom_kind_name(enum rtc_dicom_kind k)
{
	switch (k) {
	case RTC_DICOM_SLICE: return "slice";
	case RTC_DICOM_MOSAIC: return "mosaic";
	case RTC_DICOM_MULTIFRAME: return "multi-frame";
	}
	return "unknown";
}

/* case-insensitive substring */
static int
has_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, w, n) == 0)
			return 1;
	return 0;
}

enum rtc_vendor
rtc_dicom_vendor(const char *m)
{
	if (m == NULL || *m == '\0')
		return RTC_VENDOR_UNKNOWN;
	if (has_word(m, "SIEMENS"))
		return RTC_VENDOR_SIEMENS;
	if (has_word(m, "PHILIPS"))
		return RTC_VENDOR_PHILIPS;
	if (strncasecmp(m, "GE ", 3) == 0 || strcasecmp(m, "GE") == 0 ||
	    has_word(m, "GE MEDICAL") || has_word(m, "GE HEALTHCARE") ||
	    has_word(m, "GEMS"))
		return RTC_VENDOR_GE;
	return RTC_VENDOR_OTHER;
}

const char *
rtc_dicom_vendor_name(enum rtc_vendor v)
{
	switch (v) {
	case RTC_VENDOR_SIEMENS: return "Siemens";
	case RTC_VENDOR_GE: return "GE";
	case RTC_VENDOR_PHILIPS: return "Philips";
	case RTC_VENDOR_UNKNOWN:
	case RTC_VENDOR_OTHER: break;
	}
	return NULL;
}

/* n digits at s as a number. RET: -1 unless all are digits. */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
rtc_dicom_parse_tm(const char *s, double *out)
{
	int hh, mm = 0, ss = 0, colons;
	double frac = 0.0, scale = 0.1;
	const char *p;

	if (s == NULL)
		return RTC_ERR_FORMAT;
	while (*s == ' ')
		s++;
	colons = strchr(s, ':') != NULL;
	if ((hh = digits(s, 2)) < 0 || hh > 23)
		return RTC_ERR_FORMAT;
	p = s + 2;
	if (colons && *p == ':')
		p++;
	if (isdigit((unsigned char)*p)) {
		if ((mm = digits(p, 2)) < 0 || mm > 59)
			return RTC_ERR_FORMAT;
		p += 2;
		if (colons && *p == ':')
			p++;
		if (isdigit((unsigned char)*p)) {
			if ((ss = digits(p, 2)) < 0 || ss > 60)
				return RTC_ERR_FORMAT;
			p += 2;
			if (*p == '.') {
				int nd = 0;

				for (p++; isdigit((unsigned char)*p) && nd < 9;
				    p++, nd++) {
					frac += (*p - '0') * scale;
					scale /= 10.0;
				}
				if (nd == 0)
					return RTC_ERR_FORMAT;
			}
		}
	}
	while (*p == ' ')
		p++;
	if (*p != '\0')
		return RTC_ERR_FORMAT;
	*out = hh * 3600.0 + mm * 60.0 + ss + frac;
	return RTC_OK;
}

int
rtc_dicom_parse_dt_time(const char *s, double *out)
{
	char tm[32];
	size_t n = 0;

	if (s == NULL)
		return RTC_ERR_FORMAT;
	while (*s == ' ')
		s++;
	if (strlen(s) < 10 || digits(s, 8) < 0)
		return RTC_ERR_FORMAT;
	s += 8;
	/* the time runs up to an optional UTC offset */
	while (s[n] != '\0' && s[n] != '+' && s[n] != '-' && n < sizeof(tm) - 1) {
		tm[n] = s[n];
		n++;
	}
	tm[n] = '\0';
	return rtc_dicom_parse_tm(tm, out);
}

void
rtc_vec3_cross(const double a[3], const double b[3], double out[3])
{
	double t[3];

	t[0] = a[1] * b[2] - a[2] * b[1];
	t[1] = a[2] * b[0] - a[0] * b[2];
	t[2] = a[0] * b[1] - a[1] * b[0];
	memcpy(out, t, sizeof(t));
}

double
rtc_vec3_dot(const double a[3], const double b[3])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

int
rtc_vec3_normalize(double v[3])
{
	double n = sqrt(rtc_vec3_dot(v, v));

	if (!(n > 1e-12))
		return -1;
	v[0] /= n;
	v[1] /= n;
	v[2] /= n;
	return 0;
}

int
rtc_dicom_mosaic_origin(const double ipp[3], const double iop[6],
    const double spacing[2], int mrows, int mcols, int rows, int cols,
    double first[3])
{
	double fr, fc;
	int a;

	if (rows <= 0 || cols <= 0 || rows > mrows || cols > mcols)
		return RTC_ERR_INVAL;
	/* the position DICOM gives is the corner of the whole mosaic seen
	 * as one image; the first tile's corner is half the difference in
	 * size away along each in-plane axis */
	fc = (mcols - cols) / 2.0 * spacing[1];
	fr = (mrows - rows) / 2.0 * spacing[0];
	for (a = 0; a < 3; a++)
		first[a] = ipp[a] + fc * iop[a] + fr * iop[3 + a];
	return RTC_OK;
}

void
rtc_dicom_affine(const double iop[6], const double ipp[3],
    const double spacing[2], const double step[3], int ny,
    double affine[4][4])
{
	double lps[3][4];
	int a;

	for (a = 0; a < 3; a++) {
		lps[a][0] = iop[a] * spacing[1];
		lps[a][1] = -iop[3 + a] * spacing[0];
		lps[a][2] = step[a];
		lps[a][3] = ipp[a] + (ny - 1) * spacing[0] * iop[3 + a];
	}
	for (a = 0; a < 4; a++) {
		affine[0][a] = -lps[0][a];
		affine[1][a] = -lps[1][a];
		affine[2][a] = lps[2][a];
		affine[3][a] = a == 3 ? 1.0 : 0.0;
	}
}

void
rtc_dicom_meta_affine(const struct rtc_dicom_meta *m, double affine[4][4])
{
	double step[3];
	int a;

	for (a = 0; a < 3; a++)
		step[a] = m->slice_normal[a] * m->slice_distance;
	rtc_dicom_affine(m->iop, m->ipp, m->pixel_spacing, step, m->rows,
	    affine);
}

int
rtc_dicom_unmosaic(const void *mosaic, int mrows, int mcols, size_t esize,
    int rows, int cols, int n, int mosaic_cols, void *out)
{
	const unsigned char *src = mosaic;
	unsigned char *dst = out;
	size_t rowbytes = (size_t)cols * esize;
	int tc, t, r;

	if (n <= 0 || rows <= 0 || cols <= 0 || esize == 0)
		return RTC_ERR_INVAL;
	tc = mosaic_cols > 0 ? mosaic_cols : (int)ceil(sqrt((double)n));
	while (mosaic_cols <= 0 && tc * tc < n)
		tc++;
	if ((long)tc * cols > mcols || (long)((n + tc - 1) / tc) * rows > mrows)
		return RTC_ERR_INVAL;
	for (t = 0; t < n; t++) {
		size_t trow = (size_t)(t / tc), tcol = (size_t)(t % tc);

		for (r = 0; r < rows; r++) {
			const unsigned char *s = src + ((trow * (size_t)rows +
			    (size_t)r) * (size_t)mcols + tcol * (size_t)cols) *
			    esize;
			unsigned char *d = dst + ((size_t)t * (size_t)rows +
			    (size_t)(rows - 1 - r)) * rowbytes;

			memcpy(d, s, rowbytes);
		}
	}
	return RTC_OK;
}

void
rtc_dicom_copy_flip(const void *img, int rows, int cols, size_t esize,
    void *out)
{
	size_t rowbytes = (size_t)cols * esize;
	int r;

	for (r = 0; r < rows; r++)
		memcpy((unsigned char *)out + (size_t)(rows - 1 - r) * rowbytes,
		    (const unsigned char *)img + (size_t)r * rowbytes, rowbytes);
}

int
rtc_dicom_slice_times_ge(int n, int mb, int order, double tr, double *times)
{
	int nexc, k;

	if (n <= 0 || mb <= 0 || n % mb != 0 || !(tr > 0.0) ||
	    (order != 0 && order != 1))
		return RTC_ERR_INVAL;
	nexc = n / mb;
	for (k = 0; k < n; k++) {
		int g = k % nexc, ord;

		if (order == 0)
			ord = g;
		else if (g % 2 == 0)
			ord = g / 2;
		else
			ord = (nexc + 1) / 2 + (g - 1) / 2;
		times[k] = ord * tr / nexc;
	}
	return RTC_OK;
}

#define GE_PROTO_MAX (4u << 20)

/* The value of `KEY "value"` at the start of a line, as an integer.
 * RET: 0 found, -1 not. */
static int
proto_key(const char *text, size_t n, const char *key, long *out)
{
	size_t kl = strlen(key), i = 0;

	while (i < n) {
		size_t e = i;

		while (e < n && text[e] != '\n')
			e++;
		if (e - i > kl + 2 && memcmp(text + i, key, kl) == 0 &&
		    text[i + kl] == ' ') {
			size_t q = i + kl + 1;
			char num[24];
			size_t m = 0;
			char *end;

			if (text[q] == '"')
				q++;
			while (q < e && text[q] != '"' && m < sizeof(num) - 1)
				num[m++] = text[q++];
			num[m] = '\0';
			*out = strtol(num, &end, 10);
			if (end != num && *end == '\0')
				return 0;
			return -1;
		}
		i = e + 1;
	}
	return -1;
}

int
rtc_dicom_ge_protocol(const void *blk, size_t len, int *slice_order,
    int *mb, char **cause)
{
	const unsigned char *p = blk;
	z_stream zs;
	char *text = NULL;
	size_t cap = 64u << 10, got = 0;
	long so, m;
	int zr, ret;

	if (len < 4 + 18 || p[4] != 0x1f || p[5] != 0x8b) {
		rtc_cause_set(cause, "GE protocol block is not gzip data");
		return RTC_ERR_FORMAT;
	}
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return RTC_ERR_NOMEM;
	zs.next_in = (unsigned char *)(uintptr_t)(p + 4);
	zs.avail_in = (uInt)(len - 4 > UINT32_MAX ? UINT32_MAX : len - 4);
	for (;;) {
		if (got == cap) {
			char *t;

			if (cap >= GE_PROTO_MAX) {
				rtc_cause_set(cause, "GE protocol block inflates "
				    "past %u bytes", GE_PROTO_MAX);
				ret = RTC_ERR_TOO_BIG;
				goto out;
			}
			cap *= 2;
			if ((t = realloc(text, cap)) == NULL) {
				ret = RTC_ERR_NOMEM;
				goto out;
			}
			text = t;
		} else if (text == NULL && (text = malloc(cap)) == NULL) {
			ret = RTC_ERR_NOMEM;
			goto out;
		}
		zs.next_out = (unsigned char *)text + got;
		zs.avail_out = (uInt)(cap - got);
		zr = inflate(&zs, Z_NO_FLUSH);
		got = cap - zs.avail_out;
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK || (zs.avail_in == 0 && zs.avail_out != 0)) {
			rtc_cause_set(cause, "GE protocol block: bad gzip data");
			ret = RTC_ERR_FORMAT;
			goto out;
		}
	}
	if (proto_key(text, got, "SLICEORDER", &so) != 0 || so < 0 || so > 1) {
		rtc_cause_set(cause, "GE protocol block has no usable "
		    "SLICEORDER");
		ret = RTC_ERR_FORMAT;
		goto out;
	}
	if (proto_key(text, got, "MBACCEL", &m) != 0 || m < 1 || m > 16)
		m = 1;
	*slice_order = (int)so;
	*mb = (int)m;
	ret = RTC_OK;
out:
	inflateEnd(&zs);
	free(text);
	return ret;
}

/* little-endian 16-bit value at p */
static unsigned
le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

int
rtc_dicom_ge_pe_polarity(const void *hdr, size_t len, int *flipped)
{
	const unsigned char *p = hdr;
	size_t off, base, kydir = 0x394;
	uint32_t bits;
	float version;
	int f;

	if (len < 26)
		return RTC_ERR_FORMAT;
	off = le16(p + 24);
	/* the smallest header dcm2niix accepts: the ky direction inside */
	if (len < off + 916)
		return RTC_ERR_FORMAT;
	bits = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
	    (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
	memcpy(&version, &bits, sizeof(version));
	if (!(version >= 5.0f && version <= 40.0f))
		return RTC_ERR_FORMAT;
	base = off;
	if (version >= 25.002f) {
		base += 0x4c;
		kydir -= 0x8c;
	}
	if (base + kydir + 2 > len || base + 0x3a + 2 > len)
		return RTC_ERR_FORMAT;
	if ((le16(p + base + 0x3a) & 0x800) == 0)
		return RTC_ERR_NOT_FOUND;
	f = (le16(p + base + 0x30) & 0x4) != 0;
	if (le16(p + base + kydir) == 2)
		f = !f;
	*flipped = f;
	return RTC_OK;
}
