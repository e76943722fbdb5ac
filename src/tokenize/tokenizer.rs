//! The tokenizer itself; see the module docs for the vocabulary and the step layout.
use serde::{Deserialize, Serialize};

/// The tokenizer's settings; saved in every checkpoint so a model decodes as it was trained.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizerConfig {
    pub bins: u32,
    pub mu: f64,
    pub m: f64,
    /// Rewards are clipped to `[-reward_bound, reward_bound]` and binned uniformly.
    pub reward_bound: f64,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        Self {
            bins: 1024,
            mu: 100.0,
            m: 256.0,
            reward_bound: 1.0,
        }
    }
}

/// Which range a token belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Observation,
    Action,
    Reward,
    Separator,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenError {
    #[error("{what} value is NaN")]
    NaN { what: &'static str },
    #[error("token {token} is not a {expected:?} token")]
    WrongRange { token: u32, expected: TokenKind },
    #[error("bad tokenizer settings: {0}")]
    BadConfig(String),
}

/// Encodes and decodes observations, actions and rewards.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tokenizer {
    cfg: TokenizerConfig,
    log_norm: f64,
}

impl Tokenizer {
    pub fn new(cfg: TokenizerConfig) -> Result<Self, TokenError> {
        if cfg.bins < 2 || cfg.bins > 1 << 20 {
            return Err(TokenError::BadConfig(format!(
                "bins = {} (need 2..=2^20)",
                cfg.bins
            )));
        }
        if !(cfg.mu > 0.0 && cfg.m > 0.0 && cfg.mu.is_finite() && cfg.m.is_finite()) {
            return Err(TokenError::BadConfig(format!(
                "mu = {}, M = {} (need positive)",
                cfg.mu, cfg.m
            )));
        }
        if !(cfg.reward_bound > 0.0 && cfg.reward_bound.is_finite()) {
            return Err(TokenError::BadConfig(format!(
                "reward bound {} (need positive)",
                cfg.reward_bound
            )));
        }
        Ok(Self {
            cfg,
            log_norm: (cfg.m * cfg.mu + 1.0).ln(),
        })
    }

    pub fn config(&self) -> TokenizerConfig {
        self.cfg
    }

    pub fn bins(&self) -> u32 {
        self.cfg.bins
    }

    pub fn action_offset(&self) -> u32 {
        self.cfg.bins
    }

    pub fn reward_offset(&self) -> u32 {
        2 * self.cfg.bins
    }

    pub fn separator(&self) -> u32 {
        3 * self.cfg.bins
    }

    /// Number of distinct tokens.
    pub fn vocab_size(&self) -> u32 {
        3 * self.cfg.bins + 1
    }

    /// Tokens per environment step for `n` observation and `m` action entries.
    pub fn step_len(n: usize, m: usize) -> usize {
        1 + n + m + 1
    }

    pub fn kind(&self, token: u32) -> Option<TokenKind> {
        let b = self.cfg.bins;
        match token {
            t if t < b => Some(TokenKind::Observation),
            t if t < 2 * b => Some(TokenKind::Action),
            t if t < 3 * b => Some(TokenKind::Reward),
            t if t == 3 * b => Some(TokenKind::Separator),
            _ => None,
        }
    }

    /// mu-law companding: sign(x) ln(|x| mu + 1) / ln(M mu + 1), clipped to [-1, 1].
    pub fn compand(&self, x: f64) -> f64 {
        (x.signum() * (x.abs() * self.cfg.mu + 1.0).ln() / self.log_norm).clamp(-1.0, 1.0)
    }

    /// Inverse of [`Tokenizer::compand`] on [-1, 1].
    pub fn expand(&self, y: f64) -> f64 {
        y.signum() * ((self.log_norm * y.abs()).exp() - 1.0) / self.cfg.mu
    }

    /// The bin of `y` in [-1, 1] (clipped), 0..bins.
    fn bin(&self, y: f64) -> u32 {
        let b = self.cfg.bins as f64;
        (((y.clamp(-1.0, 1.0) + 1.0) / 2.0 * b).floor() as u32).min(self.cfg.bins - 1)
    }

    /// The centre of bin `i` in [-1, 1].
    fn centre(&self, i: u32) -> f64 {
        -1.0 + (i as f64 + 0.5) * 2.0 / self.cfg.bins as f64
    }

