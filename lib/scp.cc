/*
 * scp: design notes (the contract is in scp.h).
 *
 * Threads: one listener thread waits (poll) on the listening socket and an
 * eventfd (stop), receives and negotiates each association itself (the
 * A-ASSOCIATE-RQ must come within acse_timeout_s), then hands it to a
 * worker thread of its own, up to max_associations. Workers loop on
 * DIMSE_receiveCommand with a one-second timeout (to see the stop flag;
 * rtc_scp_free() also shuts their sockets down so they wake at once),
 * answer C-ECHO, and receive C-STOREs into memory with
 * DIMSE_storeProvider. Object callbacks run under one mutex.
 *
 * Binding: DCMTK 3.6 binds its acceptor socket to every interface. To
 * honour bind_addr we bind and listen ourselves and give the socket to a
 * network made as a requestor, turning on the acceptor bit in DCMTK's
 * network key (dulstruc.h, installed with DCMTK); DCMTK then accepts on
 * our socket and closes it with the network.
 *
 * TCP_NODELAY: DCMTK hands every accepted socket to the network's
 * transport layer (createConnection). Ours sets TCP_NODELAY there, after
 * DCMTK's own socket options, reads it back, and counts it. Its
 * connections also turn TCP_QUICKACK on before every read, which helps
 * senders that leave Nagle on (see quickack()).
 *
 * Process-wide DCMTK settings made here, once: reverse DNS lookups of
 * peers are disabled (dcmDisableGethostbyaddr; a slow resolver would stall
 * every association), the JPEG decoders are registered, and DCMTK's
 * dcmnet logger is set to FATAL (we log what matters ourselves).
 *
 * No exception crosses into C: entry points catch everything.
 */
#include "rtc_build.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmlayer.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dicom.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/dcmnet/dulstruc.h>
#include <dcmtk/oflog/oflog.h>

extern "C" {
#include "clock.h"
#include "ctx.h"
#include "error.h"
#include "log.h"
}
#include "scp.h"
#include "scp_internal.hh"

namespace {

std::once_flag dcmtk_once;

void
dcmtk_setup(void)
{
	std::call_once(dcmtk_once, [] {
		OFLog::getLogger("dcmtk.dcmnet").setLogLevel(
		    OFLogger::FATAL_LOG_LEVEL);
		OFLog::getLogger("dcmtk.dcmdata").setLogLevel(
		    OFLogger::FATAL_LOG_LEVEL);
		OFLog::getLogger("dcmtk.dcmjpeg").setLogLevel(
		    OFLogger::FATAL_LOG_LEVEL);
		dcmDisableGethostbyaddr.set(OFTrue);
		DJDecoderRegistration::registerCodecs();
	});
}

const char *const storage_sops[] = {
	UID_MRImageStorage,
	UID_EnhancedMRImageStorage,
};

/* Our preference: uncompressed first (cheapest to decode), then JPEG
 * lossless. Each proposed context is judged on its own, so an SCU that
 * proposes JPEG lossless for a compressed file gets it accepted. */
const char *const store_xfers[] = {
	UID_LittleEndianExplicitTransferSyntax,
	UID_LittleEndianImplicitTransferSyntax,
	UID_JPEGProcess14SV1TransferSyntax,
	UID_JPEGProcess14TransferSyntax,
};

const char *const echo_sops[] = {
	UID_VerificationSOPClass,
};

const char *const echo_xfers[] = {
	UID_LittleEndianExplicitTransferSyntax,
	UID_LittleEndianImplicitTransferSyntax,
};

class NodelayLayer;

} // namespace

struct slot {
	pthread_t th;
	int used;              /* a thread runs or waits to be joined */
	int done;              /* its thread finished */
	int fd;                /* its socket, -1 once closing */
	T_ASC_Association *assoc;
	unsigned long id;
	char calling[20];
	char peer[64];
	struct rtc_scp *s;
};

struct rtc_scp {
	struct rtc_ctx *ctx;
	struct rtc_scp_opts o;
	char *aet;
	char *bind;
	char **allow;
	rtc_scp_dataset_fn hook;
	void *hook_arg;

	T_ASC_Network *net;
	int port;
	int efd;
	std::atomic<int> stopping;
	pthread_t listener;
	int listener_started;

	pthread_mutex_t mu;      /* slots, stats */
	pthread_mutex_t cb_mu;   /* serialises callbacks */
	struct slot *slots;
	unsigned long next_id;
	int last_fd;             /* from the transport layer, listener only */
	int last_nodelay;
	struct rtc_scp_stats st;
};

