/*
 * check_stream.c - large answers through the real weir binary: they
 * stream, and a slow client holds weir to response_buffer (1 MiB by
 * default) per call, not the whole answer.
 *
 * The fake upstream generates its bodies as it sends them (fake.h
 * gen_len), so only weir could hold an answer whole; weir's memory is read
 * from /proc (VmRSS before, VmHWM, the peak, after).  Clients are raw
 * sockets that read at their own pace and check every byte against the
 * pattern, or libcurl.  Each test checks what the client got, what the
 * upstream saw (one request; its connection cut when weir cancels), the
 * access line, and that weir's books balance afterwards (/status).
 *
 * Test code: sockets on 127.0.0.1 only, port 0, waits poll.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fake.h"
#include "harness.h"
#include "tap.h"

#define MiB		(1024 * 1024)
/* How much more than idle weir may hold while streaming 64 MiB. */
#define RSS_SLACK_KB	(48 * 1024)

static struct fake	*api, *login;
static struct h_weir	 W;

/* What the upstream answers GET /api/v2/big with (the handler reads it
 * under the fake's handler lock; tests set it before any call). */
static struct {
	int		 n429;		/* this many 429s first */
	uint64_t	 len429;	/* their generated body */
	uint64_t	 len;
	int		 chunked;
	uint64_t	 fail_at;
	uint64_t	 stall_at;
} sc;

static void
big(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	(void)arg;
	if (strcmp(req->target, "/api/v2/big") != 0) {
		fake_echo(req, rp, NULL);
		return;
	}
	if (sc.n429 > 0) {
		sc.n429--;
		rp->status = 429;
		fake_reply_header(rp, "Retry-After", "0");
		rp->gen_len = sc.len429;
		return;
	}
	rp->status = 200;
	fake_reply_header(rp, "Content-Type", "application/octet-stream");
	rp->gen_len = sc.len;
	rp->gen_chunked = sc.chunked;
	rp->gen_fail_at = sc.fail_at;
	rp->gen_stall_at = sc.stall_at;
}

/* One line of /proc/PID/status, in kB. */
static long
proc_kb(pid_t pid, const char *key)
{
	char	 path[64], line[256];
	size_t	 klen = strlen(key);
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			kb = atol(line + klen + 1);
	fclose(f);
	return kb;
}

