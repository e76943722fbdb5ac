//! The wgpu renderer: draws a [`DrawList`] into its own multisampled colour + depth targets
//! (after a shadow-map pass), then copies the result into a caller's render pass. Pipelines and
//! unit meshes are created once; each frame only uniforms, instances and lines are uploaded.
//! Knows nothing of egui: the UI hands it a device, a queue, an encoder and a pass.
use super::camera::OrbitCamera;
use super::draw_list::{DrawList, FLAG_CHECKER, GpuInstance, LineVertex, MeshId};
use super::primitives::{self, TriMesh, Vertex};
use bytemuck::{Pod, Zeroable};
use glam::{Mat4, Vec3};
use std::time::Instant;
use wgpu::util::DeviceExt;

const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
const SAMPLES: u32 = 4;
const SHADOW_SIZE: u32 = 2048;
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

/// Render targets at one size.
struct Targets {
    size: [u32; 2],
    msaa_color: wgpu::TextureView,
    depth: wgpu::TextureView,
    resolved: wgpu::Texture,
    resolved_view: wgpu::TextureView,
    blit_bind_group: wgpu::BindGroup,
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
    scene_pipeline: wgpu::RenderPipeline,
    translucent_pipeline: wgpu::RenderPipeline,
    shadow_pipeline: wgpu::RenderPipeline,
    line_pipeline: wgpu::RenderPipeline,
    blit_pipeline: wgpu::RenderPipeline,
    globals: wgpu::Buffer,
    scene_bind_group: wgpu::BindGroup,
    globals_bind_group: wgpu::BindGroup,
    shadow_view: wgpu::TextureView,
    blit_layout: wgpu::BindGroupLayout,
    blit_sampler: wgpu::Sampler,
    builtin: [GpuMesh; 4],
    model_meshes: Vec<GpuMesh>,
    meshes_key: Option<u64>,
    instances: wgpu::Buffer,
    instance_capacity: usize,
    lines: wgpu::Buffer,
    line_capacity: usize,
    batches: Vec<Batch>,
    line_count: u32,
    targets: Option<Targets>,
    stats: FrameStats,
}

fn vertex_layouts() -> [Option<wgpu::VertexBufferLayout<'static>>; 2] {
    const VERTEX: [wgpu::VertexAttribute; 2] =
        wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3];
    const INSTANCE: [wgpu::VertexAttribute; 6] = wgpu::vertex_attr_array![
        2 => Float32x4, 3 => Float32x4, 4 => Float32x4, 5 => Float32x3, 6 => Float32x4, 7 => Uint32
    ];
    [
        Some(wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<Vertex>() as u64,
            step_mode: wgpu::VertexStepMode::Vertex,
            attributes: &VERTEX,
        }),
        Some(wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<GpuInstance>() as u64,
            step_mode: wgpu::VertexStepMode::Instance,
            attributes: &INSTANCE,
        }),
    ]
}

fn texture(
    device: &wgpu::Device,
    label: &str,
    size: [u32; 2],
    format: wgpu::TextureFormat,
    samples: u32,
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: size[0].max(1),
            height: size[1].max(1),
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: samples,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats: &[],
    })
}

