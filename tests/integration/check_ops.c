/*
 * check_ops.c - operating weir, through the real binary: the admin
 * listener (/metrics, /status, /healthz and the page at /), SIGTERM's
 * drain, SIGHUP's reload, configuration from the environment alone, and
 * the log formats and startup lines.
 *
 * Outputs are parsed, not grepped: /metrics by a small parser of the
 * Prometheus text format that also checks the syntax (HELP and TYPE before
 * a family's samples, families not interleaved, no duplicate series,
 * histograms cumulative), /status and JSON log lines with json.c.  Waits
 * poll for a condition (mostly /status); no test sleeps a fixed time.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake.h"
#include "harness.h"
#include "json.h"
#include "tap.h"

static struct fake	*api, *login;
static struct h_weir	 W;
static struct h_weir	 W2 = { .errfd = -1 };	/* a second weir */
static uint16_t		 aport;		/* the admin listener */
static char		 conf_path[256];	/* a test's config file, or "" */

static int64_t
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "2026-01-02T03:04:05.678Z" as epoch ms, or -1. */
static int64_t
iso_ms(const char *s)
{
	struct tm	 tm;
	const char	*p;

	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL ||
	    p[0] != '.' || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]) || !isdigit((unsigned char)p[3]) ||
	    strcmp(p + 4, "Z") != 0)
		return -1;
	return (int64_t)timegm(&tm) * 1000 + atoi(p + 1);
}

/* A scripted upstream: the nth request gets lines[n] (the last repeats). */
struct script {
	const char	*lines[8];	/* "429 Retry-After: 1", "200", ... */
	int		 n;
	int		 next;
};

static void
scripted(const struct fake_req *req, struct fake_reply *rp, void *arg)
{
	struct script	*s = arg;
	const char	*line = s->lines[s->next < s->n ? s->next : s->n - 1];
	const char	*sp, *colon;
	char		 name[64];

	s->next++;
	rp->status = atoi(line);
	if ((sp = strchr(line, ' ')) != NULL &&
	    (colon = strchr(sp + 1, ':')) != NULL) {
		snprintf(name, sizeof(name), "%.*s", (int)(colon - sp - 1),
		    sp + 1);
		fake_reply_header(rp, name, colon + 2);
	}
	fake_reply_header(rp, "Content-Type", "application/json");
	fake_reply_printf(rp, "{\"status\":%d,\"seq\":%zu}", rp->status,
	    req->seq);
}

static void
start(fake_handler h, void *arg, const char *const *args,
    const char *const *env)
{
	api = fake_start(h, arg);
	login = fake_start(NULL, NULL);
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(login);
	h_start_or_abort(&W, fake_port(api), fake_port(login), args, env);
	aport = h_admin_port(&W);
	ck_assert_msg(aport != 0, "no admin listener: %s",
	    h_stderr_contents(&W));
}

static void
teardown(void)
{
	h_stop(&W2);
	h_stop(&W);
	fake_stop(api);
	fake_stop(login);
	api = login = NULL;
	if (conf_path[0] != '\0')
		unlink(conf_path);
	conf_path[0] = '\0';
}

/* Write text to conf_path atomically (a new file renamed over it), so
 * weir never reads half a file. */
static void
write_conf(const char *text)
{
	char	 tmp[300];
	FILE	*f;

	if (conf_path[0] == '\0') {
		const char	*dir = getenv("TMPDIR");
		int		 fd;

		snprintf(conf_path, sizeof(conf_path), "%s/weir-ops-XXXXXX.conf",
		    dir != NULL && *dir != '\0' ? dir : "/tmp");
		ck_assert_int_ne(fd = mkstemps(conf_path, 5), -1);
		close(fd);
	}
	snprintf(tmp, sizeof(tmp), "%s.new", conf_path);
	ck_assert_ptr_nonnull(f = fopen(tmp, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, conf_path), 0);
}

/* GET path from port; the response must be an HTTP answer. */
static void
get(uint16_t port, const char *path, struct h_resp *r)
{
	struct h_req	 q = { .method = "GET", .target = path };

	memset(r, 0, sizeof(*r));
	ck_assert_msg(h_request(port, &q, r) == 0, "GET %s: %s", path,
	    r->err);
}

/* One call for tenant through weir; returns its status. */
static int
call(const char *tenant, const char *target)
{
	char		 hdr[128];
	const char	*hdrs[] = { hdr, NULL };
	struct h_req	 q = { .method = "GET", .target = target,
	    .headers = hdrs, .timeout_ms = 20000 };
	struct h_resp	 r;
	int		 status;

	snprintf(hdr, sizeof(hdr), "X-Weir-Tenant: %s", tenant);
	memset(&r, 0, sizeof(r));
	ck_assert_msg(h_request(W.port, &q, &r) == 0, "call: %s", r.err);
	status = r.status;
	h_resp_free(&r);
	return status;
}

/* A client thread: one call, keeping the whole response. */
struct caller {
	pthread_t	 th;
	const char	*tenant;
	struct h_resp	 r;
	int		 rc;
	uint64_t	 done_ms;
};

static void *
caller_run(void *arg)
{
	struct caller	*c = arg;
	char		 hdr[128];
	const char	*hdrs[] = { hdr, NULL };
	struct h_req	 q = { .method = "GET", .target = "/api/v2/flows",
	    .headers = hdrs, .timeout_ms = 30000 };

	snprintf(hdr, sizeof(hdr), "X-Weir-Tenant: %s", c->tenant);
	c->rc = h_request(W.port, &q, &c->r);
	c->done_ms = h_mono_ms();
	return NULL;
}

static void
callers_start(struct caller *c, int n, const char *tenant)
{
	int	 i;

	memset(c, 0, (size_t)n * sizeof(*c));
	for (i = 0; i < n; i++) {
		c[i].tenant = tenant;
		ck_assert_int_eq(pthread_create(&c[i].th, NULL, caller_run,
		    &c[i]), 0);
	}
}

static void
callers_join(struct caller *c, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		pthread_join(c[i].th, NULL);
}

static void
callers_free(struct caller *c, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		h_resp_free(&c[i].r);
}

/* errno of a TCP connect to 127.0.0.1:port, 0 if it connected. */
static int
connect_errno(uint16_t port)
{
	int	 s;

	if ((s = h_connect_loopback(port)) == -1)
		return errno;
	close(s);
	return 0;
}

/* Has weir exited?  Leaves it for h_stop() to reap (WNOWAIT). */
static int
weir_exited(void)
{
	siginfo_t	 si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)W.pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1)
		return 1;
	return si.si_pid != 0;
}

/*
 * JSON through weir's reader (json.c): a document, a walk to a member by
 * path, and typed reads of a token.
 */
struct jdoc {
	struct json	*j;
};

static void
jdoc_free(struct jdoc *d)
{
	json_free(d->j);
	d->j = NULL;
}

/* Is js (trailing newline aside) one JSON object?  0 or -1; on 0 the
 * caller frees d with jdoc_free, and js outlives d. */
static int
jdoc_parse(struct jdoc *d, const char *js, size_t len)
{
	const char	*p;
	size_t		 n;

	while (len > 0 && isspace((unsigned char)js[len - 1]))
		len--;		/* a trailing newline */
	if ((d->j = json_parse(js, len, 4096)) == NULL)
		return -1;
	if (json_type(d->j, 0) == JSON_OBJECT &&
	    (p = json_text(d->j, 0, &n)) == js && n == len)
		return 0;
	jdoc_free(d);
	return -1;
}

/* The token of the member at the path of keys (NULL-terminated), or -1. */
static int
jfind(const struct jdoc *d, ...)
{
	va_list		 ap;
	const char	*key;
	int		 i = 0;

	va_start(ap, d);
	while (i != -1 && (key = va_arg(ap, const char *)) != NULL)
		i = json_get(d->j, i, key);
	va_end(ap);
	return i;
}

/* A number, true (1) or false (0); NAN for null, absent or a string. */
static double
jnum(const struct jdoc *d, int i)
{
	const char	*s;
	char		 num[64], *end;
	size_t		 len;
	double		 v;

	if (json_type(d->j, i) != JSON_PRIMITIVE)
		return NAN;
	s = json_text(d->j, i, &len);
	if (*s == 't')
		return 1;
	if (*s == 'f')
		return 0;
	if (*s == 'n' || len >= sizeof(num))
		return NAN;
	memcpy(num, s, len);
	num[len] = '\0';
	v = strtod(num, &end);
	return *end == '\0' ? v : NAN;
}

