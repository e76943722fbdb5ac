//! File dialogs off the UI thread: each [`FilePrompt`] is shown by rfd on its own thread and
//! the chosen file goes into the command queue as the command the prompt's answer means, so the
//! window never freezes behind a dialog.
use crate::session::command::PromptKind;
use crate::session::{CommandSender, FilePrompt};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Shows the prompt (blocking: call it off the UI thread); `None` if cancelled.
fn ask(prompt: FilePrompt) -> Option<PathBuf> {
    let spec = prompt.spec();
    let dialog = rfd::FileDialog::new().set_title(spec.title);
    match spec.kind {
        PromptKind::Folder => dialog.pick_folder(),
        PromptKind::OpenFile => dialog.add_filter(spec.filter, spec.extensions).pick_file(),
        PromptKind::SaveFile => dialog.add_filter(spec.filter, spec.extensions).save_file(),
    }
}

/// Runs dialogs on worker threads.
#[derive(Default)]
pub struct Dialogs {
    open: Arc<AtomicUsize>,
}

impl Dialogs {
    /// Shows a dialog for `prompt`; its answer is sent to `commands`, then `wake` repaints.
    pub fn show(
        &mut self,
        prompt: FilePrompt,
        commands: CommandSender,
        wake: impl Fn() + Send + 'static,
    ) {
        let open = self.open.clone();
        open.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name("file-dialog".into())
            .spawn(move || {
                if let Some(path) = ask(prompt) {
                    commands.send(prompt.answer(path));
                }
                open.fetch_sub(1, Ordering::SeqCst);
                wake();
            });
        if spawned.is_err() {
            self.open.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Whether a dialog is still open.
    pub fn busy(&self) -> bool {
        self.open.load(Ordering::SeqCst) > 0
    }
}
