//! Table-driven tests of the v2 papay wire layer against PROTOCOL.md §5.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use super::*;
use crate::v2::sign::{self, string_a, SignType};
use crate::v2::xml::{self, Limits};
use crate::v2::Params;

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

/// The §5.2 worked example, in its query-string order, without `sign`.
fn h5_example() -> Params {
    [
        ("appid", "wxcbda96de0b165486"),
        ("mch_id", "1200009811"),
        ("plan_id", "12535"),
        ("contract_code", "100000"),
        ("request_serial", "1000"),
        ("contract_display_account", "微信代扣"),
        ("notify_url", "https://weixin.qq.com/papay/notify"),
        ("version", "1.0"),
        ("sign_type", "HMAC-SHA256"),
        ("timestamp", "1414488825"),
        ("clientip", "119.145.83.6"),
    ]
    .into_iter()
    .collect()
}

/// `base` with `field` replaced by `value` (`None` ⇒ removed; appended if absent).
fn with(base: &Params, field: &str, value: Option<&str>) -> Params {
    let mut out = Params::new();
    let mut seen = false;
    for (k, v) in base.iter() {
        if k == field {
            seen = true;
            if let Some(value) = value {
                out.push(k, value);
            }
        } else {
            out.push(k, v);
        }
    }
    if let (false, Some(value)) = (seen, value) {
        out.push(field, value);
    }
    out
}

fn partner(base: &Params) -> Params {
    with(base, "sub_mch_id", Some("1900000109"))
}

#[test]
fn h5_worked_example_signs_and_parses() {
    let p = h5_example();
    assert_eq!(
        string_a(&p),
        "appid=wxcbda96de0b165486&clientip=119.145.83.6&contract_code=100000&\
         contract_display_account=微信代扣&mch_id=1200009811&\
         notify_url=https://weixin.qq.com/papay/notify&plan_id=12535&request_serial=1000&\
         sign_type=HMAC-SHA256&timestamp=1414488825&version=1.0"
    );
    let signed = with_sign(p.clone(), KEY, SignType::HmacSha256);
    assert_eq!(
        signed.get("sign"),
        Some("1C47E24EC575F981FE13DF3CE7EE0C4ECD6AE29DA534A5AEA3D7CDBF46EE73D9")
    );
    assert_eq!(sign::verify(&signed, KEY, None), Ok(SignType::HmacSha256));

    let r = H5EntrustWeb::parse(&signed, Variant::Direct).unwrap();
    assert_eq!(r.appid, "wxcbda96de0b165486");
    assert_eq!(r.mch_id, "1200009811");
    assert_eq!(r.sub_merchant, None);
    assert_eq!(r.plan_id, "12535");
    assert_eq!(r.contract_code, "100000");
    assert_eq!(r.request_serial, 1000);
    assert_eq!(r.contract_display_account, "微信代扣");
    assert_eq!(r.notify_url, "https://weixin.qq.com/papay/notify");
    assert_eq!(r.sign_type, Some(SignType::HmacSha256));
    assert_eq!(r.timestamp, 1_414_488_825);
    assert_eq!(r.clientip, "119.145.83.6".parse::<IpAddr>().unwrap());
    assert_eq!(r.risk, RiskInfo::default());
    assert_eq!(r.return_appid, None);
}

#[test]
fn h5_optional_fields() {
    let mut p = with(&h5_example(), "sign_type", None);
    for (k, v) in [
        ("deviceid", "d"),
        ("mobile", "13800000000"),
        ("email", "a@b.c"),
        ("qq", "10000"),
        ("openid", "o1"),
        ("creid", "c"),
        ("outerid", "x"),
        ("return_appid", "wxcbda96de0b165542"),
        ("clientip", "2001:db8::1"),
        ("unknown_extra", "ignored"),
    ] {
        p = with(&p, k, Some(v));
    }
    let r = H5EntrustWeb::parse(&p, Variant::Direct).unwrap();
    assert_eq!(r.sign_type, None);
    assert_eq!(r.risk.mobile.as_deref(), Some("13800000000"));
    assert_eq!(r.risk.outerid.as_deref(), Some("x"));
    assert_eq!(r.return_appid.as_deref(), Some("wxcbda96de0b165542"));
    assert!(r.clientip.is_ipv6());
    // Empty optional values count as not sent.
    let r = H5EntrustWeb::parse(&with(&p, "return_appid", Some("")), Variant::Direct).unwrap();
    assert_eq!(r.return_appid, None);
    let r = H5EntrustWeb::parse(&with(&h5_example(), "sign_type", Some("MD5")), Variant::Direct).unwrap();
    assert_eq!(r.sign_type, Some(SignType::Md5));
}

