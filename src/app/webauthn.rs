//! Security keys in the browser: each ceremony starts on the server (which keeps its state),
//! runs in `navigator.credentials` with the options the server sent, and ends on the server with
//! the key's answer. No JavaScript library: the browser's own `PublicKeyCredential` JSON helpers
//! (`parseCreationOptionsFromJSON`, `parseRequestOptionsFromJSON`, `toJSON`) turn the
//! server's JSON into the call's arguments and the answer back into JSON.

use crate::api::auth::{finish_key_sign_in, start_key_sign_in};
use crate::api::profile::{
    finish_key_registration, start_key_confirmation, start_key_registration,
};
use crate::model::AppError;
use crate::model::types::SetupDone;

/// "Add a security key": registers a new key named `name`.
pub async fn add_key(
    name: String,
    current_password: Option<String>,
) -> Result<SetupDone, AppError> {
    let ceremony = start_key_registration(name, current_password).await?;
    let credential = browser::create(&ceremony.options_json).await?;
    finish_key_registration(credential).await
}

/// "Use your security key" at the code step; answers the page to go to.
pub async fn sign_in_with_key(remember_browser: bool) -> Result<String, AppError> {
    let ceremony = start_key_sign_in().await?;
    let credential = browser::get(&ceremony.options_json).await?;
    finish_key_sign_in(credential, Some(remember_browser)).await
}

/// A key's answer confirming a change (removing a key), for the server to check.
pub async fn confirm_with_key() -> Result<String, AppError> {
    let ceremony = start_key_confirmation().await?;
    browser::get(&ceremony.options_json).await
}

#[cfg(feature = "hydrate")]
mod browser {
    use crate::model::AppError;
    use js_sys::{Function, JSON, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    fn unsupported() -> AppError {
        AppError::Conflict(
            "This browser cannot use security keys here: use a current Chrome, Edge, Firefox or \
             Safari."
                .into(),
        )
    }

    /// What the browser said, in words for the admin.
    fn refused(e: JsValue) -> AppError {
        let name = Reflect::get(&e, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        AppError::Conflict(match name.as_str() {
            "NotAllowedError" => {
                "The security key was not used: the request was cancelled or timed out. Try again."
                    .into()
            }
            "InvalidStateError" => "This security key is registered already.".into(),
            "SecurityError" => {
                "The browser refused security keys for this address: open the dashboard at its \
                 public address."
                    .into()
            }
            _ => "The security key could not be used. Try again.".into(),
        })
    }

    /// `PublicKeyCredential[method](options.publicKey)`: the call's argument, from JSON.
    fn parse_options(options_json: &str, method: &str) -> Result<JsValue, AppError> {
        let options = JSON::parse(options_json).map_err(|_| AppError::Internal)?;
        let public_key =
            Reflect::get(&options, &"publicKey".into()).map_err(|_| AppError::Internal)?;
        let class = Reflect::get(&js_sys::global(), &"PublicKeyCredential".into())
            .map_err(|_| unsupported())?;
        let parse = Reflect::get(&class, &method.into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or_else(unsupported)?;
        let parsed = parse.call1(&class, &public_key).map_err(refused)?;
        let argument = Object::new();
        Reflect::set(&argument, &"publicKey".into(), &parsed).map_err(|_| AppError::Internal)?;
        Ok(argument.into())
    }

    /// The credential's `toJSON()`, as a string.
    fn answer(credential: JsValue) -> Result<String, AppError> {
        let to_json = Reflect::get(&credential, &"toJSON".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or_else(unsupported)?;
        let json = to_json.call0(&credential).map_err(refused)?;
        JSON::stringify(&json)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or(AppError::Internal)
    }

    fn credentials() -> Result<web_sys::CredentialsContainer, AppError> {
        let window = web_sys::window().ok_or_else(unsupported)?;
        Ok(window.navigator().credentials())
    }

    pub async fn create(options_json: &str) -> Result<String, AppError> {
        let argument = parse_options(options_json, "parseCreationOptionsFromJSON")?;
        let promise = credentials()?
            .create_with_options(argument.unchecked_ref())
            .map_err(refused)?;
        let credential = JsFuture::from(promise).await.map_err(refused)?;
        answer(credential)
    }

    pub async fn get(options_json: &str) -> Result<String, AppError> {
        let argument = parse_options(options_json, "parseRequestOptionsFromJSON")?;
        let promise = credentials()?
            .get_with_options(argument.unchecked_ref())
            .map_err(refused)?;
        let credential = JsFuture::from(promise).await.map_err(refused)?;
        answer(credential)
    }
}

/// Server rendering never runs a ceremony (it starts from a click).
#[cfg(not(feature = "hydrate"))]
mod browser {
    use crate::model::AppError;

    fn browser_only() -> AppError {
        AppError::Conflict("Security keys are used in the browser.".into())
    }

    pub async fn create(_options_json: &str) -> Result<String, AppError> {
        Err(browser_only())
    }

    pub async fn get(_options_json: &str) -> Result<String, AppError> {
        Err(browser_only())
    }
}
