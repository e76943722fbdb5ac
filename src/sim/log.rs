//! MuJoCo's message handler: warnings are kept per thread (so a divergence can be reported with
//! MuJoCo's own words) instead of being printed; errors raised while this crate steps or
//! recomputes a simulation become ordinary errors of that call.
//!
//! MuJoCo's error path never returns to its caller: the handler must not return. Inside
//! [`guarded`] the handler unwinds (a Rust panic payload, through MuJoCo's C frames, which carry
//! unwind tables) back to the guard, which resets the `MjData` it was given; MuJoCo's own state is
//! then as after `mj_resetData`. Every MuJoCo call that can raise an error while stepping (the
//! `extern "C-unwind"` imports in [`super::simulation`]) runs inside a guard, on every thread.
//! An error outside a guard (a model that fails to compile raises none: its messages come back as
//! text) is printed and ends the process, as MuJoCo requires.
use mujoco_rs::mujoco_c::{mjLogMessage, mju_setLogHandler};
use mujoco_rs::prelude::{MjLogMessage, MjtLogLevel};
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Once;

thread_local! {
    static LAST_WARNING: RefCell<Option<String>> = const { RefCell::new(None) };
    /// How many [`guarded`] calls are running on this thread.
    static GUARDS: Cell<usize> = const { Cell::new(0) };
}

static INSTALL: Once = Once::new();

// The guard unwinds: with `panic = "abort"` a MuJoCo error would end the process after all.
#[cfg(panic = "abort")]
compile_error!("sim::log needs panic = \"unwind\" to turn MuJoCo errors into errors");

/// The unwind payload that carries a MuJoCo error from the handler to its guard.
struct MujocoFault(String);

fn text_of(message: &MjLogMessage) -> String {
    match message.body() {
        Some(body) if !body.is_empty() => format!("{} ({body})", message.subject()),
        _ => message.subject().to_string(),
    }
}

/// The handler MuJoCo calls for every message.
///
/// # Safety
/// MuJoCo calls it with a valid message that outlives the call.
unsafe extern "C-unwind" fn handle(raw: *const mjLogMessage) {
    // SAFETY: MuJoCo passes a valid, non-null message.
    let message: &MjLogMessage = unsafe { &*raw };
    // Nothing below may panic into MuJoCo: reading the text (mujoco-rs checks its UTF-8) is
    // caught, printing ignores a closed stderr. The only unwind is the fault's, into a guard.
    let text = || {
        catch_unwind(AssertUnwindSafe(|| text_of(message)))
            .unwrap_or_else(|_| "(a MuJoCo message that is not valid UTF-8)".to_string())
    };
    let level = catch_unwind(AssertUnwindSafe(|| message.level())).ok();
    match level {
        Some(MjtLogLevel::mjLOG_ERROR) | None => {
            let text = text();
            if GUARDS.with(Cell::get) > 0 {
                // `resume_unwind` skips the panic hook: nothing is printed, the guard reports it.
                resume_unwind(Box::new(MujocoFault(text)));
            }
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "MuJoCo fatal error (the process must stop): {text}"
            );
            std::process::exit(1);
        }
        Some(MjtLogLevel::mjLOG_WARNING) => {
            let text = text();
            LAST_WARNING.with(|w| *w.borrow_mut() = Some(text));
        }
        Some(MjtLogLevel::mjLOG_INFO | MjtLogLevel::mjLOG_DEBUG) => {}
    }
}

/// Installs the handler once per process. Every loader calls this, so users need not.
pub fn install_handlers() {
    INSTALL.call_once(|| {
        type CHandler = unsafe extern "C" fn(*const mjLogMessage);
        // SAFETY: the two function pointer types differ only in whether an unwind may leave the
        // callee; MuJoCo is C compiled with unwind tables, and the handler only unwinds inside a
        // guard, whose MuJoCo calls are all declared `C-unwind`.
        let hook: CHandler = unsafe {
            std::mem::transmute::<unsafe extern "C-unwind" fn(*const mjLogMessage), CHandler>(
                handle,
            )
        };
        // SAFETY: `Once` guarantees a single call; it runs before this process loads any model,
        // because every model goes through `SimModel`, which calls this first.
        unsafe { mju_setLogHandler(Some(hook)) };
    });
}

/// Runs `call` (MuJoCo calls declared `C-unwind`) so that a MuJoCo error inside it comes back as
/// `Err(MuJoCo's message)` instead of ending the process. The caller must reset the `MjData` the
/// call was working on: MuJoCo left it mid-computation.
pub(crate) fn guarded<R>(call: impl FnOnce() -> R) -> Result<R, String> {
    GUARDS.with(|g| g.set(g.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(call));
    GUARDS.with(|g| g.set(g.get() - 1));
    match result {
        Ok(value) => Ok(value),
        Err(payload) => match payload.downcast::<MujocoFault>() {
            Ok(fault) => Err(fault.0),
            Err(other) => resume_unwind(other),
        },
    }
}

/// Takes the last MuJoCo warning raised on this thread, if any.
pub(crate) fn take_last_warning() -> Option<String> {
    LAST_WARNING.with(|w| w.borrow_mut().take())
}
