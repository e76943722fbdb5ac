//! The TDM: the fast decode path equals the candle graph, checkpoints round-trip and reject bad
//! files, training learns and resumes exactly, and the model plans like any other.
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use tdm_workbench::data::{CollectOptions, Dataset, EnvInfo, Episode, Shard, collect};
use tdm_workbench::envs::make_env;
use tdm_workbench::models::tdm::{
    CHECKPOINT_VERSION, CheckpointMeta, KvCache, LossWeights, Scratch, Tdm, TdmConfig, TdmModel,
    TrainOptions, Weights, load, save, train,
};
use tdm_workbench::models::{DynamicsModel, PlanContext};
use tdm_workbench::plan::{NoiseConfig, NoisePolicy, Planner, PlannerConfig};
use tdm_workbench::tokenize::TokenizerConfig;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tdm-model-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tiny() -> TdmConfig {
    TdmConfig::preset("tiny", 3073).unwrap()
}

fn random_model(cfg: TdmConfig) -> (VarMap, Tdm) {
    let varmap = VarMap::new();
    let model = Tdm::new(
        cfg,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )
    .unwrap();
    (varmap, model)
}

fn meta(cfg: TdmConfig, env: &EnvInfo) -> CheckpointMeta {
    CheckpointMeta {
        version: CHECKPOINT_VERSION,
        kind: "tdm".into(),
        model: cfg,
        tokenizer: TokenizerConfig::default(),
        envs: vec![env.clone()],
        loss: LossWeights::default(),
        steps_trained: 0,
        tokens_trained: 0,
        data: vec![],
        held_out_loss: None,
    }
}

fn full_logits(model: &Tdm, tokens: &[u32], positions: &[u32]) -> Vec<Vec<f32>> {
    let t = tokens.len();
    let x = Tensor::from_vec(tokens.to_vec(), (1, t), &Device::Cpu).unwrap();
    let p = Tensor::from_vec(positions.to_vec(), (1, t), &Device::Cpu).unwrap();
    model
        .forward(&x, &p)
        .unwrap()
        .squeeze(0)
        .unwrap()
        .to_vec2()
        .unwrap()
}

#[test]
fn kv_cache_decoding_equals_full_recompute() {
    let cfg = TdmConfig {
        context_tokens: 64,
        ..tiny()
    };
    let (varmap, model) = random_model(cfg);
    let weights = Weights::from_varmap(cfg, &varmap).unwrap();
    let mut x = 7u64;
    let mut next = |m: u32| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) % m as u64) as u32
    };
    let prefix_len = 20;
    let prefix: Vec<u32> = (0..prefix_len).map(|_| next(3073)).collect();
    let prefix_pos: Vec<u32> = (0..prefix_len).map(|i| (i % 8) as u32).collect();
    let mut cache = KvCache::new(cfg.layers);
    let mut s = Scratch::default();
    weights.encode(&mut cache, &prefix, &prefix_pos, &mut s);
    // Two continuations decoded together, 30 tokens each.
    let conts: Vec<Vec<u32>> = (0..2)
        .map(|_| (0..30).map(|_| next(3073)).collect())
        .collect();
    let cpos: Vec<u32> = (0..30).map(|i| ((prefix_len + i) % 8) as u32).collect();
    let mut caches = vec![KvCache::new(cfg.layers); 2];
    let mut out = Vec::new();
    let mut worst = 0f32;
    for t in 0..30 {
        let toks = [conts[0][t], conts[1][t]];
        weights.step(
            &cache,
            &mut caches,
            &toks,
            cpos[t],
            Some(0..3073),
            &mut s,
            &mut out,
        );
        for c in 0..2 {
            let mut all = prefix.clone();
            all.extend_from_slice(&conts[c][..=t]);
            let mut pos = prefix_pos.clone();
            pos.extend_from_slice(&cpos[..=t]);
            let reference = full_logits(&model, &all, &pos);
            let last = reference.last().unwrap();
            for (a, b) in out[c * 3073..(c + 1) * 3073].iter().zip(last) {
                worst = worst.max((a - b).abs());
            }
        }
    }
    assert!(worst < 1e-4, "max |kv - full| = {worst}");
}

