//! The report as Markdown tables (what the binary prints and BENCHMARKS.md shows).

use super::plan::SIZES;
use super::report::Report;
use std::fmt::Write;

/// A size as the tables and plots name it: `64 B`, `4 KiB`, `1 MiB`.
pub fn size_label(size: usize) -> String {
    if size >= 1 << 20 && size % (1 << 20) == 0 {
        format!("{} MiB", size >> 20)
    } else if size >= 1 << 10 && size % (1 << 10) == 0 {
        format!("{} KiB", size >> 10)
    } else {
        format!("{size} B")
    }
}

fn micros(ns: f64) -> String {
    if ns.is_nan() {
        "–".to_owned()
    } else if ns < 10_000.0 {
        format!("{:.2}", ns / 1000.0)
    } else {
        format!("{:.1}", ns / 1000.0)
    }
}

/// The latency table (µs, p50 / p99 / p99.9 per size), the throughput table and the
/// life-cycle line.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "One-way latency, µs: p50 / p99 / p99.9\n\n| system | mode |"
    );
    for size in SIZES {
        let _ = write!(out, " {} |", size_label(size));
    }
    out.push_str("\n|---|---|");
    for _ in SIZES {
        out.push_str("---|");
    }
    out.push('\n');
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for row in &report.latency {
        let key = (row.system.as_str(), row.mode.as_str());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for (system, mode) in keys {
        let _ = write!(out, "| {system} | {mode} |");
        for size in SIZES {
            match report
                .latency
                .iter()
                .find(|r| r.system == system && r.mode == mode && r.size == size)
            {
                Some(r) => {
                    let _ = write!(
                        out,
                        " {} / {} / {} |",
                        micros(r.p50_ns),
                        micros(r.p99_ns),
                        micros(r.p999_ns)
                    );
                }
                None => out.push_str(" – |"),
            }
        }
        out.push('\n');
    }
    out.push_str(
        "\nThroughput, GB/s (10^9 bytes per second)\n\n| system | size | GB/s |\n|---|---|---|\n",
    );
    for row in &report.throughput {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} |",
            row.system,
            size_label(row.size),
            row.gbps
        );
    }
    let _ = writeln!(
        out,
        "| memcpy | {} | {:.1} |",
        size_label(super::plan::STREAM_SIZE),
        report.memcpy_gbps
    );
    if !report.wake.is_empty() {
        let _ = write!(
            out,
            "\nWake-up of shmkit-win32's waits (another process's SetEvent, the waiter asleep \
             {} ms, to the wait's return), µs\n\n| wait | handles | p50 | p99 |\n|---|---|---|---|\n",
            super::wake::GAP.as_millis()
        );
        for row in &report.wake {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                row.wait,
                row.handles,
                micros(row.p50_ns),
                micros(row.p99_ns)
            );
        }
    }
    let l = &report.lifecycle;
    let _ = write!(
        out,
        "\nMapping life cycle ({} object), per second: shmkit {:.0}, raw POSIX {:.0} (shmkit/raw {:.2})\n",
        size_label(super::plan::LIFECYCLE_SIZE as usize),
        l.shmkit_ops_per_s,
        l.raw_ops_per_s,
        if l.raw_ops_per_s > 0.0 { l.shmkit_ops_per_s / l.raw_ops_per_s } else { f64::NAN }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_labels() {
        assert_eq!(size_label(64), "64 B");
        assert_eq!(size_label(4096), "4 KiB");
        assert_eq!(size_label(65_536), "64 KiB");
        assert_eq!(size_label(1 << 20), "1 MiB");
        assert_eq!(size_label(1000), "1000 B");
    }
}
