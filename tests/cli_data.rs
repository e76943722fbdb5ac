//! The command line refuses bad datasets, results files it would drop, and arguments past the
//! machine's limits, with a message that names the file or the argument.

mod cli_harness;
use cli_harness::{collect_brownian, workbench};

/// A fresh folder for one of the hardening tests below.
fn hardening_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tdm-cli-hard-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn data_info_validates_and_training_refuses_what_it_refuses() {
    let dir = hardening_dir("data-info");
    let data = dir.join("data");
    let data_s = data.to_string_lossy().to_string();
    collect_brownian(&data, 2, 10);
    let (ok, stdout, stderr) = workbench(&["data", "info", &data_s]);
    assert!(
        ok && stdout.contains("2 episodes, 20 steps"),
        "{stdout}{stderr}"
    );
    // A return in meta.json that the episode's rewards do not add up to.
    let meta_path = data.join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["episodes"][1]["return"] = 1234.5.into();
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    let (ok, stdout, stderr) = workbench(&["data", "info", &data_s]);
    assert!(!ok, "{stdout}");
    assert!(
        stdout.contains("problem: ")
            && stdout.contains("episode_000001.safetensors: meta.json lists return 1234.5"),
        "{stdout}"
    );
    assert!(stderr.contains("1 problem found"), "{stderr}");
    let ckpt = dir.join("m.safetensors").to_string_lossy().to_string();
    let (ok, _, stderr) = workbench(&[
        "train", "--data", &data_s, "--out", &ckpt, "--preset", "tiny", "--steps", "1",
    ]);
    assert!(
        !ok && stderr.contains("episode_000001.safetensors: meta.json lists return 1234.5"),
        "{stderr}"
    );
    assert!(!std::path::Path::new(&ckpt).exists());
    // A missing episode file: the OS error is said once.
    std::fs::remove_file(data.join("episode_000000.safetensors")).unwrap();
    let (ok, stdout, stderr) = workbench(&["data", "info", &data_s]);
    assert!(!ok && stderr.contains("2 problems found"), "{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains("episode_000000.safetensors"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(line.matches("No such file").count(), 1, "{line}");
}

#[test]
fn eval_refuses_to_drop_an_existing_results_file_and_huge_plans() {
    let dir = hardening_dir("eval-json");
    let json = dir.join("results.json");
    let json_s = json.to_string_lossy().to_string();
    let eval = |extra: &[&str]| {
        let mut args = vec![
            "eval",
            "--env",
            "cartpole-swingup",
            "--samples",
            "4",
            "--horizon",
            "2",
            "--episodes",
            "1",
            "--max-steps",
            "2",
            "--json",
            &json_s,
        ];
        args.extend_from_slice(extra);
        workbench(&args)
    };
    let (ok, _, stderr) = eval(&[]);
    assert!(ok, "{stderr}");
    let before = std::fs::read(&json).unwrap();
    let (ok, _, stderr) = eval(&[]);
    assert!(
        !ok && stderr.contains(&format!("{json_s} already exists"))
            && stderr.contains("--resume")
            && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&json).unwrap(), before);
    let (ok, _, stderr) = eval(&["--force"]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = eval(&["--resume"]);
    assert!(ok, "{stderr}");
    // K x N x sizes over the limit: refused before any planning, saying the limit.
    let (ok, _, stderr) = workbench(&[
        "eval",
        "--env",
        "cartpole-swingup",
        "--samples",
        "100000000",
        "--horizon",
        "50",
    ]);
    assert!(
        !ok && stderr.contains("--samples 100000000") && stderr.contains("GiB limit"),
        "{stderr}"
    );
    // A TDM's key/value caches count too: trajectories of this size alone fit (~0.3 GiB), the
    // caches of 100,000 candidates do not.
    let tdm = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/models/cartpole-swingup-small.safetensors"
    );
    let (ok, _, stderr) = workbench(&[
        "eval",
        "--env",
        "cartpole-swingup",
        "--model",
        tdm,
        "--samples",
        "100000",
        "--horizon",
        "50",
    ]);
    assert!(
        !ok && stderr.contains("--samples 100000 ")
            && stderr.contains("GiB limit")
            && stderr.contains("what the model holds"),
        "{stderr}"
    );
}

#[test]
fn render_refuses_non_finite_angles_and_sizes_over_the_gpu_limit() {
    let dir = hardening_dir("render");
    let png = dir.join("x.png").to_string_lossy().to_string();
    for (flag, value) in [("--azimuth", "NaN"), ("--elevation", "inf")] {
        let (ok, _, stderr) = workbench(&[
            "render",
            "--env",
            "cartpole-swingup",
            "--out",
            &png,
            flag,
            value,
        ]);
        assert!(
            !ok && stderr.contains(&format!(
                "{flag} {}",
                value.to_lowercase().replace("nan", "NaN")
            )) && stderr.contains("finite"),
            "{stderr}"
        );
    }
    assert!(!std::path::Path::new(&png).exists());
    // Past the device's texture limit: refused with the limit, no panic. (Needs an adapter; a
    // machine without one says so instead.)
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tdm-workbench"))
        .args([
            "render",
            "--env",
            "cartpole-swingup",
            "--out",
            &png,
            "--width",
            "100000",
        ])
        .env("WGPU_BACKEND", "gl")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("no GPU adapter")
            || (stderr.contains("--width 100000") && stderr.contains("limit of")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!std::path::Path::new(&png).exists());
}

