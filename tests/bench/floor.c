/*
 * floor.c - the least a forwarding proxy built on weir's two HTTP
 * libraries can cost: libmicrohttpd in front (external epoll, each
 * connection suspended while its call is out, as weir does) and libcurl's
 * multi socket API behind (keep-alive, on the same epoll set), one thread.
 *
 * It forwards the method and path and nothing else: no request or answer
 * fields beyond Content-Type, no body, no queue, no log, no checks.  What
 * it costs per call is the floor under weir's cost on the same path, so
 * tests/bench/overhead.sh can show how much of the gap to nginx and HAProxy
 * the libraries leave no way to close.  Not a product: a measurement.
 *
 * Takes weir's command line as overhead.sh gives it (-l 127.0.0.1:0
 * -u URL; the rest ignored) and says where it listens as weir does, on
 * stderr.
 *
 * With -b SECONDS it runs the upstream leg alone instead (bench_client).
 *
 * Built by make check (or make tests/bench/floor).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <curl/curl.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct call {
	struct MHD_Connection *conn;
	CURL *easy;
	char *body;
	size_t len, cap;
	long status;
	char ctype[128];
	int state;		/* 0 new, 1 out, 2 done */
};

static CURLM *multi;
static int ep;
static long curl_timeout = -1;
static CURL *spare[4096];
static int nspare;
static char upstream[256];
static CURLU *upstream_url;	/* parsed once: curl's cheapest way */
static volatile sig_atomic_t stopping;

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct call *c = arg;

	n *= size;
	if (c->len + n > c->cap) {
		c->cap = (c->len + n) * 2;
		c->body = realloc(c->body, c->cap);
	}
	memcpy(c->body + c->len, p, n);
	c->len += n;
	return n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct call *c = arg;

	n *= size;
	if (n > 14 && strncasecmp(p, "content-type:", 13) == 0) {
		size_t l = n - 13;
		char *v = p + 13;

		while (l > 0 && (*v == ' ' || *v == '\t'))
			v++, l--;
		while (l > 0 && (v[l - 1] == '\r' || v[l - 1] == '\n'))
			l--;
		if (l >= sizeof(c->ctype))
			l = sizeof(c->ctype) - 1;
		memcpy(c->ctype, v, l);
		c->ctype[l] = '\0';
	}
	return n;
}

static int
on_socket(CURL *e, curl_socket_t s, int what, void *up, void *sp)
{
	struct epoll_event ev = { 0 };

	(void)e; (void)up;
	ev.data.fd = s;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(multi, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
	    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (sp == NULL) {
		epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
		curl_multi_assign(multi, s, (void *)1);
	} else
		epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev);
	return 0;
}

static int
on_timer(CURLM *m, long ms, void *arg)
{
	(void)m; (void)arg;
	curl_timeout = ms;
	return 0;
}

static void
finished(void)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		struct call *c;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		if (msg->data.result == CURLE_OK)
			curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
		else
			c->status = 502;
		curl_multi_remove_handle(multi, c->easy);
		c->state = 2;
		MHD_resume_connection(c->conn);
	}
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *data_size, void **ctx)
{
	struct call *c = *ctx;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls; (void)version; (void)data;
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		c->conn = conn;
		*ctx = c;
		return MHD_YES;
	}
	if (*data_size != 0) {
		*data_size = 0;
		return MHD_YES;
	}
	if (c->state == 0) {
		c->easy = nspare > 0 ? spare[--nspare] : curl_easy_init();
		curl_easy_setopt(c->easy, CURLOPT_CURLU, upstream_url);
		curl_easy_setopt(c->easy, CURLOPT_REQUEST_TARGET, url);
		if (strcmp(method, "GET") != 0)
			curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
		curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
		curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
		curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
		curl_multi_add_handle(multi, c->easy);
		c->state = 1;
		MHD_suspend_connection(conn);
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(c->len, c->body,
	    MHD_RESPMEM_MUST_FREE);
	c->body = NULL;
	if (c->ctype[0] != '\0')
		MHD_add_response_header(r, "Content-Type", c->ctype);
	ret = MHD_queue_response(conn, (unsigned int)c->status, r);
	MHD_destroy_response(r);
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	struct call *c = *ctx;

	(void)cls; (void)conn; (void)toe;
	if (c == NULL)
		return;
	if (c->easy != NULL) {
		if (c->state == 1)
			curl_multi_remove_handle(multi, c->easy);
		if (nspare < (int)(sizeof(spare) / sizeof(spare[0])))
			spare[nspare++] = c->easy;
		else
			curl_easy_cleanup(c->easy);
	}
	free(c->body);
	free(c);
	*ctx = NULL;
}

/*
 * -b SECONDS: the upstream leg alone.  Keeps one transfer out per slot of
 * -n (default 32) slots, each GET -u URL on a kept-alive connection, for
 * SECONDS, and prints transfers/s and this process's CPU time per
 * transfer: what libcurl and the kernel cost weir's upstream side.
 */
