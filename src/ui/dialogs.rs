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

/// Folder pickers are handled before the file dialogs' table.
fn unreachable_dataset() -> (&'static str, &'static str, &'static [&'static str], bool) {
    ("Export dataset", "dataset", &[], true)
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
                if purpose == DialogPurpose::SaveDataset {
                    let path = rfd::FileDialog::new()
                        .set_title("Export the episode as a dataset (choose a folder)")
                        .pick_folder();
                    let _ = tx.send((purpose, path));
                    wake();
                    return;
                }
                let (title, filter, ext, save): (&str, &str, &[&str], bool) = match purpose {
                    DialogPurpose::OpenMjcf => ("Open MJCF", "MJCF", &["xml"], false),
                    DialogPurpose::OpenTree => {
                        ("Open walker tree", "walker tree", &["json"], false)
                    }
                    DialogPurpose::SaveTree => ("Save walker tree", "walker tree", &["json"], true),
                    DialogPurpose::SaveMjcf => ("Save walker MJCF", "MJCF", &["xml"], true),
                    DialogPurpose::OpenPreset => ("Open preset", "preset", &["json"], false),
                    DialogPurpose::SavePreset => ("Save preset", "preset", &["json"], true),
                    DialogPurpose::OpenCheckpoint => {
                        ("Open checkpoint", "checkpoint", &["safetensors"], false)
                    }
                    DialogPurpose::SaveCsv(_) => ("Export plot as CSV", "CSV", &["csv"], true),
                    DialogPurpose::SavePng => ("Export view as PNG", "PNG", &["png"], true),
                    DialogPurpose::SaveDataset => unreachable_dataset(),
                };
                let dialog = rfd::FileDialog::new()
                    .set_title(title)
                    .add_filter(filter, ext);
                let path = if save {
                    dialog.save_file()
                } else {
                    dialog.pick_file()
                };
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

    /// Injects an answer as if a dialog had returned it (tests and scripted runs).
    pub fn answer(&mut self, purpose: DialogPurpose, path: Option<PathBuf>) {
        let _ = self.tx.send((purpose, path));
        self.open += 1;
    }
}