#[test]
fn a_missing_mjcf_says_the_os_error_once() {
    let (ok, _, stderr) = workbench(&["rollout", "--env", "mjcf:/nonexistent/x.xml"]);
    assert!(!ok, "{stderr}");
    assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");
}

#[test]
fn bench_tdm_leaves_no_scratch_folder_behind_on_success_or_error() {
    let tmp = hardening_dir("bench-tmp");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "bench",
            "tdm",
            "--preset",
            "tiny",
            "--samples",
            "4",
            "--horizon",
            "2",
            "--history",
            "4",
            "--batch",
            "2",
            "--repeats",
            "1",
        ];
        args.extend_from_slice(extra);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tdm-workbench"))
            .args(&args)
            .env("TMPDIR", &tmp)
            .output()
            .expect("the binary runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let left = || std::fs::read_dir(&tmp).unwrap().count();
    let json = std::env::temp_dir().join(format!("tdm-bench-json-{}.json", std::process::id()));
    let (ok, stderr) = run(&["--json", json.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert_eq!(left(), 0, "a scratch folder was left in {}", tmp.display());
    // The figures as JSON, each a positive number.
    let figures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for key in [
        "plan_ms",
        "generated_tokens_per_s",
        "train_tokens_per_s",
        "sgemm_gflops",
        "flop_fraction",
    ] {
        let v = figures[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing: {figures}"));
        assert!(v > 0.0 && v.is_finite(), "{key} = {v}");
    }
    assert_eq!(figures["samples"], 4);
    std::fs::remove_file(&json).ok();
    let (ok, stderr) = run(&["--checkpoint", "/nonexistent/model.safetensors"]);
    assert!(
        !ok && stderr.contains("/nonexistent/model.safetensors"),
        "{stderr}"
    );
    assert_eq!(left(), 0, "a scratch folder was left in {}", tmp.display());
}

#[test]
fn render_at_low_quality_draws_the_same_scene_without_multisampling() {
    let dir = hardening_dir("render-quality");
    let decode = |path: &std::path::Path| -> Vec<u8> {
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        buf
    };
    let mut images = Vec::new();
    for quality in ["high", "low"] {
        let png = dir.join(format!("{quality}.png"));
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tdm-workbench"))
            .args([
                "render",
                "--env",
                "walker-stand",
                "--width",
                "320",
                "--height",
                "200",
            ])
            .args(["--quality", quality, "--out"])
            .arg(&png)
            .env("WGPU_BACKEND", "gl")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("no GPU adapter") {
            return; // a machine without any adapter (the test command installs llvmpipe)
        }
        assert!(out.status.success(), "{stderr}");
        images.push(decode(&png));
    }
    let (high, low) = (&images[0], &images[1]);
    assert_eq!(high.len(), low.len());
    // The same picture (mean brightness within 2%), but not the same pixels: edges and shadows
    // differ without multisampling and with one shadow tap.
    let mean = |v: &[u8]| v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
    let (mh, ml) = (mean(high), mean(low));
    assert!((mh - ml).abs() / mh < 0.02, "high {mh}, low {ml}");
    let differing = high
        .iter()
        .zip(low)
        .filter(|(a, b)| a.abs_diff(**b) > 8)
        .count();
    assert!(differing > 100, "{differing} bytes differ");
    let quality = workbench(&[
        "render",
        "--env",
        "walker-stand",
        "--quality",
        "ultra",
        "--out",
        "x.png",
    ]);
    assert!(!quality.0 && quality.2.contains("ultra"), "{}", quality.2);
}

#[test]
fn render_video_writes_an_episode_as_an_animated_png() {
    let dir = hardening_dir("video");
    let data = dir.join("data");
    collect_brownian(&data, 1, 40);
    let out = dir.join("ep.png");
    let render = |episode: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tdm-workbench"))
            .args([
                "render",
                "--env",
                "cartpole-swingup",
                "--width",
                "64",
                "--height",
                "40",
            ])
            .args([
                "--quality",
                "low",
                "--video",
                data.to_str().unwrap(),
                "--episode",
                episode,
            ])
            .arg("--out")
            .arg(&out)
            .env("WGPU_BACKEND", "gl")
            .output()
            .unwrap()
    };
    let run = render("0");
    let stderr = String::from_utf8_lossy(&run.stderr);
    if stderr.contains("no GPU adapter") {
        return;
    }
    assert!(run.status.success(), "{stderr}");
    // 40 steps of 10 ms at 25 fps: a frame every 4 steps, steps 0, 4, ..., 40.
    let bytes = std::fs::read(&out).unwrap();
    let count = |tag: &[u8]| bytes.windows(4).filter(|w| *w == tag).count();
    assert_eq!(count(b"acTL"), 1, "an animated PNG");
    assert_eq!(count(b"fcTL"), 11);
    let run = render("7");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && stderr.contains("no episode 7"),
        "{stderr}"
    );
}
