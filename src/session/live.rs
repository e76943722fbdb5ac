//! The MPC agent running live, on its own thread, paced by the wall clock rather than by the
//! window's frame rate (which is a few frames per second on a software renderer).
//!
//! Two pacings:
//! - **Real time**: physics advances at the chosen speed on the wall clock whatever the planner
//!   does; the planner thread replans continuously from the newest state it was handed, and
//!   each step acts with the newest plan that has arrived, shifted by its age (the control steps
//!   since its start state; [`crate::plan::action_at_age`]); each plan starts from the model's
//!   forecast of where the actions applied meanwhile lead. A plan older than its horizon is
//!   never applied: the agent acts with zeros until the next arrives. Slow planning costs
//!   return, as it would on a robot.
//! - **Lock-step**: the simulation waits for every plan (the paper's setting), as fast as plans
//!   come but never faster than the chosen speed.
//!
//! The window's [`super::scene::SceneRunner`] starts a run while MPC plays, hands it the planner
//! thread and the episode so far, and adopts every step the run reports (the run is the
//! authority over the state while it lasts); anything that changes the state (pause, reset,
//! scrub, another policy or model) stops the run first and gets the planner thread back.
use super::planner_worker::{PlanError, PlanOutcome, PlanSettings, PlannerWorker};
use crate::data::Episode;
use crate::envs::{Env, MujocoEnv, Task};
use crate::plan::{action_at_age, steps_late};
use crate::sim::SimState;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the MPC agent's simulation keeps time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pacing {
    /// Physics on the wall clock; plans act late, shifted by their age.
    #[default]
    RealTime,
    /// The simulation waits for every plan.
    LockStep,
}

impl Pacing {
    pub const ALL: [Pacing; 2] = [Self::RealTime, Self::LockStep];

    pub fn label(self) -> &'static str {
        match self {
            Self::RealTime => "real time",
            Self::LockStep => "lock-step",
        }
    }
}

/// One control step the live run took.
#[derive(Debug)]
pub struct LiveStep {
    pub action: Vec<f64>,
    pub reward: f64,
    pub observation: Vec<f64>,
    /// The state after the step, and the steps taken then.
    pub state: SimState,
    pub steps_taken: usize,
    /// A plan that came into use at this step.
    pub new_plan: Option<Arc<PlanOutcome>>,
    /// Control steps between the start state of the plan this step acted with and this step
    /// (`None`: no plan yet, or the plan in use had run out; the action was zero).
    pub plan_age: Option<usize>,
    /// What the plan in use expected for this step's reward.
    pub predicted_reward: Option<f64>,
}

/// What a live run reports.
#[derive(Debug)]
pub enum LiveEvent {
    Step(Box<LiveStep>),
    /// The episode reached its time limit; the run has ended.
    EpisodeOver,
    /// The simulation diverged or the planner failed; the run has ended.
    Failed(String),
}

/// What the scene tells a live run while it lasts.
#[derive(Debug)]
enum Control {
    Settings(PlanSettings),
    Speed(f64),
    ApplyActions(bool),
    Stop,
}

/// What a live run starts from.
pub struct LiveStart {
    pub task: Arc<dyn Task>,
    pub state: SimState,
    pub steps_taken: usize,
    pub episode: Episode,
    pub settings: PlanSettings,
    pub speed: f64,
    pub pacing: Pacing,
    pub apply_actions: bool,
    /// The plan in use when the run starts (its age counts on from its own start step).
    pub plan: Option<Arc<PlanOutcome>>,
}

/// A running live thread.
pub struct LiveRun {
    control: Sender<Control>,
    pub events: Receiver<LiveEvent>,
    thread: Option<JoinHandle<PlannerWorker>>,
    pub pacing: Pacing,
    /// The planner thread's in-flight flag ([`PlannerWorker::in_flight_flag`]).
    planning: Arc<AtomicBool>,
}

/// After this much wall-clock lag the run stops trying to catch up (the real-time factor drops
/// below the speed instead of a burst of steps).
const MAX_LAG_SECS: f64 = 0.25;
/// How often a waiting run looks at its control channel.
const POLL: Duration = Duration::from_millis(2);

