/*
 * check_config.c - config.c: defaults, the file format, WEIR_* variables,
 * flags, precedence, [tenant] sections, and every error message whole
 * ("FILE:LINE: KEY: why").  The value parsers on their own are in
 * check_config_parse.c.
 *
 * No sockets; the only file touched is one mkstemp() file under /tmp.
 * Tests that go through config_load() set and clear WEIR_* variables in
 * this process's own environment.
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
#include "tap.h"

#define ERRLEN	1024

extern char **environ;

/* A fake environment for config_env(): NULL-terminated name/value pairs. */
static const char *const *fake_env;

static const char *
fake_getenv(const char *name)
{
	size_t	i;

	for (i = 0; fake_env != NULL && fake_env[i] != NULL; i += 2)
		if (strcmp(fake_env[i], name) == 0)
			return fake_env[i + 1];
	return NULL;
}

/* Defaults plus one in-memory file; fails the test on error. */
static struct config *
load_mem(const char *text)
{
	struct config	*cfg = config_new();
	char		 err[ERRLEN] = "";

	if (config_file_mem(cfg, "weir.conf", text, err, sizeof(err)) == -1 ||
	    config_finish(cfg, err, sizeof(err)) == -1)
		ck_abort_msg("unexpected error: %s", err);
	return cfg;
}

/* Defaults plus one in-memory file that must fail with exactly want. */
static void
mem_fails(const char *text, const char *want)
{
	struct config	*cfg = config_new();
	char		 err[ERRLEN] = "";
	int		 rc;

	rc = config_file_mem(cfg, "weir.conf", text, err, sizeof(err));
	if (rc == 0)
		rc = config_finish(cfg, err, sizeof(err));
	config_free(cfg);
	ck_assert_msg(rc == -1, "'%s' was accepted", text);
	ck_assert_str_eq(err, want);
}

/* Remove every WEIR_* variable from the real environment. */
static void
clear_weir_env(void)
{
	char	 name[128];
	size_t	 n;
	int	 again = 1;
	char	**e;

	while (again) {
		again = 0;
		for (e = environ; e != NULL && *e != NULL; e++) {
			if (strncmp(*e, "WEIR_", 5) != 0)
				continue;
			n = strcspn(*e, "=");
			if (n >= sizeof(name))
				continue;
			memcpy(name, *e, n);
			name[n] = '\0';
			unsetenv(name);
			again = 1;
			break;
		}
	}
}

/* config_load() on a NULL-terminated argument list (argv[0] added). */
static int
load_args(struct config **cfg, enum config_action *action, char *err,
    const char *const *args)
{
	char	*argv[32];
	int	 argc = 0;

	argv[argc++] = (char *)"weir";
	while (*args != NULL && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return config_load(cfg, action, argc, argv, err, ERRLEN);
}

START_TEST(defaults)
{
	struct config		*cfg = config_new();
	struct sockaddr_in	*sin = (struct sockaddr_in *)&cfg->listen;
	char			 err[ERRLEN];

	ck_assert_int_eq(config_finish(cfg, err, sizeof(err)), 0);
	ck_assert_ptr_null(cfg->file);
	ck_assert_str_eq(cfg->listen_str, "127.0.0.1:8080");
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 8080);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	ck_assert_uint_eq(cfg->listen_len, sizeof(struct sockaddr_in));
	ck_assert_ptr_null(cfg->region);
	ck_assert_str_eq(cfg->upstream, "https://api.mypurecloud.com");
	ck_assert_str_eq(cfg->login_upstream, "https://login.mypurecloud.com");
	ck_assert_str_eq(cfg->api_prefix, "");
	ck_assert_str_eq(cfg->login_prefix, "");
	ck_assert_str_eq(cfg->request_id_header, "X-Request-Id");
	ck_assert_uint_eq(cfg->add_headers.n, 0);
	ck_assert_uint_eq(cfg->max_body, 16 * 1024 * 1024);
	ck_assert_uint_eq(cfg->max_header_size, 4 * 1024);
	ck_assert_uint_eq(cfg->max_connections, 4096);
	ck_assert_uint_eq(cfg->connect_timeout_ms, 10000);
	ck_assert_uint_eq(cfg->upstream_timeout_ms, 60000);
	ck_assert_uint_eq(cfg->client_timeout_ms, 30000);
	ck_assert_ptr_null(cfg->ca_file);
	ck_assert_int_eq(cfg->insecure, 0);
	ck_assert_int_eq(cfg->log_level, LOG_LVL_INFO);
	ck_assert_int_eq(cfg->log_format, LOG_FMT_JSON);
	ck_assert_int_eq(cfg->tenant_key, TENANT_KEY_AUTH);
	ck_assert_ptr_null(cfg->tenant_header);
	ck_assert_uint_eq(cfg->limits.rate.n, 300);
	ck_assert_uint_eq(cfg->limits.rate.per_ms, 60000);
	ck_assert_uint_eq(cfg->limits.burst, 10);
	ck_assert_uint_eq(cfg->limits.concurrency, 8);
	ck_assert_uint_eq(cfg->limits.max_queue, 10000);
	ck_assert_ptr_null(cfg->tenants);
	ck_assert_uint_eq(cfg->max_tenants, 1000);
	ck_assert_uint_eq(cfg->max_wait_ms, 15000);
	ck_assert_uint_eq(cfg->max_wait_cap_ms, 300000);
	ck_assert_uint_eq(cfg->max_retries, 5);
	ck_assert_int_eq(cfg->request_id_on_retry, REQID_KEEP);
	ck_assert_ptr_eq(config_limits(cfg, "anyone"), &cfg->limits);
	ck_assert_ptr_eq(config_limits(cfg, NULL), &cfg->limits);
	config_free(cfg);
	config_free(NULL);
}
END_TEST

