//! Notifications as the domain sees them: the retry schedules of PROTOCOL.md §3.6 (APIv3) and
//! §5.5 (APIv2), and what an attempt's answer means (§3.4, §5.5). Sending, signing and
//! encryption live outside the domain.

use time::Duration;

/// APIv3: when each attempt is due, counted from the event (merchant time): the first at once,
/// then +15 s, +30 s, +60 s, +4 min, +34 min, +64 min, +94 min, +124 min, +184 min.
pub const SCHEDULE_SECONDS: [i64; 10] = [0, 15, 30, 60, 240, 2_040, 3_840, 5_640, 7_440, 11_040];

/// APIv2: intervals 0/10/10/10/30/30/30 s, then 300 s ×23: 30 attempts, the last at 7020 s.
pub const V2_SCHEDULE_SECONDS: [i64; 30] = [
    0, 10, 20, 30, 60, 90, 120, 420, 720, 1020, 1320, 1620, 1920, 2220, 2520, 2820, 3120, 3420, 3720, 4020, 4320, 4620,
    4920, 5220, 5520, 5820, 6120, 6420, 6720, 7020,
];

/// How long a receiver may take to answer before the attempt counts as failed (§3.1).
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Which retry schedule a notification follows: its contract's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    V3,
    V2,
}

impl Schedule {
    /// Offsets of every attempt from the event, in seconds.
    pub fn offsets(self) -> &'static [i64] {
        match self {
            Schedule::V3 => &SCHEDULE_SECONDS,
            Schedule::V2 => &V2_SCHEDULE_SECONDS,
        }
    }

    /// Attempts before papay gives up (merchants are told to query the contract afterwards).
    pub fn max_attempts(self) -> u32 {
        self.offsets().len() as u32
    }

    /// The offset from the event of attempt number `n` (1-based), or `None` past the last.
    pub fn offset_of_attempt(self, n: u32) -> Option<Duration> {
        let i = usize::try_from(n.checked_sub(1)?).ok()?;
        self.offsets().get(i).map(|s| Duration::seconds(*s))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::V3 => "V3",
            Schedule::V2 => "V2",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Schedule::V3, Schedule::V2].into_iter().find(|x| x.as_str() == s)
    }
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
    /// Acknowledged: APIv3 any 2xx whatever the body says (§3.4 DECISION); APIv2 a 2xx whose
    /// XML says `return_code` SUCCESS (§5.5).
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
pub fn after_attempt(schedule: Schedule, n: u32, outcome: AttemptOutcome) -> (DeliveryStatus, Option<Duration>) {
    if outcome == AttemptOutcome::Delivered {
        return (DeliveryStatus::Delivered, None);
    }
    match schedule.offset_of_attempt(n + 1) {
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
        let v3 = Schedule::V3;
        assert_eq!(v3.max_attempts(), 10);
        assert_eq!(v3.offset_of_attempt(1), Some(Duration::ZERO));
        assert_eq!(v3.offset_of_attempt(10), Some(Duration::minutes(184)));
        assert_eq!(v3.offset_of_attempt(0), None);
        assert_eq!(v3.offset_of_attempt(11), None);
    }

    #[test]
    fn the_v2_schedule_is_the_documented_one() {
        // §5.5: 0/10/10/10/30/30/30 s, then 300 s ×23; 30 attempts, the last at 7020 s.
        let intervals: Vec<i64> = V2_SCHEDULE_SECONDS.windows(2).map(|w| w[1] - w[0]).collect();
        let mut expected = vec![10, 10, 10, 30, 30, 30];
        expected.extend([300; 23]);
        assert_eq!(intervals, expected);
        let v2 = Schedule::V2;
        assert_eq!(v2.max_attempts(), 30);
        assert_eq!(v2.offset_of_attempt(1), Some(Duration::ZERO));
        assert_eq!(v2.offset_of_attempt(30), Some(Duration::seconds(7020)));
        assert_eq!(v2.offset_of_attempt(31), None);
        assert_eq!(
            after_attempt(v2, 29, AttemptOutcome::Failed),
            (DeliveryStatus::Pending, Some(Duration::seconds(7020)))
        );
        assert_eq!(
            after_attempt(v2, 30, AttemptOutcome::Failed),
            (DeliveryStatus::GaveUp, None)
        );
        for s in [Schedule::V3, Schedule::V2] {
            assert_eq!(Schedule::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn attempts_move_the_status() {
        assert_eq!(
            after_attempt(Schedule::V3, 1, AttemptOutcome::Delivered),
            (DeliveryStatus::Delivered, None)
        );
        assert_eq!(
            after_attempt(Schedule::V3, 1, AttemptOutcome::Failed),
            (DeliveryStatus::Pending, Some(Duration::seconds(15)))
        );
        assert_eq!(
            after_attempt(Schedule::V3, 9, AttemptOutcome::Dropped),
            (DeliveryStatus::Pending, Some(Duration::minutes(184)))
        );
        assert_eq!(
            after_attempt(Schedule::V3, 10, AttemptOutcome::Failed),
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
