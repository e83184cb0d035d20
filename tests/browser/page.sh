#!/usr/bin/env bash
#
# page.sh - the admin status page in a real browser, a TAP test for make
# check.
#
# Starts a fake Genesys (fakeup, 3 calls per 3 s per client, then 429) and
# weir in front of it with its admin listener on 127.0.0.1 port 0, sends
# calls for two tenants - "beta" within the limit, "alpha" past it so that
# weir absorbs a 429 and pauses it - then loads http://ADMIN/ in headless
# Chromium: once with --dump-dom to check what the page built (the tenant
# table, the two SVG charts with a line per tenant, the numbers), once with
# --screenshot for a person to look at (tests/browser/page.png in the build
# directory).  Every process it starts is killed on exit, whatever happens.
#
# Environment (set by make check): WEIR_BIN, FAKEUP_BIN; CHROMIUM to pick
# the browser.  Skips when there is no Chromium (apt-get install chromium).

set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
WEIR_BIN=${WEIR_BIN:-$top_srcdir/proxy/weir}
FAKEUP_BIN=${FAKEUP_BIN:-$top_srcdir/tests/fake/fakeup}
START_TIMEOUT=10	# seconds for a process to say where it listens
WAIT_TIMEOUT=15		# seconds for the traffic to show in /status
BROWSER_TIMEOUT=90	# seconds for one Chromium run
shot=${PAGE_PNG:-tests/browser/page.png}

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser ||
    true)}
if [ -z "$CHROMIUM" ] || [ ! -x "$CHROMIUM" ]; then
	echo "1..0 # SKIP chromium not installed (apt-get install chromium)"
	exit 0
fi
if ! command -v curl >/dev/null; then
	echo "1..0 # SKIP curl not installed"
	exit 0
fi

n=0
failures=0
fail() { n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $*"; }
pass() { n=$((n + 1)); echo "ok $n - $*"; }
# check DESCRIPTION COMMAND...: one TAP line for the command's status.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# Print a file as TAP diagnostics.
show() { [ -s "$2" ] && { echo "# --- $1 (last 30 lines)"; tail -n 30 "$2" | sed 's/^/# /'; }; }
diag() {
	local f
	for f in "$tmp"/*.log "$tmp"/*.err; do [ -e "$f" ] && show "$(basename "$f")" "$f"; done
}
# Give up: report what failed, the logs, and the plan.
bail() {
	fail "$*"
	diag
	echo "1..$n"
	exit 0		# the TAP above says what failed
}

scratch page 60

for bin in "$WEIR_BIN" "$FAKEUP_BIN"; do
	[ -x "$bin" ] || bail "$bin is not built (run make check)"
done

"$FAKEUP_BIN" --limit 3 --window-s 3 >"$tmp/fake.out" 2>"$tmp/fake.err" &
pids+=($!)
fake_port=$(wait_for "$tmp/fake.out" '^port ([0-9]+)$' $!) ||
    bail "fakeup did not print its port"
spawn_weir weir /dev/null "$fake_port" "$fake_port" \
    WEIR_ADMIN_LISTEN=127.0.0.1:0 WEIR_RATE=4/s WEIR_BURST=4 \
    WEIR_DRAIN_TIMEOUT=1s
port=$(wait_for "$tmp/weir.log" '"listening on 127\.0\.0\.1:([0-9]+)"' $weir_pid) ||
    bail "weir did not log \"listening on 127.0.0.1:PORT\""
admin=$(wait_for "$tmp/weir.log" 'admin listening on (127\.0\.0\.1:[0-9]+)' $weir_pid) ||
    bail "weir did not log \"admin listening on 127.0.0.1:PORT\""
pass "weir listens on 127.0.0.1:$port, admin on $admin"

# call TENANT N: N calls of one tenant at once, in the background, each
# writing its status to $tmp/TENANT.N.code.
call() {
	local t=$1 i
	for ((i = 1; i <= $2; i++)); do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 \
		    -H "X-Weir-Tenant: $t" -H "Authorization: Bearer tok-$t-1" \
		    "http://127.0.0.1:$port/api/v2/flows?pageSize=1" \
		    >"$tmp/$t.$i.code" 2>/dev/null &
		pids+=($!)
	done
}
call beta 3
call alpha 8
for ((i = 0; i < WAIT_TIMEOUT * 10; i++)); do
	[ "$(cat "$tmp"/beta.*.code 2>/dev/null | grep -c '^200$')" -eq 3 ] &&
	    break
	sleep 0.1
done
beta_codes=$(cat "$tmp"/beta.*.code 2>/dev/null | sort | uniq -c | xargs)
# alpha went past the fake's limit: wait for weir to have absorbed a 429.
for ((i = 0; i < WAIT_TIMEOUT * 10; i++)); do
	curl -s --max-time 5 "http://$admin/status" >"$tmp/status.json"
	grep -qE '"alpha":\{[^}]*"last_429":"' "$tmp/status.json" && break
	sleep 0.1
done
check "beta's 3 calls answered 200 ($beta_codes)" test "$beta_codes" = "3 200"
check "alpha went past the upstream's limit: /status shows its last 429" \
    grep -qE '"alpha":\{[^}]*"last_429":"' "$tmp/status.json"

# The page itself: small, self-contained, fetching /status relatively.
curl -s --max-time 5 -D "$tmp/page.hdr" -o "$tmp/page.html" "http://$admin/"
size=$(wc -c <"$tmp/page.html")
check "GET / is text/html, $size bytes (< 15 KB)" \
    test "$size" -gt 1000 -a "$size" -lt 15360 -a \
    -n "$(grep -i '^content-type: text/html' "$tmp/page.hdr")"
check "the page loads nothing from elsewhere (no src=, no absolute URLs)" \
    bash -c '! grep -qiE "src=|(href|action)=\"?(https?:)?//|@import|url\(" "$1"' _ \
    "$tmp/page.html"

# Chromium: the page as the browser built it, after a few polls (virtual
# time runs 6 s: polls at 0, 2, 4 and 6 s).
browser() {
	local t=()
	command -v timeout >/dev/null && t=(timeout -k 5 "$BROWSER_TIMEOUT")
	"${t[@]}" "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync --disable-extensions \
	    --disable-dev-shm-usage --mute-audio --hide-scrollbars \
	    --user-data-dir="$(mktemp -d "$tmp/profile.XXXXXX")" \
	    --virtual-time-budget=6000 "$@" "http://$admin/"
}
browser --dump-dom >"$tmp/dom.html" 2>"$tmp/chromium.err"
rc=$?
check "chromium --dump-dom exits 0 with a document (status $rc)" \
    grep -q '</html>' "$tmp/dom.html"

# One line per table row, cells as TAB-separated text.
awk 'BEGIN { RS = "<tr>" } NR > 1 {
	sub(/<\/tr>.*/, ""); gsub(/<\/td><td[^>]*>/, "\t");
	gsub(/<[^>]*>/, ""); print }' "$tmp/dom.html" >"$tmp/rows.tsv"
