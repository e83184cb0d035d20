#!/usr/bin/env bash
#
# sdk.sh - the Node.js SDK test, a TAP test for make check.
#
# Starts fake upstreams (login, API, and one that answers 429 past 8 calls a
# second) and three weir instances in front of them - with gateway prefixes
# (api_prefix=/api, login_prefix=/login), without, and without in front of
# the rate-limited fake - all on 127.0.0.1 port 0; runs sdk_test.js, which
# drives them with the real purecloud-platform-client-v2 SDK; then checks
# that each weir stops cleanly on SIGTERM.  Every process it starts is killed on
# exit, whatever happens.
#
# Environment (set by make check): WEIR_BIN, FAKEUP_BIN, NODE, top_srcdir.
# Skips when node or tests/node/node_modules is missing.

set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
WEIR_BIN=${WEIR_BIN:-$top_srcdir/proxy/weir}
FAKEUP_BIN=${FAKEUP_BIN:-$top_srcdir/tests/fake/fakeup}
NODE=${NODE:-$(command -v node || true)}
START_TIMEOUT=5	# seconds for a process to say where it listens
NODE_TIMEOUT=45		# seconds for the whole SDK run
STOP_TIMEOUT=5		# seconds for weir to exit after SIGTERM

if [ -z "$NODE" ] || ! "$NODE" --version >/dev/null 2>&1; then
	echo "1..0 # SKIP node not found (set NODE or put node on PATH)"
	exit 0
fi
if [ ! -d "$top_srcdir/tests/node/node_modules/purecloud-platform-client-v2" ]; then
	echo "1..0 # SKIP node_modules missing: run npm ci --prefix tests/node"
	exit 0
fi

