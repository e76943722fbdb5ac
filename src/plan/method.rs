//! Which sampling planner turns imagined candidates into a plan ([`PlannerMethod`]), its knobs,
//! and the one check of their ranges (used by the command line and by presets alike).
//!
//! - Random shooting (the paper's planner, the default): K fresh candidates, the best one wins.
//! - Cross-entropy method (CEM): a Gaussian over action sequences refitted to the best
//!   (`elites`) candidates for `iterations` rounds of K, the elites kept as candidates of the
//!   next round.
//! - MPPI: `iterations` rounds of K perturbations of a nominal sequence, the nominal replaced by
//!   their exponentially weighted mean (weights `exp(score / temperature)`).
//! - Predictive sampling (MuJoCo MPC's default planner): the nominal plus K - 1 perturbations of
//!   it; the best of them (the nominal included) becomes the new nominal.
//!
//! The algorithms live in `cem.rs`, `mppi.rs` and `predictive.rs`; the shared pieces (the warm
//! start, scoring a batch, perturbations) in `sampling.rs`.
use serde::{Deserialize, Serialize};
use std::fmt;

/// The planner family member [`crate::plan::Planner`] runs, with its own settings. Every member
/// draws its noise from the planner's [`crate::plan::NoiseConfig`] and warm-starts from the
/// previous plan (shifted) when `keep_best` is on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PlannerMethod {
    /// K candidates of fresh noise (the previous winner, shifted, as candidate 0 with
    /// `keep_best`); the best one is applied.
    #[default]
    RandomShooting,
    /// The cross-entropy method. The first round samples the noise around the warm-started
    /// mean (zeros without a warm start, which makes one round plain random shooting); every
    /// later round samples a diagonal Gaussian whose mean and standard deviation (initially
    /// sqrt(variance)) are refitted to the round's `elites` best candidates, blended with the
    /// old ones by `smoothing`. The elites (at most K - 1) are candidates again in the next
    /// round, so the best score never falls for a deterministic model. The best candidate of
    /// the last round is applied.
    Cem {
        #[serde(default = "default_cem_iterations")]
        iterations: usize,
        #[serde(default = "default_elites")]
        elites: usize,
        /// The old mean's and standard deviation's weight in each update, in [0, 1).
        #[serde(default = "default_smoothing")]
        smoothing: f64,
    },
    /// Model-predictive path integral control. Each round imagines the nominal (the previous
    /// plan, shifted; zeros without a warm start) and K - 1 perturbations of it by the noise;
    /// the new nominal is their mean weighted by `exp((score - best) / temperature)`. After the
    /// last round the weighted mean is imagined once more and is the plan's chosen candidate
    /// (index K): a temperature near 0 picks the best candidate, a large one averages them all.
    Mppi {
        /// lambda, in units of the summed reward.
        #[serde(default = "default_temperature")]
        temperature: f64,
        #[serde(default = "one")]
        iterations: usize,
    },
    /// Predictive sampling: candidate 0 is the nominal (the previous plan, shifted), the other
    /// K - 1 are perturbations of it; the best becomes the new nominal, for `iterations` rounds.
    /// With `spline_points` 0 the perturbations are the noise settings' kind (Brownian, white,
    /// pink); with P > 0 they are piecewise-linear splines through P knots spread evenly over the
    /// horizon, each knot N(0, variance) (P = 1: one constant offset).
    PredictiveSampling {
        #[serde(default)]
        spline_points: usize,
        #[serde(default = "one")]
        iterations: usize,
    },
}

fn default_cem_iterations() -> usize {
    4
}
fn default_elites() -> usize {
    8
}
fn default_smoothing() -> f64 {
    0.1
}
fn default_temperature() -> f64 {
    1.0
}
fn one() -> usize {
    1
}

/// The largest `iterations` any method accepts.
pub const MAX_ITERATIONS: usize = 64;
/// The most spline knots predictive sampling accepts.
pub const MAX_SPLINE_POINTS: usize = 64;

