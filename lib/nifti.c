/*
 * nifti: see nifti.h.
 *
 * Writing builds a nifti_image that only describes the volume (no data,
 * no file names), lets nifticlib turn it into a NIfTI-1 header
 * (nifti_convert_nim2n1hdr: magic, quaternion packing, units), and writes
 * header, the 4-byte extension flag and the voxels itself through
 * znzlib (gzip via zlib for .nii.gz), checking every write: nifti_image_write() reports no errors, so
 * it cannot be trusted with the all-or-nothing promise. The file is made
 * under a temp name in the same directory and renamed at the end
 * (fsutil's temp/commit pair).
 *
 * The qform is the closest rigid rotation + voxel sizes to the affine
 * (nifticlib's nifti_dmat44_to_quatern); the sform holds the affine
 * exactly. For scanner data the two agree.
 */
#include "rtc_build.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nifti2_io.h>

#include "error.h"
#include "fsutil.h"
#include "nifti.h"

#define NII_HDR 348
#define NII_OFFSET 352
#define WRITE_CHUNK (16u << 20)

int
rtc_nifti_datatype(enum rtc_dtype t)
{
	switch (t) {
	case RTC_DT_UINT8: return DT_UINT8;
	case RTC_DT_INT16: return DT_INT16;
	case RTC_DT_UINT16: return DT_UINT16;
	case RTC_DT_INT32: return DT_INT32;
	case RTC_DT_UINT32: return DT_UINT32;
	case RTC_DT_FLOAT32: return DT_FLOAT32;
	case RTC_DT_FLOAT64: return DT_FLOAT64;
	}
	return 0;
}

