//! Tests of the shared checkpoint format on a toy family: round trips, refusals by name, and
//! the training-state sidecar at every point a save can be killed.
use super::*;
use crate::models::train_state::{self, load as load_train_state};

/// A one-layer family under each known key, to test the format without a real model.
#[derive(serde::Serialize, serde::Deserialize)]
struct ToyMeta {
    version: u32,
    rows: usize,
}

macro_rules! toy_family {
    ($name:ident, $key:literal) => {
        struct $name;
        impl Family for $name {
            const KEY: &'static str = $key;
            const VERSION: u32 = 1;
            type Meta = ToyMeta;
            type Model = candle_nn::Linear;
            fn check(meta: &ToyMeta) -> Result<(), impl Display> {
                if meta.rows > 4 {
                    Err("too many rows")
                } else {
                    Ok(())
                }
            }
            fn tensor_shapes(meta: &ToyMeta) -> Vec<(String, Vec<usize>)> {
                vec![
                    ("lin.weight".into(), vec![2, meta.rows]),
                    ("lin.bias".into(), vec![2]),
                ]
            }
            fn build(meta: &ToyMeta, vb: VarBuilder) -> candle_core::Result<Self::Model> {
                candle_nn::linear(meta.rows, 2, vb.pp("lin"))
            }
        }
    };
}
toy_family!(ToyTdm, "tdm");
toy_family!(ToyMlp, "mlp");

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ckpt-file-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn saved(path: &Path, rows: usize) -> VarMap {
    let varmap = VarMap::new();
    let meta = ToyMeta { version: 1, rows };
    ToyTdm::build(
        &meta,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )
    .unwrap();
    let state = HashMap::from([(
        "m.lin.weight".to_string(),
        Tensor::ones((2, rows), DType::F32, &Device::Cpu).unwrap(),
    )]);
    save::<ToyTdm>(path, &varmap, &meta, Some((&state, 7))).unwrap();
    varmap
}

#[test]
fn a_checkpoint_and_its_sidecar_round_trip() {
    let path = dir("round-trip").join("m.safetensors");
    let varmap = saved(&path, 3);
    let loaded = load::<ToyTdm>(&path).unwrap();
    assert_eq!(loaded.meta.rows, 3);
    let want = varmap_tensors(&varmap, &path).unwrap();
    let got = varmap_tensors(&loaded.varmap, &path).unwrap();
    for (name, t) in &want {
        let (a, b) = (t.flatten_all().unwrap(), got[name].flatten_all().unwrap());
        assert_eq!(a.to_vec1::<f32>().unwrap(), b.to_vec1::<f32>().unwrap());
    }
    assert_eq!(load_meta::<ToyTdm>(&path).unwrap().rows, 3);
    assert_eq!(checkpoint_family(&path).unwrap(), "tdm");
    let (state, step) = load_train_state(&path).unwrap();
    assert_eq!((state.len(), step), (1, 7));
}

#[test]
fn another_familys_file_and_a_bad_config_are_refused_by_name() {
    let path = dir("family").join("m.safetensors");
    saved(&path, 3);
    let err = load::<ToyMlp>(&path).err().unwrap().to_string();
    assert!(
        err.contains("m.safetensors") && err.contains("a TDM checkpoint, not an MLP baseline"),
        "{err}"
    );
    let err = load_meta::<ToyMlp>(&path).err().unwrap().to_string();
    assert!(err.contains("not an MLP baseline"), "{err}");
    let wide = path.with_file_name("wide.safetensors");
    saved(&wide, 5);
    let err = load::<ToyTdm>(&wide).err().unwrap().to_string();
    assert!(
        err.contains("wide.safetensors") && err.contains("bad model config: too many rows"),
        "{err}"
    );
}

/// Rewrites the checkpoint at `path` with `edit` applied to its tensors (name -> shape,
/// values) and the same metadata.
fn rewrite(path: &Path, edit: impl FnOnce(&mut HashMap<String, (Vec<usize>, Vec<f32>)>)) {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut tensors: HashMap<String, (Vec<usize>, Vec<f32>)> = st
        .tensors()
        .into_iter()
        .map(|(name, v)| {
            let values = v
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (name, (v.shape().to_vec(), values))
        })
        .collect();
    edit(&mut tensors);
    let owned: Vec<(String, Tensor)> = tensors
        .into_iter()
        .map(|(name, (shape, values))| {
            (name, Tensor::from_vec(values, shape, &Device::Cpu).unwrap())
        })
        .collect();
    let views: Vec<(&str, &Tensor)> = owned.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let out = safetensors::serialize(views, header.metadata().clone()).unwrap();
    std::fs::write(path, out).unwrap();
}

