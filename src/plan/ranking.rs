//! How well a model ranks the planner's candidates: what random shooting actually needs from a
//! model, and what a prediction error against horizon does not show. At states an MPC agent
//! visits, the planner's K candidates are imagined by the model and replayed in MuJoCo; the
//! model's scores are compared with the real returns of the same action sequences.
use super::mpc::{MpcAgent, replay_plan};
use super::planner::{Planner, PlannerConfig};
use super::stats::{MeanCi, mean_ci68};
use crate::data::{DataError, Episode, Policy, run_episode};
use crate::envs::{Env, MujocoEnv, Task};
use crate::models::{DynamicsModel, GroundTruth, ModelError, PlanContext};
use crate::sim::{RolloutWorkers, SimState};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A situation to plan from: the history so far and the simulator's state at its end.
#[derive(Clone, Debug)]
pub struct ProbeState {
    pub history: Episode,
    pub state: SimState,
}

/// States along `episodes` episodes of the MPC `agent` (ground truth unless it names a model; initial
/// states `seed`, `seed + 1`, ...), one every `every` steps from step 0: the hanging start, the
/// swing and, once the agent gets there, the balance, in the proportions a planner meets them.
/// A diverged episode ends there; the states before it are kept.
pub fn probe_states(
    task: &Arc<dyn Task>,
    agent: ProbeAgent,
    episodes: usize,
    steps: usize,
    every: usize,
    seed: u64,
) -> Result<Vec<ProbeState>, DataError> {
    let mut env = MujocoEnv::new(Arc::clone(task));
    let model = agent
        .model
        .unwrap_or_else(|| Box::new(GroundTruth::new(Arc::clone(task), 1)));
    let mut recorder = Recorder {
        agent: MpcAgent::new(agent.config, model, Arc::clone(task)),
        every: every.max(1),
        states: Vec::new(),
    };
    for e in 0..episodes {
        run_episode(&mut env, &mut recorder, seed + e as u64, steps)?;
    }
    Ok(recorder.states)
}

/// The MPC agent whose episodes give the probe states: its planner, and its model (ground
/// truth where `None`; a learned model gives the states that model's own agent visits).
pub struct ProbeAgent {
    pub config: PlannerConfig,
    pub model: Option<Box<dyn DynamicsModel>>,
}

/// The agent, noting the situation before every `every`-th action.
struct Recorder {
    agent: MpcAgent,
    every: usize,
    states: Vec<ProbeState>,
}

impl Policy for Recorder {
    fn describe(&self) -> serde_json::Value {
        self.agent.describe()
    }

    fn begin_episode(&mut self, seed: u64) {
        self.agent.begin_episode(seed);
    }

    fn act(&mut self, env: &dyn Env, episode: &Episode) -> Result<Vec<f64>, DataError> {
        if episode.len().is_multiple_of(self.every) {
            self.states.push(ProbeState {
                history: episode.clone(),
                state: env.state(),
            });
        }
        self.agent.act(env, episode)
    }
}

/// One model's ranking of the candidates, summarised over the probe states.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankingSummary {
    pub model: String,
    pub states: usize,
    pub candidates: usize,
    pub horizon_steps: usize,
    /// Spearman rank correlation of the model's scores and the real returns, over states.
    pub spearman: MeanCi,
    /// (best real return - real return of the model's pick) / (best real - mean real), over
    /// states where the candidates differ: 0 picks the best candidate, 1 is no better than a
    /// candidate drawn at random, above 1 worse.
    pub regret: MeanCi,
    /// The model's score of its pick minus the pick's real return, over states: how much the
    /// winner's imagined future flatters it (the planner's selection seeks these errors out).
    pub optimism: MeanCi,
    /// Mean absolute difference of score and real return over all candidates and states.
    pub score_error: f64,
    pub mean_plan_ms: f64,
    /// Every probe state's numbers, in probe order: where along the episodes the model ranks
    /// well and where it does not.
    #[serde(default)]
    pub per_state: Vec<StateRanking>,
}

/// One probe state's ranking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateRanking {
    /// Steps of history before the state (its time in the episode).
    pub step: usize,
    #[serde(flatten)]
    pub ranking: PlanRanking,
}