int
rtc_nifti_dtype(int nifti_dt, enum rtc_dtype *out)
{
	switch (nifti_dt) {
	case DT_UINT8: *out = RTC_DT_UINT8; return 0;
	case DT_INT16: *out = RTC_DT_INT16; return 0;
	case DT_UINT16: *out = RTC_DT_UINT16; return 0;
	case DT_INT32: *out = RTC_DT_INT32; return 0;
	case DT_UINT32: *out = RTC_DT_UINT32; return 0;
	case DT_FLOAT32: *out = RTC_DT_FLOAT32; return 0;
	case DT_FLOAT64: *out = RTC_DT_FLOAT64; return 0;
	}
	return -1;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Fill a NIfTI-1 header for vol. RET: RTC_OK or RTC_ERR_INVAL. */
static int
make_header(const struct rtc_volume *vol, const struct rtc_nifti_opts *o,
    nifti_1_header *hdr)
{
	int64_t dims[8] = { vol->nt > 1 ? 4 : 3, vol->nx, vol->ny, vol->nz,
	    vol->nt, 1, 1, 1 };
	nifti_image *nim;
	nifti_dmat44 a;
	double qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;
	int dt = rtc_nifti_datatype(vol->dtype), r, c, ret;

	if (dt == 0)
		return RTC_ERR_INVAL;
	nim = nifti_make_new_nim(dims, dt, 0);
	if (nim == NULL)
		return RTC_ERR_NOMEM;
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			a.m[r][c] = vol->affine[r][c];
	nifti_dmat44_to_quatern(a, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy,
	    &dz, &qfac);
	nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
	/* unused dimensions are 1, not 0 (some readers divide by them) */
	for (r = (int)dims[0] + 1; r < 8; r++)
		nim->dim[r] = 1;
	nim->nt = nim->dim[4];
	nim->nu = nim->nv = nim->nw = 1;
	nim->quatern_b = qb;
	nim->quatern_c = qc;
	nim->quatern_d = qd;
	nim->qoffset_x = qx;
	nim->qoffset_y = qy;
	nim->qoffset_z = qz;
	nim->qfac = qfac;
	nim->qto_xyz = nifti_quatern_to_dmat44(qb, qc, qd, qx, qy, qz, dx, dy,
	    dz, qfac);
	nim->sto_xyz = a;
	nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
	nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
	nim->dx = nim->pixdim[1] = dx;
	nim->dy = nim->pixdim[2] = dy;
	nim->dz = nim->pixdim[3] = dz;
	nim->dt = nim->pixdim[4] = vol->tr > 0 ? vol->tr : (vol->nt > 1 ? 1.0 :
	    0.0);
	nim->xyz_units = NIFTI_UNITS_MM;
	nim->time_units = NIFTI_UNITS_SEC;
	nim->scl_slope = vol->scl_slope;
	nim->scl_inter = vol->scl_inter;
	nim->iname_offset = NII_OFFSET;
	if (o != NULL) {
		nim->freq_dim = o->freq_dim;
		nim->phase_dim = o->phase_dim;
		nim->slice_dim = o->slice_dim;
		if (o->descrip != NULL)
			snprintf(nim->descrip, sizeof(nim->descrip), "%s",
			    o->descrip);
	}
	ret = nifti_convert_nim2n1hdr(nim, hdr) == 0 ? RTC_OK : RTC_ERR_INVAL;
	hdr->vox_offset = NII_OFFSET;
	nifti_image_free(nim);
	return ret;
}

int
rtc_nifti_header(const struct rtc_volume *vol, const struct rtc_nifti_opts *o,
    unsigned char hdr[RTC_NIFTI_HDR_SIZE])
{
	nifti_1_header h;
	int r;

	if (vol == NULL || hdr == NULL)
		return RTC_ERR_INVAL;
	memset(&h, 0, sizeof(h));
	if ((r = make_header(vol, o, &h)) != RTC_OK)
		return r;
	memcpy(hdr, &h, RTC_NIFTI_HDR_SIZE);
	return RTC_OK;
}

static int
zwrite(znzFile zf, const void *p, size_t n)
{
	const unsigned char *q = p;

	while (n > 0) {
		size_t k = n < WRITE_CHUNK ? n : WRITE_CHUNK;

		if (znzwrite(q, 1, k, zf) != k)
			return -1;
		q += k;
		n -= k;
	}
	return 0;
}

int
rtc_nifti_write(const char *path, const struct rtc_volume *vol,
    const struct rtc_nifti_opts *o, char **cause)
{
	static const unsigned char ext[4] = { 0, 0, 0, 0 };
	nifti_1_header hdr;
	znzFile zf;
	char *tmp = NULL;
	int fd = -1, gz, ret, zr;

	if (path == NULL || vol == NULL || vol->data == NULL ||
	    (!ends_with(path, ".nii") && !ends_with(path, ".nii.gz"))) {
		rtc_cause_set(cause, "%s: a NIfTI name ends in .nii or .nii.gz",
		    path ? path : "(null)");
		return RTC_ERR_INVAL;
	}
	gz = ends_with(path, ".gz");
	memset(&hdr, 0, sizeof(hdr));
	if ((ret = make_header(vol, o, &hdr)) != RTC_OK) {
		rtc_cause_set(cause, "%s: cannot describe the volume in a "
		    "NIfTI-1 header", path);
		return ret;
	}
	if ((ret = rtc_fs_open_tmp(path, &fd, &tmp, cause)) != RTC_OK)
		return ret;
	/* znzlib opens by name: the temp file we hold open (fd keeps it for
	 * the fsync and rename that commit it) */
	zf = znzopen(tmp, "wb", gz);
	if (znz_isnull(zf)) {
		rtc_cause_set(cause, "%s: cannot open a %s stream", path,
		    gz ? "gzip" : "file");
		ret = RTC_ERR_IO;
		goto fail;
	}
	if (zwrite(zf, &hdr, NII_HDR) != 0 || zwrite(zf, ext, 4) != 0 ||
	    zwrite(zf, vol->data, rtc_volume_nbytes(vol)) != 0) {
		(void)Xznzclose(&zf);
		rtc_cause_set(cause, "%s: write failed: %s", path,
		    errno != 0 ? strerror(errno) : "short write");
		ret = RTC_ERR_IO;
		goto fail;
	}
	errno = 0;
	zr = Xznzclose(&zf);
	if (zr != 0) {
		rtc_cause_set(cause, "%s: write failed: %s", path,
		    errno != 0 ? strerror(errno) : "close failed");
		ret = RTC_ERR_IO;
		goto fail;
	}
	ret = rtc_fs_commit_tmp(fd, tmp, path, 0644, o != NULL && o->sync,
	    cause);
	free(tmp);
	return ret;
fail:
	rtc_fs_discard_tmp(fd, tmp);
	free(tmp);
	return ret;
}

int
rtc_nifti_read(const char *path, size_t max_bytes, struct rtc_volume **out,
    char **cause)
{
	nifti_image *nim = NULL;
	struct rtc_volume *v = NULL;
	enum rtc_dtype t;
	size_t nbytes;
	int r, c, ret;

	if (max_bytes == 0)
		max_bytes = (size_t)4 << 30;
	if (!rtc_fs_is_file(path)) {
		rtc_cause_set(cause, "%s: no such file", path);
		return RTC_ERR_NOT_FOUND;
	}
	nim = nifti_image_read(path, 0);
	if (nim == NULL) {
		rtc_cause_set(cause, "%s: not a readable NIfTI file", path);
		return RTC_ERR_FORMAT;
	}
	/* dimensions past dim[0] may be stored as 0: they mean 1 */
	if (nim->ndim < 4 && nim->nt < 1)
		nim->nt = 1;
	if (nim->ndim < 3 && nim->nz < 1)
		nim->nz = 1;
	if (nim->ndim < 2 && nim->ny < 1)
		nim->ny = 1;
	if (nim->nu > 1 || nim->nv > 1 || nim->nw > 1 || nim->nx < 1 ||
	    nim->ny < 1 || nim->nz < 1 || nim->nt < 1 ||
	    nim->nx > INT32_MAX || nim->ny > INT32_MAX || nim->nz > INT32_MAX ||
	    nim->nt > INT32_MAX) {
		rtc_cause_set(cause, "%s: only 1 to 4 dimensions are supported",
		    path);
		ret = RTC_ERR_UNSUPPORTED;
		goto out;
	}
	if (rtc_nifti_dtype(nim->datatype, &t) != 0) {
		rtc_cause_set(cause, "%s: NIfTI data type %d is not supported",
		    path, nim->datatype);
		ret = RTC_ERR_UNSUPPORTED;
		goto out;
	}
	if (nim->nvox < 0 || (uint64_t)nim->nvox > max_bytes / (uint64_t)
	    nim->nbyper) {
		rtc_cause_set(cause, "%s: %lld voxels is over the %zu-byte cap",
		    path, (long long)nim->nvox, max_bytes);
		ret = RTC_ERR_TOO_BIG;
		goto out;
	}
	if (nifti_image_load(nim) != 0 || nim->data == NULL) {
		rtc_cause_set(cause, "%s: cannot read the voxel data", path);
		ret = RTC_ERR_FORMAT;
		goto out;
	}
	v = rtc_volume_new((int)nim->nx, (int)nim->ny, (int)nim->nz,
	    (int)nim->nt, t);
	if (v == NULL) {
		ret = RTC_ERR_NOMEM;
		goto out;
	}
	nbytes = rtc_volume_nbytes(v);
	memcpy(v->data, nim->data, nbytes);
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++) {
			if (nim->sform_code > 0)
				v->affine[r][c] = nim->sto_xyz.m[r][c];
			else if (nim->qform_code > 0)
				v->affine[r][c] = nim->qto_xyz.m[r][c];
			else
				v->affine[r][c] = r == c ? (r == 0 ? nim->dx :
				    r == 1 ? nim->dy : r == 2 ? nim->dz : 1.0) :
				    0.0;
		}
	rtc_volume_update_voxel_size(v);
	v->tr = nim->dt;
	if (nim->time_units == NIFTI_UNITS_MSEC)
		v->tr /= 1000.0;
	else if (nim->time_units == NIFTI_UNITS_USEC)
		v->tr /= 1e6;
	if (!(v->tr > 0))
		v->tr = 0;
	v->scl_slope = nim->scl_slope;
	v->scl_inter = nim->scl_inter;
	*out = v;
	v = NULL;
	ret = RTC_OK;
out:
	rtc_volume_free(v);
	nifti_image_free(nim);
	return ret;
}
