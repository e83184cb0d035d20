/*
 * harness.c - run weir for the integration tests and talk to it.
 *
 * Test code: it forks and execs the weir binary, reads its log through an
 * unlinked temporary file, and opens sockets on 127.0.0.1 only.  Waits
 * poll for a condition; none sleeps a fixed time.  The _or_abort and
 * assert helpers fail the running Check test.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <check.h>

#include "fake.h"
#include "harness.h"
#include "json.h"

extern char **environ;

uint64_t
h_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
h_nap_ms(unsigned ms)
{
	struct timespec	 ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static const char *
weir_bin(void)
{
	const char	*b;

	if ((b = getenv("WEIR_BIN")) != NULL && *b != '\0')
		return b;
	if (access("proxy/weir", X_OK) == 0)
		return "proxy/weir";
	return "../../proxy/weir";
}

char *
h_stderr_contents(const struct h_weir *w)
{
	struct fake_buf	 b = { 0 };
	char		 tmp[65536];
	off_t		 off = 0;
	ssize_t		 n;

	fake_buf_add(&b, "", 0);
	if (w->errfd == -1)
		return b.p;
	while ((n = pread(w->errfd, tmp, sizeof(tmp), off)) > 0) {
		fake_buf_add(&b, tmp, (size_t)n);
		off += n;
	}
	return b.p;
}

int
h_wait_stderr(const struct h_weir *w, const char *needle, unsigned timeout_ms)
{
	uint64_t	 end = h_mono_ms() + timeout_ms;
	char		*s;
	int		 found;

	for (;;) {
		s = h_stderr_contents(w);
		found = strstr(s, needle) != NULL;
		free(s);
		if (found)
			return 0;
		if (h_mono_ms() >= end)
			return -1;
		h_nap_ms(5);
	}
}

char *
h_access_line(const struct h_weir *w, const char *needle)
{
	char		*log, *out = NULL;
	const char	*p, *start, *end;

	(void)h_wait_stderr(w, needle, 2000);
	log = h_stderr_contents(w);
	for (p = log; (p = strstr(p, needle)) != NULL; p++) {
		for (start = p; start > log && start[-1] != '\n'; start--)
			;
		if ((end = strchr(p, '\n')) == NULL)
			end = p + strlen(p);
		if (memmem(start, (size_t)(end - start), "\"msg\":\"access\"",
		    14) != NULL) {
			out = fake_strndup(start, (size_t)(end - start));
			break;
		}
	}
	free(log);
	return out;
}

/* The port of the "listening on ADDR:PORT" line in s, or 0. */
static uint16_t
listen_port(const char *s)
{
	const char	*p, *end, *colon = NULL;
	long		 port;

	if ((p = strstr(s, "listening on ")) == NULL)
		return 0;
	p += strlen("listening on ");
	for (end = p; *end != '\0' && *end != '"' && *end != '\n' &&
	    *end != ' '; end++)
		if (*end == ':')
			colon = end;
	if (colon == NULL || *end == '\0')
		return 0;
	port = strtol(colon + 1, NULL, 10);
	return port > 0 && port < 65536 ? (uint16_t)port : 0;
}

/* environ less WEIR_*, plus extra; a new NULL-terminated array. */
static char **
make_env(const char *const *extra)
{
	char	**envp;
	size_t	 n = 0, i, o = 0;

	for (i = 0; environ[i] != NULL; i++)
		n++;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		n++;
	envp = fake_alloc((n + 2) * sizeof(*envp));
	for (i = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "WEIR_", 5) != 0)
			envp[o++] = environ[i];
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		envp[o++] = (char *)(uintptr_t)extra[i];
	/* Never the fixed default admin port; after extra, so a test's own
	 * WEIR_ADMIN_LISTEN is the one getenv() finds. */
	envp[o++] = (char *)(uintptr_t)"WEIR_ADMIN_LISTEN=127.0.0.1:0";
	envp[o] = NULL;
	return envp;
}

