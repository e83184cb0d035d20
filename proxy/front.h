/*
 * front.h - the client side: libmicrohttpd in external epoll mode with
 * suspend/resume.  The HTTP server, and only that.
 *
 * Reads a request and its body (up to max_body, within max_body_memory),
 * refuses what an upstream could read differently (http.c), makes a call
 * and hands it to the call's life through hooks->arrive (proxy_arrive),
 * then suspends the connection.  front_answer() takes the call back once
 * it has its answer, resumes the connection and answers the client
 * exactly once; front frees the call when the client's request is over.
 * weir's own errors are rendered from the error table (error.h).
 */
#ifndef WEIR_FRONT_H
#define WEIR_FRONT_H

#include <stdint.h>

#include "call.h"
#include "config.h"

struct front;
struct loop;
struct metrics;

/* Where a call goes from front, and what front tells about it. */
struct front_hooks {
	/* The request is whole: WERR_NONE when the call was taken, else
	 * the error front answers with. */
	enum weir_err	(*arrive)(struct call *, void *arg);
	/* A call still held by sched or upstream lost its client. */
	void		(*abandon)(struct call *, void *arg);
	/* A streaming call's client took bytes (see upstream_drained()). */
	void		(*drained)(struct call *, void *arg);
};

/*
 * Start listening on cfg->listen; front's descriptors join loop, whose
 * clock front reads.  hooks are copied.  NULL on failure (logged).
 */
struct front	*front_new(const struct config *, struct loop *,
		    const struct front_hooks *, void *arg);
/* Stop listening, and close what is left. */
void		 front_free(struct front *);
void		 front_set_config(struct front *, const struct config *);
/* Count every answer in m (may be NULL). */
void		 front_set_metrics(struct front *, struct metrics *);

/* The address actually bound ("127.0.0.1:41234"). */
const char	*front_address(const struct front *);
/* The most client connections front holds for cfg (max_connections and
 * the few it answers 503), for the descriptor budget. */
uint64_t	 front_conn_limit(const struct config *);
/* Most milliseconds the loop may sleep for front's sake, or -1
 * (loop_timeout_cb). */
long		 front_timeout(void *front);
/* front's pass of the loop: requests in, answers out (loop_cb). */
void		 front_run(void *front);
/* The call's answer streams (call->streaming), or its buffer has more:
 * answer with the head now and the body as it comes.  The call stays
 * upstream's until front_answer(), which then ends the body. */
void		 front_stream(struct front *, struct call *);
/* Answer the call's client (upstream answer or call's error). */
void		 front_answer(struct front *, struct call *);
/* Stop accepting new connections (draining); from now on every answer
 * closes its connection and a new request on a kept-alive one is answered
 * 503 weir.shutting_down. */
void		 front_quiesce(struct front *);
/*
 * The end of a drain: every call still queued or out upstream is taken
 * back through hooks->abandon and answered 503 weir.shutting_down
 * (with Connection: close).  A request still sending its body is closed
 * when libmicrohttpd next hands weir some of it, since libmicrohttpd
 * takes no answer in the middle of a body.  front_free() cuts whatever
 * is left.
 */
void		 front_shutdown(struct front *);
/* Requests accepted and not yet answered. */
uint64_t	 front_pending(const struct front *);
/* 1 when no request is under way: all answers written (a request whose
 * head is still coming does not count). */
int		 front_idle(const struct front *);
/* Bytes of request bodies held (or reserved) now, all calls together. */
uint64_t	 front_body_bytes(const struct front *);

#endif
