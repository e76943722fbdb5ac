//! The workbench without a window: commands load scenes, apply presets, step, plan and export,
//! and the state says what happened. No egui anywhere (the `session` module never imports it).
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tdm_workbench::plan::PlannerConfig;
use tdm_workbench::session::{
    AppOptions, Command, FilePrompt, PolicyKind, SceneSource, StartModel, Workbench,
};

fn workbench(scene: &str) -> Workbench {
    let options = AppOptions {
        scene: SceneSource::Task(scene.into()),
        start_paused: true,
        ..AppOptions::default()
    };
    Workbench::start(options, Vec::new(), Arc::new(|| {})).expect("the workbench starts")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdm-session-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(wb: &mut Workbench, commands: impl IntoIterator<Item = Command>) -> Vec<Command> {
    for c in commands {
        wb.submit(c);
    }
    wb.handle_commands()
}

fn write_preset(dir: &Path) -> PathBuf {
    let path = dir.join("walk.json");
    std::fs::write(
        &path,
        r#"{"version": 1, "name": "walk", "scene": "walker-walk",
            "camera": {"lookat": [0, 0, 1], "azimuth_deg": 45, "elevation_deg": -30,
                       "distance_m": 5, "fovy_deg": 45},
            "sim": {"speed": 0.5, "seed": 3, "policy": "brownian"}}"#,
    )
    .unwrap();
    path
}

