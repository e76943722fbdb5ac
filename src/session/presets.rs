//! Presets: human-editable JSON files (in `presets/`) holding a scene, a camera and simulation
//! and planner settings. Loading validates everything before anything changes: an unknown field
//! or a bad value is reported with the file, the field and the reason.
use super::live::Pacing;
use super::scene::PolicyKind;
use crate::plan::PlannerConfig;
use crate::render::OrbitCamera;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const PRESET_VERSION: u32 = 1;

/// Simulation settings of a preset.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSettings {
    /// Simulated seconds per real second.
    pub speed: f64,
    pub seed: u64,
    pub policy: PolicyKind,
    /// Keep the camera's look-at point on the root body.
    #[serde(default)]
    pub follow: bool,
    /// How the MPC agent's simulation keeps time (`real-time` or `lock-step`); absent: real
    /// time where the model keeps up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pacing: Option<Pacing>,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            speed: 1.0,
            seed: 0,
            policy: PolicyKind::Zero,
            follow: false,
            pacing: None,
        }
    }
}

/// One preset file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub version: u32,
    /// Shown in the preset list.
    pub name: String,
    /// A task name (`cartpole-swingup`, `walker:chain:8:3`, `mjcf:FILE.xml`, ...).
    pub scene: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<OrbitCamera>,
    #[serde(default)]
    pub sim: SimSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planner: Option<PlannerConfig>,
    /// What the MPC agent plans with: `gt` (MuJoCo itself) or a checkpoint file (a path, relative
    /// to the working directory as on the command line); absent: the model a scene switch picks
    /// (the scene's bundled one, else ground truth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// A value of a preset out of its range: the field (`sim.speed`, `camera.fovy_deg`, ...) and why.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

