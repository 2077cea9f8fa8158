//! The request journal page. A merchant's token sees only that merchant's requests; requests
//! papay could not tie to a merchant (malformed headers, unknown mchid) only the admin sees.

use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::input::Fields;
use super::{ok, DashError, Viewer};
use crate::dashboard::{self, RequestFilterView};
use crate::http::control::{self, Caller, ControlError};
use crate::http::AppState;
use crate::observe::JournalFilter;

const DEFAULT_LIMIT: u32 = 100;

/// `GET /dashboard/requests?mchid=&failures=1&limit=`
pub async fn list(State(state): State<AppState>, viewer: Viewer, RawQuery(q): RawQuery) -> Result<Response, DashError> {
    let f = Fields::query(q.as_deref())?;
    f.only(&["mchid", "failures", "limit"])?;
    let failures_only = match f.get("failures") {
        None => false,
        Some("1" | "on" | "true") => true,
        Some(other) => {
            return Err(ControlError::Param(format!("failures {other:?}: use failures=1 for failures only")).into())
        }
    };
    let limit = f.limit(DEFAULT_LIMIT)?;
    let mchid = match (f.get("mchid"), &viewer.caller) {
        (Some(raw), _) => Some(
            control::merchant_in_path(&state, &viewer.caller, raw)
                .await?
                .mchid
                .to_string(),
        ),
        (None, Caller::Merchant(own)) => Some(own.to_string()),
        (None, Caller::Admin) => None,
    };
    let entries = state.journal().recent(&JournalFilter {
        mchid,
        failures_only,
        limit: Some(usize::try_from(limit).unwrap_or(usize::MAX)),
    });
    let merchants = super::merchants::visible(&state, &viewer.caller)
        .await?
        .iter()
        .map(|l| l.mchid.to_string())
        .collect();
    let view = RequestFilterView {
        mchid: f.get("mchid").map(String::from),
        failures_only,
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
        merchants,
    };
    Ok(ok(dashboard::request_list(viewer.who(), &view, &entries)))
}
