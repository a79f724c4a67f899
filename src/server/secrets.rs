//! Secret values that must never reach a log or the browser by accident: their `Debug` prints a
//! redaction and they do not implement `Serialize`.

use rand::RngCore;
use std::fmt;

/// A TOTP shared secret (160 random bits).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    pub fn generate() -> TotpSecret {
        let mut bytes = vec![0u8; crate::domain::totp::SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        TotpSecret(bytes)
    }

    /// From stored bytes; `None` unless 16 to 64 bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<TotpSecret> {
        (16..=64)
            .contains(&bytes.len())
            .then_some(TotpSecret(bytes))
    }

    pub fn from_base32(value: &str) -> Option<TotpSecret> {
        totp_rs::Secret::try_from_base32(value)
            .ok()
            .map(|s| TotpSecret(s.as_ref().to_vec()))
    }

    pub fn to_base32(&self) -> String {
        totp_rs::Secret::from(self.0.clone()).to_base32()
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_base32_and_never_prints() {
        let secret = TotpSecret::generate();
        assert_eq!(secret.bytes().len(), 20);
        let b32 = secret.to_base32();
        assert_eq!(b32.len(), 32);
        assert_eq!(TotpSecret::from_base32(&b32), Some(secret.clone()));
        assert!(!format!("{secret:?}").contains(&b32));
        assert_eq!(TotpSecret::from_base32("not base32!"), None);
    }
}
