/*
 * s3_int: what s3.c, s3_get.c and s3_put.c share and nobody else sees.
 */
#ifndef RTC_S3_INT_H
#define RTC_S3_INT_H

#include <stdint.h>

#include "s3.h"

struct rtc_s3 {
	struct rtc_ctx *ctx;
	struct rtc_http *http;
	const struct rtc_creds *creds;
	int custom;               /* a configured endpoint: path-style */
	char scheme[8];
	char authority[256];      /* host[:port] as in the URL */
	char host[256];           /* as curl sends it in Host */
	char endpoint[300];
	int retries;
	long backoff_ms;
	long backoff_max_ms;
	uint64_t rng;
};

void s3_rand_seed(uint64_t *state);
uint64_t s3_rand(uint64_t *state);

/* A jittered exponential backoff for the attempt-th failure (1-based). */
long s3_backoff_ms(uint64_t *rng, int attempt, long base, long cap);

/* Sleep, waking early when ctx->stop is set. */
void s3_sleep_ms(struct rtc_ctx *ctx, long ms);

#endif
