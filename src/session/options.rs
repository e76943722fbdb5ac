//! What the window starts with: a scene, a preset, and the command line's choices over it.
use super::scene::{PolicyKind, SceneSource};
use crate::plan::{PlannerConfig, PlannerMethod};
use crate::render::RenderQuality;
use std::path::PathBuf;

/// How the workbench starts.
#[derive(Clone, Debug)]
pub struct AppOptions {
    pub scene: SceneSource,
    pub start_paused: bool,
    /// Preset applied at start: its scene replaces `scene`, and its settings replace the
    /// defaults; the options below, where set, replace the preset's.
    pub preset: Option<PathBuf>,
    /// The policy at start (default: the preset's, else zero action).
    pub policy: Option<PolicyKind>,
    /// What the MPC agent plans with (default: the preset's, else ground truth).
    pub model: Option<StartModel>,
    /// Planner settings at start (default: the preset's, else the planner's defaults).
    pub planner: Option<PlannerConfig>,
    /// The planner method, over the planner settings above.
    pub method: Option<PlannerMethod>,
    /// Samples K and horizon N, over the planner settings above.
    pub candidates: Option<usize>,
    pub horizon_steps: Option<usize>,
    /// The 3D view's quality (default: low on a software rasteriser, else high).
    pub render_quality: Option<RenderQuality>,
}

/// The model the window starts planning with.
#[derive(Clone, Debug, PartialEq)]
pub enum StartModel {
    GroundTruth,
    /// The scene's bundled checkpoint (`assets/models`), ground truth where it has none.
    Bundled,
    Checkpoint(PathBuf),
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            scene: SceneSource::Task("cartpole-swingup".into()),
            start_paused: false,
            preset: None,
            policy: None,
            model: None,
            planner: None,
            method: None,
            candidates: None,
            horizon_steps: None,
            render_quality: None,
        }
    }
}
