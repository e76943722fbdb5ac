//! The few-shot report: per learner and M the return after the prompt (mean, 68% interval)
//! and a TDM's loss on the held-out target episodes, with the ground-truth planner and the
//! generalist without target data as references; `results.json`, `.csv`, `.png` and
//! `results-loss.png`.
use super::{FewShot, Learner, TargetLoss};
use crate::chart::{Chart, PALETTE, Series};
use crate::experiment::walkers::{WalkerEval, WalkerRef};
use crate::experiment::{ExperimentError, Fixed, read_json, write_results};
use crate::plan::{MeanCi, mean_ci68};
use serde::{Deserialize, Serialize};

impl FewShot {
    /// Stage 4: returns after the prompt against M per learner, with the references.
    pub fn report(&self) -> Result<FewShotReport, ExperimentError> {
        let read = |name: &str| -> Result<Option<MeanCi>, ExperimentError> {
            let path = self.eval_path(name);
            Ok(if path.exists() {
                let e: WalkerEval = read_json(&path)?;
                let n = e.returns_after_prompt.len().min(self.config.eval_episodes);
                Some(mean_ci68(&e.returns_after_prompt[..n]))
            } else {
                None
            })
        };
        let loss = |name: &str| -> Result<Option<f32>, ExperimentError> {
            let path = self.loss_path(name);
            Ok(if path.exists() {
                Some(read_json::<TargetLoss>(&path)?.loss)
            } else {
                None
            })
        };
        let mut rows = Vec::new();
        for &m in &self.config.episodes {
            for learner in Learner::ALL {
                let name = format!("{}-m{m:03}", learner.name());
                if let Some(r) = read(&name)? {
                    rows.push(FewShotRow {
                        learner: learner.name().into(),
                        episodes: m,
                        return_ci68: r,
                        target_loss: loss(&name)?,
                    });
                }
            }
        }
        let report = FewShotReport {
            target: self.target.clone(),
            ground_truth: read("ground-truth")?,
            zero_shot: read("generalist-zero-shot")?,
            zero_shot_loss: loss("generalist-zero-shot")?,
            rows,
        };
        let references = [
            ("ground-truth", report.ground_truth, None),
            (
                "generalist-zero-shot",
                report.zero_shot,
                report.zero_shot_loss,
            ),
        ];
        let csv_rows = references
            .into_iter()
            .filter_map(|(name, r, loss)| r.map(|r| CsvRow::new(name, 0, r, loss)))
            .chain(report.rows.iter().map(|row| {
                CsvRow::new(&row.learner, row.episodes, row.return_ci68, row.target_loss)
            }));
        let chart = report.chart(&self.config.episodes);
        write_results(
            &self.dir,
            &report,
            &CsvRow::HEADER,
            csv_rows,
            &chart,
            (1000, 560),
        )?;
        let loss_chart = report.loss_chart(&self.config.episodes);
        let path = self.dir.join("results-loss.png");
        if loss_chart.series.iter().any(|s| !s.points.is_empty()) {
            loss_chart
                .save_png(&path, 1000, 560)
                .map_err(|e| ExperimentError::io(&path, e))?;
        }
        Ok(report)
    }
}

/// One line of `results.csv`: return and interval to 3 decimals, the loss (if any) to 4.
#[derive(Serialize)]
struct CsvRow<'a> {
    learner: &'a str,
    episodes: usize,
    #[serde(rename = "return")]
    mean: Fixed<3>,
    low: Fixed<3>,
    high: Fixed<3>,
    target_loss: Option<Fixed<4>>,
}

impl<'a> CsvRow<'a> {
    const HEADER: [&'static str; 6] = [
        "learner",
        "episodes",
        "return",
        "low",
        "high",
        "target_loss",
    ];

    fn new(learner: &'a str, episodes: usize, r: MeanCi, loss: Option<f32>) -> Self {
        Self {
            learner,
            episodes,
            mean: Fixed(r.mean),
            low: Fixed(r.low),
            high: Fixed(r.high),
            target_loss: loss.map(|l| Fixed(f64::from(l))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FewShotRow {
    pub learner: String,
    pub episodes: usize,
    /// Return after the prompt, mean and 68% CI over the evaluation episodes.
    pub return_ci68: MeanCi,
    /// A TDM's next-token loss on the held-out target episodes.
    #[serde(default)]
    pub target_loss: Option<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FewShotReport {
    pub target: WalkerRef,
    pub ground_truth: Option<MeanCi>,
    /// The generalist with no target data.
    pub zero_shot: Option<MeanCi>,
    #[serde(default)]
    pub zero_shot_loss: Option<f32>,
    pub rows: Vec<FewShotRow>,
}

impl FewShotReport {
    /// Return against M per learner; the references as flat lines.
    pub fn chart(&self, episodes: &[usize]) -> Chart {
        let (lo, hi) = (
            *episodes.iter().min().unwrap_or(&1) as f64,
            *episodes.iter().max().unwrap_or(&1) as f64,
        );
        let mut series: Vec<Series> = Learner::ALL
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let rows: Vec<&FewShotRow> =
                    self.rows.iter().filter(|r| r.learner == l.name()).collect();
                Series {
                    errors: Some(
                        rows.iter()
                            .map(|r| (r.return_ci68.low, r.return_ci68.high))
                            .collect(),
                    ),
                    ..Series::line(
                        l.name(),
                        PALETTE[i],
                        rows.iter()
                            .map(|r| (r.episodes as f64, r.return_ci68.mean))
                            .collect(),
                    )
                }
            })
            .collect();
        for (i, (name, r)) in [
            ("ground-truth planner", self.ground_truth),
            ("generalist, no target data", self.zero_shot),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(r) = r {
                series.push(Series::line(
                    name,
                    PALETTE[3 + i],
                    vec![(lo, r.mean), (hi, r.mean)],
                ));
            }
        }
        Chart {
            title: format!("few-shot on {} ({} DoF)", self.target.name, self.target.dof),
            x_label: "target episodes M".into(),
            y_label: "return after the prompt".into(),
            series,
            x_categories: None,
            log_y: false,
        }
    }

    /// The TDMs' loss on the held-out target episodes against M; the generalist with no target
    /// data as a flat line.
    pub fn loss_chart(&self, episodes: &[usize]) -> Chart {
        let (lo, hi) = (
            *episodes.iter().min().unwrap_or(&1) as f64,
            *episodes.iter().max().unwrap_or(&1) as f64,
        );
        let mut series: Vec<Series> = [Learner::FineTuned, Learner::Scratch]
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Series::line(
                    l.name(),
                    PALETTE[i],
                    self.rows
                        .iter()
                        .filter(|r| r.learner == l.name())
                        .filter_map(|r| r.target_loss.map(|v| (r.episodes as f64, f64::from(v))))
                        .collect(),
                )
            })
            .collect();
        if let Some(l) = self.zero_shot_loss {
            series.push(Series::line(
                "generalist, no target data",
                PALETTE[4],
                vec![(lo, f64::from(l)), (hi, f64::from(l))],
            ));
        }
        Chart {
            title: format!(
                "held-out loss on {} ({} DoF)",
                self.target.name, self.target.dof
            ),
            x_label: "target episodes M".into(),
            y_label: "next-token loss, held-out target episodes".into(),
            series,
            x_categories: None,
            log_y: false,
        }
    }
}
