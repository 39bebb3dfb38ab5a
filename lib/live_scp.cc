/*
 * live_scp: rtc live --scp, the C-STORE receiver feeding the session
 * (see live.h).
 *
 * Design: the receiver's dataset hook (scp_internal.hh) hands over each
 * DcmDataset as DCMTK parsed it off the wire; lib/dicom decodes it in
 * place (rtc_dicom_read_dataset), so a volume goes from the network to
 * the pipeline without being serialised or written anywhere. The hook is
 * never called concurrently, so one intake (decoder and slice assembler)
 * serves every association. The latency clock starts at the C-STORE's
 * completion (obj->complete_ns). The C-STORE is answered with success
 * once the object is queued, or with a failure when it is not an image
 * rtc can decode (the scanner then reports it).
 */
#include "rtc_build.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>

#include <cstdlib>
#include <ctime>

extern "C" {
#include "clock.h"
#include "ctx.h"
#include "error.h"
#include "log.h"
#include "rtqueue.h"
}
#include "dicom_internal.hh"
#include "live_int.h"
#include "scp.h"
#include "scp_internal.hh"

namespace {

int
on_dataset(void *arg, DcmDataset **ds, struct rtc_scp_object *obj) noexcept
{
	struct rtc_live_intake *in = static_cast<struct rtc_live_intake *>(arg);
	struct rtc_volume *v = rtc_live_get_free(in->lv);
	char *why = NULL;
	int r;

	if (v == NULL)
		return RTC_ERR_NOMEM;
	r = rtc_dicom_read_dataset(in->dec, *ds, EXS_Unknown,
	    obj->sop_instance_uid, 0, &in->meta, v, &why);
	if (r == RTC_OK)
		r = rtc_live_intake_decoded(in, v, obj->complete_ns, &why);
	else
		rtc_rtqueue_recycle(in->lv->q, v);
	if (r != RTC_OK)
		rtc_live_intake_failed(in, "a received object", r, why);
	free(why);
	return r;
}

} // namespace

extern "C" int
rtc_live_run_scp(struct rtc_live *lv, const struct rtc_live_scp_opts *so,
    void (*on_ready)(void *arg, int port), void *arg, char **cause)
{
	const struct rtc_project *p = lv->p;
	struct rtc_live_intake *in = NULL;
	struct rtc_scp_opts o;
	struct rtc_scp *s = NULL;
	int r;

	if ((r = rtc_live_intake_new(lv, &in)) != RTC_OK)
		return r;
	rtc_scp_opts_init(&o);
	o.port = so->port;
	o.bind_addr = so->bind_addr;
	o.aet = so->aet != NULL ? so->aet : p->intake.aet;
	o.allow_calling = so->allow != NULL ? so->allow :
	    p->intake.n_allow > 0 ? p->intake.allow : NULL;
	o.max_associations = p->intake.max_associations;
	o.dimse_timeout_s = p->intake.scp_timeout_s;
	r = rtc_scp_start_dataset(lv->ctx, &o, on_dataset, in, &s, cause);
	if (r != RTC_OK)
		goto out;
	rtc_log(lv->ctx, INFO, "receiving DICOM as %s on port %d", o.aet,
	    rtc_scp_port(s));
	if (on_ready != NULL)
		on_ready(arg, rtc_scp_port(s));
	while (!rtc_live_done(lv)) {
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
	}
	r = RTC_OK;
out:
	/* stops accepting and waits for the callback threads */
	rtc_scp_free(s);
	rtc_live_intake_flush(in);
	rtc_live_intake_free(in);
	return r;
}
