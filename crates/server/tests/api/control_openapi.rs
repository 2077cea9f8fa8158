//! The served OpenAPI document describes routes that exist, with the answers they give.

use crate::helpers::*;

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = spawn_app().await;
    let (status, doc) = app.control("GET", "/sandbox/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path
            .replace("{session_id}", "20261127000000000000000000000000000000000000000")
            .replace("{contract_id}", "99999999999999999999")
            .replace("{mchid}", OTHER_MCHID);
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let body = op.get("requestBody").map(|_| serde_json::json!({}));
            let (status, answer) = app.control(&method.to_uppercase(), &concrete, body).await;
            assert_ne!(status, 405, "{method} {path}");
            assert!(
                !(status == 404 && answer["code"] == "NOT_FOUND"),
                "{method} {path} is documented but not routed"
            );
            let documented = op["responses"].as_object().unwrap();
            assert!(
                documented.contains_key(&status.to_string()),
                "{method} {path} answered {status}, which the document does not list: {answer}"
            );
        }
    }
    assert_eq!(operations, 22);
}
