//! The TDM as a [`DynamicsModel`]: the episode history is encoded once per plan as a shared
//! prefix; then all K candidates are decoded together, action and separator tokens forced,
//! reward and observation tokens predicted.
use super::checkpoint;
use super::config::CheckpointMeta;
use super::fastmath::{softmax_in_place, softmax_mean};
use super::infer::{KvCache, Scratch, Weights};
use super::sequence::{TokenSeq, episode_tokens_from};
use crate::data::Episode;
use crate::envs::EnvSpec;
use crate::models::{
    Decoding, DecodingSettings, DynamicsModel, Imagined, ModelDescription, ModelError, ModelFamily,
    ModelSizes, PlanContext, TrainedOn, TrainingFacts, checkpoint_label,
};
use crate::tokenize::Tokenizer;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Half-width, in bins, of the [`Decoding::Windowed`] expectation.
pub const WINDOW_BINS: usize = 4;

/// A trained TDM ready to plan in one environment.
pub struct TdmModel {
    weights: Arc<Weights>,
    values: Arc<BinValues>,
    tokenizer: Tokenizer,
    meta: CheckpointMeta,
    source: PathBuf,
    observation_size: usize,
    action_size: usize,
    /// The decoding and the history limit (at most the model's context window: a shorter one
    /// plans faster and shows how much history the model needs), set through
    /// [`DynamicsModel::set_decoding`].
    decoding: DecodingSettings,
    /// Worker threads for decoding the candidates (0: one per core).
    pub threads: usize,
    seed: u64,
    plans: u64,
}

impl TdmModel {
    /// Loads a checkpoint for an environment. A specialist (every training environment of one
    /// observation/action size) refuses an environment of another size; a generalist, trained on
    /// several sizes, takes any environment whose steps fit its position table (zero-shot).
    pub fn load(path: &Path, spec: &EnvSpec) -> Result<Self, ModelError> {
        let loaded = checkpoint::load(path)?;
        Self::from_parts(loaded.meta, &loaded.varmap, path, spec)
    }

    pub fn from_parts(
        meta: CheckpointMeta,
        varmap: &candle_nn::VarMap,
        source: &Path,
        spec: &EnvSpec,
    ) -> Result<Self, ModelError> {
        meta.validate()
            .map_err(|e| ModelError::Shape(format!("{}: {e}", source.display())))?;
        meta.fit(spec)
            .map_err(|why| ModelError::Shape(format!("{}: {why}", source.display())))?;
        let tokenizer = Tokenizer::new(meta.tokenizer).map_err(|e| ModelError::Tokenizer {
            path: source.to_path_buf(),
            source: e,
        })?;
        let weights =
            Weights::from_varmap(meta.model, varmap).map_err(|e| ModelError::Weights {
                path: source.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(Self {
            weights: Arc::new(weights),
            values: Arc::new(BinValues::new(&tokenizer)),
            tokenizer,
            meta,
            source: source.to_path_buf(),
            observation_size: spec.observation_size,
            action_size: spec.action_size,
            decoding: DecodingSettings::default(),
            threads: 0,
            seed: 0,
            plans: 0,
        })
    }

    pub fn meta(&self) -> &CheckpointMeta {
        &self.meta
    }

    /// The history as tokens: its steps `[sep, o, a, r]` then `[sep, o_t]`, cut to the last
    /// whole steps that fit the context window.
    fn history_tokens(&self, history: &Episode) -> Result<TokenSeq, ModelError> {
        let step = Tokenizer::step_len(self.observation_size, self.action_size);
        let window = self
            .decoding
            .context_limit_tokens
            .map_or(self.meta.model.context_tokens, |l| {
                l.min(self.meta.model.context_tokens)
            });
        let keep_steps = window.saturating_sub(1 + self.observation_size) / step;
        let first = history.len().saturating_sub(keep_steps);
        episode_tokens_from(&self.tokenizer, history, first).map_err(ModelError::Tokenize)
    }
}

/// The value of every bin of one token range: exact, and as f32 for the expectation's dot
/// product (computed once per model instead of once per bin per predicted token).
struct BinTable {
    exact: Vec<f64>,
    fast: Vec<f32>,
}

impl BinTable {
    fn new(bins: u32, value_of: impl Fn(u32) -> f64) -> Self {
        let exact: Vec<f64> = (0..bins).map(value_of).collect();
        let fast = exact.iter().map(|&v| v as f32).collect();
        Self { exact, fast }
    }
}

/// The value tables of the three ranges.
struct BinValues {
    observation: BinTable,
    action: BinTable,
    reward: BinTable,
}

impl BinValues {
    fn new(tok: &Tokenizer) -> Self {
        Self {
            observation: BinTable::new(tok.bins(), |i| tok.observation_bin_value(i)),
            action: BinTable::new(tok.bins(), |i| tok.action_bin_value(i)),
            reward: BinTable::new(tok.bins(), |i| tok.reward_bin_value(i)),
        }
    }
}

/// The softmax-weighted mean of a range's bin values; turns `logits` into probabilities.
fn expectation(logits: &mut [f32], values: &BinTable) -> f64 {
    softmax_mean(logits, &values.fast) as f64
}

/// The softmax-weighted mean of the bin values within `half` bins of the most likely one.
fn windowed_expectation(logits: &[f32], values: &BinTable, half: usize) -> f64 {
    let best = argmax(logits);
    let (lo, hi) = (
        best.saturating_sub(half),
        (best + half + 1).min(logits.len()),
    );
    let top = logits[best];
    let (mut weight, mut sum) = (0f64, 0f64);
    for (l, v) in logits[lo..hi].iter().zip(&values.exact[lo..hi]) {
        let p = f64::from(l - top).exp();
        weight += p;
        sum += p * v;
    }
    sum / weight
}

fn argmax(logits: &[f32]) -> usize {
    logits
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv { (i, v) } else { (bi, bv) }
        })
        .0
}

