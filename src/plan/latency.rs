//! Planning latency: what a plan is worth when it arrives late. In lock-step (the paper's
//! setting) the simulation waits for every plan. In real time it does not: a plan started from
//! the state of step t and taking L seconds can first act at step t + ceil(L x speed / dt), and
//! it then acts shifted by its age (the action it planned for that many steps after its start).
//! The window's real-time mode lives by this rule on the wall clock; `eval --latency`
//! simulates it with each plan's measured time or a fixed one, so the cost of a slow model
//! shows in its return.
use super::planner::Plan;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How long a plan takes to reach the actuators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Latency {
    /// Lock-step: the simulation waits for every plan.
    #[default]
    None,
    /// Each plan's own measured planning time (real time at 1x).
    Measured,
    /// A fixed time per plan, in milliseconds.
    Fixed { ms: f64 },
}

impl Latency {
    /// Control steps between a plan's start state and the first step it acts on, for a plan
    /// that took `plan_secs`, with control steps of `dt_secs`.
    pub fn steps_late(self, plan_secs: f64, dt_secs: f64) -> usize {
        match self {
            Self::None => 0,
            Self::Measured => steps_late(plan_secs, dt_secs, 1.0),
            Self::Fixed { ms } => steps_late(ms / 1e3, dt_secs, 1.0),
        }
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => write!(f, "none"),
            Self::Measured => write!(f, "measured"),
            Self::Fixed { ms } => write!(f, "{ms} ms"),
        }
    }
}

/// A `--latency` value that is neither `none`, `measured` nor a number of milliseconds >= 0.
#[derive(Debug, thiserror::Error)]
#[error("latency '{0}': expected none, measured or milliseconds (a number >= 0)")]
pub struct BadLatency(pub String);

impl FromStr for Latency {
    type Err = BadLatency;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "none" | "lock-step" => Ok(Self::None),
            "measured" => Ok(Self::Measured),
            other => match other.trim_end_matches("ms").trim().parse::<f64>() {
                Ok(0.0) => Ok(Self::None),
                Ok(ms) if ms.is_finite() && ms > 0.0 => Ok(Self::Fixed { ms }),
                _ => Err(BadLatency(s.to_string())),
            },
        }
    }
}

/// Control steps of `dt_secs` of simulated time that pass while a plan takes `plan_secs` of wall
/// clock at `speed` x real time: 0 only for an instant plan (lock-step), else at least 1, since
/// the step under way when planning started has already taken its action.
pub fn steps_late(plan_secs: f64, dt_secs: f64, speed: f64) -> usize {
    let steps = plan_secs.max(0.0) * speed.max(0.0) / dt_secs.max(1e-9);
    if steps <= 0.0 {
        0
    } else {
        steps.ceil().min(1e9) as usize
    }
}

/// The action `plan` chose for `age` control steps after its start state: its chosen sequence
/// shifted by its age. A stale plan is never applied past its end: from its horizon on this is
/// `None`, and the agent acts with zeros (the passive dynamics) until a newer plan arrives.
pub fn action_at_age(plan: &Plan, age: usize) -> Option<&[f64]> {
    (age < plan.horizon_steps()).then(|| plan.candidate_action(plan.best, age))
}

/// A plan in use or on its way, with the step of its start state and the first step it acts on.
#[derive(Clone, Debug)]
pub struct TimedPlan {
    pub plan: Plan,
    pub start_step: usize,
    pub ready_step: usize,
}

/// The plans of an agent under latency: the one acting and the one being computed.
#[derive(Clone, Debug, Default)]
pub struct PlanSchedule {
    pub in_use: Option<TimedPlan>,
    pub pending: Option<TimedPlan>,
}

impl PlanSchedule {
    /// Promotes the pending plan if it has arrived by `step` (and `step` has reached its
    /// start: a plan from a forecast starts after the step where planning began).
    pub fn arrive(&mut self, step: usize) {
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.ready_step.max(p.start_step) <= step)
        {
            self.in_use = self.pending.take();
        }
    }

    /// The step of the newest plan's start state (pending first): where the next plan's warm
    /// start shifts from.
    pub fn newest_start(&self) -> Option<usize> {
        self.pending
            .as_ref()
            .or(self.in_use.as_ref())
            .map(|p| p.start_step)
    }

    /// The action for `step`: the plan in use shifted by its age, zeros without one or past its
    /// end.
    pub fn action(&self, step: usize, action_size: usize) -> Vec<f64> {
        self.in_use
            .as_ref()
            .and_then(|p| action_at_age(&p.plan, step.saturating_sub(p.start_step)))
            .map_or_else(|| vec![0.0; action_size], <[f64]>::to_vec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Imagined;
    use crate::plan::Objective;

    fn plan(horizon: usize) -> Plan {
        // Two candidates of one action; candidate 1 wins, its action at step t is t.
        let actions: Vec<f64> = (0..2 * horizon)
            .map(|i| {
                if i >= horizon {
                    (i - horizon) as f64
                } else {
                    -1.0
                }
            })
            .collect();
        Plan {
            action: vec![0.0],
            action_size: 1,
            actions,
            imagined: Imagined {
                candidates: 2,
                horizon_steps: horizon,
                observation_size: 0,
                observations: Vec::new(),
                rewards: None,
                failures: vec![None, None],
            },
            scores: vec![0.0, 1.0],
            best: 1,
            proposed: 0,
            objective: Objective::Auto,
            elapsed_secs: 0.0,
            round_best_scores: vec![1.0],
            evaluations: 2,
        }
    }

    #[test]
    fn latency_parses_and_counts_steps() {
        assert_eq!("none".parse::<Latency>().unwrap(), Latency::None);
        assert_eq!("0".parse::<Latency>().unwrap(), Latency::None);
        assert_eq!("measured".parse::<Latency>().unwrap(), Latency::Measured);
        assert_eq!(
            "150".parse::<Latency>().unwrap(),
            Latency::Fixed { ms: 150.0 }
        );
        assert!("-3".parse::<Latency>().is_err());
        assert!("soon".parse::<Latency>().is_err());
        // 150 ms at 10 ms steps: 15 steps; 3 ms: the next step; none: this step.
        assert_eq!(Latency::Fixed { ms: 150.0 }.steps_late(0.0, 0.01), 15);
        assert_eq!(Latency::Measured.steps_late(0.003, 0.01), 1);
        assert_eq!(Latency::None.steps_late(0.5, 0.01), 0);
        assert_eq!(steps_late(0.1, 0.01, 0.5), 5);
    }

    #[test]
    fn a_late_plan_acts_shifted_by_its_age_and_never_past_its_end() {
        let p = plan(4);
        assert_eq!(action_at_age(&p, 0), Some(&[0.0][..]));
        assert_eq!(action_at_age(&p, 3), Some(&[3.0][..]));
        assert_eq!(action_at_age(&p, 4), None);
        let mut s = PlanSchedule::default();
        assert_eq!(s.action(0, 1), vec![0.0]);
        s.pending = Some(TimedPlan {
            plan: p,
            start_step: 10,
            ready_step: 12,
        });
        s.arrive(11);
        assert!(s.in_use.is_none(), "not there before its ready step");
        s.arrive(12);
        assert_eq!(s.action(12, 1), vec![2.0], "acts shifted by its age");
        assert_eq!(s.action(13, 1), vec![3.0]);
        assert_eq!(
            s.action(14, 1),
            vec![0.0],
            "stale: zeros, not its last action"
        );
    }
}
