/*
 * synth: a deterministic phantom BOLD series (the engine of `rtc synth`).
 *
 * The phantom is analytic, defined in scanner millimetres around the
 * isocentre: a head-like ellipsoid with scalp/skull, cortex (grey matter),
 * white matter and two CSF ventricles, each with its own EPI intensity.
 * A volume samples the phantom at its voxels (2x2x2 sub-samples for
 * partial volume), moved by the volume's rigid motion (when a motion
 * function is set), scaled by a slow drift and by the activation inside
 * a spherical ROI (when its amplitude is set: all of it at the centre,
 * falling as 1 - (r/R)^2 to none at the radius), plus Gaussian noise
 * from a generator seeded by (seed, volume): the same parameters give the same
 * voxels, volume by volume, whatever order they are made in.
 *
 * Volumes are written as Siemens-style mosaic DICOMs (lib/dicom_write)
 * with realtime-export names 001_SSSSSS_VVVVVV.dcm (series, volume) and a
 * truth.tsv saying what was put in each volume. UIDs are 2.25 UUID-form
 * numbers derived from the seed: the whole output is reproducible.
 *
 * truth.tsv: volume, file, acquisition_time, the motion as the generator
 * applies it (trans_x_mm.. rot_z_deg: LPS, degrees, about the scanner
 * origin), activation (fractional change in the ROI), drift, then the
 * same motion in rtc's own convention (trans_x.. rot_z: scanner RAS+,
 * mm and radians, about the grid centre, which is the origin here): what
 * rtc's motion estimates should give, relative to the reference volume.
 * Known trajectories: lib/synth_motion.h.
 */
#ifndef RTC_SYNTH_H
#define RTC_SYNTH_H

#include <stdint.h>

#include "ctx.h"
#include "volume.h"

#define RTC_SYNTH_MAX_DIM 512
#define RTC_SYNTH_MAX_VOLUMES 100000
#define RTC_SYNTH_MAX_VOXELS (16u << 20)   /* per volume */

/* Rigid motion of volume t: translations (mm) along x, y, z and
 * rotations (degrees) about x, y, z, all in scanner LPS, applied to the
 * head about the isocentre. RET: 0, or -1 to stop with an error. */
typedef int (*rtc_synth_motion_fn)(void *arg, int t, double motion[6]);

struct rtc_synth_roi {
	double center[3];     /* LPS mm */
	double radius;        /* mm */
	double amplitude;     /* fractional signal change at the centre when
	                       * on; 0: none */
};

struct rtc_synth_params {
	int nx, ny, nz;       /* matrix (64x64x27) */
	int nvol;             /* volumes (10) */
	double tr;            /* s (2.0) */
	uint64_t seed;        /* noise and UIDs (1) */
	double voxel[3];      /* mm (3, 3, 3.5) */
	double tilt_deg;      /* slab rotation about x (8) */
	double noise_sd;      /* Gaussian noise SD in signal units (8) */
	double drift_per_min; /* fractional linear drift per minute (0.01) */
	int series_number;    /* (1) */
	double te;            /* s (0.030) */
	double flip_angle;    /* degrees (75) */
	double field_strength;/* T (3) */
	double start_time;    /* first acquisition, s after midnight (43200) */
	rtc_synth_motion_fn motion;  /* NULL: the head stays still */
	void *motion_arg;
	struct rtc_synth_roi roi;
	double block_s;       /* activation: on/off blocks of this length,
	                       * off first (20) */
};

/* What went into one volume (a row of truth.tsv). */
struct rtc_synth_truth {
	int volume;           /* 1-based */
	double time;          /* acquisition time, s after midnight */
	double motion[6];
	double activation;    /* fractional change in the ROI this volume */
	double drift;         /* signal scale factor */
};

/* Defaults as listed above. */
void rtc_synth_params_init(struct rtc_synth_params *p);

/* RET: RTC_OK or RTC_ERR_INVAL with *cause saying which parameter is out
 * of range. */
int rtc_synth_check(const struct rtc_synth_params *p, char **cause);

/*
 * The series' geometry. OUT: iop (LPS), ipp (first voxel of slice 0,
 * LPS), affine (rtc voxel order -> RAS, as lib/dicom gives it back),
 * slice_times (nz values, s; interleaved as Siemens: odd counts start at
 * slice 0, even counts at slice 1); any OUT may be NULL.
 */
void rtc_synth_geometry(const struct rtc_synth_params *p, double iop[6],
    double ipp[3], double affine[4][4], double *slice_times);

/* The noise-free phantom intensity at an LPS point (head at rest). */
double rtc_synth_phantom(double x, double y, double z);

/*
 * Make volume t (0-based) into vol (reshaped: nx, ny, nz, uint16, rtc
 * voxel order; geometry, TR and acquisition fields set). OUT: *truth.
 * RET: RTC_OK, RTC_ERR_INVAL, RTC_ERR_NOMEM.
 */
int rtc_synth_volume(const struct rtc_synth_params *p, int t,
    struct rtc_volume *vol, struct rtc_synth_truth *truth, char **cause);

/*
 * Write the series into dir (made when missing): one mosaic DICOM per
 * volume, each written atomically, then truth.tsv. IN: ctx (progress at
 * debug level; a stop request cancels). RET: RTC_OK or an error.
 */
int rtc_synth_write(struct rtc_ctx *ctx, const struct rtc_synth_params *p,
    const char *dir, char **cause);

/* The file name of volume t (0-based): "001_SSSSSS_VVVVVV.dcm". */
void rtc_synth_filename(const struct rtc_synth_params *p, int t, char *out,
    size_t outsz);

#endif
