/*
 * proxy.c - the life of a call; see proxy.h.
 *
 * Every step of a call after front has read it, and every decision about
 * it, is here or one call away: routing (route.c), its tenant (tenant.c),
 * its deadline (http_max_wait), its queue and pacing (sched.c), its
 * attempts (upstream.c), what an attempt's end means (policy.c, which
 * decides and never acts), and its answer (front_answer).  Touches the
 * clock only through the loop's loop_time.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "front.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "policy.h"
#include "proxy.h"
#include "route.h"
#include "sched.h"
#include "share.h"
#include "tenant.h"
#include "upstream.h"
#include "xmalloc.h"

struct proxy {
	const struct config	*cfg;
	const struct loop_time	*now;
	struct sched		*sched;
	struct token_map	*tenants;
	struct metrics		*metrics;
	struct front		*front;
	struct upstream		*up;
	struct share		*share;		/* NULL: nothing shared */
	struct lookup		*lookups;	/* calls whose token Redis is
						 * asked about */
	int			 shut;		/* the drain is over */
};

/*
 * A call waiting for Redis to say which client its token was issued to
 * (issued through another weir).  c is NULL once the call is gone.
 */
struct lookup {
	struct proxy		*p;
	struct call		*c;
	unsigned char		 digest[TENANT_DIGEST_LEN];
	struct lookup		*next, *prev;
};

/* How long what Redis said of a token is kept here: known, unknown. */
#define TOKEN_KNOWN_MS		(10 * 60 * 1000)
#define TOKEN_UNKNOWN_MS	(10 * 1000)

struct proxy *
proxy_new(const struct config *cfg, const struct loop_time *now,
    struct sched *sched, struct token_map *tenants, struct metrics *metrics)
{
	struct proxy	*p = xcalloc(1, sizeof(*p));

	p->cfg = cfg;
	p->now = now;
	p->sched = sched;
	p->tenants = tenants;
	p->metrics = metrics;
	return p;
}

void
proxy_free(struct proxy *p)
{
	free(p);
}

void
proxy_set_ends(struct proxy *p, struct front *front, struct upstream *up)
{
	p->front = front;
	p->up = up;
}

void
proxy_set_share(struct proxy *p, struct share *share)
{
	p->share = share;
}

void
proxy_set_config(struct proxy *p, const struct config *cfg)
{
	p->cfg = cfg;
}

/*
 * The call's class: X-Weir-Priority if it has one (every such field must
 * name the same class), else the first matching rule of its tenant's
 * section, else of the top level, else normal.
 */
static enum weir_err
classify(const struct config *cfg, struct call *c)
{
	const char	*v;
	enum prio_class	 k, got = PRIO_NORMAL;
	size_t		 i;
	int		 seen = 0;

	for (i = 0; i < c->in_hdrs.n; i++) {
		if (strcasecmp(c->in_hdrs.v[i].name, "X-Weir-Priority") != 0)
			continue;
		v = c->in_hdrs.v[i].value;
		if (prio_parse(v, strlen(v), &k) == -1 || (seen && k != got))
			return WERR_BAD_PRIORITY;
		got = k;
		seen = 1;
	}
	if (seen)
		c->prio = got;
	else if (!prio_match(config_prio_rules(cfg, c->tenant), c->method,
	    c->path, &c->prio) &&
	    !prio_match(&cfg->prio, c->method, c->path, &c->prio))
		c->prio = PRIO_NORMAL;
	c->prio_decided = 1;
	return WERR_NONE;
}

/* The call's tenant is known: its class, then its queue. */
static enum weir_err
admit(struct proxy *p, struct call *c)
{
	enum weir_err	 e;

	if ((e = classify(p->cfg, c)) != WERR_NONE)
		return e;
	if ((e = sched_submit(p->sched, c, p->now->mono_ms)) != WERR_NONE)
		c->retry_after_s = 1;
	return e;
}

static void
lookup_unlink(struct lookup *lk)
{
	struct proxy	*p = lk->p;

	if (lk->prev != NULL)
		lk->prev->next = lk->next;
	else
		p->lookups = lk->next;
	if (lk->next != NULL)
		lk->next->prev = lk->prev;
}

