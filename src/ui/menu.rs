//! The menu bar: scenes (suite tasks, generated and designed walkers, MJCF files, recent
//! files), presets, and view options and exports. Every item sends a command.
use super::app::{Tab, WorkbenchApp};
use crate::envs::TASK_NAMES;
use crate::envs::walkers::Family;
use crate::render::RenderQuality;
use crate::session::{Command, FilePrompt, SceneSource};
use std::path::Path;

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}

impl WorkbenchApp {
    pub(super) fn menu_ui(&mut self, ui: &mut egui::Ui) {
        let tx = self.tx.clone();
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("Scene", |ui| {
                for name in TASK_NAMES {
                    if ui.button(name).clicked() {
                        tx.send(Command::LoadScene(SceneSource::Task(name.into())));
                    }
                }
                ui.separator();
                for family in Family::ALL {
                    let name = format!("walker:{}:8:0", family.name());
                    if ui
                        .button(format!("{} walker (8 DoF)", family.name()))
                        .clicked()
                    {
                        tx.send(Command::LoadScene(SceneSource::Task(name)));
                    }
                }
                if ui.button("Designed walker").clicked() {
                    tx.send(Command::LoadScene(SceneSource::Walker(
                        self.wb.designer.tree.clone(),
                    )));
                    self.tab = Tab::Designer;
                }
                ui.separator();
                if ui.button("Open MJCF…").clicked() {
                    tx.send(Command::Prompt(FilePrompt::OpenMjcf));
                }
                ui.menu_button("Recent", |ui| {
                    if self.wb.recent.is_empty() {
                        ui.weak("nothing yet");
                    }
                    for r in &self.wb.recent {
                        if ui.button(r).clicked() {
                            tx.send(Command::LoadScene(SceneSource::Task(r.clone())));
                        }
                    }
                });
            });
            ui.menu_button("Presets", |ui| {
                for p in &self.wb.presets {
                    if ui.button(stem(p)).clicked() {
                        tx.send(Command::ApplyPreset(p.clone()));
                    }
                }
                ui.separator();
                if ui.button("Open preset…").clicked() {
                    tx.send(Command::Prompt(FilePrompt::OpenPreset));
                }
                if ui.button("Save preset…").clicked() {
                    tx.send(Command::Prompt(FilePrompt::SavePreset));
                }
            });
            ui.menu_button("View", |ui| {
                if ui.button("Reset view").clicked() {
                    tx.send(Command::ResetView);
                }
                if ui.button("Export view as PNG…").clicked() {
                    tx.send(Command::Prompt(FilePrompt::SavePng));
                }
                let record = match &self.wb.recording {
                    Some(r) => format!("Stop recording ({} frames)", r.frames),
                    None => "Record the view (APNG)".to_string(),
                };
                if ui.button(record).clicked() {
                    tx.send(Command::ToggleRecording);
                }
                if ui.button("Export episode as dataset…").clicked() {
                    tx.send(Command::Prompt(FilePrompt::SaveDataset));
                }
                ui.checkbox(&mut self.show_plots, "Show plots");
                ui.checkbox(&mut self.wb.view.follow, "Follow the root body");
                ui.checkbox(&mut self.show_timings, "Show frame timings");
                ui.horizontal(|ui| {
                    ui.label("Render quality");
                    let mut q = self.render_quality;
                    ui.selectable_value(&mut q, RenderQuality::High, "high")
                        .on_hover_text("4x multisampling, 2048-pixel shadows");
                    ui.selectable_value(&mut q, RenderQuality::Low, "low")
                        .on_hover_text(
                            "no multisampling, 1024-pixel shadows: the default on a software \
                             rasteriser (llvmpipe), where these are most of a frame",
                        );
                    self.set_render_quality(q);
                });
                ui.checkbox(&mut self.dialogs.prefer_in_window, "In-window file dialogs")
                    .on_hover_text(format!(
                        "file prompts open in the window's own browser instead of the desktop's \
                         dialog (in use now: {})",
                        self.dialogs.in_use()
                    ));
                let messages = format!("Messages ({})", self.wb.history.len());
                ui.checkbox(&mut self.show_messages, messages);
            });
            ui.menu_button("Help", |ui| {
                if ui.button("Keys and mouse (F1)").clicked() {
                    self.show_help = true;
                }
            });
            ui.separator();
            ui.label(egui::RichText::new(self.wb.scene.source.label()).strong());
        });
    }
}
