//! Configuration: defaults, then the TOML file, then `PAPAY_…` environment variables, then
//! command-line flags. Everything is read and checked before anything starts, so a bad
//! config stops start-up with one line naming the file and the field, never a half-start.

mod file;
mod resolve;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Toml};
use figment::Figment;

pub use file::FileConfig;
pub use resolve::{MerchantProvision, Provisioning};

/// A configuration problem: which file, which field, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {field}: {problem}")]
pub struct ConfigError {
    pub file: String,
    pub field: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(file: impl Into<String>, field: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            file: file.into(),
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Values given on the command line; they override the file and the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
}

/// The resolved configuration the server runs with.
#[derive(Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Base of links papay hands out; `None` means "the address actually bound".
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub replay_protection: bool,
    /// Bearer token of the control API's administrator (required off loopback).
    pub control_token: Option<secrecy::SecretString>,
    pub notify: NotifySettings,
    /// Merchants and plans to provision; `None` means "bootstrap the demo merchant".
    pub provisioning: Option<Provisioning>,
    /// The config file read, if any (shown by the dashboard as where credentials live).
    pub config_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub extra_ca_files: Vec<PathBuf>,
    pub allow_private_targets: bool,
    /// How long the notification worker's claims hold ([`DEFAULT_LEASE_SECONDS`] unless set).
    pub lease: Duration,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "papay-data";
/// `[notify] lease_seconds` when not given, and the range accepted.
pub const DEFAULT_LEASE_SECONDS: u64 = 60;
pub const LEASE_SECONDS_RANGE: std::ops::RangeInclusive<u64> = 5..=3600;
const ENV_KEYS: [&str; 7] = [
    "listen",
    "control_token",
    "public_url",
    "data_dir",
    "database_url",
    "replay_protection",
    "notify.allow_private_targets",
];

impl Settings {
    /// Loads `config` (if any) layered with the environment and `overrides`.
    pub fn load(config: Option<&Path>, overrides: &Overrides) -> Result<Settings, ConfigError> {
        let file_label = config
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "environment".into());
        let mut figment = Figment::new();
        if let Some(path) = config {
            if !path.is_file() {
                return Err(ConfigError::new(file_label, "--config", "no such file"));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed("PAPAY_")
                .split("__")
                .filter(|k| ENV_KEYS.iter().any(|known| k.as_str().eq_ignore_ascii_case(known))),
        );
        let raw: FileConfig = figment.extract().map_err(|e| figment_error(&file_label, e))?;

        let listen_text = overrides
            .listen
            .clone()
            .or(raw.listen.clone())
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen_text.parse::<SocketAddr>().map_err(|e| {
            ConfigError::new(
                &file_label,
                "listen",
                format!("{listen_text:?} is not an address:port ({e})"),
            )
        })?;
        let data_dir = overrides
            .data_dir
            .clone()
            .or_else(|| raw.data_dir.as_ref().map(|d| d.relative()))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let public_url = overrides.public_url.clone().or(raw.public_url.clone());
        if let Some(url) = &public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::new(
                    &file_label,
                    "public_url",
                    "must start with http:// or https://",
                ));
            }
        }
        let database_url = overrides.database_url.clone().or(raw.database_url.clone());
        let lease_seconds = raw.notify.lease_seconds.unwrap_or(DEFAULT_LEASE_SECONDS);
        if !LEASE_SECONDS_RANGE.contains(&lease_seconds) {
            return Err(ConfigError::new(
                &file_label,
                "notify.lease_seconds",
                format!(
                    "{lease_seconds} is out of range: seconds from {} to {}",
                    LEASE_SECONDS_RANGE.start(),
                    LEASE_SECONDS_RANGE.end()
                ),
            ));
        }
        let notify = NotifySettings {
            extra_ca_files: raw.notify.extra_ca_files.iter().map(|p| p.relative()).collect(),
            allow_private_targets: raw.notify.allow_private_targets,
            lease: Duration::from_secs(lease_seconds),
        };
        for (i, ca) in notify.extra_ca_files.iter().enumerate() {
            if !ca.is_file() {
                return Err(ConfigError::new(
                    &file_label,
                    format!("notify.extra_ca_files[{i}]"),
                    format!("cannot read {}", ca.display()),
                ));
            }
        }
        let provisioning = match config {
            Some(_) => Some(resolve::resolve(&file_label, &raw)?),
            None => None,
        };
        Ok(Settings {
            config_file: config.map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())),
            listen,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
            data_dir,
            database_url,
            replay_protection: raw.replay_protection,
            control_token: match raw.control_token.as_deref().map(str::trim) {
                None => None,
                Some(t) if t.len() >= 16 => Some(secrecy::SecretString::from(t.to_string())),
                Some(_) => {
                    return Err(ConfigError::new(
                        &file_label,
                        "control_token",
                        "must be at least 16 characters",
                    ))
                }
            },
            notify,
            provisioning,
        })
    }
}

/// Reads only the merchants and plans of a config file (no environment layering).
pub fn load_provisioning(path: &Path) -> Result<Provisioning, ConfigError> {
    let label = path.display().to_string();
    let raw: FileConfig = Figment::new()
        .merge(Toml::file_exact(path))
        .extract()
        .map_err(|e| figment_error(&label, e))?;
    resolve::resolve(&label, &raw)
}

fn figment_error(file: &str, e: figment::Error) -> ConfigError {
    let field = if e.path.is_empty() {
        "(file)".to_string()
    } else {
        e.path.join(".")
    };
    ConfigError::new(file, field, e.kind.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The only test in this binary that touches `PAPAY_…` variables.
    #[test]
    fn environment_overrides_defaults_and_flags_override_environment() {
        std::env::set_var("PAPAY_LISTEN", "127.0.0.1:9999");
        std::env::set_var("PAPAY_NOTIFY__ALLOW_PRIVATE_TARGETS", "false");
        std::env::set_var("PAPAY_REPLAY_PROTECTION", "true");
        let from_env = Settings::load(None, &Overrides::default());
        let flagged = Settings::load(
            None,
            &Overrides {
                listen: Some("127.0.0.1:7777".into()),
                ..Overrides::default()
            },
        );
        for var in [
            "PAPAY_LISTEN",
            "PAPAY_NOTIFY__ALLOW_PRIVATE_TARGETS",
            "PAPAY_REPLAY_PROTECTION",
        ] {
            std::env::remove_var(var);
        }
        let from_env = from_env.unwrap();
        assert_eq!(from_env.listen.to_string(), "127.0.0.1:9999");
        assert!(!from_env.notify.allow_private_targets);
        assert!(from_env.replay_protection);
        assert_eq!(flagged.unwrap().listen.to_string(), "127.0.0.1:7777");
        assert_eq!(
            Settings::load(None, &Overrides::default()).unwrap().listen.to_string(),
            DEFAULT_LISTEN
        );
    }
}
