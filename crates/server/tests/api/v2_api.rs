//! The domestic APIv2 papay endpoints (PROTOCOL.md §5) over HTTP: every documented failure
//! (table-driven, snapshots of the XML answers, XML attacks included), the whole direct and
//! partner life cycle, both sign types with and without `sign_type`, an h5entrustweb URL built
//! with a standard URL encoder, injected faults, and the separation of v2 and APIv3 contracts.

use papay_client::v2::{
    ContractSelector, ContractState, DeleteContractRequest, H5EntrustWebRequest, QueryContractRequest, SignType,
    SubMerchant, TerminationMode, V2ApiKey, V2Client,
};
use papay_client::Error;
use papay_protocol::v2::sign;
use papay_protocol::v2::xml::{self, Limits};
use papay_protocol::v2::{query, Params};
use serde_json::json;

use crate::helpers::*;
use crate::v2_flow::sign_up;

const WRONG_KEY: &str = "00000000000000000000000000000000";
const NOTIFY: &str = "https://yoursite.com/papay/v2/notify";
const CLIENTIP: &str = "119.145.83.6";

const H5: &str = "/papay/h5entrustweb";
const H5_PARTNER: &str = "/papay/partner/h5entrustweb";
const QUERY: &str = "/papay/querycontract";
const QUERY_PARTNER: &str = "/papay/partner/querycontract";
const DELETE: &str = "/papay/deletecontract";
const DELETE_PARTNER: &str = "/papay/partner/deletecontract";

// ---------------------------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------------------------

/// One v2 answer as it came over the wire.
struct Answer {
    status: u16,
    content_type: String,
    body: String,
    params: Params,
}