namespace {

/*
 * Acknowledge at once instead of delaying the ACK. A sender that leaves
 * Nagle on (most DICOM stacks: DCMTK does by default) holds each small
 * write until the previous one is acknowledged; with delayed ACKs that is
 * a 40 ms stall per PDU. Linux clears the option by itself, so it is set
 * again as data arrives.
 */
void
quickack(int fd)
{
	int on = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on));
}

/* A TCP connection that re-arms quick ACKs around every read. */
class QuickAckConnection : public DcmTCPConnection {
public:
	explicit QuickAckConnection(DcmNativeSocketType sock) :
	    DcmTCPConnection(sock) {}

	ssize_t
	read(void *buf, size_t nbyte) override
	{
		ssize_t n;

		quickack(getSocket());
		n = DcmTCPConnection::read(buf, nbyte);
		/* and acknowledge what was just read, now */
		quickack(getSocket());
		return n;
	}
};

/* The transport layer DCMTK asks for every accepted socket. */
class NodelayLayer : public DcmTransportLayer {
public:
	explicit NodelayLayer(struct rtc_scp *s) : DcmTransportLayer(), s_(s) {}

	DcmTransportConnection *
	createConnection(DcmNativeSocketType sock, OFBool secure) override
	{
		int on = 1, got = 0;
		socklen_t gl = sizeof(got);

		if (secure)
			return NULL;
		if (s_->o.nodelay)
			(void)setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &on,
			    sizeof(on));
		if (getsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &got, &gl) != 0)
			got = 0;
		s_->last_fd = sock;
		s_->last_nodelay = got != 0;
		if (!s_->o.quickack)
			return new (std::nothrow) DcmTCPConnection(sock);
		quickack(sock);
		return new (std::nothrow) QuickAckConnection(sock);
	}

private:
	struct rtc_scp *s_;
};

void
trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n > 0 && s[n - 1] == ' ')
		s[--n] = '\0';
	while (s[i] == ' ')
		i++;
	if (i > 0)
		memmove(s, s + i, n - i + 1);
}

void
stat_add(struct rtc_scp *s, unsigned long long *field, unsigned long long n)
{
	pthread_mutex_lock(&s->mu);
	*field += n;
	pthread_mutex_unlock(&s->mu);
}

void
reject(struct rtc_scp *s, T_ASC_Association *assoc,
    T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
    T_ASC_RejectParametersReason reason)
{
	T_ASC_RejectParameters rej;

	rej.result = result;
	rej.source = source;
	rej.reason = reason;
	(void)ASC_rejectAssociation(assoc, &rej);
	(void)ASC_dropAssociation(assoc);
	(void)ASC_destroyAssociation(&assoc);
	stat_add(s, &s->st.rejected, 1);
}

int
get_int(DcmItem *it, const DcmTagKey &tag)
{
	Sint32 v = 0;

	return it->findAndGetSint32(tag, v).good() ? (int)v : -1;
}

unsigned long long
pixel_bytes(DcmDataset *ds)
{
	DcmElement *el = NULL;
	DcmPixelSequence *seq = NULL;
	unsigned long long n = 0;

	if (ds->findAndGetElement(DCM_PixelData, el).bad() || el == NULL)
		return 0;
	DcmPixelData *pd = OFdynamic_cast(DcmPixelData *, el);
	E_TransferSyntax cur = EXS_Unknown;
	const DcmRepresentationParameter *rp = NULL;
	if (pd != NULL) {
		pd->getCurrentRepresentationKey(cur, rp);
		if (DcmXfer(cur).isEncapsulated() &&
		    pd->getEncapsulatedRepresentation(cur, rp, seq).good() &&
		    seq != NULL) {
			for (unsigned long i = 1; i < seq->card(); i++) {
				DcmPixelItem *item = NULL;

				if (seq->getItem(item, i).good() && item != NULL)
					n += item->getLength();
			}
			return n;
		}
	}
	return el->getLength();
}

/* Serialise ds as a Part-10 image in xfer. ds stays the caller's. */
int
serialise(DcmDataset **ds, E_TransferSyntax xfer, size_t max, void **out,
    size_t *outlen)
{
	DcmFileFormat ff(*ds, OFFalse);      /* shallow: borrows *ds */
	size_t cap = (size_t)ff.calcElementLength(xfer, EET_ExplicitLength) + 4096;
	int ret = RTC_ERR_NOMEM;

	for (;;) {
		void *buf;

		if (cap > max + 65536) {
			ret = RTC_ERR_TOO_BIG;
			break;
		}
		buf = malloc(cap);
		if (buf == NULL)
			break;
		DcmOutputBufferStream os(buf, (offile_off_t)cap);
		ff.transferInit();
		OFCondition c = ff.write(os, xfer, EET_ExplicitLength, NULL,
		    EGL_recalcGL, EPD_noChange, 0, 0, 0, EWM_createNewMeta);
		ff.transferEnd();
		if (c.good()) {
			void *b = NULL;
			offile_off_t len = 0;

			os.flushBuffer(b, len);
			*out = buf;
			*outlen = (size_t)len;
			ret = RTC_OK;
			break;
		}
		free(buf);
		if (c != EC_StreamNotifyClient) {
			ret = RTC_ERR_FORMAT;
			break;
		}
		cap *= 2;
	}
	*ds = ff.getAndRemoveDataset();
	return ret;
}

