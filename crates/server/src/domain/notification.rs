//! Notifications as the domain sees them: the retry schedule of PROTOCOL.md §3.6 and what an
//! attempt's answer means (§3.4). Sending, signing and encryption live outside the domain.

use time::Duration;

/// When each attempt is due, counted from the event (merchant time): the first at once, then
/// +15 s, +30 s, +60 s, +4 min, +34 min, +64 min, +94 min, +124 min, +184 min.
pub const SCHEDULE_SECONDS: [i64; 10] = [0, 15, 30, 60, 240, 2_040, 3_840, 5_640, 7_440, 11_040];

/// Attempts before papay gives up (merchants are told to query the contract afterwards).
pub const MAX_ATTEMPTS: u32 = SCHEDULE_SECONDS.len() as u32;

/// How long a receiver may take to answer before the attempt counts as failed (§3.1).
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The offset from the event of attempt number `n` (1-based), or `None` past the last.
pub fn offset_of_attempt(n: u32) -> Option<Duration> {
    let i = usize::try_from(n.checked_sub(1)?).ok()?;
    SCHEDULE_SECONDS.get(i).map(|s| Duration::seconds(*s))
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    GaveUp,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::GaveUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "PENDING",
            DeliveryStatus::Delivered => "DELIVERED",
            DeliveryStatus::GaveUp => "GAVE_UP",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Any 2xx: delivered, whatever the body says (§3.4 DECISION).
    Delivered,
    /// Another status, a timeout, or no connection.
    Failed,
    /// Not sent: an injected fault dropped it. Counts as a failed attempt.
    Dropped,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "DELIVERED",
            AttemptOutcome::Failed => "FAILED",
            AttemptOutcome::Dropped => "DROPPED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            AttemptOutcome::Delivered,
            AttemptOutcome::Failed,
            AttemptOutcome::Dropped,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }

    /// What an HTTP status means for delivery.
    pub fn of_status(status: u16) -> Self {
        if (200..300).contains(&status) {
            AttemptOutcome::Delivered
        } else {
            AttemptOutcome::Failed
        }
    }
}

/// After attempt number `n` ended with `outcome`: the new status, and when the next attempt is
/// due (offset from the event) if there is one.
pub fn after_attempt(n: u32, outcome: AttemptOutcome) -> (DeliveryStatus, Option<Duration>) {
    if outcome == AttemptOutcome::Delivered {
        return (DeliveryStatus::Delivered, None);
    }
    match offset_of_attempt(n + 1) {
        Some(next) => (DeliveryStatus::Pending, Some(next)),
        None => (DeliveryStatus::GaveUp, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_the_documented_one() {
        // §3.6: intervals 15 s, 15 s, 30 s, 180 s, 1800 s ×4, 3600 s.
        let intervals: Vec<i64> = SCHEDULE_SECONDS.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(intervals, [15, 15, 30, 180, 1800, 1800, 1800, 1800, 3600]);
        assert_eq!(MAX_ATTEMPTS, 10);
        assert_eq!(offset_of_attempt(1), Some(Duration::ZERO));
        assert_eq!(offset_of_attempt(10), Some(Duration::minutes(184)));
        assert_eq!(offset_of_attempt(0), None);
        assert_eq!(offset_of_attempt(11), None);
    }

    #[test]
    fn attempts_move_the_status() {
        assert_eq!(
            after_attempt(1, AttemptOutcome::Delivered),
            (DeliveryStatus::Delivered, None)
        );
        assert_eq!(
            after_attempt(1, AttemptOutcome::Failed),
            (DeliveryStatus::Pending, Some(Duration::seconds(15)))
        );
        assert_eq!(
            after_attempt(9, AttemptOutcome::Dropped),
            (DeliveryStatus::Pending, Some(Duration::minutes(184)))
        );
        assert_eq!(
            after_attempt(10, AttemptOutcome::Failed),
            (DeliveryStatus::GaveUp, None)
        );
        for s in [200, 204, 299] {
            assert_eq!(AttemptOutcome::of_status(s), AttemptOutcome::Delivered);
        }
        for s in [199, 301, 400, 500] {
            assert_eq!(AttemptOutcome::of_status(s), AttemptOutcome::Failed);
        }
        for d in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(d.as_str()), Some(d));
        }
    }
}
