//! How papay logs: `tracing` events on standard error, human-readable by default or one JSON
//! object per line with `--log-format json`. Each request's events sit inside its `request`
//! span (`request_id`, `method`, `route`, `mchid`; see `http/observe.rs`), which the JSON
//! lines carry as `span` and `spans`. Events never carry secrets or notification plaintext:
//! keys live in redacting types, and deliveries are logged by id, status and outcome.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// The filter when `PAPAY_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info";

/// The subscriber papay logs through, writing to `writer`.
pub fn subscriber<W>(format: LogFormat, filter: EnvFilter, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().finish()),
    }
}

/// `PAPAY_LOG` as a filter (e.g. `debug`, `papay=debug,sqlx=warn`), else [`DEFAULT_FILTER`].
pub fn filter_from_env() -> EnvFilter {
    EnvFilter::try_from_env("PAPAY_LOG").unwrap_or_else(|_| DEFAULT_FILTER.into())
}