struct store_ctx {
	struct rtc_scp *s;
	struct slot *sl;
	T_ASC_PresentationContext pc;
	int over;                /* past max_object_bytes: socket shut down */
	unsigned long long bytes;
};

/* Replace the bytes of an AE title from the network that are not
 * printable ASCII with '?' (they would reach logs and outputs).
 * RET: how many there were. */
size_t
printable(char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) {
			*s = '?';
			n++;
		}
	return n;
}

/* Deliver a complete dataset. RET: the DIMSE status for the response. */
Uint16
deliver(struct store_ctx *sc, T_DIMSE_C_StoreRQ *req, DcmDataset **ds,
    int64_t complete_ns)
{
	struct rtc_scp *s = sc->s;
	struct rtc_scp_object obj;
	const char *sop_class = NULL, *sop_inst = NULL;
	E_TransferSyntax rx, cur;
	int r;

	memset(&obj, 0, sizeof(obj));
	if ((*ds)->findAndGetString(DCM_SOPClassUID, sop_class).bad() ||
	    sop_class == NULL ||
	    strcmp(sop_class, req->AffectedSOPClassUID) != 0 ||
	    strcmp(sop_class, sc->pc.abstractSyntax) != 0) {
		rtc_log(s->ctx, WARN, "scp: association %lu from %s: object "
		    "does not match its SOP class; refused", sc->sl->id,
		    sc->sl->calling);
		return STATUS_STORE_Error_DataSetDoesNotMatchSOPClass;
	}
	if ((*ds)->findAndGetString(DCM_SOPInstanceUID, sop_inst).bad() ||
	    sop_inst == NULL ||
	    strcmp(sop_inst, req->AffectedSOPInstanceUID) != 0) {
		rtc_log(s->ctx, WARN, "scp: association %lu from %s: SOP "
		    "instance differs from the request; refused", sc->sl->id,
		    sc->sl->calling);
		return STATUS_STORE_Error_CannotUnderstand;
	}
	rx = (*ds)->getOriginalXfer();
	cur = rx;
	if (s->o.decompress && DcmXfer(rx).isEncapsulated()) {
		if ((*ds)->chooseRepresentation(EXS_LittleEndianExplicit,
		    NULL).bad() ||
		    !(*ds)->canWriteXfer(EXS_LittleEndianExplicit)) {
			rtc_log(s->ctx, WARN, "scp: association %lu: cannot "
			    "decompress %s pixel data; refused", sc->sl->id,
			    DcmXfer(rx).getXferName());
			return STATUS_STORE_Error_CannotUnderstand;
		}
		(*ds)->removeAllButCurrentRepresentations();
		cur = EXS_LittleEndianExplicit;
	} else if (!DcmXfer(rx).isEncapsulated()) {
		cur = EXS_LittleEndianExplicit;
	}
	obj.sop_class_uid = sop_class;
	obj.sop_instance_uid = sop_inst;
	obj.transfer_syntax_uid = DcmXfer(cur).getXferID();
	obj.received_syntax_uid = DcmXfer(rx).getXferID();
	obj.calling_aet = sc->sl->calling;
	obj.peer = sc->sl->peer;
	obj.series_number = get_int(*ds, DCM_SeriesNumber);
	obj.acquisition_number = get_int(*ds, DCM_AcquisitionNumber);
	obj.instance_number = get_int(*ds, DCM_InstanceNumber);
	obj.pixel_bytes = pixel_bytes(*ds);
	obj.complete_ns = complete_ns;
	obj.association = sc->sl->id;

	pthread_mutex_lock(&s->cb_mu);
	if (s->hook != NULL) {
		r = s->hook(s->hook_arg, ds, &obj);
	} else {
		r = serialise(ds, cur, s->o.max_object_bytes, &obj.data, &obj.len);
		if (r == RTC_OK) {
			r = s->o.on_object(s->o.arg, &obj);
			free(obj.data);
		} else {
			rtc_log(s->ctx, WARN, "scp: association %lu: cannot "
			    "encode the object (%s); refused", sc->sl->id,
			    rtc_strerror(r));
		}
	}
	pthread_mutex_unlock(&s->cb_mu);
	return r == RTC_OK ? (Uint16)STATUS_Success :
	    (Uint16)STATUS_STORE_Refused_OutOfResources;
}

