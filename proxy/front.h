/*
 * front.h - the client side: libmicrohttpd in external epoll mode with
 * suspend/resume.
 *
 * Reads a request and its body (up to max_body), makes a call, routes it
 * and hands it to sched, then suspends the connection.  front_answer()
 * takes the call back once it has its answer, resumes the connection and
 * answers the client exactly once; front frees the call when the client's
 * request is over.  weir's own errors are JSON in Genesys' error shape.
 */
#ifndef WEIR_FRONT_H
#define WEIR_FRONT_H

#include <stdint.h>

#include "call.h"
#include "config.h"
#include "sched.h"

struct front;

/* Called when a call still held by sched or upstream loses its client. */
typedef void (*front_abandon_cb)(struct call *, void *arg);

/* Start listening on cfg->listen.  NULL on failure (logged). */
struct tenant_map;
struct front	*front_new(const struct config *, struct sched *,
		    const struct tenant_map *, front_abandon_cb, void *arg);
/* Stop listening; every call must have been answered first. */
void		 front_free(struct front *);
void		 front_set_config(struct front *, const struct config *);
struct metrics;
/* Count every answer in m (may be NULL). */
void		 front_set_metrics(struct front *, struct metrics *);

/* The address actually bound ("127.0.0.1:41234"). */
const char	*front_address(const struct front *);
/* The fd to poll for readability (the daemon's epoll fd). */
int		 front_fd(const struct front *);
/* The fd of the hang-up watch over waiting clients (poll for reading). */
int		 front_watch_fd(const struct front *);
/* The listening socket while libmicrohttpd does not accept (at its
 * connection limit or out of descriptors) and front answers new clients
 * 503 itself (poll for reading), or -1. */
int		 front_shed_fd(const struct front *);
/* The most client connections front holds for cfg (max_connections and
 * the few it answers 503), for the descriptor budget. */
uint64_t	 front_conn_limit(const struct config *);
/* Most milliseconds the loop may sleep for front's sake, or -1. */
long		 front_timeout(struct front *);
/* Do the front's work; now_ms is the loop's clock. */
void		 front_run(struct front *, uint64_t now_ms);
/* Called with the abandon callback's arg when bytes of a streaming call's
 * resp_body went to the client (see upstream_drained()). */
void		 front_set_drained(struct front *, front_abandon_cb);
/* The call's answer streams (call->streaming), or its buffer has more:
 * answer with the head now and the body as it comes.  The call stays
 * upstream's until front_answer(), which then ends the body. */
void		 front_stream(struct front *, struct call *, uint64_t now_ms);
/* Answer the call's client (upstream answer or call's error). */
void		 front_answer(struct front *, struct call *, uint64_t now_ms);
/* Stop accepting new connections (draining); from now on every answer
 * closes its connection and a new request on a kept-alive one is answered
 * 503 weir.shutting_down. */
void		 front_quiesce(struct front *);
/*
 * The end of a drain: every call still queued or out upstream is taken
 * back through the abandon callback and answered 503 weir.shutting_down
 * (with Connection: close).  A request still sending its body is closed
 * when libmicrohttpd next hands weir some of it, since libmicrohttpd
 * takes no answer in the middle of a body.  front_free() cuts whatever
 * is left.
 */
void		 front_shutdown(struct front *, uint64_t now_ms);
/* Requests accepted and not yet answered. */
uint64_t	 front_pending(const struct front *);
/* 1 when no request is under way: all answers written (a request whose
 * head is still coming does not count). */
int		 front_idle(const struct front *);
/* Bytes of request bodies held (or reserved) now, all calls together. */
uint64_t	 front_body_bytes(const struct front *);

#endif
