//! Progress bars on stderr (`indicatif`): one bar per stage of work, each left on screen when its
//! stage is done, so a command with stages (collect, train, evaluate) shows one line per stage.
//! A spinner keeps turning between updates; the ETA comes from this run's pace. Nothing is drawn
//! when stderr is not a terminal (or `TERM` is dumb), so piped and captured output stays clean.
use indicatif::{MultiProgress, ProgressBar, ProgressState, ProgressStyle};
use std::sync::Mutex;
use std::time::Duration;

/// The stage under way: its bar and what identifies it (a call with another total or start, or
/// with less done, begins the next stage).
struct Stage {
    bar: ProgressBar,
    first: usize,
    total: usize,
    done: usize,
}

struct Bars {
    multi: MultiProgress,
    current: Option<Stage>,
}

static BARS: Mutex<Option<Bars>> = Mutex::new(None);

/// Shows `[=====>    ] done/total what extra, elapsed, ETA`: the current stage's bar moves on,
/// or a new bar starts below the last one.
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
    let mut guard = BARS.lock().unwrap_or_else(|e| e.into_inner());
    let bars = guard.get_or_insert_with(|| Bars {
        multi: MultiProgress::new(),
        current: None,
    });
    if let Some(s) = &bars.current
        && (s.total != total || s.first != first || done < s.done)
    {
        s.bar.abandon();
        bars.current = None;
    }
    let stage = bars.current.get_or_insert_with(|| {
        let bar = ProgressBar::new(total as u64)
            .with_style(style(first))
            .with_position(done as u64)
            .with_elapsed(Duration::from_secs_f64(elapsed_secs.max(0.0)));
        let bar = bars.multi.add(bar);
        bar.enable_steady_tick(Duration::from_millis(120));
        Stage {
            bar,
            first,
            total,
            done,
        }
    });
    stage.done = done;
    stage.bar.set_message(format!("{what}{extra}"));
    stage.bar.set_position(done as u64);
    if done >= total {
        stage.bar.finish();
        bars.current = None;
    }
}

/// Runs `work` under a spinner that says `what` and the time spent (MuJoCo compiling a large
/// MJCF, say, which reports no progress of its own); the spinner is cleared when `work` returns.
pub fn spin_while<T>(what: &str, work: impl FnOnce() -> T) -> T {
    let spinner = ProgressBar::new_spinner().with_message(what.to_string());
    let look = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    spinner.set_style(look);
    spinner.enable_steady_tick(Duration::from_millis(120));
    let out = work();
    spinner.finish_and_clear();
    out
}

/// The bar's look; `first` is where this run started, for the ETA.
fn style(first: usize) -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} [{bar:30}] {pos}/{len}{msg}, {spent} elapsed, ETA {run_eta}",
    )
    // A template error would only lose the bar's look, never the work: fall back to the plain bar.
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
    .with_key("spent", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{}", duration(s.elapsed().as_secs_f64()));
    })
    .with_key(
        "run_eta",
        move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let (done, total) = (s.pos() as usize, s.len().unwrap_or(0) as usize);
            let eta = eta(first, done, total, s.elapsed().as_secs_f64());
            let _ = write!(w, "{}", duration(eta));
        },
    )
}

/// Seconds left at this run's pace: `elapsed` was spent on `done - first` units (NaN before the
/// first one).
fn eta(first: usize, done: usize, total: usize, elapsed_secs: f64) -> f64 {
    if done <= first {
        f64::NAN
    } else {
        elapsed_secs / (done - first) as f64 * total.saturating_sub(done) as f64
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_etas_read_as_before() {
        assert_eq!(duration(f64::NAN), "?");
        assert_eq!(duration(12.34), "12.3s");
        assert_eq!(duration(200.0), "3m20s");
        assert_eq!(duration(3720.0), "1h02m");
        assert!(eta(5, 5, 10, 3.0).is_nan());
        assert_eq!(eta(5, 7, 10, 4.0), 6.0);
    }

    #[test]
    fn stages_follow_each_other_without_a_terminal() {
        // Hidden in tests (stderr is captured); this checks the bookkeeping.
        bar(1, 3, "", " episodes", 0.5);
        bar(3, 3, "", " episodes", 1.5);
        assert!(BARS.lock().unwrap().as_ref().unwrap().current.is_none());
        bar_from(10, 12, 20, "", " steps", 1.0);
        bar_from(10, 11, 20, "", " steps", 1.0);
        let guard = BARS.lock().unwrap();
        let stage = guard.as_ref().unwrap().current.as_ref().unwrap();
        assert_eq!((stage.first, stage.done, stage.total), (10, 11, 20));
    }
}
