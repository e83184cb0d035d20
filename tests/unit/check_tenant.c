/*
 * check_tenant.c - which tenant a call belongs to, and the issued-token
 * map.  No sockets; the clock is a number.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "config.h"
#include "tenant.h"
#include "tap.h"
#include "xmalloc.h"

static struct config *cfg;
static struct token_map *map;

static void
setup(void)
{
	cfg = config_new();
	map = token_map_new(64);
}

static void
teardown(void)
{
	token_map_free(map);
	config_free(cfg);
}

static struct call *
req(const char *method, const char *path, const char *auth)
{
	struct call	*c = call_new(method, path);

	c->path = c->path_buf = xstrdup(path);
	c->up = strncmp(path, "/oauth", 6) == 0 ? UP_LOGIN : UP_API;
	if (auth != NULL)
		hdrs_add(&c->in_hdrs, "Authorization", auth);
	return c;
}

static const char *
tenant_of(struct call *c, uint64_t now)
{
	ck_assert_int_eq(tenant_identify(cfg, map, c, now), WERR_NONE);
	return c->tenant;
}

START_TEST(header_names_the_tenant)
{
	struct call	*c = req("GET", "/api/v2/flows", "Bearer abc");

	hdrs_add(&c->in_hdrs, "X-Weir-Tenant", "org-42");
	ck_assert_str_eq(tenant_of(c, 0), "org-42");
	hdrs_set(&c->in_hdrs, "X-Weir-Tenant", "bad name!");
	ck_assert_int_eq(tenant_identify(cfg, map, c, 0), WERR_BAD_TENANT);
	call_free(c);
}
END_TEST

START_TEST(basic_auth_is_keyed_by_client_id)
{
	/* base64("my-client:s3cret") */
	struct call	*c = req("POST", "/oauth/token",
	    "Basic bXktY2xpZW50OnMzY3JldA==");

	ck_assert_str_eq(tenant_of(c, 0), "my-client");
	call_free(c);
}
END_TEST

START_TEST(client_secret_post_is_keyed_by_client_id)
{
	struct call	*c = req("POST", "/oauth/token", NULL);
	static const char body[] =
	    "grant_type=client_credentials&client_id=form-client&"
	    "client_secret=xyz";

	buf_append(&c->body, body, strlen(body));
	ck_assert_str_eq(tenant_of(c, 0), "form-client");
	call_free(c);
}
END_TEST

START_TEST(nul_bytes_never_make_a_name)
{
	/* found by fuzz_route: a NUL passed the name check and cut it */
	struct call	*c = req("POST", "/oauth/token", NULL);
	static const char body[] = "client_id=ab\0cd";

	buf_append(&c->body, body, sizeof(body) - 1);
	ck_assert_str_eq(tenant_of(c, 0), "anonymous");
	ck_assert(!tenant_name_valid("a\0b", 3));
	ck_assert(!tenant_name_valid("", 0));
	call_free(c);
}
END_TEST

START_TEST(unknown_bearer_is_a_hash_not_the_token)
{
	struct call	*a = req("GET", "/api/v2/flows", "Bearer tok-secret-1");
	struct call	*b = req("GET", "/api/v2/flows", "Bearer tok-secret-1");
	struct call	*d = req("GET", "/api/v2/flows", "Bearer tok-secret-2");

	ck_assert_str_eq(tenant_of(a, 0), tenant_of(b, 0));
	ck_assert_str_ne(tenant_of(a, 0), tenant_of(d, 0));
	ck_assert_int_eq(strncmp(a->tenant, "tok:", 4), 0);
	ck_assert_uint_eq(strlen(a->tenant), 16);
	ck_assert_ptr_null(strstr(a->tenant, "secret"));
	call_free(a);
	call_free(b);
	call_free(d);
}
END_TEST

