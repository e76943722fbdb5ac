//! MPC on a worker thread. The UI sends the current state and episode with the planner settings;
//! the worker plans with the current model (ground truth, a TDM or an MLP baseline: any
//! [`DynamicsModel`], told apart only by its description), replays every candidate in MuJoCo
//! for the imagined-vs-real view, inspects the plan (trails, prediction error, rewards) and
//! sends it all back. Models are loaded on their own thread and handed over, so a slow or
//! broken checkpoint never blocks the window. The window only waits for a plan when asked to
//! ([`PlannerWorker::wait`], the step button); otherwise it polls.
use crate::data::Episode;
use crate::envs::{Env, EnvSpec, MujocoEnv, Task};
use crate::models::{
    Decoding, DecodingSettings, DynamicsModel, GroundTruth, LearnedModel, ModelDescription,
    ModelError, ModelFamily, PlanContext,
};
use crate::plan::{
    Plan, PlanInspection, Planner, PlannerConfig, TrailPoint, inspect_plan, replay_plan,
};
use crate::sim::{RolloutWorkers, SimError, SimState};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, channel, sync_channel};
use std::thread::JoinHandle;

/// A dynamics model the worker can plan with.
pub type WorkerModel = Box<dyn DynamicsModel>;

/// What the panel shows about the model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    pub name: String,
    /// Lines such as sizes and the environments it was trained on.
    pub details: Vec<String>,
    pub path: Option<PathBuf>,
    /// The decoding settings apply (a TDM).
    pub is_tdm: bool,
    /// The model has a policy view that can propose candidates (a TDM trained on actions).
    pub proposes_actions: bool,
}

impl ModelInfo {
    /// The panel's view of a model described by `about`, with the scene `scene` open.
    pub fn from_description(about: &ModelDescription, scene: &str) -> Self {
        let name = match about.family {
            ModelFamily::GroundTruth => format!("{} (MuJoCo)", about.name),
            _ => about.name.clone(),
        };
        Self {
            name,
            details: about.detail_lines(scene),
            path: about.source.clone(),
            is_tdm: about.has_decoding(),
            proposes_actions: about.proposes_actions,
        }
    }
}

/// Why a checkpoint was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: {source}", path.display())]
    Model {
        path: PathBuf,
        #[source]
        source: Box<ModelError>,
    },
    #[error("cannot start the loader thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// A loaded model with what the panel shows about it, or why it could not be loaded.
pub type LoadReply = Result<(WorkerModel, ModelInfo), LoadError>;

