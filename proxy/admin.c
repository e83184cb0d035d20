/*
 * admin.c - /healthz, /metrics, /status and / on the admin address; see
 * admin.h.  Reads the view main keeps current; changes nothing.  May read
 * /proc/self for the process gauges.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "admin.h"
#include "call.h"
#include "error.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "mhd.h"
#include "sched.h"
#include "share.h"
#include "xmalloc.h"

/*
 * A client of the admin port has head_ms to send a whole request, from
 * its connect or from the end of its previous request.  libmicrohttpd's
 * own timeout is an idle timeout, which a byte every few seconds resets:
 * 64 clients trickling half requests once held every admin connection
 * and the Docker HEALTHCHECK failed.  libmicrohttpd has no call to close
 * a connection from outside; shutdown() of its socket makes its next
 * read see the end, and it closes the connection itself.
 */
#define HEAD_MS		5000

struct aconn {
	int		 fd;
	uint64_t	 due_ms;	/* 0: answering, no deadline */
	struct aconn	*prev, *next;	/* on the deadline list */
};

struct admin {
	struct MHD_Daemon	*d;
	const struct admin_view	*view;
	char			 addr[INET6_ADDRSTRLEN + 8];
	uint64_t		 head_ms;
	/* connections waiting for a request, soonest deadline first (every
	 * deadline is head_ms after an arm, so arming appends) */
	struct aconn		*head, *tail;
};

/* Take c off the deadline list. */
static void
disarm(struct admin *a, struct aconn *c)
{
	if (c->due_ms == 0)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		a->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		a->tail = c->prev;
	c->prev = c->next = NULL;
	c->due_ms = 0;
}

/* c now waits for a request: head_ms from now. */
static void
arm(struct admin *a, struct aconn *c)
{
	disarm(a, c);
	c->due_ms = a->view->clock->mono_ms + a->head_ms;
	c->prev = a->tail;
	if (a->tail != NULL)
		a->tail->next = c;
	else
		a->head = c;
	a->tail = c;
}

static struct aconn *
conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* Cut the connections past their deadline. */
static void
cut_late(struct admin *a)
{
	struct aconn	*c;

	while ((c = a->head) != NULL && c->due_ms <= a->view->clock->mono_ms) {
		disarm(a, c);
		if (shutdown(c->fd, SHUT_RDWR) == -1)
			log_debug("admin: shutdown: %s", strerror(errno));
	}
}

static void
jstr(struct buf *b, const char *s)
{
	buf_append(b, "\"", 1);
	json_escape(b, s, strlen(s));
	buf_append(b, "\"", 1);
}

/* An ISO-8601 UTC time for a loop-clock instant, or null. */
static void
jtime(struct buf *b, const struct admin_view *v, uint64_t at_ms)
{
	int64_t		 wall;
	time_t		 t;
	struct tm	 tm;
	char		 out[40];

	if (at_ms == 0) {
		buf_append(b, "null", 4);
		return;
	}
	wall = v->clock->wall_ms - (int64_t)(v->clock->mono_ms - at_ms);
	if (at_ms > v->clock->mono_ms)
		wall = v->clock->wall_ms + (int64_t)(at_ms - v->clock->mono_ms);
	t = (time_t)(wall / 1000);
	gmtime_r(&t, &tm);
	strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(b, "\"%s.%03dZ\"", out, (int)(wall % 1000));
}

struct status_ctx {
	struct buf		*b;
	const struct admin_view	*v;
	int			 first;
};

