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
        let text = format!("{}   (F1: help)", self.wb.caption());
        egui::Area::new(egui::Id::unique("caption"))
            .fixed_pos(rect.left_top() + egui::vec2(8.0, 6.0))
            .interactable(false)
            .show(ui.ctx(), |ui| {
                // Leave the right side to the messages.
                ui.set_max_width((rect.width() * 0.62).max(200.0));
                egui::Frame::popup(ui.style())
                    .fill(ui.visuals().extreme_bg_color.gamma_multiply(0.8))
                    .show(ui, |ui| {
                        ui.add(egui::Label::new(egui::RichText::new(text).small()).wrap());
                    });
            });
    }
}
