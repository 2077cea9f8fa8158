#!/usr/bin/env python3
"""papay's domestic APIv2 papay against the unmodified Python SDK wechatpy (PyPI, 1.8.18).

    PAPAY_URL=http://127.0.0.1:PORT PAPAY_CREDS=DIR [PAPAY_V2_NOTIFY_PORT=P] python3 test_wechatpy_v2.py

PAPAY_CREDS is a directory written by `papay keys generate --out DIR`. One line per check;
exit status 1 on the first failure. scripts/sdk-interop.sh runs this against a fresh papay.

The client is `wechatpy.pay.WeChatPay(appid, api_key, mch_id)` with its `.withhold`
(`WeChatWithhold`). The only deviation from a production setup is the base URL: wechatpy
keeps it in the class attribute `WeChatPay.API_BASE_URL = 'https://api.mch.weixin.qq.com/'`,
which `_request` reads as `self.API_BASE_URL` (and `apply_signing` formats into its
`base_url`), so the test sets the instance attribute `wxpay.API_BASE_URL = PAPAY_URL + '/'`.
No SDK code is edited or patched.

wechatpy's `apply_signing` only builds and MD5-signs the parameters for `papay/entrustweb`
(the Official Account signing page, a browser redirect papay does not serve); the same
parameter set is what `papay/h5entrustweb` takes, so the test GETs h5entrustweb with the
SDK's signed data unchanged. Notifications go to a small http.server on 127.0.0.1: the ADD
one to the `notify_url` given to apply_signing, the DELETE one to the plan's
`termination_notify_url`, which must be `http://127.0.0.1:PAPAY_V2_NOTIFY_PORT/terminated`
(sdk-interop.sh writes it into the config it starts papay with); without
PAPAY_V2_NOTIFY_PORT the DELETE-notification check is skipped and says so.

wechatpy does not verify the `sign` of API answers itself (`_handle_result` only checks
return_code / result_code), so the test also checks them with the SDK's own
`WeChatPay.check_signature` (MD5 with the api key).
"""

import http.server
import json
import os
import queue
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import uuid

import xmltodict
from wechatpy.exceptions import InvalidSignatureException, WeChatPayException
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import dict_to_xml

WAIT_SECONDS = 20
OPENID = "oWechatpyV2Interop0123456789"
CLIENT_IP = "127.0.0.1"


def fail(check, message):
    print(f"FAIL {check}: {message}")
    sys.exit(1)


def ok(check, detail=""):
    print(f"ok   {check}" + (f" ({detail})" if detail else ""))


class Receiver:
    """A merchant notification endpoint: records every POST and acks it the way a wechatpy
    merchant does (the SDK's dict_to_xml of return_code SUCCESS / return_msg OK)."""

    def __init__(self, port=0):
        self.received = queue.Queue()
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                received.put((self.path, self.headers, body))  # case-insensitive get
                ack = dict_to_xml({"return_code": "SUCCESS", "return_msg": "OK"}).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(ack)))
                self.end_headers()
                self.wfile.write(ack)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, path, check):
        """The next notification POSTed to `path`, within WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                fail(check, f"no notification at {path} within {WAIT_SECONDS} s")
            try:
                got_path, headers, body = self.received.get(timeout=left)
            except queue.Empty:
                continue
            if got_path == path:
                return headers, body
            print(f"     (ignored a notification at {got_path})")


def control(url, method, path, body=None):
    """papay's test-control API (open on loopback): the parsed JSON answer."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        fail("control", f"{method} {path} -> {e.code} {e.read()[:300]!r}")


def expect_error(check, call, errcode):
    try:
        answer = call()
    except WeChatPayException as e:
        if e.errcode != errcode:
            fail(check, f"SDK raised {e!r}, want err_code {errcode}; body {e.response.text if e.response is not None else ''!r}")
        return e
    fail(check, f"the SDK did not raise; answer {dict(answer)}")


