/*
 * check_reqid.c - UUIDv4 request ids and the check on caller-sent ids.
 */
#include <check.h>
#include <regex.h>
#include <string.h>

#include "reqid.h"
#include "tap.h"

START_TEST(uuid_v4_shape)
{
	regex_t	 re;
	char	 id[64];
	int	 i;

	ck_assert_int_eq(regcomp(&re, "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
	    "[89ab][0-9a-f]{3}-[0-9a-f]{12}$", REG_EXTENDED | REG_NOSUB), 0);
	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(reqid_new(id, sizeof(id)), 0);
		ck_assert_uint_eq(strlen(id), 36);
		ck_assert_int_eq(regexec(&re, id, 0, NULL, 0), 0);
	}
	regfree(&re);
}
END_TEST

START_TEST(unique)
{
	char	 a[37], b[37];
	int	 i;

	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(reqid_new(a, sizeof(a)), 0);
		ck_assert_int_eq(reqid_new(b, sizeof(b)), 0);
		ck_assert_str_ne(a, b);
	}
}
END_TEST

START_TEST(short_buffer_refused)
{
	char	 small[36];

	ck_assert_int_eq(reqid_new(small, sizeof(small)), -1);
}
END_TEST

START_TEST(caller_ids)
{
	char	 longid[REQID_MAX + 2];

	ck_assert(reqid_valid("abc-123"));
	ck_assert(reqid_valid("7f0e1c2d-0000-4000-8000-000000000000"));
	ck_assert(!reqid_valid(""));
	ck_assert(!reqid_valid("has space"));
	ck_assert(!reqid_valid("quote\"d"));
	ck_assert(!reqid_valid("back\\slash"));
	ck_assert(!reqid_valid("ctl\x01"));
	ck_assert(!reqid_valid("utf8-\xc3\xa9"));
	memset(longid, 'a', REQID_MAX);
	longid[REQID_MAX] = '\0';
	ck_assert(reqid_valid(longid));
	longid[REQID_MAX] = 'a';
	longid[REQID_MAX + 1] = '\0';
	ck_assert(!reqid_valid(longid));
}
END_TEST

static Suite *
reqid_suite(void)
{
	Suite	*s = suite_create("reqid");
	TCase	*tc = tcase_create("reqid");

	tcase_add_test(tc, uuid_v4_shape);
	tcase_add_test(tc, unique);
	tcase_add_test(tc, short_buffer_refused);
	tcase_add_test(tc, caller_ids);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(reqid_suite());
}
