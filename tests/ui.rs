//! The workbench window, headless: egui_kittest renders the whole UI (3D viewport included)
//! with wgpu on a software adapter. Golden images per scene family and per panel, and
//! interaction tests through the UI's own buttons and commands (the planner's are in
//! `ui_planner.rs`).
mod ui_harness;

use egui_kittest::kittest::Queryable;
use tdm_workbench::envs::walkers::{Family, to_mjcf};
use tdm_workbench::ui::{Command, SceneSource};
use ui_harness::{harness, harness_with_step, snapshot};

#[test]
fn golden_images_of_each_scene_family() {
    let mut results = egui_kittest::SnapshotResults::new();
    for (scene, name) in [
        ("cartpole-swingup", "scene_cartpole"),
        ("walker-walk", "scene_walker"),
        ("humanoid-stand", "scene_humanoid"),
        ("walker:line:6:1", "scene_walker_line"),
        ("walker:chain:8:2", "scene_walker_chain"),
        ("walker:bush:10:3", "scene_walker_bush"),
        ("walker:tree:12:4", "scene_walker_tree"),
    ] {
        let mut h = harness(scene);
        assert_eq!(h.state().scene().source, SceneSource::Task(scene.into()));
        assert!(
            !h.state().draw_list().instances.is_empty(),
            "{scene}: nothing drawn"
        );
        snapshot(&mut h, name);
        results.extend_harness(&mut h);
    }
    results.unwrap();
}

#[test]
fn golden_images_of_each_panel() {
    let mut h = harness("walker:chain:6:0");
    for (tab, name) in [
        ("Simulation", "panel_simulation"),
        ("Designer", "panel_designer"),
        ("Preset files", "panel_presets"),
    ] {
        h.get_by_label(tab).click();
        h.run_steps(2);
        snapshot(&mut h, name);
    }
}

#[test]
fn generating_a_walker_gives_a_model_with_that_many_dof() {
    let mut h = harness("cartpole-swingup");
    h.get_by_label("Designer").click();
    h.run_steps(2);
    {
        let d = h.state_mut().designer_mut();
        d.family = Family::Bush;
        d.dof = 13;
        d.seed = 7;
    }
    h.get_by_label("Regenerate").click();
    h.run_steps(2);
    let app = h.state();
    let SceneSource::Walker(tree) = &app.scene().source else {
        panic!(
            "the designer's walker is not the scene: {:?}",
            app.scene().source.label()
        );
    };
    let origin = tree.origin.expect("a generated tree keeps its origin");
    assert_eq!(
        (origin.family, origin.dof, origin.seed),
        (Family::Bush, 13, 7)
    );
    assert_eq!(app.scene().env().spec().action_size, 13);
    assert_eq!(app.scene().env().sim().model().nu(), 13);
}

#[test]
fn pause_then_step_advances_exactly_one_control_step() {
    let mut h = harness("walker-stand");
    let (t0, s0) = (
        h.state().scene().time_secs(),
        h.state().scene().steps_taken(),
    );
    let dt = h.state().scene().control_dt_secs();
    h.run_steps(5);
    assert_eq!(
        h.state().scene().steps_taken(),
        s0,
        "paused scenes stay put"
    );
    h.get_by_label("Step").click();
    h.run_steps(2);
    assert_eq!(h.state().scene().steps_taken(), s0 + 1);
    assert!((h.state().scene().time_secs() - (t0 + dt)).abs() < 1e-9);
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(h.state().scene().steps_taken(), s0 + 2);
    assert!((h.state().scene().time_secs() - (t0 + 2.0 * dt)).abs() < 1e-9);
    // Play runs, pause stops again.
    h.get_by_label("Play").click();
    h.run_steps(10);
    assert!(h.state().scene().steps_taken() > s0 + 2);
    h.get_by_label("Pause").click();
    h.run_steps(1);
    let s = h.state().scene().steps_taken();
    h.run_steps(5);
    assert_eq!(h.state().scene().steps_taken(), s);
}

#[test]
fn an_invalid_edit_leaves_the_tree_unchanged_and_says_why() {
    let mut h = harness("cartpole-swingup");
    h.get_by_label("Designer").click();
    h.run_steps(2);
    let before = h.state().designer().tree.clone();
    // A new limb on the torso along a direction an existing torso limb already uses.
    let taken = before.limbs[0].direction;
    h.state_mut().designer_mut().new_limb_direction = taken;
    h.get_by_label("Add limb at torso").click();
    h.run_steps(2);
    assert_eq!(h.state().designer().tree, before);
    let error = h
        .state()
        .designer()
        .error
        .clone()
        .expect("the reason is kept");
    assert!(
        error.contains("overlap") || error.contains(taken.label()),
        "{error}"
    );
    // And it is on screen.
    h.get_by_label_contains("Edit refused");
}

