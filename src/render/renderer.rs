//! The wgpu renderer: draws a [`DrawList`] into its own multisampled colour + depth targets
//! (after a shadow-map pass), then copies the result into a caller's render pass. Pipelines and
//! unit meshes are created once; each frame only uniforms, instances and lines are uploaded.
//! Knows nothing of egui: the UI hands it a device, a queue, an encoder and a pass. This file
//! holds the per-frame flow; `pipelines`, `targets` and `readback` hold what it draws with,
//! into and reads back from.
use super::camera::OrbitCamera;
use super::draw_list::DEFAULT_LINE_WIDTH_PX;
use super::draw_list::{DrawList, FLAG_CHECKER, MeshId};
use super::pipelines::Pipelines;
use super::primitives::{self, TriMesh};
use super::readback::read_texture;
use super::targets::{RenderQuality, ShadowMap, ViewTargets};
use bytemuck::{Pod, Zeroable};
use glam::{Mat4, Vec3};
use std::time::Instant;
use wgpu::util::DeviceExt;

/// Background colour (display space), matching the fog colour in `scene.wgsl`.
pub const BACKGROUND: [f64; 3] = [0.16, 0.18, 0.22];

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct Globals {
    view_proj: [[f32; 4]; 4],
    light_view_proj: [[f32; 4]; 4],
    eye: [f32; 4],
    light_dir: [f32; 4],
    params: [f32; 4],
    viewport: [f32; 4],
}

struct GpuMesh {
    vertices: wgpu::Buffer,
    indices: wgpu::Buffer,
    index_count: u32,
}

impl GpuMesh {
    fn new(device: &wgpu::Device, mesh: &TriMesh, label: &str) -> Self {
        Self {
            vertices: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(&mesh.vertices),
                usage: wgpu::BufferUsages::VERTEX,
            }),
            indices: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(&mesh.indices),
                usage: wgpu::BufferUsages::INDEX,
            }),
            index_count: mesh.indices.len() as u32,
        }
    }
}

/// A contiguous run of instances drawn with one mesh.
#[derive(Clone, Copy, Debug)]
struct Batch {
    mesh: MeshId,
    start: u32,
    count: u32,
    translucent: bool,
    casts_shadow: bool,
}

/// What a frame of the renderer cost on the CPU side.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameStats {
    /// Time spent in [`Renderer::prepare`] (sorting, uploads, encoding), seconds.
    pub prepare_secs: f64,
    pub instances: usize,
    pub line_segments: usize,
}

/// Pipelines, unit meshes and per-frame buffers for the 3D view.
pub struct Renderer {
    pipelines: Pipelines,
    globals: wgpu::Buffer,
    scene_bind_group: wgpu::BindGroup,
    globals_bind_group: wgpu::BindGroup,
    shadow: ShadowMap,
    builtin: [GpuMesh; 4],
    model_meshes: Vec<GpuMesh>,
    meshes_key: Option<u64>,
    instances: wgpu::Buffer,
    instance_capacity: usize,
    lines: wgpu::Buffer,
    line_capacity: usize,
    batches: Vec<Batch>,
    line_count: u32,
    targets: ViewTargets,
    stats: FrameStats,
    quality: RenderQuality,
    line_width_px: f32,
}

