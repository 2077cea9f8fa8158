//! The v2 client without a server: requests are checked against the protocol crate's own
//! parsers and verifier, answers and notifications are built with its builders.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use papay_protocol::v2::papay::{
    self, business_fail, deletecontract_success, h5entrustweb_fail, h5entrustweb_success, notification,
    querycontract_success, return_fail, with_sign, Ack, DeleteContract, H5EntrustWeb, QueryContract, V2Contract,
    Variant,
};
use papay_protocol::v2::{query, sign, xml, Params};
use time::macros::datetime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const OTHER_KEY: &str = "192006250b4c09247ec02edce69f6a2e";
const WORKED_SIGN: &str = "1C47E24EC575F981FE13DF3CE7EE0C4ECD6AE29DA534A5AEA3D7CDBF46EE73D9";

fn key() -> V2ApiKey {
    V2ApiKey::parse(KEY).unwrap()
}

fn other_key() -> V2ApiKey {
    V2ApiKey::parse(OTHER_KEY).unwrap()
}

fn client() -> V2Client {
    V2Client::new("https://api.mch.weixin.qq.com", "1200009811", key()).unwrap()
}

/// The §5.2 worked example.
fn worked_request() -> H5EntrustWebRequest {
    let mut r = H5EntrustWebRequest::new(
        "wxcbda96de0b165486",
        "12535",
        "100000",
        1000,
        "微信代扣",
        "https://weixin.qq.com/papay/notify",
        "119.145.83.6",
    );
    r.timestamp = 1414488825;
    r.sign_type = Some(SignType::HmacSha256);
    r
}

fn query_of(url: &str) -> (&str, &str) {
    url.split_once('?').unwrap()
}

fn contract() -> V2Contract {
    V2Contract {
        appid: "wxcbda96de0b165486".into(),
        mch_id: "1200009811".into(),
        sub_mch_id: None,
        sub_appid: None,
        sub_openid: None,
        contract_id: "Wx15463511252015071056489715".into(),
        plan_id: "12535".into(),
        contract_code: "100000".into(),
        request_serial: 1000,
        contract_display_account: "微信代扣".into(),
        contract_state: ContractState::Signed,
        contract_signed_time: "2015-07-01 10:00:00".into(),
        contract_expired_time: "2018-07-01 10:00:00".into(),
        contract_terminated_time: None,
        contract_termination_mode: None,
        contract_termination_remark: None,
        openid: "onqOjjmM1tad-3ROpncN-yUfa6ua".into(),
    }
}

fn terminated() -> V2Contract {
    V2Contract {
        contract_state: ContractState::Terminated,
        contract_terminated_time: Some("2016-01-02 03:04:05".into()),
        contract_termination_mode: Some(TerminationMode::MerchantApi),
        contract_termination_remark: Some("用户要求".into()),
        ..contract()
    }
}

fn signed_xml(p: Params, k: &str, t: SignType) -> Vec<u8> {
    xml::write(&with_sign(p, k, t)).into_bytes()
}

