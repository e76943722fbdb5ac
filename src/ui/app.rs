//! The workbench window: a menu bar (scenes, presets, view), a control panel (simulation,
//! planner, designer, presets), the 3D viewport, and a status line with a history scrubber.
//! The state and its command handler are `session::Workbench`; panels, menus and keys send it
//! [`Command`]s, drained once per frame after drawing. Only what needs the window stays here:
//! file dialogs and reading the view back from the GPU.
use super::dialogs::Dialogs;
use super::plots::plots_ui;
use super::viewport::{ViewportState, default_quality, install_renderer, viewport_ui};
use crate::render::DrawList;
use crate::render::RenderQuality;
use crate::session::designer::DesignerState;
use crate::session::export::{Pixels, ReadbackError};
use crate::session::trails::{candidate_summary, nearest_trail};
use crate::session::{
    AppOptions, Command, CommandSender, SceneRunner, StartError, Toast, View, Workbench,
};
use std::sync::Arc;
use std::time::Instant;

/// The control panel's tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tab {
    Simulation,
    Planner,
    Designer,
    Presets,
}

/// The window did not open or failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("the window failed: {0}")]
    Window(#[from] eframe::Error),
}

const RECENT_KEY: &str = "recent_files";

/// The workbench window's state.
pub struct WorkbenchApp {
    pub(super) wb: Workbench,
    pub(super) tx: CommandSender,
    pub(super) viewport: ViewportState,
    pub(super) dialogs: Dialogs,
    pub(super) tab: Tab,
    ctx: egui::Context,
    /// CPU time of the last UI frame (seconds, smoothed).
    pub ui_frame_secs: f64,
    /// CPU time of the last UI frame (seconds, as measured).
    pub last_frame_secs: f64,
    /// Show fps and frame times in the status line (off for reproducible screenshots).
    pub show_timings: bool,
    pub(super) fps: f64,
    last_draw_list: Arc<DrawList>,
    /// Show the plots under the viewport.
    pub show_plots: bool,
    /// Show the window with every message of this run (View > Messages).
    pub show_messages: bool,
    /// The keys-and-mouse window (F1).
    pub show_help: bool,
    /// All four plots, or one over the whole plot panel.
    pub plot_layout: super::plots::PlotLayout,
    render_state: Option<egui_wgpu::RenderState>,
    /// The 3D view's quality: chosen for the adapter at start (low on a software rasteriser),
    /// changed in the View menu.
    pub render_quality: RenderQuality,
    /// `gui --measure SECS`: the window closes after SECS seconds and prints its frame rate.
    pub measure: Option<FrameMeter>,
}

/// Counts frames for `gui --measure`: the first second (start-up) is left out.
pub struct FrameMeter {
    pub secs: f64,
    started: Instant,
    frames: usize,
    frame_secs: Vec<f64>,
}

impl FrameMeter {
    pub fn new(secs: f64) -> Self {
        Self {
            secs,
            started: Instant::now(),
            frames: 0,
            frame_secs: Vec::new(),
        }
    }

    /// Counts a frame that took `ui_secs` of UI work; true once the time is up.
    fn tick(&mut self, ui_secs: f64) -> bool {
        let t = self.started.elapsed().as_secs_f64();
        if t > 1.0 {
            self.frames += 1;
            self.frame_secs.push(ui_secs);
        }
        t >= self.secs + 1.0
    }

    fn report(&mut self, quality: RenderQuality, steps: usize) -> String {
        self.frame_secs.sort_by(f64::total_cmp);
        let median = self
            .frame_secs
            .get(self.frame_secs.len() / 2)
            .copied()
            .unwrap_or(0.0);
        format!(
            "window: {} frames in {:.1} s = {:.1} fps (render quality {}; UI work per frame, median {:.1} ms; {} control steps)",
            self.frames,
            self.secs,
            self.frames as f64 / self.secs,
            quality.name(),
            median * 1e3,
            steps
        )
    }
}

