/*
 * check_error.c - weir's error table and its one renderer: every error
 * has a status and a weir.* code, its JSON is Genesys' shape and valid,
 * and a call's own message replaces the table's.
 */
#include <check.h>
#include <string.h>

#include "call.h"
#include "error.h"
#include "json.h"
#include "tap.h"

START_TEST(every_error_has_a_status_a_code_and_a_message)
{
	int	 e;

	for (e = WERR_NONE + 1; e < WERR_COUNT; e++) {
		ck_assert_msg(error_status(e) >= 400 && error_status(e) <= 599,
		    "error %d: status %d", e, error_status(e));
		ck_assert_msg(strncmp(error_code(e), "weir.", 5) == 0,
		    "error %d: code %s", e, error_code(e));
		ck_assert_msg(strlen(error_message(e)) > 10,
		    "error %d: message \"%s\"", e, error_message(e));
	}
	/* out of range is an internal error, not a crash */
	ck_assert_str_eq(error_code(WERR_COUNT + 3), "weir.internal");
}
END_TEST

/* Every error renders as JSON the proxy's own parser reads back. */
START_TEST(the_json_is_genesys_shape)
{
	struct buf	 b = { 0 };
	struct json	*j;
	char		 out[512];
	long long	 status = 0;
	int		 e;

	for (e = WERR_NONE + 1; e < WERR_COUNT; e++) {
		b.len = 0;
		error_json(&b, e, e == WERR_BAD_REQUEST ?
		    "obs-fold \"quoted\", RFC 9112 5.2" : NULL,
		    e == WERR_ADMIN_NOT_FOUND ? NULL : "id-1");
		ck_assert_ptr_nonnull(j = json_parse(b.p, b.len, 64));
		ck_assert_int_eq(json_string(j, json_get(j, 0, "code"), out,
		    sizeof(out)), 0);
		ck_assert_str_eq(out, error_code(e));
		ck_assert_int_eq(json_int(j, json_get(j, 0, "status"),
		    &status), 0);
		ck_assert_int_eq(status, error_status(e));
		ck_assert_int_eq(json_string(j, json_get(j, 0, "message"), out,
		    sizeof(out)), 0);
		ck_assert_str_eq(out, e == WERR_BAD_REQUEST ?
		    "obs-fold \"quoted\", RFC 9112 5.2" : error_message(e));
		ck_assert_int_eq(json_get(j, 0, "contextId") >= 0,
		    e != WERR_ADMIN_NOT_FOUND);
		ck_assert_int_ge(json_get(j, 0, "details"), 0);
		json_free(j);
	}
	buf_free(&b);
}
END_TEST

START_TEST(a_call_carries_its_error)
{
	struct call	*c = call_new("GET", "/x");

	ck_assert_int_eq(c->err, WERR_NONE);
	call_set_error(c, WERR_BAD_REQUEST, "space in the target");
	ck_assert_int_eq(c->err, WERR_BAD_REQUEST);
	ck_assert_str_eq(c->err_message, "space in the target");
	call_set_error(c, WERR_DEADLINE, NULL);
	ck_assert_ptr_null(c->err_message);
	call_free(c);
}
END_TEST

static Suite *
error_suite(void)
{
	Suite	*s = suite_create("error");
	TCase	*tc = tcase_create("error");

	tcase_add_test(tc, every_error_has_a_status_a_code_and_a_message);
	tcase_add_test(tc, the_json_is_genesys_shape);
	tcase_add_test(tc, a_call_carries_its_error);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(error_suite());
}
