//! Handle inheritance across `CreateProcess`: what a parent hands down and how its child
//! rebuilds it, under the same handle values.
//!
//! The parent puts one line per inherited handle in the child's environment, `VALUE KIND
//! TOKEN` (value in hex): mappings and sync objects carry shmkit's inheritance token and
//! the library's spelling of their kind (`shmkit::Kind`); files, which only this library
//! has, carry the word `file` and the number of the descriptor handed to the child
//! (`shmkit::inherit`). This module imports nothing of the handle table: the table
//! imports what [`take_from_environment`] rebuilds, and `CreateProcess` hands
//! [`share`] the table's inheritable handles.

use crate::access::{self, Class, Page, Section};
use crate::error::Result;
use crate::objects::{FileObject, MappingObject, Object, SectionState};
use crate::types::DWORD;
use shmkit::sync::{Event, Mutex as SyncMutex, Semaphore};
use shmkit::{Kind, Mapping};
use std::os::fd::{OwnedFd, RawFd};
use std::process::Command;
use std::sync::Arc;

/// The environment variable that hands inherited handles to a child.
const INHERIT_VAR: &str = "SHMKIT_WIN32_HANDLES";

/// The kind word of a file handle's line.
const FILE: &str = "file";

/// Hands `handles` (value and object) to the child `cmd` will start, and sets the
/// variable that tells the child's library their values. Process and thread handles
/// are left out: they mean nothing in another process.
pub(crate) fn share(cmd: &mut Command, handles: Vec<(usize, Object, DWORD)>) -> Result<()> {
    let mut lines = String::new();
    for (value, object, access) in handles {
        let value = match &object {
            Object::Mapping(m) => {
                let s = m.state.section;
                let flags = s.page.value()
                    | if s.reserve { access::SEC_RESERVE } else { 0 }
                    | if s.nocache { access::SEC_NOCACHE } else { 0 };
                format!("{value:x}:{access:x}:{flags:x}")
            }
            _ => format!("{value:x}:{access:x}"),
        };
        let (kind, token) = match &object {
            Object::Mapping(m) => (Kind::Mapping.as_str(), m.share_with(cmd)?),
            Object::File(f) => (FILE, share_file(f, cmd)?),
            Object::Mutex(m) => (Kind::Mutex.as_str(), m.share_with(cmd)?),
            Object::Event(e) => (Kind::Event.as_str(), e.share_with(cmd)?),
            Object::Semaphore(s) => (Kind::Semaphore.as_str(), s.share_with(cmd)?),
            // A timer is this process's own, as processes and threads are.
            Object::Process(_) | Object::Thread(_) | Object::Timer(_) => continue,
        };
        lines.push_str(&format!("{value} {kind} {token}\n"));
    }
    if lines.is_empty() {
        withhold(cmd);
    } else {
        cmd.env(INHERIT_VAR, lines);
    }
    Ok(())
}

/// Makes sure the child `cmd` will start inherits no handle (not even stale lines of
/// this process's own parent).
pub(crate) fn withhold(cmd: &mut Command) {
    cmd.env_remove(INHERIT_VAR);
}

/// The handles a parent passed in the environment, rebuilt (value, object, access); removes
/// the variable so that this process's own children do not see stale tokens. A line
/// that does not parse, or whose token is refused, is left out.
pub(crate) fn take_from_environment() -> Vec<(usize, Object, DWORD)> {
    let Some(list) = std::env::var_os(INHERIT_VAR) else {
        return Vec::new();
    };
    std::env::remove_var(INHERIT_VAR);
    list.to_string_lossy().lines().filter_map(rebuild).collect()
}

/// One line of the variable: the handle's value, `:` its access in hex (and for a
/// mapping `:` its section's protection and attributes), its kind and its token.
fn rebuild(line: &str) -> Option<(usize, Object, DWORD)> {
    let mut parts = line.splitn(3, ' ');
    let (value, kind, token) = (parts.next()?, parts.next()?, parts.next()?);
    let mut fields = value.split(':');
    let value = usize::from_str_radix(fields.next()?, 16).ok()?;
    let access = fields
        .next()
        .and_then(|a| DWORD::from_str_radix(a, 16).ok());
    let flags = fields
        .next()
        .and_then(|f| DWORD::from_str_radix(f, 16).ok());
    if kind == FILE {
        let access = access.unwrap_or(access::all(Class::File));
        return Some((
            value,
            Object::File(Arc::new(inherited_file(token)?)),
            access,
        ));
    }
    let object = match Kind::parse(kind)? {
        Kind::Mapping => {
            let mapping = Mapping::from_inherited(token).ok()?;
            let section = flags
                .and_then(|f| {
                    Some(Section {
                        page: Page::from_value(f & 0xFF)?,
                        reserve: f & access::SEC_RESERVE != 0,
                        nocache: f & access::SEC_NOCACHE != 0,
                        image: false,
                    })
                })
                .unwrap_or_else(|| SectionState::of_protection(mapping.protection()));
            let state = SectionState::new(section, mapping.size(), crate::views::page_size());
            Object::Mapping(Arc::new(MappingObject { mapping, state }))
        }
        Kind::Mutex => Object::Mutex(Arc::new(SyncMutex::from_inherited(token).ok()?)),
        Kind::Event => Object::Event(Arc::new(Event::from_inherited(token).ok()?)),
        Kind::Semaphore => Object::Semaphore(Arc::new(Semaphore::from_inherited(token).ok()?)),
        _ => return None,
    };
    let access = access.unwrap_or_else(|| access::all(object.class()));
    Some((value, object, access))
}

