/*
 * check_json.c - the typed getters over jsmn.
 */
#include <check.h>
#include <string.h>

#include "json.h"
#include "tap.h"

START_TEST(nested_lookup)
{
	static const char doc[] = "{\"a\":[1,{\"limit\":2}],\"limit\":{\"key\":"
	    "\"k\",\"value\":300},\"s\":\"x\\\"y\\u0041\\n\"}";
	struct json	*j = json_parse(doc, strlen(doc), 64);
	long long	 v;
	char		 out[32];

	ck_assert_ptr_nonnull(j);
	/* the "limit" inside the array is not the top-level one */
	ck_assert_int_eq(json_int(j, json_get(j, json_get(j, 0, "limit"),
	    "value"), &v), 0);
	ck_assert_int_eq(v, 300);
	ck_assert_int_eq(json_string(j, json_get(j, 0, "s"), out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "x\"yA\n");
	ck_assert_int_eq(json_get(j, 0, "missing"), -1);
	ck_assert_int_eq(json_get(j, json_get(j, 0, "a"), "limit"), -1);
	ck_assert_int_eq(json_int(j, json_get(j, 0, "s"), &v), -1);
	ck_assert_int_eq(json_string(j, json_get(j, 0, "s"), out, 3), -1);
	json_free(j);
}
END_TEST

START_TEST(bad_documents)
{
	static const char *const bad[] = {
		"", "{", "[1,2", "{\"a\" 1}", "nul", NULL
	};
	int	 i;

	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(json_parse(bad[i], strlen(bad[i]), 64) == NULL,
		    "parsed '%s'", bad[i]);
	/* too many tokens for the limit */
	ck_assert_ptr_null(json_parse("[1,2,3,4,5]", 11, 3));
}
END_TEST

START_TEST(numbers)
{
	static const char doc[] = "{\"i\":-12,\"f\":1.5,\"t\":true}";
	struct json	*j = json_parse(doc, strlen(doc), 16);
	long long	 v;

	ck_assert_int_eq(json_int(j, json_get(j, 0, "i"), &v), 0);
	ck_assert_int_eq(v, -12);
	ck_assert_int_eq(json_int(j, json_get(j, 0, "f"), &v), -1);
	ck_assert_int_eq(json_int(j, json_get(j, 0, "t"), &v), -1);
	json_free(j);
}
END_TEST

/* What a token is and how it is written, for readers that want more than
 * a string or an integer (the tests' reads of /status and log lines). */
START_TEST(type_and_text)
{
	static const char doc[] = "{\"s\":\"a\\u0041\",\"f\":1.5,\"n\":null,"
	    "\"o\":{\"x\":[1]}}";
	struct json	*j = json_parse(doc, strlen(doc), 16);
	const char	*p;
	size_t		 len;

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_type(j, 0), JSON_OBJECT);
	p = json_text(j, 0, &len);
	ck_assert(p == doc && len == strlen(doc));
	ck_assert_int_eq(json_type(j, json_get(j, 0, "s")), JSON_STRING);
	p = json_text(j, json_get(j, 0, "s"), &len);
	ck_assert_uint_eq(len, 7);
	ck_assert(memcmp(p, "a\\u0041", len) == 0);
	ck_assert_int_eq(json_type(j, json_get(j, 0, "f")), JSON_PRIMITIVE);
	p = json_text(j, json_get(j, 0, "f"), &len);
	ck_assert(len == 3 && memcmp(p, "1.5", 3) == 0);
	p = json_text(j, json_get(j, 0, "n"), &len);
	ck_assert(len == 4 && memcmp(p, "null", 4) == 0);
	ck_assert_int_eq(json_type(j, json_get(j, json_get(j, 0, "o"), "x")),
	    JSON_ARRAY);
	ck_assert_int_eq(json_type(j, json_get(j, 0, "missing")), JSON_NONE);
	ck_assert_ptr_null(json_text(j, 99, &len));
	json_free(j);
}
END_TEST

static Suite *
json_suite(void)
{
	Suite	*s = suite_create("json");
	TCase	*tc = tcase_create("json");

	tcase_add_test(tc, nested_lookup);
	tcase_add_test(tc, bad_documents);
	tcase_add_test(tc, numbers);
	tcase_add_test(tc, type_and_text);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(json_suite());
}
