//! The command line as a user runs it: exit codes and messages.

mod cli_harness;
use cli_harness::workbench;
#[test]
fn envs_lists_every_task_with_its_sizes() {
    let (ok, stdout, _) = workbench(&["envs"]);
    assert!(ok);
    for (name, obs, act) in [
        ("cartpole-swingup", "5", "1"),
        ("walker-stand", "24", "6"),
        ("walker-walk", "24", "6"),
        ("humanoid-stand", "67", "21"),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{stdout}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!((cols[1], cols[2]), (obs, act), "{line}");
    }
}

#[test]
fn rollout_prints_one_return_per_episode() {
    let (ok, stdout, stderr) = workbench(&[
        "rollout",
        "--env",
        "cartpole-swingup",
        "--policy",
        "random",
        "--episodes",
        "3",
        "--seed",
        "0",
    ]);
    assert!(ok, "{stderr}");
    let returns: Vec<f64> = stdout
        .lines()
        .filter(|l| l.starts_with("episode "))
        .map(|l| {
            l.split("return ")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(returns.len(), 3, "{stdout}");
    // A random policy on swing-up scores far below the maximum of 1000, but above 0.
    assert!(returns.iter().all(|&r| r > 0.0 && r < 200.0), "{returns:?}");
    // Same seed, same returns.
    let (_, again, _) = workbench(&[
        "rollout",
        "--env",
        "cartpole-swingup",
        "--policy",
        "random",
        "--episodes",
        "3",
        "--seed",
        "0",
    ]);
    assert_eq!(stdout, again);
}

#[test]
fn unknown_task_and_bad_file_exit_non_zero_with_a_clear_message() {
    let (ok, _, stderr) = workbench(&["rollout", "--env", "cartpole-balance-typo"]);
    assert!(!ok);
    assert!(
        stderr.contains("unknown task 'cartpole-balance-typo'")
            && stderr.contains("cartpole-swingup"),
        "{stderr}"
    );

    let dir = std::env::temp_dir().join(format!("tdm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("broken.xml");
    std::fs::write(
        &bad,
        "<mujoco><worldbody><geom type='sphere' size='0.1'></worldbody>",
    )
    .unwrap();
    let arg = format!("mjcf:{}", bad.display());
    let (ok, _, stderr) = workbench(&["rollout", "--env", &arg]);
    assert!(!ok);
    assert!(
        stderr.contains("broken.xml") && stderr.contains("does not compile"),
        "{stderr}"
    );

    let (ok, _, stderr) = workbench(&["rollout", "--env", "mjcf:/no/such/file.xml"]);
    assert!(!ok);
    assert!(
        stderr.contains("/no/such/file.xml") && stderr.contains("cannot read"),
        "{stderr}"
    );
}

#[test]
fn a_diverging_model_fails_its_episodes_without_crashing() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/diverging.xml");
    let (ok, stdout, stderr) = workbench(&[
        "rollout",
        "--env",
        &format!("mjcf:{path}"),
        "--episodes",
        "2",
    ]);
    assert!(!ok);
    assert_eq!(
        stdout.matches("FAILED, simulation diverged").count(),
        2,
        "{stdout}"
    );
    assert!(stderr.contains("2 of 2 episodes failed"), "{stderr}");
}

#[test]
fn morph_generate_writes_trees_mjcf_and_an_index_that_show_and_rollout_accept() {
    let dir = std::env::temp_dir().join(format!("tdm-morph-{}", std::process::id()));
    let out = dir.to_string_lossy().to_string();
    let (ok, stdout, stderr) = workbench(&[
        "morph", "generate", "--family", "chain", "--dof", "4..=20", "--count", "6", "--seed", "0",
        "--out", &out,
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("wrote 6 chain walkers"), "{stdout}");
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    let entries = index.as_array().unwrap();
    assert_eq!(entries.len(), 6);
    for e in entries {
        let dof = e["dof"].as_u64().unwrap();
        assert!((4..=20).contains(&dof));
        assert!(dir.join(e["mjcf"].as_str().unwrap()).exists());
    }
    let first = dir.join(entries[0]["json"].as_str().unwrap());
    let (ok, stdout, _) = workbench(&["morph", "show", &first.to_string_lossy()]);
    assert!(ok);
    assert!(
        stdout.contains(&format!("{} degrees of freedom", entries[0]["dof"])),
        "{stdout}"
    );
    assert!(stdout.contains("obeys the chain family's rule"), "{stdout}");
    let env = format!("walker:{}", first.display());
    let (ok, stdout, stderr) = workbench(&[
        "rollout",
        "--env",
        &env,
        "--episodes",
        "1",
        "--max-steps",
        "50",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("episode 0 (seed 0): return"), "{stdout}");
    // The generated MJCF opens on its own too.
    let mjcf = format!(
        "mjcf:{}",
        dir.join(entries[0]["mjcf"].as_str().unwrap()).display()
    );
    let (ok, _, stderr) = workbench(&[
        "rollout",
        "--env",
        &mjcf,
        "--episodes",
        "1",
        "--max-steps",
        "20",
    ]);
    assert!(ok, "{stderr}");

    let (ok, _, stderr) = workbench(&["morph", "generate", "--family", "shrub", "--out", &out]);
    assert!(!ok && stderr.contains("'shrub'"), "{stderr}");
}

#[test]
fn collect_train_eval_and_prediction_error_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("tdm-cli-train-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data").to_string_lossy().to_string();
    let ckpt = dir.join("m.safetensors").to_string_lossy().to_string();
    let (ok, stdout, stderr) = workbench(&[
        "collect",
        "--env",
        "cartpole-swingup",
        "--policy",
        "brownian",
        "--episodes",
        "3",
        "--max-steps",
        "40",
        "--out",
        &data,
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("collected 3 episodes (120 steps)"),
        "{stdout}"
    );
    // Re-running the same command resumes: nothing new to do.
    let (ok, stdout, _) = workbench(&[
        "collect",
        "--env",
        "cartpole-swingup",
        "--policy",
        "brownian",
        "--episodes",
        "3",
        "--max-steps",
        "40",
        "--out",
        &data,
    ]);
    assert!(ok && stdout.contains("3 already there"), "{stdout}");
    let (ok, stdout, stderr) = workbench(&[
        "train",
        "--data",
        &data,
        "--out",
        &ckpt,
        "--preset",
        "tiny",
        "--steps",
        "6",
        "--batch",
        "2",
        "--eval-every",
        "3",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("6 steps"), "{stdout}");
    let model = format!("tdm:{ckpt}");
    let (ok, stdout, stderr) = workbench(&[
        "prediction-error",
        "--env",
        "cartpole-swingup",
        "--model",
        &format!("gt,{model}"),
        "--runs",
        "2",
        "--horizon",
        "3",
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("ground truth") && stdout.contains("tdm (m.safetensors)"),
        "{stdout}"
    );
    // The ranking of the planner's candidates: ground truth perfect, the TDM once per decoding.
    let (ok, stdout, stderr) = workbench(&[
        "ranking",
        "--env",
        "cartpole-swingup",
        "--model",
        &format!("gt,{ckpt}"),
        "--decoding",
        "windowed,greedy",
        "--samples",
        "4",
        "--horizon",
        "3",
        "--episodes",
        "1",
        "--steps",
        "20",
        "--every",
        "10",
        "--probe-samples",
        "8",
        "--probe-horizon",
        "5",
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("2 states along 1 ground-truth MPC episodes (K 8, N 5)"),
        "{stdout}"
    );
    let gt_line = stdout
        .lines()
        .find(|l| l.starts_with("gt "))
        .unwrap_or_default();
    assert!(gt_line.contains("1.000 [1.000, 1.000]"), "{stdout}");
    assert!(
        stdout.contains("(windowed)") && stdout.contains("(greedy)"),
        "{stdout}"
    );
    // The same at the states the TDM's own agent visits.
    let (ok, stdout, stderr) = workbench(&[
        "ranking",
        "--env",
        "cartpole-swingup",
        "--model",
        &ckpt,
        "--samples",
        "4",
        "--horizon",
        "3",
        "--episodes",
        "1",
        "--steps",
        "20",
        "--every",
        "10",
        "--probe-model",
        &ckpt,
        "--probe-samples",
        "4",
        "--probe-horizon",
        "2",
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("2 states along 1 tdm (m.safetensors) MPC episodes (K 4, N 2)"),
        "{stdout}"
    );
    let (ok, stdout, stderr) = workbench(&[
        "eval",
        "--env",
        "cartpole-swingup",
        "--model",
        &model,
        "--samples",
        "4",
        "--horizon",
        "2",
        "--episodes",
        "1",
        "--max-steps",
        "3",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("tdm (m.safetensors)"), "{stdout}");
    // Data from the learned model's own agent, with branches; the dataset names the model.
    let own = dir.join("own").to_string_lossy().to_string();
    let collect_own = |policy: &str| {
        workbench(&[
            "collect",
            "--env",
            "cartpole-swingup",
            "--policy",
            policy,
            "--model",
            &model,
            "--samples",
            "4",
            "--horizon",
            "2",
            "--episodes",
            "1",
            "--max-steps",
            "5",
            "--out",
            &own,
        ])
    };
    let (ok, stdout, stderr) = collect_own("mpc-branching");
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("collected 1 episodes (5 steps)"),
        "{stdout}"
    );
    let meta = std::fs::read_to_string(dir.join("own").join("meta.json")).unwrap_or_default();
    assert!(
        meta.contains("tdm (m.safetensors)") && meta.contains("\"decoding\": \"windowed\""),
        "{meta}"
    );
    // A policy that does not plan has no use for a model: refused, nothing written.
    let (ok, _, stderr) = collect_own("brownian");
    assert!(!ok && stderr.contains("--policy mpc"), "{stderr}");
    // A checkpoint for the wrong scene is refused with the reason.
    let (ok, _, stderr) = workbench(&[
        "eval",
        "--env",
        "walker-stand",
        "--model",
        &model,
        "--episodes",
        "1",
        "--max-steps",
        "2",
    ]);
    assert!(
        !ok && stderr.contains("cartpole-swingup") && stderr.contains("24 obs"),
        "{stderr}"
    );
    // A shard spec that cannot be.
    let (ok, _, stderr) = workbench(&[
        "collect",
        "--env",
        "cartpole-swingup",
        "--policy",
        "zero",
        "--episodes",
        "2",
        "--shard",
        "3/2",
        "--out",
        &data,
    ]);
    assert!(!ok && stderr.contains("'3/2'"), "{stderr}");
}

#[test]
fn eval_resumes_from_its_results_file_without_losing_episodes() {
    let dir = std::env::temp_dir().join(format!("tdm-cli-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let json = |name: &str| dir.join(name).to_string_lossy().to_string();
    let eval_horizons = |horizons: &str, episodes: &str, file: &str, resume: bool| {
        let mut args = vec![
            "eval",
            "--env",
            "cartpole-swingup",
            "--samples",
            "4",
            "--horizon",
            horizons,
            "--max-steps",
            "15",
            "--episodes",
            episodes,
            "--json",
            file,
        ];
        if resume {
            args.push("--resume");
        }
        workbench(&args)
    };
    let eval =
        |episodes: &str, file: &str, resume: bool| eval_horizons("3,5", episodes, file, resume);
    let returns = |file: &str| -> Vec<Vec<f64>> {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s["returns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_f64().unwrap())
                    .collect()
            })
            .collect()
    };
    let (whole, part) = (json("whole.json"), json("part.json"));
    let (ok, _, stderr) = eval("3", &whole, false);
    assert!(ok, "{stderr}");
    // One episode, then resumed to three: the same episodes as the uninterrupted run.
    let (ok, _, stderr) = eval("1", &part, false);
    assert!(ok, "{stderr}");
    assert_eq!(
        returns(&part).iter().map(Vec::len).collect::<Vec<_>>(),
        [1, 1]
    );
    let (ok, stdout, stderr) = eval("3", &part, true);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("2 settings, 2 episodes recorded"),
        "{stdout}"
    );
    assert_eq!(returns(&part), returns(&whole));
    // Asking for fewer reports fewer but keeps every recorded episode in the file.
    let (ok, stdout, stderr) = eval("2", &part, true);
    assert!(ok, "{stderr}");
    assert!(stdout.lines().any(|l| l.contains(" 2 ")), "{stdout}");
    assert_eq!(returns(&part), returns(&whole));
    // Another setting is not a continuation: its episodes are run, the file's others kept.
    let (ok, _, stderr) = eval_horizons("7", "1", &part, true);
    assert!(ok, "{stderr}");
    assert_eq!(
        returns(&part).iter().map(Vec::len).collect::<Vec<_>>(),
        [1, 3, 3]
    );
    // A file that is not a results file is named and left alone.
    let bad = json("bad.json");
    std::fs::write(&bad, "not json").unwrap();
    let (ok, _, stderr) = eval("1", &bad, true);
    assert!(!ok && stderr.contains("bad.json"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), "not json");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ranking_applies_the_warm_start_and_proposal_options_or_refuses_them() {
    let ranking = |extra: &[&str]| {
        let mut args = vec![
            "ranking",
            "--env",
            "cartpole-swingup",
            "--samples",
            "4",
            "--horizon",
            "2",
            "--episodes",
            "1",
            "--steps",
            "4",
            "--every",
            "2",
            "--probe-samples",
            "4",
            "--probe-horizon",
            "2",
        ];
        args.extend_from_slice(extra);
        workbench(&args)
    };
    // Without warm start the probe agent plans every step afresh, and says so.
    let (ok, stdout, stderr) = ranking(&["--no-warm-start"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("2 states along 1 ground-truth MPC episodes (K 4, N 2, no warm start)"),
        "{stdout}"
    );
    let (ok, stdout, stderr) = ranking(&[]);
    assert!(ok, "{stderr}");
    assert!(!stdout.contains("no warm start"), "{stdout}");
    // Ground truth has no policy to propose candidates: refused, not ignored.
    let (ok, _, stderr) = ranking(&["--proposal-mix", "0.5"]);
    assert!(
        !ok && stderr.contains("--proposal-mix 0.5") && stderr.contains("no policy"),
        "{stderr}"
    );
}

#[test]
fn eval_records_the_planner_method_and_refuses_bad_knobs_naming_the_flag() {
    let dir = std::env::temp_dir().join(format!("tdm-cli-planners-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("cem.json").to_string_lossy().to_string();
    let eval = |extra: &[&str]| {
        let mut args = vec![
            "eval",
            "--env",
            "cartpole-swingup",
            "--samples",
            "4",
            "--horizon",
            "3",
            "--max-steps",
            "4",
            "--episodes",
            "1",
        ];
        args.extend_from_slice(extra);
        workbench(&args)
    };
    let (ok, stdout, stderr) = eval(&[
        "--planner",
        "cem",
        "--iterations",
        "2",
        "--elites",
        "2",
        "--json",
        &json,
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("planner: cem (2 iterations, 2 elites, smoothing 0.1)"),
        "{stdout}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let method = &v[0]["planner"]["method"];
    assert_eq!(method["kind"], "cem", "{v}");
    assert_eq!(method["iterations"], 2, "{v}");
    for (extra, flag) in [
        (&["--planner", "cmaes"][..], "--planner"),
        (&["--planner", "cem", "--elites", "4"][..], "--elites 4"),
        (
            &["--planner", "mppi", "--temperature", "0"][..],
            "--temperature 0",
        ),
        (
            &["--planner", "mppi", "--elites", "2"][..],
            "--elites applies",
        ),
        (
            &["--planner", "predictive-sampling", "--iterations", "0"][..],
            "--iterations 0",
        ),
    ] {
        let (ok, _, stderr) = eval(extra);
        assert!(!ok && stderr.contains(flag), "{extra:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
