#!/usr/bin/env bash
# The contract-API benchmark: bare RSA-2048 sign rate on all cores, then query-by-
# out_contract_code and JSAPI pre-sign against the release server on 127.0.0.1, each as
# requests/s, p50/p99 and a ratio of the sign rate; and the floor (GET /readyz: HTTP round trip
# plus one database call, no RSA), which bounds what any signed request can reach; and the
# APIv2 querycontract and h5entrustweb (v2query_rps, v2presign_rps lines).
# Bounded: SECONDS per measurement.
#
#   scripts/bench.sh [SECONDS] [DATABASE_URL]   (default 10 s, the embedded SQLite)
#
# With DATABASE_URL (postgres://…, an empty database) the server runs on PostgreSQL.
set -euo pipefail
secs=${1:-10}
database_url=${2:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papay-target}"
cargo build --release -q -p papay --bin papay --example loadgen
bin=$CARGO_TARGET_DIR/release/papay
gen=$CARGO_TARGET_DIR/release/examples/loadgen

work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$bin" keys generate --out "$work/creds" >/dev/null
"$bin" serve --config "$work/creds/papay.toml" --data-dir "$work/data" --listen 127.0.0.1:0 \
    ${database_url:+--database-url "$database_url"} >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 100); do grep -q "papay listening on" "$work/out" && break; sleep 0.1; done
addr=$(sed -n 's|^papay listening on http://||p' "$work/out")
[ -n "$addr" ] || { cat "$work/err"; exit 1; }

sign=$("$gen" --mode sign --seconds "$secs")
sign_rps=${sign#sign_rps=}
# Enough pre-signed requests for the window at the sign rate (the server cannot beat it);
# 8 connections keep both cores busy without queueing more than needed.
count=$(( sign_rps * secs * 12 / 10 + 1000 ))
query=$("$gen" --mode query --addr "$addr" --seconds "$secs" --creds "$work/creds" --count "$count" --concurrency 8)
presign=$("$gen" --mode presign --addr "$addr" --seconds "$secs" --creds "$work/creds" --count "$count" --concurrency 8)
floor=$("$gen" --mode floor --addr "$addr" --seconds "$secs" --creds "$work/creds" --count 2000000 --concurrency 8)
# APIv2 (MD5 / HMAC-SHA256 signs, no RSA): querycontract of a signed contract, h5entrustweb.
v2count=$(( 50000 * secs ))
v2query=$("$gen" --mode v2query --addr "$addr" --seconds "$secs" --creds "$work/creds" --count "$v2count" --concurrency 8)
v2presign=$("$gen" --mode v2presign --addr "$addr" --seconds "$secs" --creds "$work/creds" --count "$v2count" --concurrency 8)
echo "$sign"
echo "$floor"
echo "$query"
echo "$presign"
echo "$v2query"
echo "$v2presign"

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
query_rps=$(field query_rps "$query"); presign_rps=$(field presign_rps "$presign")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "bench: sign_rps=$sign_rps query_rps=$query_rps query_p99_ms=$(field p99_ms "$query") presign_rps=$presign_rps presign_p99_ms=$(field p99_ms "$presign") query_ratio=$(ratio "$query_rps" "$sign_rps") presign_ratio=$(ratio "$presign_rps" "$sign_rps")"
