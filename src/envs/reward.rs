//! dm_control's `rewards.tolerance`: 1 inside `bounds`, falling off outside them over `margin`
//! with the chosen sigmoid, so that the value at distance `margin` is `value_at_margin`.
//!
//! Reference: dm_control/utils/rewards.py (Tassa et al., 2018). Same formulas, same defaults
//! (gaussian sigmoid, value_at_margin 0.1).

/// The shape of the fall-off outside the bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sigmoid {
    Gaussian,
    Hyperbolic,
    LongTail,
    Reciprocal,
    Cosine,
    Linear,
    Quadratic,
    TanhSquared,
}

/// Parameters of [`tolerance`], with dm_control's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    pub lower: f64,
    pub upper: f64,
    pub margin: f64,
    pub sigmoid: Sigmoid,
    pub value_at_margin: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Self {
            lower: 0.0,
            upper: 0.0,
            margin: 0.0,
            sigmoid: Sigmoid::Gaussian,
            value_at_margin: 0.1,
        }
    }
}

impl Tolerance {
    /// Tolerance with bounds `(lower, upper)` and the given margin; gaussian, 0.1 at the margin.
    pub fn new(lower: f64, upper: f64, margin: f64) -> Self {
        Self {
            lower,
            upper,
            margin,
            ..Self::default()
        }
    }

    pub fn sigmoid(self, sigmoid: Sigmoid) -> Self {
        Self { sigmoid, ..self }
    }

    pub fn value_at_margin(self, value_at_margin: f64) -> Self {
        Self {
            value_at_margin,
            ..self
        }
    }

    /// Evaluates the tolerance at `x`.
    pub fn eval(&self, x: f64) -> f64 {
        tolerance(x, self)
    }
}

/// dm_control's `tolerance(x, bounds, margin, sigmoid, value_at_margin)`.
///
/// Parameters are the task author's constants; like dm_control, invalid ones (lower > upper,
/// negative margin, a value_at_margin outside the sigmoid's range) are programming errors and
/// caught by `debug_assert!`. NaN `x` gives NaN.
pub fn tolerance(x: f64, t: &Tolerance) -> f64 {
    debug_assert!(t.lower <= t.upper, "tolerance: lower bound above upper");
    debug_assert!(t.margin >= 0.0, "tolerance: negative margin");
    if x.is_nan() {
        return f64::NAN;
    }
    let in_bounds = t.lower <= x && x <= t.upper;
    if in_bounds {
        return 1.0;
    }
    if t.margin == 0.0 {
        return 0.0;
    }
    let d = if x < t.lower {
        t.lower - x
    } else {
        x - t.upper
    } / t.margin;
    sigmoid(d, t.value_at_margin, t.sigmoid)
}