void
store_cb(void *data, T_DIMSE_StoreProgress *prog, T_DIMSE_C_StoreRQ *req,
    char *fname, DcmDataset **ds, T_DIMSE_C_StoreRSP *rsp,
    DcmDataset **detail)
{
	struct store_ctx *sc = (struct store_ctx *)data;
	int64_t now;

	(void)fname;
	(void)detail;
	if (prog->state == DIMSE_StoreProgressing) {
		sc->bytes = prog->progressBytes > 0 ?
		    (unsigned long long)prog->progressBytes : 0;
		if (!sc->over && prog->progressBytes > 0 &&
		    (size_t)prog->progressBytes > sc->s->o.max_object_bytes) {
			sc->over = 1;
			rtc_log(sc->s->ctx, WARN, "scp: association %lu from %s: "
			    "object larger than %zu bytes; aborting", sc->sl->id,
			    sc->sl->calling, sc->s->o.max_object_bytes);
			pthread_mutex_lock(&sc->s->mu);
			if (sc->sl->fd >= 0)
				shutdown(sc->sl->fd, SHUT_RDWR);
			pthread_mutex_unlock(&sc->s->mu);
		}
		return;
	}
	if (prog->state != DIMSE_StoreEnd)
		return;
	now = rtc_clock_mono_ns();
	sc->bytes = prog->progressBytes > 0 ?
	    (unsigned long long)prog->progressBytes : 0;
	if (rsp->DimseStatus != STATUS_Success) {
		stat_add(sc->s, &sc->s->st.refused_objects, 1);
		return;
	}
	if (ds == NULL || *ds == NULL) {
		rsp->DimseStatus = STATUS_STORE_Error_CannotUnderstand;
		stat_add(sc->s, &sc->s->st.refused_objects, 1);
		return;
	}
	try {
		rsp->DimseStatus = deliver(sc, req, ds, now);
	} catch (...) {
		rsp->DimseStatus = STATUS_STORE_Refused_OutOfResources;
	}
	if (rsp->DimseStatus == STATUS_Success)
		stat_add(sc->s, &sc->s->st.objects, 1);
	else
		stat_add(sc->s, &sc->s->st.refused_objects, 1);
}

/* RET: false when the association must end. */
bool
handle_store(struct rtc_scp *s, struct slot *sl, T_ASC_PresentationContextID pid,
    T_DIMSE_Message *msg)
{
	struct store_ctx sc;
	DcmDataset *ds = NULL;
	T_DIMSE_C_StoreRQ *req = &msg->msg.CStoreRQ;
	OFCondition c;

	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	sc.sl = sl;
	if (ASC_findAcceptedPresentationContext(sl->assoc->params, pid,
	    &sc.pc).bad())
		return false;
	c = DIMSE_storeProvider(sl->assoc, pid, req, NULL, OFFalse, &ds,
	    store_cb, &sc, DIMSE_NONBLOCKING, s->o.dimse_timeout_s);
	delete ds;
	stat_add(s, &s->st.bytes, sc.bytes);
	if (c.bad()) {
		if (!s->stopping.load())
			rtc_log(s->ctx, WARN, "scp: association %lu from %s: "
			    "C-STORE failed: %s", sl->id, sl->calling, c.text());
		return false;
	}
	return true;
}

