//! What a plan looks like, for drawing and diagnosis: every candidate's imagined path of one
//! chosen point (via `Task::pose_from_obs` and forward kinematics), the same for what MuJoCo
//! says the candidate's actions really do, per-step prediction error (RMS over observation
//! entries leaving out velocities, as the paper's Fig. 13), predicted and real rewards, and full
//! poses of the best few candidates for drawing translucent "ghost" bodies.
use super::eval::rms_over;
use super::planner::Plan;
use super::stats::{Quartiles, quartiles};
use crate::envs::Task;
use crate::sim::{BatchRollout, Sim};

/// Which point a trail follows: the far end of a body's first geom (e.g. the cartpole's pole
/// tip), or the body's origin if it has no geom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrailPoint {
    pub body: usize,
}

impl TrailPoint {
    /// The body whose path tells the story on `task`: a body named `head` where there is one
    /// (the humanoid: whether it stands up), the last body for models with few bodies (the
    /// cartpole's pole tip), else the root body (a walker's torso).
    pub fn default_for(task: &dyn Task) -> Self {
        let m = task.model().mj();
        let nbody = m.nbody() as usize;
        if let Some(head) = (1..nbody)
            .find(|&b| m.id_to_name(mujoco_rs::prelude::MjtObjBase::mjOBJ_BODY, b) == Some("head"))
        {
            return Self { body: head };
        }
        let body = if nbody <= 3 {
            nbody - 1
        } else {
            1.min(nbody - 1)
        };
        Self { body }
    }
}

/// Everything the UI draws and plots about one plan.
#[derive(Clone, Debug, Default)]
pub struct PlanInspection {
    /// `[K][N+1]` points: the start, then after each imagined step.
    pub imagined_trails: Vec<Vec<[f32; 3]>>,
    /// `[K][N+1]`: the same for the actions replayed in MuJoCo (when replayed).
    pub real_trails: Option<Vec<Vec<[f32; 3]>>>,
    /// `[K][N]` RMS error of imagined against real observations, velocities left out.
    pub prediction_error: Option<Vec<Vec<f64>>>,
    /// `[K][N]` rewards the plan scored with (predicted, or R(o') of imagined observations).
    pub predicted_rewards: Vec<Vec<f64>>,
    /// `[K][N]` rewards of the replay.
    pub real_rewards: Option<Vec<Vec<f64>>>,
    /// The best few candidates (by score, best first): index and `[N][nq]` poses.
    pub ghosts: Vec<(usize, Vec<Vec<f64>>)>,
    /// Candidates ordered best first.
    pub ranking: Vec<usize>,
}

fn point(sim: &Sim, trail: TrailPoint) -> [f32; 3] {
    let m = sim.model().mj();
    let d = sim.data();
    let body = trail.body.min(m.nbody() as usize - 1);
    let first_geom = m.body_geomadr()[body];
    if first_geom < 0 || m.body_geomnum()[body] == 0 {
        return d.xpos()[body].map(|v| v as f32);
    }
    let g = first_geom as usize;
    let (p, r) = (d.geom_xpos()[g], d.geom_xmat()[g]);
    // Capsules and cylinders: the end of the geom's axis (half-length size[1]) farther from the
    // body's origin, i.e. the free end of a limb.
    let half = match m.geom_type()[g] as i32 {
        3 | 5 => m.geom_size()[g][1],
        _ => 0.0,
    };
    let origin = d.xpos()[body];
    let end = |sign: f64| {
        [
            p[0] + sign * r[2] * half,
            p[1] + sign * r[5] * half,
            p[2] + sign * r[8] * half,
        ]
    };
    let dist = |e: [f64; 3]| (0..3).map(|i| (e[i] - origin[i]).powi(2)).sum::<f64>();
    let (a, b) = (end(1.0), end(-1.0));
    let tip = if dist(a) >= dist(b) { a } else { b };
    tip.map(|v| v as f32)
}

