/*
 * front.c - the client side of weir: libmicrohttpd, external epoll mode,
 * suspend/resume.  See front.h.
 *
 * One struct req per HTTP request, made in the URI log callback (the only
 * place MHD shows the raw request target, query included, before it
 * unescapes anything) and freed in the completion callback.  A request
 * goes NEW -> BODY -> QUEUED (connection suspended, the call out in sched
 * or upstream) -> ANSWERED; errors found before dispatch go straight to
 * ANSWERED.  An answer larger than response_buffer streams (front_stream):
 * the head is sent while the transfer runs, and the body is read from the
 * call's bounded buffer; the access line is written when it ends.
 * The HTTP server and only that: the call's life is proxy.c's, reached
 * through front_hooks.  Touches http (head checks), route (a refused
 * call's request id), error, watch and log; reads the loop's clock.
 */
#include <sys/mman.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "error.h"
#include "front.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "mhd.h"
#include "reqid.h"
#include "route.h"
#include "watch.h"
#include "xmalloc.h"

enum req_state {
	RQ_NEW = 0,	/* request line and headers read */
	RQ_BODY,	/* reading the body */
	RQ_QUEUED,	/* call out in sched/upstream, connection suspended */
	RQ_ANSWERED,	/* a response is queued */
};

struct req {
	struct front		*f;
	enum req_state		 state;
	char			*uri;		/* raw request target, until
						 * the call takes it */
	const char		*uri_at;	/* where MHD had it (not read) */
	struct call		*call;
	struct MHD_Connection	*conn;
	struct watch_item	 watch;		/* while suspended */
	uint64_t		 sent;		/* body bytes handed to MHD */
	size_t			 body_held;	/* this body's part of body_bytes */
	size_t			 pool_used;	/* of the connection's pool, by
						 * the request (POOL_ENTRY) */
	const char		*method_at;	/* MHD's, in the pool: where
						 * the head starts */
	struct req		*anext, *aprev;	/* every request not yet over */
	/* One bit each: a waiting call holds one of these per request. */
	unsigned		 too_large:1;	/* body went over max_body */
	unsigned		 answer_ready:1; /* call back from upstream */
	unsigned		 gone:1;	/* the client hung up */
	unsigned		 close:1;	/* close after the answer */
	/* A streaming answer (call.h): the head goes out, the body
	 * follows as upstream fills the call's buffer. */
	unsigned		 streaming:1;	/* front_stream() ran */
	unsigned		 xfer_running:1; /* until front_answer() */
	unsigned		 streamed:1;	/* its response is queued */
	unsigned		 stream_wait:1;	/* reader suspended: no bytes */
	unsigned		 busy:1;	/* body went over max_body_memory */
};

struct front {
	const struct config	*cfg;
	const struct loop_time	*clock;		/* the loop's */
	struct loop		*loop;
	struct front_hooks	 hooks;		/* into the call's life */
	void			*hooks_arg;
	struct metrics		*metrics;
	struct MHD_Daemon	*d;
	char			 addr[INET6_ADDRSTRLEN + 8];
	uint64_t		 pending;	/* requests not yet answered */
	struct watch		*watch;		/* hang-ups while suspended */
	uint64_t		 conns;		/* client connections open */
	/*
	 * When libmicrohttpd stops accepting (at its connection limit, or
	 * out of file descriptors) the clients wait in the listen backlog
	 * for as long as the connections it holds stay open.  weir then
	 * accepts them itself and answers 503 (shed()).  The reserve is one
	 * descriptor kept open to be given up for such an accept when there
	 * is none left.
	 */
	int			 listen_fd;	/* libmicrohttpd's; -1 after
						 * front_quiesce */
	int			 reserve_fd;	/* /dev/null, or -1 */
	uint64_t		 conn_limit;	/* libmicrohttpd's */
	size_t			 pool_size;	/* per connection */
	int			 out_of_fds;	/* libmicrohttpd said so */
	int			 head_failed;	/* libmicrohttpd could not build
						 * an answer head: the connection
						 * it closes next */
	int			 shedding;	/* listen_fd is in the loop */
	/*
	 * Request bodies are buffered whole (a call retried after a 429 sends
	 * its body again), so they are what a crowd of calls costs: their sum
	 * is held under max_body_memory.  A body with a Content-Length holds
	 * its whole length from its head on, so that uploads arriving side by
	 * side cannot pass the budget together; a chunked body holds what it
	 * has received.
	 */
	uint64_t		 body_bytes;
	struct req		*live;		/* every request not yet over */
	char			*zero_page;	/* page_size zero bytes */
	size_t			 page_size;
	int			 draining;	/* stopping: answers close */
	int			 shutdown;	/* drain over: all answered 503 */
};

/*
 * libmicrohttpd's own connection limit stops accepting, which leaves the
 * client hanging in the listen backlog.  Its limit is set this much above
 * max_connections, and the connections past max_connections are answered
 * 503 and closed: a clear refusal.  Past libmicrohttpd's limit, shed()
 * answers them.
 */
#define CONN_SLACK	64

/*
 * libmicrohttpd's pool per connection is max_header_size and this: room
 * for the fields' entries and the answer head (weir's fields and the
 * upstream's) after the request head.  After a head of max_header_size
 * and a few fields, an answer head of some 1.9 KiB; after an SDK's head
 * of 500 bytes, 5 KiB (nginx's proxy_buffer_size is 4k or 8k).  What a
 * head takes is counted (pool_used, POOL_ENTRY): what does not fit is
 * answered 431 or 502, never cut.
 */
#define POOL_SLACK	2560

/*
 * What libmicrohttpd's pool holds, beyond the head's own bytes: each
 * field, query argument and cookie has an entry there (0.9.75: 56 bytes,
 * 16-aligned; measured: every field took 64 bytes of room from the
 * answer head).  The answer head goes into what is left, with its status
 * line and the fields libmicrohttpd adds (Content-Length, Connection):
 * ANSWER_FRAME.  A head that does not fit is not sent: libmicrohttpd
 * closes the connection without a word.  So a request head is refused
 * (431) unless ERROR_ROOM is left for weir's own error answer, and an
 * upstream answer head that does not fit is answered 502 instead.
 */
