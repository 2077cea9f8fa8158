//! The public OpenAPI documents (`/openapi/*.json`) and their page (`/openapi`): each is a
//! well-formed OpenAPI 3.1 document whose operations are exactly papay's routes, every
//! documented route answers, and the page shows and links every operation.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use crate::helpers::*;

const APIV3: &[&str] = &[
    "GET /v3/certificates",
    "GET /v3/global/certificates",
    "GET /hk/v3/certificates",
    "POST /v3/global/papay/contracts/miniprogram-pre-entrust-sign",
    "POST /v3/global/papay/contracts/h5-pre-entrust-sign",
    "POST /v3/global/papay/contracts/jsapi-pre-entrust-sign",
    "POST /v3/global/papay/contracts/web-pre-entrust-sign",
    "POST /v3/global/papay/contracts/app-pre-entrust-sign",
    "GET /v3/global/papay/contracts/{contract_id}",
    "GET /v3/global/papay/contracts/out-contract-code/{out_contract_code}",
    "POST /v3/global/papay/contracts/{contract_id}/terminate",
];

const APIV2: &[&str] = &[
    "GET /papay/h5entrustweb",
    "GET /papay/partner/h5entrustweb",
    "POST /papay/querycontract",
    "POST /papay/partner/querycontract",
    "POST /papay/deletecontract",
    "POST /papay/partner/deletecontract",
];

const CONTROL: &[&str] = &[
    "POST /sandbox/v1/links/resolve",
    "POST /sandbox/v1/sessions/{session_id}/agree",
    "POST /sandbox/v1/sessions/{session_id}/decline",
    "POST /sandbox/v1/sessions/{session_id}/expire",
    "GET /sandbox/v1/contracts/{contract_id}",
    "POST /sandbox/v1/contracts/{contract_id}/terminate",
    "POST /sandbox/v1/merchants",
    "DELETE /sandbox/v1/merchants/{mchid}",
    "POST /sandbox/v1/merchants/{mchid}/reset",
    "GET /sandbox/v1/merchants/{mchid}/contracts",
    "GET /sandbox/v1/merchants/{mchid}/clock",
    "PUT /sandbox/v1/merchants/{mchid}/clock",
    "DELETE /sandbox/v1/merchants/{mchid}/clock",
    "POST /sandbox/v1/merchants/{mchid}/clock/advance",
    "GET /sandbox/v1/merchants/{mchid}/notifications",
    "POST /sandbox/v1/merchants/{mchid}/notifications/pause",
    "POST /sandbox/v1/merchants/{mchid}/notifications/resume",
    "GET /sandbox/v1/notifications/{id}",
    "POST /sandbox/v1/notifications/{id}/resend",
    "GET /sandbox/v1/merchants/{mchid}/faults",
    "POST /sandbox/v1/merchants/{mchid}/faults",
    "DELETE /sandbox/v1/merchants/{mchid}/faults",
];

/// The router's source files: every literal path given to `.route(` is an API route.
const ROUTER_SOURCES: [&str; 3] = [
    include_str!("../../src/http/mod.rs"),
    include_str!("../../src/http/v2/mod.rs"),
    include_str!("../../src/http/control/mod.rs"),
];

/// Routes that are not API operations: the catch-all 404s and the documents themselves.
const NOT_OPERATIONS: [&str; 3] = ["/v3/{*rest}", "/hk/v3/{*rest}", "/sandbox/v1/openapi.json"];

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    reqwest::get(format!("{}{path}", app.base_url)).await.unwrap()
}

async fn document(app: &TestApp, path: &str) -> Value {
    let r = get(app, path).await;
    assert_eq!(r.status(), 200, "{path}");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    r.json().await.unwrap()
}

/// `METHOD path` of every operation.
fn operations(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    out
}

/// The structural rules of OpenAPI 3.1 that matter to tools: version, info, unique
/// operationIds, declared path parameters, responses everywhere, resolvable `$ref`s.
fn assert_well_formed(doc: &Value, name: &str) {
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{name}: {}",
        doc["openapi"]
    );
    assert!(
        doc["info"]["title"].is_string() && doc["info"]["version"].is_string(),
        "{name}"
    );
    let mut ids = HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} {method} {path}: no operationId"));
            assert!(ids.insert(id.to_string()), "{name}: operationId {id} is not unique");
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{name} {method} {path}");
            for (status, r) in responses {
                assert!(
                    status.len() == 3 && status.parse::<u16>().is_ok(),
                    "{name} {method} {path}: {status}"
                );
                assert!(r["description"].is_string(), "{name} {method} {path} {status}");
            }
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let param = segment.trim_matches(|c| c == '{' || c == '}');
                assert!(declared.contains(&param), "{name} {method} {path}: {param} undeclared");
            }
        }
    }
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = &reference[..reference.find('"').unwrap()];
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{name}: external $ref {target}"));
        assert!(doc.pointer(pointer).is_some(), "{name}: $ref {target} does not resolve");
    }
}

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn each_document_is_openapi_3_1_and_lists_exactly_its_routes() {
    let app = spawn_app().await;
    for (path, expected) in [
        ("/openapi/apiv3.json", APIV3),
        ("/openapi/apiv2.json", APIV2),
        ("/openapi/control.json", CONTROL),
    ] {
        let doc = document(&app, path).await;
        assert_well_formed(&doc, path);
        assert_eq!(operations(&doc), set(expected), "{path}");
    }
    let legacy = document(&app, "/sandbox/v1/openapi.json").await;
    assert_eq!(legacy, document(&app, "/openapi/control.json").await);
}

