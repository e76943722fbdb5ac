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
use crate::envs::pose::{heading_of, normalize3, quat_from_rotation, rotation_with_vertical};
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
}
