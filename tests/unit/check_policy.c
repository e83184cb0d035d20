/*
 * check_policy.c - classification of upstream outcomes.  Fake clock.
 */
#include <check.h>
#include <string.h>

#include "call.h"
#include "config.h"
#include "policy.h"
#include "tap.h"

START_TEST(transfer_failures_become_json_errors)
{
	static const struct {
		enum xfer_err	 e;
		int		 status;
		const char	*code;
	} cases[] = {
		{ XFER_CONNECT, 502, "weir.upstream_unreachable" },
		{ XFER_TIMEOUT, 504, "weir.upstream_timeout" },
		{ XFER_TLS, 502, "weir.upstream_tls" },
		{ XFER_BAD_RESPONSE, 502, "weir.upstream_bad_response" },
		{ XFER_SEND, 502, "weir.upstream_send_failed" },
		{ XFER_OTHER, 502, "weir.upstream_error" },
	};
	struct config		*cfg = config_new();
	struct policy_decision	 d;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct call *c = call_new("POST", "/api/v2/x");

		c->xfer_error = cases[i].e;
		c->status = 200;	/* a partial answer is no answer */
		policy_classify(cfg, c, 1000, &d);
		ck_assert_int_eq(d.verdict, POLICY_ANSWER);
		ck_assert_int_eq(c->err_status, cases[i].status);
		ck_assert_str_eq(c->err_code, cases[i].code);
		ck_assert_ptr_nonnull(c->err_message);
		call_free(c);
	}
	config_free(cfg);
}
END_TEST

START_TEST(upstream_answers_pass_through)
{
	static const int	 statuses[] = { 200, 201, 204, 304, 400, 404,
				    500 };
	struct config		*cfg = config_new();
	struct policy_decision	 d;
	size_t			 i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct call *c = call_new("POST", "/api/v2/x");

		c->status = statuses[i];
		policy_classify(cfg, c, 1000, &d);
		ck_assert_int_eq(d.verdict, POLICY_ANSWER);
		ck_assert_int_eq(c->err_status, 0);
		call_free(c);
	}
	config_free(cfg);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite	*s = suite_create("policy");
	TCase	*tc = tcase_create("policy");

	tcase_add_test(tc, transfer_failures_become_json_errors);
	tcase_add_test(tc, upstream_answers_pass_through);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(policy_suite());
}
