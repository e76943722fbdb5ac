//! dm_control's `randomizers.randomize_limited_and_rotational_joints`.
use crate::sim::Sim;
use mujoco_rs::prelude::MjtJoint;
use rand::Rng;
use rand::rngs::StdRng;
use rand_distr::StandardNormal;

/// Sets every limited hinge/slide joint uniformly within its range, every unlimited hinge
/// uniformly in [-pi, pi], ball joints to random (limited) orientations and free joints to a
/// random orientation with non-negative quaternion components (dm_control's `rand(4)`,
/// normalised), leaving their positions. Unlimited slides are left alone.
pub fn randomize_limited_and_rotational_joints(sim: &mut Sim, rng: &mut StdRng) {
    let model = sim.model().mj().clone();
    let types = model.jnt_type();
    let limited = model.jnt_limited();
    let ranges = model.jnt_range();
    let adrs = model.jnt_qposadr();
    let qpos = sim.data_mut().qpos_mut();
    for j in 0..types.len() {
        let a = adrs[j] as usize;
        let [lo, hi] = ranges[j];
        match (types[j], limited[j]) {
            (MjtJoint::mjJNT_HINGE | MjtJoint::mjJNT_SLIDE, true) => {
                qpos[a] = rng.random_range(lo..=hi);
            }
            (MjtJoint::mjJNT_HINGE, false) => {
                qpos[a] = rng.random_range(-std::f64::consts::PI..=std::f64::consts::PI);
            }
            (MjtJoint::mjJNT_BALL, true) => {
                let q = limited_quaternion(rng, hi);
                qpos[a..a + 4].copy_from_slice(&q);
            }
            (MjtJoint::mjJNT_BALL, false) => {
                let q: [f64; 4] = std::array::from_fn(|_| rng.sample(StandardNormal));
                qpos[a..a + 4].copy_from_slice(&normalized(q));
            }
            (MjtJoint::mjJNT_FREE, _) => {
                let q: [f64; 4] = std::array::from_fn(|_| rng.random::<f64>());
                qpos[a + 3..a + 7].copy_from_slice(&normalized(q));
            }
            (MjtJoint::mjJNT_SLIDE, false) => {}
        }
    }
}

fn normalized(q: [f64; 4]) -> [f64; 4] {
    let n = q.iter().map(|x| x * x).sum::<f64>().sqrt();
    if n > 0.0 {
        q.map(|x| x / n)
    } else {
        [1.0, 0.0, 0.0, 0.0]
    }
}

/// A rotation by an angle uniform in [0, limit] about a uniformly random axis.
fn limited_quaternion(rng: &mut StdRng, limit: f64) -> [f64; 4] {
    let axis: [f64; 3] = std::array::from_fn(|_| rng.sample(StandardNormal));
    let n = axis.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
    let angle = rng.random::<f64>() * limit;
    let (s, c) = (angle / 2.0).sin_cos();
    [c, s * axis[0] / n, s * axis[1] / n, s * axis[2] / n]
}
