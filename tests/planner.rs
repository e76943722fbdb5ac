//! The random-shooting planner with the ground-truth model, and the MPC loop.
use std::sync::Arc;
use tdm_workbench::data::{Episode, run_episode};
use tdm_workbench::envs::{Env, MujocoEnv, make_task};
use tdm_workbench::models::{DynamicsModel, GroundTruth, Imagined, ModelError, PlanContext};
use tdm_workbench::plan::{
    BranchingPolicy, Latency, MpcAgent, NoiseConfig, Objective, Planner, PlannerConfig, ProbeAgent,
    ZeroPolicy, prediction_error_by_horizon, probe_states, ranking_quality, run_mpc_episode,
};
use tdm_workbench::sim::RolloutWorkers;

#[test]
fn the_plan_acts_on_the_best_candidate_and_ground_truth_imagines_reality() {
    let task = make_task("cartpole-swingup").unwrap();
    let mut env = MujocoEnv::new(task.clone());
    let obs = env.reset(3).unwrap();
    let history = Episode::new(&obs, 1);
    let state = env.state();
    let ctx = PlanContext {
        history: &history,
        state: Some(&state),
    };
    let mut model = GroundTruth::new(task.clone(), 2);
    let config = PlannerConfig {
        candidates: 16,
        horizon_steps: 30,
        seed: 5,
        ..PlannerConfig::default()
    };
    let plan = Planner::new(config)
        .plan(&mut model, task.as_ref(), &ctx)
        .unwrap();
    assert_eq!(plan.candidates(), 16);
    assert_eq!(plan.actions.len(), 16 * 30);
    assert_eq!(plan.objective, Objective::FromObservations);
    let best = plan
        .scores
        .iter()
        .cloned()
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(plan.scores[plan.best], best);
    assert_eq!(plan.action, plan.candidate_action(plan.best, 0));
    // Replaying every candidate in MuJoCo gives the imagined observations and the scores.
    let mut workers = RolloutWorkers::new(task.model().clone(), 1);
    let real = workers
        .run(&state, task.as_ref(), &plan.actions, 16, 30)
        .unwrap();
    assert_eq!(real.observations, plan.imagined.observations);
    for (k, r) in real.returns().iter().enumerate() {
        assert!(
            (r - plan.scores[k]).abs() < 1e-9,
            "candidate {k}: {r} vs {}",
            plan.scores[k]
        );
    }
    // Same seed, same plan; another seed, another one.
    let again = Planner::new(config)
        .plan(&mut model, task.as_ref(), &ctx)
        .unwrap();
    assert_eq!(again.actions, plan.actions);
    let other = Planner::new(PlannerConfig { seed: 6, ..config })
        .plan(&mut model, task.as_ref(), &ctx)
        .unwrap();
    assert_ne!(other.actions, plan.actions);
    // Without the state the ground truth cannot imagine.
    let blind = PlanContext {
        history: &history,
        state: None,
    };
    assert!(model.imagine(&blind, &plan.actions, 16, 30).is_err());
}

#[test]
fn planning_with_predicted_rewards_for_tasks_without_observation_rewards() {
    let task = make_task("walker-walk").unwrap();
    assert_eq!(
        Objective::Auto.resolve(task.as_ref()),
        Objective::PredictedRewards
    );
    let mut env = MujocoEnv::new(task.clone());
    let obs = env.reset(0).unwrap();
    let history = Episode::new(&obs, 6);
    let state = env.state();
    let mut model = GroundTruth::new(task.clone(), 2);
    let plan = Planner::new(PlannerConfig {
        candidates: 8,
        horizon_steps: 5,
        ..PlannerConfig::default()
    })
    .plan(
        &mut model,
        task.as_ref(),
        &PlanContext {
            history: &history,
            state: Some(&state),
        },
    )
    .unwrap();
    let rewards = plan.imagined.rewards.as_ref().unwrap();
    for k in 0..8 {
        let s: f64 = rewards[k * 5..(k + 1) * 5].iter().sum();
        assert!((s - plan.scores[k]).abs() < 1e-12);
    }
}

#[test]
fn ground_truth_mpc_beats_random_actions() {
    let task = make_task("cartpole-swingup").unwrap();
    let mut env = MujocoEnv::new(task.clone());
    let config = PlannerConfig {
        candidates: 32,
        horizon_steps: 60,
        ..PlannerConfig::default()
    };
    let mut agent = MpcAgent::new(
        config,
        Box::new(GroundTruth::new(task.clone(), 0)),
        task.clone(),
    );
    let mpc = run_mpc_episode(&mut env, &mut agent, 1, 300).unwrap();
    assert_eq!(mpc.episode.len(), 300);
    assert!(agent.last_plan().is_some());
    // Uniform random actions over the same 300 steps from the same start.
    env.reset(1).unwrap();
    let mut random = 0.0;
    let mut x = 1u64;
    for _ in 0..300 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let a = ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0;
        random += env.step(&[a]).unwrap().reward;
    }
    assert!(
        mpc.total_reward > 2.0 * random + 20.0,
        "MPC {} vs random {random}",
        mpc.total_reward
    );
}

