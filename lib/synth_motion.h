/*
 * synth_motion: known rigid head trajectories for the phantom generator
 * (rtc synth --motion), so that tests and users know the right answer for
 * rtc's motion estimates.
 *
 * Trajectories are given in rtc's own motion convention, the one rtc's
 * estimates and confounds files use (rtc(1), MOTION PARAMETERS): the
 * rigid transform T(p) = R (p - c) + c + t of scanner RAS+ points, t in
 * mm, R = Rz(rot_z) Ry(rot_y) Rx(rot_x) with angles in radians, c the
 * centre of the voxel grid. The phantom's grid is centred on the scanner
 * origin, so c = 0 there. The generator itself (lib/synth) works in LPS
 * and degrees; the two conversions below translate.
 *
 * Specifications (rtc_synth_traj_parse):
 *   sine:AMP_MM,AMP_DEG[,PERIOD_S]
 *       every parameter a sine starting at 0: trans_x..z with amplitude
 *       AMP_MM, rot_x..z with AMP_DEG degrees, parameter a with period
 *       PERIOD_S / f[a] (PERIOD_S 60; f = 1, 0.77, 1.31, 0.89, 1.13,
 *       0.61, so that no two parameters move in step);
 *   PATH (a file): a TSV with a header row naming at least trans_x,
 *       trans_y, trans_z (mm), rot_x, rot_y, rot_z (radians), one row per
 *       volume (the columns of rtc's and fMRIPrep's confounds files, so a
 *       real run's motion can be played back); "n/a" is 0.
 */
#ifndef RTC_SYNTH_MOTION_H
#define RTC_SYNTH_MOTION_H

#include "synth.h"

#define RTC_SYNTH_TRAJ_MAX_BYTES ((size_t)64 << 20)
#define RTC_SYNTH_TRAJ_MAX_ROWS RTC_SYNTH_MAX_VOLUMES

struct rtc_synth_traj;

/*
 * Parse a trajectory. IN: spec as above. OUT: *out, freed with
 * rtc_synth_traj_free(). RET: RTC_OK; RTC_ERR_INVAL (bad numbers: AMP_MM
 * 0..50, AMP_DEG 0..30, PERIOD_S 1..10000; a file's missing column or bad
 * cell, with the line in *cause); RTC_ERR_NOT_FOUND, RTC_ERR_TOO_BIG,
 * RTC_ERR_IO (the file); RTC_ERR_NOMEM.
 */
int rtc_synth_traj_parse(const char *spec, struct rtc_synth_traj **out,
    char **cause);
void rtc_synth_traj_free(struct rtc_synth_traj *tj);

/* RET: rows of a file trajectory, 0 for a formula. */
int rtc_synth_traj_rows(const struct rtc_synth_traj *tj);

/*
 * The trajectory at volume t (0-based) acquired at time t * tr s, in
 * rtc's convention. OUT: trans (mm), rot (radians). RET: 0, or -1 when a
 * file has no row t.
 */
int rtc_synth_traj_at(const struct rtc_synth_traj *tj, int t, double tr,
    double trans[3], double rot[3]);

/* Make p's motion follow tj (p->motion, p->motion_arg; tj must outlive
 * the use of p). */
void rtc_synth_traj_attach(struct rtc_synth_traj *tj,
    struct rtc_synth_params *p);

/*
 * Between the generator's motion (LPS mm and degrees about the scanner
 * origin: motion[0..2] translations, [3..5] rotations) and rtc's
 * convention for a grid centred on the origin. OUT as named.
 */
void rtc_synth_motion_to_rtc(const double motion[6], double trans[3],
    double rot[3]);
void rtc_synth_motion_from_rtc(const double trans[3], const double rot[3],
    double motion[6]);

#endif
