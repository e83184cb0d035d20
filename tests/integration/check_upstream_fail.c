/*
 * check_upstream_fail.c - broken upstreams behind the real weir binary:
 * refused, reset, truncated, garbage, silent, TLS that does not verify,
 * and the retry policy on top of them.
 *
 * Every failure must become exactly one answer: weir's JSON error (502 or
 * 504 with the right code, the request id in the header and as
 * contextId), never a short 200; idempotent calls are retried, others are
 * not; and weir keeps serving afterwards (a call to the login upstream,
 * which works, goes through).  Each test also checks what the broken
 * upstream received.  The TLS upstream is a small libmicrohttpd server
 * with a throwaway certificate made by openssl(1) at test time.
 *
 * Test code: sockets on 127.0.0.1 only, port 0, waits poll.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
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
#include "harness.h"
#include "tap.h"

static struct fake	*api, *login;
static struct h_weir	 W;

/* weir's own error (h_assert_weir_error), with one request id header. */
static void
assert_weir_error(const struct h_resp *r, int status, const char *code)
{
	h_assert_weir_error(r, status, code);
	ck_assert_uint_eq(h_resp_header_count(r, "X-Request-Id"), 1);
}

static void
assert_attempts(const struct h_resp *r, int n)
{
	const char	*a = h_resp_header(r, "X-Weir-Attempts");

	ck_assert_msg(a != NULL && atoi(a) == n, "X-Weir-Attempts %s, "
	    "expected %d", a ? a : "(none)", n);
}

static int
call(const char *method, const char *target, struct h_resp *r)
{
	struct h_req	 q = { .method = method, .target = target,
	    .timeout_ms = 20000 };

	if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		q.body = "{\"n\":1}";
		q.body_len = 7;
		q.has_body = 1;
	}
	return h_request(W.port, &q, r);
}

/* weir still serves: a call to the (working) login upstream goes through. */
static void
assert_serving(void)
{
	struct h_resp	 r;
	size_t		 before = fake_nreqs(login);

	ck_assert_int_eq(call("GET", "/oauth/ping", &r), 0);
	ck_assert_msg(r.status == 200, "status %d (%s)", r.status, r.err);
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(login), before + 1);
}

/* The access line for request id id (free it), or NULL. */
static char *
access_line(const char *id)
{
	char	 needle[128];

	snprintf(needle, sizeof(needle), "\"request_id\":\"%s\"", id);
	return h_access_line(&W, needle);
}

/* The access line of r's call says status and error code. */
static void
assert_logged(const struct h_resp *r, int status, const char *code)
{
	char	*line, want[128];

	line = access_line(h_resp_header(r, "X-Request-Id"));
	ck_assert_msg(line != NULL, "no access line for %s",
	    h_resp_header(r, "X-Request-Id"));
	snprintf(want, sizeof(want), "\"status\":%d,", status);
	ck_assert_msg(strstr(line, want) != NULL, "%s", line);
	snprintf(want, sizeof(want), "\"error\":\"%s\"", code);
	ck_assert_msg(strstr(line, want) != NULL, "%s", line);
	free(line);
}

/* Request i as the upstream got it: method, target, the body of a POST. */
static void
assert_upstream_got(struct fake *f, size_t i, const char *method,
    const char *target, const char *reqid)
{
	struct fake_req	*u = fake_req_get(f, i);

	ck_assert_msg(u != NULL, "the upstream has no request %zu", i);
	ck_assert_str_eq(u->method, method);
	ck_assert_str_eq(u->target, target);
	if (reqid != NULL)
		ck_assert_str_eq(fake_req_header(u, "X-Request-Id"), reqid);
	if (strcmp(method, "POST") == 0) {
		ck_assert_uint_eq(u->body_len, 7);
		ck_assert_int_eq(memcmp(u->body, "{\"n\":1}", 7), 0);
	}
	fake_req_free(u);
}

static void
start_weir(uint16_t api_port, const char *const *env)
{
	if (login == NULL)
		login = fake_start(fake_echo, NULL);
	ck_assert_ptr_nonnull(login);
	h_start_or_abort(&W, api_port, fake_port(login), NULL, env);
}

static void
teardown(void)
{
	h_stop(&W);
	fake_stop(api);
	fake_stop(login);
	api = login = NULL;
}

/* Refused. */

