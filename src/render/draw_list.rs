//! What one frame draws, as plain data: instanced primitives built from the sim core's
//! [`SceneGeometry`], plus coloured line segments. No GPU handles live here, so draw lists can be
//! built, inspected and tested without a device.
use crate::sim::{GeomKind, MeshData, SceneGeometry};
use bytemuck::{Pod, Zeroable};
use glam::{Mat3, Vec3};
use std::sync::Arc;

/// Which unit mesh an instance scales.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MeshId {
    Sphere,
    Cylinder,
    Cube,
    Quad,
    /// Index into [`DrawList::model_meshes`].
    Model(usize),
}

pub const FLAG_CHECKER: u32 = 1;
pub const FLAG_SELECTED: u32 = 2;

/// Per-instance data exactly as the vertex shader reads it (`shaders/scene.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct GpuInstance {
    /// Columns of the world-from-local rotation; `w` is the scale along that local axis.
    pub col0: [f32; 4],
    pub col1: [f32; 4],
    pub col2: [f32; 4],
    pub translation: [f32; 3],
    pub color: [f32; 4],
    pub flags: u32,
}

impl GpuInstance {
    pub fn new(
        rotation: Mat3,
        scale: Vec3,
        translation: Vec3,
        color: [f32; 4],
        flags: u32,
    ) -> Self {
        Self {
            col0: rotation.x_axis.extend(scale.x).to_array(),
            col1: rotation.y_axis.extend(scale.y).to_array(),
            col2: rotation.z_axis.extend(scale.z).to_array(),
            translation: translation.to_array(),
            color,
            flags,
        }
    }

    pub fn rotation(&self) -> Mat3 {
        Mat3::from_cols(
            Vec3::from_slice(&self.col0[..3]),
            Vec3::from_slice(&self.col1[..3]),
            Vec3::from_slice(&self.col2[..3]),
        )
    }

    pub fn scale(&self) -> Vec3 {
        Vec3::new(self.col0[3], self.col1[3], self.col2[3])
    }
}

/// One drawn primitive and the body it belongs to (for picking).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DrawInstance {
    pub mesh: MeshId,
    pub gpu: GpuInstance,
    /// MuJoCo body id, or `None` for decoration that cannot be picked.
    pub body: Option<usize>,
}

/// One end of a line segment.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct LineVertex {
    pub position: [f32; 3],
    pub color: [f32; 4],
}

/// Lines' width unless a draw list says otherwise.
pub const DEFAULT_LINE_WIDTH_PX: f32 = 2.0;

/// Everything one frame of the 3D view draws.
#[derive(Clone, Debug)]
pub struct DrawList {
    pub instances: Vec<DrawInstance>,
    /// Line segments: vertices in pairs.
    pub lines: Vec<LineVertex>,
    /// Named runs of `lines` (a trail each): name and vertex range.
    pub line_groups: Vec<(String, std::ops::Range<usize>)>,
    /// How wide the lines are drawn, in pixels.
    pub line_width_px: f32,
    /// The model's own meshes; shared so a frame does not copy them.
    pub model_meshes: Arc<Vec<MeshData>>,
    /// Changes whenever `model_meshes` does, so the renderer re-uploads them only then.
    pub meshes_key: u64,
}

/// Options for turning a scene into instances.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SceneStyle {
    /// Geoms in groups >= this are hidden (MuJoCo's viewer shows groups 0-2 by default).
    pub first_hidden_group: i32,
    /// Tint this body's geoms.
    pub selected_body: Option<usize>,
    /// Side length (m) used for infinite planes.
    pub infinite_plane_m: f32,
}

impl Default for SceneStyle {
    fn default() -> Self {
        Self {
            first_hidden_group: 3,
            selected_body: None,
            infinite_plane_m: 60.0,
        }
    }
}

impl Default for DrawList {
    fn default() -> Self {
        Self {
            instances: Vec::new(),
            lines: Vec::new(),
            line_groups: Vec::new(),
            line_width_px: DEFAULT_LINE_WIDTH_PX,
            model_meshes: Arc::default(),
            meshes_key: 0,
        }
    }
}

impl DrawList {
    /// A draw list sharing `meshes` (keyed by `meshes_key`).
    pub fn new(model_meshes: Arc<Vec<MeshData>>, meshes_key: u64) -> Self {
        Self {
            model_meshes,
            meshes_key,
            ..Self::default()
        }
    }