#[test]
fn every_parameter_gets_a_gradient() {
    let (varmap, model) = random_model(tiny());
    let t = 24;
    let toks: Vec<u32> = (0..t).map(|i| (i * 131 % 3073) as u32).collect();
    let pos: Vec<u32> = (0..t).map(|i| (i % 6) as u32).collect();
    let x = Tensor::from_vec(toks[..t - 1].to_vec(), (1, t - 1), &Device::Cpu).unwrap();
    let p = Tensor::from_vec(pos[..t - 1].to_vec(), (1, t - 1), &Device::Cpu).unwrap();
    let y = Tensor::from_vec(toks[1..].to_vec(), (1, t - 1), &Device::Cpu).unwrap();
    let w = Tensor::ones((1, t - 1), DType::F32, &Device::Cpu).unwrap();
    let grads = model.loss(&x, &p, &y, &w).unwrap().backward().unwrap();
    for (name, var) in varmap.data().lock().unwrap().iter() {
        let g = grads
            .get(var.as_tensor())
            .unwrap_or_else(|| panic!("{name}: no gradient"));
        let norm = g
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        // Embedding rows of unused tokens stay zero, but every tensor as a whole must move.
        assert!(norm > 0.0, "{name}: zero gradient");
    }
}

fn cartpole_info() -> EnvInfo {
    EnvInfo::from_spec(make_env("cartpole-swingup").unwrap().spec())
}

#[test]
fn checkpoints_round_trip_and_bad_ones_are_refused() {
    let dir = tmp("ckpt");
    let cfg = tiny();
    let (varmap, model) = random_model(cfg);
    let path = dir.join("m.safetensors");
    save(&path, &varmap, &meta(cfg, &cartpole_info()), None).unwrap();
    let loaded = load(&path).unwrap();
    let toks = [3072u32, 5, 9, 1030, 2100, 3072, 7];
    let pos = [0u32, 1, 2, 3, 4, 0, 1];
    assert_eq!(
        full_logits(&model, &toks, &pos),
        full_logits(&loaded.model, &toks, &pos)
    );
    assert_eq!(loaded.meta.envs[0].name, "cartpole-swingup");

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
        &good[..good.len() / 2],
        "not a valid safetensors",
    );
    check(
        "garbage.safetensors",
        b"definitely not tensors",
        "not a valid safetensors",
    );

    // Missing and mis-shaped tensors, a future version: rewrite the file with changes.
    let rewrite = |drop: Option<&str>, reshape: Option<&str>, version: u32| -> Vec<u8> {
        let st = safetensors::SafeTensors::deserialize(&good).unwrap();
        let (_, header) = safetensors::SafeTensors::read_metadata(&good).unwrap();
        let mut md = header.metadata().clone().unwrap();
        let mut m: serde_json::Value = serde_json::from_str(&md["tdm"]).unwrap();
        m["version"] = version.into();
        md.insert("tdm".into(), m.to_string());
        let owned: Vec<(String, Vec<usize>, Vec<u8>)> = st
            .tensors()
            .into_iter()
            .filter(|(n, _)| Some(n.as_str()) != drop)
            .map(|(n, v)| {
                let mut shape = v.shape().to_vec();
                let mut data = v.data().to_vec();
                if Some(n.as_str()) == reshape {
                    shape = vec![shape.iter().product::<usize>() / 2, 2];
                    data.truncate(shape.iter().product::<usize>() * 4);
                }
                (n, shape, data)
            })
            .collect();
        let views: Vec<_> = owned
            .iter()
            .map(|(n, s, d)| {
                (
                    n.clone(),
                    safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), d)
                        .unwrap(),
                )
            })
            .collect();
        safetensors::serialize(views, Some(md)).unwrap()
    };
    check(
        "missing.safetensors",
        &rewrite(Some("blocks.1.fc1.weight"), None, CHECKPOINT_VERSION),
        "missing tensor 'blocks.1.fc1.weight'",
    );
    check(
        "misshaped.safetensors",
        &rewrite(None, Some("head.bias"), CHECKPOINT_VERSION),
        "tensor 'head.bias' has shape",
    );
    check(
        "future.safetensors",
        &rewrite(None, None, CHECKPOINT_VERSION + 1),
        "newer than this build reads",
    );

    // A scene whose sizes the checkpoint does not know.
    let walker = make_env("walker-walk").unwrap();
    let err = TdmModel::load(&path, walker.spec())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("m.safetensors") && err.contains("cartpole-swingup") && err.contains("24 obs"),
        "{err}"
    );
    // The good file is still there, untouched.
    assert_eq!(std::fs::read(&path).unwrap(), good);

    // A generalist (trained on several sizes) takes a scene of a new size, zero-shot.
    let mut generalist = meta(cfg, &cartpole_info());
    generalist
        .envs
        .push(EnvInfo::from_spec(make_env("walker-stand").unwrap().spec()));
    let gpath = dir.join("generalist.safetensors");
    save(&gpath, &varmap, &generalist, None).unwrap();
    let humanoid = make_env("humanoid-stand").unwrap();
    assert!(TdmModel::load(&gpath, humanoid.spec()).is_ok());
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

