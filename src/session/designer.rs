//! The morphology designer's state: the walker being designed (generated from family, DoF and
//! seed, then edited), undo/redo, the selected link, and why the last edit was refused. Every
//! edit is validated by the tree itself: an invalid one changes nothing. `ui::designer` draws it.
use crate::envs::walkers::{Direction, Family, KinematicTree, generate};

/// The designer's state, apart from its drawing.
pub struct DesignerState {
    pub family: Family,
    pub dof: usize,
    pub seed: u64,
    pub tree: KinematicTree,
    undo: Vec<KinematicTree>,
    redo: Vec<KinematicTree>,
    /// The selected link: (limb, link).
    pub selected: Option<(usize, usize)>,
    /// Why the last edit was refused.
    pub error: Option<String>,
    /// The add-limb form.
    pub new_limb_direction: Direction,
    pub new_limb_links: usize,
    /// Edits of one drag share one undo entry.
    pub dragging: bool,
}

impl Default for DesignerState {
    fn default() -> Self {
        let (family, dof, seed) = (Family::Chain, 6, 0);
        Self {
            family,
            dof,
            seed,
            tree: generate(family, dof, seed),
            undo: Vec::new(),
            redo: Vec::new(),
            selected: None,
            error: None,
            new_limb_direction: Direction::PosZ,
            new_limb_links: 1,
            dragging: false,
        }
    }
}

impl DesignerState {
    /// Applies `edit`; on success the old tree goes on the undo stack, on failure nothing
    /// changes and the reason is kept for display. Returns whether the tree changed.
    pub fn edit(
        &mut self,
        edit: impl FnOnce(&mut KinematicTree) -> Result<(), crate::envs::walkers::TreeError>,
    ) -> bool {
        let before = self.tree.clone();
        match edit(&mut self.tree) {
            Ok(()) if self.tree != before => {
                if !self.dragging || self.undo.last() != Some(&before) {
                    self.undo.push(before);
                }
                self.redo.clear();
                self.error = None;
                self.clamp_selection();
                true
            }
            Ok(()) => false,
            Err(e) => {
                self.tree = before;
                self.error = Some(e.to_string());
                false
            }
        }
    }

    /// Generates the tree for the current family, DoF and seed.
    pub fn generate(&mut self) -> bool {
        let (family, dof, seed) = (self.family, self.dof, self.seed);
        self.selected = None;
        self.edit(|t| t.regenerate(family, dof, seed))
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo(&mut self) -> bool {
        let Some(t) = self.undo.pop() else {
            return false;
        };
        self.redo.push(std::mem::replace(&mut self.tree, t));
        self.error = None;
        self.clamp_selection();
        true
    }

    pub fn redo(&mut self) -> bool {
        let Some(t) = self.redo.pop() else {
            return false;
        };
        self.undo.push(std::mem::replace(&mut self.tree, t));
        self.error = None;
        self.clamp_selection();
        true
    }

    /// Replaces the tree (e.g. loaded from a file), keeping undo history.
    pub fn replace(&mut self, tree: KinematicTree) {
        self.edit(|t| {
            *t = tree;
            Ok(())
        });
    }

    fn clamp_selection(&mut self) {
        if let Some((i, j)) = self.selected
            && self
                .tree
                .limbs
                .get(i)
                .is_none_or(|l: &crate::envs::walkers::Limb| j >= l.links.len())
        {
            self.selected = None;
        }
    }

    /// Selects the link whose MuJoCo body is named `body` (`limb{i}_link{j}`).
    pub fn select_body(&mut self, body: &str) {
        let parsed = body.strip_prefix("limb").and_then(|rest| {
            let (i, j) = rest.split_once("_link")?;
            Some((i.parse().ok()?, j.parse().ok()?))
        });
        if let Some((i, j)) = parsed
            && self
                .tree
                .limbs
                .get(i)
                .is_some_and(|l: &crate::envs::walkers::Limb| j < l.links.len())
        {
            self.selected = Some((i, j));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_edit_changes_nothing_and_explains() {
        let mut s = DesignerState::default();
        let before = s.tree.clone();
        assert!(!s.edit(|t| t.set_link_length(0, 0, -1.0)));
        assert_eq!(s.tree, before);
        assert!(s.error.is_some());
        assert!(!s.can_undo());
    }

    #[test]
    fn undo_redo_walk_the_history() {
        let mut s = DesignerState::default();
        let t0 = s.tree.clone();
        assert!(s.edit(|t| t.set_link_length(0, 0, 0.3)));
        let t1 = s.tree.clone();
        assert!(s.undo());
        assert_eq!(s.tree, t0);
        assert!(s.redo());
        assert_eq!(s.tree, t1);
        assert!(!s.redo());
    }

    #[test]
    fn body_names_select_links() {
        let mut s = DesignerState::default();
        s.select_body("limb0_link0");
        assert_eq!(s.selected, Some((0, 0)));
        s.select_body("torso");
        assert_eq!(s.selected, Some((0, 0)));
        s.select_body("limb99_link0");
        assert_eq!(s.selected, Some((0, 0)));
    }
}
