/*
 * volume: voxel data with its geometry and timing, the currency between
 * decode (DICOM, NIfTI), the realtime kernels and the writers.
 *
 * Geometry: affine maps a voxel index (i, j, k, 1), i fastest in memory,
 * to scanner RAS+ millimetres (NIfTI's world space). A 4D volume stores nt
 * 3D frames one after another.
 */
#ifndef RTC_VOLUME_H
#define RTC_VOLUME_H

#include <stddef.h>
#include <stdint.h>

enum rtc_dtype {
	RTC_DT_UINT8 = 1,
	RTC_DT_INT16,
	RTC_DT_UINT16,
	RTC_DT_INT32,
	RTC_DT_UINT32,
	RTC_DT_FLOAT32,
	RTC_DT_FLOAT64
};

/* What the scanner said about one acquired volume (not about the patient:
 * identifiers never enter this struct). */
struct rtc_acq {
	int series_number;        /* (0020,0011); -1 unknown */
	int acquisition_number;   /* (0020,0012); -1 unknown */
	int instance_number;      /* (0020,0013); -1 unknown */
	double acquisition_time;  /* s after midnight, (0008,0032); <0 unknown */
	char series_uid[68];      /* (0020,000E), "" unknown */
};

struct rtc_volume {
	int nx, ny, nz, nt;       /* nt >= 1 */
	double dx, dy, dz;        /* voxel size along i, j, k, mm */
	double tr;                /* repetition time, s; 0 unknown */
	double affine[4][4];      /* voxel -> scanner RAS+ mm */
	enum rtc_dtype dtype;
	double scl_slope;         /* real = stored * slope + inter; 0 = none */
	double scl_inter;
	void *data;               /* nx*ny*nz*nt values of dtype */
	size_t cap;               /* bytes allocated at data */
	double *slice_timing;     /* nz entries, s, or NULL */
	struct rtc_acq acq;
};

/* RET: bytes per value of a data type (0 for an unknown one). */
size_t rtc_dtype_size(enum rtc_dtype t);
/* RET: a short name ("int16"). */
const char *rtc_dtype_name(enum rtc_dtype t);

/* RET: a zeroed volume of the given shape with identity geometry, or NULL.
 * Free with rtc_volume_free(). */
struct rtc_volume *rtc_volume_new(int nx, int ny, int nz, int nt,
    enum rtc_dtype t);
void rtc_volume_free(struct rtc_volume *v);

/* Reshape v, growing data only when cap is too small (reuse on the hot
 * path allocates nothing). Contents are undefined afterwards. */
int rtc_volume_reshape(struct rtc_volume *v, int nx, int ny, int nz, int nt,
    enum rtc_dtype t);

/* Copy geometry, timing and acquisition fields (not data) from src. */
int rtc_volume_copy_header(struct rtc_volume *dst, const struct rtc_volume *src);

/* RET: voxels per frame (nx*ny*nz) and bytes of all frames. */
size_t rtc_volume_nvox(const struct rtc_volume *v);
size_t rtc_volume_nbytes(const struct rtc_volume *v);

/* Convert frame t to float32 with scaling applied into out (nvox floats). */
void rtc_volume_frame_to_float(const struct rtc_volume *v, int t, float *out);

/* Voxel (i,j,k) -> world (x,y,z) through the affine. */
void rtc_volume_vox2world(const struct rtc_volume *v, double i, double j,
    double k, double out[3]);

/* Set dx/dy/dz from the column norms of the affine. */
void rtc_volume_update_voxel_size(struct rtc_volume *v);

/* The rotation matrix R = Rz(rot[2]) . Ry(rot[1]) . Rx(rot[0]), angles in
 * radians: the convention of rigid motion parameters everywhere in rtc. */
void rtc_rotation_zyx(const double rot[3], double R[3][3]);

/* 4x4 affine helpers. RET of invert: RTC_OK or RTC_ERR_INVAL if singular. */
int rtc_affine_invert(const double a[4][4], double out[4][4]);
void rtc_affine_mul(const double a[4][4], const double b[4][4],
    double out[4][4]);
void rtc_affine_identity(double a[4][4]);

#endif
