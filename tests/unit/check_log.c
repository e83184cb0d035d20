/*
 * check_log.c - log lines cannot be forged or broken: whatever bytes a
 * client or an upstream put in a path, a tenant or a correlation id, a
 * JSON line is one valid UTF-8 JSON object with exactly weir's fields, and
 * a text line is one line of key=value fields with exactly weir's keys.
 *
 * The log writes to fd 2; each test points fd 2 at a temporary file for
 * the call and reads the line back.  The JSON check is a strict RFC 8259
 * parser written here (jsmn accepts too much to be the judge).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "log.h"
#include "loop.h"
#include "tap.h"

/* Run fn(arg) with fd 2 going to a file; return what was written. */
static char *
capture(void (*fn)(void *), void *arg, size_t *len)
{
	FILE	*f = tmpfile();
	int	 saved;
	long	 n;
	char	*out;

	ck_assert_ptr_nonnull(f);
	fflush(stderr);
	saved = dup(2);
	ck_assert_int_ne(saved, -1);
	ck_assert_int_ne(dup2(fileno(f), 2), -1);
	fn(arg);
	ck_assert_int_ne(dup2(saved, 2), -1);
	close(saved);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	out = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(out);
	rewind(f);
	ck_assert_uint_eq(fread(out, 1, (size_t)n, f), (size_t)n);
	out[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return out;
}

/* A strict JSON parser: RFC 8259 grammar, UTF-8 (RFC 3629) text. */

struct jp {
	const unsigned char	*p, *end;
	/* the top-level object's members, strings decoded to UTF-8 */
	char			 keys[32][32];
	char			 vals[32][512];
	size_t			 vlens[32];
	int			 n;
	int			 depth;
};

static void
put_utf8(char *out, size_t *len, size_t cap, unsigned long cp)
{
	char	 b[4];
	size_t	 n, i;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	for (i = 0; i < n && *len < cap; i++)
		out[(*len)++] = b[i];
}

/* One UTF-8 character at p: its code point and length, or 0 if invalid. */
static size_t
utf8_char(const unsigned char *p, const unsigned char *end,
    unsigned long *cp)
{
	size_t	 n, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		*cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		*cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		*cp = p[0] & 0x07;
	} else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && *cp < 0x80) || (n == 3 && *cp < 0x800) ||
	    (n == 4 && *cp < 0x10000) || *cp > 0x10ffff ||
	    (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

static int	jvalue(struct jp *, char *, size_t *, size_t);

static void
jws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
hex4(struct jp *j, unsigned long *v)
{
	int	 i;

	*v = 0;
	if (j->end - j->p < 4)
		return -1;
	for (i = 0; i < 4; i++, j->p++) {
		unsigned char c = *j->p;

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned long)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*v |= (unsigned long)((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	return 0;
}

/* A string at j->p (the opening quote), decoded into out. */
static int
jstring(struct jp *j, char *out, size_t *len, size_t cap)
{
	unsigned long	 cp, lo;
	size_t		 n;

	*len = 0;
	if (j->p >= j->end || *j->p++ != '"')
		return -1;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p < 0x20)
			return -1;		/* raw control byte */
		if (*j->p != '\\') {
			if ((n = utf8_char(j->p, j->end, &cp)) == 0)
				return -1;	/* not UTF-8 */
			put_utf8(out, len, cap, cp);
			j->p += n;
			continue;
		}
		if (++j->p >= j->end)
			return -1;
		switch (*j->p++) {
		case '"': put_utf8(out, len, cap, '"'); break;
		case '\\': put_utf8(out, len, cap, '\\'); break;
		case '/': put_utf8(out, len, cap, '/'); break;
		case 'b': put_utf8(out, len, cap, '\b'); break;
		case 'f': put_utf8(out, len, cap, '\f'); break;
		case 'n': put_utf8(out, len, cap, '\n'); break;
		case 'r': put_utf8(out, len, cap, '\r'); break;
		case 't': put_utf8(out, len, cap, '\t'); break;
		case 'u':
			if (hex4(j, &cp) == -1)
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->p < 6 || j->p[0] != '\\' ||
				    j->p[1] != 'u')
					return -1;
				j->p += 2;
				if (hex4(j, &lo) == -1 || lo < 0xdc00 ||
				    lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;
			put_utf8(out, len, cap, cp);
			break;
		default:
			return -1;
		}
	}
	if (j->p >= j->end)
		return -1;
	j->p++;
	return 0;
}

static int
jnumber(struct jp *j)
{
	const unsigned char	*s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (j->p < j->end && *j->p >= '1' && *j->p <= '9')
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		return -1;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s ? 0 : -1;
}

static int
jword(struct jp *j, const char *w)
{
	size_t	 n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static int
jcontainer(struct jp *j, int object)
{
	char	 key[512], val[512];
	size_t	 klen, vlen;
	int	 top = j->depth == 0;

	j->depth++;
	j->p++;
	jws(j);
	if (j->p < j->end && *j->p == (object ? '}' : ']')) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		jws(j);
		if (object) {
			if (jstring(j, key, &klen, sizeof(key)) == -1)
				return -1;
			jws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return -1;
			jws(j);
		}
		vlen = 0;
		if (jvalue(j, val, &vlen, sizeof(val)) == -1)
			return -1;
		if (object && top) {
			ck_assert_int_lt(j->n, 32);
			ck_assert_uint_lt(klen, sizeof(j->keys[0]));
			memcpy(j->keys[j->n], key, klen);
			j->keys[j->n][klen] = '\0';
			memcpy(j->vals[j->n], val, vlen);
			j->vals[j->n][vlen] = '\0';
			j->vlens[j->n] = vlen;
			j->n++;
		}
		jws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != (object ? '}' : ']'))
			return -1;
		j->depth--;
		return 0;
	}
}

