//! `tdm-workbench experiment`: the generalist experiments, stage by stage.
use super::train::report;
use crate::data::Shard;
use crate::experiment::few_shot::{FewShot, FewShotConfig, StepsPerM};
use crate::experiment::zero_shot::{ZeroShot, ZeroShotConfig, ZeroShotReport};
use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Subcommand, Debug)]
pub enum ExperimentCommand {
    /// One TDM trained on many walkers, evaluated on walkers it never saw (paper section
    /// 5.2.1): collect, train, eval, report; each stage resumes from its files.
    ZeroShot(ZeroShotArgs),
    /// A zero-shot experiment's generalist fine-tuned on M episodes of one of its held-out
    /// walkers, against a TDM from scratch and the best MLP on the same data (Fig. 6b shape).
    FewShot(FewShotArgs),
}

#[derive(Args, Debug)]
pub struct FewShotArgs {
    #[arg(long)]
    dir: PathBuf,
    /// The zero-shot experiment (its generalist and its settings).
    #[arg(long)]
    zero_shot_dir: PathBuf,
    #[arg(long, value_enum, default_value_t = Stage::All)]
    stage: Stage,
    /// Which of its held-out walkers is the target.
    #[arg(long, default_value_t = 0)]
    target: usize,
    /// The amounts M of target episodes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    episodes: Vec<usize>,
    /// Fine-tuning steps: one count for every M, or one per M (comma-separated, in the order
    /// of --episodes).
    #[arg(long, value_delimiter = ',', default_value = "300")]
    finetune_steps: Vec<u64>,
    /// Training steps of the TDM from scratch: one count, or one per M.
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    scratch_steps: Vec<u64>,
    #[arg(long, default_value_t = 2000)]
    mlp_steps: u64,
    /// Planning episodes per model; raising it later extends the finished evaluations.
    #[arg(long, default_value_t = 2)]
    eval_episodes: usize,
    /// Expert episodes on the target from initial states of their own, never trained on: every
    /// TDM's loss on them is reported (0: none).
    #[arg(long, default_value_t = 4)]
    holdout_episodes: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Stage {
    /// Every stage in order (collect and eval for the given --shard only).
    All,
    Collect,
    Train,
    Eval,
    Report,
}

#[derive(Args, Debug)]
pub struct ZeroShotArgs {
    /// The experiment's folder (settings, data, model, evaluations, results).
    #[arg(long)]
    dir: PathBuf,
    #[arg(long, value_enum, default_value_t = Stage::All)]
    stage: Stage,
    /// This job's share of the collect and eval stages, "i/n": walker i % n == i.
    #[arg(long, default_value = "0/1")]
    shard: String,
    /// Walker family: line, chain, bush or tree.
    #[arg(long, default_value = "chain")]
    family: String,
    /// Degrees of freedom, "A..=B" (drawn per walker from its seed) or one number.
    #[arg(long, default_value = "4..=8")]
    dof: String,
    /// M: training walkers.
    #[arg(long, default_value_t = 100)]
    walkers: usize,
    #[arg(long, default_value_t = 10)]
    held_out: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Expert (ground-truth MPC) episodes per training walker.
    #[arg(long, default_value_t = 2)]
    episodes: usize,
    /// Brownian-noise episodes per training walker beside the expert's (low-reward data for
    /// the reward model; 0 keeps the dataset expert-only).
    #[arg(long, default_value_t = 0)]
    random_episodes: usize,
    /// Steps per episode.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// K of the expert and of every evaluated planner.
    #[arg(long, default_value_t = 32)]
    samples: usize,
    /// N of the expert and of every evaluated planner.
    #[arg(long, default_value_t = 15)]
    horizon: usize,
    /// Expert steps at the start of each evaluation episode (the prompt).
    #[arg(long, default_value_t = 8)]
    prompt: usize,
    #[arg(long, default_value_t = 2)]
    eval_episodes: usize,
    /// TDM preset: tiny, small, base, large.
    #[arg(long, default_value = "small")]
    preset: String,
    /// The TDM's context window in tokens.
    #[arg(long, default_value_t = 256)]
    context: usize,
    #[arg(long, default_value_t = 4000)]
    train_steps: u64,
    #[arg(long, default_value_t = 16)]
    batch: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
}

fn parse_dof(s: &str) -> anyhow::Result<(usize, usize)> {
    let bad = || format!("--dof '{s}': expected a number like 8 or a range like 4..=8");
    if let Some((a, b)) = s.split_once("..=") {
        let a = a.trim().parse().ok().with_context(bad)?;
        let b = b.trim().parse().ok().with_context(bad)?;
        return Ok((a, b));
    }
    let d = s.trim().parse().ok().with_context(bad)?;
    Ok((d, d))
}

pub fn run(cmd: &ExperimentCommand) -> anyhow::Result<()> {
    match cmd {
        ExperimentCommand::ZeroShot(args) => zero_shot(args),
        ExperimentCommand::FewShot(args) => few_shot(args),
    }
}

/// Ctrl-C asks training to save and stop; a second Ctrl-C (or one outside training) exits.
fn stop_on_ctrl_c() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(stop)
}

