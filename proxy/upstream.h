/*
 * upstream.h - sending calls to the upstreams through one libcurl multi
 * handle: a keep-alive connection pool (HTTP/2 over TLS where offered),
 * TLS verified, connect and total timeouts.
 *
 * upstream_start() takes a call (upstream owns it until the done callback
 * runs, which hands it back); the answer is captured into the call's
 * status, resp_hdrs and resp_body, or xfer_error on failure.  Bodies are
 * never decoded: what the upstream sent is what the call holds.  An answer
 * larger than response_buffer streams (call.h): the call is still
 * upstream's until the done callback, but front reads its buffer.
 */
#ifndef WEIR_UPSTREAM_H
#define WEIR_UPSTREAM_H

#include <stdint.h>

#include <curl/curl.h>

#include "call.h"
#include "config.h"

struct upstream;

/* Called once per started call when its attempt is over. */
typedef void (*upstream_done_cb)(struct call *, void *arg);
/*
 * Called (with the done callback's arg) when a call's answer starts
 * streaming, call->streaming just set, and each time bytes were added to
 * call->resp_body after that.  Runs inside curl: it must not start,
 * cancel or free anything.
 */
typedef void (*upstream_stream_cb)(struct call *, void *arg);

struct loop;

/* curl's sockets and timeout join loop.  Its callbacks are set before the
 * first upstream_start(). */
struct upstream	*upstream_new(const struct config *, struct loop *);
/* Who hears when an attempt ends (done) and when an answer streams
 * (stream), with arg: the call's life, made after the upstream. */
void		 upstream_set_callbacks(struct upstream *, upstream_done_cb,
		    upstream_stream_cb, void *arg);
void		 upstream_free(struct upstream *);
/*
 * The most upstream connections open at once (CURLMOPT_MAX_TOTAL_
 * CONNECTIONS): a quarter of max_connections, 16 to 1024.  A call in
 * flight holds one over HTTP/1.1; over HTTP/2, which Genesys offers, a
 * few connections carry them all, so the bound rarely makes a call wait.
 */
unsigned	 upstream_max_connections(const struct config *);

/* Point at a new config (after a reload): used by the next start. */
void		 upstream_set_config(struct upstream *, const struct config *);

/* Send the call.  Returns 0, or -1 with the call untouched but for
 * xfer_error (the caller still owns it then). */
int		 upstream_start(struct upstream *, struct call *,
		    uint64_t now_ms);
/* Bytes of a streaming call's resp_body were sent (resp_off moved): a
 * transfer paused for a full buffer goes on once it is half empty. */
void		 upstream_drained(struct upstream *, struct call *);
/* Abandon a started call's transfer; the done callback does not run. */
void		 upstream_cancel(struct upstream *, struct call *);

/* upstream's pass of the loop (loop_cb): start the transfers just added
 * and run the done callback for finished ones.  Transfers move on in the
 * loop's callbacks for curl's sockets and timer. */
void		 upstream_perform(void *upstream);
/* 0 while transfers just added wait for upstream_perform, else -1
 * (loop_timeout_cb). */
long		 upstream_timeout(void *upstream);
/* Transfers under way. */
unsigned	 upstream_active(const struct upstream *);

#endif
