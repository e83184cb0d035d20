/*
 * check_policy.c - classification of upstream outcomes and the parsers
 * behind it.  Fake clock: now_ms and wall_ms are chosen by each test.
 */
#include <check.h>
#include <string.h>

#include "call.h"
#include "config.h"
#include "policy.h"
#include "tap.h"

/* 2026-11-27T12:00:00Z, for HTTP-dates. */
#define WALL	1795780800000LL

static const char genesys_429[] =
    "{\"message\":\"Rate limit exceeded the maximum. Retry the request in "
    "[42] seconds\",\"code\":\"too.many.requests.retry.after\",\"status\":"
    "429,\"contextId\":\"7f0e\",\"details\":[],\"errors\":[],\"limit\":"
    "{\"key\":\"client.credentials.token.rate.per.minute\",\"namespace\":"
    "\"platform.api\",\"value\":300}}";

static struct config *cfg;

static void
setup(void)
{
	cfg = config_new();
}

static void
teardown(void)
{
	config_free(cfg);
}

static struct call *
answered(const char *method, int status, uint64_t deadline)
{
	struct call	*c = call_new(method, "/api/v2/flows");

	call_set_reqid(c, "test-id");
	c->status = status;
	c->attempts = 1;
	c->deadline_ms = deadline;
	return c;
}

START_TEST(retry_after_delta_seconds)
{
	uint64_t	 w;

	ck_assert_int_eq(policy_retry_after("42", WALL, &w), 0);
	ck_assert_uint_eq(w, 42000);
	ck_assert_int_eq(policy_retry_after(" 0 ", WALL, &w), 0);
	ck_assert_uint_eq(w, 0);
	ck_assert_int_eq(policy_retry_after("1.5", WALL, &w), 0);
	ck_assert_uint_eq(w, 2000);
	/* absurd values are clamped to a day */
	ck_assert_int_eq(policy_retry_after("99999999999", WALL, &w), 0);
	ck_assert_uint_eq(w, 24ULL * 3600 * 1000);
}
END_TEST

START_TEST(retry_after_http_dates)
{
	uint64_t	 w;

	ck_assert_int_eq(policy_retry_after("Fri, 27 Nov 2026 12:00:30 GMT",
	    WALL, &w), 0);
	ck_assert_uint_eq(w, 30000);
	ck_assert_int_eq(policy_retry_after("Friday, 27-Nov-26 12:01:00 GMT",
	    WALL, &w), 0);
	ck_assert_uint_eq(w, 60000);
	ck_assert_int_eq(policy_retry_after("Fri Nov 27 12:00:05 2026",
	    WALL, &w), 0);
	ck_assert_uint_eq(w, 5000);
	/* in the past: no wait */
	ck_assert_int_eq(policy_retry_after("Fri, 27 Nov 2026 11:00:00 GMT",
	    WALL, &w), 0);
	ck_assert_uint_eq(w, 0);
}
END_TEST

START_TEST(retry_after_garbage_ignored)
{
	static const char *const bad[] = {
		"", "soon", "-5", "5s", "0x10", "Fri, 32 Nov 2026 12:00:00 GMT",
		"Fri, 27 Nov 2026 12:00:30 GMT junk", "1 2", NULL
	};
	uint64_t	 w = 777;
	int		 i;

	for (i = 0; bad[i] != NULL; i++) {
		ck_assert_msg(policy_retry_after(bad[i], WALL, &w) == -1,
		    "accepted '%s'", bad[i]);
		ck_assert_uint_eq(w, 777);
	}
	ck_assert_int_eq(policy_retry_after(NULL, WALL, &w), -1);
}
END_TEST

START_TEST(reset_delta_or_epoch)
{
	uint64_t	 w;

	ck_assert_int_eq(policy_reset("17", WALL, &w), 0);
	ck_assert_uint_eq(w, 17000);
	ck_assert_int_eq(policy_reset("1795780825", WALL, &w), 0);
	ck_assert_uint_eq(w, 25000);
	ck_assert_int_eq(policy_reset("1795780000", WALL, &w), 0);
	ck_assert_uint_eq(w, 0);
	ck_assert_int_eq(policy_reset("later", WALL, &w), -1);
}
END_TEST

