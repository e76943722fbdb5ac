//! The procedural walker universe (section 4.3.2 of the paper): kinematic trees, the four
//! generator families (line, chain, bush, tree), editing for the designer, the MJCF writer and
//! the corridor run task. All physical choices live in [`params`].

mod edit;
mod generate;
mod mjcf;
pub mod params;
mod task;
mod tree;

pub use generate::{FamilyRuleError, check_family_rule, generate};
pub use mjcf::{link_name, link_origins, spawn_height_m, to_mjcf};
pub use task::{CorridorRun, corridor_reward};
pub use tree::{
    Attach, Axis, Direction, Family, KinematicTree, Limb, Link, LinkProblem, Occupant, Origin,
    TREE_FORMAT_VERSION, TreeError,
};
