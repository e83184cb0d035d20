/*
 * check_hostile.c - hostile and careless clients against the real weir
 * binary: oversized heads and bodies, request smuggling shapes, garbage,
 * too many connections, clients that stall, and clients that hang up
 * while their call waits in a queue or is out upstream; and a flood of
 * distinct tenants against max_tenants.
 *
 * Every test checks what the client got (status, weir's JSON error, the
 * request id, the connection closed), that weir keeps serving afterwards,
 * and what the upstream received.  Test code: raw sockets to 127.0.0.1
 * only, waits poll for a condition.
 */
#include <sys/types.h>
#include <sys/resource.h>
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

#include <curl/curl.h>

#include "fake.h"
#include "harness.h"
#include "tap.h"

static struct fake	*api, *login;
static struct h_weir	 W;

/* Raw client connections. */

static int
conn_open(uint16_t port)
{
	int	 fd;

	fd = h_connect_loopback(port);
	ck_assert_msg(fd != -1, "connect: %s", strerror(errno));
	return fd;
}

/*
 * Write what the peer takes, within timeout_ms; a peer that closes early
 * (it answered already) is no error here.  Returns the bytes written.
 */
static size_t
conn_send(int fd, const void *p, size_t len, unsigned timeout_ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLOUT };
	uint64_t	 end = h_mono_ms() + timeout_ms;
	size_t		 done = 0;
	ssize_t		 n;

	while (done < len && h_mono_ms() < end) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = send(fd, (const char *)p + done, len - done,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			break;
		}
		done += (size_t)n;
	}
	return done;
}

/* What a connection gave back before it ended (or the wait did). */
struct got {
	char		*bytes;		/* NUL-terminated */
	size_t		 len;
	int		 eof;		/* closed (FIN or RST) */
	uint64_t	 ms;		/* how long until the end */
};

/* Read until the peer closes or timeout_ms pass; g->eof says which. */
static void
conn_drain(int fd, unsigned timeout_ms, struct got *g)
{
	struct fake_buf	 b = { 0 };
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint64_t	 t0 = h_mono_ms(), end = t0 + timeout_ms, now;
	char		 tmp[16384];
	ssize_t		 n;

	memset(g, 0, sizeof(*g));
	fake_buf_add(&b, "", 0);
	while ((now = h_mono_ms()) < end) {
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		n = recv(fd, tmp, sizeof(tmp), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			g->eof = 1;
			break;
		}
		fake_buf_add(&b, tmp, (size_t)n);
	}
	g->ms = h_mono_ms() - t0;
	g->bytes = b.p;
	g->len = b.len;
}

/* One whole exchange on a fresh connection: send, then drain. */
static void
exchange(const void *req, size_t len, unsigned timeout_ms, struct got *g)
{
	int	 fd = conn_open(W.port);

	conn_send(fd, req, len, timeout_ms);
	conn_drain(fd, timeout_ms, g);
	close(fd);
}

/*
 * Read one response with a Content-Length body from a kept-alive
 * connection.  Returns its status, 0 if none came within timeout_ms;
 * the bytes in *out if out is not NULL (free them).
 */
static int
read_one(int fd, unsigned timeout_ms, struct fake_buf *out)
{
	struct fake_buf	 b = { 0 };
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint64_t	 end = h_mono_ms() + timeout_ms, now;
	const char	*hend, *cl;
	char		 tmp[16384];
	size_t		 want;
	ssize_t		 n;
	int		 status = 0;

	fake_buf_add(&b, "", 0);
	while ((now = h_mono_ms()) < end) {
		if ((hend = strstr(b.p, "\r\n\r\n")) != NULL) {
			cl = strcasestr(b.p, "\r\nContent-Length:");
			want = cl != NULL && cl < hend ?
			    strtoul(cl + 17, NULL, 10) : 0;
			if (b.len - (size_t)(hend + 4 - b.p) >= want) {
				status = atoi(b.p + 9);
				break;
			}
		}
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		if ((n = recv(fd, tmp, sizeof(tmp), 0)) <= 0)
			break;
		fake_buf_add(&b, tmp, (size_t)n);
	}
	if (out != NULL)
		*out = b;
	else
		fake_buf_free(&b);
	return status;
}

static int
read_one_response(int fd, unsigned timeout_ms)
{
	return read_one(fd, timeout_ms, NULL);
}

/* Checks on answers. */

/* A weir error that came over a raw connection, which then closed. */
static void
assert_raw_error(const struct got *g, int status, const char *code)
{
	struct h_resp	 r;

	ck_assert_msg(g->eof, "connection still open after %llu ms; got %s",
	    (unsigned long long)g->ms, g->bytes);
	ck_assert_msg(h_parse_response(g->bytes, g->len, &r) == 0,
	    "no HTTP answer: \"%s\"", g->bytes);
	if (code != NULL)
		h_assert_weir_error(&r, status, code);
	else
		ck_assert_msg(r.status == status, "status %d, expected %d",
		    r.status, status);
	h_resp_free(&r);
}

/* A plain call through weir still works, and reaches the upstream. */
static void
assert_serving(void)
{
	struct h_req	 q = { .method = "GET", .target = "/api/v2/still" };
	struct h_resp	 r;
	size_t		 before = fake_nreqs(api);

	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_msg(r.status == 200, "status %d (%s)", r.status, r.err);
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), before + 1);
}

