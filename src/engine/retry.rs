//! How long to wait before trying a failed request again (pure).

use std::time::Duration;

/// The first wait's ceiling.
pub const BASE: Duration = Duration::from_secs(2);
/// No wait is longer than this, so a server that comes back is used within five minutes.
pub const CAP: Duration = Duration::from_secs(300);

/// Exponential backoff with full jitter: a wait drawn uniformly (by `unit` in [0, 1)) from
/// zero to `min(cap, base × 2^(failures − 1))`.
pub fn backoff(failures: u32, base: Duration, cap: Duration, unit: f64) -> Duration {
    let exp = failures.saturating_sub(1).min(32);
    let ceiling = base.saturating_mul(1u32 << exp.min(31)).min(cap);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_table() {
        let s = Duration::from_secs;
        let cases = [
            // (failures, unit, want)
            (1, 1.0, s(2)),
            (1, 0.5, s(1)),
            (2, 1.0, s(4)),
            (3, 1.0, s(8)),
            (8, 1.0, s(256)),
            (9, 1.0, s(300)), // capped
            (50, 1.0, s(300)),
            (u32::MAX, 0.5, s(150)),
            (4, 0.0, s(0)),
            (0, 1.0, s(2)),
        ];
        for (failures, unit, want) in cases {
            assert_eq!(backoff(failures, BASE, CAP, unit), want, "failures {failures}, unit {unit}");
        }
    }
}