START_TEST(refused_is_502_unreachable)
{
	static const char *const env[] = { "WEIR_MAX_RETRIES=2", NULL };
	struct h_resp	 r;
	uint64_t	 t0 = h_mono_ms();

	start_weir(h_closed_port(), env);
	/* a refused connect never sent anything: retried, even a POST */
	ck_assert_int_eq(call("GET", "/api/v2/x", &r), 0);
	assert_weir_error(&r, 502, "weir.upstream_unreachable");
	assert_attempts(&r, 3);
	assert_logged(&r, 502, "weir.upstream_unreachable");
	h_resp_free(&r);
	ck_assert_int_eq(call("POST", "/api/v2/x", &r), 0);
	assert_weir_error(&r, 502, "weir.upstream_unreachable");
	assert_attempts(&r, 3);
	h_resp_free(&r);
	ck_assert_uint_lt(h_mono_ms() - t0, 8000);
	/* nothing went to the other upstream instead */
	ck_assert_uint_eq(fake_nreqs(login), 0);
	assert_serving();
}
END_TEST

/* Broken answers from a raw upstream, for a POST (never retried) and a
 * GET (retried max_retries times). */
static void
broken(const char *bytes, size_t len, const char *what)
{
	static const char *const env[] = { "WEIR_MAX_RETRIES=2",
	    "WEIR_LOG_LEVEL=info", NULL };
	struct h_resp	 r;
	char		 id[64];
	size_t		 i;

	api = fake_start_raw(bytes, len, 1);
	ck_assert_ptr_nonnull(api);
	start_weir(fake_port(api), env);

	ck_assert_int_eq(call("POST", "/api/v2/post", &r), 0);
	assert_weir_error(&r, 502, "weir.upstream_bad_response");
	ck_assert_msg(strstr((char *)r.body, "0123456789") == NULL,
	    "%s: a piece of the upstream's answer got through: %s", what,
	    r.body);
	assert_attempts(&r, 1);
	assert_logged(&r, 502, "weir.upstream_bad_response");
	snprintf(id, sizeof(id), "%s", h_resp_header(&r, "X-Request-Id"));
	h_resp_free(&r);
	ck_assert_int_eq(fake_wait_nreqs(api, 1, 2000), 0);
	assert_upstream_got(api, 0, "POST", "/api/v2/post", id);

	ck_assert_int_eq(call("GET", "/api/v2/get", &r), 0);
	assert_weir_error(&r, 502, "weir.upstream_bad_response");
	assert_attempts(&r, 3);
	snprintf(id, sizeof(id), "%s", h_resp_header(&r, "X-Request-Id"));
	h_resp_free(&r);
	ck_assert_int_eq(fake_wait_nreqs(api, 4, 2000), 0);
	for (i = 1; i < 4; i++)
		assert_upstream_got(api, i, "GET", "/api/v2/get", id);
	/* exactly once each: no hidden retries underneath */
	h_nap_ms(100);
	ck_assert_uint_eq(fake_nreqs(api), 4);
	assert_serving();
}

START_TEST(reset_is_502)
{
	/* reads the request, closes without a byte */
	broken("", 0, "reset");
}
END_TEST

START_TEST(truncated_body_is_502_not_a_short_200)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
	    "0123456789";

	broken(resp, sizeof(resp) - 1, "Content-Length 100, 10 bytes");
}
END_TEST

START_TEST(truncated_chunked_body_is_502)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "a\r\n0123456789\r\n"
	    "40\r\nabc";

	broken(resp, sizeof(resp) - 1, "chunked, cut in a chunk");
}
END_TEST

START_TEST(chunked_body_without_last_chunk_is_502)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "a\r\n0123456789\r\n";

	broken(resp, sizeof(resp) - 1, "chunked, no last chunk");
}
END_TEST

START_TEST(garbage_is_502)
{
	static const char resp[] = "SSH-2.0-OpenSSH_9.2\r\n"
	    "this is not HTTP\r\n\r\n\x01\x02\x03";

	broken(resp, sizeof(resp) - 1, "garbage");
}
END_TEST

START_TEST(head_cut_short_is_502)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Ty";

	broken(resp, sizeof(resp) - 1, "head cut short");
}
END_TEST

/* Silent. */

static void
hang(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	(void)req;
	(void)arg;
	rp->hang = 1;
}