/* The admin /status document. */
static char *
admin_status(void)
{
	struct h_req	 q = { .target = "/status" };
	struct h_resp	 r;
	uint16_t	 port = h_admin_port(&W);
	char		*s;

	ck_assert_uint_ne(port, 0);
	ck_assert_int_eq(h_request(port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	s = (char *)r.body;
	r.body = NULL;
	h_resp_free(&r);
	return s;
}

static long
status_num(const char *doc, const char *key)
{
	char	 v[64];

	ck_assert_msg(h_json_get(doc, strlen(doc), key, v, sizeof(v)) == 4,
	    "no %s in %s", key, doc);
	return atol(v);
}

/* Nothing waits and nothing is out: the books balance. */
static void
assert_idle(unsigned timeout_ms)
{
	uint64_t	 end = h_mono_ms() + timeout_ms;
	char		*doc;
	long		 q, i, p;

	for (;;) {
		doc = admin_status();
		q = status_num(doc, "queued");
		i = status_num(doc, "inflight");
		p = status_num(doc, "pending");
		if ((q == 0 && i == 0 && p == 0) || h_mono_ms() >= end)
			break;
		free(doc);
		h_nap_ms(20);
	}
	ck_assert_msg(q == 0 && i == 0 && p == 0, "not idle: %s", doc);
	free(doc);
}

/* The value of a line "name value" in /metrics. */
static double
metric(const char *name)
{
	struct h_req	 q = { .target = "/metrics" };
	struct h_resp	 r;
	const char	*p;
	char		 needle[128];
	double		 v;

	ck_assert_int_eq(h_request(h_admin_port(&W), &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	snprintf(needle, sizeof(needle), "\n%s ", name);
	p = strstr((char *)r.body, needle);
	ck_assert_msg(p != NULL, "no %s in /metrics", name);
	v = strtod(p + strlen(needle), NULL);
	h_resp_free(&r);
	return v;
}

/* weir's resident set, from /proc. */
static long
rss_kb(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

/* Fixtures. */

static void
start(const char *const *env)
{
	api = fake_start(fake_echo, NULL);
	login = fake_start(fake_echo, NULL);
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(login);
	h_start_or_abort(&W, fake_port(api), fake_port(login), NULL, env);
}

static void
teardown(void)
{
	h_stop(&W);
	fake_stop(api);
	fake_stop(login);
	api = login = NULL;
}

/* Heads and bodies over the limits. */

/* A GET with one X-Big field of n bytes. */
static char *
big_head(size_t n, size_t *len)
{
	static const char	 pre[] = "GET /api/v2/big HTTP/1.1\r\n"
	    "Host: weir\r\nX-Big: ";
	char			*p;

	*len = sizeof(pre) - 1 + n + 4;
	p = fake_alloc(*len + 1);
	memcpy(p, pre, sizeof(pre) - 1);
	memset(p + sizeof(pre) - 1, 'a', n);
	memcpy(p + sizeof(pre) - 1 + n, "\r\n\r\n", 4);
	return p;
}

START_TEST(head_over_the_limit_gets_json_431)
{
	static const char *const env[] = { "WEIR_MAX_HEADER_SIZE=2k", NULL };
	struct got	 g;
	char		*req;
	size_t		 len;

	start(env);
	/* 4 KiB: over max_header_size (2 KiB), weir answers in JSON */
	req = big_head(4096, &len);
	exchange(req, len, 3000, &g);
	assert_raw_error(&g, 431, "weir.headers_too_large");
	free(g.bytes);
	free(req);
	/* just under the limit is fine */
	req = big_head(1900, &len);
	exchange(req, len, 3000, &g);
	ck_assert_msg(strncmp(g.bytes, "HTTP/1.1 200 ", 13) == 0, "%.200s",
	    g.bytes);
	free(g.bytes);
	free(req);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	assert_serving();
	assert_idle(2000);
}
END_TEST

/* An answer with n fields X-<tag>-NN of 64 bytes each, body {}. */
static void
answer_with_fields(struct fake_reply *rp, const char *tag, int n)
{
	char	 name[32], value[64];
	int	 i;

	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "X-%s-%02d", tag, i);
		fake_reply_header(rp, name, value);
	}
	fake_reply_body(rp, "{}", 2);
}

/* fake handler: an answer with a large head, 24 fields of 64 bytes. */
static void
wide_answer(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	(void)req;
	(void)arg;
	answer_with_fields(rp, "Wide", 24);
}

START_TEST(largest_head_still_gets_a_large_answer_head)
{
	/* max_header_size 2k, and the default (4k) */
	static const char *const small[] = { "WEIR_MAX_HEADER_SIZE=2k", NULL };
	static const char *const dflt[] = { NULL };
	static const struct {
		const char *const	*env;
		size_t			 head;
	} runs[] = { { small, 1900 }, { dflt, 3900 } };
	struct got	 g;
	char		*req;
	size_t		 len, i;

	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		api = fake_start(wide_answer, NULL);
		login = fake_start(fake_echo, NULL);
		ck_assert_ptr_nonnull(api);
		ck_assert_ptr_nonnull(login);
		h_start_or_abort(&W, fake_port(api), fake_port(login), NULL,
		    runs[i].env);
		/*
		 * A head just under max_header_size fills libmicrohttpd's
		 * pool but for its slack, where the answer's head (weir's
		 * fields and the upstream's 1.7 KiB) must still fit.
		 */
		req = big_head(runs[i].head, &len);
		exchange(req, len, 3000, &g);
		ck_assert_msg(strncmp(g.bytes, "HTTP/1.1 200 ", 13) == 0,
		    "%.200s", g.bytes);
		ck_assert_msg(strstr(g.bytes, "X-Wide-23: vvvv") != NULL,
		    "%.2000s", g.bytes);
		ck_assert_msg(strstr(g.bytes, "\r\n\r\n{}") != NULL,
		    "%.2000s", g.bytes);
		free(g.bytes);
		free(req);
		ck_assert_uint_eq(fake_nreqs(api), 1);
		assert_serving();
		h_stop(&W);
		fake_stop(api);
		fake_stop(login);
		api = login = NULL;
	}
}
END_TEST

/*
 * Heads of every shape up to max_header_size, few long fields to many
 * short ones (each field also takes an entry in libmicrohttpd's pool):
 * each gets exactly one answer, the upstream's 200 or a 431, and the
 * connection closes (the requests ask it to).  The heads that leave no
 * room in the pool for weir's JSON answer get it on the socket.
 * libmicrohttpd answers those with more fields than its pool holds
 * itself, in HTML (it never calls weir for them).
 */
START_TEST(every_head_shape_gets_exactly_one_answer)
{
	/* Pacing out of the way: 300 requests. */
	static const char *const env[] = { "WEIR_RATE=1000000/s",
	    "WEIR_BURST=100000", NULL };
	struct got	 g;
	struct h_resp	 r;
	char		*req, *p, *log;
	size_t		 nf, size, len, per, i, n200 = 0, njson = 0, nhtml = 0;
	size_t		 nreq;

	start(env);
	for (nf = 1; nf <= 190; nf += 9)
		for (size = 200; size <= 4000; size += 300) {
			req = fake_alloc(size + 4096);
			len = (size_t)sprintf(req, "GET /api/v2/shape "
			    "HTTP/1.1\r\nHost: weir\r\nConnection: close\r\n");
			per = size > len ? (size - len) / nf : 0;
			for (i = 0; i < nf; i++) {
				len += (size_t)sprintf(req + len, "X-F%03zu: ",
				    i);
				p = req + len;
				memset(p, 'f', per > 10 ? per - 10 : 1);
				len += per > 10 ? per - 10 : 1;
				len += (size_t)sprintf(req + len, "\r\n");
			}
			len += (size_t)sprintf(req + len, "\r\n");
			nreq = fake_nreqs(api);
			exchange(req, len, 3000, &g);
			ck_assert_msg(g.eof && h_parse_response(g.bytes, g.len,
			    &r) == 0, "%zu fields, %zu bytes: no answer (%s)",
			    nf + 2, len, g.bytes);
			/* One answer: one status line. */
			ck_assert_msg(strstr(g.bytes + 1, "HTTP/1.") == NULL ||
			    r.status == 200, "%zu fields, %zu bytes: %s",
			    nf + 2, len, g.bytes);
			if (r.status == 200) {
				ck_assert_uint_eq(fake_nreqs(api), nreq + 1);
				n200++;
			} else if (strstr(g.bytes, "<html>") != NULL) {
				ck_assert_int_eq(r.status, 431);
				ck_assert_uint_eq(fake_nreqs(api), nreq);
				nhtml++;
			} else {
				h_assert_weir_error(&r, 431,
				    "weir.headers_too_large");
				ck_assert_uint_eq(fake_nreqs(api), nreq);
				njson++;
			}
			h_resp_free(&r);
			free(g.bytes);
			free(req);
		}
	fprintf(stderr, "# head shapes: %zu forwarded, %zu weir 431, %zu "
	    "libmicrohttpd 431\n", n200, njson, nhtml);
	ck_assert_uint_gt(n200, 0);
	ck_assert_uint_gt(njson, 0);
	/* Some of weir's 431s went straight to the socket. */
	log = h_stderr_contents(&W);
	ck_assert_ptr_nonnull(strstr(log, "answered on the socket"));
	free(log);
	assert_serving();
}
END_TEST

/*
 * A query of many short arguments (ids) is forwarded whole: libmicrohttpd
 * would spend 64 bytes of the connection's pool on each, and close the
 * connection without a word past some 120; weir keeps it from parsing them.
 */
START_TEST(a_query_of_many_arguments_is_forwarded_whole)
{
	static const char *const env[] = { NULL };
	struct got	 g;
	struct fake_req	*fr;
	char		 target[4096], req[4608];
	size_t		 len = 0, n;
	int		 i;

	start(env);
	len = (size_t)snprintf(target, sizeof(target), "/api/v2/users?");
	for (i = 0; i < 500 && len < 3500; i++)
		len += (size_t)snprintf(target + len, sizeof(target) - len,
		    "%sid=%d", i > 0 ? "&" : "", i);
	ck_assert_int_ge(i, 400);
	n = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: "
	    "weir\r\nConnection: close\r\n\r\n", target);
	exchange(req, n, 3000, &g);
	ck_assert_msg(strncmp(g.bytes, "HTTP/1.1 200 ", 13) == 0, "%.300s",
	    g.bytes);
	free(g.bytes);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	fr = fake_req_get(api, 0);
	ck_assert_str_eq(fr->target, target);
	fake_req_free(fr);
	assert_serving();
}
END_TEST

/* fake handler: an answer head of 3.4 KiB, 45 fields of 64 bytes. */
static void
tall_answer(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	(void)req;
	(void)arg;
	answer_with_fields(rp, "Tall", 45);
}

/*
 * Pipelined requests are read ahead into the connection's pool, where
 * the answer head then may not fit: every request weir took (the ones the
 * upstream saw) gets exactly one answer, and the connection closes after
 * a 502 rather than in silence.
 */
START_TEST(pipelined_requests_filling_the_pool_get_one_answer_each)
{
	static const char *const env[] = { "WEIR_RATE=1000000/s",
	    "WEIR_BURST=100000", NULL };
	struct fake_buf	 q = { 0 };
	struct got	 g;
	const char	*p;
	size_t		 head, n, answers, lost = 0, nreq;
	int		 i, s502;

	api = fake_start(tall_answer, NULL);
	login = fake_start(fake_echo, NULL);
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(login);
	h_start_or_abort(&W, fake_port(api), fake_port(login), NULL, env);
	for (head = 500; head <= 3000; head += 500) {
		q.len = 0;
		fake_buf_add(&q, "", 0);
		for (i = 0; i < 3; i++) {
			fake_buf_printf(&q, "GET /api/v2/pipe/%d HTTP/1.1\r\n"
			    "Host: weir\r\n%sX-Pad: ", i,
			    i == 2 ? "Connection: close\r\n" : "");
			for (n = 0; n < head; n++)
				fake_buf_add(&q, "p", 1);
			fake_buf_adds(&q, "\r\n\r\n");
		}
		nreq = fake_nreqs(api);
		exchange(q.p, q.len, 5000, &g);
		ck_assert_msg(g.eof, "%zu: still open", head);
		for (answers = 0, s502 = 0, p = g.bytes;
		    (p = strstr(p, "HTTP/1.1 ")) != NULL; p++, answers++)
			if (strncmp(p + 9, "502", 3) == 0)
				s502++;
		/* One answer for each call the upstream had. */
		ck_assert_msg(answers == fake_nreqs(api) - nreq, "%zu-byte "
		    "heads: %zu answers, the upstream had %zu", head, answers,
		    fake_nreqs(api) - nreq);
		ck_assert_uint_ge(answers, 1);
		if (answers < 3) {
			/* Cut short only after weir's 502, which closes. */
			ck_assert_int_eq(s502, 1);
			ck_assert_ptr_nonnull(strstr(g.bytes,
			    "weir.upstream_head_too_large"));
			lost++;
		}
		free(g.bytes);
	}
	fake_buf_free(&q);
	fprintf(stderr, "# pipelined: %zu of 6 connections cut after a 502\n",
	    lost);
	ck_assert_uint_gt(lost, 0);
	assert_serving();
}
END_TEST

/*
 * A kept-alive connection's waiting call has its pool's zero pages given
 * back (trim_pool).  Whatever the head's place in the pool (leading
 * empty lines move it up), a body read before it, or a request pipelined
 * behind it, each call's answer, with a 3.4 KiB head written where pages
 * were given back, arrives whole.
 */
START_TEST(waiting_calls_with_trimmed_pools_get_whole_answers)
{
	static const char *const env[] = { "WEIR_RATE=20/s", "WEIR_BURST=1",
	    "WEIR_LOG_LEVEL=debug", NULL };
	enum { NCONN = 8 };
#define PAD(i)	(1200 + 400 * ((i) - NCONN / 2))
	static const char get[] = "GET /api/v2/wait HTTP/1.1\r\nHost: weir\r\n"
	    "\r\n";
	struct fake_buf	 q, a;
	char		 body[2000], *log;
	int		 fd[NCONN], i, k, nans;

	api = fake_start(tall_answer, NULL);
	login = fake_start(fake_echo, NULL);
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(login);
	h_start_or_abort(&W, fake_port(api), fake_port(login), NULL, env);
	memset(body, 'b', sizeof(body));
	/* Each connection answers a call first: its pool is reset, zeroed. */
	for (i = 0; i < NCONN; i++) {
		fd[i] = conn_open(W.port);
		conn_send(fd[i], get, sizeof(get) - 1, 3000);
		ck_assert_int_eq(read_one_response(fd[i], 5000), 200);
	}
	/* Then all at once: they wait, 50 ms apart (the pools of those past
	 * WATCH_AFTER_MS, 100 ms, are trimmed). */
	for (i = 0; i < NCONN; i++) {
		memset(&q, 0, sizeof(q));
		fake_buf_add(&q, "", 0);
		if (i % 4 == 1)
			fake_buf_adds(&q, "\r\n\r\n\r\n");
		if (i % 4 == 2)
			for (k = 0; k < 200; k++)
				fake_buf_adds(&q, "\r\n");
		if (i % 4 == 3) {
			fake_buf_printf(&q, "POST /api/v2/wait HTTP/1.1\r\n"
			    "Host: weir\r\nContent-Length: %zu\r\n\r\n",
			    sizeof(body));
			fake_buf_add(&q, body, sizeof(body));
		} else
			fake_buf_adds(&q, get);
		if (i >= NCONN / 2) {
			/* and one pipelined behind the calls that wait
			 * longest, across a page wherever the pool is */
			fake_buf_printf(&q, "GET /api/v2/behind/%d HTTP/1.1"
			    "\r\nHost: weir\r\nX-Pad: ", i);
			for (k = 0; k < PAD(i); k++)
				fake_buf_add(&q, "p", 1);
			fake_buf_adds(&q, "\r\n\r\n");
		}
		conn_send(fd[i], q.p, q.len, 3000);
		fake_buf_free(&q);
	}
	for (i = 0, nans = 0; i < NCONN; i++)
		for (k = 0; k < (i >= NCONN / 2 ? 2 : 1); k++, nans++) {
			ck_assert_int_eq(read_one(fd[i], 10000, &a), 200);
			ck_assert_msg(strstr(a.p, "X-Tall-00: vvv") != NULL &&
			    strstr(a.p, "X-Tall-44: " "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
			    "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n") != NULL &&
			    strstr(a.p, "\r\n\r\n{}") != NULL,
			    "connection %d: %.4000s", i, a.p);
			fake_buf_free(&a);
		}
	for (i = 0; i < NCONN; i++)
		close(fd[i]);
	ck_assert_int_eq(nans, NCONN + NCONN / 2);
	ck_assert_uint_eq(fake_nreqs(api), 2 * NCONN + NCONN / 2);
	/* The pipelined requests reached the upstream as they were sent. */
	for (i = 0, k = 0; i < 2 * NCONN + NCONN / 2; i++) {
		struct fake_req	*fr = fake_req_get(api, (size_t)i);
		const char	*pad = fake_req_header(fr, "X-Pad");
		int		 n;

		if (sscanf(fr->target, "/api/v2/behind/%d", &n) == 1) {
			ck_assert_ptr_nonnull(pad);
			ck_assert_uint_eq(strlen(pad), (size_t)PAD(n));
			ck_assert_uint_eq(strspn(pad, "p"), (size_t)PAD(n));
			k++;
		}
		fake_req_free(fr);
	}
	ck_assert_int_eq(k, NCONN / 2);
	/* The trim ran (a pool is given back a page when one is all zero). */
	log = h_stderr_contents(&W);
	ck_assert_msg(strstr(log, "of a waiting call's pool given back") !=
	    NULL, "no pool trimmed");
	free(log);
	assert_serving();
#undef PAD
}
END_TEST

START_TEST(head_far_over_the_limit_gets_431)
{
	static const char *const env[] = { NULL };
	struct got	 g;
	char		*req;
	size_t		 len;

	start(env);
	/* 256 KiB: past max_header_size and the pool's slack,
	 * libmicrohttpd's own 431 */
	req = big_head(256 * 1024, &len);
	exchange(req, len, 3000, &g);
	assert_raw_error(&g, 431, NULL);
	free(g.bytes);
	free(req);
	ck_assert_uint_eq(fake_nreqs(api), 0);
	assert_serving();
	assert_idle(2000);
}
END_TEST

START_TEST(declared_body_over_max_body_gets_413_before_the_body)
{
	static const char	 head[] = "POST /api/v2/upload HTTP/1.1\r\n"
	    "Host: weir\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Length: 100000000\r\n\r\n";
	static const char *const env[] = { NULL };
	struct got	 g;

	start(env);
	/* only the head goes; the answer must not wait for 100 MB */
	exchange(head, sizeof(head) - 1, 3000, &g);
	ck_assert_msg(g.ms < 2000, "took %llu ms", (unsigned long long)g.ms);
	assert_raw_error(&g, 413, "weir.body_too_large");
	free(g.bytes);
	ck_assert_uint_eq(fake_nreqs(api), 0);
	assert_serving();
	assert_idle(2000);
}
END_TEST

/* Bad framing, bad versions, garbage: answered (or not) and closed. */
static const struct bad {
	const char	*name;
	const char	*req;
	int		 status;	/* 0: closed without an answer */
	const char	*code;		/* NULL: libmicrohttpd's own answer */
} bads[] = {
	{ "CL and TE", "POST /api/v2/x HTTP/1.1\r\nHost: w\r\n"
	    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n", 400, "weir.bad_request" },
	{ "TE and CL", "POST /api/v2/x HTTP/1.1\r\nHost: w\r\n"
	    "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
	    "0\r\n\r\n", 400, "weir.bad_request" },
	{ "two CLs", "POST /api/v2/x HTTP/1.1\r\nHost: w\r\n"
	    "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400,
	    "weir.bad_request" },
	{ "TE gzip", "POST /api/v2/x HTTP/1.1\r\nHost: w\r\n"
	    "Transfer-Encoding: gzip\r\n\r\nxxxx", 501,
	    "weir.unsupported_transfer_encoding" },
	{ "TE gzip, chunked", "POST /api/v2/x HTTP/1.1\r\nHost: w\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501,
	    "weir.unsupported_transfer_encoding" },
	{ "two TEs", "POST /api/v2/x HTTP/1.1\r\nHost: w\r\n"
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n", 501, "weir.unsupported_transfer_encoding" },
	{ "CL abc", "POST /api/v2/x HTTP/1.1\r\nHost: w\r\n"
	    "Content-Length: abc\r\n\r\n", 400, NULL },
	{ "CL negative", "POST /api/v2/x HTTP/1.1\r\nHost: w\r\n"
	    "Content-Length: -1\r\n\r\n", 400, NULL },
	{ "no Host", "GET /api/v2/x HTTP/1.1\r\n\r\n", 400,
	    "weir.bad_request" },
	{ "HTTP/3.0", "GET /api/v2/x HTTP/3.0\r\nHost: w\r\n\r\n", 505,
	    NULL },
	{ "HTTP/2.0", "GET /api/v2/x HTTP/2.0\r\nHost: w\r\n\r\n", 505,
	    NULL },
	{ "request line with 4 parts", "GET /api/v2/x HTTP/1.1 x\r\n"
	    "Host: w\r\n\r\n", 400, NULL },
	{ "bare method", "GET\r\n\r\n", 0, NULL },
	{ "binary garbage", "\x16\x03\x01\x02\x01\x01\xfc\x03\x03\xff\xfe"
	    "\r\n\r\n", 0, NULL },
	{ "text garbage", "hello there\r\nhow are you\r\n\r\n", 0, NULL },
};

START_TEST(bad_requests_are_answered_and_closed)
{
	static const char *const env[] = { "WEIR_CLIENT_TIMEOUT=5s", NULL };
	const struct bad *b = &bads[_i];
	struct got	 g;

	start(env);
	exchange(b->req, strlen(b->req), 3000, &g);
	ck_assert_msg(g.eof, "%s: not closed within 3 s; got \"%s\"",
	    b->name, g.bytes);
	if (b->status == 0)
		ck_assert_msg(g.len == 0 || strncmp(g.bytes, "HTTP/1.1 400 ",
		    13) == 0, "%s: got \"%s\"", b->name, g.bytes);
	else {
		ck_assert_msg(g.len > 13 && atoi(g.bytes + 9) == b->status,
		    "%s: expected %d, got \"%s\"", b->name, b->status,
		    g.bytes);
		if (b->code != NULL)
			assert_raw_error(&g, b->status, b->code);
	}
	free(g.bytes);
	/* nothing reached the upstream, and weir serves the next caller */
	ck_assert_uint_eq(fake_nreqs(api), 0);
	assert_serving();
	assert_idle(2000);
}
END_TEST

/*
 * Heads libmicrohttpd 0.9.75 takes but an upstream could read otherwise
 * (RFC 9110 5.5, RFC 9112 3.2 and 5.2), and targets that could climb out
 * of the upstream's base path: weir's 400, the connection closed, nothing
 * sent upstream.  Lengths are explicit: some of these hold NUL bytes.
 */
#define RAW(s)	s, sizeof(s) - 1
static const struct refused {
	const char	*name;
	const char	*req;
	size_t		 len;
	const char	*why;		/* in the error's message */
} misread[] = {
	{ "bare CR in the target",
	    RAW("GET /api/v2/a\rb HTTP/1.1\r\nHost: w\r\n\r\n"),
	    "control byte" },
	{ "bare CR in a value hides an Authorization",
	    RAW("GET /api/v2/x HTTP/1.1\r\nHost: w\r\n"
	    "X-A: a\rAuthorization: Bearer hidden\r\n\r\n"), "control byte" },
	{ "NUL in a value",
	    RAW("GET /api/v2/x HTTP/1.1\r\nHost: w\r\nX-A: a\0b\r\n"
	    "X-B: c\r\n\r\n"), "NUL" },
	{ "NUL in the last value",
	    RAW("GET /api/v2/x HTTP/1.1\r\nHost: w\r\nX-A: a\0Authorization: "
	    "x\r\n\r\n"), "NUL" },
	{ "SOH in a value",
	    RAW("GET /api/v2/x HTTP/1.1\r\nHost: w\r\nX-A: a\x01" "b\r\n\r\n"),
	    "control byte" },
	{ "DEL in a value",
	    RAW("GET /api/v2/x HTTP/1.1\r\nHost: w\r\nX-A: a\x7f" "b\r\n\r\n"),
	    "control byte" },
	{ "ESC in a value",
	    RAW("GET /api/v2/x HTTP/1.1\r\nHost: w\r\nX-A: \x1b[31m\r\n\r\n"),
	    "control byte" },
	{ "space inside the target",
	    RAW("GET /api/v2/a b HTTP/1.1\r\nHost: w\r\n\r\n"), "space" },
	{ "control byte in the method",
	    RAW("G\x01" "ET /api/v2/x HTTP/1.1\r\nHost: w\r\n\r\n"), "method" },
	{ "NUL in the method",
	    RAW("G\0ET /api/v2/x HTTP/1.1\r\nHost: w\r\n\r\n"), "method" },
	{ "NUL in the target",
	    RAW("GET /api/v2/x\0/../../admin HTTP/1.1\r\nHost: w\r\n\r\n"),
	    "NUL" },
	{ "parenthesis in a field name",
	    RAW("GET /api/v2/x HTTP/1.1\r\nHost: w\r\nX-A(b): 1\r\n\r\n"),
	    "field name" },
	{ "space in a field name",
	    RAW("GET /api/v2/x HTTP/1.1\r\nHost: w\r\nX A: 1\r\n\r\n"),
	    "field name" },
	{ "obs-fold with SP",
	    RAW("GET /api/v2/x HTTP/1.1\r\nHost: w\r\nX-A: one\r\n two\r\n"
	    "\r\n"), "obs-fold" },
	{ "obs-fold with HTAB, twice",
	    RAW("GET /api/v2/x HTTP/1.1\r\nHost: w\r\nX-A: one\r\n\ttwo\r\n"
	    "\tthree\r\nX-B: 1\r\n\r\n"), "obs-fold" },
	{ "obs-fold of an empty Authorization",
	    RAW("GET /api/v2/x HTTP/1.1\r\nHost: w\r\nAuthorization:\r\n"
	    " Bearer x\r\n\r\n"), "obs-fold" },
	{ "../ climbing out",
	    RAW("GET /api/v2/../../x HTTP/1.1\r\nHost: w\r\n\r\n"),
	    "dot-segment" },
	{ "/.. at the start",
	    RAW("GET /../x HTTP/1.1\r\nHost: w\r\n\r\n"), "dot-segment" },
	{ "%2e%2e",
	    RAW("GET /%2e%2e/x HTTP/1.1\r\nHost: w\r\n\r\n"), "dot-segment" },
	{ "%2E%2e in the middle",
	    RAW("GET /api/v2/%2E%2e/users HTTP/1.1\r\nHost: w\r\n\r\n"),
	    "dot-segment" },
	{ ".%2e and %2f",
	    RAW("GET /api/v2/.%2e%2f.%2e%2fx HTTP/1.1\r\nHost: w\r\n\r\n"),
	    "dot-segment" },
	{ "..%2f without a slash",
	    RAW("GET ..%2fx HTTP/1.1\r\nHost: w\r\n\r\n"), "dot-segment" },
	{ "..\\",
	    RAW("GET /api/v2/..\\..\\x HTTP/1.1\r\nHost: w\r\n\r\n"),
	    "dot-segment" },
	{ "trailing /.",
	    RAW("GET /api/v2/x/. HTTP/1.1\r\nHost: w\r\n\r\n"), "dot-segment" },
};

/* weir's 400 with why in its message, and the connection closed. */
static void
assert_refused(const struct got *g, const char *name, const char *why)
{
	struct h_resp	 r;
	const char	*conn;
	char		 msg[512];

	ck_assert_msg(g->eof, "%s: connection still open after %llu ms; "
	    "got %s", name, (unsigned long long)g->ms, g->bytes);
	ck_assert_msg(h_parse_response(g->bytes, g->len, &r) == 0,
	    "%s: no HTTP answer: \"%s\"", name, g->bytes);
	h_assert_weir_error(&r, 400, "weir.bad_request");
	ck_assert_int_eq(h_json_get((const char *)r.body, r.body_len,
	    "message", msg, sizeof(msg)), 3);
	ck_assert_msg(strstr(msg, why) != NULL, "%s: message \"%s\" does not "
	    "say \"%s\"", name, msg, why);
	conn = h_resp_header(&r, "Connection");
	ck_assert_msg(conn != NULL && strcasecmp(conn, "close") == 0,
	    "%s: Connection: %s", name, conn != NULL ? conn : "(none)");
	h_resp_free(&r);
}

START_TEST(heads_an_upstream_could_misread_get_400_and_go_nowhere)
{
	static const char *const env[] = { NULL };
	const struct refused *b = &misread[_i];
	struct got	 g;

	start(env);
	exchange(b->req, b->len, 3000, &g);
	assert_refused(&g, b->name, b->why);
	free(g.bytes);
	ck_assert_uint_eq(fake_nreqs(api), 0);
	ck_assert_uint_eq(fake_nreqs(login), 0);
	assert_serving();
	assert_idle(2000);
}
END_TEST

/*
 * "Content-Length:" folded onto the next line: every parser that unfolds
 * reads one POST with a 42-byte body; libmicrohttpd 0.9.75 glues " 42"
 * onto the name, sees no Content-Length, and would read the body as a
 * second request, which weir would send upstream.
 */
START_TEST(obs_fold_cannot_smuggle_a_second_request)
{
	static const char	 req[] = "POST /api/v2/first HTTP/1.1\r\n"
	    "Host: w\r\nContent-Type: text/plain\r\nContent-Length:\r\n 42\r\n"
	    "\r\n"
	    "GET /api/v2/smuggled HTTP/1.1\r\nHost: w\r\n\r\n";
	static const char *const env[] = { NULL };
	struct fake_req	*u;
	struct got	 g;

	start(env);
	exchange(req, sizeof(req) - 1, 3000, &g);
	assert_refused(&g, "smuggling", "obs-fold");
	ck_assert_msg(strstr(g.bytes, "HTTP/1.1 200") == NULL, "%s", g.bytes);
	free(g.bytes);
	ck_assert_uint_eq(fake_nreqs(api), 0);
	/* the next call is the first the upstream ever sees */
	assert_serving();
	ck_assert_uint_eq(fake_nreqs(api), 1);
	u = fake_req_get(api, 0);
	ck_assert_str_eq(u->target, "/api/v2/still");
	fake_req_free(u);
	assert_idle(2000);
}
END_TEST

START_TEST(htab_inside_a_value_is_forwarded)
{
	static const char	 req[] = "GET /api/v2/tab HTTP/1.1\r\n"
	    "Host: w\r\nX-Tab: a\tb\r\nX-Last: c\td\r\nConnection: close\r\n"
	    "\r\n";
	static const char *const env[] = { NULL };
	struct fake_req	*u;
	struct got	 g;

	start(env);
	exchange(req, sizeof(req) - 1, 3000, &g);
	ck_assert_msg(strncmp(g.bytes, "HTTP/1.1 200 ", 13) == 0, "%.300s",
	    g.bytes);
	free(g.bytes);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	u = fake_req_get(api, 0);
	ck_assert_str_eq(fake_req_header(u, "X-Tab"), "a\tb");
	ck_assert_str_eq(fake_req_header(u, "X-Last"), "c\td");
	fake_req_free(u);
}
END_TEST

/* Behind a prefix and in front of a base path, dot-segments go nowhere;
 * an encoded slash that is no dot-segment passes byte for byte. */
START_TEST(dot_segments_never_leave_the_base_path)
{
	static const char *const targets[] = {
		"/gw/../x", "/gw/api/v2/%2e%2e/%2e%2e/%2e%2e/x",
		"/gw/..%2f..%2fx", "/gw/api/v2/.%2E/x", "/gw/%2e%2e",
		"/gw/api/v2/%2e%2e%5cx",
	};
	static const char *const env[] = { "WEIR_API_PREFIX=/gw", NULL };
	char		 up[64], req[256];
	const char	*args[3] = { "-u", up, NULL };
	struct fake_req	*u;
	struct h_req	 q = { .target = "/gw/api/v2/a%2Fb?x=%2e%2e" };
	struct h_resp	 r;
	struct got	 g;
	size_t		 i;

	api = fake_start(fake_echo, NULL);
	login = fake_start(fake_echo, NULL);
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(login);
	snprintf(up, sizeof(up), "http://127.0.0.1:%u/base",
	    (unsigned)fake_port(api));
	h_start_or_abort(&W, fake_port(api), fake_port(login), args, env);
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: w\r\n\r\n",
		    targets[i]);
		exchange(req, strlen(req), 3000, &g);
		assert_refused(&g, targets[i], "dot-segment");
		free(g.bytes);
	}
	ck_assert_uint_eq(fake_nreqs(api), 0);
	ck_assert_uint_eq(fake_nreqs(login), 0);
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	u = fake_req_get(api, 0);
	ck_assert_str_eq(u->target, "/base/api/v2/a%2Fb?x=%2e%2e");
	fake_req_free(u);
}
END_TEST

/* Too many connections. */

START_TEST(max_connections_refuses_the_ninth)
{
	static const char *const env[] = { "WEIR_MAX_CONNECTIONS=8",
	    "WEIR_CLIENT_TIMEOUT=30s", NULL };
	static const char	 req[] = "GET /api/v2/idle HTTP/1.1\r\n"
	    "Host: weir\r\n\r\n";
	int		 fds[8], fd, i;
	struct got	 g;

	start(env);
	/* 8 kept-alive connections, each with one call done: all accepted */
	for (i = 0; i < 8; i++) {
		fds[i] = conn_open(W.port);
		conn_send(fds[i], req, sizeof(req) - 1, 2000);
		ck_assert_int_eq(read_one_response(fds[i], 3000), 200);
	}
	/* the 9th is answered 503 weir.too_many_connections and closed, at
	 * once (not left waiting in the listen queue until a slot frees) */
	fd = conn_open(W.port);
	conn_send(fd, req, sizeof(req) - 1, 2000);
	conn_drain(fd, 3000, &g);
	close(fd);
	ck_assert_msg(g.eof && g.len > 0 && g.ms < 2000, "9th connection: "
	    "not refused: eof %d, %zu bytes in %llu ms", g.eof, g.len,
	    (unsigned long long)g.ms);
	ck_assert_msg(strncmp((char *)g.bytes, "HTTP/1.1 503 ", 13) == 0,
	    "9th connection got: %.60s", (char *)g.bytes);
	ck_assert_ptr_nonnull(strstr((char *)g.bytes,
	    "\"code\":\"weir.too_many_connections\""));
	ck_assert_ptr_nonnull(strstr((char *)g.bytes, "Retry-After: 1"));
	free(g.bytes);
	ck_assert_int_eq(h_wait_stderr(&W, "max_connections", 2000), 0);
	/* the 8 are still served */
	conn_send(fds[3], req, sizeof(req) - 1, 2000);
	ck_assert_int_eq(read_one_response(fds[3], 3000), 200);
	for (i = 0; i < 8; i++)
		close(fds[i]);
	/* once they are gone, new connections work again (weir notices the
	 * closes on its next pass) */
	for (i = 0; i < 100; i++) {
		struct h_req	 q = { .target = "/api/v2/again" };
		struct h_resp	 r;

		h_request(W.port, &q, &r);
		if (r.status == 200) {
			h_resp_free(&r);
			break;
		}
		h_resp_free(&r);
		h_nap_ms(20);
	}
	ck_assert_int_lt(i, 100);
	assert_serving();
	/* the 8, the 4th's second call, "again" and assert_serving's: the
	 * refused 9th never went upstream */
	ck_assert_uint_eq(fake_nreqs(api), 8 + 1 + 1 + 1);
	assert_idle(2000);
}
END_TEST

/* File descriptors. */

/* Raise this process's soft RLIMIT_NOFILE to the hard one; it must allow
 * n descriptors. */
static void
need_fds(unsigned n)
{
	struct rlimit	 rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_msg(rl.rlim_cur >= n, "the test needs %u descriptors, the "
	    "hard limit is %llu", n, (unsigned long long)rl.rlim_cur);
}

/* n connections to port that send nothing. */
static int *
idle_open(unsigned n, uint16_t port)
{
	int		*fds = fake_alloc(n * sizeof(*fds));
	unsigned	 i;

	for (i = 0; i < n; i++)
		fds[i] = conn_open(port);
	return fds;
}

static void
idle_close(int *fds, unsigned n)
{
	unsigned	 i;

	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

/*
 * Of n idle connections, how many weir answered with a whole 503
 * weir.too_many_connections and closed, within timeout_ms.  The others
 * must still be open, with nothing to read.
 */
static unsigned
idle_refused(const int *fds, unsigned n, unsigned timeout_ms)
{
	struct pollfd	*pfd = fake_alloc(n * sizeof(*pfd));
	struct fake_buf	*got = fake_alloc(n * sizeof(*got));
	uint64_t	 end = h_mono_ms() + timeout_ms, now;
	char		 tmp[4096];
	unsigned	 i, open = n, refused = 0;
	ssize_t		 len;

	memset(got, 0, n * sizeof(*got));
	for (i = 0; i < n; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	while (open > 0 && (now = h_mono_ms()) < end) {
		if (poll(pfd, n, (int)(end - now)) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			len = recv(fds[i], tmp, sizeof(tmp), MSG_DONTWAIT);
			if (len > 0) {
				fake_buf_add(&got[i], tmp, (size_t)len);
				continue;
			}
			if (len == -1 && errno == EAGAIN)
				continue;
			pfd[i].fd = -1;		/* the end */
			open--;
		}
	}
	for (i = 0; i < n; i++) {
		struct got	 g = { .bytes = got[i].p, .len = got[i].len,
		    .eof = pfd[i].fd == -1 };

		if (g.eof) {
			assert_raw_error(&g, 503, "weir.too_many_connections");
			ck_assert_ptr_nonnull(strstr(g.bytes,
			    "\r\nRetry-After: 1\r\n"));
			refused++;
		} else
			ck_assert_msg(g.len == 0, "an idle connection got "
			    "%s", g.bytes);
		fake_buf_free(&got[i]);
	}
	free(got);
	free(pfd);
	return refused;
}

/* A call past the limits: answered (200) or refused 503, never left
 * waiting.  Returns the status. */
static int
call_gets_an_answer(void)
{
	struct h_req	 q = { .target = "/api/v2/next", .timeout_ms = 5000 };
	struct h_resp	 r;
	int		 status;

	ck_assert_msg(h_request(W.port, &q, &r) == 0, "no answer: %s", r.err);
	status = r.status;
	if (status == 503) {
		h_assert_weir_error(&r, 503, "weir.too_many_connections");
		ck_assert_str_eq(h_resp_header(&r, "Retry-After"), "1");
		ck_assert_str_eq(h_resp_header(&r, "Connection"), "close");
	} else
		ck_assert_int_eq(status, 200);
	h_resp_free(&r);
	return status;
}

/* Once the idle connections are gone, calls are served again (weir sees
 * the closes on its next pass). */
static void
serving_again(void)
{
	struct h_req	 q = { .target = "/api/v2/again" };
	struct h_resp	 r;
	int		 i;

	for (i = 0; i < 100; i++) {
		h_request(W.port, &q, &r);
		if (r.status == 200) {
			h_resp_free(&r);
			break;
		}
		h_resp_free(&r);
		h_nap_ms(20);
	}
	ck_assert_int_lt(i, 100);
}

#define IDLE_CONNS	1100

START_TEST(a_low_descriptor_limit_lowers_max_connections_and_refuses_the_rest)
{
	static const char *const env[] = { "WEIR_MAX_CONNECTIONS=4096",
	    "WEIR_CLIENT_TIMEOUT=30s", NULL };
	static const char	 warn[] = "max_connections lowered from 4096 "
	    "to ";
	char		*log, *p;
	unsigned long	 lowered, slack;
	unsigned	 refused;
	int		*fds, status;

	need_fds(IDLE_CONNS + 64);
	api = fake_start(fake_echo, NULL);
	login = fake_start(fake_echo, NULL);
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(login);
	if (h_start_nofile(&W, fake_port(api), fake_port(login), NULL, env,
	    1024) == -1)
		ck_abort_msg("weir did not start: %s", h_stderr_contents(&W));
	/* a warning says what max_connections became, and why */
	log = h_stderr_contents(&W);
	ck_assert_msg((p = strstr(log, warn)) != NULL, "no warning: %s", log);
	lowered = strtoul(p + strlen(warn), &p, 10);
	ck_assert_msg(lowered >= 256 && lowered < 1024, "lowered to %lu",
	    lowered);
	ck_assert_ptr_nonnull(strstr(p, "the file descriptor limit "
	    "(RLIMIT_NOFILE) is 1024"));
	ck_assert_ptr_nonnull(p = strstr(p, "(and "));
	slack = strtoul(p + 5, NULL, 10);
	free(log);

	/* 1,100 clients connect and send nothing */
	fds = idle_open(IDLE_CONNS, W.port);
	/* the next call is answered at once, not left in the listen
	 * backlog behind them */
	status = call_gets_an_answer();
	/* the idle ones weir cannot hold were refused, the others held */
	refused = idle_refused(fds, IDLE_CONNS, 3000);
	ck_assert_msg(refused == IDLE_CONNS - (lowered + slack), "refused "
	    "%u of %u idle connections, max_connections %lu + %lu",
	    refused, IDLE_CONNS, lowered, slack);
	ck_assert_uint_eq(fake_nreqs(api), status == 200 ? 1 : 0);
	idle_close(fds, IDLE_CONNS);
	serving_again();
	assert_serving();
	assert_idle(2000);
}
END_TEST

START_TEST(out_of_descriptors_new_clients_are_refused_not_left_waiting)
{
	/* 64 descriptors: fewer than the clients libmicrohttpd would take */
	static const char *const env[] = { "WEIR_CLIENT_TIMEOUT=30s",
	    "WEIR_ADMIN_LISTEN=off", NULL };
	unsigned	 refused;
	int		*fds, status;

	need_fds(200 + 64);
	api = fake_start(fake_echo, NULL);
	login = fake_start(fake_echo, NULL);
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(login);
	if (h_start_nofile(&W, fake_port(api), fake_port(login), NULL, env,
	    64) == -1)
		ck_abort_msg("weir did not start: %s", h_stderr_contents(&W));
	ck_assert_int_eq(h_wait_stderr(&W, "it does not fit even so", 1000),
	    0);
	fds = idle_open(200, W.port);
	status = call_gets_an_answer();
	ck_assert_int_eq(status, 503);
	/* accept() failed for want of a descriptor, and weir said so */
	ck_assert_int_eq(h_wait_stderr(&W, "out of file descriptors", 2000),
	    0);
	refused = idle_refused(fds, 200, 3000);
	ck_assert_msg(refused > 100 && refused < 200, "refused %u", refused);
	ck_assert_uint_eq(fake_nreqs(api), 0);
	idle_close(fds, 200);
	/* max_connections is 1 now: once weir has seen the closes */
	serving_again();
	ck_assert_uint_eq(fake_nreqs(api), 1);
}
END_TEST

/* The admin listener under clients that never finish a request. */

/* Connections that send a request head one byte at a time. */
struct trickle {
	pthread_t	 th;
	uint16_t	 port;
	int		 n;
	int		 fds[128];
	uint64_t	 closed_ms[128];	/* when weir closed it, or 0 */
	uint64_t	 start_ms;
	unsigned	 every_ms;
	int		 rounds;		/* bytes sent to each */
	int		 stop;
	pthread_mutex_t	 mu;
};

static void *
trickle_run(void *arg)
{
	static const char	 head[] = "GET /healthz HTTP/1.1\r\nHost: w\r\n"
	    "X-Slow: ";
	struct trickle		*t = arg;
	char			 c, buf[256];
	int			 i, stop = 0;

	while (!stop) {
		pthread_mutex_lock(&t->mu);
		for (i = 0; i < t->n; i++) {
			if (t->closed_ms[i] != 0)
				continue;
			c = t->rounds < (int)sizeof(head) - 1 ?
			    head[t->rounds] : 'a';
			if (send(t->fds[i], &c, 1, MSG_NOSIGNAL |
			    MSG_DONTWAIT) == -1 && errno != EAGAIN)
				t->closed_ms[i] = h_mono_ms();
			else if (recv(t->fds[i], buf, sizeof(buf),
			    MSG_DONTWAIT) == 0)
				t->closed_ms[i] = h_mono_ms();
		}
		t->rounds++;
		stop = t->stop;
		pthread_mutex_unlock(&t->mu);
		h_nap_ms(t->every_ms);
	}
	return NULL;
}

static void
trickle_start(struct trickle *t, uint16_t port, int n, unsigned every_ms)
{
	int	 i;

	memset(t, 0, sizeof(*t));
	ck_assert_int_le(n, 128);
	pthread_mutex_init(&t->mu, NULL);
	t->port = port;
	t->n = n;
	t->every_ms = every_ms;
	t->start_ms = h_mono_ms();
	for (i = 0; i < n; i++)
		t->fds[i] = conn_open(port);
	pthread_create(&t->th, NULL, trickle_run, t);
}

/* Wait until every connection has had r bytes. */
static void
trickle_wait_rounds(struct trickle *t, int r)
{
	int	 done;

	for (;;) {
		pthread_mutex_lock(&t->mu);
		done = t->rounds >= r;
		pthread_mutex_unlock(&t->mu);
		if (done)
			break;
		h_nap_ms(10);
	}
}

/* How many weir has closed so far. */
static int
trickle_closed(struct trickle *t)
{
	int	 i, n = 0;

	pthread_mutex_lock(&t->mu);
	for (i = 0; i < t->n; i++)
		if (t->closed_ms[i] != 0)
			n++;
	pthread_mutex_unlock(&t->mu);
	return n;
}

static void
trickle_stop(struct trickle *t)
{
	int	 i;

	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->th, NULL);
	for (i = 0; i < t->n; i++)
		close(t->fds[i]);
	pthread_mutex_destroy(&t->mu);
}

START_TEST(healthz_answers_while_100_clients_trickle_half_requests)
{
	static const char *const env[] = { "WEIR_CLIENT_TIMEOUT=30s", NULL };
	static struct trickle	 t;
	struct h_req		 q = { .target = "/healthz",
	    .timeout_ms = 10000 };
	struct h_resp		 r;
	uint16_t		 aport;
	uint64_t		 t0, ms;

	start(env);
	ck_assert_uint_ne(aport = h_admin_port(&W), 0);
	/* 100 clients each hold a half-sent request, a byte every 500 ms */
	trickle_start(&t, aport, 100, 500);
	trickle_wait_rounds(&t, 2);
	t0 = h_mono_ms();
	ck_assert_msg(h_request(aport, &q, &r) == 0, "/healthz: %s", r.err);
	ms = h_mono_ms() - t0;
	fprintf(stderr, "# /healthz answered in %llu ms beside 100 trickling "
	    "clients\n", (unsigned long long)ms);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq((char *)r.body, "ok\n");
	h_resp_free(&r);
	/* while they were still held: this measured the admin listener's
	 * room, not their deadline */
	ck_assert_int_eq(trickle_closed(&t), 0);
	ck_assert_msg(ms < 3000, "/healthz took %llu ms",
	    (unsigned long long)ms);
	trickle_stop(&t);
	assert_idle(2000);
}
END_TEST

START_TEST(admin_clients_that_never_finish_a_request_are_cut_off)
{
	/* the whole-request deadline: client_timeout when under 5 s */
	static const char *const env[] = { "WEIR_CLIENT_TIMEOUT=2s", NULL };
	static struct trickle	 t;
	uint16_t		 aport;
	uint64_t		 end;
	int			 i;

	start(env);
	ck_assert_uint_ne(aport = h_admin_port(&W), 0);
	/* a byte every 200 ms: libmicrohttpd's idle timeout never fires */
	trickle_start(&t, aport, 10, 200);
	end = h_mono_ms() + 10000;
	while (trickle_closed(&t) < 10 && h_mono_ms() < end)
		h_nap_ms(20);
	trickle_stop(&t);
	for (i = 0; i < 10; i++) {
		ck_assert_msg(t.closed_ms[i] != 0, "connection %d still open "
		    "after %d bytes", i, t.rounds);
		ck_assert_msg(t.closed_ms[i] - t.start_ms >= 1000, "cut after "
		    "%llu ms", (unsigned long long)(t.closed_ms[i] -
		    t.start_ms));
	}
	/* the listener still answers, and nothing reached the upstream */
	ck_assert_uint_eq(fake_nreqs(api), 0);
	assert_idle(2000);
}
END_TEST

/* Clients that stall. */

static void *
served_meanwhile(void *arg)
{
	uint64_t	*ms = arg, t0;
	struct h_req	 q = { .target = "/api/v2/meanwhile" };
	struct h_resp	 r;
	int		 i;

	for (i = 0; i < 5; i++) {
		t0 = h_mono_ms();
		if (h_request(W.port, &q, &r) == 0 && r.status == 200) {
			if (h_mono_ms() - t0 > *ms)
				*ms = h_mono_ms() - t0;
		} else
			*ms = 999999;
		h_resp_free(&r);
		h_nap_ms(100);
	}
	return NULL;
}

START_TEST(stalled_clients_are_cut_off)
{
	static const char *const env[] = { "WEIR_CLIENT_TIMEOUT=1s", NULL };
	static const char	 half_head[] = "GET /api/v2/stall HTTP/1.1\r\n"
	    "Host: weir\r\nX-Half: ";
	static const char	 short_body[] = "POST /api/v2/stall HTTP/1.1\r\n"
	    "Host: weir\r\nContent-Length: 100\r\n\r\n0123456789";
	struct got	 g1, g2;
	pthread_t	 th;
	uint64_t	 worst = 0, t0;
	int		 a, b;

	start(env);
	a = conn_open(W.port);
	b = conn_open(W.port);
	t0 = h_mono_ms();
	conn_send(a, half_head, sizeof(half_head) - 1, 1000);
	conn_send(b, short_body, sizeof(short_body) - 1, 1000);
	/* another client is served without delay in the meantime */
	pthread_create(&th, NULL, served_meanwhile, &worst);
	conn_drain(a, 5000, &g1);
	conn_drain(b, 5000, &g2);
	pthread_join(th, NULL);
	close(a);
	close(b);
	ck_assert_msg(g1.eof && g1.ms + 100 >= 900 && h_mono_ms() - t0 < 4000,
	    "half head: eof %d after %llu ms", g1.eof,
	    (unsigned long long)g1.ms);
	ck_assert_msg(g2.eof && h_mono_ms() - t0 < 4000,
	    "short body: eof %d after %llu ms", g2.eof,
	    (unsigned long long)g2.ms);
	/* neither stalled client got a success */
	ck_assert_msg(g1.len == 0 || strncmp(g1.bytes, "HTTP/1.1 200", 12),
	    "%s", g1.bytes);
	ck_assert_msg(g2.len == 0 || strncmp(g2.bytes, "HTTP/1.1 200", 12),
	    "%s", g2.bytes);
	free(g1.bytes);
	free(g2.bytes);
	ck_assert_msg(worst < 500, "a call took %llu ms meanwhile",
	    (unsigned long long)worst);
	/* the stalled calls never went upstream */
	ck_assert_uint_eq(fake_nreqs(api), 5);
	assert_idle(2000);
}
END_TEST

/* Clients that hang up while their call waits. */

START_TEST(hang_up_while_queued_is_499_and_never_sent)
{
	/* max_wait past the next token, or weir answers 503 at once */
	static const char *const env[] = { "WEIR_RATE=1/min", "WEIR_BURST=1",
	    "WEIR_MAX_WAIT=120s", "WEIR_LOG_LEVEL=info", NULL };
	static const char	 req[] = "GET /api/v2/queued HTTP/1.1\r\n"
	    "Host: weir\r\nAuthorization: Bearer qq\r\n"
	    "X-Request-Id: gone-while-queued\r\n\r\n";
	const char	*hdrs[] = { "Authorization: Bearer qq", NULL };
	struct h_req	 q = { .target = "/api/v2/first", .headers = hdrs };
	struct h_resp	 r;
	uint64_t	 end;
	char		*doc, *line;
	int		 fd;

	start(env);
	/* the first call takes the tenant's one token */
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	/* the second waits for the next one, a minute away */
	fd = conn_open(W.port);
	conn_send(fd, req, sizeof(req) - 1, 1000);
	end = h_mono_ms() + 3000;
	for (;;) {
		doc = admin_status();
		if (status_num(doc, "queued") == 1 || h_mono_ms() > end)
			break;
		free(doc);
		h_nap_ms(10);
	}
	ck_assert_msg(status_num(doc, "queued") == 1, "%s", doc);
	free(doc);
	close(fd);
	/* weir notices at once, logs 499, and takes the call out */
	ck_assert_int_eq(h_wait_stderr(&W, "\"status\":499", 2000), 0);
	line = h_access_line(&W, "\"request_id\":\"gone-while-queued\"");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, "\"status\":499"));
	ck_assert_ptr_nonnull(strstr(line, "\"attempts\":0"));
	free(line);
	assert_idle(2000);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	/* another tenant is served at once */
	assert_serving();
	ck_assert_uint_eq(fake_nreqs(api), 2);
}
END_TEST