n=0
fail() { n=$((n + 1)); echo "not ok $n - $*"; }
pass() { n=$((n + 1)); echo "ok $n - $*"; }
# Print a file as TAP diagnostics.
show() { [ -s "$2" ] && { echo "# --- $1 ($2, last 40 lines)"; tail -n 40 "$2" | sed 's/^/# /'; }; }
# Give up: report what failed, the logs, and the plan.
bail() {
	fail "$*"
	for f in "$tmp"/*.log "$tmp"/*.err; do [ -e "$f" ] && show "$(basename "$f")" "$f"; done
	echo "1..$n"
	exit 0		# the TAP above says what failed
}

scratch sdk 40

for bin in "$WEIR_BIN" "$FAKEUP_BIN"; do
	[ -x "$bin" ] || bail "$bin is not built (run make check)"
done

# gone PID: why a process we wait for did not come up.
gone() {
	if kill -0 "$1" 2>/dev/null; then
		echo "nothing after ${START_TIMEOUT}s"
	else
		wait "$1"; echo "it exited with status $?"
	fi
}

# start_fakeup NAME [ARGS...]: start one fake upstream; sets port.
start_fakeup() {
	local p name=$1; shift
	"$FAKEUP_BIN" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	p=$!
	pids+=($p)
	port=$(wait_for "$tmp/$name.out" '^port ([0-9]+)$' $p) ||
	    bail "$name: fakeup did not print its port ($(gone $p))"
}

# start_weir NAME API_PORT LOGIN_PORT VAR=VALUE...: start weir in front of
# the given fakes, with a clean WEIR_* environment plus the given variables
# (and no admin listener, whose fixed default port several instances would
# fight over); sets port and pid.
start_weir() {
	local name=$1 up=$2 login=$3; shift 3
	spawn_weir "$name" "$tmp/weir.conf" "$up" "$login" \
	    WEIR_ADMIN_LISTEN=off "$@"
	pid=$weir_pid
	port=$(wait_for "$tmp/$name.log" '"msg" *: *"listening on 127\.0\.0\.1:([0-9]+)"' $pid) ||
	    bail "$name: weir did not log \"listening on 127.0.0.1:PORT\" ($(gone $pid))"
}

echo "# weir config comes from flags and WEIR_* variables only" >"$tmp/weir.conf"

start_fakeup fake-api;   api_port=$port
start_fakeup fake-login; login_port=$port
# 8 calls a second per client, then Genesys' 429 with Retry-After.
start_fakeup fake-limited --limit 8 --window-s 1; limited_port=$port
hdr="WEIR_ADD_HEADER=X-Genesys-Client: sdk-test"
start_weir weir-prefix "$api_port" "$login_port" \
    WEIR_API_PREFIX=/api WEIR_LOGIN_PREFIX=/login "$hdr"
prefix_port=$port prefix_pid=$pid
start_weir weir-root "$api_port" "$login_port" "$hdr"
root_port=$port root_pid=$pid
# weir's own pacing set above the fake's limit, so the fake answers 429s
# and weir has to absorb them.
start_weir weir-absorb "$limited_port" "$limited_port" "$hdr" \
    WEIR_RATE=100/s WEIR_BURST=100
absorb_port=$port absorb_pid=$pid
# Slow enough that a flood of calls queues up: priority classes show.
start_weir weir-prio "$api_port" "$login_port" "$hdr" \
    WEIR_RATE=10/s WEIR_BURST=1
prio_port=$port prio_pid=$pid
echo "# fakes: api :$api_port, login :$login_port, limited :$limited_port;" \
    "weir: with prefixes :$prefix_port, without :$root_port," \
    "absorbing :$absorb_port"

# The SDK reads ~/.genesyscloudjavascript/config: give it an empty home.
mkdir "$tmp/home"
timeout_cmd=()
command -v timeout >/dev/null && timeout_cmd=(timeout -k 5 "$NODE_TIMEOUT")
(
	cd "$here" &&
	HOME="$tmp/home" FAKE_API_PORT=$api_port FAKE_LOGIN_PORT=$login_port \
	WEIR_PREFIX_PORT=$prefix_port WEIR_ROOT_PORT=$root_port \
	FAKE_LIMITED_PORT=$limited_port WEIR_ABSORB_PORT=$absorb_port \
	WEIR_PRIO_PORT=$prio_port \
	    exec "${timeout_cmd[@]}" "$NODE" sdk_test.js
) >"$tmp/node.tap" 2>"$tmp/node.err"
rc=$?
cat "$tmp/node.tap"
n=$(grep -cE '^(not )?ok [0-9]+' "$tmp/node.tap")
failures=$(grep -cE '^not ok ' "$tmp/node.tap")
if [ "$rc" -ne 0 ]; then
	[ "$rc" -eq 124 ] && why="timed out after ${NODE_TIMEOUT}s" || why="exited with status $rc"
	fail "sdk_test.js $why before finishing"
	failures=$((failures + 1))
fi

# weir stops on SIGTERM with status 0, promptly.
stop_weir() {
	local name=$1 p=$2 i st
	if ! kill -0 "$p" 2>/dev/null; then
		wait "$p"; st=$?
		fail "$name: still running after the SDK run (it exited with status $st)"
		return 1
	fi
	kill -TERM "$p"
	for ((i = 0; i < STOP_TIMEOUT * 20; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$p" 2>/dev/null; then
		fail "$name: exits within ${STOP_TIMEOUT}s of SIGTERM"
		return 1
	fi
	wait "$p"; st=$?
	if [ "$st" -eq 0 ]; then
		pass "$name: exits 0 on SIGTERM"
	else
		fail "$name: exits 0 on SIGTERM (status $st)"
		return 1
	fi
}
stop_weir weir-prefix "$prefix_pid" || failures=$((failures + 1))
stop_weir weir-root "$root_pid" || failures=$((failures + 1))
stop_weir weir-absorb "$absorb_pid" || failures=$((failures + 1))
stop_weir weir-prio "$prio_pid" || failures=$((failures + 1))

if [ "$failures" -ne 0 ]; then
	show "sdk_test.js stderr" "$tmp/node.err"
	for f in "$tmp"/weir-*.log "$tmp"/fake-*.err; do show "$(basename "$f")" "$f"; done
fi
echo "1..$n"
# Failures are in the TAP; a non-zero status would add an ERROR on top.
exit 0