/* A string's raw text (escapes as written), "" if it is not a string. */
static const char *
jstr(const struct jdoc *d, int i, char *out, size_t len)
{
	const char	*s;
	size_t		 n;

	out[0] = '\0';
	if (json_type(d->j, i) == JSON_STRING) {
		s = json_text(d->j, i, &n);
		snprintf(out, len, "%.*s", (int)n, s);
	}
	return out;
}

static int
jis_null(const struct jdoc *d, int i)
{
	const char	*s;
	size_t		 n;

	return json_type(d->j, i) == JSON_PRIMITIVE &&
	    (s = json_text(d->j, i, &n)) != NULL && *s == 'n';
}

/* /status, fetched and parsed. */
struct status {
	struct h_resp	 r;
	struct jdoc	 d;
};

static void
status_get(struct status *s)
{
	get(aport, "/status", &s->r);
	ck_assert_int_eq(s->r.status, 200);
	ck_assert_str_eq(h_resp_header(&s->r, "Content-Type"),
	    "application/json");
	ck_assert_msg(jdoc_parse(&s->d, (char *)s->r.body, s->r.body_len) == 0,
	    "/status is not one JSON object: %s", s->r.body);
}

static void
status_free(struct status *s)
{
	jdoc_free(&s->d);
	h_resp_free(&s->r);
}

/* tenants.<tenant>.<key>[.<sub>] as a number (NAN: absent or null). */
static double
tnum(const struct status *s, const char *tenant, const char *key,
    const char *sub)
{
	return jnum(&s->d, jfind(&s->d, "tenants", tenant, key, sub,
	    (const char *)NULL));
}

/* Calls of tenant weir has accepted: waiting, under way or answered. */
static double
accepted(const struct status *s, const char *tenant)
{
	return tnum(s, tenant, "queued", NULL) +
	    tnum(s, tenant, "inflight", NULL) +
	    tnum(s, tenant, "totals", "requests");
}

/* Poll /status until tenant's key[.sub] >= min; fail after timeout_ms. */
static void
wait_tnum(const char *tenant, const char *key, const char *sub, double min,
    unsigned timeout_ms)
{
	uint64_t	 end = h_mono_ms() + timeout_ms;
	struct status	 s;
	double		 v;

	for (;;) {
		status_get(&s);
		v = tnum(&s, tenant, key, sub);
		if (v >= min) {
			status_free(&s);
			return;
		}
		if (h_mono_ms() >= end)
			ck_abort_msg("waited %u ms for tenants.%s.%s%s%s >= %g; "
			    "/status: %s", timeout_ms, tenant, key,
			    sub != NULL ? "." : "", sub != NULL ? sub : "", min,
			    s.r.body);
		status_free(&s);
		h_nap_ms(10);
	}
}

/* Poll /status until n calls of tenant are accepted and at least queued
 * of them wait in its queue. */
static void
wait_queued(const char *tenant, double n, double queued)
{
	uint64_t	 end = h_mono_ms() + 5000;
	struct status	 s;

	for (;;) {
		status_get(&s);
		if (accepted(&s, tenant) >= n &&
		    tnum(&s, tenant, "queued", NULL) >= queued) {
			status_free(&s);
			return;
		}
		if (h_mono_ms() >= end)
			ck_abort_msg("waited for %g calls of %s, %g queued: %s",
			    n, tenant, queued, s.r.body);
		status_free(&s);
		h_nap_ms(10);
	}
}

/*
 * The Prometheus text format (version 0.0.4), parsed and checked:
 *	# HELP name text
 *	# TYPE name counter|gauge|histogram|summary|untyped
 *	name[{label="value",...}] value [timestamp]
 * Every family has one HELP and one TYPE before its samples, a family's
 * samples are not interleaved with another's, no series appears twice,
 * counters are >= 0 and named *_total, histogram buckets are cumulative
 * with le increasing up to +Inf, which equals _count.  A family may have
 * HELP and TYPE and no samples.
 */
struct psample {
	char	 name[128];
	char	 labels[256];	/* as written, without the braces */
	double	 value;
};

struct pfam {
	char	 name[128];
	char	 type[16];
	int	 help, typed, sampled, closed;
};

struct prom {
	struct psample	 s[1024];
	size_t		 n;
	struct pfam	 f[64];
	size_t		 nf;
	char		 err[2048];
	int		 nerr;
};

static void
perr(struct prom *p, unsigned lineno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
perr(struct prom *p, unsigned lineno, const char *fmt, ...)
{
	size_t	 len = strlen(p->err);
	va_list	 ap;

	p->nerr++;
	if (len + 2 >= sizeof(p->err))
		return;
	len += (size_t)snprintf(p->err + len, sizeof(p->err) - len,
	    "line %u: ", lineno);
	if (len >= sizeof(p->err))
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + len, sizeof(p->err) - len, fmt, ap);
	va_end(ap);
	len = strlen(p->err);
	snprintf(p->err + len, sizeof(p->err) - len, "; ");
}

static size_t
name_len(const char *s, int colons)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!(isalpha((unsigned char)s[i]) || s[i] == '_' ||
		    (colons && s[i] == ':') ||
		    (i > 0 && isdigit((unsigned char)s[i]))))
			break;
	return i;
}

static struct pfam *
pfam_get(struct prom *p, const char *name, size_t len, int create)
{
	size_t	 i;

	for (i = 0; i < p->nf; i++)
		if (strlen(p->f[i].name) == len &&
		    memcmp(p->f[i].name, name, len) == 0)
			return &p->f[i];
	if (!create || p->nf == sizeof(p->f) / sizeof(p->f[0]) ||
	    len >= sizeof(p->f[0].name))
		return NULL;
	memset(&p->f[p->nf], 0, sizeof(p->f[0]));
	memcpy(p->f[p->nf].name, name, len);
	return &p->f[p->nf++];
}

/* The family a sample belongs to: its own, or a histogram's. */
static struct pfam *
pfam_of(struct prom *p, const char *name)
{
	static const char *const suffix[] = { "_bucket", "_sum", "_count" };
	struct pfam	*f;
	size_t		 i, n = strlen(name), sl;

	for (i = 0; i < 3; i++) {
		sl = strlen(suffix[i]);
		if (n > sl && strcmp(name + n - sl, suffix[i]) == 0 &&
		    (f = pfam_get(p, name, n - sl, 0)) != NULL &&
		    (strcmp(f->type, "histogram") == 0 ||
		    (strcmp(f->type, "summary") == 0 && i > 0)))
			return f;
	}
	return pfam_get(p, name, n, 0);
}

/* label="value",... up to the closing brace; *sp is past the '{'. */
static int
parse_labels(struct prom *p, unsigned lineno, const char **sp)
{
	const char	*s = *sp;
	char		 seen[8][64];
	size_t		 n, nseen = 0, k;

	while (*s != '}') {
		if ((n = name_len(s, 0)) == 0 || s[n] != '=' || s[n + 1] != '"') {
			perr(p, lineno, "bad label at '%.20s'", s);
			return -1;
		}
		for (k = 0; k < nseen; k++)
			if (strlen(seen[k]) == n && memcmp(seen[k], s, n) == 0)
				perr(p, lineno, "label %.*s twice", (int)n, s);
		if (nseen < 8 && n < sizeof(seen[0])) {
			memcpy(seen[nseen], s, n);
			seen[nseen++][n] = '\0';
		}
		for (s += n + 2; *s != '"'; s++) {
			if (*s == '\0') {
				perr(p, lineno, "unterminated label value");
				return -1;
			}
			if (*s == '\\' && s[1] != '\\' && s[1] != '"' &&
			    s[1] != 'n') {
				perr(p, lineno, "bad escape in label value");
				return -1;
			}
			if (*s == '\\')
				s++;
		}
		s++;
		if (*s == ',')
			s++;
		else if (*s != '}') {
			perr(p, lineno, "expected ',' or '}' at '%.20s'", s);
			return -1;
		}
	}
	*sp = s + 1;
	return 0;
}

