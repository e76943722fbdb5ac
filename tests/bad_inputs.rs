//! A generated corpus of bad inputs: valid checkpoints, datasets, walker trees, presets and MJCF
//! files, mutated at random (truncated, bytes flipped, JSON fields changed or removed, numbers
//! made zero, negative, huge or non-finite) and fed to the loaders in-process. Every load must
//! return `Ok` or `Err`, never panic, and an error from a loader that takes a path names it.
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use tdm_workbench::data::{Dataset, Episode};
use tdm_workbench::envs::walkers::{self, Family, KinematicTree};
use tdm_workbench::envs::{EnvSpec, make_task};
use tdm_workbench::models::{LearnedModel, PlanContext, mlp, tdm};
use tdm_workbench::session::presets::Preset;
use tdm_workbench::sim::{Sim, SimModel};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const TDM_FILE: &str = "assets/models/cartpole-swingup-small.safetensors";
const MLP_FILE: &str = "assets/models/cartpole-swingup-mlp-tokenized-delta.safetensors";
const DATASET: &str = "assets/datasets/cartpole-swingup-brownian";
const DATASET_EPISODES: usize = 2;

/// A fresh scratch folder for one case, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("tdm-bad-inputs-{}-{what}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `n` cases, or `PROPTEST_CASES` when set (to search longer than CI does).
fn cases(n: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(ROOT).join(rel)).unwrap()
}

fn cartpole_spec() -> EnvSpec {
    make_task("cartpole-swingup").unwrap().spec().clone()
}

/// What replaces a JSON value: the kinds of wrong a file can hold.
const REPLACEMENTS: usize = 15;

fn replacement(kind: usize) -> Option<Value> {
    let v = match kind % REPLACEMENTS {
        0 => serde_json::json!(0),
        1 => serde_json::json!(-1),
        2 => serde_json::json!(1e30),
        3 => serde_json::json!(u64::MAX),
        4 => serde_json::json!(1_000_000_000u64),
        5 => serde_json::json!("NaN"),
        6 => serde_json::json!("inf"),
        7 => Value::Null,
        8 => serde_json::json!(-1e300),
        9 => serde_json::json!(4_294_967_297u64),
        10 => serde_json::json!(0.5),
        11 => serde_json::json!([]),
        12 => serde_json::json!("../../outside"),
        _ => return None, // the value is removed
    };
    Some(v)
}

/// JSON pointers to every value in `v`, parents before children.
fn value_paths(v: &Value, at: &str, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match v {
        Value::Object(map) => map
            .iter()
            .map(|(k, c)| (k.replace('~', "~0").replace('/', "~1"), c))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, c)| (i.to_string(), c))
            .collect(),
        _ => return,
    };
    for (key, child) in children {
        let path = format!("{at}/{key}");
        out.push(path.clone());
        value_paths(child, &path, out);
    }
}

/// Replaces or removes the value at `path` (see [`replacement`]); the last kind cuts an array
/// to its first item.
fn edit_at(root: &mut Value, path: &str, kind: usize) {
    if kind % REPLACEMENTS == REPLACEMENTS - 1 {
        if let Some(Value::Array(items)) = root.pointer_mut(path) {
            items.truncate(1);
        }
        return;
    }
    let new = replacement(kind);
    let (parent, key) = path.rsplit_once('/').unwrap();
    let key = key.replace("~1", "/").replace("~0", "~");
    match (root.pointer_mut(parent), new) {
        (Some(Value::Object(map)), Some(v)) => drop(map.insert(key, v)),
        (Some(Value::Object(map)), None) => drop(map.remove(&key)),
        (Some(Value::Array(items)), Some(v)) => items[key.parse::<usize>().unwrap()] = v,
        (Some(Value::Array(items)), None) => drop(items.remove(key.parse().unwrap())),
        _ => unreachable!("paths come from value_paths"),
    }
}

/// A JSON mutation: each pick `(field, kind)` edits one field (see [`edit_at`]).
fn mutate_json(v: &mut Value, picks: &[(usize, usize)]) {
    for &(pick, kind) in picks {
        let mut paths = Vec::new();
        value_paths(v, "", &mut paths);
        if paths.is_empty() {
            return;
        }
        edit_at(v, &paths[pick % paths.len()], kind);
    }
}

fn json_picks() -> impl Strategy<Value = Vec<(usize, usize)>> {
    prop::collection::vec((any::<usize>(), 0..REPLACEMENTS), 1..4)
}

