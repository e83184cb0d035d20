/*
 * fakeup - a stand-alone fake of the bits of Genesys Cloud that the Node.js
 * SDK test and the benchmarks need, built on the fake upstream library.
 *
 *	fakeup [--latency-ms N] [--flows N] [--limit N --window-s S [--steal K]]
 *	    [--max-records N]
 *
 * Binds 127.0.0.1 port 0, prints "port NNNNN" on stdout, and serves until
 * SIGTERM or SIGINT:
 *	POST /oauth/token			client credentials grant
 *	GET  /api/v2/flows			paged list of --flows flows
 *	GET  /api/v2/flows/{id}
 *	PUT  /api/v2/flows/{id}			echoes the body
 *	POST /api/v2/flows/actions/{checkout,checkin,publish}?flow=ID
 *	anything else				Genesys-shaped 404
 * With --limit N --window-s S, each client (the Basic auth id, or the id in
 * a "tok-<id>-<n>" bearer token) may make N calls per fixed window of S
 * seconds; the next gets Genesys' 429.  --steal K: other apps of the org
 * take K of the N at the start of each window.  Control endpoints, neither recorded
 * nor limited: GET /__fake/requests, POST /__fake/reset, GET /__fake/stats.
 *
 * Handler calls are serialised by the fake library, so the state below
 * needs no lock of its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fake.h"

struct client {
	char		*id;
	uint64_t	 window_start_ms;
	uint64_t	 calls;		/* in the current window */
	struct client	*next;
};

static struct {
	struct fake	*fake;
	unsigned	 latency_ms;
	unsigned long	 flows;
	uint64_t	 limit;		/* 0: no rate limit */
	uint64_t	 window_s;
	uint64_t	 steal;		/* calls other apps take per window */
	struct client	*clients;
	uint64_t	 requests;
	uint64_t	 n429;
	uint64_t	 tokens;	/* tokens issued, for tok-<id>-<n> */
	uint64_t	 rng;
} st = {
	.flows = 500,
	.window_s = 60,
};

static const char *const flow_types[] = {
	"inboundcall", "outboundcall", "inqueuecall", "inboundemail",
	"inboundshortmessage", "bot", "workflow", "commonmodule",
};
#define NTYPES	(sizeof(flow_types) / sizeof(flow_types[0]))

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* xorshift64*: ids for correlation only, not for security. */
static uint64_t
rnd(void)
{
	st.rng ^= st.rng >> 12;
	st.rng ^= st.rng << 25;
	st.rng ^= st.rng >> 27;
	return st.rng * 2685821657736338717ULL;
}

