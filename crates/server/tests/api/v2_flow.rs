//! APIv2 papay end to end, through `papay_client::v2::V2Client` as a merchant's code would:
//! h5entrustweb ⇒ `redirect_url` ⇒ the signing page ⇒ the user agrees ⇒ querycontract ⇒ the
//! `ADD` notification (signed XML, §5.5) ⇒ deletecontract / a user's termination ⇒ the
//! `DELETE` notification ⇒ querycontract. Also the §5.5 acknowledgement rule, the v2 retry
//! schedule on the merchant's virtual clock, and a declined signing.

use std::time::{Duration, Instant};

use papay_client::v2::{
    ack_fail, ack_success, ChangeType, ContractSelector, ContractState, DeleteContractRequest, H5EntrustWebRequest,
    QueryContractRequest, SignType, SubMerchant, TerminationMode, V2ApiKey, V2Client, V2ContractInfo, V2Notification,
};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::helpers::*;
use crate::notifications::{clock, log_when, spawn_with_receiver};
use crate::receiver::{Received, Receiver};

const WAIT: Duration = Duration::from_secs(10);
/// The user's IP the pre-sign names; the control API's agree does not contradict it.
const CLIENT_IP: &str = "127.0.0.1";
const OPENID: &str = "oV2FlowUser_0123456789abcdef";
/// §5.5 as implemented: 0/10/10/10/30/30/30 s, then 300 s ×23.
const V2_OFFSETS: [i64; 30] = [
    0, 10, 20, 30, 60, 90, 120, 420, 720, 1020, 1320, 1620, 1920, 2220, 2520, 2820, 3120, 3420, 3720, 4020, 4320, 4620,
    4920, 5220, 5520, 5820, 6120, 6420, 6720, 7020,
];

fn v2(app: &TestApp) -> V2Client {
    V2Client::new(&app.base_url, MCHID, V2ApiKey::parse(V2_KEY).unwrap()).unwrap()
}

fn display_account(code: &str) -> String {
    format!("微信代扣 {code}")
}

/// A direct, HMAC-SHA256 (sign_type sent) h5entrustweb request notifying `receiver`'s `/v2/notify`.
fn h5(receiver: &Receiver, code: &str, serial: i64) -> H5EntrustWebRequest {
    H5EntrustWebRequest::new(
        APPID,
        PLAN.to_string(),
        code,
        serial,
        display_account(code),
        receiver.url("/v2/notify"),
        CLIENT_IP,
    )
}

fn partner() -> SubMerchant {
    SubMerchant {
        sub_mch_id: SUB_MCHID.into(),
        sub_appid: Some(SUB_APPID.into()),
    }
}

fn is_upper_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

/// The `session_id` query parameter of a `redirect_url`.
fn session_of_redirect(redirect_url: &str) -> String {
    let url = reqwest::Url::parse(redirect_url).unwrap();
    let ids: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| k == "session_id")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{redirect_url}");
    ids[0].clone()
}

/// h5entrustweb, then the user agrees as `openid` through the control API; the contract id.
pub(crate) async fn sign_up(app: &TestApp, c: &V2Client, req: &H5EntrustWebRequest, openid: &str) -> String {
    let redirect = c.h5entrustweb(req).await.unwrap();
    let detail = app.contract_by_code(c.mch_id(), &req.contract_code).await;
    assert_eq!(detail["session_id"], session_of_redirect(&redirect));
    let id = detail["contract"]["contract_id"].as_str().unwrap().to_string();
    let view = app.agree(&id, Some(openid)).await;
    assert_eq!(view["state"], "SIGNED", "{view}");
    id
}

fn by_id(id: &str) -> QueryContractRequest {
    QueryContractRequest::by_contract_id(APPID, id)
}

fn by_code(code: &str) -> QueryContractRequest {
    QueryContractRequest::by_plan_and_code(APPID, PLAN.to_string(), code)
}

/// The §5.5 transport: a POST of `text/xml` with a `Request-ID`, and none of APIv3's headers.
fn assert_v2_wire(r: &Received, path: &str) {
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", path));
    assert_eq!(r.headers["content-type"], "text/xml");
    let request_id = r.headers["request-id"].to_str().unwrap();
    assert!(!request_id.is_empty());
    let wechatpay: Vec<_> = r
        .headers
        .keys()
        .filter(|k| k.as_str().starts_with("wechatpay-"))
        .collect();
    assert!(
        wechatpay.is_empty(),
        "v2 notifications carry no Wechatpay-* headers: {wechatpay:?}"
    );
    assert!(r.body_text().starts_with("<xml>"), "{}", r.body_text());
}