START_TEST(full_file)
{
	static const char text[] =
	    "# every key\n"
	    "listen = 0.0.0.0:9090\n"
	    "upstream = HTTPS://API.Example.COM:8443/base/\n"
	    "login_upstream = http://127.0.0.1:9000\n"
	    "api_prefix = /api/\n"
	    "login_prefix = /login\n"
	    "request_id_header = X-Correlation-Id\n"
	    "add_header = X-Genesys-Client: my-app-id\n"
	    "max_body = 1m\n"
	    "max_header_size = 64K\n"
	    "max_connections = 100\n"
	    "connect_timeout = 500ms\n"
	    "upstream_timeout = 2m\n"
	    "client_timeout = 1h\n"
	    "ca_file = /dev/null\n"
	    "insecure = yes\n"
	    "log_level = debug\n"
	    "log_format = text\n"
	    "tenant_key = header:X-Tenant\n"
	    "rate = 5/s\n"
	    "burst = 20\n"
	    "concurrency = 4\n"
	    "max_queue = 50\n"
	    "max_tenants = 10\n"
	    "max_wait = 0\n"
	    "max_wait_cap = 1h\n"
	    "max_retries = 0\n"
	    "request_id_on_retry = renew\n";
	struct config		*cfg = load_mem(text);
	struct sockaddr_in	*sin = (struct sockaddr_in *)&cfg->listen;

	ck_assert_str_eq(cfg->listen_str, "0.0.0.0:9090");
	ck_assert_uint_eq(ntohs(sin->sin_port), 9090);
	ck_assert_uint_eq(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	ck_assert_str_eq(cfg->upstream, "https://api.example.com:8443/base");
	ck_assert_str_eq(cfg->login_upstream, "http://127.0.0.1:9000");
	ck_assert_str_eq(cfg->api_prefix, "/api");
	ck_assert_str_eq(cfg->login_prefix, "/login");
	ck_assert_str_eq(cfg->request_id_header, "X-Correlation-Id");
	ck_assert_uint_eq(cfg->add_headers.n, 1);
	ck_assert_str_eq(cfg->add_headers.v[0].name, "X-Genesys-Client");
	ck_assert_str_eq(cfg->add_headers.v[0].value, "my-app-id");
	ck_assert_uint_eq(cfg->max_body, 1048576);
	ck_assert_uint_eq(cfg->max_header_size, 65536);
	ck_assert_uint_eq(cfg->max_connections, 100);
	ck_assert_uint_eq(cfg->connect_timeout_ms, 500);
	ck_assert_uint_eq(cfg->upstream_timeout_ms, 120000);
	ck_assert_uint_eq(cfg->client_timeout_ms, 3600000);
	ck_assert_str_eq(cfg->ca_file, "/dev/null");
	ck_assert_int_eq(cfg->insecure, 1);
	ck_assert_int_eq(cfg->log_level, LOG_LVL_DEBUG);
	ck_assert_int_eq(cfg->log_format, LOG_FMT_TEXT);
	ck_assert_int_eq(cfg->tenant_key, TENANT_KEY_HEADER);
	ck_assert_str_eq(cfg->tenant_header, "X-Tenant");
	ck_assert_uint_eq(cfg->limits.rate.n, 5);
	ck_assert_uint_eq(cfg->limits.rate.per_ms, 1000);
	ck_assert_uint_eq(cfg->limits.burst, 20);
	ck_assert_uint_eq(cfg->limits.concurrency, 4);
	ck_assert_uint_eq(cfg->limits.max_queue, 50);
	ck_assert_uint_eq(cfg->max_tenants, 10);
	ck_assert_uint_eq(cfg->max_wait_ms, 0);
	ck_assert_uint_eq(cfg->max_wait_cap_ms, 3600000);
	ck_assert_uint_eq(cfg->max_retries, 0);
	ck_assert_int_eq(cfg->request_id_on_retry, REQID_RENEW);
	config_free(cfg);
}
END_TEST

START_TEST(bad_values_name_their_place)
{
	static const char *const cases[] = {
	    "rate = 5 per second",
	    "weir.conf:1: rate: expected N/s or N/min",
	    "rate = 0/s",
	    "weir.conf:1: rate: N must be between 1 and 1000000",
	    "\n\nburst = 0",
	    "weir.conf:3: burst: must be between 1 and 100000",
	    "burst = ten",
	    "weir.conf:1: burst: expected a whole number",
	    "burst = -1",
	    "weir.conf:1: burst: expected a whole number",
	    "max_body = 2g",
	    "weir.conf:1: max_body: must be between 0 and 1g",
	    "max_body = 16mb",
	    "weir.conf:1: max_body: expected a size such as 512, 64k, 16m "
	    "or 1g",
	    "max_header_size = 512",
	    "weir.conf:1: max_header_size: must be between 1k and 1m",
	    "max_body = 99999999999999999999999",
	    "weir.conf:1: max_body: must be between 0 and 1g",
	    "connect_timeout = 0",
	    "weir.conf:1: connect_timeout: must be between 1ms and 10m",
	    "client_timeout = 10 s",
	    "weir.conf:1: client_timeout: expected a duration such as 500ms, "
	    "30s, 5m or 1h",
	    "max_wait_cap = 25h",
	    "weir.conf:1: max_wait_cap: must be between 1s and 24h",
	    "insecure = maybe",
	    "weir.conf:1: insecure: expected on or off",
	    "log_level = loud",
	    "weir.conf:1: log_level: expected error, warn, info or debug",
	    "log_format = xml",
	    "weir.conf:1: log_format: expected json or text",
	    "request_id_on_retry = new",
	    "weir.conf:1: request_id_on_retry: expected keep or renew",
	    "listen = 8080",
	    "weir.conf:1: listen: expected ADDR:PORT or [ADDR]:PORT",
	    "listen = 127.0.0.1:65536",
	    "weir.conf:1: listen: port must be between 0 and 65535",
	    "listen = ::1:8080",
	    "weir.conf:1: listen: an IPv6 address needs brackets, as in "
	    "[::1]:8080",
	    "listen = example.com:80",
	    "weir.conf:1: listen: 'example.com' is not a numeric IPv4 address",
	    "listen = [1.2.3.4]:80",
	    "weir.conf:1: listen: '1.2.3.4' is not a numeric IPv6 address",
	    "upstream = ftp://x",
	    "weir.conf:1: upstream: expected an http:// or https:// URL",
	    "upstream = https://",
	    "weir.conf:1: upstream: missing host in URL",
	    "upstream = https://x:0",
	    "weir.conf:1: upstream: port must be between 1 and 65535",
	    "upstream = https://x/a?b=c",
	    "weir.conf:1: upstream: must not have a query or fragment",
	    "login_upstream = https://u:p@x",
	    "weir.conf:1: login_upstream: must not contain user information",
	    "api_prefix = api",
	    "weir.conf:1: api_prefix: must start with '/', as in /api",
	    "login_prefix = /a b",
	    "weir.conf:1: login_prefix: expected a path such as /api",
	    "request_id_header = X Request",
	    "weir.conf:1: request_id_header: invalid header name 'X Request'",
	    "add_header = X-Foo",
	    "weir.conf:1: add_header: expected 'Name: value'",
	    "add_header = X Foo: 1",
	    "weir.conf:1: add_header: invalid header name 'X Foo'",
	    "tenant_key = cookie",
	    "weir.conf:1: tenant_key: expected auth or header:NAME",
	    "tenant_key = header:",
	    "weir.conf:1: tenant_key: expected auth or header:NAME",
	    "tenant_key = header:Bad Name",
	    "weir.conf:1: tenant_key: invalid header name 'Bad Name'",
	    "ca_file = /nonexistent/ca.pem",
	    "weir.conf:1: ca_file: cannot read '/nonexistent/ca.pem': "
	    "No such file or directory",
	    "ca_file = /",
	    "weir.conf:1: ca_file: '/' is a directory",
	    "region = mars",
	    "weir.conf:1: region: unknown region 'mars' (known: "
	    "mypurecloud.com, mypurecloud.ie, mypurecloud.com.au, "
	    "mypurecloud.jp, mypurecloud.de, usw2.pure.cloud, "
	    "cac1.pure.cloud, apne2.pure.cloud, euw2.pure.cloud, "
	    "aps1.pure.cloud, use2.us-gov-pure.cloud, sae1.pure.cloud, "
	    "mec1.pure.cloud, apne3.pure.cloud, euc2.pure.cloud, "
	    "mxc1.pure.cloud, apse1.pure.cloud, edee1.eusc-pure.cloud)",
	    "rate = \"5/s",
	    "weir.conf:1: rate: missing closing quote",
	    "rate = \"5/s\" x",
	    "weir.conf:1: rate: unexpected text after closing quote",
	    NULL
	};
	size_t	i;

	for (i = 0; cases[i] != NULL; i += 2)
		mem_fails(cases[i], cases[i + 1]);
}
END_TEST

START_TEST(syntax_errors)
{
	mem_fails("# ok\nlisten = 127.0.0.1:1\ncolour = blue\n",
	    "weir.conf:3: colour: unknown key");
	mem_fails("\n\nrate 5/s\n", "weir.conf:3: expected 'key = value'");
	mem_fails("= 5\n", "weir.conf:1: expected 'key = value'");
	mem_fails("[tenant a]\nlisten = 127.0.0.1:1\n",
	    "weir.conf:2: listen: not allowed in a [tenant] section");
	mem_fails("[tenant a]\ncolour = 1\n",
	    "weir.conf:2: colour: unknown key");
	mem_fails("[tenant a]\nburst = 0\n",
	    "weir.conf:2: burst: must be between 1 and 100000");
	mem_fails("[tenant a]\nburst = 2\n[tenant b]\n[tenant a]\n",
	    "weir.conf:4: duplicate section [tenant a]");
	mem_fails("[client a]\n", "weir.conf:1: unknown section 'client'");
	mem_fails("[tenant]\n", "weir.conf:1: expected '[tenant NAME]'");
	mem_fails("[tenant a\n", "weir.conf:1: expected '[tenant NAME]'");
	mem_fails("[tenant a] x\n", "weir.conf:1: expected '[tenant NAME]'");
	mem_fails("[tenant a b]\n", "weir.conf:1: invalid tenant name 'a b' "
	    "(1 to 128 of A-Z a-z 0-9 . _ : @ -)");
	mem_fails("[tenant a/b]\n", "weir.conf:1: invalid tenant name 'a/b' "
	    "(1 to 128 of A-Z a-z 0-9 . _ : @ -)");
}
END_TEST

START_TEST(comments_quotes_and_whitespace)
{
	struct config	*cfg;

	cfg = load_mem(
	    "# a comment\n"
	    "   # an indented comment\n"
	    "\n"
	    "\t \n"
	    "rate = 5/s  # five a second\n"
	    "  burst=7\t\r\n"
	    "log_level = \"warn\" # quoted\n"
	    "request_id_header = X-Id#not-a-comment\n"
	    "add_header = \"X-Note: a # b\"\n"
	    "add_header = X-Empty:\n"
	    "max_retries = 3 #\n");
	ck_assert_uint_eq(cfg->limits.rate.n, 5);
	ck_assert_uint_eq(cfg->limits.rate.per_ms, 1000);
	ck_assert_uint_eq(cfg->limits.burst, 7);
	ck_assert_int_eq(cfg->log_level, LOG_LVL_WARN);
	ck_assert_str_eq(cfg->request_id_header, "X-Id#not-a-comment");
	ck_assert_uint_eq(cfg->add_headers.n, 2);
	ck_assert_str_eq(cfg->add_headers.v[0].name, "X-Note");
	ck_assert_str_eq(cfg->add_headers.v[0].value, "a # b");
	ck_assert_str_eq(cfg->add_headers.v[1].name, "X-Empty");
	ck_assert_str_eq(cfg->add_headers.v[1].value, "");
	ck_assert_uint_eq(cfg->max_retries, 3);
	config_free(cfg);

	/* Later lines win; "/" alone is no prefix. */
	cfg = load_mem("rate = 1/s\nrate = 2/min\napi_prefix = /\n"
	    "login_prefix = /auth//\n");
	ck_assert_uint_eq(cfg->limits.rate.n, 2);
	ck_assert_uint_eq(cfg->limits.rate.per_ms, 60000);
	ck_assert_str_eq(cfg->api_prefix, "");
	ck_assert_str_eq(cfg->login_prefix, "/auth");
	config_free(cfg);
}
END_TEST

START_TEST(tenant_sections)
{
	static const char *const env[] = {
		"WEIR_CONCURRENCY", "3", NULL
	};
	struct config		*cfg = config_new();
	const struct limits	*a, *b;
	char			 err[ERRLEN];

	ck_assert_int_eq(config_file_mem(cfg, "weir.conf",
	    "rate = 100/min\n"
	    "burst = 5\n"
	    "[tenant client-a]\n"
	    "rate = 10/s\n"
	    "max_queue = 7\n"
	    "[ tenant   b@x.example:1 ]  # spaced\n"
	    "burst = 1\n", err, sizeof(err)), 0);
	/* A later top-level setting still becomes the sections' default. */
	ck_assert_int_eq(config_file_mem(cfg, "extra.conf",
	    "burst = 9\n", err, sizeof(err)), 0);
	fake_env = env;
	ck_assert_int_eq(config_env(cfg, fake_getenv, err, sizeof(err)), 0);
	fake_env = NULL;
	ck_assert_int_eq(config_finish(cfg, err, sizeof(err)), 0);

	a = config_limits(cfg, "client-a");
	ck_assert_ptr_ne(a, &cfg->limits);
	ck_assert_uint_eq(a->rate.n, 10);
	ck_assert_uint_eq(a->rate.per_ms, 1000);
	ck_assert_uint_eq(a->burst, 9);
	ck_assert_uint_eq(a->concurrency, 3);
	ck_assert_uint_eq(a->max_queue, 7);

	b = config_limits(cfg, "b@x.example:1");
	ck_assert_uint_eq(b->rate.n, 100);
	ck_assert_uint_eq(b->rate.per_ms, 60000);
	ck_assert_uint_eq(b->burst, 1);
	ck_assert_uint_eq(b->concurrency, 3);
	ck_assert_uint_eq(b->max_queue, 10000);

	ck_assert_uint_eq(cfg->limits.burst, 9);
	ck_assert_ptr_eq(config_limits(cfg, "client-A"), &cfg->limits);

	/* In file order. */
	ck_assert_str_eq(cfg->tenants->name, "client-a");
	ck_assert_str_eq(cfg->tenants->next->name, "b@x.example:1");
	ck_assert_ptr_null(cfg->tenants->next->next);

	/* A second file cannot repeat a section either. */
	ck_assert_int_eq(config_file_mem(cfg, "more.conf",
	    "[tenant client-a]\n", err, sizeof(err)), -1);
	ck_assert_str_eq(err,
	    "more.conf:1: duplicate section [tenant client-a]");
	config_free(cfg);
}
END_TEST

START_TEST(env_beats_file)
{
	static const char *const env[] = {
		"WEIR_LISTEN", "[::1]:0",
		"WEIR_MAX_BODY", "2k",
		"WEIR_LOG_LEVEL", "error",
		"WEIR_RATE", "",		/* empty: not given */
		"WEIR_COLOUR", "blue",		/* not a key: ignored */
		NULL
	};
	static const char *const bad[] = {
		"WEIR_LISTEN", "nowhere", NULL
	};
	struct config	*cfg = config_new();
	char		 err[ERRLEN];

	ck_assert_int_eq(config_file_mem(cfg, "weir.conf",
	    "listen = 127.0.0.1:1\nmax_body = 1k\nrate = 1/s\n"
	    "log_level = debug\n", err, sizeof(err)), 0);
	fake_env = env;
	ck_assert_int_eq(config_env(cfg, fake_getenv, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->listen_str, "[::1]:0");
	ck_assert_int_eq(cfg->listen.ss_family, AF_INET6);
	ck_assert_uint_eq(cfg->max_body, 2048);
	ck_assert_int_eq(cfg->log_level, LOG_LVL_ERROR);
	ck_assert_uint_eq(cfg->limits.rate.n, 1);

	fake_env = bad;
	ck_assert_int_eq(config_env(cfg, fake_getenv, err, sizeof(err)), -1);
	ck_assert_str_eq(err,
	    "WEIR_LISTEN: listen: expected ADDR:PORT or [ADDR]:PORT");
	fake_env = NULL;
	config_free(cfg);
}
END_TEST

START_TEST(env_add_headers_keep_order)
{
	static const char *const env[] = {
		"WEIR_ADD_HEADER", "X-A: 1\nX-B: 2\r\n\n",
		"WEIR_ADD_HEADER_2", "X-D: 4",
		"WEIR_ADD_HEADER_1", "X-C: 3; still 3",
		NULL
	};
	static const char *const bad[] = {
		"WEIR_ADD_HEADER_3", "X-E: ok\nnot a header", NULL
	};
	struct config	*cfg = config_new();
	char		 err[ERRLEN];

	ck_assert_int_eq(config_file_mem(cfg, "weir.conf",
	    "add_header = X-File: 0\n", err, sizeof(err)), 0);
	fake_env = env;
	ck_assert_int_eq(config_env(cfg, fake_getenv, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg->add_headers.n, 5);
	ck_assert_str_eq(cfg->add_headers.v[0].name, "X-File");
	ck_assert_str_eq(cfg->add_headers.v[1].name, "X-A");
	ck_assert_str_eq(cfg->add_headers.v[2].name, "X-B");
	ck_assert_str_eq(cfg->add_headers.v[2].value, "2");
	ck_assert_str_eq(cfg->add_headers.v[3].name, "X-C");
	ck_assert_str_eq(cfg->add_headers.v[3].value, "3; still 3");
	ck_assert_str_eq(cfg->add_headers.v[4].name, "X-D");

	fake_env = bad;
	ck_assert_int_eq(config_env(cfg, fake_getenv, err, sizeof(err)), -1);
	ck_assert_str_eq(err,
	    "WEIR_ADD_HEADER_3: add_header: expected 'Name: value'");
	fake_env = NULL;
	config_free(cfg);
}
END_TEST

START_TEST(add_header_repeated_keeps_order)
{
	struct config	*cfg;
	char		 err[ERRLEN];

	cfg = load_mem("add_header = X-Genesys-Client: my-app-id\n"
	    "add_header = X-Two :  two words  \n"
	    "add_header = X-Genesys-Client: again\n");
	ck_assert_uint_eq(cfg->add_headers.n, 3);
	ck_assert_str_eq(cfg->add_headers.v[0].value, "my-app-id");
	ck_assert_str_eq(cfg->add_headers.v[1].name, "X-Two");
	ck_assert_str_eq(cfg->add_headers.v[1].value, "two words");
	ck_assert_str_eq(cfg->add_headers.v[2].value, "again");
	/* CR or LF can only arrive through config_set() or the environment. */
	ck_assert_int_eq(config_set(cfg, "test", "add_header",
	    "X-Bad: a\rb", err, sizeof(err)), -1);
	ck_assert_str_eq(err,
	    "test: add_header: header value must not contain CR or LF");
	ck_assert_uint_eq(cfg->add_headers.n, 3);
	config_free(cfg);
}
END_TEST

START_TEST(region_sets_both_upstreams)
{
	struct config	*cfg;
	char		 err[ERRLEN];

	cfg = load_mem("region = mypurecloud.ie\n");
	ck_assert_str_eq(cfg->region, "mypurecloud.ie");
	ck_assert_str_eq(cfg->upstream, "https://api.mypurecloud.ie");
	ck_assert_str_eq(cfg->login_upstream, "https://login.mypurecloud.ie");
	config_free(cfg);

	/* In a file the later line wins, either way round. */
	cfg = load_mem("region = ap_southeast_2\n"
	    "upstream = http://127.0.0.1:9000\n");
	ck_assert_str_eq(cfg->upstream, "http://127.0.0.1:9000");
	ck_assert_str_eq(cfg->login_upstream,
	    "https://login.mypurecloud.com.au");
	config_free(cfg);
	cfg = load_mem("upstream = http://127.0.0.1:9000\n"
	    "region = ap_southeast_2\n");
	ck_assert_str_eq(cfg->upstream, "https://api.mypurecloud.com.au");
	config_free(cfg);

	/* A failed region changes nothing. */
	cfg = config_new();
	ck_assert_int_eq(config_set(cfg, "--region", "region", "nowhere",
	    err, sizeof(err)), -1);
	ck_assert_ptr_null(cfg->region);
	ck_assert_str_eq(cfg->upstream, "https://api.mypurecloud.com");
	config_free(cfg);
}
END_TEST

START_TEST(region_then_explicit_upstream_in_env)
{
	/* Same level: the explicit upstream wins whatever the order. */
	static const char *const env[] = {
		"WEIR_LOGIN_UPSTREAM", "http://localhost:1/login/",
		"WEIR_REGION", "eu_west_2",
		NULL
	};
	struct config	*cfg = config_new();
	char		 err[ERRLEN];

	fake_env = env;
	ck_assert_int_eq(config_env(cfg, fake_getenv, err, sizeof(err)), 0);
	fake_env = NULL;
	ck_assert_str_eq(cfg->region, "eu_west_2");
	ck_assert_str_eq(cfg->upstream, "https://api.euw2.pure.cloud");
	ck_assert_str_eq(cfg->login_upstream, "http://localhost:1/login");
	config_free(cfg);
}
END_TEST

START_TEST(url_forms)
{
	/* check_config_parse.c has the forms; here: stored, or left alone. */
	struct config	*cfg = config_new();
	char		 err[ERRLEN];

	ck_assert_int_eq(config_set(cfg, "t", "upstream",
	    "HTTP://[::1]:8080/a/b//", err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->upstream, "http://[::1]:8080/a/b");
	ck_assert_int_eq(config_set(cfg, "t", "login_upstream",
	    "https://x/a b", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "t: login_upstream: bad character in URL path");
	ck_assert_str_eq(cfg->login_upstream, "https://login.mypurecloud.com");
	config_free(cfg);
}
END_TEST

START_TEST(listen_forms)
{
	struct config		*cfg = config_new();
	struct sockaddr_in	*sin = (struct sockaddr_in *)&cfg->listen;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&cfg->listen;
	char			 err[ERRLEN];

	ck_assert_int_eq(config_set(cfg, "t", "listen", "127.0.0.1:0", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 0);

	ck_assert_int_eq(config_set(cfg, "t", "listen", "[::1]:8443", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 8443);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	ck_assert_uint_eq(cfg->listen_len, sizeof(struct sockaddr_in6));
	ck_assert_str_eq(cfg->listen_str, "[::1]:8443");

	ck_assert_int_eq(config_set(cfg, "t", "listen", "[::]:65535", err,
	    sizeof(err)), 0);
	ck_assert(IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));

	ck_assert_int_eq(config_set(cfg, "t", "listen", "localhost:80", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	ck_assert_str_eq(cfg->listen_str, "localhost:80");

	ck_assert_int_eq(config_set(cfg, "t", "listen", "*:81", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(sin->sin_addr.s_addr, htonl(INADDR_ANY));

	ck_assert_int_eq(config_set(cfg, "--listen", "listen", ":80", err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err,
	    "--listen: listen: expected ADDR:PORT or [ADDR]:PORT");
	ck_assert_int_eq(config_set(cfg, "t", "listen", "1.2.3.4:", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(config_set(cfg, "t", "listen", "1.2.3.4:+80", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(config_set(cfg, "t", "listen", "[::1]8080", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(config_set(cfg, "t", "listen", "256.0.0.1:80", err,
	    sizeof(err)), -1);
	/* The last good value stays. */
	ck_assert_str_eq(cfg->listen_str, "*:81");
	config_free(cfg);
}
END_TEST

START_TEST(cross_key_checks)
{
	mem_fails("api_prefix = /gw\nlogin_prefix = /gw/\n",
	    "api_prefix: must differ from login_prefix (both are '/gw')");
	mem_fails("max_wait = 10m\nmax_wait_cap = 5m\n",
	    "max_wait: 10m is more than max_wait_cap (5m)");
	mem_fails("max_tenants = 1\n[tenant a]\n[tenant b]\n",
	    "max_tenants: 2 [tenant] sections but max_tenants is 1");
}
END_TEST

START_TEST(real_file)
{
	char		 path[] = "/tmp/check_config.XXXXXX";
	char		 err[ERRLEN], want[ERRLEN + 64];
	struct config	*cfg;
	FILE		*fp;
	int		 fd;

	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	fputs("listen = 127.0.0.1:0\r\n[tenant t]\r\nburst = 2\r\n"
	    "bogus line\n", fp);
	fclose(fp);

	cfg = config_new();
	ck_assert_int_eq(config_file(cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: expected 'key = value'", path);
	ck_assert_str_eq(err, want);
	config_free(cfg);

	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs("listen = 127.0.0.1:0\r\n[tenant t]\r\nburst = 2\r\n", fp);
	fclose(fp);
	cfg = config_new();
	ck_assert_int_eq(config_file(cfg, path, err, sizeof(err)), 0);
	ck_assert_int_eq(config_finish(cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->file, path);
	ck_assert_str_eq(cfg->listen_str, "127.0.0.1:0");
	ck_assert_uint_eq(config_limits(cfg, "t")->burst, 2);
	config_free(cfg);

	unlink(path);
	cfg = config_new();
	ck_assert_int_eq(config_file(cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory", path);
	ck_assert_str_eq(err, want);
	config_free(cfg);
}
END_TEST

START_TEST(load_precedence)
{
	static const char *const args[] = {
		"-c", "weir.conf.test", "-u", "http://127.0.0.1:7/",
		"--listen", "127.0.0.1:0", NULL
	};
	static const char *const args_region[] = {
		"--upstream=http://127.0.0.1:7", "-r", "mypurecloud.jp", NULL
	};
	char			 path[] = "/tmp/check_config.XXXXXX";
	char			*argv_file[8];
	struct config		*cfg;
	enum config_action	 action;
	char			 err[ERRLEN];
	FILE			*fp;
	int			 fd;
	size_t			 i;

	clear_weir_env();
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	fputs("listen = 127.0.0.1:1\nupstream = http://127.0.0.1:2\n"
	    "burst = 3\nrate = 1/s\nlog_level = warn\n", fp);
	fclose(fp);
	for (i = 0; args[i] != NULL; i++)
		argv_file[i] = (char *)(strcmp(args[i], "weir.conf.test") == 0 ?
		    path : args[i]);
	argv_file[i] = NULL;

	/* file < env < flags */
	setenv("WEIR_LISTEN", "127.0.0.1:3", 1);
	setenv("WEIR_UPSTREAM", "http://127.0.0.1:4", 1);
	setenv("WEIR_BURST", "4", 1);
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const *)argv_file), 0);
	ck_assert_int_eq(action, CONFIG_RUN);
	ck_assert_str_eq(cfg->file, path);
	ck_assert_str_eq(cfg->listen_str, "127.0.0.1:0");
	ck_assert_str_eq(cfg->upstream, "http://127.0.0.1:7");
	ck_assert_uint_eq(cfg->limits.burst, 4);
	ck_assert_uint_eq(cfg->limits.rate.n, 1);
	ck_assert_int_eq(cfg->log_level, LOG_LVL_WARN);
	config_free(cfg);

	/* WEIR_CONFIG names the file when -c doesn't; -v means debug. */
	setenv("WEIR_CONFIG", path, 1);
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "-vv", NULL }), 0);
	ck_assert_str_eq(cfg->file, path);
	ck_assert_str_eq(cfg->listen_str, "127.0.0.1:3");
	ck_assert_str_eq(cfg->upstream, "http://127.0.0.1:4");
	ck_assert_int_eq(cfg->log_level, LOG_LVL_DEBUG);
	config_free(cfg);

	/* Flags: the explicit upstream beats the region, whatever the order. */
	clear_weir_env();
	ck_assert_int_eq(load_args(&cfg, &action, err, args_region), 0);
	ck_assert_ptr_null(cfg->file);
	ck_assert_str_eq(cfg->upstream, "http://127.0.0.1:7");
	ck_assert_str_eq(cfg->login_upstream, "https://login.mypurecloud.jp");
	ck_assert_uint_eq(cfg->limits.burst, 10);
	config_free(cfg);

	/* A flag's error names the flag; an env error names the variable. */
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "-l", "127.0.0.1:http", NULL }), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(err,
	    "--listen: listen: port must be between 0 and 65535");
	setenv("WEIR_MAX_RETRIES", "101", 1);
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ NULL }), -1);
	ck_assert_str_eq(err,
	    "WEIR_MAX_RETRIES: max_retries: must be between 0 and 100");
	clear_weir_env();

	/* A file error, and a file that isn't there. */
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs("# ok\nrate = fast\n", fp);
	fclose(fp);
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "--config", path, NULL }), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(err + strlen(path), ":2: rate: expected N/s or N/min");
	unlink(path);
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "--config", path, NULL }), -1);
	ck_assert_str_eq(err + strlen(path),
	    ": cannot open: No such file or directory");
}
END_TEST

START_TEST(load_actions_and_bad_flags)
{
	struct config		*cfg;
	enum config_action	 action;
	char			 err[ERRLEN];

	clear_weir_env();
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "-t", NULL }), 0);
	ck_assert_int_eq(action, CONFIG_CHECK);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->listen_str, "127.0.0.1:8080");
	config_free(cfg);
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "--check-config", "-v", NULL }), 0);
	ck_assert_int_eq(action, CONFIG_CHECK);
	config_free(cfg);
	/* -t still fails on a bad configuration. */
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "-t", "-r", "moon", NULL }), -1);
	ck_assert_ptr_null(cfg);

	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "-h", NULL }), 0);
	ck_assert_int_eq(action, CONFIG_HELP);
	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "--version", NULL }), 0);
	ck_assert_int_eq(action, CONFIG_VERSION);
	ck_assert_ptr_null(cfg);
	/* -h wins over a bad setting: nothing is loaded. */
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "-c", "/nonexistent", "-h", NULL }), 0);
	ck_assert_int_eq(action, CONFIG_HELP);

	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "-x", NULL }), -1);
	ck_assert_str_eq(err, "unknown option '-x' (try 'weir -h')");
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "--colour", NULL }), -1);
	ck_assert_str_eq(err, "unknown option '--colour' (try 'weir -h')");
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "-c", NULL }), -1);
	ck_assert_str_eq(err, "option '-c' needs an argument (try 'weir -h')");
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "-t", "--region", NULL }), -1);
	ck_assert_str_eq(err,
	    "option '--region' needs an argument (try 'weir -h')");
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "stray", NULL }), -1);
	ck_assert_str_eq(err, "unexpected argument 'stray' (try 'weir -h')");
	/* An aborted cluster doesn't leak into the next call. */
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ "-txv", NULL }), -1);
	ck_assert_int_eq(load_args(&cfg, &action, err,
	    (const char *const[]){ NULL }), 0);
	ck_assert_int_eq(action, CONFIG_RUN);
	ck_assert_int_eq(cfg->log_level, LOG_LVL_INFO);
	config_free(cfg);
}
END_TEST

