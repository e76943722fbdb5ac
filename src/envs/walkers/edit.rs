//! Edits for the morphology designer. Each edit is applied to a copy, validated, and only then
//! kept: an invalid edit returns the reason and leaves the tree as it was. A hand-edited tree
//! forgets the generator it came from.
use super::generate::generate;
use super::tree::{Attach, Axis, Direction, Family, KinematicTree, Limb, Link, TreeError};

impl KinematicTree {
    fn try_edit(
        &mut self,
        edit: impl FnOnce(&mut KinematicTree) -> Result<(), TreeError>,
    ) -> Result<(), TreeError> {
        let mut next = self.clone();
        edit(&mut next)?;
        next.validate()?;
        next.origin = None;
        *self = next;
        Ok(())
    }

    fn link_mut(&mut self, limb: usize, link: usize) -> Result<&mut Link, TreeError> {
        let links = self.limbs.get(limb).map_or(0, |l| l.links.len());
        self.limbs
            .get_mut(limb)
            .ok_or(TreeError::NoSuchLimb { limb, parent: limb })?
            .links
            .get_mut(link)
            .ok_or(TreeError::NoSuchLink {
                limb,
                parent: limb,
                link,
                links,
            })
    }

    /// Adds a limb of `links` at `at` pointing along `direction`; returns its index.
    pub fn add_limb(
        &mut self,
        at: Attach,
        direction: Direction,
        links: Vec<Link>,
    ) -> Result<usize, TreeError> {
        let index = self.limbs.len();
        self.try_edit(|t| {
            t.limbs.push(Limb {
                parent: at,
                direction,
                links,
            });
            Ok(())
        })?;
        Ok(index)
    }

    /// Removes limb `limb` and everything attached to it, renumbering the limbs after it.
    pub fn remove_subtree(&mut self, limb: usize) -> Result<(), TreeError> {
        if limb >= self.limbs.len() {
            return Err(TreeError::NoSuchLimb { limb, parent: limb });
        }
        self.try_edit(|t| {
            let mut doomed = vec![false; t.limbs.len()];
            doomed[limb] = true;
            // Parents come before children in a valid tree's topological order.
            for i in t.topological_order()? {
                if let Attach::Tip { limb: p, .. } = t.limbs[i].parent
                    && doomed[p]
                {
                    doomed[i] = true;
                }
            }
            let mut new_index = vec![usize::MAX; t.limbs.len()];
            let mut next = 0;
            for (i, d) in doomed.iter().enumerate() {
                if !d {
                    new_index[i] = next;
                    next += 1;
                }
            }
            let old = std::mem::take(&mut t.limbs);
            for (i, mut l) in old.into_iter().enumerate() {
                if doomed[i] {
                    continue;
                }
                if let Attach::Tip { limb: p, link } = l.parent {
                    l.parent = Attach::Tip {
                        limb: new_index[p],
                        link,
                    };
                }
                t.limbs.push(l);
            }
            Ok(())
        })
    }

    pub fn set_link_length(
        &mut self,
        limb: usize,
        link: usize,
        length_m: f64,
    ) -> Result<(), TreeError> {
        self.try_edit(|t| {
            t.link_mut(limb, link)?.length_m = length_m;
            Ok(())
        })
    }

    pub fn set_link_axis(&mut self, limb: usize, link: usize, axis: Axis) -> Result<(), TreeError> {
        self.try_edit(|t| {
            t.link_mut(limb, link)?.axis = axis;
            Ok(())
        })
    }

    /// Points limb `limb` (and so the whole limb's links) along `direction`.
    pub fn set_limb_direction(
        &mut self,
        limb: usize,
        direction: Direction,
    ) -> Result<(), TreeError> {
        self.try_edit(|t| {
            t.limbs
                .get_mut(limb)
                .ok_or(TreeError::NoSuchLimb { limb, parent: limb })?
                .direction = direction;
            Ok(())
        })
    }

    /// Replaces the tree with a freshly generated one (changing family, DoF or seed).
    pub fn regenerate(&mut self, family: Family, dof: usize, seed: u64) -> Result<(), TreeError> {
        let next = generate(family, dof, seed);
        next.validate()?;
        *self = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_limbs() -> KinematicTree {
        let mut t = KinematicTree::empty();
        t.limbs.push(Limb {
            parent: Attach::Torso,
            direction: Direction::PosX,
            links: vec![Link::new(0.3, Axis::Y); 2],
        });
        t.limbs.push(Limb {
            parent: Attach::Tip { limb: 0, link: 1 },
            direction: Direction::NegZ,
            links: vec![Link::new(0.2, Axis::X)],
        });
        t.validate().unwrap();
        t
    }

    #[test]
    fn invalid_edits_change_nothing() {
        let mut t = two_limbs();
        let before = t.clone();
        // Pointing back into the parent link.
        let err = t
            .add_limb(
                Attach::Tip { limb: 0, link: 1 },
                Direction::NegX,
                vec![Link::new(0.2, Axis::Y)],
            )
            .unwrap_err();
        assert!(matches!(err, TreeError::Overlap { .. }), "{err}");
        // Along the continuing second link of limb 0.
        assert!(
            t.add_limb(
                Attach::Tip { limb: 0, link: 0 },
                Direction::PosX,
                vec![Link::new(0.2, Axis::Y)]
            )
            .is_err()
        );
        // Same direction as an existing limb at the same point.
        assert!(
            t.add_limb(
                Attach::Tip { limb: 0, link: 1 },
                Direction::NegZ,
                vec![Link::new(0.2, Axis::Y)]
            )
            .is_err()
        );
        assert!(t.set_link_length(0, 0, -1.0).is_err());
        assert!(t.set_link_length(0, 0, f64::NAN).is_err());
        assert!(t.set_link_length(7, 0, 0.3).is_err());
        assert!(t.set_limb_direction(1, Direction::NegX).is_err());
        assert!(t.add_limb(Attach::Torso, Direction::PosY, vec![]).is_err());
        assert_eq!(t, before);
        // Removing everything is an empty tree: refused.
        assert_eq!(t.remove_subtree(0).unwrap_err(), TreeError::Empty);
        assert_eq!(t, before);
    }

    #[test]
    fn valid_edits_apply_and_renumber() {
        let mut t = two_limbs();
        let new = t
            .add_limb(
                Attach::Torso,
                Direction::PosZ,
                vec![Link::new(0.25, Axis::X)],
            )
            .unwrap();
        assert_eq!(new, 2);
        t.set_link_length(1, 0, 0.4).unwrap();
        t.set_link_axis(1, 0, Axis::Y).unwrap();
        t.set_limb_direction(2, Direction::NegY).unwrap();
        assert_eq!(t.dof(), 4);
        t.remove_subtree(0).unwrap();
        assert_eq!(t.dof(), 1);
        assert_eq!(t.limbs[0].direction, Direction::NegY);
        assert_eq!(t.limbs[0].parent, Attach::Torso);
    }

    #[test]
    fn dof_is_bounded() {
        let mut t = KinematicTree::empty();
        let mut parent = Attach::Torso;
        for i in 0..16 {
            parent = match t.add_limb(parent, Direction::PosX, vec![Link::new(0.1, Axis::Y); 2]) {
                Ok(_) => Attach::Tip { limb: i, link: 1 },
                Err(e) => panic!("{e}"),
            };
        }
        assert_eq!(t.dof(), 32);
        let err = t
            .add_limb(parent, Direction::PosX, vec![Link::new(0.1, Axis::Y)])
            .unwrap_err();
        assert_eq!(err, TreeError::DofOutOfRange { dof: 33 });
    }
}
