/*
 * check_route.c - upstream choice, prefixes, hop-by-hop filtering,
 * add_header and request ids.  Pure: no sockets.
 */
#include <check.h>
#include <string.h>
#include <strings.h>

#include "call.h"
#include "config.h"
#include "route.h"
#include "tap.h"

static struct config *
cfg_with(const char *api_prefix, const char *login_prefix)
{
	struct config	*cfg = config_new();
	char		 err[256];

	ck_assert_ptr_nonnull(cfg);
	if (api_prefix != NULL)
		ck_assert_int_eq(config_set(cfg, "test", "api_prefix",
		    api_prefix, err, sizeof(err)), 0);
	if (login_prefix != NULL)
		ck_assert_int_eq(config_set(cfg, "test", "login_prefix",
		    login_prefix, err, sizeof(err)), 0);
	ck_assert_int_eq(config_finish(cfg, err, sizeof(err)), 0);
	return cfg;
}

/* Route method+target; returns the call (free it) and checks success. */
static struct call *
routed(const struct config *cfg, const char *method, const char *target)
{
	struct call		*c = call_new(method, target);

	ck_assert_int_eq(route_call(cfg, c), WERR_NONE);
	return c;
}

START_TEST(no_prefix_splits_by_path)
{
	struct config	*cfg = cfg_with(NULL, NULL);
	struct call	*c;

	c = routed(cfg, "POST", "/oauth/token");
	ck_assert_int_eq(c->up, UP_LOGIN);
	ck_assert_str_eq(c->path, "/oauth/token");
	call_free(c);
	c = routed(cfg, "GET", "/api/v2/flows?pageSize=25&type=a,b");
	ck_assert_int_eq(c->up, UP_API);
	ck_assert_str_eq(c->path, "/api/v2/flows?pageSize=25&type=a,b");
	call_free(c);
	c = routed(cfg, "GET", "/oauthish");
	ck_assert_int_eq(c->up, UP_API);
	call_free(c);
	config_free(cfg);
}
END_TEST

START_TEST(prefixes_are_stripped_on_segment_boundaries)
{
	struct config	*cfg = cfg_with("/api", "/login");
	struct call	*c;

	c = routed(cfg, "GET", "/api/api/v2/flows?x=%2F");
	ck_assert_int_eq(c->up, UP_API);
	ck_assert_str_eq(c->path, "/api/v2/flows?x=%2F");
	call_free(c);
	c = routed(cfg, "POST", "/login/oauth/token");
	ck_assert_int_eq(c->up, UP_LOGIN);
	ck_assert_str_eq(c->path, "/oauth/token");
	call_free(c);
	/* "/apix" is not under "/api": routed by its path, untouched. */
	c = routed(cfg, "GET", "/apix/v2");
	ck_assert_int_eq(c->up, UP_API);
	ck_assert_str_eq(c->path, "/apix/v2");
	call_free(c);
	/* The bare prefix maps to the upstream's root. */
	c = routed(cfg, "GET", "/api?q=1");
	ck_assert_str_eq(c->path, "/?q=1");
	call_free(c);
	/* Unprefixed login path still reaches login. */
	c = routed(cfg, "POST", "/oauth/token");
	ck_assert_int_eq(c->up, UP_LOGIN);
	call_free(c);
	config_free(cfg);
}
END_TEST

START_TEST(not_an_open_proxy)
{
	static const char *const bad[] = {
		"http://other.host/x", "https://api.mypurecloud.com/api/v2",
		"other.host:443", "*", "", NULL
	};
	struct config		*cfg = cfg_with(NULL, NULL);
	struct call		*c;
	int			 i;

	for (i = 0; bad[i] != NULL; i++) {
		c = call_new("GET", bad[i]);
		ck_assert_int_eq(route_call(cfg, c), WERR_NOT_ROUTABLE);
		ck_assert_int_eq(error_status(WERR_NOT_ROUTABLE), 400);
		ck_assert_str_eq(error_code(WERR_NOT_ROUTABLE),
		    "weir.not_routable");
		call_free(c);
	}
	c = call_new("CONNECT", "/x");
	ck_assert_int_eq(route_call(cfg, c), WERR_METHOD_NOT_ALLOWED);
	ck_assert_int_eq(error_status(WERR_METHOD_NOT_ALLOWED), 405);
	call_free(c);
	config_free(cfg);
}
END_TEST