START_TEST(issued_tokens_map_to_their_client)
{
	static const char answer[] = "{\"access_token\":\"issued-T1\","
	    "\"token_type\":\"bearer\",\"expires_in\":60}";
	struct call	*login, *c;

	login = req("POST", "/oauth/token", "Basic bXktY2xpZW50OnMzY3JldA==");
	ck_assert_str_eq(tenant_of(login, 0), "my-client");
	login->status = 200;
	buf_append(&login->resp_body, answer, strlen(answer));
	tenant_learn(map, login, 1000, NULL, NULL);
	call_free(login);

	c = req("GET", "/api/v2/flows", "Bearer issued-T1");
	ck_assert_str_eq(tenant_of(c, 2000), "my-client");
	/* expired after expires_in */
	ck_assert_int_eq(strncmp(tenant_of(c, 1000 + 61000), "tok:", 4), 0);
	call_free(c);
}
END_TEST

START_TEST(failed_logins_teach_nothing)
{
	static const char answer[] = "{\"access_token\":\"issued-T2\"}";
	struct call	*login, *c;

	login = req("POST", "/oauth/token", "Basic bXktY2xpZW50OnMzY3JldA==");
	tenant_of(login, 0);
	login->status = 401;
	buf_append(&login->resp_body, answer, strlen(answer));
	tenant_learn(map, login, 0, NULL, NULL);
	call_free(login);
	c = req("GET", "/api/v2/flows", "Bearer issued-T2");
	ck_assert_int_eq(strncmp(tenant_of(c, 1), "tok:", 4), 0);
	call_free(c);
}
END_TEST

START_TEST(map_is_bounded)
{
	char		 body[128], auth[64];
	struct call	*login;
	int		 i;

	/* far more tokens than slots: nothing grows, lookups still work
	 * for recent ones */
	for (i = 0; i < 5000; i++) {
		login = req("POST", "/oauth/token",
		    "Basic bXktY2xpZW50OnMzY3JldA==");
		tenant_of(login, 0);
		login->status = 200;
		snprintf(body, sizeof(body), "{\"access_token\":\"t%d\"}", i);
		buf_append(&login->resp_body, body, strlen(body));
		tenant_learn(map, login, (uint64_t)i, NULL, NULL);
		call_free(login);
	}
	snprintf(auth, sizeof(auth), "Bearer t%d", 4999);
	login = req("GET", "/api/v2/x", auth);
	ck_assert_str_eq(tenant_of(login, 5000), "my-client");
	call_free(login);
}
END_TEST

START_TEST(header_mode)
{
	struct call	*c = req("GET", "/api/v2/flows", "Bearer abc");
	char		 err[128];

	ck_assert_int_eq(config_set(cfg, "t", "tenant_key", "header:X-Org",
	    err, sizeof(err)), 0);
	ck_assert_str_eq(tenant_of(c, 0), "default");
	hdrs_add(&c->in_hdrs, "X-Org", "acme");
	ck_assert_str_eq(tenant_of(c, 0), "acme");
	call_free(c);
}
END_TEST

START_TEST(nothing_is_anonymous)
{
	struct call	*c = req("GET", "/api/v2/flows", NULL);

	ck_assert_str_eq(tenant_of(c, 0), "anonymous");
	call_free(c);
}
END_TEST

static Suite *
tenant_suite(void)
{
	Suite	*s = suite_create("tenant");
	TCase	*tc = tcase_create("tenant");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, header_names_the_tenant);
	tcase_add_test(tc, basic_auth_is_keyed_by_client_id);
	tcase_add_test(tc, client_secret_post_is_keyed_by_client_id);
	tcase_add_test(tc, unknown_bearer_is_a_hash_not_the_token);
	tcase_add_test(tc, nul_bytes_never_make_a_name);
	tcase_add_test(tc, issued_tokens_map_to_their_client);
	tcase_add_test(tc, failed_logins_teach_nothing);
	tcase_add_test(tc, map_is_bounded);
	tcase_add_test(tc, header_mode);
	tcase_add_test(tc, nothing_is_anonymous);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(tenant_suite());
}