/* A UUIDv4-shaped id into out[37]. */
static void
uuid(char out[37])
{
	uint64_t	 a = rnd(), b = rnd();

	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012" PRIx64,
	    (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
	    (unsigned)a & 0xfff, (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
	    (uint64_t)(b & 0xffffffffffffULL));
}

static void
flow_id(char out[48], unsigned long i)
{
	snprintf(out, 48, "00000000-0000-4000-8000-%012lu",
	    (i + 1) % 1000000000000UL);
}

/* The flow index of id, or -1. */
static long
flow_index(const char *id, size_t len)
{
	char		 want[48];
	unsigned long	 i;
	char		*end;

	if (len != 36 || strncmp(id, "00000000-0000-4000-8000-", 24) != 0)
		return -1;
	errno = 0;
	i = strtoul(id + 24, &end, 10);
	if (errno != 0 || end != id + 36 || i == 0 || i > st.flows)
		return -1;
	flow_id(want, i - 1);
	if (strncmp(want, id, 36) != 0)
		return -1;
	return (long)(i - 1);
}

static void
flow_json(struct fake_buf *b, unsigned long i)
{
	char	 id[48];

	flow_id(id, i);
	fake_buf_printf(b,
	    "{\"id\":\"%s\",\"name\":\"Flow %lu\","
	    "\"description\":\"fake flow %lu\",\"type\":\"%s\","
	    "\"active\":true,\"system\":false,\"deleted\":false,"
	    "\"division\":{\"id\":\"00000000-0000-4000-8000-d00000000001\","
	    "\"name\":\"Home\",\"selfUri\":\"/api/v2/authorization/divisions/"
	    "00000000-0000-4000-8000-d00000000001\"},"
	    "\"publishedVersion\":{\"id\":\"1.0\",\"name\":\"1.0\","
	    "\"commitVersion\":\"1.0\",\"configurationVersion\":\"1.0\","
	    "\"type\":\"PUBLISH\",\"secure\":false,\"debug\":false,"
	    "\"selfUri\":\"/api/v2/flows/%s/versions/1.0\"},"
	    "\"checkedInVersion\":{\"id\":\"1.0\",\"name\":\"1.0\","
	    "\"selfUri\":\"/api/v2/flows/%s/versions/1.0\"},"
	    "\"version\":\"1.0\",\"selfUri\":\"/api/v2/flows/%s\"}",
	    id, i + 1, i + 1, flow_types[i % NTYPES], id, id, id);
}

/* The value of query parameter name in target (raw, not unescaped). */
static int
query_param(const char *target, const char *name, const char **val,
    size_t *len)
{
	const char	*q, *end;
	size_t		 nlen = strlen(name);

	if ((q = strchr(target, '?')) == NULL)
		return -1;
	for (q++; *q != '\0'; q = *end ? end + 1 : end) {
		end = q + strcspn(q, "&");
		if ((size_t)(end - q) > nlen && strncmp(q, name, nlen) == 0 &&
		    q[nlen] == '=') {
			*val = q + nlen + 1;
			*len = (size_t)(end - *val);
			return 0;
		}
	}
	return -1;
}

/* An unsigned query parameter: 0 and *out, 1 if absent, -1 if invalid. */
static int
query_uint(const char *target, const char *name, unsigned long *out)
{
	const char	*v;
	size_t		 len;
	char		 tmp[32], *end;

	if (query_param(target, name, &v, &len) == -1)
		return 1;
	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	errno = 0;
	*out = strtoul(tmp, &end, 10);
	if (errno != 0 || *end != '\0' || tmp[0] == '-')
		return -1;
	return 0;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode base64 s into a new NUL-terminated string, or NULL. */
static char *
b64decode(const char *s)
{
	size_t		 len = strlen(s), o = 0, i;
	unsigned	 acc = 0;
	int		 bits = 0, v;
	char		*out;

	out = fake_alloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '=')
			break;
		if ((v = b64val((unsigned char)s[i])) == -1) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return out;
}

/* The Basic auth "id:secret" of req split in two (free *id), or -1. */
static int
basic_auth(const struct fake_req *req, char **id, const char **secret)
{
	const char	*a;
	char		*dec, *colon;

	if ((a = fake_req_header(req, "Authorization")) == NULL ||
	    strncasecmp(a, "Basic ", 6) != 0)
		return -1;
	for (a += 6; *a == ' '; a++)
		;
	if ((dec = b64decode(a)) == NULL)
		return -1;
	if ((colon = strchr(dec, ':')) == NULL || colon == dec ||
	    colon[1] == '\0') {
		free(dec);
		return -1;
	}
	*colon = '\0';
	*id = dec;
	*secret = colon + 1;
	return 0;
}

/* The client a request counts against (owned by the caller), or NULL. */
static char *
client_of(const struct fake_req *req)
{
	const char	*a, *id, *dash;
	char		*cid;
	const char	*secret;

	if (basic_auth(req, &cid, &secret) == 0)
		return cid;
	if ((a = fake_req_header(req, "Authorization")) == NULL ||
	    strncasecmp(a, "Bearer ", 7) != 0)
		return NULL;
	for (a += 7; *a == ' '; a++)
		;
	if (strncmp(a, "tok-", 4) != 0)
		return fake_strdup(a);		/* some other token */
	id = a + 4;
	if ((dash = strrchr(id, '-')) == NULL || dash == id)
		return fake_strdup(a);
	return fake_strndup(id, (size_t)(dash - id));
}

static void
json_headers(struct fake_reply *rp, const char *corr)
{
	fake_reply_header(rp, "Content-Type", "application/json");
	fake_reply_header(rp, "ININ-Correlation-Id", corr);
}

/* A Genesys-shaped error. */
static void
error_reply(struct fake_reply *rp, const char *corr, int status,
    const char *code, const char *message)
{
	struct fake_buf	 b = { 0 };

	fake_buf_adds(&b, "{\"message\":");
	fake_buf_json(&b, message, strlen(message));
	fake_buf_printf(&b, ",\"code\":\"%s\",\"status\":%d,"
	    "\"contextId\":\"%s\",\"details\":[],\"errors\":[]}",
	    code, status, corr);
	rp->status = status;
	fake_reply_body(rp, b.p, b.len);
	fake_buf_free(&b);
}

/*
 * Count a call against its client's window.  Returns 0 when allowed, or
 * the seconds until the window ends when the call is over the limit.
 */
static uint64_t
rate_check(const char *id)
{
	struct client	*c;
	uint64_t	 now = now_ms(), window = st.window_s * 1000, left;

	for (c = st.clients; c != NULL; c = c->next)
		if (strcmp(c->id, id) == 0)
			break;
	if (c == NULL) {
		c = fake_alloc(sizeof(*c));
		c->id = fake_strdup(id);
		c->window_start_ms = now;
		c->calls = st.steal;
		c->next = st.clients;
		st.clients = c;
	}
	if (now >= c->window_start_ms + window) {
		/* Other apps of the org spend their share at the start. */
		c->window_start_ms = now;
		c->calls = st.steal;
	}
	if (c->calls < st.limit) {
		c->calls++;
		return 0;
	}
	left = c->window_start_ms + window - now;
	return left == 0 ? 1 : (left + 999) / 1000;
}

static void
too_many(struct fake_reply *rp, const char *corr, uint64_t secs)
{
	char	 ra[32];

	st.n429++;
	snprintf(ra, sizeof(ra), "%" PRIu64, secs);
	fake_reply_header(rp, "Retry-After", ra);
	rp->status = 429;
	fake_reply_printf(rp,
	    "{\"message\":\"Rate limit exceeded the maximum. Retry the request "
	    "in [%" PRIu64 "] seconds\",\"code\":\"too.many.requests.retry.after\","
	    "\"status\":429,\"contextId\":\"%s\",\"details\":[],\"errors\":[],"
	    "\"limit\":{\"key\":\"client.credentials.token.rate.per.minute\","
	    "\"namespace\":\"platform.api\",\"value\":%" PRIu64 "}}",
	    secs, corr, st.limit * 60 / st.window_s);
}

static void
clients_free(void)
{
	struct client	*c, *next;

	for (c = st.clients; c != NULL; c = next) {
		next = c->next;
		free(c->id);
		free(c);
	}
	st.clients = NULL;
}

/* Does the form body carry grant_type=client_credentials? */
static int
grant_ok(const struct fake_req *req)
{
	const char	*p = (const char *)req->body;
	const char	*end = p + req->body_len, *amp;
	static const char want[] = "grant_type=client_credentials";

	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if ((size_t)(amp - p) == sizeof(want) - 1 &&
		    memcmp(p, want, sizeof(want) - 1) == 0)
			return 1;
		p = amp + 1;
	}
	return 0;
}

