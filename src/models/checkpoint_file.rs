//! The checkpoint file format every learned model shares: one `.safetensors` file of F32
//! tensors whose metadata holds the model's JSON description under a key naming the model
//! family (`tdm`, `mlp`), written atomically. Training state for `--resume` (optimizer moments
//! and step) goes to a sidecar `<file>.train.safetensors`, so the checkpoint itself stays the
//! one file a user picks.
//!
//! A family says only what is its own through [`Family`] (its key, format version, metadata
//! type, the tensors its metadata implies and how a model is built from it); saving, loading
//! and every validation (truncated file, not safetensors, another family's file, a newer
//! version, a configuration out of bounds, tensors missing, extra or mis-shaped in the file's
//! header, non-finite weights) live here, and every message names the file. A file is checked
//! whole against its header before any model is built, so no file can make loading allocate
//! more than the file holds. The sidecar's step bookkeeping is in
//! [`crate::models::train_state`].
use crate::files::atomic_write;
use crate::models::optim::OptimStateError;
use candle_core::safetensors::Load;
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{}: {message}", path.display())]
    Bad { path: PathBuf, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The training-state sidecar's moments do not fit the model.
    #[error("{}: {source}", path.display())]
    OptimizerState {
        path: PathBuf,
        #[source]
        source: OptimStateError,
    },
}

