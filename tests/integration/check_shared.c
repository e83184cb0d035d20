/*
 * check_shared.c - three real weir binaries share one client's quota
 * through a real redis-server.
 *
 * Each test starts a redis-server (rserver.h), an in-process fake
 * upstream that enforces one client's quota (fixed windows of WINDOW_MS
 * from the first call of a window, LIMIT calls each; the next gets
 * Genesys' 429 with Retry-After in whole seconds, rounded up) and three
 * weirs paced to match (rate LIMIT per WINDOW_MS, burst LIMIT), each
 * adding "X-Instance: wN" to what it sends.  Clients run many calls at
 * once through curl multi, in threads, all as the same client (Basic
 * auth).  The fake records when each request came, from which instance,
 * in which of its windows, and what it answered; the tests check both
 * what the clients got and what the upstream saw, and poll each weir's
 * /status (admin listener) for its Redis mode.
 *
 * Timings on a busy 2-core machine vary: assertions are on counts, with
 * margins, and on bounds the quota itself sets; every wait polls with a
 * timeout.  redis_timeout is 200 ms, not the default 50: three weirs,
 * Redis and the clients on two cores stall one of them for 50 ms now and
 * then, and each such stall is a (correct) trip to local mode that would
 * blur what a test looks at.  Each test prints what it measured (429s,
 * elapsed) as TAP comments on stderr.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include "fake.h"
#include "harness.h"
#include "json.h"
#include "rserver.h"
#include "tap.h"

#define NW		3		/* weirs */
#define LIMIT		40		/* the upstream's calls per window */
#define WINDOW_MS	1000
#define PER_MIN		(LIMIT * 60000 / WINDOW_MS)	/* in its 429s */
#define RATE_ENV	"WEIR_RATE=40/s"	/* LIMIT per WINDOW_MS */
#define BURST_ENV	"WEIR_BURST=40"		/* LIMIT */
#define CLIENT		"client1"
/* base64("client1:secret") */
#define AUTH_HDR	"Authorization: Basic Y2xpZW50MTpzZWNyZXQ="
#define TOKEN		"tokA"
#define MAXREC		8192

static struct rserver	 RS;
static struct fake	*api, *login;
static struct h_weir	 W[NW];
static uint16_t		 AP[NW];		/* admin ports */

/* --- the upstream --------------------------------------------------------- */

/* One request the upstream saw. */
struct rec {
	uint64_t	 t;		/* h_mono_ms() at arrival */
	int		 inst;		/* 1..NW, 0: no X-Instance */
	int		 status;
	int		 win;		/* quota window, -1: not counted */
};

/*
 * The upstream's state, under mu: the fake serialises handler calls, but
 * the test reads the record while they run.
 */
static struct {
	pthread_mutex_t	 mu;
	int		 started;
	uint64_t	 start;		/* the current window's */
	int		 win;
	int		 used;
	int		 force_after;	/* -1: off; else once n >= this, w1's
					 * next request gets a 429, 2 s */
	int		 forced;
	uint64_t	 forced_t;
	struct rec	 r[MAXREC];
	int		 n;
	int		 nok, n429;
} up = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void
record(uint64_t t, int inst, int status, int win)
{
	if (up.n < MAXREC)
		up.r[up.n++] = (struct rec){ t, inst, status, win };
	if (status == 200)
		up.nok++;
	else
		up.n429++;
}

/* fake_handler: the client's quota, and the one forced 429 of test (c). */
static void
upstream(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	const char	*x = fake_req_header(req, "X-Instance");
	uint64_t	 now = h_mono_ms(), left;
	int		 inst = x != NULL && x[0] == 'w' ? atoi(x + 1) : 0;

	(void)arg;
	pthread_mutex_lock(&up.mu);
	if (up.force_after >= 0 && !up.forced && inst == 1 &&
	    up.n >= up.force_after) {
		/* Outside the quota: not counted in any window. */
		up.forced = 1;
		up.forced_t = now;
		fake_reply_genesys_429(rp, 2, PER_MIN);
		record(now, inst, 429, -1);
		pthread_mutex_unlock(&up.mu);
		return;
	}
	if (!up.started || now >= up.start + WINDOW_MS) {
		if (up.started)
			up.win++;
		up.started = 1;
		up.start = now;
		up.used = 0;
	}
	if (up.used < LIMIT) {
		up.used++;
		rp->status = 200;
		fake_reply_header(rp, "Content-Type", "application/json");
		fake_reply_printf(rp, "{\"ok\":true,\"seq\":%zu}", req->seq);
	} else {
		left = up.start + WINDOW_MS - now;
		fake_reply_genesys_429(rp, (int)((left + 999) / 1000),
		    PER_MIN);
	}
	record(now, inst, rp->status, up.win);
	pthread_mutex_unlock(&up.mu);
}

/* fake_handler for the login upstream: every token request gets TOKEN. */
static void
login_handler(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	(void)arg;
	(void)req;
	rp->status = 200;
	fake_reply_header(rp, "Content-Type", "application/json");
	fake_reply_printf(rp, "{\"access_token\":\"%s\",\"token_type\":"
	    "\"bearer\",\"expires_in\":3600}", TOKEN);
}

/* A copy of the record (free it), its length in *n. */
static struct rec *
up_records(int *n)
{
	struct rec	*r;

	pthread_mutex_lock(&up.mu);
	*n = up.n;
	r = fake_alloc((size_t)(up.n + 1) * sizeof(*r));
	memcpy(r, up.r, (size_t)up.n * sizeof(*r));
	pthread_mutex_unlock(&up.mu);
	return r;
}

