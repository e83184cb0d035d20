/*
 * fake.h - an in-process fake upstream for weir's tests.
 *
 * fake_start() runs a libmicrohttpd server on 127.0.0.1, port 0, in its own
 * threads.  It records every request it receives (method, the raw request
 * target byte for byte, every header in order, the whole body) and answers
 * what the test's handler scripts: a status, headers, a body, an optional
 * delay, or no answer at all until fake_stop().  fake_start_raw() runs a
 * plain-socket server instead that reads each request and writes a fixed
 * string of bytes back, for answers no HTTP server would send (garbage,
 * truncated bodies); fake_start_scripted() one that answers 200 or hangs
 * up, request by request, as the test's script says.
 *
 * Everything here is test code: allocation failure aborts, and the record
 * is guarded by a mutex so tests may read it from any thread.
 */
#ifndef WEIR_FAKE_H
#define WEIR_FAKE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct fake;

struct fake_hdr {
	char	*name;
	char	*value;
};

/* One request as the fake received it. */
struct fake_req {
	size_t		 seq;		/* 0-based order of arrival */
	char		*method;	/* "GET" */
	char		*target;	/* raw request target, "/a%2Fb?c=d,e" */
	char		*version;	/* "HTTP/1.1" */
	struct fake_hdr	*hdrs;		/* in the order received */
	size_t		 nhdrs;
	unsigned char	*body;		/* body_len bytes, then a NUL */
	size_t		 body_len;
	size_t		 conn;		/* scripted fakes: 0-based
					   connection the request came on */
};

/*
 * The answer a handler fills in.  It starts as 200, no headers, no body.
 * Use fake_reply_header() and fake_reply_body() (they copy); the fake frees
 * the reply after sending it.
 */
struct fake_reply {
	int		 status;
	struct fake_hdr	*hdrs;
	size_t		 nhdrs;
	size_t		 hdrs_cap;
	unsigned char	*body;
	size_t		 body_len;
	unsigned	 delay_ms;	/* wait this long before answering */
	int		 hang;		/* never answer; fake_stop() drops it */
	int		 no_record;	/* leave this request out of the record */
	/*
	 * A generated body instead of body: gen_len bytes, byte i being
	 * fake_gen_byte(i), made as the connection takes them (never held
	 * whole), with a Content-Length unless gen_chunked.  gen_fail_at > 0
	 * cuts the connection after that many bytes; gen_stall_at > 0 sends
	 * that many, then nothing until the peer leaves or fake_stop().
	 */
	uint64_t	 gen_len;
	int		 gen_chunked;
	uint64_t	 gen_fail_at;
	uint64_t	 gen_stall_at;
};

/*
 * Called once per request, when its body has arrived whole.  Calls are
 * serialised (one at a time), so a handler may keep a plain counter in arg
 * ("two 429s, then 200").  req is only valid during the call.
 */
typedef void (*fake_handler)(const struct fake_req *req,
    struct fake_reply *reply, void *arg);

/*
 * Start an HTTP fake on 127.0.0.1 port 0 answering with handler (NULL:
 * fake_echo).  Returns the fake (free with fake_stop) or NULL on failure.
 */
struct fake	*fake_start(fake_handler handler, void *arg);

/*
 * Start a raw fake: for each connection it reads the request head (and a
 * Content-Length body), records it, writes exactly len bytes of bytes, and
 * then closes the socket if close_after, or holds it open until fake_stop().
 * Returns the fake or NULL.
 */
struct fake	*fake_start_raw(const char *bytes, size_t len, int close_after);

/* What a scripted raw fake does after a request. */
enum fake_raw_act {
	FAKE_RAW_OK,		/* 200 {"ok":true}, the connection kept */
	FAKE_RAW_CLOSE		/* close the connection without a byte */
};

/*
 * Called for each request, recorded already (req->seq counts over all
 * connections, req->conn numbers the connection), in the connection's
 * own thread: calls on different connections run at once, and a script
 * may block, watching fd with fake_raw_wait_gone().  req is only valid
 * during the call.
 */
