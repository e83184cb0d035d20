/*
 * policy.c - classify an upstream outcome; see policy.h.  Pure.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hash.h"
#include "json.h"
#include "policy.h"

#define BACKOFF_429_BASE_MS	1000
#define BACKOFF_429_CAP_MS	60000
#define BACKOFF_5XX_BASE_MS	250
#define BACKOFF_5XX_CAP_MS	10000
#define MIN_WAIT_MS		50
#define MAX_HINT_MS		(24ULL * 3600 * 1000)

enum weir_err
policy_xfer_error(enum xfer_err e)
{
	switch (e) {
	case XFER_CONNECT:
		return WERR_UPSTREAM_UNREACHABLE;
	case XFER_TIMEOUT:
		return WERR_UPSTREAM_TIMEOUT;
	case XFER_TLS:
		return WERR_UPSTREAM_TLS;
	case XFER_BAD_RESPONSE:
		return WERR_UPSTREAM_BAD_RESPONSE;
	case XFER_SEND:
		return WERR_UPSTREAM_SEND_FAILED;
	case XFER_OK:
	case XFER_OTHER:
	default:
		return WERR_UPSTREAM_ERROR;
	}
}

/* Whole non-negative seconds, surrounding blanks allowed: 0 or -1. */
static int
parse_seconds(const char *s, unsigned long long *out)
{
	char			*end;
	unsigned long long	 v;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == '.')	/* "1.5": lenient, round the fraction up */
		for (end++, v++; isdigit((unsigned char)*end); end++)
			;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

static uint64_t
clamp_ms(unsigned long long seconds)
{
	if (seconds > MAX_HINT_MS / 1000)
		return MAX_HINT_MS;
	return (uint64_t)seconds * 1000;
}

static uint64_t
until_epoch_ms(int64_t at_ms, int64_t wall_ms)
{
	if (at_ms <= wall_ms)
		return 0;
	if ((uint64_t)(at_ms - wall_ms) > MAX_HINT_MS)
		return MAX_HINT_MS;
	return (uint64_t)(at_ms - wall_ms);
}

int
policy_retry_after(const char *v, int64_t wall_ms, uint64_t *wait_ms)
{
	static const char *const fmts[] = {
		"%a, %d %b %Y %H:%M:%S GMT",	/* IMF-fixdate */
		"%A, %d-%b-%y %H:%M:%S GMT",	/* RFC 850 */
		"%a %b %e %H:%M:%S %Y",		/* asctime */
		NULL
	};
	unsigned long long	 secs;
	struct tm		 tm;
	const char		*end;
	time_t			 t;
	int			 i;

	if (v == NULL)
		return -1;
	if (parse_seconds(v, &secs) == 0) {
		*wait_ms = clamp_ms(secs);
		return 0;
	}
	while (*v == ' ')
		v++;
	for (i = 0; fmts[i] != NULL; i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(v, fmts[i], &tm);
		if (end == NULL)
			continue;
		while (*end == ' ')
			end++;
		if (*end != '\0')
			continue;
		if ((t = timegm(&tm)) == (time_t)-1)
			return -1;
		*wait_ms = until_epoch_ms((int64_t)t * 1000, wall_ms);
		return 0;
	}
	return -1;
}

int
policy_reset(const char *v, int64_t wall_ms, uint64_t *wait_ms)
{
	unsigned long long	 secs;

	if (v == NULL || parse_seconds(v, &secs) == -1)
		return -1;
	if (secs > 1000000000ULL) {
		if (secs > (unsigned long long)(INT64_MAX / 1000))
			return -1;
		*wait_ms = until_epoch_ms((int64_t)secs * 1000, wall_ms);
	} else
		*wait_ms = clamp_ms(secs);
	return 0;
}

int
policy_body_wait(const char *body, size_t len, uint64_t *wait_ms)
{
	static const char	 needle[] = "Retry the request in [";
	const char		*p, *end;
	unsigned long long	 secs = 0;
	int			 digits = 0;

	if (body == NULL)
		return -1;
	end = body + len;
	p = memmem(body, len, needle, sizeof(needle) - 1);
	if (p == NULL)
		return -1;
	for (p += sizeof(needle) - 1; p < end && isdigit((unsigned char)*p);
	    p++) {
		if (++digits > 9)
			return -1;
		secs = secs * 10 + (unsigned)(*p - '0');
	}
	if (digits == 0 || p >= end || *p != ']')
		return -1;
	*wait_ms = clamp_ms(secs);
	return 0;
}

int
policy_body_limit(const char *body, size_t len, uint64_t *per_min)
{
	struct json	*j;
	long long	 v;
	int		 rc = -1;

	if (body == NULL || len == 0 || len > 65536)
		return -1;
	if ((j = json_parse(body, len, 512)) == NULL)
		return -1;
	if (json_int(j, json_get(j, json_get(j, 0, "limit"), "value"),
	    &v) == 0 && v > 0) {
		*per_min = (uint64_t)v;
		rc = 0;
	}
	json_free(j);
	return rc;
}

uint64_t
policy_backoff(unsigned n, uint64_t base_ms, uint64_t cap_ms, uint32_t seed)
{
	uint64_t	 full = base_ms, half;

	if (n == 0)
		n = 1;
	while (--n > 0 && full < cap_ms)
		full *= 2;
	if (full > cap_ms)
		full = cap_ms;
	half = full / 2;
	return half + (half > 0 ? seed % (full - half + 1) : 0);
}

int
policy_idempotent(const struct call *c)
{
	static const char *const safe[] = {
		"GET", "HEAD", "OPTIONS", "PUT", "DELETE", NULL
	};
	int	 i;

	for (i = 0; safe[i] != NULL; i++)
		if (strcmp(c->method, safe[i]) == 0)
			return 1;
	return hdrs_get(&c->in_hdrs, "Idempotency-Key") != NULL;
}

