//! The planner options `collect`, `eval` and `ranking` share ([`NoiseArgs`]: action noise, warm
//! start, proposal mix, objective, rollouts), and the one place they become a
//! [`PlannerConfig`].
use crate::plan::{NoiseConfig, NoiseKind, Objective, PlannerConfig};
use anyhow::bail;
use clap::Args;

/// The action-noise and warm-start options shared by `collect`, `eval` and `ranking`.
#[derive(Args, Debug)]
pub struct NoiseArgs {
    /// brownian, white or pink: the planner's candidates, or the actions of `--policy brownian`.
    #[arg(long, default_value = "brownian")]
    noise: String,
    /// Noise variance sigma^2.
    #[arg(long, default_value_t = 2.0)]
    variance: f64,
    /// Every candidate fresh noise, as in the paper's planner (default: the previous winner,
    /// shifted one step, stays a candidate).
    #[arg(long)]
    no_warm_start: bool,
    /// Fraction of the candidates proposed by the model's BC policy (a TDM trained with
    /// --bc-weight above 0): its mean action plus the noise. With --samples 1 --variance 0 the
    /// agent is the plain BC policy.
    #[arg(long, default_value_t = 0.0)]
    proposal_mix: f64,
    /// How candidates are scored: auto (R(o') from the predicted observations where the task
    /// has it, else predicted rewards), observations (R(o') only), or rewards (the model's
    /// predicted rewards).
    #[arg(long, default_value = "auto")]
    objective: Objective,
    /// Imagined rollouts per candidate, its score their mean (a TDM with --decoding sampled:
    /// the expected return under the model's own uncertainty). Multiplies the planning cost.
    #[arg(long, default_value_t = 1)]
    rollouts: usize,
}

impl NoiseArgs {
    /// The noise of the candidates (and of `collect --policy brownian`).
    pub fn config(&self) -> anyhow::Result<NoiseConfig> {
        let Some(kind) = NoiseKind::parse(&self.noise) else {
            bail!("--noise '{}': expected brownian, white or pink", self.noise);
        };
        if !(self.variance.is_finite() && self.variance >= 0.0) {
            bail!("--variance {}: must be a number >= 0", self.variance);
        }
        Ok(NoiseConfig {
            kind,
            variance: self.variance,
        })
    }

    /// The planner these options describe, for K `candidates` and N `horizon_steps`.
    pub fn planner_config(
        &self,
        candidates: usize,
        horizon_steps: usize,
        seed: u64,
    ) -> anyhow::Result<PlannerConfig> {
        if !(0.0..=1.0).contains(&self.proposal_mix) {
            bail!(
                "--proposal-mix {}: must be a fraction in [0, 1]",
                self.proposal_mix
            );
        }
        if self.rollouts == 0 {
            bail!("--rollouts must be at least 1");
        }
        if self.rollouts > 1 && self.proposal_mix > 0.0 {
            bail!("--rollouts above 1 does not combine with --proposal-mix");
        }
        Ok(PlannerConfig {
            candidates,
            horizon_steps,
            noise: self.config()?,
            objective: self.objective,
            seed,
            keep_best: !self.no_warm_start,
            proposal_mix: self.proposal_mix,
            rollouts: self.rollouts,
        })
    }
}
