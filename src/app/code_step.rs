//! The code step of sign-in: the security key when the admin has one ("Use your security
//! key"), the "2FA security code", or a recovery code.

use super::errors::{FieldError, FormAlert, is_invalid};
use super::go;
use super::reset_request_panel::ResetRequestPanel;
use crate::api::auth::{VerifySignInCode, get_code_step};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CodeStepPage() -> impl IntoView {
    let action = ServerAction::<VerifySignInCode>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(next)) = action.value().get() {
            go(&next);
        }
    });
    let pending = action.pending();
    let recovery = RwSignal::new(false);
    // Read in the browser: the offer is a convenience, the server decides again.
    let options = LocalResource::new(get_code_step);
    let options = Signal::derive(move || options.try_get().flatten().and_then(Result::ok));
    let has_key = move || options.get().is_some_and(|o| o.has_key);
    // Without an authenticator app (or where its codes are refused) the field takes a recovery
    // code.
    let app_codes = move || options.get().is_none_or(|o| o.has_totp && o.code_accepted);
    Effect::new(move |_| {
        if !app_codes() {
            recovery.set(true);
        }
    });
    let code_accepted = move || options.get().is_none_or(|o| o.code_accepted);
    // Above "Request 2FA Reset": the factors this admin has (the app until the options say).
    let lost = Signal::derive(move || match options.get() {
        Some(o) if o.has_key && o.has_totp => "authenticator app or security key",
        Some(o) if o.has_key => "security key",
        _ => "authenticator app",
    });
    // Before the options arrive, the code field shows (the common case, and no flash).
    let remember = RwSignal::new(false);
    let use_key =
        Action::new_local(move |remember: &bool| super::webauthn::sign_in_with_key(*remember));
    Effect::new(move |_| {
        if let Some(Ok(next)) = use_key.value().get() {
            go(&next);
        }
    });
    let key_error = Signal::derive(move || use_key.value().get().and_then(Result::err));
    let key_pending = use_key.pending();
    view! {
        <Title text="Two-factor authentication" />
        <section class="auth-card" aria-labelledby="code-title">
            <h1 id="code-title">"Two-factor authentication"</h1>
            <Show when=has_key>
                <p class="lead">"Use your security key: insert or touch it when the browser asks."</p>
            </Show>
            <Show when=move || code_accepted() && !has_key()>
                <p class="lead">
                    "Open your authenticator app (Google or Microsoft Authenticator) and enter the
                    6-digit code shown for MSSP Dashboard."
                </p>
            </Show>
            {move || options.get().and_then(|o| o.remember_days).map(|days| view! {
                <div class="check-row">
                    <input type="checkbox" id="remember-browser"
                        prop:checked=move || remember.get()
                        on:change=move |ev| remember.set(event_target_checked(&ev)) />
                    <label for="remember-browser">
                        {format!("Don't ask for a code on this browser for {days} days")}
                    </label>
                </div>
            })}
            <Show when=has_key>
                <FormAlert error=key_error />
                <FieldError id="credential-error" field="credential" error=key_error />
                <button type="button" class="button-primary button-wide" id="use-security-key"
                    disabled=move || key_pending.get()
                    on:click=move |_| { use_key.dispatch(remember.get_untracked()); }>
                    {move || if key_pending.get() { "Waiting for your security key…" } else { "Use your security key" }}
                </button>
                <p class="divider-text">
                    {move || if app_codes() { "or enter a code" } else { "or use a recovery code" }}
                </p>
            </Show>
            <Show when=move || !code_accepted()>
                <p class="hint">
                    "Your account requires a security key to sign in (Require security keys): codes
                    from your authenticator app are not accepted."
                </p>
            </Show>
            <FormAlert error />
            <ActionForm action>
                <div class="field">
                    <label for="code">{move || if recovery.get() { "Recovery code" } else { "2FA security code" }}</label>
                    <input
                        id="code"
                        name="code"
                        type="text"
                        class="code-input"
                        inputmode=move || if recovery.get() { "text" } else { "numeric" }
                        autocomplete=move || if recovery.get() { "off" } else { "one-time-code" }
                        autocapitalize="characters"
                        spellcheck="false"
                        maxlength="16"
                        required
                        autofocus=move || !has_key()
                        aria-invalid=is_invalid(error, "code")
                        aria-describedby="code-hint code-error"
                    />
                    <p class="hint" id="code-hint">
                        {move || if recovery.get() {
                            "One of the codes you saved when you set up 2FA, like ABCDE-23456. Each works once."
                        } else {
                            "The code changes every 30 seconds."
                        }}
                    </p>
                    <FieldError id="code-error" field="code" error />
                </div>
                <input type="hidden" name="remember_browser" prop:value=move || remember.get().to_string() />
                <button type="submit" class="button-primary button-wide" disabled=move || pending.get()>
                    {move || if pending.get() { "Checking…" } else { "Verify" }}
                </button>
            </ActionForm>
            <p class="hint" hidden=move || !app_codes()>
                <button type="button" class="button-link" on:click=move |_| recovery.update(|r| *r = !*r)>
                    {move || if recovery.get() { "Use a code from your authenticator app" } else { "Use a recovery code instead" }}
                </button>
            </p>
            <ResetRequestPanel lost />
            <p class="auth-footer">
                <a href="/login" rel="external">"Sign in as someone else"</a>
            </p>
        </section>
    }
}