/// Picks a bin from `logits` (one row) and returns (bin, value).
fn choose(
    logits: &mut [f32],
    decoding: Decoding,
    values: &BinTable,
    encode: impl Fn(f64) -> u32,
    rng: &mut StdRng,
) -> (u32, f64) {
    match decoding {
        Decoding::Greedy => {
            let i = argmax(logits);
            (i as u32, values.exact[i])
        }
        Decoding::Sampled => {
            softmax_in_place(logits);
            let mut u: f32 = rng.random();
            for (i, &p) in logits.iter().enumerate() {
                u -= p;
                if u <= 0.0 {
                    return (i as u32, values.exact[i]);
                }
            }
            let last = logits.len() - 1;
            (last as u32, values.exact[last])
        }
        Decoding::Expectation => {
            let value = expectation(logits, values);
            (encode(value), value)
        }
        Decoding::Windowed => {
            let value = windowed_expectation(logits, values, WINDOW_BINS);
            (encode(value), value)
        }
    }
}

struct Job<'a> {
    /// `[k][N][m]`: the actions, or for proposed candidates the noise added to the policy's
    /// mean; overwritten with the actions imagined.
    actions: &'a mut [f64],
    proposed: &'a [bool],
    observations: &'a mut [f64],
    rewards: &'a mut [f64],
    seed: u64,
}