void *
worker(void *arg)
{
	struct slot *sl = (struct slot *)arg;
	struct rtc_scp *s = sl->s;
	int idle = 0, aborted = 0;

	try {
		for (;;) {
			T_DIMSE_Message msg;
			T_ASC_PresentationContextID pid = 0;
			OFCondition c;

			if (s->stopping.load() || rtc_ctx_stopping(s->ctx)) {
				aborted = 1;
				break;
			}
			c = DIMSE_receiveCommand(sl->assoc, DIMSE_NONBLOCKING, 1,
			    &pid, &msg, NULL);
			if (c == DIMSE_NODATAAVAILABLE) {
				if (++idle >= s->o.dimse_timeout_s) {
					rtc_log(s->ctx, WARN, "scp: association "
					    "%lu from %s: idle for %d s; aborted",
					    sl->id, sl->calling, idle);
					aborted = 1;
					break;
				}
				continue;
			}
			idle = 0;
			if (c == DUL_PEERREQUESTEDRELEASE) {
				(void)ASC_acknowledgeRelease(sl->assoc);
				break;
			}
			if (c == DUL_PEERABORTEDASSOCIATION) {
				stat_add(s, &s->st.aborted, 1);
				break;
			}
			if (c.bad()) {
				if (!s->stopping.load())
					rtc_log(s->ctx, WARN, "scp: association "
					    "%lu from %s: %s", sl->id, sl->calling,
					    c.text());
				aborted = 1;
				break;
			}
			if (msg.CommandField == DIMSE_C_ECHO_RQ) {
				c = DIMSE_sendEchoResponse(sl->assoc, pid,
				    &msg.msg.CEchoRQ, STATUS_Success, NULL);
				if (c.bad()) {
					aborted = 1;
					break;
				}
				stat_add(s, &s->st.echoes, 1);
			} else if (msg.CommandField == DIMSE_C_STORE_RQ) {
				if (!handle_store(s, sl, pid, &msg)) {
					aborted = 1;
					break;
				}
			} else {
				rtc_log(s->ctx, WARN, "scp: association %lu from "
				    "%s: unsupported command 0x%04x; aborted",
				    sl->id, sl->calling,
				    (unsigned)msg.CommandField);
				aborted = 1;
				break;
			}
		}
	} catch (...) {
		aborted = 1;
	}
	pthread_mutex_lock(&s->mu);
	sl->fd = -1;              /* stop() must not shut down a reused fd */
	pthread_mutex_unlock(&s->mu);
	if (aborted) {
		(void)ASC_abortAssociation(sl->assoc);
		stat_add(s, &s->st.aborted, 1);
	}
	(void)ASC_dropSCPAssociation(sl->assoc);
	(void)ASC_destroyAssociation(&sl->assoc);
	rtc_debug(s->ctx, RT, "scp: association %lu ended", sl->id);
	pthread_mutex_lock(&s->mu);
	sl->done = 1;
	s->st.active--;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Join finished workers. RET: a free slot or NULL. */
struct slot *
reap(struct rtc_scp *s)
{
	struct slot *free_slot = NULL;
	int i;

	for (i = 0; i < s->o.max_associations; i++) {
		struct slot *sl = &s->slots[i];
		int join;

		pthread_mutex_lock(&s->mu);
		join = sl->used && sl->done;
		pthread_mutex_unlock(&s->mu);
		if (join) {
			pthread_join(sl->th, NULL);
			sl->used = sl->done = 0;
		}
		if (!sl->used && free_slot == NULL)
			free_slot = sl;
	}
	return free_slot;
}

bool
aet_allowed(struct rtc_scp *s, const char *calling)
{
	size_t i;

	if (s->allow == NULL)
		return true;
	for (i = 0; s->allow[i] != NULL; i++)
		if (strcmp(s->allow[i], calling) == 0)
			return true;
	return false;
}

void
peer_name(int fd, char *out, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	snprintf(out, n, "?");
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out,
		    (socklen_t)n);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    out, (socklen_t)n);
}

