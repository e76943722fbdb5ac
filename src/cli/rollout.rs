//! `tdm-workbench rollout`: episodes with a simple policy, one return per episode.
use crate::envs::{EnvError, make_env};
use crate::sim::SimError;
use anyhow::Context;
use clap::{Args, ValueEnum};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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
    let mut env = make_env(&args.env).with_context(|| format!("cannot open --env {}", args.env))?;
    let spec = env.spec().clone();
    let steps = args
        .max_steps
        .unwrap_or(spec.episode_steps)
        .min(spec.episode_steps);
    let mut returns = Vec::new();
    let mut failed = 0;
    for ep in 0..args.episodes {
        let seed = args.seed + ep as u64;
        env.reset(seed)?;
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5EED_0FAC_7104);
        let mut total = 0.0;
        let mut action = vec![0.0; spec.action_size];
        let mut outcome = Ok(());
        for _ in 0..steps {
            if args.policy == SimplePolicy::Random {
                action
                    .iter_mut()
                    .for_each(|a| *a = rng.random_range(-1.0..=1.0));
            }
            match env.step(&action) {
                Ok(step) => total += step.reward,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        match outcome {
            Ok(()) => {
                println!("episode {ep} (seed {seed}): return {total:.3} over {steps} steps");
                returns.push(total);
            }
            Err(EnvError::Sim(e @ SimError::Diverged { .. })) => {
                failed += 1;
                println!("episode {ep} (seed {seed}): FAILED, {e}");
            }
            Err(e) => return Err(e.into()),
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
        anyhow::bail!("{failed} of {} episodes diverged", args.episodes);
    }
    Ok(())
}
