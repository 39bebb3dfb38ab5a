/*
 * fuzz_dicom: libFuzzer harness for rtc's DICOM decoding (DCMTK parse,
 * CSA header, mosaic/multi-frame/slice geometry, pixel copy) on bytes in
 * memory, as a DICOM network receiver would hand them over. Build with
 * `make fuzz`; run as
 *     tests/fuzz/fuzz_dicom -max_len=1048576 -rss_limit_mb=4096 CORPUS_DIR
 * Seeds: files of ../shared/data/dicom and of `rtc synth`.
 */
#include "rtc_build.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dicom.h"
#include "volume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rtc_dicom *d;
	static struct rtc_volume *v;
	struct rtc_dicom_meta m;
	char *cause = NULL;

	if (d == NULL) {
		d = rtc_dicom_new();
		v = rtc_volume_new(1, 1, 1, 1, RTC_DT_INT16);
		if (d == NULL || v == NULL)
			abort();
	}
	(void)rtc_dicom_read_buffer(d, data, size, "fuzz",
	    RTC_DICOM_HEADER_ONLY, &m, NULL, &cause);
	free(cause);
	cause = NULL;
	(void)rtc_dicom_read_buffer(d, data, size, "fuzz", 0, &m, v, &cause);
	free(cause);
	return 0;
}