/// Follows `observations` (`[N][n]`) from `start_qpos` through `pose_from_obs`, returning the
/// trail point at the start and after each step, and the poses.
fn follow(
    task: &dyn Task,
    sim: &mut Sim,
    start_qpos: &[f64],
    observations: impl Iterator<Item = Vec<f64>>,
    trail: TrailPoint,
) -> (Vec<[f32; 3]>, Vec<Vec<f64>>) {
    let set = |sim: &mut Sim, q: &[f64]| {
        let qpos = sim.data_mut().qpos_mut();
        let n = qpos.len().min(q.len());
        qpos[..n].copy_from_slice(&q[..n]);
        sim.forward();
    };
    set(sim, start_qpos);
    let mut points = vec![point(sim, trail)];
    let mut poses = Vec::new();
    let mut q = start_qpos.to_vec();
    for obs in observations {
        q = task.pose_from_obs(&obs, &q);
        set(sim, &q);
        points.push(point(sim, trail));
        poses.push(q.clone());
    }
    (points, poses)
}

/// Inspects `plan`, made from a state whose `qpos` is `start_qpos`; `replay` is the candidates'
/// actions replayed in MuJoCo from that state, if available.
pub fn inspect_plan(
    task: &dyn Task,
    start_qpos: &[f64],
    plan: &Plan,
    replay: Option<&BatchRollout>,
    trail: TrailPoint,
    ghosts: usize,
) -> PlanInspection {
    let (k_count, n) = (plan.candidates(), plan.horizon_steps());
    let dims = task.spec().non_velocity_indices();
    let mut sim = Sim::new(task.model().clone());
    let mut ranking: Vec<usize> = (0..k_count).collect();
    ranking.sort_by(|&a, &b| plan.scores[b].total_cmp(&plan.scores[a]));
    let mut out = PlanInspection {
        ranking: ranking.clone(),
        ..PlanInspection::default()
    };
    let top: Vec<usize> = ranking.iter().copied().take(ghosts).collect();
    for k in 0..k_count {
        let obs = (0..n).map(|t| plan.imagined.observation(k, t).to_vec());
        let (points, poses) = follow(task, &mut sim, start_qpos, obs, trail);
        out.imagined_trails.push(points);
        if top.contains(&k) {
            out.ghosts.push((k, poses));
        }
        let rewards: Vec<f64> = (0..n)
            .map(|t| match &plan.imagined.rewards {
                Some(r) => r[k * n + t],
                None => task
                    .reward_from_observation(
                        plan.imagined.observation(k, t),
                        plan.candidate_action(k, t),
                    )
                    .unwrap_or(f64::NAN),
            })
            .collect();
        out.predicted_rewards.push(rewards);
    }
    out.ghosts
        .sort_by_key(|(k, _)| top.iter().position(|t| t == k).unwrap_or(usize::MAX));
    if let Some(real) = replay
        && real.candidates == k_count
        && real.horizon_steps == n
    {
        let mut trails = Vec::with_capacity(k_count);
        let mut errors = Vec::with_capacity(k_count);
        let mut rewards = Vec::with_capacity(k_count);
        for k in 0..k_count {
            let obs = (0..n).map(|t| real.observation(k, t).to_vec());
            trails.push(follow(task, &mut sim, start_qpos, obs, trail).0);
            errors.push(
                (0..n)
                    .map(|t| {
                        rms_over(
                            plan.imagined.observation(k, t),
                            real.observation(k, t),
                            &dims,
                        )
                    })
                    .collect(),
            );
            rewards.push(real.rewards[k * n..(k + 1) * n].to_vec());
        }
        out.real_trails = Some(trails);
        out.prediction_error = Some(errors);
        out.real_rewards = Some(rewards);
    }
    out
}

/// Per horizon step: the quartiles over candidates (their finite values).
pub fn quartiles_by_step(per_candidate: &[Vec<f64>]) -> Vec<Quartiles> {
    let n = per_candidate.first().map_or(0, Vec::len);
    (0..n)
        .map(|t| quartiles(per_candidate.iter().filter_map(|c| c.get(t).copied())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_ignore_nans() {
        let q = quartiles_by_step(&[vec![1.0, f64::NAN], vec![2.0, 4.0], vec![3.0, 6.0]]);
        let at = |q25, median, q75| Quartiles { q25, median, q75 };
        assert_eq!(q[0], at(2.0, 2.0, 3.0));
        assert_eq!(q[1], at(4.0, 6.0, 6.0));
    }
}
