//! `tdm-workbench` with no command, or `tdm-workbench gui`: the workbench window.
use crate::ui::{AppOptions, SceneSource, run_native};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug, Default)]
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
    run_native(AppOptions {
        scene: SceneSource::Task(args.scene.clone()),
        start_paused: args.paused,
        preset: args.preset.clone(),
    })
    .map_err(|e| anyhow::anyhow!("the window failed: {e}"))
}
