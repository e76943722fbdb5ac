//! The command line as a user runs it: exit codes and messages.
use std::process::Command;

fn workbench(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tdm-workbench"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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
    assert!(stderr.contains("2 of 2 episodes diverged"), "{stderr}");
}
