/*
 * main.c - weir: command line, configuration, signals and the one loop.
 *
 * One thread.  The loop sleeps in curl_multi_poll() over curl's sockets,
 * libmicrohttpd's epoll fd and a self-pipe for signals, waking at the
 * earliest of curl's timeout, MHD's timeout and the scheduler's next due
 * time.  After each wake: MHD_run(), curl_multi_perform() and finished
 * transfers, then dispatch of whatever the scheduler says is due.  Only
 * this file reads the clock.
 */
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
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
#include "metrics.h"
#include "policy.h"
#include "sched.h"
#include "tenant.h"
#include "upstream.h"

struct weir {
	struct config		*cfg;
	struct front		*front;
	struct sched		*sched;
	struct upstream		*up;
	struct tenant_map	*tenants;
	struct metrics		*metrics;
	struct admin		*admin;
	struct admin_view	 view;
	uint64_t		 now_ms;
	uint64_t		 nofile;	/* RLIMIT_NOFILE, raised */
	int			 argc;		/* for reloads */
	char *const		*argv;
};

/*
 * After drain_timeout, how long the loop runs on to write the last answers
 * before it stops whatever is left: a stop takes at most drain_timeout
 * plus this, whatever clients and upstreams do.
 */
#define STOP_GRACE_MS	1000

static int		 sigpipe_fds[2] = { -1, -1 };
static volatile sig_atomic_t got_stop, got_reload;

static int64_t
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
clock_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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

static void
drain_sigpipe(void)
{
	char	 buf[64];

	while (read(sigpipe_fds[0], buf, sizeof(buf)) > 0)
		;
}

static void	on_done_policy(struct weir *, struct call *);

/* upstream_done_cb: an attempt is over; answer or retry. */
static void
on_done(struct call *c, void *arg)
{
	struct weir		*w = arg;

	sched_done(w->sched, c, w->now_ms);
	metrics_attempt(w->metrics, c, w->now_ms - c->sent_ms);
	on_done_policy(w, c);
}

static void
on_done_policy(struct weir *w, struct call *c)
{
	struct policy_decision	 d;

	if (c->up == UP_LOGIN)
		tenant_learn(w->tenants, c, w->now_ms);
	policy_classify(w->cfg, c, w->now_ms, wall_ms(), &d);
	if (d.pause_tenant) {
		sched_throttle(w->sched, c, w->now_ms, d.wait_hint_ms,
		    d.limit_per_min);
		log_info("%s: tenant %s throttled (429), paused %llu ms%s",
		    c->reqid, c->tenant, (unsigned long long)d.wait_hint_ms,
		    d.verdict == POLICY_RETRY ? ", will retry" :
		    ", past the deadline: answering the 429");
	} else if (d.verdict == POLICY_RETRY)
		log_info("%s: retrying after %s in %llu ms", c->reqid,
		    d.reason, (unsigned long long)d.wait_ms);
	if (d.verdict == POLICY_RETRY) {
		metrics_retry(w->metrics, c->tenant, d.reason);
		sched_requeue(w->sched, c, w->now_ms + d.wait_ms, w->now_ms);
	} else
		front_answer(w->front, c, w->now_ms);
}

/* upstream_stream_cb: the answer streams, or has more bytes to send. */
static void
on_stream(struct call *c, void *arg)
{
	struct weir	*w = arg;

	front_stream(w->front, c, w->now_ms);
}

/* front_abandon_cb, for front_set_drained(): the client took bytes. */
static void
on_drained(struct call *c, void *arg)
{
	struct weir	*w = arg;

	upstream_drained(w->up, c);
}

/* front_abandon_cb: the client left; take its call back. */
static void
on_abandon(struct call *c, void *arg)
{
	struct weir	*w = arg;

	if (c->xfer != NULL) {
		upstream_cancel(w->up, c);
		c->xfer_error = XFER_OTHER;	/* not an answer: learn nothing */
		sched_done(w->sched, c, w->now_ms);
	} else
		sched_remove(w->sched, c);
}

