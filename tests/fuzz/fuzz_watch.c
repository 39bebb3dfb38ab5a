/*
 * fuzz_watch: DICOM objects as the realtime intake meets them before
 * decoding: a file the scanner is still writing into the watched folder
 * (rtc_watch_dcm_complete: complete, not yet, or never), and an object in
 * memory as the DICOM receiver hands it over (rtc_watch_dcm_probe_buffer,
 * with the pixel digest).
 *
 * Invariants: completeness is 1, 0 or RTC_ERR_FORMAT; a probe's strings
 * are NUL-terminated within their arrays, counts are sane, the digest is
 * 64 hex digits when there are pixels; the first half of a complete
 * file is "not yet" or complete, never refused for good (the watcher
 * would drop a file the scanner is still writing).
 * Seeds: DICOM files of `rtc synth`, made when the corpus is replayed
 * (tests/fuzz/corpus.sh); nothing is copied from real data.
 */
#include "rtc_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "watch_dcm.h"

#include "fuzz_common.h"

static void
check_probe(const struct rtc_dcm_probe *p)
{
	size_t i;

	FUZZ_CHECK(memchr(p->sop_class_uid, '\0', RTC_DCM_UID_MAX));
	FUZZ_CHECK(memchr(p->sop_instance_uid, '\0', RTC_DCM_UID_MAX));
	FUZZ_CHECK(memchr(p->transfer_syntax_uid, '\0', RTC_DCM_UID_MAX));
	FUZZ_CHECK(memchr(p->series_uid, '\0', RTC_DCM_UID_MAX));
	FUZZ_CHECK(memchr(p->pixel_sha256, '\0', sizeof(p->pixel_sha256)));
	if (p->pixel_sha256[0] != '\0') {
		FUZZ_CHECK(strlen(p->pixel_sha256) == 64);
		for (i = 0; i < 64; i++)
			FUZZ_CHECK(strchr("0123456789abcdef",
			    p->pixel_sha256[i]) != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_dcm_probe p;
	char path[4096], *cause = NULL;
	int c;

	memset(&p, 0, sizeof(p));
	if (rtc_watch_dcm_probe_buffer(data, size, RTC_DCM_PROBE_DIGEST, &p,
	    &cause) == RTC_OK)
		check_probe(&p);
	free(cause);

	fuzz_put(fuzz_dir(), "f.dcm", data, size);
	snprintf(path, sizeof(path), "%s/f.dcm", fuzz_dir());
	c = rtc_watch_dcm_complete(path, NULL);
	FUZZ_CHECK(c == 1 || c == 0 || c == RTC_ERR_FORMAT);
	if (c == 1 && size > 200) {
		/* the same file while still being written */
		fuzz_put(fuzz_dir(), "f.dcm", data, size / 2);
		c = rtc_watch_dcm_complete(path, NULL);
		FUZZ_CHECK(c == 1 || c == 0);
	}
	return 0;
}
