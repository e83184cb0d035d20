/*
 * check_absorb.c - per-tenant pacing and 429 absorption through the real
 * weir binary.
 *
 * A fake upstream rate-limits each caller (by its Authorization) to a
 * fixed window and answers Genesys' 429; clients that never retry run a
 * bulk job through weir.  Each test checks what the clients got and what
 * the upstream received: no 429 reaches a client, a retried call keeps its
 * request id and body, a busy tenant does not hold up a quiet one, and
 * deadlines hold.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fake.h"
#include "harness.h"
#include "tap.h"

static struct fake	*api, *login;
static struct h_weir	 W;

static void
reply_ok(struct fake_reply *rp, const struct fake_req *req)
{
	rp->status = 200;
	fake_reply_header(rp, "Content-Type", "application/json");
	fake_reply_printf(rp, "{\"ok\":true,\"seq\":%zu}", req->seq);
}

/*
 * The rate-limiting upstream: LIMIT calls per WINDOW_MS per Authorization
 * value, windows starting at a caller's first call.  Remembers the status
 * it gave each request id.  Handler calls are serialised by the fake.
 */
#define MAXCALLERS	8
#define MAXLOG		4096
static struct {
	int		 limit;
	uint64_t	 window_ms;
	char		 who[MAXCALLERS][64];
	uint64_t	 start[MAXCALLERS];
	int		 used[MAXCALLERS];
	int		 ncallers;
	char		 ids[MAXLOG][64];
	int		 status[MAXLOG];
	int		 nlog;
	int		 n429;
} rl;

static void
rate_limited(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	const char	*auth = fake_req_header(req, "Authorization");
	const char	*id = fake_req_header(req, "X-Request-Id");
	uint64_t	 now = h_mono_ms();
	int		 i;

	(void)arg;
	if (auth == NULL)
		auth = "-";
	for (i = 0; i < rl.ncallers; i++)
		if (strcmp(rl.who[i], auth) == 0)
			break;
	if (i == rl.ncallers && rl.ncallers < MAXCALLERS) {
		snprintf(rl.who[i], sizeof(rl.who[i]), "%s", auth);
		rl.start[i] = now;
		rl.ncallers++;
	}
	if (now >= rl.start[i] + rl.window_ms) {
		rl.start[i] = now;
		rl.used[i] = 0;
	}
	if (rl.used[i] < rl.limit) {
		rl.used[i]++;
		reply_ok(rp, req);
	} else {
		rl.n429++;
		fake_reply_genesys_429(rp, (int)((rl.start[i] +
		    rl.window_ms - now + 999) / 1000),
		    (int)(rl.limit * 60000 / rl.window_ms));
	}
	if (rl.nlog < MAXLOG && id != NULL) {
		snprintf(rl.ids[rl.nlog], sizeof(rl.ids[0]), "%s", id);
		rl.status[rl.nlog++] = rp->status;
	}
}

/* A scripted upstream: the nth request gets script[n] (last one repeats). */
struct script {
	const char	*lines[8];	/* "429 Retry-After: 1", "200", ... */
	int		 n;
	int		 next;
};

static void
scripted(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	struct script	*s = arg;
	const char	*line = s->lines[s->next < s->n ? s->next : s->n - 1];
	const char	*hdr;
	char		 name[64];

	s->next++;
	rp->status = atoi(line);
	if ((hdr = strchr(line, ' ')) != NULL && strchr(hdr, ':') != NULL) {
		const char *colon = strchr(hdr + 1, ':');

		snprintf(name, sizeof(name), "%.*s", (int)(colon - hdr - 1),
		    hdr + 1);
		fake_reply_header(rp, name, colon + 2);
	}
	if (rp->status == 429)
		fake_reply_printf(rp, "{\"status\":429,\"n\":%d}", s->next);
	else
		fake_reply_printf(rp, "{\"status\":%d,\"seq\":%zu}", rp->status,
		    req->seq);
}

static void
start(fake_handler h, void *arg, const char *const *env)
{
	api = fake_start(h, arg);
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
	memset(&rl, 0, sizeof(rl));
}

