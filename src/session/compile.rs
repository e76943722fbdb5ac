//! MJCF files the user opens: a small one compiles at once; one over [`LARGE_MJCF_BYTES`]
//! compiles on a thread of its own (MuJoCo's compiler takes about a minute at 100,000 geoms on
//! this machine and reports no progress), while the scene in view keeps running and the status
//! line says what is compiling and for how long. Opening another file meanwhile replaces the
//! pending one.
use super::scene::{SceneError, SceneRunner, SceneSource};
use super::workbench::Workbench;
use crate::envs::{Env, MujocoEnv, make_task};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::Instant;

/// Files at least this large compile off the UI thread (a few thousand geoms; smaller ones take
/// milliseconds).
pub const LARGE_MJCF_BYTES: u64 = 1 << 20;

/// A file compiling on its own thread.
pub struct Compiling {
    /// The task name it opens (`mjcf:FILE`, `mjcf-pose:FILE`).
    pub name: String,
    pub path: PathBuf,
    pub started: Instant,
    rx: Receiver<Result<Box<dyn Env>, SceneError>>,
}

impl Workbench {
    pub(super) fn open_mjcf(&mut self, path: PathBuf) {
        self.open_mjcf_task(format!("mjcf:{}", path.display()), path);
    }

    /// Opens the task `name` of the MJCF file `path` (recorded in the recent list).
    pub(super) fn open_mjcf_task(&mut self, name: String, path: PathBuf) {
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        if bytes < LARGE_MJCF_BYTES {
            if self.load_scene(SceneSource::Task(name.clone())) {
                self.remember_recent(name);
            }
            return;
        }
        let (tx, rx) = channel();
        let source_name = name.clone();
        let (wake, source) = (self.wake.clone(), SceneSource::Task(name.clone()));
        let spawned = std::thread::Builder::new()
            .name("mjcf-compile".into())
            .spawn(move || {
                let built = make_task(&name)
                    .map(|task| Box::new(MujocoEnv::new(task)) as Box<dyn Env>)
                    .map_err(|e| SceneError::Build {
                        scene: source.label(),
                        source: e,
                    });
                let _ = tx.send(built);
                wake();
            });
        match spawned {
            Ok(_) => {
                self.info(format!(
                    "compiling {} ({:.1} MB) off the UI thread; the scene in view keeps running",
                    path.display(),
                    bytes as f64 / 1e6
                ));
                self.compiling = Some(Compiling {
                    name: source_name,
                    path,
                    started: Instant::now(),
                    rx,
                });
            }
            Err(e) => self.error(format!("cannot start compiling {}: {e}", path.display())),
        }
    }

    /// Puts a compiled file in place once it is ready (called every frame).
    pub(super) fn poll_compiling(&mut self) {
        let Some(c) = &self.compiling else {
            return;
        };
        let built = match c.rx.try_recv() {
            Ok(built) => built,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => {
                let path = c.path.display().to_string();
                self.compiling = None;
                return self.error(format!("compiling {path} stopped without a result"));
            }
        };
        let Some(c) = self.compiling.take() else {
            return;
        };
        let name = c.name.clone();
        let source = SceneSource::Task(name.clone());
        let next = built.and_then(|env| {
            SceneRunner::with_env(source.clone(), env, self.scene.seed, self.wake.clone())
        });
        if self.install_scene(source, next) {
            self.info(format!(
                "{} compiled in {:.1} s",
                c.path.display(),
                c.started.elapsed().as_secs_f64()
            ));
            self.remember_recent(name);
        }
    }

    /// "compiling FILE… 12 s" while a large file compiles.
    pub fn compiling_status(&self) -> Option<String> {
        self.compiling.as_ref().map(|c| {
            format!(
                "compiling {}… {:.0} s",
                c.path.file_name().map_or_else(
                    || c.path.display().to_string(),
                    |f| f.to_string_lossy().into_owned()
                ),
                c.started.elapsed().as_secs_f64()
            )
        })
    }
}
