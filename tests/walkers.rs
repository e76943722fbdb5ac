//! The procedural walker universe: family rules, JSON round trips, MJCF that compiles and
//! simulates, the corridor task, and clear errors for bad trees.
use std::path::Path;
use tdm_workbench::envs::walkers::{
    Attach, CorridorRun, Family, KinematicTree, TreeError, check_family_rule, corridor_reward,
    generate, to_mjcf,
};
use tdm_workbench::envs::{Env, MujocoEnv};
use tdm_workbench::sim::SimModel;

fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut x = seed ^ 0x2545_F491_4F6C_DD1D;
    move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// 200 seeds per family across 4..=20 DoF: the family's rule, the DoF, the JSON round trip,
/// MuJoCo compiles the MJCF, and 200 steps of random actions stay finite.
#[test]
fn every_family_obeys_its_rule_round_trips_compiles_and_simulates() {
    for family in Family::ALL {
        let mut dofs_seen = std::collections::BTreeSet::new();
        for seed in 0..200u64 {
            let dof = 4 + (seed as usize * 7 + 3) % 17;
            let tree = generate(family, dof, seed);
            assert_eq!(tree.dof(), dof, "{family:?} seed {seed}");
            check_family_rule(&tree, family)
                .unwrap_or_else(|e| panic!("{family:?} seed {seed}: {e}\n{}", tree.ascii()));
            assert_eq!(generate(family, dof, seed), tree, "not reproducible");
            let back =
                KinematicTree::from_json(&tree.to_json(), Path::new("roundtrip.json")).unwrap();
            assert_eq!(back, tree);
            dofs_seen.insert(dof);

            let task = CorridorRun::new(tree, &format!("{family:?}-{seed}")).unwrap();
            let model = tdm_workbench::envs::Task::model(&task);
            assert_eq!(model.nu(), dof);
            let mut env = MujocoEnv::new(std::sync::Arc::new(task));
            env.reset(seed).unwrap();
            let mut next = lcg(seed);
            let mut action = vec![0.0; dof];
            for t in 0..200 {
                action.iter_mut().for_each(|a| *a = next());
                let step = env
                    .step(&action)
                    .unwrap_or_else(|e| panic!("{family:?} seed {seed} step {t}: {e}"));
                assert!(step.observation.iter().all(|x| x.is_finite()));
                assert!(step.reward.is_finite());
            }
        }
        assert_eq!(
            dofs_seen.len(),
            17,
            "{family:?}: DoF 4..=20 not all covered"
        );
    }
}

#[test]
fn families_differ_in_shape() {
    // Lines never turn; chains do; bushes and trees branch.
    let turns = |t: &KinematicTree| {
        t.limbs
            .windows(2)
            .filter(|w| w[0].direction != w[1].direction)
            .count()
    };
    let branches = |t: &KinematicTree| {
        let mut parents: Vec<Attach> = t.limbs.iter().map(|l| l.parent).collect();
        parents.sort_by_key(|a| format!("{a:?}"));
        parents.windows(2).filter(|w| w[0] == w[1]).count()
    };
    let (mut chain_turns, mut bush_branches, mut tree_branches) = (0, 0, 0);
    for seed in 0..20 {
        assert_eq!(turns(&generate(Family::Line, 12, seed)), 0);
        assert_eq!(branches(&generate(Family::Line, 12, seed)), 0);
        assert_eq!(branches(&generate(Family::Chain, 12, seed)), 0);
        chain_turns += turns(&generate(Family::Chain, 12, seed));
        bush_branches += branches(&generate(Family::Bush, 12, seed));
        tree_branches += branches(&generate(Family::Tree, 12, seed));
    }
    assert!(
        chain_turns > 20 && bush_branches > 20 && tree_branches > 5,
        "{chain_turns} {bush_branches} {tree_branches}"
    );
}

#[test]
fn a_walker_at_rest_stays_on_the_floor() {
    for family in Family::ALL {
        for seed in 0..5 {
            let tree = generate(family, 6 + 3 * seed as usize, seed);
            let mut env =
                MujocoEnv::new(std::sync::Arc::new(CorridorRun::new(tree, "rest").unwrap()));
            env.reset(seed).unwrap();
            let n = env.spec().action_size;
            let mut last = Vec::new();
            for _ in 0..200 {
                last = env.step(&vec![0.0; n]).unwrap().observation;
            }
            let height = last[2 * n];
            let qvel = env.sim().data().qvel().to_vec();
            assert!(
                height > 0.0 && height < 1.0,
                "{family:?} seed {seed}: torso at {height} m"
            );
            assert!(
                qvel.iter().all(|v| v.abs() < 5.0),
                "{family:?} seed {seed}: still moving {qvel:?}"
            );
            // Nothing sinks through the floor.
            let data = env.sim().data();
            let lowest = data
                .geom_xpos()
                .iter()
                .skip(1)
                .map(|p| p[2])
                .fold(f64::INFINITY, f64::min);
            assert!(
                lowest > -0.01,
                "{family:?} seed {seed}: a geom centre at {lowest} m"
            );
        }
    }
}

#[test]
fn corridor_reward_is_one_at_target_speed_and_zero_outside() {
    assert_eq!(corridor_reward(1.0), 1.0);
    for v in [0.0, -0.3, -5.0, 2.0, 2.5, 10.0] {
        assert_eq!(corridor_reward(v), 0.0, "v = {v}");
    }
    assert!((corridor_reward(0.5) - 0.5).abs() < 1e-12);
}