void
accept_one(struct rtc_scp *s)
{
	T_ASC_Association *assoc = NULL;
	char calling[64], called[64], ctxname[128], peer[64];
	struct slot *sl;
	OFCondition c;
	int fd, nodelay;

	s->last_fd = -1;
	s->last_nodelay = 0;
	c = ASC_receiveAssociation(s->net, &assoc, (long)s->o.max_pdu, NULL, NULL,
	    OFFalse, DUL_NOBLOCK, 0);
	fd = s->last_fd;
	nodelay = s->last_nodelay;
	if (c.bad()) {
		if (c != DUL_NOASSOCIATIONREQUEST)
			rtc_log(s->ctx, WARN, "scp: connection dropped before an "
			    "association: %s", c.text());
		if (assoc != NULL) {
			(void)ASC_dropAssociation(assoc);
			(void)ASC_destroyAssociation(&assoc);
		}
		return;
	}
	if (nodelay)
		stat_add(s, &s->st.nodelay_sockets, 1);
	peer_name(fd, peer, sizeof(peer));
	calling[0] = called[0] = ctxname[0] = '\0';
	(void)ASC_getAPTitles(assoc->params, calling, sizeof(calling), called,
	    sizeof(called), NULL, 0);
	(void)ASC_getApplicationContextName(assoc->params, ctxname,
	    sizeof(ctxname));
	trim(calling);
	trim(called);
	(void)printable(called);
	if (printable(calling) > 0) {
		/* control bytes are not in the AE title's repertoire */
		rtc_log(s->ctx, WARN, "scp: %s: calling AE title '%s' holds "
		    "bytes that are not printable ASCII; refused", peer,
		    calling);
		reject(s, assoc, ASC_RESULT_REJECTEDPERMANENT,
		    ASC_SOURCE_SERVICEUSER,
		    ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED);
		return;
	}
	if (strcmp(ctxname, UID_StandardApplicationContext) != 0) {
		rtc_log(s->ctx, WARN, "scp: %s (%s): unknown application "
		    "context; refused", peer, calling);
		reject(s, assoc, ASC_RESULT_REJECTEDPERMANENT,
		    ASC_SOURCE_SERVICEUSER,
		    ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED);
		return;
	}
	if (!s->o.any_called_aet && strcmp(called, s->aet) != 0) {
		rtc_log(s->ctx, WARN, "scp: %s (%s) called AE title '%s', not "
		    "'%s'; refused", peer, calling, called, s->aet);
		reject(s, assoc, ASC_RESULT_REJECTEDPERMANENT,
		    ASC_SOURCE_SERVICEUSER,
		    ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED);
		return;
	}
	if (!aet_allowed(s, calling)) {
		rtc_log(s->ctx, WARN, "scp: %s: calling AE title '%s' is not "
		    "allowed; refused", peer, calling);
		reject(s, assoc, ASC_RESULT_REJECTEDPERMANENT,
		    ASC_SOURCE_SERVICEUSER,
		    ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED);
		return;
	}
	sl = reap(s);
	if (sl == NULL) {
		rtc_log(s->ctx, WARN, "scp: %s (%s): %d associations open "
		    "already; refused for now", peer, calling,
		    s->o.max_associations);
		reject(s, assoc, ASC_RESULT_REJECTEDTRANSIENT,
		    ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
		    ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
		return;
	}
	c = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params,
	    (const char **)echo_sops, 1,
	    (const char **)echo_xfers, 2);
	if (c.good())
		c = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params,
		    (const char **)storage_sops, 2, (const char **)store_xfers, 4);
	if (c.bad() || ASC_countAcceptedPresentationContexts(assoc->params) == 0) {
		rtc_log(s->ctx, WARN, "scp: %s (%s): nothing we accept was "
		    "proposed; refused", peer, calling);
		reject(s, assoc, ASC_RESULT_REJECTEDPERMANENT,
		    ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON);
		return;
	}
	(void)ASC_setAPTitles(assoc->params, NULL, NULL, s->aet);
	c = ASC_acknowledgeAssociation(assoc);
	if (c.bad()) {
		rtc_log(s->ctx, WARN, "scp: %s (%s): cannot acknowledge: %s",
		    peer, calling, c.text());
		(void)ASC_dropAssociation(assoc);
		(void)ASC_destroyAssociation(&assoc);
		stat_add(s, &s->st.aborted, 1);
		return;
	}
	memset(sl, 0, sizeof(*sl));
	sl->s = s;
	sl->assoc = assoc;
	sl->fd = fd;
	snprintf(sl->calling, sizeof(sl->calling), "%s", calling);
	snprintf(sl->peer, sizeof(sl->peer), "%s", peer);
	pthread_mutex_lock(&s->mu);
	sl->id = ++s->next_id;
	sl->used = 1;
	s->st.associations++;
	s->st.active++;
	pthread_mutex_unlock(&s->mu);
	rtc_debug(s->ctx, RT, "scp: association %lu from %s (%s)", sl->id,
	    calling, peer);
	if (pthread_create(&sl->th, NULL, worker, sl) != 0) {
		rtc_log(s->ctx, ERROR, "scp: cannot start a thread");
		(void)ASC_abortAssociation(assoc);
		(void)ASC_dropAssociation(assoc);
		(void)ASC_destroyAssociation(&assoc);
		pthread_mutex_lock(&s->mu);
		sl->used = 0;
		s->st.active--;
		pthread_mutex_unlock(&s->mu);
	}
}

void *
listener(void *arg)
{
	struct rtc_scp *s = (struct rtc_scp *)arg;
	PRIVATE_NETWORKKEY *key = (PRIVATE_NETWORKKEY *)s->net->network;

	while (!s->stopping.load() && !rtc_ctx_stopping(s->ctx)) {
		struct pollfd pfd[2];
		int r;

		pfd[0].fd = key->networkSpecific.TCP.listenSocket;
		pfd[0].events = POLLIN;
		pfd[1].fd = s->efd;
		pfd[1].events = POLLIN;
		r = poll(pfd, 2, 1000);
		(void)reap(s);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (pfd[1].revents != 0 || s->stopping.load())
			break;
		if (pfd[0].revents & POLLIN) {
			try {
				accept_one(s);
			} catch (...) {
				rtc_log(s->ctx, ERROR, "scp: association setup "
				    "failed");
			}
		}
	}
	return NULL;
}

