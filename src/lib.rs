//! TDM Workbench: a workbench for transformer dynamics models (TDMs) for control, after
//! "A Generalist Dynamics Model for Control" (Schubert et al., 2023), on real MuJoCo.
//!
//! Layers, bottom up (see ARCHITECTURE.md):
//! - [`sim`]: MuJoCo models, stepping, state snapshots, parallel batched rollouts, geometry.
//! - [`envs`]: the `Env` trait, dm_control-faithful suite tasks, rewards.
//! - [`files`]: atomic writes, for every layer that saves.
//! - [`cli`]: the command line, a thin layer over the others.
//!
//! The core layers never depend on a GUI crate (egui, eframe, wgpu, rfd); a test checks it.

pub mod cli;
pub mod envs;
pub mod files;
pub mod sim;
