#!/usr/bin/env bash
#
# overhead.sh - what weir costs compared with nginx and HAProxy as plain
# reverse proxies.
#
# Starts the fake upstream (no added latency), nginx (conf/nginx-bench.conf.in)
# and HAProxy (conf/haproxy-bench.cfg.in) in front of it, and weir twice in
# front of it: with log_level = warn (no access log) and with its defaults
# (log_level info, one JSON access-log line per call, stderr to a file in
# the temp dir, as in production), and the floor (tests/bench/floor.c:
# the least a proxy on weir's two HTTP libraries, libmicrohttpd and
# libcurl, costs on this path).  All on 127.0.0.1.  Then, for each
# number of client connections, runs wrk against GET /api/v2/flows/some-id
# on each target BENCH_RUNS times, round-robin (one round is every target
# once, so a busy moment on the machine hits them alike), keeps each
# cell's best run (the one with the most requests/s, with that run's
# latencies) and prints one table: requests/s, p50, p99, throughput
# relative to the faster anchor (nginx or HAProxy) at that number of
# connections, and each target's own CPU time per request, user and
# system apart.  Not part of make check: numbers depend on the machine.
#
# nginx and HAProxy run with one worker / one thread (weir is one thread),
# HTTP/1.1 keep-alive on both sides and their logging off, their usual
# setting behind a load balancer.
#
# Needs wrk, nginx, haproxy and curl (Debian: apt-get install wrk
# nginx-light haproxy curl) and a built tree (proxy/weir, and
# tests/fake/fakeup and tests/bench/floor from make check, or
# make tests/fake/fakeup tests/bench/floor), configured without --enable-debug
# (that build is -O0).  builddir=DIR points at an out-of-tree build.
#
# weir's pacing is set out of the way (rate 1000000/s, burst 100000,
# concurrency 10000): this measures what forwarding costs, not the limits.
#
# wrk runs one thread (-t1) at every number of connections: on a machine
# of two cores a second wrk thread takes CPU the proxy under test needs.
# The soft file-descriptor limit is raised to the hard one (1,024
# connections need more than the usual 1,024 descriptors).
#
# Environment:
#   BENCH_DURATION     wrk -d per run, default 10s
#   BENCH_WARMUP       an unmeasured wrk run before each, default 2s (0: none)
#   BENCH_CONNECTIONS  wrk -c, a list: default "32 256 1024"
#   BENCH_RUNS         runs per target and number of connections, default 3
#   BENCH_THREADS      wrk -t, default 1
#   BENCH_TARGETS      default "fakeup nginx haproxy floor weir-warn weir-info"
#                      (fakeup: the fake upstream direct, for reference;
#                      floor: tests/bench/floor)
#   BENCH_PATH         default /api/v2/flows/ID, ID the fake's first flow
#   NGINX_WORKERS      nginx worker_processes, default 1 (weir is one thread)
#   BENCH_KEEP=1       keep the temp dir (configs, logs, wrk output)
#   BENCH_HOLD=1       start everything, print the ports and wait (for perf
#                      or strace by hand); ^C ends it
#   BENCH_WEIRS        more weirs to compare, "NAME=BINARY ...", each run
#                      with log_level warn as target NAME (A/B of builds)
#   WEIR_BIN, FAKEUP_BIN, FLOOR_BIN, NGINX, HAPROXY, WRK   binaries to use

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
builddir=${builddir:-$top}
weir_bin=${WEIR_BIN:-$builddir/proxy/weir}
fakeup_bin=${FAKEUP_BIN:-$builddir/tests/fake/fakeup}
floor_bin=${FLOOR_BIN:-$builddir/tests/bench/floor}
nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
haproxy_bin=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
wrk_bin=${WRK:-$(command -v wrk || true)}
duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-2s}
conns_list=${BENCH_CONNECTIONS:-32 256 1024}
runs=${BENCH_RUNS:-3}
threads=${BENCH_THREADS:-1}
targets=${BENCH_TARGETS:-fakeup nginx haproxy floor weir-warn weir-info}
for w in ${BENCH_WEIRS:-}; do
	targets+=" ${w%%=*}"
done
path=${BENCH_PATH:-}
workers=${NGINX_WORKERS:-1}

die() { echo "overhead.sh: $*" >&2; exit 1; }

wants() { [[ " $targets " == *" $1 "* ]]; }

missing=()
[ -n "$wrk_bin" ] && [ -x "$wrk_bin" ] || missing+=(wrk)
wants nginx && { [ -x "$nginx_bin" ] || missing+=(nginx-light); }
wants haproxy && { [ -x "$haproxy_bin" ] || missing+=(haproxy); }
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
	die "needs ${missing[*]}: apt-get install -y ${missing[*]} (or set WRK / NGINX / HAPROXY)"
