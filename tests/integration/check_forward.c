/*
 * check_forward.c - weir forwards requests and answers faithfully.
 *
 * Each test runs the real weir binary on port 0 between a client (libcurl
 * with nothing added, or raw bytes on a socket) and two fake upstreams (api
 * and login), and checks both what the client got and what the upstream
 * received: methods, targets byte for byte, headers (end-to-end kept,
 * hop-by-hop dropped), bodies, statuses, routing, request ids, weir's own
 * JSON errors, and the access log.
 *
 * The checked fixture runs in each test's forked child: a fresh pair of
 * fakes and a fresh weir per test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fake.h"
#include "harness.h"
#include "tap.h"

static struct fake	*api;		/* weir's -u */
static struct fake	*login;		/* weir's -L */
static struct h_weir	 W;

/* What the api fake answers; tests change it before sending. */
static fake_handler	 api_handler;
static void		*api_arg;

/* Pacing and retries out of the way: these tests are about forwarding. */
#define BASE_ENV \
	"WEIR_RATE=1000000/s", "WEIR_BURST=100000", \
	"WEIR_CONCURRENCY=10000", "WEIR_MAX_RETRIES=0", \
	"WEIR_LOG_LEVEL=info", "WEIR_LOG_FORMAT=json"

static const char *const base_env[] = { BASE_ENV, NULL };

/* fake_handler for the api fake: whatever the test chose. */
static void
api_dispatch(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	api_handler(req, rp, api_arg);
}

static void
start_weir(uint16_t api_port, const char *const *env)
{
	h_start_or_abort(&W, api_port, fake_port(login), NULL, env);
}

/* Restart weir with base_env plus extra ("K=V", NULL-terminated). */
static void
restart_weir(uint16_t api_port, const char *const *extra)
{
	const char	*env[64];
	size_t		 n = 0, i;

	h_stop(&W);
	for (i = 0; base_env[i] != NULL; i++)
		env[n++] = base_env[i];
	for (i = 0; extra != NULL && extra[i] != NULL && n < 63; i++)
		env[n++] = extra[i];
	env[n] = NULL;
	start_weir(api_port, env);
}

static void
setup(void)
{
	api_handler = fake_echo;
	api_arg = NULL;
	api = fake_start(api_dispatch, NULL);
	login = fake_start(NULL, NULL);
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(login);
	start_weir(fake_port(api), base_env);
}

static void
teardown(void)
{
	h_stop(&W);
	fake_stop(api);
	fake_stop(login);
	api = login = NULL;
}

/* Helpers. */

static int
do_req(const char *method, const char *target, const char *const *headers,
    struct h_resp *r)
{
	struct h_req	 q = { .method = method, .target = target,
	    .headers = headers };

	return h_request(W.port, &q, r);
}

static int
do_body(const char *method, const char *target, const char *const *headers,
    const void *body, size_t len, struct h_resp *r)
{
	struct h_req	 q = { .method = method, .target = target,
	    .headers = headers, .body = body, .body_len = len,
	    .has_body = 1 };

	return h_request(W.port, &q, r);
}

/* The i-th request f received (waiting for it); free with fake_req_free. */
static struct fake_req *
got(struct fake *f, size_t i)
{
	struct fake_req	*r;

	ck_assert_msg(fake_wait_nreqs(f, i + 1, 3000) == 0,
	    "upstream received %zu requests, expected at least %zu",
	    fake_nreqs(f), i + 1);
	r = fake_req_get(f, i);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* Index of the first header called name with value, or -1. */
static long
hdr_index(const struct fake_req *r, const char *name, const char *value)
{
	size_t	 i;

	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0 &&
		    (value == NULL || strcmp(r->hdrs[i].value, value) == 0))
			return (long)i;
	return -1;
}

/* Check that r is one of weir's JSON errors with this status. */
static void
assert_weir_error(const struct h_resp *r, int status)
{
	const char	*ct;
	char		 v[512];

	ck_assert_msg(r->status == status, "status %d, expected %d; body: %s",
	    r->status, status, r->body);
	ct = h_resp_header(r, "Content-Type");
	ck_assert_msg(ct != NULL && strstr(ct, "application/json") != NULL,
	    "Content-Type %s, expected application/json", ct ? ct : "(none)");
	ck_assert_msg(h_json_get((const char *)r->body, r->body_len, "code",
	    v, sizeof(v)) == 3, "no string code in %s", r->body);
	ck_assert_msg(strncmp(v, "weir.", 5) == 0, "code %s", v);
	ck_assert_msg(h_json_get((const char *)r->body, r->body_len, "status",
	    v, sizeof(v)) == 4, "no status in %s", r->body);
	ck_assert_int_eq(atoi(v), status);
	ck_assert_msg(h_json_get((const char *)r->body, r->body_len,
	    "message", v, sizeof(v)) == 3 && v[0] != '\0',
	    "no message in %s", r->body);
}

static void
assert_code(const struct h_resp *r, const char *code)
{
	char	 v[128];

	h_json_get((const char *)r->body, r->body_len, "code", v, sizeof(v));
	ck_assert_str_eq(v, code);
}

/* Deterministic bytes with NULs and every byte value in them. */
static unsigned char *
random_bytes(size_t n, uint64_t seed)
{
	unsigned char	*p = fake_alloc(n);
	uint64_t	 x = seed | 1;
	size_t		 i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
		if (i % 97 == 0)
			p[i] = 0;
	}
	return p;
}

/* Handlers. */

/* Answer with the request body, as bytes. */
static void
h_body_echo(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	rp->status = 200;
	fake_reply_header(rp, "Content-Type", "application/octet-stream");
	fake_reply_body(rp, req->body, req->body_len);
}

/* Answer with the status in *arg. */
static void
h_status(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	int	 status = *(int *)arg;

	rp->status = status;
	fake_reply_header(rp, "X-Fake-Status", "yes");
	if (status != 204 && status != 304) {
		fake_reply_header(rp, "Content-Type", "application/json");
		fake_reply_printf(rp, "{\"status\":%d}", status);
	}
}

static void
h_resp_headers(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	rp->status = 200;
	fake_reply_header(rp, "Content-Type", "application/json");
	fake_reply_header(rp, "X-Custom", "custom value");
	fake_reply_header(rp, "Set-Cookie", "a=1; Path=/");
	fake_reply_header(rp, "Set-Cookie", "b=2; Path=/");
	fake_reply_header(rp, "ININ-Correlation-Id",
	    "11111111-2222-4333-8444-555555555555");
	fake_reply_printf(rp, "{}");
}

/* An upstream (or something on the way) that speaks as weir. */
static void
h_weir_impostor(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	rp->status = 200;
	fake_reply_header(rp, "Content-Type", "application/json");
	fake_reply_header(rp, "X-Weir-Tenant", "evil");
	fake_reply_header(rp, "X-Weir-Attempts", "99");
	fake_reply_header(rp, "x-weir-queued-ms", "123456");
	fake_reply_header(rp, "X-Weir-Extra", "1");
	fake_reply_header(rp, "X-Weirdo", "stays");
	fake_reply_printf(rp, "{}");
}

