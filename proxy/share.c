/*
 * share.c - tenants' budgets shared through Redis; see share.h.
 *
 * Two connections (redis.c): one for commands, one subscribed to the
 * pause channel.  Each loop pass, before proxy's dispatch, asks Redis for
 * slots for every lane that needs some (sched_wants): one script call per
 * tenant, all of a pass's calls in one write.  Replies come back through
 * redis.c's callbacks and go to sched as grants.  A timer announces this
 * instance every second (the live-instance count is what local mode
 * divides the limits by) and is how shared mode comes back.
 *
 * Scripts run by EVALSHA; a NOSCRIPT answer (Redis restarted or its
 * scripts flushed) sends the same call again as EVAL, which loads it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include <hiredis/hiredis.h>

#include "bucket.h"
#include "log.h"
#include "metrics.h"
#include "redis.h"
#include "scripts.h"
#include "share.h"
#include "tenant.h"
#include "xmalloc.h"

/* How far ahead an instance reserves: slots held at most this long. */
#define HORIZON_MS		250
/* Most slots asked for at once. */
#define MAX_SLOTS		1000
/* How often an instance says it is alive, and how long that lasts. */
#define ANNOUNCE_MS		1000
#define ANNOUNCE_TTL_MS		3000
/* Failed operations in a row that send weir to local mode. */
#define MAX_FAILS		3
/* A lane whose reservation could not go asks again after this. */
#define ASK_RETRY_MS		10
/* A learned token mapping is kept locally this long. */
#define TOKEN_CACHE_MS		(10 * 60 * 1000)

#define MAX_ARGS		10


struct share {
	struct loop		*loop;
	const struct config	*cfg;
	struct sched		*sched;
	struct metrics		*metrics;
	struct redis_addr	 addr;
	char			*addr_str;	/* password hidden */
	struct redis		*r;		/* commands */
	struct redis		*sub;		/* the pause channel */
	char			 id[96];	/* this instance */
	char			*prefix;	/* redis_prefix, as started */
	char			*key_instances;
	char			*channel;

	enum { M_STARTING, M_SHARED, M_LOCAL } mode;
	int			 ever_shared;
	int			 leaving;	/* stopping: announce no more */
	int			 closing;	/* share_free: fail quietly */
	char			 why[160];	/* local: why */
	unsigned		 fails;		/* in a row */
	uint64_t		 instances;
	uint64_t		 local_since_ms;
	uint64_t		 local_ms;
	struct loop_timer	 announce;
	struct loop_timer	 grace;

	uint64_t		 ops, errors, timeouts, mismatches;
	uint64_t		 rtt_count, rtt_sum_us;
	uint64_t		 last_mismatch_log_ms;
};

/* One script call or command, kept until its reply (for NOSCRIPT). */
struct op {
	struct share		*sh;
	const struct script	*script;	/* NULL: a plain command */
	int			 argc;
	char			*argv[MAX_ARGS];
	size_t			 argvlen[MAX_ARGS];
	int			 reloaded;
	void			(*done)(struct op *, redisReply *);
	char			 tenant[TENANT_NAME_MAX + 1];
	share_token_cb		 tfn;
	void			*targ;
};

static uint64_t
now_ms(const struct share *sh)
{
	return loop_time(sh->loop)->mono_ms;
}

static void
set_sched(struct share *sh, int shared, int floor)
{
	struct sched_share	 ss;

	memset(&ss, 0, sizeof(ss));
	ss.shared = shared;
	ss.share_n = sh->instances > 0 ? (unsigned)sh->instances : 1;
	ss.floor = floor;
	ss.horizon_ms = HORIZON_MS;
	sched_set_share(sh->sched, &ss, now_ms(sh));
}

static void
go_local(struct share *sh, const char *why)
{
	if (sh->mode != M_LOCAL || strcmp(sh->why, why) != 0)
		log_warnx("redis %s: %s; pacing locally at 1/%" PRIu64
		    " of each tenant's limits", sh->addr_str, why,
		    sh->instances > 0 ? sh->instances : 1);
	snprintf(sh->why, sizeof(sh->why), "%s", why);
	if (sh->mode == M_LOCAL)
		return;
	sh->mode = M_LOCAL;
	sh->local_since_ms = now_ms(sh);
	set_sched(sh, 0, 0);
}

static void
go_shared(struct share *sh)
{
	if (sh->mode == M_SHARED)
		return;
	log_info("redis %s: shared pacing with %" PRIu64 " instance%s",
	    sh->addr_str, sh->instances, sh->instances == 1 ? "" : "s");
	if (sh->mode == M_LOCAL)
		sh->local_ms += now_ms(sh) - sh->local_since_ms;
	sh->mode = M_SHARED;
	sh->why[0] = '\0';
	/* Back after an outage: whatever was spent locally is not in
	 * Redis, and Redis may have come back empty: no fresh burst. */
	set_sched(sh, 1, sh->ever_shared);
	sh->ever_shared = 1;
}