fn uniform_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::VERTEX | wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl Renderer {
    /// Creates pipelines for drawing into a pass whose colour target has `target_format`.
    pub fn new(device: &wgpu::Device, target_format: wgpu::TextureFormat) -> Self {
        let scene_shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("scene.wgsl"),
            source: wgpu::ShaderSource::Wgsl(
                concat!(
                    include_str!("../../shaders/globals.wgsl"),
                    include_str!("../../shaders/scene.wgsl")
                )
                .into(),
            ),
        });
        let line_shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("lines.wgsl"),
            source: wgpu::ShaderSource::Wgsl(
                concat!(
                    include_str!("../../shaders/globals.wgsl"),
                    include_str!("../../shaders/lines.wgsl")
                )
                .into(),
            ),
        });
        let blit_shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("blit.wgsl"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../../shaders/blit.wgsl").into()),
        });

        let scene_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("scene globals"),
            entries: &[
                uniform_entry(0),
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Depth,
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Comparison),
                    count: None,
                },
            ],
        });
        let globals_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("globals only"),
            entries: &[uniform_entry(0)],
        });
        let blit_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("blit"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });

        let globals = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("globals"),
            size: std::mem::size_of::<Globals>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let shadow_view = texture(
            device,
            "shadow map",
            [SHADOW_SIZE, SHADOW_SIZE],
            DEPTH_FORMAT,
            1,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
        )
        .create_view(&wgpu::TextureViewDescriptor::default());
        let shadow_sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("shadow"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            compare: Some(wgpu::CompareFunction::LessEqual),
            ..Default::default()
        });
        let scene_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("scene globals"),
            layout: &scene_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: globals.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&shadow_view),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::Sampler(&shadow_sampler),
                },
            ],
        });
        let globals_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("globals only"),
            layout: &globals_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: globals.as_entire_binding(),
            }],
        });

        let layout = |label, bgl: &wgpu::BindGroupLayout| {
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(label),
                bind_group_layouts: &[Some(bgl)],
                immediate_size: 0,
            })
        };
        let scene_pl = layout("scene", &scene_layout);
        let globals_pl = layout("globals", &globals_layout);
        let blit_pl = layout("blit", &blit_layout);

        let depth = |write: bool| wgpu::DepthStencilState {
            format: DEPTH_FORMAT,
            depth_write_enabled: Some(write),
            depth_compare: Some(wgpu::CompareFunction::LessEqual),
            stencil: wgpu::StencilState::default(),
            bias: wgpu::DepthBiasState::default(),
        };
        let msaa = wgpu::MultisampleState {
            count: SAMPLES,
            mask: !0,
            alpha_to_coverage_enabled: false,
        };
        let layouts = vertex_layouts();
        let scene_pipeline_with = |label, write_depth: bool, blend| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(label),
                layout: Some(&scene_pl),
                vertex: wgpu::VertexState {
                    module: &scene_shader,
                    entry_point: Some("vs_main"),
                    buffers: &layouts,
                    compilation_options: Default::default(),
                },
                primitive: wgpu::PrimitiveState {
                    cull_mode: if write_depth {
                        Some(wgpu::Face::Back)
                    } else {
                        None
                    },
                    ..Default::default()
                },
                depth_stencil: Some(depth(write_depth)),
                multisample: msaa,
                fragment: Some(wgpu::FragmentState {
                    module: &scene_shader,
                    entry_point: Some("fs_main"),
                    targets: &[Some(wgpu::ColorTargetState {
                        format: COLOR_FORMAT,
                        blend,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                    compilation_options: Default::default(),
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let scene_pipeline = scene_pipeline_with("scene opaque", true, None);
        let translucent_pipeline = scene_pipeline_with(
            "scene translucent",
            false,
            Some(wgpu::BlendState::ALPHA_BLENDING),
        );
        let shadow_pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("shadow"),
            layout: Some(&globals_pl),
            vertex: wgpu::VertexState {
                module: &scene_shader,
                entry_point: Some("vs_shadow"),
                buffers: &layouts,
                compilation_options: Default::default(),
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: Some(wgpu::DepthStencilState {
                bias: wgpu::DepthBiasState {
                    constant: 2,
                    slope_scale: 2.0,
                    clamp: 0.0,
                },
                ..depth(true)
            }),
            multisample: wgpu::MultisampleState::default(),
            fragment: None,
            multiview_mask: None,
            cache: None,
        });
        let line_pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("lines"),
            layout: Some(&globals_pl),
            vertex: wgpu::VertexState {
                module: &line_shader,
                entry_point: Some("vs_main"),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: std::mem::size_of::<LineVertex>() as u64,
                    step_mode: wgpu::VertexStepMode::Vertex,
                    attributes: &wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x4],
                })],
                compilation_options: Default::default(),
            },
            primitive: wgpu::PrimitiveState {
                topology: wgpu::PrimitiveTopology::LineList,
                ..Default::default()
            },
            depth_stencil: Some(depth(false)),
            multisample: msaa,
            fragment: Some(wgpu::FragmentState {
                module: &line_shader,
                entry_point: Some("fs_main"),
                targets: &[Some(wgpu::ColorTargetState {
                    format: COLOR_FORMAT,
                    blend: Some(wgpu::BlendState::ALPHA_BLENDING),
                    write_mask: wgpu::ColorWrites::ALL,
                })],
                compilation_options: Default::default(),
            }),
            multiview_mask: None,
            cache: None,
        });
        let blit_pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("blit"),
            layout: Some(&blit_pl),
            vertex: wgpu::VertexState {
                module: &blit_shader,
                entry_point: Some("vs_main"),
                buffers: &[],
                compilation_options: Default::default(),
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            fragment: Some(wgpu::FragmentState {
                module: &blit_shader,
                entry_point: Some("fs_main"),
                targets: &[Some(wgpu::ColorTargetState {
                    format: target_format,
                    blend: None,
                    write_mask: wgpu::ColorWrites::ALL,
                })],
                compilation_options: Default::default(),
            }),
            multiview_mask: None,
            cache: None,
        });
        let blit_sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("blit"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
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
            scene_pipeline,
            translucent_pipeline,
            shadow_pipeline,
            line_pipeline,
            blit_pipeline,
            globals,
            scene_bind_group,
            globals_bind_group,
            shadow_view,
            blit_layout,
            blit_sampler,
            builtin,
            model_meshes: Vec::new(),
            meshes_key: None,
            instance_capacity,
            line_capacity,
            batches: Vec::new(),
            line_count: 0,
            targets: None,
            stats: FrameStats::default(),
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

    fn ensure_targets(&mut self, device: &wgpu::Device, size: [u32; 2]) {
        let size = [size[0].max(1), size[1].max(1)];
        if self.targets.as_ref().is_some_and(|t| t.size == size) {
            return;
        }
        let attach = wgpu::TextureUsages::RENDER_ATTACHMENT;
        let msaa_color = texture(
            device,
            "view colour (msaa)",
            size,
            COLOR_FORMAT,
            SAMPLES,
            attach,
        )
        .create_view(&Default::default());
        let depth = texture(device, "view depth", size, DEPTH_FORMAT, SAMPLES, attach)
            .create_view(&Default::default());
        let resolved = texture(
            device,
            "view colour",
            size,
            COLOR_FORMAT,
            1,
            attach | wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_SRC,
        );
        let resolved_view = resolved.create_view(&Default::default());
        let blit_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("blit"),
            layout: &self.blit_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(&resolved_view),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Sampler(&self.blit_sampler),
                },
            ],
        });
        self.targets = Some(Targets {
            size,
            msaa_color,
            depth,
            resolved,
            resolved_view,
            blit_bind_group,
        });
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
    }

    fn globals_for(camera: &OrbitCamera, size: [u32; 2]) -> Globals {
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
                1.0 / SHADOW_SIZE as f32,
                0.55,
                (camera.distance_m * 4.0).clamp(8.0, 200.0),
                0.0,
            ],
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
        self.ensure_targets(device, size_px);
        self.ensure_meshes(device, list);
        self.upload_instances(device, queue, list);
        let Some(targets) = self.targets.as_ref() else {
            return;
        };
        let globals = Self::globals_for(camera, targets.size);
        queue.write_buffer(&self.globals, 0, bytemuck::bytes_of(&globals));
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("shadow"),
                color_attachments: &[],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &self.shadow_view,
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
            pass.set_pipeline(&self.shadow_pipeline);
            pass.set_bind_group(0, &self.globals_bind_group, &[]);
            self.draw_batches(&mut pass, |b| b.casts_shadow);
        }
        {
            let [r, g, b] = BACKGROUND;
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("scene"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &targets.msaa_color,
                    depth_slice: None,
                    resolve_target: Some(&targets.resolved_view),
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color { r, g, b, a: 1.0 }),
                        store: wgpu::StoreOp::Discard,
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
            pass.set_pipeline(&self.scene_pipeline);
            self.draw_batches(&mut pass, |b| !b.translucent);
            if self.line_count > 0 {
                pass.set_pipeline(&self.line_pipeline);
                pass.set_bind_group(0, &self.globals_bind_group, &[]);
                pass.set_vertex_buffer(0, self.lines.slice(..));
                pass.draw(0..self.line_count, 0..1);
                pass.set_bind_group(0, &self.scene_bind_group, &[]);
            }
            pass.set_pipeline(&self.translucent_pipeline);
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
        if let Some(t) = &self.targets {
            pass.set_pipeline(&self.blit_pipeline);
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
        let t = self.targets.as_ref().ok_or("nothing rendered yet")?;
        let [w, h] = t.size;
        let row = (w * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT)
            * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: (row * h) as u64,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut encoder = device.create_command_encoder(&Default::default());
        encoder.copy_texture_to_buffer(
            t.resolved.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(row),
                    rows_per_image: Some(h),
                },
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
        queue.submit([encoder.finish()]);
        let slice = buffer.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| format!("waiting for the GPU: {e}"))?;
        rx.recv()
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("reading the frame back: {e}"))?;
        let mapped = slice
            .get_mapped_range()
            .map_err(|e| format!("reading the frame back: {e}"))?;
        let mut pixels = Vec::with_capacity((w * h * 4) as usize);
        for y in 0..h as usize {
            let start = y * row as usize;
            pixels.extend_from_slice(&mapped[start..start + (w * 4) as usize]);
        }
        drop(mapped);
        buffer.unmap();
        Ok((w, h, pixels))
    }
}