static int
up_count(void)
{
	int	 n;

	pthread_mutex_lock(&up.mu);
	n = up.n;
	pthread_mutex_unlock(&up.mu);
	return n;
}

/* Requests in [from, to) (instance inst, 0: any). */
static int
count_between(const struct rec *r, int n, uint64_t from, uint64_t to,
    int inst)
{
	int	 i, c = 0;

	for (i = 0; i < n; i++)
		if (r[i].t >= from && r[i].t < to &&
		    (inst == 0 || r[i].inst == inst))
			c++;
	return c;
}

/* inst's requests in [from, to) as " ms:status", ms from t0, for a
 * failure message (a static buffer). */
static const char *
timeline(const struct rec *r, int n, int inst, uint64_t from, uint64_t to,
    uint64_t t0)
{
	static char	 b[2048];
	size_t		 o = 0;
	int		 i;

	b[0] = '\0';
	for (i = 0; i < n && o + 24 < sizeof(b); i++)
		if (r[i].inst == inst && r[i].t >= from && r[i].t < to)
			o += (size_t)snprintf(b + o, sizeof(b) - o, " %+lld:%d",
			    (long long)r[i].t - (long long)t0, r[i].status);
	return b;
}

/* The most 200s in any one quota window. */
static int
max_ok_per_window(const struct rec *r, int n)
{
	int	 i, j, c, most = 0;

	for (i = 0; i < n; i++) {
		if (r[i].win < 0 || (i > 0 && r[i].win == r[i - 1].win))
			continue;
		for (c = 0, j = i; j < n; j++)
			if (r[j].win == r[i].win && r[j].status == 200)
				c++;
		if (c > most)
			most = c;
	}
	return most;
}

static void	dump_status(void);

/* Wait up to timeout_ms for the upstream to see a request at or after t. */
static void
wait_upstream_past(uint64_t t, unsigned timeout_ms)
{
	uint64_t	 end = h_mono_ms() + timeout_ms;
	int		 n;

	for (;;) {
		pthread_mutex_lock(&up.mu);
		n = up.n > 0 && up.r[up.n - 1].t >= t;
		pthread_mutex_unlock(&up.mu);
		if (n)
			return;
		if (h_mono_ms() >= end) {
			dump_status();
			ck_abort_msg("the upstream saw nothing past %llu ms "
			    "for %u ms", (unsigned long long)t, timeout_ms);
		}
		h_nap_ms(10);
	}
}

/* Wait up to timeout_ms for the upstream to have seen n requests. */
static void
wait_upstream_n(int n, unsigned timeout_ms)
{
	uint64_t	 end = h_mono_ms() + timeout_ms;

	while (up_count() < n) {
		ck_assert_msg(h_mono_ms() < end, "the upstream saw %d "
		    "requests in %u ms, waited for %d", up_count(),
		    timeout_ms, n);
		h_nap_ms(10);
	}
}

/* --- clients -------------------------------------------------------------- */

/*
 * A client load: depth calls at once to one weir, each one answered
 * followed by the next, until total were made (total 0: until stop).
 * Runs curl multi in its own thread.
 */
struct pump {
	pthread_t	 th;
	uint16_t	 port;
	int		 total;
	int		 depth;
	const char	*hdr;
	atomic_int	 stop;
	atomic_int	 made, ok, bad;
	int		 bad_status;
	char		 bad_err[CURL_ERROR_SIZE];
	uint64_t	 t_start, t_end;
};

/* CURLOPT_WRITEFUNCTION: the body is not looked at. */
static size_t
discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

static CURL *
pump_easy(struct pump *p, struct curl_slist *hl)
{
	CURL	*e;
	char	 url[64];

	if ((e = curl_easy_init()) == NULL)
		abort();
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v2/flows",
	    (unsigned)p->port);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 60000L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	return e;
}

static int
pump_more(struct pump *p)
{
	return !atomic_load(&p->stop) &&
	    (p->total == 0 || atomic_load(&p->made) < p->total);
}

static void *
pump_run(void *arg)
{
	struct pump		*p = arg;
	struct curl_slist	*hl = NULL;
	CURLM			*m;
	CURLMsg			*msg;
	CURL			**e;
	long			 code;
	int			 i, running = 0, left;

	hl = curl_slist_append(hl, p->hdr);
	hl = curl_slist_append(hl, "Accept:");
	if ((m = curl_multi_init()) == NULL)
		abort();
	e = fake_alloc((size_t)p->depth * sizeof(*e));
	p->t_start = h_mono_ms();
	for (i = 0; i < p->depth; i++) {
		e[i] = pump_easy(p, hl);
		if (pump_more(p)) {
			atomic_fetch_add(&p->made, 1);
			curl_multi_add_handle(m, e[i]);
		}
	}
	do {
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			code = 0;
			curl_easy_getinfo(msg->easy_handle,
			    CURLINFO_RESPONSE_CODE, &code);
			if (msg->data.result == CURLE_OK && code == 200)
				atomic_fetch_add(&p->ok, 1);
			else {
				atomic_fetch_add(&p->bad, 1);
				p->bad_status = (int)code;
				snprintf(p->bad_err, sizeof(p->bad_err), "%s",
				    curl_easy_strerror(msg->data.result));
			}
			p->t_end = h_mono_ms();
			curl_multi_remove_handle(m, msg->easy_handle);
			if (pump_more(p)) {
				atomic_fetch_add(&p->made, 1);
				curl_multi_add_handle(m, msg->easy_handle);
				running++;
			}
		}
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 20, NULL);
	} while (running > 0);
	for (i = 0; i < p->depth; i++)
		curl_easy_cleanup(e[i]);
	free(e);
	curl_multi_cleanup(m);
	curl_slist_free_all(hl);
	return NULL;
}

