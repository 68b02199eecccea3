//! Value axes: round ticks and the map from values to positions.
//!
//! Ticks are multiples of 1, 2 or 5 × 10ⁿ and always include zero, because a reader compares
//! bar lengths against a zero baseline and reads "¥40万" faster than "¥37.5万".

/// The smallest round step (1, 2 or 5 × 10ⁿ) that splits `span` into at most `target` parts.
pub(crate) fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    if !(magnitude.is_finite() && magnitude > 0.0) {
        return 1.0;
    }
    let m = match raw / magnitude {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    };
    m * magnitude
}

/// Round ticks covering `lo..=hi` and zero, ascending; the first and last are the axis ends.
pub(crate) fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let clean = |v: f64| if v.is_finite() { v } else { 0.0 };
    let lo = clean(lo).min(0.0);
    let mut hi = clean(hi).max(0.0);
    if hi - lo <= 0.0 {
        hi = 1.0;
    }
    let step = nice_step(hi - lo, target);
    // A hair of slack so 0.6/0.2 = 2.9999… or 3.0000…4 still lands on 3.
    let first = (lo / step + 1e-9).floor();
    let last = (hi / step - 1e-9).ceil();
    if !(first.is_finite() && last.is_finite()) || last - first > 100.0 || last <= first {
        return vec![lo, hi];
    }
    // Multiplying (not accumulating) and rounding to the step's precision keeps 0.1 × 3 from
    // reaching the formatter as 0.30000000000000004.
    let decimals = (-step.log10().floor()).clamp(0.0, 15.0) as i32 + 1;
    let unit = 10f64.powi(decimals);
    (first as i64..=last as i64)
        .map(|k| {
            let v = (k as f64 * step * unit).round() / unit;
            if v == 0.0 { 0.0 } else { v }
        })
        .collect()
}

/// Maps a value domain onto a span of viewBox units (either direction).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Linear {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Linear {
    /// A scale over the ends of `ticks`, which always span zero.
    pub(crate) fn over(ticks: &[f64], r0: f64, r1: f64) -> Self {
        let d0 = ticks.first().copied().unwrap_or(0.0);
        let d1 = ticks.last().copied().unwrap_or(1.0);
        Linear { d0, d1, r0, r1 }
    }

    pub(crate) fn map(&self, v: f64) -> f64 {
        let span = self.d1 - self.d0;
        if span == 0.0 || !span.is_finite() {
            return self.r0;
        }
        let t = ((v - self.d0) / span).clamp(-0.05, 1.05);
        self.r0 + t * (self.r1 - self.r0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(87.0, 5), 20.0);
        assert_eq!(nice_step(100.0, 5), 20.0);
        assert_eq!(nice_step(1_230_000.0, 5), 500_000.0);
        assert_eq!(nice_step(0.9, 5), 0.2);
        assert_eq!(nice_step(10.0, 10), 1.0);
        assert_eq!(nice_step(0.0, 5), 1.0);
        assert_eq!(nice_step(f64::NAN, 5), 1.0);
    }

    #[test]
    fn ticks_start_at_zero_and_cover_the_maximum() {
        assert_eq!(
            ticks(3.0, 87.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(
            ticks(0.0, 1_200_000.0, 4),
            vec![0.0, 500_000.0, 1_000_000.0, 1_500_000.0]
        );
    }

    #[test]
    fn ticks_span_negative_values_through_zero() {
        let t = ticks(-30.0, 120.0, 5);
        assert_eq!(t, vec![-50.0, 0.0, 50.0, 100.0, 150.0]);
        let t = ticks(-80.0, -10.0, 4);
        assert_eq!(t.last(), Some(&0.0));
        assert_eq!(t.first(), Some(&-80.0));
    }

    #[test]
    fn decimal_ticks_come_out_exact() {
        assert_eq!(ticks(0.0, 0.6, 3), vec![0.0, 0.2, 0.4, 0.6]);
        assert_eq!(ticks(0.0, 0.3, 3), vec![0.0, 0.1, 0.2, 0.3]);
    }

    #[test]
    fn degenerate_ranges_still_give_an_axis() {
        assert_eq!(ticks(0.0, 0.0, 5).last(), Some(&1.0));
        assert!(ticks(f64::NAN, f64::INFINITY, 5).len() >= 2);
        assert!(ticks(0.0, 5e-324, 5).len() >= 2);
        assert!(ticks(-1e15, 1e15, 5).len() >= 2);
    }

    #[test]
    fn scale_maps_domain_ends_to_range_ends() {
        let s = Linear::over(&[0.0, 50.0, 100.0], 10.0, 210.0);
        assert_eq!(s.map(0.0), 10.0);
        assert_eq!(s.map(100.0), 210.0);
        assert_eq!(s.map(50.0), 110.0);
        let flipped = Linear::over(&[-10.0, 0.0, 10.0], 200.0, 0.0);
        assert_eq!(flipped.map(0.0), 100.0);
    }
}
