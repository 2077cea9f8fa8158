#!/usr/bin/env bash
# The notification benchmark, against the release server on 127.0.0.1 with its real
# notification worker:
#  1. delivery throughput: N signed contracts whose PAPAY.SIGN notifications are held by a
#     paused merchant, then resumed; the time until an in-process HTTPS receiver (trusted through
#     `[notify] extra_ca_files`, answering 200 at once) has seen all N. N = 3000 x SECONDS
#     (at most 60,000), so the window is about SECONDS long at 3,000 deliveries/s.
#  2. query-by-out_contract_code requests/s (loadgen, pre-signed, 8 connections, SECONDS long),
#     idle, then again with 100,000 notifications pending retry (due hours ahead).
# Set-up (pre-signs, agreements, the backlog's rows) is not timed; it takes longer than the
# measurements (the agreements most: each one's claim steps over every held notification).
# Bounded: each measurement and every wait have a limit.
#
#   scripts/bench-notify.sh [SECONDS]        (default 10)
set -euo pipefail
secs=${1:-10}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papay-target}"
cargo build --release -q -p papay --bin papay --example loadgen --example notifybench
bin=$CARGO_TARGET_DIR/release/papay
gen=$CARGO_TARGET_DIR/release/examples/loadgen
nb=$CARGO_TARGET_DIR/release/examples/notifybench

work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$bin" keys generate --out "$work/creds" >/dev/null
# The receiver's CA and certificate exist before papay starts, which trusts the CA.
"$nb" --mode ca --out "$work/creds"
printf '\n[notify]\nextra_ca_files = ["receiver-ca.pem"]\n' >>"$work/creds/papay.toml"
"$bin" serve --config "$work/creds/papay.toml" --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 100); do grep -q "papay listening on" "$work/out" && break; sleep 0.1; done
addr=$(sed -n 's|^papay listening on http://||p' "$work/out")
[ -n "$addr" ] || { cat "$work/err"; exit 1; }

n=$(( secs * 3000 )); (( n > 60000 )) && n=60000
notify=$("$nb" --mode deliver --addr "$addr" --creds "$work/creds" --count "$n" --timeout $(( secs * 10 + 60 )))
echo "$notify"

# As bench.sh: enough pre-signed requests for the window at the sign rate (measured briefly).
sign=$("$gen" --mode sign --seconds 2)
count=$(( ${sign#sign_rps=} * secs * 12 / 10 + 1000 ))
idle=$("$gen" --mode query --addr "$addr" --seconds "$secs" --creds "$work/creds" --count "$count" --concurrency 8)
echo "idle:    $idle"
"$nb" --mode backlog --db "$work/data/papay.db" --creds "$work/creds" --count 100000
backlog=$("$gen" --mode query --addr "$addr" --seconds "$secs" --creds "$work/creds" --count "$count" --concurrency 8)
echo "backlog: $backlog"

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
idle_rps=$(field query_rps "$idle"); backlog_rps=$(field query_rps "$backlog")
ratio=$(awk -v a="$backlog_rps" -v b="$idle_rps" 'BEGIN { printf "%.2f", a / b }')
echo "query_idle_rps=$idle_rps query_backlog_rps=$backlog_rps backlog_ratio=$ratio"
echo "bench-notify: notify_rps=$(field notify_rps "$notify") query_idle_rps=$idle_rps query_backlog_rps=$backlog_rps backlog_ratio=$ratio"
