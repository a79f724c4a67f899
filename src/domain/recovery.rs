//! Recovery codes: ten single-use codes shown once when 2FA is set up, for a lost device.
//! Format "XXXXX-XXXXX" from an alphabet without look-alike characters (50 random bits).

pub const COUNT: usize = 10;
/// Characters of a code: digits 2-9 and capitals without I and O (32 symbols, so no 0/O or
/// 1/I to mix up).
pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const GROUP: usize = 5;

/// Formats 10 symbols (indices into the alphabet) as "XXXXX-XXXXX".
pub fn format(symbols: &[u8; 2 * GROUP]) -> String {
    let chars: String = symbols
        .iter()
        .map(|s| char::from(ALPHABET[usize::from(*s) % ALPHABET.len()]))
        .collect();
    format!("{}-{}", &chars[..GROUP], &chars[GROUP..])
}

/// The canonical form of typed input (upper case, no spaces or dashes), if it has the shape
/// of a recovery code.
pub fn normalize(input: &str) -> Option<String> {
    if input.len() > 64 {
        return None;
    }
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == 2 * GROUP && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_normalizes() {
        let code = format(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(code, "23456-789AB");
        assert_eq!(normalize("23456-789ab").as_deref(), Some("23456789AB"));
        assert_eq!(normalize(" 23456 789AB ").as_deref(), Some("23456789AB"));
        assert_eq!(normalize("123456"), None);
        assert_eq!(normalize("23456-789A0"), None, "0 is not in the alphabet");
        assert_eq!(normalize(&"2".repeat(1000)), None);
    }
}
