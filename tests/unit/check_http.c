/*
 * check_http.c - request head checks: method and field-name tokens, bytes
 * in targets and values, dot-segments in every spelling, and the signs
 * libmicrohttpd 0.9.75 leaves of obs-fold and NUL bytes (buffers laid out
 * the way it parses a head in place).
 */
#include <check.h>
#include <string.h>

#include "http.h"
#include "tap.h"

START_TEST(methods_are_tokens)
{
	ck_assert_ptr_null(http_check_method("GET"));
	ck_assert_ptr_null(http_check_method("PATCH"));
	ck_assert_ptr_null(http_check_method("M-SEARCH"));
	ck_assert_ptr_nonnull(http_check_method(""));
	ck_assert_ptr_nonnull(http_check_method("G\x01" "ET"));
	ck_assert_ptr_nonnull(http_check_method("GE\x7fT"));
	ck_assert_ptr_nonnull(http_check_method("GET(1)"));
	ck_assert_ptr_nonnull(http_check_method("G\xc3\xa9T"));
	ck_assert(strstr(http_check_method("G\tET"), "token") != NULL);
}
END_TEST

START_TEST(targets_hold_no_control_byte_or_space)
{
	ck_assert_ptr_null(http_check_target("/api/v2/users/me?expand=a,b"));
	ck_assert_ptr_null(http_check_target("/api/v2/a%2Fb/x%20y?q=%2F"));
	ck_assert_ptr_null(http_check_target("/api/v2/u/\xc3\xa9t\xc3\xa9"));
	ck_assert_ptr_nonnull(http_check_target("/a\rb"));
	ck_assert_ptr_nonnull(http_check_target("/a\nb"));
	ck_assert_ptr_nonnull(http_check_target("/a b"));
	ck_assert_ptr_nonnull(http_check_target("/a\tb"));
	ck_assert_ptr_nonnull(http_check_target("/a?q=\x01"));
	ck_assert_ptr_nonnull(http_check_target("/a\x7f"));
	ck_assert(strstr(http_check_target("/a b"), "space") != NULL);
}
END_TEST

/* Paths that must never reach an upstream, and near misses that may. */
static const char *const dotted[] = {
	"/..", "/../x", "/.", "/./x", "/api/v2/../../x", "/api/v2/..",
	"/%2e%2e/x", "/%2E%2e/x", "/a/%2E%2e/b", "/a/.%2e/b", "/a/%2e./b",
	"/a/%2e/b", "/a/..%2fb", "/a/..%2Fb", "/a%2f..%2fb", "/a%2F%2e%2e",
	"..%2f", "..", ".", "/a/..\\b", "/a\\..\\b", "/a/..%5cb",
	"/a/%2e%2E%5Cb", "/a/..?q=1", "/a/%2e%2e?q",
};
static const char *const undotted[] = {
	"/", "/a/b", "/a/.../b", "/a/..b/c", "/a/b../c", "/a/.b", "/a/b.",
	"/a/%2e%2e%2e", "/a/%2ex", "/a%2fb%2fc", "/a/b?x=/../y",
	"/a/b?../..", "/.well-known/x", "/a/%2", "/a/%2e%2", "/v1.2/x",
	"/a/%252e%252e/b",
};

START_TEST(dot_segments_in_every_spelling_are_found)
{
	const char	*p = dotted[_i];

	ck_assert_msg(http_dot_segment(p, strcspn(p, "?")) == 1, "%s", p);
	if (p[0] == '/')
		ck_assert_msg(http_check_target(p) != NULL &&
		    strstr(http_check_target(p), "dot-segment") != NULL,
		    "%s", p);
}
END_TEST

START_TEST(paths_without_dot_segments_pass)
{
	const char	*p = undotted[_i];

	ck_assert_msg(http_dot_segment(p, strcspn(p, "?")) == 0, "%s", p);
	ck_assert_msg(http_check_target(p) == NULL, "%s", p);
}
END_TEST

START_TEST(field_names_are_tokens_and_values_visible_bytes)
{
	ck_assert_ptr_null(http_check_field("X-Foo", 5, "a b\tc", 5));
	ck_assert_ptr_null(http_check_field("X-Foo", 5, "", 0));
	ck_assert_ptr_null(http_check_field("X-Foo", 5, "\xc3\xa9\xff", 3));
	ck_assert_ptr_null(http_check_field("!#$%&'*+-.^_`|~", 15, "v", 1));
	ck_assert_ptr_nonnull(http_check_field("X-A(b)", 6, "1", 1));
	ck_assert_ptr_nonnull(http_check_field("X A", 3, "1", 1));
	ck_assert_ptr_nonnull(http_check_field(" Host", 5, "w", 1));
	ck_assert_ptr_nonnull(http_check_field("X:A", 3, "1", 1));
	ck_assert_ptr_nonnull(http_check_field("", 0, "1", 1));
	ck_assert_ptr_nonnull(http_check_field("X-A", 3, "a\rb", 3));
	ck_assert_ptr_nonnull(http_check_field("X-A", 3, "a\nb", 3));
	ck_assert_ptr_nonnull(http_check_field("X-A", 3, "a\0b", 3));
	ck_assert_ptr_nonnull(http_check_field("X-A", 3, "a\x01", 2));
	ck_assert_ptr_nonnull(http_check_field("X-A", 3, "\x1f", 1));
	ck_assert_ptr_nonnull(http_check_field("X-A", 3, "a\x7f" "b", 3));
	/* the size counts, not the NUL */
	ck_assert_ptr_null(http_check_field("X-Ab", 3, "a\0b", 1));
	ck_assert(strstr(http_check_field("X-A", 3, "a\rb", 3),
	    "control byte") != NULL);
}
END_TEST

