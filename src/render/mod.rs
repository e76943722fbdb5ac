//! The 3D renderer (wgpu): an orbit camera, unit primitive meshes, plain-data draw lists built
//! from the sim core's scene geometry, CPU picking, and the pipelines that draw them with
//! lighting, shadows and a checker floor. Knows nothing of egui; `ui::viewport` is the bridge.
pub mod camera;
pub mod draw_list;
pub mod headless;
pub mod image;
pub mod pick;
mod pipelines;
pub mod primitives;
mod readback;
pub mod renderer;
mod targets;

pub use camera::OrbitCamera;
pub use draw_list::{DrawInstance, DrawList, GpuInstance, LineVertex, MeshId, SceneStyle};
pub use pick::{Hit, pick};
pub use renderer::{FrameStats, Renderer};
pub use targets::RenderQuality;
