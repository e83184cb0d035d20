/*
 * check_lifecycle.c - weir's bounds, through the real binary: a stop takes
 * at most drain_timeout plus a second whatever clients and upstreams do
 * (a call out to an upstream that never answers, a client sending its
 * body a byte at a time, kept-alive connections), and request bodies held
 * in memory stay within max_body_memory, all calls together.
 *
 * Every test checks what the clients got (status, weir's JSON error, the
 * request id, Retry-After, the connection closed), what the upstream
 * received, and weir's own state through /metrics or /proc.  Test code:
 * raw sockets and libcurl to 127.0.0.1 only; waits poll for a condition,
 * and the time bounds carry a wide margin.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fake.h"
#include "harness.h"
#include "tap.h"

static struct fake	*api, *login;
static struct h_weir	 W;
static uint16_t		 aport;		/* the admin listener */

/* Margin on top of the bound a stop must keep (drain_timeout + 1 s). */
#define EXIT_MARGIN_MS	1500

/* The size of the answer to "/big": more than loopback sockets buffer. */
#define BIG_ANSWER	(32 * 1024 * 1024)

/*
 * The upstream: a target with "/hold" is never answered (until the fake
 * stops), one with "/slow" is answered after 2.5 s, "/big" gets
 * BIG_ANSWER bytes, the rest are echoed.
 */
static void
held(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	static char	*big;

	if (strstr(req->target, "/big") != NULL) {
		if (big == NULL) {
			big = fake_alloc(BIG_ANSWER);
			memset(big, 'g', BIG_ANSWER);
		}
		fake_reply_body(rp, big, BIG_ANSWER);
		return;
	}
	if (strstr(req->target, "/hold") != NULL)
		rp->hang = 1;
	else if (strstr(req->target, "/slow") != NULL)
		rp->delay_ms = 2500;
	fake_echo(req, rp, arg);
}

static void
start(const char *const *env)
{
	api = fake_start(held, NULL);
	login = fake_start(NULL, NULL);
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(login);
	h_start_or_abort(&W, fake_port(api), fake_port(login), NULL, env);
	aport = h_admin_port(&W);
	ck_assert_msg(aport != 0, "no admin listener: %s",
	    h_stderr_contents(&W));
}

static void
teardown(void)
{
	h_stop(&W);
	fake_stop(api);
	fake_stop(login);
	api = login = NULL;
}

/* Has weir exited?  Leaves it for h_stop() to reap (WNOWAIT). */
static int
weir_exited(void)
{
	siginfo_t	 si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)W.pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1)
		return 1;
	return si.si_pid != 0;
}

/*
 * Wait for weir to exit after a SIGTERM sent at t_term; it must within
 * drain_ms + 1 s (and the margin).  Returns how long it took, and checks
 * that it exited 0.
 */
static uint64_t
assert_exits_within(uint64_t t_term, uint64_t drain_ms)
{
	uint64_t	 bound = drain_ms + 1000 + EXIT_MARGIN_MS, took;
	int		 status;

	while (!weir_exited()) {
		ck_assert_msg(h_mono_ms() - t_term < bound, "weir still "
		    "running %llu ms after SIGTERM (drain_timeout %llu ms)",
		    (unsigned long long)(h_mono_ms() - t_term),
		    (unsigned long long)drain_ms);
		h_nap_ms(5);
	}
	took = h_mono_ms() - t_term;
	status = h_stop(&W);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "exit status 0x%x", status);
	return took;
}

/* A gauge from the admin /metrics, -1 if it is not there. */
static double
metric(const char *name)
{
	struct h_req	 q = { .target = "/metrics" };
	struct h_resp	 r;
	const char	*p;
	double		 v = -1;
	size_t		 n = strlen(name);

	memset(&r, 0, sizeof(r));
	ck_assert_msg(h_request(aport, &q, &r) == 0, "/metrics: %s", r.err);
	ck_assert_int_eq(r.status, 200);
	for (p = (char *)r.body; p != NULL && *p != '\0';
	    p = strchr(p, '\n') != NULL ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ') {
			v = strtod(p + n + 1, NULL);
			break;
		}
	h_resp_free(&r);
	return v;
}

