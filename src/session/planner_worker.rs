//! MPC on a worker thread. The UI sends the current state and episode with the planner settings;
//! the worker plans with the current model (ground truth, a TDM or an MLP baseline), replays every candidate in
//! MuJoCo for the imagined-vs-real view, inspects the plan (trails, prediction error, rewards)
//! and sends it all back. Models are loaded on their own thread and handed over, so a slow or
//! broken checkpoint never blocks the window. The UI never waits on either thread.
use crate::data::Episode;
use crate::envs::{Env, EnvSpec, MujocoEnv, Task};
use crate::models::tdm::Decoding;
use crate::models::{DynamicsModel, GroundTruth, LearnedModel, PlanContext};
use crate::plan::{
    Plan, PlanInspection, Planner, PlannerConfig, TrailPoint, inspect_plan, replay_plan,
};
use crate::sim::{RolloutWorkers, SimState};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, channel, sync_channel};
use std::thread::JoinHandle;

/// A dynamics model the worker can plan with.
pub enum WorkerModel {
    GroundTruth(GroundTruth),
    /// A TDM or an MLP baseline.
    Learned(LearnedModel),
}

impl WorkerModel {
    fn as_dyn(&mut self) -> &mut dyn DynamicsModel {
        match self {
            Self::GroundTruth(m) => m,
            Self::Learned(m) => m.as_dyn(),
        }
    }
}

/// What the panel shows about the model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    pub name: String,
    /// Lines such as sizes and the environments it was trained on.
    pub details: Vec<String>,
    pub path: Option<PathBuf>,
    pub is_tdm: bool,
    /// The model has a policy view that can propose candidates (a TDM trained on actions).
    pub proposes_actions: bool,
}

/// Loads a checkpoint (TDM or MLP baseline) for `spec`; any error names the file and the
/// problem.
pub fn load_checkpoint(path: &Path, spec: &EnvSpec) -> Result<(WorkerModel, ModelInfo), String> {
    let mut model =
        LearnedModel::load(path, spec).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut details = Vec::new();
    match &model {
        LearnedModel::Tdm(m) => {
            let meta = m.meta();
            let c = &meta.model;
            details.push(format!(
                "{} layers, width {}, {} heads, context {} tokens",
                c.layers, c.width, c.heads, c.context_tokens
            ));
            details.push(format!(
                "trained {} steps, {:.2}M tokens{}",
                meta.steps_trained,
                meta.tokens_trained as f64 / 1e6,
                meta.held_out_loss
                    .map(|l| format!(", held-out loss {l:.3}"))
                    .unwrap_or_default()
            ));
            details.extend(trained_on_lines(&meta.envs, &spec.name));
        }
        LearnedModel::Mlp(m) => {
            let meta = m.meta();
            let c = &meta.model;
            details.push(format!(
                "MLP baseline {}: {} x {} hidden, {} parameters",
                c.variant.name(),
                c.layers,
                c.hidden,
                c.parameter_count()
            ));
            details.push(format!(
                "trained {} steps, {:.2}M transitions{}",
                meta.steps_trained,
                meta.samples_trained as f64 / 1e6,
                meta.held_out_loss
                    .map(|l| format!(", held-out MSE {l:.4}"))
                    .unwrap_or_default()
            ));
            details.push(format!(
                "trained on {} (obs {}, act {}); one step, no history",
                meta.env.name, meta.env.observation_size, meta.env.action_size
            ));
        }
    }
    let info = ModelInfo {
        name: model.as_dyn().name(),
        details,
        path: Some(path.to_path_buf()),
        is_tdm: matches!(model, LearnedModel::Tdm(_)),
        proposes_actions: model.as_dyn().proposes_actions(),
    };
    Ok((WorkerModel::Learned(model), info))
}

/// What the panel says about the environments a model was trained on: each one when there are
/// few, a summary for a generalist, and whether the open scene is among them.
fn trained_on_lines(envs: &[crate::data::EnvInfo], scene: &str) -> Vec<String> {
    const LIST_UP_TO: usize = 4;
    let mut lines: Vec<String> = if envs.len() <= LIST_UP_TO {
        envs.iter()
            .map(|e| {
                format!(
                    "trained on {} (obs {}, act {})",
                    e.name, e.observation_size, e.action_size
                )
            })
            .collect()
    } else {
        let mut sizes: Vec<(usize, usize)> = envs
            .iter()
            .map(|e| (e.observation_size, e.action_size))
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        vec![format!(
            "trained on {} environments ({}, …, {}); {} obs/act sizes from {}/{} to {}/{}",
            envs.len(),
            envs[0].name,
            envs[envs.len() - 1].name,
            sizes.len(),
            sizes[0].0,
            sizes[0].1,
            sizes[sizes.len() - 1].0,
            sizes[sizes.len() - 1].1,
        )]
    };
    lines.push(if envs.iter().any(|e| e.name == scene) {
        format!("{scene}: in its training data")
    } else {
        format!("{scene}: not in its training data (zero-shot)")
    });
    lines
}

/// What the panel shows for the ground-truth model.
pub fn ground_truth_info() -> ModelInfo {
    ModelInfo {
        name: "ground truth (MuJoCo)".into(),
        details: vec!["candidates rolled out in MuJoCo from the real state".into()],
        path: None,
        is_tdm: false,
        proposes_actions: false,
    }
}

/// The ground-truth model for `task`.
pub fn ground_truth(task: Arc<dyn Task>) -> (WorkerModel, ModelInfo) {
    (
        WorkerModel::GroundTruth(GroundTruth::new(task, 0)),
        ground_truth_info(),
    )
}