/// Loads a checkpoint (TDM or MLP baseline) for `spec`; any error names the file and the
/// problem.
pub fn load_checkpoint(path: &Path, spec: &EnvSpec) -> LoadReply {
    let model = LearnedModel::load(path, spec)
        .map_err(|source| LoadError::Model {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?
        .into_dyn();
    let info = ModelInfo::from_description(&model.describe(), &spec.name);
    Ok((model, info))
}

/// What the panel shows for the ground-truth model.
pub fn ground_truth_info() -> ModelInfo {
    ModelInfo::from_description(&ModelDescription::ground_truth(), "")
}

/// The ground-truth model for `task`.
pub fn ground_truth(task: Arc<dyn Task>) -> (WorkerModel, ModelInfo) {
    (Box::new(GroundTruth::new(task, 0)), ground_truth_info())
}

/// Loads a checkpoint on its own thread; the answer arrives on the returned channel.
pub fn load_checkpoint_async(
    path: PathBuf,
    spec: EnvSpec,
    wake: Arc<dyn Fn() + Send + Sync>,
) -> Receiver<LoadReply> {
    let (tx, rx) = channel();
    let spawned = std::thread::Builder::new()
        .name("model-loader".into())
        .spawn(move || {
            let _ = tx.send(load_checkpoint(&path, &spec));
            wake();
        });
    if let Err(e) = spawned {
        let (tx, rx2) = channel();
        let _ = tx.send(Err(LoadError::Thread(e)));
        return rx2;
    }
    rx
}

/// Why a plan did not come back.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("planner: cannot restore the state: {0}")]
    Restore(#[source] crate::envs::EnvError),
    #[error("planner ({model}): {source}")]
    Plan {
        model: String,
        #[source]
        source: Box<ModelError>,
    },
    #[error("replaying the candidates: {0}")]
    Replay(#[source] SimError),
    #[error("the planner thread stopped: {reason}")]
    Stopped { reason: String },
}

/// Settings the panel changes live.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanSettings {
    pub config: PlannerConfig,
    pub decoding: Decoding,
    pub context_limit_tokens: Option<usize>,
    /// Replay every candidate in MuJoCo (ground truth trails, prediction error).
    pub replay: bool,
    pub trail: TrailPoint,
    pub ghosts: usize,
}

struct Request {
    state: SimState,
    steps_taken: usize,
    history: Episode,
    settings: PlanSettings,
    /// `[d][m]`: actions the agent applies while this plan is computed (real time); the plan
    /// starts from the model's forecast of where they lead, d steps on.
    committed: Vec<f64>,
}

enum Message {
    SetModel(Box<WorkerModel>),
    Plan(Box<Request>),
}

/// A finished plan with everything the UI draws about it.
#[derive(Clone, Debug)]
pub struct PlanOutcome {
    pub plan: Plan,
    pub inspection: PlanInspection,
    /// The steps taken at the plan's start state (the plan's time): where planning began, or
    /// that many steps later for a plan made from a forecast.
    pub steps_taken: usize,
    pub model_name: String,
    /// Tokens the model generated per second (TDMs), else `None`.
    pub tokens_per_sec: Option<f64>,
    /// How the plan's scores ranked its candidates against their replayed real returns (when
    /// the candidates were replayed), computed once on the planning thread.
    pub ranking: Option<crate::plan::PlanRanking>,
}

fn ranking(plan: &Plan, inspection: &PlanInspection) -> Option<crate::plan::PlanRanking> {
    let real = inspection.real_rewards.as_ref()?;
    let returns: Vec<f64> = real.iter().map(|r| r.iter().sum()).collect();
    (returns.len() == plan.scores.len() && returns.len() > 1)
        .then(|| crate::plan::rank_plan(&plan.scores, &returns, plan.best))
}

/// The planning thread of one scene; dropped with the scene (the thread ends after its plan).
pub struct PlannerWorker {
    messages: Option<SyncSender<Message>>,
    replies: Receiver<Result<Box<PlanOutcome>, PlanError>>,
    /// Shared so that a thread not holding the worker can read it ([`Self::in_flight_flag`]).
    in_flight: Arc<AtomicBool>,
    _thread: Option<JoinHandle<()>>,
}

impl PlannerWorker {
    /// Starts the thread for `task` with `model`; `wake` is called after each reply.
    pub fn start(
        task: Arc<dyn Task>,
        model: WorkerModel,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> std::io::Result<Self> {
        let (msg_tx, msg_rx) = sync_channel::<Message>(2);
        let (rep_tx, rep_rx) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("planner".into())
            .spawn(move || {
                let mut env = MujocoEnv::new(task.clone());
                let mut model = model;
                let mut planner: Option<Planner> = None;
                let mut replayer = RolloutWorkers::new(task.model().clone(), 0);
                while let Ok(msg) = msg_rx.recv() {
                    let req = match msg {
                        Message::SetModel(m) => {
                            model = *m;
                            continue;
                        }
                        Message::Plan(req) => req,
                    };
                    let reply = plan_once(
                        &task,
                        &mut env,
                        &mut model,
                        &mut planner,
                        &mut replayer,
                        *req,
                    );
                    if rep_tx.send(reply).is_err() {
                        break;
                    }
                    wake();
                }
            })?;
        Ok(Self {
            messages: Some(msg_tx),
            replies: rep_rx,
            in_flight: Arc::new(AtomicBool::new(false)),
            _thread: Some(thread),
        })
    }

    pub fn in_flight(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// What [`Self::in_flight`] reads, for a thread that does not hold the worker (the window
    /// while the live run plans with it).
    pub fn in_flight_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.in_flight)
    }

    fn set_in_flight(&self, value: bool) {
        self.in_flight.store(value, Ordering::Relaxed);
    }

    /// Replaces the model for the next plans.
    pub fn set_model(&mut self, model: WorkerModel) {
        if let Some(tx) = &self.messages {
            let _ = tx.send(Message::SetModel(Box::new(model)));
        }
    }

    /// Asks for a plan from `state`; ignored while one is in flight.
    pub fn request(
        &mut self,
        state: SimState,
        steps_taken: usize,
        history: &Episode,
        settings: PlanSettings,
    ) {
        self.request_ahead(state, steps_taken, history, settings, Vec::new());
    }

    /// Asks for a plan for where `committed` (`[d][m]`, the actions applied meanwhile) leads
    /// from `state`: the model forecasts those d steps and plans from there.
    pub fn request_ahead(
        &mut self,
        state: SimState,
        steps_taken: usize,
        history: &Episode,
        settings: PlanSettings,
        committed: Vec<f64>,
    ) {
        if self.in_flight() {
            return;
        }
        if let Some(tx) = &self.messages {
            let sent = tx.try_send(Message::Plan(Box::new(Request {
                state,
                steps_taken,
                history: history.clone(),
                settings,
                committed,
            })));
            self.set_in_flight(sent.is_ok());
        }
    }

    /// The reply, if the plan is done.
    pub fn poll(&mut self) -> Option<Result<Box<PlanOutcome>, PlanError>> {
        match self.replies.try_recv() {
            Ok(r) => {
                self.set_in_flight(false);
                Some(r)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.set_in_flight(false);
                Some(Err(self.stopped()))
            }
        }
    }

    /// Waits for the reply in flight (the step button, and lock-step play when asked to block).
    pub fn wait(&mut self) -> Option<Result<Box<PlanOutcome>, PlanError>> {
        if !self.in_flight() {
            return None;
        }
        self.set_in_flight(false);
        Some(match self.replies.recv() {
            Ok(reply) => reply,
            Err(_) => Err(self.stopped()),
        })
    }

    /// Waits up to `timeout` for the reply in flight; `None` if it has not come (still in
    /// flight) or nothing was asked.
    pub fn wait_timeout(
        &mut self,
        timeout: std::time::Duration,
    ) -> Option<Result<Box<PlanOutcome>, PlanError>> {
        if !self.in_flight() {
            return None;
        }
        match self.replies.recv_timeout(timeout) {
            Ok(reply) => {
                self.set_in_flight(false);
                Some(reply)
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                self.set_in_flight(false);
                Some(Err(self.stopped()))
            }
        }
    }

    /// Why the thread is gone: the message it panicked with, read when it is joined.
    fn stopped(&mut self) -> PlanError {
        let reason = match self._thread.take().map(JoinHandle::join) {
            Some(Err(payload)) => {
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned());
                format!("it panicked: {}", text.as_deref().unwrap_or("(no message)"))
            }
            Some(Ok(())) => "it ended".into(),
            None => "it had stopped before".into(),
        };
        PlanError::Stopped { reason }
    }
}

fn plan_once(
    task: &Arc<dyn Task>,
    env: &mut MujocoEnv,
    model: &mut WorkerModel,
    planner: &mut Option<Planner>,
    replayer: &mut RolloutWorkers,
    req: Request,
) -> Result<Box<PlanOutcome>, PlanError> {
    env.set_state(&req.state, req.steps_taken)
        .map_err(PlanError::Restore)?;
    let s = req.settings;
    let mut config = s.config;
    if !model.proposes_actions() || !config.method.takes_proposals() {
        // The knob stays where the user left it, for the next model that has a policy (and
        // the next plan by random shooting).
        config.proposal_mix = 0.0;
    }
    let planner = planner.get_or_insert_with(|| Planner::new(config));
    if *planner.config() != config {
        planner.set_config(config);
    }
    model.set_decoding(DecodingSettings {
        decoding: s.decoding,
        context_limit_tokens: s.context_limit_tokens,
    });
    let m = task.spec().action_size;
    let ahead = req.committed.len() / m.max(1);
    let forecast = model
        .forecast(
            &PlanContext {
                history: &req.history,
                state: Some(&req.state),
            },
            &req.committed,
            ahead,
        )
        .map_err(|source| PlanError::Plan {
            model: model.name(),
            source: Box::new(source),
        })?;
    // Where the committed actions really lead (MuJoCo), for the imagined-against-real view.
    for t in 0..forecast.steps {
        if env.step(&req.committed[t * m..(t + 1) * m]).is_err() {
            break;
        }
    }
    let real_start = env.sim().state();
    let ctx = PlanContext {
        history: &forecast.history,
        state: Some(forecast.state.as_ref().unwrap_or(&real_start)),
    };
    let model_name = model.name();
    let plan = planner
        .plan(model.as_mut(), task.as_ref(), &ctx)
        .map_err(|source| PlanError::Plan {
            model: model_name.clone(),
            source: Box::new(source),
        })?;
    let tokens_per_sec = model
        .tokens_per_plan(plan.evaluations, plan.horizon_steps(), plan.proposed)
        .map(|tokens| tokens as f64 / plan.elapsed_secs.max(1e-9));
    let replay = if s.replay {
        Some(replay_plan(replayer, task.as_ref(), &real_start, &plan).map_err(PlanError::Replay)?)
    } else {
        None
    };
    let start_qpos = env.sim().data().qpos().to_vec();
    let inspection = inspect_plan(
        task.as_ref(),
        &start_qpos,
        &plan,
        replay.as_ref(),
        s.trail,
        s.ghosts,
    );
    Ok(Box::new(PlanOutcome {
        ranking: ranking(&plan, &inspection),
        plan,
        inspection,
        steps_taken: req.steps_taken + forecast.steps,
        model_name,
        tokens_per_sec,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::make_task;
    use crate::models::{Imagined, ModelError};

    /// A model whose imagination panics, as a bug in a model would.
    struct Panicking;

    impl DynamicsModel for Panicking {
        fn name(&self) -> String {
            "panicking".into()
        }
        fn predicts_rewards(&self) -> bool {
            false
        }
        fn imagine(
            &mut self,
            _: &PlanContext<'_>,
            _: &[f64],
            _: usize,
            _: usize,
        ) -> Result<Imagined, ModelError> {
            panic!("imagination failed at step 3");
        }
    }

    #[test]
    fn a_panicking_planner_thread_reports_its_panic_message() {
        let task = make_task("cartpole-swingup").expect("a suite task");
        let mut env = MujocoEnv::new(task.clone());
        let first = env.reset(0).expect("reset");
        let history = Episode::new(&first, task.spec().action_size);
        let mut worker =
            PlannerWorker::start(task.clone(), Box::new(Panicking), Arc::new(|| {})).unwrap();
        let settings = PlanSettings {
            config: PlannerConfig {
                candidates: 4,
                horizon_steps: 3,
                ..PlannerConfig::default()
            },
            decoding: Decoding::default(),
            context_limit_tokens: None,
            replay: false,
            trail: TrailPoint::default_for(task.as_ref()),
            ghosts: 0,
        };
        worker.request(env.state(), 0, &history, settings);
        let err = match worker.wait() {
            Some(Err(e)) => e.to_string(),
            other => panic!(
                "expected the thread's end, got {:?}",
                other.map(|r| r.is_ok())
            ),
        };
        assert!(
            err.contains("the planner thread stopped")
                && err.contains("imagination failed at step 3"),
            "{err}"
        );
    }
}
