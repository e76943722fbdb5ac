//! Batched rollouts: K action sequences of N control steps from one saved state, spread over
//! worker threads with one `MjData` each, all sharing one model.
//!
//! Every candidate starts from the same restored state and candidates never share data, so the
//! result is bit-identical to a serial run whatever the thread count.
use super::error::SimError;
use super::model::SimModel;
use super::simulation::{Data, restore, step_data};
use super::state::SimState;
use mujoco_rs::prelude::MjData;
use std::sync::Arc;

/// What a rollout needs to know about a task: how to observe and how to score a state.
pub trait RolloutTask: Send + Sync {
    /// Length of one observation vector.
    fn observation_size(&self) -> usize;
    /// Physics steps per control step.
    fn substeps(&self) -> usize;
    /// Writes the observation of the current state into `out` (length `observation_size`).
    fn observe(&self, data: &Data, out: &mut [f64]);
    /// The reward of the current state, with `data.ctrl()` the control just applied.
    fn reward(&self, data: &Data) -> f64;
}

/// K rollouts of N steps: observations after each step, rewards of each step.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchRollout {
    pub candidates: usize,
    pub horizon_steps: usize,
    pub observation_size: usize,
    /// `[candidates][horizon_steps][observation_size]`, row-major.
    pub observations: Vec<f64>,
    /// `[candidates][horizon_steps]`.
    pub rewards: Vec<f64>,
    /// Per candidate: `None`, or the step at which it diverged and why. Steps from there on repeat
    /// the last good observation and have reward 0.
    pub failures: Vec<Option<(usize, String)>>,
}

impl BatchRollout {
    /// The observation of candidate `k` after step `t`.
    pub fn observation(&self, k: usize, t: usize) -> &[f64] {
        let start = (k * self.horizon_steps + t) * self.observation_size;
        &self.observations[start..start + self.observation_size]
    }

    /// The rewards of candidate `k`, one per step.
    pub fn rewards_of(&self, k: usize) -> &[f64] {
        &self.rewards[k * self.horizon_steps..(k + 1) * self.horizon_steps]
    }

    /// Undiscounted return of each candidate.
    pub fn returns(&self) -> Vec<f64> {
        (0..self.candidates)
            .map(|k| self.rewards_of(k).iter().sum())
            .collect()
    }
}

/// A pool of `MjData`, one per worker thread, kept between calls.
pub struct RolloutWorkers {
    model: SimModel,
    datas: Vec<Data>,
}

impl RolloutWorkers {
    /// `threads` workers (at least one); `0` means one per available core.
    pub fn new(model: SimModel, threads: usize) -> Self {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let datas = (0..threads)
            .map(|_| MjData::new(Arc::clone(model.mj())))
            .collect();
        Self { model, datas }
    }

    pub fn threads(&self) -> usize {
        self.datas.len()
    }

    pub fn model(&self) -> &SimModel {
        &self.model
    }

