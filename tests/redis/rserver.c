/*
 * rserver.c - run a real redis-server for tests; see rserver.h.
 *
 * Forks and execs redis-server, talks to it with hiredis (PING, to see it
 * is up) and cleans up its temporary directory.  No fixed port: a TCP
 * port is one the kernel just handed out for bind(0), so another process
 * may take it first; redis-server then exits and the start is tried again
 * with another port.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rserver.h"

#define START_MS	5000	/* for PING to answer */
#define STOP_MS		5000	/* after SIGTERM, before SIGKILL */
#define TCP_TRIES	5

static uint64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
nap_ms(unsigned ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* $REDIS_SERVER, else redis-server in $PATH. */
static int
find_server(char *path, size_t len)
{
	const char	*env, *p, *colon;
	size_t		 n;

	if ((env = getenv("REDIS_SERVER")) != NULL && *env != '\0') {
		if ((size_t)snprintf(path, len, "%s", env) >= len)
			return -1;
		return access(path, X_OK);
	}
	if ((p = getenv("PATH")) == NULL)
		p = "/usr/local/bin:/usr/bin:/bin";
	for (; *p != '\0'; p = *colon == ':' ? colon + 1 : colon) {
		if ((colon = strchr(p, ':')) == NULL)
			colon = p + strlen(p);
		n = (size_t)(colon - p);
		if (n == 0)
			continue;
		if ((size_t)snprintf(path, len, "%.*s/redis-server", (int)n,
		    p) < len && access(path, X_OK) == 0)
			return 0;
	}
	return -1;
}

/* A port on 127.0.0.1 that was free a moment ago, or 0. */
static uint16_t
free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	int			 fd;
	uint16_t		 port = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &slen) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Does it answer PING on its unix socket? */
static int
pong(const struct rserver *rs)
{
	struct timeval	 tv = { 0, 200000 };
	redisContext	*c;
	redisReply	*r;
	int		 ok;

	c = redisConnectUnixWithTimeout(rs->sock, tv);
	if (c == NULL || c->err) {
		redisFree(c);
		return 0;
	}
	redisSetTimeout(c, tv);
	r = redisCommand(c, "PING");
	ok = r != NULL && r->type == REDIS_REPLY_STATUS &&
	    strcmp(r->str, "PONG") == 0;
	freeReplyObject(r);
	redisFree(c);
	return ok;
}

static void
reap(struct rserver *rs)
{
	while (waitpid(rs->pid, NULL, 0) == -1 && errno == EINTR)
		;
	rs->pid = 0;
}

/* Why it did not start, for the test's log. */
static void
print_log(const struct rserver *rs)
{
	char	 path[320], buf[4096];
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/r.log", rs->dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	fprintf(stderr, "rserver: redis-server did not start; %s:\n", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(f);
}