static void
parse_sample(struct prom *p, unsigned lineno, const char *line)
{
	struct psample	*ps;
	struct pfam	*f;
	const char	*s = line, *lstart = NULL, *lend = NULL;
	char		*end;
	size_t		 n, i;

	if ((n = name_len(s, 1)) == 0) {
		perr(p, lineno, "no metric name: '%.40s'", line);
		return;
	}
	if (p->n == sizeof(p->s) / sizeof(p->s[0]) || n >= sizeof(ps->name)) {
		perr(p, lineno, "too many samples or too long a name");
		return;
	}
	ps = &p->s[p->n];
	memset(ps, 0, sizeof(*ps));
	memcpy(ps->name, s, n);
	s += n;
	if (*s == '{') {
		lstart = s + 1;
		s++;
		if (parse_labels(p, lineno, &s) == -1)
			return;
		lend = s - 1;
		snprintf(ps->labels, sizeof(ps->labels), "%.*s",
		    (int)(lend - lstart), lstart);
	}
	if (*s != ' ') {
		perr(p, lineno, "expected a space before the value");
		return;
	}
	s++;
	errno = 0;
	ps->value = strtod(s, &end);
	if (end == s || errno != 0 || (*end != '\0' && *end != ' ')) {
		perr(p, lineno, "bad value '%s'", s);
		return;
	}
	if (*end == ' ') {		/* a timestamp: an integer */
		for (s = end + 1, i = 0; isdigit((unsigned char)s[i]) ||
		    (i == 0 && s[i] == '-'); i++)
			;
		if (i == 0 || s[i] != '\0')
			perr(p, lineno, "bad timestamp '%s'", s);
	}

	if ((f = pfam_of(p, ps->name)) == NULL || !f->help || !f->typed) {
		perr(p, lineno, "%s: no HELP and TYPE before it", ps->name);
		return;
	}
	if (f->closed)
		perr(p, lineno, "%s: family %s interleaved with another",
		    ps->name, f->name);
	for (i = 0; i < p->nf; i++)
		if (&p->f[i] != f && p->f[i].sampled)
			p->f[i].closed = 1;
	f->sampled = 1;
	if (strcmp(f->type, "counter") == 0 && !(ps->value >= 0))
		perr(p, lineno, "counter %s is %g", ps->name, ps->value);
	for (i = 0; i < p->n; i++)
		if (strcmp(p->s[i].name, ps->name) == 0 &&
		    strcmp(p->s[i].labels, ps->labels) == 0)
			perr(p, lineno, "duplicate series %s{%s}", ps->name,
			    ps->labels);
	p->n++;
}

static void
check_histograms(struct prom *p)
{
	struct pfam	*f;
	char		 bucket[160], count[160];
	double		 le, last_le, last_v;
	size_t		 i, j, k, nb, klen;
	const char	*l, *key;

	for (i = 0; i < p->nf; i++) {
		f = &p->f[i];
		if (strcmp(f->type, "histogram") != 0)
			continue;
		snprintf(bucket, sizeof(bucket), "%s_bucket", f->name);
		snprintf(count, sizeof(count), "%s_count", f->name);
		/* one series per label set (priority="high", ...): its
		 * buckets are the lines whose labels before le= match */
		for (j = 0, nb = 0; j < p->n; j++) {
			if (strcmp(p->s[j].name, bucket) != 0)
				continue;
			if ((l = strstr(p->s[j].labels, "le=\"")) == NULL) {
				perr(p, 0, "%s without le", bucket);
				continue;
			}
			key = p->s[j].labels;
			klen = (size_t)(l - key);
			if (nb++ > 0 && j > 0 &&
			    strcmp(p->s[j - 1].name, bucket) == 0 &&
			    strncmp(p->s[j - 1].labels, key, klen) == 0)
				continue;	/* not the series' first bucket */
			last_le = -INFINITY;
			last_v = 0;
			for (k = j; k < p->n &&
			    strcmp(p->s[k].name, bucket) == 0 &&
			    strncmp(p->s[k].labels, key, klen) == 0; k++) {
				le = strtod(p->s[k].labels + klen + 4, NULL);
				if (!(le > last_le))
					perr(p, 0, "%s: le %g after %g", bucket,
					    le, last_le);
				if (p->s[k].value < last_v)
					perr(p, 0, "%s: not cumulative at le "
					    "%g", bucket, le);
				last_le = le;
				last_v = p->s[k].value;
			}
			if (!isinf(last_le))
				perr(p, 0, "%s: no le=\"+Inf\" bucket",
				    f->name);
			for (k = 0; k < p->n; k++)
				if (strcmp(p->s[k].name, count) == 0 &&
				    strlen(p->s[k].labels) + (klen > 0) ==
				    klen && strncmp(p->s[k].labels, key,
				    klen > 0 ? klen - 1 : 0) == 0)
					break;
			if (k == p->n || !(last_v == p->s[k].value))
				perr(p, 0, "%s{%.*s}: +Inf bucket %g but no "
				    "such _count", f->name, (int)klen, key,
				    last_v);
		}
		/* a family may have no series at all (the Redis rows
		 * without redis), but not a _count without buckets */
		for (k = 0; nb == 0 && k < p->n; k++)
			if (strcmp(p->s[k].name, count) == 0)
				perr(p, 0, "%s: no le=\"+Inf\" bucket",
				    f->name);
	}
}

static void
prom_parse(struct prom *p, const char *text)
{
	static const char *const types[] = { "counter", "gauge", "histogram",
	    "summary", "untyped" };
	const char	*nl;
	char		 line[1024];
	unsigned	 lineno = 0;
	struct pfam	*f;
	size_t		 n, i;

	memset(p, 0, sizeof(*p));
	for (; *text != '\0'; text = nl + 1) {
		lineno++;
		if ((nl = strchr(text, '\n')) == NULL) {
			perr(p, lineno, "no newline at the end");
			break;
		}
		snprintf(line, sizeof(line), "%.*s", (int)(nl - text), text);
		if (line[0] == '\0')
			continue;
		if (strncmp(line, "# HELP ", 7) == 0 ||
		    strncmp(line, "# TYPE ", 7) == 0) {
			if ((n = name_len(line + 7, 1)) == 0 ||
			    line[7 + n] != ' ' || line[8 + n] == '\0') {
				perr(p, lineno, "bad '%s'", line);
				continue;
			}
			if ((f = pfam_get(p, line + 7, n, 1)) == NULL) {
				perr(p, lineno, "too many families");
				continue;
			}
			if (f->sampled)
				perr(p, lineno, "%s after its samples", line);
			if (line[2] == 'H') {
				if (f->help++)
					perr(p, lineno, "second HELP");
				continue;
			}
			if (f->typed++)
				perr(p, lineno, "second TYPE");
			snprintf(f->type, sizeof(f->type), "%s", line + 8 + n);
			for (i = 0; i < 5; i++)
				if (strcmp(f->type, types[i]) == 0)
					break;
			if (i == 5)
				perr(p, lineno, "unknown type %s", f->type);
			if (strcmp(f->type, "counter") == 0 &&
			    (n < 6 || strncmp(f->name + n - 6, "_total", 6) != 0))
				perr(p, lineno, "counter %s not *_total",
				    f->name);
			continue;
		}
		if (line[0] == '#')
			continue;	/* a comment */
		parse_sample(p, lineno, line);
	}
	check_histograms(p);
}

/* The value of name{labels}, or NAN if there is no such series. */
static double
prom_get(const struct prom *p, const char *name, const char *labels)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->s[i].name, name) == 0 &&
		    strcmp(p->s[i].labels, labels) == 0)
			return p->s[i].value;
	return NAN;
}

/* The sum over every series of name. */
static double
prom_sum(const struct prom *p, const char *name)
{
	double	 sum = 0;
	size_t	 i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->s[i].name, name) == 0)
			sum += p->s[i].value;
	return sum;
}

/* GET /metrics, parse it, and insist that it is well-formed. */
static void
metrics_get(struct prom *p)
{
	struct h_resp	 r;

	get(aport, "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "Content-Type"),
	    "text/plain; version=0.0.4; charset=utf-8");
	prom_parse(p, (char *)r.body);
	ck_assert_msg(p->nerr == 0, "/metrics: %d errors: %s\n%s", p->nerr,
	    p->err, r.body);
	h_resp_free(&r);
}

#define ck_metric(p, name, labels, want) do {				\
	double	 v_ = prom_get((p), (name), (labels));			\
	ck_assert_msg(v_ == (double)(want), "%s{%s} is %g, want %g",	\
	    (name), (labels), v_, (double)(want));			\
} while (0)

