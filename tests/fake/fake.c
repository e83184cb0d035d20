/*
 * fake.c - the fake upstream: a libmicrohttpd server (thread per
 * connection) that records what it receives and answers what the test's
 * handler says, and a plain-socket server that answers fixed raw bytes
 * or, scripted, answers or hangs up request by request.
 *
 * Test code: it may block a connection thread (delay, hang) and aborts on
 * allocation failure.  It touches nothing but its own sockets and memory.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "fake.h"

struct fake {
	int			 raw;
	uint16_t		 port;

	/* HTTP mode */
	struct MHD_Daemon	*mhd;
	fake_handler		 handler;
	void			*arg;
	pthread_mutex_t		 hmtx;		/* serialises handler calls */

	/* the record, and the stop flag; guarded by mtx */
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;		/* a request arrived; stopping */
	struct fake_req		**recs;
	size_t			 nrecs;
	size_t			 recs_cap;
	size_t			 count;		/* received since the last reset */
	size_t			 max_records;	/* 0: no limit */
	int			 stopping;
	size_t			 gen_cut;	/* see fake_gen_cut() */
	uint64_t		 gen_made;

	/* raw mode */
	int			 lfd;
	int			 wake[2];	/* written to stop the thread */
	pthread_t		 thr;
	int			 thr_started;
	char			*rawbytes;
	size_t			 rawlen;
	int			 close_after;
	int			*held;		/* sockets held open */
	size_t			 nheld;
	size_t			 held_cap;
	fake_raw_script		 script;	/* scripted: a thread a conn */
	pthread_t		*conns;		/* only the acceptor adds */
	size_t			 nconns;
	size_t			 conns_cap;
};

/* Per-request state of the HTTP fake, made by the URI log callback. */
struct conn {
	struct fake	*f;
	struct fake_req	 req;
	size_t		 hdrs_cap;
	size_t		 body_cap;
	int		 started;
};

void *
fake_alloc(size_t n)
{
	void	*p;

	if ((p = calloc(1, n == 0 ? 1 : n)) == NULL) {
		fprintf(stderr, "fake: out of memory\n");
		abort();
	}
	return p;
}

static void *
fake_realloc(void *p, size_t n)
{
	if ((p = realloc(p, n == 0 ? 1 : n)) == NULL) {
		fprintf(stderr, "fake: out of memory\n");
		abort();
	}
	return p;
}

