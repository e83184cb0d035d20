/*
 * sched_fixture.h - what the scheduler's Check tests build their cases
 * from: a configuration from text, a call of a tenant with a deadline,
 * and a submit that must be taken.  Static: each test program that
 * includes it has its own copy.
 */
#ifndef WEIR_SCHED_FIXTURE_H
#define WEIR_SCHED_FIXTURE_H

#include <check.h>

#include "call.h"
#include "config.h"
#include "sched.h"
#include "xmalloc.h"

/* The defaults plus text, as a file would give them; aborts the test on
 * an error. */
static struct config *
cfg_of(const char *text)
{
	struct config	*cfg = config_new();
	char		 err[256];

	if (config_file_mem(cfg, "test.conf", text, err, sizeof(err)) == -1 ||
	    config_finish(cfg, err, sizeof(err)) == -1)
		ck_abort_msg("config: %s", err);
	return cfg;
}

/* A GET of tenant's, due by deadline (ms). */
static struct call *
mk(const char *tenant, uint64_t deadline)
{
	struct call	*c = call_new("GET", "/api/v2/flows");

	c->tenant = xstrdup(tenant);
	c->deadline_ms = deadline;
	return c;
}

/* Queue c at now; sched must take it. */
static void
submit(struct sched *s, struct call *c, uint64_t now)
{
	ck_assert_int_eq(sched_submit(s, c, now), WERR_NONE);
}

#endif
