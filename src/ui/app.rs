//! The workbench window: a menu bar (scenes, presets, view), a control panel (simulation,
//! designer, presets), the 3D viewport, and a status line with a history scrubber. UI actions
//! become [`Command`]s handled in one place after the frame is drawn.
use super::designer::{DesignerAction, DesignerState, designer_ui};
use super::dialogs::{DialogPurpose, Dialogs};
use super::planner_panel::{BundledModel, PlannerAction, bundled_models, planner_ui};
use super::plots::{PlotKind, plot_csv, plots_ui};
use super::presets::{Preset, SimSettings, list_presets, presets_dir};
use super::scene::{PolicyKind, SceneRunner, SceneSource};
use super::trails::{PlanView, add_ghosts, add_plan_trails, nearest_trail};
use super::viewport::{ViewportState, install_renderer, viewport_ui};
use crate::data::{Dataset, EnvInfo};
use crate::envs::TASK_NAMES;
use crate::envs::walkers::{Family, KinematicTree, link_name, to_mjcf};
use crate::plan::PlannerConfig;
use crate::render::{DrawList, SceneStyle};
use crate::sim::body_info;
use crate::sim::{SceneGeometry, Sim};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Something the user asked for, handled after the frame is drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    LoadScene(SceneSource),
    OpenMjcf(PathBuf),
    OpenTree(PathBuf),
    SaveTree(PathBuf),
    SaveMjcf(PathBuf),
    ApplyPreset(PathBuf),
    SavePreset(PathBuf),
    ShowDialog(DialogPurpose),
    ResetView,
    /// Plan with this checkpoint, a TDM or an MLP baseline (loaded off the UI thread).
    LoadCheckpoint(PathBuf),
    SaveCsv(PlotKind, PathBuf),
    SavePng(PathBuf),
    /// Write the episode so far as a one-episode dataset in this folder.
    SaveDataset(PathBuf),
}

/// How the app starts.
#[derive(Clone, Debug)]
pub struct AppOptions {
    pub scene: SceneSource,
    pub start_paused: bool,
    /// Preset applied at start (its scene replaces `scene`).
    pub preset: Option<PathBuf>,
    /// The policy at start (default: zero action).
    pub policy: Option<PolicyKind>,
    /// A checkpoint (TDM or MLP baseline) the MPC agent plans with (default: ground truth).
    pub checkpoint: Option<PathBuf>,
    /// Planner settings at start.
    pub planner: Option<PlannerConfig>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            scene: SceneSource::Task("cartpole-swingup".into()),
            start_paused: false,
            preset: None,
            policy: None,
            checkpoint: None,
            planner: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Simulation,
    Planner,
    Designer,
    Presets,
}

/// A message shown over the viewport until dismissed.
#[derive(Clone, Debug)]
pub struct Toast {
    pub message: String,
    pub is_error: bool,
}

const RECENT_KEY: &str = "recent_files";
const MAX_RECENT: usize = 8;
const TRAIL_POINTS: usize = 400;

/// The workbench window's state.
pub struct WorkbenchApp {
    scene: SceneRunner,
    viewport: ViewportState,
    designer: DesignerState,
    dialogs: Dialogs,
    toasts: Vec<Toast>,
    recent: Vec<String>,
    presets: Vec<PathBuf>,
    tab: Tab,
    commands: Vec<Command>,
    ctx: egui::Context,
    wake: Arc<dyn Fn() + Send + Sync>,
    trail: VecDeque<[f32; 3]>,
    /// CPU time of the last UI frame (seconds, smoothed).
    pub ui_frame_secs: f64,
    /// CPU time of the last UI frame (seconds, as measured).
    pub last_frame_secs: f64,
    /// Show fps and frame times in the status line (off for reproducible screenshots).
    pub show_timings: bool,
    fps: f64,
    last_draw_list: Arc<DrawList>,
    /// How the plan is drawn.
    pub plan_view: PlanView,
    /// Show the plots under the viewport.
    pub show_plots: bool,
    /// A scratch simulation and geometry for posing ghost bodies (per scene).
    ghost: Option<(u64, Sim, SceneGeometry)>,
    /// The checkpoints in assets/models.
    bundled_models: Vec<BundledModel>,
    render_state: Option<egui_wgpu::RenderState>,
}