START_TEST(body_hints)
{
	uint64_t	 w, lim;

	ck_assert_int_eq(policy_body_wait(genesys_429, strlen(genesys_429),
	    &w), 0);
	ck_assert_uint_eq(w, 42000);
	ck_assert_int_eq(policy_body_limit(genesys_429, strlen(genesys_429),
	    &lim), 0);
	ck_assert_uint_eq(lim, 300);
	ck_assert_int_eq(policy_body_wait("Retry the request in [] seconds",
	    31, &w), -1);
	ck_assert_int_eq(policy_body_wait("Retry the request in [4", 23, &w),
	    -1);
	ck_assert_int_eq(policy_body_limit("{\"limit\":{}}", 12, &lim), -1);
	/* an empty 429 body (found by fuzz_retry_after under UBSan) */
	ck_assert_int_eq(policy_body_wait(NULL, 0, &w), -1);
	ck_assert_int_eq(policy_body_limit(NULL, 0, &lim), -1);
	ck_assert_int_eq(policy_body_limit("not json", 8, &lim), -1);
	ck_assert_int_eq(policy_body_limit("{\"limit\":{\"value\":\"x\"}}", 23,
	    &lim), -1);
}
END_TEST

START_TEST(backoff_bounds)
{
	uint32_t	 seed;
	unsigned	 n;
	uint64_t	 w, full;

	for (n = 1; n <= 12; n++) {
		full = 1000ULL << (n - 1);
		if (full > 60000)
			full = 60000;
		for (seed = 0; seed < 5000; seed += 7) {
			w = policy_backoff(n, 1000, 60000, seed * 2654435761u);
			ck_assert_uint_ge(w, full / 2);
			ck_assert_uint_le(w, full);
		}
	}
}
END_TEST

START_TEST(a_429_waits_as_retry_after_says)
{
	struct policy_decision	 d;
	struct call		*c = answered("POST", 429, 100000);

	hdrs_add(&c->resp_hdrs, "Retry-After", "3");
	buf_append(&c->resp_body, genesys_429, strlen(genesys_429));
	policy_classify(cfg, c, 1000, WALL, &d);
	/* Retry-After beats the body's 42 s; POST is retried on 429. */
	ck_assert_int_eq(d.verdict, POLICY_RETRY);
	ck_assert_uint_eq(d.wait_ms, 3000);
	ck_assert(d.pause_tenant);
	ck_assert_uint_eq(d.limit_per_min, 300);
	ck_assert_int_eq(d.err, WERR_NONE);
	call_free(c);
}
END_TEST

START_TEST(a_429_falls_back_to_reset_then_body_then_backoff)
{
	struct policy_decision	 d;
	struct call		*c;

	c = answered("GET", 429, 1000000);
	hdrs_add(&c->resp_hdrs, "Retry-After", "garbage");
	hdrs_add(&c->resp_hdrs, "X-RateLimit-Reset", "7");
	buf_append(&c->resp_body, genesys_429, strlen(genesys_429));
	policy_classify(cfg, c, 0, WALL, &d);
	ck_assert_uint_eq(d.wait_ms, 7000);
	call_free(c);

	c = answered("GET", 429, 1000000);
	buf_append(&c->resp_body, genesys_429, strlen(genesys_429));
	policy_classify(cfg, c, 0, WALL, &d);
	ck_assert_uint_eq(d.wait_ms, 42000);
	call_free(c);

	c = answered("GET", 429, 1000000);
	policy_classify(cfg, c, 0, WALL, &d);
	ck_assert_int_eq(d.verdict, POLICY_RETRY);
	ck_assert_uint_ge(d.wait_ms, 500);
	ck_assert_uint_le(d.wait_ms, 1000);
	ck_assert_uint_eq(d.limit_per_min, 0);
	call_free(c);
}
END_TEST

