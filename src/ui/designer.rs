//! The morphology designer: generate a walker (family, DoF, seed), edit its kinematic tree
//! (link length and axis, limb direction, add a limb, delete a subtree) with undo/redo, and save
//! it as JSON or MJCF. Every edit is validated by the tree itself: an invalid one changes
//! nothing and its reason is shown inline. The state lives in `session::designer`.
use crate::envs::walkers::params::{GENERATED_DOF_RANGE, LINK_LENGTH_BOUNDS_M, LINK_LENGTH_M};
use crate::envs::walkers::{Attach, Axis, Direction, Family, Link};
use crate::session::designer::DesignerState;
use crate::session::{Command, CommandSender, FilePrompt, SceneSource};
use egui::RichText;

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

/// The designer panel; a changed tree rebuilds the walker scene (through `commands`).
pub fn designer_ui(ui: &mut egui::Ui, state: &mut DesignerState, commands: &CommandSender) {
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
            commands.send(Command::Prompt(FilePrompt::OpenTree));
        }
        if ui.button("Save JSON…").clicked() {
            commands.send(Command::Prompt(FilePrompt::SaveTree));
        }
        if ui.button("Save MJCF…").clicked() {
            commands.send(Command::Prompt(FilePrompt::SaveMjcf));
        }
    });
    if changed {
        commands.send(Command::LoadScene(SceneSource::Walker(state.tree.clone())));
    }
}
