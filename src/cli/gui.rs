//! `tdm-workbench` with no command, or `tdm-workbench gui`: the workbench window.
use crate::models::bundled::bundled_model_for;
use crate::models::model_path;
use crate::plan::PlannerMethod;
use crate::render::RenderQuality;
use crate::session::StartModel;
use crate::ui::{AppOptions, PolicyKind, SceneSource, run_native};
use clap::Parser;
use std::path::PathBuf;

#[derive(Parser, Debug)]
pub struct GuiArgs {
    /// The scene to open (a task name: `cartpole-swingup`, `walker:chain:8:3`, `mjcf:FILE.xml`).
    #[arg(long, default_value = "cartpole-swingup")]
    scene: String,
    /// A preset file to apply at start: its scene wins over --scene, its settings over the
    /// defaults below; --policy, --model, --samples and --horizon, when given, win over it.
    #[arg(long)]
    preset: Option<PathBuf>,
    /// Start paused.
    #[arg(long)]
    paused: bool,
    /// What the MPC agent plans with: `bundled` (the TDM in assets/models for the scene, if
    /// there is one), `gt` (MuJoCo itself), or a checkpoint file (optionally `tdm:FILE` or
    /// `mlp:FILE`, as for the other commands). Default: `bundled`, or the preset's.
    #[arg(long)]
    model: Option<String>,
    /// The policy at start: mpc, brownian or zero. Default: mpc, or the preset's.
    #[arg(long)]
    policy: Option<String>,
    /// Samples K and horizon N at start (default: 64 x 20 with a TDM, 64 x 50 with ground truth).
    #[arg(long)]
    samples: Option<usize>,
    #[arg(long)]
    horizon: Option<usize>,
    /// The planner at start (random-shooting, cem, mppi, predictive-sampling; its knobs at
    /// their defaults, tuned live in the Planner tab). Default: random shooting, or the
    /// preset's.
    #[arg(long)]
    planner: Option<PlannerMethod>,
    /// The 3D view's quality: auto (low on a software rasteriser such as llvmpipe, else high),
    /// high (4x MSAA, 2048-pixel shadows) or low (no MSAA, 1024-pixel shadows, one tap).
    #[arg(long, default_value = "auto")]
    render_quality: String,
    /// Close the window after SECS seconds (after one of start-up) and print its frame rate.
    #[arg(long, value_name = "SECS")]
    measure: Option<f64>,
}

/// Whether a window could open here (an X11 or Wayland display is set).
pub fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

pub fn run(args: &GuiArgs) -> anyhow::Result<()> {
    if !has_display() {
        anyhow::bail!(
            "no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset). Every job \
             also runs from the command line: see `tdm-workbench --help`; or start the window \
             under a virtual display: `xvfb-run -a tdm-workbench`"
        );
    }
    if let Some(secs) = args.measure {
        anyhow::ensure!(
            secs.is_finite() && secs > 0.0 && secs <= 3600.0,
            "--measure {secs}: expected seconds in (0, 3600]"
        );
    }
    // Without a preset the command line's defaults apply; with one, only what was given.
    let defaults = args.preset.is_none();
    let policy = match args.policy.as_deref().or(defaults.then_some("mpc")) {
        None => None,
        Some("mpc") => Some(PolicyKind::Mpc),
        Some("brownian") => Some(PolicyKind::Brownian),
        Some("zero") => Some(PolicyKind::Zero),
        Some(other) => anyhow::bail!("--policy {other}: expected mpc, brownian or zero"),
    };
    let model = match args.model.as_deref().or(defaults.then_some("bundled")) {
        None => None,
        Some("bundled") => Some(StartModel::Bundled),
        Some(arg) => match model_path(arg) {
            None => Some(StartModel::GroundTruth),
            Some(path) => {
                anyhow::ensure!(path.is_file(), "--model {arg}: no such file");
                Some(StartModel::Checkpoint(path.to_path_buf()))
            }
        },
    };
    // The default K x N depends on the model: 64 x 20 with a learned one, 64 x 50 with MuJoCo.
    let learned = match &model {
        Some(StartModel::Bundled) => bundled_model_for(&args.scene).is_some(),
        Some(StartModel::Checkpoint(_)) => true,
        _ => false,
    };
    let (k, n) = if learned { (64, 20) } else { (64, 50) };
    run_native(
        AppOptions {
            scene: SceneSource::Task(args.scene.clone()),
            start_paused: args.paused,
            preset: args.preset.clone(),
            policy,
            model,
            planner: None,
            method: args.planner,
            candidates: args.samples.or(defaults.then_some(k)),
            horizon_steps: args.horizon.or(defaults.then_some(n)),
            render_quality: match args.render_quality.as_str() {
                "auto" => None,
                q => Some(
                    q.parse::<RenderQuality>()
                        .map_err(|e| anyhow::anyhow!("--render-quality {e} (or auto)"))?,
                ),
            },
        },
        args.measure,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}
