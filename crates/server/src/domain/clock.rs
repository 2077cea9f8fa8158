//! Time as an input. The server reads the time through a [`Clock`] so that tests and the
//! virtual clock can control it; nothing in the domain calls `now()` itself.

use time::OffsetDateTime;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A merchant's virtual clock (test-control API): real time, shifted and scaled from an
/// anchor. Drives that merchant's session expiry, contract times and notification retries;
/// response `Wechatpay-Timestamp` headers stay on real time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VirtualClock {
    /// A real instant and the virtual instant it maps to.
    pub anchor_real: OffsetDateTime,
    pub anchor_virtual: OffsetDateTime,
    /// Virtual seconds per real second; 0 freezes the clock.
    pub speed: f64,
}

/// The fastest a virtual clock may run.
pub const MAX_SPEED: f64 = 10_000.0;

impl VirtualClock {
    /// The virtual time at real time `real`.
    pub fn at(&self, real: OffsetDateTime) -> OffsetDateTime {
        let elapsed = (real - self.anchor_real).as_seconds_f64() * self.speed;
        self.anchor_virtual + time::Duration::seconds_f64(elapsed)
    }

    /// The clock that reads `virtual_now` at `real` and runs at `speed` from there.
    pub fn anchored(real: OffsetDateTime, virtual_now: OffsetDateTime, speed: f64) -> Self {
        VirtualClock {
            anchor_real: real,
            anchor_virtual: virtual_now,
            speed,
        }
    }

    /// How far ahead of real time the clock reads at `real`.
    pub fn offset(&self, real: OffsetDateTime) -> time::Duration {
        self.at(real) - real
    }
}

/// A merchant's time: its virtual clock if it has one, else real time.
pub fn merchant_now(clock: Option<&VirtualClock>, real: OffsetDateTime) -> OffsetDateTime {
    clock.map_or(real, |c| c.at(real))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn virtual_clock_shifts_and_scales() {
        let real = datetime!(2026-11-27 10:00:00 UTC);
        let c = VirtualClock::anchored(real, real + time::Duration::hours(2), 60.0);
        assert_eq!(c.at(real), real + time::Duration::hours(2));
        assert_eq!(
            c.at(real + time::Duration::seconds(10)),
            real + time::Duration::hours(2) + time::Duration::minutes(10)
        );
        let frozen = VirtualClock::anchored(real, real, 0.0);
        assert_eq!(frozen.at(real + time::Duration::hours(5)), real);
        assert_eq!(merchant_now(None, real), real);
        assert_eq!(c.offset(real), time::Duration::hours(2));
    }
}
