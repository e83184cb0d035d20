/*
 * upstream.c - calls to the upstreams through libcurl multi; see upstream.h.
 *
 * Knows curl and the call; nothing else.  Easy handles are pooled (reset,
 * not re-created: a fresh handle costs a malloc and a memset of several KB)
 * and so are the transfer structs.  The multi handle keeps the connection
 * pool, so connections are reused across calls.
 *
 * curl runs on the loop through its socket API (curl's hiperfifo.c is the
 * model): it tells which of its sockets to watch for what
 * (CURLMOPT_SOCKETFUNCTION: loop_add_fd) and when it next needs a look
 * (CURLMOPT_TIMERFUNCTION: a loop timer); a ready socket or the timer
 * moves its transfers on (curl_multi_socket_action), and only those.  A
 * look "at once" (0 ms: a transfer just added) is taken in upstream's
 * pass, so that proxy_dispatch's calls go out in the turn that started
 * them.  The pass also hands back the transfers that ended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "loop.h"
#include "policy.h"
#include "reqid.h"
#include "route.h"
#include "upstream.h"
#include "xmalloc.h"

struct xfer {
	CURL			*easy;
	struct curl_slist	*headers;
	struct call		*call;
	struct upstream		*u;
	int			 head_done;	/* final head ended: trailers next */
	int			 final;		/* its status is answered as is */
	int			 paused;	/* CURL_WRITEFUNC_PAUSE returned */
	int			 client_paced;	/* timeouts set for streaming */
	/* curl's words for a failure (CURLOPT_ERRORBUFFER), for the debug
	 * log: here, not in every waiting call. */
	char			 errbuf[CURL_ERROR_SIZE];
	struct xfer		*next;		/* free list */
};

/* Where calls of one kind go, split once per configuration. */
struct dest {
	char		*url;		/* "https://api.mypurecloud.com/" */
	CURLU		*uh;		/* url parsed, or NULL */
	const char	*basepath;	/* "" or "/base", inside the config */
};

/* A parsed URL of an earlier configuration, kept while curl may read it. */
struct old_url {
	CURLU		*uh;
	struct old_url	*next;
};

struct upstream {
	const struct config	*cfg;
	struct dest		 dest[2];	/* by enum upstream_kind */
	CURLM			*multi;
	struct loop		*loop;
	struct loop_timer	 timer;		/* curl's timeout */
	int			 kick;		/* curl asked for a look now */
	int			 h2[2];		/* by enum upstream_kind */
	upstream_done_cb	 done;
	upstream_stream_cb	 stream;
	void			*done_arg;
	struct xfer		*free_xfers;
	struct old_url		*old_urls;
	unsigned		 active;
	struct buf		 line;		/* a request field being built */
};

/* The parsed URLs of earlier configurations, once no transfer is out
 * (xfer_release). */
static void
old_urls_free(struct upstream *u)
{
	struct old_url	*o;

	while ((o = u->old_urls) != NULL) {
		u->old_urls = o->next;
		curl_url_cleanup(o->uh);
		free(o);
	}
}

/*
 * "scheme://host[:port][/base]" into the URL curl connects to and the
 * base path put in front of every target.  The URL is parsed here, once
 * (CURLOPT_CURLU), not by curl for every transfer: tests/bench/
 * instructions.sh counts 130,000 instructions per forwarded call before,
 * 125,000 after.  curl reads the parsed URL when a transfer looks for its
 * connection, which a transfer waiting for one does again: the one a
 * reload replaces is kept until no transfer is out (xfer_release).
 */
static void
dest_set(struct upstream *u, struct dest *d, const char *base)
{
	const char	*p, *slash;

	if (d->uh != NULL && u->active == 0)
		curl_url_cleanup(d->uh);
	else if (d->uh != NULL) {
		struct old_url	*o = xmalloc(sizeof(*o));

		o->uh = d->uh;
		o->next = u->old_urls;
		u->old_urls = o;
	}
	free(d->url);
	p = strstr(base, "://");
	p = p != NULL ? p + 3 : base;
	if ((slash = strchr(p, '/')) == NULL) {
		xasprintf(&d->url, "%s/", base);
		d->basepath = "";
	} else {
		xasprintf(&d->url, "%.*s/", (int)(slash - base), base);
		d->basepath = slash;
	}
	if ((d->uh = curl_url()) != NULL &&
	    curl_url_set(d->uh, CURLUPART_URL, d->url, 0) != CURLUE_OK) {
		curl_url_cleanup(d->uh);
		d->uh = NULL;		/* curl parses d->url each time */
	}
}

