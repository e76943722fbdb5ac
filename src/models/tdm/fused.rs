//! Layer norm as one candle op with an analytic backward (the model's final norm; candle's own
//! fused layer norm has no backward pass and its composed one is a chain of elementwise and
//! reduction passes), and the row functions the fused block uses for its two norms. Checked,
//! forward and gradients, against the composed chain by the model's tests.
use super::fastmath;
use super::op_state::f32_values;
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Rows per parallel task of the row-wise ops.
const ROWS_PER_TASK: usize = 64;

/// Layer norm over the last dimension of `x` `[N, d]` with weight and bias `[d]`.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f32) -> Result<Tensor> {
    let x = x.contiguous()?;
    x.apply_op3(weight, bias, LayerNorm { eps })
}

struct LayerNorm {
    eps: f32,
}

/// Mean and 1 / standard deviation of one row.
#[inline(always)]
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = fastmath::sum(row) / n;
    let var = row.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// One row of layer norm: `y = (x - mean) / std * w + b`.
#[inline(always)]
fn layer_norm_row(x: &[f32], w: &[f32], b: &[f32], eps: f32, y: &mut [f32]) {
    let (mean, rstd) = moments(x, eps);
    for j in 0..x.len() {
        y[j] = (x[j] - mean) * rstd * w[j] + b[j];
    }
}

/// One row of layer norm's backward: `dx` (overwritten) from the input `x`, the weight and the
/// output's gradient `g`; the weight's and bias's gradients added to `dw`, `db`. `gw` is
/// scratch of the row's width.
struct LayerNormBackward<'a> {
    dx: &'a mut [f32],
    dw: &'a mut [f32],
    db: &'a mut [f32],
}

#[inline(always)]
fn layer_norm_row_backward(
    x: &[f32],
    w: &[f32],
    g: &[f32],
    eps: f32,
    out: LayerNormBackward,
    gw: &mut [f32],
) {
    let d = x.len();
    let (mean, rstd) = moments(x, eps);
    let (mut a, mut c) = (0f32, 0f32);
    for j in 0..d {
        let xhat = (x[j] - mean) * rstd;
        gw[j] = g[j] * w[j];
        a += gw[j];
        c += gw[j] * xhat;
        out.dw[j] += g[j] * xhat;
        out.db[j] += g[j];
    }
    let (a, c) = (a / d as f32, c / d as f32);
    for j in 0..d {
        let xhat = (x[j] - mean) * rstd;
        out.dx[j] = rstd * (gw[j] - a - xhat * c);
    }
}

/// Layer norm of every `w.len()`-wide row of `x` into `y`. Compiled for AVX2 + FMA too.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
pub(super) fn layer_norm_rows(x: &[f32], w: &[f32], b: &[f32], eps: f32, y: &mut [f32]) {
    let d = w.len();
    for (xr, yr) in x.chunks_exact(d).zip(y.chunks_exact_mut(d)) {
        layer_norm_row(xr, w, b, eps, yr);
    }
}

/// Layer norm's backward over every row: `dx` (overwritten), `dw` and `db` added to.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
pub(super) fn layer_norm_rows_backward(
    x: &[f32],
    w: &[f32],
    g: &[f32],
    eps: f32,
    dx: &mut [f32],
    dw: &mut [f32],
    db: &mut [f32],
) {
    let d = w.len();
    let mut gw = vec![0f32; d];
    for ((xr, gr), dxr) in x
        .chunks_exact(d)
        .zip(g.chunks_exact(d))
        .zip(dx.chunks_exact_mut(d))
    {
        let out = LayerNormBackward {
            dx: dxr,
            dw: &mut *dw,
            db: &mut *db,
        };
        layer_norm_row_backward(xr, w, gr, eps, out, &mut gw);
    }
}

/// `g = gelu(f)`, elementwise. Compiled for AVX2 + FMA too.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
pub(super) fn gelu_rows(f: &[f32], g: &mut [f32]) {
    g.iter_mut()
        .zip(f)
        .for_each(|(g, &v)| *g = fastmath::gelu(v));
}

/// `df *= gelu'(f)`, elementwise. Compiled for AVX2 + FMA too.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
pub(super) fn gelu_grad_rows(f: &[f32], df: &mut [f32]) {
    df.iter_mut()
        .zip(f)
        .for_each(|(g, &v)| *g *= fastmath::gelu_grad(v));
}

fn row_width(l: &Layout, op: &str) -> Result<usize> {
    match l.shape().dims() {
        [_, d] => Ok(*d),
        dims => candle_core::bail!("{op} takes [rows, width], got {dims:?}"),
    }
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "tdm-layer-norm"
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
        let d = row_width(l1, self.name())?;
        let x = f32_values(s1, l1, self.name())?;
        let (w, b) = (
            f32_values(s2, l2, self.name())?,
            f32_values(s3, l3, self.name())?,
        );
        if w.len() != d || b.len() != d {
            candle_core::bail!(
                "layer norm: weight/bias of {}/{} for width {d}",
                w.len(),
                b.len()
            )
        }
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(ROWS_PER_TASK * d)
            .zip(x.par_chunks(ROWS_PER_TASK * d))
            .for_each(|(y, x)| layer_norm_rows(x, w, b, self.eps, y));
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (n, d) = x.dims2()?;
        let all = x.apply_op3_no_bwd(w, &grad.contiguous()?, &LayerNormGrad { eps: self.eps })?;
        Ok((
            Some(all.narrow(0, 0, n)?),
            Some(all.narrow(0, n, 1)?.reshape(d)?),
            Some(all.narrow(0, n + 1, 1)?.reshape(d)?),
        ))
    }
}

/// From `x`, the weight and the output's gradient: `[N + 2, d]` holding the gradients of `x`
/// (rows `0..N`), of the weight (row `N`) and of the bias (row `N + 1`).
struct LayerNormGrad {
    eps: f32,
}

impl CustomOp3 for LayerNormGrad {
    fn name(&self) -> &'static str {
        "tdm-layer-norm-grad"
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
        let d = row_width(l1, self.name())?;
        let x = f32_values(s1, l1, self.name())?;
        let (w, g) = (
            f32_values(s2, l2, self.name())?,
            f32_values(s3, l3, self.name())?,
        );
        let n = x.len() / d;
        let mut out = vec![0f32; (n + 2) * d];
        let (dx, dwb) = out.split_at_mut(n * d);
        let partials: Vec<Vec<f32>> = dx
            .par_chunks_mut(ROWS_PER_TASK * d)
            .zip(
                x.par_chunks(ROWS_PER_TASK * d)
                    .zip(g.par_chunks(ROWS_PER_TASK * d)),
            )
            .map(|(dx, (x, g))| {
                let mut dwb = vec![0f32; 2 * d];
                let (dw, db) = dwb.split_at_mut(d);
                layer_norm_rows_backward(x, w, g, self.eps, dx, dw, db);
                dwb
            })
            .collect();
        for part in partials {
            dwb.iter_mut().zip(&part).for_each(|(s, p)| *s += p);
        }
        Ok((CpuStorage::F32(out), Shape::from((n + 2, d))))
    }
}
