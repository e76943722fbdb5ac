//! Datasets: append, resume, shards and merge, and clear errors for bad files with nothing lost.
use std::path::{Path, PathBuf};
use tdm_workbench::data::{CollectOptions, Dataset, EnvInfo, Episode, Shard, collect, merge};
use tdm_workbench::envs::make_env;
use tdm_workbench::plan::{NoiseConfig, NoisePolicy};

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tdm-data-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn brownian_collect(dir: &Path, episodes: usize, shard: Shard, steps: usize) -> Dataset {
    let mut env = make_env("cartpole-swingup").unwrap();
    let spec = env.spec().clone();
    let mut policy = NoisePolicy::new(NoiseConfig::default(), 1, steps);
    let desc = serde_json::json!({"kind": "brownian", "variance": 2.0, "max_steps": steps});
    let mut ds =
        Dataset::create_or_resume(dir, EnvInfo::from_spec(&spec), desc, 7, shard.label()).unwrap();
    collect(
        env.as_mut(),
        &mut policy,
        &mut ds,
        &CollectOptions {
            episodes,
            shard,
            max_steps: steps,
        },
        |_| {},
    )
    .unwrap();
    ds
}

#[test]
fn collect_resume_and_reopen() {
    let dir = fresh_dir("resume");
    let ds = brownian_collect(&dir, 2, Shard::WHOLE, 30);
    assert_eq!(ds.meta().episode_count, 2);
    let first = std::fs::read(dir.join("episode_000000.safetensors")).unwrap();
    // Asking for 4 continues with episodes 2 and 3, leaving 0 and 1 untouched.
    let ds = brownian_collect(&dir, 4, Shard::WHOLE, 30);
    assert_eq!(ds.meta().episode_count, 4);
    assert_eq!(ds.meta().step_count, 120);
    assert_eq!(
        std::fs::read(dir.join("episode_000000.safetensors")).unwrap(),
        first
    );
    let reopened = Dataset::open(&dir).unwrap();
    let eps = reopened.episodes().unwrap();
    assert_eq!(eps.len(), 4);
    assert_eq!(eps[3].len(), 30);
    assert_eq!(eps[3].observations.len(), 31 * 5);
    // Episode 1 was seeded 7 + 1, deterministic.
    let again = brownian_collect(&fresh_dir("resume-again"), 2, Shard::WHOLE, 30);
    assert_eq!(again.episodes().unwrap()[1], eps[1]);
}

#[test]
fn shards_merge_into_the_same_dataset_as_one_run() {
    let whole = brownian_collect(&fresh_dir("whole"), 5, Shard::WHOLE, 20);
    let a = fresh_dir("shard0");
    let b = fresh_dir("shard1");
    brownian_collect(&a, 5, Shard::parse("0/2").unwrap(), 20);
    brownian_collect(&b, 5, Shard::parse("1/2").unwrap(), 20);
    let out = fresh_dir("merged");
    let merged = merge(&[a.clone(), b.clone()], &out).unwrap();
    assert_eq!(merged.meta().episode_count, 5);
    assert_eq!(merged.episodes().unwrap(), whole.episodes().unwrap());
    // Merging into an existing dataset is refused.
    let err = merge(&[a, b], &out).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[test]
fn bad_files_get_clear_errors_and_nothing_is_overwritten() {
    let dir = fresh_dir("bad");
    brownian_collect(&dir, 2, Shard::WHOLE, 10);
    let meta_before = std::fs::read(dir.join("meta.json")).unwrap();

    // A truncated episode file.
    let ep1 = dir.join("episode_000001.safetensors");
    let good = std::fs::read(&ep1).unwrap();
    std::fs::write(&ep1, &good[..good.len() / 2]).unwrap();
    let err = Dataset::open(&dir).unwrap_err().to_string();
    assert!(
        err.contains("episode_000001.safetensors") && err.contains("not a valid safetensors"),
        "{err}"
    );
    std::fs::write(&ep1, &good).unwrap();

    // meta.json that disagrees with the arrays.
    let text = String::from_utf8(meta_before.clone()).unwrap();
    let lying = text.replacen("\"steps\": 10", "\"steps\": 12", 1).replacen(
        "\"step_count\": 20",
        "\"step_count\": 22",
        1,
    );
    std::fs::write(dir.join("meta.json"), &lying).unwrap();
    let err = Dataset::open(&dir).unwrap_err().to_string();
    assert!(
        err.contains("episode_000000.safetensors") && err.contains("disagrees with meta.json"),
        "{err}"
    );
    // Counts that disagree with the list.
    let miscounted = text.replacen("\"episode_count\": 2", "\"episode_count\": 3", 1);
    std::fs::write(dir.join("meta.json"), &miscounted).unwrap();
    let err = Dataset::open(&dir).unwrap_err().to_string();
    assert!(
        err.contains("meta.json") && err.contains("counts disagree"),
        "{err}"
    );
    std::fs::write(dir.join("meta.json"), &meta_before).unwrap();

    // Resuming with another environment or policy is refused without touching the dataset.
    let walker = make_env("walker-stand").unwrap();
    let err = Dataset::create_or_resume(
        &dir,
        EnvInfo::from_spec(walker.spec()),
        serde_json::json!({"kind": "zero"}),
        7,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("meta.json") && err.contains("cartpole-swingup"),
        "{err}"
    );
    assert_eq!(std::fs::read(dir.join("meta.json")).unwrap(), meta_before);
    assert_eq!(std::fs::read(&ep1).unwrap(), good);

    // A bad shard spec.
    assert!(
        Shard::parse("3/2")
            .unwrap_err()
            .to_string()
            .contains("'3/2'")
    );

    // An episode of the wrong size is refused.
    let mut ds = Dataset::open(&dir).unwrap();
    let bad = Episode::new(&[0.0; 3], 1);
    assert!(ds.append(5, 12, &bad).is_err());
    assert_eq!(std::fs::read(dir.join("meta.json")).unwrap(), meta_before);
}

#[test]
fn python_layout_is_plain_safetensors() {
    // Names, dtypes and shapes a numpy user relies on.
    let dir = fresh_dir("layout");
    brownian_collect(&dir, 1, Shard::WHOLE, 8);
    let bytes = std::fs::read(dir.join("episode_000000.safetensors")).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    assert_eq!(header["observations"]["dtype"], "F32");
    assert_eq!(header["observations"]["shape"], serde_json::json!([9, 5]));
    assert_eq!(header["actions"]["shape"], serde_json::json!([8, 1]));
    assert_eq!(header["rewards"]["shape"], serde_json::json!([8]));
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["env"]["name"], "cartpole-swingup");
    assert_eq!(meta["episodes"][0]["file"], "episode_000000.safetensors");
}
