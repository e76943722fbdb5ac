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