START_TEST(hop_by_hop_removed)
{
	struct config	*cfg = cfg_with(NULL, NULL);
	struct call	*c = call_new("GET", "/api/v2/flows");
	struct hdrs	 sent = { 0 };
	size_t		 i;

	hdrs_add(&c->in_hdrs, "Host", "127.0.0.1:8080");
	hdrs_add(&c->in_hdrs, "Connection", "keep-alive, X-Drop-Me");
	hdrs_add(&c->in_hdrs, "Connection", "X-Drop-Too");
	hdrs_add(&c->in_hdrs, "Keep-Alive", "timeout=5");
	hdrs_add(&c->in_hdrs, "TE", "trailers");
	hdrs_add(&c->in_hdrs, "Upgrade", "h2c");
	hdrs_add(&c->in_hdrs, "Proxy-Authorization", "Basic Zm9vOmJhcg==");
	hdrs_add(&c->in_hdrs, "Proxy-Connection", "keep-alive");
	hdrs_add(&c->in_hdrs, "Transfer-Encoding", "chunked");
	hdrs_add(&c->in_hdrs, "Content-Length", "12");
	hdrs_add(&c->in_hdrs, "Expect", "100-continue");
	hdrs_add(&c->in_hdrs, "X-Drop-Me", "1");
	hdrs_add(&c->in_hdrs, "x-drop-too", "1");
	hdrs_add(&c->in_hdrs, "X-Weir-Tenant", "acme");
	hdrs_add(&c->in_hdrs, "X-Weir-Max-Wait", "30");
	hdrs_add(&c->in_hdrs, "Authorization", "Bearer abc");
	hdrs_add(&c->in_hdrs, "Accept-Encoding", "gzip, compress, deflate, br");
	hdrs_add(&c->in_hdrs, "X-Keep", "1");
	hdrs_add(&c->in_hdrs, "X-Keep", "2");
	ck_assert_int_eq(route_call(cfg, c), WERR_NONE);

	/* Forwarded, in order: Authorization, Accept-Encoding, X-Keep x2,
	 * then the request id. */
	route_upstream_headers(cfg, c, &sent);
	ck_assert_uint_eq(sent.n, 5);
	ck_assert_str_eq(sent.v[0].name, "Authorization");
	ck_assert_str_eq(sent.v[1].name, "Accept-Encoding");
	ck_assert_str_eq(sent.v[2].value, "1");
	ck_assert_str_eq(sent.v[3].value, "2");
	ck_assert_str_eq(sent.v[4].name, "X-Request-Id");
	for (i = 0; i < sent.n; i++)
		ck_assert(strncasecmp(sent.v[i].name, "X-Weir", 6) != 0);
	hdrs_free(&sent);
	call_free(c);
	config_free(cfg);
}
END_TEST

START_TEST(add_header_and_request_id)
{
	struct config	*cfg = config_new();
	struct call	*c;
	struct hdrs	 sent = { 0 };
	char		 e[256];

	ck_assert_int_eq(config_set(cfg, "t", "add_header",
	    "X-Genesys-Client: my-app", e, sizeof(e)), 0);
	ck_assert_int_eq(config_set(cfg, "t", "request_id_header",
	    "X-Correlation-Id", e, sizeof(e)), 0);
	ck_assert_int_eq(config_finish(cfg, e, sizeof(e)), 0);

	c = call_new("GET", "/api/v2/flows");
	hdrs_add(&c->in_hdrs, "X-Genesys-Client", "spoofed");
	hdrs_add(&c->in_hdrs, "x-correlation-id", "caller-id-1");
	ck_assert_int_eq(route_call(cfg, c), WERR_NONE);
	/* add_header replaces the caller's field when the call is sent */
	route_upstream_headers(cfg, c, &sent);
	ck_assert_str_eq(hdrs_get(&sent, "X-Genesys-Client"), "my-app");
	ck_assert_uint_eq(sent.n, 2);
	ck_assert_str_eq(c->reqid, "caller-id-1");
	ck_assert(c->reqid_from_client);
	ck_assert_str_eq(hdrs_get(&sent, "X-Correlation-Id"), "caller-id-1");
	hdrs_free(&sent);
	call_free(c);

	/* An unusable caller id is replaced by a fresh UUID. */
	c = call_new("GET", "/api/v2/flows");
	hdrs_add(&c->in_hdrs, "X-Correlation-Id", "bad id with spaces");
	ck_assert_int_eq(route_call(cfg, c), WERR_NONE);
	ck_assert_uint_eq(strlen(c->reqid), 36);
	ck_assert(!c->reqid_from_client);
	route_upstream_headers(cfg, c, &sent);
	ck_assert_str_eq(hdrs_get(&sent, "X-Correlation-Id"), c->reqid);
	hdrs_free(&sent);
	call_free(c);
	config_free(cfg);
}
END_TEST

START_TEST(response_headers_filtered)
{
	struct hdrs	 in = { 0 }, out = { 0 };

	hdrs_add(&in, "Content-Type", "application/json");
	hdrs_add(&in, "Content-Length", "10");
	hdrs_add(&in, "Transfer-Encoding", "chunked");
	hdrs_add(&in, "Connection", "keep-alive, X-Hop");
	hdrs_add(&in, "Keep-Alive", "timeout=5");
	hdrs_add(&in, "X-Hop", "1");
	hdrs_add(&in, "Set-Cookie", "a=1");
	hdrs_add(&in, "Set-Cookie", "b=2");
	hdrs_add(&in, "Content-Encoding", "gzip");
	hdrs_add(&in, "ININ-Correlation-Id", "abc");
	/* weir's to say, not the upstream's */
	hdrs_add(&in, "X-Weir-Tenant", "evil");
	hdrs_add(&in, "x-weir-attempts", "99");
	route_response_headers(&in, &out);
	ck_assert_uint_eq(out.n, 5);
	ck_assert_str_eq(out.v[0].name, "Content-Type");
	ck_assert_str_eq(out.v[1].value, "a=1");
	ck_assert_str_eq(out.v[2].value, "b=2");
	ck_assert_str_eq(out.v[3].name, "Content-Encoding");
	ck_assert_str_eq(out.v[4].name, "ININ-Correlation-Id");
	hdrs_free(&in);
	hdrs_free(&out);
}
END_TEST

static Suite *
route_suite(void)
{
	Suite	*s = suite_create("route");
	TCase	*tc = tcase_create("route");

	tcase_add_test(tc, no_prefix_splits_by_path);
	tcase_add_test(tc, prefixes_are_stripped_on_segment_boundaries);
	tcase_add_test(tc, not_an_open_proxy);
	tcase_add_test(tc, hop_by_hop_removed);
	tcase_add_test(tc, add_header_and_request_id);
	tcase_add_test(tc, response_headers_filtered);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(route_suite());
}
