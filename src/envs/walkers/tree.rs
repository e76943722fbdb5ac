//! The kinematic tree of a procedural walker: a torso with a free joint, and limbs of 1 or 2
//! capsule links, each limb attached to the torso or to the tip of a link, along one of the six
//! axis-aligned directions; every link has a hinge with an axis, a range and a motor.
//!
//! At rest (all joint angles 0) every body frame is aligned with the world, so directions and
//! axes are world axes in the rest pose.
use super::params::{DOF_BOUNDS, LINK_LENGTH_BOUNDS_M, LINK_RADIUS_BOUNDS_M, MAX_LINKS_PER_LIMB};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// The format version this build writes and reads.
pub const TREE_FORMAT_VERSION: u32 = 1;

/// One of the six axis-aligned directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    #[serde(rename = "+x")]
    PosX,
    #[serde(rename = "-x")]
    NegX,
    #[serde(rename = "+y")]
    PosY,
    #[serde(rename = "-y")]
    NegY,
    #[serde(rename = "+z")]
    PosZ,
    #[serde(rename = "-z")]
    NegZ,
}

impl Direction {
    pub const ALL: [Direction; 6] = [
        Direction::PosX,
        Direction::NegX,
        Direction::PosY,
        Direction::NegY,
        Direction::PosZ,
        Direction::NegZ,
    ];

    pub fn vector(self) -> [f64; 3] {
        match self {
            Direction::PosX => [1.0, 0.0, 0.0],
            Direction::NegX => [-1.0, 0.0, 0.0],
            Direction::PosY => [0.0, 1.0, 0.0],
            Direction::NegY => [0.0, -1.0, 0.0],
            Direction::PosZ => [0.0, 0.0, 1.0],
            Direction::NegZ => [0.0, 0.0, -1.0],
        }
    }

    pub fn opposite(self) -> Direction {
        match self {
            Direction::PosX => Direction::NegX,
            Direction::NegX => Direction::PosX,
            Direction::PosY => Direction::NegY,
            Direction::NegY => Direction::PosY,
            Direction::PosZ => Direction::NegZ,
            Direction::NegZ => Direction::PosZ,
        }
    }

    /// The axis this direction lies on.
    pub fn axis(self) -> Axis {
        match self {
            Direction::PosX | Direction::NegX => Axis::X,
            Direction::PosY | Direction::NegY => Axis::Y,
            Direction::PosZ | Direction::NegZ => Axis::Z,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Direction::PosX => "+x",
            Direction::NegX => "-x",
            Direction::PosY => "+y",
            Direction::NegY => "-y",
            Direction::PosZ => "+z",
            Direction::NegZ => "-z",
        }
    }
}

/// A hinge axis: one of the three world axes (in the rest pose).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    X,
    Y,
    Z,
}

impl Axis {
    pub const ALL: [Axis; 3] = [Axis::X, Axis::Y, Axis::Z];

    pub fn vector(self) -> [f64; 3] {
        match self {
            Axis::X => [1.0, 0.0, 0.0],
            Axis::Y => [0.0, 1.0, 0.0],
            Axis::Z => [0.0, 0.0, 1.0],
        }
    }

    /// The two axes perpendicular to `direction`: the ones a hinge can usefully turn about.
    pub fn perpendicular_to(direction: Direction) -> [Axis; 2] {
        match direction.axis() {
            Axis::X => [Axis::Y, Axis::Z],
            Axis::Y => [Axis::X, Axis::Z],
            Axis::Z => [Axis::X, Axis::Y],
        }
    }
}

/// One capsule link with its hinge and motor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// From the joint to the tip, metres.
    pub length_m: f64,
    pub radius_m: f64,
    /// The hinge axis (rest-pose world axis).
    pub axis: Axis,
    /// Joint range, degrees.
    pub range_deg: [f64; 2],
    /// Motor gear: torque at |ctrl| = 1, N m.
    pub gear: f64,
}

/// Where a limb is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Attach {
    /// The torso's surface.
    Torso,
    /// The tip of link `link` of limb `limb`.
    Tip { limb: usize, link: usize },
}