static void
pump_start(struct pump *p, int w, int total, int depth)
{
	memset(p, 0, sizeof(*p));
	p->port = W[w].port;
	p->total = total;
	p->depth = depth;
	p->hdr = AUTH_HDR;
	ck_assert_int_eq(pthread_create(&p->th, NULL, pump_run, p), 0);
}

static void
pump_join(struct pump *p)
{
	pthread_join(p->th, NULL);
}

/* Every call of p was answered 200. */
static void
pump_assert_ok(const struct pump *p, const char *who)
{
	ck_assert_msg(p->bad == 0 && p->ok == p->made,
	    "%s: %d of %d calls not 200 (last: status %d, %s)", who,
	    (int)p->bad, (int)p->made, p->bad_status, p->bad_err);
}

/* Stop every weir's pump; each must have had only 200s. */
static void
pumps_stop(struct pump p[NW])
{
	int	 w;

	for (w = 0; w < NW; w++)
		atomic_store(&p[w].stop, 1);
	for (w = 0; w < NW; w++) {
		pump_join(&p[w]);
		pump_assert_ok(&p[w], "client");
	}
}

/* --- /status -------------------------------------------------------------- */

struct st {
	struct h_resp	 r;
	struct json	*j;
};

/* Why weir w did not answer: is it alive, and what it said last. */
static void
why_silent(int w, const char *err)
{
	char		*log, *tail;
	int		 status = 0;
	pid_t		 r;

	r = W[w].pid > 0 ? waitpid(W[w].pid, &status, WNOHANG) : -1;
	log = h_stderr_contents(&W[w]);
	tail = strlen(log) > 1500 ? log + strlen(log) - 1500 : log;
	ck_abort_msg("w%d /status: %s; weir %s (status %#x); its log ends: "
	    "%s", w + 1, err, r == 0 ? "runs" : "is gone", status, tail);
	free(log);
}

/* Weir w's /status, parsed; fails the test if there is none. */
static void
st_get(int w, struct st *s)
{
	struct h_req	 q = { .target = "/status", .timeout_ms = 5000 };

	memset(s, 0, sizeof(*s));
	if (h_request(AP[w], &q, &s->r) == -1 || s->r.status != 200)
		why_silent(w, s->r.err);
	s->j = json_parse((const char *)s->r.body, s->r.body_len, 100000);
	ck_assert_msg(s->j != NULL, "w%d /status is not JSON: %s", w + 1,
	    s->r.body);
}

static void
st_free(struct st *s)
{
	json_free(s->j);
	h_resp_free(&s->r);
}

/* The value at a path of up to three keys, or -1. */
static int
st_at(const struct st *s, const char *k1, const char *k2, const char *k3)
{
	const char	*k[3] = { k1, k2, k3 };
	int		 i, tok = 0;

	for (i = 0; i < 3 && k[i] != NULL; i++)
		if ((tok = json_get(s->j, tok, k[i])) == -1)
			return -1;
	return tok;
}

static double
st_num(const struct st *s, const char *k1, const char *k2, const char *k3)
{
	int		 tok = st_at(s, k1, k2, k3);
	const char	*v;
	char		 b[64];
	size_t		 n;

	if (tok == -1 || json_type(s->j, tok) != JSON_PRIMITIVE ||
	    (v = json_text(s->j, tok, &n)) == NULL || n >= sizeof(b))
		return NAN;
	memcpy(b, v, n);
	b[n] = '\0';
	return b[0] == 'n' || b[0] == 't' || b[0] == 'f' ? NAN :
	    strtod(b, NULL);
}

/* Is the string at the path equal to want? */
static int
st_is(const struct st *s, const char *k1, const char *k2, const char *want)
{
	char	 b[64];

	return json_string(s->j, st_at(s, k1, k2, NULL), b, sizeof(b)) == 0 &&
	    strcmp(b, want) == 0;
}

/* The true/false at a path: 1, 0, or -1. */
static int
st_bool(const struct st *s, const char *k1, const char *k2, const char *k3)
{
	int		 tok = st_at(s, k1, k2, k3);
	const char	*v;
	size_t		 n;

	if (tok == -1 || (v = json_text(s->j, tok, &n)) == NULL)
		return -1;
	return n == 4 && memcmp(v, "true", 4) == 0 ? 1 :
	    n == 5 && memcmp(v, "false", 5) == 0 ? 0 : -1;
}

/*
 * Poll the weirs in mask (bit w: weir w) until each reports mode and,
 * when instances > 0, that many instances; up to timeout_ms.  Fills
 * seen[w] with the first look that saw it and before[w] with the look
 * before that (the change happened in between); either may be NULL.
 */
static void
wait_mode(unsigned mask, const char *mode, int instances,
    unsigned timeout_ms, uint64_t *seen, uint64_t *before)
{
	uint64_t	 end = h_mono_ms() + timeout_ms, prev[NW], t;
	unsigned	 done = 0;
	struct st	 s;
	int		 w;

	for (w = 0; w < NW; w++)
		prev[w] = h_mono_ms();
	for (;;) {
		for (w = 0; w < NW; w++) {
			if (!(mask & (1u << w)) || (done & (1u << w)))
				continue;
			t = h_mono_ms();
			st_get(w, &s);
			if (st_is(&s, "redis", "mode", mode) &&
			    (instances == 0 || st_num(&s, "redis",
			    "instances", NULL) == instances)) {
				done |= 1u << w;
				if (seen != NULL)
					seen[w] = h_mono_ms();
				if (before != NULL)
					before[w] = prev[w];
			} else if (h_mono_ms() >= end)
				ck_abort_msg("w%d: waited %u ms for mode %s, "
				    "%d instances: %s", w + 1, timeout_ms,
				    mode, instances, s.r.body);
			prev[w] = t;
			st_free(&s);
		}
		if (done == mask)
			return;
		h_nap_ms(10);
	}
}

