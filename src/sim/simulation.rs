//! One simulation: a shared model and one `MjData`, stepped with a control vector.
use super::error::SimError;
use super::log::{guarded, take_last_warning};
use super::model::SimModel;
use super::state::{STATE_SPEC, SimState};
use mujoco_rs::mujoco_c::{mjData, mjModel};
use mujoco_rs::prelude::{MjData, MjModel, MjtIntegrator, MjtWarning};
use std::sync::Arc;

// The MuJoCo calls that can raise an error while a model steps (the stack or arena running out,
// a solver failure), imported once more as `C-unwind` so that the error handler may unwind out
// of them into [`guarded`] (see `super::log`).
#[allow(clashing_extern_declarations)]
unsafe extern "C-unwind" {
    fn mj_step(m: *const mjModel, d: *mut mjData);
    fn mj_step1(m: *const mjModel, d: *mut mjData);
    fn mj_step2(m: *const mjModel, d: *mut mjData);
    fn mj_forward(m: *const mjModel, d: *mut mjData);
}

type Stage = unsafe extern "C-unwind" fn(*const mjModel, *mut mjData);

/// Runs one MuJoCo stage on `data`. A MuJoCo error inside it resets `data` (the state is lost:
/// MuJoCo stopped mid-computation) and comes back as [`SimError::Mujoco`].
fn run_stage(data: &mut Data, stage: Stage) -> Result<(), SimError> {
    let time_secs = data.time();
    let m: *const mjModel = data.model().ffi();
    // SAFETY: the pointer is used only for the duration of the call below, which is the only
    // access to `data` meanwhile.
    let d: *mut mjData = unsafe { data.ffi_mut() };
    // SAFETY: `m` and `d` are a valid model and its data.
    match guarded(|| unsafe { stage(m, d) }) {
        Ok(()) => Ok(()),
        Err(message) => {
            data.reset();
            // Derived quantities of the reset state; a second failure leaves the reset state.
            if guarded(|| unsafe { mj_forward(m, d) }).is_err() {
                data.reset();
            }
            Err(SimError::Mujoco { time_secs, message })
        }
    }
}

/// MuJoCo data bound to a shared model.
pub type Data = MjData<Arc<MjModel>>;

/// The warnings that mean the state is no longer trustworthy.
const DIVERGENCE_WARNINGS: [MjtWarning; 3] = [
    MjtWarning::mjWARN_BADQPOS,
    MjtWarning::mjWARN_BADQVEL,
    MjtWarning::mjWARN_BADQACC,
];

/// A model plus one `MjData`.
///
/// Invariant kept by every method: the position- and velocity-dependent quantities (body poses,
/// sensors, sub-tree velocities) are up to date with `qpos`/`qvel`, as after dm_control's
/// `physics.step()`, so observations and rewards can be read straight after a step.
pub struct Sim {
    model: SimModel,
    data: Data,
    /// A MuJoCo error raised by [`Sim::forward`] (which returns nothing), reported by the next
    /// [`Sim::step`].
    fault: Option<SimError>,
}

impl Sim {
    /// A fresh simulation at the model's reference configuration.
    pub fn new(model: SimModel) -> Self {
        let data = MjData::new(Arc::clone(model.mj()));
        let mut sim = Self {
            model,
            data,
            fault: None,
        };
        sim.forward();
        sim
    }

    pub fn model(&self) -> &SimModel {
        &self.model
    }

    pub fn data(&self) -> &Data {
        &self.data
    }

    /// Mutable access for task code that sets positions directly; call [`Sim::forward`] after.
    pub fn data_mut(&mut self) -> &mut Data {
        &mut self.data
    }

    /// Recomputes everything derived from the current state (mj_forward). A MuJoCo error here
    /// resets the simulation and is returned by the next [`Sim::step`].
    pub fn forward(&mut self) {
        if let Err(e) = run_stage(&mut self.data, mj_forward) {
            self.fault = Some(e);
        }
    }

    /// Resets to the model's reference configuration.
    pub fn reset(&mut self) {
        self.fault = None;
        self.data.reset();
        self.forward();
    }

    /// Simulation time in seconds.
    pub fn time_secs(&self) -> f64 {
        self.data.time()
    }

