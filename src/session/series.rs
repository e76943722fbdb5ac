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

fn fmt(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map(|v| format!("{v}"))
        .unwrap_or_default()
}

/// The data of `kind` as CSV text (a header line, then one row per point).
pub fn plot_csv(scene: &SceneRunner, kind: PlotKind) -> String {
    let records = &scene.agent.records;
    let mut out = String::new();
    match kind {
        PlotKind::Reward => {
            out.push_str("step,reward,predicted_reward,episode_return\n");
            let mut total = 0.0;
            for r in records {
                total += r.reward;
                out.push_str(&format!(
                    "{},{},{},{}\n",
                    r.step,
                    r.reward,
                    fmt(r.predicted_reward),
                    total
                ));
            }
        }
        PlotKind::PredictionError => {
            out.push_str("horizon_step,median,q25,q75,episode_mean\n");
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
                out.push_str(&format!(
                    "{},{},{},{},{}\n",
                    t + 1,
                    fmt(q.map(|q| q[1])),
                    fmt(q.map(|q| q[0])),
                    fmt(q.map(|q| q[2])),
                    fmt(mean.get(t).copied())
                ));
            }
        }
        PlotKind::Timing => {
            out.push_str("step,plan_ms,generated_tokens_per_sec,real_time_factor\n");
            for r in records {
                out.push_str(&format!(
                    "{},{},{},{}\n",
                    r.step,
                    fmt(r.plan_secs.map(|s| s * 1e3)),
                    fmt(r.tokens_per_sec),
                    r.real_time_factor
                ));
            }
        }
        PlotKind::Actions => {
            let m = records.first().map_or(0, |r| r.action.len());
            out.push_str("step");
            for j in 0..m {
                out.push_str(&format!(",a{j}"));
            }
            out.push('\n');
            for r in records {
                out.push_str(&r.step.to_string());
                for a in &r.action {
                    out.push_str(&format!(",{a}"));
                }
                out.push('\n');
            }
        }
    }
    out
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
        .map(|(t, q)| [(t + 1) as f64, q[1]])
        .collect();
    let mut band: Vec<[f64; 2]> = q
        .iter()
        .enumerate()
        .map(|(t, q)| [(t + 1) as f64, q[2]])
        .collect();
    band.extend(
        q.iter()
            .enumerate()
            .rev()
            .map(|(t, q)| [(t + 1) as f64, q[0]]),
    );
    Some((median, band))
}
