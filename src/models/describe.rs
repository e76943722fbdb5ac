//! What a dynamics model says about itself ([`ModelDescription`]): its family, sizes, training,
//! the environments it was trained on, what it predicts and which decoding knobs apply, and
//! the lines the planner panel shows for it.
use super::decoding::DecodingSettings;
use super::mlp::MlpVariant;
use crate::data::EnvInfo;
use std::path::PathBuf;

/// Which kind of model it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelFamily {
    /// MuJoCo itself.
    GroundTruth,
    /// The transformer dynamics model.
    Tdm,
    /// One of the MLP baselines.
    Mlp(MlpVariant),
    /// Any other implementation of the trait (nothing known beyond its name).
    Other,
}

impl ModelFamily {
    pub fn name(self) -> &'static str {
        match self {
            Self::GroundTruth => "ground truth",
            Self::Tdm => "tdm",
            Self::Mlp(v) => v.name(),
            Self::Other => "other",
        }
    }
}

/// A learned model's sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelSizes {
    Transformer {
        layers: usize,
        width: usize,
        heads: usize,
        /// The context window, in tokens.
        context_tokens: usize,
        parameters: usize,
    },
    Mlp {
        layers: usize,
        hidden: usize,
        parameters: usize,
    },
}

/// What training a model saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainedOn {
    Tokens(u64),
    Transitions(u64),
}

/// A learned model's training record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainingFacts {
    pub steps: u64,
    pub seen: TrainedOn,
    /// The loss on held-out data (cross-entropy for a TDM, MSE for an MLP), where measured.
    pub held_out_loss: Option<f32>,
}

/// Everything a caller needs to know about a model without knowing its type.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDescription {
    /// As [`crate::models::DynamicsModel::name`].
    pub name: String,
    pub family: ModelFamily,
    /// The checkpoint it was loaded from.
    pub source: Option<PathBuf>,
    pub sizes: Option<ModelSizes>,
    pub training: Option<TrainingFacts>,
    /// The environments in its training data (empty for ground truth).
    pub trained_on: Vec<EnvInfo>,
    pub predicts_rewards: bool,
    /// It has a policy view that can propose candidates.
    pub proposes_actions: bool,
    /// The decoding settings in use, for a model that has decoding options (a TDM).
    pub decoding: Option<DecodingSettings>,
}

impl ModelDescription {
    /// A model known only by its name and what it predicts ([`ModelFamily::Other`]).
    pub fn basic(name: String, predicts_rewards: bool, proposes_actions: bool) -> Self {
        Self {
            name,
            family: ModelFamily::Other,
            source: None,
            sizes: None,
            training: None,
            trained_on: Vec::new(),
            predicts_rewards,
            proposes_actions,
            decoding: None,
        }
    }

    /// The ground-truth model (MuJoCo) as described by [`crate::models::GroundTruth`].
    pub fn ground_truth() -> Self {
        Self {
            family: ModelFamily::GroundTruth,
            ..Self::basic(ModelFamily::GroundTruth.name().into(), true, false)
        }
    }

    /// Whether the decoding settings apply to it.
    pub fn has_decoding(&self) -> bool {
        self.decoding.is_some()
    }