/* sched_tenant_cb: one tenant's object in /status. */
static void
status_tenant(const struct sched_tenant_info *i, void *arg)
{
	struct status_ctx	*sc = arg;
	struct buf		*b = sc->b;
	struct metrics_totals	 t;

	metrics_tenant_totals(sc->v->metrics, i->name, &t);
	if (!sc->first)
		buf_append(b, ",", 1);
	sc->first = 0;
	jstr(b, i->name);
	buf_printf(b, ":{\"queued\":%llu,\"inflight\":%llu,"
	    "\"rate_configured\":%.6g,\"rate\":%.6g,\"rate_learned\":",
	    (unsigned long long)i->queued, (unsigned long long)i->inflight,
	    i->configured_per_s, i->rate_per_s);
	if (i->learned_per_min > 0)
		buf_printf(b, "%.6g", (double)i->learned_per_min / 60.0);
	else
		buf_append(b, "null", 4);
	buf_append(b, ",\"budget_per_window\":", 21);
	if (i->budget > 0)
		buf_printf(b, "%llu", (unsigned long long)i->budget);
	else
		buf_append(b, "null", 4);
	buf_printf(b, ",\"shared_epoch\":%llu",
	    (unsigned long long)i->epoch);
	buf_printf(b, ",\"paused\":%s,\"paused_ms\":%llu,\"paused_until\":",
	    i->paused_until_ms != 0 ? "true" : "false",
	    (unsigned long long)(i->paused_until_ms != 0 ?
	    i->paused_until_ms - sc->v->clock->mono_ms : 0));
	jtime(b, sc->v, i->paused_until_ms);
	buf_append(b, ",\"last_429\":", 12);
	jtime(b, sc->v, i->last_429_ms);
	/* after the flat fields: readers that scan up to the first '}' */
	buf_printf(b, ",\"queued_by_priority\":{\"high\":%llu,\"normal\":%llu,"
	    "\"low\":%llu}", (unsigned long long)i->queued_by[PRIO_HIGH],
	    (unsigned long long)i->queued_by[PRIO_NORMAL],
	    (unsigned long long)i->queued_by[PRIO_LOW]);
	buf_printf(b, ",\"totals\":{\"requests\":%llu,\"upstream\":%llu,"
	    "\"throttled\":%llu,\"absorbed_429\":%llu,\"retries\":%llu,"
	    "\"errors\":%llu}}",
	    (unsigned long long)t.requests, (unsigned long long)t.upstream,
	    (unsigned long long)i->throttled,
	    (unsigned long long)t.absorbed_429,
	    (unsigned long long)t.retries, (unsigned long long)t.errors);
}

/* /status's "redis": null without it, else this instance's side. */
static void
render_redis(const struct admin_view *v, struct buf *b)
{
	struct share_info	 si;

	if (v->share == NULL) {
		buf_append(b, "null", 4);
		return;
	}
	share_info(v->share, &si);
	buf_append(b, "{\"addr\":", 8);
	jstr(b, si.addr);
	buf_printf(b, ",\"mode\":\"%s\",\"why\":", si.shared ? "shared" :
	    "local");
	if (si.shared)
		buf_append(b, "null", 4);
	else
		jstr(b, si.why);
	buf_printf(b, ",\"instances\":%llu,\"local_s\":%.3f,\"ops\":%llu,"
	    "\"errors\":%llu,\"timeouts\":%llu,\"reconnects\":%llu,"
	    "\"slots_granted\":%llu,\"slots_wasted\":%llu,"
	    "\"limit_mismatches\":%llu,\"rtt_avg_ms\":%.3f}",
	    (unsigned long long)si.instances, (double)si.local_ms / 1000.0,
	    (unsigned long long)si.ops, (unsigned long long)si.errors,
	    (unsigned long long)si.timeouts, (unsigned long long)si.reconnects,
	    (unsigned long long)si.granted, (unsigned long long)si.wasted,
	    (unsigned long long)si.mismatches, si.rtt_count > 0 ?
	    (double)si.rtt_sum_us / 1000.0 / (double)si.rtt_count : 0.0);
}