/* Wait up to timeout_ms for a gauge to read want. */
static void
wait_metric(const char *name, double want, unsigned timeout_ms)
{
	uint64_t	 end = h_mono_ms() + timeout_ms;
	double		 v;

	while ((v = metric(name)) != want) {
		ck_assert_msg(h_mono_ms() < end, "%s is %g, not %g after %u ms",
		    name, v, want, timeout_ms);
		h_nap_ms(10);
	}
}

/* Raw client connections. */

static int
conn_open(void)
{
	int	 fd;

	fd = h_connect_loopback(W.port);
	ck_assert_msg(fd != -1, "connect: %s", strerror(errno));
	return fd;
}

/* Write all of p (the peer reads it, or the test fails). */
static void
conn_send(int fd, const void *p, size_t len)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLOUT };
	uint64_t	 end = h_mono_ms() + 5000;
	size_t		 done = 0;
	ssize_t		 n;

	while (done < len) {
		ck_assert_msg(h_mono_ms() < end, "sent %zu of %zu bytes", done,
		    len);
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = send(fd, (const char *)p + done, len - done,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		done += (size_t)n;
	}
}

/*
 * Read one whole response (a Content-Length body) from fd into r, within
 * timeout_ms; with want_eof, then wait for the connection to close.
 */
static void
conn_response(int fd, struct h_resp *r, int want_eof, unsigned timeout_ms)
{
	struct fake_buf	 b = { 0 };
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint64_t	 end = h_mono_ms() + timeout_ms, now;
	const char	*hend, *cl;
	char		 tmp[65536];
	size_t		 body = 0, want = 0;
	ssize_t		 n;
	int		 whole = 0, eof = 0;

	fake_buf_add(&b, "", 0);
	while ((now = h_mono_ms()) < end && !(whole && (eof || !want_eof))) {
		if (body == 0 && (hend = strstr(b.p, "\r\n\r\n")) != NULL) {
			body = (size_t)(hend + 4 - b.p);
			cl = strcasestr(b.p, "\r\nContent-Length:");
			want = cl != NULL && cl < hend ?
			    strtoul(cl + 17, NULL, 10) : 0;
		}
		if (body != 0 && b.len - body >= want) {
			whole = 1;
			if (!want_eof || eof)
				continue;
		}
		if (eof)
			break;
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		n = recv(fd, tmp, sizeof(tmp), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			eof = 1;
		else
			fake_buf_add(&b, tmp, (size_t)n);
	}
	ck_assert_msg(whole, "no whole response within %u ms (%zu bytes): "
	    "\"%.200s\"", timeout_ms, b.len, b.p);
	ck_assert_msg(!want_eof || eof, "connection still open after the "
	    "response");
	ck_assert_int_eq(h_parse_response(b.p, b.len, r), 0);
	fake_buf_free(&b);
}

/* A client thread: one request, keeping the whole response. */
struct caller {
	pthread_t	 th;
	struct h_req	 q;
	const char	*hdrs[3];
	char		 seq[32];
	struct h_resp	 r;
	int		 rc;
	volatile int	 done;
};

static void *
caller_run(void *arg)
{
	struct caller	*c = arg;

	c->rc = h_request(W.port, &c->q, &c->r);
	c->done = 1;
	return NULL;
}

/* Start a PUT of len bytes of body (chunked or not) to target. */
static void
caller_start(struct caller *c, const char *target, const void *body,
    size_t len, int seq)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->seq, sizeof(c->seq), "X-Seq: %d", seq);
	c->hdrs[0] = "X-Weir-Tenant: t";
	c->hdrs[1] = c->seq;
	c->q.method = body != NULL ? "PUT" : "GET";
	c->q.target = target;
	c->q.headers = c->hdrs;
	c->q.body = body;
	c->q.body_len = len;
	c->q.has_body = body != NULL;
	c->q.timeout_ms = 30000;
	ck_assert_int_eq(pthread_create(&c->th, NULL, caller_run, c), 0);
}

static void
caller_join(struct caller *c)
{
	pthread_join(c->th, NULL);
}

/* A field of weir's /proc status in bytes ("VmRSS", "VmHWM"). */
static uint64_t
proc_kb(const char *field)
{
	char		 path[64], line[256];
	FILE		*f;
	uint64_t	 kb = 0;
	size_t		 n = strlen(field);

	snprintf(path, sizeof(path), "/proc/%d/status", (int)W.pid);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			kb = strtoull(line + n + 1, NULL, 10);
	fclose(f);
	ck_assert_msg(kb > 0, "no %s in %s", field, path);
	return kb * 1024;
}