static int
jvalue(struct jp *j, char *out, size_t *len, size_t cap)
{
	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '{': return jcontainer(j, 1);
	case '[': return jcontainer(j, 0);
	case '"': return jstring(j, out, len, cap - 1);
	case 't': return jword(j, "true");
	case 'f': return jword(j, "false");
	case 'n': return jword(j, "null");
	default: return jnumber(j);
	}
}

/* Parse one line (without its newline) as exactly one JSON object. */
static int
json_line(const char *line, size_t len, struct jp *j)
{
	char	 dummy[8];
	size_t	 dlen;

	memset(j, 0, sizeof(*j));
	j->p = (const unsigned char *)line;
	j->end = j->p + len;
	jws(j);
	if (j->p >= j->end || *j->p != '{')
		return -1;
	if (jvalue(j, dummy, &dlen, sizeof(dummy)) == -1)
		return -1;
	jws(j);
	return j->p == j->end ? 0 : -1;
}

/* The decoded value of key in the parsed line, or NULL. */
static const char *
jget(const struct jp *j, const char *key, size_t *len)
{
	int	 i;

	for (i = 0; i < j->n; i++)
		if (strcmp(j->keys[i], key) == 0) {
			if (len != NULL)
				*len = j->vlens[i];
			return j->vals[i];
		}
	return NULL;
}

/* The hostile call. */

/*
 * A path with everything a client might try: quotes, backslashes, control
 * bytes, a newline that starts a forged line, a field that tries to
 * override weir's, invalid UTF-8 (a lone continuation byte, a truncated
 * sequence, an overlong '/', a surrogate, 0xff) and valid UTF-8; then a
 * query that must stay out of the log.
 */
static const char	 hostile_path[] =
    "/api/v2/a\"b\\c\td\x01" "e\x7f"
    "\n{\"time\":\"x\",\"level\":\"error\",\"msg\":\"forged\"}"
    "\r status=200 tenant=evil \"x=y\" =z"
    "\x80\xe6\x97\xc0\xaf\xed\xa0\x80\xff\xc3\xa9\xe6\x97\xa5"
    "?access_token=secret";

/* What a reader gets back for the path: every valid UTF-8 character as it
 * was, every invalid byte as the character of the same number (Latin-1). */
static const char	 hostile_path_read[] =
    "/api/v2/a\"b\\c\td\x01" "e\x7f"
    "\n{\"time\":\"x\",\"level\":\"error\",\"msg\":\"forged\"}"
    "\r status=200 tenant=evil \"x=y\" =z"
    "\xc2\x80\xc3\xa6\xc2\x97\xc3\x80\xc2\xaf\xc3\xad\xc2\xa0\xc2\x80"
    "\xc3\xbf\xc3\xa9\xe6\x97\xa5";

static const char	 hostile_corr[] = "c\"d\n\xfe,\"status\":1";
static const char	 hostile_corr_read[] = "c\"d\n\xc3\xbe,\"status\":1";

