//! Any MJCF file as a task, for looking at and rolling out models the suite does not know.
//!
//! Observation: qpos then qvel. Reward: none (`mjcf:FILE`: 0, there is no goal), or holding the
//! reference pose (`mjcf-pose:FILE`, [`MjcfReward::HoldPose`]). One physics step per control
//! step, 1000 steps per episode. Initial state: the model's reference pose with N(0, 0.01^2)
//! noise on every position and velocity coordinate (quaternions renormalised by MuJoCo).
use super::error::EnvError;
use super::spec::{EnvSpec, Task};
use super::suite::{labels, object_names};
use crate::sim::{Data, RolloutTask, Sim, SimModel};
use mujoco_rs::prelude::{MjtJoint, MjtObjBase};
use rand::Rng;
use rand::rngs::StdRng;
use rand_distr::StandardNormal;
use std::path::Path;

/// What an MJCF scene is rewarded for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MjcfReward {
    /// Nothing: every step earns 0, so a planner has nothing to choose by.
    None,
    /// Staying in the model's reference pose (`qpos0`): `exp(-(d / 0.5)^2)` per step, where
    /// `d^2` is the mean squared difference over hinge and slide joints (rad, m) and the height
    /// of each free joint (m); 1 in the pose. Ball joints and free-joint orientations are not
    /// counted.
    HoldPose,
}

/// The scale of [`MjcfReward::HoldPose`]: half a radian (or metre) off the pose earns e^-1.
const POSE_SCALE: f64 = 0.5;

pub struct MjcfTask {
    model: SimModel,
    spec: EnvSpec,
    reward: MjcfReward,
    /// `(qpos index, reference value)` of the coordinates [`MjcfReward::HoldPose`] compares.
    pose: Vec<(usize, f64)>,
}

impl MjcfTask {
    /// The file with no reward (`mjcf:FILE`).
    pub fn from_file(path: &Path) -> Result<Self, EnvError> {
        Self::with_reward(path, MjcfReward::None)
    }

    /// The task name of `path` with `reward`: `mjcf:FILE` or `mjcf-pose:FILE`.
    pub fn task_name(path: &Path, reward: MjcfReward) -> String {
        match reward {
            MjcfReward::None => format!("mjcf:{}", path.display()),
            MjcfReward::HoldPose => format!("mjcf-pose:{}", path.display()),
        }
    }

    pub fn with_reward(path: &Path, reward: MjcfReward) -> Result<Self, EnvError> {
        let model = SimModel::from_file(path)?;
        let (nq, nv, nu) = (model.nq(), model.nv(), model.nu());
        if nu == 0 {
            return Err(EnvError::Init(format!(
                "{}: the model has no actuators, so there is nothing to control",
                path.display()
            )));
        }
        let idx = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
        let mut observation_labels = labels("qpos", idx(nq).iter().map(String::as_str));
        observation_labels.extend(labels("qvel", idx(nv).iter().map(String::as_str)));
        let spec = EnvSpec {
            name: Self::task_name(path, reward),
            observation_size: nq + nv,
            action_size: nu,
            observation_labels,
            action_labels: object_names(&model, MjtObjBase::mjOBJ_ACTUATOR, nu),
            physics_dt_secs: model.timestep_secs(),
            substeps: 1,
            episode_steps: 1000,
        };
        let pose = pose_coordinates(&model);
        Ok(Self {
            model,
            spec,
            reward,
            pose,
        })
    }

    pub fn reward_kind(&self) -> MjcfReward {
        self.reward
    }

    fn pose_reward(&self, qpos: &[f64]) -> f64 {
        if self.reward == MjcfReward::None || self.pose.is_empty() {
            return 0.0;
        }
        let d2 = self
            .pose
            .iter()
            .map(|&(i, q0)| (qpos[i] - q0).powi(2))
            .sum::<f64>()
            / self.pose.len() as f64;
        (-d2 / (POSE_SCALE * POSE_SCALE)).exp()
    }
}

/// The coordinates a pose is held by: hinge and slide joints, and each free joint's height.
fn pose_coordinates(model: &SimModel) -> Vec<(usize, f64)> {
    let m = model.mj();
    let (types, adrs, qpos0) = (m.jnt_type(), m.jnt_qposadr(), m.qpos0());
    (0..types.len())
        .filter_map(|j| {
            let a = adrs[j] as usize;
            match types[j] {
                MjtJoint::mjJNT_HINGE | MjtJoint::mjJNT_SLIDE => Some((a, qpos0[a])),
                MjtJoint::mjJNT_FREE => Some((a + 2, qpos0[a + 2])),
                MjtJoint::mjJNT_BALL => None,
            }
        })
        .collect()
}

impl RolloutTask for MjcfTask {
    fn observation_size(&self) -> usize {
        self.spec.observation_size
    }

    fn substeps(&self) -> usize {
        1
    }

    fn observe(&self, data: &Data, out: &mut [f64]) {
        let nq = self.model.nq();
        out[..nq].copy_from_slice(data.qpos());
        out[nq..].copy_from_slice(data.qvel());
    }

    fn reward(&self, data: &Data) -> f64 {
        self.pose_reward(data.qpos())
    }
}

impl Task for MjcfTask {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn model(&self) -> &SimModel {
        &self.model
    }

    fn initialize_episode(&self, sim: &mut Sim, rng: &mut StdRng) -> Result<(), EnvError> {
        let data = sim.data_mut();
        let mut noise = || 0.01 * rng.sample::<f64, _>(StandardNormal);
        data.qpos_mut().iter_mut().for_each(|x| *x += noise());
        data.qvel_mut().iter_mut().for_each(|x| *x += noise());
        sim.forward();
        Ok(())
    }

    fn reward_from_observation(&self, observation: &[f64], _action: &[f64]) -> Option<f64> {
        Some(self.pose_reward(&observation[..self.model.nq()]))
    }

    fn has_reward(&self) -> bool {
        self.reward != MjcfReward::None
    }

    /// Exact: the observation holds qpos.
    fn pose_from_obs(&self, observation: &[f64], _previous_qpos: &[f64]) -> Vec<f64> {
        observation[..self.model.nq()].to_vec()
    }
}