START_TEST(metrics_after_scripted_traffic)
{
	static struct script s = { { "200", "200", "200",
	    "429 Retry-After: 1", "200" }, 5, 0 };
	static const char *const env[] = { "WEIR_RATE=50/s", "WEIR_BURST=50",
	    NULL };
	const char	*hdrs[] = { "X-Weir-Tenant: b", NULL };
	struct h_req	 q = { .method = "GET", .target = "/api/v2/users/me",
	    .headers = hdrs };
	struct h_resp	 r;
	static struct prom p;
	int		 i;
	size_t		 k;
	double		 now_s;

	start(scripted, &s, NULL, env);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(call("a", "/api/v2/flows"), 200);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Tenant"), "b");
	ck_assert_str_eq(h_resp_header(&r, "X-Weir-Attempts"), "2");
	ck_assert_int_ge(atol(h_resp_header(&r, "X-Weir-Queued-Ms")), 900);
	h_resp_free(&r);
	ck_assert_uint_eq(fake_nreqs(api), 5);

	metrics_get(&p);
	/* what the clients got */
	ck_metric(&p, "weir_requests_total", "tenant=\"a\",code=\"200\"", 3);
	ck_metric(&p, "weir_requests_total", "tenant=\"b\",code=\"200\"", 1);
	ck_assert(prom_sum(&p, "weir_requests_total") == 4);
	/* what the upstream was sent, the 429 included */
	ck_metric(&p, "weir_upstream_requests_total",
	    "tenant=\"a\",code=\"200\"", 3);
	ck_metric(&p, "weir_upstream_requests_total",
	    "tenant=\"b\",code=\"429\"", 1);
	ck_metric(&p, "weir_upstream_requests_total",
	    "tenant=\"b\",code=\"200\"", 1);
	ck_assert(prom_sum(&p, "weir_upstream_requests_total") == 5);
	ck_metric(&p, "weir_429_absorbed_total", "tenant=\"a\"", 0);
	ck_metric(&p, "weir_429_absorbed_total", "tenant=\"b\"", 1);
	ck_metric(&p, "weir_retries_total", "tenant=\"b\",reason=\"429\"", 1);
	ck_metric(&p, "weir_retries_total", "tenant=\"b\",reason=\"5xx\"", 0);
	ck_metric(&p, "weir_retries_total",
	    "tenant=\"a\",reason=\"network\"", 0);
	/* gauges, after the traffic */
	ck_metric(&p, "weir_queue_depth", "tenant=\"a\"", 0);
	ck_metric(&p, "weir_inflight", "tenant=\"b\"", 0);
	ck_metric(&p, "weir_tenant_rate", "tenant=\"a\"", 50);
	ck_metric(&p, "weir_tenant_paused", "tenant=\"a\"", 0);
	ck_metric(&p, "weir_draining", "", 0);
	ck_metric(&p, "weir_queued", "", 0);
	ck_metric(&p, "weir_tenants", "", 2);
	/* no "other" with two tenants */
	ck_assert(isnan(prom_get(&p, "weir_429_absorbed_total",
	    "tenant=\"other\"")));
	/* histograms: one observation per attempt; the retry waited its
	 * Retry-After in the queue */
	ck_metric(&p, "weir_upstream_duration_seconds_count", "", 5);
	ck_metric(&p, "weir_upstream_duration_seconds_bucket", "le=\"+Inf\"",
	    5);
	ck_metric(&p, "weir_queue_wait_seconds_count", "", 5);
	ck_assert(prom_get(&p, "weir_queue_wait_seconds_sum", "") >= 0.9);
	ck_assert(prom_get(&p, "weir_queue_wait_seconds_sum", "") < 5);
	ck_assert(prom_get(&p, "weir_queue_wait_seconds_bucket",
	    "le=\"0.5\"") == 4);
	ck_assert(prom_get(&p, "weir_upstream_duration_seconds_sum", "") < 5);
	/* process gauges */
	ck_assert(prom_get(&p, "process_resident_memory_bytes", "") > 1e5);
	ck_assert(prom_get(&p, "process_open_fds", "") >= 3);
	ck_assert(prom_get(&p, "process_cpu_seconds_total", "") >= 0);
	now_s = (double)wall_ms() / 1000.0;
	ck_assert(fabs(prom_get(&p, "process_start_time_seconds", "") -
	    now_s) < 60);
	/* every family the issue names is there, typed */
	{
		static const char *const fam[][2] = {
			{ "weir_requests_total", "counter" },
			{ "weir_upstream_requests_total", "counter" },
			{ "weir_429_absorbed_total", "counter" },
			{ "weir_retries_total", "counter" },
			{ "weir_queue_depth", "gauge" },
			{ "weir_inflight", "gauge" },
			{ "weir_tenant_rate", "gauge" },
			{ "weir_tenant_paused", "gauge" },
			{ "weir_queue_wait_seconds", "histogram" },
			{ "weir_upstream_duration_seconds", "histogram" },
			{ "process_cpu_seconds_total", "counter" },
			{ "process_resident_memory_bytes", "gauge" },
		};
		struct pfam *f;

		for (k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
			f = pfam_get(&p, fam[k][0], strlen(fam[k][0]), 0);
			ck_assert_msg(f != NULL, "no family %s", fam[k][0]);
			ck_assert_str_eq(f->type, fam[k][1]);
		}
	}
}
END_TEST

START_TEST(metrics_tenant_labels_are_bounded)
{
	static const char *const env[] = { "WEIR_METRICS_TENANTS=2",
	    "WEIR_RATE=100/s", "WEIR_BURST=100", "WEIR_LOG_LEVEL=warn", NULL };
	static struct prom p;
	struct status	 st;
	char		 name[8];
	const char	*l, *e;
	size_t		 i;
	int		 t, k;

	start(fake_echo, NULL, NULL, env);
	/* t1 5 calls, t2 4, ... t5 1 */
	for (t = 1; t <= 5; t++)
		for (k = 0; k < 6 - t; k++) {
			snprintf(name, sizeof(name), "t%d", t);
			ck_assert_int_eq(call(name, "/api/v2/flows"), 200);
		}
	metrics_get(&p);
	ck_metric(&p, "weir_requests_total", "tenant=\"t1\",code=\"200\"", 5);
	ck_metric(&p, "weir_requests_total", "tenant=\"t2\",code=\"200\"", 4);
	ck_metric(&p, "weir_requests_total",
	    "tenant=\"other\",code=\"200\"", 3 + 2 + 1);
	ck_metric(&p, "weir_upstream_requests_total",
	    "tenant=\"other\",code=\"200\"", 6);
	ck_metric(&p, "weir_429_absorbed_total", "tenant=\"other\"", 0);
	ck_metric(&p, "weir_queue_depth", "tenant=\"other\"", 0);
	/* the paced rates of the folded tenants add up */
	ck_metric(&p, "weir_tenant_rate", "tenant=\"other\"", 300);
	ck_metric(&p, "weir_tenant_rate", "tenant=\"t1\"", 100);
	/* no series names t3, t4 or t5: only t1, t2 and other */
	for (i = 0; i < p.n; i++) {
		if ((l = strstr(p.s[i].labels, "tenant=\"")) == NULL)
			continue;
		l += 8;
		e = strchr(l, '"');
		ck_assert_msg((e - l == 2 && (strncmp(l, "t1", 2) == 0 ||
		    strncmp(l, "t2", 2) == 0)) || (e - l == 5 &&
		    strncmp(l, "other", 5) == 0), "%s{%s}: a tenant label "
		    "past metrics_tenants", p.s[i].name, p.s[i].labels);
	}
	/* /status is not bounded: every tenant, with its own totals */
	status_get(&st);
	for (t = 1; t <= 5; t++) {
		snprintf(name, sizeof(name), "t%d", t);
		ck_assert(tnum(&st, name, "totals", "requests") == 6 - t);
	}
	status_free(&st);
}
END_TEST

