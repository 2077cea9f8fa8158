#!/usr/bin/env python3
"""papay against the unmodified Python SDK wechatpayv3 (PyPI, 2.0.4).

    PAPAY_URL=http://127.0.0.1:PORT PAPAY_CREDS=DIR python3 test_wechatpayv3.py

PAPAY_CREDS is a directory written by `papay keys generate --out DIR`. One line per check;
exit status 1 on the first failure. scripts/sdk-interop.sh runs this against a fresh papay.

The only deviation from a production setup is the base URL. wechatpayv3 hard-codes it in
Core.__init__ (`self._gate_way = 'https://api.mch.weixin.qq.com'`) with no parameter, and that
same __init__ downloads the platform certificates from it unless `cert_dir` already holds one.
So the test (1) seeds cert_dir with the creds' platform certificate so construction makes no
network call, (2) sets the instance attribute `wxpay._core._gate_way = PAPAY_URL` -- the one
change, no SDK code is edited or patched -- and (3) has the SDK re-download the certificates
from papay with its own Core._update_certificates, which discards the seeded certificate
first, so every later response signature is verified with the certificate the SDK fetched.
"""

import json
import os
import sys
import tempfile
import tomllib
import uuid

from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.type import RequestType
from cryptography.x509 import load_pem_x509_certificate


def fail(check, message):
    print(f"FAIL {check}: {message}")
    sys.exit(1)


def ok(check, detail=""):
    print(f"ok   {check}" + (f" ({detail})" if detail else ""))


def main():
    url = os.environ.get("PAPAY_URL", "").rstrip("/")
    creds = os.environ.get("PAPAY_CREDS", "")
    if not url or not creds:
        fail("setup", "PAPAY_URL and PAPAY_CREDS must be set")

    def read(name):
        with open(os.path.join(creds, name), encoding="utf-8") as f:
            return f.read()

    config = tomllib.loads(read("papay.toml"))
    merchant = config["merchants"][0]
    mchid = merchant["mchid"]
    appid = merchant["appids"][0]
    plan_id = next(p["plan_id"] for p in config["plans"] if p["mchid"] == mchid)
    merchant_cert = load_pem_x509_certificate(read("merchant_cert.pem").encode())
    platform_cert_pem = read("platform_cert.pem")
    platform_serial = load_pem_x509_certificate(platform_cert_pem.encode()).serial_number

    cert_dir = tempfile.mkdtemp(prefix="wechatpayv3-certs-")
    with open(os.path.join(cert_dir, "bootstrap.pem"), "w", encoding="utf-8") as f:
        f.write(platform_cert_pem)

    wxpay = WeChatPay(
        wechatpay_type=WeChatPayType.JSAPI,
        mchid=mchid,
        private_key=read("merchant_key.pem"),
        cert_serial_no=format(merchant_cert.serial_number, "X"),
        apiv3_key=read("apiv3_key.txt").strip(),
        appid=appid,
        cert_dir=cert_dir,
        timeout=(5, 30),
    )
    core = wxpay._core
    # THE base-URL change (see the module docstring): nothing else about the SDK differs.
    core._gate_way = url

    # 1. Platform certificates: the SDK downloads /v3/certificates, AES-GCM-decrypts each
    # entry with the APIv3 key (authenticated), checks validity and stores it by serial.
    core._update_certificates()
    serials = [c.serial_number for c in core._certificates]
    if serials != [platform_serial]:
        fail("certificates", f"SDK holds {[format(s, 'X') for s in serials]}, want {format(platform_serial, 'X')}")
    stored = os.path.join(cert_dir, format(platform_serial, "x") + ".pem")
    if not any(name.lower() == os.path.basename(stored) for name in map(str.lower, os.listdir(cert_dir))):
        fail("certificates", f"SDK did not store the downloaded certificate in {cert_dir}: {os.listdir(cert_dir)}")
    # The same endpoint through the verifying path: Core.request raises on a bad signature.
    code, body = core.request("/v3/certificates")
    if code != 200:
        fail("certificates", f"signed GET /v3/certificates -> {code} {body}")
    ok("certificates", f"SDK downloaded, decrypted and verified platform cert {format(platform_serial, 'X')}")

    # 2. JSAPI pre-sign. Core.request verifies every 2xx response's Wechatpay-Signature
    # against the downloaded certificate and raises 'failed to verify the signature' otherwise.
    code_str = "sdk" + uuid.uuid4().hex[:20]
    presign = {
        "appid": appid,
        "plan_id": plan_id,
        "out_contract_code": code_str,
        "user_display_name": "Zhang San",
        "success_notify_url": "https://yoursite.com/papay/notify",
        "openid": "ouFhd5X9s9WteC3eWRjXV3lea123",
    }
    try:
        status, text = core.request(
            "/v3/global/papay/contracts/jsapi-pre-entrust-sign", method=RequestType.POST, data=presign
        )
    except Exception as e:  # the SDK's verification failure surfaces here
        fail("presign", f"SDK raised: {e}")
    if status != 200:
        fail("presign", f"status {status}: {text}")
    sign_url = json.loads(text).get("sign_url", "")
    if not sign_url.startswith("http"):
        fail("presign", f"no sign_url in {text}")
    ok("presign", f"200, response signature verified by the SDK, sign_url {sign_url[:60]}...")

    # Negative control: the SDK's verifier really rejects a body that is not the signed one,
    # so the passing verification above is meaningful.
    headers = {
        "Wechatpay-Signature": "A" * 344,
        "Wechatpay-Timestamp": "0",
        "Wechatpay-Nonce": "x",
        "Wechatpay-Serial": format(platform_serial, "X"),
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    if core._verify_signature(headers, text):
        fail("verify-negative", "the SDK accepted a forged signature")
    ok("verify-negative", "the SDK rejects a forged signature")

    # 3. Query by out_contract_code: NOTSIGN until the user agrees.
    query_path = f"/v3/global/papay/contracts/out-contract-code/{code_str}?appid={appid}&plan_id={plan_id}"
    try:
        status, text = core.request(query_path)
    except Exception as e:
        fail("query", f"SDK raised: {e}")
    if status != 200:
        fail("query", f"status {status}: {text}")
    state = json.loads(text).get("state")
    if state != "NOTSIGN":
        fail("query", f"state {state!r} in {text}")
    ok("query", "200, response signature verified by the SDK, state NOTSIGN")

    # 4. A documented error: an unknown code is 403 CONTRACT_NOT_EXIST.
    unknown = f"/v3/global/papay/contracts/out-contract-code/nope{uuid.uuid4().hex[:16]}?appid={appid}&plan_id={plan_id}"
    status, text = core.request(unknown)
    try:
        error = json.loads(text)
    except (TypeError, ValueError):
        fail("not-exist", f"status {status}, body not JSON: {text!r}")
    if status != 403 or error.get("code") != "CONTRACT_NOT_EXIST":
        fail("not-exist", f"status {status}: {text}")
    ok("not-exist", f"403 {error['code']}: {error.get('message', '')}")

    print("wechatpayv3 interop: all checks passed")


if __name__ == "__main__":
    main()
