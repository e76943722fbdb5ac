//! Errors of the environment layer.
use crate::sim::SimError;

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("unknown task '{name}' (known: {known})")]
    UnknownTask { name: String, known: String },
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Tree(#[from] crate::envs::walkers::TreeError),
    #[error("action has {got} values, the task takes {expected}")]
    ActionSize { expected: usize, got: usize },
    #[error("cannot initialise the episode: {0}")]
    Init(String),
    #[error("the episode is over ({steps} steps); reset first")]
    EpisodeOver { steps: usize },
}