/// Plans from every probe state with `model` (fresh candidates per state, seeded by `config.seed`
/// and the state's index, so every model is scored on the same candidates) and replays the
/// candidates in MuJoCo.
pub fn ranking_quality(
    task: &Arc<dyn Task>,
    model: &mut dyn DynamicsModel,
    probes: &[ProbeState],
    config: PlannerConfig,
) -> Result<RankingSummary, ModelError> {
    let mut workers = RolloutWorkers::new(task.model().clone(), 0);
    let (mut spearman, mut regret, mut optimism) = (Vec::new(), Vec::new(), Vec::new());
    let (mut abs_error, mut scored, mut plan_secs) = (0f64, 0usize, 0f64);
    let mut per_state = Vec::with_capacity(probes.len());
    for (i, probe) in probes.iter().enumerate() {
        let mut planner = Planner::new(PlannerConfig {
            keep_best: false,
            seed: config.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ..config
        });
        let ctx = PlanContext {
            history: &probe.history,
            state: Some(&probe.state),
        };
        let plan = planner.plan(model, task.as_ref(), &ctx)?;
        plan_secs += plan.elapsed_secs;
        let real = replay_plan(&mut workers, task.as_ref(), &probe.state, &plan)?;
        let n = plan.horizon_steps();
        let returns: Vec<f64> = (0..plan.candidates())
            .map(|k| real.rewards[k * n..(k + 1) * n].iter().sum())
            .collect();
        for (s, r) in plan.scores.iter().zip(&returns) {
            if s.is_finite() {
                abs_error += (s - r).abs();
                scored += 1;
            }
        }
        let r = rank_plan(&plan.scores, &returns, plan.best);
        per_state.push(StateRanking {
            step: probe.history.len(),
            ranking: r,
        });
        spearman.push(r.spearman);
        regret.extend(r.regret);
        // Where every candidate failed there is no pick to be optimistic about.
        if r.optimism.is_finite() {
            optimism.push(r.optimism);
        }
    }
    Ok(RankingSummary {
        model: model.name(),
        states: probes.len(),
        candidates: config.candidates,
        horizon_steps: config.horizon_steps,
        spearman: mean_ci68(&spearman),
        regret: mean_ci68(&regret),
        optimism: mean_ci68(&optimism),
        score_error: abs_error / scored.max(1) as f64,
        mean_plan_ms: 1e3 * plan_secs / probes.len().max(1) as f64,
        per_state,
    })
}

/// How one plan's scores rank its candidates against their real returns.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanRanking {
    /// Spearman rank correlation of scores and real returns.
    pub spearman: f64,
    /// (best real - real of the pick) / (best real - mean real); `None` where the candidates
    /// earned (nearly) the same, so that the ratio would be noise.
    pub regret: Option<f64>,
    /// The pick's score minus its real return.
    pub optimism: f64,
    /// Real returns: the best candidate's, the pick's, and the mean over the candidates.
    pub best_return: f64,
    pub picked_return: f64,
    pub mean_return: f64,
}

/// Scores and real returns of the same candidates; `best` is the candidate the plan picked.
pub fn rank_plan(scores: &[f64], real_returns: &[f64], best: usize) -> PlanRanking {
    let top = real_returns
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let mean = real_returns.iter().sum::<f64>() / real_returns.len().max(1) as f64;
    let picked = real_returns.get(best).copied().unwrap_or(f64::NAN);
    PlanRanking {
        spearman: rank_correlation(scores, real_returns),
        regret: (top - mean > 1e-6 * top.abs().max(1.0)).then(|| (top - picked) / (top - mean)),
        optimism: scores.get(best).copied().unwrap_or(f64::NAN) - picked,
        best_return: top,
        picked_return: picked,
        mean_return: mean,
    }
}

/// Spearman's rank correlation (ties share their mean rank; non-finite scores rank lowest).
pub fn rank_correlation(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let mean = (n - 1.0) / 2.0;
    let (mut cov, mut va, mut vb) = (0f64, 0f64, 0f64);
    for (x, y) in ra.iter().zip(&rb) {
        cov += (x - mean) * (y - mean);
        va += (x - mean).powi(2);
        vb += (y - mean).powi(2);
    }
    if va <= 0.0 || vb <= 0.0 {
        return 0.0;
    }
    cov / (va * vb).sqrt()
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let key = |x: f64| if x.is_finite() { x } else { f64::NEG_INFINITY };
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| key(v[i]).total_cmp(&key(v[j])));
    let mut out = vec![0.0; v.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && key(v[order[end]]) == key(v[order[start]]) {
            end += 1;
        }
        let rank = (start + end - 1) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = rank;
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_correlation_is_one_for_the_same_order_and_minus_one_for_the_reverse() {
        let a = [1.0, 5.0, 2.0, 9.0];
        assert!((rank_correlation(&a, &[10.0, 50.0, 20.0, 90.0]) - 1.0).abs() < 1e-12);
        assert!((rank_correlation(&a, &[4.0, 2.0, 3.0, 1.0]) + 1.0).abs() < 1e-12);
        // Ties share a rank; a constant side has no order to agree with.
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![1.5, 0.0, 1.5]);
        assert_eq!(rank_correlation(&a, &[1.0; 4]), 0.0);
        // A failed (-inf) score ranks lowest.
        assert!((rank_correlation(&[f64::NEG_INFINITY, 1.0], &[0.0, 1.0]) - 1.0).abs() < 1e-12);
    }
}
