/*
 * fuzz_csa: libFuzzer harness for the Siemens CSA header parser, the one
 * binary parser rtc keeps itself. Build with `make fuzz`; run as
 *     tests/fuzz/fuzz_csa -max_len=65536 CORPUS_DIR
 * Seeds: the CSA image headers of any Siemens DICOM (rtc synth writes
 * some); the harness also exercises every getter on what parsed.
 */
#include "rtc_build.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "csa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_csa *csa = NULL;
	char *cause = NULL;
	double v[RTC_CSA_MAX_ITEMS];
	size_t n, e;
	long l;

	if (rtc_csa_parse(data, size, &csa, &cause) == 0) {
		for (e = 0; e < csa->nelem; e++) {
			(void)rtc_csa_get_double(csa, csa->elem[e].name, 0, v);
			(void)rtc_csa_get_long(csa, csa->elem[e].name, 0, &l);
			(void)rtc_csa_get_doubles(csa, csa->elem[e].name, v,
			    RTC_CSA_MAX_ITEMS, &n);
		}
		rtc_csa_free(csa);
	}
	free(cause);
	return 0;
}
