//! Every documented contract-API error, table-driven: status, code and the whole body
//! (snapshots), each answer signed.

use http::Method;
use papay_client::{Client, Error};
use papay_protocol::contracts::TerminateRequest;
use serde_json::{json, Value};

use crate::helpers::*;

const JSAPI: &str = "/v3/global/papay/contracts/jsapi-pre-entrust-sign";
const H5: &str = "/v3/global/papay/contracts/h5-pre-entrust-sign";

fn body(code: &str, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut v = serde_json::to_value(jsapi(code)).unwrap();
    edit(v.as_object_mut().unwrap());
    v.to_string()
}

fn in_minutes(m: i64) -> String {
    papay_protocol::time_format::rfc3339_beijing(time::OffsetDateTime::now_utc() + time::Duration::minutes(m))
}

fn institutional(m: &mut serde_json::Map<String, Value>) {
    m.remove("appid");
    m.insert("sp_appid".into(), json!(APPID));
    m.insert("sub_mchid".into(), json!(SUB_MCHID));
}

/// (name, caller, method, path, body, status, code)
type Case<'a> = (&'a str, Who, Method, String, Option<String>, u16, &'a str);

enum Who {
    Main,
    Other,
}

async fn send(client: &Client, method: Method, path: &str, body: Option<String>) -> Error {
    let req = client.prepare(method, path, body.map(String::into_bytes)).unwrap();
    client.execute(req).await.expect_err("an error answer")
}