fn decode_err(r: Result<impl std::fmt::Debug, Error>, needle: &str) {
    match r {
        Err(Error::Decode(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
        other => panic!("expected Decode containing {needle:?}, got {other:?}"),
    }
}

fn verification_err(r: Result<impl std::fmt::Debug, Error>) {
    assert!(matches!(r, Err(Error::Verification(_))), "{r:?}");
}

// ---- configuration ----------------------------------------------------------

#[test]
fn new_checks_the_base_url_and_keeps_a_path_prefix() {
    for bad in ["not a url", "ftp://x", "https://x/?a=1", "https://x/#f"] {
        assert!(matches!(V2Client::new(bad, "1", key()), Err(Error::Config(_))), "{bad}");
    }
    assert!(matches!(V2Client::new("https://x", "", key()), Err(Error::Config(_))));
    let c = V2Client::new("http://127.0.0.1:8080/sandbox/", "1", key()).unwrap();
    assert_eq!(c.base_url(), "http://127.0.0.1:8080/sandbox");
    assert!(c
        .h5entrustweb_url(&worked_request())
        .starts_with("http://127.0.0.1:8080/sandbox/papay/h5entrustweb?"));
}

#[test]
fn the_key_never_shows() {
    let c = client();
    assert!(!format!("{c:?}").contains(KEY));
    assert!(format!("{c:?}").contains("V2ApiKey(…redacted…)"));
}

// ---- h5entrustweb -------------------------------------------------------------

#[test]
fn worked_example_url_is_exact() {
    let url = client().h5entrustweb_url(&worked_request());
    assert_eq!(
        url,
        format!(
            "https://api.mch.weixin.qq.com/papay/h5entrustweb?appid=wxcbda96de0b165486&mch_id=1200009811\
             &plan_id=12535&contract_code=100000&request_serial=1000\
             &contract_display_account=%E5%BE%AE%E4%BF%A1%E4%BB%A3%E6%89%A3\
             &notify_url=https%3A%2F%2Fweixin.qq.com%2Fpapay%2Fnotify&version=1.0&sign_type=HMAC-SHA256\
             &timestamp=1414488825&clientip=119.145.83.6&sign={WORKED_SIGN}"
        )
    );
}

#[test]
fn worked_example_url_decodes_verifies_and_parses() {
    let url = client().h5entrustweb_url(&worked_request());
    let (path, raw) = query_of(&url);
    assert!(path.ends_with("/papay/h5entrustweb"));
    let p = query::decode(raw).unwrap();
    assert_eq!(p.get("sign"), Some(WORKED_SIGN));
    let declared = sign::sign_type_param(&p).unwrap();
    assert_eq!(sign::verify(&p, KEY, declared), Ok(SignType::HmacSha256));
    assert_eq!(sign::verify(&p, KEY, None), Ok(SignType::HmacSha256));
    let parsed = H5EntrustWeb::parse(&p, Variant::Direct).unwrap();
    assert_eq!(parsed.contract_display_account, "微信代扣");
    assert_eq!(parsed.sign_type, Some(SignType::HmacSha256));
    assert_eq!(p, client().h5entrustweb_params(&worked_request()));
}

#[test]
fn unsent_sign_type_uses_the_explicit_algorithm() {
    for t in [SignType::HmacSha256, SignType::Md5] {
        let mut r = worked_request();
        r.sign_type = None;
        r.unsent_sign_type = t;
        assert_eq!(r.algorithm(), t);
        let p = client().h5entrustweb_params(&r);
        assert_eq!(p.get("sign_type"), None);
        assert_eq!(sign::verify(&p, KEY, None), Ok(t));
    }
    // Declared sign_type wins over the fallback.
    let mut r = worked_request();
    r.sign_type = Some(SignType::Md5);
    r.unsent_sign_type = SignType::HmacSha256;
    let p = client().h5entrustweb_params(&r);
    assert_eq!(p.get("sign_type"), Some("MD5"));
    assert_eq!(sign::verify(&p, KEY, Some(SignType::Md5)), Ok(SignType::Md5));
}

#[test]
fn partner_and_optional_fields() {
    let mut r = worked_request();
    r.sub = Some(SubMerchant {
        sub_mch_id: "1900000109".into(),
        sub_appid: Some("wxsub".into()),
    });
    r.return_appid = Some("wxcbda96de0b165542".into());
    r.risk.mobile = Some("13800000000".into());
    r.risk.email = Some(String::new()); // empty ⇒ not sent
    let url = client().h5entrustweb_url(&r);
    let (path, raw) = query_of(&url);
    assert_eq!(path, "https://api.mch.weixin.qq.com/papay/partner/h5entrustweb");
    let p = query::decode(raw).unwrap();
    let names: Vec<&str> = p.iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "appid",
            "mch_id",
            "sub_mch_id",
            "sub_appid",
            "plan_id",
            "contract_code",
            "request_serial",
            "contract_display_account",
            "notify_url",
            "version",
            "sign_type",
            "timestamp",
            "clientip",
            "mobile",
            "return_appid",
            "sign"
        ]
    );
    assert_eq!(
        sign::verify(&p, KEY, Some(SignType::HmacSha256)),
        Ok(SignType::HmacSha256)
    );
    let parsed = H5EntrustWeb::parse(&p, Variant::Partner).unwrap();
    assert_eq!(parsed.sub_merchant.unwrap().sub_appid.as_deref(), Some("wxsub"));
    assert_eq!(parsed.return_appid.as_deref(), Some("wxcbda96de0b165542"));
}