/*
 * How libmicrohttpd 0.9.75 leaves "X-A: one\r\n two\r\n" in its pool: the
 * line in the read buffer ("X-A", NUL for the colon, the space, "one",
 * the line end as NULs), the continuation appended to the name in a new
 * allocation ("X-Atwo"), the value where it was.
 */
START_TEST(a_folded_name_is_told_by_where_it_lies)
{
	static const char	 pool[] = "X-A\0 \tone\0\0 two\0\0\0\0X-Atwo\0";
	static const char	 before[] = "X-Atwo\0\0\0\0X-A\0 one\0\0";
	static const char	 tight[] = "X-A\0one", junk[] = "X-A\0x one";
	const char		*value = pool + 6;

	/* as read: the name ends right before the value */
	ck_assert_ptr_null(http_check_fold(pool, 3, value));
	ck_assert_ptr_null(http_check_fold(tight, 3, tight + 4));
	/* the folded name, allocated after the read buffer */
	ck_assert_ptr_nonnull(http_check_fold(pool + 19, 6, value));
	/* or before it */
	ck_assert_ptr_nonnull(http_check_fold(before, 6, before + 15));
	ck_assert(strstr(http_check_fold(pool + 19, 6, value), "obs-fold")
	    != NULL);
	/* something other than spaces between name and value */
	ck_assert_ptr_nonnull(http_check_fold(junk, 3, junk + 6));
}
END_TEST

/*
 * "X-A: a\0b\r\nX-B: c\r\n\r\n" as libmicrohttpd 0.9.75 leaves it: the
 * value cut at the NUL ("a", size 1) and the next name three bytes past
 * its end instead of one (LF) or two (CRLF).
 */
START_TEST(a_nul_in_a_value_is_told_by_where_the_line_ends)
{
	static const char	 crlf[] = "X-A\0 a\0\0X-B\0 c\0\0\0\0";
	static const char	 lf[] = "X-A\0 a\0X-B\0 c\0\0";
	static const char	 nul[] = "X-A\0 a\0b\0\0X-B\0 c\0\0\0\0";
	static const char	 nul_last[] = "X-A\0 a\0b\0\0\0\0";
	static const char	 empty[] = "X-D\0\0\0\0\0";

	ck_assert_ptr_null(http_check_line_end(crlf + 5, 1, crlf + 8));
	ck_assert_ptr_null(http_check_line_end(crlf + 13, 1, NULL));
	ck_assert_ptr_null(http_check_line_end(lf + 5, 1, lf + 7));
	ck_assert_ptr_null(http_check_line_end(lf + 12, 1, NULL));
	ck_assert_ptr_null(http_check_line_end(empty + 4, 0, NULL));
	ck_assert_ptr_nonnull(http_check_line_end(nul + 5, 1, nul + 10));
	ck_assert_ptr_nonnull(http_check_line_end(nul_last + 5, 1, NULL));
	ck_assert(strstr(http_check_line_end(nul + 5, 1, nul + 10), "NUL")
	    != NULL);
}
END_TEST

/* "GET /a HTTP/1.1" split in place: "GET\0/a\0HTTP/1.1". */
START_TEST(a_nul_in_the_request_line_is_told_by_where_parts_end)
{
	static const char	 ok[] = "GET\0/a\0HTTP/1.1";
	static const char	 spaces[] = "GET\0  /a\0HTTP/1.1";
	static const char	 m[] = "G\0ET\0/a\0HTTP/1.1";	/* G\0ET /a */
	static const char	 t[] = "GET\0/a\0b\0HTTP/1.1";	/* /a\0b */

	ck_assert_ptr_null(http_check_request_line(ok, ok + 4, 2, ok + 7));
	ck_assert_ptr_null(http_check_request_line(spaces, spaces + 6, 2,
	    spaces + 9));
	ck_assert_ptr_nonnull(http_check_request_line(m, m + 5, 2, m + 8));
	ck_assert_ptr_nonnull(http_check_request_line(t, t + 4, 2, t + 9));
	ck_assert(strstr(http_check_request_line(m, m + 5, 2, m + 8),
	    "method") != NULL);
	ck_assert(strstr(http_check_request_line(t, t + 4, 2, t + 9),
	    "target") != NULL);
}
END_TEST

