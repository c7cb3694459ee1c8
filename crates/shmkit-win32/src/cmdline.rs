//! The command line of `CreateProcess`: splitting it into arguments the way the
//! Microsoft C runtime does, and finding the program it names the way Windows does.

use crate::error::{self, Result};
use crate::types::err;
use std::path::{Path, PathBuf};

/// Splits a Windows command line into arguments, with the Microsoft C runtime's rules:
/// the program name ends at the first blank (or is quoted, without escapes); then blanks
/// separate arguments, quotes group, `2n` backslashes before a quote are `n` backslashes,
/// `2n+1` are `n` and a literal quote, and `""` inside quotes is a literal quote.
pub(crate) fn split_command_line(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    let blank = |c: char| c == ' ' || c == '\t';
    // The program name.
    let mut name = String::new();
    if chars.first() == Some(&'"') {
        i = 1;
        while i < chars.len() && chars[i] != '"' {
            name.push(chars[i]);
            i += 1;
        }
        i += 1;
    } else {
        while i < chars.len() && !blank(chars[i]) {
            name.push(chars[i]);
            i += 1;
        }
    }
    args.push(name);
    loop {
        while i < chars.len() && blank(chars[i]) {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let mut arg = String::new();
        let mut quoted = false;
        while i < chars.len() {
            let c = chars[i];
            if c == '\\' {
                let mut n = 0;
                while i < chars.len() && chars[i] == '\\' {
                    n += 1;
                    i += 1;
                }
                if i < chars.len() && chars[i] == '"' {
                    arg.extend(std::iter::repeat_n('\\', n / 2));
                    if n % 2 == 1 {
                        arg.push('"');
                        i += 1;
                    }
                } else {
                    arg.extend(std::iter::repeat_n('\\', n));
                }
            } else if c == '"' {
                if quoted && chars.get(i + 1) == Some(&'"') {
                    arg.push('"');
                    i += 2;
                } else {
                    quoted = !quoted;
                    i += 1;
                }
            } else if blank(c) && !quoted {
                break;
            } else {
                arg.push(c);
                i += 1;
            }
        }
        args.push(arg);
    }
    args
}

/// Finds the program as Windows would (the program's own directory, the current
/// directory, then `PATH`), accepting a name written with `.exe` for a Linux program
/// without it.
pub(crate) fn find_program(name: &str) -> Result<PathBuf> {
    let name = name.replace('\\', "/");
    let mut candidates = vec![name.clone()];
    if name.len() > 4 && name[name.len() - 4..].eq_ignore_ascii_case(".exe") {
        candidates.push(name[..name.len() - 4].to_owned());
    }
    let usable = |p: &Path| p.is_file();
    if name.contains('/') {
        return candidates
            .iter()
            .map(PathBuf::from)
            .find(|p| usable(p))
            .ok_or(error::Win32Error(err::FILE_NOT_FOUND));
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        dirs.push(dir);
    }
    dirs.push(PathBuf::from("."));
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    for dir in dirs {
        for c in &candidates {
            let p = dir.join(c);
            if usable(&p) {
                return Ok(p);
            }
        }
    }
    error::fail(err::FILE_NOT_FOUND)
}

#[cfg(test)]
mod tests {
    use super::split_command_line;

    #[test]
    fn command_lines_split_like_the_c_runtime() {
        assert_eq!(split_command_line("prog a b"), ["prog", "a", "b"]);
        assert_eq!(
            split_command_line("\"C:\\a b\\p.exe\" x"),
            ["C:\\a b\\p.exe", "x"]
        );
        assert_eq!(split_command_line("p \"a b\" c"), ["p", "a b", "c"]);
        assert_eq!(
            split_command_line(r#"p a\\\"b c\d"#),
            ["p", "a\\\"b", "c\\d"]
        );
        assert_eq!(split_command_line(r#"p "a\\" b"#), ["p", "a\\", "b"]);
        assert_eq!(split_command_line(r#"p "say ""hi""""#), ["p", "say \"hi\""]);
        assert_eq!(split_command_line("p   "), ["p"]);
        assert_eq!(split_command_line("p \"\""), ["p", ""]);
    }
}