/// Verifies `r` with the merchant's key and checks its `sign` is `sign_type`'s length.
fn verified(c: &V2Client, r: &Received, sign_type: SignType) -> V2Notification {
    let n = c
        .verify_notification(&r.body)
        .unwrap_or_else(|e| panic!("{e}: {}", r.body_text()));
    assert_eq!(n.sign_type, sign_type, "{}", r.body_text());
    let sign = n.params.get("sign").unwrap();
    let len = if sign_type == SignType::Md5 { 32 } else { 64 };
    assert!(is_upper_hex(sign, len), "{sign_type:?} sign: {sign}");
    assert_eq!(n.params.get("sign_type"), None, "§5.5: no sign_type field");
    assert_eq!(n.params.get("return_code"), Some("SUCCESS"));
    assert_eq!(n.params.get("result_code"), Some("SUCCESS"));
    // Any changed field breaks the signature.
    let tampered = r.body_text().replacen(&n.contract_id, "000000000000", 1);
    assert!(c.verify_notification(tampered.as_bytes()).is_err());
    n
}

/// One notification with its attempt log.
async fn notification(app: &TestApp, id: &str) -> Value {
    let (status, n) = app
        .control("GET", &format!("/sandbox/v1/notifications/{id}"), None)
        .await;
    assert_eq!(status, 200, "{n}");
    n
}

