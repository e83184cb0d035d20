/*
 * front.c - the client side of weir: libmicrohttpd, external epoll mode,
 * suspend/resume.  See front.h.
 *
 * One struct req per HTTP request, made in the URI log callback (the only
 * place MHD shows the raw request target, query included, before it
 * unescapes anything) and freed in the completion callback.  A request
 * goes NEW -> BODY -> QUEUED (connection suspended, the call out in sched
 * or upstream) -> ANSWERED; errors found before dispatch go straight to
 * ANSWERED.  Touches route, sched and log; the loop owns the clock.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "front.h"
#include "log.h"
#include "metrics.h"
#include "mhd.h"
#include "route.h"
#include "tenant.h"
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
	char			*uri;		/* raw request target */
	struct call		*call;
	struct MHD_Connection	*conn;
	int			 too_large;	/* body went over max_body */
	int			 answer_ready;	/* call back from upstream */
	int			 gone;		/* the client hung up */
	int			 close;		/* close after the answer */
	int			 watched;	/* sock in the hang-up watch */
	int			 sock;
	uint64_t		 suspended_ms;
	struct req		*wnext, *wprev;	/* suspended, not yet watched */
	int			 waiting;	/* on that list */
	int			 busy;		/* body went over max_body_memory */
	size_t			 body_held;	/* this body's part of body_bytes */
	struct req		*anext, *aprev;	/* every request not yet over */
};

struct front {
	const struct config	*cfg;
	struct sched		*sched;
	const struct tenant_map	*tenants;
	front_abandon_cb	 abandon;
	void			*abandon_arg;
	struct metrics		*metrics;
	struct MHD_Daemon	*d;
	char			 addr[INET6_ADDRSTRLEN + 8];
	uint64_t		 now_ms;
	uint64_t		 pending;	/* requests not yet answered */
	/*
	 * MHD does not look at a suspended connection, so a client that hangs
	 * up while its call waits would go unnoticed until the answer.  The
	 * sockets of suspended connections sit in this epoll set for
	 * EPOLLRDHUP; a hang-up takes the call back from sched or upstream.
	 * Most calls are answered within milliseconds, so a connection joins
	 * the set only once it has waited WATCH_AFTER_MS (two epoll_ctl calls
	 * per request cost more than anything else front does); until then
	 * it waits on a list, oldest first.
	 */
	int			 watch_fd;
	struct req		*whead, *wtail;
	uint64_t		 next_sweep_ms;
	uint64_t		 conns;		/* client connections open */
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
	int			 draining;	/* stopping: answers close */
	int			 shutdown;	/* drain over: all answered 503 */
};

/*
 * libmicrohttpd's own connection limit stops accepting, which leaves the
 * client hanging in the listen backlog.  Its limit is set this much above
 * max_connections, and the connections past max_connections are answered
 * 503 and closed: a clear refusal.
 */
#define CONN_SLACK	64

#define WATCH_AFTER_MS	100

#define BUSY_MESSAGE	"Request bodies held by weir have reached " \
			"max_body_memory; retry shortly"
#define SHUTDOWN_MESSAGE "weir is shutting down; retry the request"