#[test]
fn a_broken_mjcf_keeps_the_old_scene_and_names_the_file() {
    let dir = std::env::temp_dir().join(format!("tdm-ui-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.xml");
    std::fs::write(
        &broken,
        "<mujoco><worldbody><geom type='sphere' size='0.1'></worldbody>",
    )
    .unwrap();
    let mut h = harness("cartpole-swingup");
    h.get_by_label("Play").click();
    h.run_steps(3);
    let steps = h.state().scene().steps_taken();
    h.state_mut().submit(Command::OpenMjcf(broken.clone()));
    h.run_steps(3);
    let app = h.state();
    assert_eq!(
        app.scene().source,
        SceneSource::Task("cartpole-swingup".into())
    );
    assert!(
        app.scene().steps_taken() > steps,
        "the old scene keeps running"
    );
    let toast = app
        .toasts()
        .iter()
        .find(|t| t.is_error)
        .expect("an error is shown");
    assert!(toast.message.contains("broken.xml"), "{}", toast.message);
    assert!(
        app.recent_files().is_empty(),
        "a failed file is not remembered"
    );

    // A good MJCF file opens and goes into the recent list.
    let good = dir.join("walker.xml");
    let tree = tdm_workbench::envs::walkers::generate(Family::Chain, 5, 1);
    std::fs::write(&good, to_mjcf(&tree, "walker")).unwrap();
    h.state_mut().submit(Command::OpenMjcf(good.clone()));
    h.run_steps(2);
    let name = format!("mjcf:{}", good.display());
    assert_eq!(h.state().scene().source, SceneSource::Task(name.clone()));
    assert_eq!(h.state().recent_files().first(), Some(&name));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_broken_preset_changes_nothing_and_names_the_field() {
    let dir = std::env::temp_dir().join(format!("tdm-ui-preset-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"version": 1, "name": "bad", "scene": "humanoid-stand",
            "sim": {"speed": 1000, "seed": 0, "policy": "zero"}}"#,
    )
    .unwrap();
    let mut h = harness("cartpole-swingup");
    let speed = h.state().scene().speed;
    h.state_mut().submit(Command::ApplyPreset(bad.clone()));
    h.run_steps(2);
    let app = h.state();
    assert_eq!(
        app.scene().source,
        SceneSource::Task("cartpole-swingup".into())
    );
    assert_eq!(app.scene().speed, speed);
    let msg = &app.toasts().last().expect("an error is shown").message;
    assert!(
        msg.contains("bad.json") && msg.contains("sim.speed"),
        "{msg}"
    );

    // A good one applies scene, speed and camera.
    let good = dir.join("good.json");
    std::fs::write(
        &good,
        r#"{"version": 1, "name": "good", "scene": "walker-stand",
            "camera": {"lookat": [0, 0, 1], "azimuth_deg": 45, "elevation_deg": -30,
                       "distance_m": 5, "fovy_deg": 45},
            "sim": {"speed": 0.5, "seed": 3, "policy": "brownian"}}"#,
    )
    .unwrap();
    h.state_mut().submit(Command::ApplyPreset(good));
    h.run_steps(2);
    let app = h.state();
    assert_eq!(app.scene().source, SceneSource::Task("walker-stand".into()));
    assert_eq!(app.scene().speed, 0.5);
    assert_eq!(app.scene().seed, 3);
    assert_eq!(app.view().camera.azimuth_deg, 45.0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn double_clicking_a_body_selects_it() {
    // Frames 1/60 s apart, so two clicks fall inside egui's double-click interval.
    let mut h = harness_with_step("walker-stand", 1.0 / 60.0);
    h.run_steps(1);
    let app = h.state();
    let rect = app.viewport().rect;
    let torso = app.scene().geometry.world_from_body_pos[1].map(|v| v as f32);
    let at = app
        .view()
        .camera
        .project(glam::Vec3::from(torso), rect.width(), rect.height())
        .expect("the torso is in view");
    let pos = rect.min + egui::vec2(at[0], at[1]);
    h.hover_at(pos);
    h.step();
    for _ in 0..2 {
        for pressed in [true, false] {
            h.event(egui::Event::PointerButton {
                pos,
                button: egui::PointerButton::Primary,
                pressed,
                modifiers: Default::default(),
            });
        }
        h.step();
    }
    h.run_steps(2);
    assert_eq!(h.state().view().selected_body, Some(1));
    h.get_by_label_contains("mass");
}
