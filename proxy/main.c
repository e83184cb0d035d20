/*
 * main.c - weir: command line, configuration, signals, the descriptor
 * budget, reloads and stops, and the wiring of the one loop.
 *
 * One thread.  The loop (loop.c) sleeps in epoll_wait() over the
 * descriptors registered with it (curl's sockets, through its socket API,
 * libmicrohttpd's epoll fds, front's hang-up watch, the signal pipe),
 * waking at the earliest of its timers (curl's timeout among them) and the
 * sources' timeouts, and then runs the passes in the order they are added
 * here.  A call's own story is in
 * proxy.c.
 */
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "admin.h"
#include "config.h"
#include "front.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "proxy.h"
#include "sched.h"
#include "share.h"
#include "tenant.h"
#include "upstream.h"

struct weir {
	struct config		*cfg;
	struct loop		*loop;
	struct proxy		*proxy;
	struct front		*front;
	struct sched		*sched;
	struct share		*share;		/* NULL without redis */
	struct upstream		*up;
	struct token_map	*tenants;
	struct metrics		*metrics;
	struct admin		*admin;
	struct admin_view	 view;
	uint64_t		 nofile;	/* RLIMIT_NOFILE, raised */
	int			 argc;		/* for reloads */
	char *const		*argv;

	/* a stop: drain for drain_timeout, then STOP_GRACE_MS at most */
	int			 stopping;
	int			 drained;	/* drain_timeout has passed */
	int			 cut;		/* and the grace too */
	struct loop_timer	 drain_end, grace_end;
};

/*
 * After drain_timeout, how long the loop runs on to write the last answers
 * before it stops whatever is left: a stop takes at most drain_timeout
 * plus this, whatever clients and upstreams do.
 */
#define STOP_GRACE_MS	1000

static int		 sigpipe_fds[2] = { -1, -1 };
static volatile sig_atomic_t got_stop, got_reload;

static void
on_signal(int sig)
{
	int	 saved = errno;
	char	 c = (char)sig;

	if (sig == SIGTERM || sig == SIGINT)
		got_stop = 1;
	else if (sig == SIGHUP)
		got_reload = 1;
	if (write(sigpipe_fds[1], &c, 1) == -1)
		(void)0;	/* the pipe is full: a wake-up is pending */
	errno = saved;
}

