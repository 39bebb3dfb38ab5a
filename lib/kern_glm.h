/*
 * kern_glm: an incremental general linear model for every voxel of a
 * mask, updated one volume at a time, with t maps for contrasts after
 * any volume.
 *
 * All voxels share the design X (one row per volume), so the model keeps
 * X'X (p x p, shared) and, per voxel, X'y (p values) and y'y, in double
 * precision: adding a volume is O(p) per voxel. A contrast is computed
 * from the Cholesky factor L of X'X (O(p^3) once per call, p <= 64):
 * z = L^-1 X'y, RSS = y'y - |z|^2, c'b = (L^-1 c)'z, so a t map is
 * O(p^2 / 2) per voxel, exactly the ordinary least-squares answer on all
 * volumes so far (the same as refitting from scratch).
 *
 * RANK. Early in a run X has fewer rows than columns, or columns not yet
 * separable (a task regressor still all zeros). The factorisation drops,
 * in column order, every column that is (numerically) a combination of
 * earlier ones, and fits the rest. A contrast is estimable when it puts
 * no weight on a dropped column and there is at least one residual degree
 * of freedom (volumes > rank); otherwise rtc_glm_compute() says
 * RTC_ERR_AGAIN. Order columns by priority: drift first.
 *
 * HOT PATH. rtc_glm_add() and rtc_glm_compute() allocate nothing, run
 * OpenMP-parallel over voxels, and give identical results for any number
 * of threads (voxels are independent).
 *
 * The design builder (struct rtc_design) builds rows for the usual realtime
 * model: Legendre drift polynomials, the 6 motion parameters, and task
 * regressors from lib/events.h.
 */
#ifndef RTC_KERN_GLM_H
#define RTC_KERN_GLM_H

#include <stdint.h>

#include "events.h"
#include "kern_grid.h"

#define RTC_GLM_MAX_REG 64
#define RTC_GLM_MAX_CON 16

struct rtc_glm;

/*
 * IN: g, mask (nvox bytes, nonzero = fit this voxel; NULL = all voxels),
 * nreg (columns, 1..RTC_GLM_MAX_REG). OUT: *gp, free with rtc_glm_free().
 * RET: RTC_OK, RTC_ERR_INVAL, RTC_ERR_NOMEM.
 */
int rtc_glm_new(const struct rtc_grid *g, const uint8_t *mask, int nreg,
    struct rtc_glm **gp, char **cause);
void rtc_glm_free(struct rtc_glm *m);

/* Forget all volumes (a new run). */
void rtc_glm_reset(struct rtc_glm *m);

/*
 * Add one volume. IN: x (nreg values: this volume's design row), vol
 * (nvox floats). RET: RTC_OK, RTC_ERR_INVAL (a non-finite x: nothing is
 * added). A non-finite voxel value is taken as 0 and counted (see
 * rtc_glm_nonfinite()).
 */
int rtc_glm_add(struct rtc_glm *m, const double *x, const float *vol);

/* RET: volumes added since new/reset. */
int rtc_glm_nobs(const struct rtc_glm *m);

/* RET: non-finite voxel values met since new/reset (taken as 0). */
size_t rtc_glm_nonfinite(const struct rtc_glm *m);

/*
 * Contrast maps from all volumes so far. IN: C (ncon rows of nreg
 * weights, row-major), ncon (1..RTC_GLM_MAX_CON). OUT: tmaps[c] and,
 * when effects != NULL, effects[c] (each nvox floats, or NULL to skip;
 * 0 outside the mask; t is 0 where the residual is 0), *dof (residual
 * degrees of freedom; may be NULL), *rank (may be NULL). RET: RTC_OK;
 * RTC_ERR_AGAIN when some contrast is not estimable yet (outputs
 * untouched); RTC_ERR_INVAL (ncon, non-finite or all-zero contrast).
 */
int rtc_glm_compute(struct rtc_glm *m, const double *C, int ncon,
    float *const *tmaps, float *const *effects, double *dof, int *rank);

/*
 * Parameter estimates of all columns for one voxel (for tests and
 * reports). IN: v (voxel index in the grid). OUT: beta (nreg; 0 for
 * dropped columns), *sigma2 (residual variance; may be NULL). RET:
 * RTC_OK, RTC_ERR_INVAL (v not in the mask), RTC_ERR_AGAIN (no volume).
 */
int rtc_glm_voxel_beta(struct rtc_glm *m, size_t v, double *beta,
    double *sigma2);

/* ---- design rows ---- */

struct rtc_design_opts {
	int poly_order;           /* Legendre drift terms 0..order (2) */
	int motion;               /* add the 6 motion parameters (1) */
	double tr;                /* s; needed for task regressors */
	int expected_volumes;     /* drift polynomials span this many (300) */
	double slice_ref;         /* sample regressors at (n + slice_ref) TR,
	                           * 0..1 (0: the start of each volume) */
};

struct rtc_design;

void rtc_design_opts_init(struct rtc_design_opts *o);

/*
 * Columns: drift0..driftK (drift0 the constant), then trans_x trans_y
 * trans_z rot_x rot_y rot_z (when motion), then one per condition of ev
 * (named after it; ev may be NULL). IN: ev is used, not copied: keep it
 * alive while the design lives. OUT: *dp, free with rtc_design_free().
 * RET: RTC_OK, RTC_ERR_INVAL (options; more than RTC_GLM_MAX_REG
 * columns; a TR <= 0 with conditions), RTC_ERR_NOMEM.
 */
int rtc_design_new(const struct rtc_design_opts *o,
    const struct rtc_events *ev, struct rtc_design **dp, char **cause);
void rtc_design_free(struct rtc_design *d);

/* RET: number of columns; name of column j (NULL out of range); index of
 * a named column or -1. */
int rtc_design_ncols(const struct rtc_design *d);
const char *rtc_design_col_name(const struct rtc_design *d, int j);
int rtc_design_col_index(const struct rtc_design *d, const char *name);

/*
 * The row of volume vol (0-based). IN: motion (trans_x..rot_z as from
 * kern_motion; NULL = zeros). OUT: row (ncols). Allocates nothing.
 */
void rtc_design_row(const struct rtc_design *d, int vol,
    const double motion[6], double *row);

/*
 * Parse a contrast such as "faces - houses", "2*faces - houses - scenes"
 * or "0.5 task": terms joined by + or -, each an optional number
 * (optionally followed by *) and a column name made of letters, digits,
 * '_', '.', ':'. IN: spec (at most 1024 bytes). OUT: c (ncols weights).
 * RET: RTC_OK or RTC_ERR_INVAL (*cause points at the problem).
 */
int rtc_design_contrast(const struct rtc_design *d, const char *spec,
    double *c, char **cause);

#endif
