/*
 * admin.h - the admin listener: GET /healthz, /metrics, /status and a
 * small status page at /, on their own address (admin_listen), so that no
 * API path can collide with them.  libmicrohttpd in external epoll mode,
 * driven by the one loop like the front.
 */
#ifndef WEIR_ADMIN_H
#define WEIR_ADMIN_H

#include <stdint.h>

#include "config.h"

struct metrics;
struct loop_time;
struct sched;
struct share;

/* What admin shows that it does not own; main keeps it current. */
struct admin_view {
	const struct config	*cfg;
	const struct metrics	*metrics;
	const struct sched	*sched;
	const struct share	*share;		/* NULL without redis */
	const char		*listen_addr;	/* the proxy's bound address */
	const struct loop_time	*clock;		/* the loop's */
	uint64_t		 started_ms;
	uint64_t		 pending;	/* calls accepted, not answered */
	uint64_t		 body_bytes;	/* request bodies held */
	int			 draining;
};

struct admin;

/*
 * Connections the admin listener holds at once (a budget of descriptors
 * main counts in): scrapers, health checks and a browser need a handful,
 * the rest is room for clients that connect and send nothing, which each
 * give up their place after at most 5 s (or client_timeout).
 */
#define ADMIN_MAX_CONNECTIONS	256

/* Listen on cfg->admin_listen_str's address; NULL on failure (logged). */
struct admin	*admin_new(const struct config *, const struct admin_view *);
void		 admin_free(struct admin *);
/* The address bound, the fd to poll, the most ms to sleep (-1: any). */
const char	*admin_address(const struct admin *);
int		 admin_fd(const struct admin *);
long		 admin_timeout(void *admin);
void		 admin_run(struct admin *);

/* The page at / (admin_page.c). */
extern const char admin_page_html[];

#endif
