//! A one-line progress bar on stderr with an ETA.
use std::io::Write;

/// Redraws `[=====>    ] done/total what, extra, ETA` in place.
pub fn bar(done: usize, total: usize, what: &str, extra: &str, elapsed_secs: f64) {
    bar_from(0, done, total, what, extra, elapsed_secs);
}

/// As [`bar`] for work that resumed at `first`: the ETA comes from this run's pace.
pub fn bar_from(
    first: usize,
    done: usize,
    total: usize,
    what: &str,
    extra: &str,
    elapsed_secs: f64,
) {
    let width = 30;
    let frac = if total == 0 {
        1.0
    } else {
        done as f64 / total as f64
    };
    let filled = ((frac * width as f64).round() as usize).min(width);
    let eta = if done <= first {
        f64::NAN
    } else {
        elapsed_secs / (done - first) as f64 * total.saturating_sub(done) as f64
    };
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\r[{}{}] {done}/{total} {what}{extra}, {} elapsed, ETA {}   ",
        "=".repeat(filled),
        " ".repeat(width - filled),
        duration(elapsed_secs),
        duration(eta)
    );
    if done == total {
        let _ = writeln!(err);
    }
    let _ = err.flush();
}

/// `1h02m`, `3m20s`, `12.3s`, or `?`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() {
        return "?".into();
    }
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{secs:.1}s")
    }
}