/* Start redis-server on rs->sock (and rs->port) and wait for PING. */
static int
spawn(struct rserver *rs)
{
	char		 bin[PATH_MAX], port[8], log[320];
	const char	*argv[32];
	int		 n = 0, logfd, nullfd, status;
	pid_t		 parent = getpid(), pid;
	uint64_t	 end;

	if (find_server(bin, sizeof(bin)) == -1) {
		fprintf(stderr, "rserver: no redis-server (PATH or "
		    "$REDIS_SERVER)\n");
		return -1;
	}
	snprintf(port, sizeof(port), "%u", (unsigned)rs->port);
	snprintf(log, sizeof(log), "%s/r.log", rs->dir);
	argv[n++] = bin;
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--appendonly";
	argv[n++] = "no";
	argv[n++] = "--daemonize";
	argv[n++] = "no";
	argv[n++] = "--dir";
	argv[n++] = rs->dir;
	argv[n++] = "--unixsocket";
	argv[n++] = rs->sock;
	argv[n++] = "--unixsocketperm";
	argv[n++] = "700";
	argv[n++] = "--port";
	argv[n++] = port;		/* 0: no TCP */
	argv[n++] = "--bind";
	argv[n++] = "127.0.0.1";
	argv[n] = NULL;

	if ((logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if ((nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		close(logfd);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		close(logfd);
		close(nullfd);
		return -1;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls until execv. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execv(bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(logfd);
	close(nullfd);
	rs->pid = pid;

	end = mono_ms() + START_MS;
	for (;;) {
		if (pong(rs))
			return 0;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			rs->pid = 0;	/* e.g. its port was taken */
			return -1;
		}
		if (mono_ms() >= end) {
			kill(pid, SIGKILL);
			reap(rs);
			return -1;
		}
		nap_ms(5);
	}
}

int
rs_start(struct rserver *rs, int tcp)
{
	const char		*tmp;
	struct sockaddr_un	 sun;
	int			 i;

	memset(rs, 0, sizeof(*rs));
	/* hiredis writing to a server killed under it: an error, not death */
	signal(SIGPIPE, SIG_IGN);
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(rs->dir, sizeof(rs->dir), "%s/rserver.XXXXXX",
	    tmp) >= sizeof(rs->dir) || mkdtemp(rs->dir) == NULL) {
		rs->dir[0] = '\0';
		return -1;
	}
	if ((size_t)snprintf(rs->sock, sizeof(rs->sock), "%s/r.sock",
	    rs->dir) >= sizeof(sun.sun_path))
		goto fail;

	for (i = 0; i < (tcp ? TCP_TRIES : 1); i++) {
		if (tcp && (rs->port = free_port()) == 0)
			continue;
		if (spawn(rs) == 0) {
			if (tcp)
				snprintf(rs->url, sizeof(rs->url),
				    "redis://127.0.0.1:%u", (unsigned)rs->port);
			else
				snprintf(rs->url, sizeof(rs->url), "unix:%s",
				    rs->sock);
			return 0;
		}
	}
fail:
	print_log(rs);
	rs_stop(rs);
	return -1;
}

int
rs_restart(struct rserver *rs)
{
	if (rs->dir[0] == '\0')
		return -1;
	rs_kill(rs);
	if (spawn(rs) == -1) {
		print_log(rs);
		return -1;
	}
	return 0;
}

void
rs_kill(struct rserver *rs)
{
	if (rs->pid <= 0)
		return;
	kill(rs->pid, SIGKILL);
	reap(rs);
}

void
rs_pause(struct rserver *rs)
{
	if (rs->pid > 0)
		kill(rs->pid, SIGSTOP);
}

void
rs_resume(struct rserver *rs)
{
	if (rs->pid > 0)
		kill(rs->pid, SIGCONT);
}

/* Empty rs->dir (redis-server makes no subdirectories) and remove it. */
static void
remove_dir(struct rserver *rs)
{
	char		 path[600];
	DIR		*d;
	struct dirent	*e;

	if (rs->dir[0] == '\0')
		return;
	if ((d = opendir(rs->dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", rs->dir,
			    e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(rs->dir);
	rs->dir[0] = '\0';
}

void
rs_stop(struct rserver *rs)
{
	uint64_t	end;
	pid_t		r;

	if (rs->pid > 0) {
		kill(rs->pid, SIGCONT);
		kill(rs->pid, SIGTERM);
		end = mono_ms() + STOP_MS;
		while ((r = waitpid(rs->pid, NULL, WNOHANG)) == 0 &&
		    mono_ms() < end)
			nap_ms(5);
		if (r == 0)
			kill(rs->pid, SIGKILL);
		if (r == 0 || (r == -1 && errno == EINTR))
			reap(rs);
		rs->pid = 0;
	}
	remove_dir(rs);
}

redisContext *
rs_connect(const struct rserver *rs)
{
	struct timeval	 tv = { 2, 0 };
	redisContext	*c;

	if (rs->pid <= 0)
		return NULL;
	c = redisConnectUnixWithTimeout(rs->sock, tv);
	if (c == NULL || c->err) {
		redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	return c;
}
