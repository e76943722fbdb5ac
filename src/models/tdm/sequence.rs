//! Episodes as token sequences, and training windows over them.
//!
//! An episode of T steps becomes `[sep, o_0, a_0, r_0] [sep, o_1, a_1, r_1] ... [sep, o_T]`
//! (the final observation has no action yet). Each token also carries its local position: its
//! index within its step (sep = 0, o_i = 1 + i, a_j = 1 + n + j, r = 1 + n + m).
use super::config::LossWeights;
use crate::data::Episode;
use crate::tokenize::{TokenError, TokenKind, Tokenizer};
use rand::Rng;
use rand::rngs::StdRng;

/// Tokens and local positions of a sequence.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenSeq {
    pub tokens: Vec<u32>,
    pub positions: Vec<u32>,
}

impl TokenSeq {
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn push(&mut self, token: u32, position: u32) {
        self.tokens.push(token);
        self.positions.push(position);
    }
}

/// Tokenizes a whole episode. Observations and actions are converted from the stored f32.
pub fn episode_tokens(tok: &Tokenizer, ep: &Episode) -> Result<TokenSeq, TokenError> {
    episode_tokens_from(tok, ep, 0)
}

/// Tokenizes an episode from step `first` on: its steps `[sep, o, a, r]`, then `[sep, o_T]`.
pub fn episode_tokens_from(
    tok: &Tokenizer,
    ep: &Episode,
    first: usize,
) -> Result<TokenSeq, TokenError> {
    let mut seq = TokenSeq::default();
    let mut step = Vec::new();
    let f = |x: &[f32]| x.iter().map(|&v| v as f64).collect::<Vec<f64>>();
    for t in first.min(ep.len())..=ep.len() {
        step.clear();
        if t < ep.len() {
            tok.encode_step(
                &f(ep.observation(t)),
                &f(ep.action(t)),
                ep.rewards[t] as f64,
                &mut step,
            )?;
        } else {
            tok.encode_observation_prefix(&f(ep.observation(t)), &mut step)?;
        }
        for (i, &x) in step.iter().enumerate() {
            seq.push(x, i as u32);
        }
    }
    Ok(seq)
}

/// The learning weight of predicting `target` (by its token kind).
pub fn target_weight(tok: &Tokenizer, target: u32, weights: &LossWeights) -> f32 {
    match tok.kind(target) {
        Some(TokenKind::Observation) => weights.observations,
        Some(TokenKind::Reward) => weights.rewards,
        Some(TokenKind::Action) => weights.actions,
        _ => 0.0,
    }
}

/// One training window: inputs, their local positions, next-token targets and weights.
#[derive(Clone, Debug, Default)]
pub struct Window {
    pub tokens: Vec<u32>,
    pub positions: Vec<u32>,
    pub targets: Vec<u32>,
    pub weights: Vec<f32>,
}

/// Draws a window of `len` inputs starting at a step boundary of a random episode (episodes
/// drawn in proportion to their length). Episodes shorter than the window are padded with
/// separators at weight 0.
pub fn sample_window(
    tok: &Tokenizer,
    episodes: &[TokenSeq],
    step_lens: &[usize],
    len: usize,
    weights: &LossWeights,
    rng: &mut StdRng,
) -> Window {
    let total: usize = episodes.iter().map(TokenSeq::len).sum();
    let mut pick = rng.random_range(0..total.max(1));
    let mut e = 0;
    while e + 1 < episodes.len() && pick >= episodes[e].len() {
        pick -= episodes[e].len();
        e += 1;
    }
    let seq = &episodes[e];
    let step_len = step_lens[e].max(1);
    let steps = seq.len().div_ceil(step_len);
    // Latest start that still fills the window, rounded down to a step boundary.
    let last_start = seq.len().saturating_sub(len + 1) / step_len;
    let start = rng.random_range(0..=last_start.min(steps.saturating_sub(1))) * step_len;
    let mut w = Window::default();
    for i in 0..len {
        let (idx, next) = (start + i, start + i + 1);
        let (t, p) = seq
            .tokens
            .get(idx)
            .map_or((tok.separator(), 0), |&t| (t, seq.positions[idx]));
        w.tokens.push(t);
        w.positions.push(p);
        match seq.tokens.get(next) {
            Some(&target) => {
                w.targets.push(target);
                w.weights.push(target_weight(tok, target, weights));
            }
            None => {
                w.targets.push(tok.separator());
                w.weights.push(0.0);
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::TokenizerConfig;
    use rand::SeedableRng;

    #[test]
    fn episode_layout_and_windows() {
        let tok = Tokenizer::new(TokenizerConfig::default()).unwrap();
        let mut ep = Episode::new(&[0.1, 0.2], 1);
        for t in 0..10 {
            ep.push(&[0.5], t as f64 / 10.0, &[0.3, 0.4]);
        }
        let seq = episode_tokens(&tok, &ep).unwrap();
        assert_eq!(seq.len(), 10 * 5 + 3);
        assert_eq!(&seq.positions[..6], &[0, 1, 2, 3, 4, 0]);
        assert_eq!(seq.tokens[0], tok.separator());
        let mut rng = StdRng::seed_from_u64(0);
        let w = sample_window(
            &tok,
            std::slice::from_ref(&seq),
            &[5],
            12,
            &LossWeights::default(),
            &mut rng,
        );
        assert_eq!(w.tokens.len(), 12);
        assert_eq!(w.positions[0], 0, "windows start at a step boundary");
        // Targets are the next inputs; action targets have weight 0 by default.
        for i in 0..11 {
            assert_eq!(w.targets[i], w.tokens[i + 1]);
        }
        for (t, wt) in w.targets.iter().zip(&w.weights) {
            match tok.kind(*t) {
                Some(TokenKind::Action) | Some(TokenKind::Separator) => assert_eq!(*wt, 0.0),
                _ => assert_eq!(*wt, 1.0),
            }
        }
        // A window longer than the episode pads with zero weight.
        let long = sample_window(&tok, &[seq], &[5], 80, &LossWeights::default(), &mut rng);
        assert_eq!(long.weights[79], 0.0);
    }
}