/// Hands a duplicate of the file's descriptor to the child `cmd` starts; the token is
/// its number there.
fn share_file(f: &FileObject, cmd: &mut Command) -> Result<String> {
    let dup: OwnedFd = f.file().try_clone()?.into();
    Ok(shmkit::inherit::pass_to_child(cmd, dup).to_string())
}

/// The file of a token: a descriptor the parent passed. Standard input, output and
/// error (0-2) are never a passed file's: they stay the process's own.
fn inherited_file(token: &str) -> Option<FileObject> {
    let fd: RawFd = token.parse().ok().filter(|&fd| fd >= 3)?;
    let inherited = shmkit::inherit::take_inherited(fd).ok()?;
    // A close-on-exec duplicate takes its place, so that this process's own children
    // inherit the file only when asked to.
    let file = inherited.try_clone().ok()?;
    Some(FileObject::new(file.into(), None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, Write};
    use std::os::fd::AsRawFd;

    fn temp_file(what: &str, contents: &[u8]) -> std::fs::File {
        let path = std::env::temp_dir().join(format!(
            "shmkit-win32-test-inherit-{what}-{}",
            std::process::id()
        ));
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        f.write_all(contents).unwrap();
        f.rewind().unwrap();
        f
    }

    #[test]
    fn lines_name_kinds_in_the_library_spelling() {
        let mut cmd = Command::new("true");
        let mapping = Mapping::options().size(4096).create().unwrap();
        let section = SectionState::of_protection(mapping.protection());
        let mapping = MappingObject {
            state: SectionState::new(section, 4096, 4096),
            mapping,
        };
        let file = FileObject::new(temp_file("lines", b""), None);
        share(
            &mut cmd,
            vec![
                (0x40, Object::Mapping(Arc::new(mapping)), 0xF001F),
                (0x44, Object::File(Arc::new(file)), 0x120089),
                (
                    0x48,
                    Object::Process(Arc::new(crate::objects::ProcessObject::current())),
                    0x1FFFFF,
                ),
            ],
        )
        .unwrap();
        let lines = cmd
            .get_envs()
            .find(|(k, _)| *k == INHERIT_VAR)
            .and_then(|(_, v)| v)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let kinds: Vec<(&str, &str)> = lines
            .lines()
            .map(|l| {
                let mut p = l.split(' ');
                (p.next().unwrap(), p.next().unwrap())
            })
            .collect();
        assert_eq!(
            kinds,
            [("40:f001f:4", "mapping"), ("44:120089", "file")],
            "{lines}"
        );
        let mut none = Command::new("true");
        share(&mut none, Vec::new()).unwrap();
        assert_eq!(
            none.get_envs().find(|(k, _)| *k == INHERIT_VAR),
            Some((INHERIT_VAR.as_ref(), None))
        );
    }

    #[test]
    fn a_file_reaches_the_child_under_its_token() {
        let file = FileObject::new(temp_file("child", b"handed down"), None);
        let mut cmd = Command::new("sh");
        cmd.arg("-c");
        let token = share_file(&file, &mut cmd).unwrap();
        cmd.arg(format!("cat <&{token}"));
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(out.stdout, b"handed down");
    }

    #[test]
    fn an_inherited_descriptor_is_taken_and_kept_from_children() {
        let file = temp_file("take", b"x");
        // SAFETY: dup of an open descriptor; the copy, without close-on-exec, stands for
        // one a parent passed.
        let passed = unsafe { libc::dup(file.as_raw_fd()) };
        assert!(passed >= 3);
        let (value, object, access) = rebuild(&format!("4c:120089 file {passed}")).unwrap();
        assert_eq!((value, access), (0x4c, 0x120089));
        let Object::File(taken) = object else {
            panic!("not a file")
        };
        // SAFETY: F_GETFD only reads the flags of the taken file's open descriptor.
        let flags = unsafe { libc::fcntl(taken.file().as_raw_fd(), libc::F_GETFD) };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        // Its own descriptors are refused: close-on-exec, or a standard stream.
        assert!(rebuild(&format!("50 file {}", file.as_raw_fd())).is_none());
        assert!(rebuild("50 file 1").is_none());
        assert!(rebuild("50 thread 1").is_none());
        assert!(rebuild("zz file 7").is_none());
        assert!(rebuild("50 mapping").is_none());
    }
}