/*
 * The text of path with every commented-out setting ("#key = value",
 * "#[tenant x]") switched on, except ca_file (no such file here).
 */
static char *
uncomment(const char *path)
{
	FILE	*fp;
	char	 line[512], *text;
	size_t	 len = 0, n;
	const char *l;

	text = calloc(1, 65536);
	ck_assert_ptr_nonnull(text);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		l = line;
		if (line[0] == '#' && (line[1] == '[' ||
		    (line[1] >= 'a' && line[1] <= 'z')))
			l = line + 1;
		if (strncmp(l, "ca_file", 7) == 0)
			continue;
		n = strlen(l);
		ck_assert_uint_lt(len + n, 65536);
		memcpy(text + len, l, n);
		len += n;
	}
	fclose(fp);
	return text;
}

START_TEST(priority_rules_keep_order_and_tenant_sections_have_their_own)
{
	static const char *const env[] = {
		"WEIR_PRIORITY", "GET /api/v2/analytics/* low\n\n"
		    "POST /api/v2/conversations/* high\n", NULL
	};
	struct config		*cfg = load_mem(
	    "priority = GET /api/v2/flows* low\n"
	    "priority = * /api/v2/users/* high\n"
	    "priority_share = 4\n"
	    "[tenant sync-client]\n"
	    "priority = * * low\n"
	    "priority_share = 20\n"
	    "[tenant other]\n"
	    "rate = 1/s\n");
	const struct prio_rules	*r;
	char			 err[ERRLEN] = "";

	ck_assert_uint_eq(cfg->prio.n, 2);
	ck_assert_str_eq(cfg->prio.v[0].method, "GET");
	ck_assert_str_eq(cfg->prio.v[0].pattern, "/api/v2/flows*");
	ck_assert_int_eq(cfg->prio.v[0].cls, PRIO_LOW);
	ck_assert_ptr_null(cfg->prio.v[1].method);
	ck_assert_int_eq(cfg->prio.v[1].cls, PRIO_HIGH);
	ck_assert_uint_eq(cfg->limits.priority_share, 4);
	r = config_prio_rules(cfg, "sync-client");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->n, 1);
	ck_assert_int_eq(r->v[0].cls, PRIO_LOW);
	ck_assert_uint_eq(config_limits(cfg, "sync-client")->priority_share,
	    20);
	/* a section without rules has none of its own; its share is the
	 * top level's */
	ck_assert_ptr_null(config_prio_rules(cfg, "other"));
	ck_assert_ptr_null(config_prio_rules(cfg, "nobody"));
	ck_assert_uint_eq(config_limits(cfg, "other")->priority_share, 4);
	/* the environment adds one rule a line */
	fake_env = env;
	ck_assert_int_eq(config_env(cfg, fake_getenv, err, sizeof(err)), 0);
	fake_env = NULL;
	ck_assert_uint_eq(cfg->prio.n, 4);
	ck_assert_str_eq(cfg->prio.v[3].method, "POST");
	config_free(cfg);

	cfg = config_new();
	ck_assert_uint_eq(cfg->limits.priority_share, 10);
	ck_assert_uint_eq(cfg->prio.n, 0);
	config_free(cfg);

	mem_fails("priority = GET /x urgent\n", "weir.conf:1: priority: "
	    "class 'urgent': expected high, normal or low");
	mem_fails("\n[tenant a]\npriority = GET\n", "weir.conf:3: priority: "
	    "expected 'METHOD PATH-PATTERN CLASS' (e.g. 'GET "
	    "/api/v2/flows* low')");
	mem_fails("priority = GET flows low\n", "weir.conf:1: priority: "
	    "path pattern 'flows': expected a path starting with / or *, "
	    "without a query");
	mem_fails("priority_share = 1\n", "weir.conf:1: priority_share: "
	    "must be between 2 and 1000");
}
END_TEST

