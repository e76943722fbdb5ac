//! A dataset folder: `meta.json` plus one safetensors file per episode.
use super::episode::Episode;
use super::error::DataError;
use super::meta::{DATASET_FORMAT_VERSION, DatasetMeta, EnvInfo, EpisodeEntry};
use super::validate::{DatasetCheck, Problem, confined_path, episode_problem, meta_problems};
use crate::files::atomic_write;
use std::path::{Path, PathBuf};

const META: &str = "meta.json";

/// How many of a dataset's `episodes` (its last ones) a training run holds out for a fraction
/// `held_out`: at least one when the fraction is positive, never all of them, none from a
/// single-episode dataset.
pub fn held_out_count(episodes: usize, held_out: f64) -> usize {
    if episodes < 2 {
        return 0;
    }
    ((episodes as f64 * held_out).ceil() as usize).clamp(usize::from(held_out > 0.0), episodes - 1)
}

/// An open dataset folder.
#[derive(Clone, Debug)]
pub struct Dataset {
    dir: PathBuf,
    meta: DatasetMeta,
}

fn episode_file(index: usize) -> String {
    format!("episode_{index:06}.safetensors")
}

fn read_meta(dir: &Path) -> Result<DatasetMeta, DataError> {
    let path = dir.join(META);
    let text = std::fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
    let meta: DatasetMeta =
        serde_json::from_str(&text).map_err(|e| DataError::format(&path, e.to_string()))?;
    if meta.format_version > DATASET_FORMAT_VERSION {
        return Err(DataError::format(
            &path,
            format!(
                "format version {} is newer than this build reads ({DATASET_FORMAT_VERSION})",
                meta.format_version
            ),
        ));
    }
    Ok(meta)
}

impl Dataset {
    /// Opens a dataset after [`Dataset::check`]: refused, naming the file, when any check
    /// finds a problem.
    pub fn open(dir: &Path) -> Result<Self, DataError> {
        let check = Self::check(dir)?;
        if let Some(first) = check.problems.first() {
            let more = match check.problems.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more problems; `data info` lists them)"),
            };
            return Err(DataError::format(
                &first.path,
                format!("{}{more}", first.message),
            ));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            meta: check.meta,
        })
    }

    /// Validates the dataset in `dir`: `meta.json` (counts, duplicated entries, labels, timing,
    /// the environment of that name), then every episode file (inside the folder, shapes,
    /// steps, finite values, the listed return). Fails only when `meta.json` cannot be read;
    /// everything else it finds is in [`DatasetCheck::problems`].
    pub fn check(dir: &Path) -> Result<DatasetCheck, DataError> {
        let meta = read_meta(dir)?;
        let mut problems = meta_problems(&meta, &dir.join(META));
        let ds = Self {
            dir: dir.to_path_buf(),
            meta,
        };
        let (mut returns, mut steps) = (Vec::new(), 0);
        for entry in &ds.meta.episodes {
            match ds.load(entry) {
                Ok(ep) => {
                    returns.push(ep.total_reward());
                    steps += ep.len();
                }
                Err(DataError::Format { path, message }) => {
                    problems.push(Problem { path, message })
                }
                Err(DataError::Io { path, error }) => problems.push(Problem {
                    path,
                    message: format!("cannot read: {error}"),
                }),
                Err(e) => problems.push(Problem {
                    path: ds.dir.join(&entry.file),
                    message: e.to_string(),
                }),
            }
        }
        Ok(DatasetCheck {
            meta: ds.meta,
            problems,
            returns,
            steps,
        })
    }

    /// Opens the dataset in `dir` to add to it, or creates it. An existing dataset must have
    /// been recorded in the same environment with the same policy and base seed.
    pub fn create_or_resume(
        dir: &Path,
        env: EnvInfo,
        policy: serde_json::Value,
        base_seed: u64,
        shard: Option<String>,
    ) -> Result<Self, DataError> {
        if dir.join(META).exists() {
            let ds = Self::open(dir)?;
            let m = &ds.meta;
            let meta_path = dir.join(META);
            if m.env != env {
                return Err(DataError::format(
                    meta_path,
                    format!(
                        "holds data of '{}' ({} obs, {} act), not '{}' ({} obs, {} act)",
                        m.env.name,
                        m.env.observation_size,
                        m.env.action_size,
                        env.name,
                        env.observation_size,
                        env.action_size
                    ),
                ));
            }
            if m.policy != policy || m.base_seed != base_seed || m.shard != shard {
                return Err(DataError::format(
                    meta_path,
                    format!(
                        "was collected with policy {}, seed {}, shard {:?}; this run asks for policy {policy}, seed {base_seed}, shard {shard:?} (use another --out)",
                        m.policy, m.base_seed, m.shard
                    ),
                ));
            }
            return Ok(ds);
        }
        std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
        let ds = Self {
            dir: dir.to_path_buf(),
            meta: DatasetMeta {
                format_version: DATASET_FORMAT_VERSION,
                env,
                policy,
                base_seed,
                shard,
                episode_count: 0,
                step_count: 0,
                episodes: Vec::new(),
            },
        };
        ds.write_meta()?;
        Ok(ds)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn meta(&self) -> &DatasetMeta {
        &self.meta
    }

    pub fn contains(&self, index: usize) -> bool {
        self.meta.episodes.iter().any(|e| e.index == index)
    }

    fn write_meta(&self) -> Result<(), DataError> {
        let path = self.dir.join(META);
        let text = serde_json::to_string_pretty(&self.meta)
            .map_err(|e| DataError::format(&path, e.to_string()))?;
        atomic_write(&path, text.as_bytes()).map_err(|e| DataError::io(&path, e))
    }

    /// Adds (or replaces) episode `index`: the episode file first, then `meta.json`.
    pub fn append(&mut self, index: usize, seed: u64, episode: &Episode) -> Result<(), DataError> {
        let env = &self.meta.env;
        if episode.observation_size != env.observation_size
            || episode.action_size != env.action_size
        {
            return Err(DataError::Mismatch(format!(
                "episode has {} obs / {} act, the dataset {} / {}",
                episode.observation_size,
                episode.action_size,
                env.observation_size,
                env.action_size
            )));
        }
        let file = episode_file(index);
        let path = self.dir.join(&file);
        let entry = EpisodeEntry {
            index,
            seed,
            file,
            steps: episode.len(),
            total_reward: episode.total_reward(),
        };
        if let Some(problem) =
            episode_problem(episode, &entry, (env.observation_size, env.action_size))
        {
            return Err(DataError::format(&path, format!("not written: {problem}")));
        }
        atomic_write(&path, &episode.to_safetensors()?).map_err(|e| DataError::io(&path, e))?;
        self.meta.episodes.retain(|e| e.index != index);
        self.meta.episodes.push(entry);
        self.meta.episodes.sort_by_key(|e| e.index);
        self.meta.episode_count = self.meta.episodes.len();
        self.meta.step_count = self.meta.episodes.iter().map(|e| e.steps).sum();
        self.write_meta()
    }

    /// Reads one episode and checks it against its entry and the dataset's sizes: a plain file
    /// name inside the folder, shapes and steps, finite values, the listed return.
    pub fn load(&self, entry: &EpisodeEntry) -> Result<Episode, DataError> {
        let meta_path = self.dir.join(META);
        let path = confined_path(&self.dir, &entry.file)
            .map_err(|m| DataError::format(&meta_path, m.to_string()))?;
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        let ep = Episode::from_safetensors(&bytes, &path)?;
        let env = &self.meta.env;
        if let Some(problem) = episode_problem(&ep, entry, (env.observation_size, env.action_size))
        {
            return Err(DataError::format(&path, problem));
        }
        Ok(ep)
    }

    /// Every episode, in index order.
    pub fn episodes(&self) -> Result<Vec<Episode>, DataError> {
        self.meta.episodes.iter().map(|e| self.load(e)).collect()
    }
}