#[test]
fn tensors_the_metadata_does_not_describe_and_non_finite_weights_are_refused_by_name() {
    let path = dir("tensors").join("m.safetensors");
    saved(&path, 3);
    rewrite(&path, |t| {
        t.insert("extra".into(), (vec![1], vec![0.0]));
    });
    let err = load::<ToyTdm>(&path).err().unwrap().to_string();
    assert!(
        err.contains("m.safetensors") && err.contains("unexpected tensor 'extra'"),
        "{err}"
    );
    saved(&path, 3);
    rewrite(&path, |t| {
        t.remove("lin.bias");
    });
    let err = load::<ToyTdm>(&path).err().unwrap().to_string();
    assert!(err.contains("missing tensor 'lin.bias'"), "{err}");
    saved(&path, 3);
    rewrite(&path, |t| {
        t.get_mut("lin.weight").unwrap().1[4] = f32::NAN;
    });
    let err = load::<ToyTdm>(&path).err().unwrap().to_string();
    assert!(
        err.contains("tensor 'lin.weight' holds a non-finite value (NaN at index 4)"),
        "{err}"
    );
    // Nor are non-finite weights ever written.
    let varmap = saved(&path, 3);
    let vars = varmap.all_vars();
    vars[0]
        .set(&(vars[0].as_tensor() * f64::INFINITY).unwrap())
        .unwrap();
    let meta = ToyMeta {
        version: 1,
        rows: 3,
    };
    let err = save::<ToyTdm>(&path, &varmap, &meta, None).err().unwrap();
    assert!(
        err.to_string().contains("holds a non-finite value"),
        "{err}"
    );
    assert!(load::<ToyTdm>(&path).is_ok(), "the old checkpoint stays");
}

#[test]
fn the_training_state_matches_the_checkpoint_whatever_moment_a_save_was_killed() {
    let d = dir("kill");
    let path = d.join("m.safetensors");
    let side = train_state_path(&path);
    let pending = pending_path(&path);
    let copy = |from: &Path, to: &Path| std::fs::copy(from, to).unwrap();
    // Checkpoint and state at step 7, then at step 9 (saved with another state step).
    saved(&path, 3);
    let (c7, s7) = (d.join("c7"), d.join("s7"));
    copy(&path, &c7);
    copy(&side, &s7);
    let varmap = VarMap::new();
    let meta = ToyMeta {
        version: 1,
        rows: 3,
    };
    ToyTdm::build(
        &meta,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )
    .unwrap();
    let state = HashMap::from([(
        "m".to_string(),
        Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap(),
    )]);
    save::<ToyTdm>(&path, &varmap, &meta, Some((&state, 9))).unwrap();
    assert!(!pending.exists());
    let (c9, s9) = (d.join("c9"), d.join("s9"));
    copy(&path, &c9);
    copy(&side, &s9);
    // Killed after the pending state, before the checkpoint: step 7 resumes exactly.
    copy(&c7, &path);
    copy(&s7, &side);
    copy(&s9, &pending);
    assert_eq!(load_train_state(&path).unwrap().1, 7);
    assert!(!pending.exists(), "the unusable pending state is removed");
    // Killed after the checkpoint, before the rename: the pending state is put in place.
    copy(&c9, &path);
    copy(&s7, &side);
    copy(&s9, &pending);
    train_state::remove_orphans(&path);
    assert!(pending.exists(), "a usable pending state is kept");
    assert_eq!(load_train_state(&path).unwrap().1, 9);
    assert!(!pending.exists());
    assert_eq!(load_train_state(&path).unwrap().1, 9);
    // A state of another step with nothing to repair it is refused, naming both steps.
    copy(&s7, &side);
    let err = load_train_state(&path).err().unwrap().to_string();
    assert!(
        err.contains("m.safetensors.train.safetensors")
            && err.contains("training state of step 7, but the checkpoint was written at step 9"),
        "{err}"
    );
    // Orphans: a dead process's temporary file and a pending state with no checkpoint.
    let part = d.join(".m.safetensors.4000000000.part");
    std::fs::write(&part, b"x").unwrap();
    copy(&s9, &pending);
    std::fs::remove_file(&path).unwrap();
    train_state::remove_orphans(&path);
    assert!(!part.exists() && !pending.exists());
}

/// Rewrites the JSON under metadata `key` of the checkpoint at `path` with `edit`, keeping
/// its tensors (a file as a hand-edited or hostile one would be).
pub(crate) fn rewrite_metadata(path: &Path, key: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut metadata = header.metadata().clone().unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&metadata[key]).unwrap();
    edit(&mut json);
    metadata.insert(key.to_string(), json.to_string());
    let views = st.tensors();
    let out = safetensors::serialize(views, Some(metadata)).unwrap();
    std::fs::write(path, out).unwrap();
}