START_TEST(sigterm_answers_a_call_out_to_a_hanging_upstream_and_exits)
{
	static const char *const env[] = { "WEIR_DRAIN_TIMEOUT=1s", NULL };
	struct caller	 c;
	struct fake_req	*got;
	uint64_t	 t_term, took;

	start(env);
	caller_start(&c, "/api/v2/hold", NULL, 0, 1);
	ck_assert_int_eq(fake_wait_nreqs(api, 1, 5000), 0);

	t_term = h_mono_ms();
	ck_assert_int_eq(kill(W.pid, SIGTERM), 0);
	took = assert_exits_within(t_term, 1000);
	/* It waited for the drain (the upstream might have answered). */
	ck_assert_msg(took >= 900, "exited %llu ms after SIGTERM",
	    (unsigned long long)took);

	caller_join(&c);
	ck_assert_msg(c.rc == 0, "no answer: %s", c.r.err);
	h_assert_weir_error(&c.r, 503, "weir.shutting_down");
	ck_assert_str_eq(h_resp_header(&c.r, "Connection"), "close");
	/* the request id is the one the upstream saw */
	ck_assert_uint_eq(fake_nreqs(api), 1);
	ck_assert_ptr_nonnull(got = fake_req_get(api, 0));
	ck_assert_str_eq(got->target, "/api/v2/hold");
	ck_assert_str_eq(fake_req_header(got, "X-Request-Id"),
	    h_resp_header(&c.r, "X-Request-Id"));
	fake_req_free(got);
	h_resp_free(&c.r);
}
END_TEST

