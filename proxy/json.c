/*
 * json.c - typed getters over jsmn; see json.h.  Pure: memory only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "json.h"
#include "xmalloc.h"

/* json_type() hands jsmn's type on as it is. */
_Static_assert(JSON_OBJECT == (int)JSMN_OBJECT &&
    JSON_ARRAY == (int)JSMN_ARRAY && JSON_STRING == (int)JSMN_STRING &&
    JSON_PRIMITIVE == (int)JSMN_PRIMITIVE, "json_type is jsmntype_t");

struct json {
	const char	*doc;
	jsmntok_t	*t;
	int		 n;
};

struct json *
json_parse(const char *doc, size_t len, int max_tokens)
{
	jsmn_parser	 p;
	struct json	*j;
	int		 n;

	jsmn_init(&p);
	n = jsmn_parse(&p, doc, len, NULL, 0);
	if (n <= 0 || n > max_tokens)
		return NULL;
	j = xcalloc(1, sizeof(*j));
	j->doc = doc;
	j->t = xcalloc((size_t)n, sizeof(*j->t));
	jsmn_init(&p);
	if ((j->n = jsmn_parse(&p, doc, len, j->t, (unsigned)n)) != n) {
		json_free(j);
		return NULL;
	}
	return j;
}

void
json_free(struct json *j)
{
	if (j == NULL)
		return;
	free(j->t);
	free(j);
}

/* Index of the first token after the value at tok. */
static int
skip(const struct json *j, int tok)
{
	int	 end = j->t[tok].end, i = tok + 1;

	while (i < j->n && j->t[i].start < end)
		i++;
	return i;
}

int
json_get(const struct json *j, int tok, const char *key)
{
	size_t	 klen = strlen(key);
	int	 i, k, members;

	if (tok < 0 || tok >= j->n || j->t[tok].type != JSMN_OBJECT)
		return -1;
	members = j->t[tok].size;
	for (i = tok + 1, k = 0; k < members && i < j->n; k++) {
		const jsmntok_t *kt = &j->t[i];

		if (i + 1 >= j->n)
			return -1;
		if (kt->type == JSMN_STRING &&
		    (size_t)(kt->end - kt->start) == klen &&
		    memcmp(j->doc + kt->start, key, klen) == 0)
			return i + 1;
		i = skip(j, i + 1);
	}
	return -1;
}

enum json_type
json_type(const struct json *j, int tok)
{
	if (tok < 0 || tok >= j->n)
		return JSON_NONE;
	return (enum json_type)j->t[tok].type;
}

const char *
json_text(const struct json *j, int tok, size_t *len)
{
	if (tok < 0 || tok >= j->n)
		return NULL;
	*len = (size_t)(j->t[tok].end - j->t[tok].start);
	return j->doc + j->t[tok].start;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
json_string(const struct json *j, int tok, char *out, size_t outlen)
{
	const char	*s, *end;
	size_t		 o = 0;

	if (tok < 0 || tok >= j->n || j->t[tok].type != JSMN_STRING ||
	    outlen == 0)
		return -1;
	s = j->doc + j->t[tok].start;
	end = j->doc + j->t[tok].end;
	while (s < end) {
		char	 c = *s++;

		if (c == '\\' && s < end) {
			c = *s++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				int v = 0, i, h;

				for (i = 0; i < 4 && s < end; i++, s++) {
					if ((h = hexval(*s)) == -1)
						return -1;
					v = v * 16 + h;
				}
				/* ASCII only; anything else becomes '?'. */
				c = v > 0 && v < 0x80 ? (char)v : '?';
				break;
			}
			default:
				break;	/* \" \\ \/ */
			}
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int
json_int(const struct json *j, int tok, long long *out)
{
	char		 num[32], *end;
	int		 len;
	long long	 v;

	if (tok < 0 || tok >= j->n || j->t[tok].type != JSMN_PRIMITIVE)
		return -1;
	len = j->t[tok].end - j->t[tok].start;
	if (len <= 0 || (size_t)len >= sizeof(num))
		return -1;
	memcpy(num, j->doc + j->t[tok].start, (size_t)len);
	num[len] = '\0';
	errno = 0;
	v = strtoll(num, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}
