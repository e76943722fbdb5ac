//! Planar walker stand and walk (dm_control `walker.stand`, `walker.walk`).
//!
//! Observation (24): for the 7 bodies torso, right thigh/leg/foot, left thigh/leg/foot the
//! world-frame orientation entries xx and xz (14), the torso height (1), qvel (9).
//! Reward: stand = (3 standing + upright) / 4 with standing = tol(torso_z, (1.2, inf), margin 0.6),
//! upright = (1 + torso_zz) / 2; walk = stand * (5 move + 1) / 6 with
//! move = tol(subtree_linvel_x, (1, inf), margin 0.5, value_at_margin 0.5, linear).
//! Initial state: limited joints uniform in range, the torso pitch uniform in [-pi, pi].
//! 1000 control steps of 0.025 s (10 physics steps of 0.0025 s).
use super::require_sensor;
use super::{labels, object_names, randomize_limited_and_rotational_joints, require_body};
use crate::envs::reward::{Sigmoid, Tolerance};
use crate::envs::{EnvError, EnvSpec, Task};
use crate::sim::{Data, RolloutTask, Sim, SimModel};
use mujoco_rs::prelude::MjtObjBase;
use rand::rngs::StdRng;

const MJCF: &str = include_str!("../../../assets/mjcf/walker.xml");
const STAND_HEIGHT_M: f64 = 1.2;
const WALK_SPEED_MPS: f64 = 1.0;
/// Height of the torso body frame above the `rootz` origin (its `pos` in the MJCF).
const TORSO_REST_Z_M: f64 = 1.3;
const BODIES: [&str; 7] = [
    "torso",
    "right_thigh",
    "right_leg",
    "right_foot",
    "left_thigh",
    "left_leg",
    "left_foot",
];

/// Which of dm_control's walker tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkerGoal {
    Stand,
    Walk,
}

pub struct PlanarWalker {
    model: SimModel,
    spec: EnvSpec,
    goal: WalkerGoal,
    /// Body ids in observation order (torso first).
    bodies: [usize; 7],
    subtreelinvel_adr: usize,
}

/// dm_control's walker stand reward.
pub fn walker_stand_reward(torso_height: f64, torso_zz: f64) -> f64 {
    let standing =
        Tolerance::new(STAND_HEIGHT_M, f64::INFINITY, STAND_HEIGHT_M / 2.0).eval(torso_height);
    let upright = (1.0 + torso_zz) / 2.0;
    (3.0 * standing + upright) / 4.0
}

/// dm_control's walker walk reward.
pub fn walker_walk_reward(torso_height: f64, torso_zz: f64, forward_velocity: f64) -> f64 {
    let moving = Tolerance::new(WALK_SPEED_MPS, f64::INFINITY, WALK_SPEED_MPS / 2.0)
        .sigmoid(Sigmoid::Linear)
        .value_at_margin(0.5)
        .eval(forward_velocity);
    walker_stand_reward(torso_height, torso_zz) * (5.0 * moving + 1.0) / 6.0
}

impl PlanarWalker {
    pub fn new(goal: WalkerGoal) -> Result<Self, EnvError> {
        let model = SimModel::from_xml_str(MJCF, "assets/mjcf/walker.xml")?;
        let mut bodies = [0; 7];
        for (slot, name) in bodies.iter_mut().zip(BODIES) {
            *slot = require_body(&model, name)?;
        }
        let subtreelinvel_adr = require_sensor(&model, "torso_subtreelinvel")?;
        let joint_names = object_names(&model, MjtObjBase::mjOBJ_JOINT, model.nv());
        let mut observation_labels = Vec::new();
        for b in BODIES {
            observation_labels.push(format!("{b}:xx"));
            observation_labels.push(format!("{b}:xz"));
        }
        observation_labels.push("torso_height".into());
        observation_labels.extend(labels("qvel", joint_names.iter().map(String::as_str)));
        let spec = EnvSpec {
            name: match goal {
                WalkerGoal::Stand => "walker-stand",
                WalkerGoal::Walk => "walker-walk",
            }
            .into(),
            observation_size: observation_labels.len(),
            action_size: model.nu(),
            observation_labels,
            action_labels: object_names(&model, MjtObjBase::mjOBJ_ACTUATOR, model.nu()),
            physics_dt_secs: model.timestep_secs(),
            substeps: 10,
            episode_steps: 1000,
        };
        Ok(Self {
            model,
            spec,
            goal,
            bodies,
            subtreelinvel_adr,
        })
    }
}