#define POOL_ENTRY	64
#define ANSWER_FRAME	128
#define ERROR_ROOM	1024

/* How much of a streaming answer MHD asks for at once. */
#define STREAM_BLOCK	65536

/* Connections shed() refuses per loop pass; the rest wait for the next. */
#define SHED_BATCH	64

static void	stream_wake(struct front *, struct req *);
static enum MHD_Result send_answer(struct front *, struct req *);

static void
http_date(const struct front *f, char *out, size_t len)
{
	time_t		 t = (time_t)(f->clock->wall_ms / 1000);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The call's error (error.h) as weir's JSON answer. */
static struct MHD_Response *
error_response(const struct front *f, const struct call *c,
    size_t *bytes_out)
{
	struct MHD_Response	*resp;
	struct buf		 b = { 0 };
	char			 date[64];

	error_json(&b, c->err, c->err_message, c->reqid);
	*bytes_out = b.len;
	resp = MHD_create_response_from_buffer_with_free_callback(b.len, b.p,
	    free);
	if (resp == NULL) {
		buf_free(&b);
		return NULL;
	}
	http_date(f, date, sizeof(date));
	MHD_add_response_header(resp, "Date", date);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return resp;
}

/* What collect_header() gathers: the fields, and the first rule one of
 * them broke (it can be seen only here, in libmicrohttpd's own bytes). */
struct collect {
	struct hdrs	*h;
	const char	*bad;
	const char	*value;		/* the last field's, as MHD has it */
	size_t		 value_size;
};

/* MHD_get_connection_values() iterator: what the fields' names and
 * values take, for one block (hdrs_init_packed). */
static enum MHD_Result
count_bytes(void *arg, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	(void)key;
	*(size_t *)arg += key_size + (value != NULL ? value_size : 0);
	return MHD_YES;
}

/* MHD_get_connection_values() iterator: keep every header, in order. */
static enum MHD_Result
collect_header(void *arg, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct collect	*col = arg;

	(void)kind;
	/* The fold first: it is what makes a name look odd or lie away
	 * from the line before. */
	if (col->bad == NULL && value != NULL &&
	    (col->bad = http_check_fold(key, key_size, value)) == NULL)
		col->bad = http_check_field(key, key_size, value, value_size);
	if (col->bad == NULL && col->value != NULL)
		col->bad = http_check_line_end(col->value, col->value_size,
		    key);
	col->value = value;
	col->value_size = value_size;
	hdrs_addn(col->h, key, key_size, value != NULL ? value : "",
	    value != NULL ? value_size : 0);
	return MHD_YES;
}

/* Every answer: one access line and the counters. */
static void
answered(struct front *f, const struct call *c, int status, size_t bytes)
{
	log_access(c, status, bytes, f->clock->mono_ms);
	if (f->metrics != NULL)
		metrics_answered(f->metrics, c, status);
}

/* What every answer carries: the request id and weir's X-Weir-* fields,
 * and Retry-After when weir recomputed it. */
static void
add_weir_headers(struct front *f, struct MHD_Response *resp,
    const struct call *c)
{
	char	 num[32];

	MHD_add_response_header(resp, f->cfg->request_id_header, c->reqid);
	if (c->tenant != NULL)
		MHD_add_response_header(resp, "X-Weir-Tenant", c->tenant);
	snprintf(num, sizeof(num), "%u", c->attempts);
	MHD_add_response_header(resp, "X-Weir-Attempts", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)c->queued_ms);
	MHD_add_response_header(resp, "X-Weir-Queued-Ms", num);
	if (c->prio_decided)
		MHD_add_response_header(resp, "X-Weir-Priority",
		    prio_name(c->prio));
	if (c->retry_after_s > 0) {
		snprintf(num, sizeof(num), "%d", c->retry_after_s);
		MHD_add_response_header(resp, "Retry-After", num);
	}
}

/* What r's head takes of its connection's pool: the request line, its
 * nfields fields of field_bytes (names and values, as count_bytes()
 * counts them), and an entry for each field and cookie (none for the
 * query: see on_uri()). */
static size_t
pool_used(const struct req *r, const struct call *c, const char *version,
    size_t field_bytes, size_t nfields)
{
	int	 cookies;

	cookies = MHD_get_connection_values_n(r->conn, MHD_COOKIE_KIND, NULL,
	    NULL);
	return strlen(c->method) + strlen(c->target) + strlen(version) + 6 +
	    field_bytes + 4 * nfields +
	    (nfields + (cookies > 0 ? (size_t)cookies : 0)) * POOL_ENTRY;
}

/* MHD_get_response_headers() iterator: the formatted size of the fields. */
static enum MHD_Result
count_field(void *arg, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	size_t	*n = arg;

	(void)kind;
	*n += strlen(key) + (value != NULL ? strlen(value) : 0) + 4;
	return MHD_YES;
}

/* What resp's head takes of the pool, with what libmicrohttpd adds. */
static size_t
head_size(struct MHD_Response *resp)
{
	size_t	 n = ANSWER_FRAME;

	MHD_get_response_headers(resp, count_field, &n);
	return n;
}

/* Whether libmicrohttpd can send resp's head after r's; if not, an
 * upstream's answer says so in the log. */
static int
head_fits(const struct front *f, const struct req *r,
    struct MHD_Response *resp)
{
	size_t	 n = head_size(resp);

	if (r->pool_used + n <= f->pool_size)
		return 1;
	if (r->call->err == WERR_NONE)
		log_warnx("%s: the upstream's answer head (%zu bytes with "
		    "weir's fields) does not fit after the request's (%zu) "
		    "in the connection's %zu: answered 502", r->call->reqid,
		    n, r->pool_used, f->pool_size);
	return 0;
}

/* MHD_get_response_headers() iterator: each field as a line of b, but
 * Connection (answer_raw() closes). */
static enum MHD_Result
raw_field(void *arg, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	(void)kind;
	if (strcasecmp(key, "Connection") != 0)
		buf_printf(arg, "%s: %s\r\n", key, value != NULL ? value : "");
	return MHD_YES;
}

