//! `tdm-workbench collect` and `tdm-workbench data ...`.
use super::planner_args::NoiseArgs;
use super::progress::bar;
use crate::data::{CollectOptions, Dataset, EnvInfo, Policy, Shard, collect, merge};
use crate::models::{Decoding, model_path, open_model};
use crate::plan::{BranchingPolicy, MpcAgent, NoisePolicy, UniformPolicy, ZeroPolicy, mean_ci68};
use anyhow::bail;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CollectPolicy {
    /// MPC with the ground-truth model (expert-ish data, as the paper trains on).
    GtMpc,
    /// Ground-truth MPC interrupted at random moments (--branch-probability per step) by one
    /// of the planner's candidates, fresh noise of --horizon steps played to its end: the
    /// sequences a planner asks a model about, from the states the agent visits.
    GtMpcBranching,
    /// MPC with the --model given (ground truth or a checkpoint): data from the states a
    /// learned model's own agent visits, to train that model further where it plans.
    Mpc,
    /// `mpc` interrupted by branches, as gt-mpc-branching is.
    MpcBranching,
    /// Actions from one Brownian random walk per episode (random data).
    Brownian,
    /// Independent uniform random actions.
    Uniform,
    /// All-zero actions.
    Zero,
}

#[derive(Args, Debug)]
pub struct CollectArgs {
    #[arg(long)]
    env: String,
    #[arg(long, value_enum)]
    policy: CollectPolicy,
    /// The model the `mpc` policies plan with: gt, or a checkpoint (TDM or MLP baseline).
    #[arg(long, default_value = "gt")]
    model: String,
    /// How a TDM --model decodes its predictions (see `eval --decoding`).
    #[arg(long, default_value = "windowed")]
    decoding: Decoding,
    /// Planner samples K (gt-mpc).
    #[arg(long, default_value_t = 128)]
    samples: usize,
    /// Planner horizon N (gt-mpc; also the branches' length).
    #[arg(long, default_value_t = 50)]
    horizon: usize,
    /// gt-mpc-branching: the chance, at each step the MPC agent would act, that a branch
    /// starts (0.02 with N 50: about half the steps are branches).
    #[arg(long, default_value_t = 0.02)]
    branch_probability: f64,
    #[command(flatten)]
    noise: NoiseArgs,
    /// Episodes in the whole collection (all shards).
    #[arg(long)]
    episodes: usize,
    /// Episode i starts from seed + i.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// This job's share, i/n: episodes with index % n == i.
    #[arg(long, default_value = "0/1")]
    shard: String,
    /// Cut episodes to this many steps (default: the task's time limit).
    #[arg(long)]
    max_steps: Option<usize>,
    #[arg(long)]
    out: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Join datasets (e.g. the shards of one collection) into a new one.
    Merge {
        inputs: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a dataset and print its summary.
    Info { dir: PathBuf },
}

pub fn run(args: &CollectArgs) -> anyhow::Result<()> {
    let shard = Shard::parse(&args.shard)?;
    let task = super::open_task(&args.env)?;
    let mut env = crate::envs::MujocoEnv::new(task.clone());
    let spec = task.spec().clone();
    let noise = args.noise.config()?;
    let steps = args
        .max_steps
        .unwrap_or(spec.episode_steps)
        .min(spec.episode_steps);
    if !(0.0..=1.0).contains(&args.branch_probability) {
        bail!(
            "--branch-probability must be in [0, 1], not {}",
            args.branch_probability
        );
    }
    let is_mpc = matches!(
        args.policy,
        CollectPolicy::Mpc | CollectPolicy::MpcBranching
    );
    if model_path(&args.model).is_some() && !is_mpc {
        bail!(
            "--model {} needs --policy mpc or mpc-branching (the other policies do not plan with a model)",
            args.model
        );
    }
    let mut decodes = false;
    let mut policy: Box<dyn Policy> = match args.policy {
        CollectPolicy::GtMpc
        | CollectPolicy::GtMpcBranching
        | CollectPolicy::Mpc
        | CollectPolicy::MpcBranching => {
            let config = args
                .noise
                .planner_config(args.samples, args.horizon, args.seed)?;
            let mut model = open_model(&args.model, &task, 0)?;
            decodes = model.set_decoding(args.decoding.into());
            let agent = Box::new(MpcAgent::new(config, model, task.clone()));
            if matches!(
                args.policy,
                CollectPolicy::GtMpcBranching | CollectPolicy::MpcBranching
            ) {
                Box::new(BranchingPolicy::new(
                    agent,
                    noise,
                    args.horizon,
                    args.branch_probability,
                ))
            } else {
                agent
            }
        }
        CollectPolicy::Brownian => Box::new(NoisePolicy::new(noise, spec.action_size, steps)),
        CollectPolicy::Uniform => Box::new(UniformPolicy::default()),
        CollectPolicy::Zero => Box::new(ZeroPolicy),
    };
    let mut description = policy.describe();
    description["max_steps"] = steps.into();
    if decodes {
        description["decoding"] = args.decoding.name().into();
    }
    let mut dataset = Dataset::create_or_resume(
        &args.out,
        EnvInfo::from_spec(&spec),
        description,
        args.seed,
        shard.label(),
    )?;
    let opts = CollectOptions {
        episodes: args.episodes,
        shard,
        max_steps: steps,
    };
    let mut returns = Vec::new();
    let summary = collect(&mut env, policy.as_mut(), &mut dataset, &opts, |p| {
        if let Some(r) = p.last_return {
            returns.push(r);
        }
        let extra = match p.last_return {
            Some(r) => format!(" episodes, last return {r:.1}"),
            None => format!(" episodes, episode {} failed", p.last_index),
        };
        bar(p.done, p.total, "", &extra, p.elapsed_secs);
    })?;
    let ci = mean_ci68(&summary.returns);
    println!(
        "{}: collected {} episodes ({} steps) in {:.1}s, {} already there, {} failed (diverged or a MuJoCo error); return {:.1} [{:.1}, {:.1}] (mean, 68% CI)",
        args.out.display(),
        summary.collected,
        summary.steps,
        summary.elapsed_secs,
        summary.skipped_existing,
        summary.failed.len(),
        ci.mean,
        ci.low,
        ci.high
    );
    for (i, why) in &summary.failed {
        println!("  episode {i}: {why}");
    }
    let m = dataset.meta();
    println!(
        "dataset now holds {} episodes, {} steps",
        m.episode_count, m.step_count
    );
    // Some failures are part of collecting (a policy that makes a body diverge now and then);
    // every episode failing is not a dataset.
    if summary.collected == 0 && !summary.failed.is_empty() {
        anyhow::bail!(
            "every one of the {} episodes asked for failed (first: episode {}: {}); nothing was collected",
            summary.failed.len(),
            summary.failed[0].0,
            summary.failed[0].1
        );
    }
    Ok(())
}

pub fn data(cmd: &DataCommand) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Merge { inputs, out } => {
            let ds = merge(inputs, out)?;
            let m = ds.meta();
            println!(
                "{}: merged {} datasets, {} episodes, {} steps",
                out.display(),
                inputs.len(),
                m.episode_count,
                m.step_count
            );
        }
        DataCommand::Info { dir } => {
            let check = Dataset::check(dir)?;
            let m = &check.meta;
            let ci = mean_ci68(&check.returns);
            println!(
                "{}: {} ({} obs, {} act), policy {}, {} episodes, {} steps, return {:.1} [{:.1}, {:.1}]",
                dir.display(),
                m.env.name,
                m.env.observation_size,
                m.env.action_size,
                m.policy,
                check.returns.len(),
                check.steps,
                ci.mean,
                ci.low,
                ci.high
            );
            for problem in &check.problems {
                println!("problem: {problem}");
            }
            if !check.problems.is_empty() {
                let n = check.problems.len();
                bail!(
                    "{}: {n} problem{} found (listed above); the counts and returns are those of the episodes that pass",
                    dir.display(),
                    if n == 1 { "" } else { "s" }
                );
            }
        }
    }
    Ok(())
}
