/*
 * json.h - thin typed getters over jsmn, for the few JSON documents weir
 * reads: 429 bodies and OAuth token responses.  Pure.
 *
 * json_parse() copies nothing: the document must outlive the struct json.
 * Tokens are addressed by index; 0 is the root.
 */
#ifndef WEIR_JSON_H
#define WEIR_JSON_H

#include <stddef.h>

struct json;

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
/* The integer at tok (a number without fraction or exponent): 0 or -1. */
int		 json_int(const struct json *, int tok, long long *out);

#endif
