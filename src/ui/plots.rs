//! The plots under the viewport (egui_plot), tied to the time cursor (the step shown): reward
//! (realised and what the chosen plan predicted), prediction error against horizon (this plan's
//! candidates: median and quartiles; mean over the episode), planner timing, and actions (the
//! history and the plan ahead). All four side by side, or one of them over the whole panel
//! (the panel's top edge resizes it); each legend is a row above its plot, not over the data;
//! each plot exports its data as CSV.
use crate::session::scene::SceneRunner;
pub use crate::session::series::{PlotKind, Series, error_series, plot_csv};
use egui::Color32;
use egui_plot::{Line, LineStyle, Plot, PlotPoints, PlotUi, Polygon, VLine};

/// Which plots the panel shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlotLayout {
    #[default]
    All,
    One(PlotKind),
}

const REALISED: Color32 = Color32::from_rgb(230, 90, 80);
const PREDICTED: Color32 = Color32::from_rgb(90, 150, 240);
const NOW: Color32 = Color32::from_rgb(150, 150, 150);
const BAND: Color32 = Color32::from_rgb(200, 130, 60);
const MEDIAN: Color32 = Color32::from_rgb(240, 170, 70);
const MEAN: Color32 = Color32::from_rgb(120, 200, 120);
const ACTIONS: [Color32; 6] = [
    Color32::from_rgb(230, 90, 80),
    Color32::from_rgb(90, 150, 240),
    Color32::from_rgb(120, 200, 120),
    Color32::from_rgb(220, 180, 60),
    Color32::from_rgb(180, 110, 220),
    Color32::from_rgb(80, 200, 200),
];

fn title(kind: PlotKind) -> &'static str {
    match kind {
        PlotKind::Reward => "reward",
        PlotKind::PredictionError => "prediction error vs horizon",
        PlotKind::Timing => "planner ms",
        PlotKind::Actions => "actions (history | plan ahead)",
    }
}

/// The legend as a row of coloured names above the plot.
fn legend_row(ui: &mut egui::Ui, entries: &[(String, Color32)]) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 10.0;
        for (name, colour) in entries {
            ui.label(
                egui::RichText::new(format!("— {name}"))
                    .small()
                    .color(*colour),
            );
        }
    });
}

/// Draws the plots as `layout` says; returns the plot whose CSV the user asked for.
/// `show_timings` off leaves wall-clock figures out (for reproducible screenshots).
pub fn plots_ui(
    ui: &mut egui::Ui,
    scene: &SceneRunner,
    show_timings: bool,
    layout: &mut PlotLayout,
) -> Option<PlotKind> {
    let mut export = None;
    ui.horizontal(|ui| {
        ui.selectable_value(layout, PlotLayout::All, "all four");
        for kind in PlotKind::ALL {
            ui.selectable_value(layout, PlotLayout::One(kind), title(kind));
        }
    });
    match *layout {
        PlotLayout::All => {
            let height = (ui.available_height() - 58.0).max(60.0);
            ui.columns(4, |cols| {
                for (col, kind) in cols.iter_mut().zip(PlotKind::ALL) {
                    if one_plot(col, scene, kind, show_timings, height) {
                        export = Some(kind);
                    }
                }
            });
        }
        PlotLayout::One(kind) => {
            let height = (ui.available_height() - 58.0).max(60.0);
            if one_plot(ui, scene, kind, show_timings, height) {
                export = Some(kind);
            }
        }
    }
    export
}

/// One plot with its header (title, figure, CSV button) and legend; true if CSV was asked for.
fn one_plot(
    ui: &mut egui::Ui,
    scene: &SceneRunner,
    kind: PlotKind,
    show_timings: bool,
    height: f32,
) -> bool {
    let records = &scene.agent.records;
    let header = match kind {
        PlotKind::Reward => {
            // `+ 0.0` turns the empty sum's -0.0 into 0.0 (no "-0.0" on a fresh episode).
            let total: f64 = records.iter().map(|r| r.reward).sum::<f64>() + 0.0;
            format!("reward (agent return {total:.1})")
        }
        PlotKind::Timing => {
            let rtf = if show_timings {
                scene.real_time_factor
            } else {
                0.0
            };
            let last_ms = records
                .last()
                .and_then(|r| r.plan_secs)
                .filter(|_| show_timings)
                .map(|s| s * 1e3);
            format!(
                "planner ms (RTF {rtf:.2}x{})",
                last_ms
                    .map(|m| format!(", last {m:.0} ms"))
                    .unwrap_or_default()
            )
        }
        other => title(other).to_string(),
    };
    let mut csv = false;
    ui.horizontal(|ui| {
        ui.label(header);
        csv = ui.small_button("CSV").clicked();
    });
    if kind == PlotKind::PredictionError && scene.agent.model.path.is_none() {
        // Ground truth is MuJoCo itself: there is no error to plot.
        ui.add(
            egui::Label::new(
                egui::RichText::new(
                    "Ground truth plans with MuJoCo itself, so its predictions are exact \
                     (error 0 at every horizon). Pick a learned model in the Planner tab to \
                     see how its error grows with the horizon.",
                )
                .weak(),
            )
            .wrap(),
        );
        return csv;
    }
    let legend = legend_for(scene, kind);
    legend_row(ui, &legend);
    Plot::new(format!("plot-{}", kind.file_stem()))
        .height(height)
        .allow_scroll(false)
        .show(ui, |p| draw(p, scene, kind, show_timings));
    csv
}

