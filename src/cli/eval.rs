//! `tdm-workbench eval`: MPC returns per planner setting, with 68% confidence intervals.
use super::collect::NoiseArgs;
use crate::envs::make_task;
use crate::files::atomic_write;
use crate::models::tdm::Decoding;
use crate::models::{DynamicsModel, GroundTruth, LearnedModel, ModelError, model_path};
use crate::plan::{EvalSetting, PlannerConfig, evaluate};
use anyhow::{Context, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[arg(long)]
    env: String,
    /// gt (ground truth), or a checkpoint (TDM or MLP baseline): FILE.safetensors (tdm:FILE and
    /// mlp:FILE also work).
    #[arg(long, default_value = "gt")]
    model: String,
    /// How the TDM turns its predicted distributions into values: windowed (default), expectation,
    /// greedy, sampled.
    #[arg(long, default_value = "windowed", value_parser = super::parse_decoding)]
    decoding: Decoding,
    /// Samples K, comma-separated for a sweep.
    #[arg(long, value_delimiter = ',', default_value = "128")]
    samples: Vec<usize>,
    /// Horizons N, comma-separated for a sweep.
    #[arg(long, value_delimiter = ',', default_value = "50")]
    horizon: Vec<usize>,
    #[command(flatten)]
    noise: NoiseArgs,
    #[arg(long, default_value_t = 4)]
    episodes: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long)]
    max_steps: Option<usize>,
    /// Write the results here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let task = make_task(&args.env).with_context(|| format!("cannot open --env {}", args.env))?;
    let noise = args.noise.config()?;
    let checkpoint = model_path(&args.model).map(PathBuf::from);
    if let Some(path) = &checkpoint {
        // Fail early, with the checkpoint's own message.
        LearnedModel::load(path, task.spec())?;
    }
    let settings: Vec<EvalSetting> = args
        .samples
        .iter()
        .flat_map(|&k| {
            args.horizon.iter().map(move |&n| EvalSetting {
                candidates: k,
                horizon_steps: n,
            })
        })
        .collect();
    if settings
        .iter()
        .any(|s| s.candidates == 0 || s.horizon_steps == 0)
    {
        bail!("--samples and --horizon must be positive");
    }
    let base = PlannerConfig {
        noise,
        objective: args.noise.objective(),
        seed: args.seed,
        keep_best: args.noise.warm_start(),
        proposal_mix: args.noise.proposal_mix()?,
        rollouts: args.noise.rollouts()?,
        ..PlannerConfig::default()
    };
    let gt_task = task.clone();
    let mut make_model = move || -> Result<Box<dyn DynamicsModel>, ModelError> {
        Ok(match &checkpoint {
            None => Box::new(GroundTruth::new(gt_task.clone(), 0)),
            Some(path) => {
                LearnedModel::load(path, gt_task.spec())?.into_dyn_decoding(args.decoding)
            }
        })
    };
    let steps = args.max_steps.unwrap_or(task.spec().episode_steps);
    println!(
        "{:<18} {:<14} {:>5} {:>5} {:>10} {:>22} {:>9}",
        "env", "model", "K", "N", "episodes", "return (68% CI)", "ms/plan"
    );
    let results = evaluate(
        &task,
        &mut make_model,
        &settings,
        base,
        args.episodes,
        args.seed,
        steps,
        &mut |s, done| {
            if done == s.episodes {
                println!(
                    "{:<18} {:<14} {:>5} {:>5} {:>10} {:>8.1} [{:>6.1}, {:>6.1}] {:>9.1}",
                    s.env,
                    s.model,
                    s.candidates,
                    s.horizon_steps,
                    done,
                    s.return_ci68.mean,
                    s.return_ci68.low,
                    s.return_ci68.high,
                    s.mean_plan_ms
                );
            } else {
                eprint!(
                    "\r  K={} N={}: episode {done}/{} return {:.1}   ",
                    s.candidates,
                    s.horizon_steps,
                    s.episodes,
                    s.returns[done - 1]
                );
            }
        },
    )?;
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&results)?;
        atomic_write(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