START_TEST(status_after_a_429)
{
	static struct script s = { { "429 Retry-After: 5", "200" }, 2, 0 };
	static const char *const env[] = { "WEIR_RATE=10/s", "WEIR_BURST=5",
	    "WEIR_DRAIN_TIMEOUT=0s", NULL };
	struct caller	 c;
	struct status	 st;
	static struct prom p;
	char		 buf[128], want[64];
	int64_t		 now, until, last;
	double		 paused_ms;
	int		 i;

	start(scripted, &s, NULL, env);
	callers_start(&c, 1, "p");
	wait_tnum("p", "paused", NULL, 1, 5000);
	now = wall_ms();
	status_get(&st);
	/* the whole */
	ck_assert_str_ne(jstr(&st.d, jfind(&st.d, "version", NULL), buf,
	    sizeof(buf)), "");
	ck_assert(jnum(&st.d, jfind(&st.d, "draining", NULL)) == 0);
	ck_assert(jnum(&st.d, jfind(&st.d, "uptime_s", NULL)) >= 0);
	snprintf(want, sizeof(want), "127.0.0.1:%u", (unsigned)W.port);
	ck_assert_str_eq(jstr(&st.d, jfind(&st.d, "listen", NULL), buf,
	    sizeof(buf)), want);
	snprintf(want, sizeof(want), "http://127.0.0.1:%u",
	    (unsigned)fake_port(api));
	ck_assert_str_eq(jstr(&st.d, jfind(&st.d, "upstream", NULL), buf,
	    sizeof(buf)), want);
	ck_assert(jnum(&st.d, jfind(&st.d, "queued", NULL)) == 1);
	ck_assert(jnum(&st.d, jfind(&st.d, "inflight", NULL)) == 0);
	ck_assert(jnum(&st.d, jfind(&st.d, "pending", NULL)) == 1);
	/* the tenant: its call waits out the pause at the head of its
	 * queue */
	ck_assert(tnum(&st, "p", "queued", NULL) == 1);
	ck_assert(tnum(&st, "p", "queued_by_priority", "normal") == 1);
	ck_assert(tnum(&st, "p", "queued_by_priority", "high") == 0);
	ck_assert(jnum(&st.d, jfind(&st.d, "queued_by_priority", "normal",
	    NULL)) == 1);
	ck_assert(tnum(&st, "p", "inflight", NULL) == 0);
	ck_assert(tnum(&st, "p", "rate_configured", NULL) == 10);
	ck_assert(tnum(&st, "p", "paused", NULL) == 1);
	paused_ms = tnum(&st, "p", "paused_ms", NULL);
	ck_assert_msg(paused_ms > 2000 && paused_ms <= 5000, "paused_ms %g",
	    paused_ms);
	until = iso_ms(jstr(&st.d, jfind(&st.d, "tenants", "p", "paused_until",
	    NULL), buf, sizeof(buf)));
	ck_assert_msg(until > 0 && llabs(until - (now + (int64_t)paused_ms)) <
	    1500, "paused_until %s, now %lld + %g", buf, (long long)now,
	    paused_ms);
	last = iso_ms(jstr(&st.d, jfind(&st.d, "tenants", "p", "last_429",
	    NULL), buf, sizeof(buf)));
	ck_assert_msg(last > 0 && llabs(now - last) < 3000, "last_429 %s",
	    buf);
	ck_assert(tnum(&st, "p", "totals", "requests") == 0);
	ck_assert(tnum(&st, "p", "totals", "upstream") == 1);
	ck_assert(tnum(&st, "p", "totals", "throttled") == 1);
	ck_assert(tnum(&st, "p", "totals", "absorbed_429") == 1);
	ck_assert(tnum(&st, "p", "totals", "retries") == 1);
	ck_assert(tnum(&st, "p", "totals", "errors") == 0);
	status_free(&st);
	/* /metrics says the same */
	metrics_get(&p);
	ck_metric(&p, "weir_tenant_paused", "tenant=\"p\"", 1);
	ck_metric(&p, "weir_queue_depth", "tenant=\"p\"", 1);
	ck_metric(&p, "weir_429_absorbed_total", "tenant=\"p\"", 1);
	ck_metric(&p, "weir_pending", "", 1);

	/* A quiet tenant: rate_learned and last_429 null, not paused. */
	ck_assert_int_eq(call("q", "/api/v2/x"), 200);
	status_get(&st);
	ck_assert(jis_null(&st.d, jfind(&st.d, "tenants", "q", "last_429",
	    NULL)));
	ck_assert(jis_null(&st.d, jfind(&st.d, "tenants", "q",
	    "paused_until", NULL)));
	ck_assert(tnum(&st, "q", "paused", NULL) == 0);
	ck_assert(tnum(&st, "q", "totals", "requests") == 1);
	status_free(&st);

	/* SIGTERM with drain_timeout 0: the waiting call is answered at
	 * once, and weir exits 0. */
	ck_assert_int_eq(kill(W.pid, SIGTERM), 0);
	callers_join(&c, 1);
	ck_assert_int_eq(c.rc, 0);
	ck_assert_int_eq(c.r.status, 503);
	ck_assert_int_eq(h_json_get((char *)c.r.body, c.r.body_len, "code",
	    buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "weir.shutting_down");
	callers_free(&c, 1);
	i = h_stop(&W);
	ck_assert(WIFEXITED(i) && WEXITSTATUS(i) == 0);
}
END_TEST

START_TEST(admin_endpoints)
{
	static const char *const env[] = { NULL };
	struct h_req	 post = { .method = "POST", .target = "/status",
	    .body = "x", .body_len = 1, .has_body = 1 };
	struct h_resp	 r;
	char		 code[64];

	start(fake_echo, NULL, NULL, env);
	get(aport, "/healthz", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq((char *)r.body, "ok\n");
	ck_assert_str_eq(h_resp_header(&r, "Content-Type"),
	    "text/plain; charset=utf-8");
	h_resp_free(&r);

	/* the page: small, self-contained, drawing from /status */
	get(aport, "/", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_resp_header(&r, "Content-Type"),
	    "text/html; charset=utf-8");
	ck_assert_uint_lt(r.body_len, 15 * 1024);
	ck_assert_ptr_nonnull(strstr((char *)r.body, "<svg id=\"chart-queue\""));
	ck_assert_ptr_nonnull(strstr((char *)r.body, "<svg id=\"chart-rate\""));
	ck_assert_ptr_nonnull(strstr((char *)r.body, "fetch('status'"));
	ck_assert_ptr_null(strstr((char *)r.body, "src="));
	ck_assert_ptr_null(strstr((char *)r.body, "href=\"http"));
	ck_assert_ptr_null(strstr((char *)r.body, "href=\"//"));
	h_resp_free(&r);

	get(aport, "/nope", &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_int_eq(h_json_get((char *)r.body, r.body_len, "code", code,
	    sizeof(code)), 3);
	ck_assert_str_eq(code, "weir.not_found");
	h_resp_free(&r);

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(aport, &post, &r), 0);
	ck_assert_int_eq(r.status, 405);
	ck_assert_int_eq(h_json_get((char *)r.body, r.body_len, "code", code,
	    sizeof(code)), 3);
	ck_assert_str_eq(code, "weir.method_not_allowed");
	h_resp_free(&r);

	/* The admin paths are not the proxy's: on the proxy port /healthz is
	 * forwarded like any call. */
	get(W.port, "/healthz", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr((char *)r.body,
	    "\"target\":\"/healthz\""));
	h_resp_free(&r);
}
END_TEST

/* Calls in the drain test: a few go, the rest are left at its end. */
#define NDRAIN	12

START_TEST(sigterm_drains_queued_calls)
{
	static const char *const env[] = { "WEIR_RATE=1/s", "WEIR_BURST=1",
	    "WEIR_DRAIN_TIMEOUT=2s", NULL };
	struct caller	 c[NDRAIN];
	struct status	 st;
	struct h_resp	 r;
	char		 code[64], msg[256];
	uint64_t	 t_term, t_exit, end;
	int		 i, n200 = 0, n503 = 0, nsent503 = 0, e, status;

	start(fake_echo, NULL, NULL, env);
	get(aport, "/healthz", &r);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	callers_start(c, NDRAIN, "d");
	/* all accepted, most of them waiting for a token */
	wait_queued("d", NDRAIN, NDRAIN - 2);

	t_term = h_mono_ms();
	ck_assert_int_eq(kill(W.pid, SIGTERM), 0);
	/* The admin listener stays up through the drain and says so. */
	for (end = t_term + 1500;; h_nap_ms(5)) {
		get(aport, "/healthz", &r);
		if (r.status == 503)
			break;
		ck_assert_int_eq(r.status, 200);
		h_resp_free(&r);
		ck_assert_msg(h_mono_ms() < end, "/healthz never said 503");
	}
	ck_assert_str_eq((char *)r.body, "draining\n");
	h_resp_free(&r);
	status_get(&st);
	ck_assert(jnum(&st.d, jfind(&st.d, "draining", NULL)) == 1);
	ck_assert(tnum(&st, "d", "queued", NULL) >= 1);
	status_free(&st);
	/* The proxy listener is closed: a new client is refused, not
	 * queued. */
	e = connect_errno(W.port);
	ck_assert_msg(e == ECONNREFUSED, "connect after SIGTERM: %s",
	    e == 0 ? "connected" : strerror(e));

	/* weir exits by itself, at the end of drain_timeout */
	for (end = t_term + 6000; !weir_exited(); h_nap_ms(5))
		ck_assert_msg(h_mono_ms() < end, "weir still running 6 s after "
		    "SIGTERM");
	t_exit = h_mono_ms();
	ck_assert_msg(t_exit - t_term >= 1500 && t_exit - t_term < 4500,
	    "exited %llu ms after SIGTERM, drain_timeout 2 s",
	    (unsigned long long)(t_exit - t_term));
	status = h_stop(&W);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "exit status 0x%x", status);

	/* Every call got an answer: 200 if it went within the drain, else
	 * weir's own 503. */
	callers_join(c, NDRAIN);
	for (i = 0; i < NDRAIN; i++) {
		ck_assert_msg(c[i].rc == 0, "call %d got no answer: %s", i,
		    c[i].r.err);
		if (c[i].r.status == 200) {
			n200++;
			ck_assert_ptr_nonnull(strstr((char *)c[i].r.body,
			    "\"method\":\"GET\""));
			continue;
		}
		ck_assert_int_eq(c[i].r.status, 503);
		n503++;
		ck_assert_int_eq(h_json_get((char *)c[i].r.body,
		    c[i].r.body_len, "code", code, sizeof(code)), 3);
		ck_assert_str_eq(code, "weir.shutting_down");
		ck_assert_int_eq(h_json_get((char *)c[i].r.body,
		    c[i].r.body_len, "status", code, sizeof(code)), 4);
		ck_assert_str_eq(code, "503");
		ck_assert_int_eq(h_json_get((char *)c[i].r.body,
		    c[i].r.body_len, "message", msg, sizeof(msg)), 3);
		ck_assert_str_eq(h_resp_header(&c[i].r, "Content-Type"),
		    "application/json");
		if (strcmp(h_resp_header(&c[i].r, "X-Weir-Attempts"),
		    "0") != 0)
			nsent503++;
	}
	callers_free(c, NDRAIN);
	/* at 1/s: the first before SIGTERM, one or two in the 2 s drain */
	ck_assert_msg(n200 >= 2 && n200 <= 4 && n503 >= NDRAIN - 4 &&
	    n200 + n503 == NDRAIN,
	    "%d answered 200, %d 503", n200, n503);
	/* The 503s were never sent upstream, but for one out there at the
	 * drain's end (its transfer cancelled, X-Weir-Attempts 1). */
	ck_assert_int_le(nsent503, 1);
	ck_assert_uint_eq(fake_nreqs(api), (size_t)(n200 + nsent503));
}
END_TEST

/*
 * The reload scenario: weir runs from a file at 1/s, burst 1, adding
 * X-Conf-Gen: one; six calls of tenant h arrive, one goes, the others
 * wait; the file changes to 50/s, burst 50, X-Conf-Gen: two, and SIGHUP.
 * Returns when every call is answered, with the time from SIGHUP to the
 * last answer.
 */
static uint64_t
reload_scenario(void)
{
	struct caller	 c[6];
	struct status	 st;
	const char	*args[] = { "-c", NULL, NULL };
	uint64_t	 t_hup, last = 0;
	int		 i;

	write_conf("# weir.conf for check_ops\nrate = 1/s\nburst = 1\n"
	    "add_header = X-Conf-Gen: one\n");
	args[1] = conf_path;	/* after the harness's -c /dev/null: wins */
	start(fake_echo, NULL, args, NULL);
	ck_assert_int_eq(h_wait_stderr(&W, "rate 1 per 1000 ms, burst 1",
	    1000), 0);
	callers_start(c, 6, "h");
	wait_queued("h", 6, 4);
	status_get(&st);
	ck_assert(tnum(&st, "h", "rate_configured", NULL) == 1);
	status_free(&st);

	write_conf("rate = 50/s\nburst = 50\nadd_header = X-Conf-Gen: two\n");
	t_hup = h_mono_ms();
	ck_assert_int_eq(kill(W.pid, SIGHUP), 0);
	callers_join(c, 6);
	for (i = 0; i < 6; i++) {
		ck_assert_msg(c[i].rc == 0, "call %d: %s", i, c[i].r.err);
		ck_assert_int_eq(c[i].r.status, 200);
		if (c[i].done_ms > last)
			last = c[i].done_ms;
	}
	callers_free(c, 6);
	ck_assert_int_eq(h_wait_stderr(&W, "reloaded ", 2000), 0);
	return last - t_hup;
}

START_TEST(sighup_reloads_limits_without_dropping_calls)
{
	struct status	 st;
	struct fake_req	*fr;
	char		*log, *ids[6];
	uint64_t	 took;
	size_t		 i, j;

	took = reload_scenario();
	/* At 1/s the four or five waiting calls needed 4 s or more; at
	 * 50/s they go at once. */
	ck_assert_msg(took < 2000, "queue drained %llu ms after SIGHUP",
	    (unsigned long long)took);
	log = h_stderr_contents(&W);
	ck_assert_ptr_nonnull(strstr(log, conf_path));
	ck_assert_ptr_nonnull(strstr(log, "rate 50 per 1000 ms, burst 50"));
	free(log);
	status_get(&st);
	ck_assert(tnum(&st, "h", "rate_configured", NULL) == 50);
	ck_assert(tnum(&st, "h", "rate", NULL) == 50);
	ck_assert(tnum(&st, "h", "totals", "requests") == 6);
	ck_assert(tnum(&st, "h", "queued", NULL) == 0);
	status_free(&st);
	/* nothing lost, nothing sent twice */
	ck_assert_uint_eq(fake_nreqs(api), 6);
	for (i = 0; i < 6; i++) {
		fr = fake_req_get(api, i);
		ids[i] = fake_strdup(fake_req_header(fr, "X-Request-Id"));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(ids[i], ids[j]);
		fake_req_free(fr);
	}
	for (i = 0; i < 6; i++)
		free(ids[i]);
	/* a call that arrives after the reload carries the new header */
	ck_assert_int_eq(call("h", "/api/v2/after"), 200);
	fr = fake_req_get(api, 6);
	ck_assert_str_eq(fake_req_header(fr, "X-Conf-Gen"), "two");
	ck_assert_uint_eq(fake_req_header_count(fr, "X-Conf-Gen"), 1);
	fake_req_free(fr);
}
END_TEST

/* "limits, headers and tenant sections apply to the next dispatch": the
 * calls that waited through the reload go out with the new header. */
START_TEST(sighup_headers_apply_to_queued_calls)
{
	struct fake_req	*fr;
	const char	*v;
	size_t		 i, one = 0, two = 0;
	char		 seen[64] = "";

	reload_scenario();
	ck_assert_uint_eq(fake_nreqs(api), 6);
	for (i = 0; i < 6; i++) {
		fr = fake_req_get(api, i);
		v = fake_req_header(fr, "X-Conf-Gen");
		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(fake_req_header_count(fr, "X-Conf-Gen"), 1);
		if (strcmp(v, "one") == 0)
			one++;
		else if (strcmp(v, "two") == 0)
			two++;
		strncat(seen, v, sizeof(seen) - strlen(seen) - 2);
		strcat(seen, " ");
		fake_req_free(fr);
	}
	/* the first went before SIGHUP; four or five waited through it */
	ck_assert_msg(one >= 1 && one <= 2 && two >= 4 && one + two == 6 &&
	    strncmp(seen, "one ", 4) == 0, "X-Conf-Gen upstream, in order: "
	    "%s", seen);
}
END_TEST

/* fake_handler: fake_echo, a tenth of a second later. */
static void
slow_echo(const struct fake_req *req, struct fake_reply *reply, void *arg)
{
	usleep(100 * 1000);
	fake_echo(req, reply, arg);
}

/*
 * A reload that names another upstream: the calls out when it comes are
 * answered by the old one, the calls after it go to the new one, and
 * nothing is sent twice.
 */
START_TEST(sighup_moves_the_upstream)
{
	const char	*args[] = { "-c", NULL, NULL };
	struct fake	*next;
	struct caller	 c[4];
	char		 text[300];
	int		 i;

	api = fake_start(slow_echo, NULL);
	login = fake_start(NULL, NULL);
	next = fake_start(NULL, NULL);
	ck_assert_ptr_nonnull(api);
	ck_assert_ptr_nonnull(login);
	ck_assert_ptr_nonnull(next);
	snprintf(text, sizeof(text), "upstream = http://127.0.0.1:%u\n"
	    "login_upstream = http://127.0.0.1:%u\nrate = 100/s\n"
	    "burst = 20\n", (unsigned)fake_port(api),
	    (unsigned)fake_port(login));
	write_conf(text);
	args[1] = conf_path;
	h_start_or_abort(&W, 0, 0, args, NULL);
	aport = h_admin_port(&W);

	callers_start(c, 4, "u");
	wait_queued("u", 4, 0);		/* arrived, and so sent at once */
	snprintf(text, sizeof(text), "upstream = http://127.0.0.1:%u\n"
	    "login_upstream = http://127.0.0.1:%u\nrate = 100/s\n"
	    "burst = 20\n", (unsigned)fake_port(next),
	    (unsigned)fake_port(login));
	write_conf(text);
	ck_assert_int_eq(kill(W.pid, SIGHUP), 0);
	ck_assert_int_eq(h_wait_stderr(&W, "reloaded ", 3000), 0);
	callers_join(c, 4);
	for (i = 0; i < 4; i++) {
		ck_assert_msg(c[i].rc == 0, "call %d: %s", i, c[i].r.err);
		ck_assert_int_eq(c[i].r.status, 200);
	}
	callers_free(c, 4);
	/* all four were out before the reload: the old upstream had them */
	ck_assert_uint_eq(fake_nreqs(api), 4);
	ck_assert_uint_eq(fake_nreqs(next), 0);

	ck_assert_int_eq(call("u", "/api/v2/after"), 200);
	ck_assert_uint_eq(fake_nreqs(api), 4);
	ck_assert_uint_eq(fake_nreqs(next), 1);
	fake_stop(next);
}
END_TEST

START_TEST(a_bad_reload_keeps_the_running_config)
{
	const char	*args[] = { "-c", NULL, NULL };
	struct status	 st;
	char		*log, *line, *end;
	char		 want[300];

	write_conf("rate = 5/s\nburst = 5\n");
	args[1] = conf_path;
	start(fake_echo, NULL, args, NULL);
	ck_assert_int_eq(call("k", "/api/v2/a"), 200);

	write_conf("burst = 5\nrate = fast\n");
	ck_assert_int_eq(kill(W.pid, SIGHUP), 0);
	ck_assert_int_eq(h_wait_stderr(&W, "keeping", 3000), 0);
	log = h_stderr_contents(&W);
	line = strstr(log, "keeping");
	while (line > log && line[-1] != '\n')
		line--;
	if ((end = strchr(line, '\n')) != NULL)
		*end = '\0';
	snprintf(want, sizeof(want), "%s:2: rate:", conf_path);
	ck_assert_msg(strstr(line, want) != NULL, "no '%s' in: %s", want, line);
	ck_assert_ptr_nonnull(strstr(line, "\"level\":\"error\""));
	free(log);

	/* still running, still paced as before, still forwarding */
	ck_assert_int_eq(kill(W.pid, 0), 0);
	status_get(&st);
	ck_assert(tnum(&st, "k", "rate_configured", NULL) == 5);
	status_free(&st);
	ck_assert_int_eq(call("k", "/api/v2/b"), 200);
	ck_assert_uint_eq(fake_nreqs(api), 2);

	/* and a good file after the bad one applies */
	write_conf("burst = 5\nrate = 7/s\n");
	ck_assert_int_eq(kill(W.pid, SIGHUP), 0);
	ck_assert_int_eq(h_wait_stderr(&W, "reloaded ", 3000), 0);
	status_get(&st);
	ck_assert(tnum(&st, "k", "rate_configured", NULL) == 7);
	status_free(&st);
}
END_TEST

/* Does every line of log match re? */
static void
all_lines_match(const char *log, const char *pattern)
{
	regex_t		 re;
	char		 line[4096];
	const char	*p, *nl;
	int		 n = 0;

	ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	for (p = log; *p != '\0'; p = nl + 1) {
		ck_assert_ptr_nonnull(nl = strchr(p, '\n'));
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0,
		    "log line '%s' does not match %s", line, pattern);
		n++;
	}
	regfree(&re);
	ck_assert_int_ge(n, 5);
}