/// What a plot's legend lists.
fn legend_for(scene: &SceneRunner, kind: PlotKind) -> Vec<(String, Color32)> {
    let named = |pairs: &[(&str, Color32)]| -> Vec<(String, Color32)> {
        pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    };
    match kind {
        PlotKind::Reward => named(&[
            ("realised", REALISED),
            ("predicted", PREDICTED),
            ("now", NOW),
        ]),
        PlotKind::PredictionError => named(&[
            ("candidates 25-75%", BAND),
            ("this plan (median)", MEDIAN),
            ("episode mean", MEAN),
        ]),
        PlotKind::Timing => named(&[("ms per plan", REALISED), ("now", NOW)]),
        PlotKind::Actions => {
            let m = action_count(scene);
            let mut v: Vec<(String, Color32)> =
                (0..m).map(|j| (format!("a{j}"), ACTIONS[j])).collect();
            if m > 0 {
                v.push(("dashed: planned".into(), NOW));
            }
            v
        }
    }
}

fn action_count(scene: &SceneRunner) -> usize {
    scene
        .agent
        .records
        .first()
        .map_or(0, |r| r.action.len())
        .min(ACTIONS.len())
}

fn draw(p: &mut PlotUi<'_>, scene: &SceneRunner, kind: PlotKind, show_timings: bool) {
    let records = &scene.agent.records;
    let now = scene.steps_taken() as f64;
    match kind {
        PlotKind::Reward => {
            let real: PlotPoints = records.iter().map(|r| [r.step as f64, r.reward]).collect();
            p.line(Line::new("realised", real).color(REALISED));
            let pred: PlotPoints = records
                .iter()
                .filter_map(|r| r.predicted_reward.map(|y| [r.step as f64, y]))
                .collect();
            p.line(
                Line::new("predicted", pred)
                    .color(PREDICTED)
                    .style(LineStyle::dashed_loose()),
            );
            p.vline(VLine::new("now", now).color(NOW));
        }
        PlotKind::PredictionError => {
            if let Some((median, band)) = error_series(scene) {
                p.polygon(
                    Polygon::new("candidates 25-75%", PlotPoints::from(band))
                        .fill_color(BAND.gamma_multiply(0.3))
                        .stroke(egui::Stroke::new(1.0, BAND)),
                );
                p.line(Line::new("this plan (median)", PlotPoints::from(median)).color(MEDIAN));
            }
            let mean: PlotPoints = scene
                .agent
                .mean_error_by_step()
                .iter()
                .enumerate()
                .filter(|(_, e)| e.is_finite())
                .map(|(t, e)| [(t + 1) as f64, *e])
                .collect();
            p.line(
                Line::new("episode mean", mean)
                    .color(MEAN)
                    .style(LineStyle::dashed_loose()),
            );
        }
        PlotKind::Timing => {
            let ms: PlotPoints = records
                .iter()
                .filter(|_| show_timings)
                .filter_map(|r| r.plan_secs.map(|s| [r.step as f64, s * 1e3]))
                .collect();
            p.line(Line::new("ms per plan", ms).color(REALISED));
            p.vline(VLine::new("now", now).color(NOW));
        }
        PlotKind::Actions => {
            let m = action_count(scene);
            for (j, &colour) in ACTIONS.iter().enumerate().take(m) {
                let pts: PlotPoints = records
                    .iter()
                    .filter_map(|r| r.action.get(j).map(|a| [r.step as f64, *a]))
                    .collect();
                p.line(Line::new(format!("a{j}"), pts).color(colour));
            }
            if let Some(last) = &scene.agent.last {
                let plan = &last.plan;
                for (j, &colour) in ACTIONS.iter().enumerate().take(plan.action_size) {
                    let pts: PlotPoints = (0..plan.horizon_steps())
                        .map(|t| {
                            [
                                (last.steps_taken + t) as f64,
                                plan.candidate_action(plan.best, t)[j],
                            ]
                        })
                        .collect();
                    p.line(
                        Line::new(format!("a{j} planned"), pts)
                            .color(colour)
                            .style(LineStyle::dashed_dense()),
                    );
                }
            }
            p.vline(VLine::new("now", now).color(NOW));
        }
    }
}
