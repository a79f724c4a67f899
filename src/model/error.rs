//! The one error type every server function returns. Its messages are safe to show; internals
//! are logged on the server and never copied into it.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No session: sign in first.
    #[error("Please sign in.")]
    Unauthenticated,
    /// Password step passed, code step not yet.
    #[error("Enter your 2FA security code first.")]
    SecondFactorRequired,
    /// Password step passed after a reset; the setup code is due.
    #[error("Enter the setup code from your super admin first.")]
    SetupCodeRequired,
    /// Signed in with a password set by a super admin: a new one is due first.
    #[error("Choose a new password first.")]
    PasswordChangeRequired,
    /// 2FA is enforced and not set up: setting it up is due first.
    #[error("Set up two-factor authentication first.")]
    TwoFactorSetupRequired,
    #[error("Wrong email, username or password.")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("Not found.")]
    NotFound,
    /// Input that breaks a rule; `field` names the form field it belongs next to.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The request is valid but the state does not allow it now.
    #[error("{0}")]
    Conflict(String),
    #[error("Too many attempts. Try again in {retry_after_seconds} seconds.")]
    TooManyRequests { retry_after_seconds: u32 },
    #[error("The server is busy. Try again in a moment.")]
    Busy,
    /// Malformed request: missing or unreadable arguments, wrong encoding.
    #[error("The request could not be read: {0}")]
    BadRequest(String),
    #[error("The request is too large.")]
    TooLarge,
    #[error("Something went wrong on our side. It has been logged.")]
    Internal,
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated
            | AppError::SecondFactorRequired
            | AppError::SetupCodeRequired
            | AppError::BadCredentials => 401,
            AppError::PasswordChangeRequired | AppError::TwoFactorSetupRequired => 403,
            AppError::Forbidden(_) => 403,
            AppError::NotFound => 404,
            AppError::Conflict(_) => 409,
            AppError::Invalid { .. } => 422,
            AppError::BadRequest(_) => 400,
            AppError::TooLarge => 413,
            AppError::TooManyRequests { .. } => 429,
            AppError::Busy => 503,
            AppError::Internal => 500,
        }
    }

    /// The message for `field`, if this error belongs next to it.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid { field: f, message } if f == field => Some(message.clone()),
            _ => None,
        }
    }

    /// True when the error is not about one field (shown at the top of the form).
    pub fn is_general(&self) -> bool {
        !matches!(self, AppError::Invalid { .. })
    }

    /// True when the session is not (or no longer) fully signed in.
    pub fn needs_sign_in(&self) -> bool {
        self.sign_in_page().is_some()
    }

    /// The page where the sign-in continues, when this error means it is not finished.
    pub fn sign_in_page(&self) -> Option<&'static str> {
        use crate::domain::access::{
            CHANGE_PASSWORD_PATH, CODE_PATH, LOGIN_PATH, SETUP_CODE_PATH, SETUP_PATH,
        };
        match self {
            AppError::Unauthenticated => Some(LOGIN_PATH),
            AppError::SecondFactorRequired => Some(CODE_PATH),
            AppError::SetupCodeRequired => Some(SETUP_CODE_PATH),
            AppError::PasswordChangeRequired => Some(CHANGE_PASSWORD_PATH),
            AppError::TwoFactorSetupRequired => Some(SETUP_PATH),
            _ => None,
        }
    }
}

impl From<crate::domain::identity::Invalid> for AppError {
    fn from(value: crate::domain::identity::Invalid) -> Self {
        AppError::invalid(value.field, value.message)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request did not carry readable arguments.
            // axum's body limit (`web::MAX_REQUEST_BODY_BYTES`) stops the read.
            ServerFnErrorErr::Deserialization(msg) if msg.contains("length limit exceeded") => {
                AppError::TooLarge
            }
            ServerFnErrorErr::Args(msg)
            | ServerFnErrorErr::MissingArg(msg)
            | ServerFnErrorErr::Deserialization(msg) => AppError::BadRequest(shorten(&msg)),
            ServerFnErrorErr::UnsupportedRequestMethod(msg) => AppError::BadRequest(shorten(&msg)),
            // A network error seen by the browser.
            ServerFnErrorErr::Request(_) => {
                AppError::BadRequest("the server could not be reached".into())
            }
            _ => AppError::Internal,
        }
    }
}

/// Framework messages can quote the input back; keep them short.
fn shorten(msg: &str) -> String {
    const MAX: usize = 200;
    if msg.len() <= MAX {
        msg.to_string()
    } else {
        let mut end = MAX;
        while !msg.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &msg[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_errors_about_input_are_bad_requests() {
        let e =
            AppError::from_server_fn_error(ServerFnErrorErr::Args("missing field `code`".into()));
        assert_eq!(e.status(), 400);
        let long =
            AppError::from_server_fn_error(ServerFnErrorErr::Deserialization("é".repeat(500)));
        assert!(long.to_string().len() < 300);
        assert_eq!(
            AppError::from_server_fn_error(ServerFnErrorErr::ServerError("db".into())),
            AppError::Internal
        );
    }

    #[test]
    fn field_errors_are_found_by_field() {
        let e = AppError::invalid("code", "Enter the code.");
        assert_eq!(e.for_field("code").as_deref(), Some("Enter the code."));
        assert_eq!(e.for_field("password"), None);
        assert!(!e.is_general());
        assert!(AppError::BadCredentials.is_general());
    }
}
