//! Runs the built binary as a user does, for the command-line tests.
use std::process::Command;

/// Runs `tdm-workbench ARGS`: (exit status success, stdout, stderr).
pub fn workbench(args: &[&str]) -> (bool, String, String) {
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

/// `collect` of `episodes` cartpole episodes of at most `max_steps` steps under Brownian noise
/// into `out` (asserted to succeed).
#[allow(dead_code)] // not every test binary that includes the harness collects
pub fn collect_brownian(out: &std::path::Path, episodes: usize, max_steps: usize) {
    let (episodes, max_steps) = (episodes.to_string(), max_steps.to_string());
    let (ok, _, stderr) = workbench(&[
        "collect",
        "--env",
        "cartpole-swingup",
        "--policy",
        "brownian",
        "--episodes",
        &episodes,
        "--max-steps",
        &max_steps,
        "--out",
        out.to_str().expect("a UTF-8 path"),
    ]);
    assert!(ok, "{stderr}");
}