impl WorkbenchApp {
    /// Builds the app inside eframe (or egui_kittest): installs the renderer, restores the
    /// recent-files list, loads the first scene (falling back to cartpole, with a message, if
    /// it does not load; an error only if even that fails).
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Result<Self, String> {
        if let Some(rs) = cc.wgpu_render_state.as_ref() {
            install_renderer(rs);
        }
        let recent: Vec<String> = cc
            .storage
            .and_then(|s| eframe::get_value(s, RECENT_KEY))
            .unwrap_or_default();
        let ctx = cc.egui_ctx.clone();
        let wake_ctx = ctx.clone();
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || wake_ctx.request_repaint());
        let mut toasts = Vec::new();
        let scene = SceneRunner::new(options.scene.clone(), 0, wake.clone())
            .or_else(|e| {
                toasts.push(Toast {
                    message: format!("cannot open {}: {e}", options.scene.label()),
                    is_error: true,
                });
                SceneRunner::new(
                    SceneSource::Task("cartpole-swingup".into()),
                    0,
                    wake.clone(),
                )
            })
            .map_err(|e| format!("the built-in cartpole scene did not load: {e}"))?;
        let mut app = Self {
            scene,
            viewport: ViewportState::default(),
            designer: DesignerState::default(),
            dialogs: Dialogs::default(),
            toasts,
            recent,
            presets: list_presets(&presets_dir()),
            tab: Tab::Simulation,
            commands: Vec::new(),
            ctx,
            wake,
            trail: VecDeque::new(),
            ui_frame_secs: 0.0,
            last_frame_secs: 0.0,
            show_timings: true,
            fps: 0.0,
            last_draw_list: Arc::new(DrawList::default()),
            plan_view: PlanView::default(),
            show_plots: true,
            ghost: None,
            bundled_models: bundled_models(),
            render_state: cc.wgpu_render_state.clone(),
        };
        app.frame_camera();
        if let Some(p) = options.preset {
            app.apply_preset(&p);
        }
        if let Some(policy) = options.policy {
            app.scene.set_policy(policy);
        }
        if let Some(config) = options.planner {
            app.scene.agent.settings.config = config;
        }
        if let Some(path) = options.checkpoint {
            app.scene.load_checkpoint(path);
            app.tab = Tab::Planner;
        }
        app.scene.playing = !options.start_paused;
        Ok(app)
    }

    pub fn scene(&self) -> &SceneRunner {
        &self.scene
    }

    pub fn scene_mut(&mut self) -> &mut SceneRunner {
        &mut self.scene
    }

    pub fn designer(&self) -> &DesignerState {
        &self.designer
    }

    pub fn designer_mut(&mut self) -> &mut DesignerState {
        &mut self.designer
    }

    pub fn viewport(&self) -> &ViewportState {
        &self.viewport
    }

    pub fn viewport_mut(&mut self) -> &mut ViewportState {
        &mut self.viewport
    }

    /// Messages shown to the user (errors first-come).
    pub fn toasts(&self) -> &[Toast] {
        &self.toasts
    }

    pub fn recent_files(&self) -> &[String] {
        &self.recent
    }

    /// The draw list of the last frame.
    pub fn draw_list(&self) -> &DrawList {
        &self.last_draw_list
    }

    /// Queues a command as if the user had asked for it.
    pub fn submit(&mut self, command: Command) {
        self.commands.push(command);
    }

    fn error(&mut self, message: String) {
        self.toasts.push(Toast {
            message,
            is_error: true,
        });
        if self.toasts.len() > 6 {
            self.toasts.remove(0);
        }
    }

    fn info(&mut self, message: String) {
        self.toasts.push(Toast {
            message,
            is_error: false,
        });
    }

    fn remember_recent(&mut self, entry: String) {
        self.recent.retain(|r| r != &entry);
        self.recent.insert(0, entry);
        self.recent.truncate(MAX_RECENT);
    }

    /// Frames the bodies of the current scene, keeping the viewing direction.
    fn frame_camera(&mut self) {
        let mut list = DrawList::new(self.scene.meshes.clone(), self.scene.meshes_key);
        list.add_scene(&self.scene.geometry, &SceneStyle::default());
        if let Some((centre, radius)) = list.bounds() {
            let mut centre = centre;
            centre[2] = centre[2].max(0.2);
            self.viewport.camera.elevation_deg = -20.0;
            self.viewport.camera.frame(centre, radius.max(1.2));
        }
        // Things that move across the floor are followed, as dm_control's tracking cameras do.
        self.viewport.follow = self.scene.geometry.body_names.len() > 1
            && !self.scene.env().spec().name.starts_with("cartpole");
    }

    /// Replaces the scene; on failure the old scene keeps running and the error is shown.
    fn load_scene(&mut self, source: SceneSource) -> bool {
        match SceneRunner::new(source.clone(), self.scene.seed, self.wake.clone()) {
            Ok(mut next) => {
                next.playing = self.scene.playing;
                next.speed = self.scene.speed;
                let (old, new) = (&self.scene.agent, &mut next.agent);
                new.settings.config = old.settings.config;
                new.settings.decoding = old.settings.decoding;
                new.settings.context_limit_tokens = old.settings.context_limit_tokens;
                new.settings.replay = old.settings.replay;
                new.settings.ghosts = old.settings.ghosts;
                new.plan_enabled = old.plan_enabled;
                new.apply_actions = old.apply_actions;
                if let Some(path) = old.model.path.clone() {
                    // The same checkpoint, if it fits the new scene (else a message says why).
                    next.load_checkpoint(path);
                }
                next.set_policy(self.scene.policy);
                self.plan_view.highlighted = None;
                let same_kind = std::mem::discriminant(&next.source)
                    == std::mem::discriminant(&self.scene.source);
                self.scene = next;
                self.viewport.selected_body = None;
                self.trail.clear();
                if !(same_kind && matches!(source, SceneSource::Walker(_))) {
                    self.frame_camera();
                }
                true
            }
            Err(e) => {
                self.error(format!("cannot open {}: {e}", source.label()));
                false
            }
        }
    }

    fn apply_preset(&mut self, path: &Path) {
        let preset = match Preset::load(path) {
            Ok(p) => p,
            Err(e) => return self.error(format!("preset not applied: {e}")),
        };
        let source = SceneSource::Task(preset.scene.clone());
        if !self.load_scene(source) {
            return;
        }
        let s = preset.sim;
        self.scene.speed = s.speed;
        self.scene.restart(s.seed);
        self.scene.set_policy(s.policy);
        self.viewport.follow = s.follow;
        if let Some(p) = preset.planner {
            self.scene.agent.settings.config = p;
        }
        if let Some(c) = preset.camera {
            self.viewport.camera = c;
        }
        self.info(format!(
            "preset '{}' applied from {}",
            preset.name,
            path.display()
        ));
    }

    fn current_preset(&self, name: String) -> Option<Preset> {
        let SceneSource::Task(scene) = &self.scene.source else {
            return None;
        };
        Some(Preset {
            version: super::presets::PRESET_VERSION,
            name,
            scene: scene.clone(),
            camera: Some(self.viewport.camera),
            sim: SimSettings {
                speed: self.scene.speed,
                seed: self.scene.seed,
                policy: self.scene.policy,
                follow: self.viewport.follow,
            },
            planner: Some(self.scene.agent.settings.config),
        })
    }

    fn save_text(&mut self, path: &Path, text: &str, what: &str) {
        match crate::files::atomic_write(path, text.as_bytes()) {
            Ok(()) => self.info(format!("{what} saved to {}", path.display())),
            Err(e) => self.error(format!("cannot save {what} to {}: {e}", path.display())),
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::LoadScene(source) => {
                // Files (not built-in scenes) go to the recent list, e.g. when reopened from it.
                let file_backed = matches!(&source, SceneSource::Task(n)
                    if n.starts_with("mjcf:") || (n.starts_with("walker:") && n.ends_with(".json")));
                if self.load_scene(source.clone())
                    && file_backed
                    && let SceneSource::Task(name) = source
                {
                    self.remember_recent(name);
                }
            }
            Command::OpenMjcf(path) => {
                let name = format!("mjcf:{}", path.display());
                if self.load_scene(SceneSource::Task(name.clone())) {
                    self.remember_recent(name);
                }
            }
            Command::OpenTree(path) => match KinematicTree::load(&path) {
                Ok(tree) => {
                    self.designer.replace(tree.clone());
                    if self.load_scene(SceneSource::Walker(tree)) {
                        self.remember_recent(format!("walker:{}", path.display()));
                    }
                }
                Err(e) => self.error(format!("cannot open the walker tree: {e}")),
            },
            Command::SaveTree(path) => {
                let text = self.designer.tree.to_json();
                self.save_text(&path, &text, "walker tree");
            }
            Command::SaveMjcf(path) => {
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_else(|| "walker".into());
                let text = to_mjcf(&self.designer.tree, &name);
                self.save_text(&path, &text, "walker MJCF");
            }
            Command::ApplyPreset(path) => self.apply_preset(&path),
            Command::SavePreset(path) => {
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_else(|| "preset".into());
                match self.current_preset(name) {
                    Some(p) => match p.save(&path) {
                        Ok(()) => {
                            self.info(format!("preset saved to {}", path.display()));
                            self.presets = list_presets(&presets_dir());
                        }
                        Err(e) => self.error(format!("cannot save the preset: {e}")),
                    },
                    None => self.error(
                        "a designed walker cannot be saved as a preset scene; save it as JSON \
                         and open it as walker:FILE.json"
                            .into(),
                    ),
                }
            }
            Command::ShowDialog(purpose) => {
                let ctx = self.ctx.clone();
                self.dialogs.show(purpose, move || ctx.request_repaint());
            }
            Command::ResetView => self.frame_camera(),
            Command::LoadCheckpoint(path) => {
                self.scene.load_checkpoint(path);
            }
            Command::SaveCsv(kind, path) => {
                let text = plot_csv(&self.scene, kind);
                self.save_text(&path, &text, &format!("{} CSV", kind.file_stem()));
            }
            Command::SavePng(path) => self.save_png(&path),
            Command::SaveDataset(dir) => self.save_dataset(&dir),
        }
    }

    fn save_png(&mut self, path: &Path) {
        let Some(rs) = &self.render_state else {
            return self.error("no GPU renderer to read the view from".into());
        };
        let pixels = {
            let renderer = rs.renderer.read();
            match renderer.callback_resources.get::<crate::render::Renderer>() {
                Some(r) => r.read_pixels(&rs.device, &rs.queue),
                None => Err("the 3D view has not been drawn yet".into()),
            }
        };
        let result = pixels.and_then(|(w, h, rgba)| {
            let bytes = crate::render::image::encode_png(w, h, &rgba)?;
            crate::files::atomic_write(path, &bytes).map_err(|e| e.to_string())
        });
        match result {
            Ok(()) => self.info(format!("view saved to {}", path.display())),
            Err(e) => self.error(format!("cannot save the view to {}: {e}", path.display())),
        }
    }

    fn save_dataset(&mut self, dir: &Path) {
        let episode = self.scene.episode().clone();
        if episode.is_empty() {
            return self.error("the episode has no steps yet: nothing to export".into());
        }
        let spec = self.scene.env().spec().clone();
        let policy = serde_json::json!({
            "kind": format!("{:?}", self.scene.policy).to_lowercase(),
            "model": self.scene.agent.model.name,
            "source": "tdm-workbench window",
        });
        let result = Dataset::create_or_resume(
            dir,
            EnvInfo::from_spec(&spec),
            policy,
            self.scene.seed,
            None,
        )
        .and_then(|mut ds| {
            let index = ds.meta().episodes.len();
            ds.append(index, self.scene.seed, &episode)
        });
        match result {
            Ok(()) => self.info(format!(
                "episode ({} steps) added to the dataset in {}",
                episode.len(),
                dir.display()
            )),
            Err(e) => self.error(format!("cannot export the episode: {e}")),
        }
    }

    /// Runs the queued commands (also called by tests between frames).
    pub fn handle_commands(&mut self) {
        for (purpose, path) in self.dialogs.poll() {
            let Some(path) = path else { continue };
            self.commands.push(match purpose {
                DialogPurpose::OpenMjcf => Command::OpenMjcf(path),
                DialogPurpose::OpenTree => Command::OpenTree(path),
                DialogPurpose::SaveTree => Command::SaveTree(path),
                DialogPurpose::SaveMjcf => Command::SaveMjcf(path),
                DialogPurpose::OpenPreset => Command::ApplyPreset(path),
                DialogPurpose::SavePreset => Command::SavePreset(path),
                DialogPurpose::OpenCheckpoint => Command::LoadCheckpoint(path),
                DialogPurpose::SaveCsv(kind) => Command::SaveCsv(kind, path),
                DialogPurpose::SavePng => Command::SavePng(path),
                DialogPurpose::SaveDataset => Command::SaveDataset(path),
            });
        }
        for c in std::mem::take(&mut self.commands) {
            self.handle(c);
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let (space, right, back) = ctx.input(|i| {
            (
                i.key_pressed(egui::Key::Space),
                i.key_pressed(egui::Key::ArrowRight),
                i.key_pressed(egui::Key::Backspace),
            )
        });
        if space {
            self.scene.playing = !self.scene.playing;
        }
        if right {
            self.scene.playing = false;
            self.scene.step_once();
        }
        if back {
            self.scene.reset();
            self.trail.clear();
        }
    }

    fn update_follow_and_trail(&mut self) {
        let Some(root) = self.scene.geometry.world_from_body_pos.get(1).copied() else {
            return;
        };
        let p = root.map(|v| v as f32);
        if self.viewport.follow {
            self.viewport.camera.lookat[0] = p[0];
            self.viewport.camera.lookat[1] = p[1];
        }
        if self.trail.back() != Some(&p) {
            if self.trail.len() >= TRAIL_POINTS {
                self.trail.pop_front();
            }
            self.trail.push_back(p);
        }
    }

    fn build_draw_list(&mut self) -> Arc<DrawList> {
        let mut list = DrawList::new(self.scene.meshes.clone(), self.scene.meshes_key);
        list.add_scene(
            &self.scene.geometry,
            &SceneStyle {
                selected_body: self.viewport.selected_body,
                ..SceneStyle::default()
            },
        );
        let trail: Vec<[f32; 3]> = self.trail.iter().copied().collect();
        list.add_polyline(&trail, [1.0, 0.85, 0.3, 0.6]);
        if self.scene.policy == PolicyKind::Mpc
            && let Some(outcome) = self.scene.agent.last.clone()
        {
            add_plan_trails(&mut list, &outcome, &self.plan_view);
            if self.plan_view.ghosts > 0 {
                let key = self.scene.meshes_key;
                if self.ghost.as_ref().is_none_or(|(k, _, _)| *k != key) {
                    let sim = Sim::new(self.scene.env().sim().model().clone());
                    self.ghost = Some((key, sim, self.scene.geometry.clone()));
                }
                if let Some((_, sim, geometry)) = self.ghost.as_mut() {
                    add_ghosts(&mut list, &outcome, &self.plan_view, sim, geometry);
                }
            }
        }
        let list = Arc::new(list);
        self.last_draw_list = list.clone();
        list
    }

    fn menu_ui(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("Scene", |ui| {
                for name in TASK_NAMES {
                    if ui.button(name).clicked() {
                        self.commands
                            .push(Command::LoadScene(SceneSource::Task(name.into())));
                    }
                }
                ui.separator();
                for family in Family::ALL {
                    let name = format!("walker:{}:8:0", family.name());
                    if ui
                        .button(format!("{} walker (8 DoF)", family.name()))
                        .clicked()
                    {
                        self.commands
                            .push(Command::LoadScene(SceneSource::Task(name)));
                    }
                }
                if ui.button("Designed walker").clicked() {
                    self.commands.push(Command::LoadScene(SceneSource::Walker(
                        self.designer.tree.clone(),
                    )));
                    self.tab = Tab::Designer;
                }
                ui.separator();
                if ui.button("Open MJCF…").clicked() {
                    self.commands
                        .push(Command::ShowDialog(DialogPurpose::OpenMjcf));
                }
                ui.menu_button("Recent", |ui| {
                    if self.recent.is_empty() {
                        ui.weak("nothing yet");
                    }
                    for r in self.recent.clone() {
                        if ui.button(&r).clicked() {
                            self.commands.push(Command::LoadScene(SceneSource::Task(r)));
                        }
                    }
                });
            });
            ui.menu_button("Presets", |ui| {
                for p in self.presets.clone() {
                    let label = p
                        .file_stem()
                        .map(|s| s.to_string_lossy().to_string())
                        .unwrap_or_default();
                    if ui.button(label).clicked() {
                        self.commands.push(Command::ApplyPreset(p));
                    }
                }
                ui.separator();
                if ui.button("Open preset…").clicked() {
                    self.commands
                        .push(Command::ShowDialog(DialogPurpose::OpenPreset));
                }
                if ui.button("Save preset…").clicked() {
                    self.commands
                        .push(Command::ShowDialog(DialogPurpose::SavePreset));
                }
            });
            ui.menu_button("View", |ui| {
                if ui.button("Reset view").clicked() {
                    self.commands.push(Command::ResetView);
                }
                if ui.button("Export view as PNG…").clicked() {
                    self.commands
                        .push(Command::ShowDialog(DialogPurpose::SavePng));
                }
                if ui.button("Export episode as dataset…").clicked() {
                    self.commands
                        .push(Command::ShowDialog(DialogPurpose::SaveDataset));
                }
                ui.checkbox(&mut self.show_plots, "Show plots");
                ui.checkbox(&mut self.viewport.follow, "Follow the root body");
                ui.checkbox(&mut self.show_timings, "Show frame timings");
            });
            ui.separator();
            ui.label(egui::RichText::new(self.scene.source.label()).strong());
        });
    }

    fn simulation_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let label = if self.scene.playing { "Pause" } else { "Play" };
            if ui.button(label).on_hover_text("space").clicked() {
                self.scene.playing = !self.scene.playing;
            }
            if ui.button("Step").on_hover_text("right arrow").clicked() {
                self.scene.playing = false;
                self.scene.step_once();
            }
            if ui.button("Reset").on_hover_text("backspace").clicked() {
                self.scene.reset();
                self.trail.clear();
            }
        });
        ui.add(
            egui::Slider::new(&mut self.scene.speed, 0.05..=16.0)
                .logarithmic(true)
                .text("speed (x real time)"),
        );
        ui.horizontal(|ui| {
            let label = ui.label("episode seed");
            let mut seed = self.scene.seed;
            if ui
                .add(egui::DragValue::new(&mut seed))
                .labelled_by(label.id)
                .changed()
            {
                self.scene.restart(seed);
                self.trail.clear();
            }
        });
        ui.separator();
        ui.label(egui::RichText::new("Policy").strong());
        let mut policy = self.scene.policy;
        for p in PolicyKind::ALL {
            ui.radio_value(&mut policy, p, p.label());
        }
        self.scene.set_policy(policy);
        if policy == PolicyKind::Mpc {
            ui.weak(format!(
                "planning with {} (Planner tab)",
                self.scene.agent.model.name
            ));
        }
        ui.separator();
        let spec = self.scene.env().spec();
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
        for p in self.presets.clone() {
            let label = p
                .file_name()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            if ui.button(label).clicked() {
                self.commands.push(Command::ApplyPreset(p));
            }
        }
        ui.horizontal(|ui| {
            if ui.button("Open…").clicked() {
                self.commands
                    .push(Command::ShowDialog(DialogPurpose::OpenPreset));
            }
            if ui.button("Save current…").clicked() {
                self.commands
                    .push(Command::ShowDialog(DialogPurpose::SavePreset));
            }
            if ui.button("Rescan").clicked() {
                self.presets = list_presets(&presets_dir());
            }
        });
    }

    /// The designer, with its link selection mirrored into the viewport.
    fn designer_panel_ui(&mut self, ui: &mut egui::Ui) -> Option<DesignerAction> {
        let before = self.designer.selected;
        let action = designer_ui(ui, &mut self.designer);
        if self.designer.selected != before && matches!(self.scene.source, SceneSource::Walker(_)) {
            self.viewport.selected_body = self.designer.selected.and_then(|(i, j)| {
                let name = link_name(i, j);
                self.scene
                    .geometry
                    .body_names
                    .iter()
                    .position(|b| *b == name)
            });
        }
        action
    }

    fn controls_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, Tab::Simulation, "Simulation");
            ui.selectable_value(&mut self.tab, Tab::Planner, "Planner");
            ui.selectable_value(&mut self.tab, Tab::Designer, "Designer");
            ui.selectable_value(&mut self.tab, Tab::Presets, "Preset files");
        });
        ui.separator();
        egui::ScrollArea::vertical().show(ui, |ui| match self.tab {
            Tab::Simulation => self.simulation_ui(ui),
            Tab::Planner => {
                match planner_ui(
                    ui,
                    &mut self.scene,
                    &mut self.plan_view,
                    &self.bundled_models,
                    self.show_timings,
                ) {
                    Some(PlannerAction::OpenCheckpoint) => self
                        .commands
                        .push(Command::ShowDialog(DialogPurpose::OpenCheckpoint)),
                    Some(PlannerAction::LoadCheckpoint(p)) => {
                        self.commands.push(Command::LoadCheckpoint(p))
                    }
                    None => {}
                }
            }
            Tab::Designer => match self.designer_panel_ui(ui) {
                Some(DesignerAction::Rebuild) => self.commands.push(Command::LoadScene(
                    SceneSource::Walker(self.designer.tree.clone()),
                )),
                Some(DesignerAction::SaveTree) => self
                    .commands
                    .push(Command::ShowDialog(DialogPurpose::SaveTree)),
                Some(DesignerAction::SaveMjcf) => self
                    .commands
                    .push(Command::ShowDialog(DialogPurpose::SaveMjcf)),
                Some(DesignerAction::OpenTree) => self
                    .commands
                    .push(Command::ShowDialog(DialogPurpose::OpenTree)),
                None => {}
            },
            Tab::Presets => self.presets_ui(ui),
        });
    }

    fn status_ui(&mut self, ui: &mut egui::Ui) {
        let len = self.scene.history_len();
        if len > 1 {
            let mut pos = self.scene.history_position();
            let back_secs = (len - 1 - pos) as f64 * self.scene.control_dt_secs();
            let r = ui.add(
                egui::Slider::new(&mut pos, 0..=len - 1)
                    .show_value(false)
                    .text(format!("history ({back_secs:.1} s back)")),
            );
            if r.changed() {
                self.scene.scrub_to(pos);
            }
        }
        let spec = self.scene.env().spec();
        let stats = self.viewport.frame_stats();
        let mut status = format!(
            "t = {:.2} s   step {}/{}   reward {:.3}   return {:.1}",
            self.scene.time_secs(),
            self.scene.steps_taken(),
            spec.episode_steps,
            self.scene.last_reward,
            self.scene.episode_return,
        );
        if self.show_timings {
            status.push_str(&format!(
                "   real-time factor {:.2}x   {:.0} fps   frame {:.1} ms (3D {:.2} ms)",
                self.scene.real_time_factor,
                self.fps,
                self.ui_frame_secs * 1e3,
                stats.prepare_secs * 1e3,
            ));
        }
        if self.scene.waiting_for_plan() {
            status.push_str("   planning…");
        }
        if !self.scene.playing {
            status.push_str("   paused");
        }
        ui.label(egui::RichText::new(status).monospace());
    }

    fn overlays_ui(&mut self, ui: &mut egui::Ui, rect: egui::Rect) {
        if let Some(body) = self.viewport.selected_body
            && let Some(info) = body_info(
                self.scene.env().sim().model(),
                self.scene.env().sim().data(),
                body,
            )
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
        if let Some(problem) = self.scene.problem.clone() {
            self.toasts.push(Toast {
                message: problem,
                is_error: true,
            });
            self.scene.problem = None;
        }
        if self.toasts.is_empty() {
            return;
        }
        let mut dismiss = None;
        egui::Area::new(egui::Id::unique("toasts"))
            .fixed_pos(rect.right_top() + egui::vec2(-8.0, 8.0))
            .pivot(egui::Align2::RIGHT_TOP)
            .show(ui.ctx(), |ui| {
                ui.set_max_width(420.0);
                for (i, t) in self.toasts.iter().enumerate() {
                    egui::Frame::popup(ui.style()).show(ui, |ui| {
                        ui.horizontal(|ui| {
                            if ui.small_button("×").clicked() {
                                dismiss = Some(i);
                            }
                            let color = if t.is_error {
                                ui.visuals().error_fg_color
                            } else {
                                ui.visuals().text_color()
                            };
                            ui.colored_label(color, &t.message);
                        });
                    });
                }
            });
        if let Some(i) = dismiss {
            self.toasts.remove(i);
        }
    }

    fn viewport_panel_ui(&mut self, ui: &mut egui::Ui) {
        let list = self.build_draw_list();
        let rect = ui.available_rect_before_wrap();
        let response = viewport_ui(ui, &mut self.viewport, list);
        if let Some(at) = response.clicked
            && let Some(outcome) = self.scene.agent.last.clone()
        {
            let (camera, r) = (self.viewport.camera, self.viewport.rect);
            let project = |p: [f32; 3]| camera.project(glam::Vec3::from(p), r.width(), r.height());
            self.plan_view.highlighted = nearest_trail(&outcome, &project, at, 8.0);
        }
        if let Some(picked) = response.picked {
            self.viewport.selected_body = picked;
            if let Some(body) = picked
                && let Some(name) = self.scene.geometry.body_names.get(body)
            {
                self.designer.select_body(name);
            }
        }
        self.overlays_ui(ui, rect);
    }
}

