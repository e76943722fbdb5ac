//! Scene geometry as plain data (no GPU types): what a renderer needs to draw a MuJoCo scene.
use super::model::SimModel;
use super::simulation::Data;
use mujoco_rs::prelude::{MjtGeomBase, MjtObjBase};
use serde::{Deserialize, Serialize};

/// MuJoCo's geometric primitive types that the workbench draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GeomKind {
    Plane,
    HeightField,
    Sphere,
    Capsule,
    Ellipsoid,
    Cylinder,
    Box,
    /// Index into [`SceneGeometry::meshes`].
    Mesh(usize),
    /// A type this workbench does not draw (e.g. SDF).
    Other,
}

/// The static part of one geom: what it is, how big, what colour, which body it belongs to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeomShape {
    pub name: String,
    pub kind: GeomKind,
    /// MuJoCo's `geom_size`: radius/half-lengths, meaning depends on `kind`.
    pub size: [f64; 3],
    pub rgba: [f32; 4],
    pub body: usize,
    /// The geom's visual group (0..5); groups 3+ are usually hidden helpers.
    pub group: i32,
}

/// A triangle mesh in the mesh's own frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeshData {
    pub vertices: Vec<[f32; 3]>,
    pub faces: Vec<[u32; 3]>,
}

/// All geoms of a model: their static shapes once, their world poses per frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneGeometry {
    pub shapes: Vec<GeomShape>,
    pub meshes: Vec<MeshData>,
    pub body_names: Vec<String>,
    /// Per geom: world position.
    pub world_from_geom_pos: Vec<[f64; 3]>,
    /// Per geom: world orientation, row-major 3x3.
    pub world_from_geom_rot: Vec<[f64; 9]>,
    /// Per body: world position of its frame.
    pub world_from_body_pos: Vec<[f64; 3]>,
}

/// What the viewer shows about a selected body.
#[derive(Clone, Debug, PartialEq)]
pub struct BodyInfo {
    pub name: String,
    pub mass_kg: f64,
    /// The body's joints: name and value (angle in rad or position in m; free and ball
    /// joints show their first coordinate).
    pub joints: Vec<(String, f64)>,
}

/// Name, mass and joint values of `body`, or `None` if there is no such body.
pub fn body_info(model: &SimModel, data: &Data, body: usize) -> Option<BodyInfo> {
    let m = model.mj();
    if body >= m.nbody() as usize {
        return None;
    }
    let name = m
        .id_to_name(MjtObjBase::mjOBJ_BODY, body)
        .unwrap_or("")
        .to_string();
    let (adr, num) = (m.body_jntadr()[body], m.body_jntnum()[body]);
    let qpos = data.qpos();
    let joints = (0..num.max(0))
        .filter_map(|k| {
            let j = (adr + k) as usize;
            let q = *qpos.get(m.jnt_qposadr()[j] as usize)?;
            let n = m.id_to_name(MjtObjBase::mjOBJ_JOINT, j).unwrap_or("joint");
            Some((n.to_string(), q))
        })
        .collect();
    Some(BodyInfo {
        name,
        mass_kg: m.body_mass()[body],
        joints,
    })
}

fn geom_kind(t: MjtGeomBase, dataid: i32) -> GeomKind {
    match t {
        MjtGeomBase::mjGEOM_PLANE => GeomKind::Plane,
        MjtGeomBase::mjGEOM_HFIELD => GeomKind::HeightField,
        MjtGeomBase::mjGEOM_SPHERE => GeomKind::Sphere,
        MjtGeomBase::mjGEOM_CAPSULE => GeomKind::Capsule,
        MjtGeomBase::mjGEOM_ELLIPSOID => GeomKind::Ellipsoid,
        MjtGeomBase::mjGEOM_CYLINDER => GeomKind::Cylinder,
        MjtGeomBase::mjGEOM_BOX => GeomKind::Box,
        MjtGeomBase::mjGEOM_MESH if dataid >= 0 => GeomKind::Mesh(dataid as usize),
        _ => GeomKind::Other,
    }
}

impl SceneGeometry {
    /// Reads shapes and meshes of `model` (once per model) and the poses in `data`.
    pub fn new(model: &SimModel, data: &Data) -> Self {
        let m = model.mj();
        let name = |kind, i| m.id_to_name(kind, i).unwrap_or("").to_string();
        let shapes = (0..m.ngeom() as usize)
            .map(|i| GeomShape {
                name: name(MjtObjBase::mjOBJ_GEOM, i),
                kind: geom_kind(m.geom_type()[i], m.geom_dataid()[i]),
                size: m.geom_size()[i],
                rgba: m.geom_rgba()[i],
                body: m.geom_bodyid()[i] as usize,
                group: m.geom_group()[i],
            })
            .collect();
        let (verts, faces) = (m.mesh_vert(), m.mesh_face());
        let meshes = (0..m.nmesh() as usize)
            .map(|j| {
                let (va, vn) = (m.mesh_vertadr()[j] as usize, m.mesh_vertnum()[j] as usize);
                let (fa, fnum) = (m.mesh_faceadr()[j] as usize, m.mesh_facenum()[j] as usize);
                MeshData {
                    vertices: verts[va..va + vn].to_vec(),
                    faces: faces[fa..fa + fnum]
                        .iter()
                        .map(|f| f.map(|v| v.max(0) as u32))
                        .collect(),
                }
            })
            .collect();
        let body_names = (0..m.nbody() as usize)
            .map(|i| name(MjtObjBase::mjOBJ_BODY, i))
            .collect();
        let mut scene = Self {
            shapes,
            meshes,
            body_names,
            world_from_geom_pos: Vec::new(),
            world_from_geom_rot: Vec::new(),
            world_from_body_pos: Vec::new(),
        };
        scene.update_poses(data);
        scene
    }

    /// Refreshes the world poses from `data` (per frame; shapes stay).
    pub fn update_poses(&mut self, data: &Data) {
        self.world_from_geom_pos.clear();
        self.world_from_geom_pos.extend_from_slice(data.geom_xpos());
        self.world_from_geom_rot.clear();
        self.world_from_geom_rot.extend_from_slice(data.geom_xmat());
        self.world_from_body_pos.clear();
        self.world_from_body_pos.extend_from_slice(data.xpos());
    }
}
