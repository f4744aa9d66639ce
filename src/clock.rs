//! The daemon's idea of now: the wall clock, or a sped-up clock for demos and tests.
//!
//! Everything that needs the time takes a [`Clock`], so the core can be tested with tokio's
//! paused time and a demo can play a day in a minute. The wall clock re-reads the system time
//! at least once a minute while it sleeps, so a laptop that was suspended, or a clock that was
//! corrected, never makes a post late by more than that.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The longest the wall clock sleeps before looking at the time again.
pub const MAX_NAP: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// The system's time.
    Wall,
    /// Runs `speed` times faster than tokio's clock, starting at `origin`.
    Scaled { origin: DateTime<Utc>, start: tokio::time::Instant, speed: f64 },
}

impl Clock {
    /// A clock that reads `origin` now and runs `speed` times faster than real time.
    pub fn scaled(origin: DateTime<Utc>, speed: f64) -> Clock {
        Clock::Scaled { origin, start: tokio::time::Instant::now(), speed: speed.max(f64::MIN_POSITIVE) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match *self {
            Clock::Wall => Utc::now(),
            Clock::Scaled { origin, start, speed } => {
                let real = start.elapsed().as_secs_f64() * speed;
                // Float-to-integer casts saturate; the addition saturates too.
                crate::checked::saturating_add(origin, chrono::Duration::microseconds((real * 1e6) as i64))
            }
        }
    }

    pub fn speed(&self) -> f64 {
        match *self {
            Clock::Wall => 1.0,
            Clock::Scaled { speed, .. } => speed,
        }
    }

    /// How long real time takes to pass `span` of this clock's time.
    pub fn real(&self, span: Duration) -> Duration {
        Duration::try_from_secs_f64(span.as_secs_f64() / self.speed()).unwrap_or(Duration::MAX)
    }

    /// Sleeps until this clock reads `deadline` (at once if it already has).
    pub async fn sleep_until(&self, deadline: DateTime<Utc>) {
        loop {
            let left = match (deadline - self.now()).to_std() {
                Ok(d) if !d.is_zero() => d,
                _ => return,
            };
            let nap = match self {
                Clock::Wall => left.min(MAX_NAP),
                Clock::Scaled { .. } => self.real(left),
            };
            // Round up so the deadline has passed on waking, not a microsecond before it.
            tokio::time::sleep(nap.saturating_add(Duration::from_micros(1))).await;
        }
    }

    /// Sleeps for `span` of this clock's time.
    pub async fn sleep(&self, span: Duration) {
        let deadline = crate::checked::saturating_after(self.now(), span);
        self.sleep_until(deadline).await;
    }
}

/// governor reads the same clock, so a rate is kept in the clock's time (a sped-up demo keeps
/// its rates sped up, and paused tests stay deterministic).
impl governor::clock::Clock for Clock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        let t = Clock::now(self);
        Duration::new(t.timestamp().max(0) as u64, t.timestamp_subsec_nanos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_scaled_clock_runs_fast_and_sleeps_short() {
        let origin = DateTime::parse_from_rfc3339("2010-03-18T10:00:00Z").unwrap().with_timezone(&Utc);
        let c = Clock::scaled(origin, 600.0);
        let real = tokio::time::Instant::now();
        c.sleep_until(origin + chrono::Duration::hours(1)).await;
        assert_eq!(real.elapsed().as_secs(), 6);
        assert!(c.now() >= origin + chrono::Duration::hours(1));
        assert!(c.now() < origin + chrono::Duration::seconds(3601));
        // A deadline in the past returns at once.
        let before = tokio::time::Instant::now();
        c.sleep_until(origin).await;
        assert_eq!(before.elapsed(), Duration::ZERO);
    }
}
