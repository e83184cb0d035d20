/*
 * check_hdr.c - header lists: order, duplicates, case, token lists.
 */
#include <check.h>
#include <string.h>

#include "hdr.h"
#include "tap.h"

START_TEST(keeps_order_and_duplicates)
{
	struct hdrs	 h = { 0 };

	hdrs_add(&h, "Set-Cookie", "a=1");
	hdrs_add(&h, "X-One", "1");
	hdrs_add(&h, "set-cookie", "b=2");
	ck_assert_uint_eq(h.n, 3);
	ck_assert_str_eq(h.v[0].value, "a=1");
	ck_assert_str_eq(h.v[2].name, "set-cookie");
	ck_assert_str_eq(hdrs_get(&h, "SET-COOKIE"), "a=1");
	ck_assert_uint_eq(hdrs_del(&h, "Set-Cookie"), 2);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_ptr_null(hdrs_get(&h, "set-cookie"));
	ck_assert_str_eq(h.v[0].name, "X-One");
	hdrs_free(&h);
	ck_assert_uint_eq(h.n, 0);
}
END_TEST

START_TEST(set_replaces_all)
{
	struct hdrs	 h = { 0 };

	hdrs_add(&h, "A", "1");
	hdrs_add(&h, "a", "2");
	hdrs_add(&h, "B", "3");
	hdrs_set(&h, "A", "9");
	ck_assert_uint_eq(h.n, 2);
	ck_assert_str_eq(hdrs_get(&h, "a"), "9");
	hdrs_free(&h);
}
END_TEST

START_TEST(counted_strings_and_empty_values)
{
	struct hdrs	 h = { 0 }, copy = { 0 };

	hdrs_addn(&h, "X-Abc-junk", 5, "", 0);
	ck_assert_str_eq(h.v[0].name, "X-Abc");
	ck_assert_str_eq(hdrs_get(&h, "x-abc"), "");
	hdrs_copy(&copy, &h);
	ck_assert_uint_eq(copy.n, 1);
	ck_assert_ptr_ne(copy.v[0].name, h.v[0].name);
	hdrs_free(&h);
	hdrs_free(&copy);
	hdrs_free(NULL);
}
END_TEST

START_TEST(token_lists)
{
	ck_assert(hdr_list_has("close", "close"));
	ck_assert(hdr_list_has("keep-alive, X-Secret", "x-secret"));
	ck_assert(hdr_list_has(" a ,\tb\t, c", "b"));
	ck_assert(!hdr_list_has("X-Secretive", "X-Secret"));
	ck_assert(!hdr_list_has("", "close"));
	ck_assert(!hdr_list_has(NULL, "close"));
	ck_assert(hdr_list_has("a,,b", "b"));
}
END_TEST

START_TEST(validity)
{
	ck_assert(hdr_name_valid("X-Genesys-Client", 16));
	ck_assert(!hdr_name_valid("X Bad", 5));
	ck_assert(!hdr_name_valid("X:Bad", 5));
	ck_assert(!hdr_name_valid("", 0));
	ck_assert(hdr_value_valid("a b\tc", 5));
	ck_assert(!hdr_value_valid("a\r\nb", 4));
}
END_TEST

static Suite *
hdr_suite(void)
{
	Suite	*s = suite_create("hdr");
	TCase	*tc = tcase_create("hdr");

	tcase_add_test(tc, keeps_order_and_duplicates);
	tcase_add_test(tc, set_replaces_all);
	tcase_add_test(tc, counted_strings_and_empty_values);
	tcase_add_test(tc, token_lists);
	tcase_add_test(tc, validity);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(hdr_suite());
}
