//! The MLP baselines: every variant learns a tiny dataset, training resumes exactly, checkpoints
//! round-trip and bad ones are refused with the file's name, one-step predictions chain into
//! the K x N imagination the planner uses, and the model files are told apart from TDMs.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use tdm_workbench::data::{CollectOptions, Dataset, EnvInfo, Episode, Shard, collect};
use tdm_workbench::envs::make_env;
use tdm_workbench::models::mlp::{MlpModel, MlpTrainOptions, MlpVariant, load, train_mlp};
use tdm_workbench::models::{LearnedModel, PlanContext, checkpoint_family};
use tdm_workbench::plan::{NoiseConfig, NoisePolicy};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tdm-mlp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tiny_dataset(dir: &Path, episodes: usize, steps: usize) {
    let mut env = make_env("cartpole-swingup").unwrap();
    let spec = env.spec().clone();
    let mut policy = NoisePolicy::new(NoiseConfig::default(), 1, steps);
    let mut ds = Dataset::create_or_resume(
        dir,
        EnvInfo::from_spec(&spec),
        serde_json::json!({"kind": "brownian"}),
        0,
        None,
    )
    .unwrap();
    collect(
        env.as_mut(),
        &mut policy,
        &mut ds,
        &CollectOptions {
            episodes,
            shard: Shard::WHOLE,
            max_steps: steps,
        },
        |_| {},
    )
    .unwrap();
}

fn options(variant: MlpVariant, steps: u64) -> MlpTrainOptions {
    MlpTrainOptions {
        preset: "tiny".into(),
        variant,
        steps,
        batch: 32,
        lr: 3e-3,
        warmup: 10,
        clip: 1.0,
        adamw: Default::default(),
        held_out: 0.0,
        seed: 1,
        eval_every: 0,
        save_every: 0,
    }
}

/// A checkpoint in `dir` after 5 steps on 20 Brownian transitions.
fn briefly_trained(dir: &Path, variant: MlpVariant) -> PathBuf {
    let data = dir.join("data");
    tiny_dataset(&data, 1, 20);
    let path = dir.join("m.safetensors");
    train_mlp(
        &options(variant, 5),
        &[data],
        &path,
        false,
        None,
        &AtomicBool::new(false),
        |_| {},
    )
    .unwrap();
    path
}

fn history(steps: usize) -> Episode {
    let mut env = make_env("cartpole-swingup").unwrap();
    let obs = env.reset(3).unwrap();
    let mut h = Episode::new(&obs, 1);
    for i in 0..steps {
        let a = [(i as f64 * 0.7).sin()];
        let s = env.step(&a).unwrap();
        h.push(&a, s.reward, &s.observation);
    }
    h
}

#[test]
fn every_variant_learns_a_tiny_dataset() {
    let dir = tmp("overfit");
    let data = dir.join("data");
    tiny_dataset(&data, 1, 40);
    for variant in MlpVariant::ALL {
        let out = dir.join(format!("{}.safetensors", variant.name()));
        let mut first = None;
        let summary = train_mlp(
            &options(variant, 400),
            std::slice::from_ref(&data),
            &out,
            false,
            None,
            &AtomicBool::new(false),
            |p| {
                first.get_or_insert(p.loss);
            },
        )
        .unwrap();
        let first = first.unwrap();
        // Standardised targets: a fresh model scores about 1.
        assert!(first > 0.5, "{}: initial loss {first}", variant.name());
        assert!(
            summary.final_loss < 0.05 * first,
            "{}: final loss {} (from {first})",
            variant.name(),
            summary.final_loss
        );
        assert_eq!(checkpoint_family(&out).unwrap(), "mlp");
    }
}

#[test]
fn resume_continues_exactly_and_checkpoints_round_trip() {
    let dir = tmp("resume");
    let data = dir.join("data");
    tiny_dataset(&data, 2, 30);
    let stop = AtomicBool::new(false);
    let variant = MlpVariant::TokenizedDelta;
    let run = |out: &Path, steps: u64, resume: bool| {
        train_mlp(
            &options(variant, steps),
            std::slice::from_ref(&data),
            out,
            resume,
            None,
            &stop,
            |_| {},
        )
        .unwrap()
    };
    let straight = dir.join("straight.safetensors");
    run(&straight, 20, false);
    let split = dir.join("split.safetensors");
    run(&split, 10, false);
    run(&split, 20, true);
    let env = make_env("cartpole-swingup").unwrap();
    let a = MlpModel::load(&straight, env.spec()).unwrap();
    let b = MlpModel::load(&split, env.spec()).unwrap();
    assert_eq!(a.meta().steps_trained, 20);
    assert_eq!(b.meta().steps_trained, 20);
    let obs = [0.1, -0.9, 0.2, 0.5, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0];
    let act = [0.4, -0.7];
    let pa = a.predict(&obs, &act).unwrap();
    assert_eq!(pa, b.predict(&obs, &act).unwrap());
    // Load again: identical predictions.
    let again = MlpModel::load(&straight, env.spec()).unwrap();
    assert_eq!(pa, again.predict(&obs, &act).unwrap());
}

