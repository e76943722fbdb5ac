//! `tdm-workbench eval`: MPC returns per planner setting, with 68% confidence intervals.
use super::planner_args::NoiseArgs;
use crate::files::atomic_write;
use crate::models::{Decoding, DynamicsModel, ModelError, open_model};
use crate::plan::{EvalRequest, EvalSetting, EvalSummary, Latency, evaluate};
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
    #[arg(long, default_value = "windowed")]
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
    /// Simulated planning latency: none (lock-step: the simulation waits for every plan),
    /// measured (each plan acts as late as it took to compute, in real time at 1x), or a fixed
    /// number of milliseconds per plan. A late plan acts shifted by its age, and the next plan
    /// starts from the state where it arrived (the window's real-time mode).
    #[arg(long, default_value = "none")]
    latency: Latency,
    /// Under --latency, plan from where the plan will act without forecasting it: from the
    /// state where planning began (default: the model imagines the actions committed
    /// meanwhile and the plan starts from its forecast).
    #[arg(long)]
    no_forecast: bool,
    /// Write the results here as JSON (after every episode, so an interrupted run keeps what
    /// it finished).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Continue the evaluation in --json: settings that file already holds (same model,
    /// decoding, planner, seed and episode length) keep their finished episodes and run only
    /// the missing ones.
    #[arg(long, requires = "json", conflicts_with = "force")]
    resume: bool,
    /// Replace an existing --json file (without it, or --resume, an existing file is refused).
    #[arg(long, requires = "json")]
    force: bool,
}

/// The most memory one plan may take: the candidates' imagined trajectories (K x N x
/// (observation + action + reward) values of 8 bytes each) plus what the model holds per
/// candidate while it imagines them (a TDM's key/value caches), kept under this fixed cap.
const MAX_PLAN_BYTES: u128 = 8 << 30;

/// Refuses a setting whose plan would not fit in [`MAX_PLAN_BYTES`].
fn check_plan_size(
    setting: &EvalSetting,
    step_values: usize,
    model: &dyn DynamicsModel,
) -> anyhow::Result<()> {
    let (k, n) = (setting.candidates, setting.horizon_steps);
    let trajectories = k as u128 * n as u128 * step_values as u128 * 8;
    let bytes = trajectories.saturating_add(model.plan_state_bytes(k, n));
    if bytes <= MAX_PLAN_BYTES {
        return Ok(());
    }
    bail!(
        "--samples {k} x --horizon {n} needs about {:.1} GiB for one plan with {} (its candidates and what the model holds for them), over the {} GiB limit; lower --samples or --horizon",
        bytes as f64 / (1u64 << 30) as f64,
        model.name(),
        MAX_PLAN_BYTES >> 30
    )
}