#[test]
fn h5_partner_vs_direct() {
    let direct = h5_example();
    assert_eq!(
        H5EntrustWeb::parse(&direct, Variant::Partner),
        Err(V2ParamError {
            field: "sub_mch_id",
            issue: Issue::Missing
        })
    );
    let r = H5EntrustWeb::parse(&partner(&direct), Variant::Partner).unwrap();
    assert_eq!(
        r.sub_merchant,
        Some(SubMerchant {
            sub_mch_id: "1900000109".into(),
            sub_appid: None
        })
    );
    let r = H5EntrustWeb::parse(&with(&partner(&direct), "sub_appid", Some("wxsub")), Variant::Partner).unwrap();
    assert_eq!(r.sub_merchant.unwrap().sub_appid.as_deref(), Some("wxsub"));
    // On the direct API, sub_* are ignored extras.
    let r = H5EntrustWeb::parse(&partner(&direct), Variant::Direct).unwrap();
    assert_eq!(r.sub_merchant, None);
}

#[test]
fn h5_rules_one_row_each() {
    let long = |n: usize, c: &str| c.repeat(n);
    let url257 = format!("https://a/{}", long(247, "p"));
    let rows: Vec<(&str, Option<String>, Variant, Issue)> = vec![
        ("appid", None, Variant::Direct, Issue::Missing),
        ("appid", Some("".into()), Variant::Direct, Issue::Missing),
        (
            "appid",
            Some(long(33, "a")),
            Variant::Direct,
            Issue::TooLong { max: 32 },
        ),
        ("appid", Some("wx 1".into()), Variant::Direct, Issue::NotVisibleAscii),
        ("mch_id", None, Variant::Direct, Issue::Missing),
        (
            "mch_id",
            Some(long(33, "1")),
            Variant::Direct,
            Issue::TooLong { max: 32 },
        ),
        (
            "sub_mch_id",
            Some(long(33, "1")),
            Variant::Partner,
            Issue::TooLong { max: 32 },
        ),
        ("sub_appid", Some("微".into()), Variant::Partner, Issue::NotVisibleAscii),
        ("plan_id", None, Variant::Direct, Issue::Missing),
        ("plan_id", Some("12a".into()), Variant::Direct, Issue::NotDigits),
        (
            "plan_id",
            Some(long(29, "1")),
            Variant::Direct,
            Issue::TooLong { max: 28 },
        ),
        ("contract_code", None, Variant::Direct, Issue::Missing),
        (
            "contract_code",
            Some("ab-1".into()),
            Variant::Direct,
            Issue::NotAlphanumeric,
        ),
        (
            "contract_code",
            Some(long(129, "a")),
            Variant::Direct,
            Issue::TooLong { max: 128 },
        ),
        ("request_serial", None, Variant::Direct, Issue::Missing),
        (
            "request_serial",
            Some("0123".into()),
            Variant::Direct,
            Issue::LeadingZero,
        ),
        ("request_serial", Some("12x".into()), Variant::Direct, Issue::NotDigits),
        (
            "request_serial",
            Some("9223372036854775808".into()),
            Variant::Direct,
            Issue::OutOfRange,
        ),
        ("contract_display_account", None, Variant::Direct, Issue::Missing),
        (
            "contract_display_account",
            Some(long(129, "微")),
            Variant::Direct,
            Issue::TooLong { max: 128 },
        ),
        (
            "contract_display_account",
            Some("账号😀".into()),
            Variant::Direct,
            Issue::FourByteUtf8,
        ),
        ("notify_url", None, Variant::Direct, Issue::Missing),
        (
            "notify_url",
            Some("www.qq.com/test/papay".into()),
            Variant::Direct,
            Issue::NotHttpUrl,
        ),
        (
            "notify_url",
            Some("https://a/n?x=1".into()),
            Variant::Direct,
            Issue::HasQuery,
        ),
        ("notify_url", Some(url257), Variant::Direct, Issue::TooLong { max: 256 }),
        ("version", None, Variant::Direct, Issue::Missing),
        (
            "version",
            Some("2.0".into()),
            Variant::Direct,
            Issue::WrongValue { expected: "1.0" },
        ),
        ("sign_type", Some("md5".into()), Variant::Direct, Issue::UnknownSignType),
        ("timestamp", None, Variant::Direct, Issue::Missing),
        (
            "timestamp",
            Some("141448882".into()),
            Variant::Direct,
            Issue::WrongLength { expected: 10 },
        ),
        (
            "timestamp",
            Some("14144888250".into()),
            Variant::Direct,
            Issue::WrongLength { expected: 10 },
        ),
        (
            "timestamp",
            Some("1414488x25".into()),
            Variant::Direct,
            Issue::NotDigits,
        ),
        ("clientip", None, Variant::Direct, Issue::Missing),
        ("clientip", Some("1.2.3".into()), Variant::Direct, Issue::NotIpAddress),
        (
            "clientip",
            Some("localhost".into()),
            Variant::Direct,
            Issue::NotIpAddress,
        ),
        (
            "return_appid",
            Some(long(33, "w")),
            Variant::Direct,
            Issue::TooLong { max: 32 },
        ),
    ];
    for (field, value, variant, issue) in rows {
        let p = with(&partner(&h5_example()), field, value.as_deref());
        let got = H5EntrustWeb::parse(&p, variant);
        assert_eq!(got, Err(V2ParamError { field, issue }), "{field} = {value:?}");
    }
}

