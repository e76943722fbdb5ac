//! The four families of the procedural walker universe (section 4.3.2 of the paper), each
//! reproducible from (family, degrees of freedom, seed). Trees are built one link at a time.
//!
//! - line: every new limb continues from the tip of the previous limb in the same direction;
//!   hinge axes drawn uniformly from the axes perpendicular to the limb (the ones about which a
//!   hinge moves anything).
//! - chain: every new limb starts at the tip of the previous limb, in one of the 5 directions
//!   that do not point back into it; 1 or 2 links per limb.
//! - bush: breadth first: a limb gets all its links before any child is added, then
//!   2 to 3 children at its tip (the torso too), until the links run out.
//! - tree: every new limb attaches to the tip of any link (or the torso), chosen uniformly, in
//!   any free direction, chosen uniformly.
//!
//! Every family: limbs of 1 or 2 links (uniform), link lengths uniform in
//! [`LINK_LENGTH_RANGE_M`], hinge axes uniform among the two perpendicular to the limb.
use super::params::{BUSH_CHILDREN, LINK_LENGTH_RANGE_M, MAX_LINKS_PER_LIMB};
use super::tree::{Attach, Axis, Direction, Family, KinematicTree, Limb, Link, Origin, TreeError};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;

/// Generates a walker of `family` with exactly `dof` links (1..=32; the paper uses 4..=20).
pub fn generate(family: Family, dof: usize, seed: u64) -> KinematicTree {
    let salt = match family {
        Family::Line => 0x11,
        Family::Chain => 0x22,
        Family::Bush => 0x33,
        Family::Tree => 0x44,
    };
    let mut rng = StdRng::seed_from_u64(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (salt << 56) ^ ((dof as u64) << 40),
    );
    let mut tree = KinematicTree::empty();
    tree.origin = Some(Origin { family, dof, seed });
    let dof = dof.max(1);
    match family {
        Family::Line | Family::Chain => single_chain(&mut tree, family, dof, &mut rng),
        Family::Bush => bush(&mut tree, dof, &mut rng),
        Family::Tree => random_tree(&mut tree, dof, &mut rng),
    }
    tree
}

fn new_limb(parent: Attach, direction: Direction, remaining: usize, rng: &mut StdRng) -> Limb {
    let n = rng.random_range(1..=MAX_LINKS_PER_LIMB).min(remaining);
    let links = (0..n)
        .map(|_| {
            let length = rng.random_range(LINK_LENGTH_RANGE_M.0..=LINK_LENGTH_RANGE_M.1);
            let axis = *Axis::perpendicular_to(direction)
                .choose(rng)
                .unwrap_or(&Axis::Y);
            Link::new((length * 1000.0).round() / 1000.0, axis)
        })
        .collect();
    Limb {
        parent,
        direction,
        links,
    }
}

fn tip_of(tree: &KinematicTree, limb: usize) -> Attach {
    Attach::Tip {
        limb,
        link: tree.limbs[limb].links.len() - 1,
    }
}

fn single_chain(tree: &mut KinematicTree, family: Family, dof: usize, rng: &mut StdRng) {
    let mut direction = *Direction::ALL.choose(rng).unwrap_or(&Direction::PosX);
    let mut parent = Attach::Torso;
    while tree.dof() < dof {
        let limb = new_limb(parent, direction, dof - tree.dof(), rng);
        tree.limbs.push(limb);
        let last = tree.limbs.len() - 1;
        parent = tip_of(tree, last);
        if family == Family::Chain {
            let back = direction.opposite();
            let options: Vec<Direction> =
                Direction::ALL.into_iter().filter(|d| *d != back).collect();
            direction = *options.choose(rng).unwrap_or(&direction);
        }
    }
}

fn free_directions(tree: &KinematicTree, at: Attach) -> Vec<Direction> {
    let taken = tree.occupied_directions(at, None);
    Direction::ALL
        .into_iter()
        .filter(|d| !taken.iter().any(|(t, _)| t == d))
        .collect()
}

fn bush(tree: &mut KinematicTree, dof: usize, rng: &mut StdRng) {
    let mut queue = VecDeque::from([Attach::Torso]);
    while tree.dof() < dof {
        let Some(parent) = queue.pop_front() else {
            break;
        };
        let children = rng.random_range(BUSH_CHILDREN.0..=BUSH_CHILDREN.1);
        for _ in 0..children {
            if tree.dof() >= dof {
                break;
            }
            let free = free_directions(tree, parent);
            let Some(&direction) = free.choose(rng) else {
                break;
            };
            let limb = new_limb(parent, direction, dof - tree.dof(), rng);
            tree.limbs.push(limb);
            queue.push_back(tip_of(tree, tree.limbs.len() - 1));
        }
    }
}