/*
 * A slow upstream of our own (a scripted raw fake): a call to
 * /api/v2/slow is held for 3 s unless the client (weir) goes away first,
 * which it records; anything else is answered at once.
 */
static struct slowup {
	struct fake	*f;
	pthread_mutex_t	 mtx;
	int		 nslow;
	int		 ngone;		/* slow calls whose client left */
	int		 gone_after_ms;
	int		 nanswered_slow;
} su = { .mtx = PTHREAD_MUTEX_INITIALIZER };

static enum fake_raw_act
slowup(struct fake *f, const struct fake_req *req, int fd, void *arg)
{
	uint64_t	 t0;
	int		 gone;

	(void)arg;
	if (strcmp(req->target, "/api/v2/slow") != 0)
		return FAKE_RAW_OK;
	pthread_mutex_lock(&su.mtx);
	su.nslow++;
	pthread_mutex_unlock(&su.mtx);
	t0 = h_mono_ms();
	if ((gone = fake_raw_wait_gone(f, fd, 3000)) == -1)
		return FAKE_RAW_CLOSE;		/* stopping */
	pthread_mutex_lock(&su.mtx);
	if (gone) {
		su.ngone++;
		su.gone_after_ms = (int)(h_mono_ms() - t0);
	} else
		su.nanswered_slow++;
	pthread_mutex_unlock(&su.mtx);
	return gone ? FAKE_RAW_CLOSE : FAKE_RAW_OK;
}

