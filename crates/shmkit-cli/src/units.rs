//! Sizes, offsets and durations on the command line: `4096`, `0x1000`, `64K`, `1M`, `1G`,
//! `1MiB`, `1GiB` (binary units: K = KiB = 1024 bytes, M = MiB, G = GiB, T = TiB), and
//! `500ms`, `2s`, `1m`, `1h`.

use std::time::Duration;

const UNITS: [(&str, u32); 4] = [("K", 10), ("M", 20), ("G", 30), ("T", 40)];

/// A quantity of bytes: digits (or `0x` and hex digits), then an optional unit `K`,
/// `M`, `G`, `T`, optionally followed by `iB` (`KiB`); a bare `B` means bytes. Unit
/// letters are case-insensitive. Decimal units (`KB`, `MB`) are refused as ambiguous.
fn parse_quantity(text: &str) -> Result<u64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty value; expected a number of bytes such as 4096, 64K or 1MiB".into());
    }
    let (number, unit) = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (
            u64::from_str_radix(hex, 16)
                .map_err(|_| format!("{s:?} is not a hexadecimal number"))?,
            "",
        )
    } else {
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (digits, unit) = s.split_at(split);
        if digits.is_empty() {
            return Err(format!(
                "{s:?} is not a size; expected a number of bytes such as 4096, 64K or 1MiB"
            ));
        }
        let number = digits
            .parse::<u64>()
            .map_err(|_| format!("{s:?} is too large"))?;
        (number, unit.trim_start())
    };
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        u => {
            let mut chars = u.chars();
            let letter = chars.next().map(String::from).unwrap_or_default();
            let rest = chars.as_str();
            let Some(&(_, shift)) = UNITS.iter().find(|(l, _)| *l == letter) else {
                return Err(format!(
                    "{s:?}: unknown unit {unit:?}; use K, M, G or T (or KiB, MiB, GiB, TiB)"
                ));
            };
            match rest {
                "" | "IB" => shift,
                "B" => {
                    return Err(format!(
                    "{s:?}: {unit:?} is ambiguous; write {letter} or {letter}iB for units of {}",
                    1u64 << shift
                ))
                }
                _ => {
                    return Err(format!(
                        "{s:?}: unknown unit {unit:?}; use K, M, G or T (or KiB, MiB, GiB, TiB)"
                    ))
                }
            }
        }
    };
    number
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// The size of a new object: at least one byte.
pub fn parse_size(text: &str) -> Result<u64, String> {
    match parse_quantity(text)? {
        0 => Err("the size must be at least 1 byte".into()),
        n => Ok(n),
    }
}

/// An offset or a length: zero allowed.
pub fn parse_offset(text: &str) -> Result<u64, String> {
    parse_quantity(text)
}

/// Permission bits in octal: `600`, `0640`, `0o644`.
pub fn parse_mode(text: &str) -> Result<u32, String> {
    let s = text.trim();
    let digits = s.strip_prefix("0o").unwrap_or(s);
    let mode = u32::from_str_radix(digits, 8)
        .map_err(|_| format!("{s:?} is not an octal mode such as 600 or 0640"))?;
    if mode > 0o777 {
        return Err(format!(
            "{s:?}: only owner/group/others read-write bits are allowed (0777 at most)"
        ));
    }
    Ok(mode)
}

/// A duration: `500ms`, `2s`, `1m`, `1h`, or a number of seconds (`0` does not wait).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 500ms, 2s, 1m or 1h"))?;
    let ms = match unit.trim() {
        "ms" => Some(n),
        "" | "s" => n.checked_mul(1000),
        "m" | "min" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        other => return Err(format!("{s:?}: unknown unit {other:?} (use ms, s, m or h)")),
    };
    ms.map(Duration::from_millis)
        .ok_or_else(|| format!("{s:?} is too long"))
}

/// A size for people: `64 KiB` when it is a whole number of a binary unit, else bytes.
pub fn format_size(n: u64) -> String {
    for &(letter, shift) in UNITS.iter().rev() {
        let unit = 1u64 << shift;
        if n >= unit && n % unit == 0 {
            return format!("{} {letter}iB", n / unit);
        }
    }
    format!("{n} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("0"), Ok(ms(0)));
        assert_eq!(parse_duration("250ms"), Ok(ms(250)));
        assert_eq!(parse_duration("2s"), Ok(ms(2000)));
        assert_eq!(parse_duration("3"), Ok(ms(3000)));
        assert_eq!(parse_duration(" 1m "), Ok(ms(60_000)));
        assert_eq!(parse_duration("1h"), Ok(ms(3_600_000)));
        for bad in ["", "s", "1.5s", "-1s", "2d", "99999999999999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2KiB"), Ok(2048));
        assert_eq!(parse_size("1mib"), Ok(1 << 20));
        assert_eq!(parse_size("5T"), Ok(5 << 40));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(parse_size("0x1000"), Ok(4096));
        assert_eq!(parse_size(" 8 K "), Ok(8192));
    }

    #[test]
    fn bad_sizes() {
        for bad in [
            "",
            "0",
            "0K",
            "K",
            "-1",
            "1.5M",
            "12Q",
            "1MB",
            "1kb",
            "1Mi",
            "1 M B",
            "0x",
            "0xZZ",
            "18446744073709551616",
            "17179869184G",
            "1e6",
            "+5",
            "1é",
            "1Ké",
        ] {
            let err = parse_size(bad).expect_err(bad);
            assert!(!err.is_empty(), "{bad}");
        }
        assert!(parse_size("1MB").unwrap_err().contains("ambiguous"));
    }

    #[test]
    fn offsets_allow_zero() {
        assert_eq!(parse_offset("0"), Ok(0));
        assert_eq!(parse_offset("64K"), Ok(65536));
        assert!(parse_offset("-64K").is_err());
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode("600"), Ok(0o600));
        assert_eq!(parse_mode("0640"), Ok(0o640));
        assert_eq!(parse_mode("0o644"), Ok(0o644));
        assert!(parse_mode("1777").is_err());
        assert!(parse_mode("8").is_err());
        assert!(parse_mode("rw").is_err());
    }

    #[test]
    fn formatting_round_trips() {
        for n in [1, 1000, 4096, 65536, 1 << 20, 3 << 30, 5 << 40, 4097] {
            let text = format_size(n).replace(' ', "");
            assert_eq!(parse_size(&text), Ok(n), "{text}");
        }
        assert_eq!(format_size(65536), "64 KiB");
        assert_eq!(format_size(1000), "1000 B");
    }
}
