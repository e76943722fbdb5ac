//! The scene being simulated: an environment, its playback (play/pause, speed, single steps,
//! reset), the policy that drives it, and a history of past states to scrub through, like
//! MuJoCo's `simulate`. Plain state, no drawing: the panels read and change it.
mod models;
mod mpc;

pub use super::agent::{AgentState, RankingTally, StepRecord};
use super::live::LiveRun;
use super::planner_worker::{PlanSettings, PlannerWorker, ground_truth};
use crate::data::{Episode, Policy};
use crate::envs::walkers::{CorridorRun, KinematicTree};
use crate::envs::{Env, EnvError, MujocoEnv, make_env};
use crate::models::bundled::{BundledModel, bundled_models_for};
use crate::plan::{NoiseConfig, NoisePolicy, ZeroPolicy};
use crate::sim::{MeshData, SceneGeometry, SimState};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What drives the actuators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyKind {
    /// All actions zero: the passive dynamics.
    #[default]
    Zero,
    /// A Brownian random walk (the planner's noise), one per episode.
    Brownian,
    /// Random-shooting MPC with the planner panel's model (ground truth, a TDM, ...).
    #[serde(alias = "ground-truth-mpc")]
    Mpc,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 3] = [Self::Zero, Self::Brownian, Self::Mpc];

    pub fn label(self) -> &'static str {
        match self {
            Self::Zero => "zero action",
            Self::Brownian => "Brownian noise",
            Self::Mpc => "MPC agent (planner panel)",
        }
    }
}

/// Where a scene comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum SceneSource {
    /// A task name understood by `envs::make_task` (suite tasks, `walker:…`, `mjcf:FILE.xml`).
    Task(String),
    /// A walker from the morphology designer.
    Walker(KinematicTree),
}

impl SceneSource {
    pub fn label(&self) -> String {
        match self {
            Self::Task(name) => name.clone(),
            Self::Walker(tree) => match tree.origin {
                Some(o) => format!("walker {} {} DoF seed {}", o.family.name(), o.dof, o.seed),
                None => format!("designed walker ({} DoF)", tree.dof()),
            },
        }
    }
}

/// One remembered moment of the simulation.
#[derive(Clone, Debug)]
struct Snapshot {
    state: SimState,
    steps_taken: usize,
    episode_return: f64,
}

/// Seconds of history kept for the scrubber.
pub const HISTORY_SECS: f64 = 20.0;
/// At most this many control steps per UI frame, so a fast-forward never freezes the window.
const MAX_STEPS_PER_FRAME: usize = 200;

static NEXT_MESHES_KEY: AtomicU64 = AtomicU64::new(1);

/// A running scene.
pub struct SceneRunner {
    pub source: SceneSource,
    env: Box<dyn Env>,
    pub geometry: SceneGeometry,
    pub meshes: Arc<Vec<MeshData>>,
    pub meshes_key: u64,
    pub playing: bool,
    /// Simulated seconds per real second.
    pub speed: f64,
    pub seed: u64,
    pub policy: PolicyKind,
    /// The checkpoints in `assets/models`, each with why it does not fit this scene (`None`:
    /// it fits), those that fit first (read from their metadata when the scene is built).
    pub bundled: Vec<(BundledModel, Option<String>)>,
    pub agent: AgentState,
    noise_policy: NoisePolicy,
    episode: Episode,
    pub episode_return: f64,
    pub last_reward: f64,
    history: VecDeque<Snapshot>,
    /// Index into the history while the user scrubs (paused), `None` at the live state.
    scrub: Option<usize>,
    owed_secs: f64,
    worker: Option<PlannerWorker>,
    /// The MPC agent playing live on its own thread (it holds the planner thread meanwhile).
    live: Option<LiveRun>,
    /// What the live run was last told: settings, speed, apply actions.
    live_sent: Option<(PlanSettings, f64, bool)>,
    wake: Arc<dyn Fn() + Send + Sync>,
    /// Sim seconds advanced / real seconds, smoothed.
    pub real_time_factor: f64,
    /// The last problem (divergence, planner failure); cleared on reset.
    pub problem: Option<String>,
    /// Something the user should know that is not a failure (e.g. which model a scene switch
    /// chose); taken by the workbench as an info message.
    pub notice: Option<String>,
}

/// A scene that could not be opened: which one, and why.
#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    /// The task or walker did not build (unknown name, an MJCF that does not compile, an
    /// invalid tree); MuJoCo's message names the file where there is one.
    #[error("cannot open {scene}: {source}")]
    Build { scene: String, source: EnvError },
    /// The first episode could not start.
    #[error("cannot open {scene}: the first reset failed: {source}")]
    Reset { scene: String, source: EnvError },
}