static void
dispatch(struct weir *w)
{
	struct call	*c, *next;

	/* Calls that cannot go before their deadline are answered now:
	 * with their last 429 if they had one, else 503. */
	for (c = sched_expire(w->sched, w->now_ms); c != NULL; c = next) {
		next = c->next;
		c->next = NULL;
		if (c->status != 429 || c->xfer_error != XFER_OK)
			call_set_error(c, 503, "weir.deadline",
			    "The call could not be sent upstream within its "
			    "maximum wait (max_wait / X-Weir-Max-Wait)");
		front_answer(w->front, c, w->now_ms);
	}

	while ((c = sched_next(w->sched, w->now_ms)) != NULL) {
		metrics_queue_wait(w->metrics, w->now_ms - c->enqueued_ms);
		if (upstream_start(w->up, c, w->now_ms) == 0)
			continue;
		/* Could not even start: answer with the failure. */
		sched_done(w->sched, c, w->now_ms);
		c->xfer_error = c->xfer_error != XFER_OK ? c->xfer_error :
		    XFER_OTHER;
		on_done_policy(w, c);
	}
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
	w->cfg = cfg;
	log_init(cfg->log_level, cfg->log_format);
	front_set_config(w->front, cfg);
	sched_set_config(w->sched, cfg, w->now_ms);
	upstream_set_config(w->up, cfg);
	w->view.cfg = cfg;
	config_free(old);
	log_startup("reloaded %s", cfg->file != NULL ? cfg->file :
	    "(no file)");
	log_limits(cfg);
}

/* Answer every call still waiting with 503 (end of a drain). */
static void
answer_leftovers(struct weir *w)
{
	struct call	*c;

	while ((c = sched_drain(w->sched)) != NULL) {
		c->queued_ms += w->now_ms - c->enqueued_ms;
		call_set_error(c, 503, "weir.shutting_down",
		    "weir is shutting down; retry the request");
		front_answer(w->front, c, w->now_ms);
	}
}

static void
update_view(struct weir *w)
{
	w->view.now_ms = w->now_ms;
	w->view.wall_ms = wall_ms();
	w->view.pending = front_pending(w->front);
	w->view.body_bytes = front_body_bytes(w->front);
}

