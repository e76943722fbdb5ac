//! Simple data-collection policies: noise, uniform random, zero.
use super::noise::NoiseConfig;
use crate::data::{DataError, Episode, Policy};
use crate::envs::Env;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Actions from one noise process over the whole episode (e.g. Brownian: a random walk).
pub struct NoisePolicy {
    noise: NoiseConfig,
    steps: usize,
    action_size: usize,
    actions: Vec<f64>,
}

impl NoisePolicy {
    pub fn new(noise: NoiseConfig, action_size: usize, episode_steps: usize) -> Self {
        Self {
            noise,
            steps: episode_steps,
            action_size,
            actions: Vec::new(),
        }
    }
}

impl Policy for NoisePolicy {
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({"kind": format!("{:?}", self.noise.kind).to_lowercase(), "variance": self.noise.variance})
    }

    fn begin_episode(&mut self, seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x0AC7_1045);
        self.actions = self.noise.sample(&mut rng, 1, self.steps, self.action_size);
    }

    fn act(&mut self, _env: &dyn Env, episode: &Episode) -> Result<Vec<f64>, DataError> {
        let t = episode.len();
        self.actions
            .get(t * self.action_size..(t + 1) * self.action_size)
            .map(<[f64]>::to_vec)
            .ok_or_else(|| {
                DataError::Policy(format!("noise policy asked for step {t} of {}", self.steps))
            })
    }
}

/// Independent uniform actions in [-1, 1].
pub struct UniformPolicy {
    rng: StdRng,
}

impl Default for UniformPolicy {
    fn default() -> Self {
        Self {
            rng: StdRng::seed_from_u64(0),
        }
    }
}

impl Policy for UniformPolicy {
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({"kind": "uniform"})
    }

    fn begin_episode(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed ^ 0x5EED_0FAC_7104);
    }

    fn act(&mut self, env: &dyn Env, _episode: &Episode) -> Result<Vec<f64>, DataError> {
        Ok((0..env.spec().action_size)
            .map(|_| self.rng.random_range(-1.0..=1.0))
            .collect())
    }
}

/// All-zero actions.
pub struct ZeroPolicy;

impl Policy for ZeroPolicy {
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({"kind": "zero"})
    }

    fn begin_episode(&mut self, _seed: u64) {}

    fn act(&mut self, env: &dyn Env, _episode: &Episode) -> Result<Vec<f64>, DataError> {
        Ok(vec![0.0; env.spec().action_size])
    }
}

/// A policy (usually ground-truth MPC) interrupted at random moments by a planner-like
/// candidate: a fresh noise sequence of `branch_steps` actions, played to its end. The data then
/// holds what a random-shooting planner asks a model about (its candidates, from the states the
/// agent visits), which neither expert data (good actions only) nor noise from the initial state
/// (never near the goal) covers.
pub struct BranchingPolicy {
    inner: Box<dyn Policy>,
    noise: NoiseConfig,
    branch_steps: usize,
    /// Probability of starting a branch at a step the inner policy would act.
    branch_probability: f64,
    rng: StdRng,
    /// The current branch's actions still to play, last first.
    pending: Vec<Vec<f64>>,
}

impl BranchingPolicy {
    pub fn new(
        inner: Box<dyn Policy>,
        noise: NoiseConfig,
        branch_steps: usize,
        branch_probability: f64,
    ) -> Self {
        Self {
            inner,
            noise,
            branch_steps: branch_steps.max(1),
            branch_probability: branch_probability.clamp(0.0, 1.0),
            rng: StdRng::seed_from_u64(0),
            pending: Vec::new(),
        }
    }
}

impl Policy for BranchingPolicy {
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": "branching",
            "inner": self.inner.describe(),
            "branch_noise": format!("{:?}", self.noise.kind).to_lowercase(),
            "branch_variance": self.noise.variance,
            "branch_steps": self.branch_steps,
            "branch_probability": self.branch_probability,
        })
    }

    fn begin_episode(&mut self, seed: u64) {
        self.inner.begin_episode(seed);
        self.rng = StdRng::seed_from_u64(seed ^ 0xB4A2_C4E5);
        self.pending.clear();
    }

    fn act(&mut self, env: &dyn Env, episode: &Episode) -> Result<Vec<f64>, DataError> {
        if self.pending.is_empty() && self.rng.random::<f64>() < self.branch_probability {
            let m = env.spec().action_size;
            let actions = self.noise.sample(&mut self.rng, 1, self.branch_steps, m);
            self.pending = actions.chunks(m).rev().map(<[f64]>::to_vec).collect();
        }
        match self.pending.pop() {
            Some(action) => Ok(action),
            None => self.inner.act(env, episode),
        }
    }
}
