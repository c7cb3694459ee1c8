//! The work every system does per message, the same for all of them: the sender writes
//! every byte of the payload (a `memset` of a tag byte, in place where the transport
//! lends its memory, otherwise into the buffer it then copies), and the receiver reads
//! every byte (a wrapping sum of the payload's 64-bit words, in place where the transport
//! allows) and checks the sum against the tag, so that a torn, stale or lost message is an
//! error, not a figure.

/// Writes every byte of `buf`: each one is `tag`.
#[inline]
pub fn fill(buf: &mut [u8], tag: u8) {
    buf.fill(tag);
}

/// Reads every byte of `buf`: the wrapping sum of its native-endian 64-bit words, plus
/// the bytes of a tail shorter than a word.
#[inline]
pub fn checksum(buf: &[u8]) -> u64 {
    let mut words = buf.chunks_exact(8);
    let mut sum = 0u64;
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        sum = sum.wrapping_add(u64::from_ne_bytes(b));
    }
    for &b in words.remainder() {
        sum = sum.wrapping_add(u64::from(b));
    }
    sum
}

/// The checksum of `len` bytes that [`fill`] wrote with `tag`.
pub fn expected(len: usize, tag: u8) -> u64 {
    let word = u64::from(tag).wrapping_mul(0x0101_0101_0101_0101);
    let words = (len / 8) as u64;
    let tail = (len % 8) as u64;
    words
        .wrapping_mul(word)
        .wrapping_add(tail.wrapping_mul(u64::from(tag)))
}

/// Reads every byte of `buf` and tells whether they are what [`fill`] wrote with `tag`.
#[inline]
pub fn check(buf: &[u8], tag: u8) -> bool {
    checksum(std::hint::black_box(buf)) == expected(buf.len(), tag)
}

/// The tag of the `i`-th message of a phase; the answer to a message carries its
/// complement, so that an echo of the request itself is caught.
#[inline]
pub fn tag(i: usize) -> u8 {
    (i % 251) as u8 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_the_fill_for_every_length() {
        for len in [0, 1, 7, 8, 9, 63, 64, 65, 4096, 65_537] {
            for t in [0u8, 1, 0x7f, 0xff] {
                let mut buf = vec![0u8; len];
                fill(&mut buf, t);
                assert!(check(&buf, t), "len {len} tag {t}");
                if len > 0 {
                    buf[len / 2] ^= 1;
                    assert!(!check(&buf, t), "a changed byte goes unseen at len {len}");
                }
            }
        }
    }

    #[test]
    fn tags_are_never_zero_and_differ_from_their_answer() {
        for i in 0..1000 {
            assert_ne!(tag(i), 0);
            assert_ne!(tag(i), !tag(i));
        }
    }
}