/* 1234 bytes, also for HEAD (MHD sends the Content-Length, no body). */
static void
h_sized(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	char	 body[1234];

	memset(body, 'x', sizeof(body));
	rp->status = 200;
	fake_reply_header(rp, "Content-Type", "text/plain");
	fake_reply_header(rp, "X-Head", "1");
	fake_reply_body(rp, body, sizeof(body));
}

/* gzip of a 585-byte JSON flow list (mtime 0). */
static const unsigned char gz_body[] = {
	0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x65,
	0xd0, 0x3b, 0x0a, 0xc3, 0x30, 0x10, 0x84, 0xe1, 0xab, 0x84, 0xad,
	0x55, 0x68, 0xe4, 0xb7, 0x0e, 0x90, 0x4b, 0x84, 0x14, 0x06, 0xab,
	0x10, 0x38, 0x76, 0x11, 0x41, 0x0a, 0xa3, 0xbb, 0xc7, 0x85, 0x61,
	0x97, 0x71, 0xb7, 0xec, 0x5f, 0xcd, 0x77, 0x48, 0xda, 0x4a, 0x2e,
	0x39, 0x7d, 0x25, 0xbe, 0x0e, 0xc9, 0x8b, 0x44, 0xf1, 0xe2, 0x64,
	0x9b, 0x3f, 0xe9, 0x3c, 0x9f, 0xeb, 0xfe, 0x7b, 0x78, 0xa9, 0xee,
	0x4a, 0xa0, 0x04, 0x4d, 0x81, 0x52, 0xd0, 0xd4, 0x50, 0x6a, 0x34,
	0xb5, 0x94, 0x5a, 0x4d, 0x1d, 0xa5, 0x4e, 0x53, 0x4f, 0xa9, 0xd7,
	0x34, 0x50, 0x1a, 0x34, 0x8d, 0x94, 0x46, 0x4d, 0x13, 0xa5, 0xc9,
	0x4c, 0x66, 0x0e, 0x58, 0x8f, 0x1b, 0x88, 0x11, 0x01, 0x93, 0xc0,
	0x98, 0x80, 0x51, 0x60, 0x54, 0xc0, 0x2c, 0x30, 0x2e, 0x60, 0x18,
	0x18, 0x19, 0x30, 0x0d, 0x8c, 0x0d, 0x18, 0x07, 0x46, 0x07, 0xcc,
	0x03, 0xe3, 0x03, 0x06, 0x3a, 0x1f, 0xf5, 0xed, 0xa4, 0xec, 0x65,
	0x5e, 0x25, 0x06, 0x5f, 0xff, 0x7a, 0xcb, 0xea, 0xcd, 0x49, 0x02,
	0x00, 0x00,
};

static void
h_gzip(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	rp->status = 200;
	fake_reply_header(rp, "Content-Type", "application/json");
	fake_reply_header(rp, "Content-Encoding", "gzip");
	fake_reply_header(rp, "Vary", "Accept-Encoding");
	fake_reply_body(rp, gz_body, sizeof(gz_body));
}

/* Answer with a 64 KiB binary body. */
static void
h_binary(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	unsigned char	*b = random_bytes(65536, 42);

	rp->status = 200;
	fake_reply_header(rp, "Content-Type", "application/octet-stream");
	fake_reply_body(rp, b, 65536);
	free(b);
}

/* Methods. */

static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
};

