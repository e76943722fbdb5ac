//! View > Record: the 3D view (with its trails) as an animated PNG. The window hands over a
//! read-back frame at most `fps` times a second; a `recorder` thread compresses each to PNG as it
//! arrives (a few hundred KB, not megabytes, held per frame) and, when the recording stops,
//! writes them as one APNG (browsers and most image viewers play it; no video encoder is needed)
//! through the atomic writer. Frames of another size than the first (the window resized) are
//! left out and counted.
use super::export::Pixels;
use crate::files::atomic_write;
use crate::render::image::{decode_png, encode_apng, encode_png};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

/// Frames per second a recording of the view takes.
pub const RECORD_FPS: f64 = 10.0;

impl super::workbench::Workbench {
    /// View > Record: starts a recording in `recordings/` or stops the one running.
    pub(super) fn toggle_recording(&mut self) {
        if let Some(r) = self.recording.take() {
            let frames = r.frames;
            self.writing.push(r.stop());
            return self.info(format!(
                "recording stopped after {frames} frames; writing it"
            ));
        }
        let dir = PathBuf::from("recordings");
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let path = dir.join(format!("view-{secs}.png"));
        let started =
            std::fs::create_dir_all(&dir).and_then(|()| Recording::start(path.clone(), RECORD_FPS));
        match started {
            Ok(r) => {
                self.recording = Some(r);
                self.info(format!(
                    "recording the view to {} at {RECORD_FPS} frames/s (View > Stop recording)",
                    path.display()
                ));
            }
            Err(e) => self.error(format!("cannot start recording to {}: {e}", path.display())),
        }
    }

    /// Reports recordings that have been written (called every frame).
    pub(super) fn poll_recordings(&mut self) {
        let mut done = Vec::new();
        self.writing.retain(|rx| match rx.try_recv() {
            Ok(result) => {
                done.push(result);
                false
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => true,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => false,
        });
        for result in done {
            match result {
                Ok(summary) => self.info(summary),
                Err(why) => self.error(format!("the recording was not written: {why}")),
            }
        }
    }
}

/// A recording in progress.
pub struct Recording {
    fps: f64,
    /// Frames handed to the recorder so far.
    pub frames: usize,
    last: Option<Instant>,
    tx: Sender<Option<Pixels>>,
    done: Receiver<Result<String, String>>,
}

impl Recording {
    /// Starts recording to `path` at `fps` frames per second of wall clock.
    pub fn start(path: PathBuf, fps: f64) -> std::io::Result<Self> {
        let (tx, rx) = channel::<Option<Pixels>>();
        let (done_tx, done) = channel();
        let delay_ms = (1000.0 / fps.max(0.1)).round() as u16;
        std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || {
                let _ = done_tx.send(record(&path, delay_ms, rx));
            })?;
        Ok(Self {
            fps,
            frames: 0,
            last: None,
            tx,
            done,
        })
    }

    /// Whether the next frame is due.
    pub fn due(&self) -> bool {
        self.last
            .is_none_or(|t| t.elapsed().as_secs_f64() >= 1.0 / self.fps)
    }

    pub fn push(&mut self, pixels: Pixels) {
        self.last = Some(Instant::now());
        self.frames += 1;
        let _ = self.tx.send(Some(pixels));
    }

    /// Ends the recording; the receiver answers once the file is written (what it holds, or why
    /// it could not be written).
    pub fn stop(self) -> Receiver<Result<String, String>> {
        let _ = self.tx.send(None);
        self.done
    }
}

/// The recorder thread: frames until `None`, then the APNG.
fn record(path: &Path, delay_ms: u16, rx: Receiver<Option<Pixels>>) -> Result<String, String> {
    let mut size = None;
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let mut skipped = 0usize;
    let mut other = None;
    while let Ok(Some((w, h, rgba))) = rx.recv() {
        if *size.get_or_insert((w, h)) != (w, h) {
            skipped += 1;
            other.get_or_insert((w, h));
            continue;
        }
        frames.push(encode_png(w, h, &rgba)?);
    }
    let Some((w, h)) = size.filter(|_| !frames.is_empty()) else {
        return Err(format!("{}: no frame was recorded", path.display()));
    };
    let bytes = encode_apng(w, h, frames.len(), delay_ms, |i| decode_png(&frames[i]))?;
    atomic_write(path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(format!(
        "recorded {} frames ({w}x{h}, {:.1} MB APNG) to {}{}",
        frames.len(),
        bytes.len() as f64 / 1e6,
        path.display(),
        match other {
            Some((ow, oh)) if skipped > 0 =>
                format!("; {skipped} frames of another size ({ow}x{oh}: the view resized) left out"),
            _ => String::new(),
        }
    ))
}
