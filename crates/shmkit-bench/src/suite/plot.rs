//! The two PNG plots of BENCHMARKS.md, drawn with plotters into a memory buffer (bitmap
//! backend) and encoded with `png`. Text uses DejaVu Sans, embedded in the binary, so
//! that no font has to be installed.

use super::plan::SIZES;
use super::report::{Distribution, LatencyRow};
use super::table::size_label;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::io;
use std::path::Path;
use std::sync::Once;

/// The file name of the p50-by-size plot.
pub const P50_BY_SIZE: &str = "latency-p50-by-size.png";
/// The file name of the 64 B distribution plot.
pub const DISTRIBUTION_64B: &str = "latency-distribution-64b.png";

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 640;

fn register_font() -> io::Result<()> {
    static ONCE: Once = Once::new();
    let mut ok = true;
    ONCE.call_once(|| {
        ok = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        )
        .is_ok();
    });
    if ok {
        Ok(())
    } else {
        Err(io::Error::other("the embedded font is not a font"))
    }
}

fn draw_err<E: std::error::Error>(e: E) -> io::Error {
    io::Error::other(format!("plot: {e}"))
}

/// Writes both plots into `dir` (created if missing); returns their paths.
pub fn write_all(
    dir: &Path,
    rows: &[LatencyRow],
    distributions: &[Distribution],
) -> io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let a = dir.join(P50_BY_SIZE);
    std::fs::write(&a, p50_by_size(rows)?)?;
    let b = dir.join(DISTRIBUTION_64B);
    let at_64: Vec<Distribution> = distributions
        .iter()
        .filter(|d| d.size == SIZES[0])
        .cloned()
        .collect();
    std::fs::write(&b, distribution(&at_64)?)?;
    Ok(vec![a, b])
}

fn series_keys<'a>(items: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
    let mut keys = Vec::new();
    for k in items {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys
}

fn color(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    COLORS[i % COLORS.len()]
}

fn micros_label(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0} µs")
    } else if v >= 1.0 {
        format!("{v:.1} µs")
    } else {
        format!("{v:.2} µs")
    }
}

/// The bounds of a log axis around `values` (positive, finite), with some room.
fn log_bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.01, 1000.0);
    }
    (lo / 1.5, hi * 1.5)
}

/// The charts of both plots: linear x, logarithmic y.
type Chart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, LogCoord<f64>>>;

/// One series: its line, labelled for the legend, and a dot of `radius` at each point.
fn draw_line(
    chart: &mut Chart<'_, '_>,
    label: String,
    points: &[(f64, f64)],
    c: RGBColor,
    radius: i32,
) -> io::Result<()> {
    chart
        .draw_series(LineSeries::new(points.to_vec(), c.stroke_width(2)))
        .map_err(draw_err)?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    chart
        .draw_series(points.iter().map(|&p| Circle::new(p, radius, c.filled())))
        .map_err(draw_err)?;
    Ok(())
}

/// The legend, in the upper left corner.
fn draw_legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>) -> io::Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(draw_err)
}

fn encode(buf: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Best);
    enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut w = enc.write_header().map_err(io::Error::other)?;
    w.write_image_data(buf).map_err(io::Error::other)?;
    w.finish().map_err(io::Error::other)?;
    Ok(out)
}

/// p50 one-way latency by message size, one line per system and mode, both axes
/// logarithmic (x in powers of two).
pub fn p50_by_size(rows: &[LatencyRow]) -> io::Result<Vec<u8>> {
    register_font()?;
    let mut buf = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let (lo, hi) = log_bounds(rows.iter().map(|r| r.p50_ns / 1000.0));
        let x_lo = (SIZES[0] as f64).log2() - 0.3;
        let x_hi = (SIZES[SIZES.len() - 1] as f64).log2() + 0.3;
        let mut chart = ChartBuilder::on(&root)
            .caption("One-way latency, p50, by message size", ("sans-serif", 26))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(x_lo..x_hi, (lo..hi).log_scale())
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_labels(30)
            .x_label_formatter(&|x: &f64| {
                let k = x.round();
                if (x - k).abs() < 1e-6 && (k as i64) % 2 == 0 && k >= 6.0 {
                    size_label(1usize << (k as u32))
                } else {
                    String::new()
                }
            })
            .y_labels(12)
            .y_label_formatter(&|v| micros_label(*v))
            .x_desc("message size")
            .y_desc("one-way latency (half the round trip)")
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()
            .map_err(draw_err)?;
        let keys = series_keys(rows.iter().map(|r| (r.system.as_str(), r.mode.as_str())));
        for (i, (system, mode)) in keys.iter().enumerate() {
            let c = color(i);
            let points: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.system == *system && r.mode == *mode && r.p50_ns > 0.0)
                .map(|r| ((r.size as f64).log2(), r.p50_ns / 1000.0))
                .collect();
            draw_line(&mut chart, format!("{system} {mode}"), &points, c, 4)?;
        }
        draw_legend(&mut chart)?;
        root.present().map_err(draw_err)?;
    }
    encode(&buf)
}