/*
 * Write resp, c's error, straight to r's socket and close: the request's
 * head filled so much of the connection's pool that libmicrohttpd has no
 * room left for the answer head (it would close without a word).  Nothing
 * else is in flight on the connection: libmicrohttpd reads a request only
 * once the one before is answered.
 */
static enum MHD_Result
answer_raw(struct req *r, struct MHD_Response *resp, int status)
{
	const union MHD_ConnectionInfo	*ci;
	struct call			*c = r->call;
	struct buf			 b = { 0 }, body = { 0 };
	ssize_t				 n;

	error_json(&body, c->err, c->err_message, c->reqid);
	buf_printf(&b, "HTTP/1.1 %d %s\r\n", status,
	    MHD_get_reason_phrase_for((unsigned)status));
	MHD_get_response_headers(resp, raw_field, &b);
	buf_printf(&b, "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    body.len);
	if (strcmp(c->method, "HEAD") != 0)
		buf_append(&b, body.p, body.len);
	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	n = ci != NULL ? send(ci->connect_fd, b.p, b.len,
	    MSG_NOSIGNAL | MSG_DONTWAIT) : -1;
	log_info("%s: the request head left no room for an answer in its "
	    "connection's buffer: answered on the socket (%zd of %zu bytes) "
	    "and closed", c->reqid, n, b.len);
	buf_free(&b);
	buf_free(&body);
	return MHD_NO;
}

/* Queue weir's error e for a request that never reached sched; message
 * says more than the table's, or is NULL. */
static enum MHD_Result
answer_early(struct front *f, struct req *r, enum weir_err e,
    const char *message)
{
	struct MHD_Response	*resp;
	struct call		*c = r->call;
	enum MHD_Result		 ret;
	size_t			 bytes_out = 0;

	/* A call refused before routing still gets its id. */
	if (route_request_id(f->cfg, c) == -1)
		call_set_reqid(c, "-");
	if (c->err != e || message != NULL)
		call_set_error(c, e, message);
	resp = error_response(f, c, &bytes_out);
	if (resp == NULL)
		return MHD_NO;
	add_weir_headers(f, resp, c);
	if (r->close || f->draining)
		MHD_add_response_header(resp, "Connection", "close");
	if (head_fits(f, r, resp))
		ret = MHD_queue_response(r->conn, (unsigned)error_status(e),
		    resp);
	else
		ret = answer_raw(r, resp, error_status(e));
	MHD_destroy_response(resp);
	r->state = RQ_ANSWERED;
	f->pending--;
	answered(f, c, error_status(e), bytes_out);
	return ret;
}

/* Would n more bytes of bodies pass max_body_memory (0: no limit)? */
static int
over_budget(const struct front *f, uint64_t n)
{
	return f->cfg->max_body_memory != 0 &&
	    f->body_bytes + n > f->cfg->max_body_memory;
}

/* Give back what r's body held of max_body_memory. */
static void
release_body(struct front *f, struct req *r)
{
	f->body_bytes -= r->body_held;
	r->body_held = 0;
}

static enum MHD_Result
on_headers(struct front *f, struct req *r, const char *method,
    const char *version)
{
	struct call	*c;
	struct collect	 col;
	const char	*cl, *message;
	char		*end;
	unsigned long long n;
	enum weir_err	 e;
	size_t		 bytes = 0;
	int		 nfields;

	/* The call keeps the target, and the fields in a list of their
	 * size: a waiting call holds nothing twice. */
	c = r->call = call_new_take(method, r->uri);
	r->uri = NULL;
	c->front = r;
	c->arrival_ms = f->clock->mono_ms;
	memset(&col, 0, sizeof(col));
	col.h = &c->in_hdrs;
	nfields = MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND,
	    count_bytes, &bytes);
	hdrs_init_packed(col.h, nfields > 0 ? (size_t)nfields : 0, bytes);
	MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, collect_header,
	    &col);
	if (col.bad == NULL && col.value != NULL)
		col.bad = http_check_line_end(col.value, col.value_size, NULL);
	r->pool_used = pool_used(r, c, version, bytes,
	    nfields > 0 ? (size_t)nfields : 0);
	r->method_at = method;
	cl = hdrs_get(&c->in_hdrs, "Content-Length");
	c->has_body = cl != NULL ||
	    hdrs_get(&c->in_hdrs, "Transfer-Encoding") != NULL;
	r->state = RQ_BODY;
	f->pending++;
	/* What libmicrohttpd let through but the upstream could read
	 * differently: refused, and nothing more read on this connection. */
	if ((message = http_check_method(c->method)) != NULL ||
	    (message = http_check_target(c->target)) != NULL ||
	    (message = http_check_request_line(method, r->uri_at,
	    strlen(c->target), version)) != NULL ||
	    (message = col.bad) != NULL) {
		r->close = 1;
		return answer_early(f, r, WERR_BAD_REQUEST, message);
	}
	if ((e = http_check_framing(c->method, c->target, &c->in_hdrs,
	    version, f->cfg->max_header_size, &message)) != WERR_NONE) {
		r->close = 1;
		return answer_early(f, r, e, message);
	}
	if (r->pool_used + ERROR_ROOM > f->pool_size) {
		r->close = 1;
		return answer_early(f, r, WERR_HEADERS_TOO_LARGE, "The request "
		    "head has too many fields or query arguments for "
		    "max_header_size: each takes 64 bytes more");
	}
	if (f->draining) {
		/* A keep-alive client's next request, after SIGTERM. */
		r->close = 1;
		return answer_early(f, r, WERR_SHUTTING_DOWN, NULL);
	}
	if (f->conns > f->cfg->max_connections) {
		r->close = 1;
		c->retry_after_s = 1;
		return answer_early(f, r, WERR_TOO_MANY_CONNECTIONS, NULL);
	}
	if (cl != NULL) {
		errno = 0;
		n = strtoull(cl, &end, 10);
		/* MHD already refused a malformed Content-Length. */
		if (errno == 0 && end != cl && n > f->cfg->max_body)
			return answer_early(f, r, WERR_BODY_TOO_LARGE, NULL);
		if (errno == 0 && end != cl && n > 0) {
			if (over_budget(f, n)) {
				/* Not read: close after the answer. */
				r->close = 1;
				c->retry_after_s = 1;
				return answer_early(f, r, WERR_BUSY, NULL);
			}
			/* Room for the whole body, held from now on. */
			c->body.p = xmalloc((size_t)n);
			c->body.cap = (size_t)n;
			r->body_held = (size_t)n;
			f->body_bytes += n;
		}
	}
	return MHD_YES;
}

