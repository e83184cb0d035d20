/*
 * fuzz_config.c - libFuzzer target for weir's configuration parser.
 *
 * The input is read three ways: as a whole weir.conf (config_file_mem,
 * then config_finish); split at its first newline into a key and a value
 * for config_set() and, as WEIR_<KEY>, for config_env(); and as a value
 * for config_parse.c's size, duration, rate and region parsers.  A config
 * that passes config_finish() is checked against what the rest of weir
 * relies on.  Touches memory only (a ca_file line makes config_parse.c
 * stat a path).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_parse.h"
#include "fuzz.h"
#include "hdr.h"
#include "tenant.h"

/* config_env() takes a bare function: these say what it answers. */
static const char	*env_key;	/* "rate" answers WEIR_RATE */
static const char	*env_value;

static const char *
fake_getenv(const char *name)
{
	if (env_key == NULL || strncmp(name, "WEIR_", 5) != 0 ||
	    strcasecmp(name + 5, env_key) != 0)
		return NULL;
	return env_value;
}

static int
url_ok(const char *u)
{
	return u != NULL && (strncmp(u, "https://", 8) == 0 ||
	    strncmp(u, "http://", 7) == 0);
}

static int
prefix_ok(const char *p)
{
	size_t	n;

	if (p == NULL)
		return 0;
	n = strlen(p);
	return n == 0 || (p[0] == '/' && p[n - 1] != '/');
}

static int
limits_ok(const struct limits *l)
{
	return l->rate.n >= 1 && l->rate.per_ms >= 1 && l->burst >= 1 &&
	    l->concurrency >= 1 && l->max_queue >= 1;
}

/* What route, tenant, sched and upstream take for granted. */
static void
check_config(const struct config *cfg)
{
	const struct tenant_limits *tc;
	size_t			 i;

	FUZZ_CHECK(url_ok(cfg->upstream));
	FUZZ_CHECK(url_ok(cfg->login_upstream));
	FUZZ_CHECK(prefix_ok(cfg->api_prefix));
	FUZZ_CHECK(prefix_ok(cfg->login_prefix));
	FUZZ_CHECK(cfg->api_prefix[0] == '\0' ||
	    strcmp(cfg->api_prefix, cfg->login_prefix) != 0);
	FUZZ_CHECK(cfg->request_id_header != NULL &&
	    hdr_name_valid(cfg->request_id_header,
	    strlen(cfg->request_id_header)));
	for (i = 0; i < cfg->add_headers.n; i++) {
		const struct hdr *h = &cfg->add_headers.v[i];

		FUZZ_CHECK(hdr_name_valid(h->name, strlen(h->name)));
		FUZZ_CHECK(hdr_value_valid(h->value, strlen(h->value)));
	}
	if (cfg->tenant_key == TENANT_KEY_HEADER)
		FUZZ_CHECK(cfg->tenant_header != NULL &&
		    hdr_name_valid(cfg->tenant_header,
		    strlen(cfg->tenant_header)));
	FUZZ_CHECK(cfg->max_wait_ms <= cfg->max_wait_cap_ms);
	FUZZ_CHECK(limits_ok(&cfg->limits));
	for (tc = cfg->tenants; tc != NULL; tc = tc->next) {
		FUZZ_CHECK(tenant_name_valid(tc->name, strlen(tc->name)));
		FUZZ_CHECK(limits_ok(&tc->limits));
		FUZZ_CHECK(config_limits(cfg, tc->name) != NULL);
	}
	FUZZ_CHECK(config_limits(cfg, "no such tenant!") == &cfg->limits);
}

/* A failed call must say why, within the buffer it was given. */
static void
check_err(const char *err, size_t errlen)
{
	FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
	FUZZ_CHECK(errlen <= 1 || err[0] != '\0');
}

static void
whole_file(const char *text)
{
	struct config	*cfg;
	char		 err[512];

	cfg = config_new();
	err[0] = '\0';
	if (config_file_mem(cfg, "fuzz.conf", text, err, sizeof(err)) == -1)
		check_err(err, sizeof(err));
	else if (config_finish(cfg, err, sizeof(err)) == -1)
		check_err(err, sizeof(err));
	else
		check_config(cfg);
	config_free(cfg);
}

/* key is the first line, value the rest; a small err buffer on purpose. */
static void
one_key(const char *key, const char *value)
{
	struct config	*cfg;
	char		 err[24];

	cfg = config_new();
	err[0] = '\0';
	if (config_set(cfg, "--fuzz", key, value, err, sizeof(err)) == -1)
		check_err(err, sizeof(err));
	else if (config_finish(cfg, err, sizeof(err)) == 0)
		check_config(cfg);
	config_free(cfg);

	cfg = config_new();
	env_key = key;
	env_value = value;
	if (config_env(cfg, fake_getenv, err, sizeof(err)) == 0 &&
	    config_finish(cfg, err, sizeof(err)) == 0)
		check_config(cfg);
	env_key = env_value = NULL;
	config_free(cfg);
}

/* One value through config_parse.c's parsers; a small why on purpose. */
static void
values(const char *s)
{
	uint64_t	 n;
	struct rate	 r;
	char		*api = NULL, *login = NULL, why[24];

	if (cfgp_size(s, 0, UINT64_MAX, &n, why, sizeof(why)) == -1)
		check_err(why, sizeof(why));
	if (cfgp_duration(s, 0, UINT64_MAX, &n, why, sizeof(why)) == -1)
		check_err(why, sizeof(why));
	if (cfgp_rate(s, 0, UINT64_MAX, &r, why, sizeof(why)) == 0)
		FUZZ_CHECK(r.per_ms > 0);
	else
		check_err(why, sizeof(why));
	if (cfgp_region(s, &api, &login, why, sizeof(why)) == 0) {
		FUZZ_CHECK(url_ok(api) && url_ok(login));
		free(api);
		free(login);
	} else
		check_err(why, sizeof(why));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text, *nl, *value;

	text = fuzz_cstr(data, size);
	whole_file(text);

	if ((nl = strchr(text, '\n')) != NULL) {
		*nl = '\0';
		value = nl + 1;
	} else
		value = text + strlen(text);
	one_key(text, value);
	values(text);
	values(value);

	free(text);
	return 0;
}
