#!/usr/bin/env bash
# SDK interoperability: public Python SDKs from PyPI, unmodified but for their base URL, against
# one fresh release papay on 127.0.0.1.
#  - wechatpayv3 2.0.4 (APIv3 Global papay): platform-certificate download and verification,
#    JSAPI pre-sign, query by out_contract_code, and a documented error
#    (tests/sdk/python/test_wechatpayv3.py).
#  - wechatpy 1.8.18 (domestic APIv2 papay, WeChatPay.withhold): apply_signing's signed
#    parameters sent to h5entrustweb, the simulated user agreeing via the control API, the ADD
#    and DELETE notifications verified by the SDK, querycontract both ways, deletecontract, and
#    CONTRACT_NOT_EXIST / SIGN_ERROR (tests/sdk/python/test_wechatpy_v2.py). For the DELETE
#    notification papay runs with a copy of the generated papay.toml whose plan has
#    termination_notify_url = http://127.0.0.1:PORT/terminated, PORT picked here and passed to
#    the test as PAPAY_V2_NOTIFY_PORT.
# The venv is kept in $CARGO_TARGET_DIR/sdk-venv and reused (each SDK installed only when
# missing); the wechatpayv3 wheel comes from /tmp/wpv3 when present, else from PyPI. Every step
# is bounded. Exit status is non-zero when either SDK check fails.
#
#   scripts/sdk-interop.sh   (prints "sdk-interop: wechatpayv3 2.0.4 passed|FAILED" and
#                             "sdk-interop: wechatpy 1.8.18 (APIv2) passed|FAILED")
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papay-target}"
sdk_version=2.0.4
wechatpy_version=1.8.18

timeout 900 cargo build --release -q -p papay --bin papay
bin=$CARGO_TARGET_DIR/release/papay

venv=$CARGO_TARGET_DIR/sdk-venv
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('wechatpayv3') != '$sdk_version')" 2>/dev/null; then
    timeout 120 python3 -m venv "$venv"
    wheel=$(ls /tmp/wpv3/wechatpayv3-"$sdk_version"-*.whl 2>/dev/null | head -1 || true)
    timeout 300 "$venv/bin/pip" install -q --disable-pip-version-check "${wheel:-wechatpayv3==$sdk_version}"
fi
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('wechatpy') != '$wechatpy_version')" 2>/dev/null; then
    timeout 300 "$venv/bin/pip" install -q --disable-pip-version-check "wechatpy==$wechatpy_version"
fi

work=$(mktemp -d)
server=""
failed=0
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

timeout 60 "$bin" keys generate --out "$work/creds" >/dev/null
# The plan's termination callback (the last table of the generated file is its [[plans]]) points
# at the port the wechatpy test will listen on.
notify_port=$(timeout 10 python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{ cat "$work/creds/papay.toml"; echo "termination_notify_url = \"http://127.0.0.1:$notify_port/terminated\""; } >"$work/creds/papay-sdk.toml"
timeout 300 "$bin" serve --config "$work/creds/papay-sdk.toml" --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 100); do grep -q "papay listening on" "$work/out" && break; sleep 0.1; done
url=$(sed -n 's|^papay listening on ||p' "$work/out")
[ -n "$url" ] || { cat "$work/err"; echo "sdk-interop: wechatpayv3 $sdk_version FAILED (papay did not start)"; echo "sdk-interop: wechatpy $wechatpy_version (APIv2) FAILED (papay did not start)"; exit 1; }

if PAPAY_URL="$url" PAPAY_CREDS="$work/creds" timeout 120 "$venv/bin/python" tests/sdk/python/test_wechatpayv3.py; then
    echo "sdk-interop: wechatpayv3 $sdk_version passed"
else
    echo "sdk-interop: wechatpayv3 $sdk_version FAILED"
    failed=1
fi

if PAPAY_URL="$url" PAPAY_CREDS="$work/creds" PAPAY_V2_NOTIFY_PORT="$notify_port" \
    timeout 120 "$venv/bin/python" tests/sdk/python/test_wechatpy_v2.py; then
    echo "sdk-interop: wechatpy $wechatpy_version (APIv2) passed"
else
    echo "sdk-interop: wechatpy $wechatpy_version (APIv2) FAILED"
    failed=1
fi
exit "$failed"