fn options(steps: u64) -> TrainOptions {
    TrainOptions {
        model: tiny(),
        tokenizer: Default::default(),
        steps,
        batch: 8,
        lr: 3e-3,
        warmup: 10,
        clip: 1.0,
        adamw: Default::default(),
        held_out: 0.0,
        loss: LossWeights::default(),
        seed: 1,
        eval_every: 0,
        save_every: 0,
    }
}

#[test]
fn a_tiny_model_overfits_a_tiny_dataset() {
    let dir = tmp("overfit");
    let data = dir.join("data");
    tiny_dataset(&data, 1, 12);
    let out = dir.join("m.safetensors");
    let mut first = None;
    let summary = train(
        &options(300),
        &[data],
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
    assert!(first > 3.0, "initial loss {first}");
    assert!(
        summary.final_loss < 0.3,
        "final loss {} (from {first})",
        summary.final_loss
    );
}

#[test]
fn with_soft_targets_a_tiny_model_still_learns_the_right_bins() {
    let dir = tmp("smoothing");
    let data = dir.join("data");
    tiny_dataset(&data, 1, 12);
    let out = dir.join("m.safetensors");
    let opts = TrainOptions {
        loss: LossWeights {
            smoothing_bins: 1.0,
            ..LossWeights::default()
        },
        eval_every: 300,
        held_out: 0.0,
        ..options(300)
    };
    let summary = train(
        &opts,
        &[data],
        &out,
        false,
        None,
        &AtomicBool::new(false),
        |_| {},
    )
    .unwrap();
    // The soft target's own entropy (a Gaussian of one bin, cut at 3 sigma) is ~1.42 nats: the
    // training loss cannot go below it, and gets near it when the model has learned the bins.
    assert!(
        summary.final_loss > 1.35 && summary.final_loss < 1.8,
        "final loss {}",
        summary.final_loss
    );
    let loaded = load(&out).unwrap();
    assert_eq!(loaded.meta.loss.smoothing_bins, 1.0);
}

#[test]
fn resume_continues_exactly() {
    let dir = tmp("resume");
    let data = dir.join("data");
    tiny_dataset(&data, 2, 20);
    let straight = dir.join("straight.safetensors");
    let stop = AtomicBool::new(false);
    train(
        &options(16),
        std::slice::from_ref(&data),
        &straight,
        false,
        None,
        &stop,
        |_| {},
    )
    .unwrap();
    let split = dir.join("split.safetensors");
    train(
        &options(8),
        std::slice::from_ref(&data),
        &split,
        false,
        None,
        &stop,
        |_| {},
    )
    .unwrap();
    train(
        &options(16),
        std::slice::from_ref(&data),
        &split,
        true,
        None,
        &stop,
        |_| {},
    )
    .unwrap();
    let a = load(&straight).unwrap();
    let b = load(&split).unwrap();
    assert_eq!(a.meta.steps_trained, 16);
    assert_eq!(b.meta.steps_trained, 16);
    let toks = [3072u32, 5, 9, 1030, 2100];
    let pos = [0u32, 1, 2, 3, 4];
    assert_eq!(
        full_logits(&a.model, &toks, &pos),
        full_logits(&b.model, &toks, &pos)
    );
}

#[test]
fn a_tdm_imagines_k_candidates() {
    let dir = tmp("imagine");
    let cfg = tiny();
    let (varmap, _) = random_model(cfg);
    let path = dir.join("m.safetensors");
    save(&path, &varmap, &meta(cfg, &cartpole_info()), None).unwrap();
    let mut env = make_env("cartpole-swingup").unwrap();
    let mut model = TdmModel::load(&path, env.spec()).unwrap();
    let obs = env.reset(0).unwrap();
    let mut history = Episode::new(&obs, 1);
    for _ in 0..5 {
        let s = env.step(&[0.3]).unwrap();
        history.push(&[0.3], s.reward, &s.observation);
    }
    let ctx = PlanContext {
        history: &history,
        state: None,
    };
    let actions: Vec<f64> = (0..6 * 4).map(|i| (i as f64 * 0.1).sin()).collect();
    let out = model.imagine(&ctx, &actions, 6, 4).unwrap();
    assert_eq!(out.observations.len(), 6 * 4 * 5);
    assert_eq!(out.rewards.as_ref().unwrap().len(), 24);
    assert!(out.observations.iter().all(|x| x.is_finite()));
    // Same inputs, same imagination (the default decoding is deterministic), for any thread count.
    model.threads = 1;
    let one = model.imagine(&ctx, &actions, 6, 4).unwrap();
    model.threads = 3;
    let three = model.imagine(&ctx, &actions, 6, 4).unwrap();
    assert_eq!(one.observations, three.observations);
    assert_eq!(one.observations, out.observations);
}

#[test]
fn the_bc_view_proposes_actions_the_dynamics_view_then_reproduces() {
    let dir = tmp("propose");
    let cfg = tiny();
    let (varmap, _) = random_model(cfg);
    let plain = dir.join("plain.safetensors");
    save(&plain, &varmap, &meta(cfg, &cartpole_info()), None).unwrap();
    let with_bc = dir.join("bc.safetensors");
    let mut bc_meta = meta(cfg, &cartpole_info());
    bc_meta.loss.actions = 1.0;
    save(&with_bc, &varmap, &bc_meta, None).unwrap();

    let mut env = make_env("cartpole-swingup").unwrap();
    let obs = env.reset(0).unwrap();
    let mut history = Episode::new(&obs, 1);
    for _ in 0..3 {
        let s = env.step(&[-0.2]).unwrap();
        history.push(&[-0.2], s.reward, &s.observation);
    }
    let ctx = PlanContext {
        history: &history,
        state: None,
    };
    let (k, n) = (6, 4);
    let proposed = [false, true, true, false, true, true];
    let forced: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.3).cos()).collect();
    let mut noise = forced.clone();
    for c in [1, 2, 4, 5] {
        noise[c * n..(c + 1) * n].fill(0.0);
    }

    // A TDM trained without action tokens has no policy.
    let mut model = TdmModel::load(&plain, env.spec()).unwrap();
    assert!(!model.proposes_actions());
    let err = model
        .imagine_proposed(&ctx, &mut noise.clone(), &proposed, k, n)
        .unwrap_err()
        .to_string();
    assert!(err.contains("bc-weight"), "{err}");

    let mut model = TdmModel::load(&with_bc, env.spec()).unwrap();
    assert!(model.proposes_actions());
    let mut actions = noise.clone();
    let out = model
        .imagine_proposed(&ctx, &mut actions, &proposed, k, n)
        .unwrap();
    // Forced candidates keep their actions; proposed ones (zero noise) all take the policy's
    // deterministic mean, so they agree with each other.
    for c in [0, 3] {
        assert_eq!(actions[c * n..(c + 1) * n], forced[c * n..(c + 1) * n]);
    }
    for c in [2, 4, 5] {
        assert_eq!(actions[c * n..(c + 1) * n], actions[n..2 * n]);
        assert_eq!(out.observation(c, n - 1), out.observation(1, n - 1));
    }
    assert!(actions.iter().all(|a| (-1.0..=1.0).contains(a)));
    // Forcing the proposed actions reproduces the same imagination.
    let replay = model.imagine(&ctx, &actions, k, n).unwrap();
    assert_eq!(replay.observations, out.observations);
    assert_eq!(replay.rewards, out.rewards);

    // Noise is added to the policy's mean, then clipped.
    let mut shifted = noise.clone();
    shifted[n] = 0.25;
    model
        .imagine_proposed(&ctx, &mut shifted, &proposed, k, n)
        .unwrap();
    assert!((shifted[n] - (actions[n] + 0.25).clamp(-1.0, 1.0)).abs() < 1e-12);

    // The planner proposes the last round(mix K) candidates, and refuses a model with no policy.
    let mut planner = Planner::new(PlannerConfig {
        candidates: 8,
        horizon_steps: 3,
        proposal_mix: 0.5,
        ..PlannerConfig::default()
    });
    let task = env.task();
    let plan = planner.plan(&mut model, task.as_ref(), &ctx).unwrap();
    assert_eq!(plan.proposed, 4);
    let mut no_policy = TdmModel::load(&plain, env.spec()).unwrap();
    let err = planner
        .plan(&mut no_policy, task.as_ref(), &ctx)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no policy"), "{err}");
}

