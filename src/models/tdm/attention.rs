//! Causal multi-head attention with ALiBi as one candle op for training: from the packed
//! projection `qkv` `[B T, 3 d]` (per row: the heads' queries, then keys, then values) to the
//! heads' outputs `[B T, d]`, with an analytic backward.
//!
//! Composed of candle ops, attention held several `[B, H, T, T]` tensors per layer (scores,
//! bias, softmax and their gradients) and most of a training step went to elementwise passes
//! over them. Here each batch row's heads are done in blocks of query rows: the scores of a block
//! live in one `T x T` scratch buffer, only the keys a block can see are multiplied (causal), and
//! the backward pass recomputes the probabilities instead of keeping them (as flash attention
//! does). The visibility rule is `Tdm::attention_bias`'s: key `j` is seen from query `i` when
//! `i - context < j <= i`, biased by `-slope_h (i - j)`.
use super::fastmath;
use super::gemm::{View, gemm};
use candle_core::{CpuStorage, CustomOp1, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

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

/// The contiguous f32 values of a storage, or an error naming the op.
pub(super) fn f32_values<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else {
        candle_core::bail!("{op} takes f32")
    };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => candle_core::bail!("{op} takes contiguous tensors"),
    }
}

impl Attention {
    fn heads(&self) -> usize {
        self.slopes.len()
    }

    fn head_width(&self) -> usize {
        self.width / self.heads()
    }

    fn check(&self, l: &Layout, cols: usize, what: &str) -> Result<()> {
        let want = [self.batch * self.tokens, cols];
        if l.shape().dims() != want {
            candle_core::bail!(
                "attention: {what} is {:?}, expected {want:?}",
                l.shape().dims()
            )
        }
        Ok(())
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
        // ramp[t - 1 - k] = -slope k: row i's keys lo..=i add ramp[t - 1 - (i - lo)..].
        let slope = self.slopes[h];
        let ramp: Vec<f32> = (0..t).map(|j| -slope * (t - 1 - j) as f32).collect();
        for i in r0..r1 {
            let row = &mut p[i * t..i * t + r1];
            let lo = (i + 1).saturating_sub(self.context);
            let seen = &mut row[lo..=i];
            let bias = &ramp[t - 1 - (i - lo)..];
            seen.iter_mut().zip(bias).for_each(|(s, b)| *s += b);
            fastmath::softmax_in_place(seen);
            row[..lo].fill(0.0);
            row[i + 1..].fill(0.0);
        }
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

impl CustomOp1 for Attention {
    fn name(&self) -> &'static str {
        "tdm-attention"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        self.check(l, 3 * self.width, "qkv")?;
        let qkv = f32_values(s, l, self.name())?;
        let (t, d) = (self.tokens, self.width);
        let mut out = vec![0f32; self.batch * t * d];
        out.par_chunks_mut(t * d)
            .enumerate()
            .for_each(|(b, out)| self.forward_row(&qkv[b * t * 3 * d..(b + 1) * t * 3 * d], out));
        Ok((CpuStorage::F32(out), Shape::from((self.batch * t, d))))
    }

    fn bwd(&self, qkv: &Tensor, out: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let grad = grad.contiguous()?;
        Ok(Some(qkv.apply_op3_no_bwd(
            out,
            &grad,
            &AttentionGrad(self.clone()),
        )?))
    }
}

/// The gradient of [`Attention`] with respect to `qkv`, from `qkv`, the op's output and the
/// output's gradient.
struct AttentionGrad(Attention);

impl CustomOp3 for AttentionGrad {
    fn name(&self) -> &'static str {
        "tdm-attention-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let a = &self.0;
        a.check(l1, 3 * a.width, "qkv")?;
        a.check(l2, a.width, "the output")?;
        a.check(l3, a.width, "the output's gradient")?;
        let (qkv, out, dout) = (
            f32_values(s1, l1, self.name())?,
            f32_values(s2, l2, self.name())?,
            f32_values(s3, l3, self.name())?,
        );
        let (t, d) = (a.tokens, a.width);
        let mut dqkv = vec![0f32; a.batch * t * 3 * d];
        dqkv.par_chunks_mut(t * 3 * d)
            .enumerate()
            .for_each(|(b, dqkv)| {
                let rows = b * t * d..(b + 1) * t * d;
                a.backward_row(
                    &qkv[b * t * 3 * d..(b + 1) * t * 3 * d],
                    &out[rows.clone()],
                    &dout[rows],
                    dqkv,
                );
            });
        Ok((CpuStorage::F32(dqkv), Shape::from((a.batch * t, 3 * d))))
    }
}