static enum MHD_Result
on_body(struct front *f, struct req *r, const char *data, size_t *size)
{
	struct call	*c = r->call;
	size_t		 more;

	if (!r->too_large && c->body.len + *size > f->cfg->max_body) {
		/* Chunked and too long: read on, answer 413 at the end. */
		r->too_large = 1;
		release_body(f, r);
		buf_free(&c->body);
	}
	if (!r->too_large && !r->busy &&
	    c->body.len + *size > r->body_held) {
		/* Chunked: held as it comes, within max_body_memory; past
		 * it, read on and answer 503 at the end. */
		more = c->body.len + *size - r->body_held;
		if (over_budget(f, more)) {
			r->busy = 1;
			release_body(f, r);
			buf_free(&c->body);
		} else {
			r->body_held += more;
			f->body_bytes += more;
		}
	}
	if (!r->too_large && !r->busy)
		buf_append(&c->body, data, *size);
	*size = 0;
	return MHD_YES;
}

/* A connection was suspended: watch for its client hanging up. */
static void
enlist(struct front *f, struct req *r)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		watch_add(f->watch, &r->watch, ci->connect_fd,
		    f->clock->mono_ms);
}

static void
unwatch(struct front *f, struct req *r)
{
	watch_del(f->watch, &r->watch);
}

/* The request whose watch item it is. */
static struct req *
req_of_watch(struct watch_item *it)
{
	return (struct req *)((char *)it - offsetof(struct req, watch));
}

/* watch_cb: a client hung up while its connection was suspended. */
static void
on_gone(struct watch_item *it, void *arg)
{
	struct front	*f = arg;
	struct req	*r = req_of_watch(it);

	if (r->stream_wait) {
		/* Its reader cuts the answer short, and on_completed()
		 * takes the call back. */
		r->stream_wait = 0;
		r->gone = 1;
		MHD_resume_connection(r->conn);
		return;
	}
	if (r->answer_ready)
		return;
	r->gone = 1;
	f->hooks.abandon(r->call, f->hooks_arg);
	r->call->done_ms = f->clock->mono_ms;
	answered(f, r->call, 499, 0);
	r->answer_ready = 1;
	MHD_resume_connection(r->conn);
}

/*
 * A waiting call's pool, trimmed.  libmicrohttpd zeroes a connection's
 * whole pool between its requests, so that a kept-alive connection's
 * waiting call holds all of it resident (6.5 KiB by default) where it
 * uses its head's bytes at the start and the fields' entries at the end.
 * Once a call has waited WATCH_AFTER_MS (on_settled; a call sent at once
 * is never touched), the pages after its head that are all zero go back
 * to the kernel (MADV_DONTNEED; they read as zero again, and libmicrohttpd
 * writes the answer head there later, faulting them in).
 *
 * Sound without knowing where the pool starts (a client's leading empty
 * lines move the head up): a page is given back only if it is all zero,
 * and the walk goes up from the head and stops at the first page that is
 * not, at the latest at the entries (never zero: they hold pointers;
 * HTTP/1.1 has at least Host).  So it never leaves the pool, whose memory
 * only libmicrohttpd writes, on this thread, and not while the
 * connection is suspended.
 */
static void
trim_pool(struct front *f, struct req *r)
{
	const union MHD_ConnectionInfo	*ci;
	uintptr_t			 pg = f->page_size, head, p, from;

	if (r->method_at == NULL || pg == 0 ||
	    MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, NULL,
	    NULL) < 1 || (ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE)) == NULL)
		return;
	head = (uintptr_t)r->method_at;
	p = from = (head + ci->header_size + pg - 1) & ~(pg - 1);
	while (p + pg <= head + f->pool_size &&
	    memcmp((const void *)p, f->zero_page, pg) == 0)
		p += pg;
	if (p > from && madvise((void *)from, p - from, MADV_DONTNEED) == 0)
		log_debug("%s: %zu KiB of a waiting call's pool given back",
		    r->call->reqid, (size_t)(p - from) / 1024);
}

/* watch_cb: a suspended connection has waited WATCH_AFTER_MS: if its
 * call is still queued, its pool's zero pages go back. */
static void
on_settled(struct watch_item *it, void *arg)
{
	struct req	*r = req_of_watch(it);

	if (r->state == RQ_QUEUED && !r->answer_ready && r->call->xfer == NULL)
		trim_pool(arg, r);
}

/* The whole request is in: hand it to the call's life. */
static enum MHD_Result
on_complete(struct front *f, struct req *r)
{
	struct call	*c = r->call;
	enum weir_err	 e;

	if (r->too_large)
		return answer_early(f, r, WERR_BODY_TOO_LARGE, NULL);
	if (r->busy) {
		c->retry_after_s = 1;
		return answer_early(f, r, WERR_BUSY, NULL);
	}
	/* The call's life goes on in proxy.c, or ends here with its error. */
	if ((e = f->hooks.arrive(c, f->hooks_arg)) != WERR_NONE)
		return answer_early(f, r, e, NULL);
	r->state = RQ_QUEUED;
	MHD_suspend_connection(r->conn);
	enlist(f, r);
	return MHD_YES;
}

/* MHD_create_response_from_callback() reader for HEAD: never called for
 * HEAD, which has no body; ends the response if it ever is. */
static ssize_t
no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls; (void)pos; (void)buf; (void)max;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* What add_upstream_header() needs besides the field. */
struct resp_fields {
	struct front		*f;
	struct MHD_Response	*resp;
	const struct call	*c;
};

