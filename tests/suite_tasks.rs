//! The control-suite tasks: sizes, determinism, initial states, rewards from observations, and
//! poses reconstructed from observations.
use tdm_workbench::envs::{Env, TASK_NAMES, make_env, make_task};

fn random_actions(seed: u64, n: usize) -> impl FnMut() -> Vec<f64> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    move || {
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect()
    }
}

#[test]
fn observation_and_action_sizes_match_dm_control() {
    let expected = [
        ("cartpole-swingup", 5, 1, 0.01, 1000),
        ("walker-stand", 24, 6, 0.025, 1000),
        ("walker-walk", 24, 6, 0.025, 1000),
        ("humanoid-stand", 67, 21, 0.025, 1000),
    ];
    for (name, obs, act, control_dt, steps) in expected {
        let mut env = make_env(name).unwrap();
        let spec = env.spec().clone();
        assert_eq!(spec.observation_size, obs, "{name}");
        assert_eq!(spec.observation_labels.len(), obs, "{name}");
        assert_eq!(spec.action_size, act, "{name}");
        assert!(
            (spec.control_dt_secs() - control_dt).abs() < 1e-12,
            "{name}"
        );
        assert_eq!(spec.episode_steps, steps, "{name}");
        assert_eq!(env.reset(0).unwrap().len(), obs, "{name}");
        let step = env.step(&vec![0.0; act]).unwrap();
        assert_eq!(step.observation.len(), obs);
        assert!(step.observation.iter().all(|x| x.is_finite()));
    }
}

#[test]
fn episodes_are_deterministic_from_a_seed() {
    for name in TASK_NAMES {
        let run = |seed: u64| {
            let mut env = make_env(name).unwrap();
            let mut obs = env.reset(seed).unwrap();
            let mut next = random_actions(seed, env.spec().action_size);
            let mut total = 0.0;
            for _ in 0..30 {
                let s = env.step(&next()).unwrap();
                total += s.reward;
                obs.extend(s.observation);
            }
            (obs, total)
        };
        assert_eq!(run(5), run(5), "{name}");
        assert_ne!(
            run(5).0,
            run(6).0,
            "{name}: different seeds gave the same episode"
        );
    }
}

#[test]
fn an_episode_ends_at_the_time_limit() {
    let mut env = make_env("cartpole-swingup").unwrap();
    env.reset(0).unwrap();
    for t in 0..1000 {
        let s = env.step(&[0.0]).unwrap();
        assert_eq!(s.done, t == 999);
    }
    assert!(env.step(&[0.0]).is_err());
    env.reset(1).unwrap();
    env.step(&[0.0]).unwrap();
}

#[test]
fn initial_states_follow_dm_control() {
    // Cartpole swing-up: pole hanging down (cos ~ -1), cart near 0, small velocities.
    let mut env = make_env("cartpole-swingup").unwrap();
    for seed in 0..20 {
        let o = env.reset(seed).unwrap();
        assert!(
            o[0].abs() < 0.05 && o[1] < -0.99 && o[3].abs() < 0.05,
            "{o:?}"
        );
    }
    // Humanoid: contact-free start with a random orientation.
    let mut env = make_env("humanoid-stand").unwrap();
    let mut headings = Vec::new();
    for seed in 0..5 {
        env.reset(seed).unwrap();
        assert_eq!(env.sim().data().ncon(), 0);
        headings.push(env.sim().data().qpos()[3]);
    }
    assert!(headings.windows(2).any(|w| w[0] != w[1]));
    // Walker: joints within their ranges, torso pitch anywhere.
    let mut env = make_env("walker-stand").unwrap();
    let mut pitches = Vec::new();
    for seed in 0..30 {
        env.reset(seed).unwrap();
        let q = env.sim().data().qpos().to_vec();
        pitches.push(q[2]);
        for (&a, (lo, hi)) in q[3..].iter().zip(
            [(-20.0, 100.0), (-150.0, 0.0), (-45.0, 45.0)]
                .iter()
                .cycle(),
        ) {
            let deg = a.to_degrees();
            assert!(
                deg >= lo - 1e-9 && deg <= hi + 1e-9,
                "{deg} outside [{lo}, {hi}]"
            );
        }
    }
    assert!(pitches.iter().any(|p| *p > 1.5) && pitches.iter().any(|p| *p < -1.5));
}

/// The planner's R(o') objective must agree with the true reward where the task provides it.
#[test]
fn reward_from_observation_matches_the_simulated_reward() {
    for name in ["cartpole-swingup", "walker-stand", "humanoid-stand"] {
        let mut env = make_env(name).unwrap();
        let task = env.task();
        env.reset(2).unwrap();
        let mut next = random_actions(9, env.spec().action_size);
        for _ in 0..100 {
            let a = next();
            let s = env.step(&a).unwrap();
            let predicted = task.reward_from_observation(&s.observation, &a).unwrap();
            assert!(
                (predicted - s.reward).abs() < 1e-9,
                "{name}: {predicted} vs {}",
                s.reward
            );
        }
    }
    let env = make_env("walker-walk").unwrap();
    assert!(
        env.task()
            .reward_from_observation(&[0.0; 24], &[0.0; 6])
            .is_none()
    );
}