fi
[ -x "$weir_bin" ] || die "$weir_bin not built: run ./configure && make"
[ -x "$fakeup_bin" ] || die "$fakeup_bin not built: run make check (or make tests/fake/fakeup)"

# 1,024 connections (and the proxies' upstream ones) need descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-bench.XXXXXX")
pids=()
cleanup() {
	local p i
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for ((i = 0; i < 60; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for FILE REGEX PID: poll until FILE matches REGEX (extended, one
# capture group), print the capture; die if PID exits or after 10 s.
wait_for() {
	local file=$1 re=$2 pid=$3 i line
	for ((i = 0; i < 200; i++)); do
		line=$(grep -m1 -oE "$re" "$file" 2>/dev/null || true)
		if [ -n "$line" ] && [[ $line =~ $re ]]; then
			echo "${BASH_REMATCH[1]}"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# A free port for nginx, which cannot listen on port 0 and tell us.  There
# is a small race between closing this socket and nginx binding the port.
free_port() {
	if command -v python3 >/dev/null; then
		python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
		return
	fi
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 30000))
		# connection refused: nobody listens there
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "found no free port"
}

# Poll until something accepts connections on 127.0.0.1:PORT.
wait_port() {
	local port=$1 pid=$2 i
	for ((i = 0; i < 200; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# --- fake upstream
"$fakeup_bin" >"$tmp/fakeup.out" 2>"$tmp/fakeup.err" &
pids+=($!)
fake_port=$(wait_for "$tmp/fakeup.out" '^port ([0-9]+)$' $!) ||
	die "fakeup did not start: $(cat "$tmp/fakeup.err")"

# One flow the fake knows, so every target answers 200 with a flow.
if [ -z "$path" ]; then
	id=$(curl -fsS "http://127.0.0.1:$fake_port/api/v2/flows?pageSize=1&pageNumber=1" |
	    grep -oE '"id" *: *"[^"]+"' | head -n1 | sed -E 's/.*"([^"]+)"$/\1/') ||
		die "cannot list the fake's flows"
	[ -n "$id" ] || die "the fake listed no flow"
	path=/api/v2/flows/$id
fi

# --- nginx
start_nginx() {
	local user_line="" temp_paths="" kind d
	nginx_port=$(free_port)
	if [ "$(id -u)" -eq 0 ]; then
		# as root nginx would switch its worker to nobody, who cannot
		# read tmp
		user_line="user $(id -un) $(id -gn);"
	fi
	for kind in client-body proxy fastcgi uwsgi scgi; do
		# Only the temp paths of modules this nginx was built with.
		if "$nginx_bin" -V 2>&1 | grep -q -- "--http-$kind-temp-path"; then
			d=${kind/client-body/client_body}
			temp_paths+="	${d}_temp_path $tmp/$kind;"$'\n'
		fi
	done
	sed -e "s|@USER_LINE@|$user_line|" -e "s|@WORKERS@|$workers|" \
	    -e "s|@PREFIX@|$tmp|g" -e "s|@FAKE_PORT@|$fake_port|" \
	    -e "s|@PORT@|$nginx_port|" \
	    "$top/conf/nginx-bench.conf.in" >"$tmp/nginx.conf.tmp"
	awk -v paths="$temp_paths" '/@TEMP_PATHS@/ { printf "%s", paths; next } { print }' \
	    "$tmp/nginx.conf.tmp" >"$tmp/nginx.conf"
	rm -f "$tmp/nginx.conf.tmp"
	"$nginx_bin" -t -q -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log" ||
		die "nginx rejected $tmp/nginx.conf (BENCH_KEEP=1 keeps it)"
	"$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log" \
	    >"$tmp/nginx.out" 2>&1 &
	nginx_pid=$!
	pids+=($nginx_pid)
	wait_port "$nginx_port" "$nginx_pid" ||
		die "nginx did not start on port $nginx_port: $(cat "$tmp/error.log" "$tmp/nginx.out" 2>/dev/null)"
	port[nginx]=$nginx_port
}

# --- HAProxy: one thread, http mode, keep-alive both sides, no log
start_haproxy() {
	local hport pid
	hport=$(free_port)
	sed -e "s|@FAKE_PORT@|$fake_port|" -e "s|@PORT@|$hport|" \
	    -e "s|@PREFIX@|$tmp|g" \
	    "$top/conf/haproxy-bench.cfg.in" >"$tmp/haproxy.cfg"
	"$haproxy_bin" -c -q -f "$tmp/haproxy.cfg" ||
		die "haproxy rejected $tmp/haproxy.cfg (BENCH_KEEP=1 keeps it)"
	"$haproxy_bin" -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.out" 2>&1 &
	pid=$!
	pids+=($pid)
	haproxy_pid=$pid
	wait_port "$hport" "$pid" ||
		die "haproxy did not start on port $hport: $(cat "$tmp/haproxy.out" 2>/dev/null)"
	port[haproxy]=$hport
}

# --- weir NAME LOG_LEVEL [BINARY]: its defaults apart from the log level,
# where it listens, what it forwards to, and pacing out of the way
start_weir() {
	local name=$1 level=$2 bin=${3:-$weir_bin} pid
	echo "# weir config: flags only" >"$tmp/$name.conf"
	(
		for v in $(compgen -e | grep '^WEIR_' || true); do unset "$v"; done
		export WEIR_ADMIN_LISTEN=off WEIR_RATE=1000000/s WEIR_BURST=100000 \
		    WEIR_CONCURRENCY=10000 WEIR_LOG_LEVEL="$level"
		exec "$bin" -c "$tmp/$name.conf" -l 127.0.0.1:0 \
		    -u "http://127.0.0.1:$fake_port" -L "http://127.0.0.1:$fake_port"
	) >"$tmp/$name.out" 2>"$tmp/$name.log" &
	pid=$!
	pids+=($pid)
	weir_pids[$name]=$pid
	port[$name]=$(wait_for "$tmp/$name.log" '"msg" *: *"listening on 127\.0\.0\.1:([0-9]+)"' $pid) ||
		die "weir ($name) did not start: $(cat "$tmp/$name.log")"
}

declare -A port weir_pids
port[fakeup]=$fake_port
wants nginx && start_nginx
wants haproxy && start_haproxy
wants weir-warn && start_weir weir-warn warn
wants weir-info && start_weir weir-info info
# The floor takes weir's command line and says where it listens as weir does.
if wants floor; then
	[ -x "$floor_bin" ] || die "no $floor_bin (make tests/bench/floor)"
	start_weir floor warn "$floor_bin"
fi
for w in ${BENCH_WEIRS:-}; do
	[ -x "${w#*=}" ] || die "BENCH_WEIRS: ${w#*=} is not a program"
	start_weir "${w%%=*}" warn "${w#*=}"
done

# --- check all answer the same thing before timing them
curl -fsS -o "$tmp/check.fakeup" "http://127.0.0.1:$fake_port$path" ||
	die "GET http://127.0.0.1:$fake_port$path (the fake) failed"
for t in $targets; do
	[ -n "${port[$t]:-}" ] || die "unknown target $t"
	curl -fsS -o "$tmp/check.$t" "http://127.0.0.1:${port[$t]}$path" ||
		die "GET http://127.0.0.1:${port[$t]}$path ($t) failed"
	cmp -s "$tmp/check.fakeup" "$tmp/check.$t" ||
		die "$t answers $path differently from the fake (BENCH_KEEP=1 to look)"
done

if [ "${BENCH_HOLD:-0}" = 1 ]; then
	for t in $targets; do
		echo "$t 127.0.0.1:${port[$t]}${weir_pids[$t]:+ pid ${weir_pids[$t]}}"
	done
	echo "GET $path; holding until ^C"
	# in the background, so that a signal ends the wait at once
	while :; do sleep 3600 & wait $!; done
fi

# The process doing a target's work, for its CPU time: weir, nginx's
# worker, haproxy, the fake.
declare -A cpu_pid
cpu_pid[fakeup]=${pids[0]}
for t in "${!weir_pids[@]}"; do cpu_pid[$t]=${weir_pids[$t]}; done
if wants nginx; then
	cpu_pid[nginx]=$(pgrep -P "$nginx_pid" | head -n1 || true)
fi
wants haproxy && cpu_pid[haproxy]=$haproxy_pid

# CPU time of PID so far, user and system, in clock ticks.
cpu_ticks() {
	awk '{ print $14, $15 }' "/proc/$1/stat" 2>/dev/null || echo 0 0
}
hz=$(getconf CLK_TCK)

# bench NAME CONNS: wrk it; sets rps p50 p99 errs (latencies in ms) and
# usr and sys (the target's CPU microseconds per request, user and system)
bench() {
	local name=$1 c=$2 url="http://127.0.0.1:${port[$1]}$path"
	local out="$tmp/wrk.$1.$2" p=${cpu_pid[$1]:-} t0="0 0" t1="0 0"
	if [ "$warmup" != 0 ]; then
		"$wrk_bin" -t"$threads" -c"$c" -d"$warmup" "$url" >/dev/null
	fi
	[ -n "$p" ] && t0=$(cpu_ticks "$p")
	"$wrk_bin" -t"$threads" -c"$c" -d"$duration" --latency "$url" >"$out"
	[ -n "$p" ] && t1=$(cpu_ticks "$p")
	read -r rps p50 p99 errs n < <(awk '
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
	/ requests in /          { n = $1 }
	END { printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, errs, n }' "$out")
	read -r usr sys < <(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v n="$n" 'BEGIN {
		split(a, x); split(b, y)
		if (n > 0 && y[1] + y[2] > x[1] + x[2])
			printf "%.0f %.0f\n", (y[1] - x[1]) * 1e6 / hz / n, (y[2] - x[2]) * 1e6 / hz / n
		else
			print "- -"
	}')
}

load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }
echo "weir overhead benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -r), load $(load)"
echo "  wrk -t$threads -c{$conns_list} -d$duration --latency (warm-up $warmup), best of $runs round-robin runs, GET $path"
echo "  fakeup :$fake_port (no latency)"
wants nginx && echo "  nginx $("$nginx_bin" -v 2>&1 | sed 's|.*/||') :${port[nginx]}, worker_processes $workers, upstream keepalive, access_log off"
wants haproxy && echo "  haproxy $("$haproxy_bin" -v | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p') :${port[haproxy]}, nbthread 1, http-reuse always, no log"
echo "  weir $("$weir_bin" -V 2>/dev/null | head -n1 | sed 's/^weir //'), one thread: weir-warn log_level warn, weir-info log_level info (access log) to $tmp/weir-info.log"
echo

# Best run per cell (most requests/s), and errors over all runs.
declare -A R P50 P99 E USR SYS
for c in $conns_list; do
	for ((run = 1; run <= runs; run++)); do
		for t in $targets; do
			bench "$t" "$c"
			k="$t,$c"
			E[$k]=$(( ${E[$k]:-0} + errs ))
			if [ -z "${R[$k]:-}" ] || [ "$rps" -gt "${R[$k]}" ]; then
				R[$k]=$rps P50[$k]=$p50 P99[$k]=$p99 USR[$k]=$usr SYS[$k]=$sys
			fi
		done
	done
done

printf '%-16s %6s %11s %9s %9s %7s %9s %8s %7s %7s\n' target conns 'requests/s' 'p50 ms' 'p99 ms' errors 'vs best' 'p99 vs' 'usr us' 'sys us'
for c in $conns_list; do
	best=0 bestp99=0
	for a in nginx haproxy; do
		wants "$a" || continue
		if [ "${R[$a,$c]}" -gt "$best" ]; then
			best=${R[$a,$c]}
		fi
		if [ "$bestp99" = 0 ] || awk -v a="${P99[$a,$c]}" -v b="$bestp99" 'BEGIN { exit !(a < b) }'; then
			bestp99=${P99[$a,$c]}
		fi
	done
	for t in $targets; do
		k="$t,$c"
		label=$t
		[ "$t" = fakeup ] && label="fakeup (direct)"
		ratio=$(awk -v a="${R[$k]}" -v b="$best" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
		pr=$(awk -v a="${P99[$k]}" -v b="$bestp99" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
		printf '%-16s %6s %11s %9s %9s %7s %9s %8s %7s %7s\n' "$label" "$c" "${R[$k]}" "${P50[$k]}" "${P99[$k]}" "${E[$k]}" "$ratio" "$pr" "${USR[$k]}" "${SYS[$k]}"
	done
done
echo "(vs best: requests/s over the faster anchor's; p99 vs: p99 over the lower anchor p99; 1.00x = par;"
echo " usr us, sys us: the target's own CPU time per request in user space and in the kernel, in the run kept;"
echo " floor: libmicrohttpd and libcurl doing nothing but forward, tests/bench/floor.c)"

echo "load average after the runs: $(load) (anything else busy on the machine skews the numbers)"
bad=0
for t in "${!weir_pids[@]}"; do
	if ! kill -0 "${weir_pids[$t]}" 2>/dev/null; then
		echo "overhead.sh: $t died during the run: $(tail -n 5 "$tmp/$t.log")" >&2
		bad=1
	fi
done
if wants weir-info; then
	echo "weir-info wrote $(wc -l <"$tmp/weir-info.log") log lines ($(du -h "$tmp/weir-info.log" | cut -f1)) to $tmp/weir-info.log"
fi
for k in "${!E[@]}"; do
	[ "${E[$k]}" -eq 0 ] || { echo "overhead.sh: ${k%,*} at ${k#*,} connections had ${E[$k]} errors (non-2xx or socket)" >&2; bad=1; }
done
exit $bad
