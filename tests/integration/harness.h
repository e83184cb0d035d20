/*
 * harness.h - helpers for weir's integration tests: run the real weir
 * binary on port 0 against fake upstreams, talk to it with libcurl (no
 * decoding, target sent byte for byte) or with raw bytes on a socket, and
 * read what it logged.
 *
 * weir is found through $WEIR_BIN (make check sets it).  Its stdout and
 * stderr go to an unlinked temporary file that the harness reads back
 * ($H_KEEP_STDERR=1 keeps the file and prints its path).  weir gets
 * SIGKILL if the test process dies first, so a failed test (Check exits
 * the forked child at once) leaves no weir behind.
 *
 * The h_*_or_abort and h_assert_* helpers fail the running Check test
 * themselves; call them from a test or its checked fixture only.
 */
#ifndef WEIR_HARNESS_H
#define WEIR_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t h_mono_ms(void);

/*
 * Sleep ms milliseconds, resuming after signals.  For the pause between
 * two looks at a condition; never wait a fixed time for something.
 */
void	 h_nap_ms(unsigned ms);

/* A running weir. */
struct h_weir {
	pid_t		 pid;		/* 0 once stopped */
	uint16_t	 port;		/* the bound listen port */
	int		 errfd;		/* its stdout+stderr, read with pread */
	char		 errpath[256];
	int		 status;	/* as waitpid() reports it, once
					 * h_start or h_wait_exit saw it exit */
};

/*
 * Start weir as
 *	weir -c /dev/null -l 127.0.0.1:0 -u http://127.0.0.1:API
 *	    -L http://127.0.0.1:LOGIN [args...]
 * with the WEIR_* variables of this process removed and env ("K=V"
 * strings, NULL-terminated, may be NULL) added (WEIR_ADMIN_LISTEN is
 * 127.0.0.1:0 unless env sets it), and wait up to 10 s for its
 * "listening on ADDR:PORT" line.  With api_port 0, no -u and -L: a
 * configuration file in args names the upstreams.  Returns 0 with w
 * filled in, or -1 (weir exited or never listened; w->errfd stays
 * readable, call h_stop anyway).
 */
int	 h_start(struct h_weir *w, uint16_t api_port, uint16_t login_port,
	    const char *const *args, const char *const *env);

/* h_start() with weir's RLIMIT_NOFILE, soft and hard, set to nofile. */
int	 h_start_nofile(struct h_weir *w, uint16_t api_port,
	    uint16_t login_port, const char *const *args,
	    const char *const *env, unsigned long nofile);

/*
 * Wait up to timeout_ms for weir to exit by itself.  Returns its status
 * as waitpid() reports it, or -1 if it is still running (h_stop then).
 */
int	 h_wait_exit(struct h_weir *w, unsigned timeout_ms);

/* h_start(), and if it fails, abort the test with weir's log. */
void	 h_start_or_abort(struct h_weir *w, uint16_t api_port,
	    uint16_t login_port, const char *const *args,
	    const char *const *env);

/* The admin listener's port (weir runs it on 127.0.0.1:0 unless the test
 * set WEIR_ADMIN_LISTEN), or 0 if it does not come up within 5 s. */
uint16_t h_admin_port(const struct h_weir *w);

/*
 * SIGTERM, wait up to 5 s, then SIGKILL.  Returns the exit status as
 * waitpid() reports it, or -1.  Closes the log file.  Safe to call twice.
 */
int	 h_stop(struct h_weir *w);

/* Everything weir wrote so far, NUL-terminated (free it). */
char	*h_stderr_contents(const struct h_weir *w);

/* Wait up to timeout_ms until weir's output contains needle: 0 or -1. */
int	 h_wait_stderr(const struct h_weir *w, const char *needle,
	    unsigned timeout_ms);

/*
 * The first line of w's log that contains needle and is an access line
 * ("msg":"access"), as a new string (free it), or NULL.  weir writes
 * an access line when the answer is sent, which the client may see first,
 * so this waits up to 2 s for needle.
 */
