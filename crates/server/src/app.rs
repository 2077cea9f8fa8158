//! `App::build(settings)` wires configuration, storage, provisioning and HTTP together and
//! binds the listener; `run_until_stopped()` serves until SIGINT/SIGTERM. Tests build the same
//! `App` on port 0 with a temporary data directory.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::{ConfigError, Settings};
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::merchant::Merchant;
use crate::http::{router, AppState, ControlAccess};
use crate::notify::{Sender, SenderError, Worker};
use crate::provision::credentials::CredentialError;
use crate::provision::demo::{self, DemoInfo};
use crate::provision::{self, ProvisionError};
use crate::store::{Origin, PgStore, SqliteStore, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Provision(#[from] ProvisionError),
    #[error("{0}")]
    Credentials(#[from] CredentialError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("notifications: {0}")]
    Notify(#[from] SenderError),
}

/// The demo merchant, when papay bootstrapped one.
#[derive(Debug, Clone)]
pub struct Demo {
    pub info: DemoInfo,
    pub merchant: Merchant,
    pub plan_id: Option<i64>,
}

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    worker: Worker,
    base_url: String,
    merchants: Vec<Merchant>,
    demo: Option<Demo>,
}

impl App {
    pub async fn build(settings: Settings) -> Result<App, StartError> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(settings: Settings, clock: Arc<dyn Clock>) -> Result<App, StartError> {
        std::fs::create_dir_all(&settings.data_dir).map_err(|source| StartError::DataDir {
            path: settings.data_dir.display().to_string(),
            source,
        })?;
        let store = open_store(&settings).await?;

        let (provisioning, origin, demo_info) = match settings.provisioning {
            Some(p) => (p, Origin::Config, None),
            None => {
                let info = demo::ensure(&settings.data_dir, clock.now())?;
                let p = crate::config::load_provisioning(&info.config)?;
                (p, Origin::Demo, Some(info))
            }
        };
        let merchants = provision::apply(store.as_ref(), &provisioning, origin, clock.now()).await?;
        let demo = demo_info.and_then(|info| {
            let merchant = merchants.first()?.clone();
            let plan_id = provisioning.plans.first().map(|p| p.plan_id.get());
            Some(Demo {
                info,
                merchant,
                plan_id,
            })
        });

        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: settings.listen.to_string(),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| StartError::Bind {
            addr: settings.listen.to_string(),
            source,
        })?;
        let base_url = settings.public_url.clone().unwrap_or_else(|| format!("http://{local}"));
        let control = ControlAccess {
            open_without_token: settings.listen.ip().is_loopback(),
            admin_token: settings.control_token.clone(),
        };
        let sources = crate::provision::CredentialSources {
            config_file: settings.config_file.clone(),
            demo_dir: demo.as_ref().map(|d| d.info.dir.clone()),
        };
        let state =
            AppState::new(store, clock, settings.replay_protection, base_url.clone(), control).with_sources(sources);
        let sender = Sender::new(&settings.notify)?;
        Ok(App {
            listener,
            worker: Worker::new(state.clone(), sender, settings.notify.lease),
            router: router(state),
            base_url,
            merchants,
            demo,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Where papay's links point (`public_url`, else the bound address).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The merchants provisioned at start.
    pub fn merchants(&self) -> &[Merchant] {
        &self.merchants
    }

    pub fn demo(&self) -> Option<&Demo> {
        self.demo.as_ref()
    }

    /// Serves until SIGINT or SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves and delivers notifications until `shutdown`, then finishes in-flight requests
    /// and delivery attempts.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(self.worker.run(stopped));
        let service = self
            .router
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
        let _ = stop.send(true);
        if let Err(e) = worker.await {
            tracing::error!(error = %e, "the notification worker failed");
        }
        served
    }
}

async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, StartError> {
    match settings.database_url.as_deref() {
        None => Ok(Arc::new(
            SqliteStore::open_file(&settings.data_dir.join("papay.db")).await?,
        )),
        Some(url) if url.starts_with("sqlite:") => Ok(Arc::new(SqliteStore::open_url(url).await?)),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(PgStore::open_url(url).await?))
        }
        Some(_) => {
            Err(ConfigError::new("database_url", "database_url", "must start with sqlite: or postgres://").into())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
