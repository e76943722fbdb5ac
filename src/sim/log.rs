//! MuJoCo's message handler: warnings are kept per thread (so a divergence can be reported with
//! MuJoCo's own words) instead of being printed; errors are printed with context.
//!
//! MuJoCo's error path never returns to the caller, so bad input is validated before it can
//! reach a call that would raise one; see [`super::SimModel`] and [`super::Sim`].
use mujoco_rs::prelude::{MjLogMessage, MjtLogLevel, set_log_handler};
use std::cell::RefCell;
use std::sync::Once;

thread_local! {
    static LAST_WARNING: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

fn handle(message: &MjLogMessage) {
    let text = match message.body() {
        Some(body) if !body.is_empty() => format!("{} ({body})", message.subject()),
        _ => message.subject().to_string(),
    };
    match message.level() {
        MjtLogLevel::mjLOG_ERROR => {
            eprintln!("MuJoCo fatal error (the process must stop): {text}");
        }
        MjtLogLevel::mjLOG_WARNING => {
            LAST_WARNING.with(|w| *w.borrow_mut() = Some(text));
        }
        MjtLogLevel::mjLOG_INFO | MjtLogLevel::mjLOG_DEBUG => {}
    }
}

/// Installs the handlers once per process. Every loader calls this, so users need not.
pub fn install_handlers() {
    INSTALL.call_once(|| {
        // SAFETY: `Once` guarantees a single call; it runs before this process loads any model,
        // because every model goes through `SimModel`, which calls this first.
        unsafe { set_log_handler(handle) };
    });
}

/// Takes the last MuJoCo warning raised on this thread, if any.
pub(crate) fn take_last_warning() -> Option<String> {
    LAST_WARNING.with(|w| w.borrow_mut().take())
}