#[test]
fn h5_timestamp_window() {
    let r = H5EntrustWeb::parse(&h5_example(), Variant::Direct).unwrap();
    let ts = r.timestamp;
    for now in [ts, ts - 600, ts + 600] {
        assert_eq!(r.check_timestamp(now), Ok(()), "{now}");
    }
    for now in [ts - 601, ts + 601, 0, i64::MAX, i64::MIN] {
        assert_eq!(
            r.check_timestamp(now),
            Err(V2ParamError {
                field: "timestamp",
                issue: Issue::Stale { window_secs: 600 }
            }),
            "{now}"
        );
    }
}

/// The §5.3 example body.
fn query_by_id() -> Params {
    [
        ("sign", "019C869758CC7F258C42F05CDB9EE361"),
        ("mch_id", "10000097"),
        ("appid", "wxf5b5e87a6a0fde94"),
        ("contract_id", "201509160000028648"),
        ("version", "1.0"),
    ]
    .into_iter()
    .collect()
}

fn query_by_code() -> Params {
    let p = with(&query_by_id(), "contract_id", None);
    let p = with(&p, "plan_id", Some("12535"));
    with(&p, "contract_code", Some("100000"))
}

#[test]
fn query_and_delete_modes() {
    let q = QueryContract::parse(&query_by_id(), Variant::Direct).unwrap();
    assert_eq!(q.selector, ContractSelector::ContractId("201509160000028648".into()));
    assert_eq!(
        (q.appid.as_str(), q.mch_id.as_str()),
        ("wxf5b5e87a6a0fde94", "10000097")
    );
    let q = QueryContract::parse(&query_by_code(), Variant::Direct).unwrap();
    assert_eq!(
        q.selector,
        ContractSelector::PlanAndCode {
            plan_id: "12535".into(),
            contract_code: "100000".into()
        }
    );
    let both = with(&query_by_code(), "contract_id", Some("1"));
    let neither = with(&query_by_code(), "plan_id", None);
    let neither = with(&neither, "contract_code", Some(""));
    let half_b = with(&query_by_code(), "contract_code", None);
    let half_b2 = with(&query_by_code(), "plan_id", None);
    let remark = |p: &Params| with(p, "contract_termination_remark", Some("用户要求解约"));
    for (p, field, issue) in [
        (both, "contract_id", Issue::BothModes),
        (neither, "contract_id", Issue::NoMode),
        (half_b, "contract_code", Issue::Missing),
        (half_b2, "plan_id", Issue::Missing),
    ] {
        let want = Err(V2ParamError { field, issue });
        assert_eq!(QueryContract::parse(&p, Variant::Direct).map(|_| ()), want);
        assert_eq!(DeleteContract::parse(&remark(&p), Variant::Direct).map(|_| ()), want);
    }
    let d = DeleteContract::parse(&remark(&query_by_id()), Variant::Direct).unwrap();
    assert_eq!(d.contract_termination_remark, "用户要求解约");
    assert_eq!(d.selector, ContractSelector::ContractId("201509160000028648".into()));
}