static void
fail(struct share *sh, const char *why)
{
	if (sh->closing)
		return;
	if (++sh->fails >= MAX_FAILS || !redis_is_up(sh->r)) {
		sh->fails = 0;
		go_local(sh, why);
	}
}

static void
record_rtt(struct share *sh, uint64_t rtt_us)
{
	metrics_redis_rtt(sh->metrics, rtt_us);
	sh->rtt_count++;
	sh->rtt_sum_us += rtt_us;
}

static void
op_free(struct op *o)
{
	int	 i;

	for (i = 0; i < o->argc; i++)
		free(o->argv[i]);
	free(o);
}

static int	op_send(struct op *);

static void
op_reply(redisReply *reply, uint64_t rtt_us, void *arg)
{
	struct op	*o = arg;
	struct share	*sh = o->sh;

	if (reply == NULL) {
		sh->timeouts++;
		fail(sh, "no answer within redis_timeout");
		o->done(o, NULL);
		op_free(o);
		return;
	}
	record_rtt(sh, rtt_us);
	if (reply->type == REDIS_REPLY_ERROR && o->script != NULL &&
	    !o->reloaded && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
		/* Redis lost the script: send it whole, which loads it. */
		o->reloaded = 1;
		free(o->argv[0]);
		free(o->argv[1]);
		o->argv[0] = xstrdup("EVAL");
		o->argv[1] = xstrdup(o->script->text);
		o->argvlen[0] = 4;
		o->argvlen[1] = strlen(o->script->text);
		if (op_send(o) == 0)
			return;
		o->done(o, NULL);
		op_free(o);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		char	 why[160];

		sh->errors++;
		snprintf(why, sizeof(why), "error: %.120s", reply->str);
		fail(sh, why);
		o->done(o, NULL);
	} else {
		sh->fails = 0;
		o->done(o, reply);
	}
	op_free(o);
}

static int
op_send(struct op *o)
{
	const char	*argv[MAX_ARGS];
	int		 i;

	for (i = 0; i < o->argc; i++)
		argv[i] = o->argv[i];
	o->sh->ops++;
	return redis_command(o->sh->r, o->argc, argv, o->argvlen, op_reply, o);
}

static struct op *
op_new(struct share *sh, void (*done)(struct op *, redisReply *))
{
	struct op	*o = xcalloc(1, sizeof(*o));

	o->sh = sh;
	o->done = done;
	return o;
}

static void
op_arg(struct op *o, const char *s)
{
	o->argv[o->argc] = xstrdup(s);
	o->argvlen[o->argc] = strlen(s);
	o->argc++;
}

static void
op_argu(struct op *o, uint64_t v)
{
	char	 b[32];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	op_arg(o, b);
}

/* EVALSHA script 1 key: the arguments follow with op_arg(). */
static struct op *
op_script(struct share *sh, const struct script *sc, const char *key,
    void (*done)(struct op *, redisReply *))
{
	struct op	*o = op_new(sh, done);

	o->script = sc;
	op_arg(o, "EVALSHA");
	op_arg(o, sc->sha1);
	op_arg(o, "1");
	op_arg(o, key);
	return o;
}

/* Send o, or if Redis is not there, answer it as failed at once. */
static void
op_go(struct op *o)
{
	if (op_send(o) == 0)
		return;
	o->done(o, NULL);
	op_free(o);
}

/* "<prefix>{<16 hex of SHA-256(tenant)>}:t": one tenant's keys share a
 * Redis Cluster slot. */
static void
tenant_key(const struct share *sh, const char *tenant, char *out,
    size_t outlen)
{
	unsigned char	 d[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)tenant, strlen(tenant), d);
	snprintf(out, outlen, "%s{%02x%02x%02x%02x%02x%02x%02x%02x}:t",
	    sh->prefix, d[0], d[1], d[2], d[3], d[4], d[5], d[6],
	    d[7]);
}

/*
 * The emission interval of lim's rate (bucket.c's), MARGIN_PCT longer.  Several instances' slots reach the upstream
 * each with its own Redis round trip and scheduling jitter; paced at
 * exactly a fixed window's limit, the call after a window's last one
 * lands on the window's end, before or after it by that jitter: a coin
 * flip each window, and a 429 whose whole-second Retry-After costs up to
 * a second.  1 % slower moves that call a hundredth of a window past the
 * end (30 ms of a 3 s window, 600 ms of Genesys' minute).  Measured with
 * tests/bench/replicas.sh: 17.2-19.3 s and 3-5 429s at the exact rate,
 * 16.2 s and 1-2 429s with the margin, against 16.0 s for one weir.
 */
