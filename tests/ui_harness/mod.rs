//! The window under test: a harness around the workbench app (headless, wgpu on a software
//! adapter, paused, wall-clock timings hidden) and golden-image comparison.
use egui_kittest::{Harness, SnapshotOptions};
use tdm_workbench::ui::{AppOptions, SceneSource, WorkbenchApp};

pub fn harness(scene: &str) -> Harness<'static, WorkbenchApp> {
    harness_with_step(scene, 0.25)
}

pub fn harness_with_step(scene: &str, step_dt: f32) -> Harness<'static, WorkbenchApp> {
    let scene = SceneSource::Task(scene.to_string());
    let mut h = Harness::builder()
        .with_size([1100.0, 680.0])
        .with_step_dt(step_dt)
        .wgpu()
        .build_eframe(move |cc| {
            let mut app = WorkbenchApp::new(
                cc,
                AppOptions {
                    scene,
                    start_paused: true,
                    ..AppOptions::default()
                },
            )
            .expect("the app starts");
            app.show_timings = false;
            app
        });
    h.run_steps(3);
    h
}

pub fn snapshot(h: &mut Harness<'static, WorkbenchApp>, name: &str) {
    // GL on llvmpipe and Vulkan on lavapipe differ in a few edge pixels.
    h.snapshot_options(name, &SnapshotOptions::new().max_failed_pixels(400));
}
