/*
 * redis.c - one Redis connection on weir's loop; see redis.h.  Touches
 * its own socket, its loop sources (one descriptor, one pass, three
 * timers) and nothing else; never reads the clock (loop_time() does).
 *
 * Why hiredis' reply reader and command formatter over our own socket,
 * and not hiredis' async API: our loop owns the descriptors, the timers
 * and the clock, and an async context wants an adapter that hands it
 * all three; we want a deadline on every command, which hiredis 0.14 has
 * not (only a connect timeout and a blocking-context socket timeout);
 * and its async connect resolves a host name with getaddrinfo(), which
 * blocks the loop for as long as DNS takes.  So we keep the socket, the
 * FIFO of commands and their deadlines here, resolve with getaddrinfo_a,
 * and borrow only the RESP parts: redisFormatCommandArgv to write a
 * command, redisReader to cut replies out of what we read.
 *
 * A connection goes IDLE -> [RESOLVING ->] CONNECTING -> HANDSHAKE -> UP.
 * Any failure (connect error, EOF, protocol error, a deadline) goes back
 * to IDLE through broken(): the socket closes, queued commands get NULL
 * in order, the state callback hears why, and the retry timer is armed
 * with the backoff.  User callbacks may free the connection: every entry
 * from the loop counts itself in depth, and the memory goes only when the
 * last one leaves.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "loop.h"
#include "redis.h"
#include "xmalloc.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	2000
#define CONNECT_MIN_MS	1000	/* resolve + connect + AUTH/SELECT */
#define RESOLVE_POLL_MS	10	/* how often gai_error() is asked */
#define READ_CHUNK	16384
#define READS_PER_TURN	8	/* then let the others have the loop */
#define MAX_ADDRS	8	/* of a name's addresses, tried in order */
#define WHY_LEN		256

#define ADDR_USAGE	"expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]" \
			" or unix:/PATH[?db=N]"

enum state {
	S_IDLE,		/* no socket; the retry timer is armed */
	S_RESOLVING,	/* getaddrinfo_a in flight */
	S_CONNECTING,	/* connect() in progress */
	S_HANDSHAKE,	/* AUTH / SELECT / SUBSCRIBE / PING sent */
	S_UP
};

/* The opening commands, answered in this order. */
enum hs_step {
	HS_AUTH,
	HS_SELECT,
	HS_SUBSCRIBE,
	HS_PING		/* when there is nothing else to ask */
};

/* A queued command: FIFO, so the head's deadline is the soonest. */
struct op {
	redis_reply_cb	 fn;
	void		*arg;
	uint64_t	 queued_ms;
	uint64_t	 queued_us;	/* the same, for the round trip */
	struct op	*next;
};

/*
 * A getaddrinfo_a request.  glibc's resolver thread writes into it until
 * it is done, so a request that cannot be cancelled outlives its
 * connection on the orphans list, freed once gai_error() says it is done.
 */
struct resolve {
	struct gaicb	 cb;
	struct addrinfo	 hints;
	char		*name;
	char		 service[8];
	struct resolve	*next;		/* on orphans */
};

static struct resolve	*orphans;

struct redis {
	struct loop		*loop;
	struct redis_addr	 addr;
	uint64_t		 timeout_ms;
	redis_state_cb		 state_fn;
	void			*state_arg;
	char			*channel;	/* subscriber: its channel */
	redis_push_cb		 push_fn;
	void			*push_arg;

	enum state		 state;
	int			 fd;
	int			 events;	/* what the loop watches */
	unsigned		 gen;		/* counts connections closed */
	redisReader		*reader;
	char			*out;		/* to write: [out_off, out_len) */
	size_t			 out_off, out_len, out_cap;

	struct op		*head, *tail;

	enum hs_step		 hs[4];
	unsigned		 nhs, hs_done;

	/* where to connect: a unix socket, a numeric host or a name's */
	struct sockaddr_storage	 addrs[MAX_ADDRS];
	socklen_t		 addrlens[MAX_ADDRS];
	unsigned		 naddrs, next_addr;
	struct resolve		*res;

	uint64_t		 backoff_ms;
	uint64_t		 rng;
	struct loop_timer	 deadline;	/* connect, or the head op */
	struct loop_timer	 retry;
	struct loop_timer	 resolve_poll;

	int			 told_down;	/* since the last up */
	char			 last_why[WHY_LEN];
	int			 depth;		/* loop entries in progress */
	int			 freed;
	struct redis_stats	 stats;
};

static void	 start_attempt(struct redis *);
static void	 try_connect(struct redis *);
static void	 broken(struct redis *, const char *why);
static void	 on_fd(int, int, void *);
static void	 on_deadline(void *);

