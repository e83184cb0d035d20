/*
 * check_config_parse.c - config_parse.c: each value parser on its own,
 * what it accepts, what it makes of it, and the reason it gives when it
 * refuses (config.c puts "FILE:LINE: KEY: " in front; check_config.c
 * checks the whole messages).
 *
 * No sockets; the only file touched is one mkstemp() file under /tmp.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_parse.h"
#include "tap.h"

#define WHYLEN	1024

/* cfgp_size, cfgp_duration and cfgp_count. */
typedef int (*number_fn)(const char *, uint64_t, uint64_t, uint64_t *,
    char *, size_t);

struct number_case {
	const char	*v;
	uint64_t	 want;
};

/*
 * Over the whole 64-bit range, each of ok[] (ended by a NULL v) gives its
 * number, and each of bad[] fails with the reason expected and leaves the
 * result alone.
 */
static void
check_numbers(number_fn fn, const struct number_case *ok,
    const char *const *bad, const char *expected)
{
	uint64_t	v;
	char		why[WHYLEN];

	for (; ok->v != NULL; ok++) {
		ck_assert_msg(fn(ok->v, 0, UINT64_MAX, &v, why, sizeof(why)) ==
		    0, "'%s': %s", ok->v, why);
		ck_assert_uint_eq(v, ok->want);
	}
	for (; *bad != NULL; bad++) {
		v = 7;
		ck_assert_msg(fn(*bad, 0, UINT64_MAX, &v, why, sizeof(why)) ==
		    -1, "'%s' accepted", *bad);
		ck_assert_str_eq(why, expected);
		ck_assert_uint_eq(v, 7);
	}
}

/* A value refused within [min, max], and the reason it must give. */
struct refusal {
	const char	*v;
	uint64_t	 min, max;
	const char	*why;
};

/* Each of refused[] (ended by a NULL v) fails with its own reason. */
static void
check_refusals(number_fn fn, const struct refusal *r)
{
	uint64_t	v = 7;
	char		why[WHYLEN];

	for (; r->v != NULL; r++) {
		ck_assert_msg(fn(r->v, r->min, r->max, &v, why, sizeof(why)) ==
		    -1, "'%s' accepted", r->v);
		ck_assert_str_eq(why, r->why);
	}
	ck_assert_uint_eq(v, 7);
}

START_TEST(sizes_take_k_m_g_in_either_case)
{
	static const struct number_case ok[] = {
		{ "0", 0 }, { "512", 512 }, { "64k", 65536 },
		{ "16M", 16777216 }, { "3g", UINT64_C(3) << 30 },
		{ "18446744073709551615", UINT64_MAX },
		{ "16777215g", UINT64_C(16777215) << 30 }, { NULL, 0 }
	};
	static const char *const bad[] = {
		"", "k", "1kb", "1t", "-1", "+1", " 1", "1 ", "1.5m", NULL
	};

	check_numbers(cfgp_size, ok, bad,
	    "expected a size such as 512, 64k, 16m or 1g");
}
END_TEST