/// Loads a checkpoint on its own thread; the answer arrives on the returned channel.
pub fn load_checkpoint_async(
    path: PathBuf,
    spec: EnvSpec,
    wake: Arc<dyn Fn() + Send + Sync>,
) -> Receiver<Result<(WorkerModel, ModelInfo), String>> {
    let (tx, rx) = channel();
    let spawned = std::thread::Builder::new()
        .name("model-loader".into())
        .spawn(move || {
            let _ = tx.send(load_checkpoint(&path, &spec));
            wake();
        });
    if let Err(e) = spawned {
        let (tx, rx2) = channel();
        let _ = tx.send(Err(format!("cannot start the loader thread: {e}")));
        return rx2;
    }
    rx
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
    /// The steps taken when planning started (the plan's time).
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
    replies: Receiver<Result<Box<PlanOutcome>, String>>,
    in_flight: bool,
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
            in_flight: false,
            _thread: Some(thread),
        })
    }

    pub fn in_flight(&self) -> bool {
        self.in_flight
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
        if self.in_flight {
            return;
        }
        if let Some(tx) = &self.messages {
            let sent = tx.try_send(Message::Plan(Box::new(Request {
                state,
                steps_taken,
                history: history.clone(),
                settings,
            })));
            self.in_flight = sent.is_ok();
        }
    }

    /// The reply, if the plan is done.
    pub fn poll(&mut self) -> Option<Result<Box<PlanOutcome>, String>> {
        match self.replies.try_recv() {
            Ok(r) => {
                self.in_flight = false;
                Some(r)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.in_flight = false;
                Some(Err("the planner thread stopped".into()))
            }
        }
    }

    /// Waits for the reply in flight (the step button).
    pub fn wait(&mut self) -> Option<Result<Box<PlanOutcome>, String>> {
        if !self.in_flight {
            return None;
        }
        self.in_flight = false;
        Some(
            self.replies
                .recv()
                .unwrap_or_else(|_| Err("the planner thread stopped".into())),
        )
    }
}

fn plan_once(
    task: &Arc<dyn Task>,
    env: &mut MujocoEnv,
    model: &mut WorkerModel,
    planner: &mut Option<Planner>,
    replayer: &mut RolloutWorkers,
    req: Request,
) -> Result<Box<PlanOutcome>, String> {
    env.set_state(&req.state, req.steps_taken)
        .map_err(|e| format!("planner: cannot restore the state: {e}"))?;
    let s = req.settings;
    let mut config = s.config;
    if !model.as_dyn().proposes_actions() {
        // The knob stays where the user left it, for the next model that has a policy.
        config.proposal_mix = 0.0;
    }
    let planner = planner.get_or_insert_with(|| Planner::new(config));
    if *planner.config() != config {
        planner.set_config(config);
    }
    if let WorkerModel::Learned(LearnedModel::Tdm(m)) = model {
        m.decoding = s.decoding;
        m.context_limit_tokens = s.context_limit_tokens;
    }
    let ctx = PlanContext {
        history: &req.history,
        state: Some(&req.state),
    };
    let dyn_model = model.as_dyn();
    let plan = planner
        .plan(dyn_model, task.as_ref(), &ctx)
        .map_err(|e| format!("planner ({}): {e}", dyn_model.name()))?;
    let model_name = dyn_model.name();
    let tokens_per_sec = matches!(model, WorkerModel::Learned(LearnedModel::Tdm(_))).then(|| {
        // Predicted tokens: reward and observation per step, and the actions of proposals.
        let per_step = task.spec().observation_size + 1;
        let proposed = plan.proposed * task.spec().action_size;
        (plan.horizon_steps() * (plan.candidates() * per_step + proposed)) as f64
            / plan.elapsed_secs.max(1e-9)
    });
    let replay = if s.replay {
        Some(
            replay_plan(replayer, task.as_ref(), &req.state, &plan)
                .map_err(|e| format!("replaying the candidates: {e}"))?,
        )
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
        steps_taken: req.steps_taken,
        model_name,
        tokens_per_sec,
    }))
}

#[cfg(test)]
mod tests {
    use super::trained_on_lines;
    use crate::data::EnvInfo;

    fn env(name: &str, n: usize, m: usize) -> EnvInfo {
        EnvInfo {
            name: name.into(),
            observation_size: n,
            action_size: m,
            control_dt_secs: 0.025,
            observation_labels: vec![],
            action_labels: vec![],
        }
    }

    #[test]
    fn a_generalist_is_summarised_and_says_whether_the_scene_was_trained_on() {
        let few = [env("cartpole-swingup", 5, 1)];
        assert_eq!(
            trained_on_lines(&few, "cartpole-swingup"),
            [
                "trained on cartpole-swingup (obs 5, act 1)",
                "cartpole-swingup: in its training data"
            ]
        );
        let many: Vec<EnvInfo> = (0..6)
            .map(|i| {
                env(
                    &format!("walker:chain:{}:{i}", 4 + i % 2),
                    18 + 2 * (i % 2),
                    4 + i % 2,
                )
            })
            .collect();
        let lines = trained_on_lines(&many, "walker:chain:6:99");
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("trained on 6 environments (walker:chain:4:0, …, walker:chain:5:5); 2 obs/act sizes from 18/4 to 20/5"), "{lines:?}");
        assert_eq!(
            lines[1],
            "walker:chain:6:99: not in its training data (zero-shot)"
        );
    }
}
