//! The view in words, for a newcomer: one line naming the scene, what drives it and what the
//! lines over it are.
use super::scene::PolicyKind;
use super::trails::TrailMode;
use super::workbench::Workbench;

impl Workbench {
    /// "cartpole-swingup · MPC with ground truth (MuJoCo), K 64 x N 50 · lines: ...".
    pub fn caption(&self) -> String {
        let scene = &self.scene;
        let name = &scene.env().spec().name;
        let config = scene.agent.settings.config;
        let agent = match scene.policy {
            PolicyKind::Mpc => format!(
                "MPC with {}, K {} x N {}",
                scene.agent.model.name, config.candidates, config.horizon_steps
            ),
            PolicyKind::Brownian => "Brownian-noise actions".to_string(),
            PolicyKind::Zero => "zero action".to_string(),
        };
        if scene.policy != PolicyKind::Mpc {
            return format!("{name} · {agent} · orange: the root body's path");
        }
        let body = scene
            .geometry
            .body_names
            .get(scene.agent.settings.trail.body)
            .filter(|n| !n.is_empty())
            .map_or("the traced body".to_string(), |n| format!("'{n}'"));
        let lines = match self.plan_view.mode {
            TrailMode::Imagined => {
                format!("lines: where the model expects {body} to go under each candidate")
            }
            TrailMode::GroundTruth => {
                format!("lines: where MuJoCo takes {body} under each candidate")
            }
            TrailMode::Both => format!(
                "lines: the model's path of {body} per candidate (yellow = best score, dark purple = worst), \
                 dashed: the same actions in MuJoCo"
            ),
        };
        format!("{name} · {agent} · {lines}")
    }
}