    fn check(x: f64, what: &'static str) -> Result<f64, TokenError> {
        if x.is_nan() {
            Err(TokenError::NaN { what })
        } else {
            Ok(x)
        }
    }

    pub fn encode_observation(&self, x: f64) -> Result<u32, TokenError> {
        let x = Self::check(x, "observation")?;
        Ok(self.bin(self.compand(x)))
    }

    pub fn encode_action(&self, a: f64) -> Result<u32, TokenError> {
        let a = Self::check(a, "action")?;
        Ok(self.action_offset() + self.bin(a))
    }

    pub fn encode_reward(&self, r: f64) -> Result<u32, TokenError> {
        let r = Self::check(r, "reward")?;
        Ok(self.reward_offset() + self.bin(r / self.cfg.reward_bound))
    }

    fn in_range(&self, token: u32, kind: TokenKind) -> Result<u32, TokenError> {
        if self.kind(token) == Some(kind) {
            Ok(match kind {
                TokenKind::Observation => token,
                TokenKind::Action => token - self.action_offset(),
                TokenKind::Reward => token - self.reward_offset(),
                TokenKind::Separator => 0,
            })
        } else {
            Err(TokenError::WrongRange {
                token,
                expected: kind,
            })
        }
    }

    pub fn decode_observation(&self, token: u32) -> Result<f64, TokenError> {
        Ok(self.observation_bin_value(self.in_range(token, TokenKind::Observation)?))
    }

    pub fn decode_action(&self, token: u32) -> Result<f64, TokenError> {
        Ok(self.action_bin_value(self.in_range(token, TokenKind::Action)?))
    }

    pub fn decode_reward(&self, token: u32) -> Result<f64, TokenError> {
        Ok(self.reward_bin_value(self.in_range(token, TokenKind::Reward)?))
    }

    /// The observation value of bin `i` (0..bins): the bin centre through the inverse transform.
    pub fn observation_bin_value(&self, i: u32) -> f64 {
        self.expand(self.centre(i))
    }

    /// The reward value of bin `i` (0..bins).
    pub fn reward_bin_value(&self, i: u32) -> f64 {
        self.centre(i) * self.cfg.reward_bound
    }

    /// The action value of bin `i` (0..bins).
    pub fn action_bin_value(&self, i: u32) -> f64 {
        self.centre(i)
    }

    /// Appends the tokens of one step `[sep, o.., a.., r]` to `out`.
    pub fn encode_step(
        &self,
        obs: &[f64],
        action: &[f64],
        reward: f64,
        out: &mut Vec<u32>,
    ) -> Result<(), TokenError> {
        out.push(self.separator());
        for &x in obs {
            out.push(self.encode_observation(x)?);
        }
        for &a in action {
            out.push(self.encode_action(a)?);
        }
        out.push(self.encode_reward(reward)?);
        Ok(())
    }