fn few_shot(args: &FewShotArgs) -> anyhow::Result<()> {
    let exp = FewShot::open(
        &args.dir,
        FewShotConfig {
            zero_shot_dir: args.zero_shot_dir.clone(),
            target: args.target,
            episodes: args.episodes.clone(),
            finetune_steps: StepsPerM::from_list(&args.finetune_steps),
            scratch_steps: StepsPerM::from_list(&args.scratch_steps),
            mlp_steps: args.mlp_steps,
            eval_episodes: args.eval_episodes,
            holdout_episodes: args.holdout_episodes,
        },
    )?;
    let stages = match args.stage {
        Stage::All => vec![Stage::Collect, Stage::Train, Stage::Eval, Stage::Report],
        s => vec![s],
    };
    let mut log = |line: &str| println!("{line}");
    println!("target: {} ({} DoF)", exp.target.name, exp.target.dof);
    for stage in stages {
        match stage {
            Stage::Collect => exp.collect(&mut log)?,
            Stage::Train => {
                let stop = stop_on_ctrl_c()?;
                exp.train(&stop, &mut log, |p| report(p, "/s"))?;
                if stop.load(Ordering::Relaxed) {
                    println!("\nstopped; the same command continues");
                    return Ok(());
                }
                // From here on Ctrl-C exits at once (evaluations keep their finished files).
                stop.store(true, Ordering::Relaxed);
            }
            Stage::Eval => exp.evaluate(&mut log)?,
            Stage::Report | Stage::All => {
                let r = exp.report()?;
                let show = |m: &Option<crate::plan::MeanCi>| {
                    m.map_or("-".into(), |m| {
                        format!("{:.1} [{:.1}, {:.1}]", m.mean, m.low, m.high)
                    })
                };
                println!("\nground-truth planner: {}", show(&r.ground_truth));
                let loss =
                    |l: Option<f32>| l.map_or(String::new(), |l| format!(", held-out loss {l:.3}"));
                println!(
                    "generalist, no target data: {}{}",
                    show(&r.zero_shot),
                    loss(r.zero_shot_loss)
                );
                for row in &r.rows {
                    println!(
                        "{:<24} M = {:>3}: {}{}",
                        row.learner,
                        row.episodes,
                        show(&Some(row.return_ci68)),
                        loss(row.target_loss)
                    );
                }
                println!("wrote {}/results.{{json,csv,png}}", args.dir.display());
            }
        }
    }
    Ok(())
}

