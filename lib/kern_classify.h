/*
 * kern_classify: a linear classifier's decision value per volume,
 * d = w . x~ + b over a set of voxels, with x~ the voxel values after an
 * optional normalisation; either with weights supplied (e.g. from a
 * model trained offline and stored as a NIfTI in the functional grid),
 * or trained online from labelled volumes of this run.
 *
 * Normalisation of the feature vector x (the voxels of the set):
 *   NONE      x as is;
 *   VOLUME    z-scored across the set within each volume (pattern
 *             normalisation; insensitive to global drift and gain);
 *   RUNNING   each voxel z-scored against its own running mean and sd
 *             over all volumes of the run so far (this one included).
 *
 * Online training (two classes, labels 0 and 1; -1 = unlabelled): each
 * labelled volume's normalised features are stored (a ring of
 * max_samples; the oldest is replaced when full). A block is a maximal
 * run of consecutive volumes with the same label; it is complete when the
 * label changes. Once train_after_blocks blocks are complete the model is
 * trained, and again after every later block when retrain is set (as
 * RT-Cloud's template project retrains as the run goes). The learner is
 * L2-regularised logistic regression or a linear SVM (squared hinge),
 * both solved by dual coordinate descent (Hsieh et al. 2008; Yu, Huang &
 * Lin 2011) on the Gram matrix of the stored samples, with a bias feature
 * of 1. The learner sees the normalised features divided by
 * sqrt(features), so that C means the same whatever the size of the
 * voxel set (the weights reported are for the unscaled features). Training
 * costs O(epochs * n^2) and the Gram matrix grows by
 * one row per labelled volume (O(n * features)). Each training starts
 * from the previous solution (new samples at the usual initial point),
 * so retraining after a block takes few epochs.
 *
 * Order within rtc_clf_update(): a block completed by this volume's label
 * triggers training on the samples so far; then this volume's decision
 * value is computed with the current model; then, if labelled, the
 * volume is stored.
 *
 * HOT PATH. rtc_clf_update() allocates nothing. The decision value and
 * Gram row are parallel over fixed chunks (thread-count independent);
 * training itself is sequential.
 */
#ifndef RTC_KERN_CLASSIFY_H
#define RTC_KERN_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "kern_grid.h"

enum rtc_clf_norm {
	RTC_CLF_NORM_NONE = 0,
	RTC_CLF_NORM_VOLUME = 1,
	RTC_CLF_NORM_RUNNING = 2
};

enum rtc_clf_loss {
	RTC_CLF_LOGISTIC = 1,
	RTC_CLF_SVM = 2
};

struct rtc_clf_opts {
	enum rtc_clf_norm norm;   /* default VOLUME */
	enum rtc_clf_loss loss;   /* default LOGISTIC */
	double C;                 /* inverse regularisation (1.0) */
	int train_after_blocks;   /* (4) */
	int retrain;              /* retrain after each later block (1) */
	int max_samples;          /* stored training volumes (400) */
	int max_epochs;           /* coordinate-descent epochs (200) */
	double tol;               /* stopping tolerance on the dual's
	                           * projected gradient (0.1, as LIBLINEAR) */
};

/* Limits: features x max_samples <= 2^26 floats (256 MiB). */
#define RTC_CLF_MAX_STORE ((size_t)1 << 26)
#define RTC_CLF_MAX_SAMPLES 4096

struct rtc_clf;

struct rtc_clf_result {
	double decision;          /* w . x~ + b; 0 when not ready */
	double prob;              /* logistic: P(label 1); else 0.5 */
	int ready;                /* a model exists */
	int trained;              /* this update (re)trained the model */
	int nsamples;             /* stored training volumes */
	int blocks;               /* completed labelled blocks */
	int epochs;               /* epochs of the last training */
};

void rtc_clf_opts_init(struct rtc_clf_opts *o);

/*
 * Fixed weights. IN: g; weights (nvox floats in the functional grid,
 * copied); bias; mask (NULL: the voxels with a nonzero weight; else the
 * voxels of mask, which should cover the nonzero weights); o (NULL =
 * defaults; norm is used, and loss LOGISTIC makes prob the logistic of
 * the decision). OUT: *cp, free with rtc_clf_free(). RET: RTC_OK,
 * RTC_ERR_INVAL (no voxel, non-finite weight or bias, options),
 * RTC_ERR_NOMEM.
 */
int rtc_clf_new_linear(const struct rtc_grid *g, const float *weights,
    double bias, const uint8_t *mask, const struct rtc_clf_opts *o,
    struct rtc_clf **cp, char **cause);

/*
 * Online. IN: g, mask (the feature voxels, nonzero = in; copied), o
 * (NULL = defaults). OUT: *cp, free with rtc_clf_free(). RET: RTC_OK,
 * RTC_ERR_INVAL (options, empty mask), RTC_ERR_TOO_BIG (features x
 * max_samples over the limit), RTC_ERR_NOMEM.
 */
int rtc_clf_new_online(const struct rtc_grid *g, const uint8_t *mask,
    const struct rtc_clf_opts *o, struct rtc_clf **cp, char **cause);

void rtc_clf_free(struct rtc_clf *c);

/* Forget normalisation history, samples, blocks and (online) the model. */
void rtc_clf_reset(struct rtc_clf *c);

/* RET: number of feature voxels. */
size_t rtc_clf_nfeatures(const struct rtc_clf *c);

/*
 * One volume. IN: vol (nvox floats), label (-1, 0 or 1; ignored by a
 * fixed-weight classifier). OUT: *out. RET: RTC_OK or RTC_ERR_INVAL (a
 * label outside -1..1). Non-finite voxels count as 0.
 */
int rtc_clf_update(struct rtc_clf *c, const float *vol, int label,
    struct rtc_clf_result *out);

/* Train now on the stored samples (online only). RET: RTC_OK,
 * RTC_ERR_AGAIN (no sample of one of the classes), RTC_ERR_INVAL (fixed
 * weights). */
int rtc_clf_train(struct rtc_clf *c);

/*
 * The model in the functional grid (weights on normalised features).
 * OUT: w (nvox floats, 0 outside the set), *bias. RET: RTC_OK or
 * RTC_ERR_AGAIN (no model yet).
 */
int rtc_clf_weights(const struct rtc_clf *c, float *w, double *bias);

#endif
