//! `tdm-workbench train`: train, resume or fine-tune a TDM or an MLP baseline from datasets.
use super::progress::{bar_from, duration};
use crate::models::mlp::{MlpTrainOptions, MlpVariant, mlp_settings, train_mlp};
use crate::models::tdm::{
    AdamWConfig, LossWeights, TdmConfig, TrainOptions, settings, train, train_state_path,
};
use crate::models::training::{Settings, TrainProgress, TrainSummary, changed_settings};
use crate::tokenize::{Tokenizer, TokenizerConfig};
use anyhow::{Context, bail};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Dataset folders (several for a generalist), comma-separated or repeated.
    #[arg(long, value_delimiter = ',', required = true)]
    data: Vec<PathBuf>,
    /// The checkpoint to write (and, with --resume, to continue).
    #[arg(long)]
    out: PathBuf,
    /// What to train: tdm, or an MLP baseline: mlp, mlp-delta, mlp-tokenized,
    /// mlp-tokenized-delta (the paper's best baseline).
    #[arg(long, default_value = "tdm")]
    model: String,
    /// Model size for a new model: tiny, small, base, large (default: small for the TDM,
    /// base, ~0.4M parameters as in the paper, for an MLP).
    #[arg(long)]
    preset: Option<String>,
    /// Override the preset's context window (tokens).
    #[arg(long)]
    context: Option<usize>,
    #[arg(long, default_value_t = 2000)]
    steps: u64,
    /// Windows per batch (TDM, default 16) or transitions per batch (MLP, default 256).
    #[arg(long)]
    batch: Option<usize>,
    /// Peak learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    #[arg(long, default_value_t = 100)]
    warmup: u64,
    /// Clip gradients to this global norm (0: off).
    #[arg(long, default_value_t = 1.0)]
    clip: f64,
    #[arg(long, default_value_t = 0.01)]
    weight_decay: f64,
    /// Fraction of each dataset's episodes held out for the held-out loss.
    #[arg(long, default_value_t = 0.1)]
    held_out: f64,
    /// Weight of action tokens in the loss (above 0 the model also learns a BC policy).
    #[arg(long, default_value_t = 0.0)]
    bc_weight: f32,
    /// Soft targets: each learned token's target spread as a Gaussian of this many bins over
    /// its neighbours (0: the one-bin target). The held-out loss stays the one-bin loss.
    #[arg(long, default_value_t = 0.0)]
    smoothing_bins: f32,
    /// Tokenizer of a new TDM: bins per range (Gato: 1024).
    #[arg(long, default_value_t = 1024)]
    bins: u32,
    /// Tokenizer of a new TDM: mu of the mu-law (Gato: 100).
    #[arg(long, default_value_t = 100.0)]
    mu: f64,
    /// Tokenizer of a new TDM: M of the mu-law, the magnitude mapped to the last bin (Gato: 256).
    #[arg(long, default_value_t = 256.0)]
    mu_law_m: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 100)]
    eval_every: u64,
    #[arg(long, default_value_t = 250)]
    save_every: u64,
    /// Continue the run in --out exactly where it stopped.
    #[arg(long)]
    resume: bool,
    /// Start from this checkpoint's weights (fine-tuning, the few-shot setting).
    #[arg(long)]
    init: Option<PathBuf>,
    /// Replace an existing checkpoint in --out (and its training state) with a new run.
    #[arg(long)]
    force: bool,
    /// With --resume: continue even where the settings differ from those the checkpoint
    /// records (the new ones are recorded from then on).
    #[arg(long)]
    accept_changed_settings: bool,
}

/// The exit status of a run that Ctrl-C stopped (after saving), as shells report SIGINT.
const INTERRUPTED: i32 = 130;

impl TrainArgs {
    fn adamw(&self) -> AdamWConfig {
        AdamWConfig {
            weight_decay: self.weight_decay,
            ..AdamWConfig::default()
        }
    }
}

pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    if args.resume && args.init.is_some() {
        bail!("--resume and --init exclude each other");
    }
    if args.resume && args.force {
        bail!("--resume and --force exclude each other");
    }
    if args.batch == Some(0) || args.steps == 0 {
        bail!("--batch and --steps must be positive");
    }
    for (flag, value) in [
        ("--smoothing-bins", f64::from(args.smoothing_bins)),
        ("--bc-weight", f64::from(args.bc_weight)),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            bail!("{flag} {value}: must be a number >= 0");
        }
    }
    if !(args.lr.is_finite() && args.lr > 0.0) {
        bail!("--lr {}: must be a finite number > 0", args.lr);
    }
    for (flag, value) in [("--clip", args.clip), ("--weight-decay", args.weight_decay)] {
        if !(value.is_finite() && value >= 0.0) {
            bail!("{flag} {value}: must be a finite number >= 0");
        }
    }
    if !(0.0..1.0).contains(&args.held_out) {
        bail!("--held-out {}: must be a fraction in [0, 1)", args.held_out);
    }
    let side = train_state_path(&args.out);
    if !args.resume && !args.force && (args.out.exists() || side.exists()) {
        bail!(
            "{} already exists: pass --force to replace it with a new run, or --resume to \
             continue it",
            args.out.display()
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        // Ctrl-C: finish the current step, save, exit with INTERRUPTED.
        ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed))
            .context("cannot install the Ctrl-C handler")?;
    }
    if args.model != "tdm" {
        return run_mlp(args, &stop);
    }
    let tokenizer = TokenizerConfig {
        bins: args.bins,
        mu: args.mu,
        m: args.mu_law_m,
        ..TokenizerConfig::default()
    };
    let vocab = Tokenizer::new(tokenizer)
        .with_context(|| "--bins/--mu/--mu-law-m")?
        .vocab_size() as usize;
    let preset = args.preset.as_deref().unwrap_or("small");
    let Some(mut model) = TdmConfig::preset(preset, vocab) else {
        bail!("--preset '{preset}': expected tiny, small, base or large");
    };
    if let Some(c) = args.context {
        model.context_tokens = c;
    }
    let opts = TrainOptions {
        model,
        tokenizer,
        steps: args.steps,
        batch: args.batch.unwrap_or(16),
        lr: args.lr,
        warmup: args.warmup,
        clip: args.clip,
        adamw: args.adamw(),
        held_out: args.held_out,
        loss: LossWeights {
            actions: args.bc_weight,
            smoothing_bins: args.smoothing_bins,
            ..LossWeights::default()
        },
        seed: args.seed,
        eval_every: args.eval_every,
        save_every: args.save_every,
    };
    check_resume(args, &settings(&opts, &args.data))?;
    let what = match (&args.init, args.resume) {
        (_, true) => format!("the run in {}", args.out.display()),
        (Some(init), _) => format!("from {}", init.display()),
        (None, false) => format!(
            "a new '{preset}' model ({} parameters, context {} tokens)",
            model.parameter_count(),
            model.context_tokens
        ),
    };
    eprintln!(
        "training {what} on {} dataset(s) -> {}",
        args.data.len(),
        args.out.display()
    );
    let summary = train(
        &opts,
        &args.data,
        &args.out,
        args.resume,
        args.init.as_deref(),
        &stop,
        |p| report(p, "tok/s"),
    )?;
    print_summary(args, &summary, "tokens");
    finish(args, &summary)
}

/// With --resume: refuses settings that differ from those the checkpoint records, naming each,
/// unless --accept-changed-settings.
fn check_resume(args: &TrainArgs, now: &Settings) -> anyhow::Result<()> {
    if !args.resume {
        return Ok(());
    }
    match changed_settings(&args.out, now)? {
        None => eprintln!(
            "{} records no training settings; this run's are recorded from now on",
            args.out.display()
        ),
        Some(changes) if changes.is_empty() => {}
        Some(changes) if args.accept_changed_settings => eprintln!(
            "resuming with changed settings (--accept-changed-settings):\n  {}",
            changes.join("\n  ")
        ),
        Some(changes) => bail!(
            "{}: --resume with settings that differ from the run it continues:\n  {}\n(run \
             with the same settings, or pass --accept-changed-settings to continue anyway)",
            args.out.display(),
            changes.join("\n  ")
        ),
    }
    Ok(())
}