static void
oauth_token(const struct fake_req *req, struct fake_reply *rp,
    const char *corr)
{
	char		*id;
	const char	*secret;

	if (strcmp(req->method, "POST") != 0) {
		error_reply(rp, corr, 405, "method.not.allowed",
		    "Method not allowed");
		return;
	}
	if (basic_auth(req, &id, &secret) == -1) {
		error_reply(rp, corr, 400, "bad.request",
		    "invalid_client: Basic authorization id:secret required");
		return;
	}
	if (!grant_ok(req)) {
		free(id);
		error_reply(rp, corr, 400, "bad.request",
		    "unsupported_grant_type: expected client_credentials");
		return;
	}
	st.tokens++;
	rp->status = 200;
	fake_reply_printf(rp, "{\"access_token\":\"tok-%s-%" PRIu64 "\","
	    "\"token_type\":\"bearer\",\"expires_in\":86399}", id, st.tokens);
	free(id);
}

static int
type_wanted(const char *types, size_t len, const char *type)
{
	const char	*p = types, *end = types + len, *comma;
	size_t		 tl = strlen(type);

	while (p < end) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		if ((size_t)(comma - p) == tl && strncasecmp(p, type, tl) == 0)
			return 1;
		p = comma + 1;
	}
	return 0;
}

