//! Receiving signing and termination notifications (PROTOCOL.md §3) in a merchant's handler.
//!
//! The notification URL is public, so nothing in a body counts until its signature verified
//! over the exact bytes received: [`Client::receive_notification`] refuses unsigned, stale
//! (≥ 5 min, e.g. replayed) and `WECHATPAY/SIGNTEST/` probe deliveries before it parses or
//! decrypts anything. On any error the receiver must answer 4xx/5xx (§3.4); WeChat Pay retries
//! real notifications and expects exactly that for probes.

use http::HeaderMap;
use papay_protocol::notifications::{self, Notification, OpenError, PapayEvent, ALGORITHM, RESOURCE_TYPE};

use crate::client::now_secs;
use crate::{Client, Error};

/// A notification whose signature verified and whose resource decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNotification {
    /// The body as received. `envelope.id` is the same on every retry: deduplicate by it (§3.5).
    pub envelope: Notification,
    /// The decrypted `envelope.resource`.
    pub event: PapayEvent,
    /// The `Wechatpay-Serial` whose certificate or public key verified the signature.
    pub signed_by: String,
}

impl Client {
    /// Verifies a notification's `Wechatpay-*` headers over `body` with the platform
    /// certificates or public key this client holds, refuses timestamps 5 minutes or more from
    /// the local clock and signature probes ([`Error::SignatureProbe`]), then decrypts the
    /// resource with the APIv3 key. Answer 2xx only when this returns `Ok`.
    pub fn receive_notification(&self, headers: &HeaderMap, body: &[u8]) -> Result<VerifiedNotification, Error> {
        self.receive_notification_at(headers, body, now_secs())
    }

    /// [`receive_notification`](Self::receive_notification) with the clock at `now` (Unix
    /// seconds).
    pub fn receive_notification_at(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<VerifiedNotification, Error> {
        let signed_by = self.verify_notification_at(headers, body, now)?;
        let envelope: Notification =
            serde_json::from_slice(body).map_err(|e| Error::Decode(format!("notification envelope: {e}")))?;
        if envelope.resource_type != RESOURCE_TYPE {
            return Err(Error::Verification(format!(
                "notification resource_type {:?} is not {RESOURCE_TYPE}",
                envelope.resource_type
            )));
        }
        let event = notifications::open(self.apiv3_key()?, &envelope.resource).map_err(|e| match e {
            OpenError::Algorithm(a) => {
                Error::Verification(format!("notification resource algorithm {a:?} is not {ALGORITHM}"))
            }
            OpenError::Aead(e) => Error::Decrypt(e),
            OpenError::Json(m) => Error::Decode(format!("notification resource: {m}")),
        })?;
        Ok(VerifiedNotification {
            envelope,
            event,
            signed_by,
        })
    }
}
