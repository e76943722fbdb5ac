//! The simulation core against real MuJoCo: bad input, divergence, state round trips, geometry,
//! and batched rollouts (parallel == serial, bit for bit, for any thread count).
use std::io::Write;
use tdm_workbench::envs::{Env, make_env, make_task};
use tdm_workbench::sim::{GeomKind, RolloutWorkers, SceneGeometry, Sim, SimError, SimModel};

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tdm-sim-core-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

fn compile_message(path: &std::path::Path) -> String {
    match SimModel::from_file(path) {
        Err(err @ SimError::Compile { .. }) => err.to_string(),
        Err(other) => panic!("expected a compile error, got {other}"),
        Ok(_) => panic!("{} compiled but should not", path.display()),
    }
}

#[test]
fn bad_mjcf_is_an_error_naming_the_file_and_the_process_lives_on() {
    let syntax = temp_file(
        "syntax.xml",
        b"<mujoco>\n  <worldbody>\n    <body>\n  </worldbody>\n</mujoco>\n",
    );
    let msg = compile_message(&syntax);
    assert!(msg.contains("syntax.xml"), "{msg}");
    assert!(msg.to_lowercase().contains("line"), "no line in: {msg}");

    let unknown = temp_file(
        "unknown.xml",
        b"<mujoco>\n  <worldbody>\n    <blob name=\"x\"/>\n  </worldbody>\n</mujoco>\n",
    );
    let msg = compile_message(&unknown);
    assert!(msg.contains("unknown.xml") && msg.contains("blob"), "{msg}");
    assert!(msg.contains("line"), "{msg}");

    let empty = temp_file("empty.xml", b"");
    assert!(compile_message(&empty).contains("empty"));

    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let garbage = temp_file("garbage.xml", &garbage);
    assert!(compile_message(&garbage).contains("garbage.xml"));

    let missing = std::path::Path::new("/nonexistent/dir/model.xml");
    let err = SimModel::from_file(missing).unwrap_err();
    assert!(matches!(err, SimError::Io { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/dir/model.xml"));

    let err =
        SimModel::from_xml_str("<mujoco><worldbody><geom/></mujoco>", "inline.xml").unwrap_err();
    assert!(err.to_string().contains("inline.xml"), "{err}");

    // Still alive, and a good model still loads and steps.
    let mut env = make_env("cartpole-swingup").unwrap();
    env.reset(0).unwrap();
    env.step(&[0.5]).unwrap();
}

#[test]
fn divergence_is_an_error_for_the_episode_not_a_crash() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/diverging.xml");
    let model = SimModel::from_file(path).unwrap();
    let mut sim = Sim::new(model.clone());
    let start = sim.state();
    let mut diverged = None;
    for _ in 0..50 {
        if let Err(e) = sim.step(&[1.0], 1) {
            diverged = Some(e);
            break;
        }
    }
    let err = diverged.expect("the diverging model did not diverge");
    assert!(matches!(err, SimError::Diverged { .. }), "{err}");
    assert!(err.to_string().contains("diverged"), "{err}");

    // The same simulation can be restored and used again.
    sim.set_state(&start).unwrap();
    sim.step(&[0.0], 1).unwrap();

    // In a batch, the failing candidate is marked; the others are fine.
    let task = make_task(&format!("mjcf:{path}")).unwrap();
    let mut workers = RolloutWorkers::new(model, 2);
    let actions = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let out = workers.run(&start, task.as_ref(), &actions, 2, 3).unwrap();
    assert!(out.failures[0].is_none());
    assert!(out.failures[1].is_some());
}

#[test]
fn a_divergence_reports_when_it_happened_not_the_time_after_mujocos_reset() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/diverging.xml");
    let mut sim = Sim::new(SimModel::from_file(path).unwrap());
    let dt = sim.model().timestep_secs();
    for _ in 0..10 {
        sim.step(&[0.0], 1).unwrap();
    }
    let reported = match sim.step(&[1.0], 1) {
        Err(SimError::Diverged { time_secs, .. }) => time_secs,
        other => panic!("expected a divergence, got {other:?}"),
    };
    assert!(
        (reported - 10.0 * dt).abs() < 1e-9,
        "diverged at {reported}"
    );
    // MuJoCo reset the clock; the report did not take that time.
    assert!(sim.time_secs() < reported, "{}", sim.time_secs());
}

/// A model that compiles, then runs out of stack in the collision stage (its file says how).
const STACK_STARVED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/stack-starved.xml");

/// Steps until the first error.
fn step_to_error(sim: &mut Sim) -> SimError {
    for _ in 0..500 {
        if let Err(e) = sim.step(&[0.0], 1) {
            return e;
        }
    }
    panic!("the stack-starved model stepped 500 times without an error");
}

#[test]
fn a_mujoco_error_while_stepping_is_an_error_of_that_step_on_any_thread() {
    let path = std::path::Path::new(STACK_STARVED);
    let model = SimModel::from_file(path).unwrap();
    let mut sim = Sim::new(model.clone());
    let start = sim.state();
    let err = step_to_error(&mut sim);
    assert!(matches!(err, SimError::Mujoco { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("mj_stackAlloc") || text.contains("memory"),
        "{text}"
    );
    assert!(text.contains("reset"), "{text}");
    // The simulation was reset; the same error is caught again on this thread, as often as it
    // comes (restoring a state runs the collision stage too).
    assert!(sim.time_secs() < 1e-9);
    let again = sim.set_state(&start);
    assert!(matches!(again, Err(SimError::Mujoco { .. })), "{again:?}");
    assert!(matches!(step_to_error(&mut sim), SimError::Mujoco { .. }));
    // On another thread, and in the planner's rollout workers (a batch is an error, not an end).
    let other = model.clone();
    let err = std::thread::spawn(move || step_to_error(&mut Sim::new(other)))
        .join()
        .unwrap();
    assert!(matches!(err, SimError::Mujoco { .. }), "{err}");
    let task = make_task(&format!("mjcf:{}", path.display())).unwrap();
    let mut workers = RolloutWorkers::new(model, 2);
    let result = workers.run(&start, task.as_ref(), &[0.0; 4 * 300], 4, 300);
    assert!(matches!(result, Err(SimError::Mujoco { .. })), "{result:?}");
    // A good model still steps.
    let mut env = make_env("cartpole-swingup").unwrap();
    env.reset(0).unwrap();
    env.step(&[0.5]).unwrap();
}

#[test]
fn bad_controls_are_rejected() {
    let mut env = make_env("walker-walk").unwrap();
    env.reset(3).unwrap();
    assert!(env.step(&[0.0; 5]).is_err());
    assert!(env.step(&[0.0, 0.0, f64::NAN, 0.0, 0.0, 0.0]).is_err());
    env.step(&[0.0; 6]).unwrap();
}

#[test]
fn state_restore_reproduces_a_trajectory_bit_for_bit() {
    let mut env = make_env("walker-walk").unwrap();
    env.reset(7).unwrap();
    for _ in 0..20 {
        env.step(&[0.3, -0.2, 0.1, 0.5, -0.4, 0.2]).unwrap();
    }
    let saved = env.state();
    let json = serde_json::to_string(&saved).unwrap();
    let run = |env: &mut Box<dyn Env>| -> Vec<f64> {
        let mut out = Vec::new();
        for t in 0..50 {
            let a = (t as f64 * 0.1).sin();
            out.extend(env.step(&[a, -a, a, -a, a, -a]).unwrap().observation);
        }
        out
    };
    let first = run(&mut env);
    let restored = serde_json::from_str(&json).unwrap();
    env.set_state(&restored, 20).unwrap();
    let second = run(&mut env);
    assert_eq!(first, second);

    // A state from another model is refused.
    let other = make_env("cartpole-swingup").unwrap();
    assert!(env.set_state(&other.state(), 0).is_err());
}

#[test]
fn geometry_is_plain_data_with_kinds_sizes_and_poses() {
    let mut env = make_env("cartpole-swingup").unwrap();
    env.reset(0).unwrap();
    let sim = env.sim();
    let scene = SceneGeometry::new(sim.model(), sim.data());
    let kinds: Vec<GeomKind> = scene.shapes.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            GeomKind::Plane,
            GeomKind::Capsule,
            GeomKind::Capsule,
            GeomKind::Box,
            GeomKind::Capsule
        ]
    );
    let cart = scene.shapes.iter().position(|s| s.name == "cart").unwrap();
    assert_eq!(scene.shapes[cart].size, [0.2, 0.15, 0.1]);
    assert_eq!(scene.world_from_geom_pos.len(), scene.shapes.len());
    // The cart sits at height 1, x = cart position.
    let qpos0 = env.sim().data().qpos()[0];
    assert!((scene.world_from_geom_pos[cart][0] - qpos0).abs() < 1e-12);
    assert!((scene.world_from_geom_pos[cart][2] - 1.0).abs() < 1e-12);
    assert_eq!(scene.body_names[1], "cart");
}

#[test]
fn batched_rollouts_are_bit_identical_to_serial_for_any_thread_count() {
    for name in ["cartpole-swingup", "walker-walk", "humanoid-stand"] {
        let task = make_task(name).unwrap();
        let mut env = make_env(name).unwrap();
        env.reset(11).unwrap();
        let state = env.state();
        let (k, n, m) = (7, 12, task.spec().action_size);
        let actions: Vec<f64> = (0..k * n * m).map(|i| ((i as f64) * 0.37).sin()).collect();

        // Reference: a plain serial loop with the public Env API.
        let mut reference_obs = Vec::new();
        let mut reference_rew = Vec::new();
        for c in 0..k {
            env.set_state(&state, 0).unwrap();
            for t in 0..n {
                let a = &actions[(c * n + t) * m..(c * n + t + 1) * m];
                let step = env.step(a).unwrap();
                reference_obs.extend(step.observation);
                reference_rew.push(step.reward);
            }
        }
        for threads in [1, 2, 3, 5] {
            let mut workers = RolloutWorkers::new(task.model().clone(), threads);
            let out = workers.run(&state, task.as_ref(), &actions, k, n).unwrap();
            assert_eq!(out.observations, reference_obs, "{name}, {threads} threads");
            assert_eq!(out.rewards, reference_rew, "{name}, {threads} threads");
            assert!(out.failures.iter().all(Option::is_none));
            // Calling again on the same workers gives the same result.
            let again = workers.run(&state, task.as_ref(), &actions, k, n).unwrap();
            assert_eq!(again, out);
        }
    }
}

#[test]
fn batch_rejects_a_wrongly_sized_action_array() {
    let task = make_task("cartpole-swingup").unwrap();
    let env = make_env("cartpole-swingup").unwrap();
    let mut workers = RolloutWorkers::new(task.model().clone(), 2);
    let err = workers
        .run(&env.state(), task.as_ref(), &[0.0; 5], 2, 3)
        .unwrap_err();
    assert!(err.to_string().contains("expected 2 x 3 x 1"), "{err}");
}

#[test]
fn non_finite_numbers_in_an_mjcf_are_refused_naming_it() {
    for attr in [
        r#"<inertial pos="0 0 0" mass="nan" diaginertia="1 1 1"/>"#,
        r#"<inertial pos="0 0 0" mass="1" diaginertia="1 inf 1"/>"#,
    ] {
        let xml = format!(
            r#"<mujoco><worldbody><body><freejoint/>{attr}<geom type="sphere" size="0.1"/></body></worldbody></mujoco>"#
        );
        match SimModel::from_xml_str(&xml, "bad-numbers.xml") {
            Ok(m) => panic!(
                "{attr} was accepted: {:?} {:?}",
                m.mj().body_mass(),
                m.mj().geom_size()
            ),
            Err(err) => {
                let msg = err.to_string();
                assert!(
                    msg.contains("bad-numbers.xml")
                        && (msg.contains("not a finite number") || msg.contains("compile")),
                    "{msg}"
                );
            }
        }
    }
}

#[test]
fn a_non_finite_control_range_is_refused_before_stepping_can_clamp_with_it() {
    let xml = r#"<mujoco><worldbody><body><joint name="j" type="hinge"/><geom type="sphere" size="0.1"/></body></worldbody>
        <actuator><motor joint="j" ctrllimited="true" ctrlrange="nan nan"/></actuator></mujoco>"#;
    let err = SimModel::from_xml_str(xml, "bad-ctrlrange.xml").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("bad-ctrlrange.xml") && msg.contains("actuator control range [0]"),
        "{msg}"
    );
}
