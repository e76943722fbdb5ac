//! Trajectory datasets: episodes of observations, actions and rewards, stored as a folder with
//! `meta.json` and one safetensors file per episode (readable from Python with
//! `safetensors.numpy.load_file`), plus the collection loop that fills them.
//!
//! Layout of a dataset folder:
//! - `meta.json`: format version, the environment (name, sizes, labels, control step), the
//!   policy that collected it, the base seed, the shard, and one entry per episode (index, seed,
//!   file, steps, return);
//! - `episode_000123.safetensors`: `observations` f32 `[T+1, n]` (o_0 .. o_T), `actions` f32
//!   `[T, m]`, `rewards` f32 `[T]` (r_t is the reward for taking a_t in o_t).
//!
//! Every write is atomic (temp file + rename), episode file first and `meta.json` last, so an
//! interrupted collection loses at most the episode in flight and resumes where it stopped.

mod collect;
mod dataset;
mod episode;
mod error;
mod meta;
mod validate;

pub use collect::{
    CollectOptions, CollectProgress, CollectSummary, Policy, Shard, collect, run_episode,
};
pub use dataset::{Dataset, held_out_count, merge};
pub use episode::Episode;
pub use error::DataError;
pub use meta::{DATASET_FORMAT_VERSION, DatasetMeta, EnvInfo, EpisodeEntry};
pub use validate::{DatasetCheck, Problem};
