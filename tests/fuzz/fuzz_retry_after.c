/*
 * fuzz_retry_after.c - libFuzzer target for the upstream's wait hints:
 * Retry-After (delta seconds or an HTTP-date) and the X-RateLimit-Reset /
 * RateLimit-Reset values (delta or epoch seconds), each parsed directly
 * and through policy_classify() on a fake 429 / 503; and policy_backoff()
 * with the input's bytes as the retry number and jitter seed.  The wall
 * clock is fixed, so every input replays the same way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "config.h"
#include "fuzz.h"
#include "policy.h"

/* 2023-11-14T22:13:20Z: HTTP-dates on either side of it. */
#define WALL_MS		1700000000000LL
/* policy.c clamps every hint to a day. */
#define MAX_HINT_MS	(24ULL * 3600 * 1000)

static struct config	*cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cfg = config_new();
	return 0;
}

static void
parsers(const char *v)
{
	static const int64_t	 walls[] = { WALL_MS, 0, INT64_MAX / 2 };
	uint64_t		 w;
	size_t			 i;

	for (i = 0; i < sizeof(walls) / sizeof(walls[0]); i++) {
		w = UINT64_MAX;
		if (policy_retry_after(v, walls[i], &w) == 0)
			FUZZ_CHECK(w <= MAX_HINT_MS);
		w = UINT64_MAX;
		if (policy_reset(v, walls[i], &w) == 0)
			FUZZ_CHECK(w <= MAX_HINT_MS);
	}
}

/* The value as each header policy_classify() reads, on 429 and 503. */
static void
classify(const char *v, const uint8_t *body, size_t bodylen, uint8_t sel)
{
	static const char *const names[] = {
		"Retry-After", "X-RateLimit-Reset", "RateLimit-Reset"
	};
	struct policy_decision	 d;
	struct call		*c;

	c = call_new(sel & 4 ? "POST" : "GET", "/api/v2/flows");
	c->status = sel & 8 ? 503 : 429;
	c->deadline_ms = sel & 16 ? 1000 + 15000 : UINT64_MAX / 2;
	c->throttled = sel >> 5;
	hdrs_add(&c->resp_hdrs, names[(sel & 3) % 3], v);
	buf_append(&c->resp_body, body, bodylen);
	policy_classify(cfg, c, 1000, WALL_MS, &d);
	if (d.verdict == POLICY_RETRY) {
		FUZZ_CHECK(d.wait_ms <= MAX_HINT_MS);
		FUZZ_CHECK(1000 + d.wait_ms <= c->deadline_ms);
		if (c->status == 429)
			FUZZ_CHECK(d.wait_ms >= 50);
	} else if (c->status == 429)
		FUZZ_CHECK(d.retry_after_s > 0 &&
		    (uint64_t)d.retry_after_s <= MAX_HINT_MS / 1000 + 1);
	call_free(c);
}

/* Bytes 0..8 as n, base, cap and seed, in the ranges weir passes. */
static void
backoff(const uint8_t *data, size_t size)
{
	uint32_t	 seed;
	uint64_t	 base, cap, w;
	unsigned	 n;

	if (size < 9)
		return;
	n = data[0] % 40;
	base = 1 + ((uint64_t)data[1] << 8 | data[2]) * 10;
	cap = base + ((uint64_t)data[3] << 8 | data[4]) * 100;
	memcpy(&seed, data + 5, sizeof(seed));
	w = policy_backoff(n, base, cap, seed);
	FUZZ_CHECK(w <= cap);
	FUZZ_CHECK(w >= base / 2);
	/* What policy.c itself uses. */
	FUZZ_CHECK(policy_backoff(n, 1000, 60000, seed) <= 60000);
	FUZZ_CHECK(policy_backoff(n, 250, 10000, seed) <= 10000);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*v;

	v = fuzz_cstr(data, size);
	parsers(v);
	classify(v, data, size, size > 0 ? data[size - 1] : 0);
	backoff(data, size);
	free(v);
	return 0;
}