#[test]
fn pose_from_obs_reconstructs_what_the_observation_determines() {
    // Cartpole: exact.
    let mut env = make_env("cartpole-swingup").unwrap();
    env.reset(1).unwrap();
    for _ in 0..50 {
        let s = env.step(&[0.7]).unwrap();
        let q = env.pose_from_obs(&s.observation, &[]);
        let truth = env.sim().data().qpos();
        assert!((q[0] - truth[0]).abs() < 1e-12);
        let d = (q[1] - truth[1]).rem_euclid(std::f64::consts::TAU);
        assert!(d.min(std::f64::consts::TAU - d) < 1e-9);
    }

    // Walker: height, pitch and joints exact; root x integrated from velocity.
    let mut env = make_env("walker-walk").unwrap();
    env.reset(4).unwrap();
    let mut next = random_actions(4, 6);
    let wrap = |a: f64| {
        (a + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI
    };
    for _ in 0..60 {
        let prev = env.sim().data().qpos().to_vec();
        let s = env.step(&next()).unwrap();
        let q = env.pose_from_obs(&s.observation, &prev);
        let truth = env.sim().data().qpos();
        assert!((q[0] - truth[0]).abs() < 1e-9, "rootz");
        assert!(
            (q[1] - truth[1]).abs() < 0.05,
            "rootx {} vs {}",
            q[1],
            truth[1]
        );
        for i in 2..9 {
            assert!(
                wrap(q[i] - truth[i]).abs() < 1e-6,
                "qpos[{i}]: {} vs {}",
                q[i],
                truth[i]
            );
        }
    }

    // Humanoid: joint angles exact, torso height exact, the vertical exact.
    let mut env = make_env("humanoid-stand").unwrap();
    env.reset(3).unwrap();
    let mut next = random_actions(3, 21);
    for _ in 0..40 {
        let prev = env.sim().data().qpos().to_vec();
        let s = env.step(&next()).unwrap();
        let q = env.pose_from_obs(&s.observation, &prev);
        let truth = env.sim().data().qpos().to_vec();
        assert_eq!(q.len(), truth.len());
        assert_eq!(&q[7..], &truth[7..]);
        assert!(
            (q[2] - truth[2]).abs() < 1e-6,
            "torso z {} vs {}",
            q[2],
            truth[2]
        );
        // The world z axis seen from the torso: the third row of R(quat).
        let zrow = |w: f64, x: f64, y: f64, z: f64| {
            [
                2.0 * (x * z - w * y),
                2.0 * (y * z + w * x),
                1.0 - 2.0 * (x * x + y * y),
            ]
        };
        let a = zrow(q[3], q[4], q[5], q[6]);
        let b = zrow(truth[3], truth[4], truth[5], truth[6]);
        for c in 0..3 {
            assert!((a[c] - b[c]).abs() < 1e-6, "vertical {a:?} vs {b:?}");
        }
        assert!((q[0] - truth[0]).abs() < 0.05 && (q[1] - truth[1]).abs() < 0.05);
    }
}

#[test]
fn an_mjcf_file_has_no_reward_unless_opened_to_hold_its_reference_pose() {
    let dir = std::env::temp_dir().join(format!("tdm-mjcf-pose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("arm.xml");
    std::fs::write(
        &path,
        r#"<mujoco><worldbody><body pos="0 0 1"><joint name="h" type="hinge" axis="0 1 0"/>
           <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.05"/></body></worldbody>
           <actuator><motor joint="h" gear="5"/></actuator></mujoco>"#,
    )
    .unwrap();
    let plain = make_task(&format!("mjcf:{}", path.display())).unwrap();
    assert!(!plain.has_reward());
    let posed = make_task(&format!("mjcf-pose:{}", path.display())).unwrap();
    assert!(posed.has_reward());
    assert_eq!(posed.spec().name, format!("mjcf-pose:{}", path.display()));
    let obs_at = |angle: f64| [angle, 0.0];
    // In the pose: 1; half a radian off: e^-1; a planner's R(o') objective agrees.
    let r0 = posed.reward_from_observation(&obs_at(0.0), &[0.0]).unwrap();
    let r1 = posed.reward_from_observation(&obs_at(0.5), &[0.0]).unwrap();
    assert!((r0 - 1.0).abs() < 1e-12, "{r0}");
    assert!((r1 - (-1.0f64).exp()).abs() < 1e-12, "{r1}");
    assert_eq!(
        plain.reward_from_observation(&obs_at(0.5), &[0.0]),
        Some(0.0)
    );
    // Stepping agrees with the observation's reward.
    let mut env = tdm_workbench::envs::MujocoEnv::new(posed);
    env.reset(0).unwrap();
    let step = env.step(&[1.0]).unwrap();
    let expected = env
        .task()
        .reward_from_observation(&step.observation, &[1.0])
        .unwrap();
    assert!((step.reward - expected).abs() < 1e-12);
    assert!(step.reward < 1.0 && step.reward > 0.5, "{}", step.reward);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn each_scene_traces_the_body_that_tells_its_story() {
    use tdm_workbench::plan::TrailPoint;
    for (task, body) in [
        ("cartpole-swingup", "pole_1"),
        ("walker-stand", "torso"),
        ("humanoid-stand", "head"),
    ] {
        let task = make_task(task).unwrap();
        let env = tdm_workbench::envs::MujocoEnv::new(task.clone());
        let geometry = tdm_workbench::sim::SceneGeometry::new(env.sim().model(), env.sim().data());
        let traced = TrailPoint::default_for(task.as_ref()).body;
        assert_eq!(geometry.body_names[traced], body, "{}", task.spec().name);
    }
}
