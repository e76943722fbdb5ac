//! The status line (time, step, reward, return, timings, the history scrubber) and what is
//! drawn over the viewport: the selected body's mass and joints, and the messages (toasts).
use super::app::WorkbenchApp;
use crate::session::Command;
use crate::sim::body_info;

impl WorkbenchApp {
    pub(super) fn status_ui(&mut self, ui: &mut egui::Ui) {
        let scene = &self.wb.scene;
        let len = scene.history_len();
        if len > 1 {
            let mut pos = scene.history_position();
            let back_secs = (len - 1 - pos) as f64 * scene.control_dt_secs();
            let r = ui.add(
                egui::Slider::new(&mut pos, 0..=len - 1)
                    .show_value(false)
                    .text(format!("history ({back_secs:.1} s back)")),
            );
            if r.changed() {
                self.tx.send(Command::ScrubTo(pos));
            }
        }
        let spec = scene.env().spec();
        let stats = self.viewport.frame_stats();
        let mut status = format!(
            "t = {:.2} s   step {}/{}   reward {:.3}   return {:.1}",
            scene.time_secs(),
            scene.steps_taken(),
            spec.episode_steps,
            scene.last_reward + 0.0,
            scene.episode_return + 0.0,
        );
        if self.show_timings {
            status.push_str(&format!(
                "   real-time factor {:.2}x   {:.0} fps   frame {:.1} ms (3D {:.2} ms, render {})",
                scene.real_time_factor,
                self.fps,
                self.ui_frame_secs * 1e3,
                stats.prepare_secs * 1e3,
                self.render_quality.name(),
            ));
        }
        if scene.is_live() {
            let agent = &scene.agent;
            status.push_str(&format!(
                "   {}: {:.1} plans/s",
                agent.pacing.label(),
                agent.plans_per_sec().unwrap_or(0.0)
            ));
            match agent.plan_age {
                Some(age) => status.push_str(&format!(
                    ", plan age {age} steps ({:.0} ms sim)",
                    age as f64 * spec.control_dt_secs() * 1e3
                )),
                None => status.push_str(", no plan in use (zero action)"),
            }
            status.push_str(&format!(", {:.2}x real time", scene.real_time_factor));
        } else if scene.waiting_for_plan() {
            status.push_str("   planning…");
        }
        if !scene.playing {
            status.push_str("   paused");
        }
        ui.horizontal(|ui| {
            // One line, cut at the edge: a status that wraps would resize the view as it changes.
            ui.add(egui::Label::new(egui::RichText::new(status).monospace()).truncate());
            if let Some(compiling) = self.wb.compiling_status() {
                ui.spinner();
                ui.label(compiling);
            }
        });
    }

    pub(super) fn overlays_ui(&mut self, ui: &mut egui::Ui, rect: egui::Rect) {
        let scene = &self.wb.scene;
        if let Some(body) = self.wb.view.selected_body
            && let Some(info) = body_info(scene.env().sim().model(), scene.env().sim().data(), body)
        {
            let mut text = format!("{} (body {body})\nmass {:.3} kg", info.name, info.mass_kg);
            for (name, q) in &info.joints {
                text.push_str(&format!("\n{name} = {q:+.3}"));
            }
            egui::Area::new(egui::Id::unique("selected-body"))
                .fixed_pos(rect.left_bottom() + egui::vec2(8.0, -8.0))
                .pivot(egui::Align2::LEFT_BOTTOM)
                .show(ui.ctx(), |ui| {
                    egui::Frame::popup(ui.style()).show(ui, |ui| {
                        ui.label(egui::RichText::new(text).monospace());
                    });
                });
        }
        if self.wb.toasts.is_empty() {
            return;
        }
        egui::Area::new(egui::Id::unique("toasts"))
            .fixed_pos(rect.right_top() + egui::vec2(-8.0, 8.0))
            .pivot(egui::Align2::RIGHT_TOP)
            .show(ui.ctx(), |ui| {
                // Messages wrap inside the viewport, so they never reach over the panels.
                let width = (rect.width() - 16.0).clamp(120.0, 420.0);
                ui.set_max_width(width);
                for (i, t) in self.wb.toasts.iter().enumerate() {
                    egui::Frame::popup(ui.style()).show(ui, |ui| {
                        ui.set_max_width(width - 16.0);
                        ui.horizontal_top(|ui| {
                            if ui.small_button("×").clicked() {
                                self.tx.send(Command::DismissToast(i));
                            }
                            let color = if t.is_error {
                                ui.visuals().error_fg_color
                            } else {
                                ui.visuals().text_color()
                            };
                            let text = egui::RichText::new(&t.message).color(color);
                            ui.add(egui::Label::new(text).wrap());
                        });
                    });
                }
            });
    }
}

impl WorkbenchApp {
    /// Every message of this run, newest first, in a window of its own (View > Messages).
    pub(super) fn messages_window_ui(&mut self, ctx: &egui::Context) {
        let mut open = self.show_messages;
        egui::Window::new("Messages")
            .open(&mut open)
            .default_width(520.0)
            .show(ctx, |ui| {
                if self.wb.history.is_empty() {
                    ui.label("No messages yet.");
                }
                egui::ScrollArea::vertical().show(ui, |ui| {
                    for t in self.wb.history.iter().rev() {
                        let color = if t.is_error {
                            ui.visuals().error_fg_color
                        } else {
                            ui.visuals().text_color()
                        };
                        ui.add(
                            egui::Label::new(egui::RichText::new(&t.message).color(color)).wrap(),
                        );
                        ui.separator();
                    }
                });
            });
        self.show_messages = open;
    }
}
