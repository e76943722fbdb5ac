//! Fused candle ops of the training graph, each with an analytic backward: GELU, the bias of a
//! linear layer, layer norm and the range-restricted cross-entropy (attention has its own module). Composed of candle's
//! generic ops, each of these was a chain of elementwise and reduction passes, each with its
//! own allocation and backward node; here each is one pass forward and one backward. Tests
//! check every one, forward and gradients, against the composed chain it replaces.
use super::attention::f32_values;
use super::fastmath;
use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, CustomOp3, DType, Layout, Result, Shape, Tensor,
};
use rayon::prelude::*;

/// Rows per parallel task of the row-wise ops.
const ROWS_PER_TASK: usize = 64;

/// Elements per parallel task of the elementwise ops.
const ELEMENTS_PER_TASK: usize = 1 << 14;

/// The tanh-form GELU, as candle's `Tensor::gelu`, as one op for f32 on the CPU: a vectorised
/// forward (libm's `tanhf`/`powf` in candle's were ~11% of a training step) and a backward that
/// is one pass `grad * gelu'(x)` too.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if x.dtype() == DType::F32 && x.device().is_cpu() {
        x.contiguous()?.apply_op1(Gelu)
    } else {
        x.gelu()
    }
}

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "tdm-gelu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_values(s, l, self.name())?;
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(ELEMENTS_PER_TASK)
            .zip(x.par_chunks(ELEMENTS_PER_TASK))
            .for_each(|(y, x)| {
                for (y, &x) in y.iter_mut().zip(x) {
                    *y = fastmath::gelu(x);
                }
            });
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(x.apply_op2_no_bwd(&grad.contiguous()?, &GeluGrad)?))
    }
}

/// `grad * gelu'(x)` from `x` and `grad`.
struct GeluGrad;

impl CustomOp2 for GeluGrad {
    fn name(&self) -> &'static str {
        "tdm-gelu-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, g) = (
            f32_values(s1, l1, self.name())?,
            f32_values(s2, l2, self.name())?,
        );
        if x.len() != g.len() {
            candle_core::bail!("gelu grad: {} values, {} gradients", x.len(), g.len())
        }
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(ELEMENTS_PER_TASK)
            .zip(
                x.par_chunks(ELEMENTS_PER_TASK)
                    .zip(g.par_chunks(ELEMENTS_PER_TASK)),
            )
            .for_each(|(o, (x, g))| {
                for ((o, &x), &g) in o.iter_mut().zip(x).zip(g) {
                    *o = g * fastmath::gelu_grad(x);
                }
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// `x W^T + b` for `x` `[N, in]` and a candle linear layer (weight `[out, in]`): candle's matrix
/// product, and the bias added by [`BiasAdd`], whose backward sums the gradient's columns in
/// one pass (candle's sum over the rows of a broadcast was ~9% of a training step).
pub fn linear(layer: &candle_nn::Linear, x: &Tensor) -> Result<Tensor> {
    let y = x.matmul(&layer.weight().t()?)?;
    match layer.bias() {
        Some(b) if y.device().is_cpu() && y.dtype() == DType::F32 => y.apply_op2(b, BiasAdd),
        Some(b) => y.broadcast_add(b),
        None => Ok(y),
    }
}

struct BiasAdd;

impl CustomOp2 for BiasAdd {
    fn name(&self) -> &'static str {
        "tdm-bias-add"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = row_width(l1, self.name())?;
        let (y, b) = (
            f32_values(s1, l1, self.name())?,
            f32_values(s2, l2, self.name())?,
        );
        if b.len() != d {
            candle_core::bail!("bias of {} for rows of {d}", b.len())
        }
        let mut out = y.to_vec();
        out.par_chunks_mut(ROWS_PER_TASK * d).for_each(|rows| {
            for row in rows.chunks_exact_mut(d) {
                row.iter_mut().zip(b).for_each(|(v, b)| *v += b);
            }
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _y: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((
            Some(grad.clone()),
            Some(grad.contiguous()?.apply_op1_no_bwd(&ColumnSum)?),
        ))
    }
}

/// The sums of the columns of `[N, d]`: `[d]`.
struct ColumnSum;

impl CustomOp1 for ColumnSum {
    fn name(&self) -> &'static str {
        "tdm-column-sum"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let d = row_width(l, self.name())?;
        let x = f32_values(s, l, self.name())?;
        let parts: Vec<Vec<f32>> = x
            .par_chunks(ROWS_PER_TASK * d)
            .map(|rows| {
                let mut acc = vec![0f32; d];
                for row in rows.chunks_exact(d) {
                    acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
                }
                acc
            })
            .collect();
        let mut sum = vec![0f32; d];
        for p in parts {
            sum.iter_mut().zip(&p).for_each(|(s, v)| *s += v);
        }
        Ok((CpuStorage::F32(sum), Shape::from(d)))
    }
}

/// Layer norm over the last dimension of `x` `[N, d]` with weight and bias `[d]`.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f32) -> Result<Tensor> {
    let x = x.contiguous()?;
    x.apply_op3(weight, bias, LayerNorm { eps })
}

struct LayerNorm {
    eps: f32,
}

/// Mean and 1 / standard deviation of one row.
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = fastmath::sum(row) / n;
    let var = row.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// One row of layer norm: `y = (x - mean) / std * w + b`.
pub(super) fn layer_norm_row(x: &[f32], w: &[f32], b: &[f32], eps: f32, y: &mut [f32]) {
    let (mean, rstd) = moments(x, eps);
    for j in 0..x.len() {
        y[j] = (x[j] - mean) * rstd * w[j] + b[j];
    }
}

/// One row of layer norm's backward: `dx` (overwritten) from the input `x`, the weight and the
/// output's gradient `g`; the weight's and bias's gradients added to `dw`, `db`. `gw` is
/// scratch of the row's width.
pub(super) struct LayerNormBackward<'a> {
    pub dx: &'a mut [f32],
    pub dw: &'a mut [f32],
    pub db: &'a mut [f32],
}

