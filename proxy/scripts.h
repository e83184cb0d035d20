/*
 * scripts.h - the Lua scripts weir runs in Redis to share each tenant's
 * GCRA budget between instances (docs/design.md, "Beyond one machine"):
 * reserve takes slots, pause records a 429, announce counts the live
 * instances.  Text only: this file sends nothing; the caller runs them
 * with EVALSHA and, on a NOSCRIPT error (Redis restarted or flushed its
 * script cache), with EVAL, which also caches them again.
 *
 * Every script reads the time with Redis TIME (microseconds), names every
 * key it touches in KEYS and leaves an expiry on each.  Each replies with
 * an array of integers:
 *
 * script_reserve: KEYS[1] = the tenant's hash, <prefix>{<16 hex of
 *   sha256(tenant)>}:t; ARGV = k (slots wanted, >= 1), T_us (interval),
 *   burst (>= 1), horizon_us, floor (1: restart the bucket empty).
 *   Reply {n, d0_us, T_us, epoch, pause_left_us, limit, mismatch}: n slots
 *   granted; slot i (i < n) may be sent d0_us + i*T_us after the reply (at
 *   once if that is negative); T_us is the interval in force (the caller's,
 *   or longer if a 429 taught a limit per minute); when paused, n = 0 and
 *   d0_us says when the first slot could be; epoch counts pauses;
 *   pause_left_us >= 0; limit is the learned calls/min (0: none);
 *   mismatch = 1 when an earlier caller used another T_us or burst.
 *
 * script_pause: KEYS[1] = the tenant's hash; ARGV = wait_us,
 *   limit_per_min (0: none learned), T_us, burst.  Reply {pause_left_us,
 *   epoch, limit}.  The epoch moves only when the pause end moves later.
 *
 * script_announce: KEYS[1] = <prefix>{instances}, a sorted set; ARGV =
 *   instance id, ttl_ms, leaving (1: remove the id at once).  Reply: the
 *   number of live instances (an integer, not an array).
 */
#ifndef WEIR_SCRIPTS_H
#define WEIR_SCRIPTS_H

struct script {
	const char	*name;
	const char	*text;
	char		 sha1[41];	/* hex, as SCRIPT LOAD answers */
};

extern struct script script_reserve, script_pause, script_announce;

/* Fill in every script's sha1 (SHA-1 of its text).  Idempotent. */
void	scripts_init(void);

#endif
