//! Humanoid stand (dm_control `humanoid.stand`).
//!
//! Observation (67): joint angles (qpos without the free joint, 21), head height (1),
//! extremities (left hand, left foot, right hand, right foot relative to the torso, in the torso
//! frame, 12), torso vertical (the world z axis in the torso frame, 3), centre-of-mass velocity
//! (3), qvel (27).
//! Reward: small_control * standing * upright * dont_move, with standing =
//! tol(head_z, (1.4, inf), margin 0.35), upright = tol(torso_zz, (0.9, inf), linear, margin 1.9,
//! value_at_margin 0), small_control = (4 + mean tol(u, margin 1, quadratic, value_at_margin 0))/5,
//! dont_move = mean over x, y of tol(com_vel, margin 2).
//! Initial state: limited joints uniform in range, a random root orientation, redrawn until no
//! contacts. 1000 control steps of 0.025 s (5 physics steps of 0.005 s).
use super::require_sensor;
use super::{labels, object_names, randomize_limited_and_rotational_joints, require_body};
use crate::envs::reward::{Sigmoid, Tolerance};
use crate::envs::{EnvError, EnvSpec, Task};
use crate::sim::{Data, RolloutTask, Sim, SimModel};
use mujoco_rs::prelude::MjtObjBase;
use rand::rngs::StdRng;

const MJCF: &str = include_str!("../../../assets/mjcf/humanoid.xml");
const STAND_HEIGHT_M: f64 = 1.4;
/// The head body's offset from the torso body, in the torso frame (its `pos` in the MJCF).
const HEAD_IN_TORSO_M: [f64; 3] = [0.0, 0.0, 0.19];
/// Give up finding a contact-free initial pose after this many draws.
const MAX_INIT_DRAWS: usize = 10_000;
const EXTREMITIES: [&str; 4] = ["left_hand", "left_foot", "right_hand", "right_foot"];

pub struct HumanoidStand {
    model: SimModel,
    spec: EnvSpec,
    torso: usize,
    head: usize,
    extremities: [usize; 4],
    subtreelinvel_adr: usize,
}

/// The reward from the quantities it reads; `controls` are the applied actions.
pub fn humanoid_stand_reward(
    head_z: f64,
    torso_zz: f64,
    com_vel_xy: [f64; 2],
    controls: &[f64],
) -> f64 {
    let standing = Tolerance::new(STAND_HEIGHT_M, f64::INFINITY, STAND_HEIGHT_M / 4.0).eval(head_z);
    let upright = Tolerance::new(0.9, f64::INFINITY, 1.9)
        .sigmoid(Sigmoid::Linear)
        .value_at_margin(0.0)
        .eval(torso_zz);
    let control_tol = Tolerance::new(0.0, 0.0, 1.0)
        .sigmoid(Sigmoid::Quadratic)
        .value_at_margin(0.0);
    let mean_control = if controls.is_empty() {
        1.0
    } else {
        controls.iter().map(|&u| control_tol.eval(u)).sum::<f64>() / controls.len() as f64
    };
    let small_control = (4.0 + mean_control) / 5.0;
    let move_tol = Tolerance::new(0.0, 0.0, 2.0);
    let dont_move = (move_tol.eval(com_vel_xy[0]) + move_tol.eval(com_vel_xy[1])) / 2.0;
    small_control * standing * upright * dont_move
}

impl HumanoidStand {
    pub fn new() -> Result<Self, EnvError> {
        let model = SimModel::from_xml_str(MJCF, "assets/mjcf/humanoid.xml")?;
        let torso = require_body(&model, "torso")?;
        let head = require_body(&model, "head")?;
        let mut extremities = [0; 4];
        for (slot, name) in extremities.iter_mut().zip(EXTREMITIES) {
            *slot = require_body(&model, name)?;
        }
        let subtreelinvel_adr = require_sensor(&model, "torso_subtreelinvel")?;
        let njnt = model.mj().njnt() as usize;
        let joints = object_names(&model, MjtObjBase::mjOBJ_JOINT, njnt);
        let dof_names: Vec<String> = ["x", "y", "z", "rx", "ry", "rz"]
            .iter()
            .map(|c| format!("root_{c}"))
            .chain(joints[1..].iter().cloned())
            .collect();
        let mut observation_labels = labels("angle", joints[1..].iter().map(String::as_str));
        observation_labels.push("head_height".into());
        for e in EXTREMITIES {
            for c in ["x", "y", "z"] {
                observation_labels.push(format!("{e}:{c}"));
            }
        }
        observation_labels
            .extend(["torso_vertical:x", "torso_vertical:y", "torso_vertical:z"].map(String::from));
        observation_labels.extend(["com_vel:x", "com_vel:y", "com_vel:z"].map(String::from));
        observation_labels.extend(labels("qvel", dof_names.iter().map(String::as_str)));
        let spec = EnvSpec {
            name: "humanoid-stand".into(),
            observation_size: observation_labels.len(),
            action_size: model.nu(),
            observation_labels,
            action_labels: object_names(&model, MjtObjBase::mjOBJ_ACTUATOR, model.nu()),
            physics_dt_secs: model.timestep_secs(),
            substeps: 5,
            episode_steps: 1000,
        };
        Ok(Self {
            model,
            spec,
            torso,
            head,
            extremities,
            subtreelinvel_adr,
        })
    }
}

impl RolloutTask for HumanoidStand {
    fn observation_size(&self) -> usize {
        self.spec.observation_size
    }

    fn substeps(&self) -> usize {
        self.spec.substeps
    }