#[test]
fn new_request_defaults() {
    let r = H5EntrustWebRequest::new("a", "1", "c", 1, "d", "https://n", "1.2.3.4");
    assert_eq!(r.sign_type, Some(SignType::HmacSha256));
    assert_eq!(r.unsent_sign_type, SignType::HmacSha256);
    assert!(r.timestamp > 1_600_000_000);
    assert!(r.sub.is_none() && r.return_appid.is_none() && r.risk == RiskInfo::default());
}

#[test]
fn h5entrustweb_answers() {
    let k = key();
    let ok = xml::write(&h5entrustweb_success("https://pay.example/redirect?s=1#/x"));
    assert_eq!(
        parse_h5entrustweb_answer(ok.as_bytes(), &k).unwrap(),
        "https://pay.example/redirect?s=1#/x"
    );
    // A sign is not required, but one that is present must verify (either algorithm).
    for t in [SignType::Md5, SignType::HmacSha256] {
        let signed = signed_xml(h5entrustweb_success("https://r"), KEY, t);
        assert_eq!(parse_h5entrustweb_answer(&signed, &k).unwrap(), "https://r");
        verification_err(parse_h5entrustweb_answer(&signed, &other_key()));
    }
    match parse_h5entrustweb_answer(xml::write(&h5entrustweb_fail("SIGN_ERROR")).as_bytes(), &k) {
        Err(Error::V2Business { err_code, err_code_des }) => {
            assert_eq!(err_code, "SIGN_ERROR");
            assert_eq!(err_code_des, "");
        }
        other => panic!("{other:?}"),
    }
    match parse_h5entrustweb_answer(xml::write(&return_fail("PARAM_ERROR")).as_bytes(), &k) {
        Err(Error::V2Return { return_msg }) => assert_eq!(return_msg, "PARAM_ERROR"),
        other => panic!("{other:?}"),
    }
    let no_url: Params = [("return_code", "SUCCESS"), ("result_code", "SUCCESS")]
        .into_iter()
        .collect();
    decode_err(
        parse_h5entrustweb_answer(xml::write(&no_url).as_bytes(), &k),
        "`redirect_url` is missing",
    );
    decode_err(parse_h5entrustweb_answer(b"<html>oops</html>", &k), "not v2 XML");
    decode_err(parse_h5entrustweb_answer(b"{\"code\":1}", &k), "not v2 XML");
}

// ---- querycontract / deletecontract requests -----------------------------------

#[test]
fn querycontract_bodies_are_signed_md5_and_valid() {
    let c = client();
    let by_id = QueryContractRequest::by_contract_id("wxcbda96de0b165486", "Wx1546");
    let p = xml::parse(c.querycontract_body(&by_id).as_bytes(), &Default::default()).unwrap();
    let names: Vec<&str> = p.iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["appid", "mch_id", "contract_id", "version", "sign"]);
    assert_eq!(sign::verify(&p, KEY, Some(SignType::Md5)), Ok(SignType::Md5));
    assert_eq!(p.get("sign").map(str::len), Some(32));
    let q = QueryContract::parse(&p, Variant::Direct).unwrap();
    assert_eq!(q.selector, ContractSelector::ContractId("Wx1546".into()));

    let mut by_code = QueryContractRequest::by_plan_and_code("wxcbda96de0b165486", "12535", "100000");
    by_code.sub = Some(SubMerchant {
        sub_mch_id: "1900000109".into(),
        sub_appid: None,
    });
    let p = xml::parse(c.querycontract_body(&by_code).as_bytes(), &Default::default()).unwrap();
    let names: Vec<&str> = p.iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "appid",
            "mch_id",
            "sub_mch_id",
            "plan_id",
            "contract_code",
            "version",
            "sign"
        ]
    );
    assert_eq!(sign::verify(&p, KEY, Some(SignType::Md5)), Ok(SignType::Md5));
    let q = QueryContract::parse(&p, Variant::Partner).unwrap();
    assert_eq!(q.sub_merchant.unwrap().sub_mch_id, "1900000109");
}

#[test]
fn deletecontract_bodies_are_signed_md5_and_valid() {
    let req = DeleteContractRequest::new(
        "wxcbda96de0b165486",
        ContractSelector::ContractId("Wx1546".into()),
        "用户要求 <解约> ]]> &",
    );
    let p = xml::parse(client().deletecontract_body(&req).as_bytes(), &Default::default()).unwrap();
    assert_eq!(sign::verify(&p, KEY, Some(SignType::Md5)), Ok(SignType::Md5));
    let d = DeleteContract::parse(&p, Variant::Direct).unwrap();
    assert_eq!(d.contract_termination_remark, "用户要求 <解约> ]]> &");
}