static void
page_uri(struct fake_buf *b, const char *key, unsigned long page,
    unsigned long size)
{
	fake_buf_printf(b, ",\"%s\":\"/api/v2/flows?pageNumber=%lu"
	    "&pageSize=%lu\"", key, page, size);
}

static void
flows_list(const struct fake_req *req, struct fake_reply *rp,
    const char *corr)
{
	struct fake_buf	 b = { 0 };
	unsigned long	 page = 1, size = 25, total = 0, i, pages, from, n;
	unsigned long	*match;
	const char	*types = NULL;
	size_t		 tlen = 0;

	if (query_uint(req->target, "pageNumber", &page) == -1 || page == 0 ||
	    query_uint(req->target, "pageSize", &size) == -1 || size == 0 ||
	    size > 500) {
		error_reply(rp, corr, 400, "bad.request",
		    "pageNumber must be >= 1 and pageSize 1..500");
		return;
	}
	if (query_param(req->target, "type", &types, &tlen) == -1)
		types = NULL;

	match = fake_alloc(sizeof(*match) * (st.flows + 1));
	for (i = 0; i < st.flows; i++)
		if (types == NULL ||
		    type_wanted(types, tlen, flow_types[i % NTYPES]))
			match[total++] = i;
	pages = (total + size - 1) / size;
	from = (page - 1) * size;

	fake_buf_adds(&b, "{\"entities\":[");
	for (n = 0, i = from; i < total && n < size; i++, n++) {
		if (n > 0)
			fake_buf_add(&b, ",", 1);
		flow_json(&b, match[i]);
	}
	fake_buf_printf(&b, "],\"pageSize\":%lu,\"pageNumber\":%lu,"
	    "\"total\":%lu,\"pageCount\":%lu", size, page, total, pages);
	page_uri(&b, "firstUri", 1, size);
	page_uri(&b, "selfUri", page, size);
	if (page < pages)
		page_uri(&b, "nextUri", page + 1, size);
	if (page > 1)
		page_uri(&b, "previousUri", page - 1, size);
	page_uri(&b, "lastUri", pages ? pages : 1, size);
	fake_buf_adds(&b, "}");
	rp->status = 200;
	fake_reply_body(rp, b.p, b.len);
	fake_buf_free(&b);
	free(match);
}

static void
flow_action(const struct fake_req *req, struct fake_reply *rp,
    const char *corr, const char *action)
{
	struct fake_buf	 b = { 0 };
	const char	*id;
	size_t		 len;
	long		 i;
	char		 op[37];

	if (strcmp(req->method, "POST") != 0) {
		error_reply(rp, corr, 405, "method.not.allowed",
		    "Method not allowed");
		return;
	}
	if (query_param(req->target, "flow", &id, &len) == -1) {
		error_reply(rp, corr, 400, "bad.request",
		    "The flow query parameter is required");
		return;
	}
	if ((i = flow_index(id, len)) == -1) {
		error_reply(rp, corr, 404, "not.found",
		    "The requested flow could not be found.");
		return;
	}
	if (strcmp(action, "publish") == 0) {
		uuid(op);
		fake_buf_printf(&b, "{\"id\":\"%s\",\"complete\":true,"
		    "\"actionName\":\"Publish\",\"actionStatus\":\"SUCCESS\","
		    "\"flow\":", op);
		flow_json(&b, (unsigned long)i);
		fake_buf_adds(&b, "}");
	} else
		flow_json(&b, (unsigned long)i);
	rp->status = 200;
	fake_reply_body(rp, b.p, b.len);
	fake_buf_free(&b);
}

