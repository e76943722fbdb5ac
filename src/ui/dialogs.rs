//! File dialogs that always open. The desktop's own dialog (rfd, through the XDG desktop portal)
//! runs on its own thread so the window never freezes behind it; where the desktop has none (no
//! portal answers: rfd then returns at once, as if cancelled), the prompt opens again in the
//! in-window file browser (`egui_file`), which has a path field to type into, and the user is
//! told which is in use. View > "In-window file dialogs" picks the in-window one from the start.
//! The chosen file goes into the command queue as the command the prompt's answer means.
use crate::session::command::PromptKind;
use crate::session::{CommandSender, FilePrompt};
use egui_file::FileDialog;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A native dialog that "returns" faster than this was never shown: nobody cancels a dialog
/// in a fifth of a second.
const NOT_SHOWN: Duration = Duration::from_millis(200);

/// Shows the prompt natively (blocking: call it off the UI thread); `None` if cancelled or if
/// the desktop has no dialog.
fn ask_native(prompt: FilePrompt) -> Option<PathBuf> {
    let spec = prompt.spec();
    let dialog = rfd::FileDialog::new().set_title(spec.title);
    match spec.kind {
        PromptKind::Folder => dialog.pick_folder(),
        PromptKind::OpenFile => dialog.add_filter(spec.filter, spec.extensions).pick_file(),
        PromptKind::SaveFile => dialog.add_filter(spec.filter, spec.extensions).save_file(),
    }
}

/// The in-window browser for `prompt`, opened in `start` (the working directory by default).
fn in_window_dialog(prompt: FilePrompt, start: &Path) -> FileDialog {
    let spec = prompt.spec();
    let dialog = match spec.kind {
        PromptKind::Folder => FileDialog::select_folder(),
        PromptKind::OpenFile => FileDialog::open_file(),
        PromptKind::SaveFile => FileDialog::save_file(),
    };
    let extensions = spec.extensions;
    let mut dialog = dialog
        .title(spec.title)
        .initial_path(start)
        .default_size([560.0, 380.0])
        .show_files_filter(Box::new(move |p: &Path| {
            extensions.is_empty()
                || p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| extensions.contains(&e))
        }))
        .keep_on_top(true)
        // Renaming in the browser would replace files outside the project's atomic writes.
        .show_rename(false);
    if let (PromptKind::SaveFile, Some(ext)) = (spec.kind, extensions.first()) {
        dialog = dialog.default_filename(format!("untitled.{ext}"));
    }
    dialog.open();
    dialog
}

/// Runs native dialogs on worker threads and the in-window browser in the frame.
pub struct Dialogs {
    open: Arc<AtomicUsize>,
    /// The native dialog did not show (set once it fails; from then on prompts open in-window).
    native_missing: Arc<AtomicBool>,
    /// Prompts whose native dialog did not show, to be opened in-window by the next frame.
    fallback: Arc<Mutex<Vec<FilePrompt>>>,
    in_window: Option<(FilePrompt, FileDialog)>,
    /// A save chosen in-window onto an existing file, waiting for "Replace" (as native dialogs
    /// ask).
    confirm: Option<(FilePrompt, PathBuf)>,
    /// The user's choice: always the in-window browser.
    pub prefer_in_window: bool,
    /// Where the in-window browser starts: the folder of the last file chosen in it.
    last_folder: PathBuf,
}

impl Default for Dialogs {
    fn default() -> Self {
        Self {
            open: Arc::default(),
            native_missing: Arc::default(),
            fallback: Arc::default(),
            in_window: None,
            confirm: None,
            prefer_in_window: false,
            last_folder: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        }
    }
}

impl Dialogs {
    /// Shows a dialog for `prompt`; its answer is sent to `commands`, then `wake` repaints.
    pub fn show(
        &mut self,
        prompt: FilePrompt,
        commands: CommandSender,
        wake: impl Fn() + Send + 'static,
    ) {
        if self.prefer_in_window || self.native_missing.load(Ordering::SeqCst) {
            self.in_window = Some((prompt, in_window_dialog(prompt, &self.last_folder)));
            return;
        }
        let (open, missing, fallback) = (
            self.open.clone(),
            self.native_missing.clone(),
            self.fallback.clone(),
        );
        open.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name("file-dialog".into())
            .spawn(move || {
                let started = Instant::now();
                match ask_native(prompt) {
                    Some(path) => commands.send(prompt.answer(path)),
                    None if started.elapsed() < NOT_SHOWN => {
                        missing.store(true, Ordering::SeqCst);
                        fallback
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(prompt);
                    }
                    None => {}
                }
                open.fetch_sub(1, Ordering::SeqCst);
                wake();
            });
        if spawned.is_err() {
            self.open.fetch_sub(1, Ordering::SeqCst);
            self.native_missing.store(true, Ordering::SeqCst);
            self.in_window = Some((prompt, in_window_dialog(prompt, &self.last_folder)));
        }
    }

    /// Draws the in-window browser (call every frame). Returns a notice for the user the first
    /// time a native dialog did not show.
    pub fn ui(&mut self, ctx: &egui::Context, commands: &CommandSender) -> Option<String> {
        let mut notice = None;
        let waiting: Vec<FilePrompt> =
            std::mem::take(&mut *self.fallback.lock().unwrap_or_else(|e| e.into_inner()));
        if let Some(&prompt) = waiting.last() {
            notice = Some(
                "this desktop has no native file dialog (no XDG desktop portal answered): using \
                 the in-window file browser (type a path in its top field)"
                    .to_string(),
            );
            self.in_window = Some((prompt, in_window_dialog(prompt, &self.last_folder)));
        }
        if let Some((prompt, dialog)) = &mut self.in_window {
            dialog.show(ctx);
            if dialog.selected() {
                if let Some(path) = dialog.path() {
                    if let Some(folder) = path.parent().filter(|f| f.is_dir()) {
                        self.last_folder = folder.to_path_buf();
                    }
                    if prompt.spec().kind == PromptKind::SaveFile && path.exists() {
                        self.confirm = Some((*prompt, path.to_path_buf()));
                    } else {
                        commands.send(prompt.answer(path.to_path_buf()));
                    }
                }
                self.in_window = None;
            } else if !dialog.visible() {
                self.in_window = None;
            }
        }
        if let Some((prompt, path)) = self.confirm.clone() {
            let mut answer = None;
            egui::Window::new("Replace the file?")
                .collapsible(false)
                .resizable(false)
                .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
                .show(ctx, |ui| {
                    ui.label(format!("{} exists. Replace it?", path.display()));
                    ui.horizontal(|ui| {
                        if ui.button("Replace").clicked() {
                            answer = Some(true);
                        }
                        if ui.button("Cancel").clicked() {
                            answer = Some(false);
                        }
                    });
                });
            if let Some(replace) = answer {
                if replace {
                    commands.send(prompt.answer(path));
                }
                self.confirm = None;
            }
        }
        notice
    }

    /// Whether a dialog is still open.
    pub fn busy(&self) -> bool {
        self.open.load(Ordering::SeqCst) > 0 || self.in_window.is_some() || self.confirm.is_some()
    }

    /// Which dialogs prompts open in, for the menu: "native" or "in-window".
    pub fn in_use(&self) -> &'static str {
        if self.prefer_in_window || self.native_missing.load(Ordering::SeqCst) {
            "in-window"
        } else {
            "native"
        }
    }
}