START_TEST(shipped_file_is_the_defaults)
{
	struct config	*def = config_new(), *cfg = config_new();
	const char	*top = getenv("top_srcdir");
	char		*path = NULL, *text, err[ERRLEN] = "";

	/* make check exports top_srcdir; by hand, run from the source tree. */
	if (asprintf(&path, "%s/conf/weir.conf", top != NULL ? top : ".") ==
	    -1)
		ck_abort_msg("asprintf");
	ck_assert_msg(config_file(cfg, path, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_eq(config_finish(cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(config_finish(def, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->listen_str, def->listen_str);
	ck_assert_str_eq(cfg->upstream, def->upstream);
	ck_assert_str_eq(cfg->login_upstream, def->login_upstream);
	ck_assert_uint_eq(cfg->add_headers.n, 0);
	ck_assert_ptr_null(cfg->tenants);
	ck_assert(memcmp(&cfg->limits, &def->limits, sizeof(def->limits)) == 0);
	ck_assert_uint_eq(cfg->max_body, def->max_body);
	ck_assert_uint_eq(cfg->max_wait_ms, def->max_wait_ms);
	ck_assert_int_eq(cfg->log_level, def->log_level);
	config_free(cfg);
	config_free(def);

	/* Every commented-out line is valid as it stands. */
	text = uncomment(path);
	cfg = config_new();
	ck_assert_msg(config_file_mem(cfg, "uncommented", text, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(config_finish(cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg->add_headers.n, 1);
	ck_assert_str_eq(cfg->add_headers.v[0].value, "my-app-id");
	ck_assert_uint_eq(config_limits(cfg, "my-client-id")->rate.n, 600);
	ck_assert_uint_eq(config_limits(cfg, "my-client-id")->burst, 20);
	config_free(cfg);
	free(text);
	free(path);
}
END_TEST

START_TEST(redis_keys)
{
	struct config	*cfg;

	cfg = load_mem("");
	ck_assert_ptr_null(cfg->redis);		/* off by default */
	ck_assert_uint_eq(cfg->redis_timeout_ms, 50);
	ck_assert_str_eq(cfg->redis_prefix, "weir:");
	config_free(cfg);
	cfg = load_mem("redis = redis://:pw@10.0.0.5:6380/3\n"
	    "redis_timeout = 20ms\nredis_prefix = app1:\n");
	ck_assert_str_eq(cfg->redis, "redis://:pw@10.0.0.5:6380/3");
	ck_assert_uint_eq(cfg->redis_timeout_ms, 20);
	ck_assert_str_eq(cfg->redis_prefix, "app1:");
	config_free(cfg);
	cfg = load_mem("redis = unix:/run/redis/redis.sock?db=1\n");
	ck_assert_str_eq(cfg->redis, "unix:/run/redis/redis.sock?db=1");
	config_free(cfg);
	cfg = load_mem("redis = redis://a:1\nredis =\n");
	ck_assert_ptr_null(cfg->redis);		/* empty: off again */
	config_free(cfg);
	/* errors name the place and never echo the value (a password) */
	mem_fails("\nredis = redis://:s3cret@host:0\n",
	    "weir.conf:2: redis: expected a port 1-65535");
	mem_fails("redis = http://:s3cret@host\n",
	    "weir.conf:1: redis: expected "
	    "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix:/PATH[?db=N]");
	mem_fails("redis = unix:relative.sock\n",
	    "weir.conf:1: redis: unix: expected an absolute path: expected "
	    "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix:/PATH[?db=N]");
	mem_fails("redis_timeout = 0\n",
	    "weir.conf:1: redis_timeout: must be between 1ms and 10s");
	mem_fails("redis_timeout = 11s\n",
	    "weir.conf:1: redis_timeout: must be between 1ms and 10s");
	mem_fails("redis_prefix = a{b\n", "weir.conf:1: redis_prefix: no "
	    "spaces, braces or control characters");
	mem_fails("redis_prefix = \"\"\n",
	    "weir.conf:1: redis_prefix: expected 1 to 64 characters");
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("config");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, full_file);
	tcase_add_test(tc, bad_values_name_their_place);
	tcase_add_test(tc, syntax_errors);
	tcase_add_test(tc, comments_quotes_and_whitespace);
	tcase_add_test(tc, tenant_sections);
	tcase_add_test(tc, env_beats_file);
	tcase_add_test(tc, env_add_headers_keep_order);
	tcase_add_test(tc, add_header_repeated_keeps_order);
	tcase_add_test(tc, region_sets_both_upstreams);
	tcase_add_test(tc, region_then_explicit_upstream_in_env);
	tcase_add_test(tc, url_forms);
	tcase_add_test(tc, listen_forms);
	tcase_add_test(tc, cross_key_checks);
	tcase_add_test(tc, real_file);
	tcase_add_test(tc, load_precedence);
	tcase_add_test(tc, load_actions_and_bad_flags);
	tcase_add_test(tc, shipped_file_is_the_defaults);
	tcase_add_test(tc, redis_keys);
	tcase_add_test(tc,
	    priority_rules_keep_order_and_tenant_sections_have_their_own);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(config_suite());
}
