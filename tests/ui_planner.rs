//! The planner in the headless window: ground-truth and learned models (bundled TDM and MLP,
//! tiny TDMs trained here) planning through the panel, drawn trails, live knobs, refused
//! checkpoints, and a frame time that stays low while a plan is in flight.
mod ui_harness;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tdm_workbench::envs::walkers::Family;
use tdm_workbench::ui::{Command, WorkbenchApp};
use ui_harness::{harness, snapshot};

/// Steps the harness until `done` holds (worker threads answer asynchronously).
fn run_until(
    h: &mut Harness<'static, WorkbenchApp>,
    what: &str,
    done: impl Fn(&WorkbenchApp) -> bool,
) {
    for _ in 0..600 {
        h.step();
        if done(h.state()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

fn bundled_checkpoint() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/models/cartpole-swingup-small.safetensors")
}

#[test]
fn ground_truth_k8_draws_8_candidates_and_k16_live_draws_16() {
    let mut h = harness("cartpole-swingup");
    h.get_by_label("Planner").click();
    h.run_steps(2);
    {
        let agent = &mut h.state_mut().scene_mut().agent;
        agent.settings.config.candidates = 8;
        agent.settings.config.horizon_steps = 100;
    }
    h.get_by_label("Step agent").click();
    h.run_steps(3);
    let app = h.state();
    assert_eq!(app.scene().steps_taken(), 1);
    let list = app.draw_list();
    assert_eq!(list.count_line_groups("imagined "), 8);
    assert_eq!(list.count_line_groups("real "), 8);
    assert_eq!(list.count_line_groups("chosen"), 1);
    // The prediction-error plot has one point per horizon step after one plan.
    let (median, _) = tdm_workbench::ui::plots::error_series(app.scene()).expect("errors");
    assert_eq!(median.len(), 100);
    // Ground truth imagines exactly what happens.
    assert!(median.iter().all(|p| p[1] < 1e-9), "{median:?}");
    // ... so it ranks its candidates exactly as their replays earn.
    let tally = app.scene().agent.ranking_tally;
    assert_eq!(tally.plans, 1, "{tally:?}");
    let (spearman, regret) = tally.means().expect("one replayed plan");
    assert!((spearman - 1.0).abs() < 1e-9, "{tally:?}");
    assert!(regret.is_some_and(|g| g.abs() < 1e-9), "{tally:?}");
    snapshot(&mut h, "planner_ground_truth_k8");

    // Hovering the end of a trail names its candidate: score, rank among the 8.
    let app = h.state();
    let rect = app.viewport().rect;
    let outcome = app.scene().agent.last.clone().expect("a plan");
    let tip = *outcome.inspection.imagined_trails[0].last().unwrap();
    let at = app
        .view()
        .camera
        .project(glam::Vec3::from(tip), rect.width(), rect.height())
        .expect("the trail is in view");
    h.hover_at(rect.min + egui::vec2(at[0], at[1]));
    h.run_steps(2);
    h.get_by_label_contains("of 8");

    // K changed live: the next plan has 16 candidates, no restart.
    h.state_mut().scene_mut().agent.settings.config.candidates = 16;
    h.get_by_label("Step agent").click();
    h.run_steps(3);
    assert_eq!(h.state().draw_list().count_line_groups("imagined "), 16);
    assert_eq!(h.state().scene().steps_taken(), 2);
}

#[test]
fn the_planner_method_set_in_the_panel_applies_to_the_next_plan() {
    use tdm_workbench::plan::PlannerMethod;
    let mut h = harness("cartpole-swingup");
    h.get_by_label("Planner").click();
    h.run_steps(2);
    {
        let config = &mut h.state_mut().scene_mut().agent.settings.config;
        config.candidates = 6;
        config.horizon_steps = 20;
        config.method = PlannerMethod::Mppi {
            temperature: 1.0,
            iterations: 2,
        };
    }
    h.run_steps(1);
    // The chosen method's knobs are shown (the slider and its text), another's are not.
    assert!(h.query_all_by_label("temperature λ").count() > 0);
    assert!(h.query_by_label("elites").is_none());
    h.get_by_label("Step agent").click();
    h.run_steps(3);
    let app = h.state();
    let plan = &app.scene().agent.last.as_ref().expect("a plan").plan;
    // Two rounds of 6 and the weighted mean, which is the chosen one.
    assert_eq!(plan.evaluations, 13);
    assert_eq!((plan.candidates(), plan.best), (7, 6));
    let list = app.draw_list();
    assert_eq!(list.count_line_groups("imagined "), 7);
    assert_eq!(list.count_line_groups("chosen"), 1);

    // Switched live to CEM: K candidates of the last of its rounds.
    h.state_mut().scene_mut().agent.settings.config.method = PlannerMethod::Cem {
        iterations: 3,
        elites: 2,
        smoothing: 0.1,
    };
    h.get_by_label("Step agent").click();
    h.run_steps(3);
    let plan = &h.state().scene().agent.last.as_ref().expect("a plan").plan;
    assert_eq!((plan.candidates(), plan.evaluations), (6, 18));
    assert_eq!(plan.round_best_scores.len(), 3);
    assert!(h.query_all_by_label("elites").count() > 0);
    assert!(h.query_by_label("temperature λ").is_none());
}

#[test]
fn a_truncated_checkpoint_is_refused_and_the_model_stays() {
    let dir = std::env::temp_dir().join(format!("tdm-ui-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(bundled_checkpoint()).unwrap();
    let truncated = dir.join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let mut h = harness("cartpole-swingup");
    let before = h.state().scene().agent.model.clone();
    h.state_mut().submit(Command::LoadCheckpoint(truncated));
    run_until(&mut h, "the loader", |a| !a.scene().loading_model());
    h.run_steps(2);
    let app = h.state();
    assert_eq!(app.scene().agent.model, before);
    let msg = &app.toasts().last().expect("an error is shown").message;
    assert!(msg.contains("truncated.safetensors"), "{msg}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_window_stays_responsive_while_a_tdm_plans() {
    let mut h = harness("cartpole-swingup");
    h.state_mut()
        .submit(Command::LoadCheckpoint(bundled_checkpoint()));
    run_until(&mut h, "the bundled TDM", |a| a.scene().agent.model.is_tdm);
    {
        let app = h.state_mut();
        app.scene_mut()
            .set_policy(tdm_workbench::ui::PolicyKind::Mpc);
        let c = &mut app.scene_mut().agent.settings.config;
        // Small enough for the unoptimised test build; the frame-time claim does not depend on it.
        c.candidates = 32;
        c.horizon_steps = 10;
        app.scene_mut().playing = true;
    }
    let (mut frames_in_flight, mut worst) = (0, 0.0f64);
    let started = std::time::Instant::now();
    while started.elapsed().as_secs() < 60 {
        h.step();
        let app = h.state();
        if app.scene().waiting_for_plan() {
            frames_in_flight += 1;
            worst = worst.max(app.last_frame_secs);
        }
        // In real time the agent steps (with zero action) before its first plan arrives.
        if app.scene().agent.last.is_some() && app.scene().agent.records.len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let app = h.state();
    assert!(app.scene().agent.last.is_some(), "the TDM planned");
    assert!(app.scene().agent.records.len() >= 2, "the agent stepped");
    assert!(frames_in_flight >= 3, "frames were drawn while planning");
    assert!(
        worst < 0.05,
        "a UI frame took {worst:.3} s while a plan was in flight"
    );
    assert!(
        app.scene()
            .agent
            .last
            .as_ref()
            .unwrap()
            .tokens_per_sec
            .is_some()
    );
    h.run_steps(1);
    let list = h.state().draw_list();
    assert_eq!(list.count_line_groups("imagined "), 32);
    assert_eq!(list.count_line_groups("real "), 32);
    // The cartpole's trail follows the pole's free end, a metre from the cart.
    let outcome = h.state().scene().agent.last.clone().unwrap();
    let tip = outcome.inspection.imagined_trails[0][0];
    assert!((tip[2] - 1.0).abs() > 0.5, "trail starts at {tip:?}");
}

#[test]
fn the_bundled_mlp_baseline_plans_in_the_window() {
    let mut h = harness("cartpole-swingup");
    h.get_by_label("Planner").click();
    h.run_steps(2);
    h.get_by_label_contains("MLP").click();
    run_until(&mut h, "the bundled MLP", |a| {
        a.scene()
            .agent
            .model
            .path
            .as_ref()
            .is_some_and(|p| p.to_string_lossy().contains("mlp"))
    });
    {
        let app = h.state_mut();
        let info = &app.scene().agent.model;
        assert!(!info.is_tdm, "{info:?}");
        assert!(info.name.starts_with("mlp-tokenized-delta"), "{info:?}");
        let c = &mut app.scene_mut().agent.settings.config;
        c.candidates = 12;
        c.horizon_steps = 15;
    }
    h.get_by_label("Step agent").click();
    run_until(&mut h, "one MLP plan", |a| a.scene().steps_taken() == 1);
    h.run_steps(2);
    let app = h.state();
    assert_eq!(app.draw_list().count_line_groups("imagined "), 12);
    assert_eq!(app.draw_list().count_line_groups("real "), 12);
    // Its imagination is not ground truth, but it is close one step ahead.
    let (median, _) = tdm_workbench::ui::plots::error_series(app.scene()).expect("errors");
    assert_eq!(median.len(), 15);
    assert!(median[0][1] > 0.0 && median[0][1] < 0.05, "{median:?}");
}

/// A tiny TDM trained briefly with action tokens in its loss, so it has a BC view.
/// A tiny TDM trained 3 steps (with action loss, so it has a policy view) on one short
/// Brownian episode of each of `envs`: several sizes make it a generalist.
fn tiny_tdm(dir: &std::path::Path, envs: &[&str]) -> std::path::PathBuf {
    use tdm_workbench::data::{CollectOptions, Dataset, EnvInfo, Shard, collect};
    use tdm_workbench::models::tdm::{LossWeights, TdmConfig, TrainOptions, train};
    use tdm_workbench::plan::{NoiseConfig, NoisePolicy};
    let mut datasets = Vec::new();
    for (i, name) in envs.iter().enumerate() {
        let data = dir.join(format!("data-{i}"));
        let mut env = tdm_workbench::envs::make_env(name).unwrap();
        let mut policy = NoisePolicy::new(NoiseConfig::default(), env.spec().action_size, 30);
        let mut ds = Dataset::create_or_resume(
            &data,
            EnvInfo::from_spec(env.spec()),
            serde_json::json!({"kind": "brownian"}),
            0,
            None,
        )
        .unwrap();
        let opts = CollectOptions {
            episodes: 1,
            shard: Shard::WHOLE,
            max_steps: 30,
        };
        collect(env.as_mut(), &mut policy, &mut ds, &opts, |_| {}).unwrap();
        datasets.push(data);
    }
    let out = dir.join("tdm.safetensors");
    let train_opts = TrainOptions {
        model: TdmConfig::preset("tiny", 3073).unwrap(),
        tokenizer: Default::default(),
        steps: 3,
        batch: 2,
        lr: 1e-3,
        warmup: 1,
        clip: 1.0,
        adamw: Default::default(),
        held_out: 0.0,
        loss: LossWeights {
            actions: 1.0,
            ..LossWeights::default()
        },
        seed: 0,
        eval_every: 0,
        save_every: 0,
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    train(&train_opts, &datasets, &out, false, None, &stop, |_| {}).unwrap();
    out
}

#[test]
fn a_generalist_plans_zero_shot_on_a_walker_just_designed() {
    let dir = std::env::temp_dir().join(format!("tdm-ui-generalist-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let checkpoint = tiny_tdm(&dir, &["walker:chain:4:0", "walker:chain:5:1"]);
    let mut h = harness("cartpole-swingup");
    // Design a walker of a size the model never saw.
    h.get_by_label("Designer").click();
    h.run_steps(2);
    {
        let d = h.state_mut().designer_mut();
        d.family = Family::Chain;
        d.dof = 6;
        d.seed = 4242;
    }
    h.get_by_label("Regenerate").click();
    h.run_steps(2);
    assert_eq!(h.state().scene().env().spec().action_size, 6);
    let scene = h.state().scene().env().spec().name.clone();
    h.get_by_label("Planner").click();
    h.run_steps(2);
    h.state_mut()
        .submit(Command::LoadCheckpoint(checkpoint.clone()));
    run_until(&mut h, "the generalist", |a| {
        a.scene().agent.model.path.as_ref() == Some(&checkpoint)
    });
    let details = h.state().scene().agent.model.details.join("\n");
    assert!(
        details.contains("trained on walker:chain:4:0 (obs")
            && details.contains("trained on walker:chain:5:1 (obs")
            && details.contains(&format!("{scene}: not in its training data (zero-shot)")),
        "{details}"
    );
    h.get_by_label_contains("not in its training data (zero-shot)");
    {
        let c = &mut h.state_mut().scene_mut().agent.settings.config;
        c.candidates = 4;
        c.horizon_steps = 2;
    }
    h.get_by_label("Step agent").click();
    run_until(&mut h, "a zero-shot plan", |a| {
        a.scene().steps_taken() == 1 && a.scene().agent.last.is_some()
    });
    h.run_steps(2);
    let app = h.state();
    let last = app.scene().agent.last.as_ref().unwrap();
    assert_eq!(last.plan.scores.len(), 4);
    assert!(
        last.plan.scores.iter().all(|s| s.is_finite()),
        "{:?}",
        last.plan.scores
    );
    assert_eq!(app.draw_list().count_line_groups("imagined "), 4);
    assert_eq!(app.scene().env().spec().action_size, 6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_proposal_mix_knob_plans_with_the_tdms_policy_live() {
    let dir = std::env::temp_dir().join(format!("tdm-ui-bc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let checkpoint = tiny_tdm(&dir, &["cartpole-swingup"]);
    let mut h = harness("cartpole-swingup");
    h.get_by_label("Planner").click();
    h.run_steps(2);
    h.state_mut()
        .submit(Command::LoadCheckpoint(checkpoint.clone()));
    run_until(&mut h, "the TDM with a policy", |a| {
        a.scene().agent.model.path.as_ref() == Some(&checkpoint)
    });
    assert!(h.state().scene().agent.model.proposes_actions);
    {
        let c = &mut h.state_mut().scene_mut().agent.settings.config;
        c.candidates = 8;
        c.horizon_steps = 4;
        c.proposal_mix = 0.5;
    }
    h.get_by_label("Step agent").click();
    run_until(&mut h, "a plan with proposals", |a| {
        a.scene().steps_taken() == 1 && a.scene().agent.last.is_some()
    });
    h.run_steps(2);
    {
        let app = h.state();
        let last = app.scene().agent.last.as_ref().unwrap();
        assert_eq!(last.plan.proposed, 4);
        assert_eq!(app.draw_list().count_line_groups("imagined "), 8);
    }
    h.get_by_label_contains("(4 proposed)");
    // Live: a larger mix takes effect on the next plan, without a restart.
    h.state_mut().scene_mut().agent.settings.config.proposal_mix = 1.0;
    h.get_by_label("Step agent").click();
    run_until(&mut h, "the second plan", |a| a.scene().steps_taken() == 2);
    h.run_steps(2);
    assert_eq!(
        h.state().scene().agent.last.as_ref().unwrap().plan.proposed,
        8
    );
    // Ground truth has no policy: the knob stays set but plans are pure random shooting.
    h.state_mut().scene_mut().use_ground_truth();
    run_until(&mut h, "ground truth", |a| {
        a.scene().agent.model.path.is_none()
    });
    assert!(!h.state().scene().agent.model.proposes_actions);
    h.get_by_label("Step agent").click();
    run_until(&mut h, "a ground-truth plan", |a| {
        a.scene().steps_taken() == 3
    });
    h.run_steps(2);
    assert_eq!(
        h.state().scene().agent.last.as_ref().unwrap().plan.proposed,
        0
    );
    assert_eq!(h.state().scene().agent.settings.config.proposal_mix, 1.0);
    std::fs::remove_dir_all(&dir).ok();
}
