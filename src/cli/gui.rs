//! `tdm-workbench` with no command, or `tdm-workbench gui`: the workbench window.
use crate::models::bundled::bundled_model_for;
use crate::models::model_path;
use crate::plan::PlannerConfig;
use crate::ui::{AppOptions, PolicyKind, SceneSource, run_native};
use clap::Parser;
use std::path::PathBuf;

#[derive(Parser, Debug)]
pub struct GuiArgs {
    /// The scene to open (a task name: `cartpole-swingup`, `walker:chain:8:3`, `mjcf:FILE.xml`).
    #[arg(long, default_value = "cartpole-swingup")]
    scene: String,
    /// A preset file to apply at start (its scene wins over --scene).
    #[arg(long)]
    preset: Option<PathBuf>,
    /// Start paused.
    #[arg(long)]
    paused: bool,
    /// What the MPC agent plans with: `bundled` (the TDM in assets/models for the scene, if
    /// there is one), `gt` (MuJoCo itself), or a checkpoint file (optionally `tdm:FILE` or
    /// `mlp:FILE`, as for the other commands).
    #[arg(long, default_value = "bundled")]
    model: String,
    /// The policy at start: mpc, brownian or zero.
    #[arg(long, default_value = "mpc")]
    policy: String,
    /// Samples K and horizon N at start (default: 64 x 20 with a TDM, 64 x 50 with ground truth).
    #[arg(long)]
    samples: Option<usize>,
    #[arg(long)]
    horizon: Option<usize>,
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
    let policy = match args.policy.as_str() {
        "mpc" => PolicyKind::Mpc,
        "brownian" => PolicyKind::Brownian,
        "zero" => PolicyKind::Zero,
        other => anyhow::bail!("--policy {other}: expected mpc, brownian or zero"),
    };
    let checkpoint = match args.model.as_str() {
        "bundled" => bundled_model_for(&args.scene),
        arg => match model_path(arg) {
            None => None,
            Some(path) => {
                anyhow::ensure!(path.is_file(), "--model {arg}: no such file");
                Some(path.to_path_buf())
            }
        },
    };
    let (k, n) = if checkpoint.is_some() {
        (64, 20)
    } else {
        (64, 50)
    };
    let planner = PlannerConfig {
        candidates: args.samples.unwrap_or(k),
        horizon_steps: args.horizon.unwrap_or(n),
        ..PlannerConfig::default()
    };
    run_native(AppOptions {
        scene: SceneSource::Task(args.scene.clone()),
        start_paused: args.paused,
        preset: args.preset.clone(),
        policy: Some(policy),
        checkpoint,
        planner: Some(planner),
    })
    .map_err(|e| anyhow::anyhow!("{e}"))
}
