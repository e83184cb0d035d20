/*
 * rserver.h - a real redis-server for tests: started in a temporary
 * directory with no persistence, listening on a unix socket there (and on
 * 127.0.0.1 at a free port if asked), and killable, restartable and
 * freezable so tests can play "Redis went away", "Redis restarted empty"
 * and "Redis hangs".
 *
 * redis-server is $REDIS_SERVER if set, else found in PATH.  Its stdout
 * and stderr go to r.log in the directory (printed to stderr if it fails
 * to start).  It gets SIGKILL when the thread that started it dies, so a
 * crashed test (Check exits the forked child at once) leaves no server;
 * the directory stays behind then.  rs_start ignores SIGPIPE in the
 * calling process, so talking to a killed server is an error reply, not
 * the test's death.
 */
#ifndef WEIR_RSERVER_H
#define WEIR_RSERVER_H

#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

struct rserver {
	pid_t		 pid;		/* 0 when down */
	char		 dir[256];	/* "" once stopped */
	char		 sock[300];	/* dir/r.sock */
	uint16_t	 port;		/* 0: unix socket only */
	char		 url[400];	/* "unix:/.../r.sock" or
					 * "redis://127.0.0.1:PORT" */
};

/*
 * Start a redis-server (--save '' --appendonly no) on a unix socket in a
 * new temporary directory; with tcp = 1 also on 127.0.0.1 at a free port
 * (and url names that port).  Waits up to 5 s for PING.  Returns 0, or -1
 * with nothing left running.
 */
int	 rs_start(struct rserver *, int tcp);

/* SIGKILL it and start an empty one on the same socket path and port. */
int	 rs_restart(struct rserver *);

/* SIGKILL it and reap it; it stays down until rs_restart. */
void	 rs_kill(struct rserver *);

/* Freeze (SIGSTOP) and thaw (SIGCONT): a Redis that hangs. */
void	 rs_pause(struct rserver *);
void	 rs_resume(struct rserver *);

/* Stop it (SIGTERM, SIGKILL after 5 s) and remove its directory.  Safe on
 * a stopped or zeroed rserver. */
void	 rs_stop(struct rserver *);

/* A blocking connection on the unix socket with a 2 s timeout, or NULL.
 * The caller frees it with redisFree. */
redisContext	*rs_connect(const struct rserver *);

#endif