/* One client thread: n GETs in a row with its own token. */
struct worker {
	pthread_t	 th;
	char		 auth[64];
	char		 tenant_hdr[64];
	char		 max_wait[64];
	int		 n;
	int		 ok, not_ok, saw_429, retried;
	int		 statuses[64];
	long		 queued_ms[64];
};

static void *
work(void *arg)
{
	struct worker	*w = arg;
	const char	*hdrs[4];
	struct h_resp	 r;
	struct h_req	 q = { .method = "GET", .target = "/api/v2/flows",
	    .headers = hdrs, .timeout_ms = 30000 };
	int		 i, k = 0;
	const char	*att, *qm;

	if (w->auth[0] != '\0')
		hdrs[k++] = w->auth;
	if (w->tenant_hdr[0] != '\0')
		hdrs[k++] = w->tenant_hdr;
	if (w->max_wait[0] != '\0')
		hdrs[k++] = w->max_wait;
	hdrs[k] = NULL;
	for (i = 0; i < w->n; i++) {
		memset(&r, 0, sizeof(r));
		h_request(W.port, &q, &r);
		if (i < 64)
			w->statuses[i] = r.status;
		if (r.status == 200)
			w->ok++;
		else
			w->not_ok++;
		if (r.status == 429)
			w->saw_429++;
		if ((att = h_resp_header(&r, "X-Weir-Attempts")) != NULL &&
		    atoi(att) > 1)
			w->retried++;
		if (i < 64 && (qm = h_resp_header(&r, "X-Weir-Queued-Ms")) !=
		    NULL)
			w->queued_ms[i] = atol(qm);
		h_resp_free(&r);
	}
	return NULL;
}

START_TEST(a_bulk_job_sees_no_429)
{
	/* weir is told 40/s; the upstream allows 15 per second per caller */
	static const char *const env[] = {
		"WEIR_RATE=40/s", "WEIR_BURST=40", "WEIR_CONCURRENCY=8",
		"WEIR_MAX_WAIT=20s", "WEIR_LOG_LEVEL=warn", NULL
	};
	struct worker	 w[3][6];
	int		 t, i, j, total_ok = 0, retried = 0, found;

	rl.limit = 15;
	rl.window_ms = 1000;
	start(rate_limited, NULL, env);
	memset(w, 0, sizeof(w));
	for (t = 0; t < 3; t++)
		for (i = 0; i < 6; i++) {
			snprintf(w[t][i].auth, sizeof(w[t][i].auth),
			    "Authorization: Bearer tenant-%d-token", t);
			w[t][i].n = 10;
			ck_assert_int_eq(pthread_create(&w[t][i].th, NULL, work,
			    &w[t][i]), 0);
		}
	for (t = 0; t < 3; t++)
		for (i = 0; i < 6; i++) {
			pthread_join(w[t][i].th, NULL);
			ck_assert_int_eq(w[t][i].saw_429, 0);
			ck_assert_int_eq(w[t][i].not_ok, 0);
			total_ok += w[t][i].ok;
			retried += w[t][i].retried;
		}
	ck_assert_int_eq(total_ok, 180);
	/* The upstream did push back, and weir absorbed it. */
	ck_assert_int_gt(rl.n429, 0);
	ck_assert_int_gt(retried, 0);
	/* Every request id the upstream rejected came back, with the same
	 * id, and got its 200. */
	for (i = 0; i < rl.nlog; i++) {
		if (rl.status[i] != 429)
			continue;
		for (found = 0, j = i + 1; j < rl.nlog && !found; j++)
			found = strcmp(rl.ids[j], rl.ids[i]) == 0 &&
			    rl.status[j] == 200;
		ck_assert_msg(found, "request %s was never retried", rl.ids[i]);
	}
	/* 180 distinct ids succeeded, each once */
	for (i = 0, found = 0; i < rl.nlog; i++)
		if (rl.status[i] == 200)
			found++;
	ck_assert_int_eq(found, 180);
	/* far fewer rejections than calls: the tenant paused after each */
	ck_assert_int_lt(rl.n429, 60);
}
END_TEST

