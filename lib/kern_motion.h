/*
 * kern_motion: rigid-body (6-parameter) motion estimation of each volume
 * against a reference volume, for realtime fMRI.
 *
 * CONVENTION. The estimate is the rigid transform T that maps a point p of
 * the reference volume's world space (scanner RAS+, mm) to the same
 * anatomy in the registered volume's world space:
 *
 *     T(p) = R (p - c) + c + t,      R = Rz(rot_z) . Ry(rot_y) . Rx(rot_x)
 *
 * where c is the world position of the centre of the reference voxel grid
 * (voxel ((nx-1)/2, (ny-1)/2, (nz-1)/2)), t = (trans_x, trans_y, trans_z)
 * in mm, and Rx(a) = [1 0 0; 0 cos a -sin a; 0 sin a cos a] (right-handed,
 * angles in radians; Ry, Rz likewise about y and z). So trans_x = +2
 * says the anatomy moved 2 mm along +x (towards the subject's left in
 * RAS+), and rot_z > 0 turns +x towards +y. Framewise displacement is
 * Power et al. (2012): sum |d trans| + r * sum |d rot|, r = 50 mm,
 * against the previously registered volume (0 for the first).
 *
 * METHOD. Inverse-compositional Gauss-Newton (Baker & Matthews 2004) on
 * the sum of squared intensity differences over the brain mask, after a
 * Gaussian pre-smoothing of both volumes (5 mm FWHM by default, as SPM's
 * realign): the reference's gradients, steepest-descent images and
 * Hessian are computed once in rtc_motion_new(), so an iteration is one
 * interpolation of the moving volume per mask voxel plus a 6x6 solve.
 * Mask voxels whose sample falls outside the moving volume are left out
 * of that iteration and out of its Hessian.
 *
 * Trilinear interpolation is cheap, but its phase response is not linear:
 * it moves fine detail by less than the sampling offset, which biases
 * sub-voxel displacements of real EPI upward by several percent. So the
 * estimate is made at full resolution by sampling the moving volume
 * through its cubic B-spline (prefiltered once per volume), on about
 * 10000 mask voxels, with the reference gradients taken from the
 * reference's own spline. Each volume starts from the previous volume's
 * estimate and goes straight to that stage; the first volume after new or
 * reset, or one whose first update exceeds 1.5 mm (a jump), is first
 * brought into range coarse to fine by trilinear levels of a 2x pyramid.
 *
 * HOT PATH. rtc_motion_register() and rtc_motion_reslice() allocate
 * nothing; they run OpenMP-parallel over mask voxels and sum partial
 * results in a fixed chunk order, so results do not depend on the number
 * of threads. One struct rtc_motion is not to be used by two threads at
 * once.
 *
 * SHARING THE SMOOTHING. A pipeline that smooths every volume anyway can
 * save a pass: set smooth_fwhm_mm = 0 and hand rtc_motion_new() and
 * rtc_motion_register() volumes already smoothed with the same kernel;
 * the estimate is the same.
 */
#ifndef RTC_KERN_MOTION_H
#define RTC_KERN_MOTION_H

#include <stdint.h>

#include "kern_grid.h"
#include "kern_interp.h"

struct rtc_motion;

struct rtc_motion_opts {
	int levels;               /* pyramid levels, 1..4 (default 2) */
	int max_iter;             /* iterations per stage (default 15) */
	double tol_mm;            /* stop when an update moves no point of a
	                           * 50 mm sphere more than this (default
	                           * 0.005 mm) */
	int stride;               /* use every stride-th mask voxel (default
	                           * 1: all) */
	double fd_radius_mm;      /* Power's head radius (default 50) */
	int final_bspline;        /* estimate at full resolution with cubic
	                           * B-spline interpolation (default 1; 0:
	                           * trilinear levels only, faster, biased;
	                           * see METHOD) */
	int final_stride;         /* use every final_stride-th mask voxel
	                           * for that refinement (default 0: the
	                           * stride that leaves about 10000) */
	double smooth_fwhm_mm;    /* Gaussian pre-smoothing of the reference
	                           * and each volume before estimation
	                           * (default 0: none) */
};

