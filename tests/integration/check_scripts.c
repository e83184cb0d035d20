/*
 * check_scripts.c - the Redis Lua scripts (scripts.h) through a real
 * redis-server, and the rserver helper that runs it.
 *
 * Each test gets a fresh redis-server on a unix socket (rserver.h) in its
 * forked child.  The scripts read the time with Redis TIME, so results
 * are checked against relations (d0 and n, spacing T) and tolerances,
 * never against absolute times.  Where a test needs the script's own
 * "now", it derives it exactly from the stored tat (reserve leaves
 * tat = max(tat, now) - ... see now_of()) and checks it lies between the
 * client's clock readings around the call.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "rserver.h"
#include "scripts.h"
#include "tap.h"

static struct rserver	 S;
static redisContext	*R;

#define MS	1000LL		/* microseconds */
#define SEC	1000000LL

static void
nap_ms(unsigned ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* CLOCK_REALTIME in microseconds: the clock Redis TIME reads. */
static long long
real_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * SEC + ts.tv_nsec / 1000;
}

static void
setup(void)
{
	scripts_init();
	ck_assert_int_eq(rs_start(&S, 0), 0);
	R = rs_connect(&S);
	ck_assert_ptr_nonnull(R);
}

static void
teardown(void)
{
	redisFree(R);
	R = NULL;
	rs_stop(&S);
}

/* A command's reply; fails the test when there is none. */
static redisReply *
cmd(const char *fmt, const char *a, const char *b)
{
	redisReply	*r;

	r = redisCommand(R, fmt, a, b);
	ck_assert_msg(r != NULL, "redis: %s", R->errstr);
	return r;
}

static long long
cmd_int(const char *fmt, const char *a, const char *b)
{
	redisReply	*r = cmd(fmt, a, b);
	long long	 v;

	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

/*
 * Run s on key with args (NULL-terminated) as weir will: EVALSHA, and
 * EVAL when Redis answers NOSCRIPT.  Fails the test on an error reply.
 */
static redisReply *
run(const struct script *s, const char *key, const char *const *args)
{
	const char	*argv[16];
	redisReply	*r;
	int		 n = 0, i;

	argv[n++] = "EVALSHA";
	argv[n++] = s->sha1;
	argv[n++] = "1";
	argv[n++] = key;
	for (i = 0; args[i] != NULL; i++)
		argv[n++] = args[i];
	r = redisCommandArgv(R, n, argv, NULL);
	ck_assert_msg(r != NULL, "redis: %s", R->errstr);
	if (r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		argv[0] = "EVAL";
		argv[1] = s->text;
		r = redisCommandArgv(R, n, argv, NULL);
		ck_assert_msg(r != NULL, "redis: %s", R->errstr);
	}
	ck_assert_msg(r->type != REDIS_REPLY_ERROR, "%s: %s", s->name,
	    r->type == REDIS_REPLY_ERROR ? r->str : "");
	return r;
}

/* The integers of an array reply of n of them, into v. */
static void
ints(redisReply *r, long long *v, size_t n)
{
	size_t	i;

	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_uint_eq(r->elements, n);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(r->element[i]->type, REDIS_REPLY_INTEGER);
		v[i] = r->element[i]->integer;
	}
	freeReplyObject(r);
}

struct grant {
	long long	n, d0, T, epoch, pause_left, limit, mismatch;
	long long	before, after;	/* real_us() around the call */
};

static struct grant
reserve(const char *key, long long k, long long T, long long burst,
    long long horizon, int floor)
{
	char		 a[5][24];
	const char	*args[6];
	long long	 v[7];
	struct grant	 g;
	int		 i;

	snprintf(a[0], sizeof(a[0]), "%lld", k);
	snprintf(a[1], sizeof(a[1]), "%lld", T);
	snprintf(a[2], sizeof(a[2]), "%lld", burst);
	snprintf(a[3], sizeof(a[3]), "%lld", horizon);
	snprintf(a[4], sizeof(a[4]), "%d", floor);
	for (i = 0; i < 5; i++)
		args[i] = a[i];
	args[5] = NULL;
	g.before = real_us();
	ints(run(&script_reserve, key, args), v, 7);
	g.after = real_us();
	g.n = v[0];
	g.d0 = v[1];
	g.T = v[2];
	g.epoch = v[3];
	g.pause_left = v[4];
	g.limit = v[5];
	g.mismatch = v[6];
	return g;
}

