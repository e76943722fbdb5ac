//! One recorded episode and its safetensors encoding.
use super::error::DataError;
use safetensors::tensor::{Dtype, TensorView};
use std::path::Path;

/// An episode: `observations` holds o_0 .. o_T (T + 1 rows), `actions` a_0 .. a_{T-1},
/// `rewards` r_0 .. r_{T-1}, r_t being the reward for taking a_t in o_t. Row-major f32.
#[derive(Clone, Debug, PartialEq)]
pub struct Episode {
    pub observation_size: usize,
    pub action_size: usize,
    pub observations: Vec<f32>,
    pub actions: Vec<f32>,
    pub rewards: Vec<f32>,
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl Episode {
    /// A new episode starting at `first_observation`.
    pub fn new(first_observation: &[f64], action_size: usize) -> Self {
        Self {
            observation_size: first_observation.len(),
            action_size,
            observations: first_observation.iter().map(|&x| x as f32).collect(),
            actions: Vec::new(),
            rewards: Vec::new(),
        }
    }

    /// Records one step: the action taken, the reward received, the observation reached.
    pub fn push(&mut self, action: &[f64], reward: f64, next_observation: &[f64]) {
        self.actions.extend(action.iter().map(|&x| x as f32));
        self.rewards.push(reward as f32);
        self.observations
            .extend(next_observation.iter().map(|&x| x as f32));
    }

    /// Steps taken.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }

    pub fn observation(&self, t: usize) -> &[f32] {
        &self.observations[t * self.observation_size..(t + 1) * self.observation_size]
    }

    pub fn action(&self, t: usize) -> &[f32] {
        &self.actions[t * self.action_size..(t + 1) * self.action_size]
    }

    /// The undiscounted return.
    pub fn total_reward(&self) -> f64 {
        self.rewards.iter().map(|&r| r as f64).sum()
    }

    /// The safetensors bytes of this episode.
    pub fn to_safetensors(&self) -> Result<Vec<u8>, DataError> {
        let t = self.len();
        let (o, a, r) = (
            f32_bytes(&self.observations),
            f32_bytes(&self.actions),
            f32_bytes(&self.rewards),
        );
        fn view(shape: Vec<usize>, data: &[u8]) -> Result<TensorView<'_>, DataError> {
            TensorView::new(Dtype::F32, shape, data)
                .map_err(|e| DataError::Mismatch(format!("episode arrays: {e}")))
        }
        let tensors = vec![
            ("actions", view(vec![t, self.action_size], &a)?),
            (
                "observations",
                view(vec![t + 1, self.observation_size], &o)?,
            ),
            ("rewards", view(vec![t], &r)?),
        ];
        safetensors::serialize(tensors, None)
            .map_err(|e| DataError::Mismatch(format!("cannot serialise episode: {e}")))
    }

    /// Parses an episode file; `path` names it in errors. Checks names, dtypes and shapes.
    pub fn from_safetensors(bytes: &[u8], path: &Path) -> Result<Self, DataError> {
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| DataError::format(path, format!("not a valid safetensors file ({e})")))?;
        let get = |name: &str, rank: usize| -> Result<(Vec<usize>, Vec<f32>), DataError> {
            let t = st
                .tensor(name)
                .map_err(|_| DataError::format(path, format!("no tensor '{name}'")))?;
            if t.dtype() != Dtype::F32 {
                return Err(DataError::format(
                    path,
                    format!("tensor '{name}' is {:?}, expected F32", t.dtype()),
                ));
            }
            if t.shape().len() != rank {
                return Err(DataError::format(
                    path,
                    format!(
                        "tensor '{name}' has shape {:?}, expected rank {rank}",
                        t.shape()
                    ),
                ));
            }
            let data = t
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            Ok((t.shape().to_vec(), data))
        };
        let (os, observations) = get("observations", 2)?;
        let (as_, actions) = get("actions", 2)?;
        let (rs, rewards) = get("rewards", 1)?;
        let t = rs[0];
        if os[0] != t + 1 || as_[0] != t {
            return Err(DataError::format(
                path,
                format!(
                    "inconsistent lengths: {} observations, {} actions, {t} rewards (expected T+1, T, T)",
                    os[0], as_[0]
                ),
            ));
        }
        Ok(Self {
            observation_size: os[1],
            action_size: as_[1],
            observations,
            actions,
            rewards,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safetensors_round_trip() {
        let mut e = Episode::new(&[0.5, -1.0, 2.0], 2);
        e.push(&[0.1, 0.2], 0.3, &[1.0, 2.0, 3.0]);
        e.push(&[-0.1, -0.2], 0.4, &[4.0, 5.0, 6.0]);
        let bytes = e.to_safetensors().unwrap();
        let back = Episode::from_safetensors(&bytes, Path::new("e.safetensors")).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.observation(2), &[4.0, 5.0, 6.0]);
        // Truncated.
        let err =
            Episode::from_safetensors(&bytes[..bytes.len() - 5], Path::new("cut.safetensors"))
                .unwrap_err();
        assert!(
            err.to_string().contains("cut.safetensors")
                && err.to_string().contains("not a valid safetensors")
        );
        let err = Episode::from_safetensors(b"hello", Path::new("x.safetensors")).unwrap_err();
        assert!(err.to_string().contains("x.safetensors"));
    }
}