    /// Appends the geoms of `scene` at their current poses.
    pub fn add_scene(&mut self, scene: &SceneGeometry, style: &SceneStyle) {
        for (i, shape) in scene.shapes.iter().enumerate() {
            if shape.group >= style.first_hidden_group || shape.rgba[3] <= 0.0 {
                continue;
            }
            let (Some(p), Some(m)) = (
                scene.world_from_geom_pos.get(i),
                scene.world_from_geom_rot.get(i),
            ) else {
                continue;
            };
            let translation = Vec3::new(p[0] as f32, p[1] as f32, p[2] as f32);
            // MuJoCo's xmat is row-major.
            let rotation = Mat3::from_cols(
                Vec3::new(m[0] as f32, m[3] as f32, m[6] as f32),
                Vec3::new(m[1] as f32, m[4] as f32, m[7] as f32),
                Vec3::new(m[2] as f32, m[5] as f32, m[8] as f32),
            );
            let s = shape.size.map(|v| v as f32);
            let selected = style.selected_body == Some(shape.body) && shape.body != 0;
            let flags = if selected { FLAG_SELECTED } else { 0 };
            let body = (shape.body != 0).then_some(shape.body);
            let mut push = |mesh, scale: Vec3, at: Vec3, flags| {
                self.instances.push(DrawInstance {
                    mesh,
                    gpu: GpuInstance::new(rotation, scale, at, shape.rgba, flags),
                    body,
                });
            };
            match shape.kind {
                GeomKind::Plane => {
                    let half = |v: f32| if v > 0.0 { v } else { style.infinite_plane_m };
                    push(
                        MeshId::Quad,
                        Vec3::new(half(s[0]), half(s[1]), 1.0),
                        translation,
                        flags | FLAG_CHECKER,
                    );
                }
                GeomKind::Sphere => push(MeshId::Sphere, Vec3::splat(s[0]), translation, flags),
                GeomKind::Ellipsoid => push(MeshId::Sphere, Vec3::from(s), translation, flags),
                GeomKind::Box => push(MeshId::Cube, Vec3::from(s), translation, flags),
                GeomKind::Cylinder => push(
                    MeshId::Cylinder,
                    Vec3::new(s[0], s[0], s[1]),
                    translation,
                    flags,
                ),
                GeomKind::Capsule => {
                    push(
                        MeshId::Cylinder,
                        Vec3::new(s[0], s[0], s[1]),
                        translation,
                        flags,
                    );
                    let axis = rotation.z_axis * s[1];
                    push(MeshId::Sphere, Vec3::splat(s[0]), translation + axis, flags);
                    push(MeshId::Sphere, Vec3::splat(s[0]), translation - axis, flags);
                }
                GeomKind::Mesh(k) if k < self.model_meshes.len() => {
                    push(MeshId::Model(k), Vec3::ONE, translation, flags);
                }
                GeomKind::Mesh(_) | GeomKind::HeightField | GeomKind::Other => {}
            }
        }
    }

    /// Appends a polyline through `points` in one colour.
    pub fn add_polyline(&mut self, points: &[[f32; 3]], color: [f32; 4]) {
        self.push_segments(points, color, 1);
    }

    /// Appends every `stride`-th segment of the polyline through `points` (2: dashed).
    fn push_segments(&mut self, points: &[[f32; 3]], color: [f32; 4], stride: usize) {
        for w in points.windows(2).step_by(stride) {
            for &position in w {
                self.lines.push(LineVertex { position, color });
            }
        }
    }

    /// Appends a polyline as one named group (e.g. `imagined 3`), so it can be found again.
    pub fn add_named_polyline(&mut self, name: String, points: &[[f32; 3]], color: [f32; 4]) {
        let start = self.lines.len();
        self.add_polyline(points, color);
        self.line_groups.push((name, start..self.lines.len()));
    }

    /// Appends a dashed polyline (every other segment) as one named group.
    pub fn add_named_dashed_polyline(
        &mut self,
        name: String,
        points: &[[f32; 3]],
        color: [f32; 4],
    ) {
        let start = self.lines.len();
        self.push_segments(points, color, 2);
        self.line_groups.push((name, start..self.lines.len()));
    }

    /// The number of line groups whose name starts with `prefix`.
    pub fn count_line_groups(&self, prefix: &str) -> usize {
        self.line_groups
            .iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .count()
    }

    /// The radius about `centre` (a body's position, say) of a sphere holding every body
    /// geometry in the pose at hand. About a root body it holds every pose its joints reach
    /// as long as the pose at hand is not folded (the cartpole's pole at any angle, a walker
    /// standing); a body that unfolds farther can leave it. `None` without body geometry.
    pub fn radius_about(&self, centre: [f32; 3]) -> Option<f32> {
        let centre = Vec3::from(centre);
        self.instances
            .iter()
            .filter(|i| i.body.is_some())
            .map(|i| Vec3::from(i.gpu.translation).distance(centre) + i.gpu.scale().max_element())
            .reduce(f32::max)
    }

    /// How a camera tracking a body with its root at `root` frames it: centred on the root (at
    /// least 0.2 m up), out to [`DrawList::radius_about`] the root (at least 1.2 m), so the body
    /// stays in view as it moves. `None` without body geometry.
    pub fn framing_about(&self, root: [f32; 3]) -> Option<([f32; 3], f32)> {
        let radius = self.radius_about(root)?;
        Some(([root[0], root[1], root[2].max(0.2)], radius.max(1.2)))
    }

    /// Centre and radius of a sphere around the pickable instances (for framing the camera).
    pub fn bounds(&self) -> Option<([f32; 3], f32)> {
        let pts: Vec<Vec3> = self
            .instances
            .iter()
            .filter(|i| i.body.is_some())
            .map(|i| Vec3::from(i.gpu.translation))
            .collect();
        if pts.is_empty() {
            return None;
        }
        let centre = pts.iter().copied().sum::<Vec3>() / pts.len() as f32;
        let radius = self
            .instances
            .iter()
            .filter(|i| i.body.is_some())
            .map(|i| Vec3::from(i.gpu.translation).distance(centre) + i.gpu.scale().max_element())
            .fold(0.0, f32::max);
        Some((centre.to_array(), radius))
    }
}
