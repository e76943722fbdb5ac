//! The collection loop: run a policy in an environment and append episodes to a dataset,
//! skipping the ones already there, so an interrupted run resumes where it stopped.
use super::dataset::Dataset;
use super::episode::Episode;
use super::error::DataError;
use crate::envs::{Env, EnvError};
use crate::sim::SimError;
use std::time::Instant;

/// What acts in the environment while collecting.
pub trait Policy {
    /// A JSON description stored in `meta.json` (kind and parameters).
    fn describe(&self) -> serde_json::Value;
    /// Called before each episode with its seed.
    fn begin_episode(&mut self, seed: u64);
    /// The action for the current state of `env`, given the episode so far.
    fn act(&mut self, env: &dyn Env, episode: &Episode) -> Result<Vec<f64>, DataError>;
}

/// This job's share of a collection: episode indices `i` with `i % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `"i/n"`.
    pub fn parse(s: &str) -> Result<Self, DataError> {
        let bad = || DataError::BadShard(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }

    pub fn owns(&self, episode: usize) -> bool {
        episode % self.count == self.index
    }

    /// `Some("i/n")` for a real shard, `None` for the whole collection.
    pub fn label(&self) -> Option<String> {
        (self.count > 1).then(|| format!("{}/{}", self.index, self.count))
    }
}

#[derive(Clone, Debug)]
pub struct CollectOptions {
    /// Episodes in the whole collection (all shards together).
    pub episodes: usize,
    pub shard: Shard,
    /// Steps per episode (at most the task's time limit).
    pub max_steps: usize,
}

/// Reported after every episode.
#[derive(Clone, Debug)]
pub struct CollectProgress {
    pub done: usize,
    pub total: usize,
    pub last_index: usize,
    pub last_return: Option<f64>,
    pub elapsed_secs: f64,
}

#[derive(Clone, Debug, Default)]
pub struct CollectSummary {
    pub collected: usize,
    pub skipped_existing: usize,
    /// Episodes that diverged, with the reason; not written.
    pub failed: Vec<(usize, String)>,
    pub returns: Vec<f64>,
    pub steps: usize,
    pub elapsed_secs: f64,
}

/// Runs one episode of at most `max_steps` (and the task's time limit) with `policy` from
/// `env.reset(seed)`. A simulation that diverges, or in which MuJoCo raises an error, ends the
/// episode early: the steps so far and the reason come back, not an error.
pub fn run_episode(
    env: &mut dyn Env,
    policy: &mut dyn Policy,
    seed: u64,
    max_steps: usize,
) -> Result<(Episode, Option<String>), DataError> {
    policy.begin_episode(seed);
    let obs = env.reset(seed)?;
    let mut episode = Episode::new(&obs, env.spec().action_size);
    for _ in 0..max_steps.min(env.spec().episode_steps) {
        let action = policy.act(&*env, &episode)?;
        match env.step(&action) {
            Ok(s) => episode.push(&action, s.reward, &s.observation),
            Err(EnvError::Sim(e @ (SimError::Diverged { .. } | SimError::Mujoco { .. }))) => {
                return Ok((episode, Some(e.to_string())));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((episode, None))
}

/// Collects this shard's missing episodes into `dataset`.
pub fn collect(
    env: &mut dyn Env,
    policy: &mut dyn Policy,
    dataset: &mut Dataset,
    opts: &CollectOptions,
    mut progress: impl FnMut(&CollectProgress),
) -> Result<CollectSummary, DataError> {
    let start = Instant::now();
    let mine: Vec<usize> = (0..opts.episodes).filter(|&i| opts.shard.owns(i)).collect();
    let todo: Vec<usize> = mine
        .iter()
        .copied()
        .filter(|&i| !dataset.contains(i))
        .collect();
    let mut summary = CollectSummary {
        skipped_existing: mine.len() - todo.len(),
        ..Default::default()
    };
    let steps = opts.max_steps.min(env.spec().episode_steps);
    for (n, &index) in todo.iter().enumerate() {
        let seed = dataset.meta().base_seed + index as u64;
        let (episode, failure) = run_episode(env, policy, seed, steps)?;
        let last_return = match failure {
            Some(why) => {
                summary.failed.push((index, why));
                None
            }
            None => {
                dataset.append(index, seed, &episode)?;
                summary.collected += 1;
                summary.steps += episode.len();
                summary.returns.push(episode.total_reward());
                Some(episode.total_reward())
            }
        };
        progress(&CollectProgress {
            done: n + 1,
            total: todo.len(),
            last_index: index,
            last_return,
            elapsed_secs: start.elapsed().as_secs_f64(),
        });
    }
    summary.elapsed_secs = start.elapsed().as_secs_f64();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_parse_and_partition() {
        assert_eq!(Shard::parse("0/4").unwrap(), Shard { index: 0, count: 4 });
        assert_eq!(
            Shard::parse(" 3 / 4 ").unwrap().label().as_deref(),
            Some("3/4")
        );
        for bad in ["3/2", "2/2", "1/0", "x/3", "3", "-1/2", ""] {
            let err = Shard::parse(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("'{bad}'")), "{err}");
        }
        let shards: Vec<Shard> = (0..3).map(|i| Shard { index: i, count: 3 }).collect();
        for e in 0..30 {
            assert_eq!(shards.iter().filter(|s| s.owns(e)).count(), 1);
        }
        assert_eq!(Shard::WHOLE.label(), None);
    }
}
