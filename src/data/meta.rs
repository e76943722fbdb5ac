//! What a dataset's `meta.json` holds: the environment it was recorded in, what collected it,
//! and one entry per episode file (read by [`super::Dataset`], checked by `validate`).
use crate::envs::EnvSpec;
use serde::{Deserialize, Serialize};

/// The version of the dataset folder format that this build writes and reads.
pub const DATASET_FORMAT_VERSION: u32 = 1;

/// The environment a dataset was recorded in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvInfo {
    pub name: String,
    pub observation_size: usize,
    pub action_size: usize,
    pub control_dt_secs: f64,
    pub observation_labels: Vec<String>,
    pub action_labels: Vec<String>,
}

impl EnvInfo {
    pub fn from_spec(spec: &EnvSpec) -> Self {
        Self {
            name: spec.name.clone(),
            observation_size: spec.observation_size,
            action_size: spec.action_size,
            control_dt_secs: spec.control_dt_secs(),
            observation_labels: spec.observation_labels.clone(),
            action_labels: spec.action_labels.clone(),
        }
    }
}

/// One episode's entry in `meta.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpisodeEntry {
    /// The episode's index in the collection (seed = base_seed + index).
    pub index: usize,
    pub seed: u64,
    pub file: String,
    pub steps: usize,
    #[serde(rename = "return")]
    pub total_reward: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetMeta {
    pub format_version: u32,
    pub env: EnvInfo,
    /// What collected the data, e.g. `{"kind": "gt-mpc", "samples": 128, ...}`.
    pub policy: serde_json::Value,
    pub base_seed: u64,
    /// `"i/n"` for a shard of a bigger collection; absent for a whole or merged dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub episode_count: usize,
    pub step_count: usize,
    pub episodes: Vec<EpisodeEntry>,
}
