//! The contract every dynamics model meets ([`DynamicsModel`]), what it is given
//! ([`PlanContext`]), what it returns ([`Imagined`]) and how it fails ([`ModelError`]).
use super::checkpoint_file::CheckpointError;
use super::decoding::DecodingSettings;
use super::describe::ModelDescription;
use crate::data::Episode;
use crate::envs::EnvError;
use crate::sim::{BatchRollout, SimError, SimState};
use crate::tokenize::TokenError;
use std::path::PathBuf;

/// What a model may condition on when imagining: the episode so far (its last observation is
/// the current one, o_t) and, for models that need it, the real simulator state.
#[derive(Clone, Copy)]
pub struct PlanContext<'a> {
    pub history: &'a Episode,
    pub state: Option<&'a SimState>,
}

impl PlanContext<'_> {
    /// The current observation o_t.
    pub fn observation(&self) -> &[f32] {
        self.history.observation(self.history.len())
    }

    /// Checks a request to a model set up for `n` observation and `m` action entries: the
    /// history's sizes, and `actions` holding `[candidates][horizon_steps][m]`.
    pub fn check_sizes(
        &self,
        actions: &[f64],
        candidates: usize,
        horizon_steps: usize,
        n: usize,
        m: usize,
    ) -> Result<(), ModelError> {
        if self.history.observation_size != n || self.history.action_size != m {
            return Err(ModelError::Shape(format!(
                "history has {} obs / {} act, the model was set up for {n} / {m}",
                self.history.observation_size, self.history.action_size
            )));
        }
        if actions.len() != candidates * horizon_steps * m {
            return Err(ModelError::Shape(format!(
                "{} action values for {candidates} x {horizon_steps} x {m}",
                actions.len()
            )));
        }
        Ok(())
    }
}

/// How a learned model names its checkpoint in tables and the UI: the file name.
pub fn checkpoint_label(source: &std::path::Path) -> String {
    source.file_name().map_or_else(
        || source.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    )
}

/// K imagined trajectories of N steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Imagined {
    pub candidates: usize,
    pub horizon_steps: usize,
    pub observation_size: usize,
    /// `[K][N][n]`: o_{t+1} .. o_{t+N} per candidate.
    pub observations: Vec<f64>,
    /// `[K][N]`: r_t .. r_{t+N-1}, where the model predicts rewards.
    pub rewards: Option<Vec<f64>>,
    /// Per candidate: the step where its imagination broke down and why (e.g. the simulation
    /// diverged); such a candidate is never chosen.
    pub failures: Vec<Option<(usize, String)>>,
}

impl Imagined {
    pub fn observation(&self, k: usize, t: usize) -> &[f64] {
        let start = (k * self.horizon_steps + t) * self.observation_size;
        &self.observations[start..start + self.observation_size]
    }
}

impl From<BatchRollout> for Imagined {
    fn from(b: BatchRollout) -> Self {
        Self {
            candidates: b.candidates,
            horizon_steps: b.horizon_steps,
            observation_size: b.observation_size,
            observations: b.observations,
            rewards: Some(b.rewards),
            failures: b.failures,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{0} needs the simulator state, and none was given")]
    NeedsState(String),
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("sizes do not fit: {0}")]
    Shape(String),
    /// Candidates were to be proposed by a model with no policy view.
    #[error("{model} has no policy to propose actions{}", if *trained_without_actions {
        " (it was trained without action tokens: train --bc-weight 0)"
    } else {
        ""
    })]
    NoPolicy {
        model: String,
        trained_without_actions: bool,
    },
    /// The planner's proposal mix asks for candidates from a model with no policy view.
    #[error("proposal mix {mix}: {model} has no policy to propose actions")]
    ProposalsWithoutPolicy { mix: f64, model: String },
    #[error("several rollouts per candidate do not combine with proposed candidates")]
    RolloutsWithProposals,
    /// Proposed candidates are random shooting's alone: the other planners sample around a
    /// nominal sequence.
    #[error("the proposal mix works with random shooting only, not with {method}")]
    ProposalsNeedRandomShooting { method: String },
    #[error("{model} does not predict rewards, and {task} has no reward from observations")]
    NoRewards { model: String, task: String },
    #[error("{}: bad tokenizer: {source}", path.display())]
    Tokenizer {
        path: PathBuf,
        #[source]
        source: TokenError,
    },
    /// The history could not be turned into tokens.
    #[error("the history does not tokenize: {0}")]
    Tokenize(#[source] TokenError),
    #[error("empty history")]
    EmptyHistory,
    /// The weights do not make a model for planning.
    #[error("{}: {message}", path.display())]
    Weights { path: PathBuf, message: String },
    /// The network failed to compute (a candle error).
    #[error("{}: {source}", path.display())]
    Compute {
        path: PathBuf,
        #[source]
        source: candle_core::Error,
    },
}

