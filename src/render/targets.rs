//! The textures the renderer draws into: the shadow map (one depth texture and its comparison
//! sampler), and the view's 4x multisampled colour + depth targets with the resolved colour
//! texture the blit reads and the read-back copies, remade whenever the view's size changes.

pub(super) const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
pub(super) const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
pub(super) const SAMPLES: u32 = 4;
pub(super) const SHADOW_SIZE: u32 = 2048;

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

/// The shadow pass's depth target, sampled by the scene pass.
pub(super) struct ShadowMap {
    pub view: wgpu::TextureView,
    pub sampler: wgpu::Sampler,
}

impl ShadowMap {
    pub fn new(device: &wgpu::Device) -> Self {
        let view = texture(
            device,
            "shadow map",
            [SHADOW_SIZE, SHADOW_SIZE],
            DEPTH_FORMAT,
            1,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
        )
        .create_view(&wgpu::TextureViewDescriptor::default());
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("shadow"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            compare: Some(wgpu::CompareFunction::LessEqual),
            ..Default::default()
        });
        Self { view, sampler }
    }
}

/// Render targets at one size.
pub(super) struct Targets {
    pub size: [u32; 2],
    pub msaa_color: wgpu::TextureView,
    pub depth: wgpu::TextureView,
    pub resolved: wgpu::Texture,
    pub resolved_view: wgpu::TextureView,
    pub blit_bind_group: wgpu::BindGroup,
}

/// The view's targets at the size last asked for (none before the first frame).
pub(super) struct ViewTargets {
    blit_sampler: wgpu::Sampler,
    current: Option<Targets>,
}

impl ViewTargets {
    pub fn new(device: &wgpu::Device) -> Self {
        let blit_sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("blit"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        Self {
            blit_sampler,
            current: None,
        }
    }

    /// The targets of the last frame.
    pub fn current(&self) -> Option<&Targets> {
        self.current.as_ref()
    }

    /// Makes the targets `size` (at least 1 x 1) unless they are already; `blit_layout` is the
    /// blit pipeline's bind group layout.
    pub fn ensure(
        &mut self,
        device: &wgpu::Device,
        size: [u32; 2],
        blit_layout: &wgpu::BindGroupLayout,
    ) {
        let size = [size[0].max(1), size[1].max(1)];
        if self.current.as_ref().is_some_and(|t| t.size == size) {
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
            layout: blit_layout,
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
        self.current = Some(Targets {
            size,
            msaa_color,
            depth,
            resolved,
            resolved_view,
            blit_bind_group,
        });
    }
}