START_TEST(a_size_out_of_range_names_the_range_in_its_own_units)
{
	static const struct refusal refused[] = {
		{ "2g", 0, CFGP_GiB, "must be between 0 and 1g" },
		{ "512", CFGP_KiB, CFGP_MiB, "must be between 1k and 1m" },
		{ "1", 1536, 1025 * CFGP_KiB,
		    "must be between 1536 and 1025k" },
		/* Too large for 64 bits is out of range, not garbage. */
		{ "18446744073709551616", 0, UINT64_MAX,
		    "must be between 0 and 18446744073709551615" },
		{ "17179869184g", 0, CFGP_GiB, "must be between 0 and 1g" },
		{ NULL, 0, 0, NULL }
	};
	uint64_t	v;
	char		why[WHYLEN];

	check_refusals(cfgp_size, refused);
	/* Both ends are in. */
	ck_assert_int_eq(cfgp_size("1k", CFGP_KiB, CFGP_MiB, &v, why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(v, CFGP_KiB);
	ck_assert_int_eq(cfgp_size("1024K", CFGP_KiB, CFGP_MiB, &v, why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(v, CFGP_MiB);
}
END_TEST

START_TEST(a_bare_duration_is_seconds)
{
	static const struct number_case ok[] = {
		{ "0", 0 }, { "15", 15000 }, { "250ms", 250 },
		{ "30s", 30000 }, { "5m", 300000 }, { "2H", 7200000 },
		{ "1MS", 1 }, { "18446744073709551615ms", UINT64_MAX },
		{ NULL, 0 }
	};
	static const char *const bad[] = {
		"", "1d", "s", "1 s", "1sec", "1min", "-1s", NULL
	};
	static const struct refusal refused[] = {
		{ "0", 1, 10 * CFGP_MINUTE, "must be between 1ms and 10m" },
		{ "25h", CFGP_SEC, 24 * CFGP_HOUR,
		    "must be between 1s and 24h" },
		/* 2^64 - 1 seconds do not fit in milliseconds. */
		{ "18446744073709551615", 0, UINT64_MAX,
		    "must be between 0 and 18446744073709551615ms" },
		{ "5124095576030432h", 0, UINT64_MAX,
		    "must be between 0 and 18446744073709551615ms" },
		{ NULL, 0, 0, NULL }
	};

	check_numbers(cfgp_duration, ok, bad,
	    "expected a duration such as 500ms, 30s, 5m or 1h");
	check_refusals(cfgp_duration, refused);
}
END_TEST

START_TEST(durations_are_shown_in_the_largest_unit_that_divides)
{
	char	buf[32];

	ck_assert_str_eq(cfgp_fmt_duration(0, buf, sizeof(buf)), "0");
	ck_assert_str_eq(cfgp_fmt_duration(1, buf, sizeof(buf)), "1ms");
	ck_assert_str_eq(cfgp_fmt_duration(1500, buf, sizeof(buf)),
	    "1500ms");
	ck_assert_str_eq(cfgp_fmt_duration(90000, buf, sizeof(buf)), "90s");
	ck_assert_str_eq(cfgp_fmt_duration(600000, buf, sizeof(buf)), "10m");
	ck_assert_str_eq(cfgp_fmt_duration(2 * CFGP_HOUR, buf, sizeof(buf)),
	    "2h");
}
END_TEST

START_TEST(a_count_is_a_plain_whole_number)
{
	static const struct number_case ok[] = {
		{ "0", 0 }, { "100000", 100000 }, { "007", 7 },
		{ "18446744073709551615", UINT64_MAX }, { NULL, 0 }
	};
	static const char *const bad[] = {
		"", "1k", "-1", "1s", "1 ", "0x10", NULL
	};
	static const struct refusal refused[] = {
		/* A count's range is never shown in units: 1024 is not 1k. */
		{ "0", 1024, 2048, "must be between 1024 and 2048" },
		{ "99999999999999999999", 0, 5, "must be between 0 and 5" },
		{ NULL, 0, 0, NULL }
	};

	check_numbers(cfgp_count, ok, bad, "expected a whole number");
	check_refusals(cfgp_count, refused);
}
END_TEST

START_TEST(a_rate_knows_every_spelling_of_its_unit)
{
	static const struct {
		const char	*v;
		uint64_t	 n, per_ms;
	} ok[] = {
		{ "300/min", 300, 60000 }, { "5/s", 5, 1000 },
		{ "5/sec", 5, 1000 }, { "5/Second", 5, 1000 },
		{ "5/m", 5, 60000 }, { "5/minute", 5, 60000 },
		{ "7/h", 7, 3600000 }, { "7/Hour", 7, 3600000 },
		{ "0/s", 0, 1000 },
	};
	static const char *const bad[] = {
		"5", "5/", "/s", "5/day", "5/10s", "5 /s", "5/ s", "-5/s", "",
		NULL
	};
	struct rate	r;
	char		why[WHYLEN];
	size_t		i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_int_eq(cfgp_rate(ok[i].v, 0, UINT64_MAX, &r, why,
		    sizeof(why)), 0);
		ck_assert_uint_eq(r.n, ok[i].n);
		ck_assert_uint_eq(r.per_ms, ok[i].per_ms);
	}
	for (i = 0; bad[i] != NULL; i++) {
		ck_assert_msg(cfgp_rate(bad[i], 0, UINT64_MAX, &r, why,
		    sizeof(why)) == -1, "'%s' accepted", bad[i]);
		ck_assert_str_eq(why, "expected N/s or N/min");
	}
}
END_TEST

START_TEST(a_rate_out_of_range_names_the_range_of_n)
{
	struct rate	r = { 3, 4 };
	char		why[WHYLEN];

	ck_assert_int_eq(cfgp_rate("0/s", 1, 1000000, &r, why, sizeof(why)),
	    -1);
	ck_assert_str_eq(why, "N must be between 1 and 1000000");
	ck_assert_int_eq(cfgp_rate("1000001/min", 1, 1000000, &r, why,
	    sizeof(why)), -1);
	ck_assert_str_eq(why, "N must be between 1 and 1000000");
	/* Too many digits is out of range, whatever follows them. */
	ck_assert_int_eq(cfgp_rate("99999999999999999999/day", 1, 10, &r,
	    why, sizeof(why)), -1);
	ck_assert_str_eq(why, "N must be between 1 and 10");
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(r.per_ms, 4);
}
END_TEST

START_TEST(booleans_take_four_words_each_way)
{
	static const char *const yes[] = { "on", "YES", "True", "1", NULL };
	static const char *const no[] = { "off", "No", "FALSE", "0", NULL };
	static const char *const bad[] = { "", "2", "enabled", "on ", NULL };
	char	why[WHYLEN];
	int	on;
	size_t	i;

	for (i = 0; yes[i] != NULL; i++) {
		on = 0;
		ck_assert_int_eq(cfgp_bool(yes[i], &on, why, sizeof(why)), 0);
		ck_assert_int_eq(on, 1);
	}
	for (i = 0; no[i] != NULL; i++) {
		on = 1;
		ck_assert_int_eq(cfgp_bool(no[i], &on, why, sizeof(why)), 0);
		ck_assert_int_eq(on, 0);
	}
	for (i = 0; bad[i] != NULL; i++) {
		on = 5;
		ck_assert_int_eq(cfgp_bool(bad[i], &on, why, sizeof(why)), -1);
		ck_assert_str_eq(why, "expected on or off");
		ck_assert_int_eq(on, 5);
	}
}
END_TEST

START_TEST(a_word_from_a_list_is_its_index_and_the_reason_lists_them)
{
	static const char *const four[] = {
		"error", "warn", "info", "debug", NULL
	};
	static const char *const two[] = { "json", "text", NULL };
	static const char *const one[] = { "only", NULL };
	char	why[WHYLEN], small[12];
	int	i = -1;

	ck_assert_int_eq(cfgp_enum("DEBUG", four, &i, why, sizeof(why)), 0);
	ck_assert_int_eq(i, 3);
	ck_assert_int_eq(cfgp_enum("error", four, &i, why, sizeof(why)), 0);
	ck_assert_int_eq(i, 0);
	ck_assert_int_eq(cfgp_enum("loud", four, &i, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "expected error, warn, info or debug");
	ck_assert_int_eq(cfgp_enum("xml", two, &i, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "expected json or text");
	ck_assert_int_eq(cfgp_enum("", one, &i, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "expected only");
	ck_assert_int_eq(i, 0);
	/* A short buffer gets the start of the reason, terminated. */
	ck_assert_int_eq(cfgp_enum("loud", four, &i, small, sizeof(small)),
	    -1);
	ck_assert_str_eq(small, "expected er");
}
END_TEST

START_TEST(listen_addresses_are_numeric_with_a_port)
{
	static const char *const bad[] = {
		"8080", "expected ADDR:PORT or [ADDR]:PORT",
		"[::1]8080", "expected ADDR:PORT or [ADDR]:PORT",
		":80", "expected ADDR:PORT or [ADDR]:PORT",
		"::1:80", "an IPv6 address needs brackets, as in [::1]:8080",
		"1.2.3.4:+80", "port must be between 0 and 65535",
		"1.2.3.4:65536", "port must be between 0 and 65535",
		"1.2.3.4:", "port must be between 0 and 65535",
		"example.com:80", "'example.com' is not a numeric IPv4 address",
		"256.0.0.1:80", "'256.0.0.1' is not a numeric IPv4 address",
		"[1.2.3.4]:80", "'1.2.3.4' is not a numeric IPv6 address",
		NULL
	};
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len = 0;
	char			 why[WHYLEN];
	size_t			 i;

	ck_assert_int_eq(cfgp_listen("127.0.0.1:0", &ss, &len, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 0);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	ck_assert_int_eq(cfgp_listen("LocalHost:80", &ss, &len, why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	ck_assert_int_eq(cfgp_listen("*:65535", &ss, &len, why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	ck_assert_uint_eq(ntohs(sin->sin_port), 65535);
	ck_assert_int_eq(cfgp_listen("[::1]:8443", &ss, &len, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));

	for (i = 0; bad[i] != NULL; i += 2) {
		ck_assert_msg(cfgp_listen(bad[i], &ss, &len, why,
		    sizeof(why)) == -1, "'%s' accepted", bad[i]);
		ck_assert_str_eq(why, bad[i + 1]);
	}
	/* A failure leaves the last address alone. */
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
}
END_TEST

/* cfgp_url, cfgp_prefix, cfgp_hdrname and cfgp_path. */
typedef int (*string_fn)(const char *, char **, char *, size_t);

/*
 * ok[] holds pairs of a value and what it becomes; bad[] pairs of a value
 * and the reason it is refused, which leaves the result alone.  Both end
 * with a NULL.
 */
static void
check_strings(string_fn fn, const char *const *ok, const char *const *bad)
{
	char	why[WHYLEN], *out;

	for (; *ok != NULL; ok += 2) {
		out = NULL;
		ck_assert_msg(fn(ok[0], &out, why, sizeof(why)) == 0,
		    "'%s': %s", ok[0], why);
		ck_assert_str_eq(out, ok[1]);
		free(out);
	}
	for (out = NULL; *bad != NULL; bad += 2) {
		ck_assert_msg(fn(bad[0], &out, why, sizeof(why)) == -1,
		    "'%s' accepted", bad[0]);
		ck_assert_str_eq(why, bad[1]);
		ck_assert_ptr_null(out);
	}
}

START_TEST(urls_get_a_lower_case_scheme_and_host_and_no_trailing_slash)
{
	static const char *const ok[] = {
		"http://x", "http://x",
		"https://x/", "https://x",
		"https://X.Example.com:443", "https://x.example.com:443",
		"http://[::1]:8080/a/b//", "http://[::1]:8080/a/b",
		"HTTP://h_1:65535/v1;x=1", "http://h_1:65535/v1;x=1",
		"https://API.x/Case/Kept/", "https://api.x/Case/Kept",
		"https://[::FFFF:1.2.3.4]/", "https://[::ffff:1.2.3.4]",
		"http://x:080/", "http://x:80",
		NULL
	};
	static const char *const none[] = { NULL };

	check_strings(cfgp_url, ok, none);
}
END_TEST

START_TEST(a_bad_url_says_which_part_is_wrong)
{
	static const char *const bad[] = {
		"api.mypurecloud.com", "expected an http:// or https:// URL",
		"ftp://x", "expected an http:// or https:// URL",
		"", "expected an http:// or https:// URL",
		"https://x/a?b=c", "must not have a query or fragment",
		"https://x#f", "must not have a query or fragment",
		"https://u:p@x", "must not contain user information",
		"https://", "missing host in URL",
		"https://:80", "missing host in URL",
		"https://a b", "bad host name in URL",
		"https://[]", "bad IPv6 address in URL",
		"https://[::1", "bad IPv6 address in URL",
		"https://[::g]/", "bad IPv6 address in URL",
		"https://x:0", "port must be between 1 and 65535",
		"https://x:65536", "port must be between 1 and 65535",
		"https://x:", "port must be between 1 and 65535",
		"https://x:8a", "port must be between 1 and 65535",
		"https://[::1]x", "port must be between 1 and 65535",
		"https://x/a b", "bad character in URL path",
		NULL
	};
	static const char *const none[] = { NULL };

	check_strings(cfgp_url, none, bad);
}
END_TEST

START_TEST(a_prefix_starts_with_a_slash_and_loses_the_last)
{
	static const char *const ok[] = {
		"", "",
		"/api/", "/api",
		"//", "",
		"/a/%7e:@", "/a/%7e:@",
		NULL
	};
	static const char *const bad[] = {
		"api", "must start with '/', as in /api",
		"/a b", "expected a path such as /api",
		"/a?b", "expected a path such as /api",
		NULL
	};

	check_strings(cfgp_prefix, ok, bad);
}
END_TEST

START_TEST(header_names_and_fields_are_checked_and_trimmed)
{
	static const char *const ok[] = {
		"X-Request-Id", "X-Request-Id",
		"x_b!#$%&'*+.^`|~", "x_b!#$%&'*+.^`|~",
		NULL
	};
	static const char *const bad[] = {
		"X Request", "invalid header name 'X Request'",
		"", "invalid header name ''",
		"X:y", "invalid header name 'X:y'",
		"X\r", "invalid header name 'X?'",
		NULL
	};
	const char	*val;
	char		 why[WHYLEN];
	size_t		 nlen, vlen;

	check_strings(cfgp_hdrname, ok, bad);

	ck_assert_int_eq(cfgp_header("X-Foo \t:  a b\t ", &nlen, &val, &vlen,
	    why, sizeof(why)), 0);
	ck_assert_uint_eq(nlen, 5);
	ck_assert_uint_eq(vlen, 3);
	ck_assert_int_eq(strncmp(val, "a b", vlen), 0);
	ck_assert_int_eq(cfgp_header("X-Empty:", &nlen, &val, &vlen, why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(nlen, 7);
	ck_assert_uint_eq(vlen, 0);
	ck_assert_int_eq(cfgp_header("X-Foo", &nlen, &val, &vlen, why,
	    sizeof(why)), -1);
	ck_assert_str_eq(why, "expected 'Name: value'");
	ck_assert_int_eq(cfgp_header("X Foo: 1", &nlen, &val, &vlen, why,
	    sizeof(why)), -1);
	ck_assert_str_eq(why, "invalid header name 'X Foo'");
	ck_assert_int_eq(cfgp_header(" : 1", &nlen, &val, &vlen, why,
	    sizeof(why)), -1);
	ck_assert_str_eq(why, "invalid header name ''");
	ck_assert_int_eq(cfgp_header("X-Foo: a\rb", &nlen, &val, &vlen, why,
	    sizeof(why)), -1);
	ck_assert_str_eq(why, "header value must not contain CR or LF");
}
END_TEST

START_TEST(a_path_is_a_readable_file_or_nothing)
{
	char	 path[] = "/tmp/check_config_parse.XXXXXX";
	char	 why[WHYLEN], *out = (char *)"untouched";
	int	 fd;

	ck_assert_int_eq(cfgp_path("", &out, why, sizeof(why)), 0);
	ck_assert_ptr_null(out);
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	close(fd);
	ck_assert_int_eq(cfgp_path(path, &out, why, sizeof(why)), 0);
	ck_assert_str_eq(out, path);
	free(out);
	unlink(path);
	out = NULL;
	ck_assert_int_eq(cfgp_path(path, &out, why, sizeof(why)), -1);
	ck_assert_msg(strncmp(why, "cannot read '/tmp/check_config_parse.",
	    37) == 0 && strstr(why, "': No such file or directory") != NULL,
	    "%s", why);
	ck_assert_int_eq(cfgp_path("/", &out, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "'/' is a directory");
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(a_region_gives_both_upstreams_by_either_name)
{
	static const char *const cases[] = {
		/* region, api upstream, login upstream */
		"mypurecloud.ie", "https://api.mypurecloud.ie",
		"https://login.mypurecloud.ie",
		"MyPureCloud.IE", "https://api.mypurecloud.ie",
		"https://login.mypurecloud.ie",
		"us_west_2", "https://api.usw2.pure.cloud",
		"https://login.usw2.pure.cloud",
		"EU-Central-1", "https://api.mypurecloud.de",
		"https://login.mypurecloud.de",
		"us-east-2", "https://api.use2.us-gov-pure.cloud",
		"https://login.use2.us-gov-pure.cloud",
		"edee1.eusc-pure.cloud", "https://api.edee1.eusc-pure.cloud",
		"https://login.edee1.eusc-pure.cloud",
		NULL
	};
	char	why[WHYLEN], *api, *login;
	size_t	i;

	for (i = 0; cases[i] != NULL; i += 3) {
		ck_assert_int_eq(cfgp_region(cases[i], &api, &login, why,
		    sizeof(why)), 0);
		ck_assert_str_eq(api, cases[i + 1]);
		ck_assert_str_eq(login, cases[i + 2]);
		free(api);
		free(login);
	}
}
END_TEST

START_TEST(an_unknown_region_lists_the_known_ones)
{
	char	why[WHYLEN], small[40], *api = NULL, *login = NULL;

	ck_assert_int_eq(cfgp_region("us_east_3", &api, &login, why,
	    sizeof(why)), -1);
	ck_assert_int_eq(cfgp_region("mypurecloud", &api, &login, why,
	    sizeof(why)), -1);
	ck_assert_int_eq(cfgp_region("", &api, &login, why, sizeof(why)),
	    -1);
	ck_assert_int_eq(cfgp_region("mars", &api, &login, why, sizeof(why)),
	    -1);
	ck_assert_ptr_null(api);
	ck_assert_ptr_null(login);
	ck_assert_str_eq(why, "unknown region 'mars' (known: "
	    "mypurecloud.com, mypurecloud.ie, mypurecloud.com.au, "
	    "mypurecloud.jp, mypurecloud.de, usw2.pure.cloud, "
	    "cac1.pure.cloud, apne2.pure.cloud, euw2.pure.cloud, "
	    "aps1.pure.cloud, use2.us-gov-pure.cloud, sae1.pure.cloud, "
	    "mec1.pure.cloud, apne3.pure.cloud, euc2.pure.cloud, "
	    "mxc1.pure.cloud, apse1.pure.cloud, edee1.eusc-pure.cloud)");
	ck_assert_int_eq(cfgp_region("mars", &api, &login, small,
	    sizeof(small)), -1);
	ck_assert_str_eq(small, "unknown region 'mars' (known: mypureclo");
}
END_TEST

START_TEST(reasons_fit_any_buffer_and_may_be_left_out)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct rate		 r;
	uint64_t		 n;
	char			 buf[16], *out = NULL;
	int			 on;
	size_t			 whylen;

	/* No buffer at all: the answer alone. */
	ck_assert_int_eq(cfgp_size("x", 0, 1, &n, NULL, 0), -1);
	ck_assert_int_eq(cfgp_rate("x", 0, 1, &r, NULL, 0), -1);
	ck_assert_int_eq(cfgp_bool("x", &on, NULL, 0), -1);
	ck_assert_int_eq(cfgp_listen("x", &ss, &len, NULL, 0), -1);
	ck_assert_int_eq(cfgp_url("x", &out, NULL, 0), -1);
	ck_assert_int_eq(cfgp_region("x", &out, &out, NULL, 0), -1);
	ck_assert_ptr_null(out);

	/* Every length up to the buffer's: cut, terminated, no further. */
	for (whylen = 1; whylen < sizeof(buf); whylen++) {
		memset(buf, 'Z', sizeof(buf));
		ck_assert_int_eq(cfgp_region("mars", &out, &out, buf, whylen),
		    -1);
		ck_assert_ptr_nonnull(memchr(buf, '\0', whylen));
		ck_assert_int_eq(buf[whylen], 'Z');
		memset(buf, 'Z', sizeof(buf));
		ck_assert_int_eq(cfgp_size("2g", 0, 1, &n, buf, whylen), -1);
		ck_assert_ptr_nonnull(memchr(buf, '\0', whylen));
		ck_assert_int_eq(buf[whylen], 'Z');
	}
}
END_TEST

START_TEST(a_value_quoted_back_is_cut_and_has_no_control_characters)
{
	char	buf[CFGP_SHOW_MAX], tiny[8], long_value[200];

	ck_assert_str_eq(cfgp_show("a\tb\r\nc", buf, sizeof(buf)), "a?b??c");
	ck_assert_str_eq(cfgp_show("", buf, sizeof(buf)), "");
	ck_assert_str_eq(cfgp_show("1234567", tiny, sizeof(tiny)), "1234567");
	ck_assert_str_eq(cfgp_show("12345678", tiny, sizeof(tiny)),
	    "1234...");
	memset(long_value, 'v', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	cfgp_show(long_value, buf, sizeof(buf));
	ck_assert_uint_eq(strlen(buf), CFGP_SHOW_MAX - 1);
	ck_assert_str_eq(buf + CFGP_SHOW_MAX - 4, "...");
}
END_TEST

static Suite *
config_parse_suite(void)
{
	Suite	*s = suite_create("config_parse");
	TCase	*tc = tcase_create("config_parse");

	tcase_add_test(tc, sizes_take_k_m_g_in_either_case);
	tcase_add_test(tc,
	    a_size_out_of_range_names_the_range_in_its_own_units);
	tcase_add_test(tc, a_bare_duration_is_seconds);
	tcase_add_test(tc,
	    durations_are_shown_in_the_largest_unit_that_divides);
	tcase_add_test(tc, a_count_is_a_plain_whole_number);
	tcase_add_test(tc, a_rate_knows_every_spelling_of_its_unit);
	tcase_add_test(tc, a_rate_out_of_range_names_the_range_of_n);
	tcase_add_test(tc, booleans_take_four_words_each_way);
	tcase_add_test(tc,
	    a_word_from_a_list_is_its_index_and_the_reason_lists_them);
	tcase_add_test(tc, listen_addresses_are_numeric_with_a_port);
	tcase_add_test(tc,
	    urls_get_a_lower_case_scheme_and_host_and_no_trailing_slash);
	tcase_add_test(tc, a_bad_url_says_which_part_is_wrong);
	tcase_add_test(tc, a_prefix_starts_with_a_slash_and_loses_the_last);
	tcase_add_test(tc, header_names_and_fields_are_checked_and_trimmed);
	tcase_add_test(tc, a_path_is_a_readable_file_or_nothing);
	tcase_add_test(tc, a_region_gives_both_upstreams_by_either_name);
	tcase_add_test(tc, an_unknown_region_lists_the_known_ones);
	tcase_add_test(tc, reasons_fit_any_buffer_and_may_be_left_out);
	tcase_add_test(tc,
	    a_value_quoted_back_is_cut_and_has_no_control_characters);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(config_parse_suite());
}