impl LiveRun {
    /// Starts the thread with the scene's planner thread `worker`.
    pub fn start(start: LiveStart, worker: PlannerWorker) -> std::io::Result<Self> {
        let (control_tx, control_rx) = channel();
        let (event_tx, event_rx) = channel();
        let pacing = start.pacing;
        let planning = worker.in_flight_flag();
        let thread = std::thread::Builder::new()
            .name("live-mpc".into())
            .spawn(move || {
                let mut run = Running::new(start, worker, event_tx);
                run.go(&control_rx);
                run.worker
            })?;
        Ok(Self {
            control: control_tx,
            events: event_rx,
            thread: Some(thread),
            pacing,
            planning,
        })
    }

    /// Whether a plan is being computed right now.
    pub fn planning(&self) -> bool {
        self.planning.load(Ordering::Relaxed)
    }

    pub fn set_settings(&self, settings: PlanSettings) {
        let _ = self.control.send(Control::Settings(settings));
    }

    pub fn set_speed(&self, speed: f64) {
        let _ = self.control.send(Control::Speed(speed));
    }

    pub fn set_apply_actions(&self, apply: bool) {
        let _ = self.control.send(Control::ApplyActions(apply));
    }

    /// Stops the thread and returns the planner thread (`Err` with the reason if the live
    /// thread panicked, taking the planner thread with it).
    pub fn stop(mut self) -> Result<PlannerWorker, String> {
        let _ = self.control.send(Control::Stop);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(worker)) => Ok(worker),
            Some(Err(payload)) => Err(payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into())),
            None => Err("it had stopped before".into()),
        }
    }
}

/// The live thread's state.
struct Running {
    env: MujocoEnv,
    worker: PlannerWorker,
    events: Sender<LiveEvent>,
    episode: Episode,
    settings: PlanSettings,
    speed: f64,
    pacing: Pacing,
    apply_actions: bool,
    in_use: Option<Arc<PlanOutcome>>,
    /// The plan before it: acts until the newest one's start step, when that was forecast
    /// further ahead than the plan turned out to take.
    previous: Option<Arc<PlanOutcome>>,
    /// The plan that came into use since the last step, reported with the next step.
    fresh: Option<Arc<PlanOutcome>>,
    /// Wall clock and step count the pacing counts from (reset after a long lag or a speed
    /// change).
    anchor: (Instant, usize),
}

enum Flow {
    Go,
    Stop,
}

impl Running {
    fn new(start: LiveStart, worker: PlannerWorker, events: Sender<LiveEvent>) -> Self {
        let mut env = MujocoEnv::new(start.task);
        if let Err(e) = env.set_state(&start.state, start.steps_taken) {
            let _ = events.send(LiveEvent::Failed(format!(
                "cannot start from the state: {e}"
            )));
        }
        Self {
            env,
            worker,
            events,
            episode: start.episode,
            settings: start.settings,
            speed: start.speed.max(1e-3),
            pacing: start.pacing,
            apply_actions: start.apply_actions,
            in_use: start.plan,
            previous: None,
            fresh: None,
            anchor: (Instant::now(), start.steps_taken),
        }
    }

    fn controls(&mut self, rx: &Receiver<Control>) -> Flow {
        loop {
            match rx.try_recv() {
                Ok(Control::Settings(s)) => self.settings = s,
                Ok(Control::Speed(v)) => {
                    self.speed = v.max(1e-3);
                    self.anchor = (Instant::now(), self.env.steps_taken());
                }
                Ok(Control::ApplyActions(a)) => self.apply_actions = a,
                Ok(Control::Stop) | Err(TryRecvError::Disconnected) => return Flow::Stop,
                Err(TryRecvError::Empty) => return Flow::Go,
            }
        }
    }

    /// The wall-clock time the next step is due.
    fn due(&self) -> Instant {
        let (t0, s0) = self.anchor;
        let steps = self.env.steps_taken().saturating_sub(s0) as f64;
        let dt = self.env.spec().control_dt_secs();
        t0 + Duration::from_secs_f64(steps * dt / self.speed)
    }