/* weir's CPU time (user + system) in clock ticks. */
static long
cpu_ticks(pid_t pid)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut = 0, st = 0;
	FILE		*f;
	int		 i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return -1;
	/* after "pid (comm)": field 3 on; utime and stime are 14 and 15 */
	for (i = 3; i < 14 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, "%lu %lu", &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

/* The admin /status document's number key. */
static long
status_num(const char *key)
{
	struct h_req	 q = { .target = "/status" };
	struct h_resp	 r;
	char		 v[64];
	long		 n;

	ck_assert_int_eq(h_request(h_admin_port(&W), &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(h_json_get((char *)r.body, r.body_len, key, v,
	    sizeof(v)) == 4, "no %s in %s", key, r.body);
	n = atol(v);
	h_resp_free(&r);
	return n;
}

/* Nothing waits and nothing is out: the books balance. */
static void
assert_idle(unsigned timeout_ms)
{
	uint64_t	 end = h_mono_ms() + timeout_ms;
	long		 q, i, p;

	for (;;) {
		q = status_num("queued");
		i = status_num("inflight");
		p = status_num("pending");
		if ((q == 0 && i == 0 && p == 0) || h_mono_ms() >= end)
			break;
		h_nap_ms(20);
	}
	ck_assert_msg(q == 0 && i == 0 && p == 0,
	    "not idle: queued %ld inflight %ld pending %ld", q, i, p);
}

/* A plain call through weir still works, and reaches the upstream. */
static void
assert_serving(void)
{
	struct h_req	 q = { .target = "/api/v2/still" };
	struct h_resp	 r;
	size_t		 before = fake_nreqs(api);

	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_msg(r.status == 200, "status %d (%s)", r.status, r.err);
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), before + 1);
}

/* Wait up to timeout_ms for fake_gen_cut(api) to reach n. */
static void
assert_upstream_cut(size_t n, unsigned timeout_ms)
{
	uint64_t	 end = h_mono_ms() + timeout_ms;

	while (fake_gen_cut(api) < n && h_mono_ms() < end)
		h_nap_ms(10);
	ck_assert_msg(fake_gen_cut(api) == n, "the upstream saw %zu of %zu "
	    "answers cut short", fake_gen_cut(api), n);
}

static void
start(const char *const *env)
{
	api = fake_start(big, NULL);
	login = fake_start(fake_echo, NULL);
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(login);
	h_start_or_abort(&W, fake_port(api), fake_port(login), NULL, env);
}

static void
setup(void)
{
	memset(&sc, 0, sizeof(sc));
}

static void
teardown(void)
{
	h_stop(&W);
	fake_stop(api);
	fake_stop(login);
	api = login = NULL;
}

/* A raw client connection and what it has read. */
struct rc {
	int		 fd;
	char		 head[8192];
	size_t		 headlen;
	int		 status;
	long long	 length;	/* Content-Length, or -1 */
	int		 chunked;
	char		 extra[65536];	/* body bytes read with the head */
	size_t		 nextra;
	uint64_t	 body;		/* body bytes checked so far */
	int		 eof;		/* the peer closed */
};

/* Send a GET of target with id as its request id. */
static void
rc_get(struct rc *c, const char *target, const char *id)
{
	char	 req[512];
	int	 n;

	memset(c, 0, sizeof(*c));
	c->fd = h_connect_loopback(W.port);
	ck_assert_msg(c->fd != -1, "connect: %s", strerror(errno));
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: weir\r\n"
	    "X-Request-Id: %s\r\n\r\n", target, id);
	ck_assert_int_eq(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
}

/* Read up to len bytes within timeout_ms: the count, 0 at EOF. */
static size_t
rc_read(struct rc *c, char *buf, size_t len, unsigned timeout_ms)
{
	struct pollfd	 pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t		 n;

	for (;;) {
		if (poll(&pfd, 1, (int)timeout_ms) <= 0)
			ck_abort_msg("nothing to read for %u ms (%llu body "
			    "bytes in)", timeout_ms,
			    (unsigned long long)c->body);
		n = recv(c->fd, buf, len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->eof = 1;
			return 0;
		}
		return (size_t)n;
	}
}

/* Read the response head. */
static void
rc_head(struct rc *c)
{
	char		*end, *p;
	size_t		 n;

	while ((end = memmem(c->head, c->headlen, "\r\n\r\n", 4)) == NULL) {
		ck_assert_msg(c->headlen < sizeof(c->head) - 1,
		    "head too long");
		n = rc_read(c, c->head + c->headlen,
		    sizeof(c->head) - 1 - c->headlen, 10000);
		ck_assert_msg(n > 0, "closed inside the head: %.*s",
		    (int)c->headlen, c->head);
		c->headlen += n;
	}
	end += 4;
	c->nextra = c->headlen - (size_t)(end - c->head);
	memcpy(c->extra, end, c->nextra);
	c->headlen = (size_t)(end - c->head);
	c->head[c->headlen] = '\0';
	ck_assert_int_eq(sscanf(c->head, "HTTP/1.1 %d", &c->status), 1);
	c->length = -1;
	if ((p = strcasestr(c->head, "\r\nContent-Length:")) != NULL)
		c->length = atoll(p + 17);
	c->chunked = strcasestr(c->head, "\r\nTransfer-Encoding: chunked") !=
	    NULL;
}

/* Check n body bytes against the generated pattern. */
static void
rc_check(struct rc *c, const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] != fake_gen_byte(c->body + i))
			ck_abort_msg("body byte %llu is %u, not %u",
			    (unsigned long long)(c->body + i),
			    (unsigned char)p[i], fake_gen_byte(c->body + i));
	c->body += n;
}

/*
 * Read and check body bytes of a Content-Length answer until upto (or
 * EOF), at most rate bytes per millisecond (0: as fast as they come).
 */
static void
rc_body(struct rc *c, uint64_t upto, uint64_t rate)
{
	char		 buf[16384];
	uint64_t	 t0 = h_mono_ms();
	size_t		 n, want;

	if (c->nextra > 0) {
		rc_check(c, c->extra, c->nextra);
		c->nextra = 0;
	}
	while (c->body < upto && !c->eof) {
		while (rate > 0 && c->body > (h_mono_ms() - t0) * rate)
			h_nap_ms(1);
		want = upto - c->body < sizeof(buf) ? upto - c->body :
		    sizeof(buf);
		if ((n = rc_read(c, buf, want, 10000)) > 0)
			rc_check(c, buf, n);
	}
}

