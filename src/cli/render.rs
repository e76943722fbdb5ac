//! `tdm-workbench render`: a task's scene to a PNG with the workbench's own renderer, and
//! `bench render`: what a frame costs (physics + scene extraction + draw list + GPU encode).
use crate::envs::Env;
use crate::render::headless::HeadlessRenderer;
use crate::render::{DrawList, OrbitCamera, RenderQuality, SceneStyle};
use crate::sim::SceneGeometry;
use anyhow::Context;
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Task name (see `envs`; `walker:FAMILY:DOF:SEED`, `walker:TREE.json`, `mjcf:FILE.xml`).
    #[arg(long)]
    pub(super) env: String,
    /// PNG file to write.
    #[arg(long)]
    pub(super) out: PathBuf,
    /// Control steps of uniform random actions before the picture (0: the initial state).
    #[arg(long, default_value_t = 0)]
    steps: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 960)]
    pub(super) width: u32,
    #[arg(long, default_value_t = 600)]
    pub(super) height: u32,
    /// Camera azimuth (degrees about +z; MuJoCo's convention).
    #[arg(long, default_value_t = 90.0)]
    pub(super) azimuth: f32,
    /// Camera elevation (degrees, negative looks down).
    #[arg(long, default_value_t = -15.0)]
    pub(super) elevation: f32,
    /// Render quality: high (4x MSAA, 2048-pixel shadow map) or low (no MSAA, 1024).
    #[arg(long, default_value = "high")]
    pub(super) quality: RenderQuality,
    /// Write an animated PNG (APNG) of an episode from this dataset folder instead of one
    /// frame (the camera follows the root body).
    #[arg(long, value_name = "DATASET")]
    pub(super) video: Option<PathBuf>,
    /// With --video: the dataset's episode (its index in `data info`).
    #[arg(long, default_value_t = 0)]
    pub(super) episode: usize,
    /// With --video: frames per second of the animation, one frame every 1 / fps of simulated
    /// time (real time; fewer frames than control steps where the control step is shorter).
    #[arg(long, default_value_t = 25.0)]
    pub(super) fps: f64,
}

#[derive(Args, Debug)]
pub struct RenderBenchArgs {
    /// Tasks to measure (default: humanoid-stand and a 20-DoF chain walker).
    #[arg(long = "env")]
    envs: Vec<String>,
    #[arg(long, default_value_t = 300)]
    frames: usize,
    #[arg(long, default_value_t = 1280)]
    width: u32,
    #[arg(long, default_value_t = 720)]
    height: u32,
    /// Qualities to measure, each in turn (default: high, then low).
    #[arg(long = "quality", value_delimiter = ',', default_value = "high,low")]
    qualities: Vec<RenderQuality>,
    /// Imagined trails drawn over the scene, as the planner draws K candidates (20 points each).
    #[arg(long, default_value_t = 128)]
    trails: usize,
}

/// A camera that frames the bodies in `list` from the given direction.
pub fn framed_camera(list: &DrawList, azimuth_deg: f32, elevation_deg: f32) -> OrbitCamera {
    let mut camera = OrbitCamera {
        azimuth_deg,
        elevation_deg,
        ..OrbitCamera::default()
    };
    if let Some((centre, radius)) = list.bounds() {
        camera.frame(centre, radius);
    }
    camera
}

pub(super) fn draw_list(scene: &SceneGeometry) -> DrawList {
    let mut list = DrawList::new(Arc::new(scene.meshes.clone()), 0);
    list.add_scene(scene, &SceneStyle::default());
    list
}

/// Writes RGBA8 pixels as a PNG, atomically.
pub fn write_png(path: &Path, width: u32, height: u32, rgba: &[u8]) -> anyhow::Result<()> {
    let bytes =
        crate::render::image::encode_png(width, height, rgba).map_err(anyhow::Error::msg)?;
    crate::files::atomic_write(path, &bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn random_steps(env: &mut dyn Env, steps: usize, seed: u64) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5EED);
    let n = env.spec().action_size;
    for _ in 0..steps.min(env.spec().episode_steps) {
        let action: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..=1.0)).collect();
        env.step(&action)?;
    }
    Ok(())
}

/// Refuses a non-finite camera angle (it would draw an empty picture).
fn check_angles(azimuth: f32, elevation: f32) -> anyhow::Result<()> {
    for (name, value) in [("--azimuth", azimuth), ("--elevation", elevation)] {
        if !value.is_finite() {
            anyhow::bail!("{name} {value}: the camera angle must be a finite number of degrees");
        }
    }
    Ok(())
}

pub fn run(args: &RenderArgs) -> anyhow::Result<()> {
    check_angles(args.azimuth, args.elevation)?;
    if let Some(dataset) = &args.video {
        return super::video::run(args, dataset);
    }
    let mut env = super::open_env(&args.env)?;
    env.reset(args.seed)?;
    random_steps(env.as_mut(), args.steps, args.seed)?;
    let scene = SceneGeometry::new(env.sim().model(), env.sim().data());
    let list = draw_list(&scene);
    let camera = framed_camera(&list, args.azimuth, args.elevation);
    let mut gpu = HeadlessRenderer::with_quality(Some(args.quality))?;
    gpu.check_size([args.width, args.height])
        .with_context(|| format!("--width {} --height {}", args.width, args.height))?;
    let (w, h, pixels) = gpu.render_to_pixels(&list, &camera, [args.width, args.height])?;
    write_png(&args.out, w, h, &pixels)?;
    println!(
        "{}: {} at t = {:.2} s, {}x{} on {}",
        args.out.display(),
        args.env,
        env.sim().time_secs(),
        w,
        h,
        gpu.adapter
    );
    Ok(())
}

