//! The planner options `collect`, `eval` and `ranking` share ([`NoiseArgs`]: the planner method
//! and its knobs, action noise, warm start, proposal mix, objective, rollouts), and the one
//! place they become a [`PlannerConfig`].
use crate::plan::{NoiseConfig, NoiseKind, Objective, PlannerConfig, PlannerMethod};
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
    /// The planner: random-shooting (the paper's), cem (cross-entropy method), mppi or
    /// predictive-sampling (MuJoCo MPC's default). All but random shooting refine their
    /// candidates over --iterations rounds of --samples each.
    #[arg(long, default_value = "random-shooting")]
    planner: PlannerMethod,
    /// Rounds of --samples candidates per plan (cem: 4, mppi and predictive-sampling: 1).
    #[arg(long)]
    iterations: Option<usize>,
    /// cem: the best candidates each round refits its Gaussian to (and keeps), below
    /// --samples (default 8).
    #[arg(long)]
    elites: Option<usize>,
    /// cem: the old mean's and deviation's weight in each refit, in [0, 1) (default 0.1).
    #[arg(long)]
    smoothing: Option<f64>,
    /// mppi: lambda of the weights exp(score / lambda), in units of the summed reward
    /// (default 1; near 0 picks the best candidate, large values average them all).
    #[arg(long)]
    temperature: Option<f64>,
    /// predictive-sampling: perturb with piecewise-linear splines through this many knots of
    /// variance --variance (default 0: the --noise kind itself).
    #[arg(long)]
    spline_points: Option<usize>,
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

    /// The planner method with the knobs given; a knob of another method, or one out of range
    /// (checked against K `candidates` where that is not 0), is refused naming its flag.
    pub fn method(&self, candidates: usize) -> anyhow::Result<PlannerMethod> {
        let mut method = self.planner;
        let name = method.name();
        let misplaced = |flag: &str, owner: &str| {
            anyhow::anyhow!("--{flag} applies to --planner {owner}, not to --planner {name}")
        };
        match &mut method {
            PlannerMethod::RandomShooting => {
                if self.iterations.is_some() {
                    return Err(misplaced("iterations", "cem, mppi or predictive-sampling"));
                }
            }
            PlannerMethod::Cem {
                iterations,
                elites,
                smoothing,
            } => {
                *iterations = self.iterations.unwrap_or(*iterations);
                *elites = self.elites.unwrap_or(*elites);
                *smoothing = self.smoothing.unwrap_or(*smoothing);
            }
            PlannerMethod::Mppi {
                temperature,
                iterations,
            } => {
                *iterations = self.iterations.unwrap_or(*iterations);
                *temperature = self.temperature.unwrap_or(*temperature);
            }
            PlannerMethod::PredictiveSampling {
                spline_points,
                iterations,
            } => {
                *iterations = self.iterations.unwrap_or(*iterations);
                *spline_points = self.spline_points.unwrap_or(*spline_points);
            }
        }
        for (flag, given, owner) in [
            ("elites", self.elites.is_some(), "cem"),
            ("smoothing", self.smoothing.is_some(), "cem"),
            ("temperature", self.temperature.is_some(), "mppi"),
            (
                "spline-points",
                self.spline_points.is_some(),
                "predictive-sampling",
            ),
        ] {
            if given && owner != name {
                return Err(misplaced(flag, owner));
            }
        }
        method
            .validate(candidates)
            .map_err(|e| anyhow::anyhow!("--{} {}", e.field.replace('_', "-"), e.problem))?;
        if self.proposal_mix > 0.0 && !method.takes_proposals() {
            bail!("--proposal-mix works with --planner random-shooting only, not with {name}");
        }
        Ok(method)
    }

    /// The planner these options describe, for K `candidates` and N `horizon_steps` (K 0: not
    /// known yet, see [`NoiseArgs::method`]).
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
            method: self.method(candidates)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        noise: NoiseArgs,
    }

    fn config(args: &[&str], k: usize) -> anyhow::Result<PlannerConfig> {
        let line = Line::try_parse_from(std::iter::once("t").chain(args.iter().copied()))?;
        line.noise.planner_config(k, 50, 0)
    }

    fn refusal(args: &[&str], k: usize) -> String {
        match config(args, k) {
            Ok(c) => panic!("{args:?} accepted: {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn each_method_takes_its_knobs() {
        assert_eq!(
            config(&[], 32).unwrap().method,
            PlannerMethod::RandomShooting
        );
        let cem = config(
            &[
                "--planner",
                "cem",
                "--iterations",
                "3",
                "--elites",
                "5",
                "--smoothing",
                "0.2",
            ],
            32,
        )
        .unwrap();
        assert_eq!(
            cem.method,
            PlannerMethod::Cem {
                iterations: 3,
                elites: 5,
                smoothing: 0.2
            }
        );
        let mppi = config(&["--planner", "mppi", "--temperature", "0.5"], 32).unwrap();
        assert_eq!(
            mppi.method,
            PlannerMethod::Mppi {
                temperature: 0.5,
                iterations: 1
            }
        );
        let ps = config(
            &[
                "--planner",
                "predictive-sampling",
                "--spline-points",
                "4",
                "--iterations",
                "2",
            ],
            32,
        )
        .unwrap();
        assert_eq!(
            ps.method,
            PlannerMethod::PredictiveSampling {
                spline_points: 4,
                iterations: 2
            }
        );
    }

    #[test]
    fn bad_values_are_refused_naming_the_flag() {
        let err = refusal(&["--planner", "cmaes"], 32);
        assert!(
            err.contains("--planner") && err.contains("'cmaes'"),
            "{err}"
        );
        let err = refusal(&["--planner", "cem", "--elites", "32"], 32);
        assert!(
            err.starts_with("--elites 32") && err.contains("32 samples"),
            "{err}"
        );
        let err = refusal(&["--planner", "cem", "--elites", "0"], 0);
        assert!(err.starts_with("--elites"), "{err}");
        let err = refusal(&["--planner", "cem", "--smoothing", "1.5"], 32);
        assert!(err.starts_with("--smoothing 1.5"), "{err}");
        let err = refusal(&["--planner", "mppi", "--iterations", "0"], 32);
        assert!(err.starts_with("--iterations 0"), "{err}");
        let err = refusal(&["--planner", "mppi", "--temperature", "0"], 32);
        assert!(err.starts_with("--temperature 0"), "{err}");
        let err = refusal(&["--planner", "mppi", "--temperature=-1"], 32);
        assert!(err.contains("--temperature"), "{err}");
        let err = refusal(
            &["--planner", "predictive-sampling", "--spline-points", "500"],
            32,
        );
        assert!(err.starts_with("--spline-points 500"), "{err}");
        // A knob of another method.
        let err = refusal(&["--planner", "mppi", "--elites", "4"], 32);
        assert!(err.contains("--elites applies to --planner cem"), "{err}");
        let err = refusal(&["--iterations", "3"], 32);
        assert!(
            err.contains("--iterations") && err.contains("random-shooting"),
            "{err}"
        );
        let err = refusal(&["--planner", "cem", "--proposal-mix", "0.5"], 32);
        assert!(
            err.contains("--proposal-mix") && err.contains("cem"),
            "{err}"
        );
    }
}
