//! Setup codes: after a reset, the one-time code a super admin (or the operator) hands to the
//! admin another way (a call back, in person). The next sign-in asks for it after the
//! password, so an approval is of use only to the person the super admin spoke to, not to
//! whoever else knows the password.
//!
//! Format "XXXX-XXXX-XXXX" from the recovery codes' alphabet (60 random bits); twelve symbols,
//! so it is never mistaken for a recovery code (ten) or an authenticator code (six digits).

use super::recovery::ALPHABET;

const GROUP: usize = 4;
const LEN: usize = 3 * GROUP;
/// Days a setup code works after it was issued.
pub const VALID_DAYS: i64 = 7;

/// Formats twelve symbols (indices into the alphabet) as "XXXX-XXXX-XXXX".
pub fn format(symbols: &[u8; LEN]) -> String {
    let chars: Vec<char> = symbols
        .iter()
        .map(|s| char::from(ALPHABET[usize::from(*s) % ALPHABET.len()]))
        .collect();
    chars
        .chunks(GROUP)
        .map(|g| g.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The canonical form of typed input (upper case, no spaces or dashes), if it has the shape
/// of a setup code.
pub fn normalize(input: &str) -> Option<String> {
    if input.len() > 64 {
        return None;
    }
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// Still usable at `now`?
pub fn is_valid(expires_at: i64, now: i64) -> bool {
    now < expires_at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_normalizes() {
        let code = format(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(code, "2345-6789-ABCD");
        assert_eq!(normalize("2345-6789-abcd").as_deref(), Some("23456789ABCD"));
        assert_eq!(
            normalize(" 2345 6789 ABCD ").as_deref(),
            Some("23456789ABCD")
        );
        // Neither an authenticator code nor a recovery code has its shape.
        assert_eq!(normalize("123456"), None);
        assert_eq!(normalize("23456-789AB"), None);
        assert_eq!(
            normalize("2345-6789-ABC0"),
            None,
            "0 is not in the alphabet"
        );
        assert_eq!(normalize(&"2".repeat(1000)), None);
    }

    #[test]
    fn works_until_it_expires() {
        assert!(is_valid(1_000, 999));
        assert!(!is_valid(1_000, 1_000));
    }
}