    /// Lines for the planner panel: sizes, training, the environments trained on and whether
    /// `scene` is one of them.
    pub fn detail_lines(&self, scene: &str) -> Vec<String> {
        let mut lines = Vec::new();
        match self.sizes {
            Some(ModelSizes::Transformer {
                layers,
                width,
                heads,
                context_tokens,
                ..
            }) => lines.push(format!(
                "{layers} layers, width {width}, {heads} heads, context {context_tokens} tokens"
            )),
            Some(ModelSizes::Mlp {
                layers,
                hidden,
                parameters,
            }) => lines.push(format!(
                "MLP baseline {}: {layers} x {hidden} hidden, {parameters} parameters",
                self.family.name()
            )),
            None => {}
        }
        if let Some(t) = self.training {
            let (seen, loss) = match t.seen {
                TrainedOn::Tokens(n) => (format!("{:.2}M tokens", n as f64 / 1e6), "loss"),
                TrainedOn::Transitions(n) => (format!("{:.2}M transitions", n as f64 / 1e6), "MSE"),
            };
            let held_out = t.held_out_loss.map(|l| match t.seen {
                TrainedOn::Tokens(_) => format!(", held-out {loss} {l:.3}"),
                TrainedOn::Transitions(_) => format!(", held-out {loss} {l:.4}"),
            });
            lines.push(format!(
                "trained {} steps, {seen}{}",
                t.steps,
                held_out.unwrap_or_default()
            ));
        }
        match self.family {
            ModelFamily::GroundTruth => {
                lines.push("candidates rolled out in MuJoCo from the real state".into())
            }
            ModelFamily::Tdm => lines.extend(trained_on_lines(&self.trained_on, scene)),
            ModelFamily::Other => {}
            ModelFamily::Mlp(_) => lines.extend(self.trained_on.iter().map(|e| {
                format!(
                    "trained on {} (obs {}, act {}); one step, no history",
                    e.name, e.observation_size, e.action_size
                )
            })),
        }
        lines
    }
}

/// What the panel says about the environments a model was trained on: each one when there are
/// few, a summary for a generalist, and whether the open scene is among them.
fn trained_on_lines(envs: &[EnvInfo], scene: &str) -> Vec<String> {
    const LIST_UP_TO: usize = 4;
    let mut lines: Vec<String> = if envs.len() <= LIST_UP_TO {
        envs.iter()
            .map(|e| {
                format!(
                    "trained on {} (obs {}, act {})",
                    e.name, e.observation_size, e.action_size
                )
            })
            .collect()
    } else {
        let mut sizes: Vec<(usize, usize)> = envs
            .iter()
            .map(|e| (e.observation_size, e.action_size))
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        vec![format!(
            "trained on {} environments ({}, …, {}); {} obs/act sizes from {}/{} to {}/{}",
            envs.len(),
            envs[0].name,
            envs[envs.len() - 1].name,
            sizes.len(),
            sizes[0].0,
            sizes[0].1,
            sizes[sizes.len() - 1].0,
            sizes[sizes.len() - 1].1,
        )]
    };
    lines.push(if envs.iter().any(|e| e.name == scene) {
        format!("{scene}: in its training data")
    } else {
        format!("{scene}: not in its training data (zero-shot)")
    });
    lines
}

#[cfg(test)]
mod tests {
    use super::trained_on_lines;
    use crate::data::EnvInfo;

    fn env(name: &str, n: usize, m: usize) -> EnvInfo {
        EnvInfo {
            name: name.into(),
            observation_size: n,
            action_size: m,
            control_dt_secs: 0.025,
            observation_labels: vec![],
            action_labels: vec![],
        }
    }

    #[test]
    fn a_generalist_is_summarised_and_says_whether_the_scene_was_trained_on() {
        let few = [env("cartpole-swingup", 5, 1)];
        assert_eq!(
            trained_on_lines(&few, "cartpole-swingup"),
            [
                "trained on cartpole-swingup (obs 5, act 1)",
                "cartpole-swingup: in its training data"
            ]
        );
        let many: Vec<EnvInfo> = (0..6)
            .map(|i| {
                env(
                    &format!("walker:chain:{}:{i}", 4 + i % 2),
                    18 + 2 * (i % 2),
                    4 + i % 2,
                )
            })
            .collect();
        let lines = trained_on_lines(&many, "walker:chain:6:99");
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("trained on 6 environments (walker:chain:4:0, …, walker:chain:5:5); 2 obs/act sizes from 18/4 to 20/5"), "{lines:?}");
        assert_eq!(
            lines[1],
            "walker:chain:6:99: not in its training data (zero-shot)"
        );
    }
}