/* A status policy_classify() may retry this call after, when it is not
 * past its deadline. */
static int
retryable_status(const struct config *cfg, const struct call *c, int status)
{
	if (status == 429)
		return 1;
	return (status == 502 || status == 503 || status == 504) &&
	    c->retries < cfg->max_retries && policy_idempotent(c);
}

int
policy_final_status(const struct config *cfg, const struct call *c,
    int status)
{
	return !retryable_status(cfg, c, status);
}

/* A seed for jitter that depends only on the call (tests repeat). */
static uint32_t
jitter_seed(const struct call *c)
{
	return hash_fnv1a(c->reqid) ^ (c->attempts * 2654435761u);
}

/* The upstream's word on how long to wait, if it gave one. */
static int
hinted_wait(const struct call *c, int64_t wall_ms, uint64_t *wait_ms)
{
	const struct hdrs	*h = &c->resp_hdrs;

	if (policy_retry_after(hdrs_get(h, "Retry-After"), wall_ms,
	    wait_ms) == 0)
		return 0;
	if (policy_reset(hdrs_get(h, "X-RateLimit-Reset"), wall_ms,
	    wait_ms) == 0)
		return 0;
	if (policy_reset(hdrs_get(h, "RateLimit-Reset"), wall_ms,
	    wait_ms) == 0)
		return 0;
	return -1;
}

/* The answer of a call that cannot make its deadline, into d's answer
 * fields (a 429's pause, set before, stands). */
static void
deadline_answer(const struct call *c, uint64_t earliest_ms, uint64_t now_ms,
    struct policy_decision *d)
{
	uint64_t	 left = earliest_ms > now_ms ? earliest_ms - now_ms : 0;

	d->verdict = c->xfer_error == XFER_OK && c->status == 429 ?
	    POLICY_ANSWER : POLICY_FAIL;
	d->err = d->verdict == POLICY_FAIL ? WERR_DEADLINE : WERR_NONE;
	d->wait_ms = 0;
	d->retry_after_s = (int)((left + 999) / 1000);
	if (d->retry_after_s < 1)
		d->retry_after_s = 1;
}

void
policy_deadline(const struct call *c, uint64_t earliest_ms, uint64_t now_ms,
    struct policy_decision *d)
{
	memset(d, 0, sizeof(*d));
	deadline_answer(c, earliest_ms, now_ms, d);
}

/* The transfer failed and will not be tried again. */
static void
fail(const struct call *c, struct policy_decision *d)
{
	d->verdict = POLICY_FAIL;
	d->err = policy_xfer_error(c->xfer_error);
}

/* A 429: pause the tenant as the upstream says, and retry within the
 * deadline. */
static void
classify_429(const struct config *cfg, const struct call *c,
    uint64_t now_ms, int64_t wall_ms, struct policy_decision *d)
{
	uint64_t	 wait;

	d->reason = "429";
	d->pause_tenant = 1;
	if (hinted_wait(c, wall_ms, &wait) == -1 &&
	    policy_body_wait(c->resp_body.p, c->resp_body.len, &wait) == -1)
		wait = policy_backoff(c->throttled + 1, BACKOFF_429_BASE_MS,
		    BACKOFF_429_CAP_MS, jitter_seed(c));
	if (wait < MIN_WAIT_MS)
		wait = MIN_WAIT_MS;
	/* A Retry-After of a week is a broken or hostile upstream. */
	if (wait > cfg->max_pause_ms)
		wait = cfg->max_pause_ms;
	d->wait_hint_ms = wait;
	(void)policy_body_limit(c->resp_body.p, c->resp_body.len,
	    &d->limit_per_min);
	if (now_ms + wait > c->deadline_ms) {
		/* The caller gets the 429, with the time left. */
		deadline_answer(c, now_ms + wait, now_ms, d);
		return;
	}
	d->verdict = POLICY_RETRY;
	d->wait_ms = wait;
}

void
policy_classify(const struct config *cfg, const struct call *c,
    uint64_t now_ms, int64_t wall_ms, struct policy_decision *d)
{
	int		 transient;
	uint64_t	 wait;

	memset(d, 0, sizeof(*d));
	d->verdict = POLICY_ANSWER;

	if (c->streaming) {
		/* The client has the head already: nothing can be taken back,
		 * and a failure can only cut the answer short. */
		if (c->xfer_error != XFER_OK)
			fail(c, d);
		return;
	}
	if (c->xfer_error == XFER_OK && c->status == 429) {
		classify_429(cfg, c, now_ms, wall_ms, d);
		return;
	}
	if (c->xfer_error == XFER_OK)
		transient = retryable_status(cfg, c, c->status);
	else
		transient = c->xfer_error != XFER_TLS &&
		    c->xfer_error != XFER_OTHER &&
		    c->retries < cfg->max_retries &&
		    (policy_idempotent(c) || c->xfer_error == XFER_CONNECT);
	if (transient) {
		d->reason = c->xfer_error == XFER_OK ? "5xx" : "network";
		if (c->xfer_error != XFER_OK ||
		    hinted_wait(c, wall_ms, &wait) == -1)
			wait = policy_backoff(c->retries + 1,
			    BACKOFF_5XX_BASE_MS, BACKOFF_5XX_CAP_MS,
			    jitter_seed(c));
		if (now_ms + wait <= c->deadline_ms) {
			d->verdict = POLICY_RETRY;
			d->wait_ms = wait;
			return;
		}
	}
	if (c->xfer_error != XFER_OK)
		fail(c, d);
}
