//! [`Workbench`]: everything the window shows and changes, without the window. It owns the
//! running scene, the view (camera, follow, selection), the designer, the plan view, messages
//! (toasts), the recent-files and preset lists and the command queue, and handles every
//! [`Command`] in one place. Each frame the window calls [`Workbench::frame`], draws, sends
//! commands and calls [`Workbench::handle_commands`]; tests do the same without drawing.
use super::command::{Command, CommandReceiver, CommandSender, command_channel};
use super::compile::Compiling;
use super::designer::DesignerState;
use super::export::{ExportError, Pixels, ReadbackError, save_episode, save_png, save_text};
use super::messages::Toast;
use super::options::{AppOptions, StartModel};
use super::presets::{PRESET_VERSION, Preset, PresetError, SimSettings, list_presets, presets_dir};
use super::record::Recording;
use super::scene::{PolicyKind, SceneError, SceneRunner, SceneSource};
use super::series::plot_csv;
use super::trails::{PlanView, add_ghosts, add_plan_trails};
use crate::envs::mjcf_task_file;
use crate::envs::walkers::{KinematicTree, link_name, to_mjcf};
use crate::models::bundled::bundled_model_for;
use crate::render::{DrawList, OrbitCamera, SceneStyle};
use crate::sim::{SceneGeometry, Sim};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;

/// The workbench could not start at all.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the built-in cartpole scene did not load: {0}")]
    NoScene(#[source] SceneError),
}

/// Something a panel or command could not do, shown as a message.
#[derive(Debug, thiserror::Error)]
enum Refused {
    #[error("preset not applied: {0}")]
    PresetNotApplied(PresetError),
    #[error("cannot save the preset: {0}")]
    PresetNotSaved(PresetError),
    #[error(
        "a designed walker cannot be saved as a preset scene; save it as JSON and open it as \
         walker:FILE.json"
    )]
    DesignedWalkerPreset,
    #[error("cannot open the walker tree: {0}")]
    Tree(crate::envs::walkers::TreeError),
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// What the viewport looks at and what is selected in it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct View {
    pub camera: OrbitCamera,
    /// Keep the look-at point on the root body.
    pub follow: bool,
    /// The body picked with a double-click.
    pub selected_body: Option<usize>,
}

const MAX_RECENT: usize = 8;
const TRAIL_POINTS: usize = 400;

/// The workbench's state and its command handler.
pub struct Workbench {
    pub scene: SceneRunner,
    pub view: View,
    pub designer: DesignerState,
    /// How the plan is drawn.
    pub plan_view: PlanView,
    /// Messages shown over the viewport now, oldest first.
    pub toasts: Vec<Toast>,
    /// Every message of this run, oldest first (the last [`MAX_HISTORY`]).
    pub history: Vec<Toast>,
    /// Recently opened files (task names such as `mjcf:FILE.xml`), newest first.
    pub recent: Vec<String>,
    /// The preset files in the presets folder.
    pub presets: Vec<PathBuf>,
    /// The name of the preset applied last (the planner panel shows it).
    pub applied_preset: Option<String>,
    /// The root body's recent path.
    trail: VecDeque<[f32; 3]>,
    /// A scratch simulation and geometry for posing ghost bodies (per scene).
    ghost: Option<(u64, Sim, SceneGeometry)>,
    pub(super) wake: Arc<dyn Fn() + Send + Sync>,
    /// A large MJCF compiling on its own thread (see `session::compile`).
    pub compiling: Option<Compiling>,
    /// The view being recorded (see `session::record`), and recordings being written.
    pub recording: Option<Recording>,
    pub(super) writing: Vec<Receiver<Result<String, String>>>,
    tx: CommandSender,
    rx: CommandReceiver,
}

