//! One pre-LN transformer block as one candle op for training on the CPU, forward and backward
//! written out: layer norm, the `qkv` projection, causal ALiBi attention, the output projection
//! and residual, layer norm, the GELU MLP and residual.
//!
//! Built of candle ops, a block was ~40 graph nodes, and candle's backward pass allocates,
//! zeroes and adds a gradient tensor for each; with the matrix products themselves taking ~40%
//! of a step, the rest went to those passes and to thread hand-offs. Here each batch row of a
//! block is done in a few tasks of whole batch rows (rayon), its products are `matrixmultiply` sgemm on
//! `[G T, width]` panels, and the activations the backward pass needs are kept by the op itself
//! between the two passes. The parameters arrive packed in one vector ([`Packed`]), so the op
//! has two inputs (the block's input and its parameters).
use super::attention::Attention;
use super::fused::{gelu_grad_rows, gelu_rows, layer_norm_rows, layer_norm_rows_backward};
use super::gemm::{View, gemm};
use super::op_state::{Kept, f32_values, values};
use candle_core::{CpuStorage, CustomOp2, Device, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Where each parameter of a block sits in the packed vector, in the order
/// `ln1.{weight,bias}`, `qkv.{weight,bias}`, `proj.*`, `ln2.*`, `fc1.*`, `fc2.*` (weights
/// `[out, in]` row-major, as candle's linear layers hold them).
#[derive(Clone, Copy, Debug)]
pub struct Packed {
    d: usize,
    f: usize,
}

impl Packed {
    pub fn new(width: usize, mlp_width: usize) -> Self {
        Self {
            d: width,
            f: mlp_width,
        }
    }

    /// The sizes of the twelve parameters, in packing order.
    pub fn sizes(&self) -> [usize; 12] {
        let (d, f) = (self.d, self.f);
        [d, d, 3 * d * d, 3 * d, d * d, d, d, d, f * d, f, d * f, d]
    }

    pub fn len(&self) -> usize {
        self.sizes().iter().sum()
    }

    /// The twelve parameters as slices of `p`.
    fn split<'a>(&self, p: &'a [f32]) -> [&'a [f32]; 12] {
        let mut rest = p;
        self.sizes().map(|n| {
            let (head, tail) = rest.split_at(n);
            rest = tail;
            head
        })
    }

    fn split_mut<'a>(&self, p: &'a mut [f32]) -> [&'a mut [f32]; 12] {
        let mut rest = p;
        self.sizes().map(|n| {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(n);
            rest = tail;
            head
        })
    }
}

/// What one group's forward pass keeps for its backward pass, `[G T, width]` each.
#[derive(Default)]
struct Activations {
    /// ln1's output, the packed projection, the heads' output, the residual after attention,
    /// ln2's output, fc1's output and its GELU.
    h1: Vec<f32>,
    qkv: Vec<f32>,
    att: Vec<f32>,
    x1: Vec<f32>,
    h2: Vec<f32>,
    f: Vec<f32>,
    g: Vec<f32>,
}

pub struct BlockOp {
    att: Attention,
    packed: Packed,
    eps: f32,
    /// Set by the forward pass, taken by the backward pass (recomputed if missing).
    saved: Kept<Vec<Activations>>,
}

/// `y [rows, out] = x [rows, inp] W^T + b` for `w` `[out, inp]`.
fn dense(x: &[f32], rows: usize, w: &[f32], b: &[f32], y: &mut [f32]) {
    let (out, inp) = (b.len(), w.len() / b.len());
    for row in y.chunks_exact_mut(out) {
        row.copy_from_slice(b);
    }
    let wt = View::rows(0, 0, out, inp, inp).t();
    gemm(
        1.0,
        (x, View::rows(0, 0, rows, inp, inp)),
        (w, wt),
        1.0,
        (y, View::rows(0, 0, rows, out, out)),
    );
}