// ---- querycontract / deletecontract answers -------------------------------------

#[test]
fn querycontract_success_is_read_after_verifying() {
    let body = signed_xml(querycontract_success(&contract()), KEY, SignType::Md5);
    let info = parse_querycontract_answer(&body, &key()).unwrap();
    assert_eq!(
        info,
        V2ContractInfo {
            mch_id: "1200009811".into(),
            appid: "wxcbda96de0b165486".into(),
            sub_mch_id: None,
            sub_appid: None,
            sub_openid: None,
            contract_id: "Wx15463511252015071056489715".into(),
            plan_id: "12535".into(),
            contract_code: "100000".into(),
            request_serial: 1000,
            contract_display_account: "微信代扣".into(),
            contract_state: ContractState::Signed,
            contract_signed_time: datetime!(2015-07-01 10:00:00 +8),
            contract_expired_time: datetime!(2018-07-01 02:00:00 UTC),
            contract_terminated_time: None,
            contract_termination_mode: None,
            contract_termination_remark: None,
            openid: "onqOjjmM1tad-3ROpncN-yUfa6ua".into(),
        }
    );
    assert_eq!(info.contract_signed_time.offset(), papay_protocol::time_format::BEIJING);
}

#[test]
fn querycontract_terminated_partner_contract() {
    let c = V2Contract {
        sub_mch_id: Some("1900000109".into()),
        sub_appid: Some("wxsub".into()),
        sub_openid: Some("subopenid".into()),
        ..terminated()
    };
    let body = signed_xml(querycontract_success(&c), KEY, SignType::Md5);
    let info = parse_querycontract_answer(&body, &key()).unwrap();
    assert_eq!(info.contract_state, ContractState::Terminated);
    assert_eq!(info.contract_terminated_time, Some(datetime!(2016-01-02 03:04:05 +8)));
    assert_eq!(info.contract_termination_mode, Some(TerminationMode::MerchantApi));
    assert_eq!(info.contract_termination_remark.as_deref(), Some("用户要求"));
    assert_eq!(info.sub_mch_id.as_deref(), Some("1900000109"));
    assert_eq!(info.sub_openid.as_deref(), Some("subopenid"));
}