START_TEST(a_retried_call_keeps_its_id_and_body)
{
	static struct script s = { { "429 Retry-After: 1",
	    "429 X-RateLimit-Reset: 1", "200" }, 3, 0 };
	static const char *const env[] = { "WEIR_LOG_LEVEL=info", NULL };
	const char	*hdrs[] = { "X-Request-Id: my-call-1",
	    "Content-Type: application/json", "Authorization: Bearer abc",
	    NULL };
	struct h_req	 q = { .method = "POST", .target = "/api/v2/flows/x",
	    .headers = hdrs, .body = "{\"n\":1}", .body_len = 7,
	    .has_body = 1, .timeout_ms = 20000 };
	struct h_resp	 r;
	struct fake_req	*fr;
	size_t		 i;
	char		*log;

	start(scripted, &s, env);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	/* POST is retried on 429: the upstream did not process it */
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "X-Request-Id"), "my-call-1");
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Attempts"), "3");
	ck_assert_ptr_nonnull(strstr((char *)r.body, "\"seq\":2"));
	ck_assert_int_ge(atol(h_resp_header(&r, "X-Weir-Queued-Ms")), 1500);
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Tenant"), "tok:ba7816bf8f01");
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 3);
	for (i = 0; i < 3; i++) {
		fr = fake_req_get(api, i);
		ck_assert_str_eq(fr->method, "POST");
		ck_assert_str_eq(fake_req_header(fr, "X-Request-Id"),
		    "my-call-1");
		ck_assert_uint_eq(fr->body_len, 7);
		ck_assert_int_eq(memcmp(fr->body, "{\"n\":1}", 7), 0);
		fake_req_free(fr);
	}
	log = h_stderr_contents(&W);
	ck_assert_ptr_nonnull(strstr(log, "\"attempts\":3"));
	ck_assert_ptr_null(strstr(log, "Bearer abc"));
	free(log);
}
END_TEST

START_TEST(renew_gives_each_attempt_a_new_id)
{
	static struct script s = { { "429 Retry-After: 0", "200" }, 2, 0 };
	static const char *const env[] = { "WEIR_REQUEST_ID_ON_RETRY=renew",
	    NULL };
	const char	*hdrs[] = { "X-Request-Id: caller-id-7", NULL };
	struct h_req	 q = { .method = "GET", .target = "/api/v2/x",
	    .headers = hdrs };
	struct h_resp	 r;
	struct fake_req	*a, *b;

	start(scripted, &s, env);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "X-Request-Id"), "caller-id-7");
	h_resp_free(&r);
	a = fake_req_get(api, 0);
	b = fake_req_get(api, 1);
	ck_assert_str_eq(fake_req_header(a, "X-Request-Id"), "caller-id-7");
	ck_assert_ptr_null(fake_req_header(a, "X-Original-Request-Id"));
	ck_assert(h_is_uuid4(fake_req_header(b, "X-Request-Id")));
	ck_assert_str_eq(fake_req_header(b, "X-Original-Request-Id"),
	    "caller-id-7");
	fake_req_free(a);
	fake_req_free(b);
}
END_TEST

