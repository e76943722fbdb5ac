//! Small rotation helpers for turning observations back into poses (`pose_from_obs`).
//! Rotations are row-major 3x3 `world_from_body`; quaternions are MuJoCo's (w, x, y, z).

pub fn normalize3(v: [f64; 3]) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    if n > 1e-9 {
        v.map(|x| x / n)
    } else {
        [0.0, 0.0, 1.0]
    }
}

pub fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// The heading (yaw, radians) of a body's x axis projected on the ground plane.
pub fn heading_of(q: [f64; 4]) -> f64 {
    let [w, x, y, z] = q;
    let fx = 1.0 - 2.0 * (y * y + z * z);
    let fy = 2.0 * (x * y + w * z);
    fy.atan2(fx)
}

/// A row-major world_from_body rotation whose last row is `z_in_body` (the world z axis seen
/// from the body) and whose body x axis has the given heading (yaw) on the ground plane.
///
/// Built as `Rz(heading - h0) * tilt`, where `tilt` is the smallest rotation taking `z_in_body`
/// to the world z axis and `h0` its own heading; a rotation about world z leaves the last row.
pub fn rotation_with_vertical(z_in_body: [f64; 3], heading: f64) -> [f64; 9] {
    let z = normalize3(z_in_body);
    let axis = cross(z, [0.0, 0.0, 1.0]);
    let sin_a = (axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]).sqrt();
    let cos_a = z[2];
    let k = if sin_a > 1e-9 {
        axis.map(|x| x / sin_a)
    } else {
        [1.0, 0.0, 0.0]
    };
    // Rodrigues: R = I cos + (1 - cos) k k^T + sin [k]x.
    let (c, s, t) = (cos_a, sin_a, 1.0 - cos_a);
    let tilt = [
        c + t * k[0] * k[0],
        t * k[0] * k[1] - s * k[2],
        t * k[0] * k[2] + s * k[1],
        t * k[1] * k[0] + s * k[2],
        c + t * k[1] * k[1],
        t * k[1] * k[2] - s * k[0],
        t * k[2] * k[0] - s * k[1],
        t * k[2] * k[1] + s * k[0],
        c + t * k[2] * k[2],
    ];
    let h0 = tilt[3].atan2(tilt[0]);
    let (sy, cy) = (heading - h0).sin_cos();
    let mut r = [0.0; 9];
    for col in 0..3 {
        r[col] = cy * tilt[col] - sy * tilt[3 + col];
        r[3 + col] = sy * tilt[col] + cy * tilt[3 + col];
        r[6 + col] = tilt[6 + col];
    }
    r
}

/// Unit quaternion (w, x, y, z) of a row-major rotation matrix.
pub fn quat_from_rotation(r: &[f64; 9]) -> [f64; 4] {
    let trace = r[0] + r[4] + r[8];
    let q = if trace > 0.0 {
        let s = (trace + 1.0).sqrt() * 2.0;
        [
            0.25 * s,
            (r[7] - r[5]) / s,
            (r[2] - r[6]) / s,
            (r[3] - r[1]) / s,
        ]
    } else if r[0] > r[4] && r[0] > r[8] {
        let s = (1.0 + r[0] - r[4] - r[8]).sqrt() * 2.0;
        [
            (r[7] - r[5]) / s,
            0.25 * s,
            (r[1] + r[3]) / s,
            (r[2] + r[6]) / s,
        ]
    } else if r[4] > r[8] {
        let s = (1.0 + r[4] - r[0] - r[8]).sqrt() * 2.0;
        [
            (r[2] - r[6]) / s,
            (r[1] + r[3]) / s,
            0.25 * s,
            (r[5] + r[7]) / s,
        ]
    } else {
        let s = (1.0 + r[8] - r[0] - r[4]).sqrt() * 2.0;
        [
            (r[3] - r[1]) / s,
            (r[2] + r[6]) / s,
            (r[5] + r[7]) / s,
            0.25 * s,
        ]
    };
    let n = q.iter().map(|x| x * x).sum::<f64>().sqrt();
    q.map(|x| x / n)
}

/// Rotates a body-frame vector into the world frame.
pub fn rotate(r: &[f64; 9], v: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|i| r[3 * i] * v[0] + r[3 * i + 1] * v[1] + r[3 * i + 2] * v[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_with_vertical_keeps_the_vertical_and_is_orthonormal() {
        for (z, h) in [
            ([0.0, 0.0, 1.0], 0.3),
            ([0.3, -0.2, 0.93], -2.0),
            ([0.8, 0.1, -0.59], 1.0),
        ] {
            let z = normalize3(z);
            let r = rotation_with_vertical(z, h);
            for i in 0..3 {
                assert!((r[6 + i] - z[i]).abs() < 1e-9);
            }
            // R R^T = I.
            for i in 0..3 {
                for j in 0..3 {
                    let d: f64 = (0..3).map(|k| r[3 * i + k] * r[3 * j + k]).sum();
                    assert!((d - if i == j { 1.0 } else { 0.0 }).abs() < 1e-9, "{r:?}");
                }
            }
            let det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6])
                + r[2] * (r[3] * r[7] - r[4] * r[6]);
            assert!((det - 1.0).abs() < 1e-9);
            let q = quat_from_rotation(&r);
            assert!((heading_of(q) - h).abs() < 1e-6 || z[0].abs() > 0.7);
        }
    }
}
