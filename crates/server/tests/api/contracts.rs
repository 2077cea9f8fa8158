//! The eight Global contract endpoints: success shapes in both modes, idempotency, scoping,
//! termination, restart.

use papay_client::Error;
use papay_protocol::contracts::{Contract, Identity, PresignRequest, TerminateRequest};

use crate::helpers::*;

fn is_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

fn institutional() -> Identity {
    Identity::institutional(APPID, SUB_MCHID, Some(SUB_APPID.into()))
}

#[tokio::test]
async fn all_five_presign_modes_in_common_mode() {
    let app = spawn_app().await;
    let c = app.client();
    let login = format!("{}/global/papay/contracts/login?os_session_id=", app.base_url);
    let show = format!(
        "{}/global/papay/contracts/sessions/show_code?os_session_id=",
        app.base_url
    );

    let mut req = jsapi("100001256");
    let sign_url = c.presign_jsapi(&req).await.unwrap().sign_url;
    assert!(
        sign_url.starts_with(&login) && is_digits(&sign_url[login.len()..], 47),
        "{sign_url}"
    );

    req.out_contract_code = "H5CODE1".into();
    req.openid = None;
    req.user_client_ip = Some("119.145.83.6".into());
    req.return_appid = Some("wxcbda96de0b165486".into());
    let h5 = c.presign_h5(&req).await.unwrap().sign_url;
    assert!(h5.starts_with(&login), "{h5}");

    req.out_contract_code = "WEBCODE1".into();
    let web = c.presign_web(&req).await.unwrap().show_code_url;
    assert!(web.starts_with(&show) && is_digits(&web[show.len()..], 47), "{web}");

    req.out_contract_code = "APPCODE1".into();
    let app_session = c.presign_app(&req).await.unwrap().session_id;
    assert!(is_digits(&app_session, 47));

    let mini = PresignRequest {
        out_contract_code: "MINI1".into(),
        user_display_name: None,
        openid: Some("ouFhd5X9s9WteC3eWRjXV3lea123".into()),
        ..jsapi("")
    };
    let mini_session = c.presign_miniprogram(&mini).await.unwrap().session_id;
    assert!(is_digits(&mini_session, 47));
    assert_ne!(mini_session, app_session);

    // The JSAPI contract, field by field (PROTOCOL.md §2.6 in Common mode).
    let by_code = c.query_contract_by_code("100001256", PLAN, &common()).await.unwrap();
    assert_eq!(by_code.mchid.as_deref(), Some(MCHID));
    assert_eq!(by_code.identity.appid.as_deref(), Some(APPID));
    assert_eq!(
        (by_code.sp_mchid.as_ref(), by_code.identity.sub_mchid.as_ref()),
        (None, None)
    );
    assert!(is_digits(&by_code.contract_id, 20));
    assert_eq!(by_code.plan_id, PLAN);
    assert_eq!(by_code.out_contract_code, "100001256");
    assert_eq!(by_code.user_display_name.as_deref(), Some("Zhang San"));
    assert_eq!(by_code.state, "NOTSIGN");
    assert_eq!(by_code.openid.as_deref(), Some("ouFhd5X9s9WteC3eWRjXV3lea123"));
    assert_eq!(
        (by_code.signed_time.as_ref(), by_code.expired_time.as_ref()),
        (None, None)
    );
    let by_id = c.query_contract(&by_code.contract_id, &common()).await.unwrap();
    assert_eq!(by_id, by_code);

    // The mini-program contract has no display name; the H5 one no openid yet.
    let m = c.query_contract_by_code("MINI1", PLAN, &common()).await.unwrap();
    assert_eq!(m.user_display_name, None);
    let h = c.query_contract_by_code("H5CODE1", PLAN, &common()).await.unwrap();
    assert_eq!(h.openid, None);
}

