//! A compiled MuJoCo model, shared between threads, remembering where it came from.
use super::error::SimError;
use super::log::install_handlers;
use mujoco_rs::prelude::{MjModel, MjModelError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A compiled model plus the name of the file (or the label of the string) it was compiled from.
/// Cloning is cheap: the model itself is shared.
#[derive(Clone, Debug)]
pub struct SimModel {
    model: Arc<MjModel>,
    source_name: PathBuf,
}

fn compile_error(source_name: &Path, err: MjModelError) -> SimError {
    let message = match err {
        MjModelError::LoadFailed(msg) => msg.trim().to_string(),
        other => other.to_string(),
    };
    SimError::Compile {
        source_name: source_name.to_path_buf(),
        message: if message.is_empty() {
            "MuJoCo gave no reason".to_string()
        } else {
            message
        },
    }
}

/// The first of the compiled model's physical numbers (masses, inertias, body offsets, geom
/// sizes, joint ranges, damping, gears, control ranges, timestep) that is NaN or infinite, named.
fn first_non_finite(model: &MjModel) -> Option<String> {
    let flat = |v: &[f64]| v.iter().position(|x| !x.is_finite());
    let arrays: [(&str, Option<usize>, usize); 9] = [
        ("body mass", flat(model.body_mass()), 1),
        ("body inertia", flat(model.body_inertia().as_flattened()), 3),
        ("body position", flat(model.body_pos().as_flattened()), 3),
        ("geom size", flat(model.geom_size().as_flattened()), 3),
        ("joint range", flat(model.jnt_range().as_flattened()), 2),
        ("dof damping", flat(model.dof_damping()), 1),
        (
            "actuator gear",
            flat(model.actuator_gear().as_flattened()),
            6,
        ),
        (
            "actuator control range",
            flat(model.actuator_ctrlrange().as_flattened()),
            2,
        ),
        ("timestep", flat(&[model.opt().timestep]), 1),
    ];
    arrays
        .into_iter()
        .find_map(|(name, at, width)| at.map(|i| format!("{name} [{}]", i / width)))
}

impl SimModel {
    /// Compiles an MJCF file. Relative includes and assets resolve against the file's folder.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SimError> {
        install_handlers();
        let path = path.as_ref();
        let io_err = |error| SimError::Io {
            path: path.to_path_buf(),
            error,
        };
        // Read first: gives clear I/O errors, and checks what MuJoCo's parser would choke on.
        let bytes = std::fs::read(path).map_err(io_err)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(SimError::Compile {
                source_name: path.to_path_buf(),
                message: "the file is empty".into(),
            });
        }
        let Some(path_str) = path.to_str().filter(|s| !s.contains('\0')) else {
            return Err(SimError::Compile {
                source_name: path.to_path_buf(),
                message: "the path is not valid UTF-8 or contains a NUL byte".into(),
            });
        };
        let model = MjModel::from_xml(path_str).map_err(|e| compile_error(path, e))?;
        Self::checked(model, path.to_path_buf())
    }

    /// Compiles MJCF text; `label` names it in error messages (e.g. the task or a file name).
    pub fn from_xml_str(xml: &str, label: impl Into<PathBuf>) -> Result<Self, SimError> {
        install_handlers();
        let label = label.into();
        if xml.trim().is_empty() {
            return Err(SimError::Compile {
                source_name: label,
                message: "the MJCF text is empty".into(),
            });
        }
        let model = MjModel::from_xml_string(xml).map_err(|e| compile_error(&label, e))?;
        Self::checked(model, label)
    }

    fn checked(model: MjModel, source_name: PathBuf) -> Result<Self, SimError> {
        if model.nq() < 0 || model.nv() < 0 || model.nu() < 0 {
            return Err(SimError::Unsupported("negative model sizes".into()));
        }
        if let Some(what) = first_non_finite(&model) {
            return Err(SimError::Compile {
                source_name,
                message: format!("{what} is not a finite number"),
            });
        }
        Ok(Self {
            model: Arc::new(model),
            source_name,
        })
    }

    /// The shared MuJoCo model.
    pub fn mj(&self) -> &Arc<MjModel> {
        &self.model
    }

    /// The file (or label) this model was compiled from.
    pub fn source_name(&self) -> &Path {
        &self.source_name
    }

    /// Number of position coordinates.
    pub fn nq(&self) -> usize {
        self.model.nq() as usize
    }

    /// Number of degrees of freedom.
    pub fn nv(&self) -> usize {
        self.model.nv() as usize
    }

    /// Number of actuators (controls).
    pub fn nu(&self) -> usize {
        self.model.nu() as usize
    }

    /// The physics timestep in seconds.
    pub fn timestep_secs(&self) -> f64 {
        self.model.opt().timestep
    }

    /// Names of the actuators, in control order ("" where unnamed).
    pub fn actuator_names(&self) -> Vec<String> {
        (0..self.nu())
            .map(|i| {
                self.model
                    .id_to_name(mujoco_rs::prelude::MjtObjBase::mjOBJ_ACTUATOR, i)
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    /// Looks up a body id by name.
    pub fn body_id(&self, name: &str) -> Option<usize> {
        self.model
            .name_to_id(mujoco_rs::prelude::MjtObjBase::mjOBJ_BODY, name)
    }

    /// Looks up a sensor's first address in `sensordata` by name.
    pub fn sensor_adr(&self, name: &str) -> Option<usize> {
        let id = self
            .model
            .name_to_id(mujoco_rs::prelude::MjtObjBase::mjOBJ_SENSOR, name)?;
        self.model.sensor_adr().get(id).map(|&a| a as usize)
    }
}
