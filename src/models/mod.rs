//! Dynamics models: the [`DynamicsModel`] trait the planner and the UI use, and its
//! implementations: [`GroundTruth`] (MuJoCo itself), the [`tdm`] transformer and the [`mlp`]
//! baselines. Every model describes itself ([`ModelDescription`]) and takes decoding settings
//! through the trait, so callers never need its type. Learned models share one checkpoint
//! format ([`checkpoint_file`]) and optimizer ([`optim`]); [`LearnedModel::load`] opens either
//! from its file, [`open_model`] a command line's `gt` or `FILE`.

pub mod bundled;
pub mod checkpoint_file;
mod decoding;
mod describe;
mod dynamics;
mod ground_truth;
mod learned;
pub mod mlp;
pub mod optim;
pub mod step_memory;
pub mod tdm;
pub mod train_state;
pub mod training;

pub use checkpoint_file::{CheckpointError, checkpoint_family};
pub use decoding::{Decoding, DecodingSettings, UnknownDecoding};
pub use describe::{ModelDescription, ModelFamily, ModelSizes, TrainedOn, TrainingFacts};
pub use dynamics::{DynamicsModel, Forecast, Imagined, ModelError, PlanContext, checkpoint_label};
pub use ground_truth::GroundTruth;
pub use learned::{LearnedModel, check_fit, model_path, open_model};
