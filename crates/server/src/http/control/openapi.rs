//! The control API's OpenAPI 3.1 document, generated from the handlers' annotations and
//! served at `/sandbox/v1/openapi.json`, so the document cannot drift from the code.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{clock, contracts, error, faults, merchants, notifications, sessions, views};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "papay test-control API",
        description = "Plays the WeChat user, drives each merchant's virtual clock, injects faults and makes throwaway merchants. Open on loopback; elsewhere send `Authorization: Bearer <admin or merchant control token>`. See docs/control-api.md."
    ),
    paths(
        sessions::resolve, sessions::agree, sessions::decline, sessions::expire,
        contracts::list, contracts::get, contracts::terminate,
        clock::show, clock::advance, clock::set, clock::reset,
        faults::add, faults::list, faults::clear,
        merchants::create, merchants::delete, merchants::reset,
        notifications::list, notifications::get, notifications::resend, notifications::pause, notifications::resume,
    ),
    components(schemas(error::ErrorBody, views::SessionView, views::ContractDetail, views::TransitionView)),
    modifiers(&BearerToken, &UniqueOperationIds),
    security(("bearer" = [])),
    tags((name = "control", description = "The test-control API"))
)]
pub struct ControlApi;

/// The bearer scheme, and the answers every operation can give: malformed input (400), a
/// missing or unknown token (401), papay failing (500).
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = doc.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
        for item in doc.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete]
                .into_iter()
                .flatten()
            {
                crate::http::openapi::add_error_answers(
                    &mut op.responses.responses,
                    &[
                        ("400", "PARAM_ERROR: malformed input"),
                        ("401", "UNAUTHORIZED: token missing (off loopback) or unknown"),
                        ("500", "SYSTEMERROR"),
                    ],
                );
            }
        }
    }
}

/// Handler names repeat across modules (`list`, `get`, …) and utoipa uses them as
/// `operationId`s, which OpenAPI requires to be unique: each becomes `<method>_<path words>`.
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for (path, item) in doc.paths.paths.iter_mut() {
            let words: Vec<&str> = path
                .trim_start_matches("/sandbox/v1/")
                .split('/')
                .map(|w| w.trim_matches(|c| c == '{' || c == '}'))
                .collect();
            let words = words.join("_");
            for (method, op) in [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
            ] {
                if let Some(op) = op {
                    op.operation_id = Some(format!("{method}_{words}"));
                }
            }
        }
    }
}

/// `GET /sandbox/v1/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ControlApi::openapi())
}
