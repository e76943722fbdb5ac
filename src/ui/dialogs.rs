//! File dialogs off the UI thread: each dialog runs on its own thread and its answer arrives
//! through a channel the UI polls every frame, so the window never freezes behind a dialog.
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

/// What a chosen file is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogPurpose {
    OpenMjcf,
    OpenTree,
    SaveTree,
    SaveMjcf,
    OpenPreset,
    SavePreset,
    OpenCheckpoint,
    SaveCsv(super::plots::PlotKind),
    SavePng,
    SaveDataset,
}

/// A dialog's answer: the purpose and the file, or `None` if cancelled (or no dialog service).
pub type DialogAnswer = (DialogPurpose, Option<PathBuf>);

/// What kind of dialog a purpose needs.
enum Ask {
    OpenFile,
    SaveFile,
    Folder,
}

impl DialogPurpose {
    /// Title, filter name, extensions and kind of the dialog.
    fn describe(self) -> (&'static str, &'static str, &'static [&'static str], Ask) {
        match self {
            Self::OpenMjcf => ("Open MJCF", "MJCF", &["xml"], Ask::OpenFile),
            Self::OpenTree => ("Open walker tree", "walker tree", &["json"], Ask::OpenFile),
            Self::SaveTree => ("Save walker tree", "walker tree", &["json"], Ask::SaveFile),
            Self::SaveMjcf => ("Save walker MJCF", "MJCF", &["xml"], Ask::SaveFile),
            Self::OpenPreset => ("Open preset", "preset", &["json"], Ask::OpenFile),
            Self::SavePreset => ("Save preset", "preset", &["json"], Ask::SaveFile),
            Self::OpenCheckpoint => (
                "Open checkpoint",
                "checkpoint",
                &["safetensors"],
                Ask::OpenFile,
            ),
            Self::SaveCsv(_) => ("Export plot as CSV", "CSV", &["csv"], Ask::SaveFile),
            Self::SavePng => ("Export view as PNG", "PNG", &["png"], Ask::SaveFile),
            Self::SaveDataset => (
                "Export the episode as a dataset (choose a folder)",
                "dataset",
                &[],
                Ask::Folder,
            ),
        }
    }

    /// Shows the dialog (blocking: call it off the UI thread).
    fn ask(self) -> Option<PathBuf> {
        let (title, filter, ext, kind) = self.describe();
        let dialog = rfd::FileDialog::new().set_title(title);
        match kind {
            Ask::Folder => dialog.pick_folder(),
            Ask::OpenFile => dialog.add_filter(filter, ext).pick_file(),
            Ask::SaveFile => dialog.add_filter(filter, ext).save_file(),
        }
    }
}

/// Runs dialogs on worker threads.
pub struct Dialogs {
    tx: Sender<DialogAnswer>,
    rx: Receiver<DialogAnswer>,
    open: usize,
}

impl Default for Dialogs {
    fn default() -> Self {
        let (tx, rx) = channel();
        Self { tx, rx, open: 0 }
    }
}

impl Dialogs {
    /// Shows a dialog for `purpose`; `wake` repaints the UI when the answer is in.
    pub fn show(&mut self, purpose: DialogPurpose, wake: impl Fn() + Send + 'static) {
        let tx = self.tx.clone();
        let spawned = std::thread::Builder::new()
            .name("file-dialog".into())
            .spawn(move || {
                let path = purpose.ask();
                let _ = tx.send((purpose, path));
                wake();
            });
        if spawned.is_ok() {
            self.open += 1;
        }
    }

    /// Whether a dialog is still open.
    pub fn busy(&self) -> bool {
        self.open > 0
    }

    /// Answers that came in since the last call.
    pub fn poll(&mut self) -> Vec<DialogAnswer> {
        let answers: Vec<_> = self.rx.try_iter().collect();
        self.open = self.open.saturating_sub(answers.len());
        answers
    }
}