START_TEST(configuration_from_the_environment_alone)
{
	static const char *const env[] = { "WEIR_RATE=7/s", "WEIR_BURST=3",
	    "WEIR_ADD_HEADER=X-Genesys-Client: env-test",
	    "WEIR_LOG_FORMAT=text", "WEIR_MAX_WAIT=9s", NULL };
	struct status	 st;
	struct fake_req	*fr;
	char		*log;

	start(fake_echo, NULL, NULL, env);
	ck_assert_int_eq(call("e", "/api/v2/flows?pageSize=1"), 200);
	/* the header from the environment reached the upstream */
	fr = fake_req_get(api, 0);
	ck_assert_str_eq(fake_req_header(fr, "X-Genesys-Client"), "env-test");
	fake_req_free(fr);
	status_get(&st);
	ck_assert(tnum(&st, "e", "rate_configured", NULL) == 7);
	status_free(&st);
	ck_assert_int_eq(h_wait_stderr(&W, "access method=GET", 2000), 0);
	log = h_stderr_contents(&W);
	/* text, not JSON: "TIME LEVEL message" */
	all_lines_match(log, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
	    "[0-9]{2}\\.[0-9]{3}Z (error|warn|info|debug) [^{ ]");
	ck_assert_ptr_nonnull(strstr(log, " info limits per tenant: rate 7 "
	    "per 1000 ms, burst 3, concurrency 8, max_queue 10000, max_wait "
	    "9000 ms"));
	ck_assert_ptr_nonnull(strstr(log, " info access method=GET "
	    "path=/api/v2/flows upstream=api status=200 upstream_status=200 "));
	ck_assert_ptr_nonnull(strstr(log, " tenant=e attempts=1 queued_ms="));
	free(log);
}
END_TEST