START_TEST(a_429_past_the_deadline_is_answered)
{
	struct policy_decision	 d;
	struct call		*c = answered("GET", 429, 10000);

	hdrs_add(&c->resp_hdrs, "Retry-After", "30");
	policy_classify(cfg, c, 5000, WALL, &d);
	ck_assert_int_eq(d.verdict, POLICY_ANSWER);
	ck_assert(d.pause_tenant);	/* the tenant still pauses */
	ck_assert_uint_eq(d.wait_hint_ms, 30000);
	ck_assert_int_eq(d.retry_after_s, 30);
	ck_assert_int_eq(d.err, WERR_NONE);	/* the upstream's 429 */
	call_free(c);
}
END_TEST

START_TEST(transient_5xx_retried_for_idempotent_only)
{
	static const char *const methods[] = {
		"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST", "PATCH"
	};
	struct policy_decision	 d;
	int			 i, status;

	for (status = 502; status <= 504; status++)
		for (i = 0; i < 7; i++) {
			struct call *c = answered(methods[i], status, 100000);

			policy_classify(cfg, c, 0, WALL, &d);
			ck_assert_int_eq(d.verdict, i < 5 ? POLICY_RETRY :
			    POLICY_ANSWER);
			ck_assert(!d.pause_tenant);
			ck_assert_int_eq(d.err, WERR_NONE);
			call_free(c);
		}
}
END_TEST

START_TEST(idempotency_key_makes_post_retryable)
{
	struct policy_decision	 d;
	struct call		*c = answered("POST", 503, 100000);

	hdrs_add(&c->in_hdrs, "Idempotency-Key", "k1");
	hdrs_add(&c->resp_hdrs, "Retry-After", "2");
	policy_classify(cfg, c, 0, WALL, &d);
	ck_assert_int_eq(d.verdict, POLICY_RETRY);
	ck_assert_uint_eq(d.wait_ms, 2000);
	call_free(c);
}
END_TEST

START_TEST(retries_stop_at_max_retries)
{
	struct policy_decision	 d;
	struct call		*c = answered("GET", 503, 10000000);
	unsigned		 n = 0;

	for (;;) {
		policy_classify(cfg, c, 0, WALL, &d);
		if (d.verdict == POLICY_ANSWER)
			break;
		c->retries++;	/* as proxy.c applies a retry */
		n++;
		ck_assert_uint_le(d.wait_ms, 10000);
	}
	ck_assert_uint_eq(n, cfg->max_retries);
	ck_assert_int_eq(c->status, 503);
	call_free(c);
}
END_TEST

START_TEST(transfer_failures)
{
	static const struct {
		enum xfer_err	 e;
		const char	*method;
		int		 retry;
		int		 status;
		const char	*code;
	} cases[] = {
		{ XFER_CONNECT, "POST", 1, 502, "weir.upstream_unreachable" },
		{ XFER_TIMEOUT, "GET", 1, 504, "weir.upstream_timeout" },
		{ XFER_TIMEOUT, "POST", 0, 504, "weir.upstream_timeout" },
		{ XFER_BAD_RESPONSE, "PUT", 1, 502,
		    "weir.upstream_bad_response" },
		{ XFER_BAD_RESPONSE, "PATCH", 0, 502,
		    "weir.upstream_bad_response" },
		{ XFER_TLS, "GET", 0, 502, "weir.upstream_tls" },
		{ XFER_SEND, "POST", 0, 502, "weir.upstream_send_failed" },
		{ XFER_OTHER, "GET", 0, 502, "weir.upstream_error" },
	};
	struct policy_decision	 d;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct call *c = answered(cases[i].method, 200, 100000);

		c->xfer_error = cases[i].e;
		policy_classify(cfg, c, 0, WALL, &d);
		ck_assert_int_eq(d.verdict, cases[i].retry ? POLICY_RETRY :
		    POLICY_FAIL);
		if (!cases[i].retry) {
			ck_assert_int_eq(error_status(d.err), cases[i].status);
			ck_assert_str_eq(error_code(d.err), cases[i].code);
		}
		/* out of time: answered with the error */
		c->deadline_ms = 0;
		policy_classify(cfg, c, 0, WALL, &d);
		ck_assert_int_eq(d.verdict, POLICY_FAIL);
		ck_assert_int_eq(error_status(d.err), cases[i].status);
		call_free(c);
	}
}
END_TEST

