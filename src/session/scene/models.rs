//! Which model the scene's MPC agent plans with: checkpoints loaded off the UI thread, ground
//! truth, and the bundled model a scene switch falls back to.
use super::SceneRunner;
use crate::models::bundled::bundled_model_for;
use crate::models::{ModelError, checkpoint_label};
use crate::session::planner_worker::{
    LoadError, ModelInfo, WorkerModel, ground_truth, load_checkpoint_async,
};
use std::path::PathBuf;

impl SceneRunner {
    /// Plans with a checkpoint (TDM or MLP baseline) from now on, once it has loaded (on its own thread); a
    /// checkpoint that is broken or does not fit this scene is reported and the model stays.
    pub fn load_checkpoint(&mut self, path: PathBuf) {
        self.agent.carried = false;
        self.start_loading(path);
    }

    /// Plans with the checkpoint of the previous scene if it fits this one; if its sizes do not
    /// fit, with this scene's bundled model, else ground truth, and a notice (not an error)
    /// says which and why.
    pub fn carry_checkpoint(&mut self, path: PathBuf) {
        self.agent.carried = true;
        self.start_loading(path);
    }

    fn start_loading(&mut self, path: PathBuf) {
        self.agent.loader = Some(load_checkpoint_async(
            path,
            self.env.spec().clone(),
            self.wake.clone(),
        ));
    }

    /// Whether a checkpoint is being loaded.
    pub fn loading_model(&self) -> bool {
        self.agent.loader.is_some()
    }

    /// Plans with MuJoCo itself from now on (a checkpoint still loading is dropped, so it
    /// cannot replace this choice when it arrives).
    pub fn use_ground_truth(&mut self) {
        self.agent.loader = None;
        self.agent.carried = false;
        let (model, info) = ground_truth(self.env.task());
        self.install_model(model, info);
    }

    fn install_model(&mut self, model: WorkerModel, info: ModelInfo) {
        self.stop_live();
        self.agent.model = info;
        self.agent.last = None;
        self.agent.forget_arrivals();
        if !self.agent.pacing_chosen {
            // The automatic choice looks at the new model's own speed.
            self.agent.pacing = crate::session::live::Pacing::default();
        }
        match self.worker.as_mut() {
            Some(w) => w.set_model(model),
            None => self.agent.pending_model = Some(model),
        }
    }

    /// Takes a loaded model if one is ready (called every frame).
    pub fn poll_model_loader(&mut self) {
        let Some(rx) = &self.agent.loader else {
            return;
        };
        match rx.try_recv() {
            Ok(Ok((model, info))) => {
                self.agent.loader = None;
                self.install_model(model, info);
            }
            Ok(Err(LoadError::Model { path, source }))
                if self.agent.carried && matches!(*source, ModelError::Shape(_)) =>
            {
                self.agent.loader = None;
                self.agent.carried = false;
                let spec = self.env.spec();
                let scene = spec.name.clone();
                let file = checkpoint_label(&path);
                let sizes = format!("{} obs, {} act", spec.observation_size, spec.action_size);
                match bundled_model_for(&scene).filter(|b| *b != path) {
                    Some(bundled) => {
                        self.notice = Some(format!(
                            "{file} does not fit '{scene}' ({sizes}); planning with the scene's bundled model {}",
                            checkpoint_label(&bundled)
                        ));
                        self.load_checkpoint(bundled);
                    }
                    None => {
                        self.notice = Some(format!(
                            "{file} does not fit '{scene}' ({sizes}); planning with ground truth"
                        ));
                    }
                }
            }
            Ok(Err(e)) => {
                self.agent.loader = None;
                self.agent.carried = false;
                self.problem = Some(format!(
                    "model not loaded (still planning with {}): {e}",
                    self.agent.model.name
                ));
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
            Err(std::sync::mpsc::TryRecvError::Disconnected) => self.agent.loader = None,
        }
    }
}