static void
su_start(void)
{
	su.f = fake_start_scripted(slowup, NULL);
	ck_assert_ptr_nonnull(su.f);
}

static int
su_get(int *field)
{
	int	 v;

	pthread_mutex_lock(&su.mtx);
	v = *field;
	pthread_mutex_unlock(&su.mtx);
	return v;
}

static void
su_teardown(void)
{
	h_stop(&W);
	fake_stop(su.f);
	su.f = NULL;
}

START_TEST(hang_up_while_in_flight_drops_the_upstream_call)
{
	static const char *const env[] = { "WEIR_LOG_LEVEL=info", NULL };
	static const char	 req[] = "GET /api/v2/slow HTTP/1.1\r\n"
	    "Host: weir\r\nX-Request-Id: gone-in-flight\r\n\r\n";
	struct h_req	 q = { .target = "/api/v2/fast" };
	struct h_resp	 r;
	uint64_t	 end, t0;
	char		*line;
	int		 fd;

	su_start();
	h_start_or_abort(&W, fake_port(su.f), fake_port(su.f), NULL, env);
	fd = conn_open(W.port);
	conn_send(fd, req, sizeof(req) - 1, 1000);
	/* the call is out upstream */
	end = h_mono_ms() + 3000;
	while (su_get(&su.nslow) == 0 && h_mono_ms() < end)
		h_nap_ms(5);
	ck_assert_int_eq(su_get(&su.nslow), 1);
	t0 = h_mono_ms();
	close(fd);
	/* weir logs 499 long before the upstream's 3 s */
	ck_assert_int_eq(h_wait_stderr(&W, "\"status\":499", 1500), 0);
	ck_assert_msg(h_mono_ms() - t0 < 1500, "499 after %llu ms",
	    (unsigned long long)(h_mono_ms() - t0));
	line = h_access_line(&W, "\"request_id\":\"gone-in-flight\"");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, "\"status\":499"));
	free(line);
	/* and drops the upstream call: the upstream sees weir leave */
	end = h_mono_ms() + 1500;
	while (su_get(&su.ngone) == 0 && h_mono_ms() < end)
		h_nap_ms(5);
	ck_assert_msg(su_get(&su.ngone) == 1, "the upstream connection stayed "
	    "open (gone %d)", su_get(&su.ngone));
	ck_assert_int_lt(su_get(&su.gone_after_ms), 1500);
	ck_assert_int_eq(su_get(&su.nanswered_slow), 0);
	/* nothing is left waiting, and weir serves on */
	assert_idle(2000);
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(su.f), 2);
	assert_idle(2000);
}
END_TEST