pub(super) fn layer_norm_row_backward(
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
            .for_each(|(y, x)| {
                for (yr, xr) in y.chunks_exact_mut(d).zip(x.chunks_exact(d)) {
                    layer_norm_row(xr, w, b, self.eps, yr);
                }
            });
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
                let mut gw = vec![0f32; d];
                for ((dxr, xr), gr) in dx
                    .chunks_exact_mut(d)
                    .zip(x.chunks_exact(d))
                    .zip(g.chunks_exact(d))
                {
                    let (dw, db) = dwb.split_at_mut(d);
                    let out = LayerNormBackward { dx: dxr, dw, db };
                    layer_norm_row_backward(xr, w, gr, self.eps, out, &mut gw);
                }
                dwb
            })
            .collect();
        for part in partials {
            dwb.iter_mut().zip(&part).for_each(|(s, p)| *s += p);
        }
        Ok((CpuStorage::F32(out), Shape::from((n + 2, d))))
    }
}

/// The summed negative log-likelihood of `targets` `[N]` (u32, each `< R`) under the softmax of
/// `logits` `[N, R]`: a scalar, with the gradient `softmax - onehot` to the logits.
pub fn cross_entropy_sum(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    logits
        .contiguous()?
        .apply_op2(&targets.contiguous()?, CrossEntropy)
}

struct CrossEntropy;

fn targets_of<'a>(s: &'a CpuStorage, l: &Layout, rows: usize, range: usize) -> Result<&'a [u32]> {
    let CpuStorage::U32(v) = s else {
        candle_core::bail!("cross-entropy targets must be u32")
    };
    let Some((a, b)) = l.contiguous_offsets() else {
        candle_core::bail!("cross-entropy targets must be contiguous")
    };
    let t = &v[a..b];
    if t.len() != rows || t.iter().any(|&x| x as usize >= range) {
        candle_core::bail!(
            "cross-entropy: {} targets for {rows} rows of {range}",
            t.len()
        )
    }
    Ok(t)
}

/// `ln sum_j e^(x_j)`, stable.
fn log_sum_exp(row: &[f32]) -> f32 {
    let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = row.iter().map(|&x| fastmath::exp(x - max)).sum();
    max + sum.ln()
}

impl CustomOp2 for CrossEntropy {
    fn name(&self) -> &'static str {
        "tdm-cross-entropy"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let r = row_width(l1, self.name())?;
        let x = f32_values(s1, l1, self.name())?;
        let t = targets_of(s2, l2, x.len() / r, r)?;
        let total: f64 = x
            .par_chunks(ROWS_PER_TASK * r)
            .zip(t.par_chunks(ROWS_PER_TASK))
            .map(|(x, t)| {
                x.chunks_exact(r)
                    .zip(t)
                    .map(|(row, &k)| f64::from(log_sum_exp(row) - row[k as usize]))
                    .sum::<f64>()
            })
            .sum();
        Ok((CpuStorage::F32(vec![total as f32]), Shape::from(())))
    }

    fn bwd(
        &self,
        logits: &Tensor,
        targets: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let g = logits.apply_op2_no_bwd(targets, &CrossEntropyGrad)?;
        Ok((Some(g.broadcast_mul(grad)?), None))
    }
}

/// `softmax(logits) - onehot(targets)`, `[N, R]`.
struct CrossEntropyGrad;

impl CustomOp2 for CrossEntropyGrad {
    fn name(&self) -> &'static str {
        "tdm-cross-entropy-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let r = row_width(l1, self.name())?;
        let x = f32_values(s1, l1, self.name())?;
        let t = targets_of(s2, l2, x.len() / r, r)?;
        let mut g = x.to_vec();
        g.par_chunks_mut(ROWS_PER_TASK * r)
            .zip(t.par_chunks(ROWS_PER_TASK))
            .for_each(|(g, t)| {
                for (row, &k) in g.chunks_exact_mut(r).zip(t) {
                    fastmath::softmax_in_place(row);
                    row[k as usize] -= 1.0;
                }
            });
        Ok((CpuStorage::F32(g), l1.shape().clone()))
    }
}
