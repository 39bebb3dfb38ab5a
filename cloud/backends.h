/*
 * backends: the ops tables rtcd hands to the batch core (lib/daemon).
 */
#ifndef RTC_CLOUD_BACKENDS_H
#define RTC_CLOUD_BACKENDS_H

#include "backend.h"

extern const struct rtc_backend_ops rtc_backend_local;
extern const struct rtc_backend_ops rtc_backend_slurm;

#endif
