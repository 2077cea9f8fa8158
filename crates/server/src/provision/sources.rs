//! Where the running papay's merchant credentials came from, as paths only, so an operator
//! looking at the dashboard knows which file to open without papay ever showing a secret.

use std::path::PathBuf;

use crate::store::Origin;

/// The config file or demo directory this process provisioned from.
#[derive(Debug, Clone, Default)]
pub struct CredentialSources {
    /// `--config`, when given.
    pub config_file: Option<PathBuf>,
    /// `DATA_DIR/demo/`, when papay bootstrapped the demo merchant.
    pub demo_dir: Option<PathBuf>,
}

impl CredentialSources {
    /// Where a merchant of `origin` keeps its credentials, in words.
    pub fn describe(&self, origin: Origin) -> String {
        match (origin, &self.config_file, &self.demo_dir) {
            (Origin::Config, Some(file), _) => format!("config file {}", file.display()),
            (Origin::Config, None, _) => "a config file of an earlier start (papay runs without --config now)".into(),
            (Origin::Demo, _, Some(dir)) => format!("demo data directory {}", dir.display()),
            (Origin::Demo, _, None) => "the demo data directory of an earlier start".into(),
            (Origin::Sandbox, _, _) => {
                "throwaway: made through the control API, credentials only in papay's database (handed out once)".into()
            }
        }
    }
}
