//! The dataset validator: each kind of bad dataset is refused by `Dataset::open` (so by
//! training) and listed by `Dataset::check`, naming the file and the problem.
use serde_json::Value;
use std::path::{Path, PathBuf};
use tdm_workbench::data::{Dataset, EnvInfo, Episode};
use tdm_workbench::envs::make_env;

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tdm-checks-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn episode(steps: usize, first: f64) -> Episode {
    let mut e = Episode::new(&[first, 0.0, 1.0, 0.0, 0.0], 1);
    for t in 0..steps {
        e.push(
            &[0.5],
            0.25 * t as f64,
            &[first + t as f64, 0.0, 1.0, 0.0, 0.0],
        );
    }
    e
}

/// A good two-episode cartpole dataset in a fresh folder.
fn good_dataset(name: &str) -> PathBuf {
    let dir = fresh_dir(name);
    let spec = make_env("cartpole-swingup").unwrap().spec().clone();
    let mut ds = Dataset::create_or_resume(
        &dir,
        EnvInfo::from_spec(&spec),
        serde_json::json!({"kind": "test"}),
        0,
        None,
    )
    .unwrap();
    ds.append(0, 0, &episode(3, 0.0)).unwrap();
    ds.append(1, 1, &episode(4, 1.0)).unwrap();
    dir
}

fn edit_meta(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let path = dir.join("meta.json");
    let mut meta: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut meta);
    std::fs::write(&path, serde_json::to_string_pretty(&meta).unwrap()).unwrap();
}

/// The check lists a problem in `file` saying `what`, and opening fails with the first problem.
fn refused(dir: &Path, file: &str, what: &str) {
    let err = Dataset::open(dir)
        .expect_err("a bad dataset was opened")
        .to_string();
    let check = Dataset::check(dir).unwrap();
    assert!(err.starts_with(&check.problems[0].to_string()), "{err}");
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.to_string().contains(file) && p.message.contains(what)),
        "{:?}",
        check.problems
    );
}

#[test]
fn a_good_dataset_has_no_problems() {
    let dir = good_dataset("good");
    let check = Dataset::check(&dir).unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    assert_eq!(check.steps, 7);
    assert_eq!(check.returns, vec![0.75, 1.5]);
    assert!(Dataset::open(&dir).is_ok());
}

#[test]
fn non_finite_values_are_refused() {
    let dir = good_dataset("nan");
    let mut bad = episode(3, 0.0);
    bad.observations[7] = f32::NAN;
    std::fs::write(
        dir.join("episode_000000.safetensors"),
        bad.to_safetensors().unwrap(),
    )
    .unwrap();
    refused(
        &dir,
        "episode_000000.safetensors",
        "observations row 1 holds a non-finite value",
    );
    // Nor is such an episode written in the first place.
    let mut ds = Dataset::open(&good_dataset("nan-append")).unwrap();
    let err = ds.append(2, 2, &bad).unwrap_err().to_string();
    assert!(
        err.contains("episode_000002.safetensors") && err.contains("non-finite"),
        "{err}"
    );
}

#[test]
fn zero_step_episodes_and_wrong_returns_are_refused() {
    let dir = good_dataset("empty");
    std::fs::write(
        dir.join("episode_000001.safetensors"),
        episode(0, 1.0).to_safetensors().unwrap(),
    )
    .unwrap();
    edit_meta(&dir, |m| {
        m["episodes"][1]["steps"] = 0.into();
        m["step_count"] = 3.into();
    });
    refused(&dir, "episode_000001.safetensors", "has no steps");
    let mut ds = Dataset::open(&good_dataset("empty-append")).unwrap();
    let err = ds.append(2, 2, &episode(0, 0.0)).unwrap_err().to_string();
    assert!(err.contains("has no steps"), "{err}");

    let dir = good_dataset("return");
    edit_meta(&dir, |m| m["episodes"][0]["return"] = 900.0.into());
    refused(
        &dir,
        "episode_000000.safetensors",
        "lists return 900 for this episode, its rewards sum to 0.75",
    );
    let check = Dataset::check(&dir).unwrap();
    // Returns are counted from the episodes that pass, never taken from meta.json.
    assert_eq!(check.returns, vec![1.5]);
}

#[test]
fn duplicated_entries_are_refused() {
    let dir = good_dataset("dup");
    edit_meta(&dir, |m| {
        let first = m["episodes"][0].clone();
        m["episodes"].as_array_mut().unwrap().push(first);
        m["episode_count"] = 3.into();
        m["step_count"] = 10.into();
    });
    refused(
        &dir,
        "meta.json",
        "episode index 0 is listed more than once",
    );
    refused(
        &dir,
        "meta.json",
        "'episode_000000.safetensors' is listed more than once",
    );
}

#[test]
fn paths_outside_the_folder_are_refused() {
    let dir = good_dataset("paths");
    let outside = fresh_dir("outside.safetensors");
    std::fs::write(&outside, episode(3, 0.0).to_safetensors().unwrap()).unwrap();
    for file in [
        outside.display().to_string(),
        format!("../{}", outside.file_name().unwrap().to_string_lossy()),
        "sub/episode_000000.safetensors".to_string(),
    ] {
        edit_meta(&dir, |m| m["episodes"][0]["file"] = file.clone().into());
        refused(
            &dir,
            "meta.json",
            "is not a plain file name inside the dataset folder",
        );
    }
}

#[test]
fn labels_and_timing_that_contradict_the_episodes_are_refused() {
    let dir = good_dataset("labels");
    edit_meta(&dir, |m| {
        m["env"]["observation_labels"].as_array_mut().unwrap().pop();
    });
    refused(
        &dir,
        "meta.json",
        "4 observation labels for observation_size 5",
    );

    let dir = good_dataset("dt");
    edit_meta(&dir, |m| m["env"]["control_dt_secs"] = 0.5.into());
    refused(
        &dir,
        "meta.json",
        "'cartpole-swingup' steps every 0.01 s, meta.json says control_dt_secs 0.5",
    );
    edit_meta(&dir, |m| m["env"]["control_dt_secs"] = (-1.0).into());
    refused(
        &dir,
        "meta.json",
        "control_dt_secs -1 is not a positive number",
    );

    // Sizes that both meta.json and the episode files agree on, but not the named environment.
    let dir = good_dataset("name");
    edit_meta(&dir, |m| m["env"]["name"] = "walker-walk".into());
    refused(
        &dir,
        "meta.json",
        "'walker-walk' has 24 obs / 6 act, meta.json says 5 / 1",
    );

    // Sizes in meta.json that the episode files contradict.
    let dir = good_dataset("sizes");
    edit_meta(&dir, |m| {
        m["env"]["name"] = "mjcf:nowhere.xml".into();
        m["env"]["observation_size"] = 4.into();
        m["env"]["observation_labels"].as_array_mut().unwrap().pop();
    });
    refused(
        &dir,
        "episode_000000.safetensors",
        "disagrees with meta.json",
    );
}

#[test]
fn listed_step_counts_that_overflow_their_total_are_refused() {
    let dir = good_dataset("overflow");
    edit_meta(&dir, |m| {
        m["episodes"][0]["steps"] = serde_json::json!(u64::MAX)
    });
    refused(&dir, "meta.json", "counts disagree");
    std::fs::remove_dir_all(&dir).unwrap();
}