/// The backward of [`dense`]: `dw += dy^T x`, `db += colsum(dy)`, and `dx = dy W` where given.
fn dense_backward(
    x: &[f32],
    dy: &[f32],
    rows: usize,
    w: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    dx: Option<&mut [f32]>,
) {
    let (out, inp) = (db.len(), dw.len() / db.len());
    let vdy = View::rows(0, 0, rows, out, out);
    gemm(
        1.0,
        (dy, vdy.t()),
        (x, View::rows(0, 0, rows, inp, inp)),
        1.0,
        (dw, View::rows(0, 0, out, inp, inp)),
    );
    for row in dy.chunks_exact(out) {
        db.iter_mut().zip(row).for_each(|(s, v)| *s += v);
    }
    if let Some(dx) = dx {
        gemm(
            1.0,
            (dy, vdy),
            (w, View::rows(0, 0, out, inp, inp)),
            0.0,
            (dx, View::rows(0, 0, rows, inp, inp)),
        );
    }
}

impl BlockOp {
    pub fn new(att: Attention, mlp_width: usize, eps: f32) -> Self {
        let packed = Packed::new(att.width, mlp_width);
        Self {
            att,
            packed,
            eps,
            saved: Kept::new(),
        }
    }

    /// A group of whole batch rows: `y` from `x` (`[G T, d]` each).
    fn forward_group(&self, p: &[f32], x: &[f32], y: &mut [f32]) -> Activations {
        let (d, f) = (self.packed.d, self.packed.f);
        let t = x.len() / d;
        let [
            ln1w,
            ln1b,
            qkvw,
            qkvb,
            projw,
            projb,
            ln2w,
            ln2b,
            fc1w,
            fc1b,
            fc2w,
            fc2b,
        ] = self.packed.split(p);
        let mut s = Activations {
            h1: vec![0.0; t * d],
            qkv: vec![0.0; t * 3 * d],
            att: vec![0.0; t * d],
            x1: vec![0.0; t * d],
            h2: vec![0.0; t * d],
            f: vec![0.0; t * f],
            g: vec![0.0; t * f],
        };
        layer_norm_rows(x, ln1w, ln1b, self.eps, &mut s.h1);
        dense(&s.h1, t, qkvw, qkvb, &mut s.qkv);
        let tt = self.att.tokens;
        for (qkv, att) in s
            .qkv
            .chunks_exact(tt * 3 * d)
            .zip(s.att.chunks_exact_mut(tt * d))
        {
            self.att.forward_row(qkv, att);
        }
        dense(&s.att, t, projw, projb, &mut s.x1);
        s.x1.iter_mut().zip(x).for_each(|(a, b)| *a += b);
        layer_norm_rows(&s.x1, ln2w, ln2b, self.eps, &mut s.h2);
        dense(&s.h2, t, fc1w, fc1b, &mut s.f);
        gelu_rows(&s.f, &mut s.g);
        dense(&s.g, t, fc2w, fc2b, y);
        y.iter_mut().zip(&s.x1).for_each(|(a, b)| *a += b);
        s
    }

