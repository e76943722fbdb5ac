//! The 3D viewport widget: the only bridge between egui and `render`. Input (orbit, pan, zoom,
//! double-click picking) moves the camera; an egui-wgpu paint callback asks the renderer (kept in
//! egui-wgpu's callback resources) to draw the frame's draw list into the viewport's rectangle.
use crate::render::{DrawList, FrameStats, OrbitCamera, RenderQuality, Renderer, pick};
use egui_wgpu::{CallbackResources, CallbackTrait, ScreenDescriptor};
use std::sync::{Arc, Mutex};

/// The viewport's on-screen state (the camera itself is `session::View`'s).
pub struct ViewportState {
    /// Renderer cost of the last frame (written by the paint callback).
    pub stats: Arc<Mutex<FrameStats>>,
    /// Viewport size in physical pixels at the last frame.
    pub size_px: [u32; 2],
    /// Where the viewport was on screen at the last frame (points).
    pub rect: egui::Rect,
}

impl Default for ViewportState {
    fn default() -> Self {
        Self {
            stats: Arc::new(Mutex::new(FrameStats::default())),
            size_px: [1, 1],
            rect: egui::Rect::NOTHING,
        }
    }
}

impl ViewportState {
    pub fn frame_stats(&self) -> FrameStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }
}

/// The quality for this adapter: low on a software rasteriser, high on a GPU.
pub fn default_quality(render_state: &egui_wgpu::RenderState) -> RenderQuality {
    RenderQuality::for_adapter(&render_state.adapter.get_info())
}

/// Puts a renderer at `quality` into egui-wgpu's callback resources (at start-up, and again
/// when the user changes the quality: it replaces the one there).
pub fn install_renderer(render_state: &egui_wgpu::RenderState, quality: RenderQuality) {
    let renderer = Renderer::new(&render_state.device, render_state.target_format, quality);
    render_state
        .renderer
        .write()
        .callback_resources
        .insert(renderer);
}

struct ViewCallback {
    list: Arc<DrawList>,
    camera: OrbitCamera,
    size_px: [u32; 2],
    stats: Arc<Mutex<FrameStats>>,
}

impl CallbackTrait for ViewCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &ScreenDescriptor,
        encoder: &mut wgpu::CommandEncoder,
        resources: &mut CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        if let Some(r) = resources.get_mut::<Renderer>() {
            r.prepare(
                device,
                queue,
                encoder,
                &self.list,
                &self.camera,
                self.size_px,
            );
            if let Ok(mut s) = self.stats.lock() {
                *s = r.stats();
            }
        }
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &CallbackResources,
    ) {
        if let Some(r) = resources.get::<Renderer>() {
            r.paint(pass);
        }
    }
}

/// What happened in the viewport this frame.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ViewportResponse {
    /// A double-click: the body under the cursor, or `Some(None)` for empty space.
    pub picked: Option<Option<usize>>,
    /// A single click, in viewport coordinates (points from the top-left corner).
    pub clicked: Option<[f32; 2]>,
    /// The camera was panned this frame.
    pub panned: bool,
    /// Where the pointer rests over the view (viewport coordinates), while it is not dragging.
    pub hovered: Option<[f32; 2]>,
}

/// Draws the viewport filling the available space and handles its mouse input.
pub fn viewport_ui(
    ui: &mut egui::Ui,
    state: &mut ViewportState,
    camera: &mut OrbitCamera,
    list: Arc<DrawList>,
) -> ViewportResponse {
    let (rect, response) =
        ui.allocate_exact_size(ui.available_size(), egui::Sense::click_and_drag());
    let mut out = ViewportResponse::default();
    let delta = response.drag_delta();
    if response.dragged_by(egui::PointerButton::Primary) {
        camera.orbit(delta.x, delta.y);
    } else if response.dragged_by(egui::PointerButton::Secondary)
        || response.dragged_by(egui::PointerButton::Middle)
    {
        camera.pan(delta.x, delta.y, rect.height());
        out.panned = delta != egui::Vec2::ZERO;
    }
    if response.hovered()
        && !response.dragged()
        && let Some(pos) = response.hover_pos()
    {
        let local = pos - rect.min;
        out.hovered = Some([local.x, local.y]);
    }
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            camera.zoom(scroll);
        }
    }
    if response.clicked()
        && let Some(pos) = response.interact_pointer_pos().or(response.hover_pos())
    {
        let local = pos - rect.min;
        out.clicked = Some([local.x, local.y]);
    }
    if response.double_clicked()
        && let Some(pos) = response.interact_pointer_pos().or(response.hover_pos())
    {
        let local = pos - rect.min;
        let (origin, dir) = camera.ray(local.x, local.y, rect.width(), rect.height());
        let radii: Vec<f32> = list
            .model_meshes
            .iter()
            .map(|m| {
                m.vertices
                    .iter()
                    .map(|v| glam::Vec3::from(*v).length())
                    .fold(0.0, f32::max)
            })
            .collect();
        let hit = pick(&list, origin, dir, &|k| {
            radii.get(k).copied().unwrap_or(1.0)
        });
        out.picked = Some(hit.map(|h| h.body));
    }
    state.rect = rect;
    let ppp = ui.ctx().pixels_per_point();
    state.size_px = [
        (rect.width() * ppp).round().max(1.0) as u32,
        (rect.height() * ppp).round().max(1.0) as u32,
    ];
    ui.painter().add(egui_wgpu::Callback::new_paint_callback(
        rect,
        ViewCallback {
            list,
            camera: *camera,
            size_px: state.size_px,
            stats: state.stats.clone(),
        },
    ));
    out
}
