//! The dashboard over HTTP: every page renders from live state, filters narrow, forms change
//! state through the same use-cases as the control API, bad input and unknown ids are clear
//! HTML pages (never a 500), the access rule matches the control API's, cross-site POSTs are
//! refused, and no configured secret appears on any page.

use std::time::Duration;

use crate::helpers::*;
use crate::notifications::spawn_with_receiver;

/// A browser-like client for the dashboard: no redirects followed, optional bearer or cookie.
pub struct Dash<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    bearer: Option<String>,
    cookie: Option<String>,
}

/// A dashboard answer.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookie: Option<String>,
    pub content_type: String,
    pub body: String,
}

impl Page {
    pub fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }
}

impl<'a> Dash<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Dash {
            app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            bearer: None,
            cookie: None,
        }
    }

    fn bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.into());
        self
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let mut req = req;
        if let Some(t) = &self.bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let r = req.send().await.unwrap();
        let header = |n: &str| r.headers().get(n).map(|v| v.to_str().unwrap().to_string());
        let (status, location, set_cookie, content_type) = (
            r.status().as_u16(),
            header("location"),
            header("set-cookie"),
            header("content-type").unwrap_or_default(),
        );
        Page {
            status,
            location,
            set_cookie,
            content_type,
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.http.get(format!("{}{path}", self.app.base_url))).await
    }

    /// A GET that must answer 200 HTML.
    pub async fn page(&self, path: &str) -> Page {
        let p = self.get(path).await;
        assert_eq!(p.status, 200, "GET {path}: {}", p.body);
        assert!(p.content_type.starts_with("text/html"), "{path}: {}", p.content_type);
        p
    }

    /// POSTs a url-encoded form as the dashboard's own page would (`Sec-Fetch-Site: same-origin`).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_with(path, form, &[("sec-fetch-site", "same-origin")]).await
    }

    pub async fn post_with(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut req = self.http.post(format!("{}{path}", self.app.base_url)).body(body);
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    /// A POST that must answer `303` to a page; answers that page.
    pub async fn act(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let p = self.post(path, form).await;
        assert_eq!(p.status, 303, "POST {path}: {}", p.body);
        self.page(p.location.as_deref().unwrap()).await
    }
}

async fn presign(app: &TestApp, code: &str) -> String {
    let c = app.client();
    c.presign_jsapi(&jsapi(code)).await.unwrap();
    c.query_contract_by_code(code, PLAN, &common())
        .await
        .unwrap()
        .contract_id
}

#[tokio::test]
async fn pages_show_merchants_and_contracts_and_filters_narrow() {
    let app = spawn_app().await;
    let d = Dash::new(&app);
    let empty = d.page("/dashboard/contracts").await;
    assert!(empty.has("No contracts yet"), "an empty state that says what to do");

    let a = presign(&app, "DASHA").await;
    let b = presign(&app, "DASHB").await;

    let home = d.page("/dashboard").await;
    assert!(home.has(&a) && home.has(&b), "the latest contracts");
    assert!(home.has("admin (open on loopback)"));

    let merchants = d.page("/dashboard/merchants").await;
    for shown in [MCHID, OTHER_MCHID, "Test Store", APPID, "12535"] {
        assert!(merchants.has(shown), "{shown} on the merchants page");
    }
    let m = d.page(&format!("/dashboard/merchants/{MCHID}")).await;
    for shown in [
        PUBLIC_KEY_ID,
        &app.merchant_serial(),
        &app.platform_serial(),
        SUB_MCHID,
        SUB_APPID,
        "Monthly membership",
        "partner",
        "config file",
        "papay.toml",
    ] {
        assert!(m.has(shown), "{shown} on the merchant page");
    }

    let all = d.page("/dashboard/contracts").await;
    assert!(all.has(&a) && all.has(&b));
    assert!(all.body.find(&b) < all.body.find(&a), "newest first");
    let only_a = d.page("/dashboard/contracts?out_contract_code=DASHA").await;
    assert!(only_a.has(&a) && !only_a.has(&b));
    let none = d.page("/dashboard/contracts?state=SIGNED").await;
    assert!(!none.has(&a) && none.has("No contract matches these filters"));
    let other = d.page(&format!("/dashboard/contracts?mchid={OTHER_MCHID}")).await;
    assert!(!other.has(&a));
    let by_plan = d
        .page(&format!(
            "/dashboard/contracts?mchid={MCHID}&plan_id={PLAN}&state=NOTSIGN&out_contract_code="
        ))
        .await;
    assert!(
        by_plan.has(&a) && by_plan.has(&b),
        "empty fields of the filter form count as absent"
    );
    let limited = d.page("/dashboard/contracts?limit=1").await;
    assert!(limited.has(&b) && !limited.has(&a) && limited.has("Showing the newest 1"));
}

