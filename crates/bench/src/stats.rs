//! Medians and percentiles of samples, and the JSON line each benchmark prints.

use serde_json::{json, Map, Value};

/// The `q` quantile (0..=1) of `samples`, nearest-rank.
pub fn quantile(samples: &[f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The median.
pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn round(x: f64) -> Value {
    json!((x * 100.0).round() / 100.0)
}

/// One result line: `{"bench", "impl": "outpost", "n", "median_ms", ...extra}`.
pub fn report(bench: &str, millis: &[f64], extra: Value) -> Value {
    let mut line = Map::new();
    line.insert("bench".into(), json!(bench));
    line.insert("impl".into(), json!("outpost"));
    line.insert("n".into(), json!(millis.len()));
    if !millis.is_empty() {
        line.insert("median_ms".into(), round(median(millis)));
        line.insert("p95_ms".into(), round(quantile(millis, 0.95)));
    }
    if let Value::Object(extra) = extra {
        line.extend(extra);
    }
    Value::Object(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_percentiles() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&hundred, 0.95), 95.0);
        assert_eq!(quantile(&hundred, 0.99), 99.0);
        assert_eq!(quantile(&[7.0], 0.99), 7.0);
        assert!(median(&[]).is_nan());
    }
}