START_TEST(test_method)
{
	const char	*m = methods[_i];
	int		 with_body = strcmp(m, "POST") == 0 ||
			    strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
	struct h_resp	 r;
	struct fake_req	*u;
	char		 target[64];

	snprintf(target, sizeof(target), "/api/v2/method/%s?x=1", m);
	if (with_body)
		ck_assert_int_eq(do_body(m, target, NULL, "{\"a\":1}", 7, &r),
		    0);
	else
		ck_assert_int_eq(do_req(m, target, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	if (strcmp(m, "HEAD") == 0)
		ck_assert_uint_eq(r.body_len, 0);
	else
		ck_assert_msg(strstr((char *)r.body, target) != NULL,
		    "echo body %s", r.body);

	u = got(api, 0);
	ck_assert_str_eq(u->method, m);
	ck_assert_str_eq(u->target, target);
	ck_assert_uint_eq(u->body_len, with_body ? 7 : 0);
	if (with_body)
		ck_assert_str_eq((char *)u->body, "{\"a\":1}");
	ck_assert_uint_eq(fake_nreqs(api), 1);
	ck_assert_uint_eq(fake_nreqs(login), 0);
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

/* Targets. */

static const char *const targets[] = {
	"/api/v2/flows?type=inboundcall,outboundcall&pageSize=25",
	"/api/v2/users/a%2Fb/x%20y?q=%2F%20%25&z=%7B%7D",
	"/api/v2/r?k=1&k=2&k=3&k=",
	"/api/v2/u/\xc3\xa9t\xc3\xa9/\xe6\x97\xa5?name=\xe6\x97\xa5\xe6\x9c\xac",
	"/api/v2/search?q=a+b&r=c%2Bd+e",
	"/api/v2/x;v=1/y?a=1&&b=%zz&c",
	"/api/v2/empty?",
	"/api/v2/trailing/",
};

START_TEST(test_target_bytes)
{
	const char	*t = targets[_i];
	struct h_resp	 r;
	struct fake_req	*u;

	ck_assert_int_eq(do_req("GET", t, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	ck_assert_msg(strcmp(u->target, t) == 0,
	    "upstream got target [%s], sent [%s]", u->target, t);
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

/* Request headers. */

START_TEST(test_headers_end_to_end)
{
	static const char *const hdrs[] = {
		"X-Foo: bar baz",
		"Authorization: Bearer tok-abc-1",
		"Accept-Encoding: gzip, compress, deflate, br",
		"Accept: application/json",
		"X-Dup: one",
		"Cookie: c=1",
		"X-Dup: two",
		"X-Empty-Not: ",
		NULL,
	};
	struct h_resp	 r;
	struct fake_req	*u;
	long		 one, two;

	ck_assert_int_eq(do_req("GET", "/api/v2/h", hdrs, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	ck_assert_str_eq(fake_req_header(u, "X-Foo"), "bar baz");
	ck_assert_str_eq(fake_req_header(u, "Authorization"),
	    "Bearer tok-abc-1");
	ck_assert_str_eq(fake_req_header(u, "Accept-Encoding"),
	    "gzip, compress, deflate, br");
	ck_assert_str_eq(fake_req_header(u, "Accept"), "application/json");
	ck_assert_str_eq(fake_req_header(u, "Cookie"), "c=1");
	one = hdr_index(u, "X-Dup", "one");
	two = hdr_index(u, "X-Dup", "two");
	ck_assert_msg(one >= 0 && two >= 0,
	    "duplicate headers lost (X-Dup: %s)", fake_req_header(u, "X-Dup"));
	ck_assert_msg(one < two, "duplicate headers reordered");
	ck_assert_uint_eq(fake_req_header_count(u, "X-Dup"), 2);
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_hop_by_hop_removed)
{
	static const char *const hdrs[] = {
		"Connection: keep-alive, X-Secret-Hop",
		"Keep-Alive: timeout=5, max=100",
		"TE: trailers",
		"Trailer: X-Checksum",
		"Upgrade: h2c",
		"Proxy-Authorization: Basic cHJveHk6c2VjcmV0",
		"Proxy-Connection: keep-alive",
		"X-Secret-Hop: must-not-pass",
		"X-Keep: yes",
		NULL,
	};
	static const char *const dropped[] = {
		"Connection", "Keep-Alive", "TE", "Trailer", "Upgrade",
		"Proxy-Authorization", "Proxy-Connection", "X-Secret-Hop",
		"Transfer-Encoding",
	};
	struct h_req	 q = { .method = "POST", .target = "/api/v2/hop",
	    .headers = hdrs, .body = "hello", .body_len = 5, .has_body = 1,
	    .chunked = 1 };
	struct h_resp	 r;
	struct fake_req	*u;
	size_t		 i;

	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		ck_assert_msg(fake_req_header(u, dropped[i]) == NULL,
		    "hop-by-hop %s: %s forwarded", dropped[i],
		    fake_req_header(u, dropped[i]));
	ck_assert_str_eq(fake_req_header(u, "X-Keep"), "yes");
	ck_assert_uint_eq(u->body_len, 5);
	ck_assert_str_eq((char *)u->body, "hello");
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_connection_close_names)
{
	static const char *const hdrs[] = {
		"Connection: close, X-Secret-Hop",
		"X-Secret-Hop: 1",
		"X-Other: 2",
		NULL,
	};
	struct h_resp	 r;
	struct fake_req	*u;

	ck_assert_int_eq(do_req("GET", "/api/v2/close", hdrs, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	ck_assert_ptr_null(fake_req_header(u, "X-Secret-Hop"));
	ck_assert_ptr_null(fake_req_header(u, "Connection"));
	ck_assert_str_eq(fake_req_header(u, "X-Other"), "2");
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_host_is_upstream)
{
	static const char *const hdrs[] = { "Host: weir.example:9999", NULL };
	struct h_resp	 r;
	struct fake_req	*u;
	char		 want[64];

	ck_assert_int_eq(do_req("GET", "/api/v2/host", hdrs, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	snprintf(want, sizeof(want), "127.0.0.1:%u",
	    (unsigned)fake_port(api));
	ck_assert_str_eq(fake_req_header(u, "Host"), want);
	ck_assert_uint_eq(fake_req_header_count(u, "Host"), 1);
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_weir_headers_dropped)
{
	static const char *const hdrs[] = {
		"X-Weir-Tenant: team-a",
		"X-Weir-Max-Wait: 5",
		"X-Weir-Debug: 1",
		"X-Weirdo: stays",
		NULL,
	};
	struct h_resp	 r;
	struct fake_req	*u;
	size_t		 i;

	ck_assert_int_eq(do_req("GET", "/api/v2/ctl", hdrs, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	for (i = 0; i < u->nhdrs; i++)
		ck_assert_msg(strncasecmp(u->hdrs[i].name, "X-Weir-", 7) != 0,
		    "control header %s forwarded", u->hdrs[i].name);
	ck_assert_str_eq(fake_req_header(u, "X-Weirdo"), "stays");
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

/* curl in weir must add nothing of its own. */

static const char *const bare[] = {
	"GET /api/v2/bare HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"POST /api/v2/bare HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
	    "Connection: close\r\n\r\nabc",
	"PUT /api/v2/bare HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
	    "Connection: close\r\n\r\nabc",
	"POST /api/v2/bare HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	    "Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
};

START_TEST(test_no_added_headers)
{
	const char	*req = bare[_i];
	struct h_resp	 r;
	struct fake_req	*u;
	char		*out;
	size_t		 outlen;

	ck_assert_int_eq(h_raw(W.port, req, strlen(req), 5000, &out, &outlen),
	    0);
	ck_assert_int_eq(h_parse_response(out, outlen, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	ck_assert_msg(fake_req_header(u, "Accept") == NULL,
	    "upstream got Accept: %s", fake_req_header(u, "Accept"));
	ck_assert_msg(fake_req_header(u, "Content-Type") == NULL,
	    "upstream got Content-Type: %s",
	    fake_req_header(u, "Content-Type"));
	ck_assert_msg(fake_req_header(u, "Expect") == NULL,
	    "upstream got Expect: %s", fake_req_header(u, "Expect"));
	if (strncmp(req, "GET", 3) == 0) {
		ck_assert_uint_eq(u->body_len, 0);
		ck_assert_ptr_null(fake_req_header(u, "Transfer-Encoding"));
	} else {
		ck_assert_uint_eq(u->body_len, 3);
		ck_assert_str_eq((char *)u->body, "abc");
	}
	fake_req_free(u);
	h_resp_free(&r);
	free(out);
}
END_TEST

/* Request bodies. */

START_TEST(test_body_binary)
{
	size_t		 n = 300 * 1024;
	unsigned char	*body = random_bytes(n, 7);
	struct h_resp	 r;
	struct fake_req	*u;
	char		 cl[32];

	api_handler = h_body_echo;
	ck_assert_int_eq(do_body("POST", "/api/v2/blob", NULL, body, n, &r),
	    0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	ck_assert_uint_eq(u->body_len, n);
	ck_assert_msg(memcmp(u->body, body, n) == 0,
	    "upstream body differs");
	snprintf(cl, sizeof(cl), "%zu", n);
	ck_assert_str_eq(fake_req_header(u, "Content-Length"), cl);
	ck_assert_uint_eq(r.body_len, n);
	ck_assert_msg(memcmp(r.body, body, n) == 0, "client body differs");
	fake_req_free(u);
	h_resp_free(&r);
	free(body);
}
END_TEST

START_TEST(test_body_chunked)
{
	size_t		 n = 100 * 1000 + 17;
	unsigned char	*body = random_bytes(n, 11);
	struct h_req	 q = { .method = "PUT", .target = "/api/v2/chunked",
	    .body = body, .body_len = n, .has_body = 1, .chunked = 1 };
	struct h_resp	 r;
	struct fake_req	*u;
	const char	*cl;

	api_handler = h_body_echo;
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	ck_assert_str_eq(u->method, "PUT");
	ck_assert_uint_eq(u->body_len, n);
	ck_assert_msg(memcmp(u->body, body, n) == 0, "upstream body differs");
	/* weir has the whole body: it sends it with a length. */
	cl = fake_req_header(u, "Content-Length");
	ck_assert_msg(cl != NULL && strtoul(cl, NULL, 10) == n,
	    "upstream Content-Length %s, expected %zu", cl ? cl : "(none)", n);
	ck_assert_ptr_null(fake_req_header(u, "Transfer-Encoding"));
	ck_assert_uint_eq(r.body_len, n);
	ck_assert_msg(memcmp(r.body, body, n) == 0, "client body differs");
	fake_req_free(u);
	h_resp_free(&r);
	free(body);
}
END_TEST

START_TEST(test_expect_100)
{
	size_t		 n = 4096;
	unsigned char	*body = random_bytes(n, 3);
	struct h_req	 q = { .method = "POST", .target = "/api/v2/expect",
	    .body = body, .body_len = n, .has_body = 1, .expect_100 = 1 };
	struct h_resp	 r;
	struct fake_req	*u;
	uint64_t	 t0 = h_mono_ms();

	api_handler = h_body_echo;
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, n);
	ck_assert_msg(memcmp(r.body, body, n) == 0, "client body differs");
	/* weir said 100 Continue rather than make curl wait 1 s for it. */
	ck_assert_msg(h_mono_ms() - t0 < 900, "took %llu ms",
	    (unsigned long long)(h_mono_ms() - t0));
	u = got(api, 0);
	ck_assert_uint_eq(u->body_len, n);
	ck_assert_msg(memcmp(u->body, body, n) == 0, "upstream body differs");
	ck_assert_ptr_null(fake_req_header(u, "Expect"));
	fake_req_free(u);
	h_resp_free(&r);
	free(body);
}
END_TEST

START_TEST(test_empty_post)
{
	struct h_resp	 r;
	struct fake_req	*u;

	ck_assert_int_eq(do_body("POST", "/api/v2/empty", NULL, "", 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	ck_assert_str_eq(u->method, "POST");
	ck_assert_uint_eq(u->body_len, 0);
	ck_assert_msg(fake_req_header(u, "Content-Length") != NULL &&
	    strcmp(fake_req_header(u, "Content-Length"), "0") == 0,
	    "upstream Content-Length %s, expected 0",
	    fake_req_header(u, "Content-Length"));
	ck_assert_ptr_null(fake_req_header(u, "Transfer-Encoding"));
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_body_too_large)
{
	static const char *const env[] = { "WEIR_MAX_BODY=1k", NULL };
	unsigned char	*body = random_bytes(2048, 5);
	struct h_resp	 r;
	struct fake_req	*u;

	restart_weir(fake_port(api), env);

	ck_assert_int_eq(do_body("POST", "/api/v2/big", NULL, body, 2048, &r),
	    0);
	assert_weir_error(&r, 413);
	assert_code(&r, "weir.body_too_large");
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 0);

	/* A chunked body over the limit is refused too. */
	{
		struct h_req q = { .method = "POST", .target = "/api/v2/big",
		    .body = body, .body_len = 2048, .has_body = 1,
		    .chunked = 1 };

		ck_assert_int_eq(h_request(W.port, &q, &r), 0);
		assert_weir_error(&r, 413);
		h_resp_free(&r);
		ck_assert_uint_eq(fake_nreqs(api), 0);
	}

	/* Exactly max_body passes. */
	ck_assert_int_eq(do_body("POST", "/api/v2/big", NULL, body, 1024, &r),
	    0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	ck_assert_uint_eq(u->body_len, 1024);
	ck_assert_msg(memcmp(u->body, body, 1024) == 0, "body differs");
	fake_req_free(u);
	h_resp_free(&r);
	free(body);
}
END_TEST

/* Responses. */

static const int statuses[] = { 200, 201, 204, 304, 404, 500, 503 };

START_TEST(test_status)
{
	int		 status = statuses[_i];
	struct h_resp	 r;
	struct fake_req	*u;
	char		 want[32];

	api_handler = h_status;
	api_arg = &status;
	ck_assert_int_eq(do_req("GET", "/api/v2/status", NULL, &r), 0);
	ck_assert_int_eq(r.status, status);
	ck_assert_str_eq(h_resp_header(&r, "X-Fake-Status"), "yes");
	if (status == 204 || status == 304)
		ck_assert_uint_eq(r.body_len, 0);
	else {
		snprintf(want, sizeof(want), "{\"status\":%d}", status);
		ck_assert_str_eq((char *)r.body, want);
	}
	u = got(api, 0);
	ck_assert_str_eq(u->target, "/api/v2/status");
	/* max_retries is 0 here: exactly one attempt. */
	ck_assert_uint_eq(fake_nreqs(api), 1);
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_response_headers)
{
	struct h_resp	 r;
	struct fake_req	*u;
	size_t		 i, a = 0, b = 0;

	api_handler = h_resp_headers;
	ck_assert_int_eq(do_req("GET", "/api/v2/rh", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "X-Custom"), "custom value");
	ck_assert_str_eq(h_resp_header(&r, "ININ-Correlation-Id"),
	    "11111111-2222-4333-8444-555555555555");
	ck_assert_str_eq(h_resp_header(&r, "Content-Type"),
	    "application/json");
	ck_assert_uint_eq(h_resp_header_count(&r, "Set-Cookie"), 2);
	for (i = 0; i < r.nhdrs; i++) {
		if (strcmp(r.hdrs[i].value, "a=1; Path=/") == 0)
			a = i + 1;
		if (strcmp(r.hdrs[i].value, "b=2; Path=/") == 0)
			b = i + 1;
	}
	ck_assert_msg(a > 0 && b > a, "Set-Cookie values lost or reordered");
	ck_assert_str_eq((char *)r.body, "{}");
	u = got(api, 0);
	ck_assert_str_eq(u->target, "/api/v2/rh");
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_upstream_weir_headers_replaced)
{
	static const char *const hdrs[] = { "X-Weir-Tenant: team-a", NULL };
	struct h_resp	 r;
	size_t		 i;

	api_handler = h_weir_impostor;
	ck_assert_int_eq(do_req("GET", "/api/v2/wh", hdrs, &r), 0);
	ck_assert_int_eq(r.status, 200);
	/* exactly one of each, and it is weir's */
	ck_assert_uint_eq(h_resp_header_count(&r, "X-Weir-Tenant"), 1);
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Tenant"), "team-a");
	ck_assert_uint_eq(h_resp_header_count(&r, "X-Weir-Attempts"), 1);
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Attempts"), "1");
	ck_assert_uint_eq(h_resp_header_count(&r, "X-Weir-Queued-Ms"), 1);
	ck_assert_str_ne(h_resp_header(&r, "X-Weir-Queued-Ms"), "123456");
	ck_assert_uint_eq(h_resp_header_count(&r, "X-Weir-Extra"), 0);
	for (i = 0; i < r.nhdrs; i++)
		ck_assert_msg(strcmp(r.hdrs[i].value, "evil") != 0 &&
		    strcmp(r.hdrs[i].value, "99") != 0,
		    "the upstream's %s: %s reached the client",
		    r.hdrs[i].name, r.hdrs[i].value);
	ck_assert_str_eq(h_resp_header(&r, "X-Weirdo"), "stays");
	ck_assert_uint_eq(fake_nreqs(api), 1);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_response_hop_by_hop)
{
	static const char resp[] =
	    "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 2\r\n"
	    "Connection: close, X-Hop-Resp\r\n"
	    "X-Hop-Resp: 1\r\n"
	    "Keep-Alive: timeout=5\r\n"
	    "Proxy-Connection: keep-alive\r\n"
	    "Upgrade: h2c\r\n"
	    "Trailer: X-T\r\n"
	    "X-Keep: yes\r\n"
	    "\r\n"
	    "{}";
	static const char *const dropped[] = {
		"X-Hop-Resp", "Keep-Alive", "Proxy-Connection", "Upgrade",
		"Trailer",
	};
	struct fake	*raw;
	struct h_resp	 r;
	struct fake_req	*u;
	const char	*conn;
	size_t		 i;

	raw = fake_start_raw(resp, sizeof(resp) - 1, 1);
	ck_assert_ptr_nonnull(raw);
	restart_weir(fake_port(raw), NULL);
	ck_assert_int_eq(do_req("GET", "/api/v2/rhop", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq((char *)r.body, "{}");
	ck_assert_str_eq(h_resp_header(&r, "X-Keep"), "yes");
	for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		ck_assert_msg(h_resp_header(&r, dropped[i]) == NULL,
		    "hop-by-hop %s: %s forwarded to the client", dropped[i],
		    h_resp_header(&r, dropped[i]));
	conn = h_resp_header(&r, "Connection");
	ck_assert_msg(conn == NULL || strcasestr(conn, "X-Hop-Resp") == NULL,
	    "upstream Connection forwarded: %s", conn);
	u = got(raw, 0);
	ck_assert_str_eq(u->target, "/api/v2/rhop");
	fake_req_free(u);
	h_resp_free(&r);
	h_stop(&W);
	fake_stop(raw);
}
END_TEST

START_TEST(test_response_binary)
{
	unsigned char	*want = random_bytes(65536, 42);
	struct h_resp	 r;
	struct fake_req	*u;

	api_handler = h_binary;
	ck_assert_int_eq(do_req("GET", "/api/v2/bin", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, 65536);
	ck_assert_msg(memcmp(r.body, want, 65536) == 0, "body differs");
	ck_assert_str_eq(h_resp_header(&r, "Content-Type"),
	    "application/octet-stream");
	u = got(api, 0);
	ck_assert_str_eq(u->method, "GET");
	fake_req_free(u);
	h_resp_free(&r);
	free(want);
}
END_TEST

START_TEST(test_gzip_passthrough)
{
	static const char *const hdrs[] = {
		"Accept-Encoding: gzip, compress, deflate, br", NULL,
	};
	struct h_resp	 r;
	struct fake_req	*u;
	const char	*cl;

	api_handler = h_gzip;
	ck_assert_int_eq(do_req("GET", "/api/v2/flows", hdrs, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "Content-Encoding"), "gzip");
	ck_assert_uint_eq(r.body_len, sizeof(gz_body));
	ck_assert_msg(memcmp(r.body, gz_body, sizeof(gz_body)) == 0,
	    "compressed body changed");
	if ((cl = h_resp_header(&r, "Content-Length")) != NULL)
		ck_assert_uint_eq(strtoul(cl, NULL, 10), sizeof(gz_body));
	u = got(api, 0);
	ck_assert_str_eq(fake_req_header(u, "Accept-Encoding"),
	    "gzip, compress, deflate, br");
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_gzip_not_requested)
{
	struct h_resp	 r;
	struct fake_req	*u;

	/* The client asked for nothing: weir must not ask on its behalf. */
	api_handler = h_gzip;
	ck_assert_int_eq(do_req("GET", "/api/v2/flows", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, sizeof(gz_body));
	ck_assert_msg(memcmp(r.body, gz_body, sizeof(gz_body)) == 0,
	    "compressed body changed");
	u = got(api, 0);
	ck_assert_msg(fake_req_header(u, "Accept-Encoding") == NULL,
	    "upstream got Accept-Encoding: %s",
	    fake_req_header(u, "Accept-Encoding"));
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

/*
 * The answer head goes into what the request head left of its
 * connection's buffer (max_header_size and 2.5 KiB, 6.5 KiB by default).
 * Whatever the sizes of the two, every request gets exactly one answer:
 * the upstream's whole, or 502 weir.upstream_head_too_large when its
 * head cannot follow the request's, or 431 when the request's fields
 * leave no room for any answer.  Raw bytes on a socket, so nothing
 * cleans up what weir sends.
 */

/* fake_handler: an answer head of about X-Answer-Head bytes of X-Pad-i
 * fields (100 bytes a line), and X-Answer-Body bytes of body. */
static void
sized_answer(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	const char	*h = fake_req_header(req, "X-Answer-Head");
	const char	*b = fake_req_header(req, "X-Answer-Body");
	size_t		 head = h != NULL ? strtoul(h, NULL, 10) : 0;
	size_t		 body = b != NULL ? strtoul(b, NULL, 10) : 2, i;
	char		 name[32], value[128];
	unsigned char	*p;

	(void)arg;
	for (i = 0; head >= 100; i++, head -= 100) {
		snprintf(name, sizeof(name), "X-Pad-%03zu", i);
		/* "X-Pad-nnn: " and CRLF: 13 bytes of the line's 100 */
		memset(value, 'v', 87);
		value[87] = '\0';
		fake_reply_header(rp, name, value);
	}
	p = fake_alloc(body);
	for (i = 0; i < body; i++)
		p[i] = (unsigned char)('a' + i % 26);
	fake_reply_body(rp, p, body);
	free(p);
}

/* One request with nfields X-Req-i fields making the head about
 * head_bytes, asking for an answer head of answer bytes. */
static void
sized_request(unsigned nfields, size_t head_bytes, size_t answer,
    size_t body, struct h_resp *resp)
{
	char	*req, *out;
	size_t	 len = 0, cap = head_bytes + 1024, per, outlen;
	unsigned i;

	req = fake_alloc(cap);
	len += (size_t)snprintf(req + len, cap - len, "GET /api/v2/flows "
	    "HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Answer-Head: "
	    "%zu\r\nX-Answer-Body: %zu\r\n", answer, body);
	per = head_bytes > len + 2 ? (head_bytes - len - 2) / nfields : 0;
	for (i = 0; i < nfields; i++) {
		/* "X-Req-nn: " and CRLF: 12 bytes */
		len += (size_t)snprintf(req + len, cap - len, "X-Req-%02u: "
		    "%.*s\r\n", i, per > 13 ? (int)(per - 12) : 1,
		    "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
		    "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
		    "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
		    "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
		    "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
		    "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
		    "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
		    "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
		    "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
		    "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww");
	}
	len += (size_t)snprintf(req + len, cap - len, "\r\n");
	ck_assert_int_eq(h_raw(W.port, req, len, 5000, &out, &outlen), 0);
	memset(resp, 0, sizeof(*resp));
	ck_assert_msg(h_parse_response(out, outlen, resp) == 0,
	    "%u fields, %zu-byte head, %zu-byte answer head: no answer "
	    "(%zu bytes)", nfields, len, answer, outlen);
	free(out);
	free(req);
}

static void
answer_head_sweep(size_t body)
{
	static const unsigned	 fields[] = { 1, 10, 60 };
	static const size_t	 heads[] = { 300, 2000, 3900 };
	struct h_resp		 r;
	size_t			 fi, hi, a, npad, i, nreq;
	int			 n200 = 0, n502 = 0, n431 = 0, refused;

	api_handler = sized_answer;
	for (fi = 0; fi < sizeof(fields) / sizeof(fields[0]); fi++)
		for (hi = 0; hi < sizeof(heads) / sizeof(heads[0]); hi++) {
			refused = 0;
			for (a = 0; a <= 12000; a += 700) {
				nreq = fake_nreqs(api);
				sized_request(fields[fi], heads[hi], a, body, &r);
				if (r.status == 431) {
					/* Only for a head of many fields, and
					 * whatever the answer would be: weir's,
					 * or libmicrohttpd's (HTML) when the
					 * fields overflow its pool. */
					if (h_resp_header(&r, "Content-Type") !=
					    NULL)
						h_assert_weir_error(&r, 431,
						    "weir.headers_too_large");
					ck_assert_uint_ge(fields[fi], 60);
					ck_assert_uint_eq(fake_nreqs(api), nreq);
					n431++;
					h_resp_free(&r);
					continue;
				}
				if (r.status == 502) {
					h_assert_weir_error(&r, 502,
					    "weir.upstream_head_too_large");
					/* The upstream had the call. */
					ck_assert_uint_eq(fake_nreqs(api),
					    nreq + 1);
					/* An answer head of 1 KiB always fits
					 * after a head weir took; of 4 KiB
					 * after an SDK's (300 bytes, a few
					 * fields). */
					ck_assert_uint_gt(a, 1024);
					ck_assert_msg(heads[hi] > 300 ||
					    fields[fi] > 10 || a > 4200, "%zu-byte answer head "
					    "after a %zu-byte request head",
					    a, heads[hi]);
					refused = 1;
					n502++;
					h_resp_free(&r);
					continue;
				}
				ck_assert_msg(r.status == 200, "%u fields, "
				    "%zu head, %zu answer: status %d",
				    fields[fi], heads[hi], a, r.status);
				/* Once too large, larger is too. */
				ck_assert_msg(!refused, "%zu fits after a "
				    "smaller answer did not", a);
				for (npad = 0, i = 0; i < r.nhdrs; i++)
					if (strncmp(r.hdrs[i].name, "X-Pad-",
					    6) == 0)
						npad++;
				ck_assert_uint_eq(npad, a / 100);
				ck_assert_uint_eq(r.body_len, body);
				ck_assert_int_eq(r.body[body - 1],
				    'a' + (int)((body - 1) % 26));
				n200++;
				h_resp_free(&r);
			}
		}
	/* The default 8 KiB holds none of the largest answer heads. */
	ck_assert_int_gt(n200, 0);
	ck_assert_int_gt(n502, 0);
	fprintf(stderr, "# answer heads, %zu-byte bodies: %d sent, %d "
	    "answered 502, %d requests 431\n", body, n200, n502, n431);
}

START_TEST(test_answer_head_sizes)
{
	answer_head_sweep(2);
}
END_TEST

/* The same with bodies past response_buffer: streamed answers. */
START_TEST(test_answer_head_sizes_streamed)
{
	const char *const extra[] = { "WEIR_RESPONSE_BUFFER=16k", NULL };

	restart_weir(fake_port(api), extra);
	answer_head_sweep(100000);
}
END_TEST

START_TEST(test_head)
{
	static const char req[] = "HEAD /api/v2/head HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n";
	struct h_resp	 r;
	struct fake_req	*u;
	char		*out, *hend;
	size_t		 outlen;

	api_handler = h_sized;
	ck_assert_int_eq(h_raw(W.port, req, sizeof(req) - 1, 5000, &out,
	    &outlen), 0);
	ck_assert_int_eq(h_parse_response(out, outlen, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "X-Head"), "1");
	ck_assert_msg(h_resp_header(&r, "Content-Length") != NULL &&
	    strcmp(h_resp_header(&r, "Content-Length"), "1234") == 0,
	    "Content-Length %s, expected the upstream's 1234",
	    h_resp_header(&r, "Content-Length"));
	hend = strstr(out, "\r\n\r\n");
	ck_assert_ptr_nonnull(hend);
	ck_assert_msg(hend + 4 == out + outlen, "HEAD answer has %zu body "
	    "bytes", (size_t)(out + outlen - hend - 4));
	u = got(api, 0);
	ck_assert_str_eq(u->method, "HEAD");
	fake_req_free(u);
	h_resp_free(&r);
	free(out);
}
END_TEST

/* Routing. */

START_TEST(test_route_default)
{
	static const char *const hdrs[] = {
		"Authorization: Basic aWQ6c2VjcmV0",
		"Content-Type: application/x-www-form-urlencoded",
		NULL,
	};
	static const char form[] = "grant_type=client_credentials";
	struct h_resp	 r;
	struct fake_req	*u;

	ck_assert_int_eq(do_req("GET", "/api/v2/flows?pageSize=25", NULL, &r),
	    0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	u = got(api, 0);
	ck_assert_str_eq(u->target, "/api/v2/flows?pageSize=25");
	fake_req_free(u);
	ck_assert_uint_eq(fake_nreqs(login), 0);

	ck_assert_int_eq(do_body("POST", "/oauth/token", hdrs, form,
	    sizeof(form) - 1, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(login, 0);
	ck_assert_str_eq(u->method, "POST");
	ck_assert_str_eq(u->target, "/oauth/token");
	ck_assert_str_eq((char *)u->body, form);
	ck_assert_str_eq(fake_req_header(u, "Content-Type"),
	    "application/x-www-form-urlencoded");
	ck_assert_str_eq(fake_req_header(u, "Authorization"),
	    "Basic aWQ6c2VjcmV0");
	fake_req_free(u);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_route_prefixes)
{
	static const char *const env[] = {
		"WEIR_API_PREFIX=/api", "WEIR_LOGIN_PREFIX=/login", NULL,
	};
	static const char form[] = "grant_type=client_credentials";
	struct h_resp	 r;
	struct fake_req	*u;

	restart_weir(fake_port(api), env);
	ck_assert_int_eq(do_req("GET", "/api/api/v2/flows?pageSize=25&type=a,b",
	    NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	u = got(api, 0);
	ck_assert_str_eq(u->target, "/api/v2/flows?pageSize=25&type=a,b");
	fake_req_free(u);
	ck_assert_uint_eq(fake_nreqs(login), 0);

	ck_assert_int_eq(do_body("POST", "/login/oauth/token", NULL, form,
	    sizeof(form) - 1, &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	u = got(login, 0);
	ck_assert_str_eq(u->target, "/oauth/token");
	ck_assert_str_eq((char *)u->body, form);
	fake_req_free(u);
	ck_assert_uint_eq(fake_nreqs(api), 1);
}
END_TEST

START_TEST(test_absolute_form)
{
	static const char req[] = "GET http://other.host/x HTTP/1.1\r\n"
	    "Host: other.host\r\nConnection: close\r\n\r\n";
	struct h_resp	 r;
	char		*out;
	size_t		 outlen;

	ck_assert_int_eq(h_raw(W.port, req, sizeof(req) - 1, 5000, &out,
	    &outlen), 0);
	ck_assert_msg(h_parse_response(out, outlen, &r) == 0,
	    "no HTTP answer: [%s]", out);
	assert_weir_error(&r, 400);
	ck_assert_uint_eq(fake_nreqs(api), 0);
	ck_assert_uint_eq(fake_nreqs(login), 0);
	h_resp_free(&r);
	free(out);
}
END_TEST

START_TEST(test_connect_refused)
{
	static const char req[] = "CONNECT other.host:443 HTTP/1.1\r\n"
	    "Host: other.host:443\r\nConnection: close\r\n\r\n";
	struct h_resp	 r;
	char		*out;
	size_t		 outlen;

	ck_assert_int_eq(h_raw(W.port, req, sizeof(req) - 1, 5000, &out,
	    &outlen), 0);
	ck_assert_msg(h_parse_response(out, outlen, &r) == 0,
	    "no HTTP answer: [%s]", out);
	ck_assert_msg(r.status >= 400 && r.status < 500, "status %d",
	    r.status);
	ck_assert_uint_eq(fake_nreqs(api), 0);
	ck_assert_uint_eq(fake_nreqs(login), 0);
	h_resp_free(&r);
	free(out);
}
END_TEST

/* Added headers and request ids. */

START_TEST(test_add_header)
{
	static const char *const env[] = {
		"WEIR_ADD_HEADER=X-Genesys-Client: my-app", NULL,
	};
	struct h_resp	 r;
	struct fake_req	*u;

	restart_weir(fake_port(api), env);
	ck_assert_int_eq(do_req("GET", "/api/v2/add", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	ck_assert_str_eq(fake_req_header(u, "X-Genesys-Client"), "my-app");
	ck_assert_uint_eq(fake_req_header_count(u, "X-Genesys-Client"), 1);
	fake_req_free(u);
	h_resp_free(&r);

	/* Also on the login upstream. */
	ck_assert_int_eq(do_body("POST", "/oauth/token", NULL, "x", 1, &r), 0);
	u = got(login, 0);
	ck_assert_str_eq(fake_req_header(u, "X-Genesys-Client"), "my-app");
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

/* A client's id, of any length weir takes (1 to 128), goes upstream and
 * back as it came; a longer one is replaced. */
START_TEST(test_reqid_from_client)
{
	static const size_t	 lens[] = { 10, 39, 40, 41, 128, 129 };
	char			 id[160], line[200];
	const char		*hdrs[] = { line, NULL };
	struct h_resp		 r;
	struct fake_req		*u;
	size_t			 i, k;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (k = 0; k < lens[i]; k++)
			id[k] = "my-req-0123456789"[k % 17];
		id[lens[i]] = '\0';
		snprintf(line, sizeof(line), "X-Request-Id: %s", id);
		ck_assert_int_eq(do_req("GET", "/api/v2/rid", hdrs, &r), 0);
		ck_assert_int_eq(r.status, 200);
		u = got(api, i);
		ck_assert_uint_eq(fake_req_header_count(u, "X-Request-Id"), 1);
		if (lens[i] <= 128) {
			ck_assert_str_eq(h_resp_header(&r, "X-Request-Id"), id);
			ck_assert_str_eq(fake_req_header(u, "X-Request-Id"),
			    id);
		} else
			ck_assert(h_is_uuid4(fake_req_header(u,
			    "X-Request-Id")));
		fake_req_free(u);
		h_resp_free(&r);
	}
}
END_TEST

START_TEST(test_reqid_generated)
{
	struct h_resp	 r;
	struct fake_req	*u;
	const char	*up, *back;
	char		 first[64];

	ck_assert_int_eq(do_req("GET", "/api/v2/rid", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	up = fake_req_header(u, "X-Request-Id");
	ck_assert_ptr_nonnull(up);
	ck_assert_msg(h_is_uuid4(up), "not a UUIDv4: %s", up);
	back = h_resp_header(&r, "X-Request-Id");
	ck_assert_ptr_nonnull(back);
	ck_assert_str_eq(back, up);
	snprintf(first, sizeof(first), "%s", up);
	fake_req_free(u);
	h_resp_free(&r);

	/* A fresh one per call. */
	ck_assert_int_eq(do_req("GET", "/api/v2/rid", NULL, &r), 0);
	u = got(api, 1);
	ck_assert_msg(h_is_uuid4(fake_req_header(u, "X-Request-Id")),
	    "not a UUIDv4");
	ck_assert_str_eq(h_resp_header(&r, "X-Request-Id"),
	    fake_req_header(u, "X-Request-Id"));
	ck_assert_str_ne(fake_req_header(u, "X-Request-Id"), first);
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_reqid_renamed)
{
	static const char *const env[] = {
		"WEIR_REQUEST_ID_HEADER=X-Correlation-Id", NULL,
	};
	static const char *const hdrs[] = { "X-Correlation-Id: corr-7", NULL };
	struct h_resp	 r;
	struct fake_req	*u;
	const char	*id;

	restart_weir(fake_port(api), env);
	ck_assert_int_eq(do_req("GET", "/api/v2/rid", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	u = got(api, 0);
	id = fake_req_header(u, "X-Correlation-Id");
	ck_assert_msg(id != NULL && h_is_uuid4(id), "X-Correlation-Id %s",
	    id ? id : "(none)");
	ck_assert_ptr_null(fake_req_header(u, "X-Request-Id"));
	ck_assert_str_eq(h_resp_header(&r, "X-Correlation-Id"), id);
	fake_req_free(u);
	h_resp_free(&r);

	ck_assert_int_eq(do_req("GET", "/api/v2/rid", hdrs, &r), 0);
	u = got(api, 1);
	ck_assert_str_eq(fake_req_header(u, "X-Correlation-Id"), "corr-7");
	ck_assert_str_eq(h_resp_header(&r, "X-Correlation-Id"), "corr-7");
	fake_req_free(u);
	h_resp_free(&r);
}
END_TEST

/*
 * Upstream failures (refused, silent, truncated, garbage, closed) are
 * check_upstream_fail.c's subject; this file only forwards.
 */

/* The access log. */

/* The access line of weir's log that carries request id id, or NULL. */
static char *
access_line(const char *log, const char *id)
{
	char		 needle[256];
	const char	*p, *start, *end;

	snprintf(needle, sizeof(needle), "\"request_id\":\"%s\"", id);
	if ((p = strstr(log, needle)) == NULL)
		return NULL;
	for (start = p; start > log && start[-1] != '\n'; start--)
		;
	if ((end = strchr(p, '\n')) == NULL)
		end = p + strlen(p);
	return fake_strndup(start, (size_t)(end - start));
}

START_TEST(test_access_log)
{
	static const char *const hdrs[] = {
		"Authorization: Bearer sekrit-token-XYZ-42",
		"X-Request-Id: log-req-1",
		NULL,
	};
	static const char *const basic[] = {
		"Authorization: Basic c2VrcmV0LWlkOnNla3JldC1wdw==",
		"X-Request-Id: log-req-2",
		NULL,
	};
	struct h_resp	 r;
	struct fake_req	*u;
	char		*log, *line, v[256];
	size_t		 len;

	ck_assert_int_eq(do_req("GET", "/api/v2/flows?pageSize=25", hdrs, &r),
	    0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	u = got(api, 0);
	ck_assert_str_eq(fake_req_header(u, "Authorization"),
	    "Bearer sekrit-token-XYZ-42");
	fake_req_free(u);
	ck_assert_int_eq(do_body("POST", "/oauth/token", basic,
	    "grant_type=client_credentials", 29, &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);

	ck_assert_msg(h_wait_stderr(&W, "\"request_id\":\"log-req-2\"", 3000)
	    == 0, "no access line for log-req-2");
	ck_assert_msg(h_wait_stderr(&W, "\"request_id\":\"log-req-1\"", 3000)
	    == 0, "no access line for log-req-1");
	log = h_stderr_contents(&W);
	line = access_line(log, "log-req-1");
	ck_assert_ptr_nonnull(line);
	len = strlen(line);
	ck_assert_int_eq(h_json_get(line, len, "method", v, sizeof(v)), 3);
	ck_assert_str_eq(v, "GET");
	ck_assert_int_eq(h_json_get(line, len, "path", v, sizeof(v)), 3);
	ck_assert_msg(strncmp(v, "/api/v2/flows", 13) == 0, "path %s", v);
	ck_assert_int_eq(h_json_get(line, len, "status", v, sizeof(v)), 4);
	ck_assert_str_eq(v, "200");
	ck_assert_int_eq(h_json_get(line, len, "upstream_status", v,
	    sizeof(v)), 4);
	ck_assert_str_eq(v, "200");
	free(line);

	ck_assert_msg(strstr(log, "sekrit-token-XYZ-42") == NULL,
	    "the bearer token is in the log");
	ck_assert_msg(strstr(log, "c2VrcmV0LWlkOnNla3JldC1wdw==") == NULL,
	    "the Basic credentials are in the log");
	ck_assert_msg(strstr(log, "sekret-pw") == NULL,
	    "the client secret is in the log");
	free(log);
}
END_TEST

START_TEST(test_access_log_error)
{
	struct h_resp	 r;
	char		*log, *line, v[256];
	const char	*id;
	size_t		 len;

	restart_weir(h_closed_port(), NULL);
	ck_assert_int_eq(do_req("GET", "/api/v2/down", NULL, &r), 0);
	ck_assert_int_eq(r.status, 502);
	id = h_resp_header(&r, "X-Request-Id");
	ck_assert_ptr_nonnull(id);
	snprintf(v, sizeof(v), "\"request_id\":\"%s\"", id);
	ck_assert_msg(h_wait_stderr(&W, v, 3000) == 0, "no access line");
	log = h_stderr_contents(&W);
	line = access_line(log, id);
	ck_assert_ptr_nonnull(line);
	len = strlen(line);
	ck_assert_int_eq(h_json_get(line, len, "status", v, sizeof(v)), 4);
	ck_assert_str_eq(v, "502");
	ck_assert_int_eq(h_json_get(line, len, "upstream_status", v,
	    sizeof(v)), 4);
	ck_assert_str_eq(v, "0");
	free(line);
	free(log);
	h_resp_free(&r);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("forward");
	TCase	*tc;

#define TC(name) do {						\
	tc = tcase_create(name);				\
	tcase_add_checked_fixture(tc, setup, teardown);		\
	tcase_set_timeout(tc, 20);				\
	suite_add_tcase(s, tc);					\
} while (0)
#define N(a)	((int)(sizeof(a) / sizeof((a)[0])))

	TC("methods");
	tcase_add_loop_test(tc, test_method, 0, N(methods));

	TC("targets");
	tcase_add_loop_test(tc, test_target_bytes, 0, N(targets));

	TC("request_headers");
	tcase_add_test(tc, test_headers_end_to_end);
	tcase_add_test(tc, test_hop_by_hop_removed);
	tcase_add_test(tc, test_connection_close_names);
	tcase_add_test(tc, test_host_is_upstream);
	tcase_add_test(tc, test_weir_headers_dropped);
	tcase_add_loop_test(tc, test_no_added_headers, 0, N(bare));

	TC("request_bodies");
	tcase_add_test(tc, test_body_binary);
	tcase_add_test(tc, test_body_chunked);
	tcase_add_test(tc, test_expect_100);
	tcase_add_test(tc, test_empty_post);
	tcase_add_test(tc, test_body_too_large);

	TC("responses");
	tcase_add_loop_test(tc, test_status, 0, N(statuses));
	tcase_add_test(tc, test_response_headers);
	tcase_add_test(tc, test_upstream_weir_headers_replaced);
	tcase_add_test(tc, test_response_hop_by_hop);
	tcase_add_test(tc, test_response_binary);
	tcase_add_test(tc, test_gzip_passthrough);
	tcase_add_test(tc, test_gzip_not_requested);
	tcase_add_test(tc, test_head);
	tcase_add_test(tc, test_answer_head_sizes);
	tcase_add_test(tc, test_answer_head_sizes_streamed);

	TC("routing");
	tcase_add_test(tc, test_route_default);
	tcase_add_test(tc, test_route_prefixes);
	tcase_add_test(tc, test_absolute_form);
	tcase_add_test(tc, test_connect_refused);

	TC("ids");
	tcase_add_test(tc, test_add_header);
	tcase_add_test(tc, test_reqid_from_client);
	tcase_add_test(tc, test_reqid_generated);
	tcase_add_test(tc, test_reqid_renamed);

	TC("access_log");
	tcase_add_test(tc, test_access_log);
	tcase_add_test(tc, test_access_log_error);
#undef TC
#undef N
	return s;
}

int
main(void)
{
	return tap_run(suite());
}
