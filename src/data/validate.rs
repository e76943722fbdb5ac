//! The dataset validator: every check a dataset folder must pass before it is read, each problem
//! reported with the file it is in. `Dataset::open` refuses a folder with any problem;
//! `data info` lists them all.
use super::episode::Episode;
use super::meta::{DatasetMeta, EpisodeEntry};
use crate::envs::make_task;
use std::collections::HashSet;
use std::fmt;
use std::path::{Component, Path, PathBuf};

/// One thing wrong with a dataset: the file it is about and what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// How far a return listed in `meta.json` may be from the sum of the episode's rewards.
fn return_tolerance(total: f64) -> f64 {
    1e-6 * total.abs().max(1.0)
}

/// An episode file named in `meta.json` that is not a plain file name in the dataset's folder.
#[derive(Debug, thiserror::Error)]
#[error("episode file '{0}' is not a plain file name inside the dataset folder")]
pub(super) struct NotConfined(String);

/// `file` as a path inside `dir`: an episode file must be a plain file name in the dataset's
/// folder (no absolute path, no `..`, no sub-folder).
pub(super) fn confined_path(dir: &Path, file: &str) -> Result<PathBuf, NotConfined> {
    let mut parts = Path::new(file).components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(name)), None) => Ok(dir.join(name)),
        _ => Err(NotConfined(file.to_string())),
    }
}

/// The problems of `meta.json` itself (`meta_path`): counts, duplicated entries, labels and
/// timing that disagree with the sizes or with the environment of that name.
pub(super) fn meta_problems(meta: &DatasetMeta, meta_path: &Path) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut problem = |message: String| {
        out.push(Problem {
            path: meta_path.to_path_buf(),
            message,
        })
    };
    // Checked: a listed step count near usize::MAX must not overflow the total.
    let steps = meta
        .episodes
        .iter()
        .try_fold(0usize, |total, e| total.checked_add(e.steps));
    if meta.episode_count != meta.episodes.len() || steps != Some(meta.step_count) {
        let steps = steps.map_or_else(|| format!("more than {}", usize::MAX), |s| s.to_string());
        problem(format!(
            "counts disagree: episode_count {} / step_count {} but {} episodes with {steps} steps are listed",
            meta.episode_count,
            meta.step_count,
            meta.episodes.len()
        ));
    }
    let (mut indices, mut files) = (HashSet::new(), HashSet::new());
    for e in &meta.episodes {
        if !indices.insert(e.index) {
            problem(format!(
                "episode index {} is listed more than once",
                e.index
            ));
        }
        if !files.insert(e.file.as_str()) {
            problem(format!(
                "episode file '{}' is listed more than once",
                e.file
            ));
        }
    }
    let env = &meta.env;
    if env.name.trim().is_empty() {
        problem("the environment has no name".into());
    }
    if !(env.control_dt_secs.is_finite() && env.control_dt_secs > 0.0) {
        problem(format!(
            "control_dt_secs {} is not a positive number",
            env.control_dt_secs
        ));
    }
    if env.observation_labels.len() != env.observation_size {
        problem(format!(
            "{} observation labels for observation_size {}",
            env.observation_labels.len(),
            env.observation_size
        ));
    }
    if env.action_labels.len() != env.action_size {
        problem(format!(
            "{} action labels for action_size {}",
            env.action_labels.len(),
            env.action_size
        ));
    }
    // An environment this build knows by that name must be the one described. (One it cannot
    // open here, e.g. an `mjcf:` file elsewhere, is taken as described.)
    if let Ok(task) = make_task(&env.name) {
        let spec = task.spec();
        let dt = spec.control_dt_secs();
        if spec.observation_size != env.observation_size || spec.action_size != env.action_size {
            problem(format!(
                "'{}' has {} obs / {} act, meta.json says {} / {}",
                env.name,
                spec.observation_size,
                spec.action_size,
                env.observation_size,
                env.action_size
            ));
        } else if spec.observation_labels != env.observation_labels
            || spec.action_labels != env.action_labels
        {
            problem(format!(
                "the observation or action labels are not those of '{}'",
                env.name
            ));
        }
        if (dt - env.control_dt_secs).abs() > 1e-9 * dt.max(1.0) {
            problem(format!(
                "'{}' steps every {dt} s, meta.json says control_dt_secs {}",
                env.name, env.control_dt_secs
            ));
        }
    }
    out
}

/// What is wrong with episode `ep` read from `path` against its `entry` and the dataset's
/// sizes, if anything: shapes, steps, non-finite values, the listed return.
pub(super) fn episode_problem(
    ep: &Episode,
    entry: &EpisodeEntry,
    sizes: (usize, usize),
) -> Option<String> {
    let (n, m) = sizes;
    if ep.observation_size != n || ep.action_size != m || ep.len() != entry.steps {
        return Some(format!(
            "disagrees with meta.json: {} steps of {} obs / {} act, meta.json says {} steps of {n} / {m}",
            ep.len(),
            ep.observation_size,
            ep.action_size,
            entry.steps,
        ));
    }
    if ep.is_empty() {
        return Some("the episode has no steps".into());
    }
    let arrays = [
        ("observations", &ep.observations, n),
        ("actions", &ep.actions, m),
        ("rewards", &ep.rewards, 1),
    ];
    for (name, values, width) in arrays {
        if let Some(i) = values.iter().position(|x| !x.is_finite()) {
            return Some(format!(
                "{name} row {} holds a non-finite value ({})",
                i / width.max(1),
                values[i]
            ));
        }
    }
    let total = ep.total_reward();
    if !entry.total_reward.is_finite()
        || (entry.total_reward - total).abs() > return_tolerance(total)
    {
        return Some(format!(
            "meta.json lists return {} for this episode, its rewards sum to {total}",
            entry.total_reward
        ));
    }
    None
}

/// A validated dataset's numbers, recomputed from its episode files.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetCheck {
    pub meta: DatasetMeta,
    /// Every problem found, in the order of `meta.json`'s entries.
    pub problems: Vec<Problem>,
    /// The returns of the episodes that could be read, summed from their rewards.
    pub returns: Vec<f64>,
    /// The steps of the episodes that could be read.
    pub steps: usize,
}
