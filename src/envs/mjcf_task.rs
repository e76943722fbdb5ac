//! Any MJCF file as a task, for looking at and rolling out models the suite does not know.
//!
//! Observation: qpos then qvel. Reward: 0 (there is no goal). One physics step per control step,
//! 1000 steps per episode. Initial state: the model's reference pose with N(0, 0.01^2) noise on
//! every position and velocity coordinate (quaternions renormalised by MuJoCo).
use super::error::EnvError;
use super::spec::{EnvSpec, Task};
use super::suite::{labels, object_names};
use crate::sim::{Data, RolloutTask, Sim, SimModel};
use mujoco_rs::prelude::MjtObjBase;
use rand::Rng;
use rand::rngs::StdRng;
use rand_distr::StandardNormal;
use std::path::Path;

pub struct MjcfTask {
    model: SimModel,
    spec: EnvSpec,
}

impl MjcfTask {
    pub fn from_file(path: &Path) -> Result<Self, EnvError> {
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
            name: format!("mjcf:{}", path.display()),
            observation_size: nq + nv,
            action_size: nu,
            observation_labels,
            action_labels: object_names(&model, MjtObjBase::mjOBJ_ACTUATOR, nu),
            physics_dt_secs: model.timestep_secs(),
            substeps: 1,
            episode_steps: 1000,
        };
        Ok(Self { model, spec })
    }
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

    fn reward(&self, _data: &Data) -> f64 {
        0.0
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

    fn reward_from_observation(&self, _observation: &[f64], _action: &[f64]) -> Option<f64> {
        Some(0.0)
    }

    /// Exact: the observation holds qpos.
    fn pose_from_obs(&self, observation: &[f64], _previous_qpos: &[f64]) -> Vec<f64> {
        observation[..self.model.nq()].to_vec()
    }
}
