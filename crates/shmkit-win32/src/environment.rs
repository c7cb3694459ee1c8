//! Environment blocks, as `CreateProcess` takes them: narrow or wide.

/// An environment block: `NAME=value` strings, each NUL-terminated, then one more NUL.
///
/// # Safety
/// `block` points to such a block of `T` units.
pub(crate) unsafe fn env_block<T: Copy + Into<u32> + PartialEq + Default>(
    block: *const T,
) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    let mut p = block;
    loop {
        let mut s = String::new();
        // SAFETY: the block is a sequence of NUL-terminated strings ended by an empty
        // one, by the caller's contract: every read stops at a NUL.
        while unsafe { *p } != T::default() {
            // SAFETY: as above.
            let u: u32 = unsafe { *p }.into();
            s.push(char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER));
            // SAFETY: as above.
            p = unsafe { p.add(1) };
        }
        if s.is_empty() {
            return vars;
        }
        // SAFETY: step over the NUL; the block goes on (at least its final NUL).
        p = unsafe { p.add(1) };
        // Windows keeps per-drive directories as `=C:=...`: nothing to pass on here.
        if let Some((k, v)) = s.split_once('=').filter(|(k, _)| !k.is_empty()) {
            vars.push((k.to_owned(), v.to_owned()));
        }
    }
}