/// Joins datasets (typically the shards of one collection) into `out`. They must share the
/// environment, the policy and the base seed; an episode index present twice must be the same
/// episode (same seed and steps), and is kept once.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<Dataset, DataError> {
    let Some(first) = inputs.first() else {
        return Err(DataError::Mismatch("nothing to merge".into()));
    };
    if out.join(META).exists() {
        return Err(DataError::format(
            out.join(META),
            "already exists; merge writes a new dataset (pick another --out)",
        ));
    }
    let sources: Vec<Dataset> = inputs
        .iter()
        .map(|p| Dataset::open(p))
        .collect::<Result<_, _>>()?;
    let base = &sources[0].meta;
    for (src, path) in sources.iter().zip(inputs) {
        let m = &src.meta;
        if m.env != base.env || m.policy != base.policy || m.base_seed != base.base_seed {
            return Err(DataError::Mismatch(format!(
                "{} was recorded with another environment, policy or seed than {}",
                path.display(),
                first.display()
            )));
        }
    }
    let mut merged = Dataset::create_or_resume(
        out,
        base.env.clone(),
        base.policy.clone(),
        base.base_seed,
        None,
    )?;
    for src in &sources {
        for entry in &src.meta.episodes {
            if let Some(have) = merged.meta.episodes.iter().find(|e| e.index == entry.index) {
                if have.seed != entry.seed || have.steps != entry.steps {
                    return Err(DataError::Mismatch(format!(
                        "episode {} differs between shards (seed {} vs {})",
                        entry.index, have.seed, entry.seed
                    )));
                }
                continue;
            }
            let ep = src.load(entry)?;
            merged.append(entry.index, entry.seed, &ep)?;
        }
    }
    Ok(merged)
}