int
h_start(struct h_weir *w, uint16_t api_port, uint16_t login_port,
    const char *const *args, const char *const *env)
{
	return h_start_nofile(w, api_port, login_port, args, env, 0);
}

int
h_start_nofile(struct h_weir *w, uint16_t api_port, uint16_t login_port,
    const char *const *args, const char *const *env, unsigned long nofile)
{
	struct rlimit	 rl = { .rlim_cur = nofile, .rlim_max = nofile };
	char		 api[64], login[64], *s;
	const char	*argv[64];
	char		**envp;
	const char	*tmpdir;
	size_t		 n = 0, i;
	pid_t		 parent = getpid(), pid;
	uint64_t	 end;
	int		 devnull, status;

	memset(w, 0, sizeof(*w));
	w->errfd = -1;
	w->status = -1;
	if ((tmpdir = getenv("TMPDIR")) == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	snprintf(w->errpath, sizeof(w->errpath), "%s/weir-test-XXXXXX",
	    tmpdir);
	if ((w->errfd = mkostemp(w->errpath, O_CLOEXEC)) == -1)
		return -1;
	if (getenv("H_KEEP_STDERR") == NULL)
		unlink(w->errpath);
	else
		fprintf(stderr, "# weir log: %s\n", w->errpath);

	snprintf(api, sizeof(api), "http://127.0.0.1:%u", (unsigned)api_port);
	snprintf(login, sizeof(login), "http://127.0.0.1:%u",
	    (unsigned)login_port);
	argv[n++] = weir_bin();
	argv[n++] = "-c";
	argv[n++] = "/dev/null";
	argv[n++] = "-l";
	argv[n++] = "127.0.0.1:0";
	if (api_port != 0) {	/* 0: the configuration file says */
		argv[n++] = "-u";
		argv[n++] = api;
		argv[n++] = "-L";
		argv[n++] = login;
	}
	for (i = 0; args != NULL && args[i] != NULL && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	envp = make_env(env);
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		free(envp);
		return -1;
	}

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		close(devnull);
		free(envp);
		return -1;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls until execve. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(devnull, 0);
		dup2(w->errfd, 1);
		dup2(w->errfd, 2);
		if (nofile != 0 && setrlimit(RLIMIT_NOFILE, &rl) == -1)
			_exit(126);
		execve(argv[0], (char *const *)(uintptr_t)argv, envp);
		_exit(127);
	}
	close(devnull);
	free(envp);
	w->pid = pid;

	end = h_mono_ms() + 10000;
	for (;;) {
		s = h_stderr_contents(w);
		w->port = listen_port(s);
		free(s);
		if (w->port != 0)
			return 0;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			w->pid = 0;
			w->status = status;
			return -1;
		}
		if (h_mono_ms() >= end)
			return -1;
		h_nap_ms(2);
	}
}

void
h_start_or_abort(struct h_weir *w, uint16_t api_port, uint16_t login_port,
    const char *const *args, const char *const *env)
{
	if (h_start(w, api_port, login_port, args, env) == -1)
		ck_abort_msg("weir did not start: %s", h_stderr_contents(w));
}

uint16_t
h_admin_port(const struct h_weir *w)
{
	char		*s, *p;
	uint16_t	 port = 0;

	if (h_wait_stderr(w, "admin listening on ", 5000) == -1)
		return 0;
	s = h_stderr_contents(w);
	if ((p = strstr(s, "admin listening on ")) != NULL)
		port = listen_port(p + strlen("admin "));
	free(s);
	return port;
}

int
h_wait_exit(struct h_weir *w, unsigned timeout_ms)
{
	uint64_t	 end = h_mono_ms() + timeout_ms;
	int		 status;

	while (w->pid > 0) {
		if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
			w->pid = 0;
			w->status = status;
			break;
		}
		if (h_mono_ms() >= end)
			return -1;
		h_nap_ms(2);
	}
	return w->status;
}