#[test]
fn ground_truth_mpc_still_swings_up_when_its_plans_arrive_late() {
    let task = make_task("cartpole-swingup").unwrap();
    let mut env = MujocoEnv::new(task.clone());
    let config = PlannerConfig {
        candidates: 32,
        horizon_steps: 60,
        ..PlannerConfig::default()
    };
    // Every plan acts 40 ms (4 control steps) after its start state, shifted by its age.
    let mut agent = MpcAgent::new(
        config,
        Box::new(GroundTruth::new(task.clone(), 0)),
        task.clone(),
    )
    .with_latency(Latency::Fixed { ms: 40.0 });
    let mpc = run_mpc_episode(&mut env, &mut agent, 1, 400).unwrap();
    assert_eq!(mpc.episode.len(), 400);
    // One plan per 4 steps: the next starts where the last arrived.
    assert_eq!(agent.plan_secs().len(), 100);
    // The pole's cosine (observation 1) comes up to upright at some point.
    let best_cos = (0..=400)
        .map(|t| f64::from(mpc.episode.observation(t)[1]))
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(best_cos > 0.95, "the pole never came up: cos {best_cos}");
    // The first 4 steps had no plan yet: zero actions.
    assert!((0..4).all(|t| mpc.episode.action(t) == [0.0f32]));
}

#[test]
fn ground_truth_has_zero_prediction_error() {
    let task: Arc<_> = make_task("walker-stand").unwrap();
    let mut model = GroundTruth::new(task.clone(), 1);
    let err =
        prediction_error_by_horizon(&task, &mut model, 5, 10, NoiseConfig::default(), 0).unwrap();
    assert_eq!(err.len(), 10);
    assert!(
        err.iter().all(|e| e.median == 0.0 && e.q75 == 0.0),
        "{err:?}"
    );
}

#[test]
fn every_candidate_can_be_replayed_in_mujoco() {
    let task = make_task("walker-walk").unwrap();
    let mut env = MujocoEnv::new(task.clone());
    let config = PlannerConfig {
        candidates: 6,
        horizon_steps: 4,
        ..PlannerConfig::default()
    };
    let mut agent = MpcAgent::new(
        config,
        Box::new(GroundTruth::new(task.clone(), 1)),
        task.clone(),
    );
    let mut workers = RolloutWorkers::new(task.model().clone(), 2);
    assert!(agent.replay_last_plan(&mut workers).unwrap().is_none());
    let obs = env.reset(2).unwrap();
    let history = Episode::new(&obs, 6);
    agent.plan(&env, &history).unwrap();
    let real = agent.replay_last_plan(&mut workers).unwrap().unwrap();
    let plan = agent.last_plan().unwrap();
    // Ground truth imagines reality exactly.
    assert_eq!(real.observations, plan.imagined.observations);
    assert_eq!(Some(&real.rewards), plan.imagined.rewards.as_ref());
}

/// A model that imagines nothing ever changes.
struct FrozenWorld;

impl DynamicsModel for FrozenWorld {
    fn name(&self) -> String {
        "frozen world".into()
    }

    fn predicts_rewards(&self) -> bool {
        false
    }

    fn imagine(
        &mut self,
        ctx: &PlanContext<'_>,
        _actions: &[f64],
        candidates: usize,
        horizon_steps: usize,
    ) -> Result<Imagined, ModelError> {
        let last: Vec<f64> = ctx
            .history
            .observation(ctx.history.len())
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        Ok(Imagined {
            candidates,
            horizon_steps,
            observation_size: last.len(),
            observations: last
                .iter()
                .copied()
                .cycle()
                .take(last.len() * candidates * horizon_steps)
                .collect(),
            rewards: None,
            failures: vec![None; candidates],
        })
    }
}

