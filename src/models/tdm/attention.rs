//! Causal multi-head attention with ALiBi for training, forward and backward, on one batch row:
//! from the packed projection `qkv` `[T, 3 d]` (per row: the heads' queries, then keys, then
//! values) to the heads' outputs `[T, d]`; used by the fused block.
//!
//! Composed of candle ops, attention held several `[B, H, T, T]` tensors per layer (scores,
//! bias, softmax and their gradients) and most of a training step went to elementwise passes
//! over them. Here a row's heads are done in blocks of query rows: the scores of a block
//! live in one `T x T` scratch buffer, only the keys a block can see are multiplied (causal), and
//! the backward pass recomputes the probabilities instead of keeping them (as flash attention
//! does). The visibility rule is `Tdm::attention_bias`'s: key `j` is seen from query `i` when
//! `i - context < j <= i`, biased by `-slope_h (i - j)`.
use super::fastmath;
use super::gemm::{View, gemm};

/// Query rows per block: a block multiplies only the keys up to its last row.
const BLOCK: usize = 64;

#[derive(Clone, Debug)]
pub struct Attention {
    pub batch: usize,
    pub tokens: usize,
    pub width: usize,
    pub context: usize,
    /// One ALiBi slope per head.
    pub slopes: Vec<f32>,
}

impl Attention {
    fn heads(&self) -> usize {
        self.slopes.len()
    }

    fn head_width(&self) -> usize {
        self.width / self.heads()
    }

    /// Rows `r0..r1` of head `h`'s attention probabilities into `p` (`T x T`, row-major),
    /// columns `0..r1`; keys a row cannot see are exactly 0. `qkv`: one batch row's `[T, 3 d]`.
    fn probabilities(&self, qkv: &[f32], h: usize, r0: usize, r1: usize, p: &mut [f32]) {
        let (t, d, dh) = (self.tokens, self.width, self.head_width());
        let scale = 1.0 / (dh as f32).sqrt();
        let q = View::rows(r0, h * dh, r1 - r0, dh, 3 * d);
        let k = View::rows(0, d + h * dh, r1, dh, 3 * d).t();
        gemm(
            scale,
            (qkv, q),
            (qkv, k),
            0.0,
            (p, View::rows(r0, 0, r1 - r0, r1, t)),
        );
        window_softmax(p, t, r0..r1, self.context, self.slopes[h]);
    }
}

/// Rows `rows` of the scores `p` (`T` wide, columns up to the last row filled) into
/// probabilities: the ALiBi bias `-slope (i - j)` added over the keys a row sees, softmax there,
/// 0 elsewhere. Compiled for AVX2 + FMA too, picked at run time.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn window_softmax(
    p: &mut [f32],
    t: usize,
    rows: std::ops::Range<usize>,
    context: usize,
    slope: f32,
) {
    // ramp[t - 1 - k] = -slope k: row i's keys lo..=i add ramp[t - 1 - (i - lo)..].
    let ramp: Vec<f32> = (0..t).map(|j| -slope * (t - 1 - j) as f32).collect();
    let end = rows.end;
    for i in rows {
        let row = &mut p[i * t..i * t + end];
        let lo = (i + 1).saturating_sub(context);
        let seen = &mut row[lo..=i];
        let bias = &ramp[t - 1 - (i - lo)..];
        seen.iter_mut().zip(bias).for_each(|(s, b)| *s += b);
        fastmath::softmax_in_place(seen);
        row[..lo].fill(0.0);
        row[i + 1..].fill(0.0);
    }
}

impl Attention {
    /// One batch row: `out` `[T, d]` from `qkv` `[T, 3 d]`.
    pub(super) fn forward_row(&self, qkv: &[f32], out: &mut [f32]) {
        let (t, d, dh) = (self.tokens, self.width, self.head_width());
        let mut p = vec![0f32; t * t];
        for h in 0..self.heads() {
            for r0 in (0..t).step_by(BLOCK) {
                let r1 = (r0 + BLOCK).min(t);
                self.probabilities(qkv, h, r0, r1, &mut p);
                let pv = View::rows(r0, 0, r1 - r0, r1, t);
                let v = View::rows(0, 2 * d + h * dh, r1, dh, 3 * d);
                let o = View::rows(r0, h * dh, r1 - r0, dh, d);
                gemm(1.0, (&p, pv), (qkv, v), 0.0, (out, o));
            }
        }
    }

    /// One batch row's gradient `dqkv` `[T, 3 d]` (overwritten) from `qkv`, the output `out`
    /// and its gradient `dout` (`[T, d]` each).
    pub(super) fn backward_row(&self, qkv: &[f32], out: &[f32], dout: &[f32], dqkv: &mut [f32]) {
        let (t, d, dh) = (self.tokens, self.width, self.head_width());
        let scale = 1.0 / (dh as f32).sqrt();
        dqkv.fill(0.0);
        let (mut p, mut ds) = (vec![0f32; t * t], vec![0f32; t * t]);
        for h in 0..self.heads() {
            let (qc, kc, vc) = (h * dh, d + h * dh, 2 * d + h * dh);
            for r0 in (0..t).step_by(BLOCK) {
                let (r1, rb) = ((r0 + BLOCK).min(t), (r0 + BLOCK).min(t) - r0);
                self.probabilities(qkv, h, r0, r1, &mut p);
                // dP = dO V^T, then dS = P (dP - rowsum(dO * O)).
                let block = View::rows(r0, 0, rb, r1, t);
                let g = View::rows(r0, h * dh, rb, dh, d);
                let v = View::rows(0, vc, r1, dh, 3 * d);
                gemm(1.0, (dout, g), (qkv, v.t()), 0.0, (&mut ds, block));
                for i in r0..r1 {
                    let cols = i * d + h * dh..i * d + (h + 1) * dh;
                    let di = fastmath::dot(&dout[cols.clone()], &out[cols]);
                    let (pr, sr) = (&p[i * t..i * t + r1], &mut ds[i * t..i * t + r1]);
                    for (s, &pp) in sr.iter_mut().zip(pr) {
                        *s = pp * (*s - di);
                    }
                }
                // dQ = scale dS K, dK += scale dS^T Q, dV += P^T dO.
                let k = View::rows(0, kc, r1, dh, 3 * d);
                let dq = View::rows(r0, qc, rb, dh, 3 * d);
                gemm(scale, (&ds, block), (qkv, k), 0.0, (dqkv, dq));
                let q = View::rows(r0, qc, rb, dh, 3 * d);
                let dk = View::rows(0, kc, r1, dh, 3 * d);
                gemm(scale, (&ds, block.t()), (qkv, q), 1.0, (dqkv, dk));
                let dv = View::rows(0, vc, r1, dh, 3 * d);
                gemm(1.0, (&p, block.t()), (dout, g), 1.0, (dqkv, dv));
            }
        }
    }
}