async fn advance(app: &TestApp, by: &str) {
    let (status, body) = app
        .control("POST", &format!("{}/advance", clock(MCHID)), Some(json!({ "by": by })))
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn freeze_clock(app: &TestApp) {
    let (status, body) = app.control("PUT", &clock(MCHID), Some(json!({"speed": 0}))).await;
    assert_eq!(status, 200, "{body}");
}

/// Seconds of each attempt after the first, in merchant (virtual) time.
fn virtual_offsets(log: &[Value]) -> Vec<i64> {
    let at = |a: &Value| rfc3339(a["virtual_at"].as_str().unwrap());
    log.iter().map(|a| (at(a) - at(&log[0])).whole_seconds()).collect()
}

fn rfc3339(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
}

fn assert_recent(t: OffsetDateTime) {
    assert_eq!(t.offset(), time::UtcOffset::from_hms(8, 0, 0).unwrap(), "Beijing time");
    let age = (OffsetDateTime::now_utc() - t).whole_seconds();
    assert!((0..60).contains(&age), "{t} is {age} s old");
}

fn assert_business(e: papay_client::Error, code: &str) {
    match e {
        papay_client::Error::V2Business { err_code, err_code_des } => {
            assert_eq!(err_code, code, "{err_code_des}");
            assert!(!err_code_des.is_empty());
        }
        other => panic!("expected {code}, got {other:?}"),
    }
}

#[tokio::test]
async fn v2_direct_hmac_sha256_flow_from_h5entrustweb_to_deletecontract() {
    let started = Instant::now();
    let (app, receiver) = spawn_with_receiver().await;
    receiver.set_default(200, ack_success());
    let c = v2(&app);
    let code = "V2FLOW1";
    let serial = 9_000_000_001;
    let req = h5(&receiver, code, serial);
    assert_eq!(req.sign_type, Some(SignType::HmacSha256));

    // h5entrustweb ⇒ redirect_url ⇒ 303 to the signing page.
    let redirect = c.h5entrustweb(&req).await.unwrap();
    let token = session_of_redirect(&redirect);
    assert!(
        redirect.starts_with(&format!("{}/papay/readentrustwebtemplate?", app.base_url)),
        "{redirect}"
    );
    assert!(redirect.ends_with("#/redirect"), "{redirect}");
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let hop = browser.get(&redirect).send().await.unwrap();
    assert_eq!(hop.status(), 303);
    let location = hop.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, format!("/global/papay/contracts/login?os_session_id={token}"));
    let page = browser.get(format!("{}{location}", app.base_url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for shown in [MCHID, "Monthly membership", &display_account(code)] {
        assert!(html.contains(shown), "{shown:?} not on the signing page");
    }

    // The control API knows the contract as a v2 one; the link resolves to its session.
    let detail = app.contract_by_code(MCHID, code).await;
    assert_eq!(
        (&detail["api"], &detail["request_serial"], &detail["sign_type"]),
        (&json!("V2"), &json!(serial), &json!("HMAC-SHA256"))
    );
    assert_eq!(
        (&detail["channel"], &detail["session_id"]),
        (&json!("H5"), &json!(token))
    );
    assert_eq!(detail["contract"]["state"], "SIGNING", "the page was opened");
    let id = detail["contract"]["contract_id"].as_str().unwrap().to_string();
    let (status, view) = app
        .control("POST", "/sandbox/v1/links/resolve", Some(json!({ "link": redirect })))
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!((&view["contract_id"], &view["api"]), (&json!(id), &json!("V2")));

    // Not signed yet: v2 does not see it.
    assert_business(c.query_contract(&by_id(&id)).await.unwrap_err(), "CONTRACT_NOT_EXIST");
    assert!(receiver.received().is_empty());

    assert_eq!(app.agree(&id, Some(OPENID)).await["state"], "SIGNED");

    // querycontract, both modes, the same contract.
    let q = c.query_contract(&by_id(&id)).await.unwrap();
    assert_eq!(c.query_contract(&by_code(code)).await.unwrap(), q);
    assert_eq!(
        (q.mch_id.as_str(), q.appid.as_str(), q.contract_id.as_str()),
        (MCHID, APPID, id.as_str())
    );
    assert_eq!((q.plan_id.as_str(), q.contract_code.as_str()), ("12535", code));
    assert_eq!(q.request_serial, serial);
    assert_eq!(q.contract_display_account, display_account(code));
    assert_eq!(q.contract_state, ContractState::Signed);
    assert_eq!(q.openid, OPENID);
    assert_recent(q.contract_signed_time);
    assert_eq!(
        q.contract_expired_time - q.contract_signed_time,
        time::Duration::days(365)
    );
    assert_eq!(
        (
            q.contract_terminated_time,
            q.contract_termination_mode,
            &q.contract_termination_remark
        ),
        (None, None, &None)
    );
    assert_eq!((&q.sub_mch_id, &q.sub_appid, &q.sub_openid), (&None, &None, &None));

    // The ADD notification.
    let got = receiver.wait_for(1, WAIT).await;
    assert_v2_wire(&got[0], "/v2/notify");
    let n = verified(&c, &got[0], SignType::HmacSha256);
    assert_eq!(n.change_type, ChangeType::Add);
    assert_eq!(
        (n.mch_id.as_str(), n.contract_id.as_str(), n.contract_code.as_str()),
        (MCHID, id.as_str(), code)
    );
    assert_eq!((n.plan_id.as_str(), n.openid.as_str()), ("12535", OPENID));
    assert_eq!(n.request_serial, serial);
    assert_eq!(n.operate_time, q.contract_signed_time);
    assert_eq!(n.contract_expired_time, Some(q.contract_expired_time));
    assert_eq!(n.contract_termination_mode, None);
    assert_eq!(n.appid.as_deref(), Some(APPID));
    assert_eq!(n.contract_display_account, Some(display_account(code)));
    assert_eq!(n.contract_state, Some(ContractState::Signed));
    assert_eq!(n.contract_signed_time, Some(q.contract_signed_time));
    assert_eq!(
        (n.contract_terminated_time, &n.contract_termination_remark),
        (None, &None)
    );
    assert_eq!((&n.sub_mch_id, &n.sub_openid, &n.sub_appid), (&None, &None, &None));

    // Acknowledged by the XML SUCCESS answer on the first attempt.
    let list = log_when(&app, &format!("?contract_id={id}"), |l| {
        l.len() == 1 && l[0]["status"] == "DELIVERED"
    })
    .await;
    assert_eq!(
        (&list[0]["attempts"], &list[0]["event_type"]),
        (&json!(1), &json!("PAPAY.SIGN"))
    );
    let one = notification(&app, list[0]["id"].as_str().unwrap()).await;
    assert_eq!(one["body"].as_str().unwrap().as_bytes(), got[0].body.as_slice());
    assert_eq!(
        (&one["log"][0]["http_status"], &one["log"][0]["outcome"]),
        (&json!(200), &json!("DELIVERED"))
    );
    assert_eq!(one["log"][0]["url"], receiver.url("/v2/notify"));

    // deletecontract (MD5) with a remark.
    let remark = "用户申请解约 (merchant API)";
    let deleted = c
        .delete_contract(&DeleteContractRequest::new(
            APPID,
            ContractSelector::ContractId(id.clone()),
            remark,
        ))
        .await
        .unwrap();
    assert_eq!(
        (
            deleted.contract_id.as_str(),
            deleted.contract_code.as_str(),
            deleted.plan_id.as_str()
        ),
        (id.as_str(), code, "12535")
    );
    assert_eq!((deleted.mch_id.as_str(), deleted.appid.as_str()), (MCHID, APPID));

    let q = c.query_contract(&by_id(&id)).await.unwrap();
    assert_eq!(c.query_contract(&by_code(code)).await.unwrap(), q);
    assert_eq!(q.contract_state, ContractState::Terminated);
    assert_eq!(q.contract_termination_mode, Some(TerminationMode::MerchantApi));
    assert_eq!(q.contract_termination_remark.as_deref(), Some(remark));
    let terminated = q.contract_terminated_time.expect("contract_terminated_time");
    assert_recent(terminated);
    assert!(terminated >= q.contract_signed_time);
    assert_eq!((q.request_serial, q.openid.as_str()), (serial, OPENID));

    // The DELETE notification goes to the plan's termination URL, same algorithm.
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got.len(), 2);
    assert_v2_wire(&got[1], "/terminate");
    let d = verified(&c, &got[1], SignType::HmacSha256);
    assert_eq!(d.change_type, ChangeType::Delete);
    assert_eq!(d.contract_termination_mode, Some(TerminationMode::MerchantApi));
    assert_eq!(d.params.get("contract_termination_mode"), Some("3"));
    assert_eq!((d.contract_id.as_str(), d.contract_code.as_str()), (id.as_str(), code));
    assert_eq!((d.openid.as_str(), d.request_serial), (OPENID, serial));
    assert_eq!(d.operate_time, terminated);
    assert_eq!(d.contract_state, Some(ContractState::Terminated));
    assert_eq!(d.contract_terminated_time, Some(terminated));
    assert_eq!(d.contract_termination_remark.as_deref(), Some(remark));
    log_when(&app, &format!("?contract_id={id}"), |l| {
        l.len() == 2 && l.iter().all(|n| n["status"] == "DELIVERED")
    })
    .await;

    // Terminated once: a second deletecontract finds nothing to terminate (the §2.8 DECISION,
    // shared with v2), and nothing more is sent.
    let again = c
        .delete_contract(&DeleteContractRequest::new(
            APPID,
            ContractSelector::ContractId(id.clone()),
            remark,
        ))
        .await
        .unwrap_err();
    assert_business(again, "CONTRACT_NOT_EXIST");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 2);
    eprintln!("v2 flow took {:?}", started.elapsed());
}