struct paused {
	long long	left, epoch, limit;
};

static struct paused
pause_for(const char *key, long long wait, long long limit, long long T,
    long long burst)
{
	char		 a[4][24];
	const char	*args[5];
	long long	 v[3];
	struct paused	 p;
	int		 i;

	snprintf(a[0], sizeof(a[0]), "%lld", wait);
	snprintf(a[1], sizeof(a[1]), "%lld", limit);
	snprintf(a[2], sizeof(a[2]), "%lld", T);
	snprintf(a[3], sizeof(a[3]), "%lld", burst);
	for (i = 0; i < 4; i++)
		args[i] = a[i];
	args[4] = NULL;
	ints(run(&script_pause, key, args), v, 3);
	p.left = v[0];
	p.epoch = v[1];
	p.limit = v[2];
	return p;
}

static long long
announce(const char *key, const char *id, long long ttl_ms, int leaving)
{
	char		 ttl[24], lv[4];
	const char	*args[] = { id, ttl, lv, NULL };
	redisReply	*r;
	long long	 n;

	snprintf(ttl, sizeof(ttl), "%lld", ttl_ms);
	snprintf(lv, sizeof(lv), "%d", leaving);
	r = run(&script_announce, key, args);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	n = r->integer;
	freeReplyObject(r);
	return n;
}

/* A field of the tenant hash, as stored: digits only, or -1 if absent. */
static long long
field(const char *key, const char *name)
{
	redisReply	*r = cmd("HGET %s %s", key, name);
	long long	 v = -1;
	size_t		 i;

	if (r->type == REDIS_REPLY_STRING) {
		for (i = 0; i < r->len; i++)
			ck_assert_msg(r->str[i] >= '0' && r->str[i] <= '9',
			    "%s stored as \"%s\"", name, r->str);
		v = strtoll(r->str, NULL, 10);
	} else
		ck_assert_int_eq(r->type, REDIS_REPLY_NIL);
	freeReplyObject(r);
	return v;
}

static long long
pttl(const char *key)
{
	return cmd_int("PTTL %s", key, NULL);
}

/*
 * The script's own "now" for a reserve that was not paused, from the tat
 * it stored: tat = tat0 + n*T, c0 = tat0 - tau, d0 = c0 - now.
 */
static long long
now_of(const char *key, const struct grant *g, long long burst)
{
	long long	now;

	now = field(key, "tat") - g->n * g->T - (burst - 1) * g->T - g->d0;
	ck_assert_int_ge(now, g->before);
	ck_assert_int_le(now, g->after);
	return now;
}

START_TEST(test_sha1_is_what_script_load_answers)
{
	struct script	*all[] = { &script_reserve, &script_pause,
			    &script_announce };
	char		 before[41];
	redisReply	*r;
	size_t		 i;

	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(strlen(all[i]->sha1), 40);
		r = cmd("SCRIPT LOAD %s", all[i]->text, NULL);
		ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
		ck_assert_str_eq(r->str, all[i]->sha1);
		freeReplyObject(r);
		memcpy(before, all[i]->sha1, sizeof(before));
		scripts_init();
		ck_assert_str_eq(all[i]->sha1, before);
	}
}
END_TEST

