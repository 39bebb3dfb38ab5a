/*
 * nifti: struct rtc_volume to and from NIfTI files through nifticlib.
 *
 * Writing: NIfTI-1 single file (.nii, or .nii.gz when the name ends in
 * .gz), header built by nifticlib from the volume (qform and sform both
 * from the affine, code 1 "scanner anatomical"; units mm and s; TR in
 * pixdim[4]), bytes written through nifticlib's znzlib to a temp file
 * next to the target and renamed over it at the end: a reader never sees
 * a half-written image, and a failed write leaves nothing behind.
 *
 * Reading: NIfTI-1 or NIfTI-2, .nii/.nii.gz/.hdr+.img, up to a size cap;
 * the affine comes from the sform when its code is set, else the qform,
 * else the voxel sizes.
 */
#ifndef RTC_NIFTI_H
#define RTC_NIFTI_H

#include <stddef.h>

#include "volume.h"

struct rtc_nifti_opts {
	const char *descrip;   /* header description (cut to 79 bytes); NULL */
	int freq_dim;          /* dim_info: 1..3, 0 unknown */
	int phase_dim;
	int slice_dim;
	int sync;              /* fsync before the rename */
};

/*
 * Write vol to path (.nii or .nii.gz). IN: o may be NULL (defaults).
 * vol->slice_timing is not written (sidecars carry it). RET: RTC_OK;
 * RTC_ERR_INVAL (bad name or volume), RTC_ERR_IO (*cause names the file),
 * RTC_ERR_NOMEM.
 */
int rtc_nifti_write(const char *path, const struct rtc_volume *vol,
    const struct rtc_nifti_opts *o, char **cause);

/*
 * Read a NIfTI image. IN: max_bytes, a cap on the voxel data (0: 4 GiB).
 * OUT: *out, a new volume the caller frees with rtc_volume_free(); only
 * 1..4 dimensions (dims 5..7 must be 1). RET: RTC_OK; RTC_ERR_NOT_FOUND;
 * RTC_ERR_FORMAT (not NIfTI, unreadable); RTC_ERR_UNSUPPORTED (a data type
 * rtc has no dtype for, 5+ dimensions); RTC_ERR_TOO_BIG; RTC_ERR_NOMEM.
 */
int rtc_nifti_read(const char *path, size_t max_bytes, struct rtc_volume **out,
    char **cause);

/*
 * The NIfTI-1 header rtc_nifti_write() writes for vol (voxels at byte
 * 352, after the 4-byte extension flag), for writers that stream the
 * voxels themselves (a run written as its volumes arrive). OUT: hdr,
 * the 348 header bytes in this machine's byte order. RET: RTC_OK,
 * RTC_ERR_INVAL (a volume nifticlib cannot describe), RTC_ERR_NOMEM.
 */
#define RTC_NIFTI_HDR_SIZE 348
#define RTC_NIFTI_VOX_OFFSET 352
int rtc_nifti_header(const struct rtc_volume *vol,
    const struct rtc_nifti_opts *o, unsigned char hdr[RTC_NIFTI_HDR_SIZE]);

/* RET: the NIfTI datatype code of a dtype (DT_INT16 ...), 0 if none. */
int rtc_nifti_datatype(enum rtc_dtype t);

/* The dtype of a NIfTI datatype code. OUT: *out. RET: 0, or -1 for a code
 * rtc does not handle (complex, RGB, int8, 64-bit integers...). */
int rtc_nifti_dtype(int nifti_dt, enum rtc_dtype *out);

#endif
