//! The HTTP edge: routing, the APIv3 transport (authentication and response signing),
//! `Request-ID`s, and the mapping of errors to wire answers. Handlers stay thin.

pub mod auth;
mod certificates;
pub(crate) mod contracts;
pub mod control;
mod dashboard;
pub mod error;
mod input;
pub mod lang;
pub mod links;
mod observe;
mod openapi;
mod pages;
mod replay;
pub mod request_id;
mod transport;
pub(crate) mod v2;

use std::sync::Arc;

use axum::middleware::from_fn_with_state;
use axum::routing::{any, get, post};
use axum::Router;

use crate::directory::Directory;
use crate::domain::clock::Clock;
use crate::store::Store;
use error::ApiError;
use replay::NonceCache;

pub use transport::MAX_BODY_BYTES;

/// What every handler can reach, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    store: Arc<dyn Store>,
    directory: Directory,
    clock: Arc<dyn Clock>,
    replay: Option<NonceCache>,
    public_url: String,
    control: ControlAccess,
    wakeup: crate::notify::Wakeup,
    sources: crate::provision::CredentialSources,
    metrics: crate::observe::Metrics,
    journal: crate::observe::Journal,
}

/// Who may use the control API: everyone when papay listens on loopback only, else holders
/// of the admin token (or of a merchant's own token).
#[derive(Debug, Clone)]
pub struct ControlAccess {
    pub open_without_token: bool,
    pub admin_token: Option<secrecy::SecretString>,
}

impl ControlAccess {
    pub fn is_admin(&self, token: &str) -> bool {
        use secrecy::ExposeSecret;
        self.admin_token.as_ref().is_some_and(|t| {
            aws_lc_rs::constant_time::verify_slices_are_equal(t.expose_secret().as_bytes(), token.as_bytes()).is_ok()
        })
    }
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        replay_protection: bool,
        public_url: String,
        control: ControlAccess,
    ) -> Self {
        AppState(Arc::new(Inner {
            public_url,
            control,
            wakeup: crate::notify::Wakeup::default(),
            sources: crate::provision::CredentialSources::default(),
            metrics: crate::observe::Metrics::default(),
            journal: crate::observe::Journal::default(),
            directory: Directory::new(store.clone()),
            store,
            clock,
            replay: replay_protection.then(NonceCache::default),
        }))
    }

    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }
    pub fn directory(&self) -> &Directory {
        &self.0.directory
    }
    pub fn clock(&self) -> &dyn Clock {
        self.0.clock.as_ref()
    }
    /// Base of the links papay hands out (no trailing slash).
    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }
    /// Tells the notification worker there may be new due work.
    pub fn wakeup(&self) -> &crate::notify::Wakeup {
        &self.0.wakeup
    }
    pub fn control(&self) -> &ControlAccess {
        &self.0.control
    }
    /// Where the merchants' credentials came from (paths, never secrets).
    pub fn sources(&self) -> &crate::provision::CredentialSources {
        &self.0.sources
    }
    /// Sets [`AppState::sources`]; only while the state is not shared yet (right after `new`).
    pub fn with_sources(mut self, sources: crate::provision::CredentialSources) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.0) {
            inner.sources = sources;
        }
        self
    }
    pub fn metrics(&self) -> &crate::observe::Metrics {
        &self.0.metrics
    }
    /// The requests this instance answered lately, for the dashboard.
    pub fn journal(&self) -> &crate::observe::Journal {
        &self.0.journal
    }
    fn replay(&self) -> Option<&NonceCache> {
        self.0.replay.as_ref()
    }
}

pub fn router(state: AppState) -> Router {
    let apiv3 = Router::new()
        .route("/v3/certificates", get(certificates::list))
        .route("/v3/global/certificates", get(certificates::list))
        .route("/hk/v3/certificates", get(certificates::list))
        .route(
            "/v3/global/papay/contracts/miniprogram-pre-entrust-sign",
            post(contracts::miniprogram),
        )
        .route("/v3/global/papay/contracts/h5-pre-entrust-sign", post(contracts::h5))
        .route(
            "/v3/global/papay/contracts/jsapi-pre-entrust-sign",
            post(contracts::jsapi),
        )
        .route("/v3/global/papay/contracts/web-pre-entrust-sign", post(contracts::web))
        .route("/v3/global/papay/contracts/app-pre-entrust-sign", post(contracts::app))
        .route("/v3/global/papay/contracts/{contract_id}", get(contracts::by_id))
        .route(
            "/v3/global/papay/contracts/out-contract-code/{out_contract_code}",
            get(contracts::by_code),
        )
        .route(
            "/v3/global/papay/contracts/{contract_id}/terminate",
            post(contracts::terminate),
        )
        .route("/v3/{*rest}", any(not_found))
        .route("/hk/v3/{*rest}", any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), transport::apiv3));
    Router::new()
        .merge(apiv3)
        .route("/healthz", get(observe::healthz))
        .route("/readyz", get(observe::readyz))
        .route("/metrics", get(observe::metrics))
        .merge(control::routes())
        .merge(dashboard::routes())
        .merge(v2::routes())
        .merge(openapi::routes())
        .route(links::V2_REDIRECT_PATH, get(pages::v2_redirect))
        .route(links::SIGN_PATH, get(pages::sign_page).post(pages::decide))
        .route(links::SHOW_CODE_PATH, get(pages::show_code))
        .route(links::OPEN_PATH, get(pages::open))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), observe::middleware))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