/// Sigmoid with value 1 at 0 and `value_at_1` at 1 (dm_control's `_sigmoids`).
fn sigmoid(x: f64, value_at_1: f64, kind: Sigmoid) -> f64 {
    match kind {
        Sigmoid::Cosine | Sigmoid::Linear | Sigmoid::Quadratic => {
            debug_assert!((0.0..1.0).contains(&value_at_1))
        }
        _ => debug_assert!(value_at_1 > 0.0 && value_at_1 < 1.0),
    }
    match kind {
        Sigmoid::Gaussian => {
            let scale = (-2.0 * value_at_1.ln()).sqrt();
            (-0.5 * (x * scale).powi(2)).exp()
        }
        Sigmoid::Hyperbolic => {
            let scale = (1.0 / value_at_1).acosh();
            1.0 / (x * scale).cosh()
        }
        Sigmoid::LongTail => {
            let scale = (1.0 / value_at_1 - 1.0).sqrt();
            1.0 / ((x * scale).powi(2) + 1.0)
        }
        Sigmoid::Reciprocal => {
            let scale = 1.0 / value_at_1 - 1.0;
            1.0 / (x.abs() * scale + 1.0)
        }
        Sigmoid::Cosine => {
            let scale = (2.0 * value_at_1 - 1.0).acos() / std::f64::consts::PI;
            let sx = x * scale;
            if sx.abs() < 1.0 {
                (1.0 + (std::f64::consts::PI * sx).cos()) / 2.0
            } else {
                0.0
            }
        }
        Sigmoid::Linear => {
            let sx = x * (1.0 - value_at_1);
            if sx.abs() < 1.0 { 1.0 - sx } else { 0.0 }
        }
        Sigmoid::Quadratic => {
            let sx = x * (1.0 - value_at_1).sqrt();
            if sx.abs() < 1.0 { 1.0 - sx * sx } else { 0.0 }
        }
        Sigmoid::TanhSquared => {
            let scale = (1.0 - value_at_1).sqrt().atanh();
            1.0 - (x * scale).tanh().powi(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-12;

    #[test]
    fn inside_bounds_is_one_and_margin_zero_is_a_step() {
        let t = Tolerance::new(-1.0, 2.0, 0.0);
        assert_eq!(t.eval(-1.0), 1.0);
        assert_eq!(t.eval(2.0), 1.0);
        assert_eq!(t.eval(0.3), 1.0);
        assert_eq!(t.eval(2.0 + 1e-9), 0.0);
        assert_eq!(t.eval(-1.0 - 1e-9), 0.0);
    }

    #[test]
    fn gaussian_default_is_value_at_margin_at_the_margin() {
        // dm_control: tolerance(x, margin=2) at |x| = 2 gives 0.1; at |x| = 1, exp(-0.5 * ln(0.1)*(-2)/4).
        let t = Tolerance::new(0.0, 0.0, 2.0);
        assert!((t.eval(2.0) - 0.1).abs() < EPS);
        assert!((t.eval(-2.0) - 0.1).abs() < EPS);
        let expected = (0.1f64.ln() / 4.0).exp(); // = 0.1^(1/4)
        assert!((t.eval(1.0) - expected).abs() < EPS);
        assert!((t.eval(1.0) - 0.562_341_325_190_349).abs() < 1e-12);
    }

    #[test]
    fn linear_sigmoid_hits_zero_at_the_margin() {
        // The corridor task's reward: max(0, 1 - |v - 1|).
        let t = Tolerance::new(1.0, 1.0, 1.0)
            .sigmoid(Sigmoid::Linear)
            .value_at_margin(0.0);
        assert_eq!(t.eval(1.0), 1.0);
        assert!((t.eval(0.25) - 0.25).abs() < EPS);
        assert!((t.eval(1.5) - 0.5).abs() < EPS);
        assert_eq!(t.eval(0.0), 0.0);
        assert_eq!(t.eval(2.0), 0.0);
        assert_eq!(t.eval(-3.0), 0.0);
    }

    #[test]
    fn walker_move_reward_has_half_at_margin() {
        // tol(v, (1, inf), margin 0.5, value_at_margin 0.5, linear): 1 at v >= 1, 0.5 at v = 0.5,
        // 0 at v <= 0.
        let t = Tolerance::new(1.0, f64::INFINITY, 0.5)
            .sigmoid(Sigmoid::Linear)
            .value_at_margin(0.5);
        assert_eq!(t.eval(7.0), 1.0);
        assert!((t.eval(0.5) - 0.5).abs() < EPS);
        assert!((t.eval(0.75) - 0.75).abs() < EPS);
        assert_eq!(t.eval(0.0), 0.0);
        assert_eq!(t.eval(-1.0), 0.0);
    }

    #[test]
    fn quadratic_small_control() {
        // tol(u, margin 1, value_at_margin 0, quadratic) = 1 - u^2 for |u| < 1, else 0.
        let t = Tolerance::new(0.0, 0.0, 1.0)
            .sigmoid(Sigmoid::Quadratic)
            .value_at_margin(0.0);
        assert!((t.eval(0.5) - 0.75).abs() < EPS);
        assert!((t.eval(-0.5) - 0.75).abs() < EPS);
        assert_eq!(t.eval(1.0), 0.0);
        assert_eq!(t.eval(0.0), 1.0);
    }

    #[test]
    fn every_sigmoid_passes_through_value_at_margin() {
        for kind in [
            Sigmoid::Gaussian,
            Sigmoid::Hyperbolic,
            Sigmoid::LongTail,
            Sigmoid::Reciprocal,
            Sigmoid::Cosine,
            Sigmoid::Linear,
            Sigmoid::Quadratic,
            Sigmoid::TanhSquared,
        ] {
            let t = Tolerance::new(0.0, 1.0, 3.0)
                .sigmoid(kind)
                .value_at_margin(0.3);
            assert!(
                (t.eval(4.0) - 0.3).abs() < 1e-9,
                "{kind:?}: {} at the margin",
                t.eval(4.0)
            );
            assert!((t.eval(-3.0) - 0.3).abs() < 1e-9, "{kind:?} (below)");
            // Monotone fall-off beyond the bounds.
            assert!(t.eval(1.5) >= t.eval(2.5), "{kind:?} not decreasing");
        }
    }

    #[test]
    fn nan_propagates() {
        assert!(Tolerance::new(0.0, 1.0, 1.0).eval(f64::NAN).is_nan());
    }
}