/* Many tenants. */

START_TEST(distinct_tokens_stay_within_max_tenants)
{
	static const char *const env[] = { "WEIR_MAX_TENANTS=1000",
	    "WEIR_LOG_LEVEL=warn", NULL };
	enum { NCALLS = 3000 };
	struct curl_slist	*hl;
	char			 url[64], auth[96];
	long			 code, rss0, rss1;
	CURL			*e;
	FILE			*devnull;
	int			 i, ok = 0;
	double			 tenants;

	start(env);
	fake_set_max_records(api, 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v2/t",
	    (unsigned)W.port);
	e = curl_easy_init();
	ck_assert_ptr_nonnull(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
	devnull = fopen("/dev/null", "w");
	ck_assert_ptr_nonnull(devnull);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, devnull);
	rss0 = rss_kb(W.pid);
	srandom((unsigned)getpid());
	for (i = 0; i < NCALLS; i++) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %ld-%ld-%d",
		    random(), random(), i);
		hl = curl_slist_append(NULL, auth);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
		code = 0;
		if (curl_easy_perform(e) == CURLE_OK) {
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
			ok += code == 200;
		}
		curl_slist_free_all(hl);
	}
	curl_easy_cleanup(e);
	fclose(devnull);
	rss1 = rss_kb(W.pid);
	/* every call is answered: idle tenants make room for new ones */
	ck_assert_int_eq(ok, NCALLS);
	ck_assert_uint_eq(fake_nreqs(api), NCALLS);
	tenants = metric("weir_tenants");
	ck_assert_msg(tenants >= 1 && tenants <= 1000, "%g tenants", tenants);
	fprintf(stderr, "# %d tenants: %g tracked, RSS %ld -> %ld kB\n",
	    NCALLS, tenants, rss0, rss1);
	/* AddressSanitizer's quarantine holds freed memory: no bound then */
	if (getenv("WEIR_SANITIZED") == NULL ||
	    strcmp(getenv("WEIR_SANITIZED"), "yes") != 0)
		ck_assert_msg(rss1 - rss0 < 32 * 1024,
		    "RSS grew from %ld to %ld kB", rss0, rss1);
	ck_assert_msg(metric("process_resident_memory_bytes") > 0, "no RSS");
	assert_idle(2000);
}
END_TEST

