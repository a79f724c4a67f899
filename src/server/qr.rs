//! The `otpauth://` URI and its QR code, both made on the server.

use crate::domain::totp as policy;
use crate::model::AppError;
use crate::server::internal;
use crate::server::secrets::TotpSecret;
use qrcode::QrCode;
use qrcode::render::svg;
use totp_rs::{Algorithm, Builder};

/// `otpauth://totp/ISSUER:EMAIL?secret=...&issuer=ISSUER`, accepted by Google and Microsoft
/// Authenticator (SHA-1, 6 digits and 30 s are their defaults and are left out).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &TotpSecret) -> Result<String, AppError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(policy::DIGITS)
        .with_step_duration(policy::STEP_SECONDS)
        .with_secret(secret.bytes().to_vec())
        .with_issuer(Some(issuer))
        .with_account_name(account)
        .build()
        .and_then(|t| t.to_url())
        .map_err(internal)
}

pub fn svg(uri: &str) -> Result<String, AppError> {
    let code = QrCode::new(uri.as_bytes()).map_err(internal)?;
    let document = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in HTML: drop the XML declaration before the <svg> element.
    let start = document
        .find("<svg")
        .ok_or_else(|| internal("qrcode rendered no <svg>"))?;
    Ok(document[start..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_has_issuer_account_and_secret() {
        let secret = TotpSecret::generate();
        let uri = otpauth_uri("MSSP Dashboard", "ada@example.com", &secret).unwrap();
        assert_eq!(
            uri,
            format!(
                "otpauth://totp/MSSP%20Dashboard:ada%40example.com?secret={}&issuer=MSSP%20Dashboard",
                secret.to_base32()
            )
        );
        let svg = svg(&uri).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.ends_with("</svg>"),
            "{}",
            &svg[..80]
        );
    }
}
