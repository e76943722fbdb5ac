//! Messages: toasts over the viewport that expire (information after 6 s, errors after 20 s,
//! three at most, the oldest giving way) and the history of every message (View > Messages).
use super::workbench::Workbench;

/// At most this many messages over the viewport at once (the oldest give way).
const MAX_TOASTS: usize = 3;
/// Seconds an information message and an error stay over the viewport.
const INFO_TOAST_SECS: f64 = 6.0;
const ERROR_TOAST_SECS: f64 = 20.0;
/// Messages kept in the history (View > Messages).
const MAX_HISTORY: usize = 200;

/// A message shown over the viewport until it expires or is dismissed (and kept in the
/// message history either way).
#[derive(Clone, Debug)]
pub struct Toast {
    pub message: String,
    pub is_error: bool,
    /// Wall-clock seconds it has been shown.
    pub age_secs: f64,
}

impl Toast {
    pub fn new(message: String, is_error: bool) -> Self {
        Self {
            message,
            is_error,
            age_secs: 0.0,
        }
    }

    /// How long it stays on screen: errors longer than information.
    pub fn lifetime_secs(&self) -> f64 {
        if self.is_error {
            ERROR_TOAST_SECS
        } else {
            INFO_TOAST_SECS
        }
    }
}

impl Workbench {
    pub fn error(&mut self, message: String) {
        self.notify(Toast::new(message, true));
    }

    pub fn info(&mut self, message: String) {
        self.notify(Toast::new(message, false));
    }

    fn notify(&mut self, toast: Toast) {
        self.history.push(toast.clone());
        if self.history.len() > MAX_HISTORY {
            self.history.remove(0);
        }
        self.toasts.push(toast);
        if self.toasts.len() > MAX_TOASTS {
            self.toasts.remove(0);
        }
    }

    /// Ages the messages over the viewport by `real_dt_secs` and drops the expired ones.
    pub(super) fn age_toasts(&mut self, real_dt_secs: f64) {
        for t in &mut self.toasts {
            t.age_secs += real_dt_secs.max(0.0);
        }
        self.toasts.retain(|t| t.age_secs < t.lifetime_secs());
    }
}