/* A socket of curl's is ready (loop_fd_cb). */
static void
on_curl_fd(int fd, int revents, void *arg)
{
	struct upstream	*u = arg;
	int		 running, mask = 0;

	if (revents & LOOP_READ)
		mask |= CURL_CSELECT_IN;
	if (revents & LOOP_WRITE)
		mask |= CURL_CSELECT_OUT;
	if (revents & LOOP_ERROR)
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(u->multi, fd, mask, &running);
}

/* CURLMOPT_SOCKETFUNCTION: what curl wants to hear about socket s. */
static int
on_socket(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct upstream	*u = arg;
	int		 events = 0;

	(void)easy;
	(void)sockp;
	if (what == CURL_POLL_REMOVE) {
		loop_del_fd(u->loop, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= LOOP_READ;
	if (what & CURL_POLL_OUT)
		events |= LOOP_WRITE;
	if (loop_add_fd(u->loop, s, events, on_curl_fd, u) == -1) {
		log_warn("cannot watch upstream socket %d", (int)s);
		return -1;	/* curl fails the transfer */
	}
	return 0;
}

/* curl's timeout is up (loop_cb of u->timer). */
static void
on_timeout(void *arg)
{
	struct upstream	*u = arg;
	int		 running;

	curl_multi_socket_action(u->multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

/* CURLMOPT_TIMERFUNCTION: when curl next needs a look (-1: never). */
static int
on_timer(CURLM *multi, long ms, void *arg)
{
	struct upstream	*u = arg;

	(void)multi;
	loop_timer_disarm(u->loop, &u->timer);
	u->kick = ms == 0;
	if (ms > 0)
		loop_timer_arm(u->loop, &u->timer,
		    loop_time(u->loop)->mono_ms + (uint64_t)ms, on_timeout, u);
	return 0;
}

struct upstream *
upstream_new(const struct config *cfg, struct loop *loop)
{
	struct upstream	*u;

	u = xcalloc(1, sizeof(*u));
	u->loop = loop;
	upstream_set_config(u, cfg);
	if ((u->multi = curl_multi_init()) == NULL) {
		upstream_free(u);
		return NULL;
	}
	curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
	curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
	curl_multi_setopt(u->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	/* A bound on descriptors (main's budget); past it a transfer waits
	 * in curl for a connection to come free. */
	curl_multi_setopt(u->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)upstream_max_connections(cfg));
	return u;
}

unsigned
upstream_max_connections(const struct config *cfg)
{
	uint64_t	 n = cfg->max_connections / 4;

	return n < 16 ? 16 : n > 1024 ? 1024 : (unsigned)n;
}

static void
xfer_release(struct upstream *u, struct xfer *x)
{
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	x->call = NULL;
	x->head_done = 0;
	x->final = 0;
	x->paused = 0;
	x->client_paced = 0;
	x->next = u->free_xfers;
	u->free_xfers = x;
	if (u->active == 0 && u->old_urls != NULL)
		old_urls_free(u);
}

void
upstream_free(struct upstream *u)
{
	struct xfer	*x;

	if (u == NULL)
		return;
	while ((x = u->free_xfers) != NULL) {
		u->free_xfers = x->next;
		curl_easy_cleanup(x->easy);
		free(x);
	}
	if (u->multi != NULL)
		curl_multi_cleanup(u->multi);	/* may remove sockets */
	loop_timer_disarm(u->loop, &u->timer);
	free(u->dest[UP_API].url);
	free(u->dest[UP_LOGIN].url);
	curl_url_cleanup(u->dest[UP_API].uh);
	curl_url_cleanup(u->dest[UP_LOGIN].uh);
	old_urls_free(u);
	buf_free(&u->line);
	free(u);
}

void
upstream_set_config(struct upstream *u, const struct config *cfg)
{
	u->cfg = cfg;
	dest_set(u, &u->dest[UP_API], cfg->upstream);
	dest_set(u, &u->dest[UP_LOGIN], cfg->login_upstream);
}

unsigned
upstream_active(const struct upstream *u)
{
	return u->active;
}

/* CURLOPT_HEADERFUNCTION: capture the status line and header fields. */
static size_t
on_header(char *line, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;
	struct call	*c = x->call;
	size_t		 len = size * n, nlen;
	const char	*colon, *v, *end;

	end = line + len;
	while (end > line && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after 1xx): start over. */
		const char *sp = memchr(line, ' ', (size_t)(end - line));

		hdrs_free(&c->resp_hdrs);
		c->status = sp != NULL ? atoi(sp + 1) : 0;
		x->head_done = 0;
		return len;
	}
	if (end == line) {
		if (c->status >= 200) {
			x->head_done = 1;
			x->final = policy_final_status(x->u->cfg, c,
			    c->status);
		}
		return len;
	}
	if (x->head_done)
		return len;	/* trailers are not forwarded */
	if ((*line == ' ' || *line == '\t') && c->resp_hdrs.n > 0) {
		/* obs-fold: join to the previous field with one space */
		struct hdr *h = &c->resp_hdrs.v[c->resp_hdrs.n - 1];
		char *joined;

		while (line < end && (*line == ' ' || *line == '\t'))
			line++;
		xasprintf(&joined, "%s %.*s", h->value, (int)(end - line),
		    line);
		hdrs_set_value(&c->resp_hdrs, c->resp_hdrs.n - 1, joined,
		    strlen(joined));
		free(joined);
		return len;
	}
	if ((colon = memchr(line, ':', (size_t)(end - line))) == NULL)
		return len;
	nlen = (size_t)(colon - line);
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	hdrs_addn(&c->resp_hdrs, line, nlen, v, (size_t)(end - v));
	return len;
}

/*
 * CURLOPT_WRITEFUNCTION: the body, kept as it came (never decoded), in a
 * buffer of at most response_buffer bytes (plus one write).
 *
 * An answer that is final (policy_final_status) and fits is kept whole
 * and answered as before: a failure before its end can still be retried
 * or answered with weir's error.  One that fills the buffer starts
 * streaming: the client gets the head and what is buffered while curl
 * waits (CURL_WRITEFUNC_PAUSE: this write comes again on
 * upstream_drained()).  A body policy may retry after (429, 5xx) only
 * has to say how long to wait: past the buffer it is dropped.
 */
static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;
	struct upstream	*u = x->u;
	struct call	*c = x->call;
	struct buf	*b = &c->resp_body;
	size_t		 len = size * n, cap = (size_t)u->cfg->response_buffer;

	if (!x->final) {
		if (b->len < cap)
			buf_append(b, data, len < cap - b->len ? len :
			    cap - b->len);
		return len;
	}
	if (b->len - c->resp_off >= cap) {
		if (!c->streaming) {
			c->streaming = 1;
			u->stream(c, u->done_arg);
		}
		x->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (c->resp_off > 0 && b->len + len > b->cap) {
		/* Room at the front, taken by what front sent: reuse it. */
		memmove(b->p, b->p + c->resp_off, b->len - c->resp_off);
		b->len -= c->resp_off;
		c->resp_off = 0;
	}
	buf_append(b, data, len);
	if (c->streaming)
		u->stream(c, u->done_arg);
	return len;
}

static struct curl_slist *
slist_add(struct curl_slist *l, const char *line)
{
	struct curl_slist	*nl;

	if ((nl = curl_slist_append(l, line)) == NULL) {
		log_error("out of memory building a header list");
		abort();
	}
	return nl;
}

/* What build_headers() gathers, one field at a time. */
struct hdr_lines {
	const struct config	*cfg;
	const struct call	*c;
	struct curl_slist	*l;
	struct buf		*line;		/* upstream's, reused */
	const char		*fresh;		/* the retry's new id, or NULL */
	int			 accept, ctype;	/* the call has them */
};

/* "name: value" (or "name;" when empty) onto the list, one copy: curl's. */
static void
add_line(struct hdr_lines *h, const char *name, const char *value)
{
	size_t	 nlen = strlen(name), vlen = strlen(value);

	h->line->len = 0;
	buf_append(h->line, name, nlen);
	if (vlen == 0)
		buf_append(h->line, ";", 2);
	else {
		buf_append(h->line, ": ", 2);
		buf_append(h->line, value, vlen + 1);
	}
	h->l = slist_add(h->l, h->line->p);
}

/* route_hdr_fn: one field the attempt sends. */
static void
on_send_field(const char *name, const char *value, void *arg)
{
	struct hdr_lines	*h = arg;

	if (strcasecmp(name, "Accept") == 0)
		h->accept = 1;
	else if (strcasecmp(name, "Content-Type") == 0)
		h->ctype = 1;
	if (h->fresh != NULL &&
	    strcasecmp(name, h->cfg->request_id_header) == 0) {
		add_line(h, name, h->fresh);
		add_line(h, "X-Original-Request-Id", h->c->reqid);
		return;
	}
	add_line(h, name, value);
}

/*
 * The request headers for curl, straight from the call's fields (no list
 * of its own in between).  curl adds Accept, Content-Type (with a body)
 * and Expect of its own unless told otherwise with "Name:"; a field with
 * an empty value is written "Name;".
 */
static struct curl_slist *
build_headers(struct upstream *u, const struct call *c)
{
	const struct config	*cfg = u->cfg;
	struct hdr_lines	 h;
	char			 fresh[64];

	memset(&h, 0, sizeof(h));
	h.cfg = cfg;
	h.c = c;
	h.line = &u->line;
	/* request_id_on_retry = renew: a new id per retry, the caller's in
	 * a second field. */
	if (c->attempts > 0 && cfg->request_id_on_retry == REQID_RENEW &&
	    reqid_new(fresh, sizeof(fresh)) == 0)
		h.fresh = fresh;
	route_upstream_headers_each(cfg, c, on_send_field, &h);
	if (!h.accept)
		h.l = slist_add(h.l, "Accept:");
	if (!h.ctype)
		h.l = slist_add(h.l, "Content-Type:");
	return slist_add(h.l, "Expect:");
}

static enum xfer_err
map_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return XFER_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return XFER_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return XFER_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
		return XFER_TLS;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_HTTP3:
		return XFER_BAD_RESPONSE;
	case CURLE_SEND_ERROR:
		return XFER_SEND;
	default:
		return XFER_OTHER;
	}
}

/* A transfer from the pool (reset, not re-created: a fresh easy handle
 * costs a malloc and a memset of several KB), or NULL. */
static struct xfer *
xfer_get(struct upstream *u)
{
	struct xfer	*x;

	if ((x = u->free_xfers) != NULL) {
		u->free_xfers = x->next;
		curl_easy_reset(x->easy);
	} else {
		x = xcalloc(1, sizeof(*x));
		if ((x->easy = curl_easy_init()) == NULL) {
			free(x);
			return NULL;
		}
	}
	x->next = NULL;
	x->u = u;
	return x;
}

/* Where the call goes and what it sends: URL, target, method, body. */
static void
set_request(const struct upstream *u, CURL *e, const struct call *c)
{
	const struct dest	*d = &u->dest[c->up];
	char			*target;

	/*
	 * The URL only picks the connection; the request line carries the
	 * target byte for byte (CURLOPT_REQUEST_TARGET), so curl never
	 * re-encodes a path or query.
	 */
	if (d->uh != NULL)
		curl_easy_setopt(e, CURLOPT_CURLU, d->uh);
	else
		curl_easy_setopt(e, CURLOPT_URL, d->url);
	if (*d->basepath != '\0') {
		xasprintf(&target, "%s%s", d->basepath, c->path);
		curl_easy_setopt(e, CURLOPT_REQUEST_TARGET, target);
		free(target);	/* curl copies string options */
	} else
		curl_easy_setopt(e, CURLOPT_REQUEST_TARGET, c->path);

	if (strcmp(c->method, "GET") == 0 && !c->has_body)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else if (strcmp(c->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else {
		if (c->has_body || strcmp(c->method, "POST") == 0) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)c->body.len);
			curl_easy_setopt(e, CURLOPT_POSTFIELDS,
			    c->body.p != NULL ? c->body.p : "");
		}
		if (strcmp(c->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
	}
	/*
	 * libcurl sends a request again, unasked, when a reused HTTP/1.1
	 * connection closes before any byte of the answer; a proxy must not
	 * repeat a non-idempotent request (RFC 9112 9.3.1.1), and the
	 * upstream may have acted on it.  Such calls get a connection of
	 * their own, unless the upstream speaks HTTP/2, where a stream the
	 * server did not process is refused explicitly.
	 */
	if (!policy_idempotent(c) && !u->h2[c->up])
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
}

/* How every transfer runs: protocols, timeouts, TLS, our callbacks. */
static void
set_transfer(const struct config *cfg, struct xfer *x)
{
	CURL	*e = x->easy;

	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)cfg->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->upstream_timeout_ms);
	if (cfg->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cfg->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	x->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
}

int
upstream_start(struct upstream *u, struct call *c, uint64_t now_ms)
{
	struct xfer	*x;

	if ((x = xfer_get(u)) == NULL) {
		c->xfer_error = XFER_OTHER;
		return -1;
	}
	x->call = c;
	set_request(u, x->easy, c);
	x->headers = build_headers(u, c);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	set_transfer(u->cfg, x);

	call_reset_response(c);
	c->attempts++;
	c->sent_ms = now_ms;
	if (curl_multi_add_handle(u->multi, x->easy) != CURLM_OK) {
		c->xfer_error = XFER_OTHER;
		xfer_release(u, x);
		return -1;
	}
	c->xfer = x;
	u->active++;
	return 0;
}

void
upstream_set_callbacks(struct upstream *u, upstream_done_cb done,
    upstream_stream_cb stream, void *arg)
{
	u->done = done;
	u->stream = stream;
	u->done_arg = arg;
}

void
upstream_drained(struct upstream *u, struct call *c)
{
	struct xfer	*x = c->xfer;
	long		 secs;

	if (x == NULL)
		return;
	if (!x->client_paced) {
		/*
		 * The client sets the pace now, and upstream_timeout counts
		 * a whole attempt: a slow reader of a large answer must not
		 * run into it.  The upstream is still held to send something
		 * every upstream_timeout (curl does not count a paused
		 * transfer as slow).  Changed here, outside curl's
		 * callbacks: curl reads both at each check.
		 */
		x->client_paced = 1;
		secs = (long)((u->cfg->upstream_timeout_ms + 999) / 1000);
		curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, 0L);
		curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_TIME, secs);
	}
	if (x->paused && c->resp_body.len - c->resp_off <=
	    u->cfg->response_buffer / 2) {
		/* Before the call: unpausing may write at once. */
		x->paused = 0;
		curl_easy_pause(x->easy, CURLPAUSE_CONT);
	}
}

