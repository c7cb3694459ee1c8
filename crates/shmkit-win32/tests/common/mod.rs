//! What the C API tests share: where the crate and libshmkit_win32 are, and how a C
//! program is compiled against them.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where libshmkit_win32.so and .a are: the directory of this test's own profile, after a
/// `cargo build -p shmkit-win32` of the same profile there (`cargo test` builds only the
/// rlib, and a library left from an earlier build may be stale; cargo holds no lock on
/// the target directory while tests run, and the build does nothing when up to date).
pub fn lib_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        // <target>[/<triple>]/<profile>/deps/<test>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>")
            .to_path_buf();
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => "dev".to_owned(),
            Some(other) => other.to_owned(),
            None => panic!("no profile directory above {}", exe.display()),
        };
        let mut root = profile_dir
            .parent()
            .expect("target directory")
            .to_path_buf();
        let mut triple = None;
        if !root.join("CACHEDIR.TAG").exists() {
            triple = root.file_name().map(|t| t.to_owned());
            root = root.parent().expect("target directory").to_path_buf();
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = Command::new(cargo);
        build
            .args(["build", "-q", "-p", "shmkit-win32", "--profile", &profile])
            .arg("--manifest-path")
            .arg(crate_dir().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&root);
        if let Some(t) = &triple {
            build.arg("--target").arg(t);
        }
        let status = build.status().expect("run cargo to build libshmkit_win32");
        assert!(status.success(), "building libshmkit_win32 failed");
        for lib in ["libshmkit_win32.so", "libshmkit_win32.a"] {
            assert!(
                profile_dir.join(lib).is_file(),
                "{lib} is not in {}",
                profile_dir.display()
            );
        }
        profile_dir
    })
    .clone()
}

/// Compiles `sources` into `out` with `compiler` and the flags; panics with the
/// compiler's output on failure.
pub fn compile(compiler: &str, args: &[&str], out: &Path) {
    let lib = lib_dir();
    let output = Command::new(compiler)
        .args(["-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"])
        .arg("-I")
        .arg(crate_dir().join("include"))
        .args(args)
        .arg("-L")
        .arg(&lib)
        .arg("-lshmkit_win32")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-o")
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler} (the C API tests need it): {e}"));
    assert!(
        output.status.success(),
        "{compiler} {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