START_TEST(a_busy_tenant_does_not_hold_up_a_quiet_one)
{
	/* 2 calls a second per tenant: the busy one queues 30 */
	static const char *const env[] = { "WEIR_RATE=2/s", "WEIR_BURST=1",
	    "WEIR_LOG_LEVEL=warn", NULL };
	struct worker	 busy[10], quiet;
	int		 i, expired = 0, ok = 0;
	struct fake_req	*fr;
	size_t		 n;

	start(fake_echo, NULL, env);
	memset(busy, 0, sizeof(busy));
	memset(&quiet, 0, sizeof(quiet));
	for (i = 0; i < 10; i++) {
		strcpy(busy[i].tenant_hdr, "X-Weir-Tenant: busy");
		strcpy(busy[i].max_wait, "X-Weir-Max-Wait: 3");
		busy[i].n = 3;
		pthread_create(&busy[i].th, NULL, work, &busy[i]);
	}
	/* the busy tenant's queue is full of calls before the quiet one
	 * sends */
	ck_assert_int_eq(fake_wait_nreqs(api, 2, 5000), 0);
	strcpy(quiet.tenant_hdr, "X-Weir-Tenant: quiet");
	quiet.n = 1;
	work(&quiet);
	ck_assert_int_eq(quiet.ok, 1);
	/* served at once: its token was there, and round-robin put it next */
	ck_assert_int_lt(quiet.queued_ms[0], 1000);
	for (i = 0; i < 10; i++) {
		pthread_join(busy[i].th, NULL);
		ok += busy[i].ok;
		expired += busy[i].not_ok;
	}
	/* 30 calls at 2/s with a 3 s wait each: most could not make it,
	 * and were answered at their deadline, not held */
	ck_assert_int_gt(expired, 0);
	ck_assert_int_eq(ok + expired, 30);
	/* X-Weir-Tenant never reaches the upstream */
	n = fake_nreqs(api);
	for (i = 0; (size_t)i < n; i++) {
		fr = fake_req_get(api, (size_t)i);
		ck_assert_ptr_null(fake_req_header(fr, "X-Weir-Tenant"));
		ck_assert_ptr_null(fake_req_header(fr, "X-Weir-Max-Wait"));
		fake_req_free(fr);
	}
}
END_TEST

START_TEST(deadlines_hold)
{
	static struct script s = { { "429 Retry-After: 30" }, 1, 0 };
	static const char *const env[] = { NULL };
	const char	*hdrs[] = { "Authorization: Bearer t1",
	    "X-Weir-Max-Wait: 1", NULL };
	struct h_req	 q = { .method = "GET", .target = "/api/v2/flows",
	    .headers = hdrs };
	struct h_resp	 r;
	uint64_t	 t0;
	char		 code[64];

	start(scripted, &s, env);
	/* The upstream says 30 s; the caller allows 1 s: it gets the 429
	 * now, body untouched, Retry-After recomputed. */
	t0 = h_mono_ms();
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 429);
	ck_assert_str_eq((char *)r.body, "{\"status\":429,\"n\":1}");
	ck_assert_int_ge(atoi(h_resp_header(&r, "Retry-After")), 29);
	ck_assert_int_le(atoi(h_resp_header(&r, "Retry-After")), 30);
	ck_assert_uint_eq(h_resp_header_count(&r, "Retry-After"), 1);
	h_resp_free(&r);
	/* The tenant is paused for 30 s: the next call cannot make its
	 * 1 s deadline and is answered without going upstream. */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 503);
	ck_assert_int_eq(h_json_get((char *)r.body, r.body_len, "code", code,
	    sizeof(code)), 3);
	ck_assert_str_eq(code, "weir.deadline");
	ck_assert_int_ge(atoi(h_resp_header(&r, "Retry-After")), 28);
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	/* neither call was held anywhere near the upstream's 30 s */
	ck_assert_uint_lt(h_mono_ms() - t0, 5000);
}
END_TEST

START_TEST(transient_errors_retried_when_safe)
{
	static struct script s = { { "503", "200" }, 2, 0 };
	static const char *const env[] = { NULL };
	const char	*idem[] = { "Idempotency-Key: k-1", NULL };
	struct h_req	 get = { .method = "GET", .target = "/api/v2/a" };
	struct h_req	 post = { .method = "POST", .target = "/api/v2/b",
	    .body = "x", .body_len = 1, .has_body = 1 };
	struct h_req	 postk = { .method = "POST", .target = "/api/v2/c",
	    .headers = idem, .body = "x", .body_len = 1, .has_body = 1 };
	struct h_resp	 r;

	start(scripted, &s, env);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &get, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Attempts"), "2");
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 2);

	s.next = 0;
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &post, &r), 0);
	ck_assert_int_eq(r.status, 503);	/* never retried */
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Attempts"), "1");
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 3);

	s.next = 0;
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &postk, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Attempts"), "2");
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 5);
}
END_TEST

/* The login fake: issues a token to a Basic client, or 429s once. */
static int login_429_once;