char	*h_access_line(const struct h_weir *w, const char *needle);

/* One response header. */
struct h_hdr {
	char	*name;
	char	*value;
};

/* A response as the client got it. */
struct h_resp {
	int		 status;	/* 0: no HTTP answer */
	struct h_hdr	*hdrs;		/* in order, of the final response */
	size_t		 nhdrs;
	unsigned char	*body;		/* body_len bytes, then a NUL */
	size_t		 body_len;
	char		 err[256];	/* the transport error, if any */
};

/* One request for h_request(). */
struct h_req {
	const char		*method;	/* NULL: "GET" */
	const char		*target;	/* NULL: "/"; sent byte for byte */
	const char *const	*headers;	/* "Name: value", NULL-terminated */
	const void		*body;		/* sent when has_body */
	size_t			 body_len;
	int			 has_body;	/* send a body (possibly empty) */
	int			 chunked;	/* Transfer-Encoding: chunked */
	int			 expect_100;	/* Expect: 100-continue */
	long			 timeout_ms;	/* 0: 10 s */
};

/*
 * Send one request to 127.0.0.1:port with libcurl and fill in resp (free
 * with h_resp_free).  libcurl adds nothing it can be kept from adding: no
 * Accept, no Expect, no Content-Type, no User-Agent, no decoding.
 * Returns 0 when an HTTP answer came, -1 otherwise (resp->err says why).
 */
int	 h_request(uint16_t port, const struct h_req *req, struct h_resp *resp);

void	 h_resp_free(struct h_resp *);

/* The first header called name (case-insensitive) or NULL, and how many. */
const char	*h_resp_header(const struct h_resp *, const char *name);
size_t		 h_resp_header_count(const struct h_resp *, const char *name);

/* A TCP connection to 127.0.0.1:port (close-on-exec): the fd, or -1 with
 * errno set. */
int	 h_connect_loopback(uint16_t port);

/*
 * A TCP socket listening on 127.0.0.1, port 0 (close-on-exec, backlog
 * 64), for a test's own raw upstream.  Returns the fd (the caller closes
 * it) with the bound port in *port, or -1.
 */
int	 h_listen_loopback(uint16_t *port);

/*
 * Connect to 127.0.0.1:port, write len bytes, and read until the peer
 * closes or timeout_ms pass.  Returns 0 with the bytes read in *out and
 * their count in *outlen (NUL-terminated; free *out), or -1 if it could not connect or write.
 */
int	 h_raw(uint16_t port, const void *req, size_t len, unsigned timeout_ms,
	    char **out, size_t *outlen);

/*
 * Parse raw response bytes (the last response if there are several, i.e.
 * after any 100 Continue) into resp; a chunked body is decoded.  Returns 0
 * or -1 if there is no status line.
 */
int	 h_parse_response(const char *bytes, size_t len, struct h_resp *resp);

/*
 * The top-level member key of the JSON object in json: a string's value
 * (unescaped by json_string(): \uXXXX becomes ASCII or '?') or a primitive
 * as written, copied into out and cut to fit.  Returns the json_type
 * (1 object, 2 array, 3 string, 4 primitive) or -1 when the key is absent
 * or json is not an object.  Reads through proxy/json.c.
 */
int	 h_json_get(const char *json, size_t len, const char *key, char *out,
	    size_t outlen);

/* A free port: bound and closed again, so nothing listens on it. */
uint16_t h_closed_port(void);

/* Is s a lower-case UUIDv4 (8-4-4-4-12, version 4, variant 8..b)? */
int	 h_is_uuid4(const char *s);

/*
 * Assert that r is weir's own JSON error: this status, Content-Type
 * application/json, a body {message, code, status, contextId} with this
 * code and status, and an X-Request-Id that is a UUIDv4 equal to
 * contextId.
 */
void	 h_assert_weir_error(const struct h_resp *r, int status,
	    const char *code);

#endif
