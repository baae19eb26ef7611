//! Durations written as GoClaw writes them (`2s`, `10m`, `1h30m`, `1.5s`, `250ms`): a sequence
//! of decimal numbers, each with a unit (`ms`, `s`, `m`, `h`).

use std::time::Duration;

/// Parses a duration such as `30s`, `10m`, `1h30m` or `250ms`; `None` for anything else
/// (no unit, an unknown unit, a negative or empty value).
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let mut rest = raw.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let value: f64 = number.parse().ok()?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let seconds = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * seconds;
        rest = next;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: Option<u64>) {
        assert_eq!(
            parse_duration(raw).map(|d| d.as_millis() as u64),
            expected,
            "{raw:?}"
        );
    }

    #[test]
    fn go_style_durations() {
        check("2s", Some(2_000));
        check("30s", Some(30_000));
        check("10m", Some(600_000));
        check("1h30m", Some(5_400_000));
        check("1.5s", Some(1_500));
        check("250ms", Some(250));
        check("0s", Some(0));
        check("", None);
        check("10", None);
        check("10x", None);
        check("s", None);
        check("-1s", None);
        check("1d", None);
    }
}