START_TEST(final_answers_pass_through)
{
	static const int	 statuses[] = { 200, 201, 204, 304, 400, 401,
				    404, 409, 500 };
	struct policy_decision	 d;
	size_t			 i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct call *c = answered("GET", statuses[i], 100000);

		policy_classify(cfg, c, 0, WALL, &d);
		ck_assert_int_eq(d.verdict, POLICY_ANSWER);
		ck_assert_int_eq(d.err, WERR_NONE);
		call_free(c);
	}
}
END_TEST

/* A 429 that asks for days (delta, date or reset) pauses max_pause. */
START_TEST(a_429_never_pauses_longer_than_max_pause)
{
	static const char *const hints[][2] = {
		{ "Retry-After", "604800" },
		{ "Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT" },
		{ "X-RateLimit-Reset", "86400" },
	};
	struct policy_decision	 d;
	struct call		*c;
	char			 err[128];
	size_t			 i;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		c = answered("GET", 429, 10000);
		hdrs_add(&c->resp_hdrs, hints[i][0], hints[i][1]);
		policy_classify(cfg, c, 0, WALL, &d);
		ck_assert_msg(d.wait_hint_ms == 3600000, "%s: %s paused %llu",
		    hints[i][0], hints[i][1],
		    (unsigned long long)d.wait_hint_ms);
		ck_assert_int_eq(d.retry_after_s, 3600);
		call_free(c);
	}
	ck_assert_int_eq(config_set(cfg, "test", "max_pause", "90s", err,
	    sizeof(err)), 0);
	c = answered("GET", 429, 1000000);
	hdrs_add(&c->resp_hdrs, "Retry-After", "600");
	policy_classify(cfg, c, 0, WALL, &d);
	ck_assert_int_eq(d.verdict, POLICY_RETRY);
	ck_assert_uint_eq(d.wait_ms, 90000);
	call_free(c);
}
END_TEST

/* The head alone says whether the answer is final, as classify will. */
START_TEST(final_status_agrees_with_classify)
{
	static const struct {
		const char	*method;
		int		 status;
		unsigned	 retries;
		int		 final;
	} cases[] = {
		{ "GET", 200, 0, 1 },
		{ "GET", 404, 0, 1 },
		{ "POST", 500, 0, 1 },
		{ "POST", 429, 0, 0 },
		{ "GET", 429, 0, 0 },
		{ "GET", 503, 0, 0 },
		{ "PUT", 502, 0, 0 },
		{ "POST", 503, 0, 1 },
		{ "GET", 504, 3, 1 },	/* max_retries used up */
	};
	struct policy_decision	 d;
	size_t			 i;

	cfg->max_retries = 3;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct call *c = answered(cases[i].method, cases[i].status,
		    100000);

		c->retries = cases[i].retries;
		ck_assert_msg(policy_final_status(cfg, c, cases[i].status) ==
		    cases[i].final, "%s %d after %u retries", cases[i].method,
		    cases[i].status, cases[i].retries);
		policy_classify(cfg, c, 0, WALL, &d);
		ck_assert_int_eq(d.verdict, cases[i].final ? POLICY_ANSWER :
		    POLICY_RETRY);
		call_free(c);
	}
}
END_TEST

/* Once the client has the head, a failure is answered, never retried. */
START_TEST(a_streaming_answer_is_never_retried)
{
	struct policy_decision	 d;
	struct call		*c = answered("GET", 200, 100000);

	c->streaming = 1;
	c->xfer_error = XFER_BAD_RESPONSE;
	policy_classify(cfg, c, 0, WALL, &d);
	ck_assert_int_eq(d.verdict, POLICY_FAIL);
	/* the code names the failure in the access line */
	ck_assert_str_eq(error_code(d.err), "weir.upstream_bad_response");
	call_free(c);
}
END_TEST

