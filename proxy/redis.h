/*
 * redis.h - one connection to Redis, driven by the loop: a non-blocking
 * socket (TCP, names resolved with getaddrinfo_a, or a unix socket),
 * commands queued and written once per turn, replies matched to them in
 * order, a deadline on every command, and reconnection with backoff.
 *
 * A connection is up once the server answered its opening commands
 * (AUTH and SELECT when the address asks for them, SUBSCRIBE on a
 * subscriber, else a PING).  Commands are only taken while it is up.
 * When it breaks (an error, the server closing, a deadline passed) every
 * queued command's callback gets NULL, the state callback hears why, and
 * it connects again after 100 ms, then 200 ms, ... 2 s (+-25 %).
 */
#ifndef WEIR_REDIS_H
#define WEIR_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

struct loop;

/*
 * A parsed redis setting: "redis://[[user]:password@]host[:port][/db]"
 * (host: a name, IPv4, or [IPv6]; port 6379 and db 0 by default), or
 * "unix:/path/redis.sock[?db=N]" (also "unix:///path").  The strings are
 * the struct's own (redis_addr_free frees them).
 */
struct redis_addr {
	char		*host;		/* NULL for a unix socket */
	uint16_t	 port;
	char		*path;		/* unix socket path, or NULL */
	unsigned	 db;
	char		*user;		/* NULL: none */
	char		*password;	/* NULL: none; never logged */
};

/* Fill out from url: 0, or -1 with why (out is then empty; the reason
 * never holds the password). */
int	 redis_addr_parse(const char *url, struct redis_addr *out, char *why,
	    size_t whylen);
void	 redis_addr_free(struct redis_addr *);
/* The address for logs and /status: the URL with the password shown as
 * "***".  A new string: the caller frees it. */
char	*redis_addr_display(const struct redis_addr *);

struct redis;

/*
 * A command's reply (an error reply is a reply: reply->type ==
 * REDIS_REPLY_ERROR), or NULL when the command failed: not sent, the
 * connection lost, no reply within the timeout, or redis_free().
 * rtt_us: the loop's time from queueing to the reply, in microseconds.  The reply is
 * freed when the callback returns.  Called exactly once per command
 * redis_command() took.
 */
typedef void (*redis_reply_cb)(struct redisReply *reply, uint64_t rtt_us,
	    void *arg);
/*
 * The connection came up (up = 1, the opening commands answered), or an
 * attempt failed or the connection went down (up = 0, why: a short
 * reason without secrets: "connect: Connection refused", "timeout",
 * "closed by server", "AUTH failed: ...").  While it stays down the same
 * reason is not repeated: a change of reason is told, each failed retry
 * is not.
 */
typedef void (*redis_state_cb)(int up, const char *why, void *arg);
/* A reply on a subscriber connection (redis_subscribe): the SUBSCRIBE
 * confirmation, then each message.  Freed when the callback returns. */
typedef void (*redis_push_cb)(struct redisReply *reply, void *arg);

/*
 * A connection to addr (copied), which starts connecting on the loop's
 * next turn.  timeout_ms: each command's deadline after it was queued;
 * connecting (resolving, AUTH, SELECT) may take max(timeout_ms, 1 s).
 * state_cb (may be NULL) hears of ups and downs, with arg.  Callbacks may
 * call redis_command() and redis_free().
 */
struct redis	*redis_new(struct loop *, const struct redis_addr *,
		    uint64_t timeout_ms, redis_state_cb, void *arg);
/* Queued commands' callbacks get NULL, in order; then the socket closes
 * and the loop forgets the connection.  Accepts NULL. */
void		 redis_free(struct redis *);
/*
 * Queue one command (argv[i] of argvlen[i] bytes; copied).  Commands
 * queued in one turn go out in one write at the end of the turn.
 * Returns 0 (fn will be called once), or -1 when the connection is not
 * up or is a subscriber (fn is then not called).
 */
int		 redis_command(struct redis *, int argc, const char **argv,
		    const size_t *argvlen, redis_reply_cb fn, void *arg);
int		 redis_is_up(const struct redis *);
/*
 * Make this a subscriber connection, before it comes up: on every
 * connect it subscribes to channel (copied), and every reply goes to fn
 * with arg.  No deadline applies to the messages.
 */
void		 redis_subscribe(struct redis *, const char *channel,
		    redis_push_cb fn, void *arg);

struct redis_stats {
	uint64_t	 ops;		/* commands taken */
	uint64_t	 replies;	/* replies to them, errors included */
	uint64_t	 errors;	/* error replies */
	uint64_t	 timeouts;	/* commands whose deadline passed */
	uint64_t	 failed;	/* callbacks called with NULL */
	uint64_t	 connects;	/* attempts started */
	uint64_t	 disconnects;	/* an up connection went down */
	uint64_t	 writes;	/* write calls on the socket */
};
struct redis_stats redis_stats(const struct redis *);

#endif