#[test]
fn querycontract_failures() {
    let k = key();
    match parse_querycontract_answer(xml::write(&return_fail("签名错误")).as_bytes(), &k) {
        Err(Error::V2Return { return_msg }) => assert_eq!(return_msg, "签名错误"),
        other => panic!("{other:?}"),
    }
    let fail = xml::write(&business_fail("CONTRACT_NOT_EXIST", "签约协议不存在"));
    match parse_querycontract_answer(fail.as_bytes(), &k) {
        Err(Error::V2Business { err_code, err_code_des }) => {
            assert_eq!(err_code, "CONTRACT_NOT_EXIST");
            assert_eq!(err_code_des, "签约协议不存在");
        }
        other => panic!("{other:?}"),
    }
    // Success with a wrong key, an HMAC sign, a tampered field, or no sign at all.
    let ok = querycontract_success(&contract());
    verification_err(parse_querycontract_answer(
        &signed_xml(ok.clone(), OTHER_KEY, SignType::Md5),
        &k,
    ));
    verification_err(parse_querycontract_answer(
        &signed_xml(ok.clone(), KEY, SignType::HmacSha256),
        &k,
    ));
    let tampered = String::from_utf8(signed_xml(ok.clone(), KEY, SignType::Md5))
        .unwrap()
        .replace("<![CDATA[1000]]>", "<![CDATA[1001]]>");
    verification_err(parse_querycontract_answer(tampered.as_bytes(), &k));
    match parse_querycontract_answer(xml::write(&ok).as_bytes(), &k) {
        Err(Error::Verification(m)) => assert!(m.contains("no `sign`"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn querycontract_malformed_answers() {
    let k = key();
    decode_err(parse_querycontract_answer(b"", &k), "not v2 XML");
    decode_err(parse_querycontract_answer(b"<xml><a><b/></a></xml>", &k), "not v2 XML");
    let no_return: Params = [("result_code", "SUCCESS")].into_iter().collect();
    decode_err(
        parse_querycontract_answer(xml::write(&no_return).as_bytes(), &k),
        "`return_code` is missing",
    );
    let odd: Params = [("return_code", "OK")].into_iter().collect();
    decode_err(
        parse_querycontract_answer(xml::write(&odd).as_bytes(), &k),
        "expected SUCCESS or FAIL",
    );

    // Signed but with unreadable fields: each error names the field.
    let with = |field: &str, value: &str| {
        let p: Params = querycontract_success(&terminated())
            .into_iter()
            .map(|(k, v)| if k == field { (k, value.to_owned()) } else { (k, v) })
            .collect();
        parse_querycontract_answer(&signed_xml(p, KEY, SignType::Md5), &key())
    };
    decode_err(with("contract_state", "9"), "`contract_state` is `9`");
    decode_err(
        with("contract_termination_mode", "6"),
        "`contract_termination_mode` is `6`",
    );
    decode_err(
        with("contract_signed_time", "2015-07-01T10:00:00"),
        "`contract_signed_time`",
    );
    decode_err(with("request_serial", "x"), "`request_serial`");
    decode_err(with("contract_id", ""), "`contract_id` is missing");
    let long = "9".repeat(500);
    match with("request_serial", &long) {
        Err(Error::Decode(m)) => assert!(m.len() < 200, "{m}"),
        other => panic!("{other:?}"),
    }
    // `0` is "not terminated".
    assert_eq!(
        with("contract_termination_mode", "0")
            .unwrap()
            .contract_termination_mode,
        None
    );
}

#[test]
fn deletecontract_answers() {
    let k = key();
    let c = V2Contract {
        sub_mch_id: Some("1900000109".into()),
        ..contract()
    };
    let info = parse_deletecontract_answer(&signed_xml(deletecontract_success(&c), KEY, SignType::Md5), &k).unwrap();
    assert_eq!(
        info,
        DeleteContractInfo {
            appid: "wxcbda96de0b165486".into(),
            mch_id: "1200009811".into(),
            sub_mch_id: Some("1900000109".into()),
            contract_id: "Wx15463511252015071056489715".into(),
            plan_id: "12535".into(),
            contract_code: "100000".into(),
        }
    );
    verification_err(parse_deletecontract_answer(
        &signed_xml(deletecontract_success(&c), OTHER_KEY, SignType::Md5),
        &k,
    ));
    verification_err(parse_deletecontract_answer(
        xml::write(&deletecontract_success(&c)).as_bytes(),
        &k,
    ));
    assert!(matches!(
        parse_deletecontract_answer(xml::write(&business_fail("CONTRACT_NOT_EXIST", "")).as_bytes(), &k),
        Err(Error::V2Business { .. })
    ));
    assert!(matches!(
        parse_deletecontract_answer(xml::write(&return_fail("XML_FORMAT_ERROR")).as_bytes(), &k),
        Err(Error::V2Return { .. })
    ));
    decode_err(
        parse_deletecontract_answer(b"not xml", &k),
        "deletecontract answer is not v2 XML",
    );
}

// ---- notifications ---------------------------------------------------------------

#[test]
fn signing_notification_verifies_and_parses() {
    let body = signed_xml(
        notification(&contract(), ChangeType::Add, "2015-07-01 10:00:00"),
        KEY,
        SignType::HmacSha256,
    );
    let n = client().verify_notification(&body).unwrap();
    assert_eq!(n.sign_type, SignType::HmacSha256);
    assert_eq!(n.change_type, ChangeType::Add);
    assert_eq!(n.mch_id, "1200009811");
    assert_eq!(n.contract_id, "Wx15463511252015071056489715");
    assert_eq!(n.contract_code, "100000");
    assert_eq!(n.plan_id, "12535");
    assert_eq!(n.openid, "onqOjjmM1tad-3ROpncN-yUfa6ua");
    assert_eq!(n.request_serial, 1000);
    assert_eq!(n.operate_time, datetime!(2015-07-01 10:00:00 +8));
    assert_eq!(n.contract_expired_time, Some(datetime!(2018-07-01 10:00:00 +8)));
    assert_eq!(n.contract_termination_mode, None);
    assert_eq!(n.appid.as_deref(), Some("wxcbda96de0b165486"));
    assert_eq!(n.contract_display_account.as_deref(), Some("微信代扣"));
    assert_eq!(n.contract_state, Some(ContractState::Signed));
    assert_eq!(n.contract_signed_time, Some(datetime!(2015-07-01 10:00:00 +8)));
    assert_eq!(n.params.get("return_code"), Some("SUCCESS"));
}

#[test]
fn termination_notification_md5() {
    let body = signed_xml(
        notification(&terminated(), ChangeType::Delete, "2016-01-02 03:04:05"),
        KEY,
        SignType::Md5,
    );
    let n = parse_notification(&body, &key()).unwrap();
    assert_eq!(n.sign_type, SignType::Md5);
    assert_eq!(n.change_type, ChangeType::Delete);
    assert_eq!(n.contract_termination_mode, Some(TerminationMode::MerchantApi));
    assert_eq!(n.contract_state, Some(ContractState::Terminated));
    assert_eq!(n.contract_terminated_time, Some(datetime!(2016-01-02 03:04:05 +8)));
    assert_eq!(n.contract_termination_remark.as_deref(), Some("用户要求"));
}

/// The §5.5 example's fields (a partner notification without `contract_expired_time`),
/// signed with our key since the example's key is unknown.
#[test]
fn official_example_fields_parse() {
    let p: Params = [
        ("return_code", "SUCCESS"),
        ("result_code", "SUCCESS"),
        ("mch_id", "10010404"),
        ("sub_mch_id", "10010405"),
        ("contract_code", "100001256"),
        ("openid", "onqOjjmM1tad-3ROpncN-yUfa6ua"),
        ("plan_id", "123"),
        ("change_type", "ADD"),
        ("operate_time", "2015-07-01 10:00:00"),
        ("contract_id", "Wx15463511252015071056489715"),
        ("request_serial", "1000"),
    ]
    .into_iter()
    .collect();
    let n = parse_notification(&signed_xml(p, KEY, SignType::Md5), &key()).unwrap();
    assert_eq!(n.sub_mch_id.as_deref(), Some("10010405"));
    assert_eq!(n.contract_expired_time, None);
    assert_eq!(n.appid, None);
    assert_eq!(n.contract_state, None);
}

#[test]
fn notification_refusals() {
    let c = client();
    let unsigned = notification(&contract(), ChangeType::Add, "2015-07-01 10:00:00");
    let good = String::from_utf8(signed_xml(unsigned.clone(), KEY, SignType::HmacSha256)).unwrap();

    let tampered = good.replace("<![CDATA[100000]]>", "<![CDATA[100001]]>");
    assert_ne!(tampered, good);
    verification_err(c.verify_notification(tampered.as_bytes()));

    verification_err(parse_notification(good.as_bytes(), &other_key()));

    match c.verify_notification(xml::write(&unsigned).as_bytes()) {
        Err(Error::Verification(m)) => assert!(m.contains("no `sign`"), "{m}"),
        other => panic!("{other:?}"),
    }
    // A sign of neither length cannot verify.
    let mut odd = unsigned.clone();
    odd.push("sign", "ABC");
    verification_err(c.verify_notification(xml::write(&odd).as_bytes()));

    for bad in [
        &b"<xml><mch_id>1</mch_id>"[..],
        b"<!DOCTYPE xml [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><xml><a>&e;</a></xml>",
        b"<xml><a>1</a><a>2</a></xml>",
        b"\xff\xfe",
        b"",
    ] {
        decode_err(c.verify_notification(bad), "v2 notification is not v2 XML");
    }

    let with = |field: &str, value: &str| {
        let p: Params = unsigned
            .clone()
            .into_iter()
            .map(|(k, v)| if k == field { (k, value.to_owned()) } else { (k, v) })
            .collect();
        c.verify_notification(&signed_xml(p, KEY, SignType::Md5))
    };
    decode_err(with("change_type", "MODIFY"), "`change_type` is `MODIFY`");
    decode_err(with("operate_time", "yesterday"), "`operate_time`");
    decode_err(with("request_serial", ""), "`request_serial` is missing");
    decode_err(with("contract_state", "2"), "`contract_state`");
}

#[test]
fn errors_never_show_the_key() {
    let c = client();
    let unsigned = notification(&contract(), ChangeType::Add, "2015-07-01 10:00:00");
    let errors = [
        c.verify_notification(&signed_xml(unsigned.clone(), OTHER_KEY, SignType::Md5))
            .unwrap_err(),
        c.verify_notification(b"junk").unwrap_err(),
        parse_querycontract_answer(
            &signed_xml(querycontract_success(&contract()), OTHER_KEY, SignType::Md5),
            &key(),
        )
        .unwrap_err(),
        V2ApiKey::parse(&format!("{KEY}x")).unwrap_err(),
    ];
    for e in errors {
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(KEY), "{shown}");
    }
}

#[test]
fn acknowledgements() {
    assert_eq!(
        ack_success(),
        "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
    );
    assert_eq!(papay::parse_ack(ack_success().as_bytes()), Ack::Acknowledged);
    let fail = ack_fail("签名错误 ]]> <x>");
    assert!(!papay::parse_ack(fail.as_bytes()).is_acknowledged());
    let p = xml::parse(fail.as_bytes(), &Default::default()).unwrap();
    assert_eq!(p.get("return_code"), Some("FAIL"));
    assert_eq!(p.get("return_msg"), Some("签名错误 ]]> <x>"));
}

// ---- loopback ----------------------------------------------------------------------

/// Serves one raw HTTP answer on a fresh port; yields the request as received.
async fn serve_once(status: &str, body: Vec<u8>) -> (String, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let status = status.to_owned();
    let task = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = sock.read(&mut buf).await.unwrap();
            req.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&req).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if req.len() >= end + 4 + len {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        sock.write_all(head.as_bytes()).await.unwrap();
        sock.write_all(&body).await.unwrap();
        sock.shutdown().await.unwrap();
        String::from_utf8_lossy(&req).into_owned()
    });
    (base, task)
}

#[tokio::test]
async fn loopback_querycontract() {
    let answer = signed_xml(querycontract_success(&contract()), KEY, SignType::Md5);
    let (base, server) = serve_once("200 OK", answer).await;
    let c = V2Client::new(base, "1200009811", key()).unwrap();
    let info = c
        .query_contract(&QueryContractRequest::by_contract_id("wxcbda96de0b165486", "Wx1546"))
        .await
        .unwrap();
    assert_eq!(info.contract_id, "Wx15463511252015071056489715");
    let req = server.await.unwrap();
    assert!(req.starts_with("POST /papay/querycontract HTTP/1.1\r\n"), "{req}");
    assert!(req.to_ascii_lowercase().contains("content-type: text/xml"), "{req}");
    let body = &req[req.find("\r\n\r\n").unwrap() + 4..];
    let p = xml::parse(body.as_bytes(), &Default::default()).unwrap();
    assert_eq!(sign::verify(&p, KEY, Some(SignType::Md5)), Ok(SignType::Md5));
}

#[tokio::test]
async fn loopback_h5entrustweb_and_partner_delete() {
    let (base, server) = serve_once("200 OK", xml::write(&h5entrustweb_success("https://r/x")).into_bytes()).await;
    let c = V2Client::new(base, "1200009811", key()).unwrap();
    assert_eq!(c.h5entrustweb(&worked_request()).await.unwrap(), "https://r/x");
    let req = server.await.unwrap();
    assert!(
        req.starts_with("GET /papay/h5entrustweb?appid=wxcbda96de0b165486&"),
        "{req}"
    );
    assert!(req.contains(WORKED_SIGN));

    let c2 = contract();
    let (base, server) = serve_once("200 OK", signed_xml(deletecontract_success(&c2), KEY, SignType::Md5)).await;
    let c = V2Client::new(base, "1200009811", key()).unwrap();
    let mut req = DeleteContractRequest::new("wxcbda96de0b165486", ContractSelector::ContractId("Wx1".into()), "bye");
    req.sub = Some(SubMerchant {
        sub_mch_id: "1900000109".into(),
        sub_appid: None,
    });
    assert_eq!(c.delete_contract(&req).await.unwrap().contract_code, "100000");
    assert!(server
        .await
        .unwrap()
        .starts_with("POST /papay/partner/deletecontract HTTP/1.1\r\n"));
}

#[tokio::test]
async fn loopback_non_200_is_an_error() {
    let (base, server) = serve_once("502 Bad Gateway", b"<html>upstream down</html>".to_vec()).await;
    let c = V2Client::new(base, "1200009811", key()).unwrap();
    let r = c
        .query_contract(&QueryContractRequest::by_contract_id("wx", "Wx1"))
        .await;
    match r {
        Err(Error::V2Status { status, body }) => {
            assert_eq!(status, 502);
            assert!(body.contains("upstream down"));
        }
        other => panic!("{other:?}"),
    }
    server.await.unwrap();
}