/// (base, field, value, variant, issue, applies to querycontract too)
type Row<'a> = (&'a Params, &'static str, Option<String>, Variant, Issue, bool);

#[test]
fn query_and_delete_rules_one_row_each() {
    let long = |n: usize, c: &str| c.repeat(n);
    let base = with(&query_by_id(), "contract_termination_remark", Some("r"));
    let by_code = with(&query_by_code(), "contract_termination_remark", Some("r"));
    let rows: Vec<Row> = vec![
        (&base, "appid", None, Variant::Direct, Issue::Missing, true),
        (
            &base,
            "appid",
            Some(long(33, "a")),
            Variant::Direct,
            Issue::TooLong { max: 32 },
            true,
        ),
        (&base, "mch_id", Some("".into()), Variant::Direct, Issue::Missing, true),
        (&base, "sub_mch_id", None, Variant::Partner, Issue::Missing, true),
        (
            &base,
            "contract_id",
            Some(long(33, "1")),
            Variant::Direct,
            Issue::TooLong { max: 32 },
            true,
        ),
        (
            &by_code,
            "plan_id",
            Some("x1".into()),
            Variant::Direct,
            Issue::NotDigits,
            true,
        ),
        (
            &by_code,
            "plan_id",
            Some(long(129, "1")),
            Variant::Direct,
            Issue::TooLong { max: 128 },
            true,
        ),
        (
            &by_code,
            "contract_code",
            Some(long(129, "c")),
            Variant::Direct,
            Issue::TooLong { max: 128 },
            true,
        ),
        (&base, "version", None, Variant::Direct, Issue::Missing, true),
        (
            &base,
            "version",
            Some("1.1".into()),
            Variant::Direct,
            Issue::WrongValue { expected: "1.0" },
            true,
        ),
        (
            &base,
            "contract_termination_remark",
            None,
            Variant::Direct,
            Issue::Missing,
            false,
        ),
        (
            &base,
            "contract_termination_remark",
            Some(long(513, "解")),
            Variant::Direct,
            Issue::TooLong { max: 512 },
            false,
        ),
    ];
    for (p, field, value, variant, issue, query_too) in rows {
        let p = with(p, field, value.as_deref());
        let want = Err(V2ParamError { field, issue });
        assert_eq!(
            DeleteContract::parse(&p, variant).map(|_| ()),
            want,
            "{field} = {value:?}"
        );
        let q = QueryContract::parse(&p, variant).map(|_| ());
        if query_too {
            assert_eq!(q, want, "query {field} = {value:?}");
        } else {
            assert_eq!(q, Ok(()), "query ignores {field}");
        }
    }
    // 512 characters is still fine.
    let p = with(&base, "contract_termination_remark", Some(&long(512, "解")));
    assert!(DeleteContract::parse(&p, Variant::Direct).is_ok());
}

#[test]
fn query_and_delete_partner() {
    let p = with(&partner(&query_by_id()), "sub_appid", Some("wxsub"));
    let q = QueryContract::parse(&p, Variant::Partner).unwrap();
    let sub = q.sub_merchant.unwrap();
    assert_eq!(
        (sub.sub_mch_id.as_str(), sub.sub_appid.as_deref()),
        ("1900000109", Some("wxsub"))
    );
    assert_eq!(QueryContract::parse(&p, Variant::Direct).unwrap().sub_merchant, None);
}

fn contract(state: ContractState) -> V2Contract {
    let terminated = state == ContractState::Terminated;
    V2Contract {
        appid: "wxcbda96de0b165486".into(),
        mch_id: "10010404".into(),
        sub_mch_id: Some("10010405".into()),
        sub_appid: None,
        sub_openid: Some("sub-open".into()),
        contract_id: "Wx15463511252015071056489715".into(),
        plan_id: "123".into(),
        contract_code: "100001256".into(),
        request_serial: 1000,
        contract_display_account: "微信代扣 <&]]>".into(),
        contract_state: state,
        contract_signed_time: "2015-07-01 10:00:00".into(),
        contract_expired_time: "2025-07-01 10:00:00".into(),
        contract_terminated_time: terminated.then(|| "2016-01-01 00:00:00".into()),
        contract_termination_mode: terminated.then_some(TerminationMode::MerchantApi),
        contract_termination_remark: terminated.then(|| "remark".into()),
        openid: "onqOjjmM1tad-3ROpncN-yUfa6ua".into(),
    }
}