/* (a) */
START_TEST(a_slow_reader_of_a_large_answer_gets_it_all_from_bounded_memory)
{
	static const char *const env[] = { "WEIR_LOG_LEVEL=info",
	    "WEIR_UPSTREAM_TIMEOUT=2s", NULL };
	struct rc	 c;
	long		 idle, peak;
	char		*line;

	sc.len = 64 * MiB;
	start(env);
	assert_serving();
	idle = proc_kb(W.pid, "VmRSS");
	ck_assert_int_gt(idle, 0);

	rc_get(&c, "/api/v2/big", "slow-reader");
	rc_head(&c);
	ck_assert_int_eq(c.status, 200);
	ck_assert_int_eq(c.length, 64 * MiB);	/* the upstream's length */
	ck_assert_ptr_nonnull(strcasestr(c.head, "\r\nX-Request-Id: "
	    "slow-reader\r\n"));
	ck_assert_ptr_nonnull(strcasestr(c.head, "\r\nX-Weir-Attempts: 1"));
	ck_assert_ptr_nonnull(strcasestr(c.head,
	    "\r\nContent-Type: application/octet-stream\r\n"));
	/*
	 * 16 MB/s, far below what the fake sends: weir must hold the
	 * upstream back.  Over 4 s in all, past upstream_timeout: a client
	 * that keeps reading is not cut by it.
	 */
	rc_body(&c, 64 * MiB, 16 * 1024);
	ck_assert_uint_eq(c.body, 64 * MiB);
	close(c.fd);

	peak = proc_kb(W.pid, "VmHWM");
	ck_assert_msg(peak - idle < RSS_SLACK_KB, "weir grew from %ld kB "
	    "idle to a peak of %ld kB for one 64 MiB answer", idle, peak);
	line = h_access_line(&W, "\"request_id\":\"slow-reader\"");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, "\"status\":200"));
	ck_assert_ptr_nonnull(strstr(line, "\"bytes_out\":67108864"));
	ck_assert_ptr_null(strstr(line, "\"error\""));
	free(line);
	ck_assert_uint_eq(fake_nreqs(api), 2);
	ck_assert_uint_eq(fake_gen_cut(api), 0);
	assert_idle(2000);
}
END_TEST

/* (b) */
START_TEST(an_upstream_failing_mid_body_cuts_the_client_connection)
{
	static const char *const env[] = { "WEIR_LOG_LEVEL=info", NULL };
	struct rc	 c;
	char		*line;

	sc.len = 16 * MiB;
	sc.fail_at = 4 * MiB;
	start(env);
	rc_get(&c, "/api/v2/big", "cut-by-upstream");
	rc_head(&c);
	ck_assert_int_eq(c.status, 200);
	ck_assert_int_eq(c.length, 16 * MiB);
	/* every byte that came is right, and then the connection ends:
	 * no error document, no second answer after the first */
	rc_body(&c, 16 * MiB, 0);
	ck_assert_int_eq(c.eof, 1);
	ck_assert_uint_le(c.body, 4 * MiB);
	close(c.fd);
	/* a GET, but the client heard the head: not retried */
	ck_assert_uint_eq(fake_nreqs(api), 1);
	line = h_access_line(&W, "\"request_id\":\"cut-by-upstream\"");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, "\"status\":200"));
	ck_assert_ptr_nonnull(strstr(line,
	    "\"error\":\"weir.upstream_bad_response\""));
	free(line);
	assert_idle(2000);
	assert_serving();
}
END_TEST

START_TEST(an_upstream_failing_mid_chunked_body_leaves_it_unterminated)
{
	static const char *const env[] = { "WEIR_LOG_LEVEL=info", NULL };
	struct h_req	 q = { .target = "/api/v2/big",
	    .headers = (const char *const[]){
	    "X-Request-Id: cut-chunked", NULL } };
	struct h_resp	 r;
	char		*line;

	sc.len = 16 * MiB;
	sc.chunked = 1;
	sc.fail_at = 4 * MiB;
	start(env);
	/* libcurl hears 200, then the chunked body ends without its last
	 * chunk: a transfer error, never a complete short answer */
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "Transfer-Encoding"), "chunked");
	ck_assert_msg(r.err[0] != '\0', "a complete answer of %zu bytes",
	    r.body_len);
	ck_assert_uint_le(r.body_len, 4 * MiB);
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	line = h_access_line(&W, "\"request_id\":\"cut-chunked\"");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, "\"status\":200"));
	ck_assert_ptr_nonnull(strstr(line, "\"error\":\"weir.upstream"));
	free(line);
	assert_idle(2000);
	assert_serving();
}
END_TEST

