/*
 * watch_dcm: what the intake needs to know about a DICOM object without
 * decoding its pixels (DCMTK): is the file complete, and a short summary
 * (SOP class and instance, series and acquisition numbers, pixel data
 * length and digest) that the receiver reports and tests compare.
 *
 * The summary carries no patient identifiers.
 */
#ifndef RTC_WATCH_DCM_H
#define RTC_WATCH_DCM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RTC_DCM_UID_MAX 68

struct rtc_dcm_probe {
	char sop_class_uid[RTC_DCM_UID_MAX];
	char sop_instance_uid[RTC_DCM_UID_MAX];
	char transfer_syntax_uid[RTC_DCM_UID_MAX];  /* "" when no meta header */
	char series_uid[RTC_DCM_UID_MAX];
	int series_number;        /* -1 when absent */
	int acquisition_number;
	int instance_number;
	int rows, columns, frames;    /* 0 when absent; frames 1 by default */
	int encapsulated;             /* compressed pixel data (fragments) */
	unsigned long long pixel_bytes;  /* PixelData value bytes (uncompressed) or
	                                  * the sum of fragment bytes */
	char pixel_sha256[65];        /* hex digest of those bytes, when asked */
};

/* Flags for the probe functions. */
#define RTC_DCM_PROBE_DIGEST 0x1   /* fill pixel_sha256 (reads all pixels) */

/*
 * Completeness check for rtc_watch (an rtc_watch_complete_fn; arg unused).
 * A file is complete when it is a DICOM Part-10 file ("DICM" at 128) that
 * DCMTK reads to its end without running out of bytes, and, for image
 * storage SOP classes, holds its whole PixelData. RET: 1 complete, 0 not
 * yet (shorter than a header, or truncated), RTC_ERR_FORMAT (not a Part-10
 * file, or corrupt in a way more bytes cannot fix).
 */
int rtc_watch_dcm_complete(const char *path, void *arg);

/*
 * Summarise a DICOM file or an in-memory Part-10 image (buffer of len
 * bytes, "DICM" at 128). IN: flags (RTC_DCM_PROBE_*). OUT: *p on success.
 * RET: RTC_OK, RTC_ERR_TRUNCATED, RTC_ERR_FORMAT, RTC_ERR_NOT_FOUND, with
 * *cause.
 */
int rtc_watch_dcm_probe_file(const char *path, unsigned flags,
    struct rtc_dcm_probe *p, char **cause);
int rtc_watch_dcm_probe_buffer(const void *buf, size_t len, unsigned flags,
    struct rtc_dcm_probe *p, char **cause);

#ifdef __cplusplus
}
#endif

#endif