/*
 * policy decides and never acts: classify leaves the call as it was,
 * whatever it decides (proxy.c applies the decision).
 */
START_TEST(classify_never_changes_the_call)
{
	static const int	 statuses[] = { 200, 429, 503, 504 };
	struct policy_decision	 d;
	struct call		*c;
	size_t			 i;
	int			 e;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		for (e = XFER_OK; e <= XFER_OTHER; e++) {
			c = answered("GET", statuses[i], i % 2 ? 100 : 100000);
			hdrs_add(&c->resp_hdrs, "Retry-After", "3");
			c->xfer_error = (enum xfer_err)e;
			c->retries = 1;
			c->throttled = 2;
			policy_classify(cfg, c, 0, WALL, &d);
			ck_assert_uint_eq(c->retries, 1);
			ck_assert_uint_eq(c->throttled, 2);
			ck_assert_int_eq(c->retry_after_s, 0);
			ck_assert_int_eq(c->err, WERR_NONE);
			ck_assert_ptr_null(c->err_message);
			call_free(c);
		}
}
END_TEST

/* What a call gets at its deadline is decided in one place. */
START_TEST(at_the_deadline_a_429_is_passed_on_else_503)
{
	struct policy_decision	 d;
	struct call		*c = answered("GET", 429, 1000);

	/* the decision is made whole, whatever d held (a queued call that
	 * expires is not a 429 that pauses its tenant) */
	memset(&d, 0xa5, sizeof(d));
	policy_deadline(c, 31000, 1000, &d);
	ck_assert(!d.pause_tenant);
	ck_assert_uint_eq(d.wait_hint_ms, 0);
	ck_assert_int_eq(d.verdict, POLICY_ANSWER);
	ck_assert_int_eq(d.retry_after_s, 30);
	c->status = 0;			/* never sent */
	policy_deadline(c, 1200, 1000, &d);
	ck_assert_int_eq(d.verdict, POLICY_FAIL);
	ck_assert_int_eq(d.err, WERR_DEADLINE);
	ck_assert_int_eq(d.retry_after_s, 1);	/* at least a second */
	c->status = 503;		/* a 5xx it could not retry */
	policy_deadline(c, 5000, 1000, &d);
	ck_assert_int_eq(d.err, WERR_DEADLINE);
	ck_assert_int_eq(d.retry_after_s, 4);
	call_free(c);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite	*s = suite_create("policy");
	TCase	*p = tcase_create("parsers");
	TCase	*c = tcase_create("classify");

	tcase_add_test(p, retry_after_delta_seconds);
	tcase_add_test(p, retry_after_http_dates);
	tcase_add_test(p, retry_after_garbage_ignored);
	tcase_add_test(p, reset_delta_or_epoch);
	tcase_add_test(p, body_hints);
	tcase_add_test(p, backoff_bounds);
	suite_add_tcase(s, p);
	tcase_add_checked_fixture(c, setup, teardown);
	tcase_add_test(c, a_429_waits_as_retry_after_says);
	tcase_add_test(c, a_429_falls_back_to_reset_then_body_then_backoff);
	tcase_add_test(c, a_429_past_the_deadline_is_answered);
	tcase_add_test(c, a_429_never_pauses_longer_than_max_pause);
	tcase_add_test(c, classify_never_changes_the_call);
	tcase_add_test(c, at_the_deadline_a_429_is_passed_on_else_503);
	tcase_add_test(c, transient_5xx_retried_for_idempotent_only);
	tcase_add_test(c, idempotency_key_makes_post_retryable);
	tcase_add_test(c, retries_stop_at_max_retries);
	tcase_add_test(c, transfer_failures);
	tcase_add_test(c, final_answers_pass_through);
	tcase_add_test(c, final_status_agrees_with_classify);
	tcase_add_test(c, a_streaming_answer_is_never_retried);
	suite_add_tcase(s, c);
	return s;
}

int
main(void)
{
	return tap_run(policy_suite());
}