static struct call *
hostile_call(void)
{
	struct call	*c;

	c = call_new("GET", hostile_path);
	c->path = c->path_buf = strdup(hostile_path);
	ck_assert_ptr_nonnull(c->path);
	call_set_reqid(c, "0b0e5f1c-1d44-4c8e-9f3a-2a3b4c5d6e7f");
	c->tenant = strdup("team-a");
	hdrs_add(&c->resp_hdrs, "ININ-Correlation-Id", hostile_corr);
	c->status = 200;
	c->attempts = 1;
	c->throttled = 2;
	c->err = WERR_BAD_REQUEST;
	return c;
}

static void
write_access(void *arg)
{
	log_access(arg, 200, 11, 5);
}

/* The fields of an access line, in order. */
static const char *const access_keys[] = {
	"method", "path", "upstream", "status", "upstream_status",
	"bytes_in", "bytes_out", "duration_ms", "request_id",
	"correlation_id", "tenant", "attempts", "queued_ms", "throttled",
	"error", NULL,
};

START_TEST(json_access_line_stays_one_valid_object)
{
	struct call	*c = hostile_call();
	struct jp	 j;
	const char	*v;
	char		*out;
	size_t		 len, vlen;
	int		 i;

	log_init(LOG_LVL_INFO, LOG_FMT_JSON);
	out = capture(write_access, c, &len);
	/* one line */
	ck_assert_msg(len > 0 && out[len - 1] == '\n', "%s", out);
	ck_assert_msg(memchr(out, '\n', len - 1) == NULL, "%s", out);
	/* strictly valid JSON in strictly valid UTF-8 */
	ck_assert_msg(json_line(out, len - 1, &j) == 0, "not JSON: %s", out);
	/* weir's fields and no other, each once */
	ck_assert_int_eq(j.n, 3 + 15);
	ck_assert_str_eq(j.keys[0], "time");
	ck_assert_str_eq(j.keys[1], "level");
	ck_assert_str_eq(j.keys[2], "msg");
	for (i = 0; access_keys[i] != NULL; i++)
		ck_assert_str_eq(j.keys[3 + i], access_keys[i]);
	ck_assert_str_eq(jget(&j, "level", NULL), "info");
	ck_assert_str_eq(jget(&j, "msg", NULL), "access");
	/* the path reads back as sent, less the query */
	v = jget(&j, "path", &vlen);
	ck_assert_uint_eq(vlen, sizeof(hostile_path_read) - 1);
	ck_assert(memcmp(v, hostile_path_read, vlen) == 0);
	ck_assert_ptr_null(strstr(out, "secret"));
	ck_assert_str_eq(jget(&j, "correlation_id", NULL), hostile_corr_read);
	ck_assert_str_eq(jget(&j, "tenant", NULL), "team-a");
	free(out);
	call_free(c);
}
END_TEST

/*
 * Split a text line "TIME LEVEL access k=v k=\"v\" ..." into its keys and
 * decoded values.  Bare values run to the next space; quoted ones are
 * JSON string bodies.  -1 if the line does not have that shape.
 */
static int
text_fields(const char *line, size_t len, struct jp *j)
{
	const char	*p = line, *end = line + len, *k;
	char		 quoted[1024];
	size_t		 n;
	struct jp	 s;

	memset(j, 0, sizeof(*j));
	/* time, level, "access" */
	for (n = 0; n < 3; n++) {
		while (p < end && *p != ' ')
			p++;
		if (p++ >= end)
			return -1;
	}
	while (p < end) {
		for (k = p; p < end && *p != '=' && *p != ' ' && *p != '"';
		    p++)
			;
		if (p >= end || *p != '=' || p == k || j->n == 32 ||
		    (size_t)(p - k) >= sizeof(j->keys[0]))
			return -1;
		memcpy(j->keys[j->n], k, (size_t)(p - k));
		j->keys[j->n][p - k] = '\0';
		p++;
		if (p < end && *p == '"') {
			/* a JSON string: parse it as one */
			for (n = 1; p + n < end && p[n] != '"'; n++)
				if (p[n] == '\\')
					n++;
			if (p + n >= end || n + 1 >= sizeof(quoted))
				return -1;
			memcpy(quoted, p, n + 1);
			s.p = (const unsigned char *)quoted;
			s.end = s.p + n + 1;
			if (jstring(&s, j->vals[j->n], &j->vlens[j->n],
			    sizeof(j->vals[0]) - 1) == -1)
				return -1;
			j->vals[j->n][j->vlens[j->n]] = '\0';
			p += n + 1;
		} else {
			for (k = p; p < end && *p != ' '; p++)
				if (*p == '"' || *p == '=' ||
				    (unsigned char)*p < 0x20)
					return -1;
			j->vlens[j->n] = (size_t)(p - k);
			memcpy(j->vals[j->n], k, j->vlens[j->n]);
			j->vals[j->n][j->vlens[j->n]] = '\0';
		}
		j->n++;
		if (p < end && *p++ != ' ')
			return -1;
	}
	return 0;
}