void
upstream_cancel(struct upstream *u, struct call *c)
{
	struct xfer	*x = c->xfer;

	if (x == NULL)
		return;
	curl_multi_remove_handle(u->multi, x->easy);
	c->xfer = NULL;
	u->active--;
	xfer_release(u, x);
}

long
upstream_timeout(void *arg)
{
	struct upstream	*u = arg;

	return u->kick ? 0 : -1;
}

void
upstream_perform(void *arg)
{
	struct upstream	*u = arg;
	struct CURLMsg	*m;
	struct xfer	*x;
	struct call	*c;
	int		 running, left;

	if (u->kick) {
		/* curl_multi_add_handle() asked: the new transfers start */
		u->kick = 0;
		curl_multi_socket_action(u->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
	while ((m = curl_multi_info_read(u->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		c = x->call;
		c->xfer_error = map_error(m->data.result);
		if (m->data.result == CURLE_OK) {
			long v = 0;

			curl_easy_getinfo(m->easy_handle,
			    CURLINFO_HTTP_VERSION, &v);
			u->h2[c->up] = v == CURL_HTTP_VERSION_2_0 ||
			    v == CURL_HTTP_VERSION_3;
		}
		/*
		 * libcurl takes a connection closed in the middle of the
		 * header block for the end of a body-less answer.  An answer
		 * whose head never ended is no answer.
		 */
		if (c->xfer_error == XFER_OK && !x->head_done) {
			c->xfer_error = XFER_BAD_RESPONSE;
			snprintf(x->errbuf, sizeof(x->errbuf),
			    "the upstream closed the connection inside the "
			    "header block");
		}
		if (c->xfer_error != XFER_OK)
			log_debug("upstream transfer for %s failed: %s (%s)",
			    c->reqid, curl_easy_strerror(m->data.result),
			    x->errbuf);
		curl_multi_remove_handle(u->multi, m->easy_handle);
		c->xfer = NULL;
		u->active--;
		xfer_release(u, x);
		u->done(c, u->done_arg);
	}
}