/* share_token_cb: Redis said which client the token is, or nothing. */
static void
looked_up(const char *client, void *arg)
{
	struct lookup	*lk = arg;
	struct proxy	*p = lk->p;
	struct call	*c = lk->c;
	uint64_t	 now = p->now->mono_ms;
	enum weir_err	 e;

	lookup_unlink(lk);
	if (c != NULL) {
		c->lookup = NULL;
		if (client != NULL) {
			free(c->tenant);
			c->tenant = xstrdup(client);
		}
		token_map_put(p->tenants, lk->digest, c->tenant, now +
		    (client != NULL ? TOKEN_KNOWN_MS : TOKEN_UNKNOWN_MS), now);
	}
	explicit_bzero(lk->digest, sizeof(lk->digest));
	free(lk);
	if (c == NULL)
		return;
	if (p->shut)
		e = WERR_SHUTTING_DOWN;
	else
		e = admit(p, c);
	if (e != WERR_NONE) {
		call_set_error(c, e, NULL);
		front_answer(p->front, c);
	}
}

/*
 * A bearer token this weir has not seen issued: another weir may have.
 * 1 when Redis was asked (the call waits for looked_up), else 0.
 */
static int
look_up(struct proxy *p, struct call *c)
{
	struct lookup	*lk;

	/* Only a tenant named by its bearer token ("tok:...", tenant.c),
	 * not one a header named. */
	if (p->share == NULL || p->cfg->tenant_key != TENANT_KEY_AUTH ||
	    strncmp(c->tenant, "tok:", 4) != 0 ||
	    hdrs_get(&c->in_hdrs, "X-Weir-Tenant") != NULL)
		return 0;
	lk = xcalloc(1, sizeof(*lk));
	if (tenant_bearer_digest(c, lk->digest) == -1 ||
	    share_token_lookup(p->share, lk->digest, looked_up, lk) == -1) {
		explicit_bzero(lk->digest, sizeof(lk->digest));
		free(lk);
		return 0;
	}
	lk->p = p;
	lk->c = c;
	c->lookup = lk;
	lk->next = p->lookups;
	if (lk->next != NULL)
		lk->next->prev = lk;
	p->lookups = lk;
	return 1;
}

enum weir_err
proxy_arrive(struct call *c, void *arg)
{
	struct proxy	*p = arg;
	enum weir_err	 e;
	uint64_t	 wait_ms;

	if ((e = route_call(p->cfg, c)) != WERR_NONE ||
	    (e = tenant_identify(p->cfg, p->tenants, c,
	    p->now->mono_ms)) != WERR_NONE)
		return e;
	if (http_max_wait(hdrs_get(&c->in_hdrs, "X-Weir-Max-Wait"),
	    p->cfg->max_wait_ms, p->cfg->max_wait_cap_ms, &wait_ms) == -1)
		return WERR_BAD_MAX_WAIT;
	c->deadline_ms = c->arrival_ms + wait_ms;
	if (look_up(p, c))
		return WERR_NONE;
	return admit(p, c);
}

/* Do what policy decided: pause, then retry or answer. */
static void
apply(struct proxy *p, struct call *c, const struct policy_decision *d)
{
	uint64_t	 now = p->now->mono_ms;

	if (d->pause_tenant) {
		c->throttled++;
		sched_throttle(p->sched, c, now, d->wait_hint_ms,
		    d->limit_per_min);
		share_throttled(p->share, c->tenant, d->wait_hint_ms,
		    d->limit_per_min);
		log_info("%s: tenant %s throttled (429), paused %llu ms%s",
		    c->reqid, c->tenant, (unsigned long long)d->wait_hint_ms,
		    d->verdict == POLICY_RETRY ? ", will retry" :
		    ", past the deadline: answering the 429");
	}
	switch (d->verdict) {
	case POLICY_RETRY:
		if (!d->pause_tenant) {
			c->retries++;
			log_info("%s: retrying after %s in %llu ms", c->reqid,
			    d->reason, (unsigned long long)d->wait_ms);
		}
		metrics_retry(p->metrics, c->tenant, d->reason);
		sched_requeue(p->sched, c, now + d->wait_ms, now);
		return;
	case POLICY_FAIL:
		call_set_error(c, d->err, NULL);
		break;
	case POLICY_ANSWER:
		break;
	}
	if (d->retry_after_s > 0)
		c->retry_after_s = d->retry_after_s;
	front_answer(p->front, c);
}

