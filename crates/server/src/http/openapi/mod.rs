//! papay's OpenAPI 3.1 documents, public like WeChat's own docs: `/openapi/apiv3.json` (the
//! Global APIv3 routes), `/openapi/apiv2.json` (the domestic v2 routes), `/openapi/control.json`
//! (the control API, also at `/sandbox/v1/openapi.json`), and `/openapi`, a readable page of
//! all three. The documents are built once, on first use, from the code (see each module).

mod apiv2;
mod apiv3;
mod page;

use std::sync::OnceLock;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use super::control::openapi::ControlApi;
use super::AppState;

pub const PAGE_PATH: &str = "/openapi";
pub const APIV3_PATH: &str = "/openapi/apiv3.json";
pub const APIV2_PATH: &str = "/openapi/apiv2.json";
pub const CONTROL_PATH: &str = "/openapi/control.json";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PAGE_PATH, get(page))
        .route(APIV3_PATH, get(|| json(apiv3())))
        .route(APIV2_PATH, get(|| json(apiv2())))
        .route(CONTROL_PATH, get(|| json(control())))
}

fn apiv3() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(apiv3::document)
}

fn apiv2() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(apiv2::document)
}

fn control() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        use utoipa::OpenApi;
        serde_json::to_value(ControlApi::openapi()).unwrap_or_default()
    })
}

/// Adds each `(status, description)` an operation does not document itself as an answer with
/// the `ErrorBody` schema: the errors every operation of a document can give.
pub(crate) fn add_error_answers(
    responses: &mut std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>>,
    answers: &[(&str, &str)],
) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    for (status, description) in answers {
        responses.entry((*status).to_string()).or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(*description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        });
    }
}

async fn json(doc: &'static Value) -> Response {
    (
        [(CONTENT_TYPE, "application/json"), (CACHE_CONTROL, "no-cache")],
        doc.to_string(),
    )
        .into_response()
}

async fn page() -> Html<String> {
    static PAGE: OnceLock<String> = OnceLock::new();
    Html(
        PAGE.get_or_init(|| {
            page::render(&[
                page::Doc {
                    key: "apiv3",
                    json_path: APIV3_PATH,
                    value: apiv3(),
                },
                page::Doc {
                    key: "apiv2",
                    json_path: APIV2_PATH,
                    value: apiv2(),
                },
                page::Doc {
                    key: "control",
                    json_path: CONTROL_PATH,
                    value: control(),
                },
            ])
            .into_string()
        })
        .clone(),
    )
}