START_TEST(silence_is_504_timeout)
{
	static const char *const env[] = { "WEIR_UPSTREAM_TIMEOUT=300ms",
	    "WEIR_MAX_RETRIES=1", NULL };
	struct h_resp	 r;
	uint64_t	 t0, dt;
	char		 id[64];

	api = fake_start(hang, NULL);
	ck_assert_ptr_nonnull(api);
	start_weir(fake_port(api), env);
	t0 = h_mono_ms();
	ck_assert_int_eq(call("POST", "/api/v2/silent", &r), 0);
	dt = h_mono_ms() - t0;
	assert_weir_error(&r, 504, "weir.upstream_timeout");
	assert_attempts(&r, 1);
	assert_logged(&r, 504, "weir.upstream_timeout");
	ck_assert_msg(dt >= 280 && dt < 2000, "answered after %llu ms",
	    (unsigned long long)dt);
	snprintf(id, sizeof(id), "%s", h_resp_header(&r, "X-Request-Id"));
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	assert_upstream_got(api, 0, "POST", "/api/v2/silent", id);
	/* a GET is idempotent: tried once more, then 504 */
	t0 = h_mono_ms();
	ck_assert_int_eq(call("GET", "/api/v2/silent", &r), 0);
	dt = h_mono_ms() - t0;
	assert_weir_error(&r, 504, "weir.upstream_timeout");
	assert_attempts(&r, 2);
	ck_assert_msg(dt >= 560 && dt < 3000, "answered after %llu ms",
	    (unsigned long long)dt);
	h_resp_free(&r);
	ck_assert_int_eq(fake_wait_nreqs(api, 3, 1000), 0);
	ck_assert_uint_eq(fake_nreqs(api), 3);
	assert_serving();
}
END_TEST

/*
 * A scripted raw upstream: request n (counted over all connections) gets
 * script[n] (the last one repeats): 'c' closes the connection without an
 * answer, 'o' answers 200 and keeps the connection open.
 */
static enum fake_raw_act
flaky(struct fake *f, const struct fake_req *req, int fd, void *arg)
{
	const char	*script = arg;
	size_t		 last = strlen(script) - 1;

	(void)f;
	(void)fd;
	return script[req->seq < last ? req->seq : last] == 'c' ?
	    FAKE_RAW_CLOSE : FAKE_RAW_OK;
}

static void
flaky_start(const char *script)
{
	static const char *const env[] = { NULL };

	api = fake_start_scripted(flaky, (void *)script);
	ck_assert_ptr_nonnull(api);
	start_weir(fake_port(api), env);
}

/* Request i as the flaky upstream got it: its method, and on which
 * connection. */
static void
flaky_got(size_t i, const char *method, size_t *conn)
{
	struct fake_req	*u = fake_req_get(api, i);

	ck_assert_msg(u != NULL, "the upstream has no request %zu", i);
	ck_assert_str_eq(u->method, method);
	if (conn != NULL)
		*conn = u->conn;
	fake_req_free(u);
}

START_TEST(a_get_is_retried_after_a_reset)
{
	struct h_resp	 r;

	flaky_start("co");
	ck_assert_int_eq(call("GET", "/api/v2/once", &r), 0);
	ck_assert_msg(r.status == 200, "status %d: %s", r.status, r.body);
	ck_assert_str_eq((char *)r.body, "{\"ok\":true}");
	assert_attempts(&r, 2);
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 2);
	flaky_got(0, "GET", NULL);
	flaky_got(1, "GET", NULL);
	assert_serving();
}
END_TEST

START_TEST(a_post_is_not_retried_after_a_reset)
{
	struct h_resp	 r;

	flaky_start("co");
	ck_assert_int_eq(call("POST", "/api/v2/once", &r), 0);
	assert_weir_error(&r, 502, "weir.upstream_bad_response");
	assert_attempts(&r, 1);
	h_resp_free(&r);
	h_nap_ms(300);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	flaky_got(0, "POST", NULL);
	assert_serving();
}
END_TEST

/*
 * The same on a kept-alive connection: a GET leaves the connection open,
 * the upstream then reads a POST on it and closes without answering.  The
 * POST may have been processed; it must reach the upstream once only
 * (RFC 9112 9.3.1.1: a proxy must not retry non-idempotent requests).
 */
