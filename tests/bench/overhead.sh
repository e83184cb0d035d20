#!/usr/bin/env bash
#
# overhead.sh - what weir costs compared with nginx as a plain reverse proxy.
#
# Starts the fake upstream (no added latency), nginx in front of it
# (conf/nginx-bench.conf.in) and weir in front of it, all on 127.0.0.1, then
# runs wrk against GET /api/v2/flows/some-id on each of the three and prints
# requests/s, p50 and p99 latency, and weir's throughput relative to nginx.
# Not part of make check: numbers depend on the machine.
#
# weir runs with its defaults (log_level info, one JSON access-log line per
# call) and its stderr goes to a file in the temp dir, as it would in
# production; nginx runs with access_log off, its usual setting behind a
# load balancer.  That puts weir's logging cost in weir's column.
#
# Needs wrk, nginx and curl (Debian: apt-get install wrk nginx-light curl)
# and a built tree (proxy/weir, and tests/fake/fakeup from make check),
# configured without --enable-debug (that build is -O0).
#
# weir's pacing is set out of the way (rate 1000000/s, burst 100000,
# concurrency 10000): this measures what forwarding costs, not the limits.
#
# Environment:
#   BENCH_DURATION     wrk -d per target, default 10s
#   BENCH_WARMUP       an unmeasured wrk run first, default 2s (0: none)
#   BENCH_CONNECTIONS  wrk -c, default 32
#   BENCH_THREADS      wrk -t, default 1
#   BENCH_PATH         default /api/v2/flows/ID, ID the fake's first flow
#   NGINX_WORKERS      nginx worker_processes, default 1 (weir is one thread)
#   BENCH_KEEP=1       keep the temp dir (configs, logs, wrk output)
#   WEIR_BIN, FAKEUP_BIN, NGINX, WRK   binaries to use

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
builddir=${builddir:-$top}
weir_bin=${WEIR_BIN:-$builddir/proxy/weir}
fakeup_bin=${FAKEUP_BIN:-$builddir/tests/fake/fakeup}
nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
wrk_bin=${WRK:-$(command -v wrk || true)}
duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-2s}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-1}
path=${BENCH_PATH:-}
workers=${NGINX_WORKERS:-1}

die() { echo "overhead.sh: $*" >&2; exit 1; }

missing=()
[ -n "$wrk_bin" ] && [ -x "$wrk_bin" ] || missing+=(wrk)
[ -x "$nginx_bin" ] || missing+=(nginx-light)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
	die "needs ${missing[*]}: apt-get install -y ${missing[*]} (or set WRK / NGINX)"
fi
[ -x "$weir_bin" ] || die "$weir_bin not built: run ./configure && make"
[ -x "$fakeup_bin" ] || die "$fakeup_bin not built: run make check (or make tests/fake/fakeup)"

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
nginx_port=$(free_port)
user_line=""
if [ "$(id -u)" -eq 0 ]; then
	# as root nginx would switch its worker to nobody, who cannot read tmp
	user_line="user $(id -un) $(id -gn);"
fi
temp_paths=""
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

# --- weir, with its defaults (log_level info: one JSON access line per call)
# apart from where it listens, what it forwards to, and pacing out of the way
echo "# weir config: flags only" >"$tmp/weir.conf"
(
	for v in $(compgen -e | grep '^WEIR_' || true); do unset "$v"; done
	export WEIR_ADMIN_LISTEN=off WEIR_RATE=1000000/s WEIR_BURST=100000 \
	    WEIR_CONCURRENCY=10000
	exec "$weir_bin" -c "$tmp/weir.conf" -l 127.0.0.1:0 \
	    -u "http://127.0.0.1:$fake_port" -L "http://127.0.0.1:$fake_port"
) >"$tmp/weir.out" 2>"$tmp/weir.log" &
weir_pid=$!
pids+=($weir_pid)
weir_port=$(wait_for "$tmp/weir.log" '"msg" *: *"listening on 127\.0\.0\.1:([0-9]+)"' $weir_pid) ||
	die "weir did not start: $(cat "$tmp/weir.log")"

# --- check all three answer the same thing before timing them
for port in "$fake_port" "$nginx_port" "$weir_port"; do
	curl -fsS -o "$tmp/check.$port" "http://127.0.0.1:$port$path" ||
		die "GET http://127.0.0.1:$port$path failed"
done
cmp -s "$tmp/check.$fake_port" "$tmp/check.$nginx_port" &&
cmp -s "$tmp/check.$fake_port" "$tmp/check.$weir_port" ||
	die "the three targets answer $path differently (BENCH_KEEP=1 to look)"

# bench NAME PORT: wrk it; sets rps p50 p99 errs (latencies in ms)
bench() {
	local name=$1 port=$2 url="http://127.0.0.1:$2$path" out="$tmp/wrk.$1"
	if [ "$warmup" != 0 ]; then
		"$wrk_bin" -t"$threads" -c"$conns" -d"$warmup" "$url" >/dev/null
	fi
	"$wrk_bin" -t"$threads" -c"$conns" -d"$duration" --latency "$url" >"$out"
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

load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }
echo "weir overhead benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -r), load $(load)"
echo "  wrk -t$threads -c$conns -d$duration --latency (warm-up $warmup) GET $path"
echo "  fakeup :$fake_port (no latency)"
echo "  nginx $("$nginx_bin" -v 2>&1 | sed 's|.*/||') :$nginx_port, worker_processes $workers, upstream keepalive 64, access_log off"
echo "  weir $("$weir_bin" -V 2>/dev/null | head -n1) :$weir_port, one thread, access log on, stderr to $tmp/weir.log"
echo

declare -A R P50 P99 E
for t in fakeup nginx weir; do
	case $t in
	fakeup) port=$fake_port ;;
	nginx)  port=$nginx_port ;;
	weir)   port=$weir_port ;;
	esac
	bench "$t" "$port"
	R[$t]=$rps P50[$t]=$p50 P99[$t]=$p99 E[$t]=$errs
done

printf '%-16s %12s %10s %10s %8s %10s\n' target 'requests/s' 'p50 ms' 'p99 ms' errors 'vs nginx'
for t in fakeup nginx weir; do
	label=$t
	[ "$t" = fakeup ] && label="fakeup (direct)"
	ratio=$(awk -v a="${R[$t]}" -v b="${R[nginx]}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
	printf '%-16s %12s %10s %10s %8s %10s\n' "$label" "${R[$t]}" "${P50[$t]}" "${P99[$t]}" "${E[$t]}" "$ratio"
done

echo "load average after the runs: $(load) (anything else busy on the machine skews the numbers)"
if ! kill -0 "$weir_pid" 2>/dev/null; then
	die "weir died during the run: $(tail -n 5 "$tmp/weir.log")"
fi
echo
echo "weir wrote $(wc -l <"$tmp/weir.log") log lines ($(du -h "$tmp/weir.log" | cut -f1)) to $tmp/weir.log"
bad=0
for t in fakeup nginx weir; do
	[ "${E[$t]}" -eq 0 ] || { echo "overhead.sh: $t had ${E[$t]} errors (non-2xx or socket)" >&2; bad=1; }
done
exit $bad