#[tokio::test]
async fn every_route_of_the_router_is_documented() {
    let documented: BTreeSet<String> = APIV3
        .iter()
        .chain(APIV2)
        .chain(CONTROL)
        .map(|op| op.split_once(' ').unwrap().1.to_string())
        .collect();
    let mut routed = BTreeSet::new();
    for source in ROUTER_SOURCES {
        for call in source.split(".route(").skip(1) {
            let literal = call.trim_start();
            if let Some(rest) = literal.strip_prefix('"') {
                routed.insert(rest[..rest.find('"').unwrap()].to_string());
            }
        }
    }
    let api = |p: &&String| {
        ["/v3/", "/hk/v3/", "/papay/", "/sandbox/v1/"]
            .iter()
            .any(|pre| p.starts_with(pre))
    };
    let undocumented: Vec<&String> = routed
        .iter()
        .filter(api)
        .filter(|p| !NOT_OPERATIONS.contains(&p.as_str()) && !documented.contains(*p))
        .collect();
    assert!(routed.len() > 30, "the router's routes were not found: {routed:?}");
    assert!(undocumented.is_empty(), "routes without a document: {undocumented:?}");
}

#[tokio::test]
async fn every_documented_apiv3_and_apiv2_operation_is_routed() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    for op in APIV3.iter().chain(APIV2) {
        let (method, path) = op.split_once(' ').unwrap();
        let concrete = path
            .replace("{contract_id}", "99999999999999999999")
            .replace("{out_contract_code}", "C1");
        let r = http
            .request(method.parse().unwrap(), format!("{}{concrete}", app.base_url))
            .body(if method == "POST" { "<xml></xml>" } else { "" })
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
        let body = r.text().await.unwrap();
        if path.starts_with("/papay/") {
            assert_eq!(status, 200, "{op}: {body}");
            assert!(content_type.starts_with("text/xml"), "{op}: {content_type}");
            assert!(body.contains("<return_code>"), "{op}: {body}");
        } else {
            // Unsigned: the route exists and authenticates (not 404 NOT_FOUND / 405).
            assert_eq!(status, 401, "{op}: {body}");
            assert!(body.contains("SIGN_ERROR"), "{op}: {body}");
        }
    }
}

#[tokio::test]
async fn the_page_shows_and_links_every_operation_and_schema() {
    let app = spawn_app().await;
    let r = get(&app, "/openapi").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..40]);
    for offline in ["<script", "<link", "src=\"http", "@import"] {
        assert!(!html.contains(offline), "the page must work offline: {offline}");
    }
    for (key, path) in [
        ("apiv3", "/openapi/apiv3.json"),
        ("apiv2", "/openapi/apiv2.json"),
        ("control", "/openapi/control.json"),
    ] {
        assert!(html.contains(&format!("href=\"{path}\"")), "{path}");
        let doc = document(&app, path).await;
        for (p, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let anchor = format!("op-{key}-{}", op["operationId"].as_str().unwrap());
                assert!(
                    html.contains(&format!("id=\"{anchor}\"")),
                    "{method} {p}: no section {anchor}"
                );
                assert!(
                    html.contains(&format!("href=\"#{anchor}\"")),
                    "{method} {p}: not linked"
                );
                assert!(html.contains(&format!(">{p}<")), "{method} {p}: path not shown");
            }
        }
        for name in doc["components"]["schemas"].as_object().unwrap().keys() {
            assert!(
                html.contains(&format!("id=\"schema-{key}-{name}\"")),
                "{key} schema {name}"
            );
        }
    }
    // Every in-page link lands on a section.
    for link in html.split("href=\"#").skip(1) {
        let target = &link[..link.find('"').unwrap()];
        assert!(html.contains(&format!("id=\"{target}\"")), "dangling link #{target}");
    }
    for shown in [
        "PresignRequest",
        "ErrorBody",
        "Wechatpay-Signature",
        "Request-ID",
        "WECHATPAY2-SHA256-RSA2048",
        "&lt;xml&gt;",
    ] {
        assert!(html.contains(shown), "{shown}");
    }
}