/// A run of 1 or 2 links along one direction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limb {
    pub parent: Attach,
    pub direction: Direction,
    pub links: Vec<Link>,
}

/// Which generator made a tree, so it can be regenerated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Line,
    Chain,
    Bush,
    Tree,
}

impl Family {
    pub const ALL: [Family; 4] = [Family::Line, Family::Chain, Family::Bush, Family::Tree];

    pub fn name(self) -> &'static str {
        match self {
            Family::Line => "line",
            Family::Chain => "chain",
            Family::Bush => "bush",
            Family::Tree => "tree",
        }
    }

    pub fn parse(s: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// The generator inputs a tree came from (absent for hand-made trees).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    pub family: Family,
    pub dof: usize,
    pub seed: u64,
}

/// A walker morphology.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KinematicTree {
    pub version: u32,
    pub torso_radius_m: f64,
    pub limbs: Vec<Limb>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// What takes up a direction at an attach point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occupant {
    Link { limb: usize, link: usize },
    Limb(usize),
}

impl std::fmt::Display for Occupant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Occupant::Link { limb, link } => write!(f, "link {link} of limb {limb}"),
            Occupant::Limb(c) => write!(f, "limb {c}"),
        }
    }
}

/// Why a tree (or an edit of one) is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TreeError {
    #[error("the tree has no links")]
    Empty,
    #[error("{dof} degrees of freedom is out of {}..={}", DOF_BOUNDS.0, DOF_BOUNDS.1)]
    DofOutOfRange { dof: usize },
    #[error("limb {limb} has {links} links; a limb has 1 to {MAX_LINKS_PER_LIMB}")]
    LimbSize { limb: usize, links: usize },
    #[error("limb {limb} attaches to limb {parent}, which does not exist")]
    NoSuchLimb { limb: usize, parent: usize },
    #[error("limb {limb} attaches to link {link} of limb {parent}, which has {links} links")]
    NoSuchLink {
        limb: usize,
        parent: usize,
        link: usize,
        links: usize,
    },
    #[error("limbs form a cycle: {0}")]
    Cycle(String),
    #[error("limb {limb} ({dir}) overlaps {what} at its attach point")]
    Overlap {
        limb: usize,
        dir: &'static str,
        what: String,
    },
    #[error("limb {limb} link {link}: {problem}")]
    BadLink {
        limb: usize,
        link: usize,
        problem: LinkProblem,
    },
    #[error("torso radius {0} m is out of (0, 1]")]
    BadTorso(f64),
    #[error("format version {0} is newer than this build reads ({TREE_FORMAT_VERSION})")]
    FutureVersion(u32),
    #[error("{}: {message}", path.display())]
    File {
        path: std::path::PathBuf,
        message: String,
    },
}

impl KinematicTree {
    /// An empty tree (invalid until a limb is added) with the default torso.
    pub fn empty() -> Self {
        Self {
            version: TREE_FORMAT_VERSION,
            torso_radius_m: super::params::TORSO_RADIUS_M,
            limbs: Vec::new(),
            origin: None,
        }
    }

    /// Degrees of freedom: one hinge per link.
    pub fn dof(&self) -> usize {
        self.limbs.iter().map(|l| l.links.len()).sum()
    }