static int
setup_signals(void)
{
	struct sigaction	 sa;
	int			 i;

	if (pipe(sigpipe_fds) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		fcntl(sigpipe_fds[i], F_SETFL,
		    fcntl(sigpipe_fds[i], F_GETFL) | O_NONBLOCK);
		fcntl(sigpipe_fds[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

/* loop_fd_cb: the signal pipe; the control pass reads the flags. */
static void
on_sigpipe(int fd, int revents, void *arg)
{
	char	 buf[64];

	(void)fd;
	(void)revents;
	(void)arg;

	while (read(sigpipe_fds[0], buf, sizeof(buf)) > 0)
		;
}

/*
 * File descriptors.  The soft RLIMIT_NOFILE (often 1024) is raised to the
 * hard limit, and what weir may hold open has to fit under it: every
 * client connection front takes (front_conn_limit), the upstream pool
 * (upstream_max_connections), the admin listener's connections and
 * FD_MARGIN of weir's own: standard streams, the two listening sockets,
 * three epoll sets, the signal pipe, curl's wake-up pair and resolver
 * threads' sockets, the CA file, /proc reads for /metrics, front's
 * reserve.  When it does not fit, max_connections is lowered until it
 * does; past its descriptors front still answers 503, but the budget
 * keeps that the exception.
 */
#define FD_MARGIN	64

static uint64_t
fds_needed(const struct config *cfg)
{
	return front_conn_limit(cfg) + upstream_max_connections(cfg) +
	    (cfg->admin_listen_str != NULL ? ADMIN_MAX_CONNECTIONS : 0) +
	    FD_MARGIN;
}

/* Raise the soft RLIMIT_NOFILE to the hard one; the limit in effect. */
static uint64_t
raise_nofile(void)
{
	struct rlimit	 rl;
	rlim_t		 was;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit(RLIMIT_NOFILE)");
		return 1024;
	}
	was = rl.rlim_cur;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
		/* Linux refuses more than fs.nr_open, 1048576 by default */
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max > 1048576 ? 1048576 : rl.rlim_max;
		if (rl.rlim_cur > was && setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			log_warn("setrlimit(RLIMIT_NOFILE, %llu)",
			    (unsigned long long)rl.rlim_cur);
			rl.rlim_cur = was;
		}
	}
	if (rl.rlim_cur != was)
		log_debug("file descriptor limit raised from %llu to %llu",
		    (unsigned long long)was, (unsigned long long)rl.rlim_cur);
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX :
	    (uint64_t)rl.rlim_cur;
}

/* Lower cfg's max_connections until weir fits in nofile descriptors. */
static void
fit_nofile(struct config *cfg, uint64_t nofile)
{
	uint64_t	 want = cfg->max_connections, lo = 1, hi = want, mid;

	if (fds_needed(cfg) <= nofile)
		return;
	/* What weir needs grows with max_connections: the largest fit. */
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		cfg->max_connections = mid;
		if (fds_needed(cfg) <= nofile)
			lo = mid;
		else
			hi = mid - 1;
	}
	cfg->max_connections = lo;
	log_warnx("max_connections lowered from %llu to %llu: the file "
	    "descriptor limit (RLIMIT_NOFILE) is %llu, and besides one per "
	    "client connection (and %llu answered 503) weir needs up to %u "
	    "for upstream connections, %u for the admin listener and %u of "
	    "its own%s", (unsigned long long)want,
	    (unsigned long long)lo, (unsigned long long)nofile,
	    (unsigned long long)(front_conn_limit(cfg) - lo),
	    upstream_max_connections(cfg),
	    cfg->admin_listen_str != NULL ? ADMIN_MAX_CONNECTIONS : 0,
	    FD_MARGIN, fds_needed(cfg) > nofile ? "; it does not fit even "
	    "so, and new connections are answered 503 when descriptors run "
	    "out" : "");
}

/* The startup line of the effective limits (also after a reload). */
static void
log_limits(const struct config *cfg)
{
	log_startup("limits per tenant: rate %llu per %llu ms, burst %llu, "
	    "concurrency %llu, max_queue %llu, max_wait %llu ms; %s",
	    (unsigned long long)cfg->limits.rate.n,
	    (unsigned long long)cfg->limits.rate.per_ms,
	    (unsigned long long)cfg->limits.burst,
	    (unsigned long long)cfg->limits.concurrency,
	    (unsigned long long)cfg->limits.max_queue,
	    (unsigned long long)cfg->max_wait_ms,
	    cfg->tenants != NULL ? "with [tenant] sections" :
	    "no [tenant] sections");
}

/* Are two optional strings equal? */
static int
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * SIGHUP: read the configuration again, from the same flags, environment
 * and file.  Limits, headers and tenant sections apply from the next
 * dispatch; queued calls stay queued.  A bad file changes nothing.
 */
static void
reload(struct weir *w)
{
	struct config		*cfg, *old = w->cfg;
	enum config_action	 action;
	char			 err[1024];

	if (config_load(&cfg, &action, w->argc, w->argv, err,
	    sizeof(err)) == -1) {
		log_error("reload failed, keeping the running configuration: "
		    "%s", err);
		return;
	}
	fit_nofile(cfg, w->nofile);
	if (cfg->listen_len != old->listen_len ||
	    memcmp(&cfg->listen, &old->listen, cfg->listen_len) != 0 ||
	    (cfg->admin_listen_str == NULL) !=
	    (old->admin_listen_str == NULL) ||
	    (cfg->admin_listen_str != NULL &&
	    memcmp(&cfg->admin_listen, &old->admin_listen,
	    cfg->admin_listen_len) != 0))
		log_warnx("reload: listen and admin_listen changes take a "
		    "restart; the other settings apply now");
	if (!same_str(cfg->redis, old->redis) ||
	    !same_str(cfg->redis_prefix, old->redis_prefix) ||
	    cfg->redis_timeout_ms != old->redis_timeout_ms)
		log_warnx("reload: redis, redis_prefix and redis_timeout "
		    "changes take a restart");
	w->cfg = cfg;
	log_init(cfg->log_level, cfg->log_format);
	front_set_config(w->front, cfg);
	proxy_set_config(w->proxy, cfg);
	sched_set_config(w->sched, cfg, loop_time(w->loop)->mono_ms);
	share_set_config(w->share, cfg);
	upstream_set_config(w->up, cfg);
	w->view.cfg = cfg;
	config_free(old);
	log_startup("reloaded %s", cfg->file != NULL ? cfg->file :
	    "(no file)");
	log_limits(cfg);
}

/* loop_cb for the grace_end timer: the stop is over, whatever is left. */
static void
on_grace_end(void *arg)
{
	struct weir	*w = arg;

	w->cut = 1;
}

/* loop_cb for the drain_end timer: answer what is left, 503. */
static void
on_drain_end(void *arg)
{
	struct weir	*w = arg;

	w->drained = 1;
	loop_timer_arm(w->loop, &w->grace_end,
	    loop_time(w->loop)->mono_ms + STOP_GRACE_MS, on_grace_end, w);
}

/* SIGTERM or SIGINT: stop accepting, drain for drain_timeout. */
static void
begin_stop(struct weir *w)
{
	uint64_t	 now = loop_time(w->loop)->mono_ms;

	w->stopping = 1;
	share_leave(w->share);
	front_quiesce(w->front);
	w->view.draining = 1;
	log_startup("stopping: draining %llu calls for at most %llu ms",
	    (unsigned long long)front_pending(w->front),
	    (unsigned long long)w->cfg->drain_timeout_ms);
	loop_timer_arm(w->loop, &w->drain_end,
	    now + w->cfg->drain_timeout_ms, on_drain_end, w);
}

/* The first pass of every turn: signals, reloads and the stop. */
static void
control(void *arg)
{
	struct weir	*w = arg;

	if (got_reload) {
		got_reload = 0;
		reload(w);
	}
	if (got_stop && !w->stopping)
		begin_stop(w);
	if (w->drained) {
		/* Every turn: what came back since is answered too. */
		proxy_shutdown(w->proxy);
		front_shutdown(w->front);
	}
}

/* The last pass of every turn: is the stop over? */
static void
stop_check(void *arg)
{
	struct weir	*w = arg;

	if (!w->stopping)
		return;
	if (front_pending(w->front) == 0 && upstream_active(w->up) == 0 &&
	    front_idle(w->front)) {
		loop_stop(w->loop);
		return;
	}
	if (w->cut) {
		log_warnx("stopping: closing what is left, %llu requests not "
		    "answered", (unsigned long long)front_pending(w->front));
		loop_stop(w->loop);
	}
}

/* admin's pass: the view of weir it shows, then its requests. */
static void
admin_pass(void *arg)
{
	struct weir		*w = arg;

	w->view.pending = front_pending(w->front);
	w->view.body_bytes = front_body_bytes(w->front);
	admin_run(w->admin);
}

static long
admin_wait(void *arg)
{
	struct weir	*w = arg;

	return admin_timeout(w->admin);
}

/*
 * The passes of one turn, in order: signals and stops; requests in and
 * answers out; transfers on (attempts end, proxy decides); dispatch of
 * what sched says is due (and sending it at once); front again, so that
 * answers resumed on this turn go out now, not after another sleep; the
 * admin listener; the end of a stop.
 */
static int
wire_loop(struct weir *w)
{
	loop_add_pass(w->loop, control, NULL, w);
	loop_add_pass(w->loop, front_run, front_timeout, w->front);
	loop_add_pass(w->loop, upstream_perform, upstream_timeout, w->up);
	/* Redis: reservations asked for, and written, before dispatch. */
	w->share = share_new(w->loop, w->cfg, w->sched, w->metrics);
	proxy_set_share(w->proxy, w->share);
	w->view.share = w->share;
	loop_add_pass(w->loop, proxy_dispatch, proxy_timeout, w->proxy);
	loop_add_pass(w->loop, front_run, NULL, w->front);
	if (w->admin != NULL) {
		if (loop_add_wake_fd(w->loop, admin_fd(w->admin)) == -1)
			return -1;
		loop_add_pass(w->loop, admin_pass, admin_wait, w);
	}
	loop_add_pass(w->loop, stop_check, NULL, w);
	return loop_add_fd(w->loop, sigpipe_fds[0], LOOP_READ, on_sigpipe,
	    NULL);
}

/*
 * Make every part and wire them: sched, the token map and metrics (pure
 * state), the loop, the upstream side, the call's life
 * (proxy), the client side, the admin listener.  0, or -1 (logged).
 */
static int
start(struct weir *w)
{
	static const struct front_hooks	 hooks = {
		proxy_arrive, proxy_abandon, proxy_drained
	};

	if (setup_signals() == -1) {
		log_warn("cannot set up signals");
		return -1;
	}
	w->nofile = raise_nofile();
	fit_nofile(w->cfg, w->nofile);
	w->sched = sched_new(w->cfg);
	w->tenants = token_map_new((unsigned)w->cfg->max_tenants * 4);
	w->metrics = metrics_new((unsigned)w->cfg->max_tenants);
	if ((w->loop = loop_new()) == NULL) {
		log_warn("cannot make the loop's epoll set");
		return -1;
	}
	log_set_clock(loop_time(w->loop));
	if ((w->up = upstream_new(w->cfg, w->loop)) == NULL) {
		log_error("cannot set up libcurl");
		return -1;
	}
	w->proxy = proxy_new(w->cfg, loop_time(w->loop), w->sched,
	    w->tenants, w->metrics);
	upstream_set_callbacks(w->up, proxy_attempt_done, proxy_stream,
	    w->proxy);
	if ((w->front = front_new(w->cfg, w->loop, &hooks, w->proxy)) == NULL)
		return -1;
	proxy_set_ends(w->proxy, w->front, w->up);
	front_set_metrics(w->front, w->metrics);
	log_startup("listening on %s", front_address(w->front));
	w->view.cfg = w->cfg;
	w->view.metrics = w->metrics;
	w->view.sched = w->sched;
	w->view.listen_addr = front_address(w->front);
	w->view.clock = loop_time(w->loop);
	w->view.started_ms = w->view.clock->mono_ms;
	if (w->cfg->admin_listen_str != NULL) {
		if ((w->admin = admin_new(w->cfg, &w->view)) == NULL)
			return -1;
		log_startup("admin listening on %s (/healthz /metrics "
		    "/status /)", admin_address(w->admin));
	} else
		log_startup("admin listener off");
	if (wire_loop(w) == -1) {
		log_error("too many descriptors for the loop");
		return -1;
	}
	log_startup("upstream %s, login upstream %s%s", w->cfg->upstream,
	    w->cfg->login_upstream,
	    w->cfg->insecure ? " (TLS verification OFF)" : "");
	log_limits(w->cfg);
	return 0;
}

/* Free everything start() made, in the reverse order; parts may be NULL. */
static void
teardown(struct weir *w)
{
	share_free(w->share);
	admin_free(w->admin);
	front_free(w->front);
	upstream_free(w->up);
	proxy_free(w->proxy);
	log_set_clock(NULL);
	loop_free(w->loop);
	metrics_free(w->metrics);
	sched_free(w->sched);
	token_map_free(w->tenants);
	config_free(w->cfg);
}

static void
usage(FILE *out)
{
	fprintf(out,
"usage: weir [-tvVh] [-c FILE] [-l ADDR:PORT] [-u API_URL] [-L LOGIN_URL]\n"
"            [-r REGION]\n"
"  -c, --config FILE          configuration file (default: built-in defaults)\n"
"  -l, --listen ADDR:PORT     listen address (default 127.0.0.1:8080)\n"
"  -u, --upstream URL         API upstream (default https://api.mypurecloud.com)\n"
"  -L, --login-upstream URL   login upstream (default https://login.mypurecloud.com)\n"
"  -r, --region REGION        Genesys Cloud region, e.g. mypurecloud.ie\n"
"  -t, --check-config         check the configuration and exit\n"
"  -v, --verbose              log at debug level\n"
"  -V, --version              print the version and exit\n"
"  -h, --help                 print this help and exit\n"
"Every setting can also come from WEIR_<KEY> variables; see weir.conf(5).\n");
}

int
main(int argc, char *argv[])
{
	struct weir		 w;
	enum config_action	 action;
	char			 err[1024];
	int			 rc = 1;

	/*
	 * glibc's fast bins off: a call's few dozen small blocks (curl's,
	 * libmicrohttpd's, weir's) then go back through the thread cache
	 * and the small bins, and the larger blocks of every call (buffers
	 * of 1 KiB and more) no longer set off a consolidation of the fast
	 * bins each time.  tests/bench/overhead.sh: about 7% less CPU per
	 * call (commit message).
	 */
	mallopt(M_MXFAST, 0);
	memset(&w, 0, sizeof(w));
	w.argc = argc;
	w.argv = argv;
	if (config_load(&w.cfg, &action, argc, argv, err, sizeof(err)) == -1) {
		fprintf(stderr, "weir: %s\n", err);
		if (strncmp(err, "usage", 5) == 0)
			usage(stderr);
		return 1;
	}
	switch (action) {
	case CONFIG_HELP:
		usage(stdout);
		config_free(w.cfg);
		return 0;
	case CONFIG_VERSION:
		printf("weir %s\n", PACKAGE_VERSION);
		config_free(w.cfg);
		return 0;
	case CONFIG_CHECK:
		printf("configuration OK\n");
		config_free(w.cfg);
		return 0;
	case CONFIG_RUN:
		break;
	}
	log_init(w.cfg->log_level, w.cfg->log_format);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		log_error("curl_global_init failed");
	else if (start(&w) == 0 && loop_run(w.loop) == 0)
		rc = 0;
	if (w.loop != NULL)
		log_startup("stopped");
	teardown(&w);
	curl_global_cleanup();
	return rc;
}
