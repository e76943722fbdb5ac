//! The zero-shot and few-shot experiment pipelines end to end at toy scale: sharded collection,
//! training, evaluation, the reports, resuming, and refusing a changed setup.
use std::sync::atomic::AtomicBool;
use tdm_workbench::data::{Dataset, Shard};
use tdm_workbench::experiment::ExperimentError;
use tdm_workbench::experiment::few_shot::{FewShot, FewShotConfig, Learner, StepsPerM};
use tdm_workbench::experiment::zero_shot::{ZeroShot, ZeroShotConfig, ZeroShotReport};

fn toy() -> ZeroShotConfig {
    ZeroShotConfig {
        family: "chain".into(),
        dof_min: 4,
        dof_max: 4,
        train_walkers: 2,
        held_out_walkers: 1,
        seed: 7,
        episodes_per_walker: 1,
        random_episodes_per_walker: 0,
        episode_steps: 12,
        samples: 4,
        horizon: 3,
        prompt_steps: 3,
        eval_episodes: 1,
        preset: "tiny".into(),
        context_tokens: 64,
        train_steps: 4,
        batch: 2,
        lr: 1e-3,
    }
}

#[test]
fn the_zero_shot_pipeline_runs_stage_by_stage_and_resumes() {
    let dir = std::env::temp_dir().join(format!("tdm-zero-shot-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let exp = ZeroShot::open(&dir, toy()).unwrap();

    // Another setup in the same folder is refused, naming what differs.
    let other = ZeroShotConfig {
        train_walkers: 3,
        ..toy()
    };
    let err = ZeroShot::open(&dir, other)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("experiment.json") && err.contains("train_walkers"),
        "{err}"
    );

    // Training needs every walker's data.
    let mut log = Vec::new();
    let err = exp.train(&AtomicBool::new(false), |_| {}).unwrap_err();
    assert!(matches!(err, ExperimentError::NotReady(_)), "{err}");

    // Shard 0 of 2 collects walker 0 only; shard 1 the other.
    let walkers = exp.config.train_set();
    assert_eq!(walkers.len(), 2);
    assert!(
        walkers
            .iter()
            .all(|w| w.dof == 4 && w.name.starts_with("walker:chain:4:"))
    );
    exp.collect(Shard { index: 0, count: 2 }, &mut |l| {
        log.push(l.to_string())
    })
    .unwrap();
    assert!(Dataset::open(&exp.dataset_dir(0, &walkers[0])).is_ok());
    assert!(Dataset::open(&exp.dataset_dir(1, &walkers[1])).is_err());
    exp.collect(Shard { index: 1, count: 2 }, &mut |l| {
        log.push(l.to_string())
    })
    .unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    // A finished walker is not collected again.
    exp.collect(Shard::WHOLE, &mut |l| log.push(l.to_string()))
        .unwrap();
    assert_eq!(log.len(), 2, "{log:?}");

    // Evaluation needs the trained model.
    let err = exp
        .evaluate(Shard::WHOLE, &mut |l| log.push(l.to_string()))
        .unwrap_err();
    assert!(matches!(err, ExperimentError::NotReady(_)), "{err}");
    let run = exp.train(&AtomicBool::new(false), |_| {}).unwrap().unwrap();
    assert_eq!(run.steps_total, 4);
    assert_eq!(run.tokens_this_run, 4 * 2 * 64);
    assert!(exp.checkpoint().exists());
    // Trained already: a rerun trains nothing and records no run.
    assert!(
        exp.train(&AtomicBool::new(false), |_| {})
            .unwrap()
            .is_none()
    );

    exp.evaluate(Shard::WHOLE, &mut |l| log.push(l.to_string()))
        .unwrap();
    assert_eq!(log.len(), 5, "three agents on one walker: {log:?}");
    let report: ZeroShotReport = exp.report().unwrap();
    assert_eq!(report.walkers_complete, 1);
    assert!(report.missing.is_empty());
    let row = &report.rows[0];
    assert!(row.walker.ends_with(":1000007"), "{row:?}");
    assert!(row.ground_truth > 0.0, "{row:?}");
    assert!(
        row.tdm_fraction.is_finite() && row.bc_fraction.is_finite(),
        "{row:?}"
    );
    assert_eq!(report.train_runs.len(), 1);
    // One line per held-out walker: returns to 3 decimals, fractions to 4.
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    assert_eq!(
        csv,
        format!(
            "walker,dof,ground_truth,tdm,bc,tdm_fraction,bc_fraction\n{},{},{:.3},{:.3},{:.3},{:.4},{:.4}\n",
            row.walker,
            row.dof,
            row.ground_truth,
            row.tdm,
            row.bc,
            row.tdm_fraction,
            row.bc_fraction
        )
    );
    assert!(dir.join("results.png").exists());

    // Evaluated pairs are kept: a rerun does nothing.
    exp.evaluate(Shard::WHOLE, &mut |l| log.push(l.to_string()))
        .unwrap();
    assert_eq!(log.len(), 5);

    // Few-shot on the held-out walker, from this experiment's generalist.
    let few_dir = dir.join("few-shot");
    let few = |target: usize| FewShotConfig {
        zero_shot_dir: dir.clone(),
        target,
        episodes: vec![2, 1],
        finetune_steps: StepsPerM::Same(2),
        // One count per M, given in the order of `episodes`.
        scratch_steps: StepsPerM::Each(vec![3, 2]),
        mlp_steps: 4,
        eval_episodes: 1,
        holdout_episodes: 1,
    };
    let mismatched = FewShotConfig {
        scratch_steps: StepsPerM::Each(vec![3]),
        ..few(0)
    };
    let err = FewShot::open(&few_dir, mismatched)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("scratch_steps has 1 values for 2"), "{err}");
    let err = FewShot::open(&few_dir, few(5))
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("held-out"), "{err}");
    let fs = FewShot::open(&few_dir, few(0)).unwrap();
    assert_eq!(fs.target, exp.config.held_out_set()[0]);
    assert_eq!(fs.config.episodes, vec![1, 2]);
    assert_eq!(fs.config.scratch_steps, StepsPerM::Each(vec![2, 3]));
    let mut flog = Vec::new();
    fs.collect(&mut |l| flog.push(l.to_string())).unwrap();
    fs.train(
        &AtomicBool::new(false),
        &mut |l| flog.push(l.to_string()),
        |_| {},
    )
    .unwrap();
    assert!(fs.model_path(Learner::FineTuned, 1).exists());
    let scratch_steps = |m: usize| {
        let done: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(
                fs.model_path(Learner::Scratch, m)
                    .with_extension("done.json"),
            )
            .unwrap(),
        )
        .unwrap();
        done["steps"].as_u64()
    };
    assert_eq!((scratch_steps(1), scratch_steps(2)), (Some(2), Some(3)));
    fs.evaluate(&mut |l| flog.push(l.to_string())).unwrap();
    let r = fs.report().unwrap();
    assert!(r.ground_truth.is_some() && r.zero_shot.is_some(), "{r:?}");
    assert_eq!(r.rows.len(), 6, "{r:?}");
    // Every TDM has a finite loss on the held-out target episode; the MLP has none.
    for row in &r.rows {
        let is_mlp = row.learner == Learner::Mlp.name();
        assert_eq!(row.target_loss.is_none(), is_mlp, "{row:?}");
        assert!(
            row.target_loss.is_none_or(|l| l.is_finite() && l > 0.0),
            "{row:?}"
        );
    }
    assert!(r.zero_shot_loss.is_some_and(f32::is_finite), "{r:?}");
    assert!(few_dir.join("results.png").exists());
    assert!(few_dir.join("results-loss.png").exists());
    let csv = std::fs::read_to_string(few_dir.join("results.csv")).unwrap();
    assert!(
        csv.starts_with("learner,episodes,return,low,high,target_loss\n"),
        "{csv}"
    );
    // The references first (M = 0; ground truth has no loss), then one line per model.
    let gt = r.ground_truth.unwrap();
    assert_eq!(
        csv.lines().nth(1),
        Some(
            format!(
                "ground-truth,0,{:.3},{:.3},{:.3},",
                gt.mean, gt.low, gt.high
            )
            .as_str()
        ),
        "{csv}"
    );
    let first_row = &r.rows[0];
    assert!(
        csv.contains(&format!(
            "\n{},{},{:.3},{:.3},{:.3},{:.4}\n",
            first_row.learner,
            first_row.episodes,
            first_row.return_ci68.mean,
            first_row.return_ci68.low,
            first_row.return_ci68.high,
            first_row.target_loss.unwrap()
        )),
        "{csv}"
    );

    // Asking for more evaluation episodes keeps the models and extends the evaluations: the
    // first episode's return is the one measured before.
    let first = r.rows[0].return_ci68.mean;
    let fs = FewShot::open(
        &few_dir,
        FewShotConfig {
            eval_episodes: 2,
            ..few(0)
        },
    )
    .unwrap();
    let before = flog.len();
    fs.evaluate(&mut |l| flog.push(l.to_string())).unwrap();
    // No loss is computed again; every model plans one more episode.
    assert_eq!(flog.len() - before, 8, "{:?}", &flog[before..]);
    let eval: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(few_dir.join("eval/generalist-fine-tuned-m001.json")).unwrap(),
    )
    .unwrap();
    let after = eval["returns_after_prompt"].as_array().unwrap();
    assert_eq!(after.len(), 2);
    assert_eq!(after[0].as_f64(), Some(first));
    // Asking for fewer reports the first ones; a smaller held-out set is refused.
    let fewer = FewShot::open(&few_dir, few(0)).unwrap();
    assert_eq!(fewer.report().unwrap().rows[0].return_ci68.mean, first);
    let err = FewShot::open(
        &few_dir,
        FewShotConfig {
            holdout_episodes: 0,
            ..few(0)
        },
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(err.contains("held-out set has 1 episodes"), "{err}");
    // Finished models are not trained again.
    let before = flog.len();
    fs.train(
        &AtomicBool::new(false),
        &mut |l| flog.push(l.to_string()),
        |_| {},
    )
    .unwrap();
    assert_eq!(flog.len(), before);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_setup_that_cannot_work_is_refused_before_any_work() {
    let dir = std::env::temp_dir().join(format!("tdm-zero-shot-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let refused = |c: ZeroShotConfig| ZeroShot::open(&dir, c).err().expect("refused").to_string();
    // One training walker is one size; held-out walkers of another size would be refused later.
    let err = refused(ZeroShotConfig {
        dof_max: 5,
        train_walkers: 1,
        held_out_walkers: 4,
        ..toy()
    });
    assert!(err.contains("every training walker has"), "{err}");
    let err = refused(ZeroShotConfig {
        preset: "huge".into(),
        ..toy()
    });
    assert!(err.contains("huge"), "{err}");
    let err = refused(ZeroShotConfig {
        dof_max: 40,
        ..toy()
    });
    assert!(err.contains("dof"), "{err}");
    let err = refused(ZeroShotConfig {
        seed: u64::MAX - 3,
        ..toy()
    });
    assert!(err.contains("seed"), "{err}");
    assert!(!dir.join("experiment.json").exists(), "nothing was written");
}

#[test]
fn brownian_episodes_join_the_expert_data_and_old_setups_still_open() {
    let dir = std::env::temp_dir().join(format!("tdm-zero-shot-rand-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = ZeroShotConfig {
        train_walkers: 1,
        random_episodes_per_walker: 2,
        ..toy()
    };
    let exp = ZeroShot::open(&dir, config.clone()).unwrap();
    let mut log = Vec::new();
    exp.collect(Shard::WHOLE, &mut |l| log.push(l.to_string()))
        .unwrap();
    let w = &exp.config.train_set()[0];
    let random = Dataset::open(&exp.random_dataset_dir(0, w)).unwrap();
    assert_eq!(random.meta().episode_count, 2);
    assert!(
        random.meta().policy.to_string().contains("brownian"),
        "{}",
        random.meta().policy
    );
    assert_eq!(
        exp.datasets().unwrap(),
        vec![exp.dataset_dir(0, w), exp.random_dataset_dir(0, w)]
    );
    assert!(
        log.iter().any(|l| l.contains("2 Brownian episodes")),
        "{log:?}"
    );
    // A rerun collects nothing more.
    log.clear();
    exp.collect(Shard::WHOLE, &mut |l| log.push(l.to_string()))
        .unwrap();
    assert!(log.is_empty(), "{log:?}");

    // A setup written before the option existed reads as expert-only.
    let mut json = serde_json::to_value(toy()).unwrap();
    json.as_object_mut()
        .unwrap()
        .remove("random_episodes_per_walker");
    let old: ZeroShotConfig = serde_json::from_value(json).unwrap();
    assert_eq!(old, toy());
    let _ = std::fs::remove_dir_all(&dir);
}
