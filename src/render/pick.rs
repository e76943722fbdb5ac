//! Picking: which body's geom a ray from the camera hits first (CPU ray casts against the draw
//! list's unit primitives; floors and decoration are not pickable).
use super::draw_list::{DrawList, MeshId};
use glam::Vec3;

/// The nearest hit: body id and distance along the ray.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    pub body: usize,
    pub distance_m: f32,
}

/// Casts the ray (`origin`, unit `dir`) against every pickable instance of `list`.
/// `mesh_radius` gives the bounding radius of model mesh `k` (meshes are tested as spheres).
pub fn pick(
    list: &DrawList,
    origin: Vec3,
    dir: Vec3,
    mesh_radius: &dyn Fn(usize) -> f32,
) -> Option<Hit> {
    let mut best: Option<Hit> = None;
    for inst in &list.instances {
        let Some(body) = inst.body else { continue };
        let rot = inst.gpu.rotation();
        let scale = inst.gpu.scale().max(Vec3::splat(1e-6));
        let t = Vec3::from(inst.gpu.translation);
        // Into the unit primitive's frame: un-rotate, un-scale. Distances along the ray are
        // preserved as ray parameters because the direction is scaled the same way.
        let o = rot.transpose() * (origin - t) / scale;
        let d = rot.transpose() * dir / scale;
        let hit = match inst.mesh {
            MeshId::Sphere => ray_unit_sphere(o, d),
            MeshId::Cylinder => ray_unit_cylinder(o, d),
            MeshId::Cube => ray_unit_box(o, d),
            MeshId::Quad => None,
            MeshId::Model(k) => {
                ray_unit_sphere(o / mesh_radius(k).max(1e-6), d / mesh_radius(k).max(1e-6))
            }
        };
        if let Some(s) = hit
            && s >= 0.0
            && best.is_none_or(|b| s < b.distance_m)
        {
            best = Some(Hit {
                body,
                distance_m: s,
            });
        }
    }
    best
}

fn ray_unit_sphere(o: Vec3, d: Vec3) -> Option<f32> {
    let a = d.dot(d);
    let b = o.dot(d);
    let c = o.dot(o) - 1.0;
    let disc = b * b - a * c;
    if disc < 0.0 || a == 0.0 {
        return None;
    }
    let s = (-b - disc.sqrt()) / a;
    if s >= 0.0 {
        Some(s)
    } else {
        let s2 = (-b + disc.sqrt()) / a;
        (s2 >= 0.0).then_some(0.0)
    }
}

fn ray_unit_box(o: Vec3, d: Vec3) -> Option<f32> {
    let (mut lo, mut hi) = (f32::NEG_INFINITY, f32::INFINITY);
    for k in 0..3 {
        if d[k].abs() < 1e-12 {
            if o[k].abs() > 1.0 {
                return None;
            }
            continue;
        }
        let (a, b) = ((-1.0 - o[k]) / d[k], (1.0 - o[k]) / d[k]);
        lo = lo.max(a.min(b));
        hi = hi.min(a.max(b));
    }
    (lo <= hi && hi >= 0.0).then_some(lo.max(0.0))
}

fn ray_unit_cylinder(o: Vec3, d: Vec3) -> Option<f32> {
    let mut best: Option<f32> = None;
    let mut consider = |s: f32| {
        if s >= 0.0 && best.is_none_or(|b| s < b) {
            best = Some(s);
        }
    };
    // Side.
    let (a, b, c) = (
        d.x * d.x + d.y * d.y,
        o.x * d.x + o.y * d.y,
        o.x * o.x + o.y * o.y - 1.0,
    );
    if a > 1e-12 {
        let disc = b * b - a * c;
        if disc >= 0.0 {
            for s in [(-b - disc.sqrt()) / a, (-b + disc.sqrt()) / a] {
                if (o.z + s * d.z).abs() <= 1.0 {
                    consider(s);
                }
            }
        }
    }
    // Caps.
    if d.z.abs() > 1e-12 {
        for z in [-1.0, 1.0] {
            let s = (z - o.z) / d.z;
            let p = o + d * s;
            if p.x * p.x + p.y * p.y <= 1.0 {
                consider(s);
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::draw_list::{DrawInstance, GpuInstance};
    use glam::Mat3;

    fn list(items: &[(MeshId, Vec3, Vec3, usize)]) -> DrawList {
        let mut l = DrawList::default();
        for &(mesh, at, scale, body) in items {
            l.instances.push(DrawInstance {
                mesh,
                gpu: GpuInstance::new(Mat3::IDENTITY, scale, at, [1.0; 4], 0),
                body: Some(body),
            });
        }
        l
    }

    #[test]
    fn nearest_primitive_wins() {
        let l = list(&[
            (
                MeshId::Sphere,
                Vec3::new(5.0, 0.0, 0.0),
                Vec3::splat(0.5),
                1,
            ),
            (MeshId::Cube, Vec3::new(2.0, 0.0, 0.0), Vec3::splat(0.2), 2),
            (
                MeshId::Cylinder,
                Vec3::new(8.0, 0.0, 0.0),
                Vec3::new(0.3, 0.3, 1.0),
                3,
            ),
        ]);
        let hit = pick(&l, Vec3::ZERO, Vec3::X, &|_| 1.0).unwrap();
        assert_eq!(hit.body, 2);
        assert!((hit.distance_m - 1.8).abs() < 1e-4);
        let miss = pick(&l, Vec3::new(0.0, 3.0, 0.0), Vec3::X, &|_| 1.0);
        assert!(miss.is_none());
    }

    #[test]
    fn scaled_shapes_report_world_distances() {
        let l = list(&[(
            MeshId::Cylinder,
            Vec3::new(0.0, 0.0, 0.0),
            Vec3::new(0.1, 0.1, 2.0),
            4,
        )]);
        // Down the cylinder's axis from above: hits the top cap at z = 2.
        let hit = pick(&l, Vec3::new(0.0, 0.0, 10.0), -Vec3::Z, &|_| 1.0).unwrap();
        assert!((hit.distance_m - 8.0).abs() < 1e-4);
        // From the side: hits the wall at radius 0.1.
        let hit = pick(&l, Vec3::new(-3.0, 0.0, 1.5), Vec3::X, &|_| 1.0).unwrap();
        assert!((hit.distance_m - 2.9).abs() < 1e-4);
    }
}