START_TEST(sigterm_cuts_a_client_sending_its_body_a_byte_at_a_time)
{
	static const char *const env[] = { "WEIR_DRAIN_TIMEOUT=1s", NULL };
	static const char	 head[] = "PUT /api/v2/trickle HTTP/1.1\r\n"
	    "Host: weir\r\nContent-Length: 1000\r\n\r\nx";
	struct fake_buf	 b = { 0 };
	struct pollfd	 pfd;
	struct h_resp	 r;
	uint64_t	 t_term, end;
	char		 tmp[4096];
	ssize_t		 n;
	int		 fd, eof = 0;

	start(env);
	fd = conn_open();
	conn_send(fd, head, sizeof(head) - 1);
	wait_metric("weir_pending", 1, 5000);

	t_term = h_mono_ms();
	ck_assert_int_eq(kill(W.pid, SIGTERM), 0);
	/* One byte every 200 ms, for as long as weir listens. */
	fake_buf_add(&b, "", 0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (end = t_term + 1000 + 1000 + EXIT_MARGIN_MS; !eof &&
	    h_mono_ms() < end;) {
		if (send(fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == -1 &&
		    errno != EAGAIN)
			break;
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((n = recv(fd, tmp, sizeof(tmp), 0)) <= 0)
			eof = n == 0 || errno != EINTR;
		else
			fake_buf_add(&b, tmp, (size_t)n);
	}
	assert_exits_within(t_term, 1000);
	/* Answered 503 (if libmicrohttpd took an answer there), or cut. */
	if (b.len > 0) {
		ck_assert_int_eq(h_parse_response(b.p, b.len, &r), 0);
		h_assert_weir_error(&r, 503, "weir.shutting_down");
		h_resp_free(&r);
	}
	fake_buf_free(&b);
	close(fd);
	ck_assert_uint_eq(fake_nreqs(api), 0);
}
END_TEST

START_TEST(a_drain_refuses_requests_on_kept_alive_connections_and_closes_them)
{
	static const char *const env[] = { "WEIR_DRAIN_TIMEOUT=4s", NULL };
	static const char	 get_a[] = "GET /api/v2/a HTTP/1.1\r\n"
	    "Host: weir\r\n\r\n";
	static const char	 get_after[] = "GET /api/v2/after HTTP/1.1\r\n"
	    "Host: weir\r\n\r\n";
	static const char	 get_slow[] = "GET /api/v2/slow HTTP/1.1\r\n"
	    "Host: weir\r\n\r\n";
	struct caller	 hold;
	struct h_resp	 r;
	struct fake_req	*got;
	uint64_t	 t_term;
	size_t		 i;
	int		 a, b, idle;

	start(env);
	/* a and idle: kept alive after one answer each */
	a = conn_open();
	idle = conn_open();
	conn_send(a, get_a, sizeof(get_a) - 1);
	conn_response(a, &r, 0, 5000);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(h_resp_header(&r, "Connection"));
	h_resp_free(&r);
	conn_send(idle, get_a, sizeof(get_a) - 1);
	conn_response(idle, &r, 0, 5000);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	/* a call that holds the drain to its end, and one answered in it */
	caller_start(&hold, "/api/v2/hold", NULL, 0, 1);
	b = conn_open();
	conn_send(b, get_slow, sizeof(get_slow) - 1);
	ck_assert_int_eq(fake_wait_nreqs(api, 4, 5000), 0);

	t_term = h_mono_ms();
	ck_assert_int_eq(kill(W.pid, SIGTERM), 0);
	wait_metric("weir_draining", 1, 2000);
	/* The next request on a kept-alive connection: 503, closed. */
	conn_send(a, get_after, sizeof(get_after) - 1);
	conn_response(a, &r, 1, 3000);
	h_assert_weir_error(&r, 503, "weir.shutting_down");
	ck_assert_str_eq(h_resp_header(&r, "Connection"), "close");
	h_resp_free(&r);
	/* An answer in the drain closes its connection. */
	conn_response(b, &r, 1, 5000);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr((char *)r.body,
	    "\"target\":\"/api/v2/slow\""));
	ck_assert_str_eq(h_resp_header(&r, "Connection"), "close");
	h_resp_free(&r);

	/* The idle connection does not hold the stop past the drain. */
	assert_exits_within(t_term, 4000);
	caller_join(&hold);
	ck_assert_msg(hold.rc == 0, "no answer: %s", hold.r.err);
	h_assert_weir_error(&hold.r, 503, "weir.shutting_down");
	h_resp_free(&hold.r);
	close(a);
	close(b);
	close(idle);
	/* /api/v2/after never went upstream */
	ck_assert_uint_eq(fake_nreqs(api), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_ptr_nonnull(got = fake_req_get(api, i));
		ck_assert_str_ne(got->target, "/api/v2/after");
		fake_req_free(got);
	}
}
END_TEST

START_TEST(a_drain_lets_an_answer_already_sent_finish_writing)
{
	/* a response_buffer larger than the answer: weir holds it whole
	 * (a streaming answer counts as pending until its end; see
	 * check_stream) */
	static const char *const env[] = { "WEIR_DRAIN_TIMEOUT=5s",
	    "WEIR_RESPONSE_BUFFER=64m", NULL };
	static const char	 get_big[] = "GET /api/v2/big HTTP/1.1\r\n"
	    "Host: weir\r\n\r\n";
	struct h_resp	 r;
	uint64_t	 t_term;
	int		 fd;

	start(env);
	/* answered, but the client has not read it yet */
	fd = conn_open();
	conn_send(fd, get_big, sizeof(get_big) - 1);
	ck_assert_int_eq(fake_wait_nreqs(api, 1, 5000), 0);
	wait_metric("weir_pending", 0, 5000);

	t_term = h_mono_ms();
	ck_assert_int_eq(kill(W.pid, SIGTERM), 0);
	/* all of it comes, and then the connection closes */
	conn_response(fd, &r, 1, 10000);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, BIG_ANSWER);
	h_resp_free(&r);
	close(fd);
	assert_exits_within(t_term, 5000);
}
END_TEST

#define BODY_300K	300000

