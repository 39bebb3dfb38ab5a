/*
 * csa: Siemens CSA headers, the private binary blobs in (0029,xx10)
 * "CSA Image Header Info" and (0029,xx20) "CSA Series Header Info".
 *
 * No library parses them (DCMTK sees only opaque OB bytes), so this is
 * the one binary parser rtc keeps itself. Every count and length in the
 * blob is checked against the bytes that are really there and against
 * fixed caps before it is used.
 *
 * Two layouts exist: CSA2 (starts "SV10", syngo VB and later: nearly all
 * data) and the older CSA1 (no magic). Both are a list of elements, each a
 * 64-byte name, a VR and a list of items; every item is ASCII text (also
 * for numeric VRs). rtc reads the few it needs: NumberOfImagesInMosaic,
 * SliceNormalVector, MosaicRefAcqTimes, PhaseEncodingDirectionPositive.
 *
 * The writer builds CSA2 blobs for the phantom generator (rtc synth).
 */
#ifndef RTC_CSA_H
#define RTC_CSA_H

#include <stddef.h>

#include "buf.h"

#define RTC_CSA_MAX_BYTES (16u << 20)   /* a whole header */
#define RTC_CSA_MAX_ELEMS 1024u         /* elements in one header */
#define RTC_CSA_MAX_ITEMS 4096u         /* items of one element */
#define RTC_CSA_NAME_MAX 64

struct rtc_csa_elem {
	char name[RTC_CSA_NAME_MAX + 1];  /* NUL-terminated */
	char vr[5];                       /* "FD", "IS", "US", "DS", ... */
	int vm;                           /* declared multiplicity (0: any) */
	int syngodt;                      /* Siemens data type code */
	size_t nvalues;                   /* non-empty values kept in items */
	const char **items;               /* nvalues NUL-terminated strings */
};

struct rtc_csa {
	int version;                      /* 1 (CSA1) or 2 (CSA2, "SV10") */
	size_t nelem;
	struct rtc_csa_elem *elem;
	char *arena;                      /* item text; owned */
	const char **itemv;               /* all item pointers; owned */
};

/*
 * Parse a CSA header. IN: buf, len (at most RTC_CSA_MAX_BYTES).
 * OUT: *out, a parsed header owned by the caller (rtc_csa_free()).
 * RET: RTC_OK; RTC_ERR_FORMAT for a malformed blob (a length or count
 * pointing past the end, a count over the caps), RTC_ERR_TOO_BIG for a
 * blob over RTC_CSA_MAX_BYTES, RTC_ERR_NOMEM. *cause says what and where.
 */
int rtc_csa_parse(const void *buf, size_t len, struct rtc_csa **out,
    char **cause);

/* Free a parsed header. rtc_csa_free(NULL) is a no-op. */
void rtc_csa_free(struct rtc_csa *csa);

/* RET: the element named name (exact match), or NULL. Not owned. */
const struct rtc_csa_elem *rtc_csa_find(const struct rtc_csa *csa,
    const char *name);

/*
 * Value idx of element name as a number. OUT: *out only on success.
 * RET: RTC_OK; RTC_ERR_NOT_FOUND (no such element or value);
 * RTC_ERR_FORMAT (the text is not a finite number / an integer in range).
 */
int rtc_csa_get_double(const struct rtc_csa *csa, const char *name,
    size_t idx, double *out);
int rtc_csa_get_long(const struct rtc_csa *csa, const char *name,
    size_t idx, long *out);

/*
 * All values of element name as numbers. IN: max, the room in out.
 * OUT: out[0..*n-1]. RET: RTC_OK; RTC_ERR_NOT_FOUND (no element or no
 * values); RTC_ERR_FORMAT (a value is not a number); RTC_ERR_TOO_BIG
 * (more than max values; nothing stored).
 */
int rtc_csa_get_doubles(const struct rtc_csa *csa, const char *name,
    double *out, size_t max, size_t *n);

/* One element for rtc_csa_write(): nvalues strings, written as items. */
struct rtc_csa_field {
	const char *name;                 /* at most 63 chars */
	const char *vr;                   /* at most 3 chars */
	int vm;
	int syngodt;
	size_t nvalues;
	const char *const *values;
	size_t nitems;        /* items written, the values then empty ones
	                       * (Siemens writes 6 for a fixed VM and
	                       * values + 3 for VM 0); 0: nvalues */
};

/*
 * Append a CSA2 ("SV10") header with the given elements to out, laid out
 * as Siemens scanners write it: value items [len, len, 77, len] + text +
 * NUL padded to 4 bytes, empty items [0, 0, 205, 0], elements without
 * values marked 205.
 * RET: RTC_OK, RTC_ERR_INVAL (name or vr too long, too many values),
 * RTC_ERR_TOO_BIG / RTC_ERR_NOMEM from the buffer.
 */
int rtc_csa_write(const struct rtc_csa_field *fields, size_t nfields,
    struct rtc_buf *out);

#endif
