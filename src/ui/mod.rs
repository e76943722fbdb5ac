//! The eframe app: the only code that uses egui. State structs live apart from the `*_ui`
//! functions that draw them; `viewport` is the one bridge from egui's paint callback to `render`.
pub mod app;
pub mod designer;
pub mod dialogs;
pub mod planner_panel;
pub mod plots;
pub mod viewport;

pub use app::{AppOptions, Command, Toast, WorkbenchApp, run_native};
pub use crate::session::scene::{PolicyKind, SceneRunner, SceneSource};
