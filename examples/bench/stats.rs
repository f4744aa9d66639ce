//! Percentiles and medians.

/// The `p`-th percentile (0–100) by nearest rank; `NaN` for no values.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

pub fn median(values: &[f64]) -> f64 {
    percentile(values, 50.0)
}

pub fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::max)
}

/// p50, p99 and max of a sample, in the sample's unit.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Spread {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub n: usize,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        Spread { p50: median(values), p99: percentile(values, 99.0), max: max(values), n: values.len() }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(super::percentile(&v, 50.0), 50.0);
        assert_eq!(super::percentile(&v, 99.0), 99.0);
        assert_eq!(super::percentile(&v, 100.0), 100.0);
        assert_eq!(super::percentile(&[3.0], 99.0), 3.0);
    }
}