static void
http_date(char *out, size_t len)
{
	time_t		 t = time(NULL);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Weir's own error, in Genesys' error shape. */
static struct MHD_Response *
error_response(const char *reqid, int status, const char *code,
    const char *message, size_t *bytes_out)
{
	struct MHD_Response	*resp;
	struct buf		 b = { 0 };
	char			 num[16], date[64];

	buf_append(&b, "{\"message\":\"", 12);
	json_escape(&b, message, strlen(message));
	buf_append(&b, "\",\"code\":\"", 10);
	json_escape(&b, code, strlen(code));
	snprintf(num, sizeof(num), "%d", status);
	buf_append(&b, "\",\"status\":", 11);
	buf_append(&b, num, strlen(num));
	buf_append(&b, ",\"contextId\":\"", 14);
	json_escape(&b, reqid, strlen(reqid));
	buf_append(&b, "\",\"details\":[],\"errors\":[]}", 27);

	*bytes_out = b.len;
	resp = MHD_create_response_from_buffer_with_free_callback(b.len, b.p,
	    free);
	if (resp == NULL) {
		buf_free(&b);
		return NULL;
	}
	http_date(date, sizeof(date));
	MHD_add_response_header(resp, "Date", date);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return resp;
}

/* MHD_get_connection_values() iterator: keep every header, in order. */
static enum MHD_Result
collect_header(void *arg, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct hdrs	*h = arg;

	(void)kind;
	hdrs_addn(h, key, key_size, value != NULL ? value : "",
	    value != NULL ? value_size : 0);
	return MHD_YES;
}

/* Every answer: one access line and the counters. */
static void
answered(struct front *f, const struct call *c, int status, size_t bytes)
{
	log_access(c, status, bytes, f->now_ms);
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
	if (c->retry_after_s > 0) {
		snprintf(num, sizeof(num), "%d", c->retry_after_s);
		MHD_add_response_header(resp, "Retry-After", num);
	}
}

/* Queue a weir error for a request that never reached sched. */
static enum MHD_Result
answer_early(struct front *f, struct req *r, int status, const char *code,
    const char *message)
{
	struct MHD_Response	*resp;
	struct call		*c = r->call;
	enum MHD_Result		 ret;
	size_t			 bytes_out = 0;

	/* A call refused before routing still gets its id. */
	if (route_request_id(f->cfg, c) == -1)
		strcpy(c->reqid, "-");
	call_set_error(c, status, code, message);
	resp = error_response(c->reqid, status, code, message, &bytes_out);
	if (resp == NULL)
		return MHD_NO;
	add_weir_headers(f, resp, c);
	if (r->close || f->draining)
		MHD_add_response_header(resp, "Connection", "close");
	ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	r->state = RQ_ANSWERED;
	f->pending--;
	answered(f, c, status, bytes_out);
	return ret;
}

/*
 * What libmicrohttpd lets through but a proxy must not: oversized heads,
 * framing a front and a back end could read differently (the request
 * smuggling shapes), transfer codings weir cannot decode, and HTTP/1.1
 * without Host.  Returns 0, or -1 with the answer in *status etc.
 */
static int
check_head(const struct front *f, const struct call *c, const char *version,
    int *status, const char **code, const char **message)
{
	const char	*cl = NULL, *te = NULL;
	size_t		 i, size = strlen(c->method) + strlen(c->target) + 12;
	int		 nte = 0;

	for (i = 0; i < c->in_hdrs.n; i++) {
		const struct hdr *h = &c->in_hdrs.v[i];

		size += strlen(h->name) + strlen(h->value) + 4;
		if (strcasecmp(h->name, "Content-Length") == 0) {
			if (cl != NULL && strcmp(cl, h->value) != 0) {
				*status = 400;
				*code = "weir.bad_request";
				*message = "Conflicting Content-Length fields";
				return -1;
			}
			cl = h->value;
		} else if (strcasecmp(h->name, "Transfer-Encoding") == 0) {
			te = h->value;
			nte++;
		}
	}
	if (size > f->cfg->max_header_size) {
		*status = 431;
		*code = "weir.headers_too_large";
		*message = "The request head is larger than max_header_size";
		return -1;
	}
	if (te != NULL && cl != NULL) {
		*status = 400;
		*code = "weir.bad_request";
		*message = "Content-Length and Transfer-Encoding together";
		return -1;
	}
	if (te != NULL && (nte > 1 || strcasecmp(te, "chunked") != 0)) {
		*status = 501;
		*code = "weir.unsupported_transfer_encoding";
		*message = "Only Transfer-Encoding: chunked is supported";
		return -1;
	}
	if (strcmp(version, "HTTP/1.1") == 0 &&
	    hdrs_get(&c->in_hdrs, "Host") == NULL) {
		*status = 400;
		*code = "weir.bad_request";
		*message = "HTTP/1.1 requests need a Host field";
		return -1;
	}
	return 0;
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
	const char	*cl, *code, *message;
	char		*end;
	unsigned long long n;
	int		 status;

	c = r->call = call_new(method, r->uri);
	c->front = r;
	c->arrival_ms = f->now_ms;
	MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, collect_header,
	    &c->in_hdrs);
	cl = hdrs_get(&c->in_hdrs, "Content-Length");
	c->has_body = cl != NULL ||
	    hdrs_get(&c->in_hdrs, "Transfer-Encoding") != NULL;
	r->state = RQ_BODY;
	f->pending++;
	if (check_head(f, c, version, &status, &code, &message) == -1) {
		r->close = 1;
		return answer_early(f, r, status, code, message);
	}
	if (f->draining) {
		/* A keep-alive client's next request, after SIGTERM. */
		r->close = 1;
		return answer_early(f, r, 503, "weir.shutting_down",
		    SHUTDOWN_MESSAGE);
	}
	if (f->conns > f->cfg->max_connections) {
		r->close = 1;
		c->retry_after_s = 1;
		return answer_early(f, r, 503, "weir.too_many_connections",
		    "weir has max_connections client connections open");
	}
	if (cl != NULL) {
		errno = 0;
		n = strtoull(cl, &end, 10);
		/* MHD already refused a malformed Content-Length. */
		if (errno == 0 && end != cl && n > f->cfg->max_body)
			return answer_early(f, r, 413, "weir.body_too_large",
			    "The request body is larger than max_body");
		if (errno == 0 && end != cl && n > 0) {
			if (over_budget(f, n)) {
				/* Not read: close after the answer. */
				r->close = 1;
				c->retry_after_s = 1;
				return answer_early(f, r, 503, "weir.busy",
				    BUSY_MESSAGE);
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

/* Watch a suspended connection's socket for the client hanging up. */
static void
watch(struct front *f, struct req *r)
{
	const union MHD_ConnectionInfo	*ci;
	struct epoll_event		 ev;

	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;
	r->sock = ci->connect_fd;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLRDHUP;
	ev.data.ptr = r;
	if (epoll_ctl(f->watch_fd, EPOLL_CTL_ADD, r->sock, &ev) == 0)
		r->watched = 1;
}

/* Take r off the waiting list. */
static void
unlist(struct front *f, struct req *r)
{
	if (!r->waiting)
		return;
	if (r->wprev != NULL)
		r->wprev->wnext = r->wnext;
	else
		f->whead = r->wnext;
	if (r->wnext != NULL)
		r->wnext->wprev = r->wprev;
	else
		f->wtail = r->wprev;
	r->wnext = r->wprev = NULL;
	r->waiting = 0;
}

/* A connection was suspended: list it, to be watched if it waits long. */
static void
enlist(struct front *f, struct req *r)
{
	r->suspended_ms = f->now_ms;
	r->wprev = f->wtail;
	r->wnext = NULL;
	if (f->wtail != NULL)
		f->wtail->wnext = r;
	else
		f->whead = r;
	f->wtail = r;
	r->waiting = 1;
}

/* Start watching the connections that have waited WATCH_AFTER_MS. */
static void
sweep(struct front *f)
{
	struct req	*r;

	if (f->now_ms < f->next_sweep_ms)
		return;
	f->next_sweep_ms = f->now_ms + WATCH_AFTER_MS / 2;
	while ((r = f->whead) != NULL &&
	    r->suspended_ms + WATCH_AFTER_MS <= f->now_ms) {
		unlist(f, r);
		watch(f, r);
	}
}

static void
unwatch(struct front *f, struct req *r)
{
	unlist(f, r);
	if (!r->watched)
		return;
	epoll_ctl(f->watch_fd, EPOLL_CTL_DEL, r->sock, NULL);
	r->watched = 0;
}

/* Clients that hung up while their calls waited: take the calls back. */
static void
check_hangups(struct front *f)
{
	struct epoll_event	 ev[64];
	struct req		*r;
	char			 byte;
	int			 i, n;

	while ((n = epoll_wait(f->watch_fd, ev, 64, 0)) > 0) {
		for (i = 0; i < n; i++) {
			r = ev[i].data.ptr;
			unwatch(f, r);
			/* Half-closed with bytes still unread is not gone. */
			if (!(ev[i].events & (EPOLLHUP | EPOLLERR)) &&
			    recv(r->sock, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
				continue;
			if (r->answer_ready)
				continue;
			r->gone = 1;
			f->abandon(r->call, f->abandon_arg);
			r->call->done_ms = f->now_ms;
			answered(f, r->call, 499, 0);
			r->answer_ready = 1;
			MHD_resume_connection(r->conn);
		}
		if (n < 64)
			break;
	}
}

/*
 * The call's deadline: max_wait after arrival, or what X-Weir-Max-Wait
 * asks for (seconds, fractions allowed), capped at max_wait_cap.
 */
static int
max_wait(const struct config *cfg, const struct call *c, uint64_t *ms)
{
	const char	*v;
	char		*end;
	double		 secs;

	*ms = cfg->max_wait_ms;
	if ((v = hdrs_get(&c->in_hdrs, "X-Weir-Max-Wait")) == NULL)
		return 0;
	errno = 0;
	secs = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !(secs >= 0) ||
	    secs > 1e7)
		return -1;
	*ms = (uint64_t)(secs * 1000.0);
	if (*ms > cfg->max_wait_cap_ms)
		*ms = cfg->max_wait_cap_ms;
	return 0;
}

/* The whole request is in: route it and queue it. */
static enum MHD_Result
on_complete(struct front *f, struct req *r)
{
	struct call		*c = r->call;
	struct route_error	 err;
	const char		*why = NULL, *code = NULL;
	uint64_t		 wait_ms;

	if (r->too_large)
		return answer_early(f, r, 413, "weir.body_too_large",
		    "The request body is larger than max_body");
	if (r->busy) {
		c->retry_after_s = 1;
		return answer_early(f, r, 503, "weir.busy", BUSY_MESSAGE);
	}
	if (route_call(f->cfg, c, &err) == -1)
		return answer_early(f, r, err.status, err.code, err.message);
	if (tenant_identify(f->cfg, f->tenants, c, f->now_ms, &why) == -1)
		return answer_early(f, r, 400, "weir.bad_tenant", why);
	if (max_wait(f->cfg, c, &wait_ms) == -1)
		return answer_early(f, r, 400, "weir.bad_max_wait",
		    "X-Weir-Max-Wait must be a number of seconds");
	c->deadline_ms = c->arrival_ms + wait_ms;
	if (sched_submit(f->sched, c, f->now_ms, &code) == -1) {
		c->retry_after_s = 1;
		return answer_early(f, r, 503, code,
		    strcmp(code, "weir.queue_full") == 0 ?
		    "Too many calls are waiting for this tenant (max_queue)" :
		    "Too many tenants are active (max_tenants)");
	}
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

/* Build the client's response from the upstream's answer. */
static struct MHD_Response *
upstream_response(struct front *f, struct call *c, size_t *bytes_out)
{
	struct MHD_Response	*resp;
	struct hdrs		 out = { 0 };
	const char		*cl;
	size_t			 i;

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
	route_response_headers(&c->resp_hdrs, &out);
	hdrs_del(&out, f->cfg->request_id_header);
	if (c->retry_after_s > 0)
		hdrs_del(&out, "Retry-After");	/* recomputed */
	for (i = 0; i < out.n; i++)
		if (MHD_add_response_header(resp, out.v[i].name,
		    out.v[i].value) == MHD_NO)
			log_debug("%s: response header %s not forwarded",
			    c->reqid, out.v[i].name);
	hdrs_free(&out);
	return resp;
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

	if (c->err_status != 0) {
		status = c->err_status;
		resp = error_response(c->reqid, status, c->err_code,
		    c->err_message, &bytes_out);
	} else {
		status = c->status;
		resp = upstream_response(f, c, &bytes_out);
	}
	r->state = RQ_ANSWERED;
	f->pending--;
	if (resp == NULL) {
		log_warnx("%s: cannot build a response", c->reqid);
		return MHD_NO;
	}
	add_weir_headers(f, resp, c);
	if (f->draining)
		MHD_add_response_header(resp, "Connection", "close");
	ret = MHD_queue_response(r->conn, (unsigned)status, resp);
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

	r = xcalloc(1, sizeof(*r));
	r->f = cls;
	r->uri = xstrdup(uri);
	r->conn = conn;
	if ((r->anext = r->f->live) != NULL)
		r->anext->aprev = r;
	r->f->live = r;
	return r;
}

/* MHD_OPTION_NOTIFY_COMPLETED: the request is over, one way or another. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct front	*f = cls;
	struct req	*r = *req_cls;

	(void)conn;
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
		if (r->state == RQ_QUEUED && !r->answer_ready) {
			/* Client gone while its call is out: take it back. */
			f->abandon(r->call, f->abandon_arg);
		}
		if (r->state == RQ_BODY || r->state == RQ_QUEUED) {
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

/* A warning at most once a second: a flood must not flood the log. */
static void
log_limited(const char *msg)
{
	static time_t	 last;
	time_t		 now = time(NULL);

	if (now == last)
		return;
	last = now;
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
			log_limited("more than max_connections client "
			    "connections: answering 503 and closing");
	} else if (f->conns > 0)
		f->conns--;
}

/* MHD_OPTION_EXTERNAL_LOGGER */
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	 msg[512];
	size_t	 n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (strstr(msg, "connection limit") != NULL ||
	    strstr(msg, "Too many") != NULL) {
		char	 line[600];

		snprintf(line, sizeof(line), "libmicrohttpd: %s "
		    "(max_connections + %d)", msg, CONN_SLACK);
		log_limited(line);
	} else
		log_debug("libmicrohttpd: %s", msg);
}

struct front *
front_new(const struct config *cfg, struct sched *sched,
    const struct tenant_map *tenants, front_abandon_cb abandon, void *arg)
{
	struct front	*f;
	unsigned int	 flags;
	size_t		 memlimit;

	f = xcalloc(1, sizeof(*f));
	if ((f->watch_fd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_warn("epoll_create1");
		free(f);
		return NULL;
	}
	f->cfg = cfg;
	f->sched = sched;
	f->tenants = tenants;
	f->abandon = abandon;
	f->abandon_arg = arg;

	flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_SUPPRESS_DATE_NO_CLOCK | MHD_USE_ERROR_LOG;
	if (cfg->listen.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * The connection's memory pool holds the request head.  weir checks
	 * max_header_size itself, to answer in JSON; the pool has some room
	 * past it, and only a head larger still meets libmicrohttpd's own
	 * (HTML) 431.  Not more room: libmicrohttpd zeroes the whole pool
	 * between requests, and at 128 KiB that was 6% of weir's CPU.
	 */
	memlimit = (size_t)cfg->max_header_size + 16384;
	f->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, f,
	    MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&cfg->listen,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, f,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, f,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, f,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, f,
	    MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)(cfg->max_connections + CONN_SLACK),
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)((cfg->client_timeout_ms + 999) / 1000),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, memlimit,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
	    MHD_OPTION_END);
	if (f->d == NULL) {
		log_error("cannot listen on %s: %s", cfg->listen_str,
		    errno != 0 ? strerror(errno) : "libmicrohttpd failed");
		close(f->watch_fd);
		free(f);
		return NULL;
	}
	mhd_address(f->d, f->addr, sizeof(f->addr));
	return f;
}

void
front_free(struct front *f)
{
	if (f == NULL)
		return;
	MHD_stop_daemon(f->d);
	close(f->watch_fd);
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

int
front_fd(const struct front *f)
{
	return mhd_epoll_fd(f->d);
}

int
front_watch_fd(const struct front *f)
{
	return f->watch_fd;
}

long
front_timeout(struct front *f)
{
	long	 ms = mhd_timeout(f->d);

	if (f->whead != NULL) {
		uint64_t due = f->whead->suspended_ms + WATCH_AFTER_MS;
		long sweep = due > f->now_ms ? (long)(due - f->now_ms) : 0;

		if (ms == -1 || sweep < ms)
			ms = sweep;
	}
	return ms;
}

void
front_run(struct front *f, uint64_t now_ms)
{
	f->now_ms = now_ms;
	sweep(f);
	check_hangups(f);
	MHD_run(f->d);
}

void
front_answer(struct front *f, struct call *c, uint64_t now_ms)
{
	struct req	*r = c->front;

	f->now_ms = now_ms;
	c->done_ms = now_ms;
	unwatch(f, r);
	r->answer_ready = 1;
	MHD_resume_connection(r->conn);
}

void
front_quiesce(struct front *f)
{
	MHD_socket	 s;

	f->draining = 1;
	s = MHD_quiesce_daemon(f->d);
	if (s != MHD_INVALID_SOCKET)
		close(s);
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
front_shutdown(struct front *f, uint64_t now_ms)
{
	struct req	*r;

	f->now_ms = now_ms;
	f->shutdown = 1;
	for (r = f->live; r != NULL; r = r->anext) {
		if (r->state != RQ_QUEUED || r->answer_ready)
			continue;
		/* Queued or out upstream: take the call back, answer it. */
		f->abandon(r->call, f->abandon_arg);
		call_set_error(r->call, 503, "weir.shutting_down",
		    SHUTDOWN_MESSAGE);
		front_answer(f, r->call, now_ms);
	}
}