#[test]
fn observations_have_the_documented_size_and_poses_come_back() {
    let tree = generate(Family::Tree, 9, 3);
    let task = std::sync::Arc::new(CorridorRun::new(tree, "t").unwrap());
    let mut env = MujocoEnv::new(task);
    assert_eq!(env.spec().observation_size, 2 * 9 + 10);
    env.reset(0).unwrap();
    let mut next = lcg(5);
    for _ in 0..50 {
        let prev = env.sim().data().qpos().to_vec();
        let a: Vec<f64> = (0..9).map(|_| next()).collect();
        let obs = env.step(&a).unwrap().observation;
        let q = env.pose_from_obs(&obs, &prev);
        let truth = env.sim().data().qpos();
        assert_eq!(&q[7..], &truth[7..]);
        assert!((q[2] - truth[2]).abs() < 1e-12);
        assert!((q[0] - truth[0]).abs() < 0.05 && (q[1] - truth[1]).abs() < 0.05);
    }
}

#[test]
fn mjcf_names_say_which_link_is_which() {
    let tree = generate(Family::Bush, 5, 1);
    let xml = to_mjcf(&tree, "bush-5");
    let model = SimModel::from_xml_str(&xml, "bush-5.xml").unwrap();
    assert_eq!(model.actuator_names()[0], "limb0_link0");
    assert!(model.body_id("torso").is_some());
    for (i, limb) in tree.limbs.iter().enumerate() {
        for j in 0..limb.links.len() {
            assert!(model.body_id(&format!("limb{i}_link{j}")).is_some());
        }
    }
    assert!(xml.contains("<camera name=\"track\" mode=\"trackcom\""));
}

fn json_error(text: &str) -> String {
    match KinematicTree::from_json(text, Path::new("hand.json")) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted:\n{text}"),
    }
}

const LINK: &str =
    r#"{"length_m": 0.3, "radius_m": 0.05, "axis": "y", "range_deg": [-60, 60], "gear": 40}"#;

#[test]
fn bad_tree_files_get_a_clear_error() {
    let ok = format!(
        r#"{{"version": 1, "torso_radius_m": 0.1, "limbs": [{{"parent": "torso", "direction": "+x", "links": [{LINK}]}}]}}"#
    );
    KinematicTree::from_json(&ok, Path::new("hand.json")).unwrap();

    let bad_field = ok.replace("\"length_m\"", "\"lenght_m\"");
    let e = json_error(&bad_field);
    assert!(e.contains("hand.json") && e.contains("lenght_m"), "{e}");

    let unknown_dir = ok.replace("\"+x\"", "\"up\"");
    let e = json_error(&unknown_dir);
    assert!(
        e.contains("unknown variant `up`") && e.contains("+x"),
        "{e}"
    );

    let cycle = format!(
        r#"{{"version": 1, "torso_radius_m": 0.1, "limbs": [
            {{"parent": "torso", "direction": "+x", "links": [{LINK}]}},
            {{"parent": {{"tip": {{"limb": 2, "link": 0}}}}, "direction": "+z", "links": [{LINK}]}},
            {{"parent": {{"tip": {{"limb": 1, "link": 0}}}}, "direction": "+x", "links": [{LINK}]}}]}}"#
    );
    let e = json_error(&cycle);
    assert!(
        e.contains("cycle") && e.contains("limb 1") && e.contains("limb 2"),
        "{e}"
    );

    let mut limbs = Vec::new();
    for i in 0..50 {
        let parent = if i == 0 {
            "\"torso\"".to_string()
        } else {
            format!(r#"{{"tip": {{"limb": {}, "link": 1}}}}"#, i - 1)
        };
        limbs.push(format!(
            r#"{{"parent": {parent}, "direction": "+x", "links": [{LINK}, {LINK}]}}"#
        ));
    }
    let hundred = format!(
        r#"{{"version": 1, "torso_radius_m": 0.1, "limbs": [{}]}}"#,
        limbs.join(",")
    );
    let e = json_error(&hundred);
    assert!(
        e.contains("100 degrees of freedom") && e.contains("1..=32"),
        "{e}"
    );

    let e = json_error(r#"{"version": 1, "torso_radius_m": 0.1, "limbs": []}"#);
    assert!(e.contains("no links"), "{e}");

    let overlap = format!(
        r#"{{"version": 1, "torso_radius_m": 0.1, "limbs": [
            {{"parent": "torso", "direction": "+x", "links": [{LINK}]}},
            {{"parent": "torso", "direction": "+x", "links": [{LINK}]}}]}}"#
    );
    let e = json_error(&overlap);
    assert!(e.contains("limb 1") && e.contains("overlaps limb 0"), "{e}");

    let e = json_error(&ok.replace("\"version\": 1", "\"version\": 9"));
    assert!(e.contains("version 9"), "{e}");

    let e = json_error("{ not json");
    assert!(e.contains("hand.json"), "{e}");

    let err = KinematicTree::load(Path::new("/no/such/tree.json")).unwrap_err();
    assert!(
        matches!(err, TreeError::File { .. }) && err.to_string().contains("/no/such/tree.json")
    );
}