#[tokio::test]
async fn user_actions_on_the_contract_page_change_its_state() {
    let app = spawn_app().await;
    let d = Dash::new(&app);
    let id = presign(&app, "DASHACT").await;
    let page = d.page(&format!("/dashboard/contracts/{id}")).await;
    assert!(page.has("id=\"agree\"") && page.has("id=\"decline\"") && page.has("id=\"expire\""));
    assert!(!page.has("terminate-user"), "nothing to terminate before signing");

    let signed = d.act(&format!("/dashboard/contracts/{id}/agree"), &[]).await;
    assert!(
        signed.has("data-state=\"SIGNED\"") && signed.has("USER_AGREED"),
        "{}",
        signed.body
    );
    assert!(signed.has("The user agreed"));
    assert!(signed.has("terminate-user") && !signed.has("id=\"agree\""));
    assert_eq!(
        app.contract_by_code(MCHID, "DASHACT").await["contract"]["state"],
        "SIGNED"
    );

    let ended = d
        .act(
            &format!("/dashboard/contracts/{id}/terminate"),
            &[("as", "PLATFORM"), ("note", "closed <b>account</b>")],
        )
        .await;
    assert!(ended.has("TERMINATED_BY_PLATFORM") && ended.has("data-state=\"TERMINATED\""));
    assert!(ended.has("closed &lt;b&gt;account&lt;/b&gt;"), "escaped");
    assert!(ended.has("PAPAY.TERMINATE"), "its notification is listed");

    let declined = presign(&app, "DASHDECLINE").await;
    let page = d.act(&format!("/dashboard/contracts/{declined}/decline"), &[]).await;
    assert!(page.has("USER_DECLINED") && page.has("data-state=\"SIGNFAIL\""));
    let expired = presign(&app, "DASHEXPIRE").await;
    let page = d.act(&format!("/dashboard/contracts/{expired}/expire"), &[]).await;
    assert!(page.has("SESSION_EXPIRED") && page.has("data-state=\"NOTSIGN\""));
    assert!(page.has("id=\"no-actions\""), "an expired session offers nothing");
    let again = d.post(&format!("/dashboard/contracts/{expired}/agree"), &[]).await;
    assert_eq!(again.status, 410, "{}", again.body);
    assert!(again.has("The signing session has expired"));

    let other = presign(&app, "DASHOPENID").await;
    let page = d
        .act(
            &format!("/dashboard/contracts/{other}/agree"),
            &[("openid", "someone_else")],
        )
        .await;
    assert!(
        page.has("SIGNING_FAILED_OPENID"),
        "the risk check applies as in the control API"
    );
}