START_TEST(text_access_line_cannot_gain_a_field)
{
	struct call	*c = hostile_call();
	struct jp	 j;
	const char	*v;
	char		*out;
	size_t		 len, vlen, i;

	log_init(LOG_LVL_INFO, LOG_FMT_TEXT);
	out = capture(write_access, c, &len);
	ck_assert_msg(len > 0 && out[len - 1] == '\n', "%s", out);
	ck_assert_msg(memchr(out, '\n', len - 1) == NULL, "%s", out);
	ck_assert_msg(memchr(out, '\r', len) == NULL, "%s", out);
	ck_assert_msg(text_fields(out, len - 1, &j) == 0, "not k=v: %s", out);
	ck_assert_int_eq(j.n, 15);
	for (i = 0; access_keys[i] != NULL; i++)
		ck_assert_str_eq(j.keys[i], access_keys[i]);
	v = jget(&j, "path", &vlen);
	ck_assert_uint_eq(vlen, sizeof(hostile_path_read) - 1);
	ck_assert(memcmp(v, hostile_path_read, vlen) == 0);
	ck_assert_str_eq(jget(&j, "status", NULL), "200");
	ck_assert_str_eq(jget(&j, "tenant", NULL), "team-a");
	ck_assert_str_eq(jget(&j, "correlation_id", NULL), hostile_corr_read);
	ck_assert_ptr_null(strstr(out, "secret"));
	/* plain values stay unquoted, others are quoted */
	ck_assert_ptr_nonnull(strstr(out, " access method=GET path=\"/api/"));
	ck_assert_ptr_nonnull(strstr(out, " upstream=api status=200 "));
	ck_assert_ptr_nonnull(strstr(out, " tenant=team-a "));
	ck_assert_ptr_nonnull(strstr(out, " error=weir.bad_request\n"));
	free(out);
	call_free(c);
}
END_TEST

static void
write_messages(void *arg)
{
	(void)arg;
	log_info("client sent %s", "a\nforged line\r\x01\xff\"q\"");
	errno = ENOENT;
	log_warn("open %s", "x\ny");
}

