//! The corridor run task on a procedural walker: move in +x at 1 m/s.
//!
//! Reward per step: tol(v_x, bounds (1, 1), margin 1, linear, value_at_margin 0) =
//! max(0, 1 - |v_x - 1|), with v_x the x velocity of the whole walker's centre of mass (the
//! torso's sub-tree linear velocity). Not a function of the observation: plan on predicted
//! rewards. Physics 0.005 s, control 0.025 s (5 substeps), 1000 control steps (25 s).
//!
//! Observation (2n + 10 for n links): joint angles (n), joint velocities (n), torso height (1),
//! the world z axis in the torso frame (3), torso linear velocity in the torso frame (3), torso
//! angular velocity in the torso frame (3).
//! Initial state: the rest pose spawned just above the floor, joint angles uniform in +-0.1 rad,
//! at rest.
use super::mjcf::{link_name, to_mjcf};
use super::params::{
    EPISODE_STEPS, INIT_JOINT_NOISE_RAD, PHYSICS_DT_SECS, SUBSTEPS, TARGET_SPEED_MPS,
};
use super::tree::{KinematicTree, TreeError};
use crate::envs::pose::{
    heading_of, normalize3, quat_from_rotation, rotate, rotation_with_vertical,
};
use crate::envs::reward::{Sigmoid, Tolerance};
use crate::envs::suite::{object_names, require_body, require_sensor};
use crate::envs::{EnvError, EnvSpec, Task};
use crate::sim::{Data, RolloutTask, Sim, SimModel};
use mujoco_rs::prelude::MjtObjBase;
use rand::Rng;
use rand::rngs::StdRng;
use std::path::Path;

/// The corridor reward at forward velocity `v_x`.
pub fn corridor_reward(v_x: f64) -> f64 {
    Tolerance::new(TARGET_SPEED_MPS, TARGET_SPEED_MPS, TARGET_SPEED_MPS)
        .sigmoid(Sigmoid::Linear)
        .value_at_margin(0.0)
        .eval(v_x)
}

pub struct CorridorRun {
    tree: KinematicTree,
    model: SimModel,
    spec: EnvSpec,
    torso: usize,
    subtreelinvel_adr: usize,
    vel_adr: usize,
    gyro_adr: usize,
}

impl CorridorRun {
    /// Builds the task for `tree`; `name` labels it (e.g. the tree's file).
    pub fn new(tree: KinematicTree, name: &str) -> Result<Self, EnvError> {
        tree.validate().map_err(|e| TreeError::File {
            path: name.into(),
            message: e.to_string(),
        })?;
        let model =
            SimModel::from_xml_str(&to_mjcf(&tree, name), format!("{name} (generated MJCF)"))?;
        let torso = require_body(&model, "torso")?;
        let subtreelinvel_adr = require_sensor(&model, "torso_subtreelinvel")?;
        let vel_adr = require_sensor(&model, "torso_vel")?;
        let gyro_adr = require_sensor(&model, "torso_gyro")?;
        let n = tree.dof();
        let joints: Vec<String> = tree
            .limbs
            .iter()
            .enumerate()
            .flat_map(|(i, l)| (0..l.links.len()).map(move |j| link_name(i, j)))
            .collect();
        let mut observation_labels: Vec<String> =
            joints.iter().map(|j| format!("angle:{j}")).collect();
        observation_labels.extend(joints.iter().map(|j| format!("qvel:{j}")));
        observation_labels.push("torso_height".into());
        observation_labels.extend(["up:x", "up:y", "up:z"].map(String::from));
        observation_labels.extend(["torso_vel:x", "torso_vel:y", "torso_vel:z"].map(String::from));
        observation_labels
            .extend(["torso_angvel:x", "torso_angvel:y", "torso_angvel:z"].map(String::from));
        let spec = EnvSpec {
            name: format!("walker:{name}"),
            observation_size: 2 * n + 10,
            action_size: n,
            observation_labels,
            action_labels: object_names(&model, MjtObjBase::mjOBJ_ACTUATOR, n),
            physics_dt_secs: PHYSICS_DT_SECS,
            substeps: SUBSTEPS,
            episode_steps: EPISODE_STEPS,
        };
        Ok(Self {
            tree,
            model,
            spec,
            torso,
            subtreelinvel_adr,
            vel_adr,
            gyro_adr,
        })
    }

