"""schemathesis hooks for scripts/schemathesis.sh: sign every generated request as a real
merchant would, so the run reaches papay's handlers instead of stopping at authentication.

- APIv3 (`/v3/…`, `/hk/v3/…`): `Authorization: WECHATPAY2-SHA256-RSA2048 …` with the demo
  merchant's API key over `METHOD\\nPATH?QUERY\\ntimestamp\\nnonce\\nbody\\n` (PROTOCOL.md §1.3),
  computed over the exact bytes sent: the body is serialized here once and passed on as raw
  `data`, the path and query are taken from the same prepared request.
- APIv2 (`/papay/…`): `sign` over the sorted non-empty parameters + `&key=<v2 key>` (§5.1), MD5
  or HMAC-SHA256 as `sign_type` asks, over the values as they travel (the query string as
  encoded, the XML body as serialized and parsed back).

Well-typed identity values (mchid, appid, plan, sub-merchant) are swapped for the demo
merchant's, so generated cases get past "unknown merchant" to the business rules; anything
malformed is left as generated. v2 XML answers are parsed into flat objects for
response_schema_conformance.

Configuration comes from the environment the script sets: PAPAY_URL, PAPAY_MCHID,
PAPAY_SERIAL, PAPAY_MERCHANT_KEY (PEM file), PAPAY_V2_KEY (file), PAPAY_APPID, PAPAY_PLAN_ID,
PAPAY_SUB_MCHID, PAPAY_SUB_APPID.
"""

import base64
import hashlib
import hmac
import os
import re
import secrets
import time
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

import requests
import schemathesis
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ENV = os.environ
BASE_URL = ENV["PAPAY_URL"]
MCHID = ENV["PAPAY_MCHID"]
SERIAL = ENV["PAPAY_SERIAL"]
with open(ENV["PAPAY_MERCHANT_KEY"], "rb") as f:
    MERCHANT_KEY = serialization.load_pem_private_key(f.read(), password=None)
with open(ENV["PAPAY_V2_KEY"]) as f:
    V2_KEY = f.read().strip()
DEMO = {
    "appid": ENV["PAPAY_APPID"],
    "sp_appid": ENV["PAPAY_APPID"],
    "sub_mchid": ENV["PAPAY_SUB_MCHID"],
    "sub_mch_id": ENV["PAPAY_SUB_MCHID"],
    "sub_appid": ENV["PAPAY_SUB_APPID"],
    "mch_id": MCHID,
}
PLAN_ID = int(ENV["PAPAY_PLAN_ID"])
VISIBLE_ASCII = re.compile(r"^[!-~]{1,32}$")


def is_apiv3(case):
    return case.path.startswith(("/v3/", "/hk/v3/"))


def is_apiv2(case):
    return case.path.startswith("/papay/")


def demo_identity(values, plan_as_int):
    """Swap well-formed identity values for the demo merchant's, in place."""
    if not isinstance(values, dict):
        return
    for name, demo in DEMO.items():
        if isinstance(values.get(name), str) and VISIBLE_ASCII.match(values[name]):
            values[name] = demo
    plan = values.get("plan_id")
    if plan_as_int and isinstance(plan, int) and not isinstance(plan, bool) and plan > 0:
        values["plan_id"] = PLAN_ID
    if not plan_as_int and isinstance(plan, str) and plan.isdigit():
        values["plan_id"] = str(PLAN_ID)


def prepared(case):
    """The request exactly as the transport will send it."""
    data = case.as_transport_kwargs(base_url=BASE_URL)
    keep = ("method", "url", "params", "headers", "data", "json")
    return requests.Request(**{k: v for k, v in data.items() if k in keep}).prepare()


def v2_sign(params):
    """§5.1 over the non-empty parameters other than `sign`."""
    pairs = sorted((k, v) for k, v in params.items() if k != "sign" and v != "")
    text = "&".join(f"{k}={v}" for k, v in pairs) + "&key=" + V2_KEY
    if params.get("sign_type") == "HMAC-SHA256":
        return hmac.new(V2_KEY.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    return hashlib.md5(text.encode()).hexdigest().upper()


def sign_apiv3(case, kwargs):
    if isinstance(case.body, dict):
        demo_identity(case.body, plan_as_int=True)
    if isinstance(case.query, dict):
        demo_identity(case.query, plan_as_int=True)
        if isinstance(case.query.get("plan_id"), str) and case.query["plan_id"].isdigit():
            case.query["plan_id"] = str(PLAN_ID)
    request = prepared(case)
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16).upper()
    message = f"{case.method.upper()}\n{request.path_url}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"
    signature = base64.b64encode(MERCHANT_KEY.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    if case.headers is None:
        case.headers = {}
    case.headers["Authorization"] = (
        f'WECHATPAY2-SHA256-RSA2048 mchid="{MCHID}",nonce_str="{nonce}",'
        f'timestamp="{timestamp}",serial_no="{SERIAL}",signature="{signature}"'
    )
    if request.body is not None:
        kwargs["data"] = body


def sign_apiv2_query(case):
    query = case.query
    if not isinstance(query, dict):
        return
    demo_identity(query, plan_as_int=False)
    if isinstance(query.get("timestamp"), str) and re.fullmatch(r"[0-9]{10}", query["timestamp"]):
        query["timestamp"] = str(int(time.time()))
    query.pop("sign", None)
    sent = dict(parse_qsl(urlsplit(prepared(case).url).query, keep_blank_values=True))
    query["sign"] = v2_sign(sent)


def sign_apiv2_body(case):
    body = case.body
    if not isinstance(body, dict):
        return
    demo_identity(body, plan_as_int=False)
    body.pop("sign", None)
    try:
        root = ET.fromstring(prepared(case).body)
    except (ET.ParseError, TypeError):
        return
    if any(len(child) for child in root):
        return
    body["sign"] = v2_sign({child.tag: child.text or "" for child in root})


@schemathesis.hook
def before_call(context, case, kwargs):
    if is_apiv3(case):
        sign_apiv3(case, kwargs)
    elif is_apiv2(case) and case.method.upper() == "GET":
        sign_apiv2_query(case)
    elif is_apiv2(case):
        sign_apiv2_body(case)


@schemathesis.deserializer("text/xml", "application/xml")
def flat_xml(ctx, response):
    """A v2 answer `<xml><k>v</k>…</xml>` as `{k: v}` (every value a string). A document that
    is not well-formed becomes an object no answer schema admits (it lacks `return_code`), so
    response_schema_conformance reports it."""
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError as e:
        return {"not_well_formed_xml": str(e)}
    return {child.tag: child.text or "" for child in root}
