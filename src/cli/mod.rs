//! The command line: every subcommand in its own module. A thin layer: parse, call the
//! library, print. Errors become one clear line on stderr and a non-zero exit code.

mod bench;
mod bench_tdm;
mod collect;
mod envs;
mod eval;
mod experiment;
mod gui;
mod morph;
mod planner_args;
mod prediction_error;
mod progress;
mod ranking;
mod render;
mod rollout;
mod train;
mod video;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::sync::Arc;

/// Opens the task `--env NAME` names, under a spinner: compiling a large MJCF takes MuJoCo a
/// while (about a minute at 100,000 geoms on this machine) and it reports no progress itself.
fn open_task(name: &str) -> anyhow::Result<Arc<dyn crate::envs::Task>> {
    use anyhow::Context;
    progress::spin_while(&format!("opening {name}"), || crate::envs::make_task(name))
        .with_context(|| format!("cannot open --env {name}"))
}

/// As [`open_task`], as an environment.
fn open_env(name: &str) -> anyhow::Result<Box<dyn crate::envs::Env>> {
    Ok(Box::new(crate::envs::MujocoEnv::new(open_task(name)?)))
}

#[derive(Parser, Debug)]
#[command(
    name = "tdm-workbench",
    version,
    about = "A workbench for transformer dynamics models for control, on real MuJoCo"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Open the workbench window (also what no command does).
    Gui(gui::GuiArgs),
    /// List the tasks with their observation/action sizes and timesteps.
    Envs,
    /// Run episodes with a simple policy and print each episode's return.
    Rollout(rollout::RolloutArgs),
    /// Collect a dataset with a policy (ground-truth MPC, Brownian noise, ...).
    Collect(collect::CollectArgs),
    /// Datasets: merge shards, check and summarise.
    #[command(subcommand)]
    Data(collect::DataCommand),
    /// MPC returns per planner setting, with 68% confidence intervals.
    Eval(eval::EvalArgs),
    /// Prediction error against horizon (the paper's Fig. 13), per model, as a table or CSV.
    PredictionError(prediction_error::PredictionErrorArgs),
    /// How well each model ranks the planner's candidates against their real returns. The
    /// ranked planner starts afresh at every probe state, so --no-warm-start applies to the
    /// probe agent; --proposal-mix to the ranked planner (every --model must have a policy).
    Ranking(ranking::RankingArgs),
    /// Train, resume or fine-tune a TDM or an MLP baseline on datasets.
    Train(train::TrainArgs),
    /// Render a task's scene to a PNG with the workbench's renderer (no window needed).
    Render(render::RenderArgs),
    /// Walker morphologies: generate, show.
    #[command(subcommand)]
    Morph(morph::MorphCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Generalist experiments (zero-shot walkers), resumable stage by stage.
    #[command(subcommand)]
    Experiment(experiment::ExperimentCommand),
}

/// What `tdm-workbench` with no command shows where there is no display: the commands and the
/// tasks.
fn overview() -> anyhow::Result<()> {
    use clap::CommandFactory;
    Cli::command().print_help()?;
    println!();
    envs::run()
}

/// Parses `std::env::args` and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None if gui::has_display() => gui::run(&gui::GuiArgs::parse_from(["gui"])),
        None => overview().map(|()| {
            eprintln!(
                "\n(no display, so no window: every job above runs from the command line; \
                 `xvfb-run -a tdm-workbench` opens the window on a virtual display)"
            )
        }),
        Some(Command::Gui(args)) => gui::run(&args),
        Some(Command::Envs) => envs::run(),
        Some(Command::Rollout(args)) => rollout::run(&args),
        Some(Command::Collect(args)) => collect::run(&args),
        Some(Command::Data(cmd)) => collect::data(&cmd),
        Some(Command::Eval(args)) => eval::run(&args),
        Some(Command::Morph(cmd)) => morph::run(&cmd),
        Some(Command::Train(args)) => train::run(&args),
        Some(Command::PredictionError(args)) => prediction_error::run(&args),
        Some(Command::Ranking(args)) => ranking::run(&args),
        Some(Command::Bench(cmd)) => bench::run(&cmd),
        Some(Command::Render(args)) => render::run(&args),
        Some(Command::Experiment(cmd)) => experiment::run(&cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