#[test]
fn commands_load_a_scene_apply_a_preset_step_and_reset() {
    let dir = temp_dir("commands");
    let mut wb = workbench("cartpole-swingup");
    let left = run(
        &mut wb,
        [Command::LoadScene(SceneSource::Task("walker-stand".into()))],
    );
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(wb.scene.source, SceneSource::Task("walker-stand".into()));
    assert_eq!(wb.scene.env().spec().action_size, 6);

    run(&mut wb, [Command::ApplyPreset(write_preset(&dir))]);
    assert_eq!(wb.scene.source, SceneSource::Task("walker-walk".into()));
    assert_eq!(wb.scene.speed, 0.5);
    assert_eq!(wb.scene.seed, 3);
    assert_eq!(wb.scene.policy, PolicyKind::Brownian);
    assert_eq!(wb.view.camera.azimuth_deg, 45.0);
    let info = wb.toasts.last().expect("a message says so");
    assert!(
        !info.is_error && info.message.contains("'walk' applied"),
        "{info:?}"
    );

    let dt = wb.scene.control_dt_secs();
    run(&mut wb, [Command::Step, Command::Step]);
    assert_eq!(wb.scene.steps_taken(), 2);
    assert_eq!(wb.scene.episode().len(), 2);
    assert!((wb.scene.time_secs() - 2.0 * dt).abs() < 1e-9);
    assert!(!wb.scene.playing);

    // Scrubbing back shows the remembered state; reset starts the episode again.
    run(&mut wb, [Command::ScrubTo(1)]);
    assert_eq!(wb.scene.steps_taken(), 1);
    run(&mut wb, [Command::Reset]);
    assert_eq!(wb.scene.steps_taken(), 0);
    assert_eq!(wb.scene.seed, 3);
    run(&mut wb, [Command::Restart(9), Command::TogglePlay]);
    assert_eq!(wb.scene.seed, 9);
    assert!(wb.scene.playing);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_broken_preset_or_scene_changes_nothing_and_says_why() {
    let dir = temp_dir("broken");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"version": 1, "name": "bad", "scene": "humanoid-stand",
            "sim": {"speed": 1000, "seed": 0, "policy": "zero"}}"#,
    )
    .unwrap();
    let mut wb = workbench("cartpole-swingup");
    run(&mut wb, [Command::ApplyPreset(bad)]);
    assert_eq!(
        wb.scene.source,
        SceneSource::Task("cartpole-swingup".into())
    );
    let msg = &wb.toasts.last().expect("an error is shown").message;
    assert!(
        msg.contains("bad.json") && msg.contains("sim.speed"),
        "{msg}"
    );

    run(
        &mut wb,
        [Command::LoadScene(SceneSource::Task("no-such-task".into()))],
    );
    assert_eq!(
        wb.scene.source,
        SceneSource::Task("cartpole-swingup".into())
    );
    let msg = &wb.toasts.last().expect("an error is shown").message;
    assert!(msg.contains("no-such-task"), "{msg}");
    let n = wb.toasts.len();
    run(&mut wb, [Command::DismissToast(n - 1)]);
    assert_eq!(wb.toasts.len(), n - 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn prompts_go_to_the_window_and_their_answers_are_commands() {
    let mut wb = workbench("cartpole-swingup");
    let prompt = Command::Prompt(FilePrompt::OpenCheckpoint);
    let png = Command::SavePng("view.png".into());
    let left = run(&mut wb, [prompt.clone(), Command::ResetView, png.clone()]);
    assert_eq!(left, vec![prompt, png]);
    let path = PathBuf::from("m.safetensors");
    assert_eq!(
        FilePrompt::OpenCheckpoint.answer(path.clone()),
        Command::LoadCheckpoint(path.clone())
    );
    assert_eq!(
        FilePrompt::OpenPreset.answer(path.clone()),
        Command::ApplyPreset(path)
    );
}

#[test]
fn an_agent_step_plans_and_the_draw_list_shows_its_candidates() {
    let dir = temp_dir("agent");
    let mut wb = workbench("cartpole-swingup");
    {
        let c = &mut wb.scene.agent.settings.config;
        c.candidates = 4;
        c.horizon_steps = 5;
    }
    run(&mut wb, [Command::StepAgent]);
    assert_eq!(wb.scene.policy, PolicyKind::Mpc);
    assert_eq!(wb.scene.steps_taken(), 1);
    assert_eq!(wb.scene.agent.records.len(), 1);
    let list = wb.draw_list();
    assert_eq!(list.count_line_groups("imagined "), 4);
    assert_eq!(list.count_line_groups("chosen"), 1);

    // The episode so far exports as a dataset.
    let data = dir.join("episode");
    run(&mut wb, [Command::SaveDataset(data.clone())]);
    let msg = &wb.toasts.last().expect("a message").message;
    assert!(msg.contains("(1 steps)"), "{msg}");
    assert!(data.join("meta.json").is_file());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_scene_switch_carries_only_a_model_that_fits_and_says_which_it_chose() {
    // The window's first screen: cartpole planning with its bundled TDM.
    let options = AppOptions {
        scene: SceneSource::Task("cartpole-swingup".into()),
        start_paused: true,
        model: Some(StartModel::Checkpoint(PathBuf::from(
            "assets/models/cartpole-swingup-small.safetensors",
        ))),
        ..AppOptions::default()
    };
    let mut wb = Workbench::start(options, Vec::new(), Arc::new(|| {})).expect("starts");
    let settle = |wb: &mut Workbench| {
        for _ in 0..500 {
            wb.frame(0.0);
            if !wb.scene.loading_model() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the model never loaded");
    };
    settle(&mut wb);
    assert!(
        wb.scene.agent.model.path.is_some(),
        "the TDM plans on cartpole"
    );

    // Humanoid has other sizes and no bundled model: ground truth, and no error.
    run(
        &mut wb,
        [Command::LoadScene(SceneSource::Task(
            "humanoid-stand".into(),
        ))],
    );
    settle(&mut wb);
    assert!(wb.toasts.iter().all(|t| !t.is_error), "{:?}", wb.toasts);
    assert_eq!(wb.scene.agent.model.path, None, "ground truth plans");
    let note = wb.toasts.last().expect("a message says which model");
    assert!(
        note.message.contains("does not fit 'humanoid-stand'")
            && note.message.contains("ground truth"),
        "{note:?}"
    );

    // Back on cartpole from ground truth: ground truth stays (the user's last choice).
    run(
        &mut wb,
        [Command::LoadScene(SceneSource::Task(
            "cartpole-swingup".into(),
        ))],
    );
    settle(&mut wb);
    assert!(wb.toasts.iter().all(|t| !t.is_error), "{:?}", wb.toasts);
}

#[test]
fn messages_expire_errors_later_and_all_stay_in_the_history() {
    let mut wb = workbench("cartpole-swingup");
    wb.info("information".into());
    wb.error("a problem".into());
    wb.frame(7.0);
    let shown: Vec<&str> = wb.toasts.iter().map(|t| t.message.as_str()).collect();
    assert_eq!(shown, ["a problem"], "information expires first");
    wb.frame(14.0);
    assert!(wb.toasts.is_empty(), "{:?}", wb.toasts);
    let kept: Vec<&str> = wb.history.iter().map(|t| t.message.as_str()).collect();
    assert!(kept.ends_with(&["information", "a problem"]), "{kept:?}");
    // A burst never stacks up over the view: the oldest give way.
    for i in 0..10 {
        wb.error(format!("error {i}"));
    }
    assert_eq!(wb.toasts.len(), 3);
    assert_eq!(wb.toasts.last().unwrap().message, "error 9");
    assert!(wb.history.len() >= 12);
}

/// Plays the scene for `secs` of wall clock at a few frames per second, as a software-rendered
/// window does.
fn play_frames(wb: &mut Workbench, secs: f64) {
    let frame = std::time::Duration::from_millis(200);
    let start = std::time::Instant::now();
    while start.elapsed().as_secs_f64() < secs {
        std::thread::sleep(frame);
        wb.frame(frame.as_secs_f64());
    }
}

#[test]
fn the_live_agent_steps_on_the_wall_clock_not_once_per_frame() {
    let mut wb = workbench("cartpole-swingup");
    run(
        &mut wb,
        [Command::UseGroundTruth, Command::SetPolicy(PolicyKind::Mpc)],
    );
    wb.scene.agent.settings.config.candidates = 8;
    wb.scene.agent.settings.config.horizon_steps = 20;
    wb.scene.agent.settings.replay = false;
    assert_eq!(
        wb.scene.agent.pacing,
        tdm_workbench::session::live::Pacing::RealTime,
        "real time is the default"
    );
    wb.scene.playing = true;
    play_frames(&mut wb, 2.0);
    assert!(wb.scene.is_live(), "the agent plays on its own thread");
    let steps = wb.scene.steps_taken();
    // 10 frames of 200 ms; lock-step at one plan per frame would take 10 steps.
    assert!(
        steps > 40,
        "only {steps} control steps in 2 s at 1x (100 are due)"
    );
    assert!(wb.scene.agent.last.is_some(), "a plan is in use");
    assert!(wb.scene.agent.plans_per_sec().is_some_and(|r| r > 0.0));
    assert_eq!(wb.scene.episode().len(), steps, "every step was adopted");
    // Pausing ends the run and hands the planner back: one more step waits for its plan.
    run(&mut wb, [Command::TogglePlay]);
    wb.frame(0.0);
    assert!(!wb.scene.is_live());
    run(&mut wb, [Command::Step]);
    assert_eq!(wb.scene.steps_taken(), steps + 1);

    // Lock-step, chosen by the user: plans back to back, each acting at age 0.
    run(
        &mut wb,
        [
            Command::SetPacing(tdm_workbench::session::live::Pacing::LockStep),
            Command::TogglePlay,
        ],
    );
    play_frames(&mut wb, 1.0);
    assert!(
        wb.scene.steps_taken() > steps + 10,
        "lock-step is not one plan per frame either: {} -> {}",
        steps + 1,
        wb.scene.steps_taken()
    );
    assert_eq!(wb.scene.agent.plan_age, Some(0));
}

#[test]
fn a_start_preset_wins_over_defaults_and_explicit_options_win_over_it() {
    let dir = temp_dir("precedence");
    let path = dir.join("tuned.json");
    let planner = PlannerConfig {
        candidates: 32,
        horizon_steps: 15,
        ..PlannerConfig::default()
    };
    let preset = serde_json::json!({
        "version": 1, "name": "tuned", "scene": "walker-stand",
        "sim": {"speed": 1.0, "seed": 0, "policy": "brownian"},
        "planner": planner, "model": "gt"
    });
    std::fs::write(&path, preset.to_string()).unwrap();
    let options = AppOptions {
        scene: SceneSource::Task("cartpole-swingup".into()),
        start_paused: true,
        preset: Some(path.clone()),
        candidates: Some(100),
        method: Some("mppi".parse().unwrap()),
        ..AppOptions::default()
    };
    let wb = Workbench::start(options, Vec::new(), Arc::new(|| {})).expect("starts");
    let messages: Vec<&str> = wb.toasts.iter().map(|t| t.message.as_str()).collect();
    assert_eq!(
        wb.scene.source,
        SceneSource::Task("walker-stand".into()),
        "{messages:?}"
    );
    assert_eq!(wb.scene.policy, PolicyKind::Brownian);
    let config = wb.scene.agent.settings.config;
    assert_eq!((config.candidates, config.horizon_steps), (100, 15));
    assert_eq!(
        config.method.to_string().split_whitespace().next(),
        Some("mppi")
    );
    assert_eq!(
        wb.scene.agent.model.path, None,
        "the preset plans with ground truth"
    );
    assert_eq!(wb.applied_preset.as_deref(), Some("tuned"));
    // A saved preset records what it plans with.
    let saved = wb.current_preset("again".into()).expect("a task scene");
    assert_eq!(saved.model.as_deref(), Some("gt"));
    // An explicit policy wins over the preset's.
    let options = AppOptions {
        scene: SceneSource::Task("cartpole-swingup".into()),
        start_paused: true,
        preset: Some(path),
        policy: Some(PolicyKind::Zero),
        ..AppOptions::default()
    };
    let wb = Workbench::start(options, Vec::new(), Arc::new(|| {})).expect("starts");
    assert_eq!(wb.scene.policy, PolicyKind::Zero);
    assert_eq!(wb.scene.agent.settings.config.candidates, 32);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_mujoco_error_while_stepping_stops_the_scene_with_its_message_and_the_window_lives_on() {
    // Compiles, then runs out of stack in the collision stage (the file says how).
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/stack-starved.xml"
    ));
    let mut wb = workbench("cartpole-swingup");
    run(&mut wb, [Command::OpenMjcf(path.clone())]);
    run(&mut wb, [Command::Step, Command::Step]);
    wb.frame(0.0);
    let messages: Vec<String> = wb.history.iter().map(|t| t.message.clone()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("MuJoCo error") && m.contains("mj_stackAlloc")),
        "{messages:?}"
    );
    // Still alive: another scene loads and steps.
    run(
        &mut wb,
        [Command::LoadScene(SceneSource::Task(
            "cartpole-swingup".into(),
        ))],
    );
    run(&mut wb, [Command::Step]);
    assert!(wb.scene.env().steps_taken() > 0 || wb.scene.env().sim().time_secs() > 0.0);
}

/// An MJCF file over the 1 MiB threshold (a comment pads it) that compiles in milliseconds.
fn padded_mjcf(dir: &Path) -> PathBuf {
    let path = dir.join("padded.xml");
    let padding = "x".repeat(1 << 20);
    std::fs::write(
        &path,
        format!(
            r#"<mujoco><!-- {padding} --><worldbody><body pos="0 0 1"><joint name="s" type="slide"/>
               <geom size="0.1"/></body></worldbody><actuator><motor joint="s"/></actuator></mujoco>"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_large_mjcf_compiles_off_the_ui_thread_while_the_old_scene_keeps_running() {
    let dir = temp_dir("large-mjcf");
    let path = padded_mjcf(&dir);
    let mut wb = workbench("cartpole-swingup");
    run(&mut wb, [Command::OpenMjcf(path.clone())]);
    assert_eq!(
        wb.scene.source,
        SceneSource::Task("cartpole-swingup".into())
    );
    assert!(
        wb.compiling_status()
            .is_some_and(|s| s.contains("padded.xml"))
    );
    for _ in 0..500 {
        wb.frame(0.0);
        if wb.compiling.is_none() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let name = format!("mjcf:{}", path.display());
    assert_eq!(wb.scene.source, SceneSource::Task(name.clone()));
    assert_eq!(wb.recent.first(), Some(&name));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_model_list_offers_what_fits_the_scene_and_says_why_the_rest_does_not() {
    let wb = workbench("cartpole-swingup");
    assert!(!wb.scene.bundled.is_empty());
    assert!(wb.scene.bundled.iter().all(|(_, why)| why.is_none()));
    let wb = workbench("walker-stand");
    for (m, why) in &wb.scene.bundled {
        let why = why
            .as_deref()
            .unwrap_or_else(|| panic!("{} fits walker-stand", m.label()));
        assert!(
            why.contains("cartpole-swingup (5 obs, 1 act)") && why.contains("24 obs, 6 act"),
            "{why}"
        );
    }
}

#[test]
fn the_camera_tracks_the_root_body_and_keeps_it_in_view_in_any_pose() {
    for scene in ["cartpole-swingup", "walker-stand", "humanoid-stand"] {
        let mut wb = workbench(scene);
        assert!(wb.view.follow, "{scene}: the root body is tracked");
        let root = wb.scene.geometry.world_from_body_pos[1].map(|v| v as f32);
        let list = wb.draw_list();
        let radius = list.radius_about(root).expect("body geometry");
        // Every point within the body's reach of the root projects inside a 770 x 460 view
        // (the window's at 1280 x 800): the pole upright or hanging, a walker fallen.
        let (w, h) = (770.0, 460.0);
        for d in [
            [0.0, 0.0, 1.0],
            [0.0, 0.0, -1.0],
            [1.0, 0.0, 0.0],
            [-1.0, 0.0, 0.0],
        ] {
            let p = glam::Vec3::from(root) + glam::Vec3::from(d) * radius;
            let p = [p.x, p.y, p.z.max(0.0)];
            let at = wb
                .view
                .camera
                .project(glam::Vec3::from(p), w, h)
                .unwrap_or_else(|| panic!("{scene}: {p:?} behind the camera"));
            assert!(
                (0.0..=w).contains(&at[0]) && (0.0..=h).contains(&at[1]),
                "{scene}: {p:?} projects to {at:?}, outside {w} x {h}"
            );
        }
        // Tracking: as the root moves, the look-at point follows it.
        run(&mut wb, [Command::SetPolicy(PolicyKind::Brownian)]);
        for _ in 0..40 {
            run(&mut wb, [Command::Step]);
            wb.frame(0.0);
        }
        let root = wb.scene.geometry.world_from_body_pos[1];
        let look = wb.view.camera.lookat;
        assert!(
            (look[0] as f64 - root[0]).abs() < 1e-3 && (look[1] as f64 - root[1]).abs() < 1e-3,
            "{scene}: look-at {look:?}, root {root:?}"
        );
    }
}

#[test]
fn a_later_choice_wins_over_a_model_still_loading_or_a_file_still_compiling() {
    // Ground truth chosen while a checkpoint loads: the checkpoint must not replace it.
    let options = AppOptions {
        scene: SceneSource::Task("cartpole-swingup".into()),
        start_paused: true,
        model: Some(StartModel::Checkpoint(PathBuf::from(
            "assets/models/cartpole-swingup-small.safetensors",
        ))),
        ..AppOptions::default()
    };
    let mut wb = Workbench::start(options, Vec::new(), Arc::new(|| {})).expect("starts");
    run(&mut wb, [Command::UseGroundTruth]);
    for _ in 0..100 {
        wb.frame(0.0);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(wb.scene.agent.model.path, None, "ground truth stays");

    // A scene chosen while a large file compiles: the compiled file must not replace it.
    let dir = temp_dir("compile-cancel");
    run(&mut wb, [Command::OpenMjcf(padded_mjcf(&dir))]);
    run(
        &mut wb,
        [Command::LoadScene(SceneSource::Task("walker-stand".into()))],
    );
    for _ in 0..100 {
        wb.frame(0.0);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(wb.scene.source, SceneSource::Task("walker-stand".into()));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_recording_of_the_view_is_written_as_an_animated_png() {
    use tdm_workbench::session::record::Recording;
    let dir = temp_dir("record");
    let path = dir.join("view.png");
    let mut r = Recording::start(path.clone(), 10.0).unwrap();
    assert!(r.due());
    for i in 0..3u8 {
        r.push((4, 3, vec![i * 80; 4 * 3 * 4]));
    }
    // A frame of another size (the window resized) is left out, and said so.
    r.push((5, 3, vec![0; 5 * 3 * 4]));
    let summary = r
        .stop()
        .recv_timeout(std::time::Duration::from_secs(20))
        .unwrap()
        .unwrap();
    assert!(
        summary.contains("recorded 3 frames") && summary.contains("1 frames of another size"),
        "{summary}"
    );
    let bytes = std::fs::read(&path).unwrap();
    let count = |tag: &[u8]| bytes.windows(4).filter(|w| *w == tag).count();
    assert_eq!((count(b"acTL"), count(b"fcTL")), (1, 3));
    // Nothing recorded: an error, no file.
    let empty = dir.join("empty.png");
    let r = Recording::start(empty.clone(), 10.0).unwrap();
    assert!(r.stop().recv().unwrap().is_err());
    assert!(!empty.exists());
    std::fs::remove_dir_all(&dir).ok();
}