char *
fake_strndup(const char *s, size_t n)
{
	char	*p;

	p = fake_alloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
fake_strdup(const char *s)
{
	return fake_strndup(s, strlen(s));
}

/* Buffers. */

void
fake_buf_add(struct fake_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = fake_realloc(b->p, cap);
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
fake_buf_adds(struct fake_buf *b, const char *s)
{
	fake_buf_add(b, s, strlen(s));
}

/* vasprintf() that aborts on failure; returns the length. */
static size_t	fake_vasprintf(char **, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static size_t
fake_vasprintf(char **s, const char *fmt, va_list ap)
{
	int	 n;

	if ((n = vasprintf(s, fmt, ap)) == -1) {
		fprintf(stderr, "fake: out of memory\n");
		abort();
	}
	return (size_t)n;
}

void
fake_buf_printf(struct fake_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	size_t	 n;

	va_start(ap, fmt);
	n = fake_vasprintf(&s, fmt, ap);
	va_end(ap);
	fake_buf_add(b, s, n);
	free(s);
}

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	size_t	 k, n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 1;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 2;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 3;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len <= n)
		return 0;
	for (k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

void
fake_buf_json(struct fake_buf *b, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 esc[6] = { '\\', 'u', '0', '0', 0, 0 };
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, n;

	fake_buf_add(b, "\"", 1);
	for (i = 0; i < len; i += n) {
		unsigned char c = u[i];

		n = 1;
		switch (c) {
		case '"':  fake_buf_add(b, "\\\"", 2); continue;
		case '\\': fake_buf_add(b, "\\\\", 2); continue;
		case '\n': fake_buf_add(b, "\\n", 2); continue;
		case '\r': fake_buf_add(b, "\\r", 2); continue;
		case '\t': fake_buf_add(b, "\\t", 2); continue;
		}
		if (c >= 0x80 && (n = utf8_seq(u + i, len - i)) > 0) {
			fake_buf_add(b, s + i, n);
			continue;
		}
		n = 1;
		if (c < 0x20 || c >= 0x7f) {
			/* control bytes, and stray bytes read as Latin-1 */
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			fake_buf_add(b, esc, 6);
		} else
			fake_buf_add(b, s + i, 1);
	}
	fake_buf_add(b, "\"", 1);
}

void
fake_buf_free(struct fake_buf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int
fake_utf8_valid(const unsigned char *s, size_t len)
{
	size_t	 i, n;

	for (i = 0; i < len; i += n)
		if (s[i] == 0 || (n = utf8_seq(s + i, len - i)) == 0)
			return 0;
	return 1;
}

/* Requests and replies. */

static void
req_add_header(struct fake_req *r, size_t *cap, const char *name,
    size_t nlen, const char *value, size_t vlen)
{
	if (r->nhdrs == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		r->hdrs = fake_realloc(r->hdrs, *cap * sizeof(*r->hdrs));
	}
	r->hdrs[r->nhdrs].name = fake_strndup(name, nlen);
	r->hdrs[r->nhdrs].value = fake_strndup(value, vlen);
	r->nhdrs++;
}

static void
req_clear(struct fake_req *r)
{
	size_t	 i;

	free(r->method);
	free(r->target);
	free(r->version);
	for (i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	free(r->hdrs);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

void
fake_req_free(struct fake_req *r)
{
	if (r == NULL)
		return;
	req_clear(r);
	free(r);
}

static struct fake_req *
req_copy(const struct fake_req *src)
{
	struct fake_req	*r;
	size_t		 i, cap = 0;

	r = fake_alloc(sizeof(*r));
	r->seq = src->seq;
	r->conn = src->conn;
	r->method = fake_strdup(src->method ? src->method : "");
	r->target = fake_strdup(src->target ? src->target : "");
	r->version = fake_strdup(src->version ? src->version : "");
	for (i = 0; i < src->nhdrs; i++)
		req_add_header(r, &cap, src->hdrs[i].name,
		    strlen(src->hdrs[i].name), src->hdrs[i].value,
		    strlen(src->hdrs[i].value));
	r->body = fake_alloc(src->body_len + 1);
	if (src->body_len > 0)
		memcpy(r->body, src->body, src->body_len);
	r->body_len = src->body_len;
	return r;
}

const char *
fake_req_header(const struct fake_req *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			return r->hdrs[i].value;
	return NULL;
}

size_t
fake_req_header_count(const struct fake_req *r, const char *name)
{
	size_t	 i, n = 0;

	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			n++;
	return n;
}

void
fake_reply_header(struct fake_reply *rp, const char *name, const char *value)
{
	if (rp->nhdrs == rp->hdrs_cap) {
		rp->hdrs_cap = rp->hdrs_cap ? rp->hdrs_cap * 2 : 8;
		rp->hdrs = fake_realloc(rp->hdrs,
		    rp->hdrs_cap * sizeof(*rp->hdrs));
	}
	rp->hdrs[rp->nhdrs].name = fake_strdup(name);
	rp->hdrs[rp->nhdrs].value = fake_strdup(value);
	rp->nhdrs++;
}

void
fake_reply_body(struct fake_reply *rp, const void *body, size_t len)
{
	free(rp->body);
	rp->body = fake_alloc(len + 1);
	if (len > 0)
		memcpy(rp->body, body, len);
	rp->body_len = len;
}

void
fake_reply_printf(struct fake_reply *rp, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	size_t	 n;

	va_start(ap, fmt);
	n = fake_vasprintf(&s, fmt, ap);
	va_end(ap);
	free(rp->body);
	rp->body = (unsigned char *)s;
	rp->body_len = n;
}

void
fake_reply_genesys_429(struct fake_reply *rp, int secs, int per_min)
{
	char	 ra[16];

	rp->status = 429;
	snprintf(ra, sizeof(ra), "%d", secs);
	fake_reply_header(rp, "Retry-After", ra);
	fake_reply_header(rp, "Content-Type", "application/json");
	fake_reply_printf(rp, "{\"message\":\"Rate limit exceeded the "
	    "maximum. Retry the request in [%d] seconds\",\"code\":"
	    "\"too.many.requests.retry.after\",\"status\":429,\"contextId\":"
	    "\"ctx\",\"details\":[],\"errors\":[],\"limit\":{\"key\":"
	    "\"client.credentials.token.rate.per.minute\",\"namespace\":"
	    "\"platform.api\",\"value\":%d}}", secs, per_min);
}

static void
reply_clear(struct fake_reply *rp)
{
	size_t	 i;

	for (i = 0; i < rp->nhdrs; i++) {
		free(rp->hdrs[i].name);
		free(rp->hdrs[i].value);
	}
	free(rp->hdrs);
	free(rp->body);
	memset(rp, 0, sizeof(*rp));
}

void
fake_echo(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	struct fake_buf	 b = { 0 };
	size_t		 i;

	fake_buf_adds(&b, "{\"method\":");
	fake_buf_json(&b, req->method, strlen(req->method));
	fake_buf_adds(&b, ",\"target\":");
	fake_buf_json(&b, req->target, strlen(req->target));
	fake_buf_adds(&b, ",\"headers\":{");
	for (i = 0; i < req->nhdrs; i++) {
		if (i > 0)
			fake_buf_add(&b, ",", 1);
		fake_buf_json(&b, req->hdrs[i].name, strlen(req->hdrs[i].name));
		fake_buf_add(&b, ":", 1);
		fake_buf_json(&b, req->hdrs[i].value,
		    strlen(req->hdrs[i].value));
	}
	fake_buf_printf(&b, "},\"body_len\":%zu}", req->body_len);
	rp->status = 200;
	fake_reply_header(rp, "Content-Type", "application/json");
	fake_reply_body(rp, b.p, b.len);
	fake_buf_free(&b);
}

/* The record. */

static void
lock(struct fake *f)
{
	pthread_mutex_lock(&f->mtx);
}

static void
unlock(struct fake *f)
{
	pthread_mutex_unlock(&f->mtx);
}

/* Take req into the record (or count it past max_records). */
static void
record(struct fake *f, struct fake_req *req)
{
	lock(f);
	req->seq = f->count++;
	if (f->max_records == 0 || f->nrecs < f->max_records) {
		if (f->nrecs == f->recs_cap) {
			f->recs_cap = f->recs_cap ? f->recs_cap * 2 : 64;
			f->recs = fake_realloc(f->recs,
			    f->recs_cap * sizeof(*f->recs));
		}
		f->recs[f->nrecs++] = req_copy(req);
	}
	pthread_cond_broadcast(&f->cond);
	unlock(f);
}

static size_t
next_seq(struct fake *f)
{
	size_t	 n;

	lock(f);
	n = f->count;
	unlock(f);
	return n;
}

size_t
fake_nreqs(struct fake *f)
{
	return next_seq(f);
}

static void
deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int
fake_wait_nreqs(struct fake *f, size_t n, unsigned timeout_ms)
{
	struct timespec	 ts;
	int		 rc = 0;

	deadline_in(&ts, timeout_ms);
	lock(f);
	while (f->count < n && !f->stopping)
		if (pthread_cond_timedwait(&f->cond, &f->mtx, &ts) ==
		    ETIMEDOUT)
			break;
	if (f->count < n)
		rc = -1;
	unlock(f);
	return rc;
}

struct fake_req *
fake_req_get(struct fake *f, size_t i)
{
	struct fake_req	*r = NULL;

	lock(f);
	if (i < f->nrecs)
		r = req_copy(f->recs[i]);
	unlock(f);
	return r;
}

void
fake_reset(struct fake *f)
{
	size_t	 i;

	lock(f);
	for (i = 0; i < f->nrecs; i++)
		fake_req_free(f->recs[i]);
	f->nrecs = 0;
	f->count = 0;
	unlock(f);
}

void
fake_set_max_records(struct fake *f, size_t max)
{
	lock(f);
	f->max_records = max;
	unlock(f);
}

uint16_t
fake_port(const struct fake *f)
{
	return f->port;
}

/*
 * Wait until ms have passed (0: forever) or the fake is stopping.  Returns
 * 1 when stopping.
 */
static int
wait_or_stop(struct fake *f, unsigned ms)
{
	struct timespec	 ts;
	int		 stopping;

	if (ms > 0)
		deadline_in(&ts, ms);
	lock(f);
	while (!f->stopping) {
		if (ms == 0)
			pthread_cond_wait(&f->cond, &f->mtx);
		else if (pthread_cond_timedwait(&f->cond, &f->mtx, &ts) ==
		    ETIMEDOUT)
			break;
	}
	stopping = f->stopping;
	unlock(f);
	return stopping;
}

static struct fake *
fake_new(void)
{
	struct fake	*f;

	f = fake_alloc(sizeof(*f));
	pthread_mutex_init(&f->mtx, NULL);
	pthread_mutex_init(&f->hmtx, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->lfd = -1;
	f->wake[0] = f->wake[1] = -1;
	return f;
}

/* The HTTP fake. */

/* MHD_OPTION_URI_LOG_CALLBACK: the target before MHD unescapes it. */
static void *
uri_log_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn	*cn;

	cn = fake_alloc(sizeof(*cn));
	cn->f = cls;
	cn->req.target = fake_strdup(uri);
	return cn;
}

/* MHD_OPTION_NOTIFY_COMPLETED */
static void
completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn	*cn = *con_cls;

	if (cn == NULL)
		return;
	req_clear(&cn->req);
	free(cn);
	*con_cls = NULL;
}

/* MHD_get_connection_values() iterator over the request headers. */
static enum MHD_Result
header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct conn	*cn = cls;

	req_add_header(&cn->req, &cn->hdrs_cap, key, key_size,
	    value ? value : "", value ? value_size : 0);
	return MHD_YES;
}

unsigned char
fake_gen_byte(uint64_t i)
{
	return (unsigned char)(i ^ (i >> 8) ^ (i >> 17) ^ (i * 31 >> 5));
}

size_t
fake_gen_cut(struct fake *f)
{
	size_t	 n;

	lock(f);
	n = f->gen_cut;
	unlock(f);
	return n;
}

uint64_t
fake_gen_made(struct fake *f)
{
	uint64_t n;

	lock(f);
	n = f->gen_made;
	unlock(f);
	return n;
}

/* A generated body being sent. */
struct gen {
	struct fake		*f;
	struct MHD_Connection	*conn;
	uint64_t		 len, fail_at, stall_at;
	uint64_t		 made;		/* bytes handed to MHD */
	int			 failed;	/* cut by fail_at */
};

/* Wait until the peer of connection c leaves or the fake stops. */
static void
wait_peer_gone(struct fake *f, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo	*ci;
	struct pollfd			 pfd;
	char				 byte;
	int				 stopping;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	for (;;) {
		lock(f);
		stopping = f->stopping;
		unlock(f);
		if (stopping || ci == NULL)
			return;
		pfd.fd = ci->connect_fd;
		pfd.events = POLLIN | POLLRDHUP;
		pfd.revents = 0;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if (pfd.revents & (POLLHUP | POLLERR | POLLRDHUP))
			return;
		if (recv(pfd.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			return;
		poll(NULL, 0, 50);	/* bytes, not an end: look again */
	}
}

/* MHD_ContentReaderCallback of a generated body. */
static ssize_t
gen_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct gen	*g = cls;
	uint64_t	 end = g->len, i, n;

	if (g->fail_at > 0 && pos >= g->fail_at) {
		g->failed = 1;
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (g->stall_at > 0 && pos >= g->stall_at) {
		wait_peer_gone(g->f, g->conn);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (pos >= end)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (g->fail_at > 0 && g->fail_at < end)
		end = g->fail_at;
	if (g->stall_at > 0 && g->stall_at < end)
		end = g->stall_at;
	n = end - pos < max ? end - pos : max;
	for (i = 0; i < n; i++)
		buf[i] = (char)fake_gen_byte(pos + i);
	g->made = pos + n;
	lock(g->f);
	g->f->gen_made += n;
	unlock(g->f);
	return (ssize_t)n;
}

/* MHD_ContentReaderFreeCallback of a generated body. */
static void
gen_free(void *cls)
{
	struct gen	*g = cls;

	if (g->made < g->len && !g->failed) {
		lock(g->f);
		g->f->gen_cut++;
		unlock(g->f);
	}
	free(g);
}

static enum MHD_Result
answer(struct fake *f, struct MHD_Connection *c, struct fake_reply *rp)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;
	size_t			 i;

	if (rp->gen_len > 0) {
		struct gen *g = fake_alloc(sizeof(*g));	/* zeroed */

		g->f = f;
		g->conn = c;
		g->len = rp->gen_len;
		g->fail_at = rp->gen_fail_at;
		g->stall_at = rp->gen_stall_at;
		resp = MHD_create_response_from_callback(rp->gen_chunked ?
		    MHD_SIZE_UNKNOWN : rp->gen_len, 65536, gen_read, g,
		    gen_free);
		if (resp == NULL)
			free(g);
	} else
		resp = MHD_create_response_from_buffer(rp->body_len, rp->body,
		    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	for (i = 0; i < rp->nhdrs; i++)
		MHD_add_response_header(resp, rp->hdrs[i].name,
		    rp->hdrs[i].value);
	ret = MHD_queue_response(c, (unsigned)rp->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* MHD_AccessHandlerCallback */
static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct fake		*f = cls;
	struct conn		*cn = *con_cls;
	struct fake_reply	 rp;
	enum MHD_Result		 ret;

	if (cn == NULL) {
		/* No URI log call (should not happen): use the parsed URL. */
		cn = fake_alloc(sizeof(*cn));
		cn->f = f;
		cn->req.target = fake_strdup(url);
		*con_cls = cn;
	}
	if (!cn->started) {
		cn->started = 1;
		cn->req.method = fake_strdup(method);
		cn->req.version = fake_strdup(version);
		MHD_get_connection_values_n(c, MHD_HEADER_KIND, header_cb, cn);
		cn->req.body = fake_alloc(1);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t	 n = *upload_data_size;

		if (cn->req.body_len + n + 1 > cn->body_cap) {
			size_t cap = cn->body_cap ? cn->body_cap : 4096;

			while (cap < cn->req.body_len + n + 1)
				cap *= 2;
			cn->req.body = fake_realloc(cn->req.body, cap);
			cn->body_cap = cap;
		}
		memcpy(cn->req.body + cn->req.body_len, upload_data, n);
		cn->req.body_len += n;
		cn->req.body[cn->req.body_len] = '\0';
		*upload_data_size = 0;
		return MHD_YES;
	}

	/* The whole request is in. */
	memset(&rp, 0, sizeof(rp));
	rp.status = 200;
	pthread_mutex_lock(&f->hmtx);
	cn->req.seq = next_seq(f);
	f->handler(&cn->req, &rp, f->arg);
	if (!rp.no_record)
		record(f, &cn->req);
	pthread_mutex_unlock(&f->hmtx);

	if (rp.hang || rp.delay_ms > 0) {
		if (wait_or_stop(f, rp.hang ? 0 : rp.delay_ms)) {
			reply_clear(&rp);
			return MHD_NO;
		}
	}
	ret = answer(f, c, &rp);
	reply_clear(&rp);
	return ret;
}

static uint16_t
bound_port(int fd)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		return 0;
	return ntohs(sin.sin_port);
}

struct fake *
fake_start(fake_handler handler, void *arg)
{
	struct fake		*f;
	struct sockaddr_in	 sin;
	const union MHD_DaemonInfo *di;
	unsigned		 flags;

	f = fake_new();
	f->handler = handler ? handler : fake_echo;
	f->arg = arg;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = 0;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION;
	if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES)
		flags |= MHD_USE_POLL;
	f->mhd = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, f,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, f,
	    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, f,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000,
	    MHD_OPTION_END);
	if (f->mhd == NULL)
		goto fail;
	di = MHD_get_daemon_info(f->mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (di != NULL && di->port != 0)
		f->port = di->port;
	else {
		di = MHD_get_daemon_info(f->mhd, MHD_DAEMON_INFO_LISTEN_FD);
		if (di != NULL)
			f->port = bound_port(di->listen_fd);
	}
	if (f->port == 0)
		goto fail;
	return f;
fail:
	fake_stop(f);
	return NULL;
}

/* The raw fake. */

static void
hold(struct fake *f, int fd)
{
	if (f->nheld == f->held_cap) {
		f->held_cap = f->held_cap ? f->held_cap * 2 : 8;
		f->held = fake_realloc(f->held, f->held_cap * sizeof(int));
	}
	f->held[f->nheld++] = fd;
}

/*
 * Read more from fd into b, waiting up to ms; 1 when something came, 0 on
 * EOF or timeout, -1 when the fake is stopping or on error.
 */
static int
raw_read(struct fake *f, int fd, struct fake_buf *b, int ms)
{
	struct pollfd	 pfd[2];
	char		 tmp[8192];
	ssize_t		 n;

	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = f->wake[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, ms) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		break;
	}
	if (pfd[1].revents)
		return -1;
	if (pfd[0].revents == 0)
		return 0;
	n = recv(fd, tmp, sizeof(tmp), 0);
	if (n <= 0)
		return n == 0 ? 0 : -1;
	fake_buf_add(b, tmp, (size_t)n);
	return 1;
}

/* Parse the request head in b (head_len bytes incl. the blank line). */
static void
raw_parse(struct fake_req *r, const char *p, size_t head_len)
{
	const char	*end = p + head_len, *eol, *sp, *colon, *v;
	size_t		 cap = 0;

	eol = memmem(p, (size_t)(end - p), "\r\n", 2);
	if (eol == NULL)
		return;
	sp = memchr(p, ' ', (size_t)(eol - p));
	if (sp != NULL) {
		const char *sp2;

		r->method = fake_strndup(p, (size_t)(sp - p));
		sp2 = memchr(sp + 1, ' ', (size_t)(eol - sp - 1));
		if (sp2 != NULL) {
			r->target = fake_strndup(sp + 1,
			    (size_t)(sp2 - sp - 1));
			r->version = fake_strndup(sp2 + 1,
			    (size_t)(eol - sp2 - 1));
		} else
			r->target = fake_strndup(sp + 1,
			    (size_t)(eol - sp - 1));
	}
	for (p = eol + 2; p < end; p = eol + 2) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL || eol == p)
			break;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL)
			continue;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		req_add_header(r, &cap, p, (size_t)(colon - p), v,
		    (size_t)(eol - v));
	}
}

/*
 * Read one request from fd into req: its head (waiting up to head_ms for
 * more of it; -1: until the fake stops) and its body (Content-Length or
 * chunked; what came if it stops short for 2 s).  Bytes past the request
 * stay in b for the next one.  1 when req holds a request (free it with
 * req_clear), 0 on EOF or timeout before a whole head, -1 when the fake
 * is stopping or on error.
 */
static int
raw_request(struct fake *f, int fd, struct fake_buf *b, int head_ms,
    struct fake_req *req)
{
	const char	*te, *cl, *hend = NULL;
	size_t		 head_len, want = 0, body;
	int		 chunked = 0, rc;

	memset(req, 0, sizeof(*req));
	for (;;) {
		if (b->len > 0 && (hend = memmem(b->p, b->len, "\r\n\r\n", 4)))
			break;
		if ((rc = raw_read(f, fd, b, head_ms)) <= 0)
			return rc;
	}
	head_len = (size_t)(hend - b->p) + 4;
	raw_parse(req, b->p, head_len);
	if ((cl = fake_req_header(req, "Content-Length")) != NULL)
		want = strtoul(cl, NULL, 10);
	if ((te = fake_req_header(req, "Transfer-Encoding")) != NULL &&
	    strcasestr(te, "chunked") != NULL)
		chunked = 1;
	for (;;) {
		if (!chunked && b->len - head_len >= want)
			break;
		if (chunked && b->len - head_len >= 5 &&
		    memcmp(b->p + b->len - 5, "0\r\n\r\n", 5) == 0)
			break;
		if ((rc = raw_read(f, fd, b, 2000)) <= 0) {
			if (rc == -1) {
				req_clear(req);
				return -1;
			}
			break;
		}
	}
	body = b->len - head_len;
	if (!chunked && body > want)
		body = want;
	req->body_len = body;
	req->body = fake_alloc(body + 1);
	memcpy(req->body, b->p + head_len, body);
	b->len -= head_len + body;
	memmove(b->p, b->p + head_len + body, b->len + 1);
	if (req->method == NULL)
		req->method = fake_strdup("");
	if (req->target == NULL)
		req->target = fake_strdup("");
	return 1;
}

/* Serve one raw connection; returns -1 when the fake is stopping. */
static int
raw_serve(struct fake *f, int fd)
{
	struct fake_buf	 b = { 0 };
	struct fake_req	 req;
	int		 rc;

	rc = raw_request(f, fd, &b, 5000, &req);
	fake_buf_free(&b);
	if (rc <= 0)
		return rc;
	record(f, &req);
	req_clear(&req);

	if (f->rawlen > 0)
		(void)send(fd, f->rawbytes, f->rawlen, MSG_NOSIGNAL);
	return 0;
}

/* One connection of a scripted raw fake, in its own thread. */
struct raw_conn {
	struct fake	*f;
	int		 fd;
	size_t		 id;
};

static void *
scripted_conn(void *arg)
{
	static const char	 ok[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n"
	    "{\"ok\":true}";
	struct raw_conn		*rc = arg;
	struct fake		*f = rc->f;
	struct fake_buf		 b = { 0 };
	struct fake_req		 req;
	enum fake_raw_act	 act;

	while (raw_request(f, rc->fd, &b, -1, &req) == 1) {
		req.conn = rc->id;
		record(f, &req);
		act = f->script(f, &req, rc->fd, f->arg);
		req_clear(&req);
		if (act == FAKE_RAW_CLOSE ||
		    send(rc->fd, ok, sizeof(ok) - 1, MSG_NOSIGNAL) == -1)
			break;
	}
	fake_buf_free(&b);
	shutdown(rc->fd, SHUT_RDWR);
	close(rc->fd);
	free(rc);
	return NULL;
}

/* Give the connection fd a thread of its own (scripted fakes). */
static void
scripted_accept(struct fake *f, int fd)
{
	struct raw_conn	*rc;

	if (f->nconns == f->conns_cap) {
		f->conns_cap = f->conns_cap ? f->conns_cap * 2 : 16;
		f->conns = fake_realloc(f->conns,
		    f->conns_cap * sizeof(*f->conns));
	}
	rc = fake_alloc(sizeof(*rc));
	rc->f = f;
	rc->fd = fd;
	rc->id = f->nconns;
	if (pthread_create(&f->conns[f->nconns], NULL, scripted_conn,
	    rc) != 0) {
		close(fd);
		free(rc);
		return;
	}
	f->nconns++;
}

int
fake_raw_wait_gone(struct fake *f, int fd, unsigned ms)
{
	struct pollfd	 pfd[2];
	struct timespec	 ts, nap = { 0, 20 * 1000000L };
	uint64_t	 now, end;
	char		 c;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (end = now + ms; now < end; ) {
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = f->wake[0];
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, end - now < 20 ? (int)(end - now) : 20) > 0) {
			if (pfd[1].revents)
				return -1;
			if (recv(fd, &c, 1, MSG_PEEK) <= 0)
				return 1;
			/* bytes, not an end: look again a little later */
			nanosleep(&nap, NULL);
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000 +
		    (uint64_t)ts.tv_nsec / 1000000;
	}
	return 0;
}

static void *
raw_thread(void *arg)
{
	struct fake	*f = arg;
	struct pollfd	 pfd[2];
	int		 fd;

	pfd[0].fd = f->lfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = f->wake[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if ((fd = accept(f->lfd, NULL, NULL)) == -1)
			continue;
		if (f->script != NULL) {
			scripted_accept(f, fd);
			continue;
		}
		if (raw_serve(f, fd) == -1) {
			close(fd);
			break;
		}
		if (f->close_after) {
			shutdown(fd, SHUT_RDWR);
			close(fd);
		} else
			hold(f, fd);
	}
	return NULL;
}

/* Listen on 127.0.0.1 port 0 and start the accepting thread. */
static struct fake *
raw_listen(struct fake *f)
{
	struct sockaddr_in	 sin;
	int			 one = 1;

	f->raw = 1;
	if (pipe2(f->wake, O_CLOEXEC) == -1)
		goto fail;
	if ((f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(f->lfd, 64) == -1)
		goto fail;
	if ((f->port = bound_port(f->lfd)) == 0)
		goto fail;
	if (pthread_create(&f->thr, NULL, raw_thread, f) != 0)
		goto fail;
	f->thr_started = 1;
	return f;
fail:
	fake_stop(f);
	return NULL;
}

struct fake *
fake_start_raw(const char *bytes, size_t len, int close_after)
{
	struct fake	*f;

	f = fake_new();
	f->close_after = close_after;
	f->rawbytes = fake_alloc(len + 1);
	memcpy(f->rawbytes, bytes, len);
	f->rawlen = len;
	return raw_listen(f);
}

struct fake *
fake_start_scripted(fake_raw_script script, void *arg)
{
	struct fake	*f;

	f = fake_new();
	f->script = script;
	f->arg = arg;
	return raw_listen(f);
}

void
fake_stop(struct fake *f)
{
	size_t	 i;

	if (f == NULL)
		return;
	lock(f);
	f->stopping = 1;
	pthread_cond_broadcast(&f->cond);
	unlock(f);

	if (f->mhd != NULL) {
		MHD_stop_daemon(f->mhd);
		f->mhd = NULL;
	}
	if (f->thr_started) {
		ssize_t w = write(f->wake[1], "x", 1);	/* a pipe: can't block */

		(void)w;
		pthread_join(f->thr, NULL);
	}
	/* the pipe stays readable: every connection thread sees it */
	for (i = 0; i < f->nconns; i++)
		pthread_join(f->conns[i], NULL);
	free(f->conns);
	for (i = 0; i < f->nheld; i++)
		close(f->held[i]);
	free(f->held);
	if (f->lfd != -1)
		close(f->lfd);
	if (f->wake[0] != -1)
		close(f->wake[0]);
	if (f->wake[1] != -1)
		close(f->wake[1]);
	free(f->rawbytes);

	for (i = 0; i < f->nrecs; i++)
		fake_req_free(f->recs[i]);
	free(f->recs);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->mtx);
	pthread_mutex_destroy(&f->hmtx);
	free(f);
}
