//! `tdm-workbench bench tdm`: training tokens/s, planning speed and the FLOP rate reached.
use crate::data::{EnvInfo, Episode};
use crate::models::tdm::{
    CHECKPOINT_VERSION, CheckpointMeta, LossWeights, Tdm, TdmConfig, TrainOptions, save,
};
use crate::models::{LearnedModel, PlanContext};
use crate::plan::NoiseConfig;
use crate::tokenize::{Tokenizer, TokenizerConfig};
use anyhow::{Context, bail};
use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use clap::Args;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct TdmBenchArgs {
    /// A checkpoint to plan with (default: a fresh model of --preset).
    #[arg(long)]
    checkpoint: Option<std::path::PathBuf>,
    #[arg(long, default_value = "small")]
    preset: String,
    #[arg(long)]
    context: Option<usize>,
    #[arg(long, default_value = "cartpole-swingup")]
    env: String,
    #[arg(long, default_value_t = 128)]
    samples: usize,
    #[arg(long, default_value_t = 20)]
    horizon: usize,
    /// Steps of episode history before planning.
    #[arg(long, default_value_t = 100)]
    history: usize,
    #[arg(long, default_value_t = 16)]
    batch: usize,
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Training steps timed (batch x context tokens each).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    train_steps: u64,
    /// Also write the figures as JSON (`plan_ms`, `generated_tokens_per_s`,
    /// `train_tokens_per_s`, `sgemm_gflops` (all cores), `flop_fraction` (the plan's share of
    /// it), and what was measured), so they
    /// can be tracked from run to run. An existing file is replaced (written atomically).
    #[arg(long, value_name = "FILE")]
    json: Option<std::path::PathBuf>,
}

