#!/usr/bin/env bash
#
# redis_overhead.sh - what sharing budgets through Redis costs one weir in
# throughput: the same weir with and without `redis` set, in the same run.
#
# Starts the fake upstream (no added latency, no limit), a redis-server on
# a unix socket in the scratch directory (--save '' --appendonly no), and
# two weirs in front of the fake on 127.0.0.1: "local" without redis and
# "redis" with WEIR_REDIS=unix:<socket>, otherwise configured alike.  Then
# wrk (as overhead.sh: -t1 -c32, GET /api/v2/flows/ID) against each in
# turn, local, redis, local, redis ... BENCH_RUNS times each, and prints
# every run, the best of each (highest requests/s), and redis/local for
# requests/s and p99.  Not part of make check: numbers depend on the
# machine (and on whatever else runs on it: see the load averages printed).
#
# Pacing is set out of the way (rate 1000000/s, burst 100000, concurrency
# 10000), so that this measures what the shared path costs, not the
# limits: with redis, every call of a tenant still goes on a slot
# reserved in Redis (one reservation per tenant in flight, up to 1000
# slots each, 250 ms ahead), the instance announces itself every second,
# and a 429 would run the pause script (none come here).  Both weirs run
# with log_level LOG_LEVEL (default info, weir's default: one access line
# per call, to a file).  After the runs the redis weir's /status says what
# Redis did: operations, round trips, timeouts, time in local mode, slots
# granted and wasted; a run in which it went local (redis_timeout) is not
# a measure of the shared path.
#
# Needs wrk, redis-server, curl and a built tree (proxy/weir, and
# tests/fake/fakeup from make check or make tests/fake/fakeup), configured
# without --enable-debug (that build is -O0).
#
# Environment:
#   BENCH_DURATION     wrk -d per run, default 10s
#   BENCH_WARMUP       an unmeasured wrk run before each, default 2s (0: none)
#   BENCH_CONNECTIONS  wrk -c, default 32
#   BENCH_THREADS      wrk -t, default 1
#   BENCH_RUNS         runs of each weir, default 3
#   BENCH_TENANTS      tenants the calls are spread over (X-Weir-Tenant
#                      t1..tN in turn, by a wrk script), default 1: the
#                      calls are all one tenant ("anonymous", no header)
#   LOG_LEVEL          both weirs' log_level, default info
#   BENCH_KEEP=1       keep the scratch directory (logs, wrk output)
#   WEIR_BIN, FAKEUP_BIN, REDIS_SERVER, WRK   binaries to use

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
WEIR_BIN=${WEIR_BIN:-$top/proxy/weir}
fakeup_bin=${FAKEUP_BIN:-$top/tests/fake/fakeup}
redis_bin=${REDIS_SERVER:-$(command -v redis-server || true)}
wrk_bin=${WRK:-$(command -v wrk || true)}
duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-2s}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-1}
runs=${BENCH_RUNS:-3}
ntenants=${BENCH_TENANTS:-1}
log_level=${LOG_LEVEL:-info}
KEEP_TMP=${BENCH_KEEP:-}
[ "$KEEP_TMP" = 1 ] || KEEP_TMP=

die() { echo "redis_overhead.sh: $*" >&2; exit 1; }

[ -n "$wrk_bin" ] && [ -x "$wrk_bin" ] || die "needs wrk (apt-get install -y wrk, or set WRK)"
[ -n "$redis_bin" ] && [ -x "$redis_bin" ] || die "needs redis-server (or set REDIS_SERVER)"
command -v curl >/dev/null || die "needs curl"
[ -x "$WEIR_BIN" ] || die "$WEIR_BIN not built: run ./configure && make"
[ -x "$fakeup_bin" ] || die "$fakeup_bin not built: run make tests/fake/fakeup"

. "$here/../lib.sh"
scratch redis-bench

# --- fake upstream
"$fakeup_bin" >"$tmp/fakeup.out" 2>"$tmp/fakeup.err" &
pids+=($!)
fake_port=$(wait_for "$tmp/fakeup.out" '^port ([0-9]+)$' $!) ||
	die "fakeup did not start: $(cat "$tmp/fakeup.err")"
id=$(curl -fsS "http://127.0.0.1:$fake_port/api/v2/flows?pageSize=1&pageNumber=1" |
    grep -oE '"id" *: *"[^"]+"' | head -n1 | sed -E 's/.*"([^"]+)"$/\1/')
[ -n "$id" ] || die "the fake listed no flow"
path=/api/v2/flows/$id

# --- redis
sock=$tmp/redis.sock
"$redis_bin" --port 0 --unixsocket "$sock" --unixsocketperm 700 \
    --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
redis_pid=$!
pids+=($redis_pid)
wait_for "$tmp/redis.log" '([Rr]eady to accept connections)' $redis_pid >/dev/null ||
	die "redis-server did not start: $(cat "$tmp/redis.log")"

# --- the two weirs: pacing out of the way, admin on port 0
echo "# redis_overhead.sh: settings come from the environment" >"$tmp/weir.conf"
# start NAME VAR=VALUE...: sets port_NAME, admin_NAME
start() {
	local name=$1 port admin; shift
	spawn_weir "$name" "$tmp/weir.conf" "$fake_port" "$fake_port" \
	    WEIR_ADMIN_LISTEN=127.0.0.1:0 WEIR_RATE=1000000/s \
	    WEIR_BURST=100000 WEIR_CONCURRENCY=10000 \
	    WEIR_LOG_LEVEL="$log_level" "$@"
	port=$(wait_for "$tmp/$name.log" '"listening on 127\.0\.0\.1:([0-9]+)"' $weir_pid) ||
		die "weir $name did not start: $(cat "$tmp/$name.log")"
	admin=$(wait_for "$tmp/$name.log" '"admin listening on 127\.0\.0\.1:([0-9]+)' $weir_pid) ||
		die "weir $name has no admin listener: $(cat "$tmp/$name.log")"
	printf -v "port_$name" %s "$port"
	printf -v "admin_$name" %s "$admin"
	printf -v "pid_$name" %s "$weir_pid"
}
start local
start redis WEIR_REDIS="unix:$sock"