/// Median of `xs` (sorted in place).
fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

pub fn bench(args: &RenderBenchArgs) -> anyhow::Result<()> {
    let envs = if args.envs.is_empty() {
        vec![
            "humanoid-stand".to_string(),
            "walker:chain:20:0".to_string(),
        ]
    } else {
        args.envs.clone()
    };
    for &quality in &args.qualities {
        bench_quality(args, &envs, quality)?;
    }
    println!(
        "(medians; 'CPU total' is the work a UI frame does for the 3D view; 'with raster' adds \
         waiting for the adapter, which on a software adapter is CPU time too)"
    );
    Ok(())
}

/// One quality's table of `bench render`.
fn bench_quality(
    args: &RenderBenchArgs,
    envs: &[String],
    quality: RenderQuality,
) -> anyhow::Result<()> {
    let mut gpu = HeadlessRenderer::with_quality(Some(quality))?;
    gpu.check_size([args.width, args.height])
        .with_context(|| format!("--width {} --height {}", args.width, args.height))?;
    println!(
        "frame cost, {}x{}, {} trails, quality {}, {} frames each, adapter {}",
        args.width,
        args.height,
        args.trails,
        quality.name(),
        args.frames,
        gpu.adapter
    );
    println!(
        "{:<22} {:>6} {:>10} {:>10} {:>10} {:>12} {:>14}",
        "env", "geoms", "physics", "scene", "encode", "CPU total", "with raster"
    );
    for name in envs {
        let mut env = super::open_env(name)?;
        env.reset(0)?;
        let mut scene = SceneGeometry::new(env.sim().model(), env.sim().data());
        let meshes = Arc::new(scene.meshes.clone());
        let mut camera = framed_camera(&draw_list(&scene), 90.0, -15.0);
        let mut rng = StdRng::seed_from_u64(1);
        let n = env.spec().action_size;
        let (mut physics, mut extract, mut encode, mut total, mut with_raster) =
            (vec![], vec![], vec![], vec![], vec![]);
        let mut instances = 0;
        for frame in 0..args.frames {
            let t0 = Instant::now();
            if env.steps_taken() >= env.spec().episode_steps {
                env.reset(frame as u64)?;
            }
            // One frame of real-time playback at 60 Hz is about one control step.
            let action: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..=1.0)).collect();
            if env.step(&action).is_err() {
                env.reset(frame as u64)?;
            }
            let t1 = Instant::now();
            scene.update_poses(env.sim().data());
            let mut list = DrawList::new(meshes.clone(), 0);
            list.add_scene(&scene, &SceneStyle::default());
            add_bench_trails(&mut list, &scene, args.trails, frame);
            instances = list.instances.len();
            camera.orbit(0.5, 0.0);
            let t2 = Instant::now();
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            gpu.renderer.prepare(
                &gpu.device,
                &gpu.queue,
                &mut encoder,
                &list,
                &camera,
                [args.width, args.height],
            );
            let commands = encoder.finish();
            let t3 = Instant::now();
            gpu.queue.submit([commands]);
            gpu.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| anyhow::anyhow!("waiting for the GPU: {e}"))?;
            let t4 = Instant::now();
            if frame >= 10 {
                physics.push((t1 - t0).as_secs_f64());
                extract.push((t2 - t1).as_secs_f64());
                encode.push((t3 - t2).as_secs_f64());
                total.push((t3 - t0).as_secs_f64());
                with_raster.push((t4 - t0).as_secs_f64());
            }
        }
        let ms = |xs: &mut Vec<f64>| format!("{:.3} ms", median(xs) * 1e3);
        println!(
            "{:<22} {:>6} {:>10} {:>10} {:>10} {:>12} {:>14}",
            name,
            instances,
            ms(&mut physics),
            ms(&mut extract),
            ms(&mut encode),
            ms(&mut total),
            ms(&mut with_raster)
        );
    }
    Ok(())
}

/// `count` trails of 20 points fanning out from the root body, as a plan's K candidates do.
fn add_bench_trails(list: &mut DrawList, scene: &SceneGeometry, count: usize, frame: usize) {
    let root = scene
        .world_from_body_pos
        .get(1)
        .copied()
        .unwrap_or([0.0; 3]);
    for k in 0..count {
        let angle = k as f32 / count.max(1) as f32 * std::f32::consts::TAU + frame as f32 * 0.01;
        let points: Vec<[f32; 3]> = (0..20)
            .map(|t| {
                let r = 0.05 * t as f32;
                [
                    root[0] as f32 + r * angle.cos(),
                    root[1] as f32 + r * angle.sin(),
                    root[2] as f32 + 0.02 * t as f32,
                ]
            })
            .collect();
        list.add_polyline(&points, [0.9, 0.8, 0.2, 0.6]);
    }
}