#[test]
fn ground_truth_ranks_candidates_perfectly_and_a_frozen_world_does_not() {
    let task = make_task("cartpole-swingup").unwrap();
    let config = PlannerConfig {
        candidates: 12,
        horizon_steps: 15,
        seed: 3,
        keep_best: false,
        ..PlannerConfig::default()
    };
    let probes = probe_states(
        &task,
        ProbeAgent {
            config,
            model: None,
        },
        1,
        60,
        10,
        0,
    )
    .unwrap();
    assert_eq!(probes.len(), 6);
    assert_eq!(probes[2].history.len(), 20);
    let mut truth = GroundTruth::new(task.clone(), 1);
    let gt = ranking_quality(&task, &mut truth, &probes, config).unwrap();
    assert_eq!(gt.states, 6);
    assert!((gt.spearman.mean - 1.0).abs() < 1e-9, "{gt:?}");
    assert!(
        gt.regret.mean.abs() < 1e-9 && gt.optimism.mean.abs() < 1e-9,
        "{gt:?}"
    );
    // Per state: in probe order, and ground truth's pick is the best candidate every time.
    let steps: Vec<usize> = gt.per_state.iter().map(|s| s.step).collect();
    assert_eq!(steps, vec![0, 10, 20, 30, 40, 50]);
    for s in &gt.per_state {
        let r = &s.ranking;
        assert_eq!(r.picked_return, r.best_return, "{s:?}");
        assert!(r.best_return >= r.mean_return, "{s:?}");
    }
    let blind = ranking_quality(&task, &mut FrozenWorld, &probes, config).unwrap();
    // Only the control cost in R(o', a) still tells its candidates apart.
    assert!(blind.spearman.mean < 0.6, "{blind:?}");
    assert!(blind.regret.mean > 0.2, "{blind:?}");
}

#[test]
fn branches_interrupt_the_inner_policy_for_whole_candidate_sequences() {
    let task = make_task("cartpole-swingup").unwrap();
    let mut env = MujocoEnv::new(task.clone());
    let mut policy = BranchingPolicy::new(Box::new(ZeroPolicy), NoiseConfig::default(), 10, 0.1);
    let (episode, failure) = run_episode(&mut env, &mut policy, 4, 300).unwrap();
    assert!(failure.is_none());
    let actions: Vec<f32> = (0..episode.len()).map(|t| episode.action(t)[0]).collect();
    // Runs of noise (a Brownian action is never exactly 0) between the inner policy's zeros.
    let mut runs = Vec::new();
    let mut length = 0;
    for &a in &actions {
        if a != 0.0 {
            length += 1;
        } else if length > 0 {
            runs.push(length);
            length = 0;
        }
    }
    let zeros = actions.iter().filter(|&&a| a == 0.0).count();
    assert!(
        zeros > 50 && !runs.is_empty(),
        "{zeros} zeros, runs {runs:?}"
    );
    // Each branch plays all its steps (back-to-back branches make a multiple).
    assert!(runs.iter().all(|r| r % 10 == 0), "{runs:?}");
}

#[test]
fn several_rollouts_per_candidate_average_to_the_one_rollout_of_a_deterministic_model() {
    let task = make_task("cartpole-swingup").unwrap();
    let mut env = MujocoEnv::new(task.clone());
    let obs = env.reset(1).unwrap();
    let history = Episode::new(&obs, 1);
    let state = env.state();
    let ctx = PlanContext {
        history: &history,
        state: Some(&state),
    };
    let mut model = GroundTruth::new(task.clone(), 1);
    let config = PlannerConfig {
        candidates: 6,
        horizon_steps: 8,
        seed: 2,
        ..PlannerConfig::default()
    };
    let one = Planner::new(config)
        .plan(&mut model, task.as_ref(), &ctx)
        .unwrap();
    let three = Planner::new(PlannerConfig {
        rollouts: 3,
        ..config
    })
    .plan(&mut model, task.as_ref(), &ctx)
    .unwrap();
    assert_eq!(three.candidates(), 6);
    assert_eq!(three.imagined.observations, one.imagined.observations);
    assert_eq!(three.best, one.best);
    for (a, b) in one.scores.iter().zip(&three.scores) {
        assert!(
            (a - b).abs() < 1e-9,
            "{:?} vs {:?}",
            one.scores,
            three.scores
        );
    }
}

#[test]
fn forecasts_extend_the_history_by_the_committed_actions() {
    let task = make_task("cartpole-swingup").unwrap();
    let mut env = MujocoEnv::new(task.clone());
    let obs = env.reset(4).unwrap();
    let history = Episode::new(&obs, 1);
    let state = env.state();
    let actions = [0.5, -0.25, 1.0];
    let ctx = PlanContext {
        history: &history,
        state: Some(&state),
    };
    // Ground truth: exactly what MuJoCo does with those actions, state included.
    let f = GroundTruth::new(task.clone(), 1)
        .forecast(&ctx, &actions, 3)
        .unwrap();
    assert_eq!(f.steps, 3);
    for (t, a) in actions.iter().enumerate() {
        let step = env.step(&[*a]).unwrap();
        assert_eq!(
            f.history.observation(t + 1),
            step.observation
                .iter()
                .map(|&x| x as f32)
                .collect::<Vec<_>>()
                .as_slice()
        );
    }
    assert_eq!(f.state.as_ref(), Some(&env.state()));
    // A learned model's forecast is its own imagination (here: nothing moves), with no state.
    let f = FrozenWorld.forecast(&ctx, &actions, 3).unwrap();
    assert_eq!((f.steps, f.history.len(), f.state.is_none()), (3, 3, true));
    assert_eq!(f.history.observation(3), history.observation(0));
    assert_eq!(f.history.action(1), [-0.25f32]);
}
