//! Branch-free `exp`, softmax and GELU for the decode path. libm's `expf`/`tanhf` are calls
//! the compiler cannot vectorise; these are plain arithmetic on `f32` bits, so loops over
//! slices become SIMD loops. Relative error of [`exp`] below 3e-7 over its range (tested
//! against `f64::exp`), which is below the difference between the candle graph and the
//! decode path that the KV-cache tests already tolerate. The expectation is compiled for AVX2 +
//! FMA too and picked at run time.

const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in a part exact in f32 and the rest (Cody-Waite), so `x - n ln 2` loses nothing.
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// 1.5 * 2^23: adding it rounds to the nearest integer and leaves that integer in the low
/// mantissa bits.
const ROUND: f32 = 12_582_912.0;

/// `e^x`, with inputs clamped to [-87, 88] (so the result is a normal f32: `exp(-inf)` gives
/// 1.6e-38 rather than 0, which no softmax can tell apart). NaN stays NaN.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let t = x * LOG2_E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    // e^r on |r| <= ln2 / 2 by its Taylor series to r^7 (truncation below 6e-9).
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let e = (t.to_bits().wrapping_sub(ROUND.to_bits()) as i32).wrapping_add(127) as u32;
    p * f32::from_bits(e << 23)
}

/// The GELU of the model (tanh form): `0.5 v (1 + tanh(c v (1 + 0.044715 v^2)))`, written
/// as `v / (1 + e^(-2u))`, which is the same function.
#[inline(always)]
pub fn gelu(v: f32) -> f32 {
    const C: f32 = 0.797_884_6; // sqrt(2 / pi)
    let u = C * v * (1.0 + 0.044715 * v * v);
    v / (1.0 + exp(-2.0 * u))
}

/// The derivative of [`gelu`]: with `s = 1 / (1 + e^(-2u))`,
/// `gelu'(v) = s + 2 v s (1 - s) c (1 + 3 * 0.044715 v^2)`.
#[inline(always)]
pub fn gelu_grad(v: f32) -> f32 {
    const C: f32 = 0.797_884_6;
    let u = C * v * (1.0 + 0.044715 * v * v);
    let s = 1.0 / (1.0 + exp(-2.0 * u));
    s + 2.0 * v * s * (1.0 - s) * C * (1.0 + 3.0 * 0.044715 * v * v)
}

#[inline(always)]
pub fn gelu_in_place(v: &mut [f32]) {
    v.iter_mut().for_each(|x| *x = gelu(*x));
}

/// Turns `v` into its softmax and returns nothing; an all `-inf` row becomes uniform.
#[inline(always)]
pub fn softmax_in_place(v: &mut [f32]) {
    let max = max(v);
    let max = if max.is_finite() { max } else { 0.0 };
    v.iter_mut().for_each(|x| *x = exp(*x - max));
    let sum = sum(v);
    let inv = 1.0 / sum;
    v.iter_mut().for_each(|x| *x *= inv);
}

/// Turns `logits` into their softmax and returns the probability-weighted mean of `values`
/// (the expectation decoding of one token; 1024 bins wide, so worth AVX2 where the CPU has it).
/// Compiled for AVX2 + FMA and for the baseline, picked at run time (`multiversion`, as the
/// decode step in `infer`).
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
pub fn softmax_mean(logits: &mut [f32], values: &[f32]) -> f32 {
    softmax_in_place(logits);
    dot(logits, values)
}

/// The largest value (NaNs skipped; `-inf` for none), in a form that vectorises.
#[inline(always)]
pub fn max(v: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let chunks = v.chunks_exact(8);
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    for c in chunks {
        for i in 0..8 {
            acc[i] = if c[i] > acc[i] { c[i] } else { acc[i] };
        }
    }
    acc.iter().fold(tail, |a, &b| if b > a { b } else { a })
}

/// Sum with eight lanes (vectorises, and is more accurate than one running sum).
#[inline(always)]
pub fn sum(v: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = v.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `sum_i a_i b_i` with eight lanes.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_f64_to_a_few_ulps_over_its_range() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x <= 88.0 {
            let want = (x as f64).exp();
            let got = exp(x) as f64;
            worst = worst.max(((got - want) / want).abs());
            x += 0.001_37;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f32::NEG_INFINITY) < 2e-38);
        assert!(exp(f32::NAN).is_nan());
        assert!(exp(1000.0).is_finite());
    }

    #[test]
    fn gelu_matches_the_tanh_form() {
        for i in -2000..2000 {
            let v = i as f32 * 0.01;
            let c = (2.0 / std::f64::consts::PI).sqrt();
            let vd = v as f64;
            let want = 0.5 * vd * (1.0 + (c * vd * (1.0 + 0.044715 * vd * vd)).tanh());
            let got = gelu(v) as f64;
            assert!(
                (got - want).abs() <= 1e-6 * (1.0 + want.abs()),
                "{v}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn gelu_grad_is_the_derivative() {
        for i in -800..800 {
            let v = i as f64 * 0.01;
            let c = (2.0 / std::f64::consts::PI).sqrt();
            let g = |v: f64| 0.5 * v * (1.0 + (c * v * (1.0 + 0.044715 * v * v)).tanh());
            let h = 1e-4;
            let want = (g(v + h) - g(v - h)) / (2.0 * h);
            let got = gelu_grad(v as f32) as f64;
            assert!((got - want).abs() < 1e-5, "{v}: {got} vs {want}");
        }
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let mut v = vec![1.0, 3.0, -2.0, 0.5, 7.0, 7.0, -50.0, 2.0, 1.5, 0.0];
        let orig = v.clone();
        softmax_in_place(&mut v);
        assert!((v.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let m = orig.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let z: f64 = orig.iter().map(|&x| ((x - m) as f64).exp()).sum();
        for (p, x) in v.iter().zip(&orig) {
            let want = ((x - m) as f64).exp() / z;
            assert!((*p as f64 - want).abs() < 1e-7, "{p} vs {want}");
        }
        let mut dead = vec![f32::NEG_INFINITY; 4];
        softmax_in_place(&mut dead);
        assert!(dead.iter().all(|&p| (p - 0.25).abs() < 1e-6));
    }
}
