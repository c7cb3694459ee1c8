//! Who holds an object, from `/proc`: a process holds a handle when one of its
//! descriptors (`/proc/PID/fd`) is the object file, and a view when one of its mappings
//! (`/proc/PID/maps`) is of the object file or of a file-backed object's backing file.

use super::FileId;
use crate::os::{Found, RawHolder};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;

/// The holders of each of `objects` (in the same order), sorted by pid.
pub(crate) fn holders(objects: &[Found]) -> Vec<Vec<RawHolder>> {
    let mut out = vec![Vec::new(); objects.len()];
    if objects.is_empty() {
        return out;
    }
    let mut handles: HashMap<FileId, Vec<usize>> = HashMap::new();
    let mut views: HashMap<FileId, Vec<usize>> = HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        handles.entry(o.ids.file).or_default().push(i);
        views.entry(o.ids.file).or_default().push(i);
        if let Some(b) = o.ids.backing {
            views.entry(b).or_default().push(i);
        }
    }
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let mut hits: HashMap<usize, RawHolder> = HashMap::new();
        let mut hit = |i: usize, handle: bool| {
            let h = hits.entry(i).or_insert(RawHolder {
                pid,
                handle: false,
                view: false,
            });
            if handle {
                h.handle = true;
            } else {
                h.view = true;
            }
        };
        for id in open_files(pid) {
            for &i in handles.get(&id).into_iter().flatten() {
                hit(i, true);
            }
        }
        for id in mapped_files(pid) {
            for &i in views.get(&id).into_iter().flatten() {
                hit(i, false);
            }
        }
        for (i, h) in hits {
            out[i].push(h);
        }
    }
    for list in &mut out {
        list.sort_by_key(|h| h.pid);
    }
    out
}

/// The files that process `pid` has open (empty when its descriptors are not readable).
fn open_files(pid: u32) -> Vec<FileId> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for fd in fds.flatten() {
        let path = fd.path();
        // Pipes, sockets and anonymous inodes read as `pipe:[..]` and the like: only
        // paths can be object files, so only they are worth a stat.
        let is_path = std::fs::read_link(&path)
            .map(|t| t.as_os_str().as_encoded_bytes().first() == Some(&b'/'))
            .unwrap_or(false);
        if !is_path {
            continue;
        }
        if let Ok(m) = std::fs::metadata(&path) {
            out.push(FileId {
                dev: m.dev(),
                ino: m.ino(),
            });
        }
    }
    out
}

/// The files that process `pid` maps (empty when its maps are not readable).
fn mapped_files(pid: u32) -> Vec<FileId> {
    let Ok(maps) = std::fs::read_to_string(format!("/proc/{pid}/maps")) else {
        return Vec::new();
    };
    let mut out: Vec<FileId> = maps.lines().filter_map(parse_maps_line).collect();
    out.sort_unstable_by_key(|f| (f.dev, f.ino));
    out.dedup();
    out
}

/// The file of one `/proc/PID/maps` line: `start-end perms offset MAJ:MIN inode path`.
fn parse_maps_line(line: &str) -> Option<FileId> {
    let mut fields = line.split_ascii_whitespace();
    let dev = fields.nth(3)?;
    let ino: u64 = fields.next()?.parse().ok()?;
    if ino == 0 {
        return None; // anonymous memory
    }
    let (major, minor) = dev.split_once(':')?;
    let major = u32::from_str_radix(major, 16).ok()?;
    let minor = u32::from_str_radix(minor, 16).ok()?;
    Some(FileId {
        dev: rustix::fs::makedev(major, minor),
        ino,
    })
}

/// The command name of process `pid` (`/proc/PID/comm`), when it can be read.
pub(crate) fn command(pid: u32) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end_matches('\n').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines() {
        let line = "7f12a000-7f13a000 rw-s 00010000 00:1a 123456    /dev/shm/shmkit.local.0/o.x";
        assert_eq!(
            parse_maps_line(line),
            Some(FileId {
                dev: rustix::fs::makedev(0, 0x1a),
                ino: 123456
            })
        );
        let deleted = "7f12a000-7f13a000 r--s 00000000 103:02 42 /data/f (deleted)";
        assert_eq!(
            parse_maps_line(deleted),
            Some(FileId {
                dev: rustix::fs::makedev(0x103, 2),
                ino: 42
            })
        );
        assert_eq!(
            parse_maps_line("7f12a000-7f13a000 rw-p 00000000 00:00 0 "),
            None
        );
        assert_eq!(parse_maps_line("garbage"), None);
    }

    #[test]
    fn maps_device_numbers_match_stat() {
        // The device of a file this process maps is found by stat and by maps alike.
        let exe = std::fs::metadata("/proc/self/exe").unwrap();
        let mapped = mapped_files(std::process::id());
        assert!(mapped.contains(&FileId {
            dev: exe.dev(),
            ino: exe.ino()
        }));
    }
}
