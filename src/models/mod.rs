//! Dynamics models: the [`DynamicsModel`] trait the planner and the UI use, and its
//! implementations. Today: [`GroundTruth`] (MuJoCo itself); the TDM and the MLP baselines
//! implement the same trait.

mod dynamics;
mod ground_truth;

pub use dynamics::{DynamicsModel, Imagined, ModelError, PlanContext};
pub use ground_truth::GroundTruth;