static void
render_status(const struct admin_view *v, struct buf *b)
{
	struct status_ctx	 sc = { b, v, 1 };

	buf_printf(b, "{\"version\":\"%s\",\"uptime_s\":%.3f,\"draining\":%s,"
	    "\"listen\":", PACKAGE_VERSION,
	    (double)(v->clock->mono_ms - v->started_ms) / 1000.0,
	    v->draining ? "true" : "false");
	jstr(b, v->listen_addr);
	buf_append(b, ",\"upstream\":", 12);
	jstr(b, v->cfg->upstream);
	buf_append(b, ",\"login_upstream\":", 18);
	jstr(b, v->cfg->login_upstream);
	buf_printf(b, ",\"pending\":%llu,\"queued\":%llu,"
	    "\"queued_by_priority\":{\"high\":%llu,\"normal\":%llu,"
	    "\"low\":%llu},\"inflight\":%llu,"
	    "\"tenants\":{", (unsigned long long)v->pending,
	    (unsigned long long)sched_totals(v->sched).queued,
	    (unsigned long long)sched_queued_class(v->sched, PRIO_HIGH),
	    (unsigned long long)sched_queued_class(v->sched, PRIO_NORMAL),
	    (unsigned long long)sched_queued_class(v->sched, PRIO_LOW),
	    (unsigned long long)sched_totals(v->sched).inflight);
	sched_foreach(v->sched, v->clock->mono_ms, status_tenant, &sc);
	buf_append(b, "},\"redis\":", 10);
	render_redis(v, b);
	buf_append(b, "}\n", 2);
}

/* The usual process gauges, from /proc/self, and the view's own. */
static void
read_process(const struct admin_view *v, struct metrics_process *out)
{
	FILE		*f;
	DIR		*d;
	char		 line[256];
	unsigned long	 utime = 0, stime = 0;
	long		 rss_pages = 0, tick = sysconf(_SC_CLK_TCK);
	long		 page = sysconf(_SC_PAGESIZE);
	int		 fds = 0;

	/* Without redis the Redis fields stay unset: out->redis says so. */
	memset(out, 0, sizeof(*out));
	if ((f = fopen("/proc/self/stat", "r")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL) {
			char *p = strrchr(line, ')');

			if (p != NULL)
				sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u "
				    "%*u %*u %*u %*u %lu %lu %*d %*d %*d %*d "
				    "%*d %*d %*u %*u %ld", &utime, &stime,
				    &rss_pages);
		}
		fclose(f);
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while (readdir(d) != NULL)
			fds++;
		closedir(d);
		fds -= 3;	/* ".", ".." and the DIR's own fd */
	}
	out->cpu_seconds = tick > 0 ? (double)(utime + stime) /
	    (double)tick : 0.0;
	out->resident_bytes = (uint64_t)(rss_pages * page);
	out->open_fds = (uint64_t)fds;
	out->start_time_s = (double)(v->clock->wall_ms - (int64_t)(v->clock->mono_ms -
	    v->started_ms)) / 1000.0;
	out->pending = v->pending;
	out->body_bytes = v->body_bytes;
	out->draining = v->draining != 0;
	if (v->share != NULL) {
		struct share_info	 si;

		share_info(v->share, &si);
		out->redis = 1;
		out->redis_shared = (uint64_t)si.shared;
		out->redis_instances = si.instances;
		out->redis_ops = si.ops;
		out->redis_errors = si.errors;
		out->redis_timeouts = si.timeouts;
		out->redis_local_s = (double)si.local_ms / 1000.0;
		out->redis_granted = si.granted;
		out->redis_wasted = si.wasted;
	}
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *type,
    struct buf *b)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	resp = MHD_create_response_from_buffer_with_free_callback(b->len,
	    b->p, free);
	if (resp == NULL) {
		buf_free(b);
		return MHD_NO;
	}
	b->p = NULL;
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* MHD_AccessHandlerCallback */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **req_cls)
{
	struct admin		*a = cls;
	const struct admin_view	*v = a->view;
	struct buf		 b = { 0 };
	struct aconn		*c;
	static int		 marker;

	(void)version;
	(void)upload_data;
	if (*req_cls == NULL) {
		*req_cls = &marker;	/* answer after the headers */
		return MHD_YES;
	}
	if (*upload_size > 0) {
		*upload_size = 0;	/* no bodies here */
		return MHD_YES;
	}
	/* The whole request is in: no deadline while it is answered. */
	if ((c = conn_of(conn)) != NULL)
		disarm(a, c);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		error_json(&b, WERR_ADMIN_METHOD, NULL, NULL);
		return reply(conn, 405, "application/json", &b);
	}
	if (strcmp(url, "/healthz") == 0) {
		buf_printf(&b, "%s\n", v->draining ? "draining" : "ok");
		return reply(conn, v->draining ? 503 : 200,
		    "text/plain; charset=utf-8", &b);
	}
	if (strcmp(url, "/metrics") == 0) {
		struct metrics_process	 proc;
		struct metrics_src	 src = { v->metrics, v->sched, &proc,
		    v->clock->mono_ms, (unsigned)v->cfg->metrics_tenants };

		read_process(v, &proc);
		metrics_render(&src, &b);
		return reply(conn, 200, "text/plain; version=0.0.4; "
		    "charset=utf-8", &b);
	}
	if (strcmp(url, "/status") == 0) {
		render_status(v, &b);
		return reply(conn, 200, "application/json", &b);
	}
	if (strcmp(url, "/") == 0) {
		buf_append(&b, admin_page_html, strlen(admin_page_html));
		return reply(conn, 200, "text/html; charset=utf-8", &b);
	}
	error_json(&b, WERR_ADMIN_NOT_FOUND, NULL, NULL);
	return reply(conn, 404, "application/json", &b);
}

