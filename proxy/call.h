/*
 * call.h - the one object that travels through weir.
 *
 * A call is made by front when a request has arrived whole, passes to route
 * (which fills in the upstream and the forwarded headers), to sched (which
 * queues it), to upstream (which sends it and captures the answer), to
 * policy (which decides: answer or retry), and back to front, which answers
 * the client exactly once and frees it.  Exactly one module owns it at a
 * time; the owner is named in each module's header.
 */
#ifndef WEIR_CALL_H
#define WEIR_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "hdr.h"
#include "prio.h"

enum upstream_kind {
	UP_API = 0,
	UP_LOGIN,
};

/* How an upstream transfer failed, when it did (upstream.c maps curl's
 * codes onto these so that policy.c stays pure). */
enum xfer_err {
	XFER_OK = 0,
	XFER_CONNECT,		/* refused, unreachable, DNS */
	XFER_TIMEOUT,		/* connect or total timeout */
	XFER_TLS,		/* handshake, verification */
	XFER_BAD_RESPONSE,	/* garbage, truncated, reset mid-answer */
	XFER_SEND,		/* failed while sending the request */
	XFER_OTHER,
};

/* A growable byte buffer. */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

void	buf_append(struct buf *, const void *, size_t);
/* Append printf-style text (never truncated). */
void	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	buf_free(struct buf *);

struct call {
	/* the request as received */
	char			*method;	/* "GET" */
	char			*target;	/* raw request target, "/a/b?c=d" */
	struct hdrs		 in_hdrs;	/* as received, in order */
	struct buf		 body;
	int			 has_body;	/* Content-Length or chunked seen */

	/* filled by route */
	enum upstream_kind	 up;
	const char		*path;		/* target for the upstream: a
						 * suffix of target, or path_buf */
	char			*path_buf;	/* when it is not */
	char			*reqid;		/* request id sent upstream:
						 * reqid_buf, or its own block
						 * (call_set_reqid) */
	char			 reqid_buf[40];	/* a UUID, "-", or a short id */
	int			 reqid_from_client;
	char			*tenant;	/* tenant key, never a token */
	enum prio_class		 prio;		/* its class; normal by default */
	int			 prio_decided;	/* proxy_arrive set prio: echo it */

	/* timing (ms, from the loop's monotonic clock) */
	uint64_t		 arrival_ms;
	uint64_t		 deadline_ms;
	uint64_t		 sent_ms;	/* last attempt started */
	uint64_t		 not_before_ms;	/* sched: not sent before */
	uint64_t		 done_ms;
	unsigned		 attempts;	/* upstream attempts made */
	unsigned		 retries;	/* of them, after 5xx/network */
	unsigned		 throttled;	/* 429s absorbed */
	uint64_t		 enqueued_ms;	/* sched: last (re)queued */
	uint64_t		 queued_ms;	/* sched: total time queued */
	uint32_t		 win_id;	/* sched: tenant window at send */
	int			 retry_after_s;	/* >0: answer with this */

	/* the upstream's answer to the last attempt */
	int			 status;	/* 0: no HTTP answer */
	struct hdrs		 resp_hdrs;
	struct buf		 resp_body;
	size_t			 resp_off;	/* of it, sent already */
	/*
	 * The answer goes to the client as its body arrives, through
	 * resp_body as a buffer of at most response_buffer bytes: upstream
	 * fills it, front drains it.  Set once, when the buffer of a final
	 * answer first fills up; from then on the call is never retried.
	 */
	int			 streaming;
	enum xfer_err		 xfer_error;

	/*
	 * weir's own error about the call (error.h), WERR_NONE if none.
	 * The client is answered with it instead of the upstream's answer,
	 * unless that answer had started (a stream cut short): then it is
	 * for the access line only.
	 */
	enum weir_err		 err;
	char			*err_message;	/* NULL: the table's */

	/* owner links */
	void			*front;		/* front's per-request state */
	void			*xfer;		/* upstream's transfer, while sent */
	void			*lookup;	/* proxy's, while its token is
						 * looked up in Redis */
	struct call		*next;		/* sched's queue links */
	struct call		*prev;
	int			 in_queue;	/* sched: in a lane's queue */
};

/* A new call owning copies of method and target. */
struct call	*call_new(const char *method, const char *target);
/* The same, taking target (malloc'ed) over. */
struct call	*call_new_take(const char *method, char *target);
/* Make id (a copy) the call's request id. */
void		 call_set_reqid(struct call *, const char *id);
/* Drop what the last attempt brought back, before a retry. */
void		 call_reset_response(struct call *);
/* Make the answer weir's own error; message (copied) says more than the
 * table's, or is NULL. */
void		 call_set_error(struct call *, enum weir_err,
		    const char *message);
void		 call_free(struct call *);

#endif
