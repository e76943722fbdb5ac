//! The MLP baselines of the paper's Fig. 4 (Schubert et al., 2023, section 5.1 and appendix F):
//! a plain MLP, an MLP with delta outputs, an MLP with tokenized (embedded) inputs, and the
//! best of them, tokenized inputs + delta outputs. One-step, first-order Markov models of
//! (o_{t+1}, r_t) from (o_t, a_t), trained from the same datasets with the same `train`
//! command, saved in the same checkpoint format, and planning through the same
//! [`crate::models::DynamicsModel`] trait.

mod checkpoint;
mod config;
mod dynamics;
mod model;
mod train;

pub use checkpoint::{LoadedMlp, load, load_meta, save};
pub use config::{
    MLP_CHECKPOINT_VERSION, MlpConfig, MlpConfigError, MlpMeta, MlpVariant, Normalization,
};
pub use dynamics::MlpModel;
pub use model::{Encoded, Mlp, decode_output, encode_inputs, raw_target};
pub use train::{MlpTrainOptions, mlp_settings, train_mlp};