/* route_hdr_fn: one upstream field onto the client's response, less
 * those weir sets itself (the request id; Retry-After when recomputed). */
static void
add_upstream_header(const char *name, const char *value, void *arg)
{
	struct resp_fields	*rf = arg;

	if (strcasecmp(name, rf->f->cfg->request_id_header) == 0 ||
	    (rf->c->retry_after_s > 0 &&
	    strcasecmp(name, "Retry-After") == 0))
		return;
	if (MHD_add_response_header(rf->resp, name, value) == MHD_NO)
		log_debug("%s: response header %s not forwarded",
		    rf->c->reqid, name);
}

/* The upstream's header fields a client gets, straight from the call's
 * list into libmicrohttpd's (which copies them). */
static void
add_upstream_headers(struct front *f, struct MHD_Response *resp,
    const struct call *c)
{
	struct resp_fields	 rf = { f, resp, c };

	route_response_headers_each(&c->resp_hdrs, add_upstream_header, &rf);
}

/* Build the client's response from the upstream's answer. */
static struct MHD_Response *
upstream_response(struct front *f, struct call *c, size_t *bytes_out)
{
	struct MHD_Response	*resp;
	const char		*cl;

	if (strcmp(c->method, "HEAD") == 0 &&
	    (cl = hdrs_get(&c->resp_hdrs, "Content-Length")) != NULL) {
		/* The upstream's length, with no body to send. */
		resp = MHD_create_response_from_callback(
		    strtoull(cl, NULL, 10), 4096, no_body, NULL, NULL);
		*bytes_out = 0;
	} else {
		resp = MHD_create_response_from_buffer_with_free_callback(
		    c->resp_body.len, c->resp_body.p, free);
		if (resp != NULL) {
			/* MHD owns the bytes now. */
			*bytes_out = c->resp_body.len;
			c->resp_body.p = NULL;
			c->resp_body.len = c->resp_body.cap = 0;
		}
	}
	if (resp == NULL)
		return NULL;
	add_upstream_headers(f, resp, c);
	return resp;
}

/*
 * MHD_create_response_from_callback() reader of a streaming answer: what
 * the call's buffer holds.  When it is empty and the transfer runs, the
 * connection is suspended until front_stream() or front_answer(): a
 * reader that returns 0 in external epoll mode is called again at once.
 */
static ssize_t
stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct req	*r = cls;
	struct front	*f = r->f;
	struct call	*c = r->call;
	struct buf	*b = &c->resp_body;
	size_t		 n;

	(void)pos;
	if (r->gone || (!r->xfer_running && c->xfer_error != XFER_OK))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if ((n = b->len - c->resp_off) > 0) {
		if (n > max)
			n = max;
		memcpy(out, b->p + c->resp_off, n);
		c->resp_off += n;
		if (c->resp_off == b->len)
			c->resp_off = b->len = 0;
		r->sent += n;
		if (r->xfer_running)
			f->hooks.drained(c, f->hooks_arg);
		return (ssize_t)n;
	}
	if (!r->xfer_running)
		return MHD_CONTENT_READER_END_OF_STREAM;
	r->stream_wait = 1;
	MHD_suspend_connection(r->conn);
	enlist(f, r);
	return 0;
}

/* Answer with the head now and the body as it comes.  The access line
 * is written when the answer ends (stream_end). */
static enum MHD_Result
stream_answer(struct front *f, struct req *r)
{
	struct call		*c = r->call;
	struct MHD_Response	*resp;
	const char		*cl;
	char			*end;
	uint64_t		 size = MHD_SIZE_UNKNOWN;
	unsigned long long	 n;
	enum MHD_Result		 ret;

	r->state = RQ_ANSWERED;
	if ((cl = hdrs_get(&c->resp_hdrs, "Content-Length")) != NULL) {
		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno == 0 && end != cl && *end == '\0')
			size = n;
	}
	/* Without a length: chunked to HTTP/1.1, closed after for 1.0. */
	resp = MHD_create_response_from_callback(size, STREAM_BLOCK,
	    stream_read, r, NULL);
	if (resp == NULL) {
		log_warnx("%s: cannot build a response", c->reqid);
		f->pending--;
		return MHD_NO;
	}
	add_upstream_headers(f, resp, c);
	add_weir_headers(f, resp, c);
	if (!head_fits(f, r, resp)) {
		/* Not a byte sent yet: the call ends here, in weir's 502. */
		MHD_destroy_response(resp);
		f->hooks.abandon(c, f->hooks_arg);
		r->xfer_running = 0;
		call_set_error(c, WERR_UPSTREAM_HEAD_TOO_LARGE, NULL);
		return send_answer(f, r);
	}
	r->streamed = 1;
	ret = MHD_queue_response(r->conn, (unsigned)c->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A streaming answer is over, whole or cut short: its access line. */
static void
stream_end(struct front *f, struct req *r,
    enum MHD_RequestTerminationCode toe)
{
	struct call	*c = r->call;

	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && c->err == WERR_NONE)
		call_set_error(c, WERR_CLIENT_GONE, NULL);
	f->pending--;
	answered(f, c, c->status, (size_t)r->sent);
}

/* The call is back with its answer: send it. */
static enum MHD_Result
send_answer(struct front *f, struct req *r)
{
	struct call		*c = r->call;
	struct MHD_Response	*resp;
	size_t			 bytes_out = 0;
	int			 status;
	enum MHD_Result		 ret;

	if (c->err != WERR_NONE) {
		status = error_status(c->err);
		resp = error_response(f, c, &bytes_out);
	} else if (r->xfer_running)
		return stream_answer(f, r);
	else {
		status = c->status;
		resp = upstream_response(f, c, &bytes_out);
	}
	if (resp == NULL) {
		r->state = RQ_ANSWERED;
		f->pending--;
		log_warnx("%s: cannot build a response", c->reqid);
		return MHD_NO;
	}
	add_weir_headers(f, resp, c);
	if (f->draining)
		MHD_add_response_header(resp, "Connection", "close");
	if (c->err == WERR_NONE && !head_fits(f, r, resp)) {
		MHD_destroy_response(resp);
		call_set_error(c, WERR_UPSTREAM_HEAD_TOO_LARGE, NULL);
		return send_answer(f, r);
	}
	r->state = RQ_ANSWERED;
	f->pending--;
	if (c->err == WERR_NONE || head_fits(f, r, resp))
		ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	else
		ret = answer_raw(r, resp, status);
	MHD_destroy_response(resp);
	answered(f, c, status, bytes_out);
	return ret;
}