START_TEST(bodies_past_max_body_memory_get_503_busy_until_memory_is_freed)
{
	static const char *const env[] = { "WEIR_MAX_BODY_MEMORY=1m",
	    "WEIR_CONCURRENCY=1", NULL };
	static const char	 hold_head[] = "PUT /api/v2/hold HTTP/1.1\r\n"
	    "Host: weir\r\nX-Weir-Tenant: t\r\nX-Seq: 1\r\n"
	    "Content-Length: 300000\r\n\r\n";
	static const char	 busy_head[] = "PUT /api/v2/put HTTP/1.1\r\n"
	    "Host: weir\r\nX-Weir-Tenant: t\r\nX-Seq: 4\r\n"
	    "Content-Length: 300000\r\n\r\n";
	struct caller	 c[3];
	struct h_resp	 r;
	struct fake_req	*got;
	char		*body;
	size_t		 i;
	int		 hold, busy;

	body = fake_alloc(BODY_300K);
	memset(body, 'b', BODY_300K);
	start(env);
	wait_metric("weir_body_memory_bytes", 0, 2000);
	/* one call out upstream, never answered, two queued behind it */
	hold = conn_open();
	conn_send(hold, hold_head, sizeof(hold_head) - 1);
	conn_send(hold, body, BODY_300K);
	ck_assert_int_eq(fake_wait_nreqs(api, 1, 5000), 0);
	caller_start(&c[0], "/api/v2/put", body, BODY_300K, 2);
	caller_start(&c[1], "/api/v2/put", body, BODY_300K, 3);
	wait_metric("weir_body_memory_bytes", 3 * BODY_300K, 5000);
	wait_metric("weir_pending", 3, 5000);

	/* The fourth would pass 1m: 503 at once, the body never read. */
	busy = conn_open();
	conn_send(busy, busy_head, sizeof(busy_head) - 1);
	conn_response(busy, &r, 1, 3000);
	h_assert_weir_error(&r, 503, "weir.busy");
	ck_assert_str_eq(h_resp_header(&r, "Retry-After"), "1");
	ck_assert_ptr_nonnull(strstr((char *)r.body, "max_body_memory"));
	h_resp_free(&r);
	close(busy);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	ck_assert(metric("weir_body_memory_bytes") == 3 * BODY_300K);

	/* The held call's client leaves: the queued two go, and answered,
	 * give their memory back. */
	close(hold);
	for (i = 0; i < 2; i++) {
		caller_join(&c[i]);
		ck_assert_msg(c[i].rc == 0, "call %zu: %s", i, c[i].r.err);
		ck_assert_int_eq(c[i].r.status, 200);
		ck_assert_ptr_nonnull(strstr((char *)c[i].r.body,
		    "\"body_len\":300000"));
		h_resp_free(&c[i].r);
	}
	wait_metric("weir_body_memory_bytes", 0, 3000);
	wait_metric("weir_pending", 0, 3000);
	caller_start(&c[2], "/api/v2/put", body, BODY_300K, 5);
	caller_join(&c[2]);
	ck_assert_msg(c[2].rc == 0, "call 5: %s", c[2].r.err);
	ck_assert_int_eq(c[2].r.status, 200);
	h_resp_free(&c[2].r);

	/* The upstream got calls 1, 2, 3 and 5, whole; never 4. */
	ck_assert_uint_eq(fake_nreqs(api), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_ptr_nonnull(got = fake_req_get(api, i));
		ck_assert_str_ne(fake_req_header(got, "X-Seq"), "4");
		ck_assert_uint_eq(got->body_len, BODY_300K);
		fake_req_free(got);
	}
	free(body);
}
END_TEST

START_TEST(a_chunked_body_crossing_max_body_memory_gets_503_busy)
{
	static const char *const env[] = { "WEIR_MAX_BODY_MEMORY=1m", NULL };
	struct h_req	 q = { .method = "PUT", .target = "/api/v2/chunked",
	    .has_body = 1, .chunked = 1 };
	struct h_resp	 r;
	struct fake_req	*got;
	char		*body;

	body = fake_alloc(1536 * 1024);
	memset(body, 'c', 1536 * 1024);
	start(env);
	q.body = body;
	q.body_len = 1536 * 1024;
	memset(&r, 0, sizeof(r));
	ck_assert_msg(h_request(W.port, &q, &r) == 0, "%s", r.err);
	h_assert_weir_error(&r, 503, "weir.busy");
	ck_assert_str_eq(h_resp_header(&r, "Retry-After"), "1");
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 0);
	wait_metric("weir_body_memory_bytes", 0, 2000);

	/* what fits still goes, whole */
	q.body_len = BODY_300K;
	memset(&r, 0, sizeof(r));
	ck_assert_msg(h_request(W.port, &q, &r) == 0, "%s", r.err);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	ck_assert_ptr_nonnull(got = fake_req_get(api, 0));
	ck_assert_uint_eq(got->body_len, BODY_300K);
	fake_req_free(got);
	free(body);
}
END_TEST