typedef enum fake_raw_act (*fake_raw_script)(struct fake *,
    const struct fake_req *req, int fd, void *arg);

/*
 * Start a scripted raw fake on 127.0.0.1 port 0: a thread per connection,
 * keep-alive, each request read whole (head and Content-Length or chunked
 * body), recorded, then answered as script says.  Returns the fake or
 * NULL.
 */
struct fake	*fake_start_scripted(fake_raw_script script, void *arg);

/*
 * For a script: wait up to ms for the peer on fd to hang up.  1 when it
 * did, 0 when it is still there, -1 when the fake is stopping.
 */
int		 fake_raw_wait_gone(struct fake *, int fd, unsigned ms);

/* The bound port. */
uint16_t	 fake_port(const struct fake *);

/* Stop serving, drop hanging answers, free everything.  Accepts NULL. */
void		 fake_stop(struct fake *);

/*
 * Keep at most max requests in the record (default: no limit); requests
 * past it are counted by fake_nreqs() but not kept.
 */
void		 fake_set_max_records(struct fake *, size_t max);

/* Byte i of a generated body (a pattern that does not repeat every 2^n
 * bytes for small n, so a lost or repeated block shows). */
unsigned char	 fake_gen_byte(uint64_t i);

/*
 * How many generated bodies ended before their last byte because the
 * peer went away (not by gen_fail_at), and how many bytes of generated
 * bodies the fake made so far (MHD asks ahead of the socket by at most
 * one block of 64 KiB).
 */
size_t		 fake_gen_cut(struct fake *);
uint64_t	 fake_gen_made(struct fake *);

/* How many requests have been recorded (or counted) so far. */
size_t		 fake_nreqs(struct fake *);

/*
 * Wait until at least n requests were received, up to timeout_ms.
 * Returns 0, or -1 on timeout.
 */
int		 fake_wait_nreqs(struct fake *, size_t n, unsigned timeout_ms);

/* A deep copy of request i (free with fake_req_free), or NULL. */
struct fake_req	*fake_req_get(struct fake *, size_t i);
void		 fake_req_free(struct fake_req *);

/* Forget every recorded request. */
void		 fake_reset(struct fake *);

/* The value of the first header called name (case-insensitive), or NULL. */
const char	*fake_req_header(const struct fake_req *, const char *name);
/* How many headers are called name. */
size_t		 fake_req_header_count(const struct fake_req *,
		    const char *name);

/* Build a reply (all copy their arguments). */
void		 fake_reply_header(struct fake_reply *, const char *name,
		    const char *value);
void		 fake_reply_body(struct fake_reply *, const void *body,
		    size_t len);
void		 fake_reply_printf(struct fake_reply *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Genesys' 429: Retry-After: secs, its JSON body with the limit per
 * minute (per_min) and the wait in its message. */
void		 fake_reply_genesys_429(struct fake_reply *, int secs,
		    int per_min);

/*
 * The default handler: 200 with a JSON echo of the request,
 * {"method","target","headers":{name:value,...},"body_len"}.
 */
void		 fake_echo(const struct fake_req *, struct fake_reply *,
		    void *arg);

/* A growable byte buffer, NUL-terminated, for building JSON. */
struct fake_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

void	fake_buf_add(struct fake_buf *, const void *, size_t);
void	fake_buf_adds(struct fake_buf *, const char *);
void	fake_buf_printf(struct fake_buf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append s as a quoted JSON string: UTF-8 passes through, other bytes
 * >= 0x80 are escaped as if Latin-1 (\u00XX). */
void	fake_buf_json(struct fake_buf *, const char *s, size_t len);
void	fake_buf_free(struct fake_buf *);

/* Is s (len bytes) well-formed UTF-8 without NUL bytes? */
int	fake_utf8_valid(const unsigned char *s, size_t len);

/* Allocation for tests: abort on failure. */
void	*fake_alloc(size_t);
char	*fake_strdup(const char *);
char	*fake_strndup(const char *, size_t);

#endif
