//! Unit triangle meshes for MuJoCo's primitive geoms: every geom is one of these, scaled per axis.
use bytemuck::{Pod, Zeroable};
use std::f32::consts::{PI, TAU};

/// A mesh vertex: position and normal in the primitive's own frame.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct Vertex {
    pub position: [f32; 3],
    pub normal: [f32; 3],
}

/// An indexed triangle mesh.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TriMesh {
    pub vertices: Vec<Vertex>,
    pub indices: Vec<u32>,
}

impl TriMesh {
    fn push(&mut self, position: [f32; 3], normal: [f32; 3]) -> u32 {
        self.vertices.push(Vertex { position, normal });
        (self.vertices.len() - 1) as u32
    }

    /// Radius of the smallest origin-centred sphere holding every vertex.
    pub fn bounding_radius(&self) -> f32 {
        self.vertices
            .iter()
            .map(|v| glam::Vec3::from(v.position).length())
            .fold(0.0, f32::max)
    }
}

/// The unit sphere (radius 1).
pub fn sphere(rings: u32, segments: u32) -> TriMesh {
    let mut m = TriMesh::default();
    for r in 0..=rings {
        let theta = PI * r as f32 / rings as f32;
        for s in 0..=segments {
            let phi = TAU * s as f32 / segments as f32;
            let n = [
                theta.sin() * phi.cos(),
                theta.sin() * phi.sin(),
                theta.cos(),
            ];
            m.push(n, n);
        }
    }
    let row = segments + 1;
    for r in 0..rings {
        for s in 0..segments {
            let (a, b) = (r * row + s, (r + 1) * row + s);
            m.indices.extend_from_slice(&[a, b, a + 1, a + 1, b, b + 1]);
        }
    }
    m
}

/// The unit cylinder along z: radius 1, from z = -1 to z = 1, with caps.
pub fn cylinder(segments: u32) -> TriMesh {
    let mut m = TriMesh::default();
    for s in 0..=segments {
        let phi = TAU * s as f32 / segments as f32;
        let (x, y) = (phi.cos(), phi.sin());
        m.push([x, y, -1.0], [x, y, 0.0]);
        m.push([x, y, 1.0], [x, y, 0.0]);
    }
    for s in 0..segments {
        let (a, b) = (2 * s, 2 * s + 2);
        m.indices.extend_from_slice(&[a, b, a + 1, a + 1, b, b + 1]);
    }
    for (z, nz) in [(-1.0f32, -1.0f32), (1.0, 1.0)] {
        let centre = m.push([0.0, 0.0, z], [0.0, 0.0, nz]);
        let first = m.vertices.len() as u32;
        for s in 0..=segments {
            let phi = TAU * s as f32 / segments as f32;
            m.push([phi.cos(), phi.sin(), z], [0.0, 0.0, nz]);
        }
        for s in 0..segments {
            let (a, b) = (first + s, first + s + 1);
            if nz > 0.0 {
                m.indices.extend_from_slice(&[centre, a, b]);
            } else {
                m.indices.extend_from_slice(&[centre, b, a]);
            }
        }
    }
    m
}

/// The box with half-extents 1 (corners at +-1).
pub fn cube() -> TriMesh {
    let mut m = TriMesh::default();
    for axis in 0..3 {
        for sign in [-1.0f32, 1.0] {
            let mut n = [0.0; 3];
            n[axis] = sign;
            let (u, v) = ((axis + 1) % 3, (axis + 2) % 3);
            let base = m.vertices.len() as u32;
            for (a, b) in [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)] {
                let mut p = [0.0; 3];
                p[axis] = sign;
                p[u] = a;
                p[v] = b;
                m.push(p, n);
            }
            if sign > 0.0 {
                m.indices
                    .extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
            } else {
                m.indices
                    .extend_from_slice(&[base, base + 2, base + 1, base, base + 3, base + 2]);
            }
        }
    }
    m
}

/// The square from (-1, -1) to (1, 1) in the z = 0 plane, facing +z.
pub fn quad() -> TriMesh {
    let mut m = TriMesh::default();
    for (x, y) in [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)] {
        m.push([x, y, 0.0], [0.0, 0.0, 1.0]);
    }
    m.indices.extend_from_slice(&[0, 1, 2, 0, 2, 3]);
    m
}

/// A model mesh with flat normals (one vertex per face corner).
pub fn from_triangles(vertices: &[[f32; 3]], faces: &[[u32; 3]]) -> TriMesh {
    let mut m = TriMesh::default();
    for f in faces {
        let Some(p) = f
            .iter()
            .map(|&i| vertices.get(i as usize).copied())
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let (a, b, c) = (
            glam::Vec3::from(p[0]),
            glam::Vec3::from(p[1]),
            glam::Vec3::from(p[2]),
        );
        let n = (b - a).cross(c - a).normalize_or_zero().to_array();
        for q in p {
            m.push(q, n);
        }
        let i = m.vertices.len() as u32;
        m.indices.extend_from_slice(&[i - 3, i - 2, i - 1]);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(m: &TriMesh) {
        assert_eq!(m.indices.len() % 3, 0);
        assert!(m.indices.iter().all(|&i| (i as usize) < m.vertices.len()));
        for v in &m.vertices {
            let n = glam::Vec3::from(v.normal);
            assert!((n.length() - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn primitives_are_well_formed_and_unit_sized() {
        for m in [sphere(12, 16), cylinder(16), cube(), quad()] {
            check(&m);
        }
        assert!((sphere(12, 16).bounding_radius() - 1.0).abs() < 1e-5);
        assert!((cube().bounding_radius() - 3f32.sqrt()).abs() < 1e-5);
    }

    #[test]
    fn triangles_face_outwards() {
        // For a closed convex primitive, each triangle's winding normal points away from the origin.
        for m in [sphere(8, 12), cylinder(12), cube()] {
            for t in m.indices.chunks(3) {
                let p = |i: u32| glam::Vec3::from(m.vertices[i as usize].position);
                let (a, b, c) = (p(t[0]), p(t[1]), p(t[2]));
                let n = (b - a).cross(c - a);
                if n.length() > 1e-6 {
                    assert!(n.dot((a + b + c) / 3.0) > 0.0, "inward triangle");
                }
            }
        }
    }

    #[test]
    fn mesh_faces_out_of_range_are_skipped() {
        let m = from_triangles(
            &[[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
            &[[0, 1, 2], [0, 1, 9]],
        );
        assert_eq!(m.indices.len(), 3);
    }
}