impl Workbench {
    /// Loads the first scene (falling back to cartpole, with a message, if it does not load;
    /// an error only if even that fails) and applies `options`. `wake` asks for a new frame
    /// when a worker thread has news.
    pub fn start(
        options: AppOptions,
        recent: Vec<String>,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Self, StartError> {
        let mut toasts = Vec::new();
        let scene = SceneRunner::new(options.scene.clone(), 0, wake.clone())
            .or_else(|e| {
                toasts.push(Toast::new(e.to_string(), true));
                SceneRunner::new(
                    SceneSource::Task("cartpole-swingup".into()),
                    0,
                    wake.clone(),
                )
            })
            .map_err(StartError::NoScene)?;
        let (tx, rx) = command_channel();
        let mut wb = Self {
            scene,
            view: View::default(),
            designer: DesignerState::default(),
            plan_view: PlanView::default(),
            history: toasts.clone(),
            toasts,
            recent,
            presets: list_presets(&presets_dir()),
            applied_preset: None,
            trail: VecDeque::new(),
            ghost: None,
            wake,
            compiling: None,
            recording: None,
            writing: Vec::new(),
            tx,
            rx,
        };
        wb.frame_camera();
        if let Some(p) = options.preset {
            wb.apply_preset(&p);
        }
        if let Some(policy) = options.policy {
            wb.scene.set_policy(policy);
        }
        if let Some(config) = options.planner {
            wb.scene.agent.settings.config = config;
        }
        if let Some(method) = options.method {
            wb.scene.agent.settings.config.method = method;
        }
        if let Some(k) = options.candidates {
            wb.scene.agent.settings.config.candidates = k;
        }
        if let Some(n) = options.horizon_steps {
            wb.scene.agent.settings.config.horizon_steps = n;
        }
        match options.model {
            None => {}
            Some(StartModel::GroundTruth) => wb.scene.use_ground_truth(),
            Some(StartModel::Bundled) => match bundled_model_for(&wb.scene.env().spec().name) {
                Some(path) => wb.scene.load_checkpoint(path),
                None => wb.scene.use_ground_truth(),
            },
            Some(StartModel::Checkpoint(path)) => wb.scene.load_checkpoint(path),
        }
        wb.scene.playing = !options.start_paused;
        Ok(wb)
    }

    /// A sender for the command queue (for panels, file prompts, other threads).
    pub fn sender(&self) -> CommandSender {
        self.tx.clone()
    }

    /// Queues a command as if the user had asked for it.
    pub fn submit(&self, command: Command) {
        self.tx.send(command);
    }

    fn refused(&mut self, why: Refused) {
        self.error(why.to_string());
    }

    /// Advances the scene by `real_dt_secs` of wall-clock time (taking a loaded model first),
    /// moves the followed camera and the root trail, and turns a scene problem into a message.
    pub fn frame(&mut self, real_dt_secs: f64) {
        self.age_toasts(real_dt_secs);
        self.poll_compiling();
        self.poll_recordings();
        self.scene.poll_model_loader();
        self.scene.advance(real_dt_secs);
        self.update_follow_and_trail();
        self.collect_problem();
    }

    fn collect_problem(&mut self) {
        if let Some(problem) = self.scene.problem.take() {
            self.error(problem);
        }
        if let Some(notice) = self.scene.notice.take() {
            self.info(notice);
        }
    }

    /// Handles every queued command in order; returns those only the window can carry out
    /// ([`Command::Prompt`], [`Command::SavePng`]).
    pub fn handle_commands(&mut self) -> Vec<Command> {
        let mut for_window = Vec::new();
        for c in self.rx.drain() {
            if let Some(c) = self.handle(c) {
                for_window.push(c);
            }
        }
        self.collect_problem();
        for_window
    }

    /// Handles one command; gives it back if it needs the window.
    pub fn handle(&mut self, command: Command) -> Option<Command> {
        match command {
            Command::LoadScene(SceneSource::Task(name)) if mjcf_task_file(&name).is_some() => {
                // An MJCF file (plain, or `mjcf-pose:`): a large one compiles off the UI thread.
                let path = mjcf_task_file(&name).map(|(p, _)| p.to_path_buf());
                self.open_mjcf_task(name, path.unwrap_or_default());
            }
            Command::LoadScene(source) => {
                // Files (not built-in scenes) go to the recent list, e.g. when reopened from it.
                let file_backed = matches!(&source, SceneSource::Task(n)
                    if n.starts_with("walker:") && n.ends_with(".json"));
                if self.load_scene(source.clone())
                    && file_backed
                    && let SceneSource::Task(name) = source
                {
                    self.remember_recent(name);
                }
            }
            Command::OpenMjcf(path) => self.open_mjcf(path),
            Command::OpenTree(path) => match KinematicTree::load(&path) {
                Ok(tree) => {
                    self.designer.replace(tree.clone());
                    if self.load_scene(SceneSource::Walker(tree)) {
                        self.remember_recent(format!("walker:{}", path.display()));
                    }
                }
                Err(e) => self.refused(Refused::Tree(e)),
            },
            Command::SaveTree(path) => {
                let text = self.designer.tree.to_json();
                self.save_text(&path, &text, "walker tree");
            }
            Command::SaveMjcf(path) => {
                let name = file_stem_or(&path, "walker");
                let text = to_mjcf(&self.designer.tree, &name);
                self.save_text(&path, &text, "walker MJCF");
            }
            Command::ApplyPreset(path) => self.apply_preset(&path),
            Command::SavePreset(path) => self.save_preset(&path),
            Command::RescanPresets => self.presets = list_presets(&presets_dir()),
            Command::ResetView => self.frame_camera(),
            Command::ToggleRecording => self.toggle_recording(),
            Command::LoadCheckpoint(path) => self.scene.load_checkpoint(path),
            Command::UseGroundTruth => self.scene.use_ground_truth(),
            Command::SaveCsv(kind, path) => match plot_csv(&self.scene, kind) {
                Ok(text) => self.save_text(&path, &text, &format!("{} CSV", kind.file_stem())),
                Err(e) => self.error(format!("cannot write the {} CSV: {e}", kind.file_stem())),
            },
            Command::SaveDataset(dir) => match save_episode(&dir, &self.scene) {
                Ok(steps) => self.info(format!(
                    "episode ({steps} steps) added to the dataset in {}",
                    dir.display()
                )),
                Err(e) => self.refused(e.into()),
            },
            Command::TogglePlay => self.scene.playing = !self.scene.playing,
            Command::Step => {
                self.scene.playing = false;
                self.scene.step_once();
            }
            Command::StepAgent => {
                self.scene.set_policy(PolicyKind::Mpc);
                self.scene.playing = false;
                self.scene.step_once();
            }
            Command::Reset => {
                self.scene.reset();
                self.trail.clear();
            }
            Command::Restart(seed) => {
                self.scene.restart(seed);
                self.trail.clear();
            }
            Command::SetPolicy(policy) => self.scene.set_policy(policy),
            Command::SetPacing(pacing) => {
                self.scene.agent.pacing = pacing;
                self.scene.agent.pacing_chosen = true;
            }
            Command::ScrubTo(index) => self.scene.scrub_to(index),
            Command::SelectBody(body) => {
                self.view.selected_body = body;
                if let Some(name) = body.and_then(|b| self.scene.geometry.body_names.get(b)) {
                    self.designer.select_body(name);
                }
            }
            Command::HighlightCandidate(k) => self.plan_view.highlighted = k,
            Command::DismissToast(i) => {
                if i < self.toasts.len() {
                    self.toasts.remove(i);
                }
            }
            c @ (Command::Prompt(_) | Command::SavePng(_)) => return Some(c),
        }
        None
    }

    /// Saves pixels the window read back from the 3D view as a PNG (`Err`: why it could not).
    pub fn save_view(&mut self, path: &Path, pixels: Result<Pixels, ReadbackError>) {
        match save_png(path, pixels) {
            Ok(()) => self.info(format!("view saved to {}", path.display())),
            Err(e) => self.refused(e.into()),
        }
    }

    /// Selects the viewport body of the designer's selected link (walker scenes only).
    pub fn select_designer_link(&mut self) {
        if !matches!(self.scene.source, SceneSource::Walker(_)) {
            return;
        }
        self.view.selected_body = self.designer.selected.and_then(|(i, j)| {
            let name = link_name(i, j);
            self.scene
                .geometry
                .body_names
                .iter()
                .position(|b| *b == name)
        });
    }

    pub(super) fn remember_recent(&mut self, entry: String) {
        self.recent.retain(|r| r != &entry);
        self.recent.insert(0, entry);
        self.recent.truncate(MAX_RECENT);
    }

    fn save_text(&mut self, path: &Path, text: &str, what: &str) {
        match save_text(path, text, what) {
            Ok(()) => self.info(format!("{what} saved to {}", path.display())),
            Err(e) => self.refused(e.into()),
        }
    }

    /// Frames the bodies of the current scene, keeping the viewing direction.
    fn frame_camera(&mut self) {
        let mut list = DrawList::new(self.scene.meshes.clone(), self.scene.meshes_key);
        list.add_scene(&self.scene.geometry, &SceneStyle::default());
        let root = self.scene.geometry.world_from_body_pos.get(1).copied();
        // Centred on the root body, far enough out that the body stays in view in any pose (a
        // cartpole's pole upright or hanging, a walker standing or fallen), as MuJoCo's
        // tracking camera keeps its body in frame.
        let framing = match root {
            Some(p) => list.framing_about(p.map(|v| v as f32)),
            None => list
                .bounds()
                .map(|(c, r)| ([c[0], c[1], c[2].max(0.2)], r.max(1.2))),
        };
        if let Some((centre, radius)) = framing {
            self.view.camera.elevation_deg = -20.0;
            self.view.camera.frame(centre, radius);
        }
        // The root body is tracked on every scene with one (a drag still orbits about it).
        self.view.follow = self.scene.geometry.body_names.len() > 1;
    }

    /// Replaces the scene; on failure the old scene keeps running and the error is shown.
    pub(super) fn load_scene(&mut self, source: SceneSource) -> bool {
        // The user chose another scene: a file still compiling must not replace it later.
        self.compiling = None;
        let next = SceneRunner::new(source.clone(), self.scene.seed, self.wake.clone());
        self.install_scene(source, next)
    }

    /// Puts a built scene in place of the old one (carrying the planner settings and a model
    /// that fits); on failure the old scene keeps running and the error is shown.
    pub(super) fn install_scene(
        &mut self,
        source: SceneSource,
        next: Result<SceneRunner, SceneError>,
    ) -> bool {
        self.applied_preset = None;
        match next {
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
                    // The same checkpoint if it fits the new scene, else one that does.
                    next.carry_checkpoint(path);
                }
                next.set_policy(self.scene.policy);
                self.plan_view.highlighted = None;
                let same_kind = std::mem::discriminant(&next.source)
                    == std::mem::discriminant(&self.scene.source);
                self.scene = next;
                self.view.selected_body = None;
                self.trail.clear();
                if !(same_kind && matches!(source, SceneSource::Walker(_))) {
                    self.frame_camera();
                }
                true
            }
            Err(e) => {
                self.error(e.to_string());
                false
            }
        }
    }

    fn apply_preset(&mut self, path: &Path) {
        let preset = match Preset::load(path) {
            Ok(p) => p,
            Err(e) => return self.refused(Refused::PresetNotApplied(e)),
        };
        let source = SceneSource::Task(preset.scene.clone());
        if !self.load_scene(source) {
            return;
        }
        let s = preset.sim;
        self.scene.speed = s.speed;
        self.scene.restart(s.seed);
        self.scene.set_policy(s.policy);
        self.view.follow = s.follow;
        if let Some(pacing) = s.pacing {
            self.scene.agent.pacing = pacing;
            self.scene.agent.pacing_chosen = true;
        }
        if let Some(p) = preset.planner {
            self.scene.agent.settings.config = p;
        }
        if let Some(c) = preset.camera {
            self.view.camera = c;
        }
        match preset.model.as_deref() {
            None => {}
            Some("gt") => self.scene.use_ground_truth(),
            Some(file) => self.scene.load_checkpoint(PathBuf::from(file)),
        }
        self.applied_preset = Some(preset.name.clone());
        self.info(format!(
            "preset '{}' applied from {}",
            preset.name,
            path.display()
        ));
    }

    /// The current scene and settings as a preset (`None` for a designed walker).
    pub fn current_preset(&self, name: String) -> Option<Preset> {
        let SceneSource::Task(scene) = &self.scene.source else {
            return None;
        };
        Some(Preset {
            version: PRESET_VERSION,
            name,
            scene: scene.clone(),
            camera: Some(self.view.camera),
            sim: SimSettings {
                speed: self.scene.speed,
                seed: self.scene.seed,
                policy: self.scene.policy,
                follow: self.view.follow,
                pacing: self
                    .scene
                    .agent
                    .pacing_chosen
                    .then_some(self.scene.agent.pacing),
            },
            planner: Some(self.scene.agent.settings.config),
            model: Some(match &self.scene.agent.model.path {
                Some(path) => path.display().to_string(),
                None => "gt".into(),
            }),
        })
    }

    fn save_preset(&mut self, path: &Path) {
        let Some(preset) = self.current_preset(file_stem_or(path, "preset")) else {
            return self.refused(Refused::DesignedWalkerPreset);
        };
        match preset.save(path) {
            Ok(()) => {
                self.info(format!("preset saved to {}", path.display()));
                self.presets = list_presets(&presets_dir());
            }
            Err(e) => self.refused(Refused::PresetNotSaved(e)),
        }
    }

    fn update_follow_and_trail(&mut self) {
        let Some(root) = self.scene.geometry.world_from_body_pos.get(1).copied() else {
            return;
        };
        let p = root.map(|v| v as f32);
        if self.view.follow {
            self.view.camera.lookat[0] = p[0];
            self.view.camera.lookat[1] = p[1];
        }
        if self.trail.back() != Some(&p) {
            if self.trail.len() >= TRAIL_POINTS {
                self.trail.pop_front();
            }
            self.trail.push_back(p);
        }
    }

    /// The frame's draw list: the scene (with the selection), the root trail and, while the
    /// MPC agent drives, the last plan's trails and ghost bodies.
    pub fn draw_list(&mut self) -> DrawList {
        let mut list = DrawList::new(self.scene.meshes.clone(), self.scene.meshes_key);
        list.line_width_px = self.plan_view.trail_width_px;
        list.add_scene(
            &self.scene.geometry,
            &SceneStyle {
                selected_body: self.view.selected_body,
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
        list
    }
}

fn file_stem_or(path: &Path, default: &str) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| default.into())
}