impl TdmModel {
    /// Decodes one chunk of candidates. `last` is the history's last token (o_t's last entry)
    /// and its local position: `prefix` holds everything before it, and each candidate feeds it
    /// first, so its logits can propose the first action.
    fn decode_chunk(&self, prefix: &KvCache, last: (u32, u32), n_steps: usize, job: Job<'_>) {
        let (n, m) = (self.observation_size, self.action_size);
        let k = job.proposed.len();
        let proposing = job.proposed.iter().any(|&p| p);
        let tok = &self.tokenizer;
        let bins = tok.bins() as usize;
        let own_tokens = 1 + n_steps * Tokenizer::step_len(n, m);
        let mut caches: Vec<KvCache> = (0..k)
            .map(|_| {
                KvCache::with_capacity(self.meta.model.layers, own_tokens, self.meta.model.width)
            })
            .collect();
        let mut s = Scratch::default();
        let mut logits = Vec::new();
        let mut rng = StdRng::seed_from_u64(job.seed);
        let mut tokens = vec![last.0; k];
        let obs_range = 0..bins;
        let act_range = tok.action_offset() as usize..tok.action_offset() as usize + bins;
        let rew_range = tok.reward_offset() as usize..tok.reward_offset() as usize + bins;
        let action_logits = || proposing.then(|| act_range.clone());
        self.weights.step(
            prefix,
            &mut caches,
            &tokens,
            last.1,
            action_logits(),
            &mut s,
            &mut logits,
        );
        for t in 0..n_steps {
            // Actions: forced, or proposed (the policy's mean plus the noise); the last one's
            // logits predict the reward.
            for j in 0..m {
                for (c, slot) in tokens.iter_mut().enumerate() {
                    let a = &mut job.actions[(c * n_steps + t) * m + j];
                    if job.proposed[c] {
                        let row = &mut logits[c * bins..(c + 1) * bins];
                        let mean = expectation(row, &self.values.action);
                        // A broken distribution proposes nothing rather than NaN.
                        let mean = if mean.is_finite() { mean } else { 0.0 };
                        *a = (mean + *a).clamp(-1.0, 1.0);
                    }
                    *slot = tok.encode_action(*a).unwrap_or(tok.action_offset());
                }
                let want = if j + 1 == m {
                    Some(rew_range.clone())
                } else {
                    action_logits()
                };
                self.weights.step(
                    prefix,
                    &mut caches,
                    &tokens,
                    (1 + n + j) as u32,
                    want,
                    &mut s,
                    &mut logits,
                );
            }
            for c in 0..k {
                let row = &mut logits[c * bins..(c + 1) * bins];
                let (bin, value) = choose(
                    row,
                    self.decoding.decoding,
                    &self.values.reward,
                    |v| tok.encode_reward(v).unwrap_or(tok.reward_offset()) - tok.reward_offset(),
                    &mut rng,
                );
                job.rewards[c * n_steps + t] = value;
                tokens[c] = tok.reward_offset() + bin;
            }
            // The reward, then the separator (forced); its logits predict o_1.
            self.weights.step(
                prefix,
                &mut caches,
                &tokens,
                (1 + n + m) as u32,
                None,
                &mut s,
                &mut logits,
            );
            tokens.iter_mut().for_each(|x| *x = tok.separator());
            self.weights.step(
                prefix,
                &mut caches,
                &tokens,
                0,
                Some(obs_range.clone()),
                &mut s,
                &mut logits,
            );
            for i in 0..n {
                for c in 0..k {
                    let row = &mut logits[c * bins..(c + 1) * bins];
                    let (bin, value) = choose(
                        row,
                        self.decoding.decoding,
                        &self.values.observation,
                        |v| tok.encode_observation(v).unwrap_or(0),
                        &mut rng,
                    );
                    job.observations[(c * n_steps + t) * n + i] = value;
                    tokens[c] = bin;
                }
                // Feed o_i; its logits predict o_{i+1}, after the last one the next action
                // (wanted only when proposing, and not after the horizon's last step).
                let want = if i + 1 < n {
                    Some(obs_range.clone())
                } else if t + 1 < n_steps {
                    action_logits()
                } else {
                    None
                };
                self.weights.step(
                    prefix,
                    &mut caches,
                    &tokens,
                    (1 + i) as u32,
                    want,
                    &mut s,
                    &mut logits,
                );
            }
        }
    }
}

impl DynamicsModel for TdmModel {
    fn name(&self) -> String {
        format!("tdm ({})", checkpoint_label(&self.source))
    }

    fn describe(&self) -> ModelDescription {
        let (meta, c) = (&self.meta, &self.meta.model);
        ModelDescription {
            name: self.name(),
            family: ModelFamily::Tdm,
            source: Some(self.source.clone()),
            sizes: Some(ModelSizes::Transformer {
                layers: c.layers,
                width: c.width,
                heads: c.heads,
                context_tokens: c.context_tokens,
                parameters: c.parameter_count(),
            }),
            training: Some(TrainingFacts {
                steps: meta.steps_trained,
                seen: TrainedOn::Tokens(meta.tokens_trained),
                held_out_loss: meta.held_out_loss,
            }),
            trained_on: meta.envs.clone(),
            predicts_rewards: self.predicts_rewards(),
            proposes_actions: self.proposes_actions(),
            decoding: Some(self.decoding),
        }
    }

    fn set_decoding(&mut self, settings: DecodingSettings) -> bool {
        self.decoding = settings;
        true
    }

    /// Per step, each candidate's reward and observation tokens, and a proposed candidate's
    /// action tokens.
    fn tokens_per_plan(
        &self,
        candidates: usize,
        horizon_steps: usize,
        proposed: usize,
    ) -> Option<u64> {
        let per_step = candidates * (self.observation_size + 1) + proposed * self.action_size;
        Some((horizon_steps * per_step) as u64)
    }

