//! The MPC agent driving the scene: single planned steps on the UI thread (the step button),
//! and the live run ([`crate::session::live`]) while it plays, whose steps the scene adopts.
use super::{SceneRunner, StepRecord};
use crate::plan::{quartiles_by_step, steps_late};
use crate::session::live::{LiveEvent, LiveRun, LiveStart, LiveStep, Pacing};
use crate::session::planner_worker::PlanOutcome;
use std::sync::Arc;
use std::time::Instant;

impl SceneRunner {
    fn record_plan(&mut self, outcome: &PlanOutcome) {
        if let Some(r) = outcome.ranking {
            self.agent.ranking_tally.add(&r);
        }
        if let Some(errors) = &outcome.inspection.prediction_error {
            let q = quartiles_by_step(errors);
            let acc = &mut self.agent.error_accumulated;
            if acc.len() < q.len() {
                acc.resize(q.len(), (0.0, 0));
            }
            for (a, median) in acc.iter_mut().zip(q.iter().map(|q| q.median)) {
                if median.is_finite() {
                    a.0 += median;
                    a.1 += 1;
                }
            }
        }
    }

    /// Tries to advance one control step. Returns false when waiting for the planner.
    pub(super) fn try_step(&mut self, block_on_plan: bool) -> bool {
        self.resume_from_scrub();
        if self.episode_over() {
            self.restart(self.seed.wrapping_add(1));
            return true;
        }
        if let Some(action) = self.immediate_action() {
            self.apply(&action);
            return true;
        }
        let (state, steps) = (self.env.state(), self.env.steps_taken());
        let (episode, settings) = (self.episode.clone(), self.agent.settings);
        let Some(worker) = self.worker() else {
            return false;
        };
        if !worker.in_flight() {
            worker.request(state, steps, &episode, settings);
        }
        let reply = if block_on_plan {
            worker.wait()
        } else {
            worker.poll()
        };
        let Some(reply) = reply else {
            return false;
        };
        if std::mem::take(&mut self.agent.discard_reply) {
            // That plan was of a state that is gone; the step button asks again.
            return block_on_plan && self.try_step(true);
        }
        match reply {
            Ok(outcome) => {
                let outcome: Arc<PlanOutcome> = Arc::from(outcome);
                self.record_plan(&outcome);
                let plan = &outcome.plan;
                let action = if self.agent.apply_actions {
                    plan.action.clone()
                } else {
                    vec![0.0; plan.action_size]
                };
                let predicted = outcome
                    .inspection
                    .predicted_rewards
                    .get(plan.best)
                    .and_then(|r| r.first().copied());
                let (plan_secs, tokens_per_sec) = (plan.elapsed_secs, outcome.tokens_per_sec);
                let step = self.env.steps_taken();
                self.agent.last = Some(outcome);
                self.apply(&action);
                self.agent.records.push(StepRecord {
                    step,
                    action,
                    reward: self.last_reward,
                    predicted_reward: predicted,
                    plan_secs: Some(plan_secs),
                    tokens_per_sec,
                    real_time_factor: self.real_time_factor,
                });
                true
            }
            Err(e) => {
                self.problem = Some(e.to_string());
                self.playing = false;
                false
            }
        }
    }

    /// One control step now (the step button): waits for the planner if it drives the scene.
    pub fn step_once(&mut self) {
        self.stop_live();
        self.try_step(true);
    }

    /// Whether the MPC agent is playing on its own thread now.
    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// Ends the live run (if any) after adopting the steps it took, and takes the planner
    /// thread back. A plan still in flight is of a state the scene has moved past: dropped.
    pub(super) fn stop_live(&mut self) {
        let Some(run) = self.live.take() else {
            return;
        };
        self.live_sent = None;
        self.adopt_events(&run);
        match run.stop() {
            Ok(worker) => {
                if worker.in_flight() {
                    self.agent.discard_reply = true;
                }
                self.worker = Some(worker);
            }
            Err(reason) => {
                self.problem = Some(format!(
                    "the live MPC thread stopped: it panicked: {reason}; planning starts again with ground truth"
                ));
                self.agent.model = crate::session::planner_worker::ground_truth_info();
                self.playing = false;
            }
        }
        self.agent.plan_age = None;
    }

    fn start_live(&mut self) {
        self.resume_from_scrub();
        if self.worker().is_none() {
            return;
        }
        let Some(worker) = self.worker.take() else {
            return;
        };
        let start = LiveStart {
            task: self.env.task(),
            state: self.env.state(),
            steps_taken: self.env.steps_taken(),
            episode: self.episode.clone(),
            settings: self.agent.settings,
            speed: self.speed,
            pacing: self.agent.pacing,
            apply_actions: self.agent.apply_actions,
            plan: self.agent.last.clone(),
        };
        // A reply in flight for a state that is gone would be taken as the newest plan.
        let mut worker = worker;
        if std::mem::take(&mut self.agent.discard_reply) && worker.in_flight() {
            let _ = worker.wait();
        }
        match LiveRun::start(start, worker) {
            Ok(run) => {
                self.live_sent = Some((self.agent.settings, self.speed, self.agent.apply_actions));
                self.live = Some(run);
            }
            Err(e) => {
                self.problem = Some(format!("cannot start the live MPC thread: {e}"));
                self.playing = false;
            }
        }
    }

