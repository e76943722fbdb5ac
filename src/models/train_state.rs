//! The training-state sidecar of a checkpoint (`<file>.train.safetensors`: optimizer moments
//! and the step they belong to) kept exactly in step with the checkpoint whatever moment a
//! kill interrupts a save.
//!
//! A save writes the new state to `<file>.train.pending.safetensors`, then the checkpoint
//! (which records its step under the metadata key `step`), then renames the pending state over
//! the sidecar. So on disk there is always a state for the checkpoint's step: the sidecar
//! itself, or (killed after the checkpoint, before the rename) the pending one, which
//! [`load`] then puts in place. Files a killed write left behind (atomic writes' `.part`
//! files, a pending state of a step no checkpoint reached) are removed by [`remove_orphans`].
use crate::models::checkpoint_file::{
    CheckpointError, STEP_KEY, TrainState, bad, pending_path, promote_pending, read, read_metadata,
    train_state_path,
};
use std::path::Path;

/// The step recorded in a safetensors file's metadata (None: none recorded).
fn recorded_step(path: &Path) -> Result<Option<u64>, CheckpointError> {
    read_metadata(path)?
        .get(STEP_KEY)
        .map(|s| {
            s.parse()
                .map_err(|_| bad(path, format!("step '{s}' is not a number")))
        })
        .transpose()
}

/// The optimizer tensors and step of a sidecar file.
fn read_state(side: &Path) -> Result<TrainState, CheckpointError> {
    let (tensors, metadata) = read(side, None)?;
    let step = metadata
        .get(STEP_KEY)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(side, "no training step recorded"))?;
    Ok((tensors, step))
}

/// The training state for checkpoint `path` at the step the checkpoint was written: the
/// sidecar's, or a pending one an interrupted save left (then moved into place). A state of
/// another step is refused, since resuming from it would not be exact. A checkpoint that
/// records no step (written before steps were recorded) takes its sidecar as it is.
pub fn load(path: &Path) -> Result<TrainState, CheckpointError> {
    let side = train_state_path(path);
    let pending = pending_path(path);
    let Some(step) = recorded_step(path)? else {
        return read_state(&side);
    };
    let side_step = if side.exists() {
        Some(read_state(&side)?)
    } else {
        None
    };
    match side_step {
        Some(state) if state.1 == step => {
            let _ = std::fs::remove_file(&pending);
            Ok(state)
        }
        other => {
            if pending.exists() {
                let state = read_state(&pending)?;
                if state.1 == step {
                    promote_pending(path)?;
                    return Ok(state);
                }
            }
            Err(match other {
                Some((_, found)) => bad(
                    &side,
                    format!(
                        "training state of step {found}, but the checkpoint was written at step \
                         {step}: an exact resume is not possible (start again with --force, or \
                         fine-tune with --init)"
                    ),
                ),
                None => bad(
                    &side,
                    format!(
                        "missing: the checkpoint was written at step {step} with no training \
                         state beside it (start again with --force, or fine-tune with --init)"
                    ),
                ),
            })
        }
    }
}

/// Removes what interrupted writes of checkpoint `path` left: atomic writes' `.part` files of
/// processes no longer running, and a pending training state no resume can use (of another
/// step than the checkpoint's, or with no checkpoint at all).
pub fn remove_orphans(path: &Path) {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let names: Vec<String> = [
        path.to_path_buf(),
        train_state_path(path),
        pending_path(path),
    ]
    .iter()
    .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    .collect();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            let orphan = names.iter().any(|name| {
                file.strip_prefix(&format!(".{name}."))
                    .and_then(|rest| rest.strip_suffix(".part"))
                    .and_then(|pid| pid.parse::<u32>().ok())
                    .is_some_and(|pid| pid != std::process::id() && !running(pid))
            });
            if orphan {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let pending = pending_path(path);
    if pending.exists() {
        let usable = path.exists()
            && matches!(
                (recorded_step(path), recorded_step(&pending)),
                (Ok(Some(step)), Ok(Some(p))) if p == step
            );
        if !usable {
            let _ = std::fs::remove_file(&pending);
        }
    }
}

/// Removes the training state of checkpoint `path` (a run that starts afresh over it).
pub fn discard(path: &Path) {
    let _ = std::fs::remove_file(train_state_path(path));
    let _ = std::fs::remove_file(pending_path(path));
}

/// Whether process `pid` runs (on systems without `/proc`: taken as not running).
fn running(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}
