//! The layering rule of DESIGN.md: the core modules never name a GUI crate, and the renderer
//! never names egui (only `ui` does).
use std::path::Path;

const CORE: [&str; 7] = [
    "sim",
    "envs",
    "tokenize",
    "data",
    "models",
    "plan",
    "experiment",
];
const GUI_CRATES: [&str; 5] = ["egui", "eframe", "egui_wgpu", "wgpu", "rfd"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// True when `line` names `krate` as a path root (`use wgpu::..`, `wgpu::Device`, `extern crate`).
fn names_crate(line: &str, krate: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices(krate).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = &code[i + krate.len()..];
        let starts_ident = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        starts_ident
            && (after.starts_with("::") || after.starts_with(';') || after.starts_with(" as "))
    })
}

/// Lines of the files of `modules` that name one of `crates`, and how many files were read.
fn offenders_in(modules: &[&str], crates: &[&str]) -> (Vec<String>, usize) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut checked = 0;
    for module in modules {
        let mut files = Vec::new();
        rust_files(&src.join(module), &mut files);
        let single = src.join(format!("{module}.rs"));
        if single.exists() {
            files.push(single);
        }
        for file in files {
            checked += 1;
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                for krate in crates {
                    if names_crate(line, krate) {
                        offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    (offenders, checked)
}

#[test]
fn core_modules_do_not_import_gui_crates() {
    let (offenders, checked) = offenders_in(&CORE, &GUI_CRATES);
    assert!(checked > 0, "no core files found");
    assert!(
        offenders.is_empty(),
        "core modules name GUI crates:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_renderer_does_not_import_egui() {
    let (offenders, checked) = offenders_in(&["render"], &["egui", "eframe", "egui_wgpu", "rfd"]);
    assert!(checked > 0, "no render files found");
    assert!(
        offenders.is_empty(),
        "render names UI crates:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_checker_catches_imports() {
    assert!(names_crate("use egui::Ui;", "egui"));
    assert!(names_crate("    let d: wgpu::Device = todo!();", "wgpu"));
    assert!(names_crate("use rfd as dialogs;", "rfd"));
    assert!(!names_crate("// egui::Ui is drawn elsewhere", "egui"));
    assert!(!names_crate("use my_egui_helpers::x;", "egui"));
}
