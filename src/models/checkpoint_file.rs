//! The checkpoint file format every learned model shares: one `.safetensors` file of F32
//! tensors whose metadata holds the model's JSON description under a key naming the model
//! family (`tdm`, `mlp`), written atomically. Training state for `--resume` (optimizer moments
//! and step) goes to a sidecar `<file>.train.safetensors`, so the checkpoint itself stays the
//! one file a user picks.
use crate::files::atomic_write;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use std::collections::HashMap;
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
}

pub(crate) fn bad(path: &Path, message: impl Into<String>) -> CheckpointError {
    CheckpointError::Bad {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The sidecar holding the training state of checkpoint `path`.
pub fn train_state_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".train.safetensors");
    PathBuf::from(s)
}

fn tensor_bytes(
    tensors: &HashMap<String, Tensor>,
    metadata: Option<HashMap<String, String>>,
    path: &Path,
) -> Result<Vec<u8>, CheckpointError> {
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, t) in tensors {
        let data: Vec<f32> = t
            .flatten_all()
            .and_then(|f| f.to_dtype(DType::F32)?.to_vec1())
            .map_err(|e| bad(path, format!("{name}: {e}")))?;
        owned.push((
            name.clone(),
            t.dims().to_vec(),
            data.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ));
    }
    let views = owned
        .iter()
        .map(|(n, s, b)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| bad(path, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, metadata).map_err(|e| bad(path, e.to_string()))
}

/// The variables of `varmap` by name.
pub(crate) fn varmap_tensors(
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

/// Writes the weights of `varmap` with `json` under metadata key `key` (atomically) and, when
/// given, the training state sidecar.
pub(crate) fn write(
    path: &Path,
    varmap: &VarMap,
    key: &str,
    json: String,
    train_state: Option<(&HashMap<String, Tensor>, u64)>,
) -> Result<(), CheckpointError> {
    let weights = varmap_tensors(varmap, path)?;
    let bytes = tensor_bytes(
        &weights,
        Some(HashMap::from([(key.to_string(), json)])),
        path,
    )?;
    if let Some((state, step)) = train_state {
        let side = train_state_path(path);
        let bytes = tensor_bytes(
            state,
            Some(HashMap::from([("step".to_string(), step.to_string())])),
            &side,
        )?;
        atomic_write(&side, &bytes).map_err(|source| CheckpointError::Io {
            path: side.clone(),
            source,
        })?;
    }
    atomic_write(path, &bytes).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Named tensors and the file's metadata.
pub(crate) type TensorsAndMetadata = (HashMap<String, Tensor>, HashMap<String, String>);

/// Reads every tensor (F32 only) and the metadata of a safetensors file.
pub(crate) fn read(path: &Path) -> Result<TensorsAndMetadata, CheckpointError> {
    let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(path, format!("not a valid safetensors file ({e})")))?;
    let (_, header) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| bad(path, e.to_string()))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(bad(
                path,
                format!("tensor {name} is {:?}, expected F32", view.dtype()),
            ));
        }
        let data: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let t = Tensor::from_vec(data, view.shape(), &Device::Cpu)
            .map_err(|e| bad(path, e.to_string()))?;
        out.insert(name, t);
    }
    Ok((out, metadata))
}

/// The metadata JSON under `key`, refused when its `version` is newer than `current`.
pub(crate) fn metadata_json(
    path: &Path,
    metadata: &HashMap<String, String>,
    key: &str,
    current: u32,
) -> Result<serde_json::Value, CheckpointError> {
    let json = metadata.get(key).ok_or_else(|| {
        bad(
            path,
            format!("no '{key}' metadata: not a {key} checkpoint of this workbench"),
        )
    })?;
    let probe: serde_json::Value =
        serde_json::from_str(json).map_err(|e| bad(path, format!("metadata is not JSON ({e})")))?;
    if let Some(v) = probe.get("version").and_then(|v| v.as_u64())
        && v > current as u64
    {
        return Err(bad(
            path,
            format!("checkpoint format version {v} is newer than this build reads ({current})"),
        ));
    }
    Ok(probe)
}

/// Sets every variable of `varmap` from `tensors`, refusing a missing or mis-shaped one.
pub(crate) fn fill_varmap(
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

/// Reads the training-state sidecar of checkpoint `path`: optimizer tensors and step.
pub fn load_train_state(path: &Path) -> Result<(HashMap<String, Tensor>, u64), CheckpointError> {
    let side = train_state_path(path);
    let (tensors, metadata) = read(&side)?;
    let step = metadata
        .get("step")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(&side, "no training step recorded"))?;
    Ok((tensors, step))
}

/// The metadata of a safetensors file, reading only its header (not the tensors).
pub(crate) fn read_metadata(path: &Path) -> Result<HashMap<String, String>, CheckpointError> {
    use std::io::Read;
    let io = |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let file_len = f.metadata().map_err(io)?.len();
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
    f.read_exact(&mut header).map_err(io)?;
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
    for family in ["tdm", "mlp"] {
        if metadata.contains_key(family) {
            return Ok(family);
        }
    }
    Err(bad(
        path,
        "no TDM or MLP metadata: not a checkpoint of this workbench",
    ))
}
