//! A GPU device with no window: for rendering frames to images from the command line
//! (`tdm-workbench render`, benchmarks). Uses whatever adapter wgpu finds (software ones too);
//! `WGPU_BACKEND` picks the backend as usual.
use super::camera::OrbitCamera;
use super::draw_list::DrawList;
use super::renderer::Renderer;
use super::targets::RenderQuality;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs a future that wgpu's native backends complete without needing an executor.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

/// Why a headless renderer could not start or read a frame back. wgpu's errors are part of
/// the message (not a `source`), so a printed error chain says them once.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error("no GPU adapter (a software one such as llvmpipe will do): {0}")]
    NoAdapter(wgpu::RequestAdapterError),
    #[error("creating a GPU device on {adapter}: {error}")]
    Device {
        adapter: String,
        error: wgpu::RequestDeviceError,
    },
    /// The requested image is larger than the device can render.
    #[error("{width}x{height} pixels is beyond this GPU's limit of {max} per side")]
    TooLarge { width: u32, height: u32, max: u32 },
    /// Reading the frame back from the GPU failed.
    #[error("reading the frame back: {0}")]
    ReadBack(String),
}

/// A device, its queue and a renderer targeting RGBA8.
pub struct HeadlessRenderer {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub renderer: Renderer,
    /// The adapter's name and backend, for reports.
    pub adapter: String,
}

impl HeadlessRenderer {
    /// A renderer at high quality (pictures for files: `render`).
    pub fn new() -> Result<Self, HeadlessError> {
        Self::with_quality(Some(RenderQuality::High))
    }

    /// A renderer at `quality`, or the adapter's default where `None`.
    pub fn with_quality(quality: Option<RenderQuality>) -> Result<Self, HeadlessError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
            .map_err(HeadlessError::NoAdapter)?;
        let info = adapter.get_info();
        let (device, queue) = block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("tdm-workbench headless"),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|error| HeadlessError::Device {
            adapter: info.name.clone(),
            error,
        })?;
        let quality = quality.unwrap_or_else(|| RenderQuality::for_adapter(&info));
        let renderer = Renderer::new(&device, wgpu::TextureFormat::Rgba8Unorm, quality);
        Ok(Self {
            device,
            queue,
            renderer,
            adapter: format!("{} ({:?})", info.name, info.backend),
        })
    }

    /// Draws one frame and waits for the GPU to finish it.
    pub fn render(&mut self, list: &DrawList, camera: &OrbitCamera, size_px: [u32; 2]) {
        let mut encoder = self.device.create_command_encoder(&Default::default());
        self.renderer.prepare(
            &self.device,
            &self.queue,
            &mut encoder,
            list,
            camera,
            size_px,
        );
        self.queue.submit([encoder.finish()]);
    }

    /// Checks that a `size_px` frame fits the device's texture limit (zero sides are drawn as
    /// one pixel by the renderer).
    pub fn check_size(&self, size_px: [u32; 2]) -> Result<(), HeadlessError> {
        let max = self.device.limits().max_texture_dimension_2d;
        if size_px[0] > max || size_px[1] > max {
            return Err(HeadlessError::TooLarge {
                width: size_px[0],
                height: size_px[1],
                max,
            });
        }
        Ok(())
    }

    /// Draws one frame and returns it as RGBA8 pixels; refused when the size is over the
    /// device's limit.
    pub fn render_to_pixels(
        &mut self,
        list: &DrawList,
        camera: &OrbitCamera,
        size_px: [u32; 2],
    ) -> Result<(u32, u32, Vec<u8>), HeadlessError> {
        self.check_size(size_px)?;
        self.render(list, camera, size_px);
        self.renderer
            .read_pixels(&self.device, &self.queue)
            .map_err(|e| HeadlessError::ReadBack(e.to_string()))
    }
}
