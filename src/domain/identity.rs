//! Validation of what people type: sign-in identifiers, passwords, emails, usernames, names.
//!
//! Each function returns the normalised value or a message meant for the person at the form.

/// Longest password accepted anywhere. Bounds the work argon2 is asked to do.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Shortest password an admin may choose.
pub const MIN_NEW_PASSWORD_CHARS: usize = 12;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_NAME_CHARS: usize = 100;
pub const MIN_USERNAME_CHARS: usize = 3;
pub const MAX_USERNAME_CHARS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    /// The form field the message belongs next to.
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: message.into(),
    }
}

/// "Email or username" at sign-in: trimmed and lower-cased, as stored.
pub fn sign_in_identifier(input: &str) -> Result<String, Invalid> {
    let value = input.trim();
    if value.is_empty() {
        return Err(invalid("identifier", "Enter your email or username."));
    }
    if value.chars().count() > MAX_EMAIL_CHARS {
        return Err(invalid("identifier", "That email or username is too long."));
    }
    Ok(value.to_lowercase())
}

/// A password typed at sign-in. Not trimmed: spaces are part of a password.
pub fn sign_in_password(input: &str) -> Result<&str, Invalid> {
    if input.is_empty() {
        return Err(invalid("password", "Enter your password."));
    }
    if input.chars().count() > MAX_PASSWORD_CHARS {
        return Err(invalid(
            "password",
            format!("Passwords are at most {MAX_PASSWORD_CHARS} characters."),
        ));
    }
    Ok(input)
}

/// A password someone chooses.
pub fn new_password(input: &str) -> Result<&str, Invalid> {
    let chars = input.chars().count();
    if chars < MIN_NEW_PASSWORD_CHARS {
        return Err(invalid(
            "password",
            format!("Use at least {MIN_NEW_PASSWORD_CHARS} characters."),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(invalid(
            "password",
            format!("Use at most {MAX_PASSWORD_CHARS} characters."),
        ));
    }
    if input
        .chars()
        .all(|c| c == input.chars().next().unwrap_or(' '))
    {
        return Err(invalid("password", "Use more than one repeated character."));
    }
    Ok(input)
}

pub fn email(input: &str) -> Result<String, Invalid> {
    let value = input.trim().to_lowercase();
    if value.is_empty() {
        return Err(invalid("email", "Enter an email address."));
    }
    if value.chars().count() > MAX_EMAIL_CHARS {
        return Err(invalid("email", "That email address is too long."));
    }
    let mut parts = value.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid(
            "email",
            "Enter an email address like name@example.com.",
        ));
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    let no_odd_chars = value
        .chars()
        .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[]\\,;:\"".contains(c));
    if local.is_empty() || !domain_ok || !no_odd_chars {
        return Err(invalid(
            "email",
            "Enter an email address like name@example.com.",
        ));
    }
    Ok(value)
}

pub fn username(input: &str) -> Result<String, Invalid> {
    let value = input.trim().to_lowercase();
    let chars = value.chars().count();
    if !(MIN_USERNAME_CHARS..=MAX_USERNAME_CHARS).contains(&chars) {
        return Err(invalid(
            "username",
            format!("Use {MIN_USERNAME_CHARS} to {MAX_USERNAME_CHARS} characters."),
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
    {
        return Err(invalid(
            "username",
            "Use letters, digits, dots, dashes and underscores only.",
        ));
    }
    if value.contains('@') {
        return Err(invalid("username", "A username cannot contain @."));
    }
    Ok(value)
}

/// A person's or an account's display name.
pub fn display_name(field: &'static str, input: &str) -> Result<String, Invalid> {
    let value = input.trim();
    if value.is_empty() {
        return Err(invalid(field, "Enter a name."));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(
            field,
            format!("Use at most {MAX_NAME_CHARS} characters."),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "Names cannot contain control characters."));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_trimmed_and_lower_cased() {
        assert_eq!(
            sign_in_identifier("  Alice@Example.COM ").unwrap(),
            "alice@example.com"
        );
        assert_eq!(sign_in_identifier("   ").unwrap_err().field, "identifier");
        assert!(sign_in_identifier(&"a".repeat(255)).is_err());
    }

    #[test]
    fn sign_in_passwords_are_bounded_not_trimmed() {
        assert_eq!(sign_in_password(" pw ").unwrap(), " pw ");
        assert!(sign_in_password("").is_err());
        assert!(sign_in_password(&"x".repeat(MAX_PASSWORD_CHARS)).is_ok());
        assert!(sign_in_password(&"x".repeat(1_000_000)).is_err());
    }

    #[test]
    fn new_passwords_have_a_minimum() {
        assert!(new_password("short").is_err());
        assert!(new_password("aaaaaaaaaaaaaaaa").is_err());
        assert!(new_password("correct horse battery").is_ok());
    }

    #[test]
    fn emails() {
        assert_eq!(email(" Bob@Example.org ").unwrap(), "bob@example.org");
        for bad in [
            "",
            "bob",
            "bob@",
            "@example.org",
            "bob@example",
            "a@b@c.org",
            "bo b@x.org",
            "bob@.org",
            "bob@x..org",
        ] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn usernames() {
        assert_eq!(username(" Alice.Ops ").unwrap(), "alice.ops");
        for bad in ["ab", "alice ops", "alice@ops", "ålice", &"a".repeat(65)] {
            assert!(username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            display_name("name", "  Ada Lovelace ").unwrap(),
            "Ada Lovelace"
        );
        assert!(display_name("name", "").is_err());
        assert!(display_name("name", &"n".repeat(10 * 1024 * 1024)).is_err());
        assert!(display_name("name", "a\u{0}b").is_err());
    }
}
