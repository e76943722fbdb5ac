//! Result charts as PNG files, with no window and no GPU: lines, points with error bars, and
//! bars on linear axes, drawn into an RGBA buffer with a built-in 5x7 pixel font. Used by the
//! commands that write results (prediction error, experiments) next to their CSV and JSON.

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Style {
    /// Points joined by a line.
    Line,
    /// Bars from 0, `width` wide in x units, centred on each x.
    Bars { width: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub color: [u8; 3],
    pub style: Style,
    /// (x, y) pairs; non-finite ones are skipped.
    pub points: Vec<(f64, f64)>,
    /// Optional (low, high) per point, drawn as an error bar.
    pub errors: Option<Vec<(f64, f64)>>,
}

impl Series {
    pub fn line(name: &str, color: [u8; 3], points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            color,
            style: Style::Line,
            points,
            errors: None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Labels for integer x positions (categorical axes), instead of numeric ticks.
    pub x_categories: Option<Vec<String>>,
    /// A logarithmic y axis (values <= 0 are left out).
    pub log_y: bool,
}

/// A few colours that stay apart from each other on white.
pub const PALETTE: [[u8; 3]; 6] = [
    [31, 119, 180],
    [214, 39, 40],
    [44, 160, 44],
    [255, 127, 14],
    [148, 103, 189],
    [140, 86, 75],
];

const SCALE: i64 = 2;
const GLYPH_W: i64 = 6 * SCALE;
const ROW_H: i64 = 9 * SCALE;

struct Canvas {
    w: i64,
    h: i64,
    rgba: Vec<u8>,
}

impl Canvas {
    fn new(w: u32, h: u32) -> Self {
        Self {
            w: w as i64,
            h: h as i64,
            rgba: vec![255; w as usize * h as usize * 4],
        }
    }

    fn put(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && x < self.w && y < self.h {
            let i = ((y * self.w + x) * 4) as usize;
            self.rgba[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
        for y in y0.min(y1)..=y0.max(y1) {
            for x in x0.min(x1)..=x0.max(x1) {
                self.put(x, y, c);
            }
        }
    }

    /// A line `thick` pixels wide (Bresenham with a square pen).
    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), c: [u8; 3], thick: i64) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        let r = thick / 2;
        loop {
            self.rect(x - r, y - r, x - r + thick - 1, y - r + thick - 1, c);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    fn text(&mut self, x: i64, y: i64, s: &str, c: [u8; 3]) {
        for (i, ch) in s.chars().enumerate() {
            let rows = glyph(ch);
            for (r, bits) in rows.iter().enumerate() {
                for col in 0..5 {
                    if bits & (1 << (4 - col)) != 0 {
                        let (px, py) = (x + i as i64 * GLYPH_W + col * SCALE, y + r as i64 * SCALE);
                        self.rect(px, py, px + SCALE - 1, py + SCALE - 1, c);
                    }
                }
            }
        }
    }

    /// Text rotated a quarter turn anticlockwise, its baseline at `x`, centred on `y`.
    fn text_up(&mut self, x: i64, y: i64, s: &str, c: [u8; 3]) {
        let len = s.chars().count() as i64 * GLYPH_W;
        let y0 = y + len / 2;
        for (i, ch) in s.chars().enumerate() {
            for (r, bits) in glyph(ch).iter().enumerate() {
                for col in 0..5 {
                    if bits & (1 << (4 - col)) != 0 {
                        let px = x + r as i64 * SCALE;
                        let py = y0 - (i as i64 * GLYPH_W + col * SCALE);
                        self.rect(px, py, px + SCALE - 1, py - SCALE + 1, c);
                    }
                }
            }
        }
    }
}

fn text_width(s: &str) -> i64 {
    s.chars().count() as i64 * GLYPH_W
}

/// "Nice" tick values covering [lo, hi].
fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= target as f64)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(0.001..1000.0).contains(&a) {
        format!("{v:.0e}")
    } else if a >= 10.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').to_string()
    }
}

impl Chart {
    /// The chart as an RGBA image.
    pub fn render_rgba(&self, width: u32, height: u32) -> Vec<u8> {
        if self.log_y {
            let log = |y: f64| if y > 0.0 { y.log10() } else { f64::NAN };
            let mut c = self.clone();
            c.log_y = false;
            for s in &mut c.series {
                s.points.iter_mut().for_each(|p| p.1 = log(p.1));
                if let Some(e) = &mut s.errors {
                    e.iter_mut()
                        .for_each(|(lo, hi)| (*lo, *hi) = (log(*lo), log(*hi)));
                }
            }
            return c.render(width, height, true);
        }
        self.render(width, height, false)
    }