START_TEST(test_reserve_empty_key_is_a_full_bucket)
{
	const char	*key = "w:{a}:t";
	struct grant	 g;
	long long	 T = SEC, tat;

	/* All burst slots due at once: the first (burst-1)*T ago. */
	g = reserve(key, 5, T, 5, 0, 0);
	ck_assert_int_eq(g.n, 5);
	ck_assert_int_eq(g.d0, -4 * T);
	ck_assert_int_eq(g.T, T);
	ck_assert_int_eq(g.epoch, 0);
	ck_assert_int_eq(g.pause_left, 0);
	ck_assert_int_eq(g.limit, 0);
	ck_assert_int_eq(g.mismatch, 0);

	/* Stored exact: 16 digits of microseconds, not 14 (tostring). */
	tat = field(key, "tat");
	ck_assert_int_ge(tat, 1000000000000000LL);
	ck_assert_int_eq(field(key, "T"), T);
	ck_assert_int_eq(field(key, "burst"), 5);
	ck_assert_int_eq(field(key, "epoch"), -1);

	/* Then one per T: the next is T after the first call, and a k of 10
	 * is cut to what fits in the horizon (2.5 T: 2 slots). */
	g = reserve(key, 10, T, 5, 2500 * MS, 0);
	ck_assert_int_le(g.d0, T);
	ck_assert_int_gt(g.d0, T - 500 * MS);
	ck_assert_int_eq(g.n, 1 + (2500 * MS - g.d0) / T);
	ck_assert_int_eq(g.n, 2);
	ck_assert_int_eq(field(key, "tat"), tat + 2 * T);

	/* Horizon 0: only slots due now, and none is. */
	g = reserve(key, 1, T, 5, 0, 0);
	ck_assert_int_eq(g.n, 0);
	ck_assert_int_le(g.d0, 3 * T);
	ck_assert_int_gt(g.d0, 3 * T - 500 * MS);
	ck_assert_int_eq(field(key, "tat"), tat + 2 * T);
}
END_TEST

/*
 * Slots as an instance sends them (at now + max(0, d0 + i*T)) never break
 * GCRA: any window [s_m, s_j] holds at most burst + (s_j - s_m)/T slots.
 * (The brief's bound, burst + (t - t_first)/T + 1, is the looser form of
 * the window starting at the first slot.)
 */
START_TEST(test_reserve_never_exceeds_gcra)
{
	const char	*key = "w:{gcra}:t";
	const long long	 T = 1 * MS, burst = 10, horizon = 5 * MS;
	long long	 sent[4096], now, s, k;
	size_t		 nsent = 0, m;
	unsigned	 seed = 12345;
	struct grant	 g;
	int		 call, i;

	for (call = 0; call < 400; call++) {
		k = 1 + rand_r(&seed) % 8;
		g = reserve(key, k, T, burst, horizon, 0);
		ck_assert_int_eq(g.T, T);
		ck_assert_int_ge(g.n, 0);
		ck_assert_int_le(g.n, k);
		/* all that fit in the horizon, none beyond it */
		if (g.n > 0)
			ck_assert_int_le(g.d0 + (g.n - 1) * T, horizon);
		if (g.n < k)
			ck_assert_int_gt(g.d0 + g.n * T, horizon);
		now = now_of(key, &g, burst);
		for (i = 0; i < g.n; i++) {
			s = now + (g.d0 + i * T > 0 ? g.d0 + i * T : 0);
			ck_assert_uint_lt(nsent, sizeof(sent) / sizeof(sent[0]));
			if (nsent > 0)
				ck_assert_int_ge(s, sent[nsent - 1]);
			sent[nsent++] = s;
			for (m = 0; m < nsent; m++)
				ck_assert_msg(((long long)nsent - (long long)m -
				    burst) * T <= s - sent[m], "slot %zu at %lld: %zu "
				    "since slot %zu at %lld", nsent - 1, s,
				    nsent - m, m, sent[m]);
		}
		if (rand_r(&seed) % 16 == 0)
			nap_ms(1 + rand_r(&seed) % 3);	/* let it refill */
	}
	ck_assert_uint_ge(nsent, burst);
}
END_TEST

START_TEST(test_floor_on_empty_key_gives_no_burst)
{
	struct grant	g;

	g = reserve("w:{f}:t", 5, 100 * MS, 5, 50 * MS, 1);
	ck_assert_int_eq(g.n, 1);
	ck_assert_int_eq(g.d0, 0);
}
END_TEST

START_TEST(test_floor_empties_a_full_bucket)
{
	const char	*key = "w:{f}:t";
	struct grant	 g;

	g = reserve(key, 1, SEC, 5, 0, 0);
	ck_assert_int_eq(g.n, 1);
	ck_assert_int_eq(g.d0, -4 * SEC);	/* 4 more could go now */
	g = reserve(key, 5, SEC, 5, 500 * MS, 1);
	ck_assert_int_eq(g.n, 1);
	ck_assert_int_eq(g.d0, 0);
	g = reserve(key, 5, SEC, 5, 500 * MS, 0);
	ck_assert_int_eq(g.n, 0);
	ck_assert_int_gt(g.d0, 500 * MS);
	ck_assert_int_le(g.d0, SEC);
}
END_TEST