/* MHD_OPTION_EXTERNAL_LOGGER */
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	 msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("libmicrohttpd (admin): %s", msg);
}

/* MHD_OPTION_NOTIFY_CONNECTION: every connection has its deadline. */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct admin			*a = cls;
	struct aconn			*c = *socket_ctx;
	const union MHD_ConnectionInfo	*ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL)
			return;
		c = xcalloc(1, sizeof(*c));
		c->fd = ci->connect_fd;
		arm(a, c);
		*socket_ctx = c;
	} else if (c != NULL) {
		disarm(a, c);
		free(c);
		*socket_ctx = NULL;
	}
}

/* MHD_OPTION_NOTIFY_COMPLETED: the next request has head_ms too. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct admin	*a = cls;
	struct aconn	*c;

	(void)req_cls;
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK &&
	    (c = conn_of(conn)) != NULL)
		arm(a, c);
}

struct admin *
admin_new(const struct config *cfg, const struct admin_view *view)
{
	struct admin	*a;
	unsigned int	 flags;
	int		 fd;
	char		 why[128];

	a = xcalloc(1, sizeof(*a));
	a->view = view;
	a->head_ms = cfg->client_timeout_ms < HEAD_MS ?
	    cfg->client_timeout_ms : HEAD_MS;
	flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (cfg->admin_listen.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	fd = mhd_listen((const struct sockaddr *)&cfg->admin_listen,
	    cfg->admin_listen_len, cfg->reuse_port);
	if (fd == -1) {
		log_error("cannot listen on %s (admin_listen): %s",
		    cfg->admin_listen_str, mhd_strerror(errno, why,
		    sizeof(why)));
		free(a);
		return NULL;
	}
	a->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, a,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, a,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, a,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)ADMIN_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
	    MHD_OPTION_END);
	if (a->d == NULL) {
		log_error("cannot listen on %s (admin_listen): libmicrohttpd "
		    "failed", cfg->admin_listen_str);
		close(fd);
		free(a);
		return NULL;
	}
	mhd_address(a->d, a->addr, sizeof(a->addr));
	return a;
}

void
admin_free(struct admin *a)
{
	if (a == NULL)
		return;
	MHD_stop_daemon(a->d);
	free(a);
}

const char *
admin_address(const struct admin *a)
{
	return a->addr;
}

int
admin_fd(const struct admin *a)
{
	return mhd_epoll_fd(a->d);
}

long
admin_timeout(void *arg)
{
	struct admin	*a = arg;
	long	 ms = mhd_timeout(a->d), due;

	if (a->head != NULL) {
		due = a->head->due_ms > a->view->clock->mono_ms ?
		    (long)(a->head->due_ms - a->view->clock->mono_ms) : 0;
		if (ms == -1 || due < ms)
			ms = due;
	}
	return ms;
}

void
admin_run(struct admin *a)
{
	cut_late(a);
	MHD_run(a->d);
}
