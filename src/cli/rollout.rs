//! `tdm-workbench rollout`: episodes with a simple policy, one return per episode.
use crate::data::{Policy, run_episode};
use crate::plan::{UniformPolicy, ZeroPolicy};
use clap::{Args, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimplePolicy {
    /// Uniform random actions in [-1, 1].
    Random,
    /// All-zero actions.
    Zero,
}

#[derive(Args, Debug)]
pub struct RolloutArgs {
    /// Task name (see `envs`), or mjcf:FILE.xml.
    #[arg(long)]
    env: String,
    #[arg(long, value_enum, default_value_t = SimplePolicy::Random)]
    policy: SimplePolicy,
    #[arg(long, default_value_t = 3)]
    episodes: usize,
    /// Episode i starts from seed + i; the random policy draws from its own stream.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Cut episodes to this many steps (default: the task's time limit).
    #[arg(long)]
    max_steps: Option<usize>,
}

pub fn run(args: &RolloutArgs) -> anyhow::Result<()> {
    let mut env = super::open_env(&args.env)?;
    let spec = env.spec().clone();
    let steps = args
        .max_steps
        .unwrap_or(spec.episode_steps)
        .min(spec.episode_steps);
    let mut returns = Vec::new();
    let mut failed = 0;
    let mut policy: Box<dyn Policy> = match args.policy {
        SimplePolicy::Random => Box::new(UniformPolicy::default()),
        SimplePolicy::Zero => Box::new(ZeroPolicy),
    };
    for ep in 0..args.episodes {
        let seed = args.seed + ep as u64;
        let (episode, failure) = run_episode(env.as_mut(), policy.as_mut(), seed, steps)?;
        match failure {
            None => {
                let total = episode.total_reward();
                println!("episode {ep} (seed {seed}): return {total:.3} over {steps} steps");
                returns.push(total);
            }
            Some(why) => {
                failed += 1;
                println!("episode {ep} (seed {seed}): FAILED, {why}");
            }
        }
    }
    if !returns.is_empty() {
        let n = returns.len() as f64;
        let mean = returns.iter().sum::<f64>() / n;
        let sd = (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n).sqrt();
        println!(
            "{}: {} policy, mean return {mean:.3} (sd {sd:.3}) over {} episodes",
            spec.name,
            format!("{:?}", args.policy).to_lowercase(),
            returns.len()
        );
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} episodes failed (diverged or a MuJoCo error)",
            args.episodes
        );
    }
    Ok(())
}
