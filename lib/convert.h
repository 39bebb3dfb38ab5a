/*
 * convert: DICOM files and directories to one NIfTI-1 image and one BIDS
 * sidecar per series (the engine of `rtc convert`).
 *
 * Steps: collect files (directories recursively, names sorted, hidden
 * names skipped); read every header (no pixels); group and order with
 * lib/series; decode each series' files and write the image and sidecar,
 * each under a temp name renamed at the end.
 *
 * What happens to bad input:
 *   not DICOM, DICOM without an image (DICOMDIR, reports), or an image
 *     that is not MR data (colour screenshots) -> skipped with a warning
 *     naming the file;
 *   a truncated file, or an image in a transfer syntax rtc cannot decode
 *     -> the run stops before anything is written (RTC_ERR_TRUNCATED /
 *     RTC_ERR_UNSUPPORTED, *cause names the file, the missing bytes or
 *     the syntax);
 *   the same image twice (same SOPInstanceUID, e.g. a re-sent volume)
 *     -> the copy is dropped with a warning, as dcm2niix does;
 *   a series that cannot be assembled (incomplete volumes, geometry that
 *     changes) -> an error naming it; the other series are written and
 *     the call returns RTC_ERR_FORMAT at the end.
 *
 * Output data type: stored integers as they are; unsigned 16-bit data
 * whose values all fit in int16 is written as int16 (as dcm2niix does,
 * for tools that dislike uint16).
 */
#ifndef RTC_CONVERT_H
#define RTC_CONVERT_H

#include <stddef.h>

#include <jansson.h>

#include "ctx.h"
#include "dicom.h"
#include "volume.h"

#define RTC_CONVERT_MAX_FILES 1000000   /* files in one run */
#define RTC_CONVERT_MAX_DEPTH 32        /* directory nesting */

struct rtc_convert_opts {
	const char *outdir;   /* created when missing */
	int gz;               /* write .nii.gz */
};

/* One series written. */
struct rtc_convert_output {
	char *nifti;          /* path of the image */
	char *sidecar;        /* path of the JSON */
	int series_number;
	int nx, ny, nz, nt;
	enum rtc_dtype dtype;
	double tr;
	size_t nfiles;        /* DICOM files it came from */
	size_t ndup;          /* duplicates dropped */
};

/*
 * Convert. IN: ctx (warnings go to its log; a stop request cancels),
 * inputs (files or directories), o. OUT: *outs, *nouts: what was written
 * (also on a partial failure); free with rtc_convert_outputs_free().
 * RET: RTC_OK; RTC_ERR_NOT_FOUND (an input does not exist, or no DICOM
 * image was found); RTC_ERR_TRUNCATED, RTC_ERR_UNSUPPORTED (nothing
 * written); RTC_ERR_FORMAT (a series could not be assembled; the others
 * were written); RTC_ERR_IO; RTC_ERR_CANCELLED; RTC_ERR_NOMEM.
 */
int rtc_convert(struct rtc_ctx *ctx, const char *const *inputs,
    size_t ninputs, const struct rtc_convert_opts *o,
    struct rtc_convert_output **outs, size_t *nouts, char **cause);

void rtc_convert_outputs_free(struct rtc_convert_output *o, size_t n);

/*
 * The files convert would read: each input file as given, each input
 * directory's regular files recursively (names sorted, hidden names
 * skipped, at most RTC_CONVERT_MAX_FILES, nesting RTC_CONVERT_MAX_DEPTH).
 * OUT: *files (an array of *nfiles malloc'd paths; free with
 * rtc_convert_files_free()). RET: RTC_OK, RTC_ERR_NOT_FOUND (an input is
 * missing), RTC_ERR_TOO_BIG, RTC_ERR_IO, RTC_ERR_NOMEM.
 */
int rtc_convert_collect(const char *const *inputs, size_t ninputs,
    char ***files, size_t *nfiles, char **cause);
void rtc_convert_files_free(char **files, size_t n);

/*
 * The BIDS sidecar of a series. IN: m, the meta of its first file;
 * vol: the assembled image (slice timing, TR); acq_time: the series'
 * first acquisition time (s after midnight, < 0 unknown). RET: a new
 * object (caller json_decref()s) or NULL when out of memory. No patient
 * attribute is in m, so none can be in the sidecar.
 */
json_t *rtc_convert_sidecar(const struct rtc_dicom_meta *m,
    const struct rtc_volume *vol, double acq_time);

/*
 * The BIDS PhaseEncodingDirection ("j-") of an image in rtc's voxel order,
 * or, when the polarity is unknown, the axis ("j") with *axis_only = 1.
 * RET: NULL when the direction is unknown. Static strings.
 */
const char *rtc_convert_pe_direction(const struct rtc_dicom_meta *m,
    int *axis_only);

/*
 * The output base name of a series: "<series number>_<description>"
 * (three digits; description from SeriesDescription else ProtocolName,
 * reduced to letters, digits, '-' and '_'). OUT: out (size outsz).
 * Each echo of a multi-echo series is written on its own, its name
 * ending "_e<echo number>".
 */
void rtc_convert_basename(const struct rtc_dicom_meta *m, char *out,
    size_t outsz);

/* Format seconds after midnight as "HH:MM:SS.ffffff". */
void rtc_convert_format_time(double t, char *out, size_t outsz);

#endif