int
h_stop(struct h_weir *w)
{
	uint64_t	 end;
	int		 status = -1;
	pid_t		 r;

	if (w->pid > 0) {
		kill(w->pid, SIGTERM);
		end = h_mono_ms() + 5000;
		while ((r = waitpid(w->pid, &status, WNOHANG)) == 0 &&
		    h_mono_ms() < end)
			h_nap_ms(2);
		if (r == 0) {
			kill(w->pid, SIGKILL);
			waitpid(w->pid, &status, 0);
		}
		w->pid = 0;
	}
	if (w->errfd != -1) {
		close(w->errfd);
		w->errfd = -1;
	}
	return status;
}

/* The client. */

struct upload {
	const unsigned char	*p;
	size_t			 left;
};

/* CURLOPT_READFUNCTION */
static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload	*u = arg;
	size_t		 n = size * nmemb;

	/* Small pieces, so a chunked upload has several chunks. */
	if (n > 16384)
		n = 16384;
	if (n > u->left)
		n = u->left;
	memcpy(dst, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

static void
resp_add_header(struct h_resp *r, size_t *cap, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	if (r->nhdrs == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		r->hdrs = realloc(r->hdrs, *cap * sizeof(*r->hdrs));
		if (r->hdrs == NULL)
			abort();
	}
	r->hdrs[r->nhdrs].name = fake_strndup(name, nlen);
	r->hdrs[r->nhdrs].value = fake_strndup(value, vlen);
	r->nhdrs++;
}

static void
resp_clear_headers(struct h_resp *r)
{
	size_t	 i;

	for (i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	r->nhdrs = 0;
}

struct capture {
	struct h_resp	*resp;
	size_t		 cap;
	struct fake_buf	 body;
};

/* Add one "Name: value" line (CRLF or LF ended) to r. */
static void
header_line(struct h_resp *r, size_t *cap, const char *line, size_t len)
{
	const char	*colon, *v, *e = line + len;

	while (e > line && (e[-1] == '\r' || e[-1] == '\n'))
		e--;
	if (e == line)
		return;
	if ((colon = memchr(line, ':', (size_t)(e - line))) == NULL)
		return;
	for (v = colon + 1; v < e && (*v == ' ' || *v == '\t'); v++)
		;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	resp_add_header(r, cap, line, (size_t)(colon - line), v,
	    (size_t)(e - v));
}

/* CURLOPT_HEADERFUNCTION */
static size_t
header_cb(char *line, size_t size, size_t nmemb, void *arg)
{
	struct capture	*c = arg;
	size_t		 len = size * nmemb;

	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		/* A new (possibly interim) response starts. */
		resp_clear_headers(c->resp);
		return len;
	}
	header_line(c->resp, &c->cap, line, len);
	return len;
}

/* CURLOPT_WRITEFUNCTION */
static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct capture	*c = arg;

	fake_buf_add(&c->body, data, size * nmemb);
	return size * nmemb;
}

static int
has_header(const char *const *h, const char *name)
{
	size_t	 i, n = strlen(name);

	for (i = 0; h != NULL && h[i] != NULL; i++)
		if (strncasecmp(h[i], name, n) == 0 &&
		    (h[i][n] == ':' || h[i][n] == ';'))
			return 1;
	return 0;
}