/* (c) */
START_TEST(a_client_hanging_up_mid_stream_cancels_the_upstream_transfer)
{
	static const char *const env[] = { "WEIR_LOG_LEVEL=info",
	    "WEIR_CONCURRENCY=1", NULL };
	struct rc	 c;
	char		*line;

	sc.len = 64 * MiB;
	start(env);
	rc_get(&c, "/api/v2/big", "gone-mid-stream");
	rc_head(&c);
	ck_assert_int_eq(c.status, 200);
	rc_body(&c, 1 * MiB, 0);
	ck_assert_uint_eq(c.body, 1 * MiB);
	close(c.fd);
	/* weir drops the transfer: the upstream sees its peer leave */
	assert_upstream_cut(1, 5000);
	ck_assert_uint_lt(fake_gen_made(api), 64 * MiB);
	line = h_access_line(&W, "\"request_id\":\"gone-mid-stream\"");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, "\"status\":200"));
	ck_assert_ptr_nonnull(strstr(line, "\"error\":\"weir.client_gone\""));
	free(line);
	/* its concurrency slot is back (sched_done ran): the next call of
	 * the tenant goes through */
	assert_idle(2000);
	assert_serving();
}
END_TEST

START_TEST(a_client_hanging_up_while_the_upstream_stalls_cancels_it)
{
	static const char *const env[] = { "WEIR_LOG_LEVEL=info",
	    "WEIR_CONCURRENCY=1", NULL };
	struct rc	 c;
	long		 t0;
	char		*line;

	sc.len = 64 * MiB;
	sc.stall_at = 3 * MiB;
	start(env);
	rc_get(&c, "/api/v2/big", "gone-while-stalled");
	rc_head(&c);
	ck_assert_int_eq(c.status, 200);
	rc_body(&c, 3 * MiB, 0);
	ck_assert_uint_eq(c.body, 3 * MiB);
	/*
	 * weir has nothing to send and waits for the upstream with the
	 * client's connection suspended: it must not spin meanwhile (a
	 * reader returning 0 is called again at once).  Waiting costs a
	 * weir that sleeps next to nothing; one that spins burns what CPU
	 * it gets, a fifth of a second or more even on a busy machine.
	 */
	t0 = cpu_ticks(W.pid);
	h_nap_ms(1000);
	ck_assert_msg(cpu_ticks(W.pid) - t0 < sysconf(_SC_CLK_TCK) / 20,
	    "weir used %ld ticks of CPU in a second of waiting",
	    cpu_ticks(W.pid) - t0);
	close(c.fd);
	/* the hang-up watch sees it: the upstream transfer is dropped */
	assert_upstream_cut(1, 5000);
	line = h_access_line(&W, "\"request_id\":\"gone-while-stalled\"");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, "\"status\":200"));
	ck_assert_ptr_nonnull(strstr(line, "\"bytes_out\":3145728"));
	ck_assert_ptr_nonnull(strstr(line, "\"error\":\"weir.client_gone\""));
	free(line);
	assert_idle(2000);
	assert_serving();
}
END_TEST

/* (d) */
START_TEST(a_429_with_a_huge_body_is_absorbed_then_the_large_200_streams)
{
	static const char *const env[] = { NULL };
	struct h_req	 q = { .target = "/api/v2/big" };
	struct h_resp	 r;
	struct rc	 c;
	long		 idle, peak;

	sc.n429 = 1;
	sc.len429 = 64 * MiB;
	sc.len = 8 * MiB;
	start(env);
	assert_serving();
	idle = proc_kb(W.pid, "VmRSS");
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_msg(r.status == 200, "status %d (%s)", r.status, r.err);
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Attempts"), "2");
	ck_assert_uint_eq(r.body_len, 8 * MiB);
	memset(&c, 0, sizeof(c));
	rc_check(&c, (char *)r.body, r.body_len);
	h_resp_free(&r);
	/* the upstream answered both in full; weir kept a bounded part */
	ck_assert_uint_eq(fake_nreqs(api), 3);
	ck_assert_uint_eq(fake_gen_cut(api), 0);
	peak = proc_kb(W.pid, "VmHWM");
	ck_assert_msg(peak - idle < RSS_SLACK_KB, "weir grew from %ld kB "
	    "idle to a peak of %ld kB for a 64 MiB 429", idle, peak);
	assert_idle(2000);
}
END_TEST