fn random_tree(tree: &mut KinematicTree, dof: usize, rng: &mut StdRng) {
    while tree.dof() < dof {
        // A limb (the torso counts as one) uniformly, then one of its links uniformly.
        let pick = rng.random_range(0..=tree.limbs.len());
        let parent = if pick == tree.limbs.len() {
            Attach::Torso
        } else {
            Attach::Tip {
                limb: pick,
                link: rng.random_range(0..tree.limbs[pick].links.len()),
            }
        };
        let free = free_directions(tree, parent);
        let Some(&direction) = free.choose(rng) else {
            continue;
        };
        let limb = new_limb(parent, direction, dof - tree.dof(), rng);
        tree.limbs.push(limb);
    }
}

/// How a tree breaks its family's construction rule (see [`check_family_rule`]).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FamilyRuleError {
    #[error(transparent)]
    Invalid(#[from] TreeError),
    #[error("limb {limb} link {link}: axis {axis:?} is along the limb")]
    AxisAlongLimb {
        limb: usize,
        link: usize,
        axis: Axis,
    },
    #[error("limb {limb} attaches at {parent:?}, not at the tip of the previous limb")]
    NotAtPreviousTip { limb: usize, parent: Attach },
    #[error("limb {limb} turns ({} after {})", direction.label(), previous.label())]
    Turns {
        limb: usize,
        direction: Direction,
        previous: Direction,
    },
    #[error("limb {limb} points back into limb {}", limb - 1)]
    PointsBack { limb: usize },
    #[error("parent {index} is {parent:?}, breadth-first order expects {expected:?}")]
    NotBreadthFirst {
        index: usize,
        parent: Attach,
        expected: Attach,
    },
    #[error("{parent:?} has {children} children")]
    Children { parent: Attach, children: usize },
    #[error("limb {limb} attaches inside a limb, not at its tip")]
    InsideLimb { limb: usize },
    #[error("limb {limb} attaches to limb {parent}, created after it")]
    ParentAfter { limb: usize, parent: usize },
}

/// Checks that `tree` obeys its family's construction rule (structurally), returning what
/// breaks it. Used by the property tests and by `morph show`.
pub fn check_family_rule(tree: &KinematicTree, family: Family) -> Result<(), FamilyRuleError> {
    tree.validate()?;
    for (i, limb) in tree.limbs.iter().enumerate() {
        for (j, link) in limb.links.iter().enumerate() {
            if !Axis::perpendicular_to(limb.direction).contains(&link.axis) {
                return Err(FamilyRuleError::AxisAlongLimb {
                    limb: i,
                    link: j,
                    axis: link.axis,
                });
            }
        }
    }
    let tip = |i: usize| tip_of(tree, i);
    match family {
        Family::Line | Family::Chain => {
            for (i, limb) in tree.limbs.iter().enumerate() {
                let expected = if i == 0 { Attach::Torso } else { tip(i - 1) };
                if limb.parent != expected {
                    return Err(FamilyRuleError::NotAtPreviousTip {
                        limb: i,
                        parent: limb.parent,
                    });
                }
                if i > 0 {
                    let prev = tree.limbs[i - 1].direction;
                    if family == Family::Line && limb.direction != prev {
                        return Err(FamilyRuleError::Turns {
                            limb: i,
                            direction: limb.direction,
                            previous: prev,
                        });
                    }
                    if limb.direction == prev.opposite() {
                        return Err(FamilyRuleError::PointsBack { limb: i });
                    }
                }
            }
        }
        Family::Bush => {
            // Parents expanded breadth first: the torso, then each limb's tip in creation order;
            // every parent but the last gets at least BUSH_CHILDREN.0 children.
            let mut parents: Vec<Attach> = Vec::new();
            let mut counts: Vec<usize> = Vec::new();
            for limb in &tree.limbs {
                if parents.last() != Some(&limb.parent) {
                    parents.push(limb.parent);
                    counts.push(0);
                }
                *counts.last_mut().unwrap_or(&mut 0) += 1;
            }
            for (k, parent) in parents.iter().enumerate() {
                let expected = if k == 0 { Attach::Torso } else { tip(k - 1) };
                if *parent != expected {
                    return Err(FamilyRuleError::NotBreadthFirst {
                        index: k,
                        parent: *parent,
                        expected,
                    });
                }
                let last = k + 1 == parents.len();
                if counts[k] > BUSH_CHILDREN.1 || (!last && counts[k] < BUSH_CHILDREN.0) {
                    return Err(FamilyRuleError::Children {
                        parent: *parent,
                        children: counts[k],
                    });
                }
            }
            // A limb is full before any child: only the very last limb may be short of its
            // drawn size, so no limb is followed by a limb attached to its non-tip link.
            if let Some(i) = tree.limbs.iter().position(|l| matches!(l.parent, Attach::Tip { limb, link } if link + 1 != tree.limbs[limb].links.len())) {
                return Err(FamilyRuleError::InsideLimb { limb: i });
            }
        }
        Family::Tree => {
            // Anything valid goes; limbs must still come after their parents.
            for (i, limb) in tree.limbs.iter().enumerate() {
                if let Attach::Tip { limb: p, .. } = limb.parent
                    && p >= i
                {
                    return Err(FamilyRuleError::ParentAfter { limb: i, parent: p });
                }
            }
        }
    }
    Ok(())
}
