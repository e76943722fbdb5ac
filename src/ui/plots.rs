//! The plots under the viewport (egui_plot), tied to the time cursor (the step shown): reward
//! (realised and what the chosen plan predicted), prediction error against horizon (this plan's
//! candidates: median and quartiles; mean over the episode), planner timing, and actions (the
//! history and the plan ahead). Each exports its data as CSV.
use crate::session::scene::SceneRunner;
pub use crate::session::series::{PlotKind, Series, error_series, plot_csv};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints, Polygon, VLine};

fn plot(id: &str, height: f32) -> Plot<'static> {
    Plot::new(id.to_string())
        .height(height)
        .legend(Legend::default())
        .allow_scroll(false)
}

/// Draws the four plots side by side; returns the plot whose CSV the user asked for.
/// `show_timings` off leaves wall-clock figures out (for reproducible screenshots).
pub fn plots_ui(ui: &mut egui::Ui, scene: &SceneRunner, show_timings: bool) -> Option<PlotKind> {
    let mut export = None;
    let height = (ui.available_height() - 40.0).max(80.0);
    let now = scene.steps_taken() as f64;
    let records = &scene.agent.records;
    ui.columns(4, |cols| {
        // `+ 0.0` turns the empty sum's -0.0 into 0.0 (no "-0.0" on a fresh episode).
        let total: f64 = records.iter().map(|r| r.reward).sum::<f64>() + 0.0;
        cols[0].horizontal(|ui| {
            ui.label(format!("reward (agent return {total:.1})"));
            if ui.small_button("CSV").clicked() {
                export = Some(PlotKind::Reward);
            }
        });
        plot("plot-reward", height).show(&mut cols[0], |p| {
            let real: PlotPoints = records.iter().map(|r| [r.step as f64, r.reward]).collect();
            p.line(Line::new("realised", real));
            let pred: PlotPoints = records
                .iter()
                .filter_map(|r| r.predicted_reward.map(|y| [r.step as f64, y]))
                .collect();
            p.line(Line::new("predicted", pred).style(LineStyle::dashed_loose()));
            p.vline(VLine::new("now", now));
        });

        cols[1].horizontal(|ui| {
            ui.label("prediction error vs horizon");
            if ui.small_button("CSV").clicked() {
                export = Some(PlotKind::PredictionError);
            }
        });
        if scene.agent.model.path.is_none() {
            // Ground truth is MuJoCo itself: there is no error to plot.
            cols[1].add(
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
        } else {
            plot("plot-error", height).show(&mut cols[1], |p| {
                if let Some((median, band)) = error_series(scene) {
                    p.polygon(Polygon::new("candidates 25-75%", PlotPoints::from(band)));
                    p.line(Line::new("this plan (median)", PlotPoints::from(median)));
                }
                let mean: PlotPoints = scene
                    .agent
                    .mean_error_by_step()
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.is_finite())
                    .map(|(t, e)| [(t + 1) as f64, *e])
                    .collect();
                p.line(Line::new("episode mean", mean).style(LineStyle::dashed_loose()));
            });
        }

        let last_ms = records
            .last()
            .and_then(|r| r.plan_secs)
            .filter(|_| show_timings)
            .map(|s| s * 1e3);
        cols[2].horizontal(|ui| {
            let rtf = if show_timings {
                scene.real_time_factor
            } else {
                0.0
            };
            ui.label(format!(
                "planner ms (RTF {:.2}x{})",
                rtf,
                last_ms
                    .map(|m| format!(", last {m:.0} ms"))
                    .unwrap_or_default()
            ));
            if ui.small_button("CSV").clicked() {
                export = Some(PlotKind::Timing);
            }
        });
        plot("plot-timing", height).show(&mut cols[2], |p| {
            let ms: PlotPoints = records
                .iter()
                .filter(|_| show_timings)
                .filter_map(|r| r.plan_secs.map(|s| [r.step as f64, s * 1e3]))
                .collect();
            p.line(Line::new("ms per plan", ms));
            p.vline(VLine::new("now", now));
        });

        cols[3].horizontal(|ui| {
            ui.label("actions (history | plan ahead)");
            if ui.small_button("CSV").clicked() {
                export = Some(PlotKind::Actions);
            }
        });
        plot("plot-actions", height).show(&mut cols[3], |p| {
            let m = records.first().map_or(0, |r| r.action.len()).min(6);
            for j in 0..m {
                let pts: PlotPoints = records
                    .iter()
                    .filter_map(|r| r.action.get(j).map(|a| [r.step as f64, *a]))
                    .collect();
                p.line(Line::new(format!("a{j}"), pts));
            }
            if let Some(last) = &scene.agent.last {
                let plan = &last.plan;
                for j in 0..plan.action_size.min(6) {
                    let pts: PlotPoints = (0..plan.horizon_steps())
                        .map(|t| {
                            [
                                (last.steps_taken + t) as f64,
                                plan.candidate_action(plan.best, t)[j],
                            ]
                        })
                        .collect();
                    p.line(
                        Line::new(format!("a{j} planned"), pts).style(LineStyle::dashed_dense()),
                    );
                }
            }
            p.vline(VLine::new("now", now));
        });
    });
    export
}
