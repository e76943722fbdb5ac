//! `train` refuses bad options, an existing output, a resume with changed settings and
//! non-finite weights; an interrupted run saves and says how to resume.
use std::process::Command;

mod cli_harness;
use cli_harness::{collect_brownian, workbench};

/// A folder with a tiny Brownian cartpole dataset in `data`.
fn tiny_training_dir(name: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("tdm-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    collect_brownian(&dir.join("data"), 2, 20);
    let data = dir.join("data").to_string_lossy().to_string();
    (dir, data)
}

/// `train` of a tiny TDM for `steps` steps, then `more`.
fn train_args<'a>(data: &'a str, out: &'a str, steps: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "train",
        "--data",
        data,
        "--out",
        out,
        "--preset",
        "tiny",
        "--steps",
        steps,
        "--batch",
        "2",
        "--eval-every",
        "0",
    ];
    args.extend_from_slice(more);
    args
}

#[test]
fn train_refuses_bad_options_an_existing_output_changed_settings_and_nan_weights() {
    let (dir, data) = tiny_training_dir("train-refusals");
    let ckpt = dir.join("m.safetensors").to_string_lossy().to_string();
    let (ok, _, stderr) = workbench(&train_args(&data, &ckpt, "3", &["--lr", "nan"]));
    assert!(
        !ok && stderr.contains("--lr NaN: must be a finite number > 0"),
        "{stderr}"
    );
    assert!(!dir.join("m.safetensors").exists());
    let (ok, _, stderr) = workbench(&train_args(&data, &ckpt, "3", &[]));
    assert!(ok, "{stderr}");
    // A second run over it is refused unless --force (replace) or --resume (continue).
    let (ok, _, stderr) = workbench(&train_args(&data, &ckpt, "3", &[]));
    assert!(
        !ok && stderr.contains("m.safetensors already exists")
            && stderr.contains("--force")
            && stderr.contains("--resume"),
        "{stderr}"
    );
    let (ok, _, stderr) = workbench(&train_args(&data, &ckpt, "3", &["--force", "--seed", "2"]));
    assert!(ok, "{stderr}");
    // A resume with other settings names each difference.
    let (ok, _, stderr) = workbench(&train_args(
        &data,
        &ckpt,
        "4",
        &["--resume", "--lr", "0.002"],
    ));
    assert!(
        !ok && stderr.contains("lr: checkpoint 0.001, now 0.002")
            && stderr.contains("seed: checkpoint 2, now 0")
            && stderr.contains("--accept-changed-settings"),
        "{stderr}"
    );
    let (ok, stdout, stderr) = workbench(&train_args(
        &data,
        &ckpt,
        "4",
        &["--resume", "--lr", "0.002", "--accept-changed-settings"],
    ));
    assert!(ok && stdout.contains("4 steps"), "{stderr}");
    // A checkpoint with a NaN weight is refused as a starting point, naming the tensor.
    let bytes = std::fs::read(&ckpt).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut tensors: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    let tok = tensors.iter_mut().find(|t| t.0 == "tok.weight").unwrap();
    tok.3[..4].copy_from_slice(&f32::NAN.to_le_bytes());
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(n, d, s, b)| {
            let view = safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap();
            (n.clone(), view)
        })
        .collect();
    let nan = dir.join("nan.safetensors");
    std::fs::write(
        &nan,
        safetensors::serialize(views, header.metadata().clone()).unwrap(),
    )
    .unwrap();
    let other = dir.join("other.safetensors").to_string_lossy().to_string();
    let nan = nan.to_string_lossy().to_string();
    let (ok, _, stderr) = workbench(&train_args(&data, &other, "3", &["--init", &nan]));
    assert!(
        !ok && stderr.contains("nan.safetensors: tensor 'tok.weight' holds a non-finite value"),
        "{stderr}"
    );
    assert!(!dir.join("other.safetensors").exists());
}

#[test]
fn an_interrupted_training_saves_exits_130_and_says_how_to_resume() {
    use std::io::BufRead;
    let (dir, data) = tiny_training_dir("train-interrupt");
    let ckpt = dir.join("m.safetensors").to_string_lossy().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tdm-workbench"))
        .args(train_args(
            &data,
            &ckpt,
            "100000000",
            &["--save-every", "0"],
        ))
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut text = String::new();
    // The first line is printed once the Ctrl-C handler is installed.
    stderr.read_line(&mut text).unwrap();
    assert!(text.starts_with("training "), "{text}");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{text}");
    assert!(
        text.contains("interrupted at step") && text.contains("--resume to continue"),
        "{text}"
    );
    assert!(dir.join("m.safetensors").exists());
    assert!(dir.join("m.safetensors.train.safetensors").exists());
}

#[test]
fn a_step_too_large_for_memory_is_refused_before_training() {
    let (dir, data) = tiny_training_dir("train-step-memory");
    let ckpt = dir.join("m.safetensors").to_string_lossy().to_string();
    // Once aborted with "memory allocation of 16000000000000 bytes failed".
    let (ok, _, stderr) = workbench(&train_args(&data, &ckpt, "2", &["--context", "1000000"]));
    assert!(
        !ok && stderr.contains("--context 1000000") && stderr.contains("GiB limit"),
        "{stderr}"
    );
    let (ok, _, stderr) = workbench(&[
        "train",
        "--data",
        &data,
        "--out",
        &ckpt,
        "--steps",
        "2",
        "--batch",
        "100000000",
    ]);
    assert!(
        !ok && stderr.contains("--batch 100000000") && stderr.contains("GiB limit"),
        "{stderr}"
    );
    assert!(!dir.join("m.safetensors").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