/// x of a percentile on the distribution plot: -log10(1 - p/100), so that 90, 99, 99.9
/// and 99.99 are evenly spaced.
fn tail_x(p: f64) -> f64 {
    -(1.0 - p / 100.0).max(1e-4).log10()
}

/// The one-way latency distribution at 64 B, one line per system and mode: latency
/// (log) against the percentile (tail-stretched).
pub fn distribution(dists: &[Distribution]) -> io::Result<Vec<u8>> {
    register_font()?;
    let mut buf = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let usable = |p: f64| p < 100.0;
        let (lo, hi) = log_bounds(
            dists
                .iter()
                .flat_map(|d| d.points.iter())
                .filter(|(p, _)| usable(*p))
                .map(|(_, ns)| ns / 1000.0),
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "One-way latency distribution, 64 B messages",
                ("sans-serif", 26),
            )
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..4.05, (lo..hi).log_scale())
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_labels(9)
            .x_label_formatter(&|x: &f64| {
                let k = x.round();
                if (x - k).abs() > 1e-6 {
                    return String::new();
                }
                match k as i64 {
                    0 => "p0".to_owned(),
                    1 => "p90".to_owned(),
                    2 => "p99".to_owned(),
                    3 => "p99.9".to_owned(),
                    4 => "p99.99".to_owned(),
                    _ => String::new(),
                }
            })
            .y_labels(12)
            .y_label_formatter(&|v| micros_label(*v))
            .x_desc("percentile")
            .y_desc("one-way latency (half the round trip)")
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()
            .map_err(draw_err)?;
        let keys = series_keys(dists.iter().map(|d| (d.system.as_str(), d.mode.as_str())));
        for (i, (system, mode)) in keys.iter().enumerate() {
            let c = color(i);
            let points: Vec<(f64, f64)> = dists
                .iter()
                .filter(|d| d.system == *system && d.mode == *mode)
                .flat_map(|d| d.points.iter())
                .filter(|(p, ns)| usable(*p) && *ns > 0.0)
                .map(|&(p, ns)| (tail_x(p), ns / 1000.0))
                .collect();
            draw_line(&mut chart, format!("{system} {mode}"), &points, c, 3)?;
        }
        draw_legend(&mut chart)?;
        root.present().map_err(draw_err)?;
    }
    encode(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_positions() {
        assert!((tail_x(90.0) - 1.0).abs() < 1e-9);
        assert!((tail_x(99.9) - 3.0).abs() < 1e-9);
        assert_eq!(tail_x(0.0), 0.0);
        assert!(tail_x(100.0).is_finite());
    }

    #[test]
    fn plots_are_png_without_any_font_installed() {
        let rows: Vec<LatencyRow> = SIZES
            .iter()
            .map(|&size| LatencyRow {
                system: "flag-spin".into(),
                mode: "busy".into(),
                size,
                p50_ns: 100.0 + size as f64 / 30.0,
                p99_ns: 0.0,
                p999_ns: 0.0,
            })
            .collect();
        let png = p50_by_size(&rows).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let d = Distribution {
            system: "pipe".into(),
            mode: "block".into(),
            size: 64,
            points: super::super::stats::CURVE
                .iter()
                .map(|&p| (p, 30_000.0 + p * 10.0))
                .collect(),
        };
        let png = distribution(&[d]).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
