//! `shmkit bench`: the benchmark suite lives in the `shmkit-bench` binary, so that this
//! tool does not carry its dependencies (iceoryx2, plotters). The subcommand runs that
//! binary with the arguments it was given.

use anyhow::{bail, Context};
use std::ffi::OsString;
use std::path::PathBuf;

/// The environment variable that names the `shmkit-bench` binary to run.
pub const BENCH_ENV: &str = "SHMKIT_BENCH";

/// The binary to run: `$SHMKIT_BENCH` when set, else `shmkit-bench` next to this
/// executable (where cargo builds both).
fn binary() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os(BENCH_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let me = std::env::current_exe().context("cannot find the shmkit executable")?;
    let dir = me
        .parent()
        .context("the shmkit executable has no directory")?;
    Ok(dir.join(format!("shmkit-bench{}", std::env::consts::EXE_SUFFIX)))
}

/// Runs `shmkit-bench ARGS...` in place of this process (on Windows: as a child, then
/// exits with its status).
pub fn bench(args: &[OsString]) -> anyhow::Result<()> {
    let bin = binary()?;
    if !bin.is_file() {
        bail!(
            "shmkit bench runs the shmkit-bench binary, and there is none at {}; build it \
             with `cargo build --release -p shmkit-bench` (next to shmkit), or set {BENCH_ENV} \
             to its path",
            bin.display()
        );
    }
    let mut cmd = std::process::Command::new(&bin);
    cmd.args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(err).with_context(|| format!("cannot run {}", bin.display()))
    }
    #[cfg(not(unix))]
    {
        let status = cmd
            .status()
            .with_context(|| format!("cannot run {}", bin.display()))?;
        std::process::exit(status.code().unwrap_or(1));
    }
}
