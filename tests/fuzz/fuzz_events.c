/*
 * fuzz_events: a BIDS events.tsv (it comes with datasets from anywhere)
 * as rtc_events_parse_tsv reads it, then the regressors and labels the
 * GLM and the classifier take from it.
 *
 * Invariants: a parse is all or nothing (a failed one leaves the set as
 * it was); counts and names stay within the limits; a second parse gives
 * the same conditions; regressors are numbers, labels valid.
 * Seeds: tests/fuzz/corpus/events.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "events.h"

#include "fuzz_common.h"

/* Parsing is deterministic: the text parsed again gives the same
 * conditions in the same order and as many events. */
static void
same_counts_after_reparse(const char *text, size_t len,
    const struct rtc_events *e)
{
	struct rtc_events *f = NULL;
	char *cause = NULL;
	int c;

	FUZZ_CHECK(rtc_events_new(&f) == RTC_OK);
	FUZZ_CHECK(rtc_events_parse_tsv(f, text, len, &cause) == RTC_OK);
	FUZZ_CHECK(rtc_events_ncond(f) == rtc_events_ncond(e));
	FUZZ_CHECK(rtc_events_nevents(f) == rtc_events_nevents(e));
	for (c = 0; c < rtc_events_ncond(e); c++)
		FUZZ_CHECK(strcmp(rtc_events_cond_name(e, c),
		    rtc_events_cond_name(f, c)) == 0);
	rtc_events_free(f);
	free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_events *e = NULL;
	char *cause = NULL;
	int c, r, before_c, before_n;
	double t;

	FUZZ_CHECK(rtc_events_new(&e) == RTC_OK);
	/* a set with an event already, to see that a failed parse keeps it */
	FUZZ_CHECK(rtc_events_add(e, "pre", 0.0, 1.0, 1.0, &cause) ==
	    RTC_OK);
	before_c = rtc_events_ncond(e);
	before_n = rtc_events_nevents(e);
	r = rtc_events_parse_tsv(e, (const char *)data, size, &cause);
	free(cause);
	cause = NULL;
	if (r != RTC_OK) {
		FUZZ_CHECK(r == RTC_ERR_FORMAT || r == RTC_ERR_TOO_BIG ||
		    r == RTC_ERR_NOMEM);
		FUZZ_CHECK(rtc_events_ncond(e) == before_c);
		FUZZ_CHECK(rtc_events_nevents(e) == before_n);
		rtc_events_free(e);
		return 0;
	}
	FUZZ_CHECK(rtc_events_ncond(e) >= before_c &&
	    rtc_events_ncond(e) <= RTC_EVENTS_MAX_COND);
	FUZZ_CHECK(rtc_events_nevents(e) >= before_n &&
	    rtc_events_nevents(e) <= RTC_EVENTS_MAX_EVENTS);
	for (c = 0; c < rtc_events_ncond(e); c++) {
		const char *name = rtc_events_cond_name(e, c);
		size_t k, n;

		FUZZ_CHECK(name != NULL);
		n = strlen(name);
		FUZZ_CHECK(n >= 1 && n <= RTC_EVENTS_MAX_NAME);
		for (k = 0; k < n; k++)
			FUZZ_CHECK((unsigned char)name[k] >= 0x20 &&
			    name[k] != 0x7f && name[k] != '\t');
		FUZZ_CHECK(rtc_events_cond_index(e, name) == c);
	}
	FUZZ_CHECK(rtc_events_cond_name(e, -1) == NULL);
	FUZZ_CHECK(rtc_events_cond_name(e, rtc_events_ncond(e)) == NULL);
	/* regressors and labels over a short run (few events: the cost is
	 * events x probes) */
	if (rtc_events_nevents(e) <= 2000)
		for (t = 0; t < 60.0; t += 2.5) {
			for (c = 0; c < rtc_events_ncond(e); c++) {
				double x = rtc_events_regressor(e, c, t);

				FUZZ_CHECK(!isnan(x));
			}
			c = rtc_events_label(e, t, 4.0);
			FUZZ_CHECK(c >= -2 && c < rtc_events_ncond(e));
		}
	rtc_events_free(e);

	/* the same text into an empty set: the same conditions, in order */
	FUZZ_CHECK(rtc_events_new(&e) == RTC_OK);
	FUZZ_CHECK(rtc_events_parse_tsv(e, (const char *)data, size,
	    &cause) == RTC_OK);
	same_counts_after_reparse((const char *)data, size, e);
	rtc_events_free(e);
	free(cause);
	return 0;
}