/// A byte-level mutation of a file.
#[derive(Clone, Debug)]
enum Bytes {
    /// Cut at this fraction of the length (in 1/65536ths).
    Truncate(u16),
    /// (position, xor mask); the position is taken modulo `window` bytes from the start
    /// (0: the whole file), so the header is hit as often as the data.
    Flip(Vec<(usize, u8)>, usize),
}

fn bytes_mutation() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        any::<u16>().prop_map(Bytes::Truncate),
        (
            prop::collection::vec((any::<usize>(), 1u8..=255), 1..8),
            prop::sample::select(vec![0usize, 64, 4096])
        )
            .prop_map(|(f, w)| Bytes::Flip(f, w)),
    ]
}

fn apply_bytes(bytes: &mut Vec<u8>, m: &Bytes) {
    match m {
        Bytes::Truncate(frac) => {
            let len = bytes.len() * *frac as usize / 65536;
            bytes.truncate(len);
        }
        Bytes::Flip(flips, window) => {
            let span = match *window {
                0 => bytes.len(),
                w => w.min(bytes.len()),
            };
            for &(pos, mask) in flips {
                if span > 0 {
                    bytes[pos % span] ^= mask;
                }
            }
        }
    }
}

/// Rewrites the family's JSON metadata of a safetensors checkpoint.
fn rewrite_checkpoint_meta(bytes: &[u8], picks: &[(usize, usize)]) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let meta = header["__metadata__"].as_object_mut().unwrap();
    let key = if meta.contains_key("tdm") {
        "tdm"
    } else {
        "mlp"
    };
    let mut inner: Value = serde_json::from_str(meta[key].as_str().unwrap()).unwrap();
    mutate_json(&mut inner, picks);
    meta.insert(key.to_string(), Value::String(inner.to_string()));
    let text = header.to_string();
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&bytes[8 + n..]);
    out
}

#[derive(Clone, Debug)]
enum CheckpointMutation {
    Bytes(Bytes),
    Meta(Vec<(usize, usize)>),
}

fn checkpoint_mutation() -> impl Strategy<Value = CheckpointMutation> {
    prop_oneof![
        bytes_mutation().prop_map(CheckpointMutation::Bytes),
        json_picks().prop_map(CheckpointMutation::Meta),
    ]
}

fn names(err: &dyn std::fmt::Display, path: &Path) -> Result<(), TestCaseError> {
    let text = err.to_string();
    prop_assert!(
        text.contains(&path.display().to_string()),
        "the error does not name {}: {text}",
        path.display()
    );
    Ok(())
}

