//! TOTP policy (RFC 6238): SHA-1, 6 digits, 30 s steps, one step of skew, 160-bit secrets, and
//! each time step accepted at most once (RFC 6238 §5.2).
//!
//! Everything here takes the time as an argument so the rules can be tested with fixed times.

use totp_rs::{Algorithm, Builder, Totp};

/// Digits in a code.
pub const DIGITS: u8 = 6;
/// Length of one time step in seconds.
pub const STEP_SECONDS: u64 = 30;
/// Steps accepted on either side of the current one (clock drift, typing time).
pub const SKEW_STEPS: u8 = 1;
/// Secret length in bytes (160 bits, RFC 4226 §4 recommends at least this).
pub const SECRET_BYTES: usize = 20;

/// Why a code was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Not six digits (after removing spaces).
    #[error("Enter the 6-digit code from your authenticator app.")]
    Malformed,
    /// Six digits, but not the code for this secret at this time.
    #[error("That code is not correct. Check the time on your phone and try the current code.")]
    Wrong,
    /// The code for a time step that was already used (or an older one).
    #[error("That code was already used. Wait for the next code and enter it.")]
    Replayed,
    /// The stored secret cannot be used (wrong length).
    #[error("The two-factor secret is unusable.")]
    BadSecret,
}

/// Removes the spaces and dashes people type or paste ("123 456") and checks the shape.
pub fn normalize_code(input: &str) -> Result<String, CodeError> {
    // Bound the work before looking at the characters: nobody types 64 characters for a code.
    if input.len() > 64 {
        return Err(CodeError::Malformed);
    }
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if code.len() == usize::from(DIGITS) && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(CodeError::Malformed)
    }
}

/// The time step that contains `unix_seconds`.
pub fn step_at(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

fn totp(secret: &[u8]) -> Result<Totp, CodeError> {
    if secret.len() < 16 {
        return Err(CodeError::BadSecret);
    }
    Ok(Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(u16::from(SKEW_STEPS))
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret.to_vec())
        .build_noncompliant())
}

/// The code an authenticator shows at `unix_seconds`.
pub fn code_at(secret: &[u8], unix_seconds: u64) -> Result<String, CodeError> {
    Ok(totp(secret)?.generate(unix_seconds).to_string())
}

/// Checks `input` against `secret` at `now` and returns the time step it belongs to.
///
/// `last_used_step` is the newest step accepted before for this secret; a code for that step or
/// an older one is a replay. The caller must store the returned step atomically (only if it is
/// still newer than what is stored) so two requests racing with one code cannot both pass.
pub fn verify_code(
    secret: &[u8],
    input: &str,
    now_unix: u64,
    last_used_step: Option<u64>,
) -> Result<u64, CodeError> {
    let code = normalize_code(input)?;
    let totp = totp(secret)?;
    let origin = step_at(now_unix);
    let window = origin.saturating_sub(u64::from(SKEW_STEPS))..=origin + u64::from(SKEW_STEPS);
    // Check every step of the window (no early exit) so the time taken does not depend on
    // which step matched.
    let mut matched = None;
    for step in window {
        let candidate = totp.generate(step * STEP_SECONDS).to_string();
        if constant_time_eq(candidate.as_bytes(), code.as_bytes()) && matched.is_none() {
            matched = Some(step);
        }
    }
    let step = matched.ok_or(CodeError::Wrong)?;
    match last_used_step {
        Some(last) if step <= last => Err(CodeError::Replayed),
        _ => Ok(step),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Base32 secret in groups of four for typing into an app by hand: "ABCD EFGH IJKL ...".
pub fn group_secret(base32: &str) -> String {
    let chars: Vec<char> = base32.chars().filter(|c| *c != '=').collect();
    chars
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B uses the ASCII secret "12345678901234567890" for SHA-1 and 8 digits.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn rfc_code(time: u64) -> String {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(8)
            .with_step_duration(30)
            .with_secret(RFC_SECRET.to_vec())
            .build_noncompliant()
            .generate(time)
            .to_string()
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (time, expected) in vectors {
            assert_eq!(rfc_code(time), expected, "T = {time}");
        }
    }

    #[test]
    fn six_digit_code_is_the_last_six_of_the_rfc_value() {
        // Truncation to 6 digits is the same value mod 10^6 (RFC 4226 §5.3).
        assert_eq!(code_at(RFC_SECRET, 59).unwrap(), "287082");
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109).unwrap(), "081804");
    }

    #[test]
    fn accepts_current_previous_and_next_step_only() {
        let now = 1_700_000_000;
        for (offset, ok) in [
            (-60i64, false),
            (-30, true),
            (0, true),
            (30, true),
            (60, false),
        ] {
            let at = (now as i64 + offset) as u64;
            let code = code_at(RFC_SECRET, at).unwrap();
            let result = verify_code(RFC_SECRET, &code, now, None);
            assert_eq!(result.is_ok(), ok, "offset {offset}: {result:?}");
            if ok {
                assert_eq!(result.unwrap(), step_at(at));
            } else {
                assert_eq!(result, Err(CodeError::Wrong));
            }
        }
    }

    #[test]
    fn a_step_is_accepted_once() {
        let now = 1_700_000_000;
        let code = code_at(RFC_SECRET, now).unwrap();
        let step = verify_code(RFC_SECRET, &code, now, None).unwrap();
        assert_eq!(
            verify_code(RFC_SECRET, &code, now, Some(step)),
            Err(CodeError::Replayed)
        );
        // An older code (previous step, still inside the skew window) is a replay too.
        let older = code_at(RFC_SECRET, now - 30).unwrap();
        assert_eq!(
            verify_code(RFC_SECRET, &older, now, Some(step)),
            Err(CodeError::Replayed)
        );
        // The next step's code is new.
        let next = code_at(RFC_SECRET, now + 30).unwrap();
        assert_eq!(
            verify_code(RFC_SECRET, &next, now + 30, Some(step)),
            Ok(step + 1)
        );
    }

    #[test]
    fn malformed_codes_are_refused_before_any_check() {
        for input in [
            "",
            "12345",
            "1234567",
            "12a456",
            "+12345",
            "١٢٣٤٥٦",
            &"1".repeat(10_000),
        ] {
            assert_eq!(
                verify_code(RFC_SECRET, input, 59, None),
                Err(CodeError::Malformed),
                "{input:?}"
            );
        }
    }

    #[test]
    fn spaces_and_dashes_are_ignored() {
        let code = code_at(RFC_SECRET, 59).unwrap();
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        let dashed = format!("{}-{}", &code[..3], &code[3..]);
        assert!(verify_code(RFC_SECRET, &spaced, 59, None).is_ok());
        assert!(verify_code(RFC_SECRET, &dashed, 59, None).is_ok());
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(code_at(b"short", 59), Err(CodeError::BadSecret));
    }

    #[test]
    fn secret_is_grouped_by_four() {
        assert_eq!(group_secret("ABCDEFGHIJ"), "ABCD EFGH IJ");
        assert_eq!(group_secret("ABCD===="), "ABCD");
    }
}