START_TEST(test_pause)
{
	const char	*key = "w:{p}:t";
	const long long	 T = 100 * MS;
	struct grant	 g;
	struct paused	 p;

	g = reserve(key, 1, T, 5, 0, 0);
	ck_assert_int_eq(g.n, 1);

	p = pause_for(key, 300 * MS, 0, T, 5);
	ck_assert_int_eq(p.left, 300 * MS);
	ck_assert_int_eq(p.epoch, 1);
	ck_assert_int_eq(p.limit, 0);

	/* Nothing while paused; the first slot could go at its end. */
	g = reserve(key, 5, T, 5, 50 * MS, 0);
	ck_assert_int_eq(g.n, 0);
	ck_assert_int_eq(g.epoch, 1);
	ck_assert_int_gt(g.pause_left, 150 * MS);
	ck_assert_int_le(g.pause_left, 300 * MS);
	ck_assert_int_eq(g.d0, g.pause_left);

	/* An earlier end changes nothing... */
	p = pause_for(key, 100 * MS, 0, T, 5);
	ck_assert_int_eq(p.epoch, 1);
	ck_assert_int_gt(p.left, 150 * MS);
	ck_assert_int_le(p.left, 300 * MS);
	/* ...a later one moves the end and the epoch. */
	p = pause_for(key, 400 * MS, 0, T, 5);
	ck_assert_int_eq(p.epoch, 2);
	ck_assert_int_eq(p.left, 400 * MS);

	/* After it: no burst (5), the first slot at its end, then one per
	 * T: 1 + (horizon + lateness)/T of them. */
	nap_ms((unsigned)(p.left / MS) + 20);
	g = reserve(key, 10, T, 5, 150 * MS, 0);
	ck_assert_int_eq(g.pause_left, 0);
	ck_assert_int_eq(g.epoch, 2);
	ck_assert_int_le(g.d0, -20 * MS);
	ck_assert_int_gt(g.d0, -T);
	ck_assert_int_eq(g.n, 1 + (150 * MS - g.d0) / T);
	ck_assert_int_lt(g.n, 5);
}
END_TEST

START_TEST(test_pause_limit_lengthens_the_interval)
{
	const char	*key = "w:{l}:t";
	struct grant	 g;
	struct paused	 p;

	p = pause_for(key, 10 * MS, 60, 10 * MS, 3);
	ck_assert_int_eq(p.limit, 60);
	ck_assert_int_eq(p.epoch, 1);
	nap_ms(20);
	g = reserve(key, 1, 10 * MS, 3, 0, 0);
	ck_assert_int_eq(g.n, 1);
	ck_assert_int_eq(g.T, SEC);		/* 60/min */
	ck_assert_int_eq(g.limit, 60);
	/* a caller slower than the limit keeps its own T */
	g = reserve(key, 1, 2 * SEC, 3, 0, 0);
	ck_assert_int_eq(g.T, 2 * SEC);
	/* a 429 that teaches nothing keeps what was learned */
	p = pause_for(key, 10 * MS, 0, 10 * MS, 3);
	ck_assert_int_eq(p.limit, 60);
	ck_assert_int_eq(field(key, "limit"), 60);
}
END_TEST

START_TEST(test_reserve_flags_a_mismatch)
{
	const char	*key = "w:{m}:t";

	ck_assert_int_eq(reserve(key, 1, 10 * MS, 5, 0, 0).mismatch, 0);
	ck_assert_int_eq(reserve(key, 1, 10 * MS, 5, 0, 0).mismatch, 0);
	ck_assert_int_eq(reserve(key, 1, 20 * MS, 5, 0, 0).mismatch, 1);
	ck_assert_int_eq(reserve(key, 1, 20 * MS, 5, 0, 0).mismatch, 0);
	ck_assert_int_eq(reserve(key, 1, 20 * MS, 6, 0, 0).mismatch, 1);
	ck_assert_int_eq(field(key, "burst"), 6);
	ck_assert_int_eq(field(key, "T"), 20 * MS);
}
END_TEST

