//! Ground-truth MPC on a worker thread: the UI sends the current state and episode, the worker
//! plans (K candidates rolled out in MuJoCo) and sends the chosen action back. The UI never waits
//! on it; the simulation waits for the plan (lock-step) when planning is slower than real time.
use crate::data::Episode;
use crate::envs::{Env, MujocoEnv, Task};
use crate::models::GroundTruth;
use crate::plan::{MpcAgent, PlannerConfig};
use crate::sim::SimState;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::thread::JoinHandle;

struct Request {
    state: SimState,
    steps_taken: usize,
    history: Episode,
    config: PlannerConfig,
}

/// A finished plan: the action to apply and what it cost.
#[derive(Clone, Debug)]
pub struct PlanReply {
    pub action: Result<Vec<f64>, String>,
    pub elapsed_secs: f64,
}

/// The planning thread of one scene; dropped with the scene.
pub struct PlannerWorker {
    requests: Option<SyncSender<Request>>,
    replies: Receiver<PlanReply>,
    in_flight: bool,
    thread: Option<JoinHandle<()>>,
}

impl PlannerWorker {
    /// Starts the thread for `task`; `wake` is called after each reply (e.g. to repaint the UI).
    pub fn start(task: Arc<dyn Task>, wake: Arc<dyn Fn() + Send + Sync>) -> std::io::Result<Self> {
        let (req_tx, req_rx) = sync_channel::<Request>(1);
        let (rep_tx, rep_rx) = sync_channel::<PlanReply>(1);
        let thread = std::thread::Builder::new()
            .name("planner".into())
            .spawn(move || {
                let mut env = MujocoEnv::new(task.clone());
                let mut agent: Option<MpcAgent> = None;
                while let Ok(req) = req_rx.recv() {
                    let reply = plan_once(&task, &mut env, &mut agent, req);
                    if rep_tx.send(reply).is_err() {
                        break;
                    }
                    wake();
                }
            })?;
        Ok(Self {
            requests: Some(req_tx),
            replies: rep_rx,
            in_flight: false,
            thread: Some(thread),
        })
    }

    pub fn in_flight(&self) -> bool {
        self.in_flight
    }

    /// Asks for a plan from `state`; ignored while one is in flight.
    pub fn request(
        &mut self,
        state: SimState,
        steps_taken: usize,
        history: &Episode,
        config: PlannerConfig,
    ) {
        if self.in_flight {
            return;
        }
        if let Some(tx) = &self.requests {
            let sent = tx.try_send(Request {
                state,
                steps_taken,
                history: history.clone(),
                config,
            });
            self.in_flight = sent.is_ok();
        }
    }

    /// The reply, if the plan is done.
    pub fn poll(&mut self) -> Option<PlanReply> {
        match self.replies.try_recv() {
            Ok(r) => {
                self.in_flight = false;
                Some(r)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.in_flight = false;
                None
            }
        }
    }

    /// Waits for the reply in flight (tests and headless stepping).
    pub fn wait(&mut self) -> Option<PlanReply> {
        if !self.in_flight {
            return None;
        }
        self.in_flight = false;
        self.replies.recv().ok()
    }
}

fn plan_once(
    task: &Arc<dyn Task>,
    env: &mut MujocoEnv,
    agent: &mut Option<MpcAgent>,
    req: Request,
) -> PlanReply {
    if let Err(e) = env.set_state(&req.state, req.steps_taken) {
        return PlanReply {
            action: Err(format!("planner: cannot restore the state: {e}")),
            elapsed_secs: 0.0,
        };
    }
    let agent = agent.get_or_insert_with(|| {
        MpcAgent::new(
            req.config,
            Box::new(GroundTruth::new(task.clone(), 0)),
            task.clone(),
        )
    });
    if *agent.planner().config() != req.config {
        agent.planner().set_config(req.config);
    }
    match agent.plan(env, &req.history) {
        Ok(plan) => PlanReply {
            action: Ok(plan.action.clone()),
            elapsed_secs: plan.elapsed_secs,
        },
        Err(e) => PlanReply {
            action: Err(format!("planner: {e}")),
            elapsed_secs: 0.0,
        },
    }
}

impl Drop for PlannerWorker {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop after its current plan.
        self.requests = None;
        if let Some(t) = self.thread.take() {
            // Do not block the UI on a long plan: detach instead of joining.
            drop(t);
        }
    }
}
