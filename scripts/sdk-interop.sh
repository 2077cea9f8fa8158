#!/usr/bin/env bash
# SDK interoperability: the public Python SDK wechatpayv3 (PyPI, 2.0.4), unmodified but for
# its base URL, against a fresh release papay on 127.0.0.1: platform-certificate download and
# verification, JSAPI pre-sign, query by out_contract_code, and a documented error
# (tests/sdk/python/test_wechatpayv3.py). The venv is kept in $CARGO_TARGET_DIR/sdk-venv and
# reused; the wheel comes from /tmp/wpv3 when present, else from PyPI. Every step is bounded.
#
#   scripts/sdk-interop.sh            (prints "sdk-interop: wechatpayv3 2.0.4 passed|FAILED")
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papay-target}"
sdk_version=2.0.4

timeout 900 cargo build --release -q -p papay --bin papay
bin=$CARGO_TARGET_DIR/release/papay

venv=$CARGO_TARGET_DIR/sdk-venv
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('wechatpayv3') != '$sdk_version')" 2>/dev/null; then
    timeout 120 python3 -m venv "$venv"
    wheel=$(ls /tmp/wpv3/wechatpayv3-"$sdk_version"-*.whl 2>/dev/null | head -1 || true)
    timeout 300 "$venv/bin/pip" install -q --disable-pip-version-check "${wheel:-wechatpayv3==$sdk_version}"
fi

work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

timeout 60 "$bin" keys generate --out "$work/creds" >/dev/null
timeout 300 "$bin" serve --config "$work/creds/papay.toml" --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 100); do grep -q "papay listening on" "$work/out" && break; sleep 0.1; done
url=$(sed -n 's|^papay listening on ||p' "$work/out")
[ -n "$url" ] || { cat "$work/err"; echo "sdk-interop: wechatpayv3 $sdk_version FAILED (papay did not start)"; exit 1; }

if PAPAY_URL="$url" PAPAY_CREDS="$work/creds" timeout 120 "$venv/bin/python" tests/sdk/python/test_wechatpayv3.py; then
    echo "sdk-interop: wechatpayv3 $sdk_version passed"
else
    echo "sdk-interop: wechatpayv3 $sdk_version FAILED"
    exit 1
fi