#[tokio::test]
async fn contract_errors_table() {
    let app = spawn_app().await;
    let main = app.client();
    let other = app.client_for(OTHER_MCHID);
    // Fixtures: one contract per state the errors need.
    let mut ids = std::collections::HashMap::new();
    for (code, openid) in [
        ("SIGNED1", "openidSigned"),
        ("TERM1", "openidTerm"),
        ("NOTSIGNED1", "openidNot"),
    ] {
        let req = papay_protocol::contracts::PresignRequest {
            openid: Some(openid.into()),
            ..jsapi(code)
        };
        main.presign_jsapi(&req).await.unwrap();
        ids.insert(
            code,
            main.query_contract_by_code(code, PLAN, &common())
                .await
                .unwrap()
                .contract_id,
        );
    }
    app.agree(&ids["SIGNED1"], None).await;
    app.agree(&ids["TERM1"], None).await;
    let term = TerminateRequest {
        identity: common(),
        termination_note: "done".into(),
    };
    main.terminate_contract(&ids["TERM1"], &term).await.unwrap();
    let signed = &ids["SIGNED1"];
    let term1 = &ids["TERM1"];
    let notsigned = &ids["NOTSIGNED1"];
    let by_id = |id: &str| format!("/v3/global/papay/contracts/{id}?appid={APPID}");
    let terminate = |id: &str| format!("/v3/global/papay/contracts/{id}/terminate");
    let note = json!({"appid": APPID, "termination_note": "x"}).to_string();

    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("missing_appid", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.remove("appid"); })), 400, "PARAM_ERROR"),
        ("missing_plan_id", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.remove("plan_id"); })), 400, "PARAM_ERROR"),
        ("plan_id_as_string", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("plan_id".into(), json!("12535")); })), 400, "PARAM_ERROR"),
        ("plan_id_zero", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("plan_id".into(), json!(0)); })), 400, "PARAM_ERROR"),
        ("missing_out_contract_code", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.remove("out_contract_code"); })), 400, "PARAM_ERROR"),
        ("out_contract_code_charset", Who::Main, Method::POST, JSAPI.into(), Some(body("A-1", |_| {})), 400, "PARAM_ERROR"),
        ("out_contract_code_too_long", Who::Main, Method::POST, JSAPI.into(), Some(body(&"1".repeat(33), |_| {})), 400, "PARAM_ERROR"),
        ("missing_user_display_name", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.remove("user_display_name"); })), 400, "PARAM_ERROR"),
        ("emoji_display_name", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("user_display_name".into(), json!("Zhang 😀")); })), 400, "PARAM_ERROR"),
        ("display_name_too_long", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("user_display_name".into(), json!("张".repeat(33))); })), 400, "PARAM_ERROR"),
        ("missing_success_notify_url", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.remove("success_notify_url"); })), 400, "PARAM_ERROR"),
        ("http_notify_url", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("success_notify_url".into(), json!("http://yoursite.com/notify")); })), 400, "PARAM_ERROR"),
        ("notify_url_with_query", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("success_notify_url".into(), json!("https://yoursite.com/notify?a=1")); })), 400, "PARAM_ERROR"),
        ("missing_openid", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.remove("openid"); })), 400, "PARAM_ERROR"),
        ("expired_time_too_soon", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("expired_time".into(), json!(in_minutes(3))); })), 400, "PARAM_ERROR"),
        ("expired_time_too_late_jsapi", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("expired_time".into(), json!(in_minutes(180))); })), 400, "PARAM_ERROR"),
        ("expired_time_too_late_h5", Who::Main, Method::POST, H5.into(), Some(body("E1", |m| { m.insert("expired_time".into(), json!(in_minutes(11))); })), 400, "PARAM_ERROR"),
        ("expired_time_not_rfc3339", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("expired_time".into(), json!("2021-11-20 13:29:35")); })), 400, "PARAM_ERROR"),
        ("mixed_modes", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("sub_mchid".into(), json!(SUB_MCHID)); m.insert("sp_appid".into(), json!(APPID)); })), 400, "PARAM_ERROR"),
        ("sp_appid_without_sub_mchid", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.remove("appid"); m.insert("sp_appid".into(), json!(APPID)); })), 400, "PARAM_ERROR"),
        ("institutional_missing_sp_appid", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { institutional(m); m.remove("sp_appid"); })), 400, "PARAM_ERROR"),
        ("sp_mchid_not_the_caller", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { institutional(m); m.insert("sp_mchid".into(), json!("1900000999")); })), 400, "PARAM_ERROR"),
        ("unbound_appid", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("appid".into(), json!(OTHER_APPID)); })), 400, "PARAM_ERROR"),
        ("unbound_sub_appid", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { institutional(m); m.insert("sub_appid".into(), json!("wxunbound")); })), 400, "PARAM_ERROR"),
        ("unknown_sub_mchid", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { institutional(m); m.insert("sub_mchid".into(), json!("1900000999")); })), 403, "NO_AUTH"),
        ("foreign_plan", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("plan_id".into(), json!(OTHER_PLAN)); })), 403, "NO_AUTH"),
        ("unknown_plan", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { m.insert("plan_id".into(), json!(99999)); })), 403, "NO_AUTH"),
        ("plan_not_allowed_for_sub_merchant", Who::Main, Method::POST, JSAPI.into(), Some(body("E1", |m| { institutional(m); m.insert("plan_id".into(), json!(PLAN_NO_SUBS)); })), 403, "NO_AUTH"),
        ("invalid_user_client_ip", Who::Main, Method::POST, H5.into(), Some(body("E1", |m| { m.insert("user_client_ip".into(), json!("999.1.1.1")); })), 400, "PARAM_ERROR"),
        ("body_not_json", Who::Main, Method::POST, JSAPI.into(), Some("{\"appid\":".into()), 400, "PARAM_ERROR"),
        ("body_json_array", Who::Main, Method::POST, JSAPI.into(), Some("[]".into()), 400, "PARAM_ERROR"),
        ("body_empty", Who::Main, Method::POST, JSAPI.into(), None, 400, "PARAM_ERROR"),
        ("presign_after_signed", Who::Main, Method::POST, JSAPI.into(), Some(body("SIGNED1", |_| {})), 403, "CONTRACT_EXISTED"),
        ("presign_after_terminated", Who::Main, Method::POST, JSAPI.into(), Some(body("TERM1", |_| {})), 403, "CONTRACT_EXISTED"),
        ("unknown_contract", Who::Main, Method::GET, by_id("20261127000000000000"), None, 403, "CONTRACT_NOT_EXIST"),
        ("foreign_merchants_contract", Who::Other, Method::GET, format!("/v3/global/papay/contracts/{signed}?appid={OTHER_APPID}"), None, 403, "CONTRACT_NOT_EXIST"),
        ("query_by_code_without_plan_id", Who::Main, Method::GET, format!("/v3/global/papay/contracts/out-contract-code/SIGNED1?appid={APPID}"), None, 400, "PARAM_ERROR"),
        ("query_by_code_bad_plan_id", Who::Main, Method::GET, format!("/v3/global/papay/contracts/out-contract-code/SIGNED1?appid={APPID}&plan_id=12x"), None, 400, "PARAM_ERROR"),
        ("query_by_code_bad_charset", Who::Main, Method::GET, format!("/v3/global/papay/contracts/out-contract-code/A-1?appid={APPID}&plan_id={PLAN}"), None, 400, "PARAM_ERROR"),
        ("query_by_code_unknown", Who::Main, Method::GET, format!("/v3/global/papay/contracts/out-contract-code/NOPE1?appid={APPID}&plan_id={PLAN}"), None, 403, "CONTRACT_NOT_EXIST"),
        ("query_without_identity", Who::Main, Method::GET, format!("/v3/global/papay/contracts/{signed}"), None, 400, "PARAM_ERROR"),
        ("query_with_unbound_appid", Who::Main, Method::GET, format!("/v3/global/papay/contracts/{signed}?appid={OTHER_APPID}"), None, 400, "PARAM_ERROR"),
        ("terminate_missing_note", Who::Main, Method::POST, terminate(signed), Some(json!({"appid": APPID}).to_string()), 400, "PARAM_ERROR"),
        ("terminate_note_too_long", Who::Main, Method::POST, terminate(signed), Some(json!({"appid": APPID, "termination_note": "x".repeat(257)}).to_string()), 400, "PARAM_ERROR"),
        ("terminate_unknown", Who::Main, Method::POST, terminate("20261127000000000000"), Some(note.clone()), 403, "CONTRACT_NOT_EXIST"),
        ("terminate_not_signed", Who::Main, Method::POST, terminate(notsigned), Some(note.clone()), 403, "CONTRACT_NOT_EXIST"),
        ("terminate_twice", Who::Main, Method::POST, terminate(term1), Some(note.clone()), 403, "CONTRACT_NOT_EXIST"),
        ("terminate_foreign", Who::Other, Method::POST, terminate(signed), Some(json!({"appid": OTHER_APPID, "termination_note": "x"}).to_string()), 403, "CONTRACT_NOT_EXIST"),
    ];

    for (name, who, method, path, body, status, code) in cases {
        let client = match who {
            Who::Main => &main,
            Who::Other => &other,
        };
        let err = send(client, method, &path, body).await;
        let api = err.api().unwrap_or_else(|| panic!("{name}: {err}"));
        assert_eq!(
            (api.status, api.code.as_str()),
            (status, code),
            "{name}: {}",
            api.message
        );
        assert!(!api.message.is_empty(), "{name}");
        assert!(api.signed, "{name}: answer must be signed");
        insta::assert_json_snapshot!(
            format!("contract_{name}"),
            json!({"code": api.code, "message": api.message, "detail": api.detail})
        );
    }

    // Nothing above changed the fixtures.
    assert_eq!(main.query_contract(signed, &common()).await.unwrap().state, "SIGNED");
    assert_eq!(main.query_contract(term1, &common()).await.unwrap().state, "TERMINATED");
}
