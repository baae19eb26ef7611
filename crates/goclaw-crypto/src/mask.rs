//! The `abcd****wxyz` form in which a secret may be shown to an operator.

/// Shows the first and last four characters of `value` around `****`; values of eight
/// characters or fewer become `****`, the empty string stays empty. The same form
/// `goclaw config show` uses.
pub fn mask_secret(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    if chars.len() <= 8 {
        return "****".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: &str, expected: &str) {
        assert_eq!(mask_secret(value), expected, "value {value:?}");
    }

    #[test]
    fn masks_all_but_the_ends() {
        check("", "");
        check("short", "****");
        check("12345678", "****");
        check("sk-ant-api03-abcdefwxyz", "sk-a****wxyz");
        check("ééééééééé", "éééé****éééé");
    }
}