impl eframe::App for WorkbenchApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let started = Instant::now();
        let dt = ui.input(|i| i.stable_dt as f64);
        if dt > 0.0 {
            self.fps = 0.9 * self.fps + 0.1 / dt;
        }
        self.shortcuts(ui.ctx());
        self.scene.poll_model_loader();
        self.scene.advance(dt);
        self.update_follow_and_trail();
        egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        if self.show_plots {
            let mut export = None;
            egui::Panel::bottom("plots")
                .resizable(true)
                .default_size(200.0)
                .show(ui, |ui| {
                    export = plots_ui(ui, &self.scene, self.show_timings)
                });
            if let Some(kind) = export {
                self.commands
                    .push(Command::ShowDialog(DialogPurpose::SaveCsv(kind)));
            }
        }
        egui::Panel::left("controls")
            .resizable(true)
            .default_size(330.0)
            .show(ui, |ui| self.controls_ui(ui));
        egui::CentralPanel::no_frame().show(ui, |ui| self.viewport_panel_ui(ui));
        self.handle_commands();
        if self.scene.playing || self.dialogs.busy() || self.scene.loading_model() {
            ui.ctx().request_repaint();
        }
        let secs = started.elapsed().as_secs_f64();
        self.last_frame_secs = secs;
        self.ui_frame_secs = if self.ui_frame_secs == 0.0 {
            secs
        } else {
            0.9 * self.ui_frame_secs + 0.1 * secs
        };
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, RECENT_KEY, &self.recent);
    }
}

/// Opens the workbench window (blocks until it is closed).
pub fn run_native(options: AppOptions) -> Result<(), String> {
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("TDM Workbench")
            .with_inner_size([1280.0, 800.0]),
        renderer: eframe::Renderer::Wgpu,
        ..Default::default()
    };
    eframe::run_native(
        "TDM Workbench",
        native,
        Box::new(move |cc| {
            WorkbenchApp::new(cc, options)
                .map(|app| Box::new(app) as Box<dyn eframe::App>)
                .map_err(Into::into)
        }),
    )
    .map_err(|e| e.to_string())
}