    /// Hands the planner the newest state when it is idle. In real time, with the actions the
    /// plan in use will apply while the new one is computed (as many steps as the last plan
    /// took): the model forecasts where they lead and the plan starts there.
    fn request(&mut self) {
        if self.worker.in_flight() {
            return;
        }
        let (state, steps) = (self.env.state(), self.env.steps_taken());
        let mut committed = Vec::new();
        if self.pacing == Pacing::RealTime
            && let Some(p) = &self.in_use
        {
            let dt = self.env.spec().control_dt_secs();
            let ahead = steps_late(p.plan.elapsed_secs, dt, self.speed);
            let m = self.env.spec().action_size;
            for i in 0..ahead {
                let age = (steps + i).saturating_sub(p.steps_taken);
                match action_at_age(&p.plan, age) {
                    Some(a) if self.apply_actions => committed.extend_from_slice(a),
                    _ => committed.extend(std::iter::repeat_n(0.0, m)),
                }
            }
        }
        self.worker
            .request_ahead(state, steps, &self.episode, self.settings, committed);
    }

    /// Takes a reply that has come back: the newest plan comes into use. False (after
    /// reporting it) when planning failed.
    fn take_reply(&mut self, reply: Result<Box<PlanOutcome>, PlanError>) -> bool {
        match reply {
            Ok(outcome) => {
                let shared: Arc<PlanOutcome> = Arc::from(outcome);
                self.previous = self.in_use.replace(Arc::clone(&shared));
                self.fresh = Some(shared);
                true
            }
            Err(e) => {
                let _ = self.events.send(LiveEvent::Failed(e.to_string()));
                false
            }
        }
    }

    fn go(&mut self, rx: &Receiver<Control>) {
        loop {
            if let Flow::Stop = self.controls(rx) {
                return;
            }
            if self.env.steps_taken() >= self.env.spec().episode_steps {
                let _ = self.events.send(LiveEvent::EpisodeOver);
                return;
            }
            // Pacing: never ahead of the wall clock; after a long lag, start counting anew.
            let now = Instant::now();
            let due = self.due();
            if due > now {
                std::thread::sleep((due - now).min(POLL));
                if self.pacing == Pacing::RealTime {
                    if let Some(reply) = self.worker.poll()
                        && !self.take_reply(reply)
                    {
                        return;
                    }
                    self.request();
                }
                continue;
            }
            if (now - due).as_secs_f64() > MAX_LAG_SECS {
                self.anchor = (now, self.env.steps_taken());
            }
            match self.pacing {
                Pacing::RealTime => {
                    if let Some(reply) = self.worker.poll()
                        && !self.take_reply(reply)
                    {
                        return;
                    }
                    self.request();
                }
                Pacing::LockStep => {
                    self.request();
                    let reply = loop {
                        if let Flow::Stop = self.controls(rx) {
                            return;
                        }
                        match self.worker.wait_timeout(POLL) {
                            Some(r) => break r,
                            None if !self.worker.in_flight() => return,
                            None => {}
                        }
                    };
                    if !self.take_reply(reply) {
                        return;
                    }
                    // The waiting is not lag: count the pace from here.
                    self.anchor = (Instant::now(), self.env.steps_taken());
                }
            }
            if !self.step() {
                return;
            }
        }
    }

    /// One control step with the plan in use; false when the run has to end.
    fn step(&mut self) -> bool {
        let new_plan = self.fresh.take();
        let steps = self.env.steps_taken();
        let m = self.env.spec().action_size;
        let acting = match (&self.in_use, &self.previous) {
            (Some(p), Some(before)) if p.steps_taken > steps => Some(before),
            (p, _) => p.as_ref(),
        };
        let (planned, age, predicted) = match acting {
            Some(p) => {
                let age = steps.saturating_sub(p.steps_taken);
                let best = p.plan.best;
                let action = action_at_age(&p.plan, age).map(<[f64]>::to_vec);
                let predicted = action.as_ref().and_then(|_| {
                    p.inspection
                        .predicted_rewards
                        .get(best)
                        .and_then(|r| r.get(age).copied())
                });
                (action.clone(), action.map(|_| age), predicted)
            }
            None => (None, None, None),
        };
        let action = match planned {
            Some(a) if self.apply_actions => a,
            _ => vec![0.0; m],
        };
        match self.env.step(&action) {
            Ok(step) => {
                self.episode.push(&action, step.reward, &step.observation);
                let event = LiveStep {
                    action,
                    reward: step.reward,
                    observation: step.observation,
                    state: self.env.state(),
                    steps_taken: self.env.steps_taken(),
                    new_plan,
                    plan_age: age,
                    predicted_reward: predicted,
                };
                self.events.send(LiveEvent::Step(Box::new(event))).is_ok()
            }
            Err(e) => {
                let _ = self.events.send(LiveEvent::Failed(e.to_string()));
                false
            }
        }
    }
}
