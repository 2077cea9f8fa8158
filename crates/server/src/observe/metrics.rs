//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format. Counters and
//! histograms count what this instance did; the gauges (contracts by state, notifications
//! waiting) are read from the database at scrape time, so every instance of a shared
//! database reports the same figures for them.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::domain::contract::ContractState;
use crate::store::StoreGauges;

/// The answer's `Content-Type`.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    family: &'static str,
    route: String,
    method: String,
    status: u16,
    /// The answer's error code, `OK` when there is none.
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    family: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignatureLabels {
    family: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    api: &'static str,
    outcome: &'static str,
}

/// One answered request, as the metrics see it.
pub struct RequestSample<'a> {
    pub family: &'static str,
    pub route: &'a str,
    pub method: &'a str,
    pub status: u16,
    pub code: Option<&'static str>,
    pub seconds: f64,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    signature_failures: Family<SignatureLabels, Counter>,
    attempts: Family<AttemptLabels, Counter>,
    attempt_latency: Family<AttemptLabels, Histogram, fn() -> Histogram>,
    contracts: Family<StateLabels, Gauge>,
    queue_depth: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("papay");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by API family, route template, method, HTTP status and error code",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from receiving a request to its answer, by API family and route template",
            latency.clone(),
        );
        let signature_failures = Family::<SignatureLabels, Counter>::default();
        registry.register(
            "signature_failures",
            "Requests refused because of their signature or Authorization header, by reason",
            signature_failures.clone(),
        );
        let attempts = Family::<AttemptLabels, Counter>::default();
        registry.register(
            "notification_attempts",
            "Notification delivery attempts, by API (v3, v2) and outcome (DELIVERED, FAILED, DROPPED)",
            attempts.clone(),
        );
        let attempt_latency =
            Family::<AttemptLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "notification_attempt_duration_seconds",
            "Time a delivery attempt took, from sending to the receiver's answer or the failure",
            attempt_latency.clone(),
        );
        let contracts = Family::<StateLabels, Gauge>::default();
        registry.register(
            "contracts",
            "Contracts in the database, by state (read at scrape time)",
            contracts.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "notification_queue_depth",
            "Notifications still to be delivered (PENDING), read at scrape time",
            queue_depth.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            signature_failures,
            attempts,
            attempt_latency,
            contracts,
            queue_depth,
        }
    }
}

impl Metrics {
    pub fn request(&self, s: &RequestSample<'_>) {
        self.requests
            .get_or_create(&RequestLabels {
                family: s.family,
                route: s.route.to_string(),
                method: s.method.to_string(),
                status: s.status,
                code: s.code.unwrap_or("OK"),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                family: s.family,
                route: s.route.to_string(),
            })
            .observe(s.seconds);
    }

    pub fn signature_failure(&self, family: &'static str, reason: &'static str) {
        self.signature_failures
            .get_or_create(&SignatureLabels { family, reason })
            .inc();
    }

    pub fn attempt(&self, api: &'static str, outcome: &'static str, seconds: f64) {
        let labels = AttemptLabels { api, outcome };
        self.attempts.get_or_create(&labels).inc();
        self.attempt_latency.get_or_create(&labels).observe(seconds);
    }

    /// The exposition, with the database gauges set from `gauges`.
    pub fn render(&self, gauges: &StoreGauges) -> String {
        for state in ContractState::ALL {
            let n = gauges
                .contracts_by_state
                .iter()
                .find(|(s, _)| *s == state)
                .map_or(0, |(_, n)| *n);
            self.contracts
                .get_or_create(&StateLabels { state: state.as_str() })
                .set(n);
        }
        self.queue_depth.set(gauges.notifications_pending);
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("cannot encode the metrics");
        }
        out
    }
}