def main():
    url = os.environ.get("PAPAY_URL", "").rstrip("/")
    creds = os.environ.get("PAPAY_CREDS", "")
    if not url or not creds:
        fail("setup", "PAPAY_URL and PAPAY_CREDS must be set")
    notify_port = int(os.environ.get("PAPAY_V2_NOTIFY_PORT") or 0)

    def read(name):
        with open(os.path.join(creds, name), encoding="utf-8") as f:
            return f.read()

    config = tomllib.loads(read("papay.toml"))
    merchant = config["merchants"][0]
    mchid = merchant["mchid"]
    appid = merchant["appids"][0]
    plan_id = str(next(p["plan_id"] for p in config["plans"] if p["mchid"] == mchid))
    api_key = read(merchant["v2_key_file"]).strip()

    wxpay = WeChatPay(appid, api_key, mchid, timeout=(5, 30))
    # THE base-URL change (see the module docstring): nothing else about the SDK differs.
    wxpay.API_BASE_URL = url + "/"

    receiver = Receiver(notify_port)
    notify_url = f"http://127.0.0.1:{receiver.port}/notify"

    # a. Pre-sign: the SDK's signed parameter set, sent unchanged to h5entrustweb.
    contract_code = "wxpy" + uuid.uuid4().hex[:20]
    request_serial = int(time.time() * 1000)
    signing = wxpay.withhold.apply_signing(
        plan_id,
        contract_code,
        "Zhang San",
        notify_url,
        clientip=CLIENT_IP,
        request_serial=request_serial,
    )
    if signing["base_url"] != url + "/papay/entrustweb":
        fail("h5entrustweb", f"SDK base_url {signing['base_url']!r}")
    data = dict(signing["data"])
    h5_url = url + "/papay/h5entrustweb?" + urllib.parse.urlencode(data)
    with urllib.request.urlopen(h5_url, timeout=10) as res:
        text = res.read().decode("utf-8")
        status, content_type = res.status, res.headers.get("Content-Type", "")
    answer = xmltodict.parse(text)["xml"]
    if status != 200 or answer.get("return_code") != "SUCCESS" or answer.get("result_code") != "SUCCESS":
        fail("h5entrustweb", f"GET {h5_url} -> {status}: {text}")
    redirect_url = answer.get("redirect_url") or ""
    if not redirect_url.startswith(url + "/papay/readentrustwebtemplate?"):
        fail("h5entrustweb", f"redirect_url {redirect_url!r} in {text}")
    ok(
        "h5entrustweb",
        f"SDK params {sorted(data)} (MD5 sign, no sign_type) -> SUCCESS, {content_type}, redirect_url {redirect_url[:70]}...",
    )

    # b. The simulated user agrees through the control API.
    listed = control(url, "GET", f"/sandbox/v1/merchants/{mchid}/contracts?out_contract_code={contract_code}")
    contracts = listed.get("contracts") or []
    if len(contracts) != 1 or not contracts[0].get("session_id"):
        fail("agree", f"control API lists {listed}")
    session_id = contracts[0]["session_id"]
    view = control(url, "POST", f"/sandbox/v1/sessions/{session_id}/agree", {"openid": OPENID, "client_ip": CLIENT_IP})
    if view.get("state") != "SIGNED" or not view.get("contract_id"):
        fail("agree", f"session view {view}")
    contract_id = view["contract_id"]
    ok("agree", f"control API: session {session_id[:16]}... SIGNED, contract_id {contract_id}")

    # c. The ADD notification, verified by the SDK (MD5 sign with the api key).
    headers, body = receiver.wait("/notify", "notify-add")
    try:
        note = wxpay.parse_payment_result(body)
    except InvalidSignatureException:
        fail("notify-add", f"the SDK rejected the signature of {body}")
    want = {
        "return_code": "SUCCESS",
        "result_code": "SUCCESS",
        "change_type": "ADD",
        "contract_code": contract_code,
        "contract_id": contract_id,
        "plan_id": plan_id,
        "mch_id": mchid,
        "openid": OPENID,
        "request_serial": str(request_serial),
    }
    wrong = {k: (note.get(k), v) for k, v in want.items() if note.get(k) != v}
    if wrong:
        fail("notify-add", f"fields (got, want) {wrong} in {body}")
    if len(note["sign"]) != 32:
        fail("notify-add", f"sign {note['sign']!r} is not MD5-sized")
    if not (headers.get("Content-Type") or "").startswith("text/xml") or not headers.get("Request-ID"):
        fail("notify-add", f"headers {dict(headers)}")
    ok(
        "notify-add",
        f"{headers.get('Content-Type')}, Request-ID {headers.get('Request-ID')}, "
        "MD5 sign verified by WeChatPay.parse_payment_result, change_type ADD",
    )
    # Negative control: the SDK's check really rejects a notification that is not the signed one.
    try:
        wxpay.parse_payment_result(body.replace(contract_code, contract_code + "x"))
        fail("notify-negative", "the SDK accepted a tampered notification")
    except InvalidSignatureException:
        ok("notify-negative", "the SDK rejects a tampered notification")

    # d. Query by contract_id and by plan_id + contract_code.
    expect = {
        "contract_id": contract_id,
        "plan_id": plan_id,
        "contract_code": contract_code,
        "mch_id": mchid,
        "appid": appid,
        "openid": OPENID,
        "request_serial": str(request_serial),
        "contract_display_account": "Zhang San",
        "contract_state": "0",
    }
    for mode, kwargs in (
        ("contract_id", {"contract_id": contract_id}),
        ("plan_id+contract_code", {"plan_id": plan_id, "contract_code": contract_code}),
    ):
        try:
            got = wxpay.withhold.query_signing(**kwargs)
        except WeChatPayException as e:
            fail(f"query {mode}", f"SDK raised {e!r}")
        wrong = {k: (got.get(k), v) for k, v in expect.items() if got.get(k) != v}
        if wrong:
            fail(f"query {mode}", f"fields (got, want) {wrong} in {dict(got)}")
        if not wxpay.check_signature(dict(got)):
            fail(f"query {mode}", f"answer sign does not verify with the SDK: {dict(got)}")
        ok(f"query {mode}", "SUCCESS, contract_state 0, answer sign verified by WeChatPay.check_signature")

    # e. Terminate, then query shows it terminated by the merchant API (mode 3).
    remark = "wechatpy interop: merchant cancels"
    try:
        got = wxpay.withhold.apply_cancel_signing(contract_id=contract_id, contract_termination_remark=remark)
    except WeChatPayException as e:
        fail("deletecontract", f"SDK raised {e!r}")
    wrong = {k: (got.get(k), v) for k, v in (("contract_id", contract_id), ("contract_code", contract_code), ("plan_id", plan_id)) if got.get(k) != v}
    if wrong:
        fail("deletecontract", f"fields (got, want) {wrong} in {dict(got)}")
    if not wxpay.check_signature(dict(got)):
        fail("deletecontract", f"answer sign does not verify with the SDK: {dict(got)}")
    ok("deletecontract", "SUCCESS, answer sign verified by WeChatPay.check_signature")

    try:
        got = wxpay.withhold.query_signing(plan_id=plan_id, contract_code=contract_code)
    except WeChatPayException as e:
        fail("query terminated", f"SDK raised {e!r}")
    want = {"contract_state": "1", "contract_termination_mode": "3", "contract_id": contract_id}
    wrong = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    if wrong or not got.get("contract_terminated_time"):
        fail("query terminated", f"fields (got, want) {wrong} in {dict(got)}")
    if got.get("contract_termination_remark") != remark:
        fail("query terminated", f"contract_termination_remark {got.get('contract_termination_remark')!r}")
    ok("query terminated", f"contract_state 1, contract_termination_mode 3, terminated {got['contract_terminated_time']}")

    if notify_port:
        headers, body = receiver.wait("/terminated", "notify-delete")
        try:
            note = wxpay.parse_payment_result(body)
        except InvalidSignatureException:
            fail("notify-delete", f"the SDK rejected the signature of {body}")
        want = {
            "change_type": "DELETE",
            "contract_termination_mode": "3",
            "contract_id": contract_id,
            "contract_code": contract_code,
            "plan_id": plan_id,
            "openid": OPENID,
        }
        wrong = {k: (note.get(k), v) for k, v in want.items() if note.get(k) != v}
        if wrong:
            fail("notify-delete", f"fields (got, want) {wrong} in {body}")
        ok("notify-delete", "MD5 sign verified by WeChatPay.parse_payment_result, change_type DELETE, mode 3")
    else:
        print("skip notify-delete (PAPAY_V2_NOTIFY_PORT not set: the plan's termination_notify_url is not this receiver)")

    # f. Documented errors through the SDK.
    unknown = "2" + uuid.uuid4().int.__str__()[:20]
    e = expect_error("not-exist", lambda: wxpay.withhold.query_signing(contract_id=unknown), "CONTRACT_NOT_EXIST")
    ok("not-exist", f"WeChatPayException {e.return_code}/{e.result_code} {e.errcode}: {e.errmsg}")

    wrong_key = WeChatPay(appid, "0" * 32, mchid, timeout=(5, 30))
    wrong_key.API_BASE_URL = url + "/"
    e = expect_error("sign-error", lambda: wrong_key.withhold.query_signing(contract_id=contract_id), "SIGN_ERROR")
    ok("sign-error", f"wrong api_key: WeChatPayException {e.return_code}/{e.result_code} {e.errcode}: {e.errmsg}")

    receiver.server.shutdown()
    print("wechatpy APIv2 interop: all checks passed")


if __name__ == "__main__":
    main()