    /// Every candidate's cache holds the keys and values of every layer for each token it
    /// decodes: the first one, then the horizon's steps of `[sep, o.., a.., r]`; twice that
    /// for the growth slack of the vectors holding them.
    fn plan_state_bytes(&self, candidates: usize, horizon_steps: usize) -> u128 {
        let cfg = &self.meta.model;
        let tokens = 1 + horizon_steps as u128
            * Tokenizer::step_len(self.observation_size, self.action_size) as u128;
        2 * candidates as u128 * tokens * cfg.layers as u128 * 2 * cfg.width as u128 * 4
    }

    fn predicts_rewards(&self) -> bool {
        true
    }

    fn imagine(
        &mut self,
        ctx: &PlanContext<'_>,
        actions: &[f64],
        candidates: usize,
        horizon_steps: usize,
    ) -> Result<Imagined, ModelError> {
        let mut actions = actions.to_vec();
        let proposed = vec![false; candidates];
        self.imagine_proposed(ctx, &mut actions, &proposed, candidates, horizon_steps)
    }

    /// A TDM trained on action tokens (`train --bc-weight` above 0) is also a BC policy.
    fn proposes_actions(&self) -> bool {
        self.meta.loss.actions > 0.0
    }

    fn imagine_proposed(
        &mut self,
        ctx: &PlanContext<'_>,
        actions: &mut [f64],
        proposed: &[bool],
        candidates: usize,
        horizon_steps: usize,
    ) -> Result<Imagined, ModelError> {
        let (n, m) = (self.observation_size, self.action_size);
        ctx.check_sizes(actions, candidates, horizon_steps, n, m)?;
        if proposed.len() != candidates {
            return Err(ModelError::Shape(format!(
                "{} proposal flags for {candidates} candidates",
                proposed.len()
            )));
        }
        if proposed.iter().any(|&p| p) && !self.proposes_actions() {
            return Err(ModelError::NoPolicy {
                model: self.name(),
                trained_without_actions: true,
            });
        }
        let mut history = self.history_tokens(ctx.history)?;
        let (Some(last_token), Some(last_position)) =
            (history.tokens.pop(), history.positions.pop())
        else {
            return Err(ModelError::EmptyHistory);
        };
        let mut prefix = KvCache::new(self.meta.model.layers);
        self.weights.encode(
            &mut prefix,
            &history.tokens,
            &history.positions,
            &mut Scratch::default(),
        );
        let mut observations = vec![0.0; candidates * horizon_steps * n];
        let mut rewards = vec![0.0; candidates * horizon_steps];
        let threads = if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |x| x.get())
        } else {
            self.threads
        };
        let per = candidates.div_ceil(threads.max(1)).max(1);
        self.plans += 1;
        let base_seed = self.seed ^ self.plans.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let this = &*self;
        let prefix = &prefix;
        let last = (last_token, last_position);
        std::thread::scope(|scope| {
            for (i, (((acts, flags), obs), rews)) in actions
                .chunks_mut(per * horizon_steps * m)
                .zip(proposed.chunks(per))
                .zip(observations.chunks_mut(per * horizon_steps * n))
                .zip(rewards.chunks_mut(per * horizon_steps))
                .enumerate()
            {
                let job = Job {
                    actions: acts,
                    proposed: flags,
                    observations: obs,
                    rewards: rews,
                    seed: base_seed ^ i as u64,
                };
                scope.spawn(move || this.decode_chunk(prefix, last, horizon_steps, job));
            }
        });
        Ok(Imagined {
            candidates,
            horizon_steps,
            observation_size: n,
            observations,
            rewards: Some(rewards),
            failures: vec![None; candidates],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_windowed_expectation_ignores_far_mass_and_interpolates_near_mass() {
        let values = BinTable::new(32, |i| f64::from(i) * 0.5);
        let mut logits = vec![-30f32; 32];
        // A sharp mode at bin 10 with a neighbour at 11, and a second mode far away at bin 28.
        logits[10] = 2.0;
        logits[11] = 2.0;
        logits[28] = 1.5;
        let windowed = windowed_expectation(&logits, &values, WINDOW_BINS);
        // Halfway between bins 10 and 11: 5.25, whatever the far mode holds.
        assert!((windowed - 5.25).abs() < 1e-6, "{windowed}");
        let full = expectation(&mut logits.clone(), &values);
        assert!(
            full > 7.0,
            "the full expectation is pulled towards bin 28: {full}"
        );
        // At the edge of the range the window is cut, not wrapped.
        let mut edge = vec![-30f32; 32];
        edge[0] = 0.0;
        assert!(windowed_expectation(&edge, &values, WINDOW_BINS).abs() < 1e-9);
    }
}