    /// Child limbs of each attach point, in limb order.
    pub fn children(&self, at: Attach) -> impl Iterator<Item = usize> + '_ {
        self.limbs
            .iter()
            .enumerate()
            .filter(move |(_, l)| l.parent == at)
            .map(|(i, _)| i)
    }

    /// Limbs in an order where each comes after its parent (depth first from the torso).
    /// Fails on cycles or dangling parents.
    pub fn topological_order(&self) -> Result<Vec<usize>, TreeError> {
        for (i, limb) in self.limbs.iter().enumerate() {
            if let Attach::Tip { limb: p, link } = limb.parent {
                let Some(parent) = self.limbs.get(p) else {
                    return Err(TreeError::NoSuchLimb { limb: i, parent: p });
                };
                if link >= parent.links.len() {
                    return Err(TreeError::NoSuchLink {
                        limb: i,
                        parent: p,
                        link,
                        links: parent.links.len(),
                    });
                }
            }
        }
        let mut order = Vec::with_capacity(self.limbs.len());
        let mut stack: Vec<usize> = self.children(Attach::Torso).collect();
        stack.reverse();
        while let Some(i) = stack.pop() {
            order.push(i);
            let mut kids: Vec<usize> = (0..self.limbs[i].links.len())
                .flat_map(|link| self.children(Attach::Tip { limb: i, link }))
                .collect();
            kids.reverse();
            stack.extend(kids);
        }
        if order.len() != self.limbs.len() {
            // Whatever was not reached hangs off a cycle.
            let unreached: Vec<usize> = (0..self.limbs.len())
                .filter(|i| !order.contains(i))
                .collect();
            let start = unreached[0];
            let mut path = vec![start];
            let mut cur = start;
            while let Attach::Tip { limb: p, .. } = self.limbs[cur].parent {
                if path.contains(&p) {
                    path.push(p);
                    break;
                }
                path.push(p);
                cur = p;
            }
            let text: Vec<String> = path.iter().map(|i| format!("limb {i}")).collect();
            return Err(TreeError::Cycle(text.join(" -> parent ")));
        }
        Ok(order)
    }

    /// The directions already taken at an attach point: the links meeting there and the limbs
    /// attached there (excluding limb `except`).
    pub fn occupied_directions(
        &self,
        at: Attach,
        except: Option<usize>,
    ) -> Vec<(Direction, Occupant)> {
        let mut taken = Vec::new();
        if let Attach::Tip { limb, link } = at
            && let Some(l) = self.limbs.get(limb)
        {
            taken.push((l.direction.opposite(), Occupant::Link { limb, link }));
            if link + 1 < l.links.len() {
                taken.push((
                    l.direction,
                    Occupant::Link {
                        limb,
                        link: link + 1,
                    },
                ));
            }
        }
        for c in self.children(at) {
            if Some(c) != except {
                taken.push((self.limbs[c].direction, Occupant::Limb(c)));
            }
        }
        taken
    }

    /// Checks every rule: sizes, links, attachments, no cycles, no overlaps at attach points.
    pub fn validate(&self) -> Result<(), TreeError> {
        if self.version > TREE_FORMAT_VERSION {
            return Err(TreeError::FutureVersion(self.version));
        }
        if !(self.torso_radius_m > 0.0 && self.torso_radius_m <= 1.0) {
            return Err(TreeError::BadTorso(self.torso_radius_m));
        }
        let dof = self.dof();
        if dof == 0 {
            return Err(TreeError::Empty);
        }
        if !(DOF_BOUNDS.0..=DOF_BOUNDS.1).contains(&dof) {
            return Err(TreeError::DofOutOfRange { dof });
        }
        for (i, limb) in self.limbs.iter().enumerate() {
            if limb.links.is_empty() || limb.links.len() > MAX_LINKS_PER_LIMB {
                return Err(TreeError::LimbSize {
                    limb: i,
                    links: limb.links.len(),
                });
            }
            for (j, link) in limb.links.iter().enumerate() {
                link.check().map_err(|problem| TreeError::BadLink {
                    limb: i,
                    link: j,
                    problem,
                })?;
            }
        }
        self.topological_order()?;
        for (i, limb) in self.limbs.iter().enumerate() {
            // A clash between two limbs is reported once, on the later one.
            let clash = self
                .occupied_directions(limb.parent, Some(i))
                .into_iter()
                .find(|(d, who)| {
                    *d == limb.direction && !matches!(who, Occupant::Limb(c) if *c > i)
                });
            if let Some((_, who)) = clash {
                return Err(TreeError::Overlap {
                    limb: i,
                    dir: limb.direction.label(),
                    what: who.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Parses and validates a tree from JSON text; `path` names it in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, TreeError> {
        let file_err = |message: String| TreeError::File {
            path: path.to_path_buf(),
            message,
        };
        let tree: KinematicTree =
            serde_json::from_str(text).map_err(|e| file_err(e.to_string()))?;
        tree.validate().map_err(|e| file_err(e.to_string()))?;
        Ok(tree)
    }

    /// Reads and validates a tree from a JSON file.
    pub fn load(path: &Path) -> Result<Self, TreeError> {
        let text = std::fs::read_to_string(path).map_err(|e| TreeError::File {
            path: path.to_path_buf(),
            message: format!("cannot read: {e}"),
        })?;
        Self::from_json(&text, path)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialisation cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A text drawing of the tree, one line per limb, indented under its parent.
    pub fn ascii(&self) -> String {
        let mut out = String::new();
        let origin = self
            .origin
            .map(|o| format!(" ({} family, seed {})", o.family.name(), o.seed))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "torso (sphere r={:.3} m, free joint){origin}",
            self.torso_radius_m
        );
        fn walk(tree: &KinematicTree, at: Attach, prefix: &str, out: &mut String) {
            let kids: Vec<usize> = tree.children(at).collect();
            for (n, &c) in kids.iter().enumerate() {
                let last = n + 1 == kids.len();
                let limb = &tree.limbs[c];
                let links: Vec<String> = limb
                    .links
                    .iter()
                    .map(|l| format!("{:.2}m hinge-{:?}", l.length_m, l.axis).to_lowercase())
                    .collect();
                let at = match limb.parent {
                    Attach::Tip { limb: p, link } if link + 1 < tree.limbs[p].links.len() => {
                        format!(" (at link {link})")
                    }
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "{prefix}{} limb {c} {}{at}: {}",
                    if last { "`--" } else { "|--" },
                    limb.direction.label(),
                    links.join(", ")
                );
                let child_prefix = format!("{prefix}{}", if last { "    " } else { "|   " });
                for link in 0..limb.links.len() {
                    walk(tree, Attach::Tip { limb: c, link }, &child_prefix, out);
                }
            }
        }
        walk(self, Attach::Torso, "", &mut out);
        let _ = writeln!(
            out,
            "{} limbs, {} degrees of freedom",
            self.limbs.len(),
            self.dof()
        );
        out
    }
}

impl Link {
    /// A link with the default sizes, range and gear.
    pub fn new(length_m: f64, axis: Axis) -> Self {
        use super::params::{JOINT_RANGE_DEG, LINK_RADIUS_M, MOTOR_GEAR};
        Self {
            length_m,
            radius_m: LINK_RADIUS_M,
            axis,
            range_deg: [-JOINT_RANGE_DEG, JOINT_RANGE_DEG],
            gear: MOTOR_GEAR,
        }
    }

    fn check(&self) -> Result<(), LinkProblem> {
        let (lmin, lmax) = LINK_LENGTH_BOUNDS_M;
        if !(self.length_m >= lmin && self.length_m <= lmax) {
            return Err(LinkProblem::Length(self.length_m));
        }
        let (rmin, rmax) = LINK_RADIUS_BOUNDS_M;
        if !(self.radius_m >= rmin && self.radius_m <= rmax) {
            return Err(LinkProblem::Radius(self.radius_m));
        }
        let [lo, hi] = self.range_deg;
        if !(lo.is_finite() && hi.is_finite() && lo < hi && lo >= -180.0 && hi <= 180.0) {
            return Err(LinkProblem::Range(lo, hi));
        }
        if !(self.gear.is_finite() && self.gear > 0.0 && self.gear <= 1000.0) {
            return Err(LinkProblem::Gear(self.gear));
        }
        Ok(())
    }
}

/// What is wrong with one link (see [`TreeError::BadLink`]).
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum LinkProblem {
    #[error("length {0} m is out of [{lo}, {hi}]", lo = LINK_LENGTH_BOUNDS_M.0, hi = LINK_LENGTH_BOUNDS_M.1)]
    Length(f64),
    #[error("radius {0} m is out of [{lo}, {hi}]", lo = LINK_RADIUS_BOUNDS_M.0, hi = LINK_RADIUS_BOUNDS_M.1)]
    Radius(f64),
    #[error("joint range [{0}, {1}] degrees is not an interval within [-180, 180]")]
    Range(f64, f64),
    #[error("gear {0} is out of (0, 1000]")]
    Gear(f64),
}