int
bind_listen(struct rtc_scp *s, int *fdp, char **cause)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd, on = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)s->o.port);
	if (s->bind == NULL) {
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (inet_pton(AF_INET, s->bind, &sa.sin_addr) != 1) {
		struct addrinfo hints, *res = NULL;
		int r;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_INET;
		hints.ai_socktype = SOCK_STREAM;
		r = getaddrinfo(s->bind, NULL, &hints, &res);
		if (r != 0 || res == NULL) {
			rtc_cause_set(cause, "cannot resolve %s: %s", s->bind,
			    gai_strerror(r));
			if (res != NULL)
				freeaddrinfo(res);
			return RTC_ERR_NET;
		}
		sa.sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
		freeaddrinfo(res);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rtc_cause_set(cause, "socket: %s", strerror(errno));
		return RTC_ERR_NET;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/* accepted sockets inherit it on Linux; set again per socket */
	if (s->o.nodelay)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 16) != 0) {
		char a[64];

		inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a));
		rtc_cause_set(cause, "cannot listen on %s:%d: %s", a, s->o.port,
		    strerror(errno));
		close(fd);
		return RTC_ERR_NET;
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		s->port = ntohs(sa.sin_port);
	*fdp = fd;
	return RTC_OK;
}

void
free_scp(struct rtc_scp *s)
{
	size_t i;

	if (s->net != NULL)
		(void)ASC_dropNetwork(&s->net);
	if (s->efd >= 0)
		close(s->efd);
	if (s->allow != NULL) {
		for (i = 0; s->allow[i] != NULL; i++)
			free(s->allow[i]);
		free(s->allow);
	}
	free(s->slots);
	free(s->aet);
	free(s->bind);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->cb_mu);
	delete s;
}

int
start(struct rtc_ctx *ctx, const struct rtc_scp_opts *o, rtc_scp_dataset_fn hook,
    void *hook_arg, struct rtc_scp **out, char **cause)
{
	struct rtc_scp *s;
	int lfd = -1, r;
	size_t i, n;

	if (o == NULL || (o->on_object == NULL && hook == NULL)) {
		rtc_cause_set(cause, "scp: no object callback");
		return RTC_ERR_INVAL;
	}
	if (o->port < 0 || o->port > 65535 || o->max_associations < 1 ||
	    o->max_associations > 64 || o->acse_timeout_s < 1 ||
	    o->dimse_timeout_s < 1 || o->max_pdu < 4096 ||
	    o->max_pdu > ASC_MAXIMUMPDUSIZE || o->max_object_bytes == 0) {
		rtc_cause_set(cause, "scp: invalid options");
		return RTC_ERR_INVAL;
	}
	if (!rtc_scp_valid_aet(o->aet != NULL ? o->aet : "RTC")) {
		rtc_cause_set(cause, "scp: invalid AE title '%s'", o->aet);
		return RTC_ERR_INVAL;
	}
	if (o->allow_calling != NULL)
		for (i = 0; o->allow_calling[i] != NULL; i++)
			if (!rtc_scp_valid_aet(o->allow_calling[i])) {
				rtc_cause_set(cause, "scp: invalid AE title '%s' "
				    "in the allow-list", o->allow_calling[i]);
				return RTC_ERR_INVAL;
			}
	dcmtk_setup();
	s = new (std::nothrow) rtc_scp();
	if (s == NULL)
		return RTC_ERR_NOMEM;
	s->ctx = ctx;
	s->o = *o;
	s->hook = hook;
	s->hook_arg = hook_arg;
	s->efd = -1;
	s->stopping.store(0);
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->cb_mu, NULL);
	s->aet = strdup(o->aet != NULL ? o->aet : "RTC");
	s->bind = o->bind_addr != NULL ? strdup(o->bind_addr) : NULL;
	s->slots = (struct slot *)calloc((size_t)o->max_associations,
	    sizeof(*s->slots));
	if (s->aet == NULL || s->slots == NULL ||
	    (o->bind_addr != NULL && s->bind == NULL)) {
		free_scp(s);
		return RTC_ERR_NOMEM;
	}
	s->o.aet = s->aet;
	s->o.bind_addr = s->bind;
	trim(s->aet);
	if (o->allow_calling != NULL) {
		for (n = 0; o->allow_calling[n] != NULL; n++)
			;
		s->allow = (char **)calloc(n + 1, sizeof(char *));
		if (s->allow == NULL) {
			free_scp(s);
			return RTC_ERR_NOMEM;
		}
		for (i = 0; i < n; i++) {
			s->allow[i] = strdup(o->allow_calling[i]);
			if (s->allow[i] == NULL) {
				free_scp(s);
				return RTC_ERR_NOMEM;
			}
			trim(s->allow[i]);
		}
	}
	s->o.allow_calling = NULL;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		rtc_cause_set(cause, "eventfd: %s", strerror(errno));
		free_scp(s);
		return RTC_ERR_IO;
	}
	r = bind_listen(s, &lfd, cause);
	if (r != RTC_OK) {
		free_scp(s);
		return r;
	}
	OFCondition c = ASC_initializeNetwork(NET_REQUESTOR, 0,
	    s->o.acse_timeout_s, &s->net);
	if (c.bad()) {
		rtc_cause_set(cause, "scp: DCMTK network: %s", c.text());
		close(lfd);
		free_scp(s);
		return RTC_ERR_NET;
	}
	{
		PRIVATE_NETWORKKEY *key = (PRIVATE_NETWORKKEY *)s->net->network;

		key->applicationFunction |= DICOM_APPLICATION_ACCEPTOR;
		key->networkSpecific.TCP.listenSocket = lfd;
		key->networkSpecific.TCP.port = s->port;
		s->net->role = NET_ACCEPTORREQUESTOR;
		s->net->acceptorPort = s->port;
	}
	NodelayLayer *layer = new (std::nothrow) NodelayLayer(s);
	if (layer == NULL || ASC_setTransportLayer(s->net, layer, 1).bad()) {
		delete layer;
		free_scp(s);
		return RTC_ERR_NOMEM;
	}
	if (pthread_create(&s->listener, NULL, listener, s) != 0) {
		rtc_cause_set(cause, "scp: cannot start a thread");
		free_scp(s);
		return RTC_ERR_IO;
	}
	s->listener_started = 1;
	rtc_debug(ctx, RT, "scp: listening on %s:%d as %s",
	    s->bind != NULL ? s->bind : "*", s->port, s->aet);
	*out = s;
	return RTC_OK;
}

} // namespace

