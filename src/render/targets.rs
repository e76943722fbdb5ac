//! The textures the renderer draws into: the shadow map (one depth texture and its comparison
//! sampler), and the view's multisampled colour + depth targets with the resolved colour
//! texture the blit reads and the read-back copies, remade whenever the view's size changes.
//! [`RenderQuality`] sets the sample count and the shadow map's size.

pub(super) const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
pub(super) const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// How much the rasteriser does per frame. On a software adapter (llvmpipe, lavapipe,
/// SwiftShader: the CPU rasterises) 4x multisampling and a 2048-pixel shadow map are most of a
/// frame's cost, so [`RenderQuality::for_adapter`] picks `Low` there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RenderQuality {
    /// 4x MSAA, 2048 x 2048 shadow map.
    #[default]
    High,
    /// No multisampling, 1024 x 1024 shadow map sampled once per pixel.
    Low,
}

impl RenderQuality {
    pub fn samples(self) -> u32 {
        match self {
            Self::High => 4,
            Self::Low => 1,
        }
    }

    pub fn shadow_size(self) -> u32 {
        match self {
            Self::High => 2048,
            Self::Low => 1024,
        }
    }

    /// One shadow-map tap per pixel instead of 3 x 3 (harder shadow edges).
    pub fn single_shadow_tap(self) -> bool {
        self == Self::Low
    }

    /// `Low` on an adapter that rasterises on the CPU, else `High`.
    pub fn for_adapter(info: &wgpu::AdapterInfo) -> Self {
        let name = info.name.to_lowercase();
        let software = info.device_type == wgpu::DeviceType::Cpu
            || ["llvmpipe", "lavapipe", "softpipe", "swiftshader"]
                .iter()
                .any(|s| name.contains(s));
        if software { Self::Low } else { Self::High }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Low => "low",
        }
    }
}

impl std::str::FromStr for RenderQuality {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "high" => Ok(Self::High),
            "low" => Ok(Self::Low),
            other => Err(format!("'{other}': expected high or low")),
        }
    }
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

/// The shadow pass's depth target, sampled by the scene pass.
pub(super) struct ShadowMap {
    pub view: wgpu::TextureView,
    pub sampler: wgpu::Sampler,
}

impl ShadowMap {
    pub fn new(device: &wgpu::Device, size: u32) -> Self {
        let view = texture(
            device,
            "shadow map",
            [size, size],
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
    /// The multisampled colour target; `None` without multisampling (the pass draws straight
    /// into `resolved`).
    pub msaa_color: Option<wgpu::TextureView>,
    pub depth: wgpu::TextureView,
    pub resolved: wgpu::Texture,
    pub resolved_view: wgpu::TextureView,
    pub blit_bind_group: wgpu::BindGroup,
}

/// The view's targets at the size last asked for (none before the first frame).
pub(super) struct ViewTargets {
    blit_sampler: wgpu::Sampler,
    samples: u32,
    current: Option<Targets>,
}

impl ViewTargets {
    pub fn new(device: &wgpu::Device, samples: u32) -> Self {
        let blit_sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("blit"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        Self {
            blit_sampler,
            samples,
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
        let samples = self.samples;
        let msaa_color = (samples > 1).then(|| {
            texture(
                device,
                "view colour (msaa)",
                size,
                COLOR_FORMAT,
                samples,
                attach,
            )
            .create_view(&Default::default())
        });
        let depth = texture(device, "view depth", size, DEPTH_FORMAT, samples, attach)
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