#define ALL	((1u << NW) - 1)

/* --- setup ---------------------------------------------------------------- */

static void
start_weir(int w)
{
	char		 redis[512], inst[64];
	const char	*env[] = {
		redis, RATE_ENV, BURST_ENV, inst, "WEIR_MAX_WAIT=60s",
		"WEIR_REDIS_TIMEOUT=200ms", NULL
	};

	snprintf(redis, sizeof(redis), "WEIR_REDIS=%s", RS.url);
	snprintf(inst, sizeof(inst), "WEIR_ADD_HEADER=X-Instance: w%d",
	    w + 1);
	h_start_or_abort(&W[w], fake_port(api), fake_port(login), NULL, env);
	AP[w] = h_admin_port(&W[w]);
	ck_assert_msg(AP[w] != 0, "w%d: no admin port", w + 1);
}

static void
setup(void)
{
	int	 w;

	pthread_mutex_lock(&up.mu);
	memset(up.r, 0, sizeof(up.r));
	up.n = up.nok = up.n429 = 0;
	up.started = up.forced = up.win = up.used = 0;
	up.force_after = -1;
	pthread_mutex_unlock(&up.mu);
	ck_assert_int_eq(rs_start(&RS, 0), 0);
	api = fake_start(upstream, NULL);
	login = fake_start(login_handler, NULL);
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(login);
	for (w = 0; w < NW; w++)
		start_weir(w);
	/* Everyone shared and counted by everyone: an instance learns the
	 * others at its announces, one a second. */
	wait_mode(ALL, "shared", NW, 5000, NULL, NULL);
}

/*
 * Stop everything.  Each weir still running must exit 0 on SIGTERM and
 * have logged no sanitizer report (a sanitized build's weir reports
 * there).
 */
static void
teardown(void)
{
	char	*log, why[1600] = "";
	int	 w, status;

	for (w = 0; w < NW; w++) {
		if (W[w].pid > 0) {
			kill(W[w].pid, SIGTERM);
			status = h_wait_exit(&W[w], 5000);
			log = h_stderr_contents(&W[w]);
			if (why[0] == '\0' && (status == -1 ||
			    !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
			    strstr(log, "Sanitizer") != NULL ||
			    strstr(log, "runtime error") != NULL))
				snprintf(why, sizeof(why), "w%d exited with "
				    "status %#x; its log ends: %s", w + 1, status,
				    strlen(log) > 1200 ? log + strlen(log) - 1200 :
				    log);
			free(log);
		}
		h_stop(&W[w]);
	}
	fake_stop(api);
	fake_stop(login);
	api = login = NULL;
	rs_stop(&RS);
	ck_assert_msg(why[0] == '\0', "%s", why);
}

/* Every live weir's /status, as TAP comments (when a test fails). */
static void
dump_status(void)
{
	struct h_req	 q = { .target = "/status", .timeout_ms = 2000 };
	struct h_resp	 r;
	int		 w;

	for (w = 0; w < NW; w++) {
		if (W[w].pid == 0)
			continue;
		h_request(AP[w], &q, &r);
		fprintf(stderr, "# w%d /status: %d %s%s\n", w + 1, r.status,
		    r.err, r.body != NULL ? (char *)r.body : "");
		h_resp_free(&r);
	}
}

/* The weirs' Redis counters, as a TAP comment. */
static void
report_redis(const char *test)
{
	struct st	 s;
	int		 w;

	for (w = 0; w < NW; w++) {
		if (W[w].pid == 0)
			continue;
		st_get(w, &s);
		fprintf(stderr, "# %s: w%d redis ops %g errors %g timeouts %g "
		    "reconnects %g granted %g wasted %g local_s %g\n", test,
		    w + 1, st_num(&s, "redis", "ops", NULL),
		    st_num(&s, "redis", "errors", NULL),
		    st_num(&s, "redis", "timeouts", NULL),
		    st_num(&s, "redis", "reconnects", NULL),
		    st_num(&s, "redis", "slots_granted", NULL),
		    st_num(&s, "redis", "slots_wasted", NULL),
		    st_num(&s, "redis", "local_s", NULL));
		st_free(&s);
	}
}

/* --- the tests ------------------------------------------------------------ */

/*
 * (a) Three weirs, 40 calls each at once: one quota between them.  No
 * 429 reaches a client, the upstream's windows never hold more than
 * LIMIT successes (it enforces that; weir must not make it say no
 * often), and the whole takes at least what the quota allows.
 */