impl RolloutTask for PlanarWalker {
    fn observation_size(&self) -> usize {
        self.spec.observation_size
    }

    fn substeps(&self) -> usize {
        self.spec.substeps
    }

    fn observe(&self, data: &Data, out: &mut [f64]) {
        let xmat = data.xmat();
        for (i, &b) in self.bodies.iter().enumerate() {
            out[2 * i] = xmat[b][0];
            out[2 * i + 1] = xmat[b][2];
        }
        out[14] = data.xpos()[self.bodies[0]][2];
        out[15..].copy_from_slice(data.qvel());
    }

    fn reward(&self, data: &Data) -> f64 {
        let torso = self.bodies[0];
        let height = data.xpos()[torso][2];
        let zz = data.xmat()[torso][8];
        match self.goal {
            WalkerGoal::Stand => walker_stand_reward(height, zz),
            WalkerGoal::Walk => {
                let vx = data.sensordata()[self.subtreelinvel_adr];
                walker_walk_reward(height, zz, vx)
            }
        }
    }
}

impl Task for PlanarWalker {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn model(&self) -> &SimModel {
        &self.model
    }

    fn initialize_episode(&self, sim: &mut Sim, rng: &mut StdRng) -> Result<(), EnvError> {
        randomize_limited_and_rotational_joints(sim, rng);
        sim.forward();
        Ok(())
    }

    /// Stand: exact (torso height and, for a planar body, zz = xx of the torso). Walk: the
    /// sub-tree velocity is not observed, so `None`: plan on predicted rewards instead.
    fn reward_from_observation(&self, observation: &[f64], _action: &[f64]) -> Option<f64> {
        match self.goal {
            WalkerGoal::Stand => Some(walker_stand_reward(observation[14], observation[0])),
            WalkerGoal::Walk => None,
        }
    }

    /// Exact for height, pitch and joint angles (from the bodies' world pitch angles); the
    /// root's x is not observed and is integrated from the observed velocity over one control
    /// step, starting from `previous_qpos`.
    fn pose_from_obs(&self, observation: &[f64], previous_qpos: &[f64]) -> Vec<f64> {
        // Rotation about +y by theta has xx = cos(theta), xz = sin(theta).
        let pitch = |i: usize| observation[2 * i + 1].atan2(observation[2 * i]);
        let wrap = |a: f64| {
            (a + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI
        };
        let prev_x = previous_qpos.get(1).copied().unwrap_or(0.0);
        let vx = observation[15 + 1];
        let torso = pitch(0);
        // Hinges turn about -y: child pitch = parent pitch - joint angle.
        let mut qpos = vec![
            observation[14] - TORSO_REST_Z_M,
            prev_x + vx * self.spec.control_dt_secs(),
            torso,
        ];
        for side in [1, 4] {
            let (thigh, leg, foot) = (pitch(side), pitch(side + 1), pitch(side + 2));
            qpos.push(wrap(torso - thigh));
            qpos.push(wrap(thigh - leg));
            qpos.push(wrap(leg - foot));
        }
        qpos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_reward_at_hand_computed_states() {
        // Tall and upright: 1.
        assert_eq!(walker_stand_reward(1.3, 1.0), 1.0);
        assert_eq!(walker_stand_reward(1.2, 1.0), 1.0);
        // At the margin (height 0.6): standing = 0.1, upright 1 -> (0.3 + 1) / 4.
        assert!((walker_stand_reward(0.6, 1.0) - 1.3 / 4.0).abs() < 1e-12);
        // Lying upside down at the bound: (3 + 0) / 4.
        assert!((walker_stand_reward(1.2, -1.0) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn walk_reward_at_hand_computed_states() {
        assert_eq!(walker_walk_reward(1.3, 1.0, 1.0), 1.0);
        assert_eq!(walker_walk_reward(1.3, 1.0, 3.0), 1.0);
        // v = 0.5: move = 0.5 -> (2.5 + 1) / 6.
        assert!((walker_walk_reward(1.3, 1.0, 0.5) - 3.5 / 6.0).abs() < 1e-12);
        // v <= 0: move = 0 -> stand / 6.
        assert!((walker_walk_reward(1.3, 1.0, 0.0) - 1.0 / 6.0).abs() < 1e-12);
        assert!((walker_walk_reward(1.3, 1.0, -2.0) - 1.0 / 6.0).abs() < 1e-12);
    }
}