/* (e) */
START_TEST(a_large_answer_without_a_length_streams_chunked)
{
	static const char *const env[] = { NULL };
	struct h_req	 q = { .target = "/api/v2/big" };
	struct h_resp	 r;
	struct rc	 c;

	sc.len = 8 * MiB;
	sc.chunked = 1;
	start(env);
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(h_resp_header(&r, "Content-Length"));
	ck_assert_ptr_nonnull(h_resp_header(&r, "Transfer-Encoding"));
	ck_assert_str_eq(h_resp_header(&r, "Transfer-Encoding"), "chunked");
	ck_assert_uint_eq(r.body_len, 8 * MiB);
	memset(&c, 0, sizeof(c));
	rc_check(&c, (char *)r.body, r.body_len);
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	assert_idle(2000);
}
END_TEST

START_TEST(a_drain_lets_a_streaming_answer_finish)
{
	static const char *const env[] = { NULL };
	struct rc	 c;
	int		 status;

	sc.len = 32 * MiB;
	start(env);
	rc_get(&c, "/api/v2/big", "drained");
	rc_head(&c);
	ck_assert_int_eq(c.status, 200);
	rc_body(&c, 1 * MiB, 0);
	ck_assert_int_eq(kill(W.pid, SIGTERM), 0);
	/* the rest still comes, whole */
	rc_body(&c, 32 * MiB, 32 * 1024);
	ck_assert_uint_eq(c.body, 32 * MiB);
	close(c.fd);
	status = h_stop(&W);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "weir did not exit cleanly: status %d", status);
}
END_TEST

/*
 * A stop whose drain ends while a streaming answer waits for an upstream
 * that stalled: weir still exits within drain_timeout + 1 s, cleanly
 * (libmicrohttpd 0.9.75 aborts when stopped with a connection still
 * suspended, as a streaming reader waiting for bytes is).
 */
START_TEST(a_stop_cuts_a_stream_stalled_upstream_within_the_drain)
{
	static const char *const env[] = { "WEIR_DRAIN_TIMEOUT=1s", NULL };
	struct rc	 c;
	uint64_t	 t0, took;

	sc.len = 64 * MiB;
	sc.stall_at = 3 * MiB;
	start(env);
	rc_get(&c, "/api/v2/big", "stalled-at-stop");
	rc_head(&c);
	ck_assert_int_eq(c.status, 200);
	rc_body(&c, 3 * MiB, 0);
	t0 = h_mono_ms();
	ck_assert_int_eq(kill(W.pid, SIGTERM), 0);
	ck_assert_int_ne(h_wait_exit(&W, 10000), -1);
	took = h_mono_ms() - t0;
	ck_assert_msg(WIFEXITED(W.status) && WEXITSTATUS(W.status) == 0,
	    "weir did not exit cleanly: status %d", W.status);
	/* drain_timeout + 1 s, and a margin for a loaded machine */
	ck_assert_msg(took < 1000 + 1000 + 1500, "took %llu ms",
	    (unsigned long long)took);
	close(c.fd);
}
END_TEST

static Suite *
stream_suite(void)
{
	Suite	*s = suite_create("stream");
	TCase	*tc = tcase_create("stream");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc,
	    a_slow_reader_of_a_large_answer_gets_it_all_from_bounded_memory);
	tcase_add_test(tc, an_upstream_failing_mid_body_cuts_the_client_connection);
	tcase_add_test(tc,
	    an_upstream_failing_mid_chunked_body_leaves_it_unterminated);
	tcase_add_test(tc,
	    a_client_hanging_up_mid_stream_cancels_the_upstream_transfer);
	tcase_add_test(tc,
	    a_client_hanging_up_while_the_upstream_stalls_cancels_it);
	tcase_add_test(tc,
	    a_429_with_a_huge_body_is_absorbed_then_the_large_200_streams);
	tcase_add_test(tc, a_large_answer_without_a_length_streams_chunked);
	tcase_add_test(tc, a_drain_lets_a_streaming_answer_finish);
	tcase_add_test(tc, a_stop_cuts_a_stream_stalled_upstream_within_the_drain);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(stream_suite());
}
