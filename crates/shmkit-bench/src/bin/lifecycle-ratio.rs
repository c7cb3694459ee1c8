//! Prints, for each lifecycle benchmark group, the median time of shmkit and of the raw
//! POSIX calls and their ratio, from the estimates that `cargo bench -p shmkit-bench
//! --bench lifecycle` saved.
//!
//! Usage: `lifecycle-ratio [--dir CRITERION_DIR] [--max-ratio R]`
//!
//! The criterion directory is, in order: `--dir`, `$CRITERION_HOME`,
//! `$CARGO_TARGET_DIR/criterion`, the first `target/criterion` above the current
//! directory, this workspace's `target/criterion`. With `--max-ratio`, the exit status
//! is 1 when the 4 KiB `lifecycle` ratio shmkit/raw exceeds R.

use shmkit_bench::estimates::{self, Median};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: lifecycle-ratio [--dir CRITERION_DIR] [--max-ratio R]";
const BENCH_COMMAND: &str = "cargo bench -p shmkit-bench --bench lifecycle";

struct Args {
    dir: Option<PathBuf>,
    max_ratio: Option<f64>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        dir: None,
        max_ratio: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dir" => args.dir = Some(it.next().ok_or("--dir needs a directory")?.into()),
            "--max-ratio" => {
                let v = it.next().ok_or("--max-ratio needs a number")?;
                let r: f64 = v
                    .parse()
                    .map_err(|_| format!("--max-ratio: {v:?} is not a number"))?;
                args.max_ratio = Some(r);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unexpected argument {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

/// The candidate criterion directories, most explicit first.
fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(d) = std::env::var_os("CRITERION_HOME").filter(|d| !d.is_empty()) {
        out.push(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        out.push(PathBuf::from(d).join("criterion"));
    }
    if let Ok(cwd) = std::env::current_dir() {
        out.extend(cwd.ancestors().map(|a| a.join("target").join("criterion")));
    }
    // This crate lives in <workspace>/crates/shmkit-bench.
    if let Some(ws) = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2) {
        out.push(ws.join("target").join("criterion"));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|d| seen.insert(d.clone()));
    out
}

fn criterion_dir(args: &Args) -> Result<PathBuf, String> {
    if let Some(d) = &args.dir {
        return Ok(d.clone());
    }
    let tried = candidates();
    tried
        .iter()
        .find(|d| d.join(shmkit_bench::GROUPS[0].0).is_dir())
        .cloned()
        .ok_or_else(|| {
            let list: Vec<String> = tried.iter().map(|d| format!("  {}", d.display())).collect();
            format!(
                "no criterion results for the lifecycle benchmarks; looked in:\n{}\n\
                 run `{BENCH_COMMAND}` first, or pass --dir",
                list.join("\n")
            )
        })
}

fn micros(ns: f64) -> String {
    format!("{:.2} µs", ns / 1000.0)
}

fn show(m: &Median) -> String {
    format!(
        "{} [{} .. {}]",
        micros(m.ns),
        micros(m.lower_ns),
        micros(m.upper_ns)
    )
}

fn run() -> Result<bool, String> {
    let args = parse_args()?;
    let dir = criterion_dir(&args)?;
    println!("criterion results in {}", dir.display());
    let mut within = true;
    for (i, &(group, size)) in shmkit_bench::GROUPS.iter().enumerate() {
        let load = |function: &str| estimates::load_median(&dir, group, function);
        let (shmkit, raw) = match (load("shmkit"), load("raw")) {
            (Ok(s), Ok(r)) => (s, r),
            // Only the first group is required; the others may have been filtered out.
            (Err(estimates::Error::Missing(_)), _) | (_, Err(estimates::Error::Missing(_)))
                if i > 0 =>
            {
                continue
            }
            (Err(e), _) | (_, Err(e)) => {
                let hint = match e {
                    estimates::Error::Missing(_) => format!("\nrun `{BENCH_COMMAND}` first"),
                    estimates::Error::Invalid(..) => String::new(),
                };
                return Err(format!("cannot read the {group} estimates: {e}{hint}"));
            }
        };
        let ratio = shmkit.ns / raw.ns;
        println!("{group} ({size} bytes), median per lifecycle [95% interval]:");
        println!("  shmkit      {}", show(&shmkit));
        println!("  raw         {}", show(&raw));
        let commit = load("raw_commit").ok();
        if let Some(commit) = &commit {
            println!("  raw_commit  {}", show(commit));
        }
        println!("  shmkit/raw = {ratio:.2}");
        if let Some(commit) = &commit {
            println!("  shmkit/raw_commit = {:.2}", shmkit.ns / commit.ns);
        }
        if i == 0 {
            if let Some(max) = args.max_ratio {
                if ratio > max {
                    println!("  above the allowed {max:.2}");
                    within = false;
                }
            }
        }
    }
    Ok(within)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("lifecycle-ratio: {e}");
            ExitCode::from(2)
        }
    }
}