int
h_request(uint16_t port, const struct h_req *req, struct h_resp *resp)
{
	static int		 inited;
	CURL			*e;
	CURLcode		 rc;
	struct curl_slist	*hl = NULL;
	struct capture		 cap;
	struct upload		 up;
	char			 url[64], errbuf[CURL_ERROR_SIZE] = "";
	const char		*method = req->method ? req->method : "GET";
	long			 code = 0;
	size_t			 i;

	if (!inited) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = 1;
	}
	memset(resp, 0, sizeof(*resp));
	memset(&cap, 0, sizeof(cap));
	cap.resp = resp;
	fake_buf_add(&cap.body, "", 0);

	if ((e = curl_easy_init()) == NULL) {
		snprintf(resp->err, sizeof(resp->err), "curl_easy_init");
		goto fail;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)port);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_REQUEST_TARGET,
	    req->target ? req->target : "/");
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    req->timeout_ms > 0 ? req->timeout_ms : 10000L);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &cap);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &cap);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);

	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
		hl = curl_slist_append(hl, req->headers[i]);
	/* Keep libcurl from adding headers of its own. */
	if (!has_header(req->headers, "Accept"))
		hl = curl_slist_append(hl, "Accept:");
	if (req->expect_100)
		hl = curl_slist_append(hl, "Expect: 100-continue");
	else if (!has_header(req->headers, "Expect"))
		hl = curl_slist_append(hl, "Expect:");
	if (req->has_body) {
		up.p = req->body;
		up.left = req->body_len;
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, &up);
		if (req->chunked) {
			if (!has_header(req->headers, "Transfer-Encoding"))
				hl = curl_slist_append(hl,
				    "Transfer-Encoding: chunked");
		} else
			curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
			    (curl_off_t)req->body_len);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);

	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	resp->status = (int)code;
	if (rc != CURLE_OK)
		snprintf(resp->err, sizeof(resp->err), "%.100s: %.150s",
		    curl_easy_strerror(rc), errbuf);
	curl_easy_cleanup(e);
	curl_slist_free_all(hl);
	resp->body = (unsigned char *)cap.body.p;
	resp->body_len = cap.body.len;
	return resp->status != 0 ? 0 : -1;
fail:
	resp->body = (unsigned char *)cap.body.p;
	return -1;
}

void
h_resp_free(struct h_resp *r)
{
	if (r == NULL)
		return;
	resp_clear_headers(r);
	free(r->hdrs);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

const char *
h_resp_header(const struct h_resp *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			return r->hdrs[i].value;
	return NULL;
}

size_t
h_resp_header_count(const struct h_resp *r, const char *name)
{
	size_t	 i, n = 0;

	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			n++;
	return n;
}

/* Raw sockets. */

int
h_connect_loopback(uint16_t port)
{
	struct sockaddr_in	 sin;
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
h_raw(uint16_t port, const void *req, size_t len, unsigned timeout_ms,
    char **out, size_t *outlen)
{
	struct fake_buf	 b = { 0 };
	const char	*p = req;
	struct pollfd	 pfd;
	uint64_t	 end = h_mono_ms() + timeout_ms, now;
	char		 tmp[16384];
	ssize_t		 n;
	int		 fd;

	*out = NULL;
	*outlen = 0;
	if ((fd = h_connect_loopback(port)) == -1)
		return -1;
	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	fake_buf_add(&b, "", 0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while ((now = h_mono_ms()) < end) {
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		if ((n = recv(fd, tmp, sizeof(tmp), 0)) <= 0)
			break;
		fake_buf_add(&b, tmp, (size_t)n);
	}
	close(fd);
	*out = b.p;
	*outlen = b.len;
	return 0;
}

/* Decode a chunked body from p into b; stops at the last chunk. */
static void
dechunk(const char *p, const char *end, struct fake_buf *b)
{
	unsigned long	 size;
	char		*eol;

	while (p < end) {
		size = strtoul(p, &eol, 16);
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			return;
		p = eol + 2;
		if (size == 0 || (size_t)(end - p) < size)
			return;
		fake_buf_add(b, p, size);
		p += size + 2;
	}
}

int
h_parse_response(const char *bytes, size_t len, struct h_resp *r)
{
	const char	*p = bytes, *end = bytes + len, *eol, *hend, *last;
	const char	*te;
	struct fake_buf	 body = { 0 };
	size_t		 cap = 0;

	memset(r, 0, sizeof(*r));
	/* Skip interim (1xx) responses. */
	for (last = NULL;;) {
		if ((size_t)(end - p) < 12 || memcmp(p, "HTTP/", 5) != 0)
			break;
		last = p;
		if ((hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) ==
		    NULL)
			break;
		if (p[9] != '1')
			break;
		p = hend + 4;
	}
	if (last == NULL)
		return -1;
	p = last;
	r->status = atoi(p + 9);
	if ((hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) == NULL)
		hend = end;
	eol = memmem(p, (size_t)(hend - p), "\r\n", 2);
	for (p = eol ? eol + 2 : hend; p < hend; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(hend - p), "\r\n", 2)) == NULL)
			eol = hend;
		header_line(r, &cap, p, (size_t)(eol - p));
	}
	fake_buf_add(&body, "", 0);
	if (hend + 4 <= end) {
		p = hend + 4;
		te = h_resp_header(r, "Transfer-Encoding");
		if (te != NULL && strcasestr(te, "chunked") != NULL)
			dechunk(p, end, &body);
		else
			fake_buf_add(&body, p, (size_t)(end - p));
	}
	r->body = (unsigned char *)body.p;
	r->body_len = body.len;
	return 0;
}

