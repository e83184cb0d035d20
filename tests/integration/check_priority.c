/*
 * check_priority.c - priority classes end to end: the real weir binary on
 * port 0 in front of a fake upstream that records what it received.  A
 * tenant's bulk calls queue up; its interactive calls marked high (by
 * X-Weir-Priority, or by a priority rule) go in its next slot, at its
 * pace, and the bulk calls still all finish.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake.h"
#include "harness.h"
#include "tap.h"

static struct fake	*api, *login;
static struct h_weir	 W;

static void
start(const char *const *env)
{
	api = fake_start(NULL, NULL);
	login = fake_start(NULL, NULL);
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

/* Open a connection and send a GET of target with extra header lines
 * ("Name: value\r\n" each); the answer is read later.  Returns the fd. */
static int
send_raw(const char *target, const char *extra)
{
	char	 req[512];
	int	 fd, n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: weir\r\n"
	    "Connection: close\r\n%s\r\n", target, extra);
	ck_assert(n > 0 && (size_t)n < sizeof(req));
	fd = h_connect_loopback(W.port);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, req, (size_t)n), n);
	return fd;
}

/* Read the answer on fd until weir closes it (Connection: close), up to
 * timeout_ms; parse it into r and close fd. */
static void
read_raw(int fd, unsigned timeout_ms, struct h_resp *r)
{
	char		*buf = NULL;
	size_t		 len = 0, cap = 0;
	uint64_t	 end = h_mono_ms() + timeout_ms;
	struct pollfd	 p = { .fd = fd, .events = POLLIN };
	ssize_t		 n;

	for (;;) {
		ck_assert_msg(h_mono_ms() < end, "no answer in %u ms",
		    timeout_ms);
		if (poll(&p, 1, 100) <= 0)
			continue;
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		if ((n = read(fd, buf + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	ck_assert_int_eq(h_parse_response(buf, len, r), 0);
	free(buf);
}

/* A number from the admin listener's /status (top level), or -1. */
static long
status_num(uint16_t admin, const char *key)
{
	struct h_req	 q = { .target = "/status" };
	struct h_resp	 r;
	char		 v[32];
	long		 n = -1;

	if (h_request(admin, &q, &r) == 0 && r.status == 200 &&
	    h_json_get((const char *)r.body, r.body_len, key, v,
	    sizeof(v)) == 4)
		n = atol(v);
	h_resp_free(&r);
	return n;
}

/* The index of the first request the upstream received whose target
 * starts with prefix, or -1. */
static long
upstream_index(const char *prefix)
{
	struct fake_req	*fr;
	size_t		 i, n = fake_nreqs(api);
	long		 at = -1;

	for (i = 0; i < n && at == -1; i++) {
		if ((fr = fake_req_get(api, i)) == NULL)
			continue;
		if (strncmp(fr->target, prefix, strlen(prefix)) == 0) {
			at = (long)i;
			ck_assert_ptr_null(fake_req_header(fr,
			    "X-Weir-Priority"));
		}
		fake_req_free(fr);
	}
	return at;
}

#define NBULK	300

/*
 * 300 bulk calls of one tenant wait at 5/s (a minute of work); then a
 * user's clicks, marked X-Weir-Priority: high, each go in the tenant's
 * next slot: at most one bulk call reaches the upstream between a click's
 * arrival and its own (the one whose slot may already have come), where
 * one queue would have put 300 ahead of it.  Then every bulk call
 * finishes, answered 200 as normal.
 */
START_TEST(high_calls_go_in_the_next_slot_and_the_bulk_job_still_finishes)
{
	static const char *const env[] = {
		"WEIR_RATE=5/s", "WEIR_BURST=1", "WEIR_CONCURRENCY=8",
		"WEIR_MAX_WAIT=200s", "WEIR_LOG_LEVEL=info", NULL
	};
	static int	 fds[NBULK];
	struct h_resp	 r;
	struct h_req	 q = { 0 };
	char		 target[64], *line;
	const char	*hdrs[4];
	uint16_t	 admin;
	long		 before, at, queued = -1;
	int		 i;

	start(env);
	admin = h_admin_port(&W);
	ck_assert_uint_ne(admin, 0);
	for (i = 0; i < NBULK; i++) {
		snprintf(target, sizeof(target), "/api/v2/flows?page=%d", i);
		fds[i] = send_raw(target, "X-Weir-Tenant: sync-app\r\n");
	}
	/* all of them in weir: queued or sent */
	for (i = 0; i < 200; i++) {
		queued = status_num(admin, "queued");
		if (queued >= 0 && queued + (long)fake_nreqs(api) >= NBULK)
			break;
		h_nap_ms(50);
	}
	ck_assert_int_ge(queued, NBULK - 20);

	hdrs[0] = "X-Weir-Tenant: sync-app";
	hdrs[1] = "X-Weir-Priority: high";
	hdrs[3] = NULL;
	for (i = 0; i < 3; i++) {
		char	 rid[64];

		snprintf(target, sizeof(target), "/api/v2/users/me?click=%d",
		    i);
		snprintf(rid, sizeof(rid), "X-Request-Id: "
		    "00000000-0000-4000-8000-00000000000%d", i);
		hdrs[2] = rid;
		q.target = target;
		q.headers = hdrs;
		before = (long)fake_nreqs(api);
		ck_assert_int_eq(h_request(W.port, &q, &r), 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(h_resp_header(&r, "X-Weir-Priority"), "high");
		/* waiting is judged by order, not by the clock (the
		 * machine is shared): see below */
		ck_assert_ptr_nonnull(h_resp_header(&r, "X-Weir-Queued-Ms"));
		h_resp_free(&r);
		at = upstream_index(target);
		ck_assert_int_ge(at, 0);
		ck_assert_msg(at - before <= 1, "click %d: %ld bulk calls went "
		    "upstream before it", i, at - before);
		line = h_access_line(&W, rid + 14);
		ck_assert_ptr_nonnull(line);
		ck_assert_ptr_nonnull(strstr(line, "\"priority\":\"high\""));
		free(line);
	}
	ck_assert_int_gt(status_num(admin, "queued"), 100);

	for (i = 0; i < NBULK; i++) {
		read_raw(fds[i], 150000, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(h_resp_header(&r, "X-Weir-Priority"),
		    "normal");
		h_resp_free(&r);
	}
	ck_assert_uint_eq(fake_nreqs(api), NBULK + 3);
}
END_TEST

/*
 * Without the header, the rules decide: a tenant's bulk reads of flows
 * are low by rule, its user lookups high, everything else normal.  The
 * high call goes ahead of the queued low ones; each answer says the
 * class it had.
 */
START_TEST(a_rule_gives_a_call_its_class_without_the_header)
{
	static const char *const env[] = {
		"WEIR_RATE=2/s", "WEIR_BURST=1", "WEIR_MAX_WAIT=60s",
		"WEIR_PRIORITY=GET /api/v2/flows* low\n* /api/v2/users/* high",
		"WEIR_LOG_LEVEL=warn", NULL
	};
	static const char *const hdrs[] = { "X-Weir-Tenant: t", NULL };
	int		 fds[6], i;
	struct h_resp	 r;
	struct h_req	 q = { .target = "/api/v2/users/42", .headers = hdrs };
	char		 target[64];
	long		 before, at, queued = -1;
	uint16_t	 admin;

	start(env);
	for (i = 0; i < 6; i++) {
		snprintf(target, sizeof(target), "/api/v2/flows/%d", i);
		fds[i] = send_raw(target, "X-Weir-Tenant: t\r\n");
	}
	/* the low calls wait at 2/s: wait until weir holds them all */
	admin = h_admin_port(&W);
	ck_assert_uint_ne(admin, 0);
	for (i = 0; i < 200; i++) {
		queued = status_num(admin, "queued");
		if (queued >= 0 && queued + (long)fake_nreqs(api) >= 6)
			break;
		h_nap_ms(20);
	}
	ck_assert_int_ge(queued, 3);
	before = (long)fake_nreqs(api);
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Priority"), "high");
	h_resp_free(&r);
	at = upstream_index("/api/v2/users/42");
	ck_assert_int_ge(at, 0);
	ck_assert_int_le(at - before, 1);
	ck_assert_int_lt(at, 5);	/* ahead of some low calls */

	q.target = "/api/v2/other";
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Priority"), "normal");
	h_resp_free(&r);
	for (i = 0; i < 6; i++) {
		read_raw(fds[i], 30000, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(h_resp_header(&r, "X-Weir-Priority"), "low");
		h_resp_free(&r);
	}
	ck_assert_uint_eq(fake_nreqs(api), 8);
}
END_TEST

/* An unknown class is the client's mistake: 400 with weir's JSON error,
 * and the upstream hears nothing of it. */
START_TEST(an_unknown_priority_is_refused_before_the_upstream)
{
	static const char *const env[] = { "WEIR_LOG_LEVEL=warn", NULL };
	static const char *const bad[] = { "X-Weir-Priority: urgent", NULL };
	static const char *const two[] = { "X-Weir-Priority: high",
	    "X-Weir-Priority: low", NULL };
	static const char *const good[] = { "X-Weir-Priority: LOW", NULL };
	struct h_req	 q = { .target = "/api/v2/flows", .headers = bad };
	struct h_resp	 r;

	start(env);
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	h_assert_weir_error(&r, 400, "weir.bad_priority");
	ck_assert_ptr_null(h_resp_header(&r, "X-Weir-Priority"));
	h_resp_free(&r);
	q.headers = two;
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	h_assert_weir_error(&r, 400, "weir.bad_priority");
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 0);
	q.headers = good;
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Priority"), "low");
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	ck_assert_int_eq(upstream_index("/api/v2/flows"), 0);
}
END_TEST

static Suite *
priority_suite(void)
{
	Suite	*s = suite_create("priority");
	TCase	*tc = tcase_create("priority");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc,
	    high_calls_go_in_the_next_slot_and_the_bulk_job_still_finishes);
	tcase_add_test(tc, a_rule_gives_a_call_its_class_without_the_header);
	tcase_add_test(tc, an_unknown_priority_is_refused_before_the_upstream);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(priority_suite());
}
