//! The notification worker: claims due notifications from the outbox under a lease, sends
//! each attempt (fresh signature, fixed body), records it with the next due time, and sleeps
//! until new work or the next due time. No transaction is held across HTTP; a crashed
//! instance's claims are taken over once its lease runs out.

mod envelope;
mod sender;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

use crate::domain::fault::{Fault, FaultEndpoint, FaultKind};
use crate::domain::notification::{after_attempt, AttemptOutcome, Schedule};
use crate::http::AppState;
use crate::store::{Attempt, ClaimedNotification};

use sender::Wire;
pub use sender::{Sender, SenderError};

/// Notifications claimed at once.
const BATCH: u32 = 256;
/// Attempts in flight at once.
const CONCURRENCY: usize = 64;
/// The longest sleep without a look at the queue (other instances may have added work).
const MAX_IDLE: Duration = Duration::from_secs(2);
/// Pause when work is due but cannot be claimed (another instance's lease, a paused merchant).
const BLOCKED_BACKOFF: Duration = Duration::from_millis(500);

/// Wakes the worker when there may be new due work (a notification queued, a clock changed).
#[derive(Debug, Clone, Default)]
pub struct Wakeup(Arc<Notify>);

impl Wakeup {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

pub struct Worker {
    state: AppState,
    sender: Arc<Sender>,
    owner: String,
    /// How long a claim holds (`[notify] lease_seconds`, 60 s by default): well over the attempt
    /// timeout, so a live worker never loses one.
    lease: Duration,
}

impl Worker {
    pub fn new(state: AppState, sender: Sender, lease: Duration) -> Self {
        Worker {
            state,
            sender: Arc::new(sender),
            owner: format!("papay-{}", papay_protocol::nonce::upper_hex::<8>()),
            lease,
        }
    }

    /// Delivers until `stop` turns true; attempts in flight then finish and are recorded.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let wakeup = self.state.wakeup().clone();
        tracing::info!(owner = %self.owner, "notification worker started");
        while !*stop.borrow() {
            let now = self.state.clock().now();
            let wait = match self
                .state
                .store()
                .claim_notifications(&self.owner, now, self.lease, BATCH)
                .await
            {
                Ok(batch) if !batch.is_empty() => {
                    self.deliver(batch).await;
                    continue;
                }
                Ok(_) => match self.state.store().next_notification_due().await {
                    Ok(Some(due)) if due > now => (due - now).try_into().unwrap_or(MAX_IDLE).min(MAX_IDLE),
                    Ok(Some(_)) => BLOCKED_BACKOFF,
                    Ok(None) => MAX_IDLE,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the notification queue");
                        MAX_IDLE
                    }
                },
                Err(e) => {
                    tracing::error!(error = %e, "cannot claim notifications");
                    MAX_IDLE
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = wakeup.0.notified() => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!(owner = %self.owner, "notification worker stopped");
    }

    async fn deliver(&self, batch: Vec<ClaimedNotification>) {
        let prepared = match envelope::prepare_batch(&self.state, &batch).await {
            Ok(p) => p,
            Err(e) => {
                // The leases run out and the batch is tried again.
                tracing::error!(error = %e, "cannot prepare notifications");
                return;
            }
        };
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        let mut tasks = JoinSet::new();
        for (n, prepared) in batch.into_iter().zip(prepared) {
            let (state, sender, permits) = (self.state.clone(), self.sender.clone(), permits.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                attempt(&state, &sender, n, prepared).await
            });
        }
        let mut done = Vec::new();
        while let Some(result) = tasks.join_next().await {
            match result {
                Ok(Some(a)) => done.push(a),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "a delivery task failed"),
            }
        }
        if let Err(e) = self.state.store().record_attempts(&self.owner, &done).await {
            // The leases run out and the attempts are made again: duplicates, never losses.
            tracing::error!(error = %e, "cannot record delivery attempts");
        }
    }
}