static void
token_issuer(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	(void)arg;
	if (login_429_once) {
		login_429_once = 0;
		fake_reply_genesys_429(rp, 1, 300);
		return;
	}
	rp->status = 200;
	fake_reply_header(rp, "Content-Type", "application/json");
	fake_reply_printf(rp, "{\"access_token\":\"issued-%zu\","
	    "\"token_type\":\"bearer\",\"expires_in\":86399}", req->seq);
}

START_TEST(tenants_follow_the_oauth_client)
{
	static const char *const env[] = { NULL };
	const char	*basic[] = {
	    /* my-client:s3cret */
	    "Authorization: Basic bXktY2xpZW50OnMzY3JldA==",
	    "Content-Type: application/x-www-form-urlencoded", NULL };
	const char	*bearer[] = { "Authorization: Bearer issued-1", NULL };
	struct h_req	 tok = { .method = "POST", .target = "/oauth/token",
	    .headers = basic, .body = "grant_type=client_credentials",
	    .body_len = 29, .has_body = 1 };
	struct h_req	 use = { .method = "GET", .target = "/api/v2/flows",
	    .headers = bearer };
	struct h_resp	 r;

	api = fake_start(fake_echo, NULL);
	login = fake_start(token_issuer, NULL);
	h_start_or_abort(&W, fake_port(api), fake_port(login), NULL, env);
	/* the login call is queued and absorbed like any other */
	login_429_once = 1;
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &tok, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Tenant"), "my-client");
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Attempts"), "2");
	ck_assert_ptr_nonnull(strstr((char *)r.body, "issued-1"));
	h_resp_free(&r);
	/* the token weir saw issued maps to its client */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &use, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Tenant"), "my-client");
	h_resp_free(&r);
}
END_TEST

/*
 * The hang of issue 8 through the binary: tenant "limited" is told to
 * wait 60 s (longer than its calls may wait) while tenant "slow" has calls
 * queued behind its in-flight cap.  weir used to spin in sched_expire at
 * full CPU, answering nothing, not even SIGTERM.
 */
static void
slow_or_limited(const struct fake_req *req, struct fake_reply *rp,
    void *arg)
{
	(void)arg;
	if (strncmp(req->target, "/limited", 8) == 0) {
		rp->delay_ms = 300;
		rp->status = 429;
		fake_reply_header(rp, "Retry-After", "60");
		fake_reply_printf(rp, "{\"status\":429}");
	} else {
		rp->delay_ms = 2000;
		reply_ok(rp, req);
	}
}

struct one_call {
	pthread_t	 th;
	const char	*tenant_hdr;
	const char	*target;
	int		 status;
	char		 code[64];
};

static void *
one_call(void *arg)
{
	struct one_call	*oc = arg;
	const char	*hdrs[] = { oc->tenant_hdr, NULL };
	struct h_req	 q = { .method = "GET", .target = oc->target,
	    .headers = hdrs, .timeout_ms = 30000 };
	struct h_resp	 r;

	memset(&r, 0, sizeof(r));
	h_request(W.port, &q, &r);
	oc->status = r.status;
	if (r.status == 503)
		h_json_get((char *)r.body, r.body_len, "code", oc->code,
		    sizeof(oc->code));
	h_resp_free(&r);
	return NULL;
}