static void
flow_one(const struct fake_req *req, struct fake_reply *rp,
    const char *corr, const char *id, size_t len)
{
	struct fake_buf	 b = { 0 };
	long		 i;

	if ((i = flow_index(id, len)) == -1) {
		error_reply(rp, corr, 404, "not.found",
		    "The requested flow could not be found.");
		return;
	}
	if (strcmp(req->method, "GET") == 0) {
		flow_json(&b, (unsigned long)i);
		rp->status = 200;
		fake_reply_body(rp, b.p, b.len);
		fake_buf_free(&b);
	} else if (strcmp(req->method, "PUT") == 0) {
		rp->status = 200;
		fake_reply_body(rp, req->body, req->body_len);
	} else
		error_reply(rp, corr, 405, "method.not.allowed",
		    "Method not allowed");
}

/* GET /__fake/requests */
static void
dump_requests(struct fake_reply *rp)
{
	struct fake_buf	 b = { 0 };
	struct fake_req	*r;
	size_t		 i, j;

	fake_buf_adds(&b, "[");
	for (i = 0; (r = fake_req_get(st.fake, i)) != NULL; i++) {
		if (i > 0)
			fake_buf_add(&b, ",", 1);
		fake_buf_printf(&b, "{\"seq\":%zu,\"method\":", r->seq);
		fake_buf_json(&b, r->method, strlen(r->method));
		fake_buf_adds(&b, ",\"target\":");
		fake_buf_json(&b, r->target, strlen(r->target));
		fake_buf_adds(&b, ",\"headers\":[");
		for (j = 0; j < r->nhdrs; j++) {
			fake_buf_adds(&b, j > 0 ? ",[" : "[");
			fake_buf_json(&b, r->hdrs[j].name,
			    strlen(r->hdrs[j].name));
			fake_buf_add(&b, ",", 1);
			fake_buf_json(&b, r->hdrs[j].value,
			    strlen(r->hdrs[j].value));
			fake_buf_add(&b, "]", 1);
		}
		fake_buf_printf(&b, "],\"body_len\":%zu,\"body\":",
		    r->body_len);
		if (r->body_len < 64 * 1024 &&
		    fake_utf8_valid(r->body, r->body_len))
			fake_buf_json(&b, (const char *)r->body, r->body_len);
		else
			fake_buf_adds(&b, "null");
		fake_buf_add(&b, "}", 1);
		fake_req_free(r);
	}
	fake_buf_adds(&b, "]");
	rp->status = 200;
	fake_reply_body(rp, b.p, b.len);
	fake_buf_free(&b);
}

static void
control(const struct fake_req *req, struct fake_reply *rp, const char *corr,
    const char *what)
{
	if (strcmp(what, "requests") == 0 && strcmp(req->method, "GET") == 0)
		dump_requests(rp);
	else if (strcmp(what, "reset") == 0 &&
	    strcmp(req->method, "POST") == 0) {
		fake_reset(st.fake);
		clients_free();
		st.requests = st.n429 = st.tokens = 0;
		rp->status = 200;
		fake_reply_printf(rp, "{\"ok\":true}");
	} else if (strcmp(what, "stats") == 0 &&
	    strcmp(req->method, "GET") == 0) {
		rp->status = 200;
		fake_reply_printf(rp, "{\"requests\":%" PRIu64 ",\"429\":%"
		    PRIu64 "}", st.requests, st.n429);
	} else
		error_reply(rp, corr, 404, "not.found",
		    "No such control endpoint");
}