/// Where an episode will be after actions already committed, as a model predicts it: what a
/// late plan starts from, so that it is planned for the state where it will act.
#[derive(Clone, Debug)]
pub struct Forecast {
    /// The history extended by the forecast steps (imagined rewards and observations).
    pub history: Episode,
    /// The simulator state there, for a model that plans from it (ground truth).
    pub state: Option<SimState>,
    /// Steps forecast: all that were asked for, or fewer where the imagination broke down.
    pub steps: usize,
}

/// Predicts what K action sequences of N steps will do from the current situation.
pub trait DynamicsModel: Send {
    /// A short name for tables and the UI ("ground truth", "tdm (cartpole.safetensors)", ...).
    fn name(&self) -> String;
    /// What the model is: family, sizes, training, what it predicts, its decoding settings
    /// (by default only its name and what it predicts, as [`super::ModelFamily::Other`]).
    fn describe(&self) -> ModelDescription {
        ModelDescription::basic(
            self.name(),
            self.predicts_rewards(),
            self.proposes_actions(),
        )
    }
    /// Sets how a model with decoding options (a TDM) decodes; returns whether it has them
    /// (for other models this does nothing).
    fn set_decoding(&mut self, _settings: DecodingSettings) -> bool {
        false
    }
    /// The tokens the model predicts in one plan of `candidates` x `horizon_steps` of which
    /// `proposed` candidates take the policy's actions: what its tokens/s figure counts.
    /// `None` for a model that does not predict tokens.
    fn tokens_per_plan(
        &self,
        _candidates: usize,
        _horizon_steps: usize,
        _proposed: usize,
    ) -> Option<u64> {
        None
    }
    /// Bytes the model holds while it imagines one plan of `candidates` x `horizon_steps`
    /// beyond the imagined trajectories themselves (a TDM's key/value cache per candidate), an
    /// upper estimate for memory checks before a run; 0 for a model that holds nothing per
    /// candidate.
    fn plan_state_bytes(&self, _candidates: usize, _horizon_steps: usize) -> u128 {
        0
    }
    /// Whether [`Imagined::rewards`] is filled.
    fn predicts_rewards(&self) -> bool;
    /// `actions` is `[K][N][m]`, row-major.
    fn imagine(
        &mut self,
        ctx: &PlanContext<'_>,
        actions: &[f64],
        candidates: usize,
        horizon_steps: usize,
    ) -> Result<Imagined, ModelError>;
    /// Where the episode will be after `actions` (`[steps][m]`: actions the agent has already
    /// committed to while its next plan is computed), by this model's own imagination. The
    /// default imagines one candidate and extends the history with it (rewards 0 where the model
    /// predicts none); a model that plans from the simulator state also forecasts that state.
    fn forecast(
        &mut self,
        ctx: &PlanContext<'_>,
        actions: &[f64],
        steps: usize,
    ) -> Result<Forecast, ModelError> {
        let mut history = ctx.history.clone();
        if steps == 0 {
            return Ok(Forecast {
                history,
                state: None,
                steps: 0,
            });
        }
        let m = actions.len() / steps;
        let imagined = self.imagine(ctx, actions, 1, steps)?;
        let done = imagined.failures[0].as_ref().map_or(steps, |(t, _)| *t);
        for t in 0..done {
            let reward = imagined.rewards.as_ref().map_or(0.0, |r| r[t]);
            history.push(
                &actions[t * m..(t + 1) * m],
                reward,
                imagined.observation(0, t),
            );
        }
        Ok(Forecast {
            history,
            state: None,
            steps: done,
        })
    }
    /// Whether the model also has a policy view that can propose actions
    /// ([`DynamicsModel::imagine_proposed`]).
    fn proposes_actions(&self) -> bool {
        false
    }
    /// Like [`DynamicsModel::imagine`], but each candidate with `proposed[k]` chooses its
    /// actions as it goes (section 5.1.1 of the paper): the model's mean action for the
    /// situation it has imagined so far, plus `actions[k][t]` as additive noise, clipped to
    /// [-1, 1]. The actions actually imagined are written back into `actions`.
    fn imagine_proposed(
        &mut self,
        ctx: &PlanContext<'_>,
        actions: &mut [f64],
        proposed: &[bool],
        candidates: usize,
        horizon_steps: usize,
    ) -> Result<Imagined, ModelError> {
        if proposed.iter().any(|&p| p) {
            return Err(ModelError::NoPolicy {
                model: self.name(),
                trained_without_actions: false,
            });
        }
        self.imagine(ctx, actions, candidates, horizon_steps)
    }
}
