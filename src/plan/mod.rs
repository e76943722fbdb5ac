//! Planning: action noise, the planner family (random shooting, CEM, MPPI, predictive
//! sampling), simple policies, the MPC loop and its evaluation (returns with 68% confidence
//! intervals, prediction error against ground truth).

mod cem;
mod eval;
mod inspect;
mod latency;
mod method;
mod mpc;
mod mppi;
mod noise;
mod planner;
mod policies;
mod predictive;
mod ranking;
mod sampling;
mod stats;

pub use eval::{EvalRequest, EvalSetting, EvalSummary, evaluate, prediction_error_by_horizon};
pub use inspect::{PlanInspection, TrailPoint, inspect_plan, quartiles_by_step};
pub use latency::{BadLatency, Latency, PlanSchedule, TimedPlan, action_at_age, steps_late};
pub use method::{MethodError, PlannerMethod, UnknownMethod};
pub use mpc::{EpisodeResult, MpcAgent, replay_plan, run_mpc_episode};
pub use noise::{NoiseConfig, NoiseKind};
pub use planner::{Objective, Plan, Planner, PlannerConfig, UnknownObjective};
pub use policies::{BranchingPolicy, NoisePolicy, UniformPolicy, ZeroPolicy};
pub use ranking::{
    PlanRanking, ProbeAgent, ProbeState, RankingSummary, StateRanking, probe_states,
    rank_correlation, rank_plan, ranking_quality,
};
pub use stats::{MeanCi, Quartiles, mean_ci68, quartiles};
