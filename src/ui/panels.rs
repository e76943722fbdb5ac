//! The control panel: its tabs, and the Simulation and Preset files tabs (the Planner and
//! Designer tabs have files of their own). Buttons send commands; sliders change settings.
use super::app::{Tab, WorkbenchApp};
use super::designer::designer_ui;
use super::planner_panel::planner_ui;
use crate::session::live::Pacing;
use crate::session::presets::presets_dir;
use crate::session::{Command, FilePrompt, PolicyKind};

impl WorkbenchApp {
    fn simulation_ui(&mut self, ui: &mut egui::Ui) {
        let scene = &mut self.wb.scene;
        ui.horizontal(|ui| {
            let label = if scene.playing { "Pause" } else { "Play" };
            if ui.button(label).on_hover_text("space").clicked() {
                self.tx.send(Command::TogglePlay);
            }
            if ui.button("Step").on_hover_text("right arrow").clicked() {
                self.tx.send(Command::Step);
            }
            if ui.button("Reset").on_hover_text("backspace").clicked() {
                self.tx.send(Command::Reset);
            }
        });
        ui.add(
            egui::Slider::new(&mut scene.speed, 0.05..=16.0)
                .logarithmic(true)
                .text("speed (x real time)"),
        );
        ui.horizontal(|ui| {
            let label = ui.label("episode seed");
            let mut seed = scene.seed;
            if ui
                .add(egui::DragValue::new(&mut seed))
                .labelled_by(label.id)
                .changed()
            {
                self.tx.send(Command::Restart(seed));
            }
        });
        ui.separator();
        ui.label(egui::RichText::new("Policy").strong());
        let mut policy = scene.policy;
        for p in PolicyKind::ALL {
            ui.radio_value(&mut policy, p, p.label());
        }
        if policy != scene.policy {
            self.tx.send(Command::SetPolicy(policy));
        }
        if policy == PolicyKind::Mpc {
            ui.weak(format!(
                "planning with {} (Planner tab)",
                scene.agent.model.name
            ));
            ui.horizontal(|ui| {
                ui.label("pacing");
                for p in Pacing::ALL {
                    let hint = match p {
                        Pacing::RealTime => {
                            "physics on the wall clock at the chosen speed; the planner replans continuously and each plan acts late, shifted by its age"
                        }
                        Pacing::LockStep => {
                            "the simulation waits for every plan (as in the paper's evaluation)"
                        }
                    };
                    if ui
                        .radio(scene.agent.pacing == p, p.label())
                        .on_hover_text(hint)
                        .clicked()
                    {
                        self.tx.send(Command::SetPacing(p));
                    }
                }
            });
        }
        ui.separator();
        let spec = scene.env().spec();
        ui.label(format!(
            "{}: {} observations, {} actions, control step {:.0} ms",
            spec.name,
            spec.observation_size,
            spec.action_size,
            spec.control_dt_secs() * 1e3
        ));
    }

    fn presets_ui(&mut self, ui: &mut egui::Ui) {
        ui.label(format!("Presets in {}", presets_dir().display()));
        for p in &self.wb.presets {
            let label = p
                .file_name()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            if ui.button(label).clicked() {
                self.tx.send(Command::ApplyPreset(p.clone()));
            }
        }
        ui.horizontal(|ui| {
            if ui.button("Open…").clicked() {
                self.tx.send(Command::Prompt(FilePrompt::OpenPreset));
            }
            if ui.button("Save current…").clicked() {
                self.tx.send(Command::Prompt(FilePrompt::SavePreset));
            }
            if ui.button("Rescan").clicked() {
                self.tx.send(Command::RescanPresets);
            }
        });
    }

    /// The designer, with its link selection mirrored into the viewport.
    fn designer_panel_ui(&mut self, ui: &mut egui::Ui) {
        let before = self.wb.designer.selected;
        designer_ui(ui, &mut self.wb.designer, &self.tx);
        if self.wb.designer.selected != before {
            self.wb.select_designer_link();
        }
    }

    pub(super) fn controls_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, Tab::Simulation, "Simulation");
            ui.selectable_value(&mut self.tab, Tab::Planner, "Planner");
            ui.selectable_value(&mut self.tab, Tab::Designer, "Designer");
            ui.selectable_value(&mut self.tab, Tab::Presets, "Preset files");
        });
        ui.separator();
        egui::ScrollArea::vertical().show(ui, |ui| match self.tab {
            Tab::Simulation => self.simulation_ui(ui),
            Tab::Planner => planner_ui(
                ui,
                self.wb.applied_preset.as_deref(),
                &mut self.wb.scene,
                &mut self.wb.plan_view,
                self.show_timings,
                &self.tx,
            ),
            Tab::Designer => self.designer_panel_ui(ui),
            Tab::Presets => self.presets_ui(ui),
        });
    }
}