#[tokio::test]
async fn v2_partner_md5_notifications_carry_the_sub_merchant() {
    let (app, receiver) = spawn_with_receiver().await;
    receiver.set_default(200, ack_success());
    let c = v2(&app);
    let code = "V2PARTNER1";
    let req = H5EntrustWebRequest {
        sub: Some(partner()),
        sign_type: Some(SignType::Md5),
        ..h5(&receiver, code, 77)
    };
    assert!(c.h5entrustweb_url(&req).contains("/papay/partner/h5entrustweb?"));
    assert!(c.h5entrustweb_url(&req).contains("sign_type=MD5"));
    let id = sign_up(&app, &c, &req, OPENID).await;
    assert_eq!(app.contract_by_code(MCHID, code).await["sign_type"], "MD5");

    let q = c
        .query_contract(&QueryContractRequest {
            sub: Some(partner()),
            ..by_id(&id)
        })
        .await
        .unwrap();
    assert_eq!(q.sub_mch_id.as_deref(), Some(SUB_MCHID));
    assert_eq!(q.sub_appid.as_deref(), Some(SUB_APPID));
    assert_eq!(q.sub_openid.as_deref(), Some(OPENID));
    assert_eq!((q.mch_id.as_str(), q.appid.as_str()), (MCHID, APPID));
    assert_eq!(q.contract_state, ContractState::Signed);
    // The partner contract is no direct contract.
    assert_business(c.query_contract(&by_id(&id)).await.unwrap_err(), "CONTRACT_NOT_EXIST");

    let got = receiver.wait_for(1, WAIT).await;
    assert_v2_wire(&got[0], "/v2/notify");
    let n = verified(&c, &got[0], SignType::Md5);
    assert_eq!(n.change_type, ChangeType::Add);
    assert_eq!(n.mch_id, MCHID);
    assert_eq!(n.sub_mch_id.as_deref(), Some(SUB_MCHID));
    assert_eq!(n.sub_appid.as_deref(), Some(SUB_APPID));
    assert_eq!(n.sub_openid.as_deref(), Some(OPENID));
    assert_eq!((n.openid.as_str(), n.request_serial), (OPENID, 77));
    assert_eq!((n.contract_id.as_str(), n.contract_code.as_str()), (id.as_str(), code));
    assert_eq!(n.operate_time, q.contract_signed_time);

    // Terminated through the partner API: the DELETE notification is MD5-signed as well.
    c.delete_contract(&DeleteContractRequest {
        sub: Some(partner()),
        ..DeleteContractRequest::new(
            APPID,
            ContractSelector::PlanAndCode {
                plan_id: PLAN.to_string(),
                contract_code: code.into(),
            },
            "partner ends it",
        )
    })
    .await
    .unwrap();
    let got = receiver.wait_for(2, WAIT).await;
    assert_v2_wire(&got[1], "/terminate");
    let d = verified(&c, &got[1], SignType::Md5);
    assert_eq!(d.change_type, ChangeType::Delete);
    assert_eq!(d.sub_mch_id.as_deref(), Some(SUB_MCHID));
    assert_eq!(d.contract_termination_mode, Some(TerminationMode::MerchantApi));
    assert_eq!(d.contract_termination_remark.as_deref(), Some("partner ends it"));
}