static void
start_slot(struct call *c)
{
	c->len = 0;
	c->state = 1;
	curl_multi_add_handle(multi, c->easy);
}

static int
bench_client(int slots, double seconds)
{
	struct epoll_event evs[64];
	struct call *calls = calloc((size_t)slots, sizeof(*calls));
	struct timespec t0, t;
	struct rusage ru;
	long done = 0;
	int i, running;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < slots; i++) {
		calls[i].easy = curl_easy_init();
		curl_easy_setopt(calls[i].easy, CURLOPT_CURLU, upstream_url);
		curl_easy_setopt(calls[i].easy, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(calls[i].easy, CURLOPT_WRITEDATA, &calls[i]);
		curl_easy_setopt(calls[i].easy, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(calls[i].easy, CURLOPT_HEADERDATA, &calls[i]);
		curl_easy_setopt(calls[i].easy, CURLOPT_PRIVATE, &calls[i]);
		curl_easy_setopt(calls[i].easy, CURLOPT_NOSIGNAL, 1L);
		start_slot(&calls[i]);
	}
	for (;;) {
		CURLMsg *msg;
		int n, left;

		n = epoll_wait(ep, evs, 64, (int)curl_timeout);
		for (i = 0; i < n; i++) {
			int what = 0;

			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				what |= CURL_CSELECT_IN;
			if (evs[i].events & EPOLLOUT)
				what |= CURL_CSELECT_OUT;
			curl_multi_socket_action(multi, evs[i].data.fd, what,
			    &running);
		}
		if (n == 0 || curl_timeout == 0) {
			curl_timeout = -1;
			curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0,
			    &running);
		}
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			struct call *c;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&c);
			if (msg->data.result != CURLE_OK) {
				fprintf(stderr, "floor: %s\n",
				    curl_easy_strerror(msg->data.result));
				return 1;
			}
			curl_multi_remove_handle(multi, c->easy);
			done++;
			start_slot(c);
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) +
		    (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= seconds)
			break;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("upstream leg alone: %d slots, %.0f transfers/s, "
	    "%.1f us CPU per transfer (user %.1f, system %.1f)\n", slots,
	    (double)done / seconds,
	    ((double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
	     (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec) /
	    (double)done,
	    ((double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec) /
	    (double)done,
	    ((double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec) /
	    (double)done);
	return 0;
}

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;
	struct epoll_event ev = { .events = EPOLLIN }, evs[64];
	unsigned int flags;
	double bench = 0;
	int slots = 32;
	int mfd, opt, running;

	while ((opt = getopt(argc, argv, "b:c:l:n:u:L:")) != -1)
		if (opt == 'u')
			snprintf(upstream, sizeof(upstream), "%s", optarg);
		else if (opt == 'b')
			bench = atof(optarg);
		else if (opt == 'n')
			slots = atoi(optarg);
	if (upstream[0] == '\0') {
		fprintf(stderr, "floor: -u URL is needed\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);	/* to end as a program does */
	if ((upstream_url = curl_url()) == NULL ||
	    curl_url_set(upstream_url, CURLUPART_URL, upstream, 0) != CURLUE_OK) {
		fprintf(stderr, "floor: cannot parse %s\n", upstream);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (bench > 0)
		return bench_client(slots, bench);
	flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_SUPPRESS_DATE_NO_CLOCK;
	d = MHD_start_daemon(flags, 0,
	    NULL, NULL, on_request, NULL,
	    MHD_OPTION_SOCK_ADDR, &(struct sockaddr_in){
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, 8000u,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "floor: libmicrohttpd did not start\n");
		return 1;
	}
	mfd = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
	ev.data.fd = mfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, mfd, &ev);
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	fprintf(stderr, "{\"msg\": \"listening on 127.0.0.1:%u\"}\n",
	    (unsigned)di->port);
	while (!stopping) {
		MHD_UNSIGNED_LONG_LONG mt;
		long wait = curl_timeout;
		int n, i;

		if (MHD_get_timeout(d, &mt) == MHD_YES &&
		    (wait < 0 || (long)mt < wait))
			wait = (long)mt;
		n = epoll_wait(ep, evs, 64, (int)wait);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd, what = 0;

			if (fd == mfd)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				what |= CURL_CSELECT_IN;
			if (evs[i].events & EPOLLOUT)
				what |= CURL_CSELECT_OUT;
			curl_multi_socket_action(multi, fd, what, &running);
		}
		if (n == 0 || curl_timeout == 0) {
			curl_timeout = -1;
			curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0,
			    &running);
		}
		finished();
		MHD_run(d);
		/* New transfers want curl's look at once (timer 0). */
		if (curl_timeout == 0) {
			curl_timeout = -1;
			curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0,
			    &running);
			finished();
			MHD_run(d);
		}
	}
	return 0;	/* SIGTERM: the process's end frees the rest */
}