START_TEST(test_three_overloaded_weirs_share_one_quota)
{
	struct pump	 p[NW];
	struct rec	*r;
	int		 w, n, ncalls = 0, most;
	uint64_t	 t0 = UINT64_MAX, t1 = 0, min_ms;

	for (w = 0; w < NW; w++)
		pump_start(&p[w], w, 40, 40);
	for (w = 0; w < NW; w++) {
		pump_join(&p[w]);
		pump_assert_ok(&p[w], "client");
		ncalls += p[w].made;
		t0 = p[w].t_start < t0 ? p[w].t_start : t0;
		t1 = p[w].t_end > t1 ? p[w].t_end : t1;
	}
	r = up_records(&n);
	most = max_ok_per_window(r, n);
	fprintf(stderr, "# (a) %d calls in %llu ms; upstream: %d requests, "
	    "%d x 429, %d windows, at most %d ok in one\n", ncalls,
	    (unsigned long long)(t1 - t0), n, up.n429, r[n - 1].win + 1, most);
	report_redis("(a)");
	ck_assert_int_eq(up.nok, ncalls);
	ck_assert_int_le(most, LIMIT);
	ck_assert_msg(up.n429 <= 6, "the upstream said 429 %d times", up.n429);
	/* ncalls successes need ncalls/LIMIT windows, each WINDOW_MS. */
	min_ms = (uint64_t)((ncalls + LIMIT - 1) / LIMIT - 1) * WINDOW_MS;
	ck_assert_msg(t1 - t0 >= min_ms, "%d calls in %llu ms, the quota "
	    "allows no less than %llu", ncalls,
	    (unsigned long long)(t1 - t0), (unsigned long long)min_ms);
	free(r);
}
END_TEST

/*
 * (b) All the load on w1, w2 and w3 idle: w1 gets the whole quota (the
 * idle ones hold no part of it): its first window takes LIMIT calls, and
 * the job takes about what the full rate implies, not three times that.
 */
START_TEST(test_one_busy_weir_gets_the_whole_quota)
{
	struct pump	 p;
	struct rec	*r;
	int		 i, n, first = 0, ncalls = 80;
	uint64_t	 quota_ms = (uint64_t)ncalls * WINDOW_MS / LIMIT;
	uint64_t	 took;

	pump_start(&p, 0, ncalls, ncalls);
	pump_join(&p);
	pump_assert_ok(&p, "client of w1");
	took = p.t_end - p.t_start;
	r = up_records(&n);
	for (i = 0; i < n; i++)
		if (r[i].win == 0 && r[i].status == 200)
			first++;
	fprintf(stderr, "# (b) %d calls on w1 in %llu ms (full rate: %llu "
	    "ms); upstream: %d x 429, %d ok in the first window\n", ncalls,
	    (unsigned long long)took, (unsigned long long)quota_ms, up.n429,
	    first);
	report_redis("(b)");
	ck_assert_int_eq(count_between(r, n, 0, UINT64_MAX, 2) +
	    count_between(r, n, 0, UINT64_MAX, 3), 0);
	ck_assert_int_eq(first, LIMIT);
	ck_assert_int_eq(up.nok, ncalls);
	ck_assert_msg(took * 10 <= quota_ms * 13, "%d calls took %llu ms; "
	    "the whole quota does them in %llu ms", ncalls,
	    (unsigned long long)took, (unsigned long long)quota_ms);
	free(r);
}
END_TEST

/*
 * (c) A 429 on w1 (Retry-After: 2, outside the quota) while all three
 * have load: the others stop at once (the pause is published), nobody
 * sends until it ends, and after it the tenant restarts with an empty
 * bucket: no burst.
 */
START_TEST(test_a_429_on_one_weir_pauses_all)
{
	struct pump	 p[NW];
	struct rec	*r;
	struct st	 s;
	uint64_t	 t429, end_ms;
	uint64_t	 paused_ms[NW] = { 0 };
	int		 w, n, during, after, paused;

	pthread_mutex_lock(&up.mu);
	/* Past the first window's burst and its 429: paced sending. */
	up.force_after = LIMIT + 20;
	pthread_mutex_unlock(&up.mu);
	for (w = 0; w < NW; w++)
		pump_start(&p[w], w, 0, 10);
	for (end_ms = h_mono_ms() + 10000;;) {
		pthread_mutex_lock(&up.mu);
		t429 = up.forced ? up.forced_t : 0;
		pthread_mutex_unlock(&up.mu);
		if (t429 != 0)
			break;
		ck_assert_msg(h_mono_ms() < end_ms, "w1 sent nothing past "
		    "%d requests", LIMIT + 20);
		h_nap_ms(5);
	}
	/* The others hear of the pause at once (the fake recorded the 429
	 * before answering it: w1 has not seen it yet). */
	for (w = 1; w < NW; w++)
		for (;;) {
			st_get(w, &s);
			paused = st_bool(&s, "tenants", CLIENT, "paused");
			st_free(&s);
			if (paused == 1) {
				paused_ms[w] = h_mono_ms() - t429;
				break;
			}
			ck_assert_msg(h_mono_ms() < t429 + 1000, "w%d not "
			    "paused 1 s after w1's 429", w + 1);
			h_nap_ms(5);
		}
	wait_upstream_past(t429 + 2000 + 300, 5000);
	pumps_stop(p);
	r = up_records(&n);
	during = count_between(r, n, t429 + 100, t429 + 2000, 0);
	after = count_between(r, n, t429 + 2000, t429 + 2300, 0);
	fprintf(stderr, "# (c) forced 429 at +%llu ms; %d requests in the "
	    "pause (>100 ms after it), %d in the 300 ms after it; upstream: "
	    "%d requests, %d x 429 in all; w2, w3 seen paused %llu, %llu ms "
	    "after it\n", (unsigned long long)(t429 - p[0].t_start), during,
	    after, n, up.n429, (unsigned long long)paused_ms[1],
	    (unsigned long long)paused_ms[2]);
	report_redis("(c)");
	ck_assert_msg(during == 0, "%d requests during the pause (w2 %d, w3 "
	    "%d)", during, count_between(r, n, t429 + 100, t429 + 2000, 2),
	    count_between(r, n, t429 + 100, t429 + 2000, 3));
	ck_assert_msg(after <= LIMIT * 300 / WINDOW_MS + 2, "%d requests in "
	    "the 300 ms after the pause: a burst", after);
	ck_assert_int_gt(after, 0);
	free(r);
}
END_TEST