/* ---- addresses ---- */

static void
set_why(char *why, size_t whylen, const char *msg)
{
	if (whylen > 0)
		snprintf(why, whylen, "%s", msg);
}

/* A decimal number in [min, max] from s[0..len): 0, or -1. */
static int
parse_num(const char *s, size_t len, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (len == 0 || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* s[0..len) with %XX decoded (a user or password may hold '@' or ':'
 * that way): a new string, or NULL when a % is not followed by two hex
 * digits or decodes to a NUL. */
static char *
pct_decode(const char *s, size_t len)
{
	char	*d = xmalloc(len + 1);
	size_t	 i, n = 0;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			d[n++] = s[i];
			continue;
		}
		if (i + 2 >= len) {
			free(d);
			return NULL;
		}
		hi = hexval((unsigned char)s[i + 1]);
		lo = hexval((unsigned char)s[i + 2]);
		if (hi == -1 || lo == -1 || (hi == 0 && lo == 0)) {
			free(d);
			return NULL;
		}
		d[n++] = (char)(hi * 16 + lo);
		i += 2;
	}
	d[n] = '\0';
	return d;
}

static int
host_name_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '.' && s[i] != '_')
			return 0;
	return 1;
}

static int
parse_unix(const char *rest, struct redis_addr *out, char *why,
    size_t whylen)
{
	struct sockaddr_un	 sun;
	const char		*q = strchr(rest, '?');
	size_t			 plen = q != NULL ? (size_t)(q - rest) :
				    strlen(rest);
	unsigned long		 db;

	if (strncmp(rest, "//", 2) == 0) {	/* unix:///path */
		rest += 2;
		plen -= 2;
	}
	if (plen < 2 || rest[0] != '/') {
		set_why(why, whylen, "unix: expected an absolute path: "
		    ADDR_USAGE);
		return -1;
	}
	if (plen >= sizeof(sun.sun_path)) {
		snprintf(why, whylen, "unix: path longer than %zu bytes",
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (q != NULL) {
		if (strncmp(q, "?db=", 4) != 0 ||
		    parse_num(q + 4, strlen(q + 4), 0, INT_MAX, &db) == -1) {
			set_why(why, whylen, "unix: expected ?db=N: "
			    ADDR_USAGE);
			return -1;
		}
		out->db = (unsigned)db;
	}
	out->path = xstrndup(rest, plen);
	return 0;
}

/* "[user]:password" of a redis:// URL. */
static int
parse_userinfo(const char *s, size_t len, struct redis_addr *out, char *why,
    size_t whylen)
{
	const char	*colon = memchr(s, ':', len);

	if (colon == NULL || colon == s + len - 1) {
		set_why(why, whylen, "expected [USER]:PASSWORD@ "
		    "before the host");
		return -1;
	}
	if (colon > s && (out->user = pct_decode(s,
	    (size_t)(colon - s))) == NULL) {
		set_why(why, whylen, "bad %-escape in the user");
		return -1;
	}
	if ((out->password = pct_decode(colon + 1,
	    len - (size_t)(colon + 1 - s))) == NULL) {
		set_why(why, whylen, "bad %-escape in the password");
		return -1;
	}
	return 0;
}

/* "host[:port]" or "[v6][:port]" of a redis:// URL. */
static int
parse_hostport(const char *s, size_t len, struct redis_addr *out,
    char *why, size_t whylen)
{
	struct in6_addr	 a6;
	const char	*end = s + len, *hend, *port = NULL;
	char		*host;
	unsigned long	 p = 6379;

	if (len > 0 && s[0] == '[') {
		if ((hend = memchr(s, ']', len)) == NULL)
			goto bad;
		host = xstrndup(s + 1, (size_t)(hend - s - 1));
		if (inet_pton(AF_INET6, host, &a6) != 1) {
			free(host);
			set_why(why, whylen, "bad IPv6 address in []");
			return -1;
		}
		if (hend + 1 < end) {
			if (hend[1] != ':') {
				free(host);
				goto bad;
			}
			port = hend + 2;
		}
	} else {
		hend = memchr(s, ':', len);
		if (hend != NULL)
			port = hend + 1;
		else
			hend = end;
		if (!host_name_ok(s, (size_t)(hend - s))) {
			set_why(why, whylen, "bad host (an IPv6 "
			    "address goes in []): " ADDR_USAGE);
			return -1;
		}
		host = xstrndup(s, (size_t)(hend - s));
	}
	if (port != NULL && parse_num(port, (size_t)(end - port), 1, 65535,
	    &p) == -1) {
		free(host);
		set_why(why, whylen, "expected a port 1-65535");
		return -1;
	}
	out->host = host;
	out->port = (uint16_t)p;
	return 0;
bad:
	set_why(why, whylen, ADDR_USAGE);
	return -1;
}

static int
parse_tcp(const char *rest, struct redis_addr *out, char *why, size_t whylen)
{
	const char	*slash = strchr(rest, '/'), *at, *hp;
	size_t		 alen = slash != NULL ? (size_t)(slash - rest) :
			    strlen(rest);
	unsigned long	 db;

	/* the last '@' before the path: a raw '@' may be in the password */
	for (at = NULL, hp = rest; hp < rest + alen; hp++)
		if (*hp == '@')
			at = hp;
	hp = rest;
	if (at != NULL) {
		if (parse_userinfo(rest, (size_t)(at - rest), out, why,
		    whylen) == -1)
			return -1;
		hp = at + 1;
	}
	if (parse_hostport(hp, alen - (size_t)(hp - rest), out, why,
	    whylen) == -1)
		return -1;
	if (slash != NULL && slash[1] != '\0') {
		if (parse_num(slash + 1, strlen(slash + 1), 0, INT_MAX,
		    &db) == -1) {
			set_why(why, whylen, "expected /DB, a number, "
			    "after the host");
			return -1;
		}
		out->db = (unsigned)db;
	}
	return 0;
}

int
redis_addr_parse(const char *url, struct redis_addr *out, char *why,
    size_t whylen)
{
	int	 rc;

	memset(out, 0, sizeof(*out));
	out->port = 6379;
	if (strncmp(url, "unix:", 5) == 0)
		rc = parse_unix(url + 5, out, why, whylen);
	else if (strncmp(url, "redis://", 8) == 0)
		rc = parse_tcp(url + 8, out, why, whylen);
	else {
		set_why(why, whylen, ADDR_USAGE);
		rc = -1;
	}
	if (rc == -1) {
		redis_addr_free(out);
		out->port = 6379;
	}
	return rc;
}

void
redis_addr_free(struct redis_addr *a)
{
	if (a == NULL)
		return;
	free(a->host);
	free(a->path);
	free(a->user);
	if (a->password != NULL) {
		explicit_bzero(a->password, strlen(a->password));
		free(a->password);
	}
	memset(a, 0, sizeof(*a));
}

char *
redis_addr_display(const struct redis_addr *a)
{
	char	*s, db[16] = "";

	if (a->path != NULL) {
		if (a->db != 0)
			snprintf(db, sizeof(db), "?db=%u", a->db);
		xasprintf(&s, "unix:%s%s", a->path, db);
		return s;
	}
	if (a->db != 0)
		snprintf(db, sizeof(db), "/%u", a->db);
	xasprintf(&s, "redis://%s%s%s%s%s%s:%u%s",
	    a->user != NULL ? a->user : "",
	    a->password != NULL ? ":***" : "",
	    a->user != NULL || a->password != NULL ? "@" : "",
	    strchr(a->host, ':') != NULL ? "[" : "", a->host,
	    strchr(a->host, ':') != NULL ? "]" : "", a->port, db);
	return s;
}

static void
addr_copy(struct redis_addr *d, const struct redis_addr *s)
{
	d->host = s->host != NULL ? xstrdup(s->host) : NULL;
	d->port = s->port;
	d->path = s->path != NULL ? xstrdup(s->path) : NULL;
	d->db = s->db;
	d->user = s->user != NULL ? xstrdup(s->user) : NULL;
	d->password = s->password != NULL ? xstrdup(s->password) : NULL;
}

/* ---- the connection's plumbing ---- */

static uint64_t
now_ms(const struct redis *r)
{
	return loop_time(r->loop)->mono_ms;
}

/* From queueing op to now, in microseconds of the loop's clock. */
static uint64_t
rtt_us(const struct redis *r, const struct op *op)
{
	return loop_time(r->loop)->mono_us - op->queued_us;
}

/* splitmix64: only the backoff's jitter, nothing secret. */
static uint64_t
rng_next(struct redis *r)
{
	uint64_t	 z = (r->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The backoff with +-25 % jitter; the next one doubles, up to 2 s. */
static uint64_t
next_delay(struct redis *r)
{
	uint64_t	 b = r->backoff_ms;

	r->backoff_ms = b * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b * 2;
	return b - b / 4 + rng_next(r) % (b / 2 + 1);
}

static void
enter(struct redis *r)
{
	r->depth++;
}

/* Leaving a loop entry: the last one out frees a freed connection. */
static void
leave(struct redis *r)
{
	if (--r->depth == 0 && r->freed)
		free(r);
}

static void
watch(struct redis *r, int events)
{
	if (r->events == events)
		return;
	r->events = events;
	/* the table has room: the descriptor is in it already */
	(void)loop_add_fd(r->loop, r->fd, events, on_fd, r);
}

static void
out_append(struct redis *r, const char *p, size_t n)
{
	if (r->out_off == r->out_len)
		r->out_off = r->out_len = 0;
	else if (r->out_off > r->out_len / 2) {
		memmove(r->out, r->out + r->out_off, r->out_len - r->out_off);
		r->out_len -= r->out_off;
		r->out_off = 0;
	}
	if (r->out_len + n > r->out_cap) {
		r->out_cap = r->out_cap * 2 > r->out_len + n ? r->out_cap * 2 :
		    r->out_len + n + 1024;
		r->out = xrealloc(r->out, r->out_cap);
	}
	memcpy(r->out + r->out_len, p, n);
	r->out_len += n;
}

/* Format argv into the output buffer: 0, or -1 (hiredis out of memory). */
static int
out_command(struct redis *r, int argc, const char **argv,
    const size_t *argvlen)
{
	char	*cmd;
	int	 len;

	if ((len = redisFormatCommandArgv(&cmd, argc, argv, argvlen)) < 0)
		return -1;
	out_append(r, cmd, (size_t)len);
	/* AUTH's copy held the password */
	explicit_bzero(cmd, (size_t)len);
	redisFreeCommand(cmd);
	return 0;
}

static void
deadline_arm_head(struct redis *r)
{
	if (r->head != NULL)
		loop_timer_arm(r->loop, &r->deadline,
		    r->head->queued_ms + r->timeout_ms, on_deadline, r);
	else
		loop_timer_disarm(r->loop, &r->deadline);
}

/* Free what is left of a name's resolution: now if glibc lets go of it,
 * else on the orphans list. */
static void
resolve_drop(struct resolve *res)
{
	switch (gai_cancel(&res->cb)) {
	case EAI_NOTCANCELED:
		res->next = orphans;
		orphans = res;
		return;
	case EAI_ALLDONE:
		if (res->cb.ar_result != NULL)
			freeaddrinfo(res->cb.ar_result);
		break;
	default:
		break;
	}
	free(res->name);
	free(res);
}

/* Free the orphans glibc is done with. */
static void
reap_orphans(void)
{
	struct resolve	**pp = &orphans, *res;

	while ((res = *pp) != NULL) {
		if (gai_error(&res->cb) == EAI_INPROGRESS) {
			pp = &res->next;
			continue;
		}
		*pp = res->next;
		if (res->cb.ar_result != NULL)
			freeaddrinfo(res->cb.ar_result);
		free(res->name);
		free(res);
	}
}

/* Close the socket and forget the attempt: back to IDLE. */
static void
close_conn(struct redis *r)
{
	if (r->fd != -1) {
		loop_del_fd(r->loop, r->fd);
		close(r->fd);
		r->fd = -1;
		r->events = 0;
	}
	if (r->res != NULL) {
		resolve_drop(r->res);
		r->res = NULL;
	}
	if (r->reader != NULL) {
		redisReaderFree(r->reader);
		r->reader = NULL;
	}
	if (r->out != NULL)	/* AUTH may be in it */
		explicit_bzero(r->out, r->out_cap);
	r->out_off = r->out_len = 0;
	r->nhs = r->hs_done = 0;
	r->naddrs = r->next_addr = 0;
	loop_timer_disarm(r->loop, &r->deadline);
	loop_timer_disarm(r->loop, &r->resolve_poll);
	r->state = S_IDLE;
	r->gen++;
}

/* Pop the head op and give it NULL.  0, or -1 if that freed r. */
static int
fail_head(struct redis *r)
{
	struct op	*op = r->head;

	if ((r->head = op->next) == NULL)
		r->tail = NULL;
	r->stats.failed++;
	op->fn(NULL, rtt_us(r, op), op->arg);
	free(op);
	return r->freed ? -1 : 0;
}

static void	 on_retry(void *);

static void
tell_state(struct redis *r, int up, const char *why)
{
	if (r->state_fn != NULL)
		r->state_fn(up, why, r->state_arg);
}

/*
 * The one way down: close, fail the queue in order, tell why (once per
 * reason while down), retry after the backoff.  why is copied first: it
 * may be the reader's buffer.
 */
static void
broken(struct redis *r, const char *why)
{
	char	 w[WHY_LEN];
	int	 was_up = r->state == S_UP;

	snprintf(w, sizeof(w), "%s", why);
	close_conn(r);
	while (r->head != NULL)
		if (fail_head(r) == -1)
			return;
	if (was_up)
		r->stats.disconnects++;
	if (was_up || !r->told_down || strcmp(w, r->last_why) != 0) {
		r->told_down = 1;
		snprintf(r->last_why, sizeof(r->last_why), "%s", w);
		tell_state(r, 0, w);
		if (r->freed)
			return;
	}
	loop_timer_arm(r->loop, &r->retry, now_ms(r) + next_delay(r),
	    on_retry, r);
}

/* "<what> failed: <server's text>", with the password, should a server
 * ever echo it, masked. */
static void
why_reply(struct redis *r, char *w, size_t wlen, const char *what,
    const redisReply *reply)
{
	const char	*pw = r->addr.password;
	char		*p;
	size_t		 n;

	if (reply->type == REDIS_REPLY_ERROR ||
	    reply->type == REDIS_REPLY_STATUS)
		snprintf(w, wlen, "%s failed: %.*s", what,
		    reply->len > INT_MAX ? INT_MAX : (int)reply->len,
		    reply->str);
	else
		snprintf(w, wlen, "%s failed: unexpected reply", what);
	if (pw == NULL || (n = strlen(pw)) == 0)
		return;
	for (p = w; (p = strstr(p, pw)) != NULL; p += n)
		memset(p, '*', n);
}

static int
reply_is_ok(const redisReply *reply)
{
	return reply->type == REDIS_REPLY_STATUS && reply->len == 2 &&
	    memcmp(reply->str, "OK", 2) == 0;
}

static int
reply_is_subscribed(const redisReply *reply)
{
	return reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
	    reply->element[0]->type == REDIS_REPLY_STRING &&
	    reply->element[0]->len == 9 &&
	    memcmp(reply->element[0]->str, "subscribe", 9) == 0;
}

/* One opening command answered; the last brings the connection up.
 * 0, or -1 when the connection broke or was freed. */
static int
handshake_reply(struct redis *r, redisReply *reply)
{
	char		 w[WHY_LEN];
	enum hs_step	 step = r->hs[r->hs_done++];
	int		 ok;

	switch (step) {
	case HS_AUTH:
		ok = reply_is_ok(reply);
		why_reply(r, w, sizeof(w), "AUTH", reply);
		break;
	case HS_SELECT:
		ok = reply_is_ok(reply);
		why_reply(r, w, sizeof(w), "SELECT", reply);
		break;
	case HS_SUBSCRIBE:
		ok = reply_is_subscribed(reply);
		why_reply(r, w, sizeof(w), "SUBSCRIBE", reply);
		break;
	default:
		ok = reply->type != REDIS_REPLY_ERROR;
		why_reply(r, w, sizeof(w), "PING", reply);
		break;
	}
	if (!ok) {
		freeReplyObject(reply);
		broken(r, w);
		return -1;
	}
	if (r->hs_done < r->nhs) {
		freeReplyObject(reply);
		return 0;
	}
	r->state = S_UP;
	r->backoff_ms = BACKOFF_MIN_MS;
	r->told_down = 0;
	r->last_why[0] = '\0';
	loop_timer_disarm(r->loop, &r->deadline);
	tell_state(r, 1, "connected");
	if (!r->freed && step == HS_SUBSCRIBE)
		r->push_fn(reply, r->push_arg);
	freeReplyObject(reply);
	return r->freed ? -1 : 0;
}

/* A reply while up: the head op's, or a subscriber's message.
 * 0, or -1 when the connection broke or was freed. */
static int
dispatch(struct redis *r, redisReply *reply)
{
	struct op	*op;

	if (r->channel != NULL) {
		r->push_fn(reply, r->push_arg);
		freeReplyObject(reply);
		return r->freed ? -1 : 0;
	}
	if ((op = r->head) == NULL) {
		freeReplyObject(reply);
		broken(r, "protocol error: a reply to no command");
		return -1;
	}
	if ((r->head = op->next) == NULL)
		r->tail = NULL;
	deadline_arm_head(r);
	r->stats.replies++;
	if (reply->type == REDIS_REPLY_ERROR)
		r->stats.errors++;
	op->fn(reply, rtt_us(r, op), op->arg);
	freeReplyObject(reply);
	free(op);
	return r->freed ? -1 : 0;
}

/* Take every whole reply out of the reader. */
static int
take_replies(struct redis *r)
{
	void		*reply;
	unsigned	 gen = r->gen;
	int		 rc;

	for (;;) {
		if (redisReaderGetReply(r->reader, &reply) != REDIS_OK) {
			broken(r, "protocol error");
			return -1;
		}
		if (reply == NULL)
			return 0;
		rc = r->state == S_HANDSHAKE ? handshake_reply(r, reply) :
		    dispatch(r, reply);
		if (rc == -1 || r->freed || r->gen != gen)
			return -1;
	}
}

static void
do_read(struct redis *r)
{
	char		 buf[READ_CHUNK], w[WHY_LEN];
	ssize_t		 n;
	unsigned	 i;

	for (i = 0; i < READS_PER_TURN; i++) {
		if ((n = read(r->fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			snprintf(w, sizeof(w), "read: %s", strerror(errno));
			broken(r, w);
			return;
		}
		if (n == 0) {
			broken(r, "closed by server");
			return;
		}
		if (redisReaderFeed(r->reader, buf, (size_t)n) != REDIS_OK) {
			broken(r, "protocol error");
			return;
		}
		if (take_replies(r) == -1)
			return;
		if ((size_t)n < sizeof(buf))
			return;
	}
}

/* Write what is queued; the rest waits for LOOP_WRITE. */
static void
do_write(struct redis *r)
{
	char	 w[WHY_LEN];
	ssize_t	 n;

	while (r->out_off < r->out_len) {
		n = send(r->fd, r->out + r->out_off, r->out_len - r->out_off,
		    MSG_NOSIGNAL);
		r->stats.writes++;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				watch(r, LOOP_READ | LOOP_WRITE);
				return;
			}
			snprintf(w, sizeof(w), "write: %s", strerror(errno));
			broken(r, w);
			return;
		}
		r->out_off += (size_t)n;
	}
	r->out_off = r->out_len = 0;
	watch(r, LOOP_READ);
}

/* Queue one opening command, to be answered in turn. */
static int
hs_command(struct redis *r, enum hs_step step, int argc, const char **argv)
{
	r->hs[r->nhs++] = step;
	return out_command(r, argc, argv, NULL);
}

/* Connected: queue the opening commands (flush() sends them). */
static void
connected(struct redis *r)
{
	const char	*auth[3] = { "AUTH" }, *select[2] = { "SELECT" };
	const char	*sub[2] = { "SUBSCRIBE" }, *ping[1] = { "PING" };
	char		 db[16];
	int		 one = 1, n = 1, rc = 0;

	if (r->addr.path == NULL)
		(void)setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	r->state = S_HANDSHAKE;
	if ((r->reader = redisReaderCreate()) == NULL) {
		broken(r, "out of memory");
		return;
	}
	watch(r, LOOP_READ);
	if (r->addr.password != NULL) {
		if (r->addr.user != NULL)
			auth[n++] = r->addr.user;
		auth[n++] = r->addr.password;
		rc |= hs_command(r, HS_AUTH, n, auth);
	}
	if (r->addr.db != 0) {
		snprintf(db, sizeof(db), "%u", r->addr.db);
		select[1] = db;
		rc |= hs_command(r, HS_SELECT, 2, select);
	}
	if (r->channel != NULL) {
		sub[1] = r->channel;
		rc |= hs_command(r, HS_SUBSCRIBE, 2, sub);
	}
	/* nothing to ask: a PING, so that up means the server answered */
	if (r->nhs == 0)
		rc |= hs_command(r, HS_PING, 1, ping);
	if (rc != 0)
		broken(r, "out of memory");
}

/* A connect() that failed: try the name's next address, or give up. */
static void
connect_failed(struct redis *r, const char *what, int err)
{
	char	 w[WHY_LEN];

	snprintf(w, sizeof(w), "%s: %s", what, strerror(err));
	if (r->fd != -1) {
		loop_del_fd(r->loop, r->fd);
		close(r->fd);
		r->fd = -1;
		r->events = 0;
	}
	if (r->next_addr < r->naddrs)
		try_connect(r);
	else
		broken(r, w);
}

/* loop_fd_cb for the socket. */
static void
on_fd(int fd, int revents, void *arg)
{
	struct redis		*r = arg;
	struct sockaddr_storage	 peer;
	socklen_t		 len;
	int			 err = 0;

	(void)fd;
	enter(r);
	if (r->state == S_CONNECTING) {
		/*
		 * We watch both events while connecting: the loop reports
		 * an error or hang-up as readable and writable, and a
		 * failed connect shows both.  No error and no peer: still
		 * connecting (an event meant for an earlier socket of the
		 * same number).
		 */
		len = sizeof(err);
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		len = sizeof(peer);
		if (err != 0)
			connect_failed(r, "connect", err);
		else if (getpeername(r->fd, (struct sockaddr *)&peer,
		    &len) == 0)
			connected(r);
		goto out;
	}
	if (revents & LOOP_READ)
		do_read(r);
	if (!r->freed && r->fd != -1 && (revents & LOOP_WRITE) &&
	    (r->events & LOOP_WRITE))
		do_write(r);
out:
	leave(r);
}

/* Connect to addrs[next_addr], going on down the list on failure. */
static void
try_connect(struct redis *r)
{
	const struct sockaddr	*sa;
	int			 fd;

	sa = (const struct sockaddr *)&r->addrs[r->next_addr];
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		r->next_addr++;
		connect_failed(r, "socket", errno);
		return;
	}
	r->fd = fd;
	r->events = 0;
	if (connect(fd, sa, r->addrlens[r->next_addr++]) == 0) {
		if (loop_add_fd(r->loop, fd, LOOP_READ, on_fd, r) == -1) {
			broken(r, "too many descriptors for the loop");
			return;
		}
		r->events = LOOP_READ;
		connected(r);
		return;
	}
	if (errno != EINPROGRESS) {
		connect_failed(r, "connect", errno);
		return;
	}
	r->state = S_CONNECTING;
	if (loop_add_fd(r->loop, fd, LOOP_READ | LOOP_WRITE, on_fd,
	    r) == -1) {
		broken(r, "too many descriptors for the loop");
		return;
	}
	r->events = LOOP_READ | LOOP_WRITE;
}

/* A numeric host straight to a sockaddr: 1, or 0 for a name. */
static int
numeric_host(struct redis *r)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&r->addrs[0];
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&r->addrs[0];

	memset(&r->addrs[0], 0, sizeof(r->addrs[0]));
	if (inet_pton(AF_INET, r->addr.host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(r->addr.port);
		r->addrlens[0] = sizeof(*s4);
	} else if (inet_pton(AF_INET6, r->addr.host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(r->addr.port);
		r->addrlens[0] = sizeof(*s6);
	} else
		return 0;
	r->naddrs = 1;
	return 1;
}

/* loop_cb for the resolve_poll timer: is the name resolved yet? */
static void
on_resolve_poll(void *arg)
{
	struct redis	*r = arg;
	struct addrinfo	*ai;
	char		 w[WHY_LEN];
	int		 err;

	enter(r);
	reap_orphans();
	if ((err = gai_error(&r->res->cb)) == EAI_INPROGRESS) {
		loop_timer_arm(r->loop, &r->resolve_poll,
		    now_ms(r) + RESOLVE_POLL_MS, on_resolve_poll, r);
		goto out;
	}
	if (err != 0) {
		snprintf(w, sizeof(w), "resolve %s: %s", r->addr.host,
		    gai_strerror(err));
		broken(r, w);
		goto out;
	}
	for (ai = r->res->cb.ar_result; ai != NULL && r->naddrs < MAX_ADDRS;
	    ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(r->addrs[0]))
			continue;
		memcpy(&r->addrs[r->naddrs], ai->ai_addr, ai->ai_addrlen);
		r->addrlens[r->naddrs++] = ai->ai_addrlen;
	}
	resolve_drop(r->res);	/* done: frees the result */
	r->res = NULL;
	if (r->naddrs == 0) {
		snprintf(w, sizeof(w), "resolve %s: no address",
		    r->addr.host);
		broken(r, w);
	} else
		try_connect(r);
out:
	leave(r);
}

/* Ask glibc's resolver threads for the host name's addresses. */
static void
resolve_start(struct redis *r)
{
	struct resolve	*res = xcalloc(1, sizeof(*res));
	struct gaicb	*list[1] = { &res->cb };
	struct sigevent	 sev;
	char		 w[WHY_LEN];
	int		 err;

	reap_orphans();
	res->name = xstrdup(r->addr.host);
	snprintf(res->service, sizeof(res->service), "%u", r->addr.port);
	res->hints.ai_family = AF_UNSPEC;
	res->hints.ai_socktype = SOCK_STREAM;
	res->hints.ai_protocol = IPPROTO_TCP;
	res->hints.ai_flags = AI_NUMERICSERV;
	res->cb.ar_name = res->name;
	res->cb.ar_service = res->service;
	res->cb.ar_request = &res->hints;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	if ((err = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev)) != 0) {
		free(res->name);
		free(res);
		snprintf(w, sizeof(w), "resolve %s: %s", r->addr.host,
		    gai_strerror(err));
		broken(r, w);
		return;
	}
	r->res = res;
	r->state = S_RESOLVING;
	loop_timer_arm(r->loop, &r->resolve_poll, now_ms(r) + RESOLVE_POLL_MS,
	    on_resolve_poll, r);
}

/* loop_cb for the deadline timer: the head op's, or the connect's. */
static void
on_deadline(void *arg)
{
	struct redis	*r = arg;
	struct op	*op;
	uint64_t	 now = now_ms(r);

	enter(r);
	switch (r->state) {
	case S_UP:
		for (op = r->head; op != NULL &&
		    op->queued_ms + r->timeout_ms <= now; op = op->next)
			r->stats.timeouts++;
		broken(r, "timeout");
		break;
	case S_RESOLVING:
		broken(r, "resolve: timeout");
		break;
	case S_IDLE:
		break;
	default:
		broken(r, "connect: timeout");
		break;
	}
	leave(r);
}

/* loop_cb for the retry timer (and the first connect). */
static void
on_retry(void *arg)
{
	struct redis	*r = arg;

	enter(r);
	start_attempt(r);
	leave(r);
}

static void
start_attempt(struct redis *r)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)&r->addrs[0];
	uint64_t		 t = r->timeout_ms > CONNECT_MIN_MS ?
				    r->timeout_ms : CONNECT_MIN_MS;

	r->stats.connects++;
	loop_timer_arm(r->loop, &r->deadline, now_ms(r) + t, on_deadline, r);
	r->naddrs = r->next_addr = 0;
	if (r->addr.path != NULL) {
		memset(sun, 0, sizeof(*sun));
		sun->sun_family = AF_UNIX;
		/* redis_addr_parse checked the length */
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s",
		    r->addr.path);
		r->addrlens[0] = sizeof(*sun);
		r->naddrs = 1;
	} else if (!numeric_host(r)) {
		resolve_start(r);
		return;
	}
	try_connect(r);
}

