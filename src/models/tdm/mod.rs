//! The transformer dynamics model (TDM) of "A Generalist Dynamics Model for Control"
//! (Schubert et al., 2023): the candle model and its training, checkpoints, and the fast
//! batched decode path the planner uses.

mod attention;
mod block;
mod checkpoint;
mod config;
mod dynamics;
mod fastmath;
mod fused;
mod gemm;
mod head;
mod infer;
mod model;
mod op_state;
mod sequence;
mod train;

pub use crate::models::Decoding;
pub use crate::models::checkpoint_file::{CheckpointError, train_state_path};
pub use crate::models::optim::{AdamW, AdamWConfig, learning_rate};
pub use crate::models::train_state::load as load_train_state;
pub use checkpoint::{Loaded, load, load_meta, save};
pub use config::{CHECKPOINT_VERSION, CheckpointMeta, LossWeights, TdmConfig, TdmConfigError};
pub use dynamics::{TdmModel, WINDOW_BINS};
pub use infer::{KvCache, Scratch, Weights, WeightsError};
pub use model::{TargetGroup, Tdm};
pub use sequence::{TokenSeq, Window, episode_tokens, episode_tokens_from, sample_window};
pub use train::{
    TrainError, TrainOptions, TrainProgress, TrainSummary, dynamics_loss, settings, train,
};