    /// Runs `candidates` action sequences of `horizon_steps` steps each from `state`.
    /// `actions` is `[candidates][horizon_steps][nu]`, row-major.
    pub fn run(
        &mut self,
        state: &SimState,
        task: &dyn RolloutTask,
        actions: &[f64],
        candidates: usize,
        horizon_steps: usize,
    ) -> Result<BatchRollout, SimError> {
        let nu = self.model.nu();
        if nu == 0 {
            return Err(SimError::Unsupported(
                "the model has no actuators to roll out".into(),
            ));
        }
        let expected = candidates * horizon_steps * nu;
        if actions.len() != expected {
            return Err(SimError::BadControl(format!(
                "action array has {} values, expected {candidates} x {horizon_steps} x {nu} = {expected}",
                actions.len()
            )));
        }
        let obs_size = task.observation_size();
        let mut out = BatchRollout {
            candidates,
            horizon_steps,
            observation_size: obs_size,
            observations: vec![0.0; candidates * horizon_steps * obs_size],
            rewards: vec![0.0; candidates * horizon_steps],
            failures: vec![None; candidates],
        };
        if candidates == 0 || horizon_steps == 0 {
            return Ok(out);
        }
        let workers = self.datas.len().min(candidates);
        let per_worker = candidates.div_ceil(workers);
        let model = self.model.mj().as_ref();
        let jobs = self
            .datas
            .iter_mut()
            .zip(actions.chunks(per_worker * horizon_steps * nu))
            .zip(
                out.observations
                    .chunks_mut(per_worker * horizon_steps * obs_size),
            )
            .zip(out.rewards.chunks_mut(per_worker * horizon_steps))
            .zip(out.failures.chunks_mut(per_worker))
            .map(
                |((((data, actions), observations), rewards), failures)| Chunk {
                    data,
                    actions,
                    observations,
                    rewards,
                    failures,
                },
            );
        let run_chunk = |c: Chunk<'_>| -> Result<(), SimError> {
            for (j, fail) in c.failures.iter_mut().enumerate() {
                let span = j * horizon_steps;
                *fail = rollout_one(
                    c.data,
                    model,
                    state,
                    task,
                    &c.actions[span * nu..(span + horizon_steps) * nu],
                    &mut c.observations[span * obs_size..(span + horizon_steps) * obs_size],
                    &mut c.rewards[span..span + horizon_steps],
                )?;
            }
            Ok(())
        };
        if workers == 1 {
            for job in jobs {
                run_chunk(job)?;
            }
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = jobs
                    .map(|job| {
                        std::thread::Builder::new()
                            .name("rollout".into())
                            .spawn_scoped(scope, move || run_chunk(job))
                    })
                    .collect();
                let mut first_err = None;
                for h in handles {
                    let res = match h {
                        Ok(h) => h.join().unwrap_or_else(|_| {
                            Err(SimError::Unsupported("a rollout worker panicked".into()))
                        }),
                        Err(e) => Err(SimError::Unsupported(format!(
                            "cannot start a rollout worker: {e}"
                        ))),
                    };
                    if let Err(e) = res {
                        first_err.get_or_insert(e);
                    }
                }
                first_err.map_or(Ok(()), Err)
            })?;
        }
        Ok(out)
    }
}

/// One worker's share of a batch.
struct Chunk<'a> {
    data: &'a mut Data,
    actions: &'a [f64],
    observations: &'a mut [f64],
    rewards: &'a mut [f64],
    failures: &'a mut [Option<(usize, String)>],
}

/// One candidate. Returns `Ok(Some(..))` when the candidate diverged (a result, not an error:
/// other candidates are fine), `Err` for a state that does not fit the model or a MuJoCo error
/// (the model's own failure, which every candidate would meet).
fn rollout_one(
    data: &mut Data,
    model: &mujoco_rs::prelude::MjModel,
    state: &SimState,
    task: &dyn RolloutTask,
    actions: &[f64],
    obs_out: &mut [f64],
    rewards_out: &mut [f64],
) -> Result<Option<(usize, String)>, SimError> {
    restore(data, state)?;
    let nu = model.nu() as usize;
    let obs_size = task.observation_size();
    let substeps = task.substeps();
    for (t, ctrl) in actions.chunks_exact(nu).enumerate() {
        let obs = &mut obs_out[t * obs_size..(t + 1) * obs_size];
        match step_data(data, model, ctrl, substeps) {
            Ok(()) => {
                task.observe(data, obs);
                rewards_out[t] = task.reward(data);
            }
            Err(SimError::Diverged { message, .. }) => {
                // Hold the last good observation (the start state's, if the first step failed)
                // for the rest of the horizon.
                if t == 0 {
                    restore(data, state)?;
                    task.observe(data, &mut obs_out[..obs_size]);
                }
                let start = t.saturating_sub(1) * obs_size;
                let (done, rest) = obs_out.split_at_mut(start + obs_size);
                let last = &done[start..];
                for chunk in rest.chunks_exact_mut(obs_size) {
                    chunk.copy_from_slice(last);
                }
                return Ok(Some((t, message)));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}
