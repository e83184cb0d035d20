/*
 * json.h - thin typed getters over jsmn, for the few JSON documents weir
 * reads: 429 bodies and OAuth token responses.  Pure.
 *
 * json_parse() copies nothing: the document must outlive the struct json.
 * Tokens are addressed by index; 0 is the root.  The tests read weir's
 * own JSON (errors, /status, log lines) through these getters too, so
 * there is one reader.
 */
#ifndef WEIR_JSON_H
#define WEIR_JSON_H

#include <stddef.h>

struct json;

/* What a token is; the numbers are jsmn's. */
enum json_type {
	JSON_NONE = 0,		/* no such token */
	JSON_OBJECT = 1,
	JSON_ARRAY = 2,
	JSON_STRING = 3,
	JSON_PRIMITIVE = 4	/* number, true, false or null */
};

/* Parse len bytes; NULL if they are not one complete JSON value or need
 * more than max_tokens tokens.  Free with json_free. */
struct json	*json_parse(const char *doc, size_t len, int max_tokens);
void		 json_free(struct json *);

/* Index of member key of the object at tok, or -1. */
int		 json_get(const struct json *, int tok, const char *key);
/* Copy the string at tok into out (unescaped, NUL-terminated).  0, or -1
 * if tok is not a string or does not fit. */
int		 json_string(const struct json *, int tok, char *out,
		    size_t outlen);
/* The type of the value at tok; JSON_NONE if there is no such token. */
enum json_type	 json_type(const struct json *, int tok);
/* The value at tok as written in the document (a string without its
 * quotes, escapes left as they are), not NUL-terminated; its length in
 * *len.  NULL if there is no such token. */
const char	*json_text(const struct json *, int tok, size_t *len);
/* The integer at tok (a number without fraction or exponent): 0 or -1. */
int		 json_int(const struct json *, int tok, long long *out);

#endif
