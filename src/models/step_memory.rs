//! What one training step will ask of memory, checked before the run starts, so that a
//! `--context` or `--batch` too large for the machine is refused with its estimate instead of
//! aborting (or swapping) mid-step.
//!
//! The estimates count the float32 tensors a step keeps alive at once, with the forward values
//! and their gradients: for the TDM the attention scores (`batch x heads x context^2` per layer,
//! plus the bias), the per-token activations of every layer and the logits; for an MLP the
//! activations of every hidden layer. They are upper-end figures of the graph's size, not
//! measurements of the allocator's peak.
use super::mlp::MlpConfig;
use super::tdm::TdmConfig;
use super::training::TrainError;

/// The most one training step may hold: a third of this 24 GiB machine, leaving room for the
/// data, the optimizer state and the rest of the process.
pub const MAX_STEP_BYTES: u128 = 8 << 30;

/// Float32 bytes a TDM training step on `batch` windows of the model's context holds.
pub fn tdm_step_bytes(cfg: &TdmConfig, batch: usize) -> u128 {
    let (b, t, l) = (
        batch as u128,
        cfg.context_tokens as u128,
        cfg.layers as u128,
    );
    let (h, d, f, v) = (
        cfg.heads as u128,
        cfg.width as u128,
        cfg.mlp_width as u128,
        cfg.vocab_size as u128,
    );
    // Scores, softmax and their gradient per layer; the bias once.
    let attention = b * h * t * t * 3 * l + h * t * t;
    // Per token and layer: the residual stream, norms, q/k/v/output and the MLP, each with its
    // gradient.
    let activations = b * t * (10 * d + 3 * f) * l * 2;
    // Logits, their softmax and gradient.
    let logits = b * t * v * 3;
    (attention + activations + logits) * 4
}

/// Float32 bytes an MLP training step on `batch` transitions holds.
pub fn mlp_step_bytes(cfg: &MlpConfig, batch: usize) -> u128 {
    let inputs = (cfg.observation_size + cfg.action_size) as u128 * (cfg.embed.max(1) as u128);
    let hidden = cfg.hidden as u128 * cfg.layers as u128;
    let outputs = (cfg.observation_size + 1) as u128 * cfg.vocab_size.max(1) as u128;
    batch as u128 * (inputs + hidden + outputs) * 2 * 4
}

/// Refuses a step of `bytes` over [`MAX_STEP_BYTES`], naming what sized it (`what`, e.g.
/// "--batch 16 x --context 256") and the way out.
pub fn check_step_bytes(bytes: u128, what: &str) -> Result<(), TrainError> {
    if bytes <= MAX_STEP_BYTES {
        return Ok(());
    }
    Err(TrainError::Options(format!(
        "{what}: one training step would hold about {:.1} GiB, over the {} GiB limit; \
         lower --batch or --context",
        bytes as f64 / (1u64 << 30) as f64,
        MAX_STEP_BYTES >> 30
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_presets_fit_and_a_million_token_context_does_not() {
        let vocab = 3 * 1024 + 1;
        for name in ["tiny", "small", "base"] {
            let cfg = TdmConfig::preset(name, vocab).expect("a preset");
            let bytes = tdm_step_bytes(&cfg, 16);
            assert!(
                check_step_bytes(bytes, name).is_ok(),
                "{name}: {bytes} bytes"
            );
        }
        let mut cfg = TdmConfig::preset("small", vocab).expect("a preset");
        cfg.context_tokens = 1_000_000;
        let err = check_step_bytes(tdm_step_bytes(&cfg, 16), "--context 1000000")
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("--context 1000000") && err.contains("GiB"),
            "{err}"
        );
        cfg.context_tokens = 256;
        assert!(check_step_bytes(tdm_step_bytes(&cfg, 100_000_000), "--batch").is_err());
    }
}
