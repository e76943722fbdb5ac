//! The morphology designer: generate a walker (family, DoF, seed), edit its kinematic tree
//! (link length and axis, limb direction, add a limb, delete a subtree) with undo/redo, and save
//! it as JSON or MJCF. Every edit is validated by the tree itself: an invalid one changes
//! nothing and its reason is shown inline.
use crate::envs::walkers::params::{GENERATED_DOF_RANGE, LINK_LENGTH_BOUNDS_M, LINK_LENGTH_M};
use crate::envs::walkers::{Attach, Axis, Direction, Family, KinematicTree, Link, generate};
use egui::RichText;

/// What the designer asks the app to do after a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DesignerAction {
    /// The tree changed: rebuild the walker scene.
    Rebuild,
    SaveTree,
    SaveMjcf,
    OpenTree,
}

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
    dragging: bool,
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

fn direction_combo(ui: &mut egui::Ui, id: &str, value: &mut Direction) -> bool {
    let mut changed = false;
    egui::ComboBox::from_id_salt(id)
        .selected_text(value.label())
        .show_ui(ui, |ui| {
            for d in Direction::ALL {
                changed |= ui.selectable_value(value, d, d.label()).changed();
            }
        });
    changed
}

fn tree_node_ui(ui: &mut egui::Ui, state: &mut DesignerState, at: Attach, depth: usize) {
    let children: Vec<usize> = state.tree.children(at).collect();
    for i in children {
        let limb = &state.tree.limbs[i];
        let (direction, links) = (limb.direction, limb.links.clone());
        for (j, link) in links.iter().enumerate() {
            let selected = state.selected == Some((i, j));
            let text = format!(
                "{}limb {i}.{j}  {} {:.2} m  axis {:?}",
                "  ".repeat(depth + j),
                direction.label(),
                link.length_m,
                link.axis
            );
            if ui
                .selectable_label(selected, RichText::new(text).monospace())
                .clicked()
            {
                state.selected = if selected { None } else { Some((i, j)) };
            }
            tree_node_ui(ui, state, Attach::Tip { limb: i, link: j }, depth + j + 1);
        }
    }
}

/// The designer panel. Returns what the app should do.
pub fn designer_ui(ui: &mut egui::Ui, state: &mut DesignerState) -> Option<DesignerAction> {
    let mut action = None;
    let mut changed = false;
    ui.heading("Morphology designer");
    egui::Grid::new("designer-generate")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("family");
            egui::ComboBox::from_id_salt("designer-family")
                .selected_text(state.family.name())
                .show_ui(ui, |ui| {
                    for f in Family::ALL {
                        ui.selectable_value(&mut state.family, f, f.name());
                    }
                });
            ui.end_row();
            let label = ui.label("degrees of freedom");
            let (lo, hi) = GENERATED_DOF_RANGE;
            ui.add(egui::Slider::new(&mut state.dof, lo..=hi))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("seed");
            ui.add(egui::DragValue::new(&mut state.seed))
                .labelled_by(label.id);
            ui.end_row();
        });
    ui.horizontal(|ui| {
        if ui.button("Regenerate").clicked() {
            changed |= state.generate();
        }
        if ui.button("Random").clicked() {
            state.seed = rand::random::<u32>() as u64;
            changed |= state.generate();
        }
    });
    ui.separator();
    ui.horizontal(|ui| {
        ui.label(format!(
            "{} DoF, {} limbs",
            state.tree.dof(),
            state.tree.limbs.len()
        ));
        if ui
            .add_enabled(state.can_undo(), egui::Button::new("Undo"))
            .clicked()
        {
            changed |= state.undo();
        }
        if ui
            .add_enabled(state.can_redo(), egui::Button::new("Redo"))
            .clicked()
        {
            changed |= state.redo();
        }
    });
    egui::ScrollArea::vertical()
        .id_salt("designer-tree")
        .max_height(180.0)
        .show(ui, |ui| {
            ui.label(RichText::new("torso").monospace());
            tree_node_ui(ui, state, Attach::Torso, 1);
        });
    ui.separator();
    if let Some((i, j)) = state.selected {
        ui.label(RichText::new(format!("limb {i} link {j}")).strong());
        let link = state.tree.limbs[i].links[j].clone();
        let mut length = link.length_m;
        let (lo, hi) = LINK_LENGTH_BOUNDS_M;
        let r = ui.add(
            egui::Slider::new(&mut length, lo..=hi)
                .text("length (m)")
                .max_decimals(3),
        );
        state.dragging = r.dragged();
        if r.changed() {
            changed |= state.edit(|t| t.set_link_length(i, j, length));
        }
        state.dragging = false;
        ui.horizontal(|ui| {
            ui.label("hinge axis");
            for axis in [Axis::X, Axis::Y, Axis::Z] {
                if ui
                    .selectable_label(link.axis == axis, format!("{axis:?}"))
                    .clicked()
                    && axis != link.axis
                {
                    changed |= state.edit(|t| t.set_link_axis(i, j, axis));
                }
            }
        });
        ui.horizontal(|ui| {
            ui.label("limb direction");
            let mut d = state.tree.limbs[i].direction;
            if direction_combo(ui, "designer-limb-direction", &mut d) {
                changed |= state.edit(|t| t.set_limb_direction(i, d));
            }
        });
        if ui
            .button(format!("Delete limb {i} and its subtree"))
            .clicked()
        {
            state.selected = None;
            changed |= state.edit(|t| t.remove_subtree(i));
        }
    } else {
        ui.weak("Select a link in the list or double-click one in the view to edit it.");
    }
    ui.separator();
    let at = match state.selected {
        Some((limb, link)) => Attach::Tip { limb, link },
        None => Attach::Torso,
    };
    ui.horizontal(|ui| {
        let target = match at {
            Attach::Torso => "torso".to_string(),
            Attach::Tip { limb, link } => format!("tip of limb {limb} link {link}"),
        };
        if ui.button(format!("Add limb at {target}")).clicked() {
            let (d, n) = (state.new_limb_direction, state.new_limb_links);
            let axis = Axis::perpendicular_to(d)[0];
            let links = vec![Link::new(LINK_LENGTH_M, axis); n];
            changed |= state.edit(|t| t.add_limb(at, d, links).map(|_| ()));
        }
    });
    ui.horizontal(|ui| {
        ui.label("pointing");
        direction_combo(ui, "designer-new-direction", &mut state.new_limb_direction);
        ui.add(egui::Slider::new(&mut state.new_limb_links, 1..=2).text("links"));
    });
    if let Some(e) = &state.error {
        ui.colored_label(ui.visuals().error_fg_color, format!("Edit refused: {e}"));
    }
    ui.separator();
    ui.horizontal(|ui| {
        if ui.button("Open JSON…").clicked() {
            action = Some(DesignerAction::OpenTree);
        }
        if ui.button("Save JSON…").clicked() {
            action = Some(DesignerAction::SaveTree);
        }
        if ui.button("Save MJCF…").clicked() {
            action = Some(DesignerAction::SaveMjcf);
        }
    });
    if changed {
        action = Some(DesignerAction::Rebuild);
    }
    action
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