/* The pass: what this turn queued goes out in one write. */
static void
flush(void *arg)
{
	struct redis	*r = arg;

	if (r->fd == -1 || (r->state != S_HANDSHAKE && r->state != S_UP) ||
	    r->out_off == r->out_len || (r->events & LOOP_WRITE))
		return;
	enter(r);
	do_write(r);
	leave(r);
}

/* The pass's say on the sleep: none while there is something to write. */
static long
flush_wait(void *arg)
{
	struct redis	*r = arg;

	if (r->fd == -1 || (r->state != S_HANDSHAKE && r->state != S_UP) ||
	    r->out_off == r->out_len || (r->events & LOOP_WRITE))
		return -1;
	return 0;
}

/* ---- the API ---- */

struct redis *
redis_new(struct loop *loop, const struct redis_addr *addr,
    uint64_t timeout_ms, redis_state_cb state_fn, void *arg)
{
	struct redis		*r = xcalloc(1, sizeof(*r));
	const struct loop_time	*t = loop_time(loop);

	r->loop = loop;
	addr_copy(&r->addr, addr);
	r->timeout_ms = timeout_ms;
	r->state_fn = state_fn;
	r->state_arg = arg;
	r->fd = -1;
	r->state = S_IDLE;
	r->backoff_ms = BACKOFF_MIN_MS;
	r->rng = t->mono_ms ^ ((uint64_t)t->wall_ms << 20) ^
	    ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)r;
	loop_add_pass(loop, flush, flush_wait, r);
	loop_timer_arm(loop, &r->retry, t->mono_ms, on_retry, r);
	return r;
}

