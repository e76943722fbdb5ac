//! TDM Workbench: a workbench for transformer dynamics models (TDMs) for control, after
//! "A Generalist Dynamics Model for Control" (Schubert et al., 2023), on real MuJoCo.
//!
//! Layers, bottom up (see ARCHITECTURE.md):
//! - [`sim`]: MuJoCo models, stepping, state snapshots, parallel batched rollouts, geometry.
//! - [`envs`]: the `Env` trait, dm_control-faithful suite tasks, procedural walkers, rewards.
//! - [`tokenize`]: the Gato-style tokenizer (mu-law, 1024 bins, one token per scalar).
//! - [`data`]: trajectory datasets (safetensors + meta.json) and the collection loop.
//! - [`files`]: atomic writes, for every layer that saves.
//! - [`models`]: the `DynamicsModel` trait; ground truth (MuJoCo rollouts).
//! - [`plan`]: action noise, the random-shooting planner, MPC, evaluation.
//! - [`render`]: the wgpu renderer (camera, draw lists, picking, pipelines); no egui.
//! - [`session`]: the window's state and the commands user actions become, without egui.
//! - [`ui`]: the eframe window: scenes, simulation controls, designer, presets.
//! - [`cli`]: the command line, a thin layer over the others.
//!
//! The core layers never depend on a GUI crate (egui, eframe, wgpu, rfd, egui_file); a test checks it.

pub mod chart;
pub mod cli;
pub mod data;
pub mod envs;
pub mod experiment;
pub mod files;
pub mod models;
pub mod plan;
pub mod render;
pub mod session;
pub mod sim;
pub mod tokenize;
pub mod ui;
