//! The data behind the plots as plain series and CSV text: reward (realised and predicted),
//! prediction error against horizon (this plan's quartiles, the episode's mean), planner timing,
//! and actions. No drawing: `ui::plots` draws these.
use super::scene::SceneRunner;
use crate::plan::quartiles_by_step;

/// The plots, for export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlotKind {
    Reward,
    PredictionError,
    Timing,
    Actions,
}

impl PlotKind {
    pub const ALL: [PlotKind; 4] = [
        Self::Reward,
        Self::PredictionError,
        Self::Timing,
        Self::Actions,
    ];

    pub fn file_stem(self) -> &'static str {
        match self {
            Self::Reward => "reward",
            Self::PredictionError => "prediction-error",
            Self::Timing => "planner-timing",
            Self::Actions => "actions",
        }
    }
}

/// A value for a CSV cell: non-finite ones are left empty.
fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

/// The data of `kind` as CSV text (a header line, then one row per point).
pub fn plot_csv(scene: &SceneRunner, kind: PlotKind) -> Result<String, csv::Error> {
    let bytes = plot_table(scene, kind)?;
    // The csv crate writes UTF-8 from numbers and ASCII headers.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn plot_table(scene: &SceneRunner, kind: PlotKind) -> Result<Vec<u8>, csv::Error> {
    let records = &scene.agent.records;
    let mut out = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    match kind {
        PlotKind::Reward => {
            out.write_record(["step", "reward", "predicted_reward", "episode_return"])?;
            let mut total = 0.0;
            for r in records {
                total += r.reward;
                out.serialize((r.step, r.reward, finite(r.predicted_reward), total))?;
            }
        }
        PlotKind::PredictionError => {
            out.write_record(["horizon_step", "median", "q25", "q75", "episode_mean"])?;
            let current = scene
                .agent
                .last
                .as_ref()
                .and_then(|l| l.inspection.prediction_error.as_ref())
                .map(|e| quartiles_by_step(e))
                .unwrap_or_default();
            let mean = scene.agent.mean_error_by_step();
            for t in 0..current.len().max(mean.len()) {
                let q = current.get(t);
                out.serialize((
                    t + 1,
                    finite(q.map(|q| q.median)),
                    finite(q.map(|q| q.q25)),
                    finite(q.map(|q| q.q75)),
                    finite(mean.get(t).copied()),
                ))?;
            }
        }
        PlotKind::Timing => {
            out.write_record([
                "step",
                "plan_ms",
                "generated_tokens_per_sec",
                "real_time_factor",
            ])?;
            for r in records {
                out.serialize((
                    r.step,
                    finite(r.plan_secs.map(|s| s * 1e3)),
                    finite(r.tokens_per_sec),
                    r.real_time_factor,
                ))?;
            }
        }
        PlotKind::Actions => {
            let m = records.first().map_or(0, |r| r.action.len());
            let header = (0..m).map(|j| format!("a{j}"));
            out.write_record(std::iter::once("step".to_string()).chain(header))?;
            for r in records {
                out.serialize((r.step, &r.action))?;
            }
        }
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// Plot points `[x, y]`.
pub type Series = Vec<[f64; 2]>;

/// Points of the prediction-error plot for the current plan: (median, band polygon).
pub fn error_series(scene: &SceneRunner) -> Option<(Series, Series)> {
    let errors = scene
        .agent
        .last
        .as_ref()?
        .inspection
        .prediction_error
        .as_ref()?;
    let q = quartiles_by_step(errors);
    let median = q
        .iter()
        .enumerate()
        .map(|(t, q)| [(t + 1) as f64, q.median])
        .collect();
    let mut band: Vec<[f64; 2]> = q
        .iter()
        .enumerate()
        .map(|(t, q)| [(t + 1) as f64, q.q75])
        .collect();
    band.extend(
        q.iter()
            .enumerate()
            .rev()
            .map(|(t, q)| [(t + 1) as f64, q.q25]),
    );
    Some((median, band))
}
