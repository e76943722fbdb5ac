//! Scene geometry to draw lists (no GPU): every MuJoCo primitive becomes the right instances.
use std::sync::Arc;
use tdm_workbench::render::{DrawList, MeshId, SceneStyle};
use tdm_workbench::sim::{SceneGeometry, Sim, SimModel};

const ALL_GEOMS: &str = r#"
<mujoco>
  <asset>
    <mesh name="tetra" vertex="0 0 0  0.2 0 0  0 0.2 0  0 0 0.2"/>
  </asset>
  <worldbody>
    <geom name="floor" type="plane" size="3 3 0.1"/>
    <body name="a" pos="0 0 1">
      <freejoint/>
      <geom name="box" type="box" size="0.1 0.2 0.3"/>
      <geom name="sphere" type="sphere" size="0.1" pos="0.5 0 0"/>
      <geom name="capsule" type="capsule" size="0.05 0.2" pos="1 0 0"/>
      <geom name="cylinder" type="cylinder" size="0.05 0.2" pos="1.5 0 0"/>
      <geom name="ellipsoid" type="ellipsoid" size="0.1 0.2 0.3" pos="2 0 0"/>
      <geom name="mesh" type="mesh" mesh="tetra" pos="2.5 0 0"/>
      <geom name="hidden" type="sphere" size="0.1" group="3"/>
    </body>
  </worldbody>
</mujoco>"#;

#[test]
fn every_geom_type_becomes_instances() {
    let model = SimModel::from_xml_str(ALL_GEOMS, "all-geoms.xml").unwrap();
    let mut sim = Sim::new(model);
    sim.forward();
    let scene = SceneGeometry::new(sim.model(), sim.data());
    let mut list = DrawList::new(Arc::new(scene.meshes.clone()), 1);
    list.add_scene(
        &scene,
        &SceneStyle {
            selected_body: Some(1),
            ..SceneStyle::default()
        },
    );
    let count = |m: MeshId| list.instances.iter().filter(|i| i.mesh == m).count();
    assert_eq!(count(MeshId::Quad), 1, "the plane");
    assert_eq!(count(MeshId::Cube), 1);
    // sphere + ellipsoid + the capsule's two end caps; the group-3 sphere stays hidden.
    assert_eq!(count(MeshId::Sphere), 4);
    assert_eq!(count(MeshId::Cylinder), 2, "cylinder + capsule body");
    assert_eq!(count(MeshId::Model(0)), 1);
    // Floor is not pickable and not tinted; the body's geoms are both.
    for inst in &list.instances {
        let floor = inst.mesh == MeshId::Quad;
        assert_eq!(inst.body.is_none(), floor);
        assert_eq!(inst.gpu.flags & 2 != 0, !floor, "selection tint");
    }
    let ellipsoid = list
        .instances
        .iter()
        .find(|i| i.mesh == MeshId::Sphere && i.gpu.scale().z > 0.25)
        .unwrap();
    assert!((ellipsoid.gpu.translation[0] - 2.0).abs() < 1e-5);
    assert!((ellipsoid.gpu.translation[2] - 1.0).abs() < 1e-5);
    let (centre, radius) = list.bounds().unwrap();
    assert!(centre[2] > 0.5 && radius > 1.0);
}