    /// One frame of the live run: (re)start it as needed, pass on what the panels changed, and
    /// adopt the steps it took since the last frame.
    pub(super) fn advance_live(&mut self, real_dt_secs: f64) {
        if self.episode_over() {
            self.stop_live();
            self.restart(self.seed.wrapping_add(1));
        }
        if self
            .live
            .as_ref()
            .is_some_and(|r| r.pacing != self.agent.pacing)
        {
            self.stop_live();
        }
        if self.live.is_none() {
            self.start_live();
        }
        let Some(run) = self.live.take() else {
            return;
        };
        let now = (self.agent.settings, self.speed, self.agent.apply_actions);
        if self.live_sent != Some(now) {
            let sent = self.live_sent.unwrap_or(now);
            if sent.0 != now.0 {
                run.set_settings(now.0);
            }
            if sent.1 != now.1 {
                run.set_speed(now.1);
            }
            if sent.2 != now.2 {
                run.set_apply_actions(now.2);
            }
            self.live_sent = Some(now);
        }
        let steps_before = self.env.steps_taken();
        let ended = self.adopt_events(&run);
        self.live = Some(run);
        let advanced = self.env.steps_taken().saturating_sub(steps_before);
        let real_dt = real_dt_secs.clamp(0.0, 0.25);
        if real_dt > 0.0 {
            let rtf = advanced as f64 * self.control_dt_secs() / real_dt;
            self.real_time_factor = 0.9 * self.real_time_factor + 0.1 * rtf;
        }
        match ended {
            Some(LiveEnd::EpisodeOver) => {
                self.stop_live();
                self.restart(self.seed.wrapping_add(1));
            }
            Some(LiveEnd::Failed(message)) => {
                self.stop_live();
                self.problem = Some(message);
                self.playing = false;
            }
            None => {}
        }
    }

    /// Adopts every step the live run reported; the last state becomes the scene's.
    fn adopt_events(&mut self, run: &LiveRun) -> Option<LiveEnd> {
        let mut last_state = None;
        let mut ended = None;
        while let Ok(event) = run.events.try_recv() {
            match event {
                LiveEvent::Step(step) => {
                    last_state = Some((step.state.clone(), step.steps_taken));
                    self.adopt(*step);
                }
                LiveEvent::EpisodeOver => ended = Some(LiveEnd::EpisodeOver),
                LiveEvent::Failed(m) => ended = Some(LiveEnd::Failed(m)),
            }
        }
        if let Some((state, steps)) = last_state {
            if let Err(e) = self.env.set_state(&state, steps) {
                self.problem = Some(format!("cannot show the live state: {e}"));
            }
            self.refresh_geometry();
        }
        ended
    }

    fn adopt(&mut self, step: LiveStep) {
        if let Some(plan) = step.new_plan {
            self.record_plan(&plan);
            self.agent
                .note_arrival(Instant::now(), plan.plan.elapsed_secs);
            self.choose_pacing(&plan);
            self.agent.last = Some(plan);
        }
        self.last_reward = step.reward;
        self.episode_return += step.reward;
        self.episode
            .push(&step.action, step.reward, &step.observation);
        self.remember_state(step.state, step.steps_taken);
        self.agent.plan_age = step.plan_age;
        let (plan_secs, tokens_per_sec) = self.agent.last.as_ref().map_or((None, None), |p| {
            (Some(p.plan.elapsed_secs), p.tokens_per_sec)
        });
        self.agent.records.push(StepRecord {
            step: step.steps_taken.saturating_sub(1),
            action: step.action,
            reward: step.reward,
            predicted_reward: step.predicted_reward,
            plan_secs,
            tokens_per_sec,
            real_time_factor: self.real_time_factor,
        });
    }

    /// Real time is the default; where planning is so slow that a plan would act mostly past
    /// the middle of its horizon (the median of the last plans), the agent switches to
    /// lock-step once and says why, unless the user chose the pacing.
    fn choose_pacing(&mut self, plan: &PlanOutcome) {
        if self.agent.pacing != Pacing::RealTime || self.agent.pacing_chosen {
            return;
        }
        let Some(median_secs) = self.agent.median_latency() else {
            return;
        };
        let late = steps_late(median_secs, self.control_dt_secs(), self.speed);
        let horizon = plan.plan.horizon_steps();
        if late * 2 > horizon {
            self.agent.pacing = Pacing::LockStep;
            self.notice = Some(format!(
                "planning takes {:.0} ms, {late} control steps at {:.2}x: in real time a plan would act mostly stale (horizon {horizon}); switched to lock-step (Simulation > Pacing goes back)",
                1e3 * median_secs,
                self.speed
            ));
        }
    }
}

/// How a live run ended.
enum LiveEnd {
    EpisodeOver,
    Failed(String),
}