    /// A group's backward: `dx` (overwritten) from `dy`, the parameters' gradients added to
    /// `dp`.
    fn backward_group(
        &self,
        p: &[f32],
        x: &[f32],
        s: &Activations,
        dy: &[f32],
        dx: &mut [f32],
        dp: &mut [f32],
    ) {
        let (d, f) = (self.packed.d, self.packed.f);
        let t = x.len() / d;
        let [ln1w, _, qkvw, _, projw, _, ln2w, _, fc1w, _, fc2w, _] = self.packed.split(p);
        let [
            dln1w,
            dln1b,
            dqkvw,
            dqkvb,
            dprojw,
            dprojb,
            dln2w,
            dln2b,
            dfc1w,
            dfc1b,
            dfc2w,
            dfc2b,
        ] = self.packed.split_mut(dp);
        // The MLP: y = x1 + gelu(h2 W1^T + b1) W2^T + b2.
        let mut df = vec![0f32; t * f];
        dense_backward(&s.g, dy, t, fc2w, dfc2w, dfc2b, Some(&mut df));
        gelu_grad_rows(&s.f, &mut df);
        let mut dh = vec![0f32; t * d];
        dense_backward(&s.h2, &df, t, fc1w, dfc1w, dfc1b, Some(&mut dh));
        let mut dx1 = vec![0f32; t * d];
        layer_norm_rows_backward(&s.x1, ln2w, &dh, self.eps, &mut dx1, dln2w, dln2b);
        dx1.iter_mut().zip(dy).for_each(|(a, b)| *a += b);
        // Attention: x1 = x + att(h1 Wqkv^T + bqkv) Wp^T + bp.
        let mut datt = vec![0f32; t * d];
        dense_backward(&s.att, &dx1, t, projw, dprojw, dprojb, Some(&mut datt));
        let mut dqkv = vec![0f32; t * 3 * d];
        let tt = self.att.tokens;
        for (((qkv, att), datt), dqkv) in s
            .qkv
            .chunks_exact(tt * 3 * d)
            .zip(s.att.chunks_exact(tt * d))
            .zip(datt.chunks_exact(tt * d))
            .zip(dqkv.chunks_exact_mut(tt * 3 * d))
        {
            self.att.backward_row(qkv, att, datt, dqkv);
        }
        dense_backward(&s.h1, &dqkv, t, qkvw, dqkvw, dqkvb, Some(&mut dh));
        layer_norm_rows_backward(x, ln1w, &dh, self.eps, dx, dln1w, dln1b);
        dx.iter_mut().zip(&dx1).for_each(|(a, b)| *a += b);
    }

    /// Values per task: whole batch rows, enough of them that a task's matrix products are
    /// tall (the weights are packed once per product), few enough that every thread gets two.
    fn group_len(&self) -> usize {
        let tasks = 2 * rayon::current_num_threads();
        let rows = self.att.batch.div_ceil(tasks).max(1);
        rows * self.att.tokens * self.att.width
    }

    fn forward_all(&self, x: &[f32], p: &[f32]) -> (Vec<f32>, Vec<Activations>) {
        let n = self.group_len();
        let mut y = vec![0f32; x.len()];
        let saved = y
            .par_chunks_mut(n)
            .zip(x.par_chunks(n))
            .map(|(y, x)| self.forward_group(p, x, y))
            .collect();
        (y, saved)
    }
}

impl CustomOp2 for BlockOp {
    fn name(&self) -> &'static str {
        "tdm-block"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (a, d) = (&self.att, self.att.width);
        if l1.shape().dims() != [a.batch * a.tokens, d] || l2.shape().dims() != [self.packed.len()]
        {
            candle_core::bail!(
                "block: input {:?} and parameters {:?} for batch {} x {} tokens of width {d}",
                l1.shape().dims(),
                l2.shape().dims(),
                a.batch,
                a.tokens
            )
        }
        let (x, p) = (
            f32_values(s1, l1, self.name())?,
            f32_values(s2, l2, self.name())?,
        );
        let (y, saved) = self.forward_all(x, p);
        self.saved.put(saved);
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        p: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (xv, pv, dy) = (values(x)?, values(p)?, values(grad)?);
        let g = self.group_len();
        let saved = self.saved.take_or(|| self.forward_all(&xv, &pv).1);
        let n = self.packed.len();
        let mut dx = vec![0f32; xv.len()];
        let dp = dx
            .par_chunks_mut(g)
            .zip(xv.par_chunks(g).zip(dy.par_chunks(g)))
            .zip(saved.par_iter())
            .fold(
                || vec![0f32; n],
                |mut dp, ((dx, (x, dy)), s)| {
                    self.backward_group(&pv, x, s, dy, dx, &mut dp);
                    dp
                },
            )
            .reduce(
                || vec![0f32; n],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                    a
                },
            );
        let dev = &Device::Cpu;
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), dev)?),
            Some(Tensor::from_vec(dp, n, dev)?),
        ))
    }
}
