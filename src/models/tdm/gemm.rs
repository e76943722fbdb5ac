//! Strided matrix views over f32 slices and a bounds-checked `C = alpha A B + beta C` on them
//! through `matrixmultiply`'s sgemm, so the fused training ops can multiply one head's columns
//! of a packed `[rows, 3 d]` projection in place, without gathering them first.

/// A `rows x cols` matrix inside a slice: element `(i, j)` at `offset + i rs + j cs`.
#[derive(Clone, Copy, Debug)]
pub struct View {
    pub offset: usize,
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl View {
    /// Row-major rows of `row_stride`, starting at column `col` of row `row`.
    pub fn rows(row: usize, col: usize, rows: usize, cols: usize, row_stride: usize) -> Self {
        Self {
            offset: row * row_stride + col,
            rows,
            cols,
            rs: row_stride,
            cs: 1,
        }
    }

    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// One past the largest index the view touches (0 when empty).
    fn end(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            return self.offset;
        }
        self.offset + (self.rows - 1) * self.rs + (self.cols - 1) * self.cs + 1
    }
}

/// `c = alpha a b + beta c` (`c` is not read where `beta` is 0). Panics when the shapes do not
/// chain or a view reaches past its slice, so the unsafe call below only sees valid memory.
pub fn gemm(alpha: f32, a: (&[f32], View), b: (&[f32], View), beta: f32, c: (&mut [f32], View)) {
    let ((sa, va), (sb, vb), (sc, vc)) = (a, b, c);
    assert!(
        va.cols == vb.rows && va.rows == vc.rows && vb.cols == vc.cols,
        "gemm shapes {}x{} * {}x{} -> {}x{}",
        va.rows,
        va.cols,
        vb.rows,
        vb.cols,
        vc.rows,
        vc.cols
    );
    assert!(va.end() <= sa.len() && vb.end() <= sb.len() && vc.end() <= sc.len());
    if vc.rows == 0 || vc.cols == 0 {
        return;
    }
    // SAFETY: the asserts above keep every index the strides reach inside its slice, and `c`
    // is borrowed mutably while `a` and `b` are shared borrows, so they cannot overlap it.
    unsafe {
        matrixmultiply::sgemm(
            va.rows,
            va.cols,
            vb.cols,
            alpha,
            sa.as_ptr().add(va.offset),
            va.rs as isize,
            va.cs as isize,
            sb.as_ptr().add(vb.offset),
            vb.rs as isize,
            vb.cs as isize,
            beta,
            sc.as_mut_ptr().add(vc.offset),
            vc.rs as isize,
            vc.cs as isize,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_views_multiply_as_the_naive_product() {
        // a: columns 1..4 of a 3 x 6 buffer; b: the transpose of a 2 x 3 block.
        let a: Vec<f32> = (0..18).map(|x| x as f32 * 0.5).collect();
        let b: Vec<f32> = (0..8).map(|x| x as f32 - 3.0).collect();
        let va = View::rows(0, 1, 3, 3, 6);
        let vb = View::rows(0, 1, 2, 3, 4).t();
        let mut c = vec![1f32; 6];
        gemm(
            2.0,
            (&a, va),
            (&b, vb),
            1.0,
            (&mut c, View::rows(0, 0, 3, 2, 2)),
        );
        for i in 0..3 {
            for j in 0..2 {
                let dot: f32 = (0..3).map(|k| a[i * 6 + 1 + k] * b[j * 4 + 1 + k]).sum();
                assert!((c[i * 2 + j] - (1.0 + 2.0 * dot)).abs() < 1e-4);
            }
        }
    }

    #[test]
    #[should_panic]
    fn a_view_past_its_slice_is_refused() {
        let a = vec![0f32; 4];
        let mut c = vec![0f32; 4];
        gemm(
            1.0,
            (&a, View::rows(0, 0, 2, 3, 2)),
            (&a, View::rows(0, 0, 3, 2, 2)),
            0.0,
            (&mut c, View::rows(0, 0, 2, 2, 2)),
        );
    }
}