#define MARGIN_PCT	1

static uint64_t
interval_us(const struct limits *lim)
{
	uint64_t	 us = bucket_interval_us(lim->rate.n, lim->rate.per_ms);

	return us + us * MARGIN_PCT / 100;
}

static int
reply_int(const redisReply *r, size_t i, long long *v)
{
	if (r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
	    r->element[i]->type != REDIS_REPLY_INTEGER)
		return -1;
	*v = r->element[i]->integer;
	return 0;
}

static uint64_t
us_to_ms_up(long long us)
{
	return us > 0 ? ((uint64_t)us + 999) / 1000 : 0;
}

/* An answer nothing waits for. */
static void
ignore(struct op *o, redisReply *r)
{
	(void)o;
	(void)r;
}

/* --- reservations --------------------------------------------------------- */

static void
reserved(struct op *o, redisReply *r)
{
	struct share		*sh = o->sh;
	struct sched_slots	 g;
	long long		 v[7];
	size_t			 i;
	uint64_t		 now = now_ms(sh);

	for (i = 0; r != NULL && i < 7; i++)
		if (reply_int(r, i, &v[i]) == -1)
			r = NULL;
	if (r == NULL) {
		sched_ask_failed(sh->sched, o->tenant, now, ASK_RETRY_MS);
		return;
	}
	memset(&g, 0, sizeof(g));
	g.n = v[0] > 0 ? (uint64_t)v[0] : 0;
	g.d0_us = v[1];
	g.T_us = v[2] > 0 ? (uint64_t)v[2] : 1;
	g.epoch = v[3] > 0 ? (uint64_t)v[3] : 0;
	g.pause_ms = us_to_ms_up(v[4]);
	g.limit_per_min = v[5] > 0 ? (uint64_t)v[5] : 0;
	if (g.n == 0 && g.pause_ms == 0)
		g.retry_ms = us_to_ms_up(v[1] - HORIZON_MS * 1000) + 1;
	sched_grant(sh->sched, o->tenant, &g, now);
	if (v[6] != 0) {
		sh->mismatches++;
		if (sh->last_mismatch_log_ms == 0 ||
		    now - sh->last_mismatch_log_ms > 60000) {
			sh->last_mismatch_log_ms = now;
			log_warn("tenant %s: another weir paces it with a "
			    "different rate or burst: every instance must "
			    "agree", o->tenant);
		}
	}
}

static void
want(const struct sched_want *w, void *arg)
{
	struct share	*sh = arg;
	struct op	*o;
	char		 key[256];

	if (sh->mode != M_SHARED || !redis_is_up(sh->r)) {
		sched_ask_failed(sh->sched, w->tenant, now_ms(sh),
		    ASK_RETRY_MS);
		return;
	}
	tenant_key(sh, w->tenant, key, sizeof(key));
	o = op_script(sh, &script_reserve, key, reserved);
	snprintf(o->tenant, sizeof(o->tenant), "%s", w->tenant);
	op_argu(o, w->k);
	op_argu(o, interval_us(w->lim));
	op_argu(o, w->lim->burst);
	op_argu(o, (uint64_t)HORIZON_MS * 1000);
	op_argu(o, (uint64_t)w->floor);
	op_go(o);
}

/* A pass, before proxy's dispatch: ask for the slots lanes need. */
static void
share_pass(void *arg)
{
	struct share	*sh = arg;

	sched_wants(sh->sched, now_ms(sh), MAX_SLOTS, want, sh);
}

/* --- pauses --------------------------------------------------------------- */

static void
paused(struct op *o, redisReply *r)
{
	struct share	*sh = o->sh;
	long long	 left, epoch;
	char		 msg[TENANT_NAME_MAX + 64];
	struct op	*p;

	if (r == NULL || reply_int(r, 0, &left) == -1 ||
	    reply_int(r, 1, &epoch) == -1 || epoch < 0)
		return;
	sched_shared_pause(sh->sched, o->tenant, (uint64_t)epoch,
	    us_to_ms_up(left), now_ms(sh));
	/* Tell the others at once rather than at their next reservation. */
	snprintf(msg, sizeof(msg), "%lld %lld %s", epoch, left, o->tenant);
	p = op_new(sh, ignore);
	op_arg(p, "PUBLISH");
	op_arg(p, sh->channel);
	op_arg(p, msg);
	op_go(p);
}