#[test]
fn a_new_model_takes_its_tokenizer_from_the_options_and_keeps_it() {
    let dir = tmp("tokenizer");
    let data = dir.join("data");
    tiny_dataset(&data, 1, 10);
    let finer = TokenizerConfig {
        bins: 2048,
        mu: 20.0,
        m: 32.0,
        ..TokenizerConfig::default()
    };
    let stop = AtomicBool::new(false);
    let out = dir.join("m.safetensors");
    // The model's vocabulary must be the tokenizer's.
    let mismatched = TrainOptions {
        tokenizer: finer,
        ..options(2)
    };
    let err = train(
        &mismatched,
        std::slice::from_ref(&data),
        &out,
        false,
        None,
        &stop,
        |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("6145 tokens") && err.contains("3073"), "{err}");
    assert!(!out.exists());
    let mut model = TdmConfig::preset("tiny", 3 * 2048 + 1).unwrap();
    model.context_tokens = 32;
    let opts = TrainOptions {
        model,
        tokenizer: finer,
        ..options(2)
    };
    train(
        &opts,
        std::slice::from_ref(&data),
        &out,
        false,
        None,
        &stop,
        |_| {},
    )
    .unwrap();
    assert_eq!(load(&out).unwrap().meta.tokenizer, finer);
    // Fine-tuning keeps the checkpoint's tokenizer whatever the options say.
    let tuned = dir.join("tuned.safetensors");
    train(
        &options(1),
        &[data],
        &tuned,
        false,
        Some(&out),
        &stop,
        |_| {},
    )
    .unwrap();
    assert_eq!(load(&tuned).unwrap().meta.tokenizer, finer);
    let env = make_env("cartpole-swingup").unwrap();
    assert!(TdmModel::load(&tuned, env.spec()).is_ok());
}