/* MHD_AccessHandlerCallback */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **req_cls)
{
	struct front	*f = cls;
	struct req	*r = *req_cls;

	(void)url;
	if (r == NULL)
		return MHD_NO;	/* the URI log callback always makes one */
	r->conn = conn;
	switch (r->state) {
	case RQ_NEW:
		return on_headers(f, r, method, version);
	case RQ_BODY:
		if (f->shutdown) {
			/*
			 * The drain is over and the body still coming.
			 * libmicrohttpd takes no answer in the middle of a
			 * body (MHD_queue_response() fails there): close.
			 */
			log_info("closing a request still sending its body "
			    "at the end of the drain");
			r->state = RQ_ANSWERED;
			f->pending--;
			return MHD_NO;
		}
		if (*upload_size > 0)
			return on_body(f, r, upload_data, upload_size);
		return on_complete(f, r);
	case RQ_QUEUED:
		if (!r->answer_ready)
			return MHD_YES;	/* spurious wake-up */
		if (r->gone) {
			r->state = RQ_ANSWERED;
			f->pending--;
			return MHD_NO;	/* close it: nobody is listening */
		}
		return send_answer(f, r);
	case RQ_ANSWERED:
		*upload_size = 0;	/* discard the rest of a body */
		return MHD_YES;
	}
	return MHD_NO;
}

/* MHD_OPTION_URI_LOG_CALLBACK: the raw target, before MHD unescapes it. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct req	*r;
	const char	*q;

	r = xcalloc(1, sizeof(*r));
	r->f = cls;
	r->uri = xstrdup(uri);
	r->uri_at = uri;
	/*
	 * libmicrohttpd parses the query, after this callback, into an entry
	 * per argument in the connection's pool: 64 bytes each, so that some
	 * 120 arguments fill the default pool and it closes the connection
	 * without a word.  weir forwards the raw target (just copied) and
	 * never reads them: it ends the query in libmicrohttpd's copy, which
	 * is the client's bytes in the pool, writable.
	 */
	if ((q = strchr(uri, '?')) != NULL)
		((char *)(uintptr_t)q)[1] = '\0';
	r->conn = conn;
	if ((r->anext = r->f->live) != NULL)
		r->anext->aprev = r;
	r->f->live = r;
	return r;
}

/*
 * libmicrohttpd could not build r's answer head and closes the
 * connection, nothing of the answer sent: what pool_used cannot see took
 * the room (pipelined requests read ahead into the pool).  Say so on the
 * socket rather than not at all; the requests behind it were never read
 * as requests (the client sends them again on a new connection).
 */
static void
answer_lost(struct front *f, struct req *r)
{
	struct call		*c = r->call;
	struct MHD_Response	*resp;
	size_t			 bytes_out;
	int			 status;

	if (c->err == WERR_NONE)
		call_set_error(c, WERR_UPSTREAM_HEAD_TOO_LARGE, NULL);
	status = error_status(c->err);
	log_warnx("%s: no room left for the answer head in the connection's "
	    "buffer (requests pipelined behind it): answering %d instead",
	    c->reqid, status);
	if ((resp = error_response(f, c, &bytes_out)) == NULL)
		return;
	add_weir_headers(f, resp, c);
	(void)answer_raw(r, resp, status);
	MHD_destroy_response(resp);
}

/* MHD_OPTION_NOTIFY_COMPLETED: the request is over, one way or another. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct front	*f = cls;
	struct req	*r = *req_cls;

	(void)conn;
	if (f->head_failed) {
		f->head_failed = 0;
		if (toe == MHD_REQUEST_TERMINATED_WITH_ERROR && r != NULL &&
		    r->call != NULL && r->state == RQ_ANSWERED)
			answer_lost(f, r);
	}
	if (r == NULL)
		return;
	*req_cls = NULL;
	unwatch(f, r);
	release_body(f, r);
	if (r->aprev != NULL)
		r->aprev->anext = r->anext;
	else
		f->live = r->anext;
	if (r->anext != NULL)
		r->anext->aprev = r->aprev;
	if (r->call != NULL) {
		if ((r->state == RQ_QUEUED && !r->answer_ready) ||
		    r->xfer_running) {
			/* Client gone while its call is out: take it back. */
			f->hooks.abandon(r->call, f->hooks_arg);
			r->xfer_running = 0;
		}
		if (r->streamed)
			stream_end(f, r, toe);
		else if (r->state == RQ_BODY || r->state == RQ_QUEUED) {
			f->pending--;
			if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
				log_info("%s: client went away before the "
				    "answer", r->call->reqid[0] != '\0' ?
				    r->call->reqid : "-");
		}
		call_free(r->call);
	}
	free(r->uri);
	free(r);
}

/* A warning at most once a second: a flood must not flood the log.
 * *last is when this kind of warning was last written. */
static uint64_t	 warned_conns, warned_fds;

static void
log_limited(const struct front *f, uint64_t *last, const char *msg)
{
	uint64_t	 now = f->clock->mono_ms / 1000 + 1;

	if (now == *last)
		return;
	*last = now;
	log_warnx("%s", msg);
}

/* MHD_OPTION_NOTIFY_CONNECTION */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct front	*f = cls;

	(void)conn;
	(void)socket_ctx;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		if (++f->conns == f->cfg->max_connections + 1)
			log_limited(f, &warned_conns, "more than max_connections "
			    "client connections: answering 503 and closing");
	} else {
		if (f->conns > 0)
			f->conns--;
		/* libmicrohttpd accepts again once a connection closes */
		f->out_of_fds = 0;
	}
}

