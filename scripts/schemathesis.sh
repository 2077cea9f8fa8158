#!/usr/bin/env bash
# Schema-driven robustness run: schemathesis 4.32.5 generates requests from papay's own OpenAPI
# documents (/openapi/apiv3.json, /openapi/apiv2.json, /openapi/control.json) and checks every
# answer against them, against one fresh release papay on 127.0.0.1 (its demo merchant, made
# by `papay serve` in a temporary data dir).
#  - APIv3 and APIv2 requests are signed like a merchant's (tests/schemathesis/hooks.py, loaded
#    through SCHEMATHESIS_HOOKS) with the demo merchant's API key and serial and its v2 key, so
#    the cases reach the handlers; the control API is open on loopback.
#  - Checks: not_a_server_error, status_code_conformance, content_type_conformance,
#    response_schema_conformance, response_headers_conformance. Any failure, and any panic in
#    papay's log, fails the run.
#  - Bounded: at most $SCHEMATHESIS_EXAMPLES (default 50) generated cases per operation and
#    phase, a fixed seed, and `timeout` around each API's run. One worker: with two, a CPython
#    3.11 error in schemathesis' generator threads intermittently aborts an operation
#    ("AST constructor recursion depth mismatch"), which is not papay's fault.
#  - No generated `Authorization` values: the hooks sign APIv3 requests, and the control API is
#    open on loopback, so the cases reach the handlers instead of stopping at a random token.
# The venv is kept in $CARGO_TARGET_DIR/schemathesis-venv and reused. Prints one line per API
# and a last line "schemathesis: <operations> operations, <cases> cases, <failures> failures";
# exits non-zero on any failure.
#
#   scripts/schemathesis.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papay-target}"
version=4.32.5
examples="${SCHEMATHESIS_EXAMPLES:-50}"
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance

# PAPAY_BIN runs another build of papay (e.g. a debug one while iterating).
bin="${PAPAY_BIN:-}"
if [ -z "$bin" ]; then
    timeout 900 cargo build --release -q -p papay --bin papay
    bin=$CARGO_TARGET_DIR/release/papay
fi

venv=$CARGO_TARGET_DIR/schemathesis-venv
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$version')" 2>/dev/null; then
    timeout 120 python3 -m venv "$venv"
    timeout 600 "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$version" cryptography
fi

work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# No --config: papay makes the demo merchant under the data dir and prints its ids.
timeout 600 "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 300); do grep -q "papay listening on" "$work/out" && break; sleep 0.1; done
url=$(sed -n 's|^papay listening on ||p' "$work/out")
[ -n "$url" ] || { cat "$work/err"; echo "schemathesis: FAILED (papay did not start)"; exit 1; }
banner() { sed -n "s|^  $1  *||p" "$work/out" | head -1; }
export PAPAY_URL="$url"
export PAPAY_MCHID=$(banner 'mchid')
export PAPAY_APPID=$(banner 'appid')
export PAPAY_PLAN_ID=$(banner 'plan_id')
export PAPAY_SERIAL=$(banner 'API serial (serial_no)')
sub=$(banner 'sub_mchid / sub_appid')
export PAPAY_SUB_MCHID="${sub%% / *}" PAPAY_SUB_APPID="${sub##* / }"
export PAPAY_MERCHANT_KEY="$work/data/demo/merchant_key.pem"
export PAPAY_V2_KEY="$work/data/demo/v2_key.txt"
export SCHEMATHESIS_HOOKS="$root/tests/schemathesis/hooks.py"

failed=0
total_ops=0 total_cases=0 total_failures=0
# The control API last: its throwaway merchants, faults and clocks could change what the
# merchant APIs answer.
for api in apiv3 apiv2 control; do
    report="$work/$api.json"
    set +e
    timeout 60 "$venv/bin/schemathesis" run "$url/openapi/$api.json" --url "$url" \
        --checks "$checks" --max-examples "$examples" --seed 20261127 --workers 1 \
        --generation-with-security-parameters false \
        --phases examples,coverage,fuzzing --request-timeout 10 --no-color \
        --generation-database none --report json --report-json-path "$report" \
        >"$work/$api.log" 2>&1
    status=$?
    set -e
    # The JSON run report: operations tested, cases generated, failures (each distinct
    # failure once) plus errors (e.g. a request papay did not answer).
    read -r ops cases failures < <("$venv/bin/python" - "$report" <<'PY' 2>/dev/null || echo "0 0 1"
import json, sys
r = json.load(open(sys.argv[1]))
failures = sum(g["count"] for g in r["failures"]) + sum(g["count"] for g in r["errors"])
print(r["operations"]["tested"], r["test_cases"]["generated"], failures)
PY
)
    total_ops=$((total_ops + ops)) total_cases=$((total_cases + cases)) total_failures=$((total_failures + failures))
    if [ "$status" -ne 0 ] || [ "$failures" -ne 0 ]; then
        cat "$work/$api.log"
        echo "schemathesis: $api FAILED (exit $status): $ops operations, $cases cases, $failures failures"
        failed=1
    else
        echo "schemathesis: $api passed: $ops operations, $cases cases, $failures failures"
    fi
done
if grep -q "panicked" "$work/err"; then
    grep -A5 "panicked" "$work/err"
    echo "schemathesis: papay panicked"
    failed=1
    total_failures=$((total_failures + 1))
fi
echo "schemathesis: $total_ops operations, $total_cases cases, $total_failures failures"
exit "$failed"
