//! Dynamics models: the [`DynamicsModel`] trait the planner and the UI use, and its
//! implementations: [`GroundTruth`] (MuJoCo itself) and the [`tdm`] transformer; the MLP
//! baselines will implement the same trait.

mod dynamics;
mod ground_truth;
pub mod tdm;

pub use dynamics::{DynamicsModel, Imagined, ModelError, PlanContext};
pub use ground_truth::GroundTruth;