START_TEST(max_body_memory_0_is_no_limit)
{
	static const char *const env[] = { "WEIR_MAX_BODY_MEMORY=0", NULL };
	struct caller	 c[3];
	struct fake_req	*got;
	char		*body;
	size_t		 i, len = 2 * 1024 * 1024;

	body = fake_alloc(len);
	memset(body, 'z', len);
	start(env);
	for (i = 0; i < 3; i++)
		caller_start(&c[i], "/api/v2/big", body, len, (int)i);
	for (i = 0; i < 3; i++) {
		caller_join(&c[i]);
		ck_assert_msg(c[i].rc == 0, "call %zu: %s", i, c[i].r.err);
		ck_assert_int_eq(c[i].r.status, 200);
		h_resp_free(&c[i].r);
	}
	ck_assert_uint_eq(fake_nreqs(api), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_ptr_nonnull(got = fake_req_get(api, i));
		ck_assert_uint_eq(got->body_len, len);
		fake_req_free(got);
	}
	free(body);
}
END_TEST

#define NRSS	40
#define MIB	(1024 * 1024)

START_TEST(held_bodies_keep_rss_within_max_body_memory)
{
	static const char *const env[] = { "WEIR_MAX_BODY_MEMORY=8m",
	    "WEIR_DRAIN_TIMEOUT=0", NULL };
	struct caller	*c;
	char		*body;
	uint64_t	 rss0, hwm, end;
	double		 queued;
	int		 i, n, upstream, busy = 0;

	c = fake_alloc(NRSS * sizeof(*c));
	body = fake_alloc(MIB);
	memset(body, 'm', MIB);
	start(env);
	/* warm: one call through, so that what grows is the bodies */
	caller_start(&c[0], "/api/v2/warm", body, MIB, 0);
	caller_join(&c[0]);
	ck_assert_int_eq(c[0].r.status, 200);
	h_resp_free(&c[0].r);
	rss0 = proc_kb("VmRSS");

	/* NRSS PUTs of 1 MiB to an upstream that never answers */
	for (i = 0; i < NRSS; i++)
		caller_start(&c[i], "/api/v2/hold", body, MIB, i);
	/* Every call is answered (busy) or held whole in weir: queued,
	 * or out upstream (the fake has its body). */
	for (end = h_mono_ms() + 20000;; h_nap_ms(20)) {
		for (n = 0, i = 0; i < NRSS; i++)
			n += c[i].done;
		upstream = (int)fake_nreqs(api) - 1;
		queued = metric("weir_queue_depth{tenant=\"t\"}");
		if (n + upstream + (queued > 0 ? (int)queued : 0) == NRSS)
			break;
		ck_assert_msg(h_mono_ms() < end, "%d answered, %d upstream, "
		    "%g queued", n, upstream, queued);
	}
	hwm = proc_kb("VmHWM");
	ck_assert_msg(hwm < rss0 + 24 * MIB, "RSS grew by %llu KiB with %d "
	    "calls held, max_body_memory 8m",
	    (unsigned long long)((hwm - rss0) / 1024), NRSS - n);
	ck_assert(metric("weir_body_memory_bytes") <= 8 * MIB);

	ck_assert_int_eq(kill(W.pid, SIGTERM), 0);
	for (i = 0; i < NRSS; i++) {
		caller_join(&c[i]);
		/* Refused ones may see the connection close before the
		 * answer (their body was not read). */
		if (c[i].rc == 0 && c[i].r.status == 503 &&
		    strstr((char *)c[i].r.body, "weir.busy") != NULL)
			busy++;
		h_resp_free(&c[i].r);
	}
	ck_assert_msg(upstream <= 8, "%d calls went upstream", upstream);
	ck_assert_msg(busy >= 1, "no call answered 503 weir.busy");
	free(body);
	free(c);
}
END_TEST

static Suite *
lifecycle_suite(void)
{
	Suite	*s = suite_create("lifecycle");
	TCase	*tc = tcase_create("lifecycle");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
	    sigterm_answers_a_call_out_to_a_hanging_upstream_and_exits);
	tcase_add_test(tc,
	    sigterm_cuts_a_client_sending_its_body_a_byte_at_a_time);
	tcase_add_test(tc,
	    a_drain_refuses_requests_on_kept_alive_connections_and_closes_them);
	tcase_add_test(tc, a_drain_lets_an_answer_already_sent_finish_writing);
	tcase_add_test(tc,
	    bodies_past_max_body_memory_get_503_busy_until_memory_is_freed);
	tcase_add_test(tc, a_chunked_body_crossing_max_body_memory_gets_503_busy);
	tcase_add_test(tc, max_body_memory_0_is_no_limit);
	tcase_add_test(tc, held_bodies_keep_rss_within_max_body_memory);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(lifecycle_suite());
}