extern "C" void
rtc_scp_opts_init(struct rtc_scp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->aet = "RTC";
	o->max_associations = 4;
	o->acse_timeout_s = 10;
	o->dimse_timeout_s = 60;
	o->max_pdu = ASC_MAXIMUMPDUSIZE;
	o->decompress = 1;
	o->max_object_bytes = (size_t)1 << 30;
	o->nodelay = 1;
	o->quickack = 1;
}

extern "C" int
rtc_scp_valid_aet(const char *aet)
{
	size_t n, i, spaces = 0;

	if (aet == NULL)
		return 0;
	n = strlen(aet);
	if (n == 0 || n > 16)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)aet[i];

		if (c < 0x20 || c > 0x7e || c == '\\')
			return 0;
		if (c == ' ')
			spaces++;
	}
	return spaces < n;
}

extern "C" int
rtc_scp_start(struct rtc_ctx *ctx, const struct rtc_scp_opts *o,
    struct rtc_scp **out, char **cause)
{
	try {
		return start(ctx, o, NULL, NULL, out, cause);
	} catch (const std::bad_alloc &) {
		return RTC_ERR_NOMEM;
	} catch (...) {
		rtc_cause_set(cause, "scp: cannot start");
		return RTC_ERR_INTERNAL;
	}
}

int
rtc_scp_start_dataset(struct rtc_ctx *ctx, const struct rtc_scp_opts *o,
    rtc_scp_dataset_fn hook, void *hook_arg, struct rtc_scp **out,
    char **cause)
{
	if (hook == NULL) {
		rtc_cause_set(cause, "scp: no dataset hook");
		return RTC_ERR_INVAL;
	}
	try {
		return start(ctx, o, hook, hook_arg, out, cause);
	} catch (const std::bad_alloc &) {
		return RTC_ERR_NOMEM;
	} catch (...) {
		rtc_cause_set(cause, "scp: cannot start");
		return RTC_ERR_INTERNAL;
	}
}

extern "C" int
rtc_scp_port(const struct rtc_scp *s)
{
	return s->port;
}

extern "C" void
rtc_scp_get_stats(struct rtc_scp *s, struct rtc_scp_stats *st)
{
	pthread_mutex_lock(&s->mu);
	*st = s->st;
	pthread_mutex_unlock(&s->mu);
}

extern "C" void
rtc_scp_stop(struct rtc_scp *s)
{
	uint64_t one = 1;
	ssize_t r;

	if (s == NULL)
		return;
	s->stopping.store(1);
	r = write(s->efd, &one, sizeof(one));
	(void)r;
}

extern "C" void
rtc_scp_free(struct rtc_scp *s)
{
	int i;

	if (s == NULL)
		return;
	rtc_scp_stop(s);
	if (s->listener_started)
		pthread_join(s->listener, NULL);
	/* wake workers blocked in a read */
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->o.max_associations; i++)
		if (s->slots[i].used && !s->slots[i].done && s->slots[i].fd >= 0)
			shutdown(s->slots[i].fd, SHUT_RDWR);
	pthread_mutex_unlock(&s->mu);
	for (i = 0; i < s->o.max_associations; i++) {
		if (s->slots[i].used) {
			pthread_join(s->slots[i].th, NULL);
			s->slots[i].used = 0;
		}
	}
	try {
		free_scp(s);
	} catch (...) {
	}
}