/// Single-thread sgemm rate (GFLOP/s) on n x n x n.
fn sgemm_rate(n: usize) -> f64 {
    let a = vec![1.0f32; n * n];
    let b = vec![0.5f32; n * n];
    let mut c = vec![0.0f32; n * n];
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        // SAFETY: the three buffers hold n x n values each, matching the strides.
        unsafe {
            matrixmultiply::sgemm(
                n,
                n,
                n,
                1.0,
                a.as_ptr(),
                n as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(&c);
    2.0 * (n * n * n) as f64 / best / 1e9
}

/// The benchmark's scratch folder in the temp directory, removed when dropped (on success and
/// on any error).
struct ScratchDir(std::path::PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn run(args: &TdmBenchArgs) -> anyhow::Result<()> {
    let mut env = super::open_env(&args.env)?;
    let spec = env.spec().clone();
    let (n, m) = (spec.observation_size, spec.action_size);
    let vocab = Tokenizer::new(TokenizerConfig::default())?.vocab_size() as usize;
    let scratch =
        ScratchDir(std::env::temp_dir().join(format!("tdm-bench-{}", std::process::id())));
    let dir = scratch.0.clone();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (checkpoint, cfg) = match &args.checkpoint {
        Some(p) => (p.clone(), crate::models::tdm::load(p)?.meta.model),
        None => {
            let Some(mut cfg) = TdmConfig::preset(&args.preset, vocab) else {
                bail!("--preset '{}': unknown", args.preset)
            };
            if let Some(c) = args.context {
                cfg.context_tokens = c;
            }
            let varmap = VarMap::new();
            Tdm::new(
                cfg,
                VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
            )?;
            Tdm::init_weights(&cfg, &varmap, 0)?;
            let meta = CheckpointMeta {
                version: CHECKPOINT_VERSION,
                kind: "tdm".into(),
                model: cfg,
                tokenizer: TokenizerConfig::default(),
                envs: vec![EnvInfo::from_spec(&spec)],
                loss: LossWeights::default(),
                steps_trained: 0,
                tokens_trained: 0,
                data: vec![],
                held_out_loss: None,
            };
            let path = dir.join("bench.safetensors");
            save(&path, &varmap, &meta, None)?;
            (path, cfg)
        }
    };
    let gemm = sgemm_rate(512);
    let cores = std::thread::available_parallelism().map_or(1, |x| x.get());
    println!(
        "model: {} layers, width {}, {} heads, context {} tokens, {} parameters",
        cfg.layers,
        cfg.width,
        cfg.heads,
        cfg.context_tokens,
        cfg.parameter_count()
    );
    println!(
        "machine: sgemm 512^3 {gemm:.1} GFLOP/s on one thread ({cores} cores -> ~{:.0} GFLOP/s)",
        gemm * cores as f64
    );

    // Training throughput on a small Brownian dataset of this task.
    let data = dir.join("data");
    if !data.join("meta.json").exists() {
        let mut policy = crate::plan::NoisePolicy::new(NoiseConfig::default(), m, 200);
        let mut ds = crate::data::Dataset::create_or_resume(
            &data,
            EnvInfo::from_spec(&spec),
            serde_json::json!({"kind": "brownian"}),
            0,
            None,
        )?;
        let opts = crate::data::CollectOptions {
            episodes: 4,
            shard: crate::data::Shard::WHOLE,
            max_steps: 200,
        };
        crate::data::collect(env.as_mut(), &mut policy, &mut ds, &opts, |_| {})?;
    }
    let train_steps = args.train_steps;
    let opts = TrainOptions {
        model: cfg,
        tokenizer: Default::default(),
        steps: train_steps,
        batch: args.batch,
        lr: 1e-3,
        warmup: 2,
        clip: 1.0,
        adamw: Default::default(),
        held_out: 0.0,
        loss: LossWeights::default(),
        seed: 0,
        eval_every: 0,
        save_every: 0,
    };
    let summary = crate::models::tdm::train(
        &opts,
        std::slice::from_ref(&data),
        &dir.join("train.safetensors"),
        false,
        None,
        &std::sync::atomic::AtomicBool::new(false),
        |_| {},
    )?;
    let (d, f, l) = (cfg.width as f64, cfg.mlp_width as f64, cfg.layers as f64);
    // Matrix FLOPs per token: the blocks' weights, the head over one 1024-bin range, and
    // attention over (on average) half the window. Backward costs twice the forward.
    let per_token_weights = 2.0 * l * (4.0 * d * d + 2.0 * d * f);
    let head_per_token = 2.0 * d * 1024.0;
    let train_attention = 4.0 * l * d * cfg.context_tokens as f64 / 2.0;
    let train_flops =
        3.0 * (per_token_weights + head_per_token + train_attention) * summary.tokens_per_sec;
    println!(
        "training: batch {} x {} tokens: {:.0} tokens/s, ~{:.2} GFLOP/s (matrix FLOPs, forward + backward)",
        args.batch,
        cfg.context_tokens,
        summary.tokens_per_sec,
        train_flops / 1e9
    );

    // Planning throughput.
    let mut model = LearnedModel::load(&checkpoint, &spec)
        .context("cannot load the checkpoint for planning")?
        .into_dyn();
    let obs = env.reset(0)?;
    let mut history = Episode::new(&obs, m);
    let mut rng = StdRng::seed_from_u64(0);
    let acts = NoiseConfig::default().sample(&mut rng, 1, args.history, m);
    for t in 0..args.history.min(spec.episode_steps) {
        let a = &acts[t * m..(t + 1) * m];
        let s = env.step(a)?;
        history.push(a, s.reward, &s.observation);
    }
    let actions = NoiseConfig::default().sample(&mut rng, args.samples, args.horizon, m);
    let ctx = PlanContext {
        history: &history,
        state: None,
    };
    let mut times = Vec::new();
    for _ in 0..args.repeats.max(1) {
        let start = Instant::now();
        model.imagine(&ctx, &actions, args.samples, args.horizon)?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let best = times[0];
    let generated = model
        .tokens_per_plan(args.samples, args.horizon, 0)
        .unwrap_or_default() as f64;
    let processed = (args.samples * args.horizon * Tokenizer::step_len(n, m)) as f64;
    let head = head_per_token * generated;
    let keys = cfg.context_tokens.min(
        history.len() * Tokenizer::step_len(n, m) + args.horizon * Tokenizer::step_len(n, m) / 2,
    ) as f64;
    let attention = 4.0 * l * d * keys * processed;
    let flops = per_token_weights * processed + head + attention;
    let flop_fraction = flops / best / 1e9 / (gemm * cores as f64);
    if let Some(path) = &args.json {
        let figures = serde_json::json!({
            "env": args.env,
            "checkpoint": args.checkpoint.as_ref().map(|p| p.display().to_string()),
            "preset": args.checkpoint.is_none().then_some(&args.preset),
            "layers": cfg.layers,
            "width": cfg.width,
            "heads": cfg.heads,
            "context_tokens": cfg.context_tokens,
            "samples": args.samples,
            "horizon": args.horizon,
            "history_steps": args.history,
            "cores": cores,
            "plan_ms": best * 1e3,
            "plan_ms_all": times.iter().map(|t| t * 1e3).collect::<Vec<_>>(),
            "generated_tokens_per_s": generated / best,
            "plan_gflops": flops / best / 1e9,
            "train_batch": args.batch,
            "train_tokens_per_s": summary.tokens_per_sec,
            "train_gflops": train_flops / 1e9,
            "sgemm_gflops": gemm * cores as f64,
            "sgemm_gflops_per_thread": gemm,
            "flop_fraction": flop_fraction,
        });
        let text = serde_json::to_string_pretty(&figures)?;
        crate::files::atomic_write(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("figures written to {}", path.display());
    }
    println!(
        "planning: K = {} x N = {} ({} steps of history): {:.1} ms per plan (best of {}), {:.0} generated tokens/s, ~{:.2} GFLOP/s ({:.0}% of the {}-core sgemm rate)",
        args.samples,
        args.horizon,
        args.history,
        best * 1e3,
        times.len(),
        generated / best,
        flops / best / 1e9,
        100.0 * flop_fraction,
        cores
    );
    Ok(())
}
