//! `tdm-workbench ranking`: how well each model ranks the planner's K candidates against their
//! real returns, at states an MPC agent visits (ground truth's, or a learned model's own).
use super::planner_args::NoiseArgs;
use crate::files::atomic_write;
use crate::models::{Decoding, DynamicsModel, model_path, open_model};
use crate::plan::{
    PlannerConfig, PlannerMethod, ProbeAgent, RankingSummary, probe_states, ranking_quality,
};
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
    #[arg(long, value_delimiter = ',', default_value = "windowed")]
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
    #[arg(long, default_value = "windowed")]
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
    let task = super::open_task(&args.env)?;
    if args.samples < 2 || args.horizon == 0 || args.every == 0 {
        bail!("--samples must be at least 2, --horizon and --every positive");
    }
    // The ranked planner plans every probe state afresh, so --no-warm-start is the probe
    // agent's; --proposal-mix is the ranked planner's alone (the probe agent's model may have
    // no policy).
    let asked = args
        .noise
        .planner_config(args.samples, args.horizon, args.seed)?;
    let config = PlannerConfig {
        keep_best: false,
        ..asked
    };
    if args.probe_samples == 0 || args.probe_horizon == 0 {
        bail!("--probe-samples and --probe-horizon must be positive");
    }
    let probe_agent = ProbeAgent {
        config: PlannerConfig {
            candidates: args.probe_samples,
            horizon_steps: args.probe_horizon,
            keep_best: asked.keep_best,
            proposal_mix: 0.0,
            rollouts: 1,
            // The probe states are the same whichever planner is ranked.
            method: PlannerMethod::RandomShooting,
            ..config
        },
        model: match model_path(&args.probe_model) {
            None => None,
            Some(_) => {
                let mut model = open_model(&args.probe_model, &task, 0)?;
                model.set_decoding(args.probe_decoding.into());
                Some(model)
            }
        },
    };
    let probe_label = match &probe_agent.model {
        None => "ground-truth".to_string(),
        Some(m) => m.name(),
    };
    // Every model is opened before the probe states are made: a bad checkpoint, or one that
    // cannot take part in the proposal mix asked for, fails at once.
    let mut models: Vec<(String, Vec<Option<Decoding>>)> = Vec::new();
    for name in &args.model {
        let about = open_model(name, &task, 0)?.describe();
        if config.proposed_candidates() > 0 && !about.proposes_actions {
            bail!(
                "--proposal-mix {}: {} has no policy to propose actions (rank it in a run \
                 without --proposal-mix)",
                asked.proposal_mix,
                about.name
            );
        }
        let decodings = if about.has_decoding() {
            args.decoding.iter().copied().map(Some).collect()
        } else {
            vec![None]
        };
        models.push((name.clone(), decodings));
    }
    let probes = probe_states(
        &task,
        probe_agent,
        args.episodes,
        args.steps,
        args.every,
        args.seed,
    )?;
    let warm = if asked.keep_best {
        ""
    } else {
        ", no warm start"
    };
    let mix = if config.proposed_candidates() > 0 {
        format!(", {} proposed", config.proposed_candidates())
    } else {
        String::new()
    };
    println!(
        "{} states along {} {} MPC episodes (K {}, N {}{warm}); K {}, N {}{mix}",
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
    for (name, decodings) in &models {
        for &decoding in decodings {
            let mut model: Box<dyn DynamicsModel> = open_model(name, &task, 0)?;
            let label = match decoding {
                Some(d) if decodings.len() > 1 || d != Decoding::default() => {
                    format!("{name} ({})", d.name())
                }
                _ => name.clone(),
            };
            if let Some(d) = decoding {
                model.set_decoding(d.into());
            }
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
