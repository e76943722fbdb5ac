//! Gives every binary this package builds (the CLI, unit/integration/doc tests) an rpath to the
//! MuJoCo library that `scripts/setup.sh` unpacks, so `cargo run` / `cargo test` need no
//! LD_LIBRARY_PATH.
use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=MUJOCO_DYNAMIC_LINK_DIR");
    let dir = match std::env::var("MUJOCO_DYNAMIC_LINK_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
            .join("third_party/mujoco"),
    };
    if !dir.join("libmujoco.so").exists() {
        println!(
            "cargo::warning=MuJoCo not found in {}: run scripts/setup.sh first",
            dir.display()
        );
    }
    println!("cargo::rustc-link-arg=-Wl,-rpath,{}", dir.display());
}