/* Does any key or value in Redis hold s?  Fails the test if it cannot
 * look. */
static int
redis_holds(const char *s, int *ntok)
{
	redisContext	*c = rs_connect(&RS);
	redisReply	*keys, *t, *v;
	size_t		 i, j;
	int		 found = 0;

	ck_assert_ptr_nonnull(c);
	keys = redisCommand(c, "KEYS *");
	ck_assert_ptr_nonnull(keys);
	ck_assert_int_eq(keys->type, REDIS_REPLY_ARRAY);
	*ntok = 0;
	for (i = 0; i < keys->elements; i++) {
		const char *k = keys->element[i]->str;

		if (strstr(k, s) != NULL)
			found = 1;
		if (strstr(k, "tok:") != NULL)
			(*ntok)++;
		t = redisCommand(c, "TYPE %s", k);
		ck_assert_ptr_nonnull(t);
		if (strcmp(t->str, "string") == 0)
			v = redisCommand(c, "GET %s", k);
		else if (strcmp(t->str, "hash") == 0)
			v = redisCommand(c, "HGETALL %s", k);
		else if (strcmp(t->str, "zset") == 0)
			v = redisCommand(c, "ZRANGE %s 0 -1 WITHSCORES", k);
		else if (strcmp(t->str, "set") == 0)
			v = redisCommand(c, "SMEMBERS %s", k);
		else
			v = redisCommand(c, "LRANGE %s 0 -1", k);
		ck_assert_ptr_nonnull(v);
		if (v->type == REDIS_REPLY_STRING && strstr(v->str, s))
			found = 1;
		for (j = 0; v->type == REDIS_REPLY_ARRAY && j < v->elements;
		    j++)
			if (v->element[j]->type == REDIS_REPLY_STRING &&
			    strstr(v->element[j]->str, s) != NULL)
				found = 1;
		freeReplyObject(v);
		freeReplyObject(t);
	}
	freeReplyObject(keys);
	redisFree(c);
	return found;
}

/* The value of the one "tok:" key in Redis, or "" (up to timeout_ms). */
static void
wait_token_key(char *out, size_t outlen, unsigned timeout_ms)
{
	uint64_t	 end = h_mono_ms() + timeout_ms;
	redisContext	*c = rs_connect(&RS);
	redisReply	*keys, *v;

	ck_assert_ptr_nonnull(c);
	out[0] = '\0';
	for (;;) {
		keys = redisCommand(c, "KEYS *tok:*");
		ck_assert_ptr_nonnull(keys);
		if (keys->type == REDIS_REPLY_ARRAY && keys->elements == 1) {
			v = redisCommand(c, "GET %s", keys->element[0]->str);
			ck_assert_ptr_nonnull(v);
			if (v->type == REDIS_REPLY_STRING)
				snprintf(out, outlen, "%s", v->str);
			freeReplyObject(v);
		}
		freeReplyObject(keys);
		if (out[0] != '\0' || h_mono_ms() >= end)
			break;
		h_nap_ms(5);
	}
	redisFree(c);
}

/*
 * (d) A token issued through w1 is its client's on w2 too: w2 asks
 * Redis, which holds the token's digest, never the token.
 */
START_TEST(test_a_token_issued_by_one_weir_is_known_to_all)
{
	static const char	 form[] = "grant_type=client_credentials";
	const char		*th[] = { AUTH_HDR, "Content-Type: "
				    "application/x-www-form-urlencoded",
				    NULL };
	const char		*bh[] = { "Authorization: Bearer " TOKEN,
				    NULL };
	struct h_req		 q = { .method = "POST",
				    .target = "/oauth/token", .headers = th,
				    .body = form, .body_len = sizeof(form) - 1,
				    .has_body = 1 };
	struct h_req		 g = { .target = "/api/v2/flows",
				    .headers = bh };
	struct h_resp		 resp;
	struct fake_req		*fr;
	struct st		 s;
	char			 client[64], *log;
	int			 w, i, ntok, from_w2 = 0;

	ck_assert_int_eq(h_request(W[0].port, &q, &resp), 0);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_ptr_nonnull(strstr((char *)resp.body, TOKEN));
	h_resp_free(&resp);
	wait_token_key(client, sizeof(client), 2000);
	ck_assert_str_eq(client, CLIENT);

	ck_assert_int_eq(h_request(W[1].port, &g, &resp), 0);
	ck_assert_int_eq(resp.status, 200);
	h_resp_free(&resp);
	for (i = 0; (fr = fake_req_get(api, (size_t)i)) != NULL; i++) {
		const char *a = fake_req_header(fr, "Authorization");
		const char *x = fake_req_header(fr, "X-Instance");

		if (a != NULL && x != NULL && strcmp(x, "w2") == 0 &&
		    strcmp(a, "Bearer " TOKEN) == 0)
			from_w2++;
		fake_req_free(fr);
	}
	ck_assert_int_eq(from_w2, 1);

	st_get(1, &s);
	ck_assert_msg(st_at(&s, "tenants", CLIENT, NULL) != -1,
	    "w2 has no tenant %s: %s", CLIENT, s.r.body);
	ck_assert_msg(strstr((char *)s.r.body, "\"tok:") == NULL,
	    "w2 keyed the call by its token: %s", s.r.body);
	st_free(&s);

	ck_assert_msg(!redis_holds(TOKEN, &ntok), "Redis holds the token");
	ck_assert_int_eq(ntok, 1);
	for (w = 0; w < NW; w++) {
		log = h_stderr_contents(&W[w]);
		ck_assert_msg(strstr(log, TOKEN) == NULL, "w%d logged the "
		    "token", w + 1);
		free(log);
	}
	fprintf(stderr, "# (d) w2 took the token for %s; Redis holds %d "
	    "token key, no token text\n", client, ntok);
}
END_TEST

