//! The planner panel: the model (ground truth, a bundled TDM or MLP baseline, any checkpoint), the knobs applied
//! live (planner method and its knobs, K, N, noise, objective, decoding, context window, proposal mix, seed),
//! Plan and Apply switches (as in MuJoCo MPC), single agent steps, and how the plan is drawn.
use crate::envs::{MjcfReward, MjcfTask, mjcf_task_file};
use crate::models::tdm::Decoding;
use crate::plan::{NoiseKind, Objective, PlannerMethod, TrailPoint};
use crate::session::scene::{PolicyKind, SceneRunner, SceneSource};
use crate::session::trails::{PlanView, TrailMode, candidate_summary};
use crate::session::{Command, CommandSender, FilePrompt};

/// The panel; `preset` names the preset applied last; `show_timings` off hides wall-clock
/// figures (for reproducible screenshots). The shipped checkpoints come from the scene (read
/// when it was built, with whether each fits); what the user asks for goes to `commands`.
pub fn planner_ui(
    ui: &mut egui::Ui,
    preset: Option<&str>,
    scene: &mut SceneRunner,
    view: &mut PlanView,
    show_timings: bool,
    commands: &CommandSender,
) {
    if let Some(name) = preset {
        ui.weak(format!("preset '{name}' applied (settings below are live)"));
    }
    ui.horizontal(|ui| {
        let mut on = scene.policy == PolicyKind::Mpc;
        if ui.checkbox(&mut on, "MPC agent drives the scene").changed() {
            commands.send(Command::SetPolicy(if on {
                PolicyKind::Mpc
            } else {
                PolicyKind::Zero
            }));
        }
    });
    ui.horizontal(|ui| {
        ui.checkbox(&mut scene.agent.plan_enabled, "Plan");
        ui.checkbox(&mut scene.agent.apply_actions, "Apply actions");
        if ui
            .button("Step agent")
            .on_hover_text("plan once and apply one control step")
            .clicked()
        {
            commands.send(Command::StepAgent);
        }
    });
    if !scene.env().task().has_reward() {
        no_reward_ui(ui, scene, commands);
    }
    ui.separator();
    ui.label(egui::RichText::new("Model").strong());
    let info = scene.agent.model.clone();
    ui.label(&info.name);
    for d in &info.details {
        ui.weak(d);
    }
    if scene.loading_model() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("loading checkpoint…");
        });
    }
    ui.horizontal_wrapped(|ui| {
        if ui
            .selectable_label(info.path.is_none(), "ground truth")
            .clicked()
        {
            commands.send(Command::UseGroundTruth);
        }
        // Models that fit this scene can be picked; the others say why not on hover.
        for (m, why) in &scene.bundled {
            let selected = info.path.as_deref() == Some(m.path.as_path());
            match why {
                None => {
                    if ui.selectable_label(selected, m.label()).clicked() {
                        commands.send(Command::LoadCheckpoint(m.path.clone()));
                    }
                }
                Some(why) => {
                    ui.add_enabled(false, egui::Button::selectable(false, m.label()))
                        .on_disabled_hover_text(format!("does not fit this scene: {why}"));
                }
            }
        }
        if ui.button("Open checkpoint…").clicked() {
            commands.send(Command::Prompt(FilePrompt::OpenCheckpoint));
        }
    });
    ui.separator();
    ui.label(egui::RichText::new("Planner").strong());
    let s = &mut scene.agent.settings;
    let c = &mut s.config;
    ui.add(egui::Slider::new(&mut c.candidates, 1..=512).text("samples K"));
    ui.add(egui::Slider::new(&mut c.horizon_steps, 1..=300).text("horizon N"));
    method_ui(ui, &mut c.method, c.candidates);
    ui.horizontal(|ui| {
        let label = ui.label("noise");
        egui::ComboBox::from_id_salt("noise-kind")
            .selected_text(format!("{:?}", c.noise.kind))
            .show_ui(ui, |ui| {
                for k in [NoiseKind::Brownian, NoiseKind::White, NoiseKind::Pink] {
                    ui.selectable_value(&mut c.noise.kind, k, format!("{k:?}"));
                }
            })
            .response
            .labelled_by(label.id);
    });
    ui.add(
        egui::Slider::new(&mut c.noise.variance, 0.01..=8.0)
            .logarithmic(true)
            .text("variance σ²"),
    );
    ui.horizontal(|ui| {
        let label = ui.label("objective");
        egui::ComboBox::from_id_salt("objective")
            .selected_text(match c.objective {
                Objective::Auto => "auto",
                Objective::FromObservations => "R(o') from observations",
                Objective::PredictedRewards => "predicted rewards",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut c.objective, Objective::Auto, "auto");
                ui.selectable_value(
                    &mut c.objective,
                    Objective::FromObservations,
                    "R(o') from observations",
                );
                ui.selectable_value(
                    &mut c.objective,
                    Objective::PredictedRewards,
                    "predicted rewards",
                );
            })
            .response
            .labelled_by(label.id);
    });
    ui.checkbox(&mut c.keep_best, "warm start (the last plan, shifted)");
    ui.horizontal(|ui| {
        let label = ui.label("seed");
        ui.add(egui::DragValue::new(&mut c.seed))
            .labelled_by(label.id);
    });
    ui.add_enabled_ui(info.is_tdm, |ui| {
        ui.horizontal(|ui| {
            let label = ui.label("decoding");
            egui::ComboBox::from_id_salt("decoding")
                .selected_text(s.decoding.name())
                .show_ui(ui, |ui| {
                    for d in Decoding::ALL {
                        ui.selectable_value(&mut s.decoding, d, d.name());
                    }
                })
                .response
                .labelled_by(label.id);
        });
        let no_proposals = c.proposal_mix == 0.0;
        ui.add_enabled(
            no_proposals,
            egui::Slider::new(&mut c.rollouts, 1..=8).text("rollouts per candidate"),
        )
        .on_hover_text(
            "imagine each candidate this many times and score it by the mean (with sampled \
                 decoding: its expected return under the model's own uncertainty); costs as \
                 many times the planning time",
        );
        let mut limit = s.context_limit_tokens.is_some();
        ui.horizontal(|ui| {
            ui.checkbox(&mut limit, "limit context to");
            let mut tokens = s.context_limit_tokens.unwrap_or(128);
            ui.add_enabled(limit, egui::DragValue::new(&mut tokens).range(8..=4096))
                .on_hover_text("tokens of history the TDM sees");
            s.context_limit_tokens = limit.then_some(tokens);
        });
    });
    ui.add_enabled(
        info.proposes_actions && c.rollouts <= 1 && c.method.takes_proposals(),
        egui::Slider::new(&mut c.proposal_mix, 0.0..=1.0).text("proposal mix (BC policy)"),
    )
    .on_hover_text(
        "fraction of the K candidates whose actions are the model's own policy plus the noise \
         (section 5.1.1); needs a TDM trained with --bc-weight above 0",
    )
    .on_disabled_hover_text(
        "needs random shooting, and a model with a policy (a TDM trained with --bc-weight \
         above 0)",
    );
    ui.checkbox(
        &mut s.replay,
        "replay candidates in MuJoCo (ground truth, errors)",
    );
    ui.separator();
    ui.label(egui::RichText::new("Imagined rollouts").strong());
    ui.horizontal(|ui| {
        ui.selectable_value(&mut view.mode, TrailMode::Imagined, "imagined");
        ui.selectable_value(&mut view.mode, TrailMode::GroundTruth, "ground truth");
        ui.selectable_value(&mut view.mode, TrailMode::Both, "both");
    });
    let names = scene.geometry.body_names.clone();
    ui.horizontal(|ui| {
        let label = ui.label("trail of");
        let current = names.get(s.trail.body).cloned().unwrap_or_default();
        egui::ComboBox::from_id_salt("trail-body")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (b, n) in names.iter().enumerate().skip(1) {
                    ui.selectable_value(&mut s.trail, TrailPoint { body: b }, n);
                }
            })
            .response
            .labelled_by(label.id);
    });
    let k = c.candidates.max(1);
    view.best_only = view.best_only.min(k);
    ui.add(
        egui::Slider::new(&mut view.best_only, 0..=k)
            .text("trails of the best (0: all)")
            .integer(),
    );
    ui.add(egui::Slider::new(&mut view.trail_width_px, 1.0..=8.0).text("trail width (px)"));
    ui.add(egui::Slider::new(&mut s.ghosts, 0..=8).text("ghost bodies (best)"));
    view.ghosts = s.ghosts;
    let n = c.horizon_steps.max(1);
    view.ghost_step = view.ghost_step.min(n - 1);
    ui.add(egui::Slider::new(&mut view.ghost_step, 0..=n - 1).text("ghost step"));
    if let Some(last) = &scene.agent.last {
        ui.separator();
        let p = &last.plan;
        let timing = if show_timings {
            format!(
                "{:.1} ms, {}",
                p.elapsed_secs * 1e3,
                last.tokens_per_sec
                    .map(|t| format!("{t:.0} generated tokens/s, "))
                    .unwrap_or_default()
            )
        } else {
            String::new()
        };
        let rounds = match p.round_best_scores.as_slice() {
            [] | [_] => String::new(),
            r => format!(
                ", {} rounds (best {})",
                r.len(),
                r.iter()
                    .map(|s| format!("{s:.1}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        ui.label(format!(
            "last plan: {timing}K {}{} x N {}{rounds}, chosen score {:.2}",
            p.candidates(),
            if p.proposed > 0 {
                format!(" ({} proposed)", p.proposed)
            } else {
                String::new()
            },
            p.horizon_steps(),
            p.scores.get(p.best).copied().unwrap_or(f64::NAN),
        ));
        if let Some(r) = last.ranking {
            let episode = scene
                .agent
                .ranking_tally
                .means()
                .map(|(s, g)| {
                    let g = g.map_or("-".into(), |g| format!("{g:.2}"));
                    format!(" (episode mean {s:.2}, {g})")
                })
                .unwrap_or_default();
            ui.label(format!(
                "vs reality: rank correlation {:.2}, regret of the pick {}{episode}",
                r.spearman,
                r.regret.map_or("-".into(), |g| format!("{g:.2}")),
            ))
            .on_hover_text(format!(
                "How the scores ranked the candidates against the returns they really earn \
                 when replayed in MuJoCo. Rank correlation 1: the truth's order. Regret 0: the \
                 plan picked the really best candidate, 1: no better than a random one. The \
                 pick's score was {:+.2} from its real return.",
                r.optimism
            ));
        }
        if let Some(k) = view.highlighted {
            ui.label(candidate_summary(last, k));
        }
    }
}

/// An MJCF scene without a goal: every candidate scores 0, so say so and offer a goal.
fn no_reward_ui(ui: &mut egui::Ui, scene: &SceneRunner, commands: &CommandSender) {
    ui.colored_label(
        ui.visuals().warn_fg_color,
        "This scene has no task reward: every candidate scores 0, so the plan is arbitrary.",
    );
    if let SceneSource::Task(name) = &scene.source
        && let Some((file, _)) = mjcf_task_file(name)
    {
        let pose = MjcfTask::task_name(file, MjcfReward::HoldPose);
        if ui
            .button("Plan to hold its reference pose")
            .on_hover_text(format!(
                "reopen as {pose}: reward exp(-(d / 0.5)^2), d the RMS distance of the joints \
                 (and free-joint heights) from the model's qpos0"
            ))
            .clicked()
        {
            commands.send(Command::LoadScene(SceneSource::Task(pose)));
        }
    }
}

/// The planner method combo box and the chosen method's knobs (a new method starts at its
/// defaults).
fn method_ui(ui: &mut egui::Ui, method: &mut PlannerMethod, candidates: usize) {
    ui.horizontal(|ui| {
        let label = ui.label("planner");
        egui::ComboBox::from_id_salt("planner-method")
            .selected_text(method.name())
            .show_ui(ui, |ui| {
                for (name, fresh) in PlannerMethod::NAMES {
                    let current = method.name() == name;
                    if ui.selectable_label(current, name).clicked() && !current {
                        *method = fresh;
                    }
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(
                "random shooting: the best of K fresh candidates (the paper's); cem: a \
                 Gaussian refitted to the elites each round; mppi: the score-weighted mean \
                 of K perturbations; predictive sampling: the best of the nominal and K - 1 \
                 perturbations of it",
            );
    });
    let iterations_ui = |ui: &mut egui::Ui, iterations: &mut usize| {
        ui.add(egui::Slider::new(iterations, 1..=16).text("iterations"))
            .on_hover_text("rounds of K candidates per plan");
    };
    match method {
        PlannerMethod::RandomShooting => {}
        PlannerMethod::Cem {
            iterations,
            elites,
            smoothing,
        } => {
            iterations_ui(ui, iterations);
            ui.add(
                egui::Slider::new(elites, 1..=candidates.saturating_sub(1).max(1)).text("elites"),
            )
            .on_hover_text("the best candidates each round refits to, and keeps");
            ui.add(egui::Slider::new(smoothing, 0.0..=0.95).text("smoothing"))
                .on_hover_text("the old mean's and deviation's weight in each refit");
        }
        PlannerMethod::Mppi {
            temperature,
            iterations,
        } => {
            iterations_ui(ui, iterations);
            ui.add(
                egui::Slider::new(temperature, 0.001..=100.0)
                    .logarithmic(true)
                    .text("temperature λ"),
            )
            .on_hover_text("weights exp(score / λ): small picks the best, large averages all");
        }
        PlannerMethod::PredictiveSampling {
            spline_points,
            iterations,
        } => {
            iterations_ui(ui, iterations);
            ui.add(egui::Slider::new(spline_points, 0..=16).text("spline knots"))
                .on_hover_text(
                    "0: perturb with the noise kind above; more: splines through this many knots",
                );
        }
    }
}
