//! The environment the workbench steps: a task, one simulation, an RNG and a step counter.
use super::error::EnvError;
use super::spec::{EnvSpec, Task};
use crate::sim::{Sim, SimState};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::sync::Arc;

/// The result of one control step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub observation: Vec<f64>,
    pub reward: f64,
    /// The time limit was reached with this step.
    pub done: bool,
}

/// What the planner, the data collector and the UI drive.
pub trait Env: Send {
    fn spec(&self) -> &EnvSpec;
    /// Starts an episode from a random initial state drawn with `seed`; returns the observation.
    fn reset(&mut self, seed: u64) -> Result<Vec<f64>, EnvError>;
    /// Applies `action` for one control step.
    fn step(&mut self, action: &[f64]) -> Result<Step, EnvError>;
    fn observation(&self) -> Vec<f64>;
    /// Control steps taken in this episode.
    fn steps_taken(&self) -> usize;
    fn state(&self) -> SimState;
    fn set_state(&mut self, state: &SimState, steps_taken: usize) -> Result<(), EnvError>;
    fn sim(&self) -> &Sim;
    fn task(&self) -> Arc<dyn Task>;
    /// See [`Task::pose_from_obs`].
    fn pose_from_obs(&self, observation: &[f64], previous_qpos: &[f64]) -> Vec<f64> {
        self.task().pose_from_obs(observation, previous_qpos)
    }
}

/// The one [`Env`] implementation: any [`Task`] over real MuJoCo.
pub struct MujocoEnv {
    task: Arc<dyn Task>,
    sim: Sim,
    steps_taken: usize,
}

impl MujocoEnv {
    pub fn new(task: Arc<dyn Task>) -> Self {
        let sim = Sim::new(task.model().clone());
        Self {
            task,
            sim,
            steps_taken: 0,
        }
    }
}

impl Env for MujocoEnv {
    fn spec(&self) -> &EnvSpec {
        self.task.spec()
    }

    fn reset(&mut self, seed: u64) -> Result<Vec<f64>, EnvError> {
        let mut rng = StdRng::seed_from_u64(seed);
        self.sim.reset();
        self.task.initialize_episode(&mut self.sim, &mut rng)?;
        self.steps_taken = 0;
        Ok(self.observation())
    }

    fn step(&mut self, action: &[f64]) -> Result<Step, EnvError> {
        let spec = self.task.spec();
        if action.len() != spec.action_size {
            return Err(EnvError::ActionSize {
                expected: spec.action_size,
                got: action.len(),
            });
        }
        if self.steps_taken >= spec.episode_steps {
            return Err(EnvError::EpisodeOver {
                steps: self.steps_taken,
            });
        }
        self.sim.step(action, spec.substeps)?;
        self.steps_taken += 1;
        Ok(Step {
            observation: self.observation(),
            reward: self.task.reward(self.sim.data()),
            done: self.steps_taken >= spec.episode_steps,
        })
    }

    fn observation(&self) -> Vec<f64> {
        let mut obs = vec![0.0; self.task.observation_size()];
        self.task.observe(self.sim.data(), &mut obs);
        obs
    }

    fn steps_taken(&self) -> usize {
        self.steps_taken
    }

    fn state(&self) -> SimState {
        self.sim.state()
    }

    fn set_state(&mut self, state: &SimState, steps_taken: usize) -> Result<(), EnvError> {
        self.sim.set_state(state)?;
        self.steps_taken = steps_taken;
        Ok(())
    }

    fn sim(&self) -> &Sim {
        &self.sim
    }

    fn task(&self) -> Arc<dyn Task> {
        Arc::clone(&self.task)
    }
}