/* MHD_OPTION_EXTERNAL_LOGGER */
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct front	*f = cls;
	char		 msg[512];
	size_t		 n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (strstr(msg, "resource limit") != NULL) {
		/* accept() failed with EMFILE or the like: until a connection
		 * closes, libmicrohttpd accepts nothing and shed() answers */
		f->out_of_fds = 1;
		log_limited(f, &warned_fds, "out of file descriptors: answering "
		    "503 to new connections until some close (raise "
		    "RLIMIT_NOFILE or lower max_connections)");
	} else if (strstr(msg, "connection limit") != NULL ||
	    strstr(msg, "Too many") != NULL) {
		char	 line[600];

		snprintf(line, sizeof(line), "libmicrohttpd: %s "
		    "(max_connections + %d)", msg, CONN_SLACK);
		log_limited(f, &warned_conns, line);
	} else {
		/* Logged just before it closes that connection, whose
		 * on_completed() comes next (answer_lost()). */
		if (strstr(msg, "failed to create response header") != NULL)
			f->head_failed = 1;
		log_debug("libmicrohttpd: %s", msg);
	}
}

/* Is libmicrohttpd leaving new clients in the listen backlog? */
static int
saturated(const struct front *f)
{
	return f->listen_fd != -1 &&
	    (f->out_of_fds || f->conns >= f->conn_limit);
}

/*
 * Refuse one connection weir accepted itself: a whole 503 in weir's JSON,
 * then close.  What the client already sent is read first, so that the
 * close is a FIN the client reads the answer before, not a reset that
 * can destroy it.
 */
