//! Result charts as PNG files, with no window and no GPU: lines with points, error bars and bars,
//! on a linear or logarithmic y axis, with a legend; drawn by `plotters` on its bitmap backend,
//! text in DejaVu Sans (embedded from `assets/fonts/`, no system fonts needed). Used by the
//! commands that write results (prediction error, experiments) next to their CSV and JSON.
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;
use plotters::style::register_font;
use std::sync::OnceLock;

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

/// Axes and text.
const INK: RGBColor = RGBColor(40, 40, 40);
const GRID: RGBColor = RGBColor(225, 225, 225);
/// The family name the embedded font is registered under.
const FAMILY: &str = "sans-serif";
static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters once.
fn font_ready() -> std::io::Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(std::io::Error::other(
            "the embedded chart font does not load",
        ))
    }
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

/// A tick's label: as few decimals as the value needs (up to three), so 12.5 reads "12.5"
/// and 10 reads "10"; exponent form outside 0.001..1000.
fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(0.001..1000.0).contains(&a) {
        format!("{v:.0e}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// An axis of `R` with its ticks at `keys` (the labels come from the chart's own formatters).
struct Ticked<R> {
    inner: R,
    keys: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> Ranged for Ticked<R> {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> std::ops::Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

/// The plotted ranges: x in data units, y in data units (linear) or in decades (log).
struct Bounds {
    x: (f64, f64),
    y: (f64, f64),
}

/// What drawing on the bitmap can fail with.
type DrawError = DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

fn to_io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("cannot draw the chart: {e}"))
}

impl Chart {
    /// The points of `s` that can be drawn: finite, and positive on a log axis.
    fn drawable<'a>(&self, s: &'a Series) -> impl Iterator<Item = (usize, (f64, f64))> + 'a {
        let log = self.log_y;
        s.points
            .iter()
            .copied()
            .enumerate()
            .filter(move |(_, (x, y))| x.is_finite() && y.is_finite() && (!log || *y > 0.0))
    }

    /// The error bar of point `i` of `s`, where both ends can be drawn.
    fn error_at(&self, s: &Series, i: usize) -> Option<(f64, f64)> {
        let &(lo, hi) = s.errors.as_ref()?.get(i)?;
        let ok = |v: f64| v.is_finite() && (!self.log_y || v > 0.0);
        (ok(lo) && ok(hi)).then_some((lo, hi))
    }

    fn bounds(&self) -> Bounds {
        let to_axis = |y: f64| if self.log_y { y.log10() } else { y };
        let mut xs: Vec<f64> = Vec::new();
        let mut ys: Vec<f64> = if self.log_y { Vec::new() } else { vec![0.0] };
        for s in &self.series {
            for (i, (x, y)) in self.drawable(s) {
                match s.style {
                    Style::Bars { width } => xs.extend([x - width / 2.0, x + width / 2.0]),
                    Style::Line => xs.push(x),
                }
                ys.push(to_axis(y));
                if let Some((lo, hi)) = self.error_at(s, i) {
                    ys.extend([to_axis(lo), to_axis(hi)]);
                }
            }
        }
        let span = |v: &[f64]| {
            v.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                })
        };
        let (mut xmin, mut xmax) = span(&xs);
        if !xmin.is_finite() {
            (xmin, xmax) = (0.0, 1.0);
        }
        if let Some(names) = &self.x_categories {
            (xmin, xmax) = (-0.5, names.len().max(1) as f64 - 0.5);
        }
        if xmax - xmin < 1e-12 {
            (xmin, xmax) = (xmin - 0.5, xmax + 0.5);
        }
        let (mut ymin, mut ymax) = span(&ys);
        if !ymin.is_finite() {
            (ymin, ymax) = (0.0, 1.0);
        }
        if self.log_y {
            // Whole decades.
            (ymin, ymax) = (ymin.floor(), ymax.ceil());
        }
        if ymax - ymin < 1e-12 {
            ymax = ymin + 1.0;
        }
        if !self.log_y {
            ymax += 0.05 * (ymax - ymin);
        }
        Bounds {
            x: (xmin, xmax),
            y: (ymin, ymax),
        }
    }

    /// The chart as an RGB image (`width * height * 3` bytes).
    pub fn render_rgb(&self, width: u32, height: u32) -> std::io::Result<Vec<u8>> {
        font_ready()?;
        let mut rgb = vec![255; width as usize * height as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
            self.draw(&root).map_err(to_io)?;
            root.present().map_err(to_io)?;
        }
        Ok(rgb)
    }

    /// The chart as an RGBA image (opaque).
    pub fn render_rgba(&self, width: u32, height: u32) -> std::io::Result<Vec<u8>> {
        let rgb = self.render_rgb(width, height)?;
        Ok(rgb
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect())
    }

    fn draw(&self, root: &DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), DrawError> {
        root.fill(&WHITE)?;
        let b = self.bounds();
        let x_keys = match &self.x_categories {
            Some(names) => (0..names.len()).map(|i| i as f64).collect(),
            None => ticks(b.x.0, b.x.1, 8),
        };
        let x = Ticked {
            inner: RangedCoordf64::from(b.x.0..b.x.1),
            keys: x_keys,
        };
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&self.title, (FAMILY, 20).into_font().color(&INK))
            .margin(14)
            .x_label_area_size(58)
            .y_label_area_size(84);
        if self.log_y {
            let decades: Vec<f64> = (b.y.0 as i32..=b.y.1 as i32)
                .map(|k| 10f64.powi(k))
                .collect();
            let y = Ticked {
                inner: LogCoord::from((10f64.powf(b.y.0)..10f64.powf(b.y.1)).log_scale()),
                keys: decades,
            };
            let chart = builder.build_cartesian_2d(x, y)?;
            self.plot(chart, 10f64.powf(b.y.0), &|v: &f64| {
                format!("1e{}", v.log10().round() as i64)
            })
        } else {
            let y = Ticked {
                inner: RangedCoordf64::from(b.y.0..b.y.1),
                keys: ticks(b.y.0, b.y.1, 6),
            };
            let chart = builder.build_cartesian_2d(x, y)?;
            self.plot(chart, 0.0, &|v: &f64| tick_label(*v))
        }
    }

    /// Mesh, series and legend on a built chart; bars stand on `base`.
    fn plot<'a, X, Y>(
        &self,
        mut chart: ChartContext<'a, BitMapBackend<'a>, Cartesian2d<Ticked<X>, Ticked<Y>>>,
        base: f64,
        y_label: &dyn Fn(&f64) -> String,
    ) -> Result<(), DrawError>
    where
        X: Ranged<ValueType = f64>,
        Y: Ranged<ValueType = f64>,
    {
        let text = |size: u32| (FAMILY, size).into_font().color(&INK);
        let x_label = |v: &f64| match &self.x_categories {
            Some(names) => names
                .get(v.round().max(0.0) as usize)
                .cloned()
                .unwrap_or_default(),
            None => tick_label(*v),
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_labels(64)
            .y_labels(64)
            .x_label_formatter(&x_label)
            .y_label_formatter(y_label)
            .label_style(text(15))
            .axis_desc_style(text(16))
            .axis_style(INK.stroke_width(2))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT);
        if self.x_categories.is_some() {
            mesh.disable_x_mesh();
        }
        mesh.draw()?;
        for s in &self.series {
            let color = RGBColor(s.color[0], s.color[1], s.color[2]);
            let pts: Vec<(usize, (f64, f64))> = self.drawable(s).collect();
            let drawn = match s.style {
                Style::Bars { width } => chart.draw_series(pts.iter().map(|&(_, (x, y))| {
                    Rectangle::new(
                        [(x - width / 2.0, base), (x + width / 2.0, y)],
                        color.filled(),
                    )
                }))?,
                Style::Line => {
                    chart.draw_series(LineSeries::new(
                        pts.iter().map(|&(_, p)| p),
                        color.stroke_width(3),
                    ))?;
                    chart.draw_series(pts.iter().map(|&(_, p)| {
                        EmptyElement::at(p) + Rectangle::new([(-3, -3), (3, 3)], color.filled())
                    }))?
                }
            };
            drawn.label(s.name.as_str()).legend(move |(x, y)| {
                Rectangle::new([(x, y - 7), (x + 14, y + 6)], color.filled())
            });
            let bar_color = if matches!(s.style, Style::Bars { .. }) {
                INK
            } else {
                color
            };
            chart.draw_series(pts.iter().filter_map(|&(i, (x, y))| {
                let (lo, hi) = self.error_at(s, i)?;
                Some(ErrorBar::new_vertical(
                    x,
                    lo,
                    y,
                    hi,
                    bar_color.stroke_width(2),
                    10,
                ))
            }))?;
        }
        if !self.series.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font(text(15))
                .background_style(WHITE.mix(0.85))
                .border_style(GRID)
                .draw()?;
        }
        Ok(())
    }

    /// Writes the chart to `path` as a PNG (atomically).
    pub fn save_png(&self, path: &std::path::Path, width: u32, height: u32) -> std::io::Result<()> {
        let rgb = self.render_rgb(width, height)?;
        let mut bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut bytes, width, height);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().map_err(std::io::Error::other)?;
            writer
                .write_image_data(&rgb)
                .map_err(std::io::Error::other)?;
        }
        crate::files::atomic_write(path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_keep_the_decimals_a_tick_needs() {
        assert_eq!(tick_label(12.5), "12.5");
        assert_eq!(tick_label(10.0), "10");
        assert_eq!(tick_label(2.5), "2.5");
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(-7.5), "-7.5");
        assert_eq!(tick_label(0.0), "0");
        assert_eq!(tick_label(1e-4), "1e-4");
    }

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
        let rgba = chart.render_rgba(320, 240).unwrap();
        let log = Chart {
            log_y: true,
            ..chart.clone()
        }
        .render_rgba(320, 240)
        .unwrap();
        assert_ne!(log, rgba);
        let count = |c: [u8; 3]| rgba.chunks_exact(4).filter(|p| p[..3] == c).count();
        assert!(count([255, 0, 0]) > 200, "the line is drawn");
        assert!(count([0, 0, 255]) > 500, "the bar is drawn");
        assert!(count([40, 40, 40]) > 200, "axes and text are drawn");
    }
}