# The redis weir must pace through Redis before it is timed.
for ((i = 0; i < 100; i++)); do
	curl -s "http://127.0.0.1:$admin_redis/status" | grep -q '"mode":"shared"' && break
	sleep 0.05
done
((i < 100)) || die "the redis weir never went shared: $(tail -n 3 "$tmp/redis.log")"

# wrk's script: spread the calls over BENCH_TENANTS tenants
script=()
if ((ntenants > 1)); then
	cat >"$tmp/tenants.lua" <<'LUA'
local n = tonumber(os.getenv("BENCH_TENANTS"))
local i = 0
request = function()
	i = i % n + 1
	return wrk.format(nil, nil, { ["X-Weir-Tenant"] = "t" .. i })
end
LUA
	script=(-s "$tmp/tenants.lua")
fi
export BENCH_TENANTS=$ntenants

for name in local redis; do
	port_var=port_$name
	curl -fsS -o /dev/null "http://127.0.0.1:${!port_var}$path" ||
		die "GET $path through the $name weir failed"
done

# bench NAME RUN: wrk the NAME weir; sets rps p50 p99 errs (ms)
bench() {
	local name=$1 port_var=port_$1 out="$tmp/wrk.$1.$2" url
	url="http://127.0.0.1:${!port_var}$path"
	if [ "$warmup" != 0 ]; then
		"$wrk_bin" -t"$threads" -c"$conns" -d"$warmup" "${script[@]}" "$url" >/dev/null
	fi
	"$wrk_bin" -t"$threads" -c"$conns" -d"$duration" --latency "${script[@]}" "$url" >"$out"
	read -r rps p50 p99 errs < <(awk '
	function ms(v) {
		if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
		if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
		if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
		return v + 0
	}
	/^Requests\/sec:/        { rps = $2 }
	$1 == "50%"              { p50 = ms($2) }
	$1 == "99%"              { p99 = ms($2) }
	/Non-2xx or 3xx/         { errs += $NF }
	/Socket errors:/         { gsub(/,/, ""); errs += $4 + $6 + $8 + $10 }
	END { printf "%s %.3f %.3f %d\n", rps, p50, p99, errs }' "$out")
}

# The redis weir's side of Redis, from /status, in one line.
redis_line() {
	curl -s "http://127.0.0.1:$admin_redis/status" | tr ',' '\n' | awk -F: '
	/"mode"/ { m = $2 } /"local_s"/ { l = $2 } /"ops"/ { o = $2 }
	/"timeouts"/ { t = $2 } /"reconnects"/ { c = $2 }
	/"slots_granted"/ { g = $2 } /"slots_wasted"/ { w = $2 }
	/"rtt_avg_ms"/ { sub(/}.*/, "", $2); r = $2 }
	END { gsub(/"/, "", m); printf "%s, %s ops, rtt avg %s ms, %s timeouts, " \
	    "%s reconnects, local %s s, slots %s granted %s wasted\n",
	    m, o, r, t, c, l, g, w }'
}

load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }
echo "weir with and without redis: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, load $(load)"
echo "  wrk -t$threads -c$conns -d$duration --latency (warm-up $warmup) GET $path, $ntenants tenant(s)"
echo "  fakeup :$fake_port (no latency); redis $("$redis_bin" --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p') on a unix socket"
echo "  weir $("$WEIR_BIN" -V 2>/dev/null | head -n1): log_level $log_level, rate 1000000/s, burst 100000, concurrency 10000"
echo

printf '%-10s %4s %12s %10s %10s %8s\n' weir run 'requests/s' 'p50 ms' 'p99 ms' errors
declare -A BR BP50 BP99
bad=0
for ((r = 1; r <= runs; r++)); do
	for name in local redis; do
		bench "$name" "$r"
		printf '%-10s %4s %12s %10s %10s %8s\n' "$name" "$r" "$rps" "$p50" "$p99" "$errs"
		[ "$errs" -eq 0 ] || bad=1
		if [ -z "${BR[$name]:-}" ] ||
		    awk -v a="$rps" -v b="${BR[$name]}" 'BEGIN { exit !(a > b) }'; then
			BR[$name]=$rps BP50[$name]=$p50 BP99[$name]=$p99
		fi
	done
done

echo
echo "best of $runs (highest requests/s):"
printf '%-10s %12s %10s %10s\n' weir 'requests/s' 'p50 ms' 'p99 ms'
for name in local redis; do
	printf '%-10s %12s %10s %10s\n' "$name" "${BR[$name]}" "${BP50[$name]}" "${BP99[$name]}"
done
awk -v a="${BR[redis]}" -v b="${BR[local]}" -v c="${BP99[redis]}" -v d="${BP99[local]}" 'BEGIN {
	printf "redis/local: requests/s %.3f, p99 %.3f\n", a / b, (d > 0 ? c / d : 0)
}'
echo "redis weir's /status: $(redis_line)"
echo "load average after the runs: $(load)"
for name in local redis; do
	pid_var=pid_$name
	kill -0 "${!pid_var}" 2>/dev/null || die "the $name weir died: $(tail -n 5 "$tmp/$name.log")"
done
((bad == 0)) || echo "redis_overhead.sh: some runs had errors (non-2xx or socket)" >&2
exit $bad