/* The JSON log line whose msg is (or begins with) msg, parsed into d
 * (line is its storage; an earlier document in d is freed first). */
static int
json_line(const char *log, const char *msg, int prefix, char *line,
    size_t len, struct jdoc *d)
{
	const char	*p, *nl;
	char		 m[512];

	jdoc_free(d);
	for (p = log; *p != '\0' && (nl = strchr(p, '\n')) != NULL;
	    p = nl + 1) {
		snprintf(line, len, "%.*s", (int)(nl - p), p);
		if (jdoc_parse(d, line, strlen(line)) == -1)
			continue;
		jstr(d, jfind(d, "msg", NULL), m, sizeof(m));
		if (prefix ? strncmp(m, msg, strlen(msg)) == 0 :
		    strcmp(m, msg) == 0)
			return 0;
		jdoc_free(d);
	}
	return -1;
}

START_TEST(json_logs_and_startup_lines)
{
	static const char *const env[] = { NULL };
	const char	*hdrs[] = { "X-Weir-Tenant: j",
	    "X-Request-Id: ops-req-1", NULL };
	struct h_req	 q = { .method = "GET",
	    .target = "/api/v2/flows?access_token=secret", .headers = hdrs };
	struct h_resp	 r;
	struct jdoc	 d = { NULL };
	char		*log, line[4096], want[128], buf[256];
	const char	*p, *nl;
	int		 n = 0;

	start(fake_echo, NULL, NULL, env);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(h_request(W.port, &q, &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
	ck_assert_int_eq(h_wait_stderr(&W, "\"msg\":\"access\"", 2000), 0);
	log = h_stderr_contents(&W);

	/* every line one JSON object with time, level and msg */
	for (p = log; *p != '\0'; p = nl + 1, n++) {
		ck_assert_ptr_nonnull(nl = strchr(p, '\n'));
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		ck_assert_msg(jdoc_parse(&d, line, strlen(line)) == 0,
		    "not a JSON object: %s", line);
		ck_assert_msg(iso_ms(jstr(&d, jfind(&d, "time", NULL), buf,
		    sizeof(buf))) > 0, "time: %s", line);
		ck_assert_str_eq(jstr(&d, jfind(&d, "level", NULL), buf,
		    sizeof(buf)), "info");
		ck_assert_str_ne(jstr(&d, jfind(&d, "msg", NULL), buf,
		    sizeof(buf)), "");
		jdoc_free(&d);
	}
	ck_assert_int_ge(n, 5);

	/* the startup lines */
	snprintf(want, sizeof(want), "listening on 127.0.0.1:%u",
	    (unsigned)W.port);
	ck_assert_msg(json_line(log, want, 0, line, sizeof(line), &d) == 0,
	    "no '%s'", want);
	snprintf(want, sizeof(want), "admin listening on 127.0.0.1:%u ",
	    (unsigned)aport);
	ck_assert_msg(json_line(log, want, 1, line, sizeof(line), &d) == 0,
	    "no '%s'", want);
	snprintf(want, sizeof(want), "upstream http://127.0.0.1:%u, login "
	    "upstream http://127.0.0.1:%u", (unsigned)fake_port(api),
	    (unsigned)fake_port(login));
	ck_assert_msg(json_line(log, want, 0, line, sizeof(line), &d) == 0,
	    "no '%s'", want);
	ck_assert_int_eq(json_line(log, "limits per tenant: rate 300 per "
	    "60000 ms, burst 10, concurrency 8, max_queue 10000, max_wait "
	    "15000 ms", 1, line, sizeof(line), &d), 0);

	/* the access line: tenant, attempts, queue time, no query */
	ck_assert_int_eq(json_line(log, "access", 0, line, sizeof(line), &d),
	    0);
	ck_assert_str_eq(jstr(&d, jfind(&d, "method", NULL), buf,
	    sizeof(buf)), "GET");
	ck_assert_str_eq(jstr(&d, jfind(&d, "path", NULL), buf, sizeof(buf)),
	    "/api/v2/flows");
	ck_assert_str_eq(jstr(&d, jfind(&d, "tenant", NULL), buf,
	    sizeof(buf)), "j");
	ck_assert_str_eq(jstr(&d, jfind(&d, "request_id", NULL), buf,
	    sizeof(buf)), "ops-req-1");
	ck_assert(jnum(&d, jfind(&d, "status", NULL)) == 200);
	ck_assert(jnum(&d, jfind(&d, "attempts", NULL)) == 1);
	ck_assert(jnum(&d, jfind(&d, "queued_ms", NULL)) >= 0);
	ck_assert(jnum(&d, jfind(&d, "duration_ms", NULL)) >= 0);
	jdoc_free(&d);
	ck_assert_ptr_null(strstr(log, "secret"));
	free(log);
}
END_TEST

START_TEST(log_level_warn_keeps_startup_lines)
{
	static const char *const env[] = { "WEIR_LOG_LEVEL=warn", NULL };
	char	*log;

	start(fake_echo, NULL, NULL, env);
	ck_assert_int_eq(call("w", "/api/v2/flows"), 200);
	/* "stopped" is the last line weir writes: after it, the log is
	 * complete */
	ck_assert_int_eq(kill(W.pid, SIGTERM), 0);
	ck_assert_int_eq(h_wait_stderr(&W, "\"msg\":\"stopped\"", 5000), 0);
	log = h_stderr_contents(&W);
	ck_assert_ptr_nonnull(strstr(log, "\"msg\":\"listening on 127.0.0.1:"));
	ck_assert_ptr_nonnull(strstr(log, "\"msg\":\"admin listening on "));
	ck_assert_ptr_nonnull(strstr(log, "\"msg\":\"upstream http://"));
	ck_assert_ptr_nonnull(strstr(log, "\"msg\":\"limits per tenant: "));
	ck_assert_ptr_nonnull(strstr(log, "\"msg\":\"stopping: draining "));
	/* the access line is at info: not written at warn */
	ck_assert_ptr_null(strstr(log, "\"msg\":\"access\""));
	free(log);
}
END_TEST

/* Two weirs on one port. */

/* w (started, or failed to) exits by itself with status 1, saying want. */
static void
assert_exits_1(struct h_weir *w, const char *want)
{
	int	 status = h_wait_exit(w, 5000);
	char	*log = h_stderr_contents(w);

	ck_assert_msg(status != -1 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 1, "second weir: status %d, log: %s",
	    status, log);
	ck_assert_msg(strstr(log, want) != NULL, "no '%s' in: %s", want, log);
	free(log);
}

/* The access lines in w's log. */
static int
access_lines(const struct h_weir *w)
{
	char		*log = h_stderr_contents(w), *p;
	int		 n = 0;

	for (p = log; (p = strstr(p, "\"msg\":\"access\"")) != NULL; p++)
		n++;
	free(log);
	return n;
}

START_TEST(a_second_weir_on_a_busy_listen_port_exits_1)
{
	char		 addr[32], want[96];
	const char	*args[] = { "-l", addr, NULL };
	struct h_resp	 r;
	int		 i;

	start(fake_echo, NULL, NULL, NULL);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)W.port);
	ck_assert_int_eq(h_start(&W2, fake_port(api), fake_port(login), args,
	    NULL), -1);
	snprintf(want, sizeof(want), "cannot listen on %s: address already "
	    "in use", addr);
	assert_exits_1(&W2, want);
	/* the port stays the first weir's alone: it serves every call */
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(call("t", "/api/v2/busy"), 200);
	ck_assert_uint_eq(fake_nreqs(api), 20);
	get(aport, "/healthz", &r);
	ck_assert_int_eq(r.status, 200);
	h_resp_free(&r);
}
END_TEST

