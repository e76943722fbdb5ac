//! `tdm-workbench bench`: its subcommands, and `physics` (MuJoCo stepping rates per task,
//! single-threaded and batched) and `plan` (one ground-truth planning step); `tdm` and `render`
//! live with their own code.
use crate::data::Episode;
use crate::envs::{Env, TASK_NAMES, make_env, make_task};
use crate::models::{GroundTruth, PlanContext};
use crate::plan::Planner;
use crate::sim::{RolloutWorkers, Sim};
use clap::{Args, Subcommand};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Physics steps/s per task: an env stepping alone, and K x N batched rollouts from one
    /// state on one thread and on all cores; the per-rollout overhead against raw stepping.
    Physics(PhysicsArgs),
    /// One ground-truth planning step (sample K x N Brownian candidates, roll them out in
    /// MuJoCo from the current state, score them), on one thread and on all cores.
    Plan(PlanArgs),
    /// TDM speed: training tokens/s, planning (generated tokens/s, ms per plan), and the FLOP
    /// rate reached against this machine's measured matrix-multiply rate.
    Tdm(super::bench_tdm::TdmBenchArgs),
    /// What a frame of the 3D view costs (physics, scene extraction, draw list, GPU encode)
    /// for the humanoid and a 20-DoF walker.
    Render(super::render::RenderBenchArgs),
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[arg(long, default_value = "cartpole-swingup")]
    env: String,
    #[arg(long, default_value_t = 128)]
    samples: usize,
    #[arg(long, default_value_t = 100)]
    horizon: usize,
    /// Each timing is the best (and the median) of this many planning steps.
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// The planner (`--planner`, its knobs) and the noise, as for `eval`.
    #[command(flatten)]
    noise: super::planner_args::NoiseArgs,
}

#[derive(Args, Debug)]
pub struct PhysicsArgs {
    /// Candidates per batch (K).
    #[arg(long, default_value_t = 128)]
    candidates: usize,
    /// Control steps per candidate (N).
    #[arg(long, default_value_t = 100)]
    horizon: usize,
    /// Worker threads for the batched run (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Each timing is the best of this many runs.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Tasks to measure (default: all).
    #[arg(long, value_delimiter = ',')]
    tasks: Vec<String>,
}

pub fn run(cmd: &BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Physics(args) => physics(args),
        BenchCommand::Plan(args) => plan(args),
        BenchCommand::Tdm(args) => super::bench_tdm::run(args),
        BenchCommand::Render(args) => super::render::bench(args),
    }
}

fn best_of(repeats: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        f()?;
        best = best.min(start.elapsed());
    }
    Ok(best)
}

fn physics(args: &PhysicsArgs) -> anyhow::Result<()> {
    let tasks: Vec<String> = if args.tasks.is_empty() {
        TASK_NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        args.tasks.clone()
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (k, n) = (args.candidates, args.horizon);
    println!(
        "physics benchmark: K = {k} candidates x N = {n} control steps per batch, {cores} cores, best of {}",
        args.repeats
    );
    let w = tasks.iter().map(String::len).max().unwrap_or(0).max(18);
    println!(
        "{:<w$} {:>12} {:>12} {:>12} {:>9} {:>9}",
        "task", "env 1 thr", "batch 1 thr", "batch all", "speed-up", "overhead"
    );
    for name in &tasks {
        let task = make_task(name)?;
        let spec = task.spec().clone();
        let mut env = make_env(name)?;
        env.reset(0)?;
        let state = env.state();
        let mut rng = StdRng::seed_from_u64(1);
        let actions: Vec<f64> = (0..k * n * spec.action_size)
            .map(|_| rng.random_range(-1.0..=1.0))
            .collect();
        let physics_steps = (k * n * spec.substeps) as f64;

        // An environment stepping alone (episode restarts included), one thread.
        let env_steps = k * n;
        let env_time = best_of(args.repeats, || {
            env.reset(0)?;
            for chunk in actions.chunks_exact(spec.action_size).take(env_steps) {
                if env.steps_taken() >= spec.episode_steps {
                    env.reset(0)?;
                }
                // A diverged episode restarts; the benchmark measures stepping, not the policy.
                if env.step(chunk).is_err() {
                    env.reset(0)?;
                }
            }
            Ok(())
        })?;

        // The per-rollout overhead, timed directly: K state restores (with the derived-quantity
        // update they need) and K x N observations + rewards.
        let mut sim = Sim::new(task.model().clone());
        let mut obs = vec![0.0; spec.observation_size];
        let mut checksum = 0.0;
        let overhead_time = best_of(args.repeats, || {
            for _ in 0..k {
                sim.set_state(&state)?;
            }
            for _ in 0..k * n {
                task.observe(sim.data(), &mut obs);
                checksum += task.reward(sim.data()) + obs[0];
            }
            Ok(())
        })?;
        std::hint::black_box(checksum);

        let mut serial = RolloutWorkers::new(task.model().clone(), 1);
        let serial_time = best_of(args.repeats, || {
            serial.run(&state, task.as_ref(), &actions, k, n)?;
            Ok(())
        })?;
        let mut parallel = RolloutWorkers::new(task.model().clone(), args.threads);
        let parallel_time = best_of(args.repeats, || {
            parallel.run(&state, task.as_ref(), &actions, k, n)?;
            Ok(())
        })?;

        let rate = |d: Duration| physics_steps / d.as_secs_f64();
        println!(
            "{:<w$} {:>12} {:>12} {:>12} {:>8.2}x {:>8.1}%",
            name,
            human(rate(env_time)),
            human(rate(serial_time)),
            human(rate(parallel_time)),
            serial_time.as_secs_f64() / parallel_time.as_secs_f64(),
            100.0 * overhead_time.as_secs_f64()
                / (serial_time.as_secs_f64() - overhead_time.as_secs_f64()),
        );
    }
    println!(
        "\nrates are physics steps/s. speed-up = batch 1 thr time / batch all time ({} threads).\n\
         overhead = (K state restores + K x N observations and rewards) / the rest of the batch time (stepping).",
        if args.threads == 0 {
            cores
        } else {
            args.threads
        }
    );
    Ok(())
}

fn plan(args: &PlanArgs) -> anyhow::Result<()> {
    let task = super::open_task(&args.env)?;
    let mut env = crate::envs::MujocoEnv::new(task.clone());
    let obs = env.reset(0)?;
    let history = Episode::new(&obs, task.spec().action_size);
    let state = env.state();
    let ctx = PlanContext {
        history: &history,
        state: Some(&state),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "ground-truth planning step, {}: K = {} x N = {} ({} physics steps per round), planner {}",
        args.env,
        args.samples,
        args.horizon,
        args.samples * args.horizon * task.spec().substeps,
        args.noise.method(args.samples)?
    );
    let config = args.noise.planner_config(args.samples, args.horizon, 0)?;
    for threads in [1, cores] {
        let mut model = GroundTruth::new(task.clone(), threads);
        let mut planner = Planner::new(config);
        let mut times = Vec::new();
        for _ in 0..args.repeats.max(1) {
            let start = Instant::now();
            planner.plan(&mut model, task.as_ref(), &ctx)?;
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "tdm-workbench: {threads} thread(s): {:.1} ms best, {:.1} ms median (of {})",
            times[0],
            times[times.len() / 2],
            times.len()
        );
    }
    Ok(())
}

fn human(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2}M/s", rate / 1e6)
    } else {
        format!("{:.1}k/s", rate / 1e3)
    }
}
