//! `tdm-workbench prediction-error`: the paper's Fig. 13 measure. From random initial states,
//! Brownian action sequences; the model's imagined observations against MuJoCo's; RMS error
//! over non-velocity entries per horizon step, median and quartiles over runs.
use crate::chart::{Chart, PALETTE, Series};
use crate::files::atomic_write;
use crate::models::{Decoding, open_model};
use crate::plan::{NoiseConfig, Quartiles, prediction_error_by_horizon};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct PredictionErrorArgs {
    #[arg(long)]
    env: String,
    /// Models, comma-separated: gt, or checkpoints (TDM or MLP baseline) FILE.safetensors.
    #[arg(long, value_delimiter = ',', default_value = "gt")]
    model: Vec<String>,
    #[arg(long, default_value_t = 30)]
    runs: usize,
    #[arg(long, default_value_t = 50)]
    horizon: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the table here as CSV (model, step, median, q25, q75).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Also draw the medians against horizon as a PNG (log scale).
    #[arg(long)]
    png: Option<PathBuf>,
    /// How TDMs turn their predicted distributions into values: windowed (default), expectation,
    /// greedy, sampled.
    #[arg(long, default_value = "windowed")]
    decoding: Decoding,
}

pub fn run(args: &PredictionErrorArgs) -> anyhow::Result<()> {
    let task = super::open_task(&args.env)?;
    let mut csv = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    csv.write_record(["model", "step", "median", "q25", "q75"])?;
    let mut chart = Chart {
        title: format!(
            "prediction error, {} ({} runs, median)",
            args.env, args.runs
        ),
        x_label: "horizon step".into(),
        y_label: "RMS error (no velocities)".into(),
        log_y: true,
        ..Chart::default()
    };
    for (i, name) in args.model.iter().enumerate() {
        let mut model = open_model(name, &task, 1)?;
        model.set_decoding(args.decoding.into());
        let rows = prediction_error_by_horizon(
            &task,
            model.as_mut(),
            args.runs,
            args.horizon,
            NoiseConfig::default(),
            args.seed,
        )?;
        println!(
            "{} on {} ({} runs; TDMs decode by {}): RMS error over non-velocity observations",
            model.name(),
            args.env,
            args.runs,
            args.decoding.name()
        );
        chart.series.push(Series::line(
            &model.name(),
            PALETTE[i % PALETTE.len()],
            rows.iter()
                .enumerate()
                .map(|(t, r)| ((t + 1) as f64, r.median))
                .collect(),
        ));
        for (t, &Quartiles { q25, median, q75 }) in rows.iter().enumerate() {
            csv.serialize((model.name(), t + 1, median, q25, q75))?;
            if t == 0 || (t + 1) % 5 == 0 || t + 1 == rows.len() {
                println!(
                    "  step {:>3}: median {median:.4} [{q25:.4}, {q75:.4}]",
                    t + 1
                );
            }
        }
    }
    if let Some(path) = &args.csv {
        let bytes = csv.into_inner().map_err(|e| e.into_error())?;
        atomic_write(path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &args.png {
        chart
            .save_png(path, 1000, 560)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