START_TEST(a_long_429_beside_a_capped_tenant_keeps_weir_answering)
{
	static const char *const env[] = { "WEIR_LOG_LEVEL=warn", NULL };
	struct one_call	 calls[24];
	struct h_resp	 r;
	struct h_req	 q = { .method = "GET", .target = "/healthz",
	    .timeout_ms = 5000 };
	uint64_t	 t0;
	int		 i, n429 = 0, n503 = 0, n200 = 0, round;

	start(slow_or_limited, NULL, env);
	/* both orders of arrival: which tenant the ring's cursor rests on
	 * decided whether the walk ended */
	for (round = 0; round < 2; round++) {
		memset(calls, 0, sizeof(calls));
		for (i = 0; i < 24; i++) {
			int limited = (i < 12) == (round == 0);

			calls[i].tenant_hdr = limited ?
			    "X-Weir-Tenant: limited" : "X-Weir-Tenant: slow";
			calls[i].target = limited ? "/limited" : "/slow";
			if (i == 12)
				h_nap_ms(300);
			ck_assert_int_eq(pthread_create(&calls[i].th, NULL,
			    one_call, &calls[i]), 0);
		}
		/* while the limited tenant's queued calls expire, weir still
		 * answers on both listeners */
		h_nap_ms(1000);
		t0 = h_mono_ms();
		memset(&r, 0, sizeof(r));
		ck_assert_int_eq(h_request(h_admin_port(&W), &q, &r), 0);
		ck_assert_int_eq(r.status, 200);
		h_resp_free(&r);
		ck_assert_uint_lt(h_mono_ms() - t0, 5000);
		for (i = 0; i < 24; i++) {
			pthread_join(calls[i].th, NULL);
			if (strcmp(calls[i].target, "/slow") == 0) {
				ck_assert_int_eq(calls[i].status, 200);
				n200++;
			} else if (calls[i].status == 429)
				n429++;
			else {
				/* queued behind the pause: answered at once */
				ck_assert_int_eq(calls[i].status, 503);
				ck_assert_str_eq(calls[i].code, "weir.deadline");
				n503++;
			}
		}
		/* the second round's limited calls find the tenant paused */
		if (round == 0)
			ck_assert_int_gt(n429, 0);
	}
	ck_assert_int_eq(n200, 24);
	ck_assert_int_eq(n429 + n503, 24);
	/* and it stops when told */
	ck_assert_int_eq(h_stop(&W), 0);
}
END_TEST

/*
 * max_tenants = 1: the one tenant is paused by a 429; a new tenant name
 * cannot evict it (erasing the pause) and is refused 503
 * weir.too_many_tenants, counted in /metrics.
 */
START_TEST(a_paused_tenant_keeps_its_slot_against_new_names)
{
	static struct script s = { { "429 Retry-After: 30", "200" }, 2, 0 };
	static const char *const env[] = { "WEIR_MAX_TENANTS=1", NULL };
	const char	*paused[] = { "X-Weir-Tenant: paused",
	    "X-Weir-Max-Wait: 1", NULL };
	const char	*other[] = { "X-Weir-Tenant: newcomer", NULL };
	struct h_req	 q = { .method = "GET", .target = "/api/v2/flows",
	    .headers = paused };
	struct h_req	 m = { .method = "GET", .target = "/metrics" };
	struct h_resp	 r;

	start(scripted, &s, env);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 429);
	h_resp_free(&r);
	q.headers = other;
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	h_assert_weir_error(&r, 503, "weir.too_many_tenants");
	ck_assert_ptr_nonnull(h_resp_header(&r, "Retry-After"));
	h_resp_free(&r);
	/* the pause is still there: the paused tenant's next call cannot
	 * make its 1 s deadline */
	q.headers = paused;
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	h_assert_weir_error(&r, 503, "weir.deadline");
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 1);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(h_admin_port(&W), &m, &r), 0);
	ck_assert_ptr_nonnull(strstr((char *)r.body,
	    "\nweir_tenants_refused_total 1\n"));
	h_resp_free(&r);
}
END_TEST

static Suite *
absorb_suite(void)
{
	Suite	*s = suite_create("absorb");
	TCase	*tc = tcase_create("absorb");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_bulk_job_sees_no_429);
	tcase_add_test(tc, a_retried_call_keeps_its_id_and_body);
	tcase_add_test(tc, renew_gives_each_attempt_a_new_id);
	tcase_add_test(tc, a_busy_tenant_does_not_hold_up_a_quiet_one);
	tcase_add_test(tc, deadlines_hold);
	tcase_add_test(tc, transient_errors_retried_when_safe);
	tcase_add_test(tc, tenants_follow_the_oauth_client);
	tcase_add_test(tc,
	    a_long_429_beside_a_capped_tenant_keeps_weir_answering);
	tcase_add_test(tc, a_paused_tenant_keeps_its_slot_against_new_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(absorb_suite());
}
