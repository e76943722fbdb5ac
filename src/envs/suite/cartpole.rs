//! Cartpole swing-up (dm_control `cartpole.swingup`).
//!
//! Observation (5): cart x, cos(pole), sin(pole), cart velocity, pole angular velocity.
//! Reward: upright * centered * small_control * small_velocity (see [`cartpole_reward`]).
//! Initial state: pole hanging down, cart at 0, both with N(0, 0.01^2) noise; velocities
//! N(0, 0.01^2). 1000 steps of 0.01 s.
use super::{object_names, require_body};
use crate::envs::reward::{Sigmoid, Tolerance};
use crate::envs::{EnvError, EnvSpec, Task};
use crate::sim::{Data, RolloutTask, Sim, SimModel};
use mujoco_rs::prelude::MjtObjBase;
use rand::Rng;
use rand::rngs::StdRng;
use rand_distr::StandardNormal;

const MJCF: &str = include_str!("../../../assets/mjcf/cartpole.xml");

pub struct CartpoleSwingup {
    model: SimModel,
    spec: EnvSpec,
    pole_body: usize,
}

/// dm_control's cartpole reward from the quantities it reads.
pub fn cartpole_reward(cart_x: f64, pole_cos: f64, pole_angvel: f64, control: f64) -> f64 {
    let upright = (pole_cos + 1.0) / 2.0;
    let centered = (1.0 + Tolerance::new(0.0, 0.0, 2.0).eval(cart_x)) / 2.0;
    let small_control = (4.0
        + Tolerance::new(0.0, 0.0, 1.0)
            .sigmoid(Sigmoid::Quadratic)
            .value_at_margin(0.0)
            .eval(control))
        / 5.0;
    let small_velocity = (1.0 + Tolerance::new(0.0, 0.0, 5.0).eval(pole_angvel)) / 2.0;
    upright * small_control * small_velocity * centered
}

impl CartpoleSwingup {
    pub fn new() -> Result<Self, EnvError> {
        Self::from_model(SimModel::from_xml_str(MJCF, "assets/mjcf/cartpole.xml")?)
    }

    fn from_model(model: SimModel) -> Result<Self, EnvError> {
        let pole_body = require_body(&model, "pole_1")?;
        if model.nq() != 2 || model.nu() != 1 {
            return Err(EnvError::Init(
                "cartpole needs 2 joints and 1 actuator".into(),
            ));
        }
        let spec = EnvSpec {
            name: "cartpole-swingup".into(),
            observation_size: 5,
            action_size: 1,
            observation_labels: ["cart_x", "pole_cos", "pole_sin", "cart_vel", "pole_angvel"]
                .map(String::from)
                .to_vec(),
            action_labels: object_names(&model, MjtObjBase::mjOBJ_ACTUATOR, 1),
            physics_dt_secs: model.timestep_secs(),
            substeps: 1,
            episode_steps: 1000,
        };
        Ok(Self {
            model,
            spec,
            pole_body,
        })
    }
}

impl RolloutTask for CartpoleSwingup {
    fn observation_size(&self) -> usize {
        5
    }

    fn substeps(&self) -> usize {
        self.spec.substeps
    }

    fn observe(&self, data: &Data, out: &mut [f64]) {
        let xmat = &data.xmat()[self.pole_body];
        let (qpos, qvel) = (data.qpos(), data.qvel());
        out.copy_from_slice(&[qpos[0], xmat[8], xmat[2], qvel[0], qvel[1]]);
    }

    fn reward(&self, data: &Data) -> f64 {
        let pole_cos = data.xmat()[self.pole_body][8];
        cartpole_reward(data.qpos()[0], pole_cos, data.qvel()[1], data.ctrl()[0])
    }
}

impl Task for CartpoleSwingup {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn model(&self) -> &SimModel {
        &self.model
    }

    fn initialize_episode(&self, sim: &mut Sim, rng: &mut StdRng) -> Result<(), EnvError> {
        let mut noise = || 0.01 * rng.sample::<f64, _>(StandardNormal);
        let data = sim.data_mut();
        let qpos = [noise(), std::f64::consts::PI + noise()];
        let qvel = [noise(), noise()];
        data.qpos_mut().copy_from_slice(&qpos);
        data.qvel_mut().copy_from_slice(&qvel);
        sim.forward();
        Ok(())
    }

    fn reward_from_observation(&self, observation: &[f64], action: &[f64]) -> Option<f64> {
        let u = action.first()?.clamp(-1.0, 1.0);
        Some(cartpole_reward(
            observation[0],
            observation[1],
            observation[4],
            u,
        ))
    }

    /// Exact: cart x and the pole angle atan2(sin, cos).
    fn pose_from_obs(&self, observation: &[f64], _previous_qpos: &[f64]) -> Vec<f64> {
        vec![observation[0], observation[2].atan2(observation[1])]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reward_at_hand_computed_states() {
        // Upright, centred, no control, no spin: every factor is 1.
        assert_eq!(cartpole_reward(0.0, 1.0, 0.0, 0.0), 1.0);
        // Hanging down: upright = 0.
        assert_eq!(cartpole_reward(0.0, -1.0, 0.0, 0.0), 0.0);
        // Horizontal pole (upright 0.5), cart at the margin x = 2 (centered = (1 + 0.1)/2 = 0.55),
        // full control (small_control = 4/5), angular velocity at its margin 5 (0.55).
        let r = cartpole_reward(2.0, 0.0, 5.0, 1.0);
        let expected = 0.5 * 0.55 * 0.8 * 0.55;
        assert!((r - expected).abs() < 1e-12, "{r} vs {expected}");
        // Half control: small_control = (4 + 0.75)/5 = 0.95.
        let r = cartpole_reward(0.0, 1.0, 0.0, -0.5);
        assert!((r - 0.95).abs() < 1e-12);
    }
}
