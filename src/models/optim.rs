//! AdamW (Loshchilov & Hutter, 2019) with state that can be saved, so training resumes exactly
//! (candle-nn's AdamW keeps its moments private), plus global-norm gradient clipping and the
//! warm-up + cosine learning-rate schedule.
use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};
use rayon::prelude::*;
use std::collections::HashMap;

/// Why saved optimizer moments do not fit the variables being optimised.
#[derive(Debug, thiserror::Error)]
pub enum OptimStateError {
    #[error("optimizer state has no {0}")]
    Missing(String),
    #[error("optimizer state {name} cannot be read: {message}")]
    Unreadable { name: String, message: String },
    #[error("optimizer state {name} has shape {found:?}, the variable {expected:?}")]
    Shape {
        name: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// Learning rate at `step`: linear warm-up to `peak` over `warmup` steps, then cosine decay to
/// `peak / 10` at `total`.
pub fn learning_rate(step: u64, peak: f64, warmup: u64, total: u64) -> f64 {
    if step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let span = total.saturating_sub(warmup).max(1) as f64;
    let progress = ((step - warmup) as f64 / span).min(1.0);
    let floor = peak / 10.0;
    floor + 0.5 * (peak - floor) * (1.0 + (std::f64::consts::PI * progress).cos())
}

pub struct AdamW {
    cfg: AdamWConfig,
    vars: Vec<(String, Var)>,
    /// The first and second moments of each variable, its values in order.
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    step: u64,
}

/// Values per parallel task of the update.
const CHUNK: usize = 1 << 14;

fn values(t: &Tensor) -> Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

impl AdamW {
    /// Optimises `vars` (name, variable); 1-D variables (norms, biases) get no weight decay.
    pub fn new(mut vars: Vec<(String, Var)>, cfg: AdamWConfig) -> Result<Self> {
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let zeros = || -> Vec<Vec<f32>> {
            vars.iter()
                .map(|(_, v)| vec![0f32; v.as_tensor().elem_count()])
                .collect()
        };
        let (m, v) = (zeros(), zeros());
        Ok(Self {
            cfg,
            vars,
            m,
            v,
            step: 0,
        })
    }

    pub fn steps_taken(&self) -> u64 {
        self.step
    }

    /// One update with learning rate `lr`; gradients are first clipped to global norm `clip`.
    /// Returns the gradient norm before clipping. A non-finite norm changes nothing (neither
    /// the variables nor the moments nor the step count): the caller decides what to do.
    pub fn step(&mut self, grads: &GradStore, lr: f64, clip: f64) -> Result<f64> {
        let gs: Vec<Option<Vec<f32>>> = self
            .vars
            .iter()
            .map(|(_, v)| grads.get(v.as_tensor()).map(values).transpose())
            .collect::<Result<_>>()?;
        let sq: f64 = gs
            .iter()
            .flatten()
            .map(|g| {
                g.par_chunks(CHUNK)
                    .map(|c| f64::from(c.iter().map(|x| x * x).sum::<f32>()))
                    .sum::<f64>()
            })
            .sum();
        let norm = sq.sqrt();
        if !norm.is_finite() {
            return Ok(norm);
        }
        let scale = if clip > 0.0 && norm > clip {
            clip / norm
        } else {
            1.0
        };
        self.step += 1;
        let (b1, b2) = (self.cfg.beta1, self.cfg.beta2);
        let bc1 = 1.0 - b1.powi(self.step as i32);
        let bc2 = 1.0 - b2.powi(self.step as i32);
        for (i, g) in gs.into_iter().enumerate() {
            let Some(g) = g else { continue };
            let var = &self.vars[i].1;
            let theta = var.as_tensor();
            let decay = if theta.rank() > 1 {
                self.cfg.weight_decay
            } else {
                0.0
            };
            let mut values = values(theta)?;
            // In f32, as the candle ops this replaces: one pass per variable.
            let (scale, b1, b2, eps) = (scale as f32, b1 as f32, b2 as f32, self.cfg.eps as f32);
            let (inv1, inv2) = ((1.0 / bc1) as f32, (1.0 / bc2) as f32);
            let (keep, lr) = ((1.0 - lr * decay) as f32, lr as f32);
            values
                .par_chunks_mut(CHUNK)
                .zip(self.m[i].par_chunks_mut(CHUNK))
                .zip(self.v[i].par_chunks_mut(CHUNK))
                .zip(g.par_chunks(CHUNK))
                .for_each(|(((th, m), v), g)| {
                    for j in 0..th.len() {
                        let g = g[j] * scale;
                        m[j] = m[j] * b1 + g * (1.0 - b1);
                        v[j] = v[j] * b2 + g * g * (1.0 - b2);
                        let update = (m[j] * inv1) / ((v[j] * inv2).sqrt() + eps);
                        th[j] = th[j] * keep - update * lr;
                    }
                });
            var.set(&Tensor::from_vec(values, theta.shape(), theta.device())?)?;
        }
        Ok(norm)
    }

    /// The moments as named tensors (`m.<var>`, `v.<var>`), for saving.
    pub fn state(&self) -> HashMap<String, Tensor> {
        let mut out = HashMap::new();
        for (i, (name, _)) in self.vars.iter().enumerate() {
            let t = self.vars[i].1.as_tensor();
            for (kind, moment) in [("m", &self.m[i]), ("v", &self.v[i])] {
                let saved = Tensor::from_vec(moment.clone(), t.shape(), t.device())
                    .expect("a moment holds its variable's element count");
                out.insert(format!("{kind}.{name}"), saved);
            }
        }
        out
    }

    /// Restores moments saved by [`AdamW::state`] after `step` updates.
    pub fn load_state(
        &mut self,
        tensors: &HashMap<String, Tensor>,
        step: u64,
    ) -> std::result::Result<(), OptimStateError> {
        for (i, (name, var)) in self.vars.iter().enumerate() {
            for (kind, slot) in [("m", &mut self.m[i]), ("v", &mut self.v[i])] {
                let key = format!("{kind}.{name}");
                let t = tensors
                    .get(&key)
                    .ok_or_else(|| OptimStateError::Missing(key.clone()))?;
                if t.dims() != var.as_tensor().dims() {
                    return Err(OptimStateError::Shape {
                        name: key,
                        found: t.dims().to_vec(),
                        expected: var.as_tensor().dims().to_vec(),
                    });
                }
                *slot = values(t).map_err(|e| OptimStateError::Unreadable {
                    name: key.clone(),
                    message: e.to_string(),
                })?;
            }
        }
        self.step = step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays() {
        assert!((learning_rate(0, 1e-3, 10, 100) - 1e-4).abs() < 1e-12);
        assert!((learning_rate(9, 1e-3, 10, 100) - 1e-3).abs() < 1e-12);
        assert!((learning_rate(10, 1e-3, 10, 100) - 1e-3).abs() < 1e-12);
        assert!((learning_rate(100, 1e-3, 10, 100) - 1e-4).abs() < 1e-12);
        assert!(learning_rate(55, 1e-3, 10, 100) < 1e-3 && learning_rate(55, 1e-3, 10, 100) > 1e-4);
    }

    #[test]
    fn saved_moments_must_fit_the_variables() {
        let dev = &candle_core::Device::Cpu;
        let var = Var::zeros((2, 3), candle_core::DType::F32, dev).unwrap();
        let mut optim = AdamW::new(vec![("w".into(), var)], AdamWConfig::default()).unwrap();
        let mut state = optim.state();
        optim.load_state(&state, 4).unwrap();
        assert_eq!(optim.steps_taken(), 4);
        let wrong = Tensor::zeros((3, 2), candle_core::DType::F32, dev).unwrap();
        state.insert("v.w".into(), wrong);
        let err = optim.load_state(&state, 5).unwrap_err().to_string();
        assert_eq!(
            err,
            "optimizer state v.w has shape [3, 2], the variable [2, 3]"
        );
        state.remove("m.w");
        let err = optim.load_state(&state, 5).unwrap_err().to_string();
        assert_eq!(err, "optimizer state has no m.w");
        assert_eq!(optim.steps_taken(), 4);
    }
}