START_TEST(a_second_weir_on_a_busy_admin_port_exits_1)
{
	char		 env0[64], want[96];
	const char	*env[] = { env0, NULL };
	static struct prom p;
	int		 i;

	start(fake_echo, NULL, NULL, NULL);
	snprintf(env0, sizeof(env0), "WEIR_ADMIN_LISTEN=127.0.0.1:%u",
	    (unsigned)aport);
	/* its own listen port (0) is free: it may get as far as listening
	 * there before the admin address fails */
	(void)h_start(&W2, fake_port(api), fake_port(login), NULL, env);
	snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%u "
	    "(admin_listen): address already in use", (unsigned)aport);
	assert_exits_1(&W2, want);
	/* /metrics scrapes all reach the first weir, which has the call */
	ck_assert_int_eq(call("t", "/api/v2/busy"), 200);
	for (i = 0; i < 10; i++) {
		metrics_get(&p);
		ck_metric(&p, "weir_requests_total",
		    "tenant=\"t\",code=\"200\"", 1);
	}
}
END_TEST

START_TEST(reuse_port_on_lets_two_weirs_share_the_ports)
{
	static const char *const env1[] = { "WEIR_REUSE_PORT=on", NULL };
	char		 addr[32], env0[64];
	const char	*args[] = { "-l", addr, NULL };
	const char	*env[] = { "WEIR_REUSE_PORT=on", env0, NULL };
	uint64_t	 end;
	int		 i, n1, n2;

	start(fake_echo, NULL, NULL, env1);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)W.port);
	snprintf(env0, sizeof(env0), "WEIR_ADMIN_LISTEN=127.0.0.1:%u",
	    (unsigned)aport);
	h_start_or_abort(&W2, fake_port(api), fake_port(login), args, env);
	ck_assert_uint_eq(W2.port, W.port);
	ck_assert_uint_eq(h_admin_port(&W2), aport);
	/* the kernel splits the connections between the two: with 40, both
	 * get some but for a chance of 2^-39 */
	for (i = 0; i < 40; i++)
		ck_assert_int_eq(call("t", "/api/v2/shared"), 200);
	ck_assert_uint_eq(fake_nreqs(api), 40);
	end = h_mono_ms() + 5000;
	while ((n1 = access_lines(&W)) + (n2 = access_lines(&W2)) < 40 &&
	    h_mono_ms() < end)
		h_nap_ms(20);
	ck_assert_int_eq(n1 + n2, 40);
	ck_assert_msg(n1 > 0 && n2 > 0, "calls: %d and %d", n1, n2);
}
END_TEST

static Suite *
ops_suite(void)
{
	Suite	*s = suite_create("ops");
	TCase	*tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, metrics_after_scripted_traffic);
	tcase_add_test(tc, metrics_tenant_labels_are_bounded);
	tcase_add_test(tc, status_after_a_429);
	tcase_add_test(tc, admin_endpoints);
	tcase_add_test(tc, sigterm_drains_queued_calls);
	tcase_add_test(tc, sighup_reloads_limits_without_dropping_calls);
	tcase_add_test(tc, sighup_headers_apply_to_queued_calls);
	tcase_add_test(tc, a_bad_reload_keeps_the_running_config);
	tcase_add_test(tc, sighup_moves_the_upstream);
	tcase_add_test(tc, configuration_from_the_environment_alone);
	tcase_add_test(tc, json_logs_and_startup_lines);
	tcase_add_test(tc, log_level_warn_keeps_startup_lines);
	tcase_add_test(tc, a_second_weir_on_a_busy_listen_port_exits_1);
	tcase_add_test(tc, a_second_weir_on_a_busy_admin_port_exits_1);
	tcase_add_test(tc, reuse_port_on_lets_two_weirs_share_the_ports);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(ops_suite());
}
