//! The zero-shot report: per held-out walker the three agents' returns after the prompt and
//! the TDM's and BC's fractions of the ground-truth return, overall means with 68% intervals,
//! the training runs; written as `results.json`, `results.csv` and `results.png`.
use super::{Agent, TrainRun, ZeroShot, ZeroShotConfig};
use crate::chart::{Chart, PALETTE, Series, Style};
use crate::experiment::walkers::WalkerEval;
use crate::experiment::{ExperimentError, Fixed, read_json, write_results};
use crate::plan::{MeanCi, mean_ci68};
use serde::{Deserialize, Serialize};

impl ZeroShot {
    /// Stage 4: everything evaluated so far, per walker and overall; writes `results.json`,
    /// `results.csv` and `results.png`.
    pub fn report(&self) -> Result<ZeroShotReport, ExperimentError> {
        let c = &self.config;
        let mut rows = Vec::new();
        let mut missing = Vec::new();
        for (j, w) in c.held_out_set().iter().enumerate() {
            let mut mean = [f64::NAN; 3];
            for (slot, agent) in Agent::ALL.iter().enumerate() {
                let file = self.eval_file(j, *agent);
                if file.exists() {
                    let e: WalkerEval = read_json(&file)?;
                    mean[slot] = mean_ci68(&e.returns_after_prompt).mean;
                } else {
                    missing.push(format!("{} {}", w.name, agent.name()));
                }
            }
            let [gt, tdm, bc] = mean;
            rows.push(WalkerRow {
                walker: w.name.clone(),
                dof: w.dof,
                ground_truth: gt,
                tdm,
                bc,
                tdm_fraction: tdm / gt,
                bc_fraction: bc / gt,
            });
        }
        // A fraction needs a positive ground-truth return.
        let complete: Vec<&WalkerRow> = rows
            .iter()
            .filter(|r| r.ground_truth > 0.0 && r.tdm.is_finite() && r.bc.is_finite())
            .collect();
        let col =
            |f: fn(&WalkerRow) -> f64| -> Vec<f64> { complete.iter().map(|r| f(r)).collect() };
        let train_runs: Vec<TrainRun> = {
            let log = self.dir.join("train-runs.json");
            if log.exists() {
                read_json(&log)?
            } else {
                Vec::new()
            }
        };
        let report = ZeroShotReport {
            config: c.clone(),
            walkers_complete: complete.len(),
            ground_truth: mean_ci68(&col(|r| r.ground_truth)),
            tdm: mean_ci68(&col(|r| r.tdm)),
            bc: mean_ci68(&col(|r| r.bc)),
            tdm_fraction: mean_ci68(&col(|r| r.tdm_fraction)),
            bc_fraction: mean_ci68(&col(|r| r.bc_fraction)),
            train_tokens: train_runs.iter().map(|r| r.tokens_this_run).sum(),
            train_secs: train_runs.iter().map(|r| r.secs).sum(),
            train_runs,
            rows,
            missing,
        };
        let csv_rows = report.rows.iter().map(|r| CsvRow {
            walker: &r.walker,
            dof: r.dof,
            ground_truth: Fixed(r.ground_truth),
            tdm: Fixed(r.tdm),
            bc: Fixed(r.bc),
            tdm_fraction: Fixed(r.tdm_fraction),
            bc_fraction: Fixed(r.bc_fraction),
        });
        write_results(
            &self.dir,
            &report,
            &CsvRow::HEADER,
            csv_rows,
            &report.chart(),
            (1100, 560),
        )?;
        Ok(report)
    }
}

/// One line of `results.csv`: a [`WalkerRow`] with returns to 3 decimals, fractions to 4.
#[derive(Serialize)]
struct CsvRow<'a> {
    walker: &'a str,
    dof: usize,
    ground_truth: Fixed<3>,
    tdm: Fixed<3>,
    bc: Fixed<3>,
    tdm_fraction: Fixed<4>,
    bc_fraction: Fixed<4>,
}

impl CsvRow<'_> {
    const HEADER: [&'static str; 7] = [
        "walker",
        "dof",
        "ground_truth",
        "tdm",
        "bc",
        "tdm_fraction",
        "bc_fraction",
    ];
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkerRow {
    pub walker: String,
    pub dof: usize,
    /// Mean returns after the prompt.
    pub ground_truth: f64,
    pub tdm: f64,
    pub bc: f64,
    pub tdm_fraction: f64,
    pub bc_fraction: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZeroShotReport {
    pub config: ZeroShotConfig,
    /// Held-out walkers with all three agents evaluated (the means are over these).
    pub walkers_complete: usize,
    pub ground_truth: MeanCi,
    pub tdm: MeanCi,
    pub bc: MeanCi,
    /// Per-walker fraction of the ground-truth planner's return, averaged over walkers.
    pub tdm_fraction: MeanCi,
    pub bc_fraction: MeanCi,
    pub train_tokens: u64,
    pub train_secs: f64,
    pub train_runs: Vec<TrainRun>,
    pub rows: Vec<WalkerRow>,
    /// Walker-agent pairs not evaluated yet.
    pub missing: Vec<String>,
}

impl ZeroShotReport {
    /// Returns after the prompt per held-out walker: ground truth, TDM MPC and BC side by side.
    pub fn chart(&self) -> Chart {
        type Column = fn(&WalkerRow) -> f64;
        let agents: [(&str, Column); 3] = [
            ("ground-truth MPC", |r| r.ground_truth),
            ("TDM MPC (zero-shot)", |r| r.tdm),
            ("TDM as BC policy", |r| r.bc),
        ];
        let series = agents
            .iter()
            .enumerate()
            .map(|(a, (name, value))| Series {
                style: Style::Bars { width: 0.25 },
                ..Series::line(
                    name,
                    PALETTE[a],
                    self.rows
                        .iter()
                        .enumerate()
                        .map(|(j, r)| (j as f64 + (a as f64 - 1.0) * 0.27, value(r)))
                        .collect(),
                )
            })
            .collect();
        Chart {
            title: format!(
                "zero-shot on {} held-out {} walkers (trained on {}): TDM/GT {:.2}, BC/GT {:.2}",
                self.rows.len(),
                self.config.family,
                self.config.train_walkers,
                self.tdm_fraction.mean,
                self.bc_fraction.mean
            ),
            x_label: "held-out walker (DoF)".into(),
            y_label: format!("return after the {}-step prompt", self.config.prompt_steps),
            series,
            x_categories: Some(self.rows.iter().map(|r| format!("{}", r.dof)).collect()),
            log_y: false,
        }
    }
}