/* The smuggling shapes and what a proxy cannot pass on, by framing. */
START_TEST(framing_refuses_what_two_parsers_could_read_apart)
{
	static const struct {
		const char	*fields[4][2];
		const char	*version;
		enum weir_err	 want;
	} cases[] = {
		{ { { "Host", "w" } }, "HTTP/1.1", WERR_NONE },
		{ { { "Content-Length", "5" } }, "HTTP/1.0", WERR_NONE },
		{ { { "Host", "w" }, { "Content-Length", "5" },
		    { "Content-Length", "5" } }, "HTTP/1.1", WERR_NONE },
		{ { { "Host", "w" }, { "Content-Length", "5" },
		    { "Content-Length", "6" } }, "HTTP/1.1", WERR_BAD_REQUEST },
		{ { { "Host", "w" }, { "Content-Length", "5" },
		    { "Transfer-Encoding", "chunked" } }, "HTTP/1.1",
		    WERR_BAD_REQUEST },
		{ { { "Host", "w" }, { "Transfer-Encoding", "gzip" } },
		    "HTTP/1.1", WERR_UNSUPPORTED_TRANSFER_ENCODING },
		{ { { "Host", "w" }, { "Transfer-Encoding", "chunked" },
		    { "Transfer-Encoding", "chunked" } }, "HTTP/1.1",
		    WERR_UNSUPPORTED_TRANSFER_ENCODING },
		{ { { "Content-Length", "5" } }, "HTTP/1.1", WERR_BAD_REQUEST },
	};
	struct hdrs	 h;
	const char	*msg;
	size_t		 i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&h, 0, sizeof(h));
		for (k = 0; k < 4 && cases[i].fields[k][0] != NULL; k++)
			hdrs_add(&h, cases[i].fields[k][0],
			    cases[i].fields[k][1]);
		ck_assert_msg(http_check_framing("POST", "/x", &h,
		    cases[i].version, 32768, &msg) == cases[i].want,
		    "case %zu", i);
		if (cases[i].want == WERR_BAD_REQUEST)
			ck_assert_ptr_nonnull(msg);
		hdrs_free(&h);
	}
	/* the whole head counts against max_header_size */
	memset(&h, 0, sizeof(h));
	hdrs_add(&h, "Host", "w");
	hdrs_add(&h, "X-Big", "0123456789012345678901234567890123456789");
	ck_assert_int_eq(http_check_framing("GET", "/x", &h, "HTTP/1.1", 64,
	    &msg), WERR_HEADERS_TOO_LARGE);
	ck_assert_int_eq(http_check_framing("GET", "/x", &h, "HTTP/1.1", 1024,
	    &msg), WERR_NONE);
	hdrs_free(&h);
}
END_TEST

START_TEST(max_wait_is_seconds_capped)
{
	uint64_t	 ms;

	ck_assert_int_eq(http_max_wait(NULL, 15000, 300000, &ms), 0);
	ck_assert_uint_eq(ms, 15000);
	ck_assert_int_eq(http_max_wait("2.5", 15000, 300000, &ms), 0);
	ck_assert_uint_eq(ms, 2500);
	ck_assert_int_eq(http_max_wait("0", 15000, 300000, &ms), 0);
	ck_assert_uint_eq(ms, 0);
	ck_assert_int_eq(http_max_wait("86400", 15000, 300000, &ms), 0);
	ck_assert_uint_eq(ms, 300000);
	ck_assert_int_eq(http_max_wait("-1", 15000, 300000, &ms), -1);
	ck_assert_int_eq(http_max_wait("5s", 15000, 300000, &ms), -1);
	ck_assert_int_eq(http_max_wait("nan", 15000, 300000, &ms), -1);
	ck_assert_int_eq(http_max_wait("", 15000, 300000, &ms), -1);
	ck_assert_int_eq(http_max_wait("1e300", 15000, 300000, &ms), -1);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("http");

	tcase_add_test(tc, methods_are_tokens);
	tcase_add_test(tc, targets_hold_no_control_byte_or_space);
	tcase_add_loop_test(tc, dot_segments_in_every_spelling_are_found, 0,
	    (int)(sizeof(dotted) / sizeof(dotted[0])));
	tcase_add_loop_test(tc, paths_without_dot_segments_pass, 0,
	    (int)(sizeof(undotted) / sizeof(undotted[0])));
	tcase_add_test(tc, field_names_are_tokens_and_values_visible_bytes);
	tcase_add_test(tc, a_folded_name_is_told_by_where_it_lies);
	tcase_add_test(tc, a_nul_in_a_value_is_told_by_where_the_line_ends);
	tcase_add_test(tc, a_nul_in_the_request_line_is_told_by_where_parts_end);
	tcase_add_test(tc, framing_refuses_what_two_parsers_could_read_apart);
	tcase_add_test(tc, max_wait_is_seconds_capped);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(http_suite());
}