START_TEST(messages_stay_one_line_each)
{
	struct jp	 j;
	char		*out, *nl;
	size_t		 len;

	log_init(LOG_LVL_INFO, LOG_FMT_JSON);
	out = capture(write_messages, NULL, &len);
	nl = strchr(out, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_msg(json_line(out, (size_t)(nl - out), &j) == 0, "%s", out);
	ck_assert_str_eq(jget(&j, "msg", NULL),
	    "client sent a\nforged line\r\x01\xc3\xbf\"q\"");
	ck_assert_msg(json_line(nl + 1, strlen(nl + 1) - 1, &j) == 0, "%s",
	    nl + 1);
	ck_assert_ptr_nonnull(strstr(jget(&j, "msg", NULL), "open x\ny: "));
	ck_assert_ptr_eq(strchr(nl + 1, '\n'), out + len - 1);
	free(out);

	log_init(LOG_LVL_INFO, LOG_FMT_TEXT);
	out = capture(write_messages, NULL, &len);
	/* two lines, the escapes in place of the bytes */
	nl = strchr(out, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_ptr_nonnull(strstr(out, " info client sent a\\nforged "
	    "line\\r\\u0001\\u00ff\"q\"\n"));
	ck_assert_ptr_nonnull(strstr(nl + 1, " warn open x\\ny: "));
	ck_assert_ptr_eq(strchr(nl + 1, '\n'), out + len - 1);
	free(out);
}
END_TEST

/* The clock the log reads, moved by the test. */
static struct loop_time	 fake_clock;

static void
write_at_times(void *arg)
{
	static const int64_t	 walls[] = {
		1700000000999, 1700000001000, 1700000001005,
		1700000000001,	/* back a second */
		0, 1700000000999,
	};
	size_t	 i;

	(void)arg;
	for (i = 0; i < sizeof(walls) / sizeof(walls[0]); i++) {
		fake_clock.wall_ms = walls[i];
		log_info("line %zu", i);
	}
}

static void
write_numbers(void *arg)
{
	struct call	*c = arg;

	c->attempts = 0;
	c->queued_ms = 1000000;
	log_access(c, 503, (size_t)-1, 10);
}

/* Each line's time is the clock's, to the millisecond, across seconds and
 * backwards; numbers are written whole, 0 and the largest included. */
START_TEST(time_stamps_and_numbers_are_exact)
{
	static const char *const want[] = {
		"2023-11-14T22:13:20.999Z", "2023-11-14T22:13:21.000Z",
		"2023-11-14T22:13:21.005Z", "2023-11-14T22:13:20.001Z",
		"1970-01-01T00:00:00.000Z", "2023-11-14T22:13:20.999Z",
	};
	struct call	*c;
	struct jp	 j;
	char		*out, *line, *nl;
	size_t		 len, i;

	log_init(LOG_LVL_INFO, LOG_FMT_JSON);
	log_set_clock(&fake_clock);
	out = capture(write_at_times, NULL, &len);
	for (i = 0, line = out; i < sizeof(want) / sizeof(want[0]); i++) {
		nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		ck_assert_msg(json_line(line, (size_t)(nl - line), &j) == 0,
		    "%s", line);
		ck_assert_str_eq(jget(&j, "time", NULL), want[i]);
		line = nl + 1;
	}
	ck_assert_str_eq(line, "");
	free(out);

	log_init(LOG_LVL_INFO, LOG_FMT_TEXT);
	fake_clock.wall_ms = 1700000001000;
	c = call_new("GET", "/api/v2/flows");
	call_set_reqid(c, "r1");
	c->status = 503;
	c->arrival_ms = 3;
	out = capture(write_numbers, c, &len);
	ck_assert_msg(strncmp(out, "2023-11-14T22:13:21.000Z info access ",
	    37) == 0, "%s", out);
	ck_assert_msg(strstr(out, " status=503 upstream_status=503 "
	    "bytes_in=0 bytes_out=18446744073709551615 duration_ms=7 ") !=
	    NULL, "%s", out);
	ck_assert_msg(strstr(out, " attempts=0 queued_ms=1000000\n") != NULL,
	    "%s", out);
	free(out);
	call_free(c);
	log_set_clock(NULL);
}
END_TEST

START_TEST(json_escape_keeps_utf8_and_escapes_the_rest)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*out;
	} cases[] = {
		{ "plain", 5, "plain" },
		{ "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", 9,
		    "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80" },
		{ "\"\\/", 3, "\\\"\\\\/" },
		{ "\x00\x1f\x7f", 3, "\\u0000\\u001f\\u007f" },
		{ "\x80", 1, "\\u0080" },
		{ "\xc3", 1, "\\u00c3" },			/* truncated */
		{ "\xc3\x28", 2, "\\u00c3(" },			/* bad tail */
		{ "\xc0\xaf", 2, "\\u00c0\\u00af" },		/* overlong */
		{ "\xe0\x80\xaf", 3, "\\u00e0\\u0080\\u00af" },	/* overlong */
		{ "\xed\xa0\x80", 3, "\\u00ed\\u00a0\\u0080" },	/* surrogate */
		{ "\xf4\x90\x80\x80", 4,
		    "\\u00f4\\u0090\\u0080\\u0080" },		/* > U+10FFFF */
		{ "\xf0\x9f\x98", 3, "\\u00f0\\u009f\\u0098" },	/* truncated */
		{ "\xef\xbf\xbf", 3, "\xef\xbf\xbf" },		/* U+FFFF */
		{ "\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf" },	/* U+10FFFF */
	};
	struct buf	 b = { 0 };
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_escape(&b, cases[i].in, cases[i].len);
		ck_assert_msg(b.len == strlen(cases[i].out) &&
		    memcmp(b.p, cases[i].out, b.len) == 0,
		    "case %zu: got %.*s", i, (int)b.len, b.p);
		buf_free(&b);
	}
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("log");

	tcase_add_test(tc, json_access_line_stays_one_valid_object);
	tcase_add_test(tc, text_access_line_cannot_gain_a_field);
	tcase_add_test(tc, messages_stay_one_line_each);
	tcase_add_test(tc, json_escape_keeps_utf8_and_escapes_the_rest);
	tcase_add_test(tc, time_stamps_and_numbers_are_exact);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(log_suite());
}