    /// Saves the full integration state.
    pub fn state(&self) -> SimState {
        SimState {
            model_signature: self.model.mj().signature(),
            values: self.data.state(STATE_SPEC).into_vec(),
        }
    }

    /// Restores a state saved from a model with the same signature.
    pub fn set_state(&mut self, state: &SimState) -> Result<(), SimError> {
        restore(&mut self.data, state)?;
        // A state restored and recomputed: an earlier fault is history.
        self.fault = None;
        Ok(())
    }

    /// Applies `ctrl` (clamped to each actuator's control range where the model limits it) and
    /// advances `substeps` physics steps.
    pub fn step(&mut self, ctrl: &[f64], substeps: usize) -> Result<(), SimError> {
        if let Some(fault) = self.fault.take() {
            return Err(fault);
        }
        step_data(&mut self.data, self.model.mj(), ctrl, substeps)
    }
}

/// Restores `state` into `data`, then brings derived quantities up to date.
pub(crate) fn restore(data: &mut Data, state: &SimState) -> Result<(), SimError> {
    let expected = data.model().signature();
    if state.model_signature != expected {
        return Err(SimError::BadState(format!(
            "saved for model signature {:#x}, this model has {expected:#x}",
            state.model_signature
        )));
    }
    data.set_state(&state.values, STATE_SPEC)
        .map_err(|e| SimError::BadState(e.to_string()))?;
    sync_derived(data)
}

/// Brings poses, sensors and sub-tree velocities up to date with the state (mj_step1).
fn sync_derived(data: &mut Data) -> Result<(), SimError> {
    run_stage(data, mj_step1)
}

fn warning_counts(data: &Data) -> [i32; 3] {
    let w = data.warning();
    DIVERGENCE_WARNINGS.map(|k| w[k as usize].number)
}

/// Steps `data` with `ctrl` for `substeps` physics steps, reporting divergence as an error.
pub(crate) fn step_data(
    data: &mut Data,
    model: &MjModel,
    ctrl: &[f64],
    substeps: usize,
) -> Result<(), SimError> {
    let nu = model.nu() as usize;
    if ctrl.len() != nu {
        return Err(SimError::BadControl(format!(
            "expected {nu} controls, got {}",
            ctrl.len()
        )));
    }
    if let Some(i) = ctrl.iter().position(|u| !u.is_finite()) {
        return Err(SimError::BadControl(format!(
            "control {i} is not finite ({})",
            ctrl[i]
        )));
    }
    {
        let limited = model.actuator_ctrllimited();
        let range = model.actuator_ctrlrange();
        let dst = data.ctrl_mut();
        for (i, (d, &u)) in dst.iter_mut().zip(ctrl).enumerate() {
            *d = if limited[i] {
                u.clamp(range[i][0], range[i][1])
            } else {
                u
            };
        }
    }
    let before = warning_counts(data);
    let rk4 = model.opt().integrator == MjtIntegrator::mjINT_RK4 as i32;
    // MuJoCo resets the state (and the clock) when it finds a bad one, so the time of the
    // divergence is the time before the physics step in which a warning appeared.
    let mut diverged_at = None;
    for _ in 0..substeps {
        let t = data.time();
        if rk4 {
            run_stage(data, mj_step)?;
        } else {
            // dm_control's "legacy step": the state already went through mj_step1, so finish
            // this step with mj_step2 and end with mj_step1 so that poses and sensors match the
            // new state. Same work as a full step.
            run_stage(data, mj_step2)?;
            run_stage(data, mj_step1)?;
        }
        if warning_counts(data) != before {
            diverged_at = Some(t);
            break;
        }
    }
    if rk4 {
        run_stage(data, mj_step1)?;
    }
    let after = warning_counts(data);
    let diverged = before != after
        || data.qpos().iter().any(|x| !x.is_finite())
        || data.qvel().iter().any(|x| !x.is_finite());
    if diverged {
        let message = take_last_warning()
            .unwrap_or_else(|| "NaN, Inf or huge value in the state".to_string());
        return Err(SimError::Diverged {
            time_secs: diverged_at.unwrap_or_else(|| data.time()),
            message,
        });
    }
    Ok(())
}