/// Makes one attempt of `n`; `None` when the notification can no longer be sent at all.
async fn attempt(
    state: &AppState,
    sender: &Sender,
    n: ClaimedNotification,
    prepared: Result<envelope::Prepared, envelope::Unsendable>,
) -> Option<Attempt> {
    let prepared = match prepared {
        Ok(p) => p,
        Err(envelope::Unsendable::Gone) => return None,
        Err(envelope::Unsendable::Store(e)) => {
            tracing::error!(id = %n.id, error = %e, "cannot prepare a notification");
            return None;
        }
        Err(envelope::Unsendable::Because(why)) => {
            return Some(record(state, &n, None, String::new(), failure(why)));
        }
    };
    let request_id = format!("{}-0", papay_protocol::nonce::upper_hex::<20>());
    let key = match n.schedule {
        Schedule::V2 => None,
        Schedule::V3 => match prepared.merchant.signing_key(None) {
            Some(key) => Some(key),
            None => {
                let why = failure("the merchant has no platform key".into());
                return Some(record(state, &n, Some(&prepared.merchant), prepared.url, why));
            }
        },
    };
    // APIv2 has no probe signature: a SIGNTEST fault sends a v2 notification as it is.
    let wire = |probe: bool| match key {
        Some(key) => Wire::V3 { key, probe },
        None => Wire::V2,
    };
    let send = |probe: bool| sender.send(&prepared.url, &prepared.body, wire(probe), &request_id);
    let sent = match injected_fault(state, &prepared.merchant).await {
        Some(f) if f.kind == FaultKind::Drop => sender::Sent::unanswered(
            AttemptOutcome::Dropped,
            None,
            "not sent: dropped by an injected DROP fault".into(),
        ),
        Some(f) if f.kind == FaultKind::Duplicate => {
            let first = send(false).await;
            send(false).await;
            first
        }
        Some(f) if f.kind == FaultKind::Latency => {
            tokio::time::sleep(Duration::from_millis(u64::from(f.latency_ms))).await;
            send(false).await
        }
        Some(f) => send(f.kind == FaultKind::SignTest).await,
        None => send(false).await,
    };
    tracing::info!(
        id = %n.id, mchid = %n.mchid, event_type = %n.event_type, attempt = n.attempts + 1,
        status = ?sent.http_status, outcome = sent.outcome.as_str(), latency_ms = sent.latency.as_millis() as u64,
        "notification attempt"
    );
    Some(record(state, &n, Some(&prepared.merchant), prepared.url, sent))
}

/// The notification fault injected into this attempt, if the merchant has one pending.
async fn injected_fault(state: &AppState, merchant: &crate::domain::merchant::Merchant) -> Option<Fault> {
    if !merchant.sandbox.faults_pending {
        return None;
    }
    match state
        .store()
        .take_fault(&merchant.mchid, FaultEndpoint::Notifications)
        .await
    {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "cannot read injected faults");
            None
        }
    }
}

fn failure(why: String) -> sender::Sent {
    sender::Sent::unanswered(AttemptOutcome::Failed, None, why)
}

fn record(
    state: &AppState,
    n: &ClaimedNotification,
    merchant: Option<&crate::domain::merchant::Merchant>,
    url: String,
    sent: sender::Sent,
) -> Attempt {
    state
        .metrics()
        .attempt(n.schedule.as_str(), sent.outcome.as_str(), sent.latency.as_secs_f64());
    let real = state.clock().now();
    let (status, next) = after_attempt(n.schedule, n.attempts + 1, sent.outcome);
    Attempt {
        notification_id: n.id.clone(),
        at: real,
        virtual_at: merchant.map_or(real, |m| m.now(real)),
        url,
        http_status: sent.http_status,
        latency: sent.latency,
        outcome: sent.outcome,
        error: sent.error,
        response_head: sent.response_head,
        status,
        next_due: next.map(|offset| n.schedule_base + offset),
    }
}