static Suite *
hostile_suite(void)
{
	Suite	*s = suite_create("hostile");
	TCase	*tc;

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, head_over_the_limit_gets_json_431);
	tcase_add_test(tc, largest_head_still_gets_a_large_answer_head);
	tcase_add_test(tc, head_far_over_the_limit_gets_431);
	tcase_add_test(tc, every_head_shape_gets_exactly_one_answer);
	tcase_add_test(tc, a_query_of_many_arguments_is_forwarded_whole);
	tcase_add_test(tc, pipelined_requests_filling_the_pool_get_one_answer_each);
	tcase_add_test(tc, waiting_calls_with_trimmed_pools_get_whole_answers);
	tcase_add_test(tc, declared_body_over_max_body_gets_413_before_the_body);
	tcase_add_loop_test(tc, bad_requests_are_answered_and_closed, 0,
	    (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_loop_test(tc,
	    heads_an_upstream_could_misread_get_400_and_go_nowhere, 0,
	    (int)(sizeof(misread) / sizeof(misread[0])));
	tcase_add_test(tc, obs_fold_cannot_smuggle_a_second_request);
	tcase_add_test(tc, htab_inside_a_value_is_forwarded);
	tcase_add_test(tc, dot_segments_never_leave_the_base_path);
	tcase_add_test(tc, max_connections_refuses_the_ninth);
	tcase_add_test(tc,
	    a_low_descriptor_limit_lowers_max_connections_and_refuses_the_rest);
	tcase_add_test(tc,
	    out_of_descriptors_new_clients_are_refused_not_left_waiting);
	tcase_add_test(tc,
	    healthz_answers_while_100_clients_trickle_half_requests);
	tcase_add_test(tc, admin_clients_that_never_finish_a_request_are_cut_off);
	tcase_add_test(tc, stalled_clients_are_cut_off);
	tcase_add_test(tc, hang_up_while_queued_is_499_and_never_sent);
	tcase_add_test(tc, distinct_tokens_stay_within_max_tenants);
	suite_add_tcase(s, tc);

	tc = tcase_create("in_flight");
	tcase_add_checked_fixture(tc, NULL, su_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, hang_up_while_in_flight_drops_the_upstream_call);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(hostile_suite());
}