START_TEST(test_every_key_expires)
{
	const char	*key = "w:{e}:t", *set = "w:{instances}";
	long long	 ms;

	reserve(key, 1, SEC, 1, 0, 0);		/* tat = now + 1 s */
	ms = pttl(key);
	ck_assert_int_gt(ms, 600000 + 900);
	ck_assert_int_le(ms, 600000 + 1000);

	pause_for(key, 300 * SEC, 0, SEC, 1);	/* tat = pause end */
	ms = pttl(key);
	ck_assert_int_gt(ms, 600000 + 299000);
	ck_assert_int_le(ms, 600000 + 300000);

	reserve(key, 1, SEC, 1, 0, 0);		/* paused: unchanged */
	ck_assert_int_gt(pttl(key), 600000 + 299000);

	ck_assert_int_eq(announce(set, "a", 5000, 0), 1);
	ms = pttl(set);
	ck_assert_int_gt(ms, 9000);
	ck_assert_int_le(ms, 10000);
}
END_TEST

START_TEST(test_announce)
{
	const char	*set = "w:{instances}";

	ck_assert_int_eq(announce(set, "a", 10000, 0), 1);
	ck_assert_int_eq(announce(set, "b", 10000, 0), 2);
	ck_assert_int_eq(announce(set, "c", 200, 0), 3);
	ck_assert_int_eq(announce(set, "a", 10000, 0), 3);
	nap_ms(300);
	ck_assert_int_eq(announce(set, "a", 10000, 0), 2);	/* c gone */
	ck_assert_int_eq(announce(set, "b", 10000, 1), 1);	/* b left */
	ck_assert_int_eq(announce(set, "a", 10000, 1), 0);
	ck_assert_int_eq(cmd_int("EXISTS %s", set, NULL), 0);
}
END_TEST

/* What weir must handle after a Redis restart: EVALSHA fails with
 * NOSCRIPT, and EVAL both runs the script and caches it again. */
START_TEST(test_noscript_after_flush)
{
	redisReply	*r;

	ck_assert_int_eq(reserve("w:{n}:t", 1, SEC, 1, 0, 0).n, 1);
	r = cmd("SCRIPT FLUSH", NULL, NULL);
	freeReplyObject(r);
	r = cmd("EVALSHA %s 1 w:{n}:t 1 1000000 1 0 0", script_reserve.sha1,
	    NULL);
	ck_assert_int_eq(r->type, REDIS_REPLY_ERROR);
	ck_assert_msg(strncmp(r->str, "NOSCRIPT", 8) == 0, "%s", r->str);
	freeReplyObject(r);
	r = cmd("EVAL %s 1 w:{n}:t 1 1000000 1 0 0", script_reserve.text,
	    NULL);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	freeReplyObject(r);
	r = cmd("EVALSHA %s 1 w:{n}:t 1 1000000 1 0 0", script_reserve.sha1,
	    NULL);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	freeReplyObject(r);
}
END_TEST

START_TEST(test_bad_argument_is_an_error)
{
	redisReply	*r;

	r = cmd("EVAL %s 1 {x}:t one 1000 1 0 0", script_reserve.text, NULL);
	ck_assert_int_eq(r->type, REDIS_REPLY_ERROR);
	ck_assert_msg(strstr(r->str, "ARGV[1] is not a number") != NULL,
	    "%s", r->str);
	freeReplyObject(r);
	ck_assert_int_eq(cmd_int("EXISTS %s", "{x}:t", NULL), 0);
}
END_TEST

START_TEST(test_hash_tagged_keys)
{
	struct grant	g;
	struct paused	p;

	g = reserve("{abc}:t", 2, SEC, 2, 0, 0);
	ck_assert_int_eq(g.n, 2);
	p = pause_for("{abc}:t", SEC, 0, SEC, 2);
	ck_assert_int_eq(p.epoch, 1);
	ck_assert_int_gt(field("{abc}:t", "tat"), 0);
	ck_assert_int_eq(announce("weir:{instances}", "i1", 1000, 0), 1);
	ck_assert_int_eq(cmd_int("EXISTS %s", "weir:{instances}", NULL), 1);
}
END_TEST

/* The helper itself. */