/// Writes `results` with what the file held before that they do not supersede: other settings
/// of a resumed file are kept, and a setting the file holds with more episodes than were asked
/// for this time keeps them all (never a shorter record over a longer one).
fn write_results(
    path: &std::path::Path,
    results: &[EvalSummary],
    earlier: &[EvalSummary],
) -> anyhow::Result<()> {
    let mut all: Vec<EvalSummary> = results
        .iter()
        .map(|r| {
            earlier
                .iter()
                .find(|o| o.continues(r) && o.returns.len() > r.returns.len())
                .unwrap_or(r)
                .clone()
        })
        .collect();
    all.extend(
        earlier
            .iter()
            .filter(|o| !results.iter().any(|r| o.continues(r)))
            .cloned(),
    );
    let text = serde_json::to_string_pretty(&all)?;
    atomic_write(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// Earlier results to continue from: the --json file of an interrupted run, if there is one.
fn earlier_results(args: &EvalArgs) -> anyhow::Result<Vec<EvalSummary>> {
    let Some(path) = args.json.as_ref() else {
        return Ok(Vec::new());
    };
    if !args.resume {
        if path.exists() && !args.force {
            bail!(
                "{} already exists: pass --resume to continue it or --force to replace it",
                path.display()
            );
        }
        return Ok(Vec::new());
    }
    if !path.exists() {
        println!(
            "{} does not exist yet: starting from the first episode",
            path.display()
        );
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read earlier results {}", path.display()))?;
    let earlier: Vec<EvalSummary> = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a results file of `eval --json` (move it away or drop --resume)",
            path.display()
        )
    })?;
    let episodes: usize = earlier.iter().map(|s| s.returns.len()).sum();
    println!(
        "resuming {}: {} settings, {episodes} episodes recorded",
        path.display(),
        earlier.len()
    );
    Ok(earlier)
}

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let task = super::open_task(&args.env)?;
    // Opened once here, so a bad checkpoint fails early with its own message; the first
    // setting plans with it, every further one with a fresh copy.
    let mut first = open_model(&args.model, &task, 0)?;
    let decoding = first
        .set_decoding(args.decoding.into())
        .then_some(args.decoding);
    let earlier = earlier_results(args)?;
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
    let spec = task.spec();
    for setting in &settings {
        check_plan_size(
            setting,
            spec.observation_size + spec.action_size + 1,
            first.as_ref(),
        )?;
        // The knobs that depend on K (CEM's elites) against every K of the sweep.
        args.noise.method(setting.candidates)?;
    }
    // K and N come from each setting.
    let base = args.noise.planner_config(0, 0, args.seed)?;
    let mut first = Some(first);
    let mut make_model = || -> Result<Box<dyn DynamicsModel>, ModelError> {
        if let Some(model) = first.take() {
            return Ok(model);
        }
        let mut model = open_model(&args.model, &task, 0)?;
        model.set_decoding(args.decoding.into());
        Ok(model)
    };
    let steps = args.max_steps.unwrap_or(task.spec().episode_steps);
    println!("planner: {}", base.method);
    if args.latency != Latency::None {
        println!(
            "planning latency: {} (simulated real time), plans start from {}",
            args.latency,
            if args.no_forecast {
                "the state where planning began"
            } else {
                "the model's forecast of where they act"
            }
        );
    }
    println!(
        "{:<18} {:<14} {:>5} {:>5} {:>10} {:>22} {:>9}",
        "env", "model", "K", "N", "episodes", "return (68% CI)", "ms/plan"
    );
    let request = EvalRequest {
        settings: &settings,
        base,
        episodes: args.episodes,
        seed: args.seed,
        max_steps: steps,
        decoding,
        latency: args.latency,
        forecast: !args.no_forecast,
        earlier: &earlier,
    };
    let mut finished: Vec<EvalSummary> = Vec::new();
    let mut stage: Option<((usize, usize), usize, std::time::Instant)> = None;
    let results = evaluate(&task, &mut make_model, &request, &mut |s, done| {
        if let Some(path) = &args.json {
            // The finished settings, and this one while it is under way.
            if done == s.episodes {
                finished.push(s.clone());
            }
            let mut now = finished.clone();
            if done < s.episodes {
                now.push(s.clone());
            }
            if let Err(e) = write_results(path, &now, &earlier) {
                eprintln!("\nwarning: {e:#}");
            }
        }
        // This setting's bar: its pace counts only the episodes this run played.
        let key = (s.candidates, s.horizon_steps);
        if stage.as_ref().is_none_or(|(k, _, _)| *k != key) {
            stage = Some((key, done.saturating_sub(1), std::time::Instant::now()));
        }
        if let Some((_, first, started)) = &stage {
            super::progress::bar_from(
                *first,
                done,
                s.episodes,
                &format!("episodes, K={} N={}", s.candidates, s.horizon_steps),
                &s.returns
                    .last()
                    .map_or_else(String::new, |r| format!("last return {r:.1}")),
                started.elapsed().as_secs_f64(),
            );
        }
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
        }
    })?;
    if let Some(path) = &args.json {
        write_results(path, &results, &earlier)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
