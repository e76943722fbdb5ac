use candle_core::{Device, Tensor};
use std::time::Instant;
fn main() -> candle_core::Result<()> {
    let dev = Device::Cpu;
    for (m, k, n, ta, tb) in [
        (4096, 128, 384, false, true),
        (4096, 128, 512, false, true),
        (4096, 512, 128, false, true),
        (384, 4096, 128, true, false),
        (4096, 384, 128, false, false),
        (512, 4096, 128, true, false),
        (3072, 128, 1024, false, true),
    ] {
        let a = if ta {
            Tensor::randn(0f32, 1.0, (k, m), &dev)?.t()?
        } else {
            Tensor::randn(0f32, 1.0, (m, k), &dev)?
        };
        let b = if tb {
            Tensor::randn(0f32, 1.0, (n, k), &dev)?.t()?
        } else {
            Tensor::randn(0f32, 1.0, (k, n), &dev)?
        };
        let _ = a.matmul(&b)?;
        let reps = 20;
        let t = Instant::now();
        for _ in 0..reps {
            let _ = a.matmul(&b)?;
        }
        let s = t.elapsed().as_secs_f64() / reps as f64;
        // matrixmultiply single thread
        let av = a.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let bv = b.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let mut c = vec![0f32; m * n];
        let t2 = Instant::now();
        for _ in 0..reps {
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    av.as_ptr(),
                    k as isize,
                    1,
                    bv.as_ptr(),
                    n as isize,
                    1,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                );
            }
        }
        let s2 = t2.elapsed().as_secs_f64() / reps as f64;
        let f = 2.0 * (m * k * n) as f64;
        println!(
            "{m}x{k}x{n} ta {ta} tb {tb}: candle {:.2} ms {:.1} GFLOP/s; matrixmultiply 1T {:.2} ms {:.1}",
            s * 1e3,
            f / s / 1e9,
            s2 * 1e3,
            f / s2 / 1e9
        );
    }
    Ok(())
}