impl Answer {
    fn get(&self, k: &str) -> Option<&str> {
        self.params.get(k)
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Sends `method path?query` with `body` (as `text/xml`) and reads the XML answer; every v2
/// answer must be HTTP 200, `text/xml` and a flat v2 XML document.
async fn call(app: &TestApp, method: &str, path: &str, query: Option<&str>, body: Option<Vec<u8>>) -> Answer {
    let mut url = format!("{}{path}", app.base_url);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    let mut req = http().request(method.parse().unwrap(), &url);
    if let Some(b) = body {
        req = req.header("content-type", "text/xml").body(b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = r.text().await.unwrap();
    let params = xml::parse(body.as_bytes(), &Limits::default())
        .unwrap_or_else(|e| panic!("{method} {path}: the answer is not v2 XML ({e}): {body}"));
    Answer {
        status,
        content_type,
        body,
        params,
    }
}

async fn get(app: &TestApp, path: &str, query: &str) -> Answer {
    call(app, "GET", path, Some(query), None).await
}

async fn post(app: &TestApp, path: &str, body: impl Into<Vec<u8>>) -> Answer {
    call(app, "POST", path, None, Some(body.into())).await
}

/// `p` with `k` set to `v` (replaced in place, or appended).
fn with(p: &Params, k: &str, v: &str) -> Params {
    let mut out = Params::new();
    let mut found = false;
    for (name, value) in p {
        if name == k {
            found = true;
            out.push(name, v);
        } else {
            out.push(name, value);
        }
    }
    if !found {
        out.push(k, v);
    }
    out
}

/// `p` without `k`.
fn without(p: &Params, k: &str) -> Params {
    p.iter().filter(|(name, _)| *name != k).collect()
}

/// `p` plus its §5.1 `sign` with `key` and `t`.
fn signed_with(p: &Params, key: &str, t: SignType) -> Params {
    let mut out = p.clone();
    out.push("sign", sign::sign(p, key, t));
    out
}

/// The valid direct h5entrustweb parameters for `code` (HMAC-SHA256 named, unsigned).
fn h5_base(code: &str) -> Params {
    let plan = PLAN.to_string();
    let ts = now().to_string();
    [
        ("appid", APPID),
        ("mch_id", MCHID),
        ("plan_id", plan.as_str()),
        ("contract_code", code),
        ("request_serial", "1000"),
        ("contract_display_account", "Zhang San"),
        ("notify_url", NOTIFY),
        ("version", "1.0"),
        ("sign_type", "HMAC-SHA256"),
        ("timestamp", ts.as_str()),
        ("clientip", CLIENTIP),
    ]
    .into_iter()
    .collect()
}

fn partner_h5_base(code: &str) -> Params {
    with(&h5_base(code), "sub_mch_id", SUB_MCHID)
}

/// The query string of `p` signed with MCHID's key, HMAC-SHA256.
fn h5q(p: &Params) -> String {
    query::encode(&signed_with(p, V2_KEY, SignType::HmacSha256))
}

/// querycontract / deletecontract parameters for MCHID naming the contract by `selector`.
fn q_base(selector: &[(&str, &str)]) -> Params {
    let mut p = Params::new();
    p.push("appid", APPID);
    p.push("mch_id", MCHID);
    p.extend(selector.iter().copied());
    p.push("version", "1.0");
    p
}

fn d_base(selector: &[(&str, &str)]) -> Params {
    with(&q_base(selector), "contract_termination_remark", "the user asked")
}

fn partner(p: &Params) -> Params {
    with(p, "sub_mch_id", SUB_MCHID)
}

/// The XML body of `p` signed with MCHID's key, MD5.
fn xml_md5(p: &Params) -> Vec<u8> {
    xml::write(&signed_with(p, V2_KEY, SignType::Md5)).into_bytes()
}

fn v2_client(app: &TestApp) -> V2Client {
    V2Client::new(&app.base_url, MCHID, V2ApiKey::parse(V2_KEY).unwrap()).unwrap()
}

fn sub() -> SubMerchant {
    SubMerchant {
        sub_mch_id: SUB_MCHID.into(),
        sub_appid: Some(SUB_APPID.into()),
    }
}

fn h5_request(code: &str, serial: i64) -> H5EntrustWebRequest {
    H5EntrustWebRequest::new(APPID, PLAN.to_string(), code, serial, "微信代扣", NOTIFY, CLIENTIP)
}

/// The control API's detail of `mchid`'s only contract with `code`.
async fn contract_id_of(app: &TestApp, mchid: &str, code: &str) -> String {
    app.contract_by_code(mchid, code).await["contract"]["contract_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The session token of an h5entrustweb `redirect_url` (after checking its shape).
fn token_of(app: &TestApp, redirect_url: &str) -> String {
    let prefix = format!("{}/papay/readentrustwebtemplate?type=index&session_id=", app.base_url);
    let token = redirect_url
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix("#/redirect"))
        .unwrap_or_else(|| panic!("redirect_url {redirect_url} is not {prefix}<token>#/redirect"));
    assert!(
        !token.is_empty()
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{token}"
    );
    token.to_string()
}

/// `yyyy-MM-dd HH:mm:ss`.
fn assert_v2_time(field: &str, v: &str) {
    let b = v.as_bytes();
    let shape = b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    assert!(shape, "{field} = {v:?} is not yyyy-MM-dd HH:mm:ss");
    assert!(
        papay_protocol::time_format::parse_v2_beijing(v).is_some(),
        "{field} = {v}"
    );
}

fn v2_business(e: &Error) -> (&str, &str) {
    match e {
        Error::V2Business { err_code, err_code_des } => (err_code.as_str(), err_code_des.as_str()),
        other => panic!("expected a v2 business error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Every documented failure
// ---------------------------------------------------------------------------------------------

/// What a failing call must answer.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// `return_code=FAIL`, `return_msg` starting with this.
    Return(&'static str),
    /// h5entrustweb: `return_code=SUCCESS`, `result_code=FAIL`, `result_msg` = `CODE: …`.
    ResultMsg(&'static str),
    /// querycontract / deletecontract: `return_code=SUCCESS`, `result_code=FAIL`, `err_code`.
    ErrCode(&'static str),
}

struct Row {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    query: Option<String>,
    body: Option<Vec<u8>>,
    expect: Expect,
}

fn g(name: &'static str, path: &'static str, query: String, expect: Expect) -> Row {
    Row {
        name,
        method: "GET",
        path,
        query: Some(query),
        body: None,
        expect,
    }
}

fn p(name: &'static str, path: &'static str, body: impl Into<Vec<u8>>, expect: Expect) -> Row {
    Row {
        name,
        method: "POST",
        path,
        query: None,
        body: Some(body.into()),
        expect,
    }
}

/// Checks an answer against `expect`: the transport shape first, then the codes.
fn check(name: &str, a: &Answer, expect: Expect) {
    assert_eq!(a.status, 200, "{name}: {}", a.body);
    assert!(
        a.content_type.starts_with("text/xml"),
        "{name}: content-type {}",
        a.content_type
    );
    assert!(a.body.starts_with("<xml>"), "{name}: {}", a.body);
    assert_eq!(a.get("sign"), None, "{name}: failures are unsigned: {}", a.body);
    assert_eq!(a.get("redirect_url"), None, "{name}: {}", a.body);
    match expect {
        Expect::Return(prefix) => {
            assert_eq!(a.get("return_code"), Some("FAIL"), "{name}: {}", a.body);
            let msg = a.get("return_msg").unwrap_or_default();
            assert!(
                msg.starts_with(prefix),
                "{name}: return_msg {msg:?}, expected {prefix}…"
            );
            assert_eq!(a.get("result_code"), None, "{name}: {}", a.body);
        }
        Expect::ResultMsg(code) => {
            assert_eq!(
                (a.get("return_code"), a.get("result_code")),
                (Some("SUCCESS"), Some("FAIL")),
                "{name}: {}",
                a.body
            );
            let msg = a.get("result_msg").unwrap_or_default();
            assert!(
                msg.starts_with(&format!("{code}: ")) && msg.len() > code.len() + 2,
                "{name}: result_msg {msg:?}, expected {code}: …"
            );
        }
        Expect::ErrCode(code) => {
            assert_eq!(
                (a.get("return_code"), a.get("result_code"), a.get("err_code")),
                (Some("SUCCESS"), Some("FAIL"), Some(code)),
                "{name}: {}",
                a.body
            );
            assert!(
                !a.get("err_code_des").unwrap_or_default().is_empty(),
                "{name}: {}",
                a.body
            );
        }
    }
}

/// A 70 KiB body: over the 64 KiB limit, otherwise a plausible request.
fn huge_body() -> Vec<u8> {
    let filler = "a".repeat(70 * 1024);
    format!("<xml><appid>{APPID}</appid><mch_id>{MCHID}</mch_id><contract_id>1</contract_id><version>1.0</version><note>{filler}</note><sign>0123456789ABCDEF0123456789ABCDEF</sign></xml>")
        .into_bytes()
}

fn billion_laughs() -> Vec<u8> {
    let mut dtd = String::from(r#"<!ENTITY lol0 "lol">"#);
    for i in 1..10 {
        let prev = format!("&lol{};", i - 1).repeat(10);
        dtd.push_str(&format!(r#"<!ENTITY lol{i} "{prev}">"#));
    }
    format!(
        r#"<?xml version="1.0"?><!DOCTYPE xml [{dtd}]><xml><appid>&lol9;</appid><mch_id>{MCHID}</mch_id><contract_id>1</contract_id><version>1.0</version><sign>0123456789ABCDEF0123456789ABCDEF</sign></xml>"#
    )
    .into_bytes()
}

fn xxe() -> Vec<u8> {
    format!(
        r#"<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><appid>{APPID}</appid><mch_id>{MCHID}</mch_id><contract_id>&x;</contract_id><version>1.0</version><sign>0123456789ABCDEF0123456789ABCDEF</sign></xml>"#
    )
    .into_bytes()
}

/// The answer body with the run's volatile values replaced by names.
fn redact(body: &str, volatile: &[(&str, &str)]) -> String {
    volatile
        .iter()
        .fold(body.to_string(), |b, (value, name)| b.replace(value, name))
}

#[tokio::test]
async fn v2_errors_table() {
    let app = spawn_app().await;
    let v2 = v2_client(&app);

    // Fixtures: a signed, an unsigned and a terminated v2 contract, a signed partner one,
    // a signed APIv3 one, and another merchant's signed v2 contract.
    let signed = sign_up(&app, &v2, &h5_request("V2SIGNED1", 101), "openidSigned").await;
    v2.h5entrustweb(&h5_request("V2UNSIGNED1", 102)).await.unwrap();
    let unsigned = contract_id_of(&app, MCHID, "V2UNSIGNED1").await;
    let term = sign_up(&app, &v2, &h5_request("V2TERM1", 103), "openidTerm").await;
    v2.delete_contract(&DeleteContractRequest::new(
        APPID,
        ContractSelector::ContractId(term.clone()),
        "done",
    ))
    .await
    .unwrap();
    let partner_req = H5EntrustWebRequest {
        sub: Some(sub()),
        ..h5_request("V2PSIGNED1", 104)
    };
    let partner_signed = sign_up(&app, &v2, &partner_req, "openidPartner").await;
    let v3 = app.client();
    v3.presign_jsapi(&jsapi("V3SIGNED1")).await.unwrap();
    let v3_signed = contract_id_of(&app, MCHID, "V3SIGNED1").await;
    app.agree(&v3_signed, None).await;
    let (status, other) = app.control("POST", "/sandbox/v1/merchants", Some(json!({}))).await;
    assert_eq!(status, 201, "{other}");
    let other_mchid = other["mchid"].as_str().unwrap().to_string();
    let other_v2 = V2Client::new(
        &app.base_url,
        &other_mchid,
        V2ApiKey::parse(other["v2_key"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let other_req = H5EntrustWebRequest::new(
        other["appid"].as_str().unwrap(),
        other["plan_id"].as_i64().unwrap().to_string(),
        "V2FOREIGN1",
        105,
        "Li Si",
        NOTIFY,
        CLIENTIP,
    );
    let foreign = sign_up(&app, &other_v2, &other_req, "openidForeign").await;

    use Expect::{ErrCode, ResultMsg, Return};
    let h = h5_base("E1");
    let ph = partner_h5_base("E1");
    let plan = PLAN.to_string();
    let by_id = |id: &str| q_base(&[("contract_id", id)]);
    let del_by_id = |id: &str| d_base(&[("contract_id", id)]);
    let valid_xml = String::from_utf8(xml_md5(&by_id(&signed))).unwrap();
    let not_utf8 = {
        let (head, tail) = valid_xml.split_once(APPID).unwrap();
        [head.as_bytes(), b"wx\xff\xfe", tail.as_bytes()].concat()
    };

    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        // h5entrustweb: transport and parameters ⇒ return_code=FAIL.
        p("h5_post_method", H5, h5q(&h), Return("REQUIRE_GET_METHOD")),
        g("h5_no_query_string", H5, String::new(), Return("PARAM_ERROR: ")),
        g("h5_bad_percent_escape", H5, format!("{}&deviceid=%zz", h5q(&h)), Return("PARAM_ERROR: ")),
        g("h5_value_not_utf8", H5, format!("{}&deviceid=%FF%FE", h5q(&h)), Return("PARAM_ERROR: ")),
        g("h5_repeated_parameter", H5, format!("{}&appid={APPID}", h5q(&h)), Return("PARAM_ERROR: ")),
        g("h5_missing_appid", H5, h5q(&without(&h, "appid")), Return("PARAM_ERROR: ")),
        g("h5_missing_plan_id", H5, h5q(&without(&h, "plan_id")), Return("PARAM_ERROR: ")),
        g("h5_contract_code_charset", H5, h5q(&with(&h, "contract_code", "A-1")), Return("PARAM_ERROR: `contract_code` must contain digits and letters only")),
        g("h5_contract_code_too_long", H5, h5q(&with(&h, "contract_code", &"1".repeat(129))), Return("PARAM_ERROR: ")),
        g("h5_request_serial_leading_zero", H5, h5q(&with(&h, "request_serial", "0123")), Return("PARAM_ERROR: ")),
        g("h5_request_serial_too_large", H5, h5q(&with(&h, "request_serial", "9223372036854775808")), Return("PARAM_ERROR: ")),
        g("h5_display_account_emoji", H5, h5q(&with(&h, "contract_display_account", "Zhang 😀")), Return("PARAM_ERROR: ")),
        g("h5_notify_url_not_http", H5, h5q(&with(&h, "notify_url", "www.qq.com/test/papay")), Return("PARAM_ERROR: ")),
        g("h5_notify_url_with_query", H5, h5q(&with(&h, "notify_url", "https://yoursite.com/notify?a=1")), Return("PARAM_ERROR: ")),
        g("h5_version_2", H5, h5q(&with(&h, "version", "2.0")), Return("PARAM_ERROR: ")),
        g("h5_missing_version", H5, h5q(&without(&h, "version")), Return("PARAM_ERROR: ")),
        g("h5_timestamp_stale", H5, h5q(&with(&h, "timestamp", &(now() - 700).to_string())), Return("PARAM_ERROR: ")),
        g("h5_timestamp_ahead", H5, h5q(&with(&h, "timestamp", &(now() + 700).to_string())), Return("PARAM_ERROR: ")),
        g("h5_timestamp_not_10_digits", H5, h5q(&with(&h, "timestamp", "12345")), Return("PARAM_ERROR: ")),
        g("h5_bad_clientip", H5, h5q(&with(&h, "clientip", "999.1.1.1")), Return("PARAM_ERROR: ")),
        g("h5_missing_sign", H5, query::encode(&h), Return("PARAM_ERROR: ")),
        g("h5_unknown_sign_type", H5, h5q(&with(&h, "sign_type", "SHA1")), Return("PARAM_ERROR: ")),
        g("h5_unbound_appid", H5, h5q(&with(&h, "appid", OTHER_APPID)), Return("PARAM_ERROR: ")),
        // h5entrustweb: a sign that does not verify ⇒ result_msg SIGN_ERROR.
        g("h5_wrong_key", H5, query::encode(&signed_with(&h, WRONG_KEY, SignType::HmacSha256)), ResultMsg("SIGN_ERROR")),
        g("h5_tampered_value", H5, query::encode(&with(&signed_with(&h, V2_KEY, SignType::HmacSha256), "contract_display_account", "Wang Wu")), ResultMsg("SIGN_ERROR")),
        g("h5_md5_sign_with_hmac_sign_type", H5, query::encode(&signed_with(&h, V2_KEY, SignType::Md5)), ResultMsg("SIGN_ERROR")),
        g("h5_hmac_sign_with_md5_sign_type", H5, query::encode(&signed_with(&with(&h, "sign_type", "MD5"), V2_KEY, SignType::HmacSha256)), ResultMsg("SIGN_ERROR")),
        g("h5_no_sign_type_sign_of_40_hex", H5, query::encode(&with(&without(&h, "sign_type"), "sign", &"A".repeat(40))), ResultMsg("SIGN_ERROR")),
        // h5entrustweb: not allowed ⇒ NO_AUTH; already signed ⇒ INVALID_REQUEST.
        g("h5_unknown_mch_id", H5, h5q(&with(&h, "mch_id", "1999999999")), ResultMsg("NO_AUTH")),
        g("h5_merchant_without_v2_key", H5, h5q(&with(&with(&with(&h, "mch_id", OTHER_MCHID), "appid", OTHER_APPID), "plan_id", &OTHER_PLAN.to_string())), ResultMsg("NO_AUTH")),
        g("h5_foreign_plan", H5, h5q(&with(&h, "plan_id", &OTHER_PLAN.to_string())), ResultMsg("NO_AUTH")),
        g("h5_unknown_plan", H5, h5q(&with(&h, "plan_id", "99999")), ResultMsg("NO_AUTH")),
        g("h5_code_already_signed", H5, h5q(&h5_base("V2SIGNED1")), ResultMsg("INVALID_REQUEST")),
        g("h5_code_already_terminated", H5, h5q(&h5_base("V2TERM1")), ResultMsg("INVALID_REQUEST")),
        g("h5_query_string_over_8_kib", H5, h5q(&with(&h, "deviceid", &"d".repeat(9 * 1024))), Return("PARAM_ERROR: ")),
        g("h5_more_than_64_parameters", H5, h5q(&(0..64).fold(h.clone(), |p, i| with(&p, &format!("x{i}"), "1"))), Return("PARAM_ERROR: ")),
        // partner h5entrustweb.
        p("partner_h5_post_method", H5_PARTNER, h5q(&ph), Return("REQUIRE_GET_METHOD")),
        g("partner_h5_missing_sub_mch_id", H5_PARTNER, h5q(&h), Return("PARAM_ERROR: ")),
        g("partner_h5_unbound_sub_appid", H5_PARTNER, h5q(&with(&ph, "sub_appid", "wx0000000000000bad")), Return("PARAM_ERROR: ")),
        g("partner_h5_wrong_key", H5_PARTNER, query::encode(&signed_with(&ph, WRONG_KEY, SignType::HmacSha256)), ResultMsg("SIGN_ERROR")),
        g("partner_h5_sub_mch_id_not_a_sub_merchant", H5_PARTNER, h5q(&with(&ph, "sub_mch_id", "1900000999")), ResultMsg("NO_AUTH")),
        g("partner_h5_plan_not_listing_the_sub_merchant", H5_PARTNER, h5q(&with(&ph, "plan_id", &PLAN_NO_SUBS.to_string())), ResultMsg("NO_AUTH")),
        g("partner_h5_code_already_signed", H5_PARTNER, h5q(&partner_h5_base("V2PSIGNED1")), ResultMsg("INVALID_REQUEST")),

        // querycontract / deletecontract: method and XML ⇒ return_code=FAIL.
        g("query_get_method", QUERY, String::new(), Return("REQUIRE_POST_METHOD")),
        Row { name: "query_put_method", method: "PUT", path: QUERY, query: None, body: Some(xml_md5(&by_id(&signed))), expect: Return("REQUIRE_POST_METHOD") },
        g("partner_query_get_method", QUERY_PARTNER, String::new(), Return("REQUIRE_POST_METHOD")),
        g("delete_get_method", DELETE, String::new(), Return("REQUIRE_POST_METHOD")),
        g("partner_delete_get_method", DELETE_PARTNER, String::new(), Return("REQUIRE_POST_METHOD")),
        p("query_empty_body", QUERY, Vec::new(), Return("XML_FORMAT_ERROR: ")),
        p("query_not_xml", QUERY, "appid=wx&mch_id=1", Return("XML_FORMAT_ERROR: ")),
        p("query_malformed_xml", QUERY, format!("<xml><appid>{APPID}</mch_id></xml>"), Return("XML_FORMAT_ERROR: ")),
        p("query_unclosed_root", QUERY, valid_xml.replace("</xml>", ""), Return("XML_FORMAT_ERROR: ")),
        p("query_doctype_external_entity", QUERY, xxe(), Return("XML_FORMAT_ERROR: ")),
        p("query_billion_laughs", QUERY, billion_laughs(), Return("XML_FORMAT_ERROR: ")),
        p("query_body_70_kib", QUERY, huge_body(), Return("XML_FORMAT_ERROR: ")),
        p("query_duplicate_mch_id", QUERY, valid_xml.replace("</xml>", &format!("<mch_id>{MCHID}</mch_id></xml>")), Return("XML_FORMAT_ERROR: ")),
        p("query_value_not_utf8", QUERY, not_utf8, Return("XML_FORMAT_ERROR: ")),
        p("query_other_root", QUERY, valid_xml.replace("<xml>", "<other>").replace("</xml>", "</other>"), Return("XML_FORMAT_ERROR: ")),
        p("query_nested_element", QUERY, valid_xml.replace("<version>", "<version><inner>1.0</inner>"), Return("XML_FORMAT_ERROR: ")),
        p("query_attribute", QUERY, valid_xml.replace("<version>", "<version a=\"1\">"), Return("XML_FORMAT_ERROR: ")),
        p("query_processing_instruction", QUERY, valid_xml.replace("<version>", "<?php echo 1; ?><version>"), Return("XML_FORMAT_ERROR: ")),
        p("query_latin1_declared", QUERY, format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{valid_xml}"), Return("XML_FORMAT_ERROR: ")),
        p("delete_doctype_external_entity", DELETE, xxe(), Return("XML_FORMAT_ERROR: ")),
        p("partner_delete_billion_laughs", DELETE_PARTNER, billion_laughs(), Return("XML_FORMAT_ERROR: ")),
        // querycontract / deletecontract: parameters ⇒ return_code=FAIL PARAM_ERROR.
        p("query_missing_appid", QUERY, xml_md5(&without(&by_id(&signed), "appid")), Return("PARAM_ERROR: ")),
        p("query_missing_mch_id", QUERY, xml_md5(&without(&by_id(&signed), "mch_id")), Return("PARAM_ERROR: ")),
        p("query_version_2", QUERY, xml_md5(&with(&by_id(&signed), "version", "2.0")), Return("PARAM_ERROR: ")),
        p("query_missing_sign", QUERY, xml::write(&by_id(&signed)), Return("PARAM_ERROR: ")),
        p("query_unknown_sign_type", QUERY, xml_md5(&with(&by_id(&signed), "sign_type", "SHA1")), Return("PARAM_ERROR: ")),
        p("query_both_modes", QUERY, xml_md5(&q_base(&[("contract_id", &signed), ("plan_id", &plan), ("contract_code", "V2SIGNED1")])), Return("PARAM_ERROR: ")),
        p("query_neither_mode", QUERY, xml_md5(&q_base(&[])), Return("PARAM_ERROR: ")),
        p("query_plan_id_without_code", QUERY, xml_md5(&q_base(&[("plan_id", &plan)])), Return("PARAM_ERROR: ")),
        p("query_unbound_appid", QUERY, xml_md5(&with(&by_id(&signed), "appid", OTHER_APPID)), Return("PARAM_ERROR: ")),
        p("partner_query_missing_sub_mch_id", QUERY_PARTNER, xml_md5(&by_id(&partner_signed)), Return("PARAM_ERROR: ")),
        p("delete_missing_remark", DELETE, xml_md5(&by_id(&signed)), Return("PARAM_ERROR: ")),
        p("delete_remark_too_long", DELETE, xml_md5(&with(&del_by_id(&signed), "contract_termination_remark", &"x".repeat(513))), Return("PARAM_ERROR: ")),
        p("delete_neither_mode", DELETE, xml_md5(&d_base(&[])), Return("PARAM_ERROR: ")),
        p("partner_delete_missing_sub_mch_id", DELETE_PARTNER, xml_md5(&del_by_id(&partner_signed)), Return("PARAM_ERROR: ")),
        // querycontract / deletecontract: a sign that does not verify ⇒ err_code SIGN_ERROR.
        p("query_wrong_key", QUERY, xml::write(&signed_with(&by_id(&signed), WRONG_KEY, SignType::Md5)), ErrCode("SIGN_ERROR")),
        p("query_tampered_value", QUERY, xml::write(&with(&signed_with(&by_id(&signed), V2_KEY, SignType::Md5), "contract_id", &unsigned)), ErrCode("SIGN_ERROR")),
        p("query_md5_sign_with_hmac_sign_type", QUERY, xml::write(&signed_with(&with(&by_id(&signed), "sign_type", "HMAC-SHA256"), V2_KEY, SignType::Md5)), ErrCode("SIGN_ERROR")),
        p("query_appid_tag_in_other_case", QUERY, valid_xml.replace("<appid>", "<AppId>").replace("</appid>", "</AppId>"), Return("PARAM_ERROR: ")),
        p("delete_wrong_key", DELETE, xml::write(&signed_with(&del_by_id(&signed), WRONG_KEY, SignType::Md5)), ErrCode("SIGN_ERROR")),
        p("partner_delete_wrong_key", DELETE_PARTNER, xml::write(&signed_with(&partner(&del_by_id(&partner_signed)), WRONG_KEY, SignType::Md5)), ErrCode("SIGN_ERROR")),
        // NO_AUTH.
        p("query_unknown_mch_id", QUERY, xml_md5(&with(&by_id(&signed), "mch_id", "1999999999")), ErrCode("NO_AUTH")),
        p("query_merchant_without_v2_key", QUERY, xml_md5(&with(&with(&by_id(&signed), "mch_id", OTHER_MCHID), "appid", OTHER_APPID)), ErrCode("NO_AUTH")),
        p("partner_query_sub_mch_id_not_a_sub_merchant", QUERY_PARTNER, xml_md5(&with(&by_id(&partner_signed), "sub_mch_id", "1900000999")), ErrCode("NO_AUTH")),
        p("delete_unknown_mch_id", DELETE, xml_md5(&with(&del_by_id(&signed), "mch_id", "1999999999")), ErrCode("NO_AUTH")),
        p("partner_delete_sub_mch_id_not_a_sub_merchant", DELETE_PARTNER, xml_md5(&with(&del_by_id(&partner_signed), "sub_mch_id", "1900000999")), ErrCode("NO_AUTH")),
        // CONTRACT_NOT_EXIST.
        p("query_unknown_contract_id", QUERY, xml_md5(&by_id("20261127000000000000")), ErrCode("CONTRACT_NOT_EXIST")),
        p("query_unknown_code", QUERY, xml_md5(&q_base(&[("plan_id", &plan), ("contract_code", "NOPE1")])), ErrCode("CONTRACT_NOT_EXIST")),
        p("query_unsigned_v2_contract", QUERY, xml_md5(&by_id(&unsigned)), ErrCode("CONTRACT_NOT_EXIST")),
        p("query_unsigned_v2_contract_by_code", QUERY, xml_md5(&q_base(&[("plan_id", &plan), ("contract_code", "V2UNSIGNED1")])), ErrCode("CONTRACT_NOT_EXIST")),
        p("query_another_merchants_contract", QUERY, xml_md5(&by_id(&foreign)), ErrCode("CONTRACT_NOT_EXIST")),
        p("query_another_merchants_plan_by_code", QUERY, xml_md5(&q_base(&[("plan_id", &OTHER_PLAN.to_string()), ("contract_code", "V2SIGNED1")])), ErrCode("CONTRACT_NOT_EXIST")),
        p("query_apiv3_contract", QUERY, xml_md5(&by_id(&v3_signed)), ErrCode("CONTRACT_NOT_EXIST")),
        p("query_apiv3_contract_by_code", QUERY, xml_md5(&q_base(&[("plan_id", &plan), ("contract_code", "V3SIGNED1")])), ErrCode("CONTRACT_NOT_EXIST")),
        p("query_partner_contract_as_direct", QUERY, xml_md5(&by_id(&partner_signed)), ErrCode("CONTRACT_NOT_EXIST")),
        p("partner_query_direct_contract", QUERY_PARTNER, xml_md5(&partner(&by_id(&signed))), ErrCode("CONTRACT_NOT_EXIST")),
        p("delete_unknown_contract_id", DELETE, xml_md5(&del_by_id("20261127000000000000")), ErrCode("CONTRACT_NOT_EXIST")),
        p("delete_unsigned_v2_contract", DELETE, xml_md5(&del_by_id(&unsigned)), ErrCode("CONTRACT_NOT_EXIST")),
        p("delete_terminated_again", DELETE, xml_md5(&del_by_id(&term)), ErrCode("CONTRACT_NOT_EXIST")),
        p("delete_terminated_again_by_code", DELETE, xml_md5(&d_base(&[("plan_id", &plan), ("contract_code", "V2TERM1")])), ErrCode("CONTRACT_NOT_EXIST")),
        p("delete_another_merchants_contract", DELETE, xml_md5(&del_by_id(&foreign)), ErrCode("CONTRACT_NOT_EXIST")),
        p("delete_apiv3_contract", DELETE, xml_md5(&del_by_id(&v3_signed)), ErrCode("CONTRACT_NOT_EXIST")),
        p("partner_delete_direct_contract", DELETE_PARTNER, xml_md5(&partner(&del_by_id(&signed))), ErrCode("CONTRACT_NOT_EXIST")),
    ];

    let volatile = [
        (signed.as_str(), "[signed_id]"),
        (unsigned.as_str(), "[unsigned_id]"),
        (term.as_str(), "[terminated_id]"),
        (partner_signed.as_str(), "[partner_signed_id]"),
        (v3_signed.as_str(), "[v3_signed_id]"),
        (foreign.as_str(), "[foreign_id]"),
        (other_mchid.as_str(), "[other_mchid]"),
    ];
    let mut names = std::collections::HashSet::new();
    for row in rows {
        assert!(names.insert(row.name), "duplicate row {}", row.name);
        let a = call(&app, row.method, row.path, row.query.as_deref(), row.body).await;
        check(row.name, &a, row.expect);
        insta::assert_snapshot!(format!("v2_{}", row.name), redact(&a.body, &volatile));
    }

    // None of the refused calls changed anything.
    let info = v2
        .query_contract(&QueryContractRequest::by_contract_id(APPID, &signed))
        .await
        .unwrap();
    assert_eq!(info.contract_state, ContractState::Signed);
    let info = v2
        .query_contract(&QueryContractRequest::by_contract_id(APPID, &unsigned))
        .await
        .unwrap_err();
    assert_eq!(v2_business(&info).0, "CONTRACT_NOT_EXIST");
    assert_eq!(
        app.contract_by_code(MCHID, "V2UNSIGNED1").await["contract"]["state"],
        "NOTSIGN"
    );
    assert_eq!(v3.query_contract(&v3_signed, &common()).await.unwrap().state, "SIGNED");
    let foreign_info = other_v2
        .query_contract(&QueryContractRequest::by_contract_id(
            other["appid"].as_str().unwrap(),
            &foreign,
        ))
        .await
        .unwrap();
    assert_eq!(foreign_info.contract_state, ContractState::Signed);
    let (_, list) = app
        .control("GET", &format!("/sandbox/v1/merchants/{MCHID}/contracts"), None)
        .await;
    assert_eq!(
        list["contracts"].as_array().unwrap().len(),
        5,
        "no refused h5entrustweb made a contract: {list}"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. The life cycle, direct and partner
// ---------------------------------------------------------------------------------------------

/// `p` as XML with the run's volatile fields replaced by their names.
fn redacted_xml(p: &Params, volatile: &[&str]) -> String {
    let shown: Params = p
        .iter()
        .map(|(k, v)| {
            if volatile.contains(&k) && !v.is_empty() {
                (k.to_string(), format!("[{k}]"))
            } else {
                (k.to_string(), v.to_string())
            }
        })
        .collect();
    xml::write(&shown)
}

const VOLATILE: &[&str] = &[
    "contract_id",
    "contract_signed_time",
    "contract_expired_time",
    "contract_terminated_time",
    "sign",
];

/// h5entrustweb → the signing page → agree → querycontract (both modes) → deletecontract →
/// querycontract, for a direct merchant (`sub = None`) or a service provider.
async fn life_cycle(app: &TestApp, sub: Option<SubMerchant>, code: &str, serial: i64, openid: &str, snap: &str) {
    let v2 = v2_client(app);
    let (h5_path, query_path, delete_path) = match sub {
        None => (H5, QUERY, DELETE),
        Some(_) => (H5_PARTNER, QUERY_PARTNER, DELETE_PARTNER),
    };
    let req = H5EntrustWebRequest {
        sub: sub.clone(),
        ..h5_request(code, serial)
    };

    // h5entrustweb, raw: the documented success answer.
    let url = v2.h5entrustweb_url(&req);
    let (path, q) = url.strip_prefix(&app.base_url).and_then(|u| u.split_once('?')).unwrap();
    assert_eq!(path, h5_path);
    let a = get(app, h5_path, q).await;
    assert_eq!(a.status, 200);
    assert!(a.content_type.starts_with("text/xml"), "{}", a.content_type);
    assert_eq!(
        (a.get("return_code"), a.get("return_msg"), a.get("result_code")),
        (Some("SUCCESS"), Some(""), Some("SUCCESS")),
        "{}",
        a.body
    );
    assert_eq!(a.get("sign"), None, "h5entrustweb answers are unsigned (§5.2 DECISION)");
    let first = a.get("redirect_url").unwrap().to_string();
    let first_token = token_of(app, &first);
    let detail = app.contract_by_code(MCHID, code).await;
    let id = detail["contract"]["contract_id"].as_str().unwrap().to_string();

    // Sent again before signing: a new session for the same contract.
    let redirect = v2.h5entrustweb(&req).await.unwrap();
    assert_ne!(redirect, first, "a renewed session has a new redirect_url");
    let token = token_of(app, &redirect);
    let detail = app.contract_by_code(MCHID, code).await;
    assert_eq!(detail["contract"]["contract_id"], id.as_str(), "the same contract");
    assert_eq!(detail["session_id"], token.as_str(), "{detail}");
    assert_ne!(first_token, token);

    // The control API shows the v2 contract and what its signing request fixed.
    let (status, by_id) = app.control("GET", &format!("/sandbox/v1/contracts/{id}"), None).await;
    assert_eq!(status, 200, "{by_id}");
    for d in [&detail, &by_id] {
        assert_eq!(d["api"], "V2", "{d}");
        assert_eq!(d["request_serial"], serial, "{d}");
        assert_eq!(d["sign_type"], "HMAC-SHA256", "{d}");
        assert_eq!(d["mchid"], MCHID, "{d}");
        assert_eq!(d["contract"]["state"], "NOTSIGN", "{d}");
        assert_eq!(d["contract"]["out_contract_code"], code, "{d}");
        assert_eq!(d["contract"]["plan_id"], PLAN, "{d}");
        assert_eq!(d["contract"]["user_display_name"], "微信代扣", "{d}");
    }

    // The redirect_url forwards to the signing page of its session.
    let r = http().get(&redirect).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/global/papay/contracts/login?os_session_id={token}")
    );

    // Not signed yet: v2 does not see it.
    let by_id_req = QueryContractRequest {
        sub: sub.clone(),
        ..QueryContractRequest::by_contract_id(APPID, &id)
    };
    let e = v2.query_contract(&by_id_req).await.unwrap_err();
    assert_eq!(v2_business(&e).0, "CONTRACT_NOT_EXIST");

    let before = now();
    app.agree(&id, Some(openid)).await;

    // querycontract by contract_id, read and verified by the client.
    let info = v2.query_contract(&by_id_req).await.unwrap();
    assert_eq!(info.mch_id, MCHID);
    assert_eq!(info.appid, APPID);
    assert_eq!(info.contract_id, id);
    assert_eq!(info.plan_id, PLAN.to_string());
    assert_eq!(info.contract_code, code);
    assert_eq!(info.request_serial, serial);
    assert_eq!(info.contract_display_account, "微信代扣");
    assert_eq!(info.contract_state, ContractState::Signed);
    assert_eq!(info.openid, openid);
    assert_eq!(info.contract_terminated_time, None);
    assert_eq!(info.contract_termination_mode, None);
    assert_eq!(info.contract_termination_remark, None);
    let signed_at = info.contract_signed_time.unix_timestamp();
    assert!((before - 2..=now() + 2).contains(&signed_at), "signed at {signed_at}");
    let validity = (info.contract_expired_time - info.contract_signed_time).whole_days();
    assert!((364..=366).contains(&validity), "the plan's 365 days: {validity}");
    match &sub {
        None => assert_eq!(
            (&info.sub_mch_id, &info.sub_appid, &info.sub_openid),
            (&None, &None, &None)
        ),
        Some(s) => {
            assert_eq!(info.sub_mch_id.as_deref(), Some(s.sub_mch_id.as_str()));
            assert_eq!(info.sub_appid, s.sub_appid);
            assert_eq!(info.sub_openid.as_deref(), Some(openid));
        }
    }

    // The same answer raw: MD5-signed, documented fields and time format.
    let raw = post(app, query_path, v2.querycontract_body(&by_id_req)).await;
    assert_eq!(
        (raw.status, raw.get("return_code"), raw.get("result_code")),
        (200, Some("SUCCESS"), Some("SUCCESS"))
    );
    assert_eq!(raw.get("sign").map(str::len), Some(32), "{}", raw.body);
    assert_eq!(
        sign::verify(&raw.params, V2_KEY, Some(SignType::Md5)),
        Ok(SignType::Md5)
    );
    assert_eq!(raw.get("contract_state"), Some("0"));
    for f in ["contract_signed_time", "contract_expired_time"] {
        assert_v2_time(f, raw.get(f).unwrap());
    }
    assert_eq!(
        papay_client::v2::parse_querycontract_answer(raw.body.as_bytes(), &V2ApiKey::parse(V2_KEY).unwrap()).unwrap(),
        info
    );
    // Its sign covers the fields: one changed value no longer verifies.
    let forged = raw.body.replace(openid, "openidForged");
    assert!(matches!(
        papay_client::v2::parse_querycontract_answer(forged.as_bytes(), &V2ApiKey::parse(V2_KEY).unwrap()),
        Err(Error::Verification(_))
    ));
    insta::assert_snapshot!(format!("v2_{snap}_query_signed"), redacted_xml(&raw.params, VOLATILE));

    // By plan_id + contract_code: the same contract.
    let by_code = QueryContractRequest {
        sub: sub.clone(),
        ..QueryContractRequest::by_plan_and_code(APPID, PLAN.to_string(), code)
    };
    assert_eq!(v2.query_contract(&by_code).await.unwrap(), info);
    if let Some(s) = &sub {
        // A partner query without sub_appid matches any sub_appid.
        let loose = QueryContractRequest {
            sub: Some(SubMerchant {
                sub_appid: None,
                ..s.clone()
            }),
            ..by_code.clone()
        };
        assert_eq!(v2.query_contract(&loose).await.unwrap(), info);
    }

    // deletecontract by plan_id + contract_code.
    let remark = "用户要求解约 & <done>";
    let del = DeleteContractRequest {
        sub: sub.clone(),
        ..DeleteContractRequest::new(
            APPID,
            ContractSelector::PlanAndCode {
                plan_id: PLAN.to_string(),
                contract_code: code.into(),
            },
            remark,
        )
    };
    let raw_del = post(app, delete_path, v2.deletecontract_body(&del)).await;
    assert_eq!(
        (raw_del.status, raw_del.get("return_code"), raw_del.get("result_code")),
        (200, Some("SUCCESS"), Some("SUCCESS")),
        "{}",
        raw_del.body
    );
    assert_eq!(
        sign::verify(&raw_del.params, V2_KEY, Some(SignType::Md5)),
        Ok(SignType::Md5)
    );
    let deleted =
        papay_client::v2::parse_deletecontract_answer(raw_del.body.as_bytes(), &V2ApiKey::parse(V2_KEY).unwrap())
            .unwrap();
    assert_eq!(
        (
            deleted.appid.as_str(),
            deleted.mch_id.as_str(),
            deleted.contract_id.as_str(),
            deleted.plan_id.as_str(),
            deleted.contract_code.as_str()
        ),
        (APPID, MCHID, id.as_str(), PLAN.to_string().as_str(), code)
    );
    assert_eq!(deleted.sub_mch_id, sub.as_ref().map(|s| s.sub_mch_id.clone()));
    insta::assert_snapshot!(format!("v2_{snap}_delete"), redacted_xml(&raw_del.params, VOLATILE));

    // Terminated by the merchant's API: state 1, mode 3, the remark.
    let ended = v2.query_contract(&by_id_req).await.unwrap();
    assert_eq!(ended.contract_state, ContractState::Terminated);
    assert_eq!(ended.contract_termination_mode, Some(TerminationMode::MerchantApi));
    assert_eq!(ended.contract_termination_remark.as_deref(), Some(remark));
    let terminated_at = ended.contract_terminated_time.unwrap();
    assert!(terminated_at >= ended.contract_signed_time);
    assert_eq!(v2.query_contract(&by_code).await.unwrap(), ended);
    let raw = post(app, query_path, v2.querycontract_body(&by_id_req)).await;
    assert_eq!(
        (raw.get("contract_state"), raw.get("contract_termination_mode")),
        (Some("1"), Some("3")),
        "{}",
        raw.body
    );
    assert_eq!(raw.get("contract_termination_remark"), Some(remark));
    assert_v2_time("contract_terminated_time", raw.get("contract_terminated_time").unwrap());
    assert_eq!(
        sign::verify(&raw.params, V2_KEY, Some(SignType::Md5)),
        Ok(SignType::Md5)
    );
    insta::assert_snapshot!(
        format!("v2_{snap}_query_terminated"),
        redacted_xml(&raw.params, VOLATILE)
    );
    assert_eq!(
        app.contract_by_code(MCHID, code).await["contract"]["state"],
        "TERMINATED"
    );

    // A second deletecontract finds nothing to terminate.
    let e = v2.delete_contract(&del).await.unwrap_err();
    assert_eq!(v2_business(&e).0, "CONTRACT_NOT_EXIST");
    assert_eq!(ended.contract_id, id);
}

#[tokio::test]
async fn v2_direct_h5entrustweb_query_delete() {
    let app = spawn_app().await;
    life_cycle(&app, None, "V2DIRECT1", 7001, "openidV2Direct", "direct").await;
}

#[tokio::test]
async fn v2_partner_h5entrustweb_query_delete() {
    let app = spawn_app().await;
    life_cycle(&app, Some(sub()), "V2PARTNER1", 7002, "openidV2Partner", "partner").await;
}

// ---------------------------------------------------------------------------------------------
// 3. MD5 and HMAC-SHA256, with and without sign_type
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn v2_h5entrustweb_sign_types() {
    let app = spawn_app().await;
    let v2 = v2_client(&app);
    let cases = [
        ("ST1", Some(SignType::Md5), SignType::HmacSha256, 32, "MD5", None),
        (
            "ST2",
            Some(SignType::HmacSha256),
            SignType::Md5,
            64,
            "HMAC-SHA256",
            None,
        ),
        ("ST3", None, SignType::Md5, 32, "MD5", None),
        ("ST4", None, SignType::HmacSha256, 64, "HMAC-SHA256", None),
        ("ST5", None, SignType::Md5, 32, "MD5", Some(sub())),
        ("ST6", Some(SignType::Md5), SignType::HmacSha256, 32, "MD5", Some(sub())),
    ];
    for (code, sign_type, unsent, len, stored, sub) in cases {
        let req = H5EntrustWebRequest {
            sign_type,
            unsent_sign_type: unsent,
            sub,
            ..h5_request(code, 8000)
        };
        let url = v2.h5entrustweb_url(&req);
        let sent = query::decode(url.split_once('?').unwrap().1).unwrap();
        assert_eq!(sent.get("sign_type"), sign_type.map(SignType::as_str), "{code}");
        assert_eq!(sent.get("sign").map(str::len), Some(len), "{code}");
        let redirect = v2.h5entrustweb(&req).await.unwrap_or_else(|e| panic!("{code}: {e}"));
        token_of(&app, &redirect);
        let detail = app.contract_by_code(MCHID, code).await;
        assert_eq!(detail["sign_type"], stored, "{code}: {detail}");
        assert_eq!(detail["api"], "V2", "{code}");

        // The other algorithm's sign of the same parameters is refused.
        let other = match req.algorithm() {
            SignType::Md5 => SignType::HmacSha256,
            SignType::HmacSha256 => SignType::Md5,
        };
        let unsigned = without(&sent, "sign");
        let a = get(
            &app,
            url.strip_prefix(&app.base_url).unwrap().split_once('?').unwrap().0,
            &query::encode(&signed_with(&unsigned, V2_KEY, other)),
        )
        .await;
        if sign_type.is_some() {
            check(code, &a, Expect::ResultMsg("SIGN_ERROR"));
        } else {
            // Without sign_type the other algorithm's sign is just as valid (§5.1 DECISION).
            assert_eq!(a.get("result_code"), Some("SUCCESS"), "{code}: {}", a.body);
            let detail = app.contract_by_code(MCHID, code).await;
            assert_eq!(
                detail["sign_type"],
                other.as_str(),
                "{code}: the renewal's algorithm: {detail}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. An h5entrustweb URL built with a standard URL encoder
// ---------------------------------------------------------------------------------------------

/// §5.1 by hand: non-empty parameters except `sign`, sorted by name, `k=v` joined with `&`,
/// raw values, then `&key=…`.
fn string_sign_temp(pairs: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let string_a = sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!("{string_a}&key={V2_KEY}")
}

fn hmac_sha256_upper_hex(data: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, V2_KEY.as_bytes());
    hex::encode_upper(aws_lc_rs::hmac::sign(&key, data.as_bytes()).as_ref())
}

/// MD5 of `data` = `name=rest`: `sign::sign` over the single parameter (`name`, `rest`)
/// digests exactly `name=rest&key=…`, so `data` must already end in `&key=…`, which is
/// stripped here. Only the digest is borrowed; the string is ours.
fn md5_upper_hex(data: &str) -> String {
    let body = data.strip_suffix(&format!("&key={V2_KEY}")).unwrap();
    let (name, rest) = body.split_once('=').unwrap();
    sign::sign(&[(name, rest)].into_iter().collect(), V2_KEY, SignType::Md5)
}

#[tokio::test]
async fn v2_h5entrustweb_url_built_with_a_standard_encoder() {
    let app = spawn_app().await;
    let v2 = v2_client(&app);
    let ts = now().to_string();
    let plan = PLAN.to_string();
    let display = "微信 代扣";
    let notify = "https://yoursite.com/papay/v2/回调/a&b=c+d;e@f,g:h!*'()~%41";
    let deviceid = "dev 1+2=3";

    // 1. HMAC-SHA256 named by sign_type, with url::Url::query_pairs_mut (space ⇒ `+`).
    let pairs = [
        ("appid", APPID),
        ("mch_id", MCHID),
        ("plan_id", plan.as_str()),
        ("contract_code", "HAND1"),
        ("request_serial", "9001"),
        ("contract_display_account", display),
        ("notify_url", notify),
        ("version", "1.0"),
        ("sign_type", "HMAC-SHA256"),
        ("timestamp", ts.as_str()),
        ("clientip", CLIENTIP),
        ("deviceid", deviceid),
        ("mobile", ""),
    ];
    let temp = string_sign_temp(&pairs);
    assert!(temp.starts_with(&format!("appid={APPID}&clientip={CLIENTIP}&contract_code=HAND1&contract_display_account=微信 代扣&deviceid=dev 1+2=3&mch_id={MCHID}&notify_url={notify}&plan_id={PLAN}&request_serial=9001&sign_type=HMAC-SHA256&timestamp={ts}&version=1.0&key=")), "{temp}");
    let sign = hmac_sha256_upper_hex(&temp);
    let mut url = url::Url::parse(&format!("{}{H5}", app.base_url)).unwrap();
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        q.append_pair("sign", &sign);
    }
    let text = url.as_str();
    assert!(
        text.contains("contract_display_account=%E5%BE%AE%E4%BF%A1+%E4%BB%A3%E6%89%A3"),
        "{text}"
    );
    assert!(text.contains("deviceid=dev+1%2B2%3D3"), "{text}");
    assert!(
        text.contains("&mobile=&"),
        "an empty parameter is sent but not signed: {text}"
    );
    assert!(text.contains("notify_url=https%3A%2F%2Fyoursite.com%2Fpapay%2Fv2%2F%E5%9B%9E%E8%B0%83%2Fa%26b%3Dc%2Bd%3Be%40f%2Cg%3Ah%21*%27%28%29%7E%2541"), "{text}");
    let r = http().get(text).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.text().await.unwrap();
    let answer = xml::parse(body.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(
        (answer.get("return_code"), answer.get("result_code")),
        (Some("SUCCESS"), Some("SUCCESS")),
        "{body}"
    );
    token_of(&app, answer.get("redirect_url").unwrap());
    let detail = app.contract_by_code(MCHID, "HAND1").await;
    assert_eq!(detail["contract"]["user_display_name"], display, "{detail}");
    assert_eq!(
        (detail["sign_type"].as_str(), detail["request_serial"].as_i64()),
        (Some("HMAC-SHA256"), Some(9001))
    );

    // 2. MD5 chosen by the sign's length (no sign_type), with form_urlencoded::Serializer.
    let pairs2: Vec<(&str, &str)> = pairs
        .iter()
        .copied()
        .filter(|(k, _)| *k != "sign_type")
        .map(|(k, v)| if k == "contract_code" { (k, "HAND2") } else { (k, v) })
        .collect();
    let temp2 = string_sign_temp(&pairs2);
    let sign2 = md5_upper_hex(&temp2);
    // Cross-check against papay's own §5.1 implementation: the same digest.
    let as_params: Params = pairs2.iter().copied().collect();
    assert_eq!(sign2, sign::sign(&as_params, V2_KEY, SignType::Md5));
    assert_eq!(
        sign,
        sign::sign(&pairs.iter().copied().collect(), V2_KEY, SignType::HmacSha256)
    );
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs2 {
        ser.append_pair(k, v);
    }
    ser.append_pair("sign", &sign2);
    let q2 = ser.finish();
    assert!(q2.contains("%E5%BE%AE%E4%BF%A1+%E4%BB%A3%E6%89%A3"), "{q2}");
    let a = get(&app, H5, &q2).await;
    assert_eq!(
        (a.get("return_code"), a.get("result_code")),
        (Some("SUCCESS"), Some("SUCCESS")),
        "{}",
        a.body
    );
    let detail2 = app.contract_by_code(MCHID, "HAND2").await;
    assert_eq!(detail2["sign_type"], "MD5", "{detail2}");

    // The display account round-trips to querycontract once signed.
    let id = detail["contract"]["contract_id"].as_str().unwrap().to_string();
    app.agree(&id, Some("openidHand")).await;
    let info = v2
        .query_contract(&QueryContractRequest::by_contract_id(APPID, &id))
        .await
        .unwrap();
    assert_eq!(
        (info.contract_display_account.as_str(), info.request_serial),
        (display, 9001)
    );

    // A `+` meant as a plus must be sent as %2B: sent raw it decodes to a space, and the
    // sign over "1+2" no longer verifies.
    let raw_plus = q2.replace("dev+1%2B2", "dev+1+2");
    let a = get(&app, H5, &raw_plus).await;
    check("raw_plus", &a, Expect::ResultMsg("SIGN_ERROR"));
}

// ---------------------------------------------------------------------------------------------
// 5. v2 and APIv3 do not see each other's contracts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn v2_contracts_are_not_visible_through_apiv3() {
    let app = spawn_app().await;
    let v2 = v2_client(&app);
    let id = sign_up(&app, &v2, &h5_request("V2ONLY1", 6001), "openidV2Only").await;
    let v3 = app.client();

    let e = v3.query_contract(&id, &common()).await.unwrap_err();
    let api = e.api().unwrap_or_else(|| panic!("{e}"));
    assert!(matches!(api.status, 403 | 404), "{e}");
    assert_eq!(api.code, "CONTRACT_NOT_EXIST", "{e}");
    let e = v3.query_contract_by_code("V2ONLY1", PLAN, &common()).await.unwrap_err();
    assert_eq!(e.api().map(|a| a.code.as_str()), Some("CONTRACT_NOT_EXIST"), "{e}");
    let term = papay_protocol::contracts::TerminateRequest {
        identity: common(),
        termination_note: "v3 tries".into(),
    };
    let e = v3.terminate_contract(&id, &term).await.unwrap_err();
    assert_eq!(e.api().map(|a| a.code.as_str()), Some("CONTRACT_NOT_EXIST"), "{e}");

    // The control API shows it, and it is still signed for v2.
    let (status, detail) = app.control("GET", &format!("/sandbox/v1/contracts/{id}"), None).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(
        (
            detail["api"].as_str(),
            detail["request_serial"].as_i64(),
            detail["sign_type"].as_str()
        ),
        (Some("V2"), Some(6001), Some("HMAC-SHA256"))
    );
    assert_eq!(detail["contract"]["state"], "SIGNED", "{detail}");
    assert_eq!(detail["contract"]["openid"], "openidV2Only", "{detail}");
    let info = v2
        .query_contract(&QueryContractRequest::by_contract_id(APPID, &id))
        .await
        .unwrap();
    assert_eq!(info.contract_state, ContractState::Signed);

    // An APIv3 contract shows in the control API as V3, without v2 terms.
    v3.presign_jsapi(&jsapi("V3ONLY1")).await.unwrap();
    let v3_detail = app.contract_by_code(MCHID, "V3ONLY1").await;
    assert_eq!(v3_detail["api"], "V3");
    assert!(v3_detail.get("request_serial").is_none() && v3_detail.get("sign_type").is_none());
}

// ---------------------------------------------------------------------------------------------
// Injected faults
// ---------------------------------------------------------------------------------------------

async fn add_fault(app: &TestApp, endpoint: &str, kind: &str) {
    let (status, fault) = app
        .control(
            "POST",
            &format!("/sandbox/v1/merchants/{MCHID}/faults"),
            Some(json!({"endpoint": endpoint, "kind": kind, "count": 1})),
        )
        .await;
    assert_eq!(status, 201, "{fault}");
}

async fn remaining_faults(app: &TestApp) -> usize {
    let (_, list) = app
        .control("GET", &format!("/sandbox/v1/merchants/{MCHID}/faults"), None)
        .await;
    list["faults"].as_array().unwrap().len()
}

#[tokio::test]
async fn v2_injected_faults() {
    let app = spawn_app().await;
    let v2 = v2_client(&app);
    let id = sign_up(&app, &v2, &h5_request("FAULT1", 5001), "openidFault").await;
    let query_body = xml_md5(&q_base(&[("contract_id", &id)]));
    let delete_body = xml_md5(&d_base(&[("contract_id", &id)]));

    for kind in ["SYSTEMERROR", "RATE_LIMITED"] {
        // h5entrustweb: refused before anything is made.
        add_fault(&app, "h5entrustweb", kind).await;
        let a = get(&app, H5, &h5q(&h5_base(&format!("NEW{}", kind.len())))).await;
        check(kind, &a, Expect::ResultMsg(kind));
        insta::assert_snapshot!(format!("v2_fault_h5entrustweb_{kind}"), a.body);
        let (_, list) = app
            .control(
                "GET",
                &format!(
                    "/sandbox/v1/merchants/{MCHID}/contracts?out_contract_code=NEW{}",
                    kind.len()
                ),
                None,
            )
            .await;
        assert!(list["contracts"].as_array().unwrap().is_empty(), "{list}");

        add_fault(&app, "querycontract", kind).await;
        let a = post(&app, QUERY, query_body.clone()).await;
        check(kind, &a, Expect::ErrCode(kind));
        insta::assert_snapshot!(format!("v2_fault_querycontract_{kind}"), a.body);

        // deletecontract: refused before the contract is touched.
        add_fault(&app, "deletecontract", kind).await;
        let a = post(&app, DELETE, delete_body.clone()).await;
        check(kind, &a, Expect::ErrCode(kind));
        insta::assert_snapshot!(format!("v2_fault_deletecontract_{kind}"), a.body);
        assert_eq!(remaining_faults(&app).await, 0, "each fault is spent once");
        let info = v2
            .query_contract(&QueryContractRequest::by_contract_id(APPID, &id))
            .await
            .unwrap();
        assert_eq!(info.contract_state, ContractState::Signed);
    }

    // The partner API shares the endpoint's faults.
    add_fault(&app, "h5entrustweb", "SYSTEMERROR").await;
    let a = get(&app, H5_PARTNER, &h5q(&partner_h5_base("NEWP1"))).await;
    check("partner", &a, Expect::ResultMsg("SYSTEMERROR"));

    // Only authenticated calls spend a fault: a bad sign is answered SIGN_ERROR, the fault waits.
    add_fault(&app, "querycontract", "SYSTEMERROR").await;
    let bad = xml::write(&signed_with(&q_base(&[("contract_id", &id)]), WRONG_KEY, SignType::Md5));
    check("bad sign", &post(&app, QUERY, bad).await, Expect::ErrCode("SIGN_ERROR"));
    assert_eq!(remaining_faults(&app).await, 1);
    check(
        "spent",
        &post(&app, QUERY, query_body.clone()).await,
        Expect::ErrCode("SYSTEMERROR"),
    );
    assert_eq!(remaining_faults(&app).await, 0);

    // APIv2 has no signature probe: SIGNTEST on a v2 endpoint is refused.
    for endpoint in ["h5entrustweb", "querycontract", "deletecontract"] {
        let (status, err) = app
            .control(
                "POST",
                &format!("/sandbox/v1/merchants/{MCHID}/faults"),
                Some(json!({"endpoint": endpoint, "kind": "SIGNTEST", "count": 1})),
            )
            .await;
        assert_eq!(
            (status, err["code"].as_str()),
            (400, Some("PARAM_ERROR")),
            "{endpoint}: {err}"
        );
    }
    assert_eq!(remaining_faults(&app).await, 0);

    // Nothing pending: the calls go through.
    let a = post(&app, QUERY, query_body).await;
    assert_eq!(a.get("result_code"), Some("SUCCESS"), "{}", a.body);
    let a = post(&app, DELETE, delete_body).await;
    assert_eq!(a.get("result_code"), Some("SUCCESS"), "{}", a.body);
}

// ---------------------------------------------------------------------------------------------
// The merchant's virtual clock
// ---------------------------------------------------------------------------------------------

/// APIv3 checks a request's timestamp against real time, whatever the merchant's virtual
/// clock says (control_clock_faults.rs); an h5entrustweb `timestamp` is the merchant's real
/// "now" too, so it must stay acceptable when the merchant's clock is moved ahead.
#[tokio::test]
async fn v2_h5entrustweb_timestamp_is_real_time_under_a_virtual_clock() {
    let app = spawn_app().await;
    let (status, clock) = app
        .control(
            "POST",
            &format!("/sandbox/v1/merchants/{MCHID}/clock/advance"),
            Some(json!({"by": "2h"})),
        )
        .await;
    assert_eq!(status, 200, "{clock}");
    // APIv3 still accepts real-time requests.
    app.client().presign_jsapi(&jsapi("CLOCK3")).await.unwrap();
    // So must v2.
    let redirect = v2_client(&app).h5entrustweb(&h5_request("CLOCK2", 4001)).await;
    assert!(redirect.is_ok(), "{redirect:?}");
}
