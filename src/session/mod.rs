//! The workbench's state without a window: the running scene, the planner thread, presets,
//! plan trails as draw lists, and the commands a user's actions become. Nothing here imports
//! egui, eframe or rfd, so it is driven and tested without a window; `ui` draws it.
pub mod planner_worker;
pub mod presets;
pub mod scene;
pub mod trails;
