//! Every physical choice the paper leaves open for the procedural walkers, in one place.
//!
//! Chosen so that walkers of 4 to 20 links can actually move: links are light enough for a
//! gear-40 motor to lift a two-link limb off the floor, the torso is heavy enough to be a base,
//! joints are damped to keep a 20-link chain stable at 5 ms steps, and friction is high enough
//! to push off.

/// Torso: a sphere of this radius (m), density 1000 kg/m^3 -> 4.2 kg.
pub const TORSO_RADIUS_M: f64 = 0.10;
/// Default link capsule length (m, between the joint and the tip) and radius (m).
pub const LINK_LENGTH_M: f64 = 0.25;
pub const LINK_RADIUS_M: f64 = 0.045;
/// Generators draw link lengths uniformly in this range (m).
pub const LINK_LENGTH_RANGE_M: (f64, f64) = (0.18, 0.32);
/// Editing accepts link lengths and radii within these bounds (m).
pub const LINK_LENGTH_BOUNDS_M: (f64, f64) = (0.05, 1.0);
pub const LINK_RADIUS_BOUNDS_M: (f64, f64) = (0.01, 0.2);
/// Hinge range (degrees), symmetric.
pub const JOINT_RANGE_DEG: f64 = 60.0;
/// Motor gear (N m at |ctrl| = 1).
pub const MOTOR_GEAR: f64 = 40.0;
/// Joint damping (N m s/rad) and armature (kg m^2).
pub const JOINT_DAMPING: f64 = 1.0;
pub const JOINT_ARMATURE: f64 = 0.02;
/// Sliding friction of every geom against the floor.
pub const FRICTION: f64 = 1.0;
/// Degrees of freedom a tree may have (editing), and the generators' range.
pub const DOF_BOUNDS: (usize, usize) = (1, 32);
pub const GENERATED_DOF_RANGE: (usize, usize) = (4, 20);
/// Links per limb.
pub const MAX_LINKS_PER_LIMB: usize = 2;
/// Physics step (s) and physics steps per control step: control at 0.025 s.
pub const PHYSICS_DT_SECS: f64 = 0.005;
pub const SUBSTEPS: usize = 5;
/// Control steps per episode (25 s).
pub const EPISODE_STEPS: usize = 1000;
/// The corridor: a floor plane this long (m, from x = -10) and this wide (m).
pub const CORRIDOR_LENGTH_M: f64 = 500.0;
pub const CORRIDOR_WIDTH_M: f64 = 20.0;
/// Clearance (m) between the walker's lowest point and the floor at the start.
pub const SPAWN_CLEARANCE_M: f64 = 0.05;
/// Initial joint angles are drawn uniformly within +- this (rad).
pub const INIT_JOINT_NOISE_RAD: f64 = 0.1;
/// Target speed of the corridor run task (m/s).
pub const TARGET_SPEED_MPS: f64 = 1.0;
/// Bush: children per limb are drawn from this range.
pub const BUSH_CHILDREN: (usize, usize) = (2, 3);