    /// Loads a tree from a JSON file and builds its task.
    pub fn from_file(path: &Path) -> Result<Self, EnvError> {
        let tree = KinematicTree::load(path)?;
        Self::new(tree, &path.display().to_string())
    }

    pub fn tree(&self) -> &KinematicTree {
        &self.tree
    }

    fn n(&self) -> usize {
        self.spec.action_size
    }
}

impl RolloutTask for CorridorRun {
    fn observation_size(&self) -> usize {
        self.spec.observation_size
    }

    fn substeps(&self) -> usize {
        SUBSTEPS
    }

    fn observe(&self, data: &Data, out: &mut [f64]) {
        let n = self.n();
        out[..n].copy_from_slice(&data.qpos()[7..]);
        out[n..2 * n].copy_from_slice(&data.qvel()[6..]);
        out[2 * n] = data.xpos()[self.torso][2];
        out[2 * n + 1..2 * n + 4].copy_from_slice(&data.xmat()[self.torso][6..9]);
        let s = data.sensordata();
        out[2 * n + 4..2 * n + 7].copy_from_slice(&s[self.vel_adr..self.vel_adr + 3]);
        out[2 * n + 7..2 * n + 10].copy_from_slice(&s[self.gyro_adr..self.gyro_adr + 3]);
    }

    fn reward(&self, data: &Data) -> f64 {
        corridor_reward(data.sensordata()[self.subtreelinvel_adr])
    }
}

impl Task for CorridorRun {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn model(&self) -> &SimModel {
        &self.model
    }

    fn initialize_episode(&self, sim: &mut Sim, rng: &mut StdRng) -> Result<(), EnvError> {
        for q in sim.data_mut().qpos_mut()[7..].iter_mut() {
            *q = rng.random_range(-INIT_JOINT_NOISE_RAD..=INIT_JOINT_NOISE_RAD);
        }
        sim.forward();
        Ok(())
    }

    fn reward_from_observation(&self, _observation: &[f64], _action: &[f64]) -> Option<f64> {
        None
    }

    /// Joint angles and torso height exact; the torso's tilt exact (the observed up vector),
    /// its heading kept from `previous_qpos`; x, y integrated over one control step from the
    /// observed torso velocity turned into the world frame.
    fn pose_from_obs(&self, observation: &[f64], previous_qpos: &[f64]) -> Vec<f64> {
        let n = self.n();
        let up = normalize3([
            observation[2 * n + 1],
            observation[2 * n + 2],
            observation[2 * n + 3],
        ]);
        let prev_quat = previous_qpos
            .get(3..7)
            .map_or([1.0, 0.0, 0.0, 0.0], |q| [q[0], q[1], q[2], q[3]]);
        let rot = rotation_with_vertical(up, heading_of(prev_quat));
        let v_body = [
            observation[2 * n + 4],
            observation[2 * n + 5],
            observation[2 * n + 6],
        ];
        let v_world = rotate(&rot, v_body);
        let dt = self.spec.control_dt_secs();
        let prev = |i: usize| previous_qpos.get(i).copied().unwrap_or(0.0);
        let mut qpos = vec![
            prev(0) + v_world[0] * dt,
            prev(1) + v_world[1] * dt,
            observation[2 * n],
        ];
        qpos.extend(quat_from_rotation(&rot));
        qpos.extend_from_slice(&observation[..n]);
        qpos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corridor_reward_peaks_at_one_metre_per_second() {
        assert_eq!(corridor_reward(1.0), 1.0);
        assert_eq!(corridor_reward(0.0), 0.0);
        assert_eq!(corridor_reward(-0.5), 0.0);
        assert_eq!(corridor_reward(2.0), 0.0);
        assert_eq!(corridor_reward(3.0), 0.0);
        assert!((corridor_reward(0.25) - 0.25).abs() < 1e-12);
        assert!((corridor_reward(1.6) - 0.4).abs() < 1e-12);
    }
}