    /// Appends `[sep, o..]`: the start of a step whose action is still to come.
    pub fn encode_observation_prefix(
        &self,
        obs: &[f64],
        out: &mut Vec<u32>,
    ) -> Result<(), TokenError> {
        out.push(self.separator());
        for &x in obs {
            out.push(self.encode_observation(x)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> Tokenizer {
        Tokenizer::new(TokenizerConfig::default()).unwrap()
    }

    #[test]
    fn layout_of_the_vocabulary() {
        let t = tok();
        assert_eq!(t.vocab_size(), 3073);
        assert_eq!(t.kind(0), Some(TokenKind::Observation));
        assert_eq!(t.kind(1023), Some(TokenKind::Observation));
        assert_eq!(t.kind(1024), Some(TokenKind::Action));
        assert_eq!(t.kind(2048), Some(TokenKind::Reward));
        assert_eq!(t.kind(3072), Some(TokenKind::Separator));
        assert_eq!(t.kind(3073), None);
        let mut out = Vec::new();
        t.encode_step(&[0.1, -0.2, 3.0], &[0.5, -1.0], 0.7, &mut out)
            .unwrap();
        let kinds: Vec<TokenKind> = out.iter().map(|&x| t.kind(x).unwrap()).collect();
        use TokenKind::*;
        assert_eq!(
            kinds,
            [
                Separator,
                Observation,
                Observation,
                Observation,
                Action,
                Action,
                Reward
            ]
        );
        assert_eq!(Tokenizer::step_len(3, 2), 7);
    }

    #[test]
    fn mu_law_matches_the_formula() {
        let t = tok();
        let expected = (0.5f64 * 100.0 + 1.0).ln() / (256.0f64 * 100.0 + 1.0).ln();
        assert!((t.compand(0.5) - expected).abs() < 1e-15);
        assert!((t.compand(-0.5) + expected).abs() < 1e-15);
        assert_eq!(t.compand(256.0), 1.0);
        assert_eq!(t.compand(1e9), 1.0);
        for x in [-200.0, -3.0, -0.01, 0.0, 0.002, 1.5, 100.0] {
            assert!((t.expand(t.compand(x)) - x).abs() < 1e-9 * (1.0 + x.abs()));
        }
    }

    #[test]
    fn round_trip_error_bounds_per_range() {
        let t = tok();
        // Actions: uniform bins of width 2/1024 -> error at most 1/1024.
        let mut worst: f64 = 0.0;
        for i in 0..=20_000 {
            let a = -1.0 + 2.0 * i as f64 / 20_000.0;
            worst = worst.max((t.decode_action(t.encode_action(a).unwrap()).unwrap() - a).abs());
        }
        assert!(worst <= 1.0 / 1024.0 + 1e-12, "{worst}");
        // Rewards: same on [-1, 1].
        for i in 0..=1000 {
            let r = i as f64 / 1000.0;
            assert!(
                (t.decode_reward(t.encode_reward(r).unwrap()).unwrap() - r).abs()
                    <= 1.0 / 1024.0 + 1e-12
            );
        }
        // Observations: relative error bounded by the mu-law bin width, |dx| <= (|x| + 1/mu) *
        // (e^(ln(M mu + 1) / 1024) - 1) ~ 1% of (|x| + 0.01) inside the range.
        let step = ((256.0f64 * 100.0 + 1.0).ln() / 1024.0).exp() - 1.0;
        for i in 0..=4000 {
            let x = -250.0 + 500.0 * (i as f64 / 4000.0).powi(3);
            let back = t
                .decode_observation(t.encode_observation(x).unwrap())
                .unwrap();
            assert!(
                (back - x).abs() <= (x.abs() + 0.01) * step + 1e-12,
                "{x} -> {back}"
            );
        }
    }

    #[test]
    fn encoding_is_monotone() {
        let t = tok();
        let mut last = 0;
        for i in 0..100_000 {
            let x = -300.0 + 600.0 * i as f64 / 100_000.0;
            let tok = t.encode_observation(x).unwrap();
            assert!(tok >= last);
            last = tok;
        }
        let mut last_value = f64::NEG_INFINITY;
        for i in 0..1024 {
            let v = t.decode_observation(i).unwrap();
            assert!(v > last_value);
            last_value = v;
        }
    }

    #[test]
    fn extremes_and_non_finite_inputs() {
        let t = tok();
        assert_eq!(t.encode_observation(f64::INFINITY).unwrap(), 1023);
        assert_eq!(t.encode_observation(f64::NEG_INFINITY).unwrap(), 0);
        assert_eq!(t.encode_observation(1e300).unwrap(), 1023);
        assert_eq!(t.encode_action(7.0).unwrap(), 2047);
        assert_eq!(t.encode_action(-7.0).unwrap(), 1024);
        assert_eq!(t.encode_action(1.0).unwrap(), 2047);
        assert_eq!(t.encode_reward(f64::INFINITY).unwrap(), 3071);
        assert!(matches!(
            t.encode_observation(f64::NAN),
            Err(TokenError::NaN { .. })
        ));
        assert!(t.encode_action(f64::NAN).is_err());
        assert!(t.encode_reward(f64::NAN).is_err());
        assert!(t.decode_observation(1024).is_err());
        assert!(t.decode_action(5).is_err());
        assert!(t.decode_reward(3072).is_err());
        // The largest decodable observation is near M.
        let top = t.decode_observation(1023).unwrap();
        assert!(top > 240.0 && top < 256.0, "{top}");
        assert!(
            Tokenizer::new(TokenizerConfig {
                bins: 1,
                ..Default::default()
            })
            .is_err()
        );
    }
}
