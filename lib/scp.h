/*
 * scp: an in-process DICOM C-STORE receiver (DCMTK dcmnet), so a scanner
 * can push each volume straight into the realtime path: nothing is
 * written to disk.
 *
 * Accepts MR Image Storage and Enhanced MR Image Storage in implicit and
 * explicit VR little endian and JPEG lossless (processes 14 and 14 SV1),
 * and Verification (C-ECHO). Associations calling another AE title than
 * ours are refused ("called AE title not recognized"), and so are calling
 * AE titles outside the allow-list when one is given.
 *
 * Every accepted socket gets TCP_NODELAY (DCMTK leaves Nagle on unless
 * the TCP_NODELAY environment variable says otherwise, and it never
 * clears the option once set); each association counts whether the option
 * was really on (rtc_scp_stats.nodelay_sockets). Reads also turn
 * TCP_QUICKACK on, so a scanner whose own stack leaves Nagle on is not
 * held up by our delayed ACKs (on loopback the real 11-file series took
 * ~300-400 ms from such a sender without it, ~60 ms with it).
 *
 * Concurrency: several associations at once, each in its own thread, up to
 * max_associations (more are refused with "local limit exceeded", a
 * transient rejection the scanner retries). The object callback is never
 * called concurrently: calls are serialised, in the order C-STOREs
 * complete, so it may push into a single-producer structure. A C-STORE is
 * answered after the callback returns, with success only when it returned
 * RTC_OK.
 *
 * Bounds: an object larger than max_object_bytes aborts its association;
 * PDUs are at most max_pdu bytes; an association silent for
 * dimse_timeout_s is aborted; the A-ASSOCIATE-RQ must come within
 * acse_timeout_s of the connection.
 */
#ifndef RTC_SCP_H
#define RTC_SCP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rtc_ctx;
struct rtc_scp;

/* One received object, handed to the callback. */
struct rtc_scp_object {
	/* A DICOM Part-10 image in memory (meta header and dataset). The
	 * callback may keep it: copy the pointer, set data to NULL, and
	 * free() it later. NULL when a dataset hook took the object. */
	void *data;
	size_t len;
	const char *sop_class_uid;
	const char *sop_instance_uid;
	const char *transfer_syntax_uid;    /* of data */
	const char *received_syntax_uid;    /* as it came over the wire */
	const char *calling_aet;
	const char *peer;                   /* the peer's IP address */
	int series_number;                  /* -1 when absent */
	int acquisition_number;
	int instance_number;
	unsigned long long pixel_bytes;     /* PixelData length in data */
	int64_t complete_ns;     /* monotonic: the C-STORE's data complete */
	unsigned long association;          /* 1, 2, ... per association */
};

/* RET: RTC_OK to answer the C-STORE with success; an error refuses it
 * (status A700, out of resources). */
typedef int (*rtc_scp_object_fn)(void *arg, struct rtc_scp_object *obj);

struct rtc_scp_opts {
	int port;                 /* 0: a free port (see rtc_scp_port()) */
	const char *bind_addr;    /* IPv4 address or host name; NULL: all */
	const char *aet;          /* our AE title; "RTC" */
	int any_called_aet;       /* 1: accept any called AE title; 0 */
	const char *const *allow_calling;  /* NULL-terminated; NULL: any */
	int max_associations;     /* 4 */
	int acse_timeout_s;       /* 10 */
	int dimse_timeout_s;      /* 60 */
	unsigned long max_pdu;    /* 131072 (the most DCMTK allows) */
	int decompress;           /* JPEG lossless handed out as explicit VR
	                           * little endian; 1 */
	size_t max_object_bytes;  /* 1 GiB */
	int nodelay;              /* TCP_NODELAY on accepted sockets; 1 */
	int quickack;             /* TCP_QUICKACK before and after reads; 1 */
	rtc_scp_object_fn on_object;
	void *arg;
};

struct rtc_scp_stats {
	unsigned long long associations;     /* accepted */
	unsigned long long rejected;         /* refused (AE, limit, contexts) */
	unsigned long long aborted;          /* ended by error or timeout */
	unsigned long long objects;          /* C-STOREs answered with success */
	unsigned long long refused_objects;  /* C-STOREs answered with failure */
	unsigned long long echoes;           /* C-ECHOs answered */
	unsigned long long bytes;            /* dataset bytes received */
	unsigned long long nodelay_sockets;  /* sockets seen with TCP_NODELAY */
	int active;                          /* associations open now */
};

/* Defaults as documented above (on_object stays NULL: set it). */
void rtc_scp_opts_init(struct rtc_scp_opts *o);

/*
 * Bind, listen and serve in background threads. IN: ctx (logging; may be
 * NULL), o (copied, strings too). OUT: *out. RET: RTC_OK; RTC_ERR_INVAL
 * (bad options: AE title, port, no callback); RTC_ERR_NET (cannot bind:
 * *cause says why, e.g. the port is in use). Stop with rtc_scp_free().
 */
int rtc_scp_start(struct rtc_ctx *ctx, const struct rtc_scp_opts *o,
    struct rtc_scp **out, char **cause);

/* RET: the TCP port we listen on. */
int rtc_scp_port(const struct rtc_scp *s);

/* OUT: counters so far. */
void rtc_scp_get_stats(struct rtc_scp *s, struct rtc_scp_stats *st);

/* Ask the server to stop (from any thread; async-signal-safe): it stops
 * accepting and aborts open associations. rtc_scp_free() waits for that.
 * The ctx's stop flag has the same effect (seen within a second). */
void rtc_scp_stop(struct rtc_scp *s);

/* Stop (if not yet), wait for all threads, free. NULL is a no-op. */
void rtc_scp_free(struct rtc_scp *s);

/* RET: nonzero for a valid AE title: 1-16 characters of printable ASCII
 * without backslash, not all spaces. */
int rtc_scp_valid_aet(const char *aet);

#ifdef __cplusplus
}
#endif

#endif