void
share_throttled(struct share *sh, const char *tenant, uint64_t wait_ms,
    uint64_t limit_per_min)
{
	const struct limits	*lim;
	struct op		*o;
	char			 key[256];

	if (sh == NULL || !redis_is_up(sh->r))
		return;
	lim = config_limits(sh->cfg, tenant);
	tenant_key(sh, tenant, key, sizeof(key));
	o = op_script(sh, &script_pause, key, paused);
	snprintf(o->tenant, sizeof(o->tenant), "%s", tenant);
	op_argu(o, wait_ms * 1000);
	op_argu(o, limit_per_min);
	op_argu(o, interval_us(lim));
	op_argu(o, lim->burst);
	op_go(o);
}

/* A message on the pause channel: "epoch left_us tenant". */
static void
pause_message(redisReply *r, void *arg)
{
	struct share	*sh = arg;
	const redisReply *m;
	unsigned long long epoch;
	long long	 left;
	char		 tenant[TENANT_NAME_MAX + 1];

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r->element[0]->str, "message") != 0)
		return;
	m = r->element[2];
	if (m->type != REDIS_REPLY_STRING ||
	    sscanf(m->str, "%llu %lld %128s", &epoch, &left, tenant) != 3 ||
	    !tenant_name_valid(tenant, strlen(tenant)))
		return;
	sched_shared_pause(sh->sched, tenant, epoch, us_to_ms_up(left),
	    now_ms(sh));
}

/* --- tokens --------------------------------------------------------------- */

static void
token_key(const struct share *sh, const unsigned char *d, char *out,
    size_t outlen)
{
	char	 hex[2 * 16 + 1];
	int	 i;

	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	snprintf(out, outlen, "%stok:{%s}", sh->prefix, hex);
}


void
share_token_learn(struct share *sh, const unsigned char *digest,
    const char *client, uint64_t ttl_ms)
{
	struct op	*o;
	char		 key[256];

	if (sh == NULL || !redis_is_up(sh->r) || ttl_ms == 0)
		return;
	token_key(sh, digest, key, sizeof(key));
	o = op_new(sh, ignore);
	op_arg(o, "SET");
	op_arg(o, key);
	op_arg(o, client);
	op_arg(o, "PX");
	op_argu(o, ttl_ms);
	op_go(o);
}

static void
token_found(struct op *o, redisReply *r)
{
	const char	*client = NULL;

	if (r != NULL && r->type == REDIS_REPLY_STRING &&
	    tenant_name_valid(r->str, r->len))
		client = r->str;
	o->tfn(client, o->targ);
}

int
share_token_lookup(struct share *sh, const unsigned char *digest,
    share_token_cb fn, void *arg)
{
	struct op	*o;
	char		 key[256];

	if (sh == NULL || sh->mode != M_SHARED || !redis_is_up(sh->r))
		return -1;
	token_key(sh, digest, key, sizeof(key));
	o = op_new(sh, token_found);
	o->tfn = fn;
	o->targ = arg;
	op_arg(o, "GET");
	op_arg(o, key);
	/* Never call fn before returning: the caller has not parked the
	 * call yet. */
	if (op_send(o) == -1) {
		op_free(o);
		return -1;
	}
	return 0;
}

/* --- instances ------------------------------------------------------------ */

static void	announce(void *);

static void
announced(struct op *o, redisReply *r)
{
	struct share	*sh = o->sh;

	if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer < 1)
		return;
	sh->instances = (uint64_t)r->integer;
	go_shared(sh);
}

static void
send_announce(struct share *sh, int leaving)
{
	struct op	*o;

	o = op_script(sh, &script_announce, sh->key_instances, announced);
	op_arg(o, sh->id);
	op_argu(o, ANNOUNCE_TTL_MS);
	op_argu(o, (uint64_t)leaving);
	if (leaving)
		o->done = ignore;
	op_go(o);
}

static void
announce(void *arg)
{
	struct share	*sh = arg;

	if (sh->leaving)
		return;
	if (redis_is_up(sh->r))
		send_announce(sh, 0);
	loop_timer_arm(sh->loop, &sh->announce, now_ms(sh) + ANNOUNCE_MS,
	    announce, sh);
}

static void
state(int up, const char *why, void *arg)
{
	struct share	*sh = arg;
	char		 b[160];

	if (up) {
		if (!sh->leaving)
			send_announce(sh, 0);
		return;
	}
	if (sh->closing)
		return;
	snprintf(b, sizeof(b), "%s", why);
	go_local(sh, b);
}

static void
sub_state(int up, const char *why, void *arg)
{
	(void)up;
	(void)why;
	(void)arg;
}

