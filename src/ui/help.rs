//! What a newcomer needs on screen: the keys and mouse (F1, as in dm_control's viewer) and a
//! one-line caption over the view saying what it shows.
use super::app::WorkbenchApp;

/// Keys and mouse, as the help window lists them.
pub const BINDINGS: [(&str, &str); 10] = [
    ("F1", "show or hide this help"),
    ("Space", "play / pause"),
    ("Right arrow", "one control step"),
    ("Backspace", "reset the episode"),
    ("Left drag", "orbit the camera"),
    ("Right drag", "pan (stops following the body)"),
    ("Scroll", "zoom"),
    ("Double-click", "select a body (its mass and joints show)"),
    ("Click a line", "highlight that candidate and its replay"),
    (
        "View menu",
        "follow the body, plots, messages, file dialogs",
    ),
];

impl WorkbenchApp {
    /// F1 toggles the help window.
    pub(super) fn help_key(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.key_pressed(egui::Key::F1)) {
            self.show_help = !self.show_help;
        }
    }

    pub(super) fn help_window_ui(&mut self, ctx: &egui::Context) {
        let mut open = self.show_help;
        egui::Window::new("Help: keys and mouse")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                egui::Grid::new("bindings").striped(true).show(ui, |ui| {
                    for (key, what) in BINDINGS {
                        ui.label(egui::RichText::new(key).strong());
                        ui.label(what);
                        ui.end_row();
                    }
                });
                ui.separator();
                ui.label(
                    "The Planner tab holds the model and the planner's knobs (applied to the \
                     next plan); the Designer tab edits walker bodies.",
                );
            });
        self.show_help = open;
    }

    /// The caption along the top of the view.
    pub(super) fn caption_ui(&self, ui: &egui::Ui, rect: egui::Rect) {
        // A recording says so over the view (not in the status line, whose height it would
        // change, and with it the view's size mid-recording).
        let rec = self
            .wb
            .recording
            .as_ref()
            .map(|r| format!("REC {} frames · ", r.frames))
            .unwrap_or_default();
        let text = format!("{rec}{}   (F1: help)", self.wb.caption());
        egui::Area::new(egui::Id::unique("caption"))
            .fixed_pos(rect.left_top() + egui::vec2(8.0, 6.0))
            .interactable(false)
            .show(ui.ctx(), |ui| {
                // Leave the right side to the messages (up to 420 points wide).
                let room = if self.wb.toasts.is_empty() {
                    rect.width() * 0.62
                } else {
                    rect.width() - 460.0
                };
                ui.set_max_width(room.max(200.0));
                egui::Frame::popup(ui.style())
                    .fill(ui.visuals().extreme_bg_color.gamma_multiply(0.8))
                    .show(ui, |ui| {
                        ui.add(egui::Label::new(egui::RichText::new(text).small()).wrap());
                    });
            });
    }
}

impl WorkbenchApp {
    /// The colour scale of the imagined trails, bottom right of the view, while a plan is drawn.
    pub(super) fn trail_legend_ui(&self, ui: &egui::Ui, rect: egui::Rect) {
        use crate::session::PolicyKind;
        use crate::session::trails::score_colour;
        if self.wb.scene.policy != PolicyKind::Mpc || self.wb.scene.agent.last.is_none() {
            return;
        }
        let (w, h) = (140.0, 10.0);
        let origin = rect.right_bottom() + egui::vec2(-w - 16.0, -44.0);
        let painter = ui.ctx().layer_painter(egui::LayerId::new(
            egui::Order::Foreground,
            egui::Id::unique("trail-legend"),
        ));
        let bg =
            egui::Rect::from_min_size(origin - egui::vec2(8.0, 20.0), egui::vec2(w + 16.0, 44.0));
        painter.rect_filled(bg, 4.0, ui.visuals().extreme_bg_color.gamma_multiply(0.85));
        let steps = 28;
        for i in 0..steps {
            let c = score_colour(i as f32 / (steps - 1) as f32, 1.0);
            let x0 = origin.x + w * i as f32 / steps as f32;
            let cell = egui::Rect::from_min_size(
                egui::pos2(x0, origin.y),
                egui::vec2(w / steps as f32 + 0.5, h),
            );
            painter.rect_filled(
                cell,
                0.0,
                egui::Color32::from_rgb(
                    (c[0] * 255.0) as u8,
                    (c[1] * 255.0) as u8,
                    (c[2] * 255.0) as u8,
                ),
            );
        }
        let font = egui::FontId::proportional(11.0);
        let text = ui.visuals().text_color();
        painter.text(
            origin - egui::vec2(0.0, 3.0),
            egui::Align2::LEFT_BOTTOM,
            "candidate score",
            font.clone(),
            text,
        );
        painter.text(
            origin + egui::vec2(0.0, h + 2.0),
            egui::Align2::LEFT_TOP,
            "worst",
            font.clone(),
            text,
        );
        painter.text(
            origin + egui::vec2(w, h + 2.0),
            egui::Align2::RIGHT_TOP,
            "best",
            font.clone(),
            text,
        );
        painter.text(
            origin + egui::vec2(w * 0.5, h + 2.0),
            egui::Align2::CENTER_TOP,
            "red: chosen",
            font,
            egui::Color32::from_rgb(255, 64, 51),
        );
    }
}