#[test]
fn a_stopped_run_saves_and_resumes_exactly() {
    let dir = tmp("stop");
    let data = dir.join("data");
    tiny_dataset(&data, 2, 30);
    let opts = MlpTrainOptions {
        held_out: 0.5,
        eval_every: 4,
        ..options(MlpVariant::Plain, 12)
    };
    let straight = dir.join("straight.safetensors");
    let whole = train_mlp(
        &opts,
        std::slice::from_ref(&data),
        &straight,
        false,
        None,
        &AtomicBool::new(false),
        |_| {},
    )
    .unwrap();
    assert!(whole.held_out_loss.is_some());
    // Stopped (as by Ctrl-C) after step 5: it saves and says so.
    let split = dir.join("split.safetensors");
    let stop = AtomicBool::new(false);
    let part = train_mlp(
        &opts,
        std::slice::from_ref(&data),
        &split,
        false,
        None,
        &stop,
        |p| {
            if p.step == 5 {
                stop.store(true, Ordering::Relaxed);
            }
        },
    )
    .unwrap();
    assert!(part.stopped_early && part.steps == 5, "{part:?}");
    let mut first = None;
    let rest = train_mlp(
        &opts,
        std::slice::from_ref(&data),
        &split,
        true,
        None,
        &AtomicBool::new(false),
        |p| {
            first.get_or_insert(p.first_step);
        },
    )
    .unwrap();
    assert_eq!(first, Some(5));
    assert!(!rest.stopped_early && rest.steps == 12);
    assert_eq!(rest.tokens, whole.tokens);
    assert_eq!(rest.held_out_loss, whole.held_out_loss);
    let env = make_env("cartpole-swingup").unwrap();
    let a = MlpModel::load(&straight, env.spec()).unwrap();
    let b = MlpModel::load(&split, env.spec()).unwrap();
    let (obs, act) = ([0.1, -0.9, 0.2, 0.5, -1.0], [0.4]);
    assert_eq!(
        a.predict(&obs, &act).unwrap(),
        b.predict(&obs, &act).unwrap()
    );
}

#[test]
fn bad_checkpoints_are_refused_with_the_file_name() {
    let dir = tmp("bad");
    let path = briefly_trained(&dir, MlpVariant::Delta);
    let good = std::fs::read(&path).unwrap();
    let check = |name: &str, bytes: &[u8], expect: &str| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        let err = load(&p)
            .err()
            .unwrap_or_else(|| panic!("{name} loaded"))
            .to_string();
        assert!(err.contains(name) && err.contains(expect), "{name}: {err}");
    };
    check(
        "truncated.safetensors",
        &good[..good.len() - 7],
        "not a valid safetensors",
    );
    let rewrite = |edit: &dyn Fn(&mut serde_json::Value), drop: Option<&str>| -> Vec<u8> {
        let st = safetensors::SafeTensors::deserialize(&good).unwrap();
        let (_, header) = safetensors::SafeTensors::read_metadata(&good).unwrap();
        let mut md = header.metadata().clone().unwrap();
        let mut m: serde_json::Value = serde_json::from_str(&md["mlp"]).unwrap();
        edit(&mut m);
        md.insert("mlp".into(), m.to_string());
        let views: Vec<_> = st
            .tensors()
            .into_iter()
            .filter(|(n, _)| Some(n.as_str()) != drop)
            .collect();
        safetensors::serialize(views, Some(md)).unwrap()
    };
    check(
        "future.safetensors",
        &rewrite(&|m| m["version"] = 99.into(), None),
        "newer than this build reads",
    );
    check(
        "missing.safetensors",
        &rewrite(&|_| {}, Some("out.weight")),
        "missing tensor 'out.weight'",
    );
    check(
        "wider.safetensors",
        &rewrite(&|m| m["model"]["hidden"] = 33.into(), None),
        "has shape",
    );
    check(
        "badnorm.safetensors",
        &rewrite(&|m| m["normalization"]["target_std"][0] = 0.0.into(), None),
        "non-positive deviation",
    );
    // Another scene's sizes.
    let walker = make_env("walker-walk").unwrap();
    let err = MlpModel::load(&path, walker.spec())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("m.safetensors") && err.contains("cartpole-swingup"),
        "{err}"
    );
    // The good file is untouched.
    assert_eq!(std::fs::read(&path).unwrap(), good);
}

#[test]
fn an_mlp_imagines_k_candidates_by_chaining_one_step_predictions() {
    let dir = tmp("imagine");
    let path = briefly_trained(&dir, MlpVariant::TokenizedDelta);
    let env = make_env("cartpole-swingup").unwrap();
    let mut learned = LearnedModel::load(&path, env.spec()).unwrap();
    assert!(matches!(learned, LearnedModel::Mlp(_)));
    let model = learned.as_dyn();
    assert!(model.name().starts_with("mlp-tokenized-delta"));
    let h = history(6);
    let ctx = PlanContext {
        history: &h,
        state: None,
    };
    let (k, n) = (5, 4);
    let actions: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.3).cos()).collect();
    let out = model.imagine(&ctx, &actions, k, n).unwrap();
    assert_eq!(out.observations.len(), k * n * 5);
    assert!(out.failures.iter().all(|f| f.is_none()));
    // Candidate 2's rollout equals chaining `predict` by hand from o_t.
    let LearnedModel::Mlp(mlp) = &learned else {
        unreachable!()
    };
    let mut o: Vec<f64> = h.observation(h.len()).iter().map(|&x| x as f64).collect();
    for t in 0..n {
        let (next, r) = mlp.predict(&o, &[actions[2 * n + t]]).unwrap();
        let got = &out.observations[(2 * n + t) * 5..(2 * n + t + 1) * 5];
        assert_eq!(next.as_slice(), got, "step {t}");
        assert_eq!(r[0], out.rewards.as_ref().unwrap()[2 * n + t]);
        o = next;
    }
}
