//! What a user can ask for, as data: [`Command`]s. Panels, menus, keys and finished file
//! prompts all send them through a [`CommandSender`]; the workbench drains the queue once per
//! frame and handles each in one place ([`super::Workbench::handle`]). [`FilePrompt`] says what
//! a file prompt asks for and which command its answer becomes; showing it is the window's job.
use super::live::Pacing;
use super::scene::{PolicyKind, SceneSource};
use super::series::PlotKind;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

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
    /// Lists the presets folder again.
    RescanPresets,
    /// Ask the user for a file (the window shows the prompt; its answer is another command).
    Prompt(FilePrompt),
    /// Frames the scene's bodies.
    ResetView,
    /// Starts recording the view (an APNG under `recordings/`), or stops and writes it.
    ToggleRecording,
    /// Plan with this checkpoint (a TDM or an MLP baseline, loaded off the UI thread).
    LoadCheckpoint(PathBuf),
    /// Plan with MuJoCo itself.
    UseGroundTruth,
    SaveCsv(PlotKind, PathBuf),
    /// Read the 3D view back from the GPU and save it (the window holds the GPU).
    SavePng(PathBuf),
    /// Write the episode so far as a one-episode dataset in this folder.
    SaveDataset(PathBuf),
    /// Play or pause.
    TogglePlay,
    /// Pause and advance one control step with the current policy.
    Step,
    /// Make the MPC agent drive the scene, pause and advance one planned step.
    StepAgent,
    /// Back to the start of the episode.
    Reset,
    /// A new episode from this seed.
    Restart(u64),
    SetPolicy(PolicyKind),
    /// How the MPC agent's simulation keeps time (the user's choice: no automatic switch).
    SetPacing(Pacing),
    /// Show this remembered state (pauses).
    ScrubTo(usize),
    /// Select a body (from a pick in the viewport; `None` clears); the designer follows.
    SelectBody(Option<usize>),
    /// Draw this candidate of the last plan on top.
    HighlightCandidate(Option<usize>),
    DismissToast(usize),
}

/// The sending end of the command queue; cheap to clone, usable from any thread.
#[derive(Clone, Debug)]
pub struct CommandSender(Sender<Command>);

impl CommandSender {
    /// Queues `command` for the next time the queue is drained.
    pub fn send(&self, command: Command) {
        // The receiver lives as long as the workbench; a send after it is gone is moot.
        let _ = self.0.send(command);
    }
}

/// The receiving end of the command queue.
#[derive(Debug)]
pub struct CommandReceiver(Receiver<Command>);

impl CommandReceiver {
    /// Everything queued so far, in order.
    pub fn drain(&self) -> Vec<Command> {
        self.0.try_iter().collect()
    }
}

/// A new, empty command queue.
pub fn command_channel() -> (CommandSender, CommandReceiver) {
    let (tx, rx) = channel();
    (CommandSender(tx), CommandReceiver(rx))
}

/// What a file prompt asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilePrompt {
    OpenMjcf,
    OpenTree,
    SaveTree,
    SaveMjcf,
    OpenPreset,
    SavePreset,
    OpenCheckpoint,
    SaveCsv(PlotKind),
    SavePng,
    SaveDataset,
}

/// The kind of file prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    OpenFile,
    SaveFile,
    Folder,
}

/// How a prompt is shown: title, filter name and extensions, kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PromptSpec {
    pub title: &'static str,
    pub filter: &'static str,
    pub extensions: &'static [&'static str],
    pub kind: PromptKind,
}

impl FilePrompt {
    pub fn spec(self) -> PromptSpec {
        use PromptKind::*;
        let (title, filter, extensions, kind): (_, _, &'static [&'static str], _) = match self {
            Self::OpenMjcf => ("Open MJCF", "MJCF", &["xml"], OpenFile),
            Self::OpenTree => ("Open walker tree", "walker tree", &["json"], OpenFile),
            Self::SaveTree => ("Save walker tree", "walker tree", &["json"], SaveFile),
            Self::SaveMjcf => ("Save walker MJCF", "MJCF", &["xml"], SaveFile),
            Self::OpenPreset => ("Open preset", "preset", &["json"], OpenFile),
            Self::SavePreset => ("Save preset", "preset", &["json"], SaveFile),
            Self::OpenCheckpoint => ("Open checkpoint", "checkpoint", &["safetensors"], OpenFile),
            Self::SaveCsv(_) => ("Export plot as CSV", "CSV", &["csv"], SaveFile),
            Self::SavePng => ("Export view as PNG", "PNG", &["png"], SaveFile),
            Self::SaveDataset => (
                "Export the episode as a dataset (choose a folder)",
                "dataset",
                &[],
                Folder,
            ),
        };
        PromptSpec {
            title,
            filter,
            extensions,
            kind,
        }
    }

    /// The command a chosen file (or folder) becomes.
    pub fn answer(self, path: PathBuf) -> Command {
        match self {
            Self::OpenMjcf => Command::OpenMjcf(path),
            Self::OpenTree => Command::OpenTree(path),
            Self::SaveTree => Command::SaveTree(path),
            Self::SaveMjcf => Command::SaveMjcf(path),
            Self::OpenPreset => Command::ApplyPreset(path),
            Self::SavePreset => Command::SavePreset(path),
            Self::OpenCheckpoint => Command::LoadCheckpoint(path),
            Self::SaveCsv(kind) => Command::SaveCsv(kind, path),
            Self::SavePng => Command::SavePng(path),
            Self::SaveDataset => Command::SaveDataset(path),
        }
    }
}