#[tokio::test]
async fn v2_without_sign_type_notifications_use_the_algorithm_the_request_was_signed_with() {
    let (app, receiver) = spawn_with_receiver().await;
    receiver.set_default(200, ack_success());
    let c = v2(&app);
    let md5 = H5EntrustWebRequest {
        sign_type: None,
        unsent_sign_type: SignType::Md5,
        ..h5(&receiver, "V2NOTYPEMD5", 101)
    };
    let hmac = H5EntrustWebRequest {
        sign_type: None,
        unsent_sign_type: SignType::HmacSha256,
        ..h5(&receiver, "V2NOTYPEHMAC", 102)
    };
    for (req, len) in [(&md5, 32), (&hmac, 64)] {
        let url = c.h5entrustweb_url(req);
        assert!(!url.contains("sign_type"), "{url}");
        let sign = url.rsplit_once("&sign=").unwrap().1;
        assert!(is_upper_hex(sign, len), "{url}");
    }

    let md5_id = sign_up(&app, &c, &md5, OPENID).await;
    assert_eq!(app.contract_by_code(MCHID, "V2NOTYPEMD5").await["sign_type"], "MD5");
    let got = receiver.wait_for(1, WAIT).await;
    let n = verified(&c, &got[0], SignType::Md5);
    assert_eq!((n.contract_id.as_str(), n.request_serial), (md5_id.as_str(), 101));

    let hmac_id = sign_up(&app, &c, &hmac, "oV2FlowOther_0123456789abcde").await;
    assert_eq!(
        app.contract_by_code(MCHID, "V2NOTYPEHMAC").await["sign_type"],
        "HMAC-SHA256"
    );
    let got = receiver.wait_for(2, WAIT).await;
    let n = verified(&c, &got[1], SignType::HmacSha256);
    assert_eq!((n.contract_id.as_str(), n.request_serial), (hmac_id.as_str(), 102));

    // The termination of the MD5 contract is MD5-signed too.
    let (status, body) = app
        .control(
            "POST",
            &format!("/sandbox/v1/contracts/{md5_id}/terminate"),
            Some(json!({"as": "USER"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let got = receiver.wait_for(3, WAIT).await;
    let d = verified(&c, &got[2], SignType::Md5);
    assert_eq!(
        (d.change_type, d.contract_id.as_str()),
        (ChangeType::Delete, md5_id.as_str())
    );
}

#[tokio::test]
async fn v2_only_an_xml_success_answer_acknowledges() {
    let started = Instant::now();
    let (app, receiver) = spawn_with_receiver().await;
    freeze_clock(&app).await;
    receiver.respond_with(200, "<xml><return_code><![CDATA[FAIL]]></return_code></xml>");
    receiver.respond_with(200, "OK, thanks");
    receiver.respond_with(500, ack_success());
    receiver.set_default(200, ack_success());
    let c = v2(&app);
    let id = sign_up(&app, &c, &h5(&receiver, "V2ACK1", 1), OPENID).await;
    let query = format!("?contract_id={id}");

    for attempt in 1..=4 {
        if attempt > 1 {
            advance(&app, "10s").await;
        }
        receiver.wait_for(attempt, WAIT).await;
        log_when(&app, &query, |l| l.len() == 1 && l[0]["attempts"] == attempt).await;
    }
    let list = log_when(&app, &query, |l| l[0]["status"] == "DELIVERED").await;
    assert_eq!(list[0]["attempts"], 4);
    let one = notification(&app, list[0]["id"].as_str().unwrap()).await;
    let log = one["log"].as_array().unwrap();
    let outcomes: Vec<_> = log.iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["FAILED", "FAILED", "FAILED", "DELIVERED"]);
    let statuses: Vec<_> = log.iter().map(|a| a["http_status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [200, 200, 500, 200]);
    let errors: Vec<_> = log.iter().map(|a| a["error"].as_str()).collect();
    assert_eq!(errors[0], Some("not acknowledged: return_code is `FAIL`"));
    assert!(errors[1].unwrap().starts_with("not acknowledged: "), "{errors:?}");
    assert_eq!(
        errors[2],
        Some("answered HTTP 500"),
        "a 500 fails whatever its body says"
    );
    assert_eq!(errors[3], None);
    assert_eq!(log[1]["response_head"], "OK, thanks");
    assert_eq!(virtual_offsets(log), [0, 10, 20, 30]);

    // The same signed body every time; nothing after the acknowledgement.
    let got = receiver.received();
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|r| r.body == got[0].body));
    verified(&c, &got[3], SignType::HmacSha256);
    advance(&app, "1d").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 4);
    eprintln!("ack semantics took {:?}", started.elapsed());
}

#[tokio::test]
async fn v2_retries_follow_the_v2_schedule_in_merchant_time_then_give_up() {
    let started = Instant::now();
    let (app, receiver) = spawn_with_receiver().await;
    receiver.set_default(200, ack_fail("busy"));
    freeze_clock(&app).await;
    let c = v2(&app);
    let id = sign_up(&app, &c, &h5(&receiver, "V2RETRY1", 2), OPENID).await;
    let query = format!("?contract_id={id}");
    receiver.wait_for(1, WAIT).await;
    log_when(&app, &query, |l| l.len() == 1 && l[0]["attempts"] == 1).await;

    for (k, pair) in V2_OFFSETS.windows(2).enumerate() {
        let step = pair[1] - pair[0];
        if k < 8 {
            // One second short of the next offset: nothing is sent.
            advance(&app, &format!("{}s", step - 1)).await;
            tokio::time::sleep(Duration::from_millis(250)).await;
            assert_eq!(receiver.received().len(), k + 1, "attempt {} came early", k + 2);
            advance(&app, "1s").await;
        } else {
            advance(&app, &format!("{step}s")).await;
        }
        receiver.wait_for(k + 2, WAIT).await;
        log_when(&app, &query, |l| l[0]["attempts"] == k + 2).await;
    }
    let list = log_when(&app, &query, |l| l[0]["status"] == "GAVE_UP").await;
    assert_eq!(list[0]["attempts"], 30);
    assert_eq!(list[0]["next_attempt_at"], Value::Null);
    let one = notification(&app, list[0]["id"].as_str().unwrap()).await;
    let log = one["log"].as_array().unwrap();
    assert_eq!(virtual_offsets(log), V2_OFFSETS, "attempts at the documented offsets");
    assert!(log.iter().all(|a| a["outcome"] == "FAILED"
        && a["http_status"] == 200
        && a["error"] == "not acknowledged: return_code is `FAIL`"));

    // Given up: a day later nothing more comes.
    advance(&app, "1d").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 30);
    assert!(got.iter().all(|r| r.body == got[0].body));
    eprintln!("30 v2 attempts by clock steps took {:?}", started.elapsed());
}

#[tokio::test]
async fn v2_retries_under_a_fast_clock_give_up_after_30_attempts() {
    let started = Instant::now();
    let (app, receiver) = spawn_with_receiver().await;
    receiver.set_default(503, "");
    let c = v2(&app);
    // Signed first: at this speed the signing session would last about 60 ms of real time,
    // too short for a loaded machine. Then 7020 s of merchant time in about 0.7 s.
    let id = sign_up(&app, &c, &h5(&receiver, "V2FAST1", 3), OPENID).await;
    let (status, body) = app.control("PUT", &clock(MCHID), Some(json!({"speed": 10000}))).await;
    assert_eq!(status, 200, "{body}");
    let list = log_when(&app, &format!("?contract_id={id}"), |l| {
        l.len() == 1 && l[0]["status"] == "GAVE_UP"
    })
    .await;
    let elapsed = started.elapsed();
    assert_eq!(list[0]["attempts"], 30);
    let one = notification(&app, list[0]["id"].as_str().unwrap()).await;
    // At this speed a millisecond of real latency is ten merchant seconds, so late attempts
    // (and catch-up bursts) are expected; early ones are not. Offsets count from the event.
    let base = rfc3339(one["create_time"].as_str().unwrap());
    let signed = c.query_contract(&by_id(&id)).await.unwrap().contract_signed_time;
    assert!((base - signed).abs() < time::Duration::seconds(1), "{base} vs {signed}");
    let log = one["log"].as_array().unwrap();
    let seen: Vec<i64> = log
        .iter()
        .map(|a| (rfc3339(a["virtual_at"].as_str().unwrap()) - base).whole_seconds())
        .collect();
    assert_eq!(seen.len(), 30);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    for (k, (seen_at, due)) in seen.iter().zip(V2_OFFSETS).enumerate() {
        assert!(
            *seen_at >= due,
            "attempt {} at +{seen_at} s, due at +{due} s: {seen:?}",
            k + 1
        );
    }
    assert!(log.iter().all(|a| a["http_status"] == 503 && a["outcome"] == "FAILED"));
    assert_eq!(receiver.received().len(), 30);
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    eprintln!("30 v2 attempts at speed 10000 took {elapsed:?}");
}

#[tokio::test]
async fn v2_user_and_platform_terminations_are_notified_with_modes_2_and_4() {
    let (app, receiver) = spawn_with_receiver().await;
    receiver.set_default(200, ack_success());
    let c = v2(&app);
    let user = sign_up(&app, &c, &h5(&receiver, "V2USER1", 11), OPENID).await;
    let platform = sign_up(&app, &c, &h5(&receiver, "V2PLAT1", 12), "oV2FlowOther_0123456789abcde").await;
    receiver.wait_for(2, WAIT).await;

    for (id, by) in [(&user, "USER"), (&platform, "PLATFORM")] {
        let (status, body) = app
            .control(
                "POST",
                &format!("/sandbox/v1/contracts/{id}/terminate"),
                Some(json!({ "as": by })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["contract"]["state"], "TERMINATED", "{body}");
    }
    let got = receiver.wait_for(4, WAIT).await;
    let mut modes = Vec::new();
    for r in got.iter().filter(|r| r.path == "/terminate") {
        assert_v2_wire(r, "/terminate");
        let d = verified(&c, r, SignType::HmacSha256);
        assert_eq!(d.change_type, ChangeType::Delete);
        let q: V2ContractInfo = c.query_contract(&by_id(&d.contract_id)).await.unwrap();
        assert_eq!(q.contract_state, ContractState::Terminated);
        assert_eq!(q.contract_termination_mode, d.contract_termination_mode);
        assert_eq!(Some(d.operate_time), q.contract_terminated_time);
        assert_recent(d.operate_time);
        modes.push((
            d.contract_id.clone(),
            d.params.get("contract_termination_mode").unwrap().to_string(),
        ));
    }
    modes.sort();
    let mut expected = vec![(user.clone(), "2".to_string()), (platform.clone(), "4".to_string())];
    expected.sort();
    assert_eq!(modes, expected);
    assert_eq!(
        c.query_contract(&by_code("V2USER1"))
            .await
            .unwrap()
            .contract_termination_mode,
        Some(TerminationMode::User)
    );
}

#[tokio::test]
async fn v2_a_declined_signing_is_not_notified_and_does_not_exist() {
    let (app, receiver) = spawn_with_receiver().await;
    receiver.set_default(200, ack_success());
    let c = v2(&app);
    let code = "V2DECLINE1";
    let redirect = c.h5entrustweb(&h5(&receiver, code, 21)).await.unwrap();
    let id = app.contract_by_code(MCHID, code).await["contract"]["contract_id"]
        .as_str()
        .unwrap()
        .to_string();
    let session = session_of_redirect(&redirect);
    assert_eq!(app.session_of(&id).await, session);
    let (status, view) = app
        .control("POST", &format!("/sandbox/v1/sessions/{session}/decline"), None)
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["state"], "SIGNFAIL", "{view}");

    assert_business(c.query_contract(&by_id(&id)).await.unwrap_err(), "CONTRACT_NOT_EXIST");
    assert_business(
        c.query_contract(&by_code(code)).await.unwrap_err(),
        "CONTRACT_NOT_EXIST",
    );
    assert_business(
        c.delete_contract(&DeleteContractRequest::new(
            APPID,
            ContractSelector::ContractId(id.clone()),
            "never signed",
        ))
        .await
        .unwrap_err(),
        "CONTRACT_NOT_EXIST",
    );
    // Decided: the link cannot be agreed to afterwards.
    let (status, err) = app
        .control(
            "POST",
            &format!("/sandbox/v1/sessions/{session}/agree"),
            Some(json!({ "openid": OPENID })),
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (409, Some("SESSION_CLOSED")), "{err}");

    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(receiver.received().is_empty(), "failure ⇒ no notification");
    let (_, list) = app
        .control(
            "GET",
            &format!("/sandbox/v1/merchants/{MCHID}/notifications?contract_id={id}"),
            None,
        )
        .await;
    assert_eq!(list["notifications"], json!([]));
}

#[tokio::test]
async fn v2_redirect_url_signing_page_form_signs_as_a_browser_would() {
    let (app, receiver) = spawn_with_receiver().await;
    receiver.set_default(200, ack_success());
    let c = v2(&app);
    let code = "V2FORM1";
    let redirect = c.h5entrustweb(&h5(&receiver, code, 31)).await.unwrap();
    let token = session_of_redirect(&redirect);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let location = browser.get(&redirect).send().await.unwrap().headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    let sign_url = format!("{}{location}", app.base_url);

    // The h5entrustweb request names no openid: the page asks for one.
    let html = browser.get(&sign_url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"id="openid""#), "an openid input");
    assert!(html.contains(r#"id="agree""#));
    assert!(!html.contains(r#"id="openid-fixed""#));

    let form = reqwest::Url::parse_with_params(
        "http://form.invalid/",
        &[
            ("os_session_id", token.as_str()),
            ("decision", "agree"),
            ("openid", OPENID),
        ],
    )
    .unwrap()
    .query()
    .unwrap()
    .to_string();
    let decided = browser
        .post(format!("{}/global/papay/contracts/login", app.base_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), 303);
    assert_eq!(decided.headers()["location"].to_str().unwrap(), location);
    let outcome = browser.get(&sign_url).send().await.unwrap().text().await.unwrap();
    assert!(
        outcome.contains(r#"<section id="outcome" data-state="SIGNED">"#),
        "{outcome}"
    );

    let q = c.query_contract(&by_code(code)).await.unwrap();
    assert_eq!((q.contract_state, q.openid.as_str()), (ContractState::Signed, OPENID));
    assert!(outcome.contains(&q.contract_id));
    let got = receiver.wait_for(1, WAIT).await;
    let n = verified(&c, &got[0], SignType::HmacSha256);
    assert_eq!((n.contract_id, n.openid.as_str()), (q.contract_id, OPENID));
}