#[tokio::test]
async fn bad_input_and_unknown_ids_are_clear_pages() {
    let app = spawn_app().await;
    let d = Dash::new(&app);
    let id = presign(&app, "DASHBAD").await;
    for (path, status, says) in [
        ("/dashboard/contracts/20261127000000000000", 404, "Contract not found"),
        ("/dashboard/contracts/not-an-id", 404, "Contract not found"),
        ("/dashboard/merchants/1234567890", 404, "Merchant not found"),
        ("/dashboard/merchants/abc", 404, "Merchant not found"),
        ("/dashboard/notifications/nope", 404, "Notification not found"),
        ("/dashboard/nowhere", 404, "Page not found"),
        ("/dashboard/contracts?state=BOGUS", 400, "is not a contract state"),
        ("/dashboard/contracts?plan_id=abc", 400, "plan_id"),
        ("/dashboard/contracts?limit=0", 400, "limit must be 1 to 500"),
        ("/dashboard/contracts?colour=red", 400, "unknown field"),
        ("/dashboard/contracts?state=SIGNED&state=NOTSIGN", 400, "given twice"),
        ("/dashboard/contracts?mchid=1234567890", 404, "Merchant not found"),
        ("/dashboard/notifications?status=LOST", 400, "is not PENDING"),
        ("/dashboard/notifications?contract_id=%F0%9F%98%80", 400, "contract_id"),
        ("/dashboard/contracts/1?done=hacked", 404, "Contract not found"),
    ] {
        let p = d.get(path).await;
        assert_eq!(p.status, status, "{path}: {}", p.body);
        assert!(p.content_type.starts_with("text/html"), "{path}");
        assert!(p.has(says), "{path} should say {says:?}: {}", p.body);
    }
    let done = d.get(&format!("/dashboard/contracts/{id}?done=hacked")).await;
    assert_eq!(done.status, 400, "a message outside the fixed set");
    for (path, form, status, says) in [
        (
            format!("/dashboard/contracts/{id}/agree"),
            vec![("openid", "not valid!")],
            400,
            "openid",
        ),
        (
            format!("/dashboard/contracts/{id}/agree"),
            vec![("evil", "1")],
            400,
            "unknown field",
        ),
        (
            format!("/dashboard/contracts/{id}/terminate"),
            vec![("as", "MERCHANT")],
            400,
            "USER",
        ),
        (
            format!("/dashboard/contracts/{id}/terminate"),
            vec![],
            400,
            "say who terminates",
        ),
        (
            format!("/dashboard/contracts/{id}/terminate"),
            vec![("as", "USER")],
            409,
            "cannot be terminated",
        ),
        (
            "/dashboard/contracts/20261127000000000000/decline".into(),
            vec![],
            404,
            "Contract not found",
        ),
        (
            format!("/dashboard/merchants/{MCHID}/clock/advance"),
            vec![("by", "soon")],
            400,
            "is not a duration",
        ),
        (
            format!("/dashboard/merchants/{MCHID}/clock/advance"),
            vec![],
            400,
            "by:",
        ),
        (
            format!("/dashboard/merchants/{MCHID}/reset"),
            vec![],
            400,
            "confirm must repeat",
        ),
        (
            format!("/dashboard/merchants/{MCHID}/reset"),
            vec![("confirm", OTHER_MCHID)],
            400,
            "confirm must repeat",
        ),
        (
            "/dashboard/notifications/nope/resend".into(),
            vec![("back", "contract")],
            404,
            "Notification not found",
        ),
        (
            format!("/dashboard/merchants/{MCHID}/notifications/pause"),
            vec![("back", "https://evil.example")],
            400,
            "not a dashboard page",
        ),
    ] {
        let p = d.post(&path, &form).await;
        assert_eq!(p.status, status, "POST {path} {form:?}: {}", p.body);
        assert!(p.content_type.starts_with("text/html"), "{path}");
        assert!(p.has(says), "POST {path} {form:?} should say {says:?}: {}", p.body);
    }
    let json = d
        .post_with(
            &format!("/dashboard/contracts/{id}/decline"),
            &[],
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(json.status, 400, "a form must be url-encoded: {}", json.body);
    let nowhere = d.post("/dashboard/nowhere", &[]).await;
    assert_eq!(nowhere.status, 404, "any method on an unknown dashboard path");
    assert!(nowhere.content_type.starts_with("text/html"));
    assert_eq!(
        app.contract_by_code(MCHID, "DASHBAD").await["contract"]["state"],
        "NOTSIGN",
        "nothing above changed the contract"
    );
}

#[tokio::test]
async fn merchant_clock_pause_and_reset_from_the_merchant_page() {
    let app = spawn_app().await;
    let d = Dash::new(&app);
    presign(&app, "DASHRESET").await;
    let base = format!("/dashboard/merchants/{MCHID}");

    let advanced = d.act(&format!("{base}/clock/advance"), &[("by", "2h 30m")]).await;
    assert!(
        advanced.has("+2h 30m") && advanced.has("clock moved ahead"),
        "{}",
        advanced.body
    );
    let (_, clock) = app
        .control("GET", &format!("/sandbox/v1/merchants/{MCHID}/clock"), None)
        .await;
    assert!(clock["offset_seconds"].as_i64().unwrap() >= 9000, "{clock}");
    let real = d.act(&format!("{base}/clock/reset"), &[]).await;
    assert!(real.has("real time"));
    let (_, clock) = app
        .control("GET", &format!("/sandbox/v1/merchants/{MCHID}/clock"), None)
        .await;
    assert_eq!(clock["offset_seconds"], 0);

    let paused = d.act(&format!("{base}/notifications/pause"), &[]).await;
    assert!(paused.has("data-paused=\"true\"") && paused.has("id=\"resume\""));
    let listed = d.page("/dashboard/merchants").await;
    assert!(listed.has("data-paused=\"true\""));
    let from_list = d
        .post(&format!("{base}/notifications/resume"), &[("back", "notifications")])
        .await;
    assert_eq!(
        from_list.location.as_deref(),
        Some(format!("/dashboard/notifications?mchid={MCHID}&done=resumed").as_str())
    );
    assert!(d.page(&base).await.has("data-paused=\"false\""));

    let confirm = d.page(&format!("{base}/reset")).await;
    assert!(
        confirm.has("1 contract") && confirm.has("confirm-reset"),
        "{}",
        confirm.body
    );
    let reset = d.act(&format!("{base}/reset"), &[("confirm", MCHID)]).await;
    assert!(reset.has("was reset") && reset.has("0 contracts"));
    let (_, list) = app
        .control("GET", &format!("/sandbox/v1/merchants/{MCHID}/contracts"), None)
        .await;
    assert_eq!(list["contracts"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn notification_attempts_appear_and_resend_adds_one() {
    let (app, receiver) = spawn_with_receiver().await;
    let d = Dash::new(&app);
    let c = app.client();
    let mut req = jsapi("DASHNOTIFY");
    req.success_notify_url = receiver.url("/sign");
    c.presign_jsapi(&req).await.unwrap();
    let id = c
        .query_contract_by_code("DASHNOTIFY", PLAN, &common())
        .await
        .unwrap()
        .contract_id;
    let none = d.page("/dashboard/notifications").await;
    assert!(none.has("No notifications yet"));

    d.act(&format!("/dashboard/contracts/{id}/agree"), &[]).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let page = wait_for_attempts(&d, &format!("/dashboard/contracts/{id}"), 1).await;
    assert!(
        page.has("PAPAY.SIGN") && page.has("data-status=\"DELIVERED\""),
        "{}",
        page.body
    );
    assert!(page.has("SUCCESS"), "the first bytes of the receiver's answer");

    let list = d
        .page(&format!("/dashboard/notifications?mchid={MCHID}&contract_id={id}"))
        .await;
    assert!(list.has("PAPAY.SIGN") && list.has(&id));
    let none = d.page(&format!("/dashboard/notifications?mchid={OTHER_MCHID}")).await;
    assert!(!none.has(&id));
    let nid = list
        .body
        .split("data-id=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();

    receiver.respond_with(500, "receiver down");
    let after = d
        .post(
            &format!("/dashboard/notifications/{nid}/resend"),
            &[("back", "contract")],
        )
        .await;
    assert_eq!(
        after.location.as_deref(),
        Some(format!("/dashboard/contracts/{id}?done=resent").as_str())
    );
    receiver.wait_for(2, Duration::from_secs(10)).await;
    let page = wait_for_attempts(&d, &format!("/dashboard/notifications/{nid}"), 2).await;
    assert!(
        page.has("data-outcome=\"FAILED\"") && page.has("receiver down"),
        "{}",
        page.body
    );
    assert!(page.has(">500<"), "the HTTP status of the failed attempt");
}

/// The page at `path` once it lists `n` delivery attempts.
async fn wait_for_attempts(d: &Dash<'_>, path: &str, n: usize) -> Page {
    let attempts = |p: &Page| p.body.matches("class=\"attempt\"").count();
    let p = poll(Duration::from_secs(10), || d.page(path), |p| attempts(p) >= n).await;
    assert_eq!(attempts(&p), n, "{path}: {}", p.body);
    p
}

async fn spawn_beyond_loopback() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    let config = format!("control_token = \"{ADMIN_TOKEN}\"\n{}", standard_config(false));
    std::fs::write(dir.path().join("papay.toml"), config).unwrap();
    spawn_config_on(dir, "0.0.0.0:0").await
}

#[tokio::test]
async fn beyond_loopback_the_dashboard_follows_the_control_api_rule() {
    let app = spawn_beyond_loopback().await;
    let id = presign(&app, "DASHACCESS").await;

    let anonymous = Dash::new(&app);
    let p = anonymous.get("/dashboard").await;
    assert_eq!(p.status, 401);
    assert!(p.has("Sign in to the dashboard") && !p.has(&id));
    let p = anonymous.post(&format!("/dashboard/contracts/{id}/agree"), &[]).await;
    assert_eq!(p.status, 401);
    let wrong = anonymous
        .post("/dashboard/login", &[("token", "not-a-token-at-all")])
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.has("papay knows no such token") && wrong.set_cookie.is_none());

    // Signing in through the form sets the cookie the browser then sends.
    let login = anonymous.post("/dashboard/login", &[("token", ADMIN_TOKEN)]).await;
    assert_eq!((login.status, login.location.as_deref()), (303, Some("/dashboard")));
    let set = login.set_cookie.unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/dashboard"),
        "{set}"
    );
    let mut admin = Dash::new(&app);
    admin.cookie = Some(set.split(';').next().unwrap().to_string());
    let home = admin.page("/dashboard").await;
    assert!(home.has(&id) && home.has("Sign out") && !home.has(ADMIN_TOKEN));
    assert!(admin.page("/dashboard/merchants").await.has(OTHER_MCHID));
    let out = admin.post("/dashboard/logout", &[]).await;
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    let stale = Dash {
        cookie: Some("papay_dashboard=revoked-token-xyz".into()),
        ..Dash::new(&app)
    };
    let p = stale.get("/dashboard").await;
    assert_eq!(p.status, 401);
    assert!(p.has("no longer valid") && p.set_cookie.unwrap().contains("Max-Age=0"));

    // The admin bearer token works too; a merchant's token sees only its merchant.
    let bearer = Dash::new(&app).bearer(ADMIN_TOKEN);
    assert!(bearer.page("/dashboard/contracts").await.has(&id));
    let (status, made) = app
        .control_as(
            Some(ADMIN_TOKEN),
            "POST",
            "/sandbox/v1/merchants",
            Some(serde_json::json!({"name": "Throwaway"})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let own = made["mchid"].as_str().unwrap();
    let merchant = Dash::new(&app).bearer(made["control_token"].as_str().unwrap());
    let mine = merchant.page("/dashboard/merchants").await;
    assert!(mine.has(own) && !mine.has(MCHID), "only its own merchant");
    assert!(mine.has(&format!("merchant {own}")) && mine.has("sandbox"));
    let contracts = merchant.page("/dashboard/contracts").await;
    assert!(!contracts.has(&id));
    assert_eq!(
        merchant.get(&format!("/dashboard/contracts/{id}")).await.status,
        404,
        "another merchant's contract looks missing"
    );
    assert_eq!(merchant.get(&format!("/dashboard/merchants/{MCHID}")).await.status, 403);
    assert_eq!(
        merchant
            .get(&format!("/dashboard/contracts?mchid={MCHID}"))
            .await
            .status,
        403
    );
    assert_eq!(
        merchant
            .post(&format!("/dashboard/contracts/{id}/agree"), &[])
            .await
            .status,
        404
    );
    assert_eq!(
        merchant
            .post(&format!("/dashboard/merchants/{MCHID}/notifications/pause"), &[])
            .await
            .status,
        403
    );

    // Cross-site POSTs are refused whoever is signed in.
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "https://evil.example")],
    ] {
        let p = bearer
            .post_with(&format!("/dashboard/contracts/{id}/agree"), &[], &headers)
            .await;
        assert_eq!(p.status, 403, "{headers:?}: {}", p.body);
        assert!(p.has("Cross-site request refused"));
        let p = anonymous
            .post_with("/dashboard/login", &[("token", ADMIN_TOKEN)], &headers)
            .await;
        assert_eq!(p.status, 403, "login CSRF: {headers:?}");
    }
    let (_, still) = app
        .control_as(Some(ADMIN_TOKEN), "GET", &format!("/sandbox/v1/contracts/{id}"), None)
        .await;
    assert_eq!(still["contract"]["state"], "NOTSIGN", "no refused POST changed it");
    let host = app.base_url.trim_start_matches("http://").to_string();
    let same = bearer
        .post_with(
            &format!("/dashboard/contracts/{id}/agree"),
            &[],
            &[("origin", &format!("http://{host}")), ("host", &host)],
        )
        .await;
    assert_eq!(same.status, 303, "{}", same.body);
}

#[tokio::test]
async fn on_loopback_cross_site_posts_are_refused_too() {
    let app = spawn_app().await;
    let id = presign(&app, "DASHCSRF").await;
    let d = Dash::new(&app);
    let p = d
        .post_with(
            &format!("/dashboard/contracts/{id}/agree"),
            &[],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(p.status, 403);
    assert_eq!(
        app.contract_by_code(MCHID, "DASHCSRF").await["contract"]["state"],
        "NOTSIGN"
    );
}

#[tokio::test]
async fn no_secret_appears_on_any_page() {
    let (app, receiver) = spawn_with_receiver().await;
    let d = Dash::new(&app);
    let c = app.client();
    let mut req = jsapi("DASHSECRET");
    req.success_notify_url = receiver.url("/sign");
    c.presign_jsapi(&req).await.unwrap();
    let id = c
        .query_contract_by_code("DASHSECRET", PLAN, &common())
        .await
        .unwrap()
        .contract_id;
    d.act(&format!("/dashboard/contracts/{id}/agree"), &[]).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let (_, made) = app.control("POST", "/sandbox/v1/merchants", None).await;
    let throwaway = made["mchid"].as_str().unwrap().to_string();
    let (_, listed) = app
        .control("GET", &format!("/sandbox/v1/merchants/{MCHID}/notifications"), None)
        .await;
    let nid = listed["notifications"][0]["id"].as_str().unwrap().to_string();

    let pem_body = |pem: &str| -> Vec<String> {
        pem.lines()
            .filter(|l| !l.starts_with("-----") && l.len() > 20)
            .map(String::from)
            .collect()
    };
    let k = keys();
    let mut secrets: Vec<String> = vec![
        k.apiv3_key.clone(),
        V2_KEY.into(),
        made["apiv3_key"].as_str().unwrap().into(),
        made["v2_key"].as_str().unwrap().into(),
        made["control_token"].as_str().unwrap().into(),
    ];
    secrets.extend(pem_body(&k.merchant_key));
    secrets.extend(pem_body(&k.platform_key));
    secrets.extend(pem_body(made["merchant_private_key_pem"].as_str().unwrap()));

    let mut pages = vec![
        "/dashboard".to_string(),
        "/dashboard/login".into(),
        "/dashboard/merchants".into(),
        "/dashboard/contracts".into(),
        format!("/dashboard/contracts/{id}"),
        "/dashboard/notifications".into(),
        format!("/dashboard/notifications/{nid}"),
        "/dashboard/requests".into(),
    ];
    for m in [
        MCHID,
        OTHER_MCHID,
        MCHID_NO_APIV3_KEY,
        MCHID_NO_CERTIFICATE,
        MCHID_EXPIRED_CERTIFICATE,
        &throwaway,
    ] {
        pages.push(format!("/dashboard/merchants/{m}"));
        pages.push(format!("/dashboard/merchants/{m}/reset"));
        pages.push(format!("/dashboard/contracts?mchid={m}"));
        pages.push(format!("/dashboard/notifications?mchid={m}"));
        pages.push(format!("/dashboard/requests?mchid={m}&failures=1"));
    }
    for path in &pages {
        let p = d.page(path).await;
        for s in &secrets {
            assert!(!p.has(s), "a secret ({}…) on {path}", &s[..8]);
        }
        assert!(!p.has("PRIVATE KEY"), "{path}");
    }
}

#[tokio::test]
async fn the_request_journal_shows_refused_signatures_beside_what_was_carried() {
    use papay_client::v2::{H5EntrustWebRequest, V2ApiKey, V2Client};
    let app = spawn_app().await;
    let d = Dash::new(&app);
    assert!(d.page("/dashboard/requests").await.has("No requests yet"));

    presign(&app, "DASHJOURNAL").await;
    let forged = app
        .client_builder()
        .merchant(
            MCHID,
            app.merchant_serial(),
            papay_protocol::keys::PrivateKey::generate().unwrap(),
        )
        .build()
        .unwrap();
    assert!(forged.presign_jsapi(&jsapi("DASHFORGED")).await.is_err());
    let wrong_v2 = V2Client::new(
        &app.base_url,
        MCHID,
        V2ApiKey::parse("0123456789abcdef0123456789abcdef").unwrap(),
    )
    .unwrap();
    let h5 = H5EntrustWebRequest::new(
        APPID,
        PLAN.to_string(),
        "DASHV2",
        1,
        "Zhang San",
        "https://yoursite.com/n",
        "119.145.83.6",
    );
    assert!(wrong_v2.h5entrustweb(&h5).await.is_err());

    let all = d.page("/dashboard/requests").await;
    assert!(
        all.has("/v3/global/papay/contracts/jsapi-pre-entrust-sign") && all.has("data-status=\"200\""),
        "{}",
        all.body
    );
    let failed = d.page(&format!("/dashboard/requests?mchid={MCHID}&failures=1")).await;
    assert!(!failed.has("data-code=\"\""), "failures only");
    assert_eq!(failed.body.matches("class=\"signature\"").count(), 2, "{}", failed.body);
    assert!(failed.has("SIGN_ERROR") && failed.has("papay expected this to be signed"));
    assert!(
        failed.has("POST<span class=\"nl\">\\n</span>\n/v3/global/papay/contracts/jsapi-pre-entrust-sign<span class=\"nl\">\\n</span>"),
        "the APIv3 signing string, line ends visible: {}",
        failed.body
    );
    assert!(
        failed.has("key=&lt;redacted&gt;"),
        "the v2 string names the key without showing it"
    );
    assert!(!failed.has(V2_KEY));
    let other = d.page(&format!("/dashboard/requests?mchid={OTHER_MCHID}")).await;
    assert!(other.has("No requests yet"));
    assert_eq!(d.get("/dashboard/requests?failures=maybe").await.status, 400);
    assert_eq!(d.get("/dashboard/requests?mchid=1234567890").await.status, 404);
    let home = d.page("/dashboard").await;
    assert!(home.has("id=\"count-failures\"><b>2</b>"), "{}", home.body);
}
