//! An MLP baseline as a [`DynamicsModel`]: all K candidates advance one step per forward pass,
//! each step from the model's own previous prediction (the model is first-order Markov: only
//! the current observation is used, not the history).
use super::checkpoint::{self, LoadedMlp};
use super::config::MlpMeta;
use super::model::{Mlp, decode_output, encode_inputs};
use crate::envs::EnvSpec;
use crate::models::{
    DynamicsModel, Imagined, ModelDescription, ModelError, ModelFamily, ModelSizes, PlanContext,
    TrainedOn, TrainingFacts, checkpoint_label,
};
use crate::tokenize::Tokenizer;
use candle_nn::VarMap;
use std::path::{Path, PathBuf};

/// A trained MLP baseline ready to plan in one environment.
pub struct MlpModel {
    net: Mlp,
    /// Keeps the weights the network reads.
    _varmap: VarMap,
    meta: MlpMeta,
    tokenizer: Tokenizer,
    source: PathBuf,
}

impl MlpModel {
    /// Loads a checkpoint for an environment; refuses one trained for other sizes.
    pub fn load(path: &Path, spec: &EnvSpec) -> Result<Self, ModelError> {
        let loaded = checkpoint::load(path)?;
        Self::from_loaded(loaded, path, spec)
    }

    pub fn from_loaded(
        loaded: LoadedMlp,
        source: &Path,
        spec: &EnvSpec,
    ) -> Result<Self, ModelError> {
        loaded
            .meta
            .fit(spec)
            .map_err(|why| ModelError::Shape(format!("{}: {why}", source.display())))?;
        let tokenizer =
            Tokenizer::new(loaded.meta.tokenizer).map_err(|e| ModelError::Tokenizer {
                path: source.to_path_buf(),
                source: e,
            })?;
        Ok(Self {
            net: loaded.model,
            _varmap: loaded.varmap,
            meta: loaded.meta,
            tokenizer,
            source: source.to_path_buf(),
        })
    }

    pub fn meta(&self) -> &MlpMeta {
        &self.meta
    }

    /// One step for a batch: next observations and rewards for rows of (o, a).
    pub fn predict(
        &self,
        observations: &[f64],
        actions: &[f64],
    ) -> Result<(Vec<f64>, Vec<f64>), ModelError> {
        let c = &self.meta.model;
        let (n, m) = (c.observation_size, c.action_size);
        let rows = observations.len() / n;
        if observations.len() != rows * n || actions.len() != rows * m {
            return Err(ModelError::Shape(format!(
                "{} observation and {} action values for rows of {n} / {m}",
                observations.len(),
                actions.len()
            )));
        }
        let input = encode_inputs(
            c,
            &self.meta.normalization,
            &self.tokenizer,
            observations.chunks(n).zip(actions.chunks(m)),
        );
        let out: Vec<f32> = self
            .net
            .forward(&input)
            .and_then(|t| t.flatten_all()?.to_vec1())
            .map_err(|e| ModelError::Compute {
                path: self.source.clone(),
                source: e,
            })?;
        let mut next = vec![0.0; rows * n];
        let mut rewards = vec![0.0; rows];
        for r in 0..rows {
            rewards[r] = decode_output(
                c,
                &self.meta.normalization,
                &observations[r * n..(r + 1) * n],
                &out[r * c.outputs()..(r + 1) * c.outputs()],
                &mut next[r * n..(r + 1) * n],
            );
        }
        Ok((next, rewards))
    }
}

impl DynamicsModel for MlpModel {
    fn name(&self) -> String {
        format!(
            "{} ({})",
            self.meta.model.variant.name(),
            checkpoint_label(&self.source)
        )
    }

    fn describe(&self) -> ModelDescription {
        let (meta, c) = (&self.meta, &self.meta.model);
        ModelDescription {
            name: self.name(),
            family: ModelFamily::Mlp(c.variant),
            source: Some(self.source.clone()),
            sizes: Some(ModelSizes::Mlp {
                layers: c.layers,
                hidden: c.hidden,
                parameters: c.parameter_count(),
            }),
            training: Some(TrainingFacts {
                steps: meta.steps_trained,
                seen: TrainedOn::Transitions(meta.samples_trained),
                held_out_loss: meta.held_out_loss,
            }),
            trained_on: vec![meta.env.clone()],
            predicts_rewards: self.predicts_rewards(),
            proposes_actions: self.proposes_actions(),
            decoding: None,
        }
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
        let c = self.meta.model;
        let (n, m) = (c.observation_size, c.action_size);
        ctx.check_sizes(actions, candidates, horizon_steps, n, m)?;
        let o_t: Vec<f64> = ctx.observation().iter().map(|&x| x as f64).collect();
        let mut state: Vec<f64> = o_t.repeat(candidates);
        let mut observations = vec![0.0; candidates * horizon_steps * n];
        let mut rewards = vec![0.0; candidates * horizon_steps];
        let mut failures: Vec<Option<(usize, String)>> = vec![None; candidates];
        let mut step_actions = vec![0.0; candidates * m];
        for t in 0..horizon_steps {
            for k in 0..candidates {
                let src = (k * horizon_steps + t) * m;
                step_actions[k * m..(k + 1) * m].copy_from_slice(&actions[src..src + m]);
            }
            let (next, r) = self.predict(&state, &step_actions)?;
            for k in 0..candidates {
                let row = &next[k * n..(k + 1) * n];
                if failures[k].is_none()
                    && (row.iter().any(|x| !x.is_finite()) || !r[k].is_finite())
                {
                    failures[k] = Some((t, "the prediction is not finite".into()));
                }
                let dst = (k * horizon_steps + t) * n;
                observations[dst..dst + n].copy_from_slice(row);
                rewards[k * horizon_steps + t] = r[k];
            }
            state = next;
        }
        Ok(Imagined {
            candidates,
            horizon_steps,
            observation_size: n,
            observations,
            rewards: Some(rewards),
            failures,
        })
    }
}
