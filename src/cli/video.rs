//! `render --video DATASET`: an episode of a dataset as an animated PNG (APNG, which browsers
//! and most image viewers play; no video encoder is needed), drawn with the workbench's renderer
//! off any window. Each frame poses the scene from the episode's observation (the task's
//! `pose_from_obs`, as the window's ghosts are posed), and the camera follows the root body.
use super::render::{RenderArgs, draw_list, framed_camera};
use crate::data::Dataset;
use crate::render::headless::HeadlessRenderer;
use crate::render::image::encode_apng;
use crate::sim::{SceneGeometry, Sim};
use anyhow::{Context, bail};
use std::path::Path;

/// At most this many frames (memory: one frame at a time is encoded, but the file grows).
const MAX_FRAMES: usize = 3000;

pub fn run(args: &RenderArgs, dataset: &Path) -> anyhow::Result<()> {
    if !(args.fps.is_finite() && args.fps > 0.0 && args.fps <= 120.0) {
        bail!("--fps {}: expected a rate in (0, 120]", args.fps);
    }
    let task = super::open_task(&args.env)?;
    let spec = task.spec().clone();
    let data = Dataset::open(dataset)?;
    let meta = data.meta();
    let Some(entry) = meta.episodes.iter().find(|e| e.index == args.episode) else {
        bail!(
            "{}: no episode {} (it holds {} episodes)",
            dataset.display(),
            args.episode,
            meta.episode_count
        );
    };
    if (meta.env.observation_size, meta.env.action_size)
        != (spec.observation_size, spec.action_size)
    {
        bail!(
            "{}: episodes of '{}' ({} obs, {} act) do not fit --env {} ({} obs, {} act)",
            dataset.display(),
            meta.env.name,
            meta.env.observation_size,
            meta.env.action_size,
            args.env,
            spec.observation_size,
            spec.action_size
        );
    }
    let episode = data.load(entry)?;
    // One frame every 1/fps seconds of simulated time.
    let stride = ((1.0 / args.fps) / spec.control_dt_secs()).round().max(1.0) as usize;
    let steps: Vec<usize> = (0..=episode.len()).step_by(stride).collect();
    if steps.len() > MAX_FRAMES {
        bail!(
            "{} frames at --fps {}: over the {MAX_FRAMES}-frame limit; lower --fps",
            steps.len(),
            args.fps
        );
    }
    let mut gpu = HeadlessRenderer::with_quality(Some(args.quality))?;
    gpu.check_size([args.width, args.height])
        .with_context(|| format!("--width {} --height {}", args.width, args.height))?;

    let mut sim = Sim::new(task.model().clone());
    let mut qpos = sim.data().qpos().to_vec();
    let mut scene = SceneGeometry::new(sim.model(), sim.data());
    let mut camera = None;
    // Frame delay: stride control steps of simulated time.
    let delay_ms = (stride as f64 * spec.control_dt_secs() * 1000.0).round() as u16;
    let bytes = encode_apng(args.width, args.height, steps.len(), delay_ms, |i| {
        let t = steps[i];
        let obs: Vec<f64> = episode.observation(t).iter().map(|&v| v as f64).collect();
        qpos = task.pose_from_obs(&obs, &qpos);
        sim.data_mut().qpos_mut().copy_from_slice(&qpos);
        sim.forward();
        scene.update_poses(sim.data());
        let list = draw_list(&scene);
        let root = scene
            .world_from_body_pos
            .get(1)
            .map(|p| p.map(|v| v as f32));
        let cam = camera.get_or_insert_with(|| {
            let mut c = framed_camera(&list, args.azimuth, args.elevation);
            // About the root, out to the body's reach (as the window frames it).
            if let Some((centre, radius)) = root.and_then(|r| list.framing_about(r)) {
                c.frame(centre, radius);
            }
            c
        });
        // Follow the root body across the floor, as the window's tracking camera does.
        if let Some(root) = root {
            cam.lookat[0] = root[0];
            cam.lookat[1] = root[1];
        }
        let (_, _, pixels) = gpu
            .render_to_pixels(&list, cam, [args.width, args.height])
            .map_err(|e| format!("frame at step {t}: {e}"))?;
        Ok(pixels)
    })
    .map_err(anyhow::Error::msg)?;
    crate::files::atomic_write(&args.out, &bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "{}: episode {} of {} as {} frames ({} fps, every {} control steps), {}x{}, {:.1} MB (APNG), on {}",
        args.out.display(),
        args.episode,
        dataset.display(),
        steps.len(),
        args.fps,
        stride,
        args.width,
        args.height,
        bytes.len() as f64 / 1e6,
        gpu.adapter
    );
    Ok(())
}