    fn observe(&self, data: &Data, out: &mut [f64]) {
        let (qpos, qvel) = (data.qpos(), data.qvel());
        let nj = qpos.len() - 7;
        out[..nj].copy_from_slice(&qpos[7..]);
        let (xpos, xmat) = (data.xpos(), data.xmat());
        out[nj] = xpos[self.head][2];
        let torso_pos = xpos[self.torso];
        let r = xmat[self.torso];
        for (i, &b) in self.extremities.iter().enumerate() {
            let d = [0, 1, 2].map(|c| xpos[b][c] - torso_pos[c]);
            // (limb - torso) . R: the offset in the torso frame.
            for c in 0..3 {
                out[nj + 1 + 3 * i + c] = d[0] * r[c] + d[1] * r[3 + c] + d[2] * r[6 + c];
            }
        }
        let k = nj + 13;
        out[k..k + 3].copy_from_slice(&r[6..9]);
        let sensordata = data.sensordata();
        out[k + 3..k + 6]
            .copy_from_slice(&sensordata[self.subtreelinvel_adr..self.subtreelinvel_adr + 3]);
        out[k + 6..].copy_from_slice(qvel);
    }

    fn reward(&self, data: &Data) -> f64 {
        let v = &data.sensordata()[self.subtreelinvel_adr..];
        humanoid_stand_reward(
            data.xpos()[self.head][2],
            data.xmat()[self.torso][8],
            [v[0], v[1]],
            data.ctrl(),
        )
    }
}

impl Task for HumanoidStand {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn model(&self) -> &SimModel {
        &self.model
    }

    fn initialize_episode(&self, sim: &mut Sim, rng: &mut StdRng) -> Result<(), EnvError> {
        for _ in 0..MAX_INIT_DRAWS {
            randomize_limited_and_rotational_joints(sim, rng);
            sim.forward();
            if sim.data().ncon() == 0 {
                return Ok(());
            }
        }
        Err(EnvError::Init(format!(
            "no contact-free initial pose in {MAX_INIT_DRAWS} draws"
        )))
    }

    /// Exact: head height, torso uprightness, controls and the com velocity are all observed.
    fn reward_from_observation(&self, observation: &[f64], action: &[f64]) -> Option<f64> {
        let nj = self.model.nq() - 7;
        let k = nj + 13;
        let clamped: Vec<f64> = action.iter().map(|u| u.clamp(-1.0, 1.0)).collect();
        Some(humanoid_stand_reward(
            observation[nj],
            observation[k + 2],
            [observation[k + 3], observation[k + 4]],
            &clamped,
        ))
    }

    /// Joint angles exact. The torso's tilt is exact (the observed vertical), its heading is
    /// kept from `previous_qpos` (yaw is not observed); its height follows exactly from the head
    /// height and the tilt; its x, y are integrated from the observed com velocity over one
    /// control step.
    fn pose_from_obs(&self, observation: &[f64], previous_qpos: &[f64]) -> Vec<f64> {
        let nj = self.model.nq() - 7;
        let k = nj + 13;
        let z_in_torso = normalize3([observation[k], observation[k + 1], observation[k + 2]]);
        let prev_quat = previous_qpos
            .get(3..7)
            .map_or([1.0, 0.0, 0.0, 0.0], |q| [q[0], q[1], q[2], q[3]]);
        let rot = rotation_with_vertical(z_in_torso, heading_of(prev_quat));
        // Row-major world_from_torso; the head sits at torso + R * offset.
        let head_dz: f64 = (0..3).map(|c| rot[6 + c] * HEAD_IN_TORSO_M[c]).sum();
        let dt = self.spec.control_dt_secs();
        let prev = |i: usize| previous_qpos.get(i).copied().unwrap_or(0.0);
        let mut qpos = vec![
            prev(0) + observation[k + 3] * dt,
            prev(1) + observation[k + 4] * dt,
            observation[nj] - head_dz,
        ];
        qpos.extend(quat_from_rotation(&rot));
        qpos.extend_from_slice(&observation[..nj]);
        qpos
    }
}

fn normalize3(v: [f64; 3]) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    if n > 1e-9 {
        v.map(|x| x / n)
    } else {
        [0.0, 0.0, 1.0]
    }
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// The heading (yaw, radians) of a body's x axis projected on the ground plane.
fn heading_of(q: [f64; 4]) -> f64 {
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
fn rotation_with_vertical(z_in_body: [f64; 3], heading: f64) -> [f64; 9] {
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
fn quat_from_rotation(r: &[f64; 9]) -> [f64; 4] {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_reward_at_hand_computed_states() {
        let zero = [0.0; 21];
        assert_eq!(humanoid_stand_reward(1.5, 1.0, [0.0, 0.0], &zero), 1.0);
        assert_eq!(humanoid_stand_reward(1.4, 0.9, [0.0, 0.0], &zero), 1.0);
        // Head at the margin (1.05 m): standing 0.1.
        assert!((humanoid_stand_reward(1.05, 1.0, [0.0, 0.0], &zero) - 0.1).abs() < 1e-12);
        // Upright linear: torso_zz = -1 is exactly 1.9 below 0.9: 0.
        assert_eq!(humanoid_stand_reward(1.5, -1.0, [0.0, 0.0], &zero), 0.0);
        // Halfway down the margin: zz = -0.05 -> 0.5.
        assert!((humanoid_stand_reward(1.5, -0.05, [0.0, 0.0], &zero) - 0.5).abs() < 1e-12);
        // Full control everywhere: small_control = 4/5. com vel x at margin 2: dont_move 0.55.
        let full = [1.0; 21];
        assert!((humanoid_stand_reward(1.5, 1.0, [2.0, 0.0], &full) - 0.8 * 0.55).abs() < 1e-12);
    }

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