static int
run(struct weir *w)
{
	struct curl_waitfd	 fds[5];
	unsigned		 nfds;
	uint64_t		 due, drain_until = 0, end;
	long			 timeout, t;
	int			 stopping = 0;

	for (;;) {
		w->now_ms = clock_ms();
		if (got_reload) {
			got_reload = 0;
			reload(w);
		}
		if (got_stop && !stopping) {
			stopping = 1;
			drain_until = w->now_ms + w->cfg->drain_timeout_ms;
			front_quiesce(w->front);
			w->view.draining = 1;
			log_startup("stopping: draining %llu calls for at "
			    "most %llu ms",
			    (unsigned long long)front_pending(w->front),
			    (unsigned long long)w->cfg->drain_timeout_ms);
		}
		if (stopping) {
			if (w->now_ms >= drain_until) {
				answer_leftovers(w);
				front_shutdown(w->front, w->now_ms);
				/* Resumed connections answer now, not after
				 * the next wake. */
				front_run(w->front, w->now_ms);
			}
			if (front_pending(w->front) == 0 &&
			    upstream_active(w->up) == 0 &&
			    front_idle(w->front))
				break;
			if (w->now_ms >= drain_until + STOP_GRACE_MS) {
				log_warnx("stopping: closing what is left, "
				    "%llu requests not answered",
				    (unsigned long long)
				    front_pending(w->front));
				break;
			}
		}

		timeout = 1000;
		w->view.now_ms = w->now_ms;	/* for admin_timeout */
		if ((t = front_timeout(w->front)) >= 0 && t < timeout)
			timeout = t;
		if (w->admin != NULL && (t = admin_timeout(w->admin)) >= 0 &&
		    t < timeout)
			timeout = t;
		due = sched_next_due(w->sched, w->now_ms);
		if (due != SCHED_NEVER && (long)(due - w->now_ms) < timeout)
			timeout = (long)(due - w->now_ms);
		if (stopping) {
			/* Wake at the drain's end, then at the stop's. */
			end = w->now_ms < drain_until ? drain_until :
			    drain_until + STOP_GRACE_MS;
			t = end > w->now_ms ? (long)(end - w->now_ms) : 0;
			if (t < timeout)
				timeout = t;
		}

		fds[0].fd = front_fd(w->front);
		fds[0].events = CURL_WAIT_POLLIN;
		fds[0].revents = 0;
		fds[1].fd = sigpipe_fds[0];
		fds[1].events = CURL_WAIT_POLLIN;
		fds[1].revents = 0;
		fds[2].fd = front_watch_fd(w->front);
		fds[2].events = CURL_WAIT_POLLIN;
		fds[2].revents = 0;
		nfds = 3;
		if (w->admin != NULL) {
			fds[3].fd = admin_fd(w->admin);
			fds[3].events = CURL_WAIT_POLLIN;
			fds[3].revents = 0;
			nfds = 4;
		}
		if ((fds[nfds].fd = front_shed_fd(w->front)) != -1) {
			fds[nfds].events = CURL_WAIT_POLLIN;
			fds[nfds].revents = 0;
			nfds++;
		}
		if (upstream_wait(w->up, fds, nfds, (int)timeout) == -1) {
			log_error("curl_multi_poll failed");
			return -1;
		}
		if (fds[1].revents != 0)
			drain_sigpipe();

		w->now_ms = clock_ms();
		front_run(w->front, w->now_ms);
		upstream_perform(w->up);
		if (!stopping || w->now_ms < drain_until)
			dispatch(w);	/* past the drain, nothing goes out */
		/* Send what was just dispatched now, not after another poll;
		 * and resumed connections answer on this pass. */
		upstream_perform(w->up);
		front_run(w->front, w->now_ms);
		if (w->admin != NULL) {
			update_view(w);
			admin_run(w->admin);
		}
	}
	return 0;
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

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("curl_global_init failed");
		goto out;
	}
	if (setup_signals() == -1) {
		log_warn("cannot set up signals");
		goto out;
	}
	w.nofile = raise_nofile();
	fit_nofile(w.cfg, w.nofile);
	w.sched = sched_new(w.cfg);
	w.tenants = tenant_map_new((unsigned)w.cfg->max_tenants * 4);
	w.metrics = metrics_new((unsigned)w.cfg->max_tenants);
	if ((w.up = upstream_new(w.cfg, on_done, &w)) == NULL) {
		log_error("cannot set up libcurl");
		goto out;
	}
	upstream_set_stream_cb(w.up, on_stream);
	w.now_ms = clock_ms();
	w.front = front_new(w.cfg, w.sched, w.tenants, on_abandon, &w);
	if (w.front == NULL)
		goto out;
	front_set_metrics(w.front, w.metrics);
	front_set_drained(w.front, on_drained);
	log_startup("listening on %s", front_address(w.front));
	w.view.cfg = w.cfg;
	w.view.metrics = w.metrics;
	w.view.sched = w.sched;
	w.view.listen_addr = front_address(w.front);
	w.view.started_ms = w.now_ms;
	update_view(&w);
	if (w.cfg->admin_listen_str != NULL) {
		if ((w.admin = admin_new(w.cfg, &w.view)) == NULL)
			goto out;
		log_startup("admin listening on %s (/healthz /metrics "
		    "/status /)", admin_address(w.admin));
	} else
		log_startup("admin listener off");
	log_startup("upstream %s, login upstream %s%s", w.cfg->upstream,
	    w.cfg->login_upstream,
	    w.cfg->insecure ? " (TLS verification OFF)" : "");
	log_limits(w.cfg);
	if (run(&w) == 0)
		rc = 0;
	log_startup("stopped");
 out:
	admin_free(w.admin);
	front_free(w.front);
	upstream_free(w.up);
	metrics_free(w.metrics);
	sched_free(w.sched);
	tenant_map_free(w.tenants);
	config_free(w.cfg);
	curl_global_cleanup();
	return rc;
}