void
redis_free(struct redis *r)
{
	if (r == NULL || r->freed)
		return;
	r->freed = 1;		/* from now on redis_command says no */
	enter(r);
	while (r->head != NULL)
		(void)fail_head(r);
	close_conn(r);
	loop_timer_disarm(r->loop, &r->retry);
	loop_del_pass(r->loop, flush, r);
	redis_addr_free(&r->addr);
	free(r->channel);
	free(r->out);
	r->out = NULL;
	leave(r);
}

int
redis_command(struct redis *r, int argc, const char **argv,
    const size_t *argvlen, redis_reply_cb fn, void *arg)
{
	struct op	*op;

	/* an empty command ("*0") gets no reply: it would shift the FIFO */
	if (r->freed || r->state != S_UP || r->channel != NULL || argc < 1)
		return -1;
	if (out_command(r, argc, argv, argvlen) == -1)
		return -1;
	op = xmalloc(sizeof(*op));
	op->fn = fn;
	op->arg = arg;
	op->queued_ms = now_ms(r);
	op->queued_us = loop_time(r->loop)->mono_us;
	op->next = NULL;
	if (r->tail != NULL)
		r->tail->next = op;
	else
		r->head = op;
	r->tail = op;
	if (r->head == op)
		deadline_arm_head(r);
	r->stats.ops++;
	return 0;
}

int
redis_is_up(const struct redis *r)
{
	return !r->freed && r->state == S_UP;
}

void
redis_subscribe(struct redis *r, const char *channel, redis_push_cb fn,
    void *arg)
{
	free(r->channel);
	r->channel = xstrdup(channel);
	r->push_fn = fn;
	r->push_arg = arg;
}

struct redis_stats
redis_stats(const struct redis *r)
{
	return r->stats;
}