    fn render(&self, width: u32, height: u32, log_y: bool) -> Vec<u8> {
        let mut cv = Canvas::new(width, height);
        let (w, h) = (width as i64, height as i64);
        let legend_rows = {
            let (mut lx, mut rows) = (90, 1);
            for s in &self.series {
                let wide = 20 + text_width(&s.name) + 24;
                if lx > 90 && lx + wide > w {
                    (lx, rows) = (90, rows + 1);
                }
                lx += wide;
            }
            rows
        };
        let (left, right, top, bottom) = (90, 20, 44 + legend_rows * ROW_H, 70);
        let (x0, x1, y0, y1) = (left, w - right, h - bottom, top);
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        let mut xs: Vec<f64> = Vec::new();
        let mut ys: Vec<f64> = if log_y { Vec::new() } else { vec![0.0] };
        for s in &self.series {
            for (i, p) in s.points.iter().enumerate() {
                if !finite(&p) {
                    continue;
                }
                match s.style {
                    Style::Bars { width } => xs.extend([p.0 - width / 2.0, p.0 + width / 2.0]),
                    Style::Line => xs.push(p.0),
                }
                ys.push(p.1);
                if let Some((lo, hi)) = s.errors.as_ref().and_then(|e| e.get(i)) {
                    ys.extend([*lo, *hi].iter().filter(|v| v.is_finite()));
                }
            }
        }
        let (mut xmin, mut xmax) = xs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if !xmin.is_finite() {
            (xmin, xmax) = (0.0, 1.0);
        }
        if let Some(names) = &self.x_categories {
            (xmin, xmax) = (-0.5, names.len().max(1) as f64 - 0.5);
        }
        if xmax - xmin < 1e-12 {
            (xmin, xmax) = (xmin - 0.5, xmax + 0.5);
        }
        let (mut ymin, mut ymax) = ys
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
                (a.min(y), b.max(y))
            });
        if !ymin.is_finite() {
            (ymin, ymax) = (0.0, 1.0);
        }
        if log_y {
            // Whole decades.
            (ymin, ymax) = (ymin.floor(), ymax.ceil());
        }
        if ymax - ymin < 1e-12 {
            ymax = ymin + 1.0;
        }
        let ymax = if log_y {
            ymax
        } else {
            ymax + 0.05 * (ymax - ymin)
        };
        // Pixel offsets are bounded, so a far-off value cannot overflow the arithmetic below.
        let to_px = |v: f64| v.round().clamp(-100_000.0, 100_000.0) as i64;
        let px = |x: f64| x0 + to_px((x - xmin) / (xmax - xmin) * (x1 - x0) as f64);
        let py = |y: f64| y0 - to_px((y - ymin) / (ymax - ymin) * (y0 - y1) as f64);
        let (ink, grid) = ([40, 40, 40], [225, 225, 225]);
        // Grid, axes and tick labels.
        let yticks = if log_y {
            (ymin as i64..=ymax as i64).map(|k| k as f64).collect()
        } else {
            ticks(ymin, ymax, 6)
        };
        for t in yticks {
            let y = py(t);
            cv.line((x0, y), (x1, y), grid, 1);
            let l = if log_y {
                format!("1e{}", t as i64)
            } else {
                tick_label(t)
            };
            cv.text(x0 - 8 - text_width(&l), y - 7, &l, ink);
        }
        match &self.x_categories {
            Some(names) => {
                for (i, n) in names.iter().enumerate() {
                    let x = px(i as f64);
                    cv.text(x - text_width(n) / 2, y0 + 8, n, ink);
                }
            }
            None => {
                for t in ticks(xmin, xmax, 8) {
                    let x = px(t);
                    cv.line((x, y0), (x, y1), grid, 1);
                    let l = tick_label(t);
                    cv.text(x - text_width(&l) / 2, y0 + 8, &l, ink);
                }
            }
        }
        cv.line((x0, y0), (x1, y0), ink, 2);
        cv.line((x0, y0), (x0, y1), ink, 2);
        cv.text(
            (x0 + x1) / 2 - text_width(&self.x_label) / 2,
            h - 30,
            &self.x_label,
            ink,
        );
        cv.text_up(12, (y0 + y1) / 2, &self.y_label, ink);
        cv.text(w / 2 - text_width(&self.title) / 2, 12, &self.title, ink);
        // Series.
        for s in &self.series {
            let pts: Vec<(usize, (f64, f64))> = s
                .points
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, p)| finite(&p))
                .collect();
            match s.style {
                Style::Bars { width } => {
                    for &(_, (x, y)) in &pts {
                        cv.rect(
                            px(x - width / 2.0) + 1,
                            py(0.0),
                            px(x + width / 2.0) - 1,
                            py(y),
                            s.color,
                        );
                    }
                }
                Style::Line => {
                    for pair in pts.windows(2) {
                        let (a, b) = (pair[0].1, pair[1].1);
                        cv.line((px(a.0), py(a.1)), (px(b.0), py(b.1)), s.color, 3);
                    }
                    for &(_, (x, y)) in &pts {
                        cv.rect(px(x) - 3, py(y) - 3, px(x) + 3, py(y) + 3, s.color);
                    }
                }
            }
            if let Some(errors) = &s.errors {
                for &(i, (x, _)) in &pts {
                    if let Some(&(lo, hi)) = errors.get(i)
                        && lo.is_finite()
                        && hi.is_finite()
                    {
                        let c = if matches!(s.style, Style::Bars { .. }) {
                            ink
                        } else {
                            s.color
                        };
                        cv.line((px(x), py(lo)), (px(x), py(hi)), c, 2);
                        cv.line((px(x) - 5, py(lo)), (px(x) + 5, py(lo)), c, 2);
                        cv.line((px(x) - 5, py(hi)), (px(x) + 5, py(hi)), c, 2);
                    }
                }
            }
        }
        // Legend, in one row above the plot.
        let (mut lx, mut ly) = (x0, 34);
        for s in &self.series {
            let wide = 20 + text_width(&s.name) + 24;
            if lx > x0 && lx + wide > w {
                (lx, ly) = (x0, ly + ROW_H);
            }
            cv.rect(lx, ly, lx + 14, ly + 13, s.color);
            cv.text(lx + 20, ly, &s.name, ink);
            lx += wide;
        }
        cv.rgba
    }

    /// Writes the chart to `path` as a PNG (atomically).
    pub fn save_png(&self, path: &std::path::Path, width: u32, height: u32) -> std::io::Result<()> {
        let rgba = self.render_rgba(width, height);
        let mut bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut bytes, width, height);
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().map_err(std::io::Error::other)?;
            writer
                .write_image_data(&rgba)
                .map_err(std::io::Error::other)?;
        }
        crate::files::atomic_write(path, &bytes)
    }
}

