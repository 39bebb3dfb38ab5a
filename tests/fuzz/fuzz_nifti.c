/*
 * fuzz_nifti: NIfTI files from elsewhere (a BIDS dataset, OpenNeuro, a
 * project's masks and weights) as rtc reads them: rtc_nifti_read (whole
 * image, under a size cap) and the replay source (rtc_replay_open reads
 * the header, rtc_replay_load one frame at a time).
 *
 * Input: one flags byte (bit 0: name the file .nii.gz, which nifticlib
 * reads through zlib), then the file's bytes.
 * Invariants: a volume read has positive dimensions and a TR that is a
 * number >= 0; a replay has a TR of 0 (unknown) or 0 < TR <= 600 s, a
 * frame count >= 1, and frames that load or fail cleanly.
 * Seeds: tests/fuzz/corpus/nifti.
 */
#include "rtc_build.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "error.h"
#include "log.h"
#include "nifti.h"
#include "replay.h"
#include "volume.h"

#include "fuzz_common.h"

#define READ_CAP ((size_t)64 << 20)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_volume *v = NULL;
	struct rtc_replay *rp = NULL;
	const char *name;
	char path[4096], *cause = NULL;
	int k;

	if (size < 1)
		return 0;
	name = (data[0] & 1) ? "image.nii.gz" : "image.nii";
	fuzz_put(fuzz_dir(), name, data + 1, size - 1);
	snprintf(path, sizeof(path), "%s/%s", fuzz_dir(), name);

	if (rtc_nifti_read(path, READ_CAP, &v, &cause) == RTC_OK) {
		FUZZ_CHECK(v->nx > 0 && v->ny > 0 && v->nz > 0 && v->nt > 0);
		FUZZ_CHECK(rtc_volume_nbytes(v) <= READ_CAP);
		FUZZ_CHECK(!isnan(v->tr) && v->tr >= 0);
		rtc_volume_free(v);
	}
	free(cause);
	cause = NULL;

	if (rtc_replay_open(fuzz_ctx(), path, NULL, &rp, &cause) == RTC_OK) {
		double tr = rtc_replay_tr(rp);

		FUZZ_CHECK(tr == 0 || (tr > 0 && tr <= 600));
		FUZZ_CHECK(rtc_replay_count(rp) >= 1);
		for (k = 0; k < rtc_replay_count(rp) && k < 3; k++) {
			char *why = NULL;

			if (rtc_replay_load(rp, k, &why) != RTC_OK) {
				free(why);
				break;
			}
		}
		(void)rtc_replay_load(rp, rtc_replay_count(rp) - 1, NULL);
		rtc_replay_close(rp);
	}
	free(cause);
	return 0;
}
