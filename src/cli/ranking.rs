//! `tdm-workbench ranking`: how well each model ranks the planner's K candidates against their
//! real returns, at states an MPC agent visits (ground truth's, or a learned model's own).
use super::collect::NoiseArgs;
use crate::envs::make_task;
use crate::files::atomic_write;
use crate::models::tdm::Decoding;
use crate::models::{DynamicsModel, GroundTruth, LearnedModel, model_path};
use crate::plan::{PlannerConfig, ProbeAgent, RankingSummary, probe_states, ranking_quality};
use anyhow::{Context, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct RankingArgs {
    #[arg(long)]
    env: String,
    /// Models, comma-separated: gt, or checkpoints (TDM or MLP baseline) FILE.safetensors.
    #[arg(long, value_delimiter = ',', default_value = "gt")]
    model: Vec<String>,
    /// Decodings to try for every TDM, comma-separated: windowed (default), expectation, greedy,
    /// sampled.
    #[arg(long, value_delimiter = ',', default_value = "windowed", value_parser = super::parse_decoding)]
    decoding: Vec<Decoding>,
    /// K.
    #[arg(long, default_value_t = 128)]
    samples: usize,
    /// N.
    #[arg(long, default_value_t = 50)]
    horizon: usize,
    #[command(flatten)]
    noise: NoiseArgs,
    /// The model of the MPC agent whose states are probed: gt, or a checkpoint, to probe the
    /// states that model's own agent visits (closed loop) rather than ground truth's.
    #[arg(long, default_value = "gt")]
    probe_model: String,
    /// How a TDM --probe-model decodes (see `eval --decoding`).
    #[arg(long, default_value = "windowed", value_parser = super::parse_decoding)]
    probe_decoding: Decoding,
    /// Episodes of the MPC agent whose states are probed.
    #[arg(long, default_value_t = 2)]
    episodes: usize,
    /// K of that agent. The default K 32, N 20 agent swings the cartpole up but rarely holds
    /// it; K 128, N 50 balances, so its states include the balance a good planner spends most
    /// of an episode in.
    #[arg(long, default_value_t = 32)]
    probe_samples: usize,
    /// N of that agent.
    #[arg(long, default_value_t = 20)]
    probe_horizon: usize,
    /// Steps of each of those episodes.
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// Probe every this many steps.
    #[arg(long, default_value_t = 25)]
    every: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the summaries, with every probe state's numbers, here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub fn run(args: &RankingArgs) -> anyhow::Result<()> {
    let task = make_task(&args.env).with_context(|| format!("cannot open --env {}", args.env))?;
    if args.samples < 2 || args.horizon == 0 || args.every == 0 {
        bail!("--samples must be at least 2, --horizon and --every positive");
    }
    let config = PlannerConfig {
        candidates: args.samples,
        horizon_steps: args.horizon,
        noise: args.noise.config()?,
        objective: args.noise.objective(),
        seed: args.seed,
        keep_best: false,
        proposal_mix: 0.0,
        rollouts: args.noise.rollouts()?,
    };
    if args.probe_samples == 0 || args.probe_horizon == 0 {
        bail!("--probe-samples and --probe-horizon must be positive");
    }
    let probe_agent = ProbeAgent {
        config: PlannerConfig {
            candidates: args.probe_samples,
            horizon_steps: args.probe_horizon,
            keep_best: true,
            rollouts: 1,
            ..config
        },
        model: match model_path(&args.probe_model) {
            None => None,
            Some(path) => {
                Some(LearnedModel::load(path, task.spec())?.into_dyn_decoding(args.probe_decoding))
            }
        },
    };
    let probe_label = match &probe_agent.model {
        None => "ground-truth".to_string(),
        Some(m) => m.name(),
    };
    // Every checkpoint is opened before the probe states are made: a bad one fails at once.
    let mut models: Vec<(String, Option<PathBuf>, Vec<Decoding>)> = Vec::new();
    for name in &args.model {
        match model_path(name) {
            None => models.push((name.clone(), None, vec![Decoding::default()])),
            Some(path) => {
                let model = LearnedModel::load(path, task.spec())?;
                let decodings = if matches!(model, LearnedModel::Tdm(_)) {
                    args.decoding.clone()
                } else {
                    vec![Decoding::default()]
                };
                models.push((name.clone(), Some(PathBuf::from(path)), decodings));
            }
        }
    }
    let probes = probe_states(
        &task,
        probe_agent,
        args.episodes,
        args.steps,
        args.every,
        args.seed,
    )?;
    println!(
        "{} states along {} {} MPC episodes (K {}, N {}); K {}, N {}",
        probes.len(),
        args.episodes,
        probe_label,
        args.probe_samples,
        args.probe_horizon,
        args.samples,
        args.horizon
    );
    println!(
        "{:<44} {:>18} {:>18} {:>18} {:>10} {:>9}",
        "model", "spearman", "regret", "optimism", "|error|", "ms/plan"
    );
    let mut out: Vec<(String, RankingSummary)> = Vec::new();
    for (name, path, decodings) in &models {
        for &decoding in decodings {
            let mut model: Box<dyn DynamicsModel> = match path {
                None => Box::new(GroundTruth::new(task.clone(), 0)),
                Some(p) => LearnedModel::load(p, task.spec())?.into_dyn_decoding(decoding),
            };
            let label = if decodings.len() > 1 || decoding != Decoding::default() {
                format!("{name} ({})", decoding.name())
            } else {
                name.clone()
            };
            let s = ranking_quality(&task, model.as_mut(), &probes, config)?;
            let ci =
                |m: crate::plan::MeanCi| format!("{:.3} [{:.3}, {:.3}]", m.mean, m.low, m.high);
            println!(
                "{:<44} {:>18} {:>18} {:>18} {:>10.2} {:>9.1}",
                label,
                ci(s.spearman),
                ci(s.regret),
                ci(s.optimism),
                s.score_error,
                s.mean_plan_ms
            );
            out.push((label, s));
        }
    }
    if let Some(path) = &args.json {
        let rows: Vec<serde_json::Value> = out
            .iter()
            .map(|(label, s)| serde_json::json!({ "label": label, "summary": s }))
            .collect();
        let text = serde_json::to_string_pretty(&rows)?;
        atomic_write(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