/* JSON, through weir's own reader (json.c). */

int
h_json_get(const char *json, size_t len, const char *key, char *out,
    size_t outlen)
{
	struct json	*j;
	const char	*v;
	char		*s;
	size_t		 vlen;
	int		 tok, type = -1;

	if (outlen > 0)
		out[0] = '\0';
	if ((j = json_parse(json, len, INT_MAX)) == NULL)
		return -1;
	if ((tok = json_get(j, 0, key)) == -1)
		goto out;
	type = (int)json_type(j, tok);
	v = json_text(j, tok, &vlen);
	if (outlen == 0)
		goto out;
	if (type == JSON_STRING) {
		/* unescaped, a string is never longer than as written */
		s = fake_alloc(vlen + 1);
		if (json_string(j, tok, s, vlen + 1) == 0)
			snprintf(out, outlen, "%s", s);
		free(s);
	} else
		snprintf(out, outlen, "%.*s", (int)vlen, v);
out:
	json_free(j);
	return type;
}

int
h_listen_loopback(uint16_t *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 64) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

uint16_t
h_closed_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	uint16_t		 port = 0;
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
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

int
h_is_uuid4(const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (s[i] == '\0' || strchr(hex, s[i]) == NULL)
			return 0;
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* Checks. */

void
h_assert_weir_error(const struct h_resp *r, int status, const char *code)
{
	const char	*ct, *id;
	char		 v[512];

	ck_assert_msg(r->status == status, "status %d, expected %d; body: %s",
	    r->status, status, r->body);
	ct = h_resp_header(r, "Content-Type");
	ck_assert_msg(ct != NULL && strstr(ct, "application/json") != NULL,
	    "Content-Type %s", ct ? ct : "(none)");
	ck_assert_msg(h_json_get((const char *)r->body, r->body_len, "code",
	    v, sizeof(v)) == 3, "no code in %s", r->body);
	ck_assert_str_eq(v, code);
	ck_assert_msg(h_json_get((const char *)r->body, r->body_len, "status",
	    v, sizeof(v)) == 4, "no status in %s", r->body);
	ck_assert_int_eq(atoi(v), status);
	ck_assert_msg(h_json_get((const char *)r->body, r->body_len,
	    "message", v, sizeof(v)) == 3 && v[0] != '\0',
	    "no message in %s", r->body);
	id = h_resp_header(r, "X-Request-Id");
	ck_assert_msg(id != NULL && h_is_uuid4(id), "request id %s",
	    id ? id : "(none)");
	ck_assert_int_eq(h_json_get((const char *)r->body, r->body_len,
	    "contextId", v, sizeof(v)), 3);
	ck_assert_str_eq(v, id);
}