fn build_env(source: &SceneSource) -> Result<Box<dyn Env>, SceneError> {
    let built = match source {
        SceneSource::Task(name) => make_env(name),
        SceneSource::Walker(tree) => CorridorRun::new(tree.clone(), &source.label())
            .map(|t| Box::new(MujocoEnv::new(Arc::new(t))) as Box<dyn Env>),
    };
    built.map_err(|e| SceneError::Build {
        scene: source.label(),
        source: e,
    })
}

impl SceneRunner {
    /// Compiles and resets the scene; an error (a bad MJCF, an invalid tree) names the problem.
    pub fn new(
        source: SceneSource,
        seed: u64,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Self, SceneError> {
        let env = build_env(&source)?;
        Self::with_env(source, env, seed, wake)
    }

    /// Resets an environment already built for `source` (compiled off the UI thread, say).
    pub fn with_env(
        source: SceneSource,
        mut env: Box<dyn Env>,
        seed: u64,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Self, SceneError> {
        let first = env.reset(seed).map_err(|e| SceneError::Reset {
            scene: source.label(),
            source: e,
        })?;
        let geometry = SceneGeometry::new(env.sim().model(), env.sim().data());
        let spec = env.spec().clone();
        let bundled = bundled_models_for(&spec);
        let mut runner = Self {
            source,
            meshes: Arc::new(geometry.meshes.clone()),
            meshes_key: NEXT_MESHES_KEY.fetch_add(1, Ordering::Relaxed),
            geometry,
            playing: true,
            speed: 1.0,
            seed,
            policy: PolicyKind::Zero,
            agent: AgentState::new(env.task()),
            bundled,
            env,
            noise_policy: NoisePolicy::new(
                NoiseConfig::default(),
                spec.action_size,
                spec.episode_steps,
            ),
            episode: Episode::new(&first, spec.action_size),
            episode_return: 0.0,
            last_reward: 0.0,
            history: VecDeque::new(),
            scrub: None,
            owed_secs: 0.0,
            worker: None,
            live: None,
            live_sent: None,
            wake,
            real_time_factor: 0.0,
            problem: None,
            notice: None,
        };
        runner.noise_policy.begin_episode(seed);
        runner.remember();
        Ok(runner)
    }

    /// The episode so far (observations, actions, rewards since the last reset or scrub).
    pub fn episode(&self) -> &Episode {
        &self.episode
    }

    pub fn env(&self) -> &dyn Env {
        self.env.as_ref()
    }

    pub fn control_dt_secs(&self) -> f64 {
        self.env.spec().control_dt_secs()
    }

    pub fn time_secs(&self) -> f64 {
        self.env.sim().time_secs()
    }

    pub fn steps_taken(&self) -> usize {
        self.env.steps_taken()
    }

    /// Number of remembered states and the one shown (the last is the live state).
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    pub fn history_position(&self) -> usize {
        self.scrub.unwrap_or(self.history.len().saturating_sub(1))
    }

    /// Whether a plan is being computed (on the planner thread or the live run's).
    pub fn waiting_for_plan(&self) -> bool {
        self.worker.as_ref().is_some_and(PlannerWorker::in_flight)
            || self.live.as_ref().is_some_and(LiveRun::planning)
    }

    fn remember(&mut self) {
        let (state, steps) = (self.env.state(), self.env.steps_taken());
        self.remember_state(state, steps);
    }

    fn remember_state(&mut self, state: SimState, steps_taken: usize) {
        let cap = (HISTORY_SECS / self.control_dt_secs()).ceil().max(1.0) as usize;
        while self.history.len() >= cap {
            self.history.pop_front();
        }
        self.history.push_back(Snapshot {
            state,
            steps_taken,
            episode_return: self.episode_return,
        });
    }

    fn refresh_geometry(&mut self) {
        self.geometry.update_poses(self.env.sim().data());
    }

    /// Back to the start of the episode (same seed), like `simulate`'s reset.
    pub fn reset(&mut self) {
        self.restart(self.seed);
    }

    /// A new episode from `seed`.
    pub fn restart(&mut self, seed: u64) {
        self.stop_live();
        self.seed = seed;
        self.problem = None;
        self.owed_secs = 0.0;
        self.scrub = None;
        self.history.clear();
        self.forget_plans();
        match self.env.reset(seed) {
            Ok(first) => {
                self.episode = Episode::new(&first, self.env.spec().action_size);
                self.noise_policy.begin_episode(seed);
            }
            Err(e) => self.problem = Some(format!("reset failed: {e}")),
        }
        self.episode_return = 0.0;
        self.last_reward = 0.0;
        self.remember();
        self.refresh_geometry();
    }

    /// Leaves scrubbing: the shown past state becomes the live one and later history is dropped.
    fn resume_from_scrub(&mut self) {
        if let Some(i) = self.scrub.take() {
            self.history.truncate(i + 1);
            // The episode record restarts from here (the planner's history is cut too).
            let obs = self.env.observation();
            self.episode = Episode::new(&obs, self.env.spec().action_size);
        }
    }

    /// Shows remembered state `index` (pauses).
    pub fn scrub_to(&mut self, index: usize) {
        let Some(snap) = self.history.get(index).cloned() else {
            return;
        };
        self.stop_live();
        self.playing = false;
        self.forget_plans();
        if let Err(e) = self.env.set_state(&snap.state, snap.steps_taken) {
            self.problem = Some(format!("cannot restore a remembered state: {e}"));
            return;
        }
        self.episode_return = snap.episode_return;
        self.scrub = (index + 1 < self.history.len()).then_some(index);
        self.refresh_geometry();
    }

    fn apply(&mut self, action: &[f64]) {
        match self.env.step(action) {
            Ok(step) => {
                self.last_reward = step.reward;
                self.episode_return += step.reward;
                self.episode.push(action, step.reward, &step.observation);
                self.remember();
            }
            Err(e) => {
                self.problem = Some(format!("{}: {e}", self.source.label()));
                self.playing = false;
            }
        }
        self.refresh_geometry();
    }

    fn episode_over(&self) -> bool {
        self.env.steps_taken() >= self.env.spec().episode_steps
    }

    /// Forgets plans of a state that is gone (reset, scrub): the reply in flight is dropped.
    fn forget_plans(&mut self) {
        if self.worker.as_ref().is_some_and(PlannerWorker::in_flight) {
            self.agent.discard_reply = true;
        }
        self.agent.last = None;
        self.agent.forget_arrivals();
        self.agent.records.clear();
        self.agent.error_accumulated.clear();
        self.agent.ranking_tally = RankingTally::default();
    }

    /// The action of a policy that needs no planning, or `None` for MPC.
    fn immediate_action(&mut self) -> Option<Vec<f64>> {
        match self.policy {
            PolicyKind::Zero => ZeroPolicy.act(self.env.as_ref(), &self.episode).ok(),
            PolicyKind::Brownian => self.noise_policy.act(self.env.as_ref(), &self.episode).ok(),
            PolicyKind::Mpc if !self.agent.plan_enabled => {
                ZeroPolicy.act(self.env.as_ref(), &self.episode).ok()
            }
            PolicyKind::Mpc => None,
        }
    }

    fn worker(&mut self) -> Option<&mut PlannerWorker> {
        if self.worker.is_none() {
            let model = self
                .agent
                .pending_model
                .take()
                .unwrap_or_else(|| ground_truth(self.env.task()).0);
            match PlannerWorker::start(self.env.task(), model, self.wake.clone()) {
                Ok(w) => self.worker = Some(w),
                Err(e) => {
                    self.problem = Some(format!("cannot start the planner thread: {e}"));
                    self.playing = false;
                }
            }
        }
        self.worker.as_mut()
    }

    /// Advances by `real_dt_secs` of wall-clock time at the current speed (called every frame):
    /// the MPC agent plays on its own thread on the wall clock (see [`crate::session::live`]),
    /// whatever the frame rate; the other policies take as many control steps as the time needs.
    pub fn advance(&mut self, real_dt_secs: f64) {
        if !self.playing || self.scrub.is_some() {
            self.stop_live();
            self.real_time_factor = 0.0;
            return;
        }
        if self.policy == PolicyKind::Mpc && self.agent.plan_enabled {
            self.advance_live(real_dt_secs);
            return;
        }
        self.stop_live();
        let dt = self.control_dt_secs();
        let real_dt = real_dt_secs.clamp(0.0, 0.25);
        self.owed_secs =
            (self.owed_secs + real_dt * self.speed).min(dt * MAX_STEPS_PER_FRAME as f64);
        let mut advanced = 0usize;
        while self.owed_secs >= dt && advanced < MAX_STEPS_PER_FRAME && self.playing {
            if !self.try_step(false) {
                self.owed_secs = self.owed_secs.min(dt);
                break;
            }
            self.owed_secs -= dt;
            advanced += 1;
        }
        if real_dt > 0.0 {
            let rtf = advanced as f64 * dt / real_dt;
            self.real_time_factor = 0.9 * self.real_time_factor + 0.1 * rtf;
        }
    }

    /// Replaces the policy; a new MPC plan starts from the current state.
    pub fn set_policy(&mut self, policy: PolicyKind) {
        if policy != self.policy {
            self.stop_live();
            self.policy = policy;
            self.forget_plans();
        }
    }
}
