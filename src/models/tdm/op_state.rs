//! What the fused training ops share: reading a storage's values, and the state an op keeps
//! from its forward pass for its backward pass.
use candle_core::{CpuStorage, Layout, Result, Tensor};
use std::sync::Mutex;

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

/// A tensor's values (a copy; contiguous or not).
pub(super) fn values(t: &Tensor) -> Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

/// Set by an op's forward pass, taken by its backward pass (which recomputes it when missing,
/// e.g. after a second backward through the same graph).
pub(super) struct Kept<T>(Mutex<Option<T>>);

impl<T> Kept<T> {
    pub fn new() -> Self {
        Self(Mutex::new(None))
    }

    pub fn put(&self, value: T) {
        // A poisoned lock only means another pass panicked; the value is replaced either way.
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
    }

    pub fn take_or(&self, recompute: impl FnOnce() -> T) -> T {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        kept.unwrap_or_else(recompute)
    }
}