static void
refuse(struct front *f, int fd)
{
	struct buf	 body = { 0 }, head = { 0 };
	char		 reqid[REQID_MAX], date[64], junk[4096];
	size_t		 drained = 0;
	ssize_t		 n;

	while (drained < 65536 &&
	    (n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		drained += (size_t)n;
	if (reqid_new(reqid, sizeof(reqid)) == -1)
		strcpy(reqid, "-");
	error_json(&body, f->out_of_fds ? WERR_OUT_OF_DESCRIPTORS :
	    WERR_TOO_MANY_CONNECTIONS, NULL, reqid);
	http_date(f, date, sizeof(date));
	buf_printf(&head, "HTTP/1.1 503 Service Unavailable\r\n"
	    "Date: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n%s: %s\r\nRetry-After: 1\r\n"
	    "Connection: close\r\n\r\n", date, body.len,
	    f->cfg->request_id_header, reqid);
	buf_append(&head, body.p, body.len);
	/* A fresh socket's send buffer takes it whole, or the client is
	 * not reading and loses nothing it wanted. */
	if (send(fd, head.p, head.len, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		log_debug("refusing a connection: send: %s", strerror(errno));
	buf_free(&head);
	buf_free(&body);
}

/*
 * libmicrohttpd accepts nothing at its connection limit, nor, until a
 * connection closes, after accept() failed for want of descriptors; its
 * clients would hang in the backlog.  Take them from the backlog here and
 * answer 503 (weir.too_many_connections): a client learns at once to come
 * back later.  Out of descriptors, the reserve is given up for the
 * accept and taken again after the close.
 */
static void
shed(struct front *f)
{
	int	 fd, i;

	for (i = 0; i < SHED_BATCH && saturated(f); i++) {
		fd = accept4(f->listen_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1 && (errno == EMFILE || errno == ENFILE) &&
		    f->reserve_fd != -1) {
			close(f->reserve_fd);
			f->reserve_fd = -1;
			fd = accept4(f->listen_fd, NULL, NULL,
			    SOCK_NONBLOCK | SOCK_CLOEXEC);
		}
		if (fd != -1) {
			if (f->out_of_fds)
				log_limited(f, &warned_fds, "out of file "
				    "descriptors: answering 503 and closing");
			else
				log_limited(f, &warned_conns, "more than "
				    "max_connections client connections: "
				    "answering 503 and closing");
			refuse(f, fd);
			close(fd);
		}
		if (f->reserve_fd == -1)
			f->reserve_fd = open("/dev/null",
			    O_RDONLY | O_CLOEXEC);
		if (fd == -1)
			break;	/* EAGAIN: the backlog is empty */
	}
}

struct front *
front_new(const struct config *cfg, struct loop *loop,
    const struct front_hooks *hooks, void *arg)
{
	struct front	*f;
	unsigned int	 flags;
	size_t		 memlimit;
	long		 page;

	f = xcalloc(1, sizeof(*f));
	if ((f->watch = watch_new()) == NULL) {
		free(f);
		return NULL;
	}
	if ((page = sysconf(_SC_PAGESIZE)) > 0) {
		f->page_size = (size_t)page;
		f->zero_page = xcalloc(1, f->page_size);
	}
	f->cfg = cfg;
	f->loop = loop;
	f->clock = loop_time(loop);
	f->hooks = *hooks;
	f->hooks_arg = arg;
	f->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	f->conn_limit = front_conn_limit(cfg);
	f->listen_fd = mhd_listen((const struct sockaddr *)&cfg->listen,
	    cfg->listen_len, cfg->reuse_port);
	if (f->listen_fd == -1) {
		char	 why[128];

		log_error("cannot listen on %s: %s", cfg->listen_str,
		    mhd_strerror(errno, why, sizeof(why)));
		goto fail;
	}

	flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_SUPPRESS_DATE_NO_CLOCK | MHD_USE_ERROR_LOG;
	if (cfg->listen.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * The connection's memory pool holds the request head, its fields'
	 * entries and then the response head.  weir checks max_header_size
	 * itself, to answer in JSON; the pool has POOL_SLACK of room past
	 * it, and only a head larger still meets libmicrohttpd's own (HTML)
	 * 431.  The pool is what a waiting call costs: libmicrohttpd zeroes
	 * the whole of it when a kept-alive connection's request ends, so
	 * from its second call on all of it is resident (and a pool over
	 * 32 KiB is mmap()ed: two pages even for a first call).
	 * tests/bench/memory.sh, per waiting call kept alive / first call:
	 * pool 48 KiB (32k + 16k before) 49.6 / 9.6 KiB; 8 KiB (4k + 4k)
	 * 9.6 / 6.1; 6.5 KiB (4k + 2.5k) 8.1 / 6.1; 6 KiB (2k + 4k) 7.6 /
	 * 6.1; 4 KiB 5.6 / 5.6.
	 */
	memlimit = (size_t)cfg->max_header_size + POOL_SLACK;
	f->pool_size = memlimit;
	f->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, f,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, f,
	    MHD_OPTION_LISTEN_SOCKET, f->listen_fd,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, f,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, f,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, f,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)f->conn_limit,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)((cfg->client_timeout_ms + 999) / 1000),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, memlimit,
	    MHD_OPTION_END);
	if (f->d == NULL) {
		log_error("cannot listen on %s: libmicrohttpd failed",
		    cfg->listen_str);
		close(f->listen_fd);
		goto fail;
	}
	mhd_address(f->d, f->addr, sizeof(f->addr));
	/* Readiness only wakes the loop: front's pass does the work. */
	if (loop_add_wake_fd(loop, mhd_epoll_fd(f->d)) == -1 ||
	    loop_add_wake_fd(loop, watch_fd(f->watch)) == -1) {
		log_error("too many descriptors for the loop");
		MHD_stop_daemon(f->d);
		goto fail;
	}
	return f;
 fail:
	if (f->reserve_fd != -1)
		close(f->reserve_fd);
	watch_free(f->watch);
	free(f->zero_page);
	free(f);
	return NULL;
}

uint64_t
front_conn_limit(const struct config *cfg)
{
	return cfg->max_connections + CONN_SLACK;
}

void
front_free(struct front *f)
{
	struct req	*r;

	if (f == NULL)
		return;
	/*
	 * libmicrohttpd 0.9.75 aborts the process if it is stopped with a
	 * connection still suspended: at a hard stop, a streaming answer
	 * waiting for bytes, or (never, after front_shutdown) a queued call.
	 * Resumed and marked gone, they are closed like any other.
	 */
	for (r = f->live; r != NULL; r = r->anext) {
		if (r->stream_wait) {
			r->gone = 1;
			stream_wake(f, r);
		} else if (r->state == RQ_QUEUED && !r->answer_ready) {
			/* its call goes back through on_completed */
			r->gone = 1;
			MHD_resume_connection(r->conn);
		}
	}
	MHD_stop_daemon(f->d);	/* closes listen_fd */
	watch_free(f->watch);
	if (f->reserve_fd != -1)
		close(f->reserve_fd);
	free(f->zero_page);
	free(f);
}

void
front_set_config(struct front *f, const struct config *cfg)
{
	f->cfg = cfg;
}

void
front_set_metrics(struct front *f, struct metrics *m)
{
	f->metrics = m;
}

const char *
front_address(const struct front *f)
{
	return f->addr;
}

long
front_timeout(void *arg)
{
	struct front	*f = arg;
	long		 ms = mhd_timeout(f->d);
	long		 w = watch_timeout(f->watch, f->clock->mono_ms);

	if (w != -1 && (ms == -1 || w < ms))
		ms = w;
	return ms;
}

void
front_run(void *arg)
{
	struct front	*f = arg;

	watch_run(f->watch, f->clock->mono_ms, on_gone, on_settled, f);
	MHD_run(f->d);
	f->head_failed = 0;	/* heard only by the close that follows it */
	if (saturated(f))
		shed(f);
	/* The listening socket wakes the loop while shed() answers it. */
	if (saturated(f) != f->shedding) {
		f->shedding = saturated(f);
		if (f->shedding)
			loop_add_wake_fd(f->loop, f->listen_fd);
		else
			loop_del_fd(f->loop, f->listen_fd);
	}
}

/* Wake a streaming answer's reader suspended for want of bytes. */
static void
stream_wake(struct front *f, struct req *r)
{
	if (!r->stream_wait)
		return;
	r->stream_wait = 0;
	unwatch(f, r);
	MHD_resume_connection(r->conn);
}

void
front_stream(struct front *f, struct call *c)
{
	struct req	*r = c->front;

	if (r->streaming) {
		stream_wake(f, r);
		return;
	}
	r->streaming = 1;
	r->xfer_running = 1;
	unwatch(f, r);
	r->answer_ready = 1;
	MHD_resume_connection(r->conn);
}

void
front_answer(struct front *f, struct call *c)
{
	struct req	*r = c->front;

	c->done_ms = f->clock->mono_ms;
	if (r->streaming) {
		/* Resumed already: the body ends when the buffer is empty,
		 * or at once if the transfer failed. */
		r->xfer_running = 0;
		stream_wake(f, r);
		return;
	}
	unwatch(f, r);
	r->answer_ready = 1;
	MHD_resume_connection(r->conn);
}

void
front_quiesce(struct front *f)
{
	MHD_socket	 s;

	f->draining = 1;
	if (f->shedding) {
		loop_del_fd(f->loop, f->listen_fd);
		f->shedding = 0;
	}
	s = MHD_quiesce_daemon(f->d);
	if (s != MHD_INVALID_SOCKET)
		close(s);
	f->listen_fd = -1;
}

uint64_t
front_pending(const struct front *f)
{
	return f->pending;
}

int
front_idle(const struct front *f)
{
	const struct req	*r;

	for (r = f->live; r != NULL; r = r->anext)
		if (r->state != RQ_NEW)
			return 0;
	return 1;
}

uint64_t
front_body_bytes(const struct front *f)
{
	return f->body_bytes;
}

void
front_shutdown(struct front *f)
{
	struct req	*r;

	f->shutdown = 1;
	for (r = f->live; r != NULL; r = r->anext) {
		if (r->state != RQ_QUEUED || r->answer_ready)
			continue;
		/* Queued or out upstream: take the call back, answer it. */
		f->hooks.abandon(r->call, f->hooks_arg);
		call_set_error(r->call, WERR_SHUTTING_DOWN, NULL);
		front_answer(f, r->call);
	}
}
