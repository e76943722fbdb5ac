//! A plan in the viewport: every candidate's imagined trail coloured by score, the chosen one
//! highlighted, the ground-truth replay of the same actions dashed, and translucent "ghost"
//! bodies of the best few candidates at a chosen step of the horizon.
use super::planner_worker::PlanOutcome;
use crate::render::{DrawList, SceneStyle};
use crate::sim::{SceneGeometry, Sim};

/// Which trails to draw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrailMode {
    Imagined,
    GroundTruth,
    #[default]
    Both,
}

/// How the plan is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanView {
    pub mode: TrailMode,
    /// Ghost bodies of this many best candidates (at most what the planner kept).
    pub ghosts: usize,
    /// The horizon step the ghosts show (0 = first predicted step).
    pub ghost_step: usize,
    /// The candidate the user clicked, drawn on top.
    pub highlighted: Option<usize>,
    /// Draw only the trails (imagined and replayed) of this many best-scored candidates
    /// (0: all of them), so a tangle of 64 torso paths can be thinned to the few that matter.
    pub best_only: usize,
    /// Trail width in pixels.
    pub trail_width_px: f32,
}

impl Default for PlanView {
    fn default() -> Self {
        Self {
            mode: TrailMode::Both,
            ghosts: 3,
            ghost_step: 10,
            highlighted: None,
            best_only: 0,
            trail_width_px: 2.0,
        }
    }
}

/// Score rank in [0, 1] (1 = best) to a colour: dark blue through teal to yellow.
pub fn score_colour(rank01: f32, alpha: f32) -> [f32; 4] {
    let stops = [[0.27, 0.00, 0.33], [0.13, 0.57, 0.55], [0.99, 0.91, 0.14]];
    let x = rank01.clamp(0.0, 1.0) * 2.0;
    let (a, b, t) = if x < 1.0 {
        (stops[0], stops[1], x)
    } else {
        (stops[1], stops[2], x - 1.0)
    };
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
        alpha,
    ]
}

const CHOSEN: [f32; 4] = [1.0, 0.25, 0.2, 1.0];
const HIGHLIGHT: [f32; 4] = [1.0, 1.0, 1.0, 1.0];
const REAL: [f32; 4] = [0.85, 0.9, 1.0, 0.35];

/// Adds the plan's trails to `list`: groups named `imagined K`, `real K`, `chosen`.
pub fn add_plan_trails(list: &mut DrawList, outcome: &PlanOutcome, view: &PlanView) {
    let ins = &outcome.inspection;
    let k_count = ins.imagined_trails.len();
    let mut rank = vec![0usize; k_count];
    for (r, &k) in ins.ranking.iter().enumerate() {
        if k < k_count {
            rank[k] = r;
        }
    }
    let rank01 = |k: usize| 1.0 - rank[k] as f32 / (k_count.max(2) - 1) as f32;
    let shown = |k: usize| view.best_only == 0 || rank.get(k).is_some_and(|&r| r < view.best_only);
    if view.mode != TrailMode::Imagined
        && let Some(real) = &ins.real_trails
    {
        for (k, t) in real.iter().enumerate().filter(|(k, _)| shown(*k)) {
            list.add_named_dashed_polyline(format!("real {k}"), t, REAL);
        }
    }
    if view.mode != TrailMode::GroundTruth {
        for (k, t) in ins
            .imagined_trails
            .iter()
            .enumerate()
            .filter(|(k, _)| shown(*k))
        {
            let alpha = 0.25 + 0.5 * rank01(k);
            list.add_named_polyline(format!("imagined {k}"), t, score_colour(rank01(k), alpha));
        }
    }
    let best = outcome.plan.best;
    if let Some(t) = ins.imagined_trails.get(best)
        && view.mode != TrailMode::GroundTruth
    {
        list.add_named_polyline("chosen".into(), t, CHOSEN);
    }
    if let Some(k) = view.highlighted {
        if let Some(t) = ins.imagined_trails.get(k) {
            list.add_named_polyline("highlighted".into(), t, HIGHLIGHT);
        }
        if let Some(t) = ins.real_trails.as_ref().and_then(|r| r.get(k)) {
            list.add_named_dashed_polyline("highlighted real".into(), t, HIGHLIGHT);
        }
    }
}

/// Adds translucent bodies of the best candidates at `view.ghost_step`, posed with `sim`
/// (a scratch simulation of the scene's model) and drawn with `geometry`'s shapes.
pub fn add_ghosts(
    list: &mut DrawList,
    outcome: &PlanOutcome,
    view: &PlanView,
    sim: &mut Sim,
    geometry: &mut SceneGeometry,
) {
    for (rank, (_, poses)) in outcome
        .inspection
        .ghosts
        .iter()
        .take(view.ghosts)
        .enumerate()
    {
        let Some(q) = poses.get(view.ghost_step.min(poses.len().saturating_sub(1))) else {
            continue;
        };
        {
            let qpos = sim.data_mut().qpos_mut();
            let n = qpos.len().min(q.len());
            qpos[..n].copy_from_slice(&q[..n]);
        }
        sim.forward();
        geometry.update_poses(sim.data());
        let start = list.instances.len();
        list.add_scene(geometry, &SceneStyle::default());
        let colour = if rank == 0 {
            [1.0, 0.4, 0.3, 0.35]
        } else {
            score_colour(1.0 - rank as f32 / view.ghosts.max(2) as f32, 0.22)
        };
        // Keep only the bodies (not the floor), tinted and translucent.
        let mut kept = start;
        for i in start..list.instances.len() {
            if list.instances[i].body.is_some() {
                let mut inst = list.instances[i];
                inst.gpu.color = colour;
                inst.body = None;
                list.instances[kept] = inst;
                kept += 1;
            }
        }
        list.instances.truncate(kept);
    }
}

/// One candidate in words: "candidate 12: score 3.41, rank 2 of 64, prediction error at N
/// 0.031" (the error where the plan was replayed).
pub fn candidate_summary(outcome: &PlanOutcome, k: usize) -> String {
    let ins = &outcome.inspection;
    let err = ins
        .prediction_error
        .as_ref()
        .and_then(|e| e.get(k))
        .and_then(|e| e.last().copied());
    format!(
        "candidate {k}: score {:.2}, rank {} of {}{}",
        outcome.plan.scores.get(k).copied().unwrap_or(f64::NAN),
        ins.ranking
            .iter()
            .position(|&r| r == k)
            .map_or(0, |r| r + 1),
        ins.imagined_trails.len(),
        err.map(|e| format!(", prediction error at N {e:.3}"))
            .unwrap_or_default()
    )
}

/// The candidate whose imagined trail passes nearest to `pos` on screen (within `max_px`).
pub fn nearest_trail(
    outcome: &PlanOutcome,
    project: &dyn Fn([f32; 3]) -> Option<[f32; 2]>,
    pos: [f32; 2],
    max_px: f32,
) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (k, trail) in outcome.inspection.imagined_trails.iter().enumerate() {
        for p in trail {
            if let Some(s) = project(*p) {
                let d = ((s[0] - pos[0]).powi(2) + (s[1] - pos[1]).powi(2)).sqrt();
                if d <= max_px && best.is_none_or(|(_, b)| d < b) {
                    best = Some((k, d));
                }
            }
        }
    }
    best.map(|(k, _)| k)
}