START_TEST(a_post_on_a_reused_connection_is_not_retried)
{
	struct h_resp	 r;
	size_t		 conn0, conn1;

	flaky_start("oco");
	ck_assert_int_eq(call("GET", "/api/v2/first", &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	ck_assert_int_eq(call("POST", "/api/v2/second", &r), 0);
	h_nap_ms(300);
	flaky_got(0, "GET", &conn0);
	flaky_got(1, "POST", &conn1);
	/* over HTTP/1.1 a POST gets a connection of its own: libcurl would
	 * send it again by itself if a reused one died under it */
	ck_assert_uint_ne(conn1, conn0);
	ck_assert_msg(fake_nreqs(api) == 2, "the upstream got the POST %zu "
	    "times (client got %d, X-Weir-Attempts %s)", fake_nreqs(api) - 1,
	    r.status, h_resp_header(&r, "X-Weir-Attempts"));
	assert_weir_error(&r, 502, "weir.upstream_bad_response");
	assert_attempts(&r, 1);
	h_resp_free(&r);
	assert_serving();
}
END_TEST

/* TLS. */

static struct tlsup {
	char		 dir[256];
	char		*key, *cert;		/* PEM */
	struct MHD_Daemon *d;
	uint16_t	 port;
	pthread_mutex_t	 mtx;
	int		 nreqs;
} tu = { .mtx = PTHREAD_MUTEX_INITIALIZER };

static char *
slurp(const char *path)
{
	struct fake_buf	 b = { 0 };
	char		 tmp[4096];
	size_t		 n;
	FILE		*f;

	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fake_buf_add(&b, "", 0);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		fake_buf_add(&b, tmp, n);
	fclose(f);
	return b.p;
}

/* Remove the certificate and its directory (atexit, and teardown). */
static void
tls_remove_files(void)
{
	char	 path[512];

	if (tu.dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/k", tu.dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/c", tu.dir);
	unlink(path);
	rmdir(tu.dir);
	tu.dir[0] = '\0';
}

/* A self-signed certificate for 127.0.0.1 with subjectAltName san. */
static void
make_cert(const char *san)
{
	const char	*tmp = getenv("TMPDIR");
	char		 cmd[1024], path[512];

	snprintf(tu.dir, sizeof(tu.dir), "%s/weir-tls-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tu.dir));
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 -nodes "
	    "-subj /CN=127.0.0.1 -days 1 -addext 'subjectAltName=%s' "
	    "-keyout '%s/k' -out '%s/c' >/dev/null 2>&1", san, tu.dir,
	    tu.dir);
	/* a failed test exits without its teardown: clean up at exit too */
	atexit(tls_remove_files);
	ck_assert_msg(system(cmd) == 0, "openssl failed: %s", cmd);
	snprintf(path, sizeof(path), "%s/k", tu.dir);
	tu.key = slurp(path);
	unlink(path);		/* the key lives in memory only */
	snprintf(path, sizeof(path), "%s/c", tu.dir);
	tu.cert = slurp(path);
}

/* MHD_AccessHandlerCallback: 200 for every request. */
static enum MHD_Result
tls_answer(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req_cls)
{
	static const char	 body[] = "{\"tls\":true}";
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	(void)cls; (void)url; (void)method; (void)version; (void)upload;
	if (*req_cls == NULL) {
		*req_cls = &tu;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&tu.mtx);
	tu.nreqs++;
	pthread_mutex_unlock(&tu.mtx);
	resp = MHD_create_response_from_buffer(sizeof(body) - 1,
	    (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
tls_start(const char *san)
{
	struct sockaddr_in		 sin;
	const union MHD_DaemonInfo	*di;

	make_cert(san);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	tu.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_TLS, 0, NULL, NULL,
	    tls_answer, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_HTTPS_MEM_KEY, tu.key,
	    MHD_OPTION_HTTPS_MEM_CERT, tu.cert,
	    MHD_OPTION_END);
	ck_assert_msg(tu.d != NULL, "no TLS server (libmicrohttpd without "
	    "TLS?)");
	di = MHD_get_daemon_info(tu.d, MHD_DAEMON_INFO_BIND_PORT);
	ck_assert_ptr_nonnull(di);
	tu.port = di->port;
}

static void
tls_stop(void)
{
	if (tu.d != NULL)
		MHD_stop_daemon(tu.d);
	tu.d = NULL;
	free(tu.key);
	free(tu.cert);
	tu.key = tu.cert = NULL;
	tls_remove_files();
	tu.nreqs = 0;
}

static int
tls_nreqs(void)
{
	int	 n;

	pthread_mutex_lock(&tu.mtx);
	n = tu.nreqs;
	pthread_mutex_unlock(&tu.mtx);
	return n;
}

static void
tls_teardown(void)
{
	h_stop(&W);
	tls_stop();
	fake_stop(login);
	login = NULL;
}

/* weir -u https://127.0.0.1:PORT with extra environment. */
static void
tls_weir(const char *ca_file, int insecure)
{
	char		 up[64], ca[600];
	const char	*args[3] = { "-u", up, NULL };
	const char	*env[3] = { NULL, NULL, NULL };
	int		 n = 0;

	snprintf(up, sizeof(up), "https://127.0.0.1:%u", (unsigned)tu.port);
	if (ca_file != NULL) {
		snprintf(ca, sizeof(ca), "WEIR_CA_FILE=%s", ca_file);
		env[n++] = ca;
	}
	if (insecure)
		env[n++] = "WEIR_INSECURE=on";
	login = fake_start(fake_echo, NULL);
	ck_assert_ptr_nonnull(login);
	/* the later -u wins over the harness's */
	h_start_or_abort(&W, 1, fake_port(login), args, env);
}

static void
tls_expect(int status)
{
	struct h_resp	 r;

	ck_assert_int_eq(call("GET", "/api/v2/tls", &r), 0);
	if (status == 200) {
		ck_assert_msg(r.status == 200, "status %d: %s", r.status,
		    r.body);
		ck_assert_str_eq((char *)r.body, "{\"tls\":true}");
		assert_attempts(&r, 1);
		ck_assert_int_eq(tls_nreqs(), 1);
	} else {
		assert_weir_error(&r, status, "weir.upstream_tls");
		/* a certificate that does not verify is not retried */
		assert_attempts(&r, 1);
		assert_logged(&r, status, "weir.upstream_tls");
		ck_assert_int_eq(tls_nreqs(), 0);
	}
	h_resp_free(&r);
	assert_serving();
}

START_TEST(tls_unknown_ca_is_502)
{
	tls_start("IP:127.0.0.1");
	tls_weir(NULL, 0);
	tls_expect(502);
}
END_TEST

START_TEST(tls_with_the_ca_file_is_200)
{
	char	 ca[512];

	tls_start("IP:127.0.0.1");
	snprintf(ca, sizeof(ca), "%s/c", tu.dir);
	tls_weir(ca, 0);
	tls_expect(200);
}
END_TEST

START_TEST(tls_wrong_name_is_502)
{
	char	 ca[512];

	tls_start("DNS:wrong.example");
	snprintf(ca, sizeof(ca), "%s/c", tu.dir);
	tls_weir(ca, 0);
	tls_expect(502);
}
END_TEST

START_TEST(tls_insecure_is_200)
{
	tls_start("DNS:wrong.example");
	tls_weir(NULL, 1);
	tls_expect(200);
}
END_TEST

static Suite *
upstream_fail_suite(void)
{
	Suite	*s = suite_create("upstream_fail");
	TCase	*tc;

	tc = tcase_create("broken");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, refused_is_502_unreachable);
	tcase_add_test(tc, reset_is_502);
	tcase_add_test(tc, truncated_body_is_502_not_a_short_200);
	tcase_add_test(tc, truncated_chunked_body_is_502);
	tcase_add_test(tc, chunked_body_without_last_chunk_is_502);
	tcase_add_test(tc, garbage_is_502);
	tcase_add_test(tc, head_cut_short_is_502);
	tcase_add_test(tc, silence_is_504_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("retry");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, a_get_is_retried_after_a_reset);
	tcase_add_test(tc, a_post_is_not_retried_after_a_reset);
	tcase_add_test(tc, a_post_on_a_reused_connection_is_not_retried);
	suite_add_tcase(s, tc);

	tc = tcase_create("tls");
	tcase_add_checked_fixture(tc, NULL, tls_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, tls_unknown_ca_is_502);
	tcase_add_test(tc, tls_with_the_ca_file_is_200);
	tcase_add_test(tc, tls_wrong_name_is_502);
	tcase_add_test(tc, tls_insecure_is_200);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(upstream_fail_suite());
}