/// Loads `path` with every loader the command line uses; each `Err` must name the file.
fn load_checkpoint(path: &Path, spec: &EnvSpec) -> Result<(), TestCaseError> {
    let start = std::time::Instant::now();
    match LearnedModel::load(path, spec) {
        // A file that loads is also planned with: two candidates, two steps.
        Ok(mut model) => {
            let mut history = Episode::new(&[0.1, 1.0, 0.0, 0.0, 0.0], 1);
            history.push(&[0.5], 0.2, &[0.1, 0.99, 0.1, 0.1, 0.3]);
            let ctx = PlanContext {
                history: &history,
                state: None,
            };
            let _ = model.as_dyn().imagine(&ctx, &[0.5, -0.5, 1.0, 0.0], 2, 2);
        }
        Err(e) => names(&e, path)?,
    }
    if let Err(e) = tdm::load(path) {
        names(&e, path)?;
    }
    if let Err(e) = tdm::load_meta(path) {
        names(&e, path)?;
    }
    if let Err(e) = mlp::load(path) {
        names(&e, path)?;
    }
    let took = start.elapsed();
    if took.as_secs_f64() > 1.0 {
        eprintln!("slow checkpoint case: {took:?} for {}", path.display());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    #[test]
    fn mutated_checkpoints_load_or_fail(which in 0..2usize, m in checkpoint_mutation()) {
        let original = read(if which == 0 { TDM_FILE } else { MLP_FILE });
        let bytes = match &m {
            CheckpointMutation::Bytes(b) => {
                let mut bytes = original;
                apply_bytes(&mut bytes, b);
                bytes
            }
            CheckpointMutation::Meta(picks) => rewrite_checkpoint_meta(&original, picks),
        };
        let scratch = Scratch::new("ckpt");
        let path = scratch.0.join("model.safetensors");
        std::fs::write(&path, &bytes).unwrap();
        load_checkpoint(&path, &cartpole_spec())?;
    }
}

/// A small valid dataset: the first episodes of the bundled Brownian cartpole set.
fn write_dataset(dir: &Path) -> Value {
    let src = Path::new(ROOT).join(DATASET);
    let mut meta: Value =
        serde_json::from_slice(&std::fs::read(src.join("meta.json")).unwrap()).unwrap();
    let episodes = meta["episodes"].as_array_mut().unwrap();
    episodes.truncate(DATASET_EPISODES);
    let mut steps = 0;
    for e in episodes.iter() {
        let file = e["file"].as_str().unwrap();
        std::fs::copy(src.join(file), dir.join(file)).unwrap();
        steps += e["steps"].as_u64().unwrap();
    }
    meta["episode_count"] = serde_json::json!(DATASET_EPISODES);
    meta["step_count"] = serde_json::json!(steps);
    meta
}

#[derive(Clone, Debug)]
enum DatasetMutation {
    Meta(Vec<(usize, usize)>),
    /// Duplicates (true) or removes (false) an episode entry.
    Entry(usize, bool),
    /// Points an entry's file at a path outside the folder.
    File(usize, usize),
    Episode(usize, Bytes),
}

fn dataset_mutation() -> impl Strategy<Value = DatasetMutation> {
    prop_oneof![
        json_picks().prop_map(DatasetMutation::Meta),
        (any::<usize>(), any::<bool>()).prop_map(|(i, d)| DatasetMutation::Entry(i, d)),
        (any::<usize>(), 0..4usize).prop_map(|(i, k)| DatasetMutation::File(i, k)),
        (any::<usize>(), bytes_mutation()).prop_map(|(i, b)| DatasetMutation::Episode(i, b)),
    ]
}

#[test]
fn the_base_dataset_opens() {
    let scratch = Scratch::new("data-base");
    let meta = write_dataset(&scratch.0);
    std::fs::write(scratch.0.join("meta.json"), meta.to_string()).unwrap();
    let ds = Dataset::open(&scratch.0).unwrap();
    assert_eq!(ds.episodes().unwrap().len(), DATASET_EPISODES);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    #[test]
    fn mutated_datasets_open_or_fail(m in dataset_mutation()) {
        let scratch = Scratch::new("data");
        let dir = &scratch.0;
        let mut meta = write_dataset(dir);
        let files: Vec<String> = meta["episodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["file"].as_str().unwrap().to_string())
            .collect();
        match &m {
            DatasetMutation::Meta(picks) => mutate_json(&mut meta, picks),
            DatasetMutation::Entry(i, duplicate) => {
                let episodes = meta["episodes"].as_array_mut().unwrap();
                let i = i % episodes.len();
                if *duplicate {
                    let e = episodes[i].clone();
                    episodes.push(e);
                } else {
                    episodes.remove(i);
                }
            }
            DatasetMutation::File(i, kind) => {
                let outside = match kind {
                    0 => "../episode_000000.safetensors".to_string(),
                    1 => "/etc/passwd".to_string(),
                    2 => dir.join(&files[0]).display().to_string(),
                    _ => String::new(),
                };
                meta["episodes"][i % files.len()]["file"] = Value::String(outside);
            }
            DatasetMutation::Episode(i, b) => {
                let path = dir.join(&files[i % files.len()]);
                let mut bytes = std::fs::read(&path).unwrap();
                apply_bytes(&mut bytes, b);
                std::fs::write(&path, bytes).unwrap();
            }
        }
        std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
        if let Err(e) = Dataset::check(dir) {
            names(&e, dir)?;
        }
        match Dataset::open(dir) {
            Ok(ds) => {
                for entry in &ds.meta().episodes {
                    let _ = ds.load(entry);
                }
                let _ = ds.episodes();
            }
            Err(e) => names(&e, dir)?,
        }
    }
}

#[derive(Clone, Debug)]
enum TreeMutation {
    Json(Vec<(usize, usize)>),
    Bytes(Vec<(usize, u8)>),
}

fn tree_mutation() -> impl Strategy<Value = TreeMutation> {
    prop_oneof![
        json_picks().prop_map(TreeMutation::Json),
        prop::collection::vec((any::<usize>(), 1u8..=255), 1..6).prop_map(TreeMutation::Bytes),
    ]
}

/// Steps a compiled model a little with zero controls, stopping at the first error.
fn step_a_little(model: SimModel) {
    let ctrl = vec![0.0; model.nu()];
    let mut sim = Sim::new(model);
    for _ in 0..5 {
        if sim.step(&ctrl, 2).is_err() {
            break;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(128)))]

    #[test]
    fn mutated_walker_trees_load_or_fail(
        family in 0..4usize,
        dof in 4..=12usize,
        seed in 0..1000u64,
        m in tree_mutation(),
    ) {
        let tree = walkers::generate(Family::ALL[family], dof, seed);
        let text = match &m {
            TreeMutation::Json(picks) => {
                let mut v: Value = serde_json::from_str(&tree.to_json()).unwrap();
                mutate_json(&mut v, picks);
                v.to_string()
            }
            TreeMutation::Bytes(flips) => {
                let mut bytes = tree.to_json().into_bytes();
                apply_bytes(&mut bytes, &Bytes::Flip(flips.clone(), 0));
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        let path = Path::new("mutated-walker.json");
        match KinematicTree::from_json(&text, path) {
            Ok(tree) => {
                let _ = tree.ascii();
                let _ = walkers::check_family_rule(&tree, Family::ALL[family]);
                let xml = walkers::to_mjcf(&tree, "mutated");
                if let Ok(model) = SimModel::from_xml_str(&xml, "mutated-walker.xml") {
                    step_a_little(model);
                }
            }
            Err(e) => names(&e, path)?,
        }
    }
}

fn preset_files() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(Path::new(ROOT).join("presets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(128)))]

    #[test]
    fn mutated_presets_parse_or_fail(which in any::<usize>(), picks in json_picks()) {
        let files = preset_files();
        let file = &files[which % files.len()];
        let mut v: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        mutate_json(&mut v, &picks);
        let path = Path::new("mutated-preset.json");
        if let Err(e) = Preset::from_json(&v.to_string(), path) {
            names(&e, path)?;
        }
    }
}

const MJCF_FILES: [&str; 3] = [
    "assets/mjcf/cartpole.xml",
    "assets/mjcf/walker.xml",
    "assets/mjcf/humanoid.xml",
];

const BAD_NUMBERS: [&str; 8] = ["0", "-1", "1e30", "-1e30", "nan", "inf", "-inf", "1e-30"];

/// Byte ranges of every attribute value (between the quotes of `="..."`).
fn attribute_values(xml: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = xml[from..].find("=\"") {
        let start = from + i + 2;
        let Some(len) = xml[start..].find('"') else {
            break;
        };
        out.push((start, start + len));
        from = start + len + 1;
    }
    out
}

/// `xml` with numbers in the chosen attribute values replaced by bad ones: a pick
/// `(attribute, kind)` replaces every number of the value when `kind / 8` is even, otherwise
/// only the `kind / 16`-th (so a range can come out inverted).
fn replace_numbers(xml: &str, picks: &[(usize, usize)]) -> String {
    let values = attribute_values(xml);
    let mut chosen: Vec<_> = picks
        .iter()
        .map(|&(i, k)| (values[i % values.len()], k))
        .collect();
    chosen.sort();
    chosen.dedup_by_key(|c| c.0.0);
    let mut out = String::with_capacity(xml.len());
    let mut at = 0;
    for ((a, b), kind) in chosen {
        out.push_str(&xml[at..a]);
        let bad = BAD_NUMBERS[kind % BAD_NUMBERS.len()];
        let tokens: Vec<&str> = xml[a..b].split_whitespace().collect();
        let only = (kind / 8 % 2 == 1).then(|| kind / 16 % tokens.len().max(1));
        let tokens: Vec<&str> = tokens
            .iter()
            .enumerate()
            .map(|(j, &t)| match t.parse::<f64>() {
                Ok(_) if only.is_none_or(|o| o == j) => bad,
                _ => t,
            })
            .collect();
        out.push_str(&tokens.join(" "));
        at = b;
    }
    out.push_str(&xml[at..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(128)))]

    #[test]
    fn mutated_mjcf_compiles_or_fails(
        which in 0..MJCF_FILES.len(),
        picks in prop::collection::vec((any::<usize>(), any::<usize>()), 1..4),
        cut in prop::option::weighted(0.25, any::<u16>()),
    ) {
        let xml = String::from_utf8(read(MJCF_FILES[which])).unwrap();
        let mut text = replace_numbers(&xml, &picks);
        if let Some(cut) = cut {
            let mut at = text.len() * cut as usize / 65536;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.truncate(at);
        }
        let label = "mutated.xml";
        match SimModel::from_xml_str(&text, label) {
            Ok(model) => step_a_little(model),
            Err(e) => names(&e, Path::new(label))?,
        }
    }
}