fn names(p: &Params) -> Vec<&str> {
    p.iter().map(|(k, _)| k).collect()
}

/// `xml::write` then `xml::parse` gives the same parameters back.
fn round_trip(p: &Params) {
    let doc = xml::write(p);
    assert_eq!(&xml::parse(doc.as_bytes(), &Limits::default()).unwrap(), p, "{doc}");
}

#[test]
fn enum_codes() {
    assert_eq!(ContractState::Signed.as_code(), 0);
    assert_eq!(ContractState::Terminated.as_code(), 1);
    assert_eq!(ContractState::from_code(1), Some(ContractState::Terminated));
    assert_eq!(ContractState::from_code(9), None);
    let codes: Vec<u8> = (0..=9)
        .filter_map(TerminationMode::from_code)
        .map(|m| m.as_code())
        .collect();
    assert_eq!(codes, [1, 2, 3, 4, 5, 7]);
    assert_eq!(TerminationMode::MerchantApi.as_code(), 3);
    assert_eq!(TerminationMode::CustomerService.as_code(), 7);
    assert_eq!(ChangeType::Add.as_str(), "ADD");
    assert_eq!(ChangeType::Delete.as_str(), "DELETE");
}

#[test]
fn h5_responses() {
    let url = "https://api.mch.weixin.qq.com/papay/readentrustwebtemplate?type=index&session_id=17d1#/redirect";
    let ok = h5entrustweb_success(url);
    assert_eq!(names(&ok), ["return_code", "return_msg", "result_code", "redirect_url"]);
    assert_eq!(ok.get("redirect_url"), Some(url));
    round_trip(&ok);
    assert!(xml::write(&ok).contains("<return_msg><![CDATA[]]></return_msg>"));

    let fail = h5entrustweb_fail("SIGN_ERROR");
    assert_eq!(names(&fail), ["return_code", "return_msg", "result_code", "result_msg"]);
    assert_eq!(
        (fail.get("return_code"), fail.get("result_code")),
        (Some("SUCCESS"), Some("FAIL"))
    );
    round_trip(&fail);

    let rf = return_fail("PARAM_ERROR: `plan_id` must contain digits only");
    assert_eq!(names(&rf), ["return_code", "return_msg"]);
    assert_eq!(rf.get("return_code"), Some("FAIL"));
    round_trip(&rf);
}

#[test]
fn query_and_delete_responses() {
    let c = contract(ContractState::Signed);
    let q = querycontract_success(&c);
    #[rustfmt::skip]
    let want = ["return_code", "return_msg", "result_code", "mch_id", "appid", "sub_mch_id", "sub_openid",
        "contract_id", "plan_id", "request_serial", "contract_code", "contract_display_account", "contract_state",
        "contract_signed_time", "contract_expired_time", "openid"];
    assert_eq!(names(&q), want);
    assert_eq!(q.get("contract_state"), Some("0"));
    round_trip(&q);

    let t = contract(ContractState::Terminated);
    let q = querycontract_success(&t);
    #[rustfmt::skip]
    let want = ["return_code", "return_msg", "result_code", "mch_id", "appid", "sub_mch_id", "sub_openid",
        "contract_id", "plan_id", "request_serial", "contract_code", "contract_display_account", "contract_state",
        "contract_signed_time", "contract_expired_time", "contract_terminated_time", "contract_termination_mode",
        "contract_termination_remark", "openid"];
    assert_eq!(names(&q), want);
    assert_eq!(
        (q.get("contract_state"), q.get("contract_termination_mode")),
        (Some("1"), Some("3"))
    );
    // Signed, it round-trips through XML and verifies.
    let signed = with_sign(q, KEY, SignType::Md5);
    round_trip(&signed);
    let back = xml::parse(xml::write(&signed).as_bytes(), &Limits::default()).unwrap();
    assert_eq!(sign::verify(&back, KEY, None), Ok(SignType::Md5));

    let d = deletecontract_success(&t);
    #[rustfmt::skip]
    let want = ["return_code", "return_msg", "result_code", "appid", "mch_id", "sub_mch_id", "contract_id",
        "plan_id", "contract_code"];
    assert_eq!(names(&d), want);
    round_trip(&with_sign(d, KEY, SignType::Md5));

    let bf = business_fail("CONTRACT_NOT_EXIST", "签约协议不存在");
    assert_eq!(
        names(&bf),
        ["return_code", "return_msg", "result_code", "err_code", "err_code_des"]
    );
    round_trip(&bf);
}