struct rtc_motion_result {
	double trans[3];          /* trans_x, trans_y, trans_z, mm */
	double rot[3];            /* rot_x, rot_y, rot_z, radians */
	double fd;                /* framewise displacement, mm */
	double matrix[4][4];      /* T as a world -> world affine */
	double rms;               /* RMS intensity residual of the last
	                           * iteration (pre-smoothed volumes) */
	int iterations;           /* total over all stages */
	int converged;            /* the last stage met tol_mm */
	int nsamples;             /* mask voxels in the last iteration */
};

/* OUT: *o with the defaults above. */
void rtc_motion_opts_init(struct rtc_motion_opts *o);

/*
 * Prepare registration to a reference volume: build the pyramids, the
 * reference gradients and Hessians, and every buffer the hot path needs.
 * IN: ref (rtc_grid_nvox(grid) floats, not kept), grid (the reference
 * geometry), mask (same size, nonzero = brain; NULL = rtc_mask_auto() on
 * ref), opts (NULL = defaults). OUT: *mp, free with rtc_motion_free().
 * RET: RTC_OK, RTC_ERR_INVAL (bad grid/options, or a mask with fewer than
 * 64 voxels), RTC_ERR_NOMEM.
 */
int rtc_motion_new(const float *ref, const struct rtc_grid *grid,
    const uint8_t *mask, const struct rtc_motion_opts *opts,
    struct rtc_motion **mp, char **cause);
void rtc_motion_free(struct rtc_motion *m);

/* Forget the previous estimate: the next volume starts from identity and
 * gets FD 0 (call at the start of a new run). */
void rtc_motion_reset(struct rtc_motion *m);

/*
 * Register one volume. IN: vol (same nx, ny, nz as the reference; float
 * voxels), affine (vol's voxel -> world; NULL = the reference's). OUT:
 * *out. RET: RTC_OK; RTC_ERR_FORMAT when the estimate broke down (too few
 * mask voxels inside the volume, non-finite values): *out is untouched
 * and the warm start is kept. Allocates nothing.
 */
int rtc_motion_register(struct rtc_motion *m, const float *vol,
    const double affine[4][4], struct rtc_motion_result *out);

/*
 * Reslice vol into the reference grid with the estimate res: out(v) =
 * vol at T(A_ref v), 0 outside vol. IN: interp (BSPLINE uses scratch
 * held by m). OUT: out (reference nvox floats; must not alias vol).
 * RET: RTC_OK or RTC_ERR_INVAL (singular affine). Allocates nothing.
 */
int rtc_motion_reslice(struct rtc_motion *m, const float *vol,
    const double affine[4][4], const struct rtc_motion_result *res,
    enum rtc_interp interp, float *out);

/*
 * Reslice only the voxels that will be read: rtc_motion_reslice() then
 * writes, on each row of the grid, the span from the first to the last
 * voxel where need is nonzero, and leaves the rest of out as it was.
 * IN: need (nvox bytes; NULL: every voxel again). RET: RTC_OK or
 * RTC_ERR_NOMEM (nothing changed). Call before the hot path.
 */
int rtc_motion_reslice_only(struct rtc_motion *m, const uint8_t *need);

/* OUT: c[3], the rotation centre (centre of the reference grid). */
void rtc_motion_center(const struct rtc_motion *m, double c[3]);

/*
 * Parameters <-> matrix, with the convention above. IN: trans, rot, c.
 * OUT: T (world -> world affine).
 */
void rtc_motion_params_to_matrix(const double trans[3], const double rot[3],
    const double c[3], double T[4][4]);
/* IN: T (rigid), c. OUT: trans, rot (rot_y in [-pi/2, pi/2]). */
void rtc_motion_matrix_to_params(const double T[4][4], const double c[3],
    double trans[3], double rot[3]);

/* RET: Power's framewise displacement between two parameter sets. */
double rtc_motion_fd(const double trans_a[3], const double rot_a[3],
    const double trans_b[3], const double rot_b[3], double radius_mm);

#endif