fn zero_shot(args: &ZeroShotArgs) -> anyhow::Result<()> {
    let (dof_min, dof_max) = parse_dof(&args.dof)?;
    let shard = Shard::parse(&args.shard)?;
    if args.stage == Stage::All && shard.count > 1 {
        bail!(
            "--stage all runs the train stage, which is not sharded; give --stage collect or eval with --shard"
        );
    }
    let config = ZeroShotConfig {
        family: args.family.clone(),
        dof_min,
        dof_max,
        train_walkers: args.walkers,
        held_out_walkers: args.held_out,
        seed: args.seed,
        episodes_per_walker: args.episodes,
        random_episodes_per_walker: args.random_episodes,
        episode_steps: args.steps,
        samples: args.samples,
        horizon: args.horizon,
        prompt_steps: args.prompt,
        eval_episodes: args.eval_episodes,
        preset: args.preset.clone(),
        context_tokens: args.context,
        train_steps: args.train_steps,
        batch: args.batch,
        lr: args.lr,
    };
    let exp = ZeroShot::open(&args.dir, config)?;
    let stages = match args.stage {
        Stage::All => vec![Stage::Collect, Stage::Train, Stage::Eval, Stage::Report],
        s => vec![s],
    };
    let mut log = |line: &str| println!("{line}");
    for stage in stages {
        match stage {
            Stage::Collect => {
                println!(
                    "collect: ground-truth MPC on the training walkers (shard {})",
                    args.shard
                );
                exp.collect(shard, &mut log)?;
            }
            Stage::Train => {
                let stop = stop_on_ctrl_c()?;
                println!(
                    "train: one TDM on every training walker -> {}",
                    exp.checkpoint().display()
                );
                let Some(run) = exp.train(&stop, |p| report(p, "tok/s"))? else {
                    println!("already trained to {} steps", exp.config.train_steps);
                    stop.store(true, Ordering::Relaxed);
                    continue;
                };
                println!(
                    "\ntrained to step {} ({} parameters): {:.2}M tokens in {:.0}s this run, {:.0} tokens/s on {} threads, final loss {}",
                    run.steps_total,
                    run.parameters,
                    run.tokens_this_run as f64 / 1e6,
                    run.secs,
                    run.tokens_per_sec,
                    run.threads,
                    run.final_loss.map_or("-".into(), |l| format!("{l:.3}"))
                );
                if run.stopped_early {
                    println!("stopped early; the same command continues");
                    return Ok(());
                }
                // From here on Ctrl-C exits at once (evaluations keep their finished files).
                stop.store(true, Ordering::Relaxed);
            }
            Stage::Eval => {
                println!(
                    "eval: ground truth, TDM MPC and the TDM's BC policy on held-out walkers (shard {})",
                    args.shard
                );
                exp.evaluate(shard, &mut log)?;
            }
            Stage::Report | Stage::All => print_report(&exp.report()?, &args.dir),
        }
    }
    Ok(())
}

fn print_report(r: &ZeroShotReport, dir: &std::path::Path) {
    println!(
        "\n{:<24} {:>4} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "held-out walker", "dof", "GT", "TDM", "BC", "TDM/GT", "BC/GT"
    );
    for row in &r.rows {
        println!(
            "{:<24} {:>4} {:>10.1} {:>10.1} {:>10.1} {:>9.2} {:>9.2}",
            row.walker,
            row.dof,
            row.ground_truth,
            row.tdm,
            row.bc,
            row.tdm_fraction,
            row.bc_fraction
        );
    }
    let ci = |m: &crate::plan::MeanCi| format!("{:.2} [{:.2}, {:.2}]", m.mean, m.low, m.high);
    println!(
        "\nover {} complete walkers (returns after the {}-step expert prompt): TDM/GT {}, BC/GT {} (mean of per-walker fractions, 68% CI)",
        r.walkers_complete,
        r.config.prompt_steps,
        ci(&r.tdm_fraction),
        ci(&r.bc_fraction)
    );
    println!(
        "training: {:.2}M tokens in {:.0}s over {} run(s)",
        r.train_tokens as f64 / 1e6,
        r.train_secs,
        r.train_runs.len()
    );
    if !r.missing.is_empty() {
        println!("not evaluated yet: {}", r.missing.len());
    }
    println!(
        "wrote {}, {} and {}",
        dir.join("results.json").display(),
        dir.join("results.csv").display(),
        dir.join("results.png").display()
    );
}