/* fake_handler */
static void
handle(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	char		 corr[37];
	char		*path, *client;
	const char	*rest;
	uint64_t	 wait;
	size_t		 plen;

	uuid(corr);
	json_headers(rp, corr);
	plen = strcspn(req->target, "?");
	path = fake_strndup(req->target, plen);

	if (strncmp(path, "/__fake/", 8) == 0) {
		rp->no_record = 1;
		control(req, rp, corr, path + 8);
		goto out;
	}
	st.requests++;
	rp->delay_ms = st.latency_ms;
	if (st.limit > 0) {
		client = client_of(req);
		wait = rate_check(client ? client : "");
		free(client);
		if (wait > 0) {
			too_many(rp, corr, wait);
			goto out;
		}
	}

	if (strcmp(path, "/oauth/token") == 0)
		oauth_token(req, rp, corr);
	else if (strcmp(path, "/api/v2/flows") == 0) {
		if (strcmp(req->method, "GET") == 0)
			flows_list(req, rp, corr);
		else
			error_reply(rp, corr, 405, "method.not.allowed",
			    "Method not allowed");
	} else if (strncmp(path, "/api/v2/flows/actions/", 22) == 0 &&
	    (strcmp(path + 22, "checkout") == 0 ||
	    strcmp(path + 22, "checkin") == 0 ||
	    strcmp(path + 22, "publish") == 0))
		flow_action(req, rp, corr, path + 22);
	else if (strncmp(path, "/api/v2/flows/", 14) == 0 &&
	    strchr(rest = path + 14, '/') == NULL)
		flow_one(req, rp, corr, rest, strlen(rest));
	else
		error_reply(rp, corr, 404, "not.found",
		    "The requested resource was not found.");
out:
	free(path);
}

static void
usage(void)
{
	fprintf(stderr, "usage: fakeup [--latency-ms N] [--flows N] "
	    "[--limit N --window-s S [--steal K]] [--max-records N]\n");
	exit(2);
}

static unsigned long
num_arg(const char *opt, const char *v, unsigned long min, unsigned long max)
{
	unsigned long	 n;
	char		*end;

	if (v == NULL)
		usage();
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || v[0] == '-' || n < min || n > max) {
		fprintf(stderr, "fakeup: %s: expected %lu..%lu\n", opt, min,
		    max);
		exit(2);
	}
	return n;
}

int
main(int argc, char *argv[])
{
	sigset_t	 set;
	unsigned long	 max_records = 100000;
	int		 i, sig;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = argv[i + 1];

		if (strcmp(o, "--latency-ms") == 0)
			st.latency_ms = (unsigned)num_arg(o, v, 0, 600000);
		else if (strcmp(o, "--flows") == 0)
			st.flows = num_arg(o, v, 0, 10000000);
		else if (strcmp(o, "--limit") == 0)
			st.limit = num_arg(o, v, 1, ULONG_MAX / 60);
		else if (strcmp(o, "--window-s") == 0)
			st.window_s = num_arg(o, v, 1, 86400);
		else if (strcmp(o, "--steal") == 0)
			st.steal = num_arg(o, v, 0, ULONG_MAX / 60);
		else if (strcmp(o, "--max-records") == 0)
			max_records = num_arg(o, v, 0, ULONG_MAX);
		else
			usage();
		i++;
	}
	st.rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^
	    now_ms() ^ 0x9e3779b97f4a7c15ULL;

	/* Block the signals in every thread; the main thread waits for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((st.fake = fake_start(handle, NULL)) == NULL) {
		fprintf(stderr, "fakeup: cannot start the server\n");
		return 1;
	}
	fake_set_max_records(st.fake, max_records);
	printf("port %u\n", (unsigned)fake_port(st.fake));
	fflush(stdout);

	while (sigwait(&set, &sig) != 0)
		;
	fake_stop(st.fake);
	clients_free();
	return 0;
}