/// A run that Ctrl-C stopped exits with [`INTERRUPTED`] after saying how to continue.
fn finish(args: &TrainArgs, summary: &TrainSummary) -> anyhow::Result<()> {
    if summary.stopped_early {
        eprintln!(
            "interrupted at step {}: the checkpoint and its training state are saved in {}; \
             run the same command with --resume to continue",
            summary.steps,
            args.out.display()
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        std::process::exit(INTERRUPTED);
    }
    Ok(())
}

pub fn report(p: &TrainProgress, rate: &str) {
    if p.step.is_multiple_of(10) || p.step == p.total_steps {
        let held = p
            .held_out_loss
            .map_or(String::new(), |h| format!(", held-out {h:.3}"));
        let extra = format!(
            " steps, loss {:.3}{held}, lr {:.1e}, {:.0} {rate}",
            p.loss, p.lr, p.tokens_per_sec
        );
        bar_from(
            p.first_step as usize,
            p.step as usize,
            p.total_steps as usize,
            "",
            &extra,
            p.elapsed_secs,
        );
    }
}

fn print_summary(args: &TrainArgs, summary: &TrainSummary, unit: &str) {
    println!(
        "{}: {} steps ({} {unit} in all), final loss {:.4}, held-out {}, {:.0} {unit}/s, {} this run{}",
        args.out.display(),
        summary.steps,
        summary.tokens,
        summary.final_loss,
        summary
            .held_out_loss
            .map_or("-".into(), |h| format!("{h:.4}")),
        summary.tokens_per_sec,
        duration(summary.elapsed_secs),
        if summary.stopped_early {
            " (stopped early; --resume continues)"
        } else {
            ""
        }
    );
}

fn run_mlp(args: &TrainArgs, stop: &AtomicBool) -> anyhow::Result<()> {
    let Some(variant) = MlpVariant::parse(&args.model) else {
        bail!(
            "--model '{}': expected tdm, {}",
            args.model,
            MlpVariant::ALL.map(|v| v.name()).join(", ")
        );
    };
    let default_tokenizer = TokenizerConfig::default();
    if args.bc_weight > 0.0
        || args.smoothing_bins != 0.0
        || args.context.is_some()
        || (args.bins, args.mu, args.mu_law_m)
            != (
                default_tokenizer.bins,
                default_tokenizer.mu,
                default_tokenizer.m,
            )
    {
        bail!(
            "--bc-weight, --smoothing-bins, --context, --bins, --mu and --mu-law-m apply to the \
             TDM only"
        );
    }
    let opts = MlpTrainOptions {
        preset: args.preset.clone().unwrap_or_else(|| "base".into()),
        variant,
        steps: args.steps,
        batch: args.batch.unwrap_or(256),
        lr: args.lr,
        warmup: args.warmup,
        clip: args.clip,
        adamw: args.adamw(),
        held_out: args.held_out,
        seed: args.seed,
        eval_every: args.eval_every,
        save_every: args.save_every,
    };
    check_resume(args, &mlp_settings(&opts, &args.data))?;
    eprintln!(
        "training {} on {} dataset(s) -> {}",
        if args.resume {
            "resumed run".to_string()
        } else {
            format!("'{}' {} model", opts.preset, variant.name())
        },
        args.data.len(),
        args.out.display()
    );
    let summary = train_mlp(
        &opts,
        &args.data,
        &args.out,
        args.resume,
        args.init.as_deref(),
        stop,
        |p| report(p, "samples/s"),
    )?;
    eprintln!("{} parameters", summary.parameters);
    print_summary(args, &summary, "samples");
    finish(args, &summary)
}
