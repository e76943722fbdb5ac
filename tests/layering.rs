//! The layering rule of ARCHITECTURE.md: the core modules never name a GUI crate, the renderer
//! never names egui (only `ui` does), the window's egui-free state (`session`) names no GUI
//! crate, and every layer uses only the layers below it (read from the `crate::...` paths in its
//! files).
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
const GUI_CRATES: [&str; 6] = ["egui", "eframe", "egui_wgpu", "wgpu", "rfd", "egui_file"];

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

/// The Rust files of the top-level module `module` (`src/module/**` and `src/module.rs`).
fn module_files(module: &str) -> Vec<std::path::PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join(module), &mut files);
    let single = src.join(format!("{module}.rs"));
    if single.exists() {
        files.push(single);
    }
    files
}

/// Lines of the files of `modules` that name one of `crates`, and how many files were read.
fn offenders_in(modules: &[&str], crates: &[&str]) -> (Vec<String>, usize) {
    let mut offenders = Vec::new();
    let mut checked = 0;
    for module in modules {
        for file in module_files(module) {
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
    let (offenders, checked) = offenders_in(
        &["render"],
        &["egui", "eframe", "egui_wgpu", "rfd", "egui_file"],
    );
    assert!(checked > 0, "no render files found");
    assert!(
        offenders.is_empty(),
        "render names UI crates:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_session_state_does_not_import_gui_crates() {
    let (offenders, checked) = offenders_in(&["session"], &GUI_CRATES);
    assert!(checked > 0, "no session files found");
    assert!(
        offenders.is_empty(),
        "session names GUI crates:\n{}",
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

/// The layers from the bottom up: a layer may use the layers of lower rank, never those of its
/// own rank (siblings) or above. `tokenize` sits beside `envs`; `render`, `session` (the window's
/// state without egui) and `ui` are on top of the core; `cli`, which also opens the window and
/// renders, is above everything.
const LAYERS: [(&str, u8); 11] = [
    ("sim", 0),
    ("envs", 1),
    ("tokenize", 1),
    ("data", 2),
    ("models", 3),
    ("plan", 4),
    ("experiment", 5),
    ("render", 6),
    ("session", 7),
    ("ui", 8),
    ("cli", 9),
];
/// Used by any layer; they use only each other.
const UTILITIES: [&str; 2] = ["files", "chart"];

fn rank(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|&(_, r)| r)
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The top-level modules `text` names through `crate::` paths (`crate::envs::Task`,
/// `use crate::{data::Episode, plan::Planner}`), each with its 1-based line; comments are
/// skipped.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let code: Vec<&str> = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect();
    let joined = code.join("\n");
    let line_of = |at: usize| joined[..at].matches('\n').count() + 1;
    let mut found = Vec::new();
    for (i, _) in joined.match_indices("crate::") {
        if joined[..i].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let rest = &joined[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The first segment of each item of the group, at its top level.
            let mut depth = 0;
            let mut item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && depth == 0 && is_ident(c) => {
                        let name: String =
                            group[j..].chars().take_while(|&c| is_ident(c)).collect();
                        found.push((line_of(i), name));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
            if !name.is_empty() {
                found.push((line_of(i), name));
            }
        }
    }
    found
}

#[test]
fn every_layer_uses_only_the_layers_below_it() {
    let mut offenders = Vec::new();
    let mut checked = 0;
    let modules = LAYERS.iter().map(|&(m, _)| m).chain(UTILITIES);
    for module in modules {
        for file in module_files(module) {
            checked += 1;
            let text = std::fs::read_to_string(&file).unwrap();
            for (line, used) in crate_paths(&text) {
                if used == module || UTILITIES.contains(&used.as_str()) {
                    continue;
                }
                let allowed = match (rank(module), rank(&used)) {
                    (Some(r), Some(u)) => u < r,
                    _ => false,
                };
                if !allowed {
                    offenders.push(format!("{}:{line}: {module} uses {used}", file.display()));
                }
            }
        }
    }
    assert!(checked > 0, "no source files found");
    assert!(
        offenders.is_empty(),
        "imports against the layer order (sim < envs, tokenize < data < models < plan < \
         experiment < render < session < ui < cli; files and chart for all):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_place_in_the_order() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut unplaced = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        let path = entry.path();
        let name = if path.is_dir() {
            path.file_name()
        } else if path.extension().is_some_and(|e| e == "rs") {
            path.file_stem()
        } else {
            continue;
        };
        let name = name.unwrap().to_string_lossy().into_owned();
        if name != "lib"
            && name != "main"
            && rank(&name).is_none()
            && !UTILITIES.contains(&name.as_str())
        {
            unplaced.push(name);
        }
    }
    assert!(
        unplaced.is_empty(),
        "modules outside the layer order: {unplaced:?}"
    );
}

#[test]
fn the_checker_reads_crate_paths() {
    let names =
        |text: &str| -> Vec<String> { crate_paths(text).into_iter().map(|(_, m)| m).collect() };
    assert_eq!(names("use crate::envs::Task;"), ["envs"]);
    assert_eq!(names("    let p = crate::plan::Planner::new(c);"), ["plan"]);
    assert_eq!(
        names("use crate::{\n    data::Episode,\n    models::{tdm::Tdm, GroundTruth},\n};"),
        ["data", "models"]
    );
    assert_eq!(names("use crate::files;"), ["files"]);
    assert!(names("// crate::ui is drawn elsewhere").is_empty());
    assert!(names("use other_crate::ui::X;").is_empty());
    assert_eq!(crate_paths("\n\nuse crate::ui::App;")[0].0, 3);
    assert_eq!(rank("tokenize"), rank("envs"));
    assert!(rank("sim") < rank("envs") && rank("experiment") < rank("cli"));
}