START_TEST(test_rserver_restart_is_empty)
{
	redisReply	*r;

	r = cmd("SET x 1", NULL, NULL);
	freeReplyObject(r);
	ck_assert_int_eq(rs_restart(&S), 0);
	r = redisCommand(R, "GET x");		/* the old connection died */
	ck_assert_ptr_null(r);
	redisFree(R);
	ck_assert_ptr_nonnull(R = rs_connect(&S));
	r = cmd("GET x", NULL, NULL);
	ck_assert_int_eq(r->type, REDIS_REPLY_NIL);
	freeReplyObject(r);
}
END_TEST

START_TEST(test_rserver_kill_and_restart)
{
	rs_kill(&S);
	ck_assert_int_eq(S.pid, 0);
	ck_assert_ptr_null(rs_connect(&S));
	ck_assert_int_eq(rs_restart(&S), 0);
	redisFree(R);
	ck_assert_ptr_nonnull(R = rs_connect(&S));
	ck_assert_int_eq(reserve("w:{k}:t", 1, SEC, 1, 0, 0).n, 1);
}
END_TEST

START_TEST(test_rserver_pause_and_resume)
{
	struct timeval	 tv = { 0, 100000 };
	redisReply	*r;

	rs_pause(&S);
	redisSetTimeout(R, tv);
	r = redisCommand(R, "PING");
	ck_assert_ptr_null(r);			/* timed out */
	rs_resume(&S);
	redisFree(R);
	ck_assert_ptr_nonnull(R = rs_connect(&S));
	r = cmd("PING", NULL, NULL);
	ck_assert_str_eq(r->str, "PONG");
	freeReplyObject(r);
}
END_TEST

START_TEST(test_rserver_tcp)
{
	struct rserver	 t;
	redisContext	*c;
	redisReply	*r;
	char		 dir[256], want[64];
	uint16_t	 port;
	struct timeval	 tv = { 2, 0 };

	ck_assert_int_eq(rs_start(&t, 1), 0);
	ck_assert_uint_ne(t.port, 0);
	snprintf(want, sizeof(want), "redis://127.0.0.1:%u",
	    (unsigned)t.port);
	ck_assert_str_eq(t.url, want);
	c = redisConnectWithTimeout("127.0.0.1", t.port, tv);
	ck_assert_msg(c != NULL && c->err == 0, "connect");
	r = redisCommand(c, "PING");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->str, "PONG");
	freeReplyObject(r);
	redisFree(c);
	port = t.port;
	ck_assert_int_eq(rs_restart(&t), 0);
	ck_assert_uint_eq(t.port, port);
	ck_assert_str_eq(t.url, want);

	memcpy(dir, t.dir, sizeof(dir));
	rs_stop(&t);
	rs_stop(&t);
	ck_assert_int_eq(access(dir, F_OK), -1);
	/* the unix-only one names its socket */
	ck_assert_str_eq(S.url + 5, S.sock);
	ck_assert_int_eq(strncmp(S.url, "unix:", 5), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("scripts");
	TCase	*tc;

#define TC(name) do {							\
	tc = tcase_create(name);					\
	tcase_add_checked_fixture(tc, setup, teardown);			\
	tcase_set_timeout(tc, 30);					\
	suite_add_tcase(s, tc);						\
} while (0)
	TC("scripts");
	tcase_add_test(tc, test_sha1_is_what_script_load_answers);
	tcase_add_test(tc, test_reserve_empty_key_is_a_full_bucket);
	tcase_add_test(tc, test_reserve_never_exceeds_gcra);
	tcase_add_test(tc, test_floor_on_empty_key_gives_no_burst);
	tcase_add_test(tc, test_floor_empties_a_full_bucket);
	tcase_add_test(tc, test_pause);
	tcase_add_test(tc, test_pause_limit_lengthens_the_interval);
	tcase_add_test(tc, test_reserve_flags_a_mismatch);
	tcase_add_test(tc, test_every_key_expires);
	tcase_add_test(tc, test_announce);
	tcase_add_test(tc, test_noscript_after_flush);
	tcase_add_test(tc, test_bad_argument_is_an_error);
	tcase_add_test(tc, test_hash_tagged_keys);

	TC("rserver");
	tcase_add_test(tc, test_rserver_restart_is_empty);
	tcase_add_test(tc, test_rserver_kill_and_restart);
	tcase_add_test(tc, test_rserver_pause_and_resume);
	tcase_add_test(tc, test_rserver_tcp);
#undef TC
	return s;
}

int
main(void)
{
	return tap_run(suite());
}