row() { awk -F '\t' -v t="$1" '$1 == t' "$tmp/rows.tsv"; }
col() { row "$1" | awk -F '\t' -v c="$2" '{ print $c }'; }
check "the tenant table has a row for alpha and one for beta" \
    test -n "$(row alpha)" -a -n "$(row beta)"
echo "# alpha: $(row alpha | tr '\t' '|')"
echo "# beta:  $(row beta | tr '\t' '|')"
# columns: tenant queued inflight rate configured learned paused last429
# requests upstream absorbed errors
check "beta's row: 3 requests, 3 upstream, 0 absorbed, configured 4/s" \
    test "$(col beta 9)|$(col beta 10)|$(col beta 11)|$(col beta 5)" = "3|3|0|4"
check "alpha's row: numbers throughout, a 429 absorbed, its last 429 shown" \
    bash -c '[[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ && $3 -ge 1 &&
	$4 =~ ^[0-9]+\ (s|min) && $5 =~ ^[0-9.]+$ ]]' _ \
    "$(col alpha 2)" "$(col alpha 9)" "$(col alpha 11)" "$(col alpha 8)" \
    "$(col alpha 4)"

# The charts: <svg id=...> ... </svg>, and what is drawn in each.
chart() { awk -v id="$1" 'BEGIN { RS = "</svg>" } index($0, "id=\"" id "\"") {
	sub(/.*<svg/, "<svg"); print; exit }' "$tmp/dom.html"; }
chart chart-queue >"$tmp/queue.svg"
chart chart-rate >"$tmp/rate.svg"
lines() { grep -oE '<(path|circle)[^>]*><title>[^<]*</title>' "$1" |
    sed 's/.*<title>//; s/<.*//' | sort | uniq -c | xargs; }
echo "# queue chart series: $(lines "$tmp/queue.svg")"
echo "# rate chart series: $(lines "$tmp/rate.svg")"
check "the queue chart (svg#chart-queue) draws a line for alpha and for beta" \
    bash -c 'grep -q "<path[^>]*><title>alpha</title>" "$1" &&
	grep -q "<path[^>]*><title>beta</title>" "$1"' _ "$tmp/queue.svg"
check "the rate chart (svg#chart-rate) draws rate lines, dashed paced rate too" \
    bash -c 'grep -q "<path[^>]*><title>alpha</title>" "$1" &&
	grep -q "stroke-dasharray[^>]*><title>beta</title>" "$1"' _ \
    "$tmp/rate.svg"
check "the charts have their axis labels" \
    bash -c 'grep -q ">now</text>" "$1" && grep -q ">0</text>" "$1"' _ \
    "$tmp/queue.svg"
check "the badge says serving; the summary shows version, uptime, upstream" \
    bash -c 'grep -qE "<span id=\"state\" class=\"badge serving\">serving</span>" "$1" &&
	grep -qE "up [0-9]+ s[^<]*127\.0\.0\.1:$2" "$1"' _ "$tmp/dom.html" \
    "$fake_port"

# A screenshot for people, in the build directory.
mkdir -p "$(dirname "$shot")"
rm -f "$shot"
browser --screenshot="$(cd "$(dirname "$shot")" && pwd)/$(basename "$shot")" \
    --window-size=1200,860 >"$tmp/shot.log" 2>&1
check "screenshot written to $shot (a PNG)" \
    bash -c '[ "$(head -c 8 "$1" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]' _ \
    "$shot"

[ "$failures" -ne 0 ] && { diag; show "chromium stderr" "$tmp/chromium.err"; }
echo "1..$n"
exit 0		# failures are in the TAP