enum fault { F_KILL, F_STOP, F_FLUSH, F_DEL };

/* Run cmd (arg: its one %s) on the test's own connection to Redis;
 * fails on an error. */
static void
redis_do(const char *cmd, const char *arg)
{
	redisContext	*c = rs_connect(&RS);
	redisReply	*rep;

	ck_assert_ptr_nonnull(c);
	rep = redisCommand(c, cmd, arg);
	ck_assert_msg(rep != NULL && rep->type != REDIS_REPLY_ERROR,
	    "%s: %s", cmd, rep != NULL ? rep->str : c->errstr);
	freeReplyObject(rep);
	redisFree(c);
}

/*
 * Redis fails while three weirs have load.  Kill (then an empty restart)
 * and stop (then continue): the weirs go local at once, pace at a third
 * each, never fail a call, and come back to shared with an empty bucket.
 * A script flush: they load the scripts again and stay shared.  The
 * tenant's state lost (its key gone, as when it expires or is evicted,
 * after a 429 bumped its epoch): they carry on, shared.
 */
static void
fault_run(enum fault f, const char *name)
{
	struct pump	 p[NW];
	struct rec	*r;
	struct st	 s;
	uint64_t	 t_fault, seen[NW], before[NW], t_local, t_back, t_all;
	uint64_t	 end_ms, dt;
	double		 errors0[NW];
	int		 w, n, i, most, n429_local = 0, back[NW], max429;

	for (w = 0; w < NW; w++)
		pump_start(&p[w], w, 0, 10);
	/* Past the first window's burst and its 429. */
	wait_upstream_n(LIMIT + 20, 10000);
	for (w = 0; w < NW; w++) {
		st_get(w, &s);
		errors0[w] = st_num(&s, "redis", "errors", NULL);
		st_free(&s);
	}
	t_fault = h_mono_ms();
	switch (f) {
	case F_KILL:
		rs_kill(&RS);
		break;
	case F_STOP:
		rs_pause(&RS);
		break;
	case F_FLUSH:
		redis_do("SCRIPT FLUSH", NULL);
		break;
	case F_DEL:
		/* The first window's 429 made epoch 1 (or more). */
		for (w = 0; w < NW; w++) {
			st_get(w, &s);
			ck_assert_msg(st_num(&s, "tenants", CLIENT,
			    "shared_epoch") >= 1, "w%d: %s", w + 1, s.r.body);
			st_free(&s);
		}
		t_fault = h_mono_ms();
		redis_do("EVAL %s 0", "for _, k in ipairs(redis.call('KEYS', "
		    "'weir:{*}:t')) do redis.call('DEL', k) end");
		break;
	}
	if (f == F_FLUSH || f == F_DEL) {
		/* Shared throughout, and calls keep going. */
		n = up_count();
		for (end_ms = h_mono_ms() + 1500; h_mono_ms() < end_ms;) {
			for (w = 0; w < NW; w++) {
				st_get(w, &s);
				ck_assert_msg(st_is(&s, "redis", "mode",
				    "shared") && st_num(&s, "redis", "errors",
				    NULL) == errors0[w], "w%d after the fault: "
				    "%s", w + 1, s.r.body);
				st_free(&s);
			}
			h_nap_ms(20);
		}
		ck_assert_msg(up_count() - n >= LIMIT / 2, "%d requests in "
		    "1.5 s after the fault", up_count() - n);
		t_local = t_back = t_all = t_fault;
		for (w = 0; w < NW; w++)
			seen[w] = before[w] = t_fault;
	} else {
		wait_mode(ALL, "local", NW, 3000, seen, NULL);
		t_local = seen[0];
		for (w = 1; w < NW; w++)
			t_local = seen[w] > t_local ? seen[w] : t_local;
		/* Local: a third of the rate each. */
		for (w = 0; w < NW; w++) {
			st_get(w, &s);
			ck_assert_msg(fabs(st_num(&s, "tenants", CLIENT,
			    "rate") - (double)LIMIT * 1000 / WINDOW_MS / NW) <
			    0.01, "w%d local: %s", w + 1, s.r.body);
			st_free(&s);
		}
		/* An outage of about a second. */
		while (h_mono_ms() < t_fault + 1000)
			h_nap_ms(20);
		if (f == F_KILL)
			ck_assert_int_eq(rs_restart(&RS), 0);
		else
			rs_resume(&RS);
		wait_mode(ALL, "shared", 0, 6000, seen, before);
		t_back = t_all = seen[0];
		for (w = 1; w < NW; w++) {
			t_back = seen[w] < t_back ? seen[w] : t_back;
			t_all = seen[w] > t_all ? seen[w] : t_all;
		}
		/* Keep the load on a while in shared mode. */
		wait_upstream_past(t_all + 400, 5000);
	}
	pumps_stop(p);
	r = up_records(&n);
	most = max_ok_per_window(r, n);
	for (i = 0; i < n; i++)
		if (r[i].t >= t_fault && r[i].t < t_all && r[i].status == 429)
			n429_local++;
	/* Each weir's first 200 ms back in shared mode (from the look
	 * before the one that saw it back). */
	for (w = 0; w < NW; w++)
		back[w] = count_between(r, n, before[w], seen[w] + 200, w + 1);
	if (f == F_KILL || f == F_STOP)
		fprintf(stderr, "# %s: all local %llu ms after the fault, "
		    "back in shared mode %llu..%llu ms after it; %d x 429 "
		    "meanwhile; ", name,
		    (unsigned long long)(t_local - t_fault),
		    (unsigned long long)(t_back - t_fault),
		    (unsigned long long)(t_all - t_fault), n429_local);
	else
		fprintf(stderr, "# %s: shared throughout; ", name);
	fprintf(stderr, "each weir's first 200 ms %s: %d, %d, %d requests; "
	    "upstream: %d requests, %d x 429 in all, at most %d ok in a "
	    "window\n", f == F_KILL || f == F_STOP ? "back" :
	    "after the fault", back[0], back[1], back[2], n, up.n429, most);
	report_redis(name);
	ck_assert_int_le(most, LIMIT);
	/*
	 * Local, each weir paces at a third: the three together run at the
	 * rate, but each bucket's own phase against the upstream's window
	 * can cost a 429 at a window's edge, one per weir at most.
	 */
	max429 = NW * (int)((t_all - t_fault + WINDOW_MS - 1) / WINDOW_MS + 1);
	ck_assert_msg(n429_local <= max429, "%d 429s while local (at most "
	    "%d)", n429_local, max429);
	/*
	 * No burst on the way back: each weir at most the rate, even were it
	 * alone, plus what it may have spent locally just before (a weir
	 * paused by a 429 while local restarts at the window's start with a
	 * third of the burst), and some slack.  A full shared bucket would
	 * be LIMIT at once.
	 */
	for (w = 0; w < NW && (f == F_KILL || f == F_STOP); w++) {
		dt = seen[w] + 200 - before[w];
		if (back[w] > (int)(dt * LIMIT / WINDOW_MS) + LIMIT / NW + 3)
			ck_abort_msg("w%d: %d requests in its first %llu ms "
			    "back in shared mode (seen at +%llu ms):%s", w + 1,
			    back[w], (unsigned long long)dt,
			    (unsigned long long)(seen[w] - before[w]),
			    timeline(r, n, w + 1, before[w] - 1000,
			    seen[w] + 400, before[w]));
	}
	free(r);
}