/// The 5x7 glyph of `c` (lower case drawn as upper case; unknown characters as '?'): seven rows,
/// the top one first, bit 4 the leftmost pixel.
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        ' ' => [0; 7],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '+' => [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00],
        '/' => [0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '[' => [0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E],
        ']' => [0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        '=' => [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '_' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F],
        '\'' => [0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00],
        '<' => [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02],
        '>' => [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08],
        _ => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let t = ticks(0.0, 1.0, 5);
        let want = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
        assert_eq!(t.len(), want.len(), "{t:?}");
        assert!(
            t.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
            "{t:?}"
        );
        let t = ticks(0.0, 437.0, 6);
        assert_eq!(t.first(), Some(&0.0));
        assert!(
            t.len() <= 7 && t.last().is_some_and(|&v| v <= 437.0),
            "{t:?}"
        );
    }

    #[test]
    fn a_chart_draws_its_series_in_their_colours() {
        let chart = Chart {
            title: "T".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![
                Series::line("a", [255, 0, 0], vec![(0.0, 0.0), (1.0, 1.0)]),
                Series {
                    style: Style::Bars { width: 0.4 },
                    ..Series::line("b", [0, 0, 255], vec![(0.5, 0.5)])
                },
            ],
            x_categories: None,
            log_y: false,
        };
        let rgba = chart.render_rgba(320, 240);
        let log = Chart {
            log_y: true,
            ..chart.clone()
        }
        .render_rgba(320, 240);
        assert_ne!(log, rgba);
        let count = |c: [u8; 3]| rgba.chunks_exact(4).filter(|p| p[..3] == c).count();
        assert!(count([255, 0, 0]) > 200, "the line is drawn");
        assert!(count([0, 0, 255]) > 500, "the bar is drawn");
        assert!(count([40, 40, 40]) > 200, "axes and text are drawn");
    }
}
