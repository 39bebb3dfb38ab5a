/*
 * scp_ds_recv: the receiver's C++ entry (scp_internal.hh): objects arrive
 * as DcmDataset, as lib/dicom takes them. Prints one line per object:
 *     dataset SOP_INSTANCE_UID ACQ PIXEL_BYTES XFER_UID KEPT data|nodata
 * (KEPT: 1 when this program took the dataset over). For integration
 * tests.
 *
 * usage: scp_ds_recv COUNT [TIMEOUT_S]
 */
#include "rtc_build.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

extern "C" {
#include "clock.h"
#include "error.h"
}
#include "scp.h"
#include "scp_internal.hh"

namespace {

struct state {
	int count;
	std::vector<DcmDataset *> kept;
};

int
on_dataset(void *arg, DcmDataset **ds, struct rtc_scp_object *obj)
{
	struct state *st = (struct state *)arg;
	const char *uid = NULL;
	DcmElement *px = NULL;
	unsigned long len = 0;
	int keep;

	if ((*ds)->findAndGetString(DCM_SOPInstanceUID, uid).bad() || uid == NULL)
		return RTC_ERR_FORMAT;
	if ((*ds)->findAndGetElement(DCM_PixelData, px).good() && px != NULL)
		len = px->getLength();
	/* take every other dataset over: the hook may keep it */
	keep = st->count % 2;
	printf("dataset %s %d %lu %s %d %s\n", uid, obj->acquisition_number, len,
	    DcmXfer((*ds)->getOriginalXfer()).getXferID(), keep,
	    obj->data == NULL ? "nodata" : "data");
	fflush(stdout);
	if (keep) {
		st->kept.push_back(*ds);
		*ds = NULL;
	}
	st->count++;
	return RTC_OK;
}

} // namespace

int
main(int argc, char **argv)
{
	struct rtc_scp_opts o;
	struct rtc_scp_stats ss;
	struct rtc_scp *s = NULL;
	struct state st;
	char *cause = NULL;
	long want, timeout = 60;
	int64_t deadline;

	if (argc < 2) {
		fprintf(stderr, "usage: scp_ds_recv COUNT [TIMEOUT_S]\n");
		return 64;
	}
	want = strtol(argv[1], NULL, 10);
	if (argc > 2)
		timeout = strtol(argv[2], NULL, 10);
	st.count = 0;
	rtc_scp_opts_init(&o);
	o.bind_addr = "127.0.0.1";
	if (rtc_scp_start_dataset(NULL, &o, on_dataset, &st, &s, &cause) !=
	    RTC_OK) {
		fprintf(stderr, "scp_ds_recv: %s\n", cause ? cause : "cannot start");
		free(cause);
		return 69;
	}
	printf("port %d\n", rtc_scp_port(s));
	fflush(stdout);
	deadline = rtc_clock_mono_ns() + (int64_t)timeout * 1000000000LL;
	for (;;) {
		struct timespec ts = { 0, 20 * 1000000L };

		rtc_scp_get_stats(s, &ss);
		if ((long)ss.objects >= want && ss.active == 0)
			break;
		if (rtc_clock_mono_ns() > deadline)
			break;
		nanosleep(&ts, NULL);
	}
	rtc_scp_free(s);
	printf("stats objects=%llu kept=%zu\n", ss.objects, st.kept.size());
	for (DcmDataset *d : st.kept)
		delete d;
	return (long)ss.objects >= want ? 0 : 75;
}
