//! The overview at `/dashboard`: counts over the merchants the viewer sees, and the latest
//! contracts.

use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::input::Fields;
use super::{ok, DashError, Viewer};
use crate::dashboard::{self, OverviewView};
use crate::http::control::Caller;
use crate::http::AppState;
use crate::observe::JournalFilter;
use crate::store::ContractFilter;

/// How many of the newest contracts the overview lists.
const LATEST: u32 = 8;

/// `GET /dashboard`
pub async fn show(State(state): State<AppState>, viewer: Viewer, RawQuery(q): RawQuery) -> Result<Response, DashError> {
    Fields::query(q.as_deref())?.only(&[])?;
    let listing = super::merchants::visible(&state, &viewer.caller).await?;
    let mchids: Vec<_> = listing.iter().map(|l| l.mchid.clone()).collect();
    let latest = super::contracts::across(
        &state,
        &mchids,
        &ContractFilter {
            limit: LATEST,
            ..ContractFilter::default()
        },
    )
    .await?;
    let journal = state.journal().recent(&JournalFilter {
        mchid: match &viewer.caller {
            Caller::Merchant(own) => Some(own.to_string()),
            Caller::Admin => None,
        },
        ..JournalFilter::default()
    });
    let view = OverviewView {
        merchants: listing.len(),
        contracts: listing.iter().map(|l| l.contracts).sum(),
        pending_notifications: listing.iter().map(|l| l.pending_notifications).sum(),
        paused_merchants: listing.iter().filter(|l| l.notifications_paused).count(),
        requests: journal.len(),
        failed_requests: journal.iter().filter(|e| e.failed()).count(),
        latest,
    };
    Ok(ok(dashboard::overview(viewer.who(), &view)))
}
