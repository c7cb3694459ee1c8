//! Other users and private stores, for the tests of what another user can and cannot do
//! (they run as root, which CI does, and start children under other uids).

use super::{child, reported, unique_base, wait_output};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A uid that no account uses, for "another user".
pub const OTHER_UID: u32 = 54_321;
/// A second uid that no account uses, for a victim that is not root.
pub const VICTIM_UID: u32 = 54_322;

/// Runs one child role and returns its single report line.
pub fn run(role: &str, args: &[&str], setup: impl FnOnce(&mut Command)) -> String {
    let mut cmd = child(role, args);
    cmd.stdin(Stdio::null());
    setup(&mut cmd);
    let out = wait_output(cmd.spawn().unwrap());
    let lines = reported(&out);
    assert!(
        !lines.is_empty(),
        "child {role} reported nothing: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines.join("\n")
}

pub fn as_other_user(cmd: &mut Command) {
    cmd.uid(OTHER_UID).gid(OTHER_UID);
}

/// A private store root for one test, removed (with whatever is in it) on drop.
pub struct TempStore(pub PathBuf);

impl TempStore {
    pub fn new(tag: &str) -> TempStore {
        let p = std::env::temp_dir().join(unique_base(tag));
        std::fs::create_dir(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o1777)).unwrap();
        TempStore(p)
    }
    pub fn env(&self, cmd: &mut Command) {
        cmd.env("SHMKIT_DIR", &self.0);
        // No runtime directory unless a test gives one: Local falls back to it only when
        // the store's per-user directory is squatted.
        cmd.env("XDG_RUNTIME_DIR", self.0.join("no-runtime-dir"));
    }
    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
    pub fn uid() -> u32 {
        std::fs::metadata("/proc/self").unwrap().uid()
    }
    pub fn local_dir(&self) -> PathBuf {
        self.path(&format!("shmkit.local.{}", TempStore::uid()))
    }
    pub fn listing(&self) -> Vec<String> {
        let mut v: Vec<String> = walk(&self.0)
            .into_iter()
            .filter(|p| !p.contains("/l."))
            .collect();
        v.sort();
        v
    }
}

pub fn walk(p: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            out.push(e.path().display().to_string());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(walk(&e.path()));
            }
        }
    }
    out
}

impl Drop for TempStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a child as the victim user.
pub fn as_victim(cmd: &mut Command) {
    cmd.uid(VICTIM_UID).gid(VICTIM_UID);
}