/// A knob out of range: `field` is its name in the preset and, with dashes, its flag.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct MethodError {
    pub field: &'static str,
    pub problem: String,
}

/// A method name that is none of [`PlannerMethod::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown planner '{0}': expected random-shooting, cem, mppi or predictive-sampling")]
pub struct UnknownMethod(pub String);

impl PlannerMethod {
    /// Every method with its name (command line, presets' `kind`), at its default settings.
    pub const NAMES: [(&'static str, PlannerMethod); 4] = [
        ("random-shooting", PlannerMethod::RandomShooting),
        (
            "cem",
            PlannerMethod::Cem {
                iterations: 4,
                elites: 8,
                smoothing: 0.1,
            },
        ),
        (
            "mppi",
            PlannerMethod::Mppi {
                temperature: 1.0,
                iterations: 1,
            },
        ),
        (
            "predictive-sampling",
            PlannerMethod::PredictiveSampling {
                spline_points: 0,
                iterations: 1,
            },
        ),
    ];

    /// The method's name (one of [`Self::NAMES`]).
    pub fn name(&self) -> &'static str {
        match self {
            Self::RandomShooting => "random-shooting",
            Self::Cem { .. } => "cem",
            Self::Mppi { .. } => "mppi",
            Self::PredictiveSampling { .. } => "predictive-sampling",
        }
    }

    /// Rounds of K candidates per plan (MPPI imagines one candidate more: its weighted mean).
    pub fn iterations(&self) -> usize {
        match *self {
            Self::RandomShooting => 1,
            Self::Cem { iterations, .. }
            | Self::Mppi { iterations, .. }
            | Self::PredictiveSampling { iterations, .. } => iterations.max(1),
        }
    }

    /// Whether the planner's proposal mix (candidates from the model's policy view) applies:
    /// only random shooting's candidates are independent of a nominal.
    pub fn takes_proposals(&self) -> bool {
        matches!(self, Self::RandomShooting)
    }

    /// Checks every knob's range; `candidates` is K where known (0: not known, the check that
    /// CEM keeps fewer elites than K is left out).
    pub fn validate(&self, candidates: usize) -> Result<(), MethodError> {
        let bad = |field, problem: String| Err(MethodError { field, problem });
        let iterations = match *self {
            Self::RandomShooting => return Ok(()),
            Self::Cem { iterations, .. }
            | Self::Mppi { iterations, .. }
            | Self::PredictiveSampling { iterations, .. } => iterations,
        };
        if !(1..=MAX_ITERATIONS).contains(&iterations) {
            return bad(
                "iterations",
                format!("{iterations} is outside 1..={MAX_ITERATIONS}"),
            );
        }
        match *self {
            Self::Cem {
                elites, smoothing, ..
            } => {
                if elites == 0 {
                    return bad("elites", "must be at least 1".into());
                }
                if candidates > 0 && elites >= candidates {
                    return bad(
                        "elites",
                        format!("{elites} must be below the {candidates} samples"),
                    );
                }
                if !(smoothing.is_finite() && (0.0..1.0).contains(&smoothing)) {
                    return bad("smoothing", format!("{smoothing} is outside [0, 1)"));
                }
            }
            Self::Mppi { temperature, .. } => {
                if !(temperature.is_finite() && temperature > 0.0) {
                    return bad(
                        "temperature",
                        format!("{temperature} must be a positive number"),
                    );
                }
            }
            Self::PredictiveSampling { spline_points, .. } => {
                if spline_points > MAX_SPLINE_POINTS {
                    return bad(
                        "spline_points",
                        format!("{spline_points} is above {MAX_SPLINE_POINTS}"),
                    );
                }
            }
            Self::RandomShooting => {}
        }
        Ok(())
    }
}

impl std::str::FromStr for PlannerMethod {
    type Err = UnknownMethod;

    /// The named method at its default settings.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .find(|(name, _)| *name == s)
            .map(|&(_, m)| m)
            .ok_or_else(|| UnknownMethod(s.to_string()))
    }
}