#[tokio::test]
async fn raw_json_of_a_signed_then_terminated_contract() {
    let app = spawn_app().await;
    let c = app.client();
    c.presign_jsapi(&jsapi("100005698")).await.unwrap();
    let id = c
        .query_contract_by_code("100005698", PLAN, &common())
        .await
        .unwrap()
        .contract_id;
    let signed = app.agree(&id, None).await;
    assert_eq!(signed["state"], "SIGNED");
    c.terminate_contract(
        &id,
        &TerminateRequest {
            identity: common(),
            termination_note: "Cause of termination".into(),
        },
    )
    .await
    .unwrap();
    let answer = c
        .execute(
            c.prepare(
                http::Method::GET,
                &format!("/v3/global/papay/contracts/{id}?appid={APPID}"),
                None,
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let text = String::from_utf8(answer.body).unwrap();
    let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Keys in the documented order, no nulls.
    let positions: Vec<usize> = [
        "mchid",
        "appid",
        "contract_id",
        "plan_id",
        "out_contract_code",
        "user_display_name",
        "state",
        "signed_time",
        "expired_time",
        "terminated_time",
        "termination_mode",
        "termination_note",
        "openid",
    ]
    .iter()
    .map(|k| {
        text.find(&format!("\"{k}\":"))
            .unwrap_or_else(|| panic!("{k} missing from {text}"))
    })
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert_eq!(raw.as_object().unwrap().len(), 13);
    assert!(!text.contains("null"));
    assert!(raw["plan_id"].is_i64());
    assert_eq!(raw["state"], "TERMINATED");
    assert_eq!(raw["termination_mode"], "MERCHANT");
    assert_eq!(raw["termination_note"], "Cause of termination");
    for t in ["signed_time", "expired_time", "terminated_time"] {
        let s = raw[t].as_str().unwrap();
        assert!(s.len() == 25 && s.ends_with("+08:00"), "{t}: {s}");
    }
    let signed_at = time::OffsetDateTime::parse(
        raw["signed_time"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires = time::OffsetDateTime::parse(
        raw["expired_time"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!((expires - signed_at).whole_days(), 365);
}

#[tokio::test]
async fn institutional_mode_shapes() {
    let app = spawn_app().await;
    let c = app.client();
    let req = PresignRequest {
        identity: institutional(),
        ..jsapi("200001")
    };
    c.presign_jsapi(&req).await.unwrap();
    let got = c
        .query_contract_by_code("200001", PLAN, &institutional())
        .await
        .unwrap();
    assert_eq!(got.sp_mchid.as_deref(), Some(MCHID));
    assert_eq!(got.identity.sp_appid.as_deref(), Some(APPID));
    assert_eq!(got.identity.sub_mchid.as_deref(), Some(SUB_MCHID));
    assert_eq!(got.identity.sub_appid.as_deref(), Some(SUB_APPID));
    assert_eq!((got.mchid.as_ref(), got.identity.appid.as_ref()), (None, None));
    // sub_appid may be omitted on queries.
    let loose = Identity::institutional(APPID, SUB_MCHID, None);
    assert_eq!(c.query_contract(&got.contract_id, &loose).await.unwrap(), got);
    // Common mode cannot see an institutional contract.
    let err = c.query_contract(&got.contract_id, &common()).await.unwrap_err();
    assert_eq!(err.api().unwrap().code, "CONTRACT_NOT_EXIST");
    // Institutional termination.
    app.agree(&got.contract_id, None).await;
    c.terminate_contract(
        &got.contract_id,
        &TerminateRequest {
            identity: institutional(),
            termination_note: "bye".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        c.query_contract(&got.contract_id, &institutional())
            .await
            .unwrap()
            .state,
        "TERMINATED"
    );
}

#[tokio::test]
async fn presign_is_idempotent_until_signed_and_codes_are_never_reused() {
    let app = spawn_app().await;
    let c = app.client();
    let first = c.presign_jsapi(&jsapi("300001")).await.unwrap().sign_url;
    let again = c.presign_jsapi(&jsapi("300001")).await.unwrap().sign_url;
    assert_ne!(first, again, "a re-pre-sign replaces the session");
    let contract = c.query_contract_by_code("300001", PLAN, &common()).await.unwrap();
    // Same code under another plan is another contract.
    let other_plan = PresignRequest {
        plan_id: PLAN_NO_SUBS,
        ..jsapi("300001")
    };
    c.presign_jsapi(&other_plan).await.unwrap();
    let second = c
        .query_contract_by_code("300001", PLAN_NO_SUBS, &common())
        .await
        .unwrap();
    assert_ne!(second.contract_id, contract.contract_id);

    app.agree(&contract.contract_id, None).await;
    let existed = c
        .presign_h5(&PresignRequest {
            openid: None,
            ..jsapi("300001")
        })
        .await
        .unwrap_err();
    let body = existed.api().unwrap();
    assert_eq!((body.status, body.code.as_str()), (403, "CONTRACT_EXISTED"));
    c.terminate_contract(
        &contract.contract_id,
        &TerminateRequest {
            identity: common(),
            termination_note: "x".into(),
        },
    )
    .await
    .unwrap();
    let burned = c.presign_jsapi(&jsapi("300001")).await.unwrap_err();
    assert_eq!(burned.api().unwrap().code, "CONTRACT_EXISTED");
}

#[tokio::test]
async fn a_second_signing_by_the_same_user_under_the_plan_fails() {
    let app = spawn_app().await;
    let c = app.client();
    c.presign_jsapi(&jsapi("400001")).await.unwrap();
    c.presign_jsapi(&jsapi("400002")).await.unwrap();
    let a = c
        .query_contract_by_code("400001", PLAN, &common())
        .await
        .unwrap()
        .contract_id;
    let b = c
        .query_contract_by_code("400002", PLAN, &common())
        .await
        .unwrap()
        .contract_id;
    assert_eq!(app.agree(&a, None).await["state"], "SIGNED");
    assert_eq!(app.agree(&b, None).await["state"], "SIGNFAIL");
    // A failed signing may be retried with a new pre-sign of the same code.
    c.presign_jsapi(&jsapi("400002")).await.unwrap();
    assert_eq!(c.query_contract(&b, &common()).await.unwrap().state, "NOTSIGN");
}

#[tokio::test]
async fn contracts_survive_a_restart_unchanged() {
    let app = spawn_app().await;
    let c = app.client();
    let mut ids = Vec::new();
    for (i, code) in ["500001", "500002", "500003"].iter().enumerate() {
        let req = PresignRequest {
            openid: Some(format!("openid{i}")),
            ..jsapi(code)
        };
        c.presign_jsapi(&req).await.unwrap();
        ids.push(
            c.query_contract_by_code(code, PLAN, &common())
                .await
                .unwrap()
                .contract_id,
        );
    }
    app.agree(&ids[1], None).await;
    app.agree(&ids[2], None).await;
    c.terminate_contract(
        &ids[2],
        &TerminateRequest {
            identity: common(),
            termination_note: "moved".into(),
        },
    )
    .await
    .unwrap();
    let mut before: Vec<Contract> = Vec::new();
    for id in &ids {
        before.push(c.query_contract(id, &common()).await.unwrap());
    }
    let app = app.restart().await;
    let c = app.client();
    for (id, was) in ids.iter().zip(&before) {
        assert_eq!(&c.query_contract(id, &common()).await.unwrap(), was);
    }
    assert_eq!(
        before.iter().map(|c| c.state.as_str()).collect::<Vec<_>>(),
        ["NOTSIGN", "SIGNED", "TERMINATED"]
    );
}

#[tokio::test]
async fn typed_client_refuses_a_non_204_terminate() {
    let app = spawn_app().await;
    let c = app.client();
    let err = c
        .terminate_contract(
            "123",
            &TerminateRequest {
                identity: common(),
                termination_note: "x".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api(_)));
}
