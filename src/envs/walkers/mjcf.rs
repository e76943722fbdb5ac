//! The MJCF writer: a kinematic tree becomes a walker on a long corridor floor.
//!
//! Names say which link is which: body, joint, geom and motor of link `j` of limb `i` are all
//! `limb{i}_link{j}`; the torso is `torso` with the free joint `root`, a site `torso_site` for
//! its velocity sensors, and a camera `track` that follows the walker's centre of mass.
use super::params::{
    CORRIDOR_LENGTH_M, CORRIDOR_WIDTH_M, FRICTION, JOINT_ARMATURE, JOINT_DAMPING, PHYSICS_DT_SECS,
    SPAWN_CLEARANCE_M,
};
use super::tree::{Attach, KinematicTree};
use std::fmt::Write as _;

/// Body name of link `link` of limb `limb`.
pub fn link_name(limb: usize, link: usize) -> String {
    format!("limb{limb}_link{link}")
}

fn v3(v: [f64; 3]) -> String {
    format!("{} {} {}", fmt(v[0]), fmt(v[1]), fmt(v[2]))
}

fn fmt(x: f64) -> String {
    let s = format!("{:.6}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

fn scale(v: [f64; 3], s: f64) -> [f64; 3] {
    v.map(|x| x * s)
}

/// Rest-pose geometry: where each link starts (its joint) relative to the torso centre.
pub fn link_origins(tree: &KinematicTree) -> Vec<Vec<[f64; 3]>> {
    let mut origins: Vec<Vec<[f64; 3]>> = tree
        .limbs
        .iter()
        .map(|l| vec![[0.0; 3]; l.links.len()])
        .collect();
    let Ok(order) = tree.topological_order() else {
        return origins;
    };
    for i in order {
        let limb = &tree.limbs[i];
        let d = limb.direction.vector();
        let mut start = match limb.parent {
            Attach::Torso => scale(d, tree.torso_radius_m),
            Attach::Tip { limb: p, link } => {
                let pl = &tree.limbs[p];
                let o = origins[p][link];
                let pd = pl.direction.vector();
                [0, 1, 2].map(|c| o[c] + pd[c] * pl.links[link].length_m)
            }
        };
        for (j, link) in limb.links.iter().enumerate() {
            origins[i][j] = start;
            start = [0, 1, 2].map(|c| start[c] + d[c] * link.length_m);
        }
    }
    origins
}

/// The torso height at which the rest pose clears the floor by [`SPAWN_CLEARANCE_M`].
pub fn spawn_height_m(tree: &KinematicTree) -> f64 {
    let origins = link_origins(tree);
    let mut lowest = -tree.torso_radius_m;
    for (i, limb) in tree.limbs.iter().enumerate() {
        let d = limb.direction.vector();
        for (j, link) in limb.links.iter().enumerate() {
            let a = origins[i][j][2];
            let b = a + d[2] * link.length_m;
            lowest = lowest.min(a.min(b) - link.radius_m);
        }
    }
    -lowest + SPAWN_CLEARANCE_M
}

/// Writes the MJCF of a walker named `name` (used as the model name).
pub fn to_mjcf(tree: &KinematicTree, name: &str) -> String {
    let mut x = String::new();
    let half_len = CORRIDOR_LENGTH_M / 2.0;
    let _ = writeln!(
        x,
        "<mujoco model=\"{}\">",
        name.replace(['"', '<', '>', '&'], "_")
    );
    let _ = writeln!(x, "  <compiler angle=\"degree\"/>");
    let _ = writeln!(
        x,
        "  <option timestep=\"{}\" integrator=\"implicitfast\"/>",
        fmt(PHYSICS_DT_SECS)
    );
    let _ = writeln!(x, "  <size memory=\"4M\"/>");
    let _ = writeln!(
        x,
        "  <visual>\n    <headlight ambient=\"0.4 0.4 0.4\" diffuse=\"0.8 0.8 0.8\" specular=\"0.1 0.1 0.1\"/>\n    <map znear=\"0.01\"/>\n  </visual>"
    );
    let _ = writeln!(x, "  <default>");
    let _ = writeln!(
        x,
        "    <joint type=\"hinge\" limited=\"true\" damping=\"{}\" armature=\"{}\"/>",
        fmt(JOINT_DAMPING),
        fmt(JOINT_ARMATURE)
    );
    let _ = writeln!(
        x,
        "    <geom contype=\"1\" conaffinity=\"0\" condim=\"3\" friction=\"{} 0.1 0.1\" rgba=\"0.7 0.5 0.3 1\"/>",
        fmt(FRICTION)
    );
    let _ = writeln!(x, "    <motor ctrllimited=\"true\" ctrlrange=\"-1 1\"/>");
    let _ = writeln!(x, "  </default>");
    let _ = writeln!(x, "  <worldbody>");
    let _ = writeln!(
        x,
        "    <light name=\"sun\" pos=\"0 0 10\" dir=\"0 0 -1\" directional=\"true\"/>"
    );
    let _ = writeln!(
        x,
        "    <geom name=\"floor\" type=\"plane\" pos=\"{} 0 0\" size=\"{} {} 0.1\" conaffinity=\"1\" rgba=\"0.25 0.3 0.35 1\"/>",
        fmt(half_len - 10.0),
        fmt(half_len),
        fmt(CORRIDOR_WIDTH_M / 2.0)
    );
    let _ = writeln!(
        x,
        "    <body name=\"torso\" pos=\"0 0 {}\">",
        fmt(spawn_height_m(tree))
    );
    let _ = writeln!(x, "      <freejoint name=\"root\"/>");
    let _ = writeln!(
        x,
        "      <camera name=\"track\" mode=\"trackcom\" pos=\"0 -3 1.2\" xyaxes=\"1 0 0 0 0.4 1\"/>"
    );
    let _ = writeln!(
        x,
        "      <geom name=\"torso\" type=\"sphere\" size=\"{}\" rgba=\"0.8 0.6 0.4 1\"/>",
        fmt(tree.torso_radius_m)
    );
    let _ = writeln!(x, "      <site name=\"torso_site\" size=\"0.01\"/>");
    let origins = link_origins(tree);
    write_children(&mut x, tree, &origins, Attach::Torso, [0.0; 3], 3);
    let _ = writeln!(x, "    </body>");
    let _ = writeln!(x, "  </worldbody>");
    let _ = writeln!(x, "  <actuator>");
    for (i, limb) in tree.limbs.iter().enumerate() {
        for (j, link) in limb.links.iter().enumerate() {
            let n = link_name(i, j);
            let _ = writeln!(
                x,
                "    <motor name=\"{n}\" joint=\"{n}\" gear=\"{}\"/>",
                fmt(link.gear)
            );
        }
    }
    let _ = writeln!(x, "  </actuator>");
    let _ = writeln!(x, "  <sensor>");
    let _ = writeln!(
        x,
        "    <subtreelinvel name=\"torso_subtreelinvel\" body=\"torso\"/>"
    );
    let _ = writeln!(
        x,
        "    <velocimeter name=\"torso_vel\" site=\"torso_site\"/>"
    );
    let _ = writeln!(x, "    <gyro name=\"torso_gyro\" site=\"torso_site\"/>");
    let _ = writeln!(x, "  </sensor>");
    let _ = writeln!(x, "</mujoco>");
    x
}

/// Writes the bodies of every limb attached at `at`, whose body frame origin is `frame_origin`
/// (rest pose, torso coordinates).
fn write_children(
    x: &mut String,
    tree: &KinematicTree,
    origins: &[Vec<[f64; 3]>],
    at: Attach,
    frame_origin: [f64; 3],
    indent: usize,
) {
    for c in tree.children(at).collect::<Vec<_>>() {
        write_link(x, tree, origins, c, 0, frame_origin, indent);
    }
}

fn write_link(
    x: &mut String,
    tree: &KinematicTree,
    origins: &[Vec<[f64; 3]>],
    limb: usize,
    link: usize,
    frame_origin: [f64; 3],
    indent: usize,
) {
    let pad = "  ".repeat(indent);
    let l = &tree.limbs[limb];
    let k = &l.links[link];
    let origin = origins[limb][link];
    let rel = [0, 1, 2].map(|c| origin[c] - frame_origin[c]);
    let n = link_name(limb, link);
    let tip = scale(l.direction.vector(), k.length_m);
    let _ = writeln!(x, "{pad}<body name=\"{n}\" pos=\"{}\">", v3(rel));
    let _ = writeln!(
        x,
        "{pad}  <joint name=\"{n}\" axis=\"{}\" range=\"{} {}\"/>",
        v3(k.axis.vector()),
        fmt(k.range_deg[0]),
        fmt(k.range_deg[1])
    );
    let _ = writeln!(
        x,
        "{pad}  <geom name=\"{n}\" type=\"capsule\" fromto=\"0 0 0 {}\" size=\"{}\"/>",
        v3(tip),
        fmt(k.radius_m)
    );
    // Limbs hanging off this link's tip, then the limb's next link (also at the tip).
    write_children(
        x,
        tree,
        origins,
        Attach::Tip { limb, link },
        origin,
        indent + 1,
    );
    if link + 1 < l.links.len() {
        write_link(x, tree, origins, limb, link + 1, origin, indent + 1);
    }
    let _ = writeln!(x, "{pad}</body>");
}