/* Not shared within redis_timeout of starting: go local meanwhile. */
static void
grace_over(void *arg)
{
	struct share	*sh = arg;
	char		 why[160];

	if (sh->mode != M_STARTING)
		return;
	snprintf(why, sizeof(why), "%s", sh->why);
	go_local(sh, why);
}

struct share *
share_new(struct loop *loop, const struct config *cfg, struct sched *sched,
    struct metrics *metrics)
{
	struct share	*sh;
	char		 why[160], host[64];
	unsigned	 rnd;

	if (cfg->redis == NULL)
		return NULL;
	sh = xcalloc(1, sizeof(*sh));
	sh->loop = loop;
	sh->cfg = cfg;
	sh->sched = sched;
	sh->metrics = metrics;
	if (redis_addr_parse(cfg->redis, &sh->addr, why, sizeof(why)) == -1)
		abort();	/* config_finish() checked it */
	sh->addr_str = redis_addr_display(&sh->addr);
	scripts_init();
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "weir");
	host[sizeof(host) - 1] = '\0';
	rnd = (unsigned)(loop_time(loop)->wall_ms ^ (getpid() << 16));
	snprintf(sh->id, sizeof(sh->id), "%s:%d:%08x", host, (int)getpid(),
	    rnd);
	sh->prefix = xstrdup(cfg->redis_prefix);
	xasprintf(&sh->key_instances, "%s{instances}", cfg->redis_prefix);
	xasprintf(&sh->channel, "%spause", cfg->redis_prefix);
	sh->instances = 1;
	snprintf(sh->why, sizeof(sh->why), "connecting");
	/* Until Redis answers, lanes wait for slots (they ask, and are told
	 * to ask again); past redis_timeout they go local. */
	sh->mode = M_STARTING;
	set_sched(sh, 1, 0);

	log_startup("sharing budgets through redis %s as %s (prefix %s, "
	    "timeout %" PRIu64 " ms)", sh->addr_str, sh->id, sh->prefix,
	    cfg->redis_timeout_ms);
	/* The pass first: the connections' passes, added after it, write
	 * what it asked for in the same turn. */
	loop_add_pass(loop, share_pass, NULL, sh);
	sh->r = redis_new(loop, &sh->addr, cfg->redis_timeout_ms, state, sh);
	sh->sub = redis_new(loop, &sh->addr, cfg->redis_timeout_ms, sub_state,
	    sh);
	redis_subscribe(sh->sub, sh->channel, pause_message, sh);
	loop_timer_arm(loop, &sh->announce, now_ms(sh) + ANNOUNCE_MS,
	    announce, sh);
	loop_timer_arm(loop, &sh->grace, now_ms(sh) + cfg->redis_timeout_ms,
	    grace_over, sh);
	return sh;
}

void
share_leave(struct share *sh)
{
	if (sh == NULL)
		return;
	sh->leaving = 1;
	if (redis_is_up(sh->r))
		send_announce(sh, 1);
}

void
share_free(struct share *sh)
{
	if (sh == NULL)
		return;
	sh->closing = 1;
	loop_del_pass(sh->loop, share_pass, sh);
	loop_timer_disarm(sh->loop, &sh->announce);
	loop_timer_disarm(sh->loop, &sh->grace);
	redis_free(sh->sub);
	redis_free(sh->r);
	redis_addr_free(&sh->addr);
	free(sh->addr_str);
	free(sh->prefix);
	free(sh->key_instances);
	free(sh->channel);
	free(sh);
}

void
share_set_config(struct share *sh, const struct config *cfg)
{
	if (sh != NULL)
		sh->cfg = cfg;
}

void
share_info(const struct share *sh, struct share_info *i)
{
	struct redis_stats rs;

	memset(i, 0, sizeof(*i));
	if (sh == NULL)
		return;
	rs = redis_stats(sh->r);
	i->addr = sh->addr_str;
	i->shared = sh->mode == M_SHARED;
	i->why = sh->why;
	i->instances = sh->instances;
	i->local_ms = sh->local_ms + (sh->mode == M_LOCAL ?
	    now_ms(sh) - sh->local_since_ms : 0);
	i->ops = sh->ops;
	i->errors = sh->errors;
	i->timeouts = sh->timeouts;
	i->reconnects = rs.connects > 0 ? rs.connects - 1 : 0;
	i->rtt_count = sh->rtt_count;
	i->rtt_sum_us = sh->rtt_sum_us;
	i->granted = sched_totals(sh->sched).granted;
	i->wasted = sched_totals(sh->sched).wasted;
	i->mismatches = sh->mismatches;
}