impl Renderer {
    /// Creates pipelines for drawing into a pass whose colour target has `target_format`, at
    /// `quality`.
    pub fn new(
        device: &wgpu::Device,
        target_format: wgpu::TextureFormat,
        quality: RenderQuality,
    ) -> Self {
        let pipelines = Pipelines::new(device, target_format, quality.samples());
        let globals = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("globals"),
            size: std::mem::size_of::<Globals>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let shadow = ShadowMap::new(device, quality.shadow_size());
        let scene_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("scene globals"),
            layout: &pipelines.scene_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: globals.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&shadow.view),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::Sampler(&shadow.sampler),
                },
            ],
        });
        let globals_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("globals only"),
            layout: &pipelines.globals_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: globals.as_entire_binding(),
            }],
        });

        let builtin = [
            GpuMesh::new(device, &primitives::sphere(16, 24), "sphere"),
            GpuMesh::new(device, &primitives::cylinder(24), "cylinder"),
            GpuMesh::new(device, &primitives::cube(), "cube"),
            GpuMesh::new(device, &primitives::quad(), "quad"),
        ];
        let (instance_capacity, line_capacity) = (256, 1024);
        Self {
            instances: Self::vertex_buffer(device, "instances", instance_capacity, 80),
            lines: Self::vertex_buffer(device, "lines", line_capacity, 28),
            pipelines,
            globals,
            scene_bind_group,
            globals_bind_group,
            shadow,
            builtin,
            model_meshes: Vec::new(),
            meshes_key: None,
            instance_capacity,
            line_capacity,
            batches: Vec::new(),
            line_count: 0,
            targets: ViewTargets::new(device, quality.samples()),
            stats: FrameStats::default(),
            quality,
            line_width_px: DEFAULT_LINE_WIDTH_PX,
        }
    }

    fn vertex_buffer(
        device: &wgpu::Device,
        label: &str,
        count: usize,
        stride: u64,
    ) -> wgpu::Buffer {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: count as u64 * stride,
            usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// What the last [`Renderer::prepare`] cost.
    pub fn stats(&self) -> FrameStats {
        self.stats
    }

    fn ensure_meshes(&mut self, device: &wgpu::Device, list: &DrawList) {
        if self.meshes_key == Some(list.meshes_key) {
            return;
        }
        self.model_meshes = list
            .model_meshes
            .iter()
            .map(|m| {
                GpuMesh::new(
                    device,
                    &primitives::from_triangles(&m.vertices, &m.faces),
                    "model mesh",
                )
            })
            .collect();
        self.meshes_key = Some(list.meshes_key);
    }

    fn mesh(&self, id: MeshId) -> Option<&GpuMesh> {
        match id {
            MeshId::Sphere => Some(&self.builtin[0]),
            MeshId::Cylinder => Some(&self.builtin[1]),
            MeshId::Cube => Some(&self.builtin[2]),
            MeshId::Quad => Some(&self.builtin[3]),
            MeshId::Model(k) => self.model_meshes.get(k),
        }
    }

    /// Sorts instances into batches (opaque first, by mesh; then translucent) and uploads them.
    fn upload_instances(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, list: &DrawList) {
        let mut order: Vec<(bool, MeshId, usize)> = list
            .instances
            .iter()
            .enumerate()
            .map(|(i, inst)| (inst.gpu.color[3] < 0.99, inst.mesh, i))
            .collect();
        order.sort_unstable();
        let mut data = Vec::with_capacity(order.len());
        self.batches.clear();
        for (translucent, mesh, i) in order {
            let inst = &list.instances[i];
            let casts_shadow = inst.gpu.flags & FLAG_CHECKER == 0 && !translucent;
            match self.batches.last_mut() {
                Some(b)
                    if b.mesh == mesh
                        && b.translucent == translucent
                        && b.casts_shadow == casts_shadow =>
                {
                    b.count += 1
                }
                _ => self.batches.push(Batch {
                    mesh,
                    start: data.len() as u32,
                    count: 1,
                    translucent,
                    casts_shadow,
                }),
            }
            data.push(inst.gpu);
        }
        if data.len() > self.instance_capacity {
            self.instance_capacity = data.len().next_power_of_two();
            self.instances = Self::vertex_buffer(device, "instances", self.instance_capacity, 80);
        }
        queue.write_buffer(&self.instances, 0, bytemuck::cast_slice(&data));

        if list.lines.len() > self.line_capacity {
            self.line_capacity = list.lines.len().next_power_of_two();
            self.lines = Self::vertex_buffer(device, "lines", self.line_capacity, 28);
        }
        queue.write_buffer(&self.lines, 0, bytemuck::cast_slice(&list.lines));
        self.line_count = list.lines.len() as u32;
        self.line_width_px = list.line_width_px;
    }

    fn globals_for(
        camera: &OrbitCamera,
        size: [u32; 2],
        quality: RenderQuality,
        line_width_px: f32,
    ) -> Globals {
        let aspect = size[0] as f32 / size[1].max(1) as f32;
        let light_dir = Vec3::new(-0.35, -0.45, 1.0).normalize();
        let focus = Vec3::from(camera.lookat);
        let extent = camera.distance_m.clamp(2.0, 40.0);
        let light_view = Mat4::look_at_rh(focus + light_dir * 60.0, focus, Vec3::Y);
        let light_proj = Mat4::orthographic_rh(-extent, extent, -extent, extent, 1.0, 120.0);
        Globals {
            view_proj: camera.view_projection(aspect).to_cols_array_2d(),
            light_view_proj: (light_proj * light_view).to_cols_array_2d(),
            eye: camera.eye().extend(1.0).to_array(),
            light_dir: light_dir.extend(0.0).to_array(),
            params: [
                1.0 / quality.shadow_size() as f32,
                0.55,
                (camera.distance_m * 4.0).clamp(8.0, 200.0),
                if quality.single_shadow_tap() {
                    1.0
                } else {
                    0.0
                },
            ],
            viewport: [size[0] as f32, size[1] as f32, line_width_px, 0.0],
        }
    }

    fn draw_batches(&self, pass: &mut wgpu::RenderPass<'_>, pick: impl Fn(&Batch) -> bool) {
        pass.set_vertex_buffer(1, self.instances.slice(..));
        for b in self.batches.iter().filter(|b| pick(b)) {
            let Some(mesh) = self.mesh(b.mesh) else {
                continue;
            };
            pass.set_vertex_buffer(0, mesh.vertices.slice(..));
            pass.set_index_buffer(mesh.indices.slice(..), wgpu::IndexFormat::Uint32);
            pass.draw_indexed(0..mesh.index_count, 0, b.start..b.start + b.count);
        }
    }

    /// Renders `list` as seen by `camera` into the renderer's own `size_px` target.
    pub fn prepare(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        encoder: &mut wgpu::CommandEncoder,
        list: &DrawList,
        camera: &OrbitCamera,
        size_px: [u32; 2],
    ) {
        let started = Instant::now();
        self.targets
            .ensure(device, size_px, &self.pipelines.blit_layout);
        self.ensure_meshes(device, list);
        self.upload_instances(device, queue, list);
        let Some(targets) = self.targets.current() else {
            return;
        };
        let globals = Self::globals_for(camera, targets.size, self.quality, self.line_width_px);
        queue.write_buffer(&self.globals, 0, bytemuck::bytes_of(&globals));
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("shadow"),
                color_attachments: &[],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &self.shadow.view,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Store,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_pipeline(&self.pipelines.shadow);
            pass.set_bind_group(0, &self.globals_bind_group, &[]);
            self.draw_batches(&mut pass, |b| b.casts_shadow);
        }
        {
            let [r, g, b] = BACKGROUND;
            // With multisampling the pass resolves into `resolved`; without, it draws there.
            let (view, resolve_target, store) = match &targets.msaa_color {
                Some(msaa) => (msaa, Some(&targets.resolved_view), wgpu::StoreOp::Discard),
                None => (&targets.resolved_view, None, wgpu::StoreOp::Store),
            };
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("scene"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view,
                    depth_slice: None,
                    resolve_target,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color { r, g, b, a: 1.0 }),
                        store,
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &targets.depth,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Discard,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_bind_group(0, &self.scene_bind_group, &[]);
            pass.set_pipeline(&self.pipelines.scene);
            self.draw_batches(&mut pass, |b| !b.translucent);
            if self.line_count > 0 {
                pass.set_pipeline(&self.pipelines.line);
                pass.set_bind_group(0, &self.globals_bind_group, &[]);
                pass.set_vertex_buffer(0, self.lines.slice(..));
                // Six corners per segment (two triangles), one instance per segment.
                pass.draw(0..6, 0..self.line_count / 2);
                pass.set_bind_group(0, &self.scene_bind_group, &[]);
            }
            pass.set_pipeline(&self.pipelines.translucent);
            self.draw_batches(&mut pass, |b| b.translucent);
        }
        self.stats = FrameStats {
            prepare_secs: started.elapsed().as_secs_f64(),
            instances: list.instances.len(),
            line_segments: list.lines.len() / 2,
        };
    }

    /// Draws the last prepared frame into `pass` (whose viewport the caller has set).
    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>) {
        if let Some(t) = self.targets.current() {
            pass.set_pipeline(&self.pipelines.blit);
            pass.set_bind_group(0, &t.blit_bind_group, &[]);
            pass.draw(0..3, 0..1);
        }
    }

    /// Reads the last prepared frame back as tightly packed RGBA8 rows (for PNG export and
    /// headless benchmarks). Blocks until the GPU is done.
    pub fn read_pixels(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
    ) -> Result<(u32, u32, Vec<u8>), String> {
        let t = self.targets.current().ok_or("nothing rendered yet")?;
        read_texture(device, queue, &t.resolved, t.size)
    }
}