START_TEST(test_redis_killed_and_restarted_empty)
{
	fault_run(F_KILL, "(e) kill");
}
END_TEST

START_TEST(test_redis_stopped_for_a_second)
{
	fault_run(F_STOP, "(e) stop");
}
END_TEST

START_TEST(test_redis_scripts_flushed)
{
	fault_run(F_FLUSH, "(e) flush");
}
END_TEST

START_TEST(test_redis_loses_the_tenants_key)
{
	fault_run(F_DEL, "(e) key lost");
}
END_TEST

/*
 * (f) A weir killed outright stops being counted once its announce runs
 * out; the two left then split the limits in halves when Redis goes.
 */
START_TEST(test_a_dead_weir_leaves_the_count)
{
	struct h_req	 q = { .target = "/api/v2/flows",
			    .headers = (const char *[]){ AUTH_HDR, NULL } };
	struct h_resp	 resp;
	struct st	 s;
	uint64_t	 t_kill, seen[NW];
	int		 w, status;

	/* Both survivors know the tenant. */
	for (w = 0; w < 2; w++) {
		ck_assert_int_eq(h_request(W[w].port, &q, &resp), 0);
		ck_assert_int_eq(resp.status, 200);
		h_resp_free(&resp);
	}
	t_kill = h_mono_ms();
	kill(W[2].pid, SIGKILL);
	waitpid(W[2].pid, &status, 0);
	W[2].pid = 0;
	wait_mode(3, "shared", 2, 6000, seen, NULL);
	fprintf(stderr, "# (f) w3 killed: w1 counts 2 after %llu ms, w2 "
	    "after %llu ms\n", (unsigned long long)(seen[0] - t_kill),
	    (unsigned long long)(seen[1] - t_kill));
	rs_kill(&RS);
	wait_mode(3, "local", 2, 3000, NULL, NULL);
	for (w = 0; w < 2; w++) {
		st_get(w, &s);
		ck_assert_msg(fabs(st_num(&s, "tenants", CLIENT, "rate") -
		    (double)LIMIT * 1000 / WINDOW_MS / 2) < 0.01 &&
		    st_num(&s, "tenants", CLIENT, "rate_configured") ==
		    (double)LIMIT * 1000 / WINDOW_MS, "w%d: %s", w + 1,
		    s.r.body);
		st_free(&s);
		/* And calls still go. */
		ck_assert_int_eq(h_request(W[w].port, &q, &resp), 0);
		ck_assert_int_eq(resp.status, 200);
		h_resp_free(&resp);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("shared");
	TCase	*tc;

#define TC(name) do {							\
	tc = tcase_create(name);					\
	tcase_add_checked_fixture(tc, setup, teardown);			\
	tcase_set_timeout(tc, 60);					\
	suite_add_tcase(s, tc);						\
} while (0)
	TC("quota");
	tcase_add_test(tc, test_three_overloaded_weirs_share_one_quota);
	tcase_add_test(tc, test_one_busy_weir_gets_the_whole_quota);
	tcase_add_test(tc, test_a_429_on_one_weir_pauses_all);
	tcase_add_test(tc, test_a_token_issued_by_one_weir_is_known_to_all);
	TC("faults");
	tcase_add_test(tc, test_redis_killed_and_restarted_empty);
	tcase_add_test(tc, test_redis_stopped_for_a_second);
	tcase_add_test(tc, test_redis_scripts_flushed);
	tcase_add_test(tc, test_redis_loses_the_tenants_key);
	tcase_add_test(tc, test_a_dead_weir_leaves_the_count);
#undef TC
	return s;
}

int
main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return tap_run(suite());
}
