/*
 * scripts.c - the Lua scripts that share a tenant's GCRA budget through
 * Redis, as C strings, and their SHA-1s for EVALSHA; see scripts.h.
 * Touches nothing but its own strings (OpenSSL computes the digests).
 *
 * Conventions shared by the scripts (bucket.h is the same arithmetic in
 * process): T is the interval one call costs, tau = (burst - 1) * T; a
 * call conforms at x when x >= tat - tau, and taking it sets
 * tat = max(tat, x) + T.  Times are microseconds from Redis TIME.  Lua
 * numbers are doubles, exact to 2^53 (about 285 years of microseconds),
 * but tostring() prints only 14 digits: stored numbers go through
 * string.format('%.0f').
 */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "scripts.h"

/* Every script starts with this: effects replication (the default since
 * Redis 5, the only mode in 7) lets a script write after reading TIME. */
#define PROLOGUE \
	"if redis.replicate_commands then redis.replicate_commands() end\n" \
	"local function num(i)\n" \
	"  local v = tonumber(ARGV[i])\n" \
	"  if not v then\n" \
	"    error({err = 'ERR weir: ARGV[' .. i .. '] is not a number'})\n" \
	"  end\n" \
	"  return math.floor(v)\n" \
	"end\n" \
	"local function fmt(x) return string.format('%.0f', x) end\n"

/* The tenant's hash and the interval in force: a limit per minute learned
 * from a 429 body lengthens the caller's T, never shortens it. */
#define TENANT_STATE \
	"local t = redis.call('TIME')\n" \
	"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n" \
	"local h = redis.call('HMGET', key,\n" \
	"  'tat', 'pause', 'epoch', 'limit', 'T', 'burst')\n" \
	"local tat = tonumber(h[1])\n" \
	"local pause = tonumber(h[2]) or 0\n" \
	"local epoch = tonumber(h[3]) or 0\n" \
	"local limit = tonumber(h[4]) or 0\n"
#define INTERVAL \
	"local T = Tc\n" \
	"if limit > 0 then T = math.max(T, math.ceil(60e6 / limit)) end\n" \
	"local tau = (burst - 1) * T\n"

/* Kept 10 minutes past the later of tat and the pause end: long enough
 * that an idle tenant's bucket is full again when it goes. */
#define EXPIRE \
	"local ms = math.floor((math.max(tat, pause) - now) / 1000)\n" \
	"redis.call('PEXPIRE', key, fmt(math.max(0, ms) + 600000))\n"

struct script script_reserve = { "reserve",
	"-- weir reserve: take up to k of a tenant's GCRA slots.\n"
	"-- KEYS[1] tenant hash; ARGV k, T_us, burst, horizon_us, floor.\n"
	PROLOGUE
	"local key = KEYS[1]\n"
	"local k = math.max(1, num(1))\n"
	"local Tc = math.max(0, num(2))\n"
	"local burst = math.max(1, num(3))\n"
	"local horizon = math.max(0, num(4))\n"
	"local floor = num(5) == 1\n"
	TENANT_STATE
	"local sT, sb = tonumber(h[5]), tonumber(h[6])\n"
	"-- an earlier caller used other settings: say so, then keep ours\n"
	"local mismatch = 0\n"
	"if sT and (sT ~= Tc or sb ~= burst) then mismatch = 1 end\n"
	INTERVAL
	"-- no state: a full bucket; floor (back from local mode, or Redis\n"
	"-- lost the state): restart empty, one call now and then one per T\n"
	"if not tat then tat = now end\n"
	"if floor then tat = math.max(tat, now + tau) end\n"
	"local tat0 = math.max(tat, now)\n"
	"local c0 = tat0 - tau -- the first slot conforms then\n"
	"local n, d0 = 0, c0 - now\n"
	"if pause > now then\n"
	"  -- paused: nothing now; the first slot could go at the pause end\n"
	"  d0 = math.max(pause, c0) - now\n"
	"else\n"
	"  -- slot i goes at c0 + i*T: grant those within the horizon\n"
	"  local room = now + horizon - c0\n"
	"  if room >= 0 then\n"
	"    if T == 0 then n = k\n"
	"    else n = math.min(k, math.floor(room / T) + 1) end\n"
	"  end\n"
	"  tat = tat0 + n * T\n"
	"end\n"
	"redis.call('HSET', key, 'tat', fmt(tat), 'T', fmt(Tc),\n"
	"  'burst', fmt(burst))\n"
	EXPIRE
	"return {n, d0, T, epoch, math.max(0, pause - now), limit, mismatch}\n",
	""
};

struct script script_pause = { "pause",
	"-- weir pause: a 429 came back; hold the tenant for wait_us.\n"
	"-- KEYS[1] tenant hash; ARGV wait_us, limit_per_min, T_us, burst.\n"
	PROLOGUE
	"local key = KEYS[1]\n"
	"local wait = math.max(0, num(1))\n"
	"local lim = num(2)\n"
	"local Tc = math.max(0, num(3))\n"
	"local burst = math.max(1, num(4))\n"
	TENANT_STATE
	"tat = tat or 0\n"
	"if lim > 0 then limit = lim end\n"
	INTERVAL
	"-- only a later end is news: the epoch tells instances to drop\n"
	"-- slots granted before it; those granted under the current pause\n"
	"-- lie after its end already\n"
	"local pend = now + wait\n"
	"if pend > pause then pause, epoch = pend, epoch + 1 end\n"
	"-- restart empty at the pause end: no burst at resume\n"
	"tat = math.max(tat, pause + tau)\n"
	"redis.call('HSET', key, 'tat', fmt(tat), 'pause', fmt(pause),\n"
	"  'epoch', fmt(epoch), 'limit', fmt(limit))\n"
	EXPIRE
	"return {math.max(0, pause - now), epoch, limit}\n",
	""
};

struct script script_announce = { "announce",
	"-- weir announce: an instance is alive (or leaving); count the live.\n"
	"-- KEYS[1] sorted set, id -> deadline in ms; ARGV id, ttl_ms,\n"
	"-- leaving.\n"
	PROLOGUE
	"local key = KEYS[1]\n"
	"local id = ARGV[1]\n"
	"local ttl = math.max(1, num(2))\n"
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 +\n"
	"  math.floor(tonumber(t[2]) / 1000)\n"
	"if num(3) == 1 then\n"
	"  redis.call('ZREM', key, id)\n"
	"else\n"
	"  redis.call('ZADD', key, fmt(now + ttl), id)\n"
	"end\n"
	"-- instances that stopped announcing are gone\n"
	"redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now))\n"
	"local n = redis.call('ZCARD', key)\n"
	"-- Redis drops an empty set: only a live one needs an expiry\n"
	"if n > 0 then redis.call('PEXPIRE', key, fmt(ttl * 2)) end\n"
	"return n\n",
	""
};

static void
digest(struct script *s)
{
	unsigned char	 d[SHA_DIGEST_LENGTH];
	size_t		 i;

	SHA1((const unsigned char *)s->text, strlen(s->text), d);
	for (i = 0; i < sizeof(d); i++)
		snprintf(s->sha1 + 2 * i, 3, "%02x", d[i]);
}

void
scripts_init(void)
{
	digest(&script_reserve);
	digest(&script_pause);
	digest(&script_announce);
}