#[test]
fn notification_field_order() {
    let add = notification(&contract(ContractState::Signed), ChangeType::Add, "2015-07-01 10:00:00");
    #[rustfmt::skip]
    let want = ["return_code", "result_code", "mch_id", "sub_mch_id", "contract_code", "plan_id", "openid",
        "sub_openid", "change_type", "operate_time", "contract_id", "contract_expired_time", "request_serial",
        "appid", "contract_display_account", "contract_state", "contract_signed_time"];
    assert_eq!(names(&add), want);
    assert_eq!(add.get("change_type"), Some("ADD"));
    assert_eq!(add.get("request_serial"), Some("1000"));

    let del = notification(
        &contract(ContractState::Terminated),
        ChangeType::Delete,
        "2016-01-01 00:00:00",
    );
    #[rustfmt::skip]
    let want = ["return_code", "result_code", "mch_id", "sub_mch_id", "contract_code", "plan_id", "openid",
        "sub_openid", "change_type", "operate_time", "contract_id", "contract_expired_time",
        "contract_termination_mode", "request_serial", "appid", "contract_display_account", "contract_state",
        "contract_signed_time", "contract_terminated_time", "contract_termination_remark"];
    assert_eq!(names(&del), want);
    assert_eq!(
        (del.get("change_type"), del.get("contract_termination_mode")),
        (Some("DELETE"), Some("3"))
    );

    let signed = with_sign(del, KEY, SignType::HmacSha256);
    assert_eq!(names(&signed).last(), Some(&"sign"));
    round_trip(&signed);
    assert_eq!(sign::verify(&signed, KEY, None), Ok(SignType::HmacSha256));
}

#[test]
fn acknowledgements() {
    let ok = b"<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>";
    assert_eq!(parse_ack(ok), Ack::Acknowledged);
    assert!(parse_ack(b"<xml><return_code>SUCCESS</return_code></xml>").is_acknowledged());
    assert!(
        parse_ack(b"<?xml version=\"1.0\"?>\n<xml>\n <return_code> SUCCESS </return_code>\n</xml>").is_acknowledged()
    );
    for bad in [
        &b"<xml><return_code><![CDATA[FAIL]]></return_code><return_msg>busy</return_msg></xml>"[..],
        b"<xml><return_code>success</return_code></xml>",
        b"<xml><return_msg>OK</return_msg></xml>",
        b"<xml><return_code>SUCCESS</return_code>",
        b"SUCCESS",
        b"",
        b"{\"code\":\"SUCCESS\"}",
        b"<xml><return_code><x>SUCCESS</x></return_code></xml>",
        b"<!DOCTYPE x><xml><return_code>SUCCESS</return_code></xml>",
        b"\xff\xfe",
    ] {
        let got = parse_ack(bad);
        assert!(!got.is_acknowledged(), "{:?}", String::from_utf8_lossy(bad));
        assert!(matches!(got, Ack::NotAcknowledged(reason) if !reason.is_empty()));
    }
}

mod never_panic {
    use proptest::prelude::*;

    use super::*;

    /// Parameter lists mixing the real names with arbitrary values (and some arbitrary names).
    fn params() -> impl Strategy<Value = Params> {
        let name = prop::sample::select(vec![
            "appid",
            "mch_id",
            "sub_mch_id",
            "sub_appid",
            "plan_id",
            "contract_code",
            "contract_id",
            "request_serial",
            "contract_display_account",
            "notify_url",
            "version",
            "sign_type",
            "sign",
            "timestamp",
            "clientip",
            "return_appid",
            "contract_termination_remark",
            "x",
        ]);
        let value =
            prop::string::string_regex("(.|[0-9]{1,20}|-?[0-9]{19,21}|https?://[a-z.]{0,9}/?.{0,5}|1\\.0){0,1}")
                .expect("regex");
        prop::collection::vec((name, value), 0..24).prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn typed_requests_never_panic(p in params()) {
            for variant in [Variant::Direct, Variant::Partner] {
                if let Ok(r) = H5EntrustWeb::parse(&p, variant) {
                    let _ = r.check_timestamp(r.timestamp);
                }
                let _ = QueryContract::parse(&p, variant);
                let _ = DeleteContract::parse(&p, variant);
            }
            let _ = sign::verify(&p, KEY, None);
        }
    }
}