impl fmt::Display for PlannerMethod {
    /// The name and the knobs, e.g. `cem (4 iterations, 8 elites, smoothing 0.1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::RandomShooting => write!(f, "random-shooting"),
            Self::Cem {
                iterations,
                elites,
                smoothing,
            } => write!(
                f,
                "cem ({iterations} iterations, {elites} elites, smoothing {smoothing})"
            ),
            Self::Mppi {
                temperature,
                iterations,
            } => write!(
                f,
                "mppi (temperature {temperature}, {iterations} iterations)"
            ),
            Self::PredictiveSampling {
                spline_points,
                iterations,
            } => {
                let noise = if spline_points == 0 {
                    "the noise settings' perturbations".to_string()
                } else {
                    format!("{spline_points}-point splines")
                };
                write!(f, "predictive-sampling ({noise}, {iterations} iterations)")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_to_their_defaults_and_back() {
        for (name, method) in PlannerMethod::NAMES {
            assert_eq!(name.parse::<PlannerMethod>().unwrap(), method);
            assert_eq!(method.name(), name);
            assert!(method.validate(32).is_ok(), "{name}");
        }
        let err = "cmaes".parse::<PlannerMethod>().unwrap_err().to_string();
        assert!(err.contains("'cmaes'") && err.contains("mppi"), "{err}");
    }

    #[test]
    fn serde_is_tagged_by_kind_with_defaults_for_missing_knobs() {
        let cem: PlannerMethod = serde_json::from_str(r#"{"kind": "cem", "elites": 3}"#).unwrap();
        assert_eq!(
            cem,
            PlannerMethod::Cem {
                iterations: 4,
                elites: 3,
                smoothing: 0.1
            }
        );
        let text = serde_json::to_string(&cem).unwrap();
        assert!(text.contains(r#""kind":"cem""#), "{text}");
        assert_eq!(serde_json::from_str::<PlannerMethod>(&text).unwrap(), cem);
        let rs: PlannerMethod = serde_json::from_str(r#"{"kind": "random-shooting"}"#).unwrap();
        assert_eq!(rs, PlannerMethod::RandomShooting);
        // A knob of another method, or an unknown kind, is refused.
        let err = serde_json::from_str::<PlannerMethod>(r#"{"kind": "mppi", "elites": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("elites"), "{err}");
        assert!(serde_json::from_str::<PlannerMethod>(r#"{"kind": "cma"}"#).is_err());
    }

    #[test]
    fn out_of_range_knobs_name_their_field() {
        let field = |m: PlannerMethod, k| m.validate(k).unwrap_err().field;
        let cem = |iterations, elites, smoothing| PlannerMethod::Cem {
            iterations,
            elites,
            smoothing,
        };
        assert_eq!(field(cem(0, 4, 0.1), 32), "iterations");
        assert_eq!(field(cem(100, 4, 0.1), 32), "iterations");
        assert_eq!(field(cem(4, 0, 0.1), 32), "elites");
        assert_eq!(field(cem(4, 32, 0.1), 32), "elites");
        assert!(cem(4, 32, 0.1).validate(0).is_ok(), "K unknown");
        assert_eq!(field(cem(4, 4, 1.0), 32), "smoothing");
        assert_eq!(field(cem(4, 4, f64::NAN), 32), "smoothing");
        let mppi = |temperature| PlannerMethod::Mppi {
            temperature,
            iterations: 1,
        };
        assert_eq!(field(mppi(0.0), 32), "temperature");
        assert_eq!(field(mppi(f64::INFINITY), 32), "temperature");
        let ps = PlannerMethod::PredictiveSampling {
            spline_points: 1000,
            iterations: 1,
        };
        assert_eq!(field(ps, 32), "spline_points");
        let text = ps.validate(32).unwrap_err().to_string();
        assert!(text.starts_with("spline_points 1000"), "{text}");
    }
}