/// A preset that could not be used, and why; every message starts with the file.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// Not valid preset JSON (syntax, an unknown field, a wrong type or policy name).
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// Valid JSON with a value out of range.
    #[error("{path}: {source}")]
    Field { path: PathBuf, source: FieldError },
    #[error("{path}: {source}")]
    Encode {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn check(ok: bool, field: &str, problem: String) -> Result<(), FieldError> {
    if ok {
        Ok(())
    } else {
        Err(FieldError {
            field: field.to_string(),
            problem,
        })
    }
}

impl Preset {
    /// Checks every value's range; the message names the field.
    pub fn validate(&self) -> Result<(), FieldError> {
        check(
            self.version <= PRESET_VERSION,
            "version",
            format!(
                "{} is newer than this workbench reads ({PRESET_VERSION})",
                self.version
            ),
        )?;
        check(!self.scene.trim().is_empty(), "scene", "is empty".into())?;
        if let Some(m) = &self.model {
            check(
                !m.trim().is_empty(),
                "model",
                "is empty (use \"gt\" or a checkpoint file)".into(),
            )?;
        }
        let s = &self.sim;
        check(
            s.speed.is_finite() && s.speed > 0.0 && s.speed <= 100.0,
            "sim.speed",
            format!("{} is outside (0, 100]", s.speed),
        )?;
        if let Some(c) = &self.camera {
            check(
                c.distance_m.is_finite() && c.distance_m > 0.0,
                "camera.distance_m",
                format!("{} must be a positive number", c.distance_m),
            )?;
            check(
                c.fovy_deg.is_finite() && c.fovy_deg > 1.0 && c.fovy_deg < 170.0,
                "camera.fovy_deg",
                format!("{} is outside (1, 170)", c.fovy_deg),
            )?;
            check(
                c.elevation_deg.abs() <= 90.0 && c.azimuth_deg.is_finite(),
                "camera.elevation_deg",
                format!("{} is outside [-90, 90]", c.elevation_deg),
            )?;
            check(
                c.lookat.iter().all(|v| v.is_finite()),
                "camera.lookat",
                "must be finite".into(),
            )?;
        }
        if let Some(p) = &self.planner {
            check(
                (1..=4096).contains(&p.candidates),
                "planner.candidates",
                format!("{} is outside 1..=4096", p.candidates),
            )?;
            check(
                (1..=1000).contains(&p.horizon_steps),
                "planner.horizon_steps",
                format!("{} is outside 1..=1000", p.horizon_steps),
            )?;
            check(
                p.noise.variance.is_finite() && p.noise.variance >= 0.0,
                "planner.noise.variance",
                format!("{} must be >= 0", p.noise.variance),
            )?;
            p.method.validate(p.candidates).map_err(|e| FieldError {
                field: format!("planner.method.{}", e.field),
                problem: e.problem,
            })?;
        }
        Ok(())
    }

    /// Parses and validates preset text; `path` names it in messages.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, PresetError> {
        let preset: Preset = serde_json::from_str(text).map_err(|source| PresetError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        preset.validate().map_err(|source| PresetError::Field {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(preset)
    }

    pub fn load(path: &Path) -> Result<Self, PresetError> {
        let text = std::fs::read_to_string(path).map_err(|source| PresetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&text, path)
    }

    /// Writes the preset atomically (the old file stays intact if anything fails).
    pub fn save(&self, path: &Path) -> Result<(), PresetError> {
        let mut text =
            serde_json::to_string_pretty(self).map_err(|source| PresetError::Encode {
                path: path.to_path_buf(),
                source,
            })?;
        text.push('\n');
        crate::files::atomic_write(path, text.as_bytes()).map_err(|source| PresetError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// The presets folder: `./presets` if it exists, else the one beside the sources.
pub fn presets_dir() -> PathBuf {
    let local = PathBuf::from("presets");
    if local.is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("presets")
    }
}

/// The `.json` files in `dir`, sorted by name.
pub fn list_presets(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlannerMethod;

    fn text(extra: &str) -> String {
        format!(r#"{{"version": 1, "name": "t", "scene": "cartpole-swingup"{extra}}}"#)
    }

    #[test]
    fn minimal_preset_loads_with_defaults() {
        let p = Preset::from_json(&text(""), Path::new("t.json")).unwrap();
        assert_eq!(p.sim, SimSettings::default());
        assert!(p.camera.is_none() && p.planner.is_none());
    }

    #[test]
    fn unknown_fields_and_bad_values_are_named() {
        let e = Preset::from_json(&text(r#", "colour": 3"#), Path::new("a.json")).unwrap_err();
        let m = e.to_string();
        assert!(m.starts_with("a.json: ") && m.contains("colour"), "{m}");
        let e = Preset::from_json(
            &text(r#", "sim": {"speed": -1, "seed": 0, "policy": "zero"}"#),
            Path::new("b.json"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("sim.speed"), "{e}");
        let e = Preset::from_json(
            &text(r#", "sim": {"speed": 1, "seed": 0, "policy": "teleport"}"#),
            Path::new("c.json"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("teleport"), "{e}");
    }

    #[test]
    fn the_planner_method_is_read_with_its_knobs_and_checked() {
        let planner = |method: &str| {
            text(&format!(
                r#", "planner": {{"candidates": 32, "horizon_steps": 50,
                "noise": {{"kind": "white", "variance": 0.3}}, "objective": "auto", "seed": 0
                {method}}}"#
            ))
        };
        // Without a method (presets from before there was a choice): random shooting.
        let old = Preset::from_json(&planner(""), Path::new("old.json")).unwrap();
        assert_eq!(old.planner.unwrap().method, PlannerMethod::RandomShooting);
        let cem = Preset::from_json(
            &planner(r#", "method": {"kind": "cem", "iterations": 3, "elites": 6}"#),
            Path::new("cem.json"),
        )
        .unwrap();
        assert_eq!(
            cem.planner.unwrap().method,
            PlannerMethod::Cem {
                iterations: 3,
                elites: 6,
                smoothing: 0.1
            }
        );
        // Saved and read back alike.
        let dir = std::env::temp_dir().join(format!("tdm-preset-method-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cem.json");
        cem.save(&path).unwrap();
        assert_eq!(Preset::load(&path).unwrap(), cem);
        std::fs::remove_dir_all(&dir).unwrap();
        // Out of range: named with the preset's field path.
        let e = Preset::from_json(
            &planner(r#", "method": {"kind": "cem", "elites": 32}"#),
            Path::new("d.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("d.json: planner.method.elites: 32"), "{e}");
        let e = Preset::from_json(
            &planner(r#", "method": {"kind": "mppi", "temperature": -2}"#),
            Path::new("e.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("planner.method.temperature"), "{e}");
        let e = Preset::from_json(
            &planner(r#", "method": {"kind": "annealing"}"#),
            Path::new("f.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("f.json: ") && e.contains("annealing"), "{e}");
    }

    #[test]
    fn shipped_presets_are_valid() {
        let files = list_presets(&Path::new(env!("CARGO_MANIFEST_DIR")).join("presets"));
        assert!(!files.is_empty());
        for f in files {
            Preset::load(&f).unwrap();
        }
    }
}