pub(crate) fn bad(path: &Path, message: impl Into<String>) -> CheckpointError {
    CheckpointError::Bad {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The metadata keys of the model families this workbench reads, with how messages name them.
const FAMILIES: [(&str, &str); 2] = [("tdm", "a TDM"), ("mlp", "an MLP baseline")];

/// What one model family adds to the shared format.
pub trait Family {
    /// The metadata key holding [`Family::Meta`] as JSON (one of `tdm`, `mlp`).
    const KEY: &'static str;
    /// The newest metadata `version` this build reads.
    const VERSION: u32;
    /// The JSON description written with the weights.
    type Meta: Serialize + DeserializeOwned;
    /// The candle model the weights belong to.
    type Model;
    /// Checks a parsed description (sizes within bounds, normalisation, ...).
    fn check(meta: &Self::Meta) -> Result<(), impl Display>;
    /// Every tensor a model of a checked `meta` has, with its shape.
    fn tensor_shapes(meta: &Self::Meta) -> Vec<(String, Vec<usize>)>;
    /// Creates the model's variables (shapes from `meta`) through `vb`.
    fn build(meta: &Self::Meta, vb: VarBuilder) -> candle_core::Result<Self::Model>;
}

/// A loaded checkpoint: its metadata and the variables of a model built from it.
pub struct Loaded<F: Family> {
    pub meta: F::Meta,
    pub varmap: VarMap,
    pub model: F::Model,
}

/// Optimizer tensors and the number of steps taken, as kept in the sidecar.
pub type TrainState = (HashMap<String, Tensor>, u64);

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The sidecar holding the training state of checkpoint `path`.
pub fn train_state_path(path: &Path) -> PathBuf {
    with_suffix(path, ".train.safetensors")
}

/// Where a save puts the next training state until its checkpoint is written.
pub(crate) fn pending_path(path: &Path) -> PathBuf {
    with_suffix(path, ".train.pending.safetensors")
}

/// After the checkpoint is written: the pending state becomes the sidecar.
pub(crate) fn promote_pending(path: &Path) -> Result<(), CheckpointError> {
    let side = train_state_path(path);
    std::fs::rename(pending_path(path), &side).map_err(io(&side))
}

/// The safetensors bytes of `tensors` (as F32) with `metadata`.
fn serialize(
    tensors: &HashMap<String, Tensor>,
    metadata: HashMap<String, String>,
    path: &Path,
) -> Result<Vec<u8>, CheckpointError> {
    let f32s = tensors
        .iter()
        .map(|(name, t)| {
            t.to_dtype(DType::F32)
                .map(|t| (name.as_str(), t))
                .map_err(|e| bad(path, format!("{name}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(f32s, Some(metadata)).map_err(|e| bad(path, e.to_string()))
}

/// The variables of `varmap` by name.
fn varmap_tensors(
    varmap: &VarMap,
    path: &Path,
) -> Result<HashMap<String, Tensor>, CheckpointError> {
    Ok(varmap
        .data()
        .lock()
        .map_err(|_| bad(path, "variable map is poisoned"))?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
        .collect())
}

/// Writes the weights of `varmap` with `meta` under the family's key (atomically) and, when
/// given, the training state sidecar keyed to the same step (see
/// [`crate::models::train_state`]: a resume is exact whatever moment a kill interrupts this).
/// Non-finite weights are refused, naming the tensor, and nothing is written.
pub fn save<F: Family>(
    path: &Path,
    varmap: &VarMap,
    meta: &F::Meta,
    train_state: Option<(&HashMap<String, Tensor>, u64)>,
) -> Result<(), CheckpointError> {
    save_with::<F>(path, varmap, meta, train_state, &[])
}

/// [`save`] with more metadata entries (`key`, text) beside the family's.
pub fn save_with<F: Family>(
    path: &Path,
    varmap: &VarMap,
    meta: &F::Meta,
    train_state: Option<(&HashMap<String, Tensor>, u64)>,
    extra: &[(&str, String)],
) -> Result<(), CheckpointError> {
    let json = serde_json::to_string(meta).map_err(|e| bad(path, e.to_string()))?;
    let weights = varmap_tensors(varmap, path)?;
    let mut names: Vec<&String> = weights.keys().collect();
    names.sort();
    for name in names {
        check_finite_tensor(path, name, &weights[name])?;
    }
    let mut metadata = HashMap::from([(F::KEY.to_string(), json)]);
    metadata.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    match train_state {
        Some((state, step)) => {
            metadata.insert(STEP_KEY.to_string(), step.to_string());
            let bytes = serialize(&weights, metadata, path)?;
            let pending = pending_path(path);
            let side_bytes = serialize(
                state,
                HashMap::from([(STEP_KEY.to_string(), step.to_string())]),
                &pending,
            )?;
            atomic_write(&pending, &side_bytes).map_err(io(&pending))?;
            atomic_write(path, &bytes).map_err(io(path))?;
            promote_pending(path)
        }
        None => atomic_write(path, &serialize(&weights, metadata, path)?).map_err(io(path)),
    }
}

/// The metadata key of the optimizer step a checkpoint (and its sidecar) was written at.
pub(crate) const STEP_KEY: &str = "step";

/// Refuses a tensor with a NaN or infinite entry, naming it.
fn check_finite_tensor(path: &Path, name: &str, t: &Tensor) -> Result<(), CheckpointError> {
    let values = t
        .flatten_all()
        .and_then(|t| t.to_dtype(DType::F32))
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(|e| bad(path, format!("tensor '{name}': {e}")))?;
    match values.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(non_finite(path, name, values[i], i)),
        None => Ok(()),
    }
}

fn non_finite(path: &Path, name: &str, value: f32, index: usize) -> CheckpointError {
    bad(
        path,
        format!("tensor '{name}' holds a non-finite value ({value} at index {index})"),
    )
}

/// Named tensors and the file's metadata.
type TensorsAndMetadata = (HashMap<String, Tensor>, HashMap<String, String>);

/// Reads every tensor (F32 only, finite only, through candle's safetensors loader) and the
/// metadata of a safetensors file; with `expect`, the header must list exactly those tensors
/// with those shapes, checked before any tensor is loaded.
pub(crate) fn read(
    path: &Path,
    expect: Option<&ExpectFromMetadata<'_>>,
) -> Result<TensorsAndMetadata, CheckpointError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(path, format!("not a valid safetensors file ({e})")))?;
    let (_, header) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| bad(path, e.to_string()))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let mut views = st.tensors();
    views.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(expect) = expect {
        let expected = expect(&metadata)?;
        check_header(path, &expected, &views)?;
    }
    let mut out = HashMap::new();
    for (name, view) in views {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(bad(
                path,
                format!("tensor {name} is {:?}, expected F32", view.dtype()),
            ));
        }
        if let Some((i, x)) = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .enumerate()
            .find(|(_, x)| !x.is_finite())
        {
            return Err(non_finite(path, &name, x, i));
        }
        let t = view
            .load(&Device::Cpu)
            .map_err(|e| bad(path, format!("tensor {name}: {e}")))?;
        out.insert(name, t);
    }
    Ok((out, metadata))
}

/// The tensors a family's metadata implies, by name.
pub(crate) type Expected = std::collections::BTreeMap<String, Vec<usize>>;

/// The tensors a file must hold, from its metadata.
pub(crate) type ExpectFromMetadata<'a> =
    dyn Fn(&HashMap<String, String>) -> Result<Expected, CheckpointError> + 'a;

/// Compares a file's header with the tensors its metadata implies: every one present with its
/// shape, none extra.
fn check_header(
    path: &Path,
    expected: &Expected,
    views: &[(String, safetensors::tensor::TensorView<'_>)],
) -> Result<(), CheckpointError> {
    for (name, view) in views {
        match expected.get(name) {
            None => {
                return Err(bad(
                    path,
                    format!("unexpected tensor '{name}': the metadata does not describe it"),
                ));
            }
            Some(shape) if shape.as_slice() != view.shape() => {
                return Err(bad(
                    path,
                    format!(
                        "tensor '{name}' has shape {:?}, the config needs {shape:?}",
                        view.shape()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(name) = expected
        .keys()
        .find(|name| !views.iter().any(|(n, _)| n == *name))
    {
        return Err(bad(
            path,
            format!(
                "missing tensor '{name}' (the metadata implies {} tensors, the file holds {})",
                expected.len(),
                views.len()
            ),
        ));
    }
    Ok(())
}

/// The family's metadata from a file's `metadata`, refused when it is another family's file,
/// a newer version, not JSON, or fails [`Family::check`].
fn parse_meta<F: Family>(
    path: &Path,
    metadata: &HashMap<String, String>,
) -> Result<F::Meta, CheckpointError> {
    let Some(json) = metadata.get(F::KEY) else {
        let name = |key: &str| FAMILIES.iter().find(|f| f.0 == key).map(|f| f.1);
        if let Some((_, other)) = FAMILIES
            .iter()
            .find(|(key, _)| *key != F::KEY && metadata.contains_key(*key))
        {
            let this = name(F::KEY).unwrap_or(F::KEY);
            return Err(bad(path, format!("{other} checkpoint, not {this}")));
        }
        return Err(bad(
            path,
            format!(
                "no '{}' metadata: not a {} checkpoint of this workbench",
                F::KEY,
                F::KEY
            ),
        ));
    };
    let probe: serde_json::Value =
        serde_json::from_str(json).map_err(|e| bad(path, format!("metadata is not JSON ({e})")))?;
    if let Some(v) = probe.get("version").and_then(|v| v.as_u64())
        && v > u64::from(F::VERSION)
    {
        return Err(bad(
            path,
            format!(
                "checkpoint format version {v} is newer than this build reads ({})",
                F::VERSION
            ),
        ));
    }
    let meta: F::Meta =
        serde_json::from_value(probe).map_err(|e| bad(path, format!("bad metadata: {e}")))?;
    F::check(&meta).map_err(|e| bad(path, format!("bad model config: {e}")))?;
    Ok(meta)
}

/// Sets every variable of `varmap` from `tensors`, refusing a missing or mis-shaped one.
fn fill_varmap(
    path: &Path,
    varmap: &VarMap,
    tensors: &HashMap<String, Tensor>,
) -> Result<(), CheckpointError> {
    let vars = varmap
        .data()
        .lock()
        .map_err(|_| bad(path, "variable map is poisoned"))?;
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    for name in names {
        let var = &vars[name];
        let t = tensors
            .get(name)
            .ok_or_else(|| bad(path, format!("missing tensor '{name}'")))?;
        if t.dims() != var.as_tensor().dims() {
            return Err(bad(
                path,
                format!(
                    "tensor '{name}' has shape {:?}, the config needs {:?}",
                    t.dims(),
                    var.as_tensor().dims()
                ),
            ));
        }
        var.set(t).map_err(|e| bad(path, e.to_string()))?;
    }
    Ok(())
}

/// Reads and checks a checkpoint: valid safetensors, this family's metadata from this or an
/// older version within the family's bounds, exactly the tensors the metadata implies (names
/// and shapes from the header, before anything is built), every weight finite.
pub fn load<F: Family>(path: &Path) -> Result<Loaded<F>, CheckpointError> {
    let expect = |metadata: &HashMap<String, String>| -> Result<Expected, CheckpointError> {
        let meta = parse_meta::<F>(path, metadata)?;
        Ok(F::tensor_shapes(&meta).into_iter().collect())
    };
    let (tensors, metadata) = read(path, Some(&expect))?;
    let meta = parse_meta::<F>(path, &metadata)?;
    let varmap = VarMap::new();
    let model = F::build(
        &meta,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )
    .map_err(|e| bad(path, e.to_string()))?;
    fill_varmap(path, &varmap, &tensors)?;
    Ok(Loaded {
        meta,
        varmap,
        model,
    })
}

/// A checkpoint's metadata alone, reading only the file's header (not the weights).
pub fn load_meta<F: Family>(path: &Path) -> Result<F::Meta, CheckpointError> {
    parse_meta::<F>(path, &read_metadata(path)?)
}

/// The metadata of a safetensors file, reading only its header (not the tensors).
pub(crate) fn read_metadata(path: &Path) -> Result<HashMap<String, String>, CheckpointError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let file_len = f.metadata().map_err(io(path))?.len();
    let mut len = [0u8; 8];
    f.read_exact(&mut len)
        .map_err(|e| bad(path, format!("not a valid safetensors file ({e})")))?;
    let len = u64::from_le_bytes(len);
    if len > file_len.saturating_sub(8) || len > 100_000_000 {
        return Err(bad(
            path,
            format!("not a valid safetensors file (header of {len} bytes)"),
        ));
    }
    let mut header = vec![0u8; len as usize];
    f.read_exact(&mut header).map_err(io(path))?;
    let json: serde_json::Value = serde_json::from_slice(&header)
        .map_err(|e| bad(path, format!("not a valid safetensors file ({e})")))?;
    Ok(json
        .get("__metadata__")
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default())
}

/// Which model family a checkpoint file holds (`"tdm"` or `"mlp"`), from its metadata keys
/// (only the file's header is read).
pub fn checkpoint_family(path: &Path) -> Result<&'static str, CheckpointError> {
    let metadata = read_metadata(path)?;
    FAMILIES
        .iter()
        .map(|(key, _)| *key)
        .find(|key| metadata.contains_key(*key))
        .ok_or_else(|| {
            bad(
                path,
                "no TDM or MLP metadata: not a checkpoint of this workbench",
            )
        })
}

#[cfg(test)]
pub(crate) mod tests;
