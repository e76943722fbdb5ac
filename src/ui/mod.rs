//! The eframe window: the only code that uses egui, eframe, rfd and egui_file. It draws the state in
//! `session` and sends it commands; `viewport` is the one bridge from egui's paint callback to
//! `render`.
pub mod app;
pub mod designer;
pub mod dialogs;
mod help;
mod menu;
mod panels;
pub mod planner_panel;
pub mod plots;
mod status;
pub mod viewport;

pub use crate::session::{AppOptions, Command, PolicyKind, SceneRunner, SceneSource, Toast};
pub use app::{AppError, WorkbenchApp, run_native};