impl WorkbenchApp {
    /// Builds the app inside eframe (or egui_kittest): installs the renderer, restores the
    /// recent-files list and starts the workbench (see [`Workbench::start`]).
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Result<Self, StartError> {
        let render_quality = options.render_quality.unwrap_or_else(|| {
            cc.wgpu_render_state
                .as_ref()
                .map_or(RenderQuality::High, default_quality)
        });
        if let Some(rs) = cc.wgpu_render_state.as_ref() {
            install_renderer(rs, render_quality);
        }
        let recent: Vec<String> = cc
            .storage
            .and_then(|s| eframe::get_value(s, RECENT_KEY))
            .unwrap_or_default();
        let ctx = cc.egui_ctx.clone();
        let wake_ctx = ctx.clone();
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || wake_ctx.request_repaint());
        // The Planner tab first where a learned model plans (a checkpoint, or the scene's
        // bundled one where it has one).
        let opens_checkpoint = match (&options.model, &options.scene) {
            (Some(crate::session::StartModel::Checkpoint(_)), _) => true,
            (Some(crate::session::StartModel::Bundled), crate::session::SceneSource::Task(n)) => {
                crate::models::bundled::bundled_model_for(n).is_some()
            }
            _ => false,
        };
        let wb = Workbench::start(options, recent, wake)?;
        Ok(Self {
            tx: wb.sender(),
            wb,
            viewport: ViewportState::default(),
            dialogs: Dialogs::default(),
            tab: if opens_checkpoint {
                Tab::Planner
            } else {
                Tab::Simulation
            },
            ctx,
            ui_frame_secs: 0.0,
            last_frame_secs: 0.0,
            show_timings: true,
            fps: 0.0,
            last_draw_list: Arc::new(DrawList::default()),
            show_plots: true,
            show_messages: false,
            show_help: false,
            plot_layout: Default::default(),
            render_state: cc.wgpu_render_state.clone(),
            render_quality,
            measure: None,
        })
    }

    /// Rebuilds the renderer at `quality` (pipelines and targets depend on it).
    pub fn set_render_quality(&mut self, quality: RenderQuality) {
        if quality == self.render_quality {
            return;
        }
        if let Some(rs) = &self.render_state {
            install_renderer(rs, quality);
        }
        self.render_quality = quality;
    }

    /// The state behind the window.
    pub fn workbench(&self) -> &Workbench {
        &self.wb
    }

    pub fn workbench_mut(&mut self) -> &mut Workbench {
        &mut self.wb
    }

    pub fn scene(&self) -> &SceneRunner {
        &self.wb.scene
    }

    pub fn scene_mut(&mut self) -> &mut SceneRunner {
        &mut self.wb.scene
    }

    pub fn designer(&self) -> &DesignerState {
        &self.wb.designer
    }

    pub fn designer_mut(&mut self) -> &mut DesignerState {
        &mut self.wb.designer
    }

    /// Camera, follow and selection.
    pub fn view(&self) -> &View {
        &self.wb.view
    }

    pub fn viewport(&self) -> &ViewportState {
        &self.viewport
    }

    /// Messages shown to the user (errors first-come).
    pub fn toasts(&self) -> &[Toast] {
        &self.wb.toasts
    }

    pub fn recent_files(&self) -> &[String] {
        &self.wb.recent
    }

    /// The draw list of the last frame.
    pub fn draw_list(&self) -> &DrawList {
        &self.last_draw_list
    }

    /// Queues a command as if the user had asked for it.
    pub fn submit(&mut self, command: Command) {
        self.tx.send(command);
    }

    /// Runs the queued commands (also called by tests between frames); file prompts and PNG
    /// export are carried out here, everything else by the workbench.
    pub fn handle_commands(&mut self) {
        for command in self.wb.handle_commands() {
            match command {
                Command::Prompt(prompt) => {
                    let ctx = self.ctx.clone();
                    self.dialogs
                        .show(prompt, self.tx.clone(), move || ctx.request_repaint());
                }
                Command::SavePng(path) => {
                    let pixels = self.read_view();
                    self.wb.save_view(&path, pixels);
                }
                _ => {}
            }
        }
    }

    /// The last drawn 3D view's pixels.
    fn read_view(&self) -> Result<Pixels, ReadbackError> {
        let rs = self
            .render_state
            .as_ref()
            .ok_or(ReadbackError::NoRenderer)?;
        let renderer = rs.renderer.read();
        match renderer.callback_resources.get::<crate::render::Renderer>() {
            Some(r) => r
                .read_pixels(&rs.device, &rs.queue)
                .map_err(ReadbackError::Gpu),
            None => Err(ReadbackError::NotDrawn),
        }
    }

    /// Space plays or pauses, the right arrow steps, backspace resets.
    fn shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        ctx.input(|i| {
            for (key, command) in [
                (egui::Key::Space, Command::TogglePlay),
                (egui::Key::ArrowRight, Command::Step),
                (egui::Key::Backspace, Command::Reset),
            ] {
                if i.key_pressed(key) {
                    self.tx.send(command);
                }
            }
        });
    }

    fn viewport_panel_ui(&mut self, ui: &mut egui::Ui) {
        let list = Arc::new(self.wb.draw_list());
        self.last_draw_list = list.clone();
        let rect = ui.available_rect_before_wrap();
        let response = viewport_ui(ui, &mut self.viewport, &mut self.wb.view.camera, list);
        if let Some(at) = response.clicked
            && let Some(outcome) = self.wb.scene.agent.last.clone()
        {
            let (camera, r) = (self.wb.view.camera, self.viewport.rect);
            let project = |p: [f32; 3]| camera.project(glam::Vec3::from(p), r.width(), r.height());
            self.tx.send(Command::HighlightCandidate(nearest_trail(
                &outcome, &project, at, 8.0,
            )));
        }
        if let Some(at) = response.hovered
            && let Some(outcome) = self.wb.scene.agent.last.clone()
        {
            // Hovering a trail names its candidate; a click highlights it with its replay.
            let (camera, r) = (self.wb.view.camera, self.viewport.rect);
            let project = |p: [f32; 3]| camera.project(glam::Vec3::from(p), r.width(), r.height());
            if let Some(k) = nearest_trail(&outcome, &project, at, 8.0) {
                egui::Area::new(egui::Id::unique("trail-hover"))
                    .fixed_pos(rect.min + egui::vec2(at[0] + 14.0, at[1] + 10.0))
                    .interactable(false)
                    .show(ui.ctx(), |ui| {
                        egui::Frame::popup(ui.style()).show(ui, |ui| {
                            ui.label(candidate_summary(&outcome, k));
                            ui.weak("click to highlight it and its MuJoCo replay");
                        });
                    });
            }
        }
        if let Some(picked) = response.picked {
            self.tx.send(Command::SelectBody(picked));
        }
        if response.panned {
            // A pan moves the look-at point off the body: the camera is free from here on.
            self.wb.view.follow = false;
        }
        self.caption_ui(ui, rect);
        self.trail_legend_ui(ui, rect);
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
        self.help_key(ui.ctx());
        self.wb.frame(dt);
        egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui));
        self.messages_window_ui(ui.ctx());
        self.help_window_ui(ui.ctx());
        egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        if self.show_plots {
            let mut export = None;
            egui::Panel::bottom("plots")
                .resizable(true)
                .default_size(200.0)
                .show(ui, |ui| {
                    export = plots_ui(ui, &self.wb.scene, self.show_timings, &mut self.plot_layout)
                });
            if let Some(kind) = export {
                self.tx
                    .send(Command::Prompt(crate::session::FilePrompt::SaveCsv(kind)));
            }
        }
        egui::Panel::left("controls")
            .resizable(true)
            .default_size(330.0)
            .show(ui, |ui| self.controls_ui(ui));
        egui::CentralPanel::no_frame().show(ui, |ui| self.viewport_panel_ui(ui));
        if let Some(notice) = self.dialogs.ui(ui.ctx(), &self.tx) {
            self.wb.info(notice);
        }
        self.handle_commands();
        // The view as drawn last frame, for a recording (read back at the recording's rate).
        if self.wb.recording.as_ref().is_some_and(|r| r.due())
            && let Ok(pixels) = self.read_view()
            && let Some(r) = self.wb.recording.as_mut()
        {
            r.push(pixels);
        }
        if self.wb.scene.playing
            || self.wb.recording.is_some()
            || self.dialogs.busy()
            || self.wb.scene.loading_model()
            || self.wb.compiling.is_some()
        {
            ui.ctx().request_repaint();
        }
        let secs = started.elapsed().as_secs_f64();
        if let Some(m) = &mut self.measure
            && m.tick(secs)
        {
            println!(
                "{}",
                m.report(self.render_quality, self.wb.scene.steps_taken())
            );
            self.measure = None;
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
        self.last_frame_secs = secs;
        self.ui_frame_secs = if self.ui_frame_secs == 0.0 {
            secs
        } else {
            0.9 * self.ui_frame_secs + 0.1 * secs
        };
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, RECENT_KEY, &self.wb.recent);
    }
}

/// Opens the workbench window (blocks until it is closed); with `measure_secs`, it closes after
/// that long and prints its frame rate.
pub fn run_native(options: AppOptions, measure_secs: Option<f64>) -> Result<(), AppError> {
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
                .map(|mut app| {
                    app.measure = measure_secs.map(FrameMeter::new);
                    Box::new(app) as Box<dyn eframe::App>
                })
                .map_err(Into::into)
        }),
    )?;
    Ok(())
}