/* An attempt is over, or could not start: decide and apply. */
static void
decide(struct proxy *p, struct call *c)
{
	struct policy_decision	 d;

	unsigned char		 digest[TENANT_DIGEST_LEN];
	uint64_t		 ttl_ms;

	if (c->up == UP_LOGIN && tenant_learn(p->tenants, c, p->now->mono_ms,
	    digest, &ttl_ms) == 0) {
		share_token_learn(p->share, digest, c->tenant, ttl_ms);
		explicit_bzero(digest, sizeof(digest));
	}
	policy_classify(p->cfg, c, p->now->mono_ms, p->now->wall_ms, &d);
	apply(p, c, &d);
}

void
proxy_attempt_done(struct call *c, void *arg)
{
	struct proxy	*p = arg;

	sched_done(p->sched, c, p->now->mono_ms);
	metrics_attempt(p->metrics, c, p->now->mono_ms - c->sent_ms);
	decide(p, c);
}

void
proxy_stream(struct call *c, void *arg)
{
	struct proxy	*p = arg;

	front_stream(p->front, c);
}

void
proxy_drained(struct call *c, void *arg)
{
	struct proxy	*p = arg;

	upstream_drained(p->up, c);
}

void
proxy_abandon(struct call *c, void *arg)
{
	struct proxy	*p = arg;

	if (c->xfer != NULL) {
		upstream_cancel(p->up, c);
		c->xfer_error = XFER_OTHER;	/* not an answer: learn nothing */
		sched_done(p->sched, c, p->now->mono_ms);
	} else if (c->lookup != NULL) {
		((struct lookup *)c->lookup)->c = NULL;
		c->lookup = NULL;
	} else
		sched_remove(p->sched, c);
}

void
proxy_dispatch(void *arg)
{
	struct proxy		*p = arg;
	struct policy_decision	 d;
	struct call		*c, *next;
	uint64_t		 now = p->now->mono_ms;
	int			 started = 0;

	if (p->shut)
		return;		/* past the drain, nothing goes out */
	for (c = sched_expire(p->sched, now); c != NULL; c = next) {
		next = c->next;
		c->next = NULL;
		policy_deadline(c, c->not_before_ms, now, &d);
		apply(p, c, &d);
	}
	while ((c = sched_next(p->sched, now)) != NULL) {
		metrics_queue_wait(p->metrics, c->prio, now - c->enqueued_ms);
		if (upstream_start(p->up, c, now) == 0) {
			started = 1;
			continue;
		}
		/* Could not even start: answer with the failure. */
		sched_done(p->sched, c, now);
		if (c->xfer_error == XFER_OK)
			c->xfer_error = XFER_OTHER;
		decide(p, c);
	}
	/* Send what was just dispatched now, not after another sleep. */
	if (started)
		upstream_perform(p->up);
}

long
proxy_timeout(void *arg)
{
	struct proxy	*p = arg;
	uint64_t	 due, now = p->now->mono_ms;

	if (p->shut || (due = sched_next_due(p->sched, now)) == SCHED_NEVER)
		return -1;
	return due > now ? (long)(due - now) : 0;
}

void
proxy_shutdown(struct proxy *p)
{
	struct call	*c;
	uint64_t	 now = p->now->mono_ms;

	struct lookup	*lk;

	p->shut = 1;
	for (lk = p->lookups; lk != NULL; lk = lk->next)
		if ((c = lk->c) != NULL) {
			lk->c = NULL;
			c->lookup = NULL;
			call_set_error(c, WERR_SHUTTING_DOWN, NULL);
			front_answer(p->front, c);
		}
	while ((c = sched_drain(p->sched)) != NULL) {
		c->queued_ms += now - c->enqueued_ms;
		call_set_error(c, WERR_SHUTTING_DOWN, NULL);
		front_answer(p->front, c);
	}
}
