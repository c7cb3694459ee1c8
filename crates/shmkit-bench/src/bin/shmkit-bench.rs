//! `shmkit-bench` (run as `shmkit bench`): shmkit side by side with iceoryx2, a Unix
//! socket, a pipe and the bare shared-flag limits, in one run. See
//! `shmkit_bench::suite` for what is measured and BENCHMARKS.md for a run's figures.

#[cfg(target_os = "linux")]
mod linux {
    use clap::{Parser, Subcommand};
    use indicatif::{ProgressBar, ProgressStyle};
    use shmkit_bench::suite::{child, plan::Scale, plot, run, table};
    use std::path::PathBuf;
    use std::process::ExitCode;

    /// Latency, streaming throughput and mapping life cycle of shmkit next to iceoryx2, a
    /// Unix socket, a pipe and the bare shared-flag limits (spin and futex).
    ///
    /// Each end of each system is a process of its own, pinned to a CPU of its own; every
    /// figure is the median of --runs runs, each measuring every system. Prints Markdown
    /// tables on stdout; a progress bar on stderr shows what runs.
    #[derive(Debug, Parser)]
    #[command(name = "shmkit-bench", version)]
    struct Cli {
        #[command(subcommand)]
        child: Option<Child>,
        /// A tenth of the work and one run (unless --runs says otherwise): under a minute.
        #[arg(long)]
        quick: bool,
        /// Runs, each measuring every system [default: 3, with --quick 1].
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
        runs: Option<u32>,
        /// Write the report as JSON to FILE.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write the PNG plots (p50 by size, distribution at 64 B) into DIR.
        #[arg(long, value_name = "DIR")]
        plots: Option<PathBuf>,
        /// The two CPUs the ends are pinned to.
        #[arg(long, value_name = "A,B", value_parser = parse_cpus, default_value = "0,1")]
        cpus: [usize; 2],
        /// Measure only these systems (by report name: flag-spin, flag-futex, iceoryx2,
        /// unix-socket, pipe, win32-wait, ...); repeatable.
        #[arg(long, value_name = "SYSTEM")]
        only: Vec<String>,
        /// Leave out the single-process rates (read, memcpy, mapping life cycle).
        #[arg(long)]
        no_solo: bool,
        /// A handful of messages per measurement: checks that everything runs, not how
        /// fast (the test suite's smoke test).
        #[arg(long, hide = true)]
        smoke: bool,
    }

    fn parse_cpus(text: &str) -> Result<[usize; 2], String> {
        let mut it = text.split(',').map(|c| c.trim().parse::<usize>());
        match (it.next(), it.next(), it.next()) {
            (Some(Ok(a)), Some(Ok(b)), None) => Ok([a, b]),
            _ => Err(format!("{text:?} is not two CPU numbers such as 0,1")),
        }
    }

    #[derive(Debug, Subcommand)]
    enum Child {
        /// One end of one system (started by the suite itself).
        #[command(name = run::CHILD_COMMAND, hide = true)]
        Child { spec: String },
    }

    pub fn main() -> ExitCode {
        let cli = Cli::parse();
        if let Some(Child::Child { spec }) = &cli.child {
            return match serde_json::from_str::<child::Spec>(spec) {
                Ok(spec) if child::main(&spec) => ExitCode::SUCCESS,
                Ok(_) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("shmkit-bench: bad child spec: {e}");
                    ExitCode::from(2)
                }
            };
        }
        match suite(&cli) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("shmkit-bench: error: {e}");
                ExitCode::FAILURE
            }
        }
    }

    fn suite(cli: &Cli) -> std::io::Result<bool> {
        let scale = if cli.smoke {
            Scale::Smoke
        } else if cli.quick {
            Scale::Quick
        } else {
            Scale::Full
        };
        let runs = cli
            .runs
            .map_or(if scale == Scale::Full { 3 } else { 1 }, |n| n as usize);
        let cpus = cli.cpus;
        let available = shmkit_bench::suite::os::allowed_cpus();
        if available < 2 || cpus[0] == cpus[1] {
            eprintln!(
                "shmkit-bench: warning: the two ends share a CPU ({available} allowed); \
                 busy-polling figures will be meaningless"
            );
        }
        let opts = run::Options {
            runs,
            scale,
            cpus,
            only: cli.only.clone(),
            skip_solo: cli.no_solo,
        };
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} {msg}")
                .expect("a valid template"),
        );
        let plain = bar.is_hidden();
        let outcome = run::run(&opts, &mut |event| match event {
            run::Event::Total(n) => bar.set_length(n),
            run::Event::Start(what) => {
                if plain {
                    eprintln!("shmkit-bench: {what}");
                }
                bar.set_message(what);
            }
            run::Event::Done => bar.inc(1),
            run::Event::Failed(line) => bar.suspend(|| eprintln!("shmkit-bench: failed: {line}")),
        })?;
        bar.finish_and_clear();
        let report = &outcome.report;
        println!(
            "{} (median of {runs} run{})\n",
            match scale {
                Scale::Full => "shmkit bench",
                Scale::Quick => "shmkit bench --quick",
                Scale::Smoke => "shmkit bench (smoke: not figures)",
            },
            if runs == 1 { "" } else { "s" }
        );
        print!("{}", table::markdown(report));
        if let Some(path) = &cli.json {
            let text = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
            std::fs::write(path, text + "\n")?;
            eprintln!("shmkit-bench: wrote {}", path.display());
        }
        if let Some(dir) = &cli.plots {
            for p in plot::write_all(dir, &report.latency, &outcome.distributions)? {
                eprintln!("shmkit-bench: wrote {}", p.display());
            }
        }
        for f in &outcome.leftovers {
            eprintln!("shmkit-bench: warning: removed a leftover {}", f.display());
        }
        for f in &outcome.failures {
            eprintln!("shmkit-bench: failed: {f}");
        }
        Ok(outcome.failures.is_empty())
    }
}

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!("shmkit-bench: the suite runs on Linux only");
    std::process::ExitCode::FAILURE
}
