//! The code step of sign-in: the "2FA security code".

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
    let options = Signal::derive(move || options.try_get());
    view! {
        <Title text="Two-factor authentication" />
        <section class="auth-card" aria-labelledby="code-title">
            <h1 id="code-title">"Two-factor authentication"</h1>
            <p class="lead">
                "Open your authenticator app (Google or Microsoft Authenticator) and enter the
                6-digit code shown for MSSP Dashboard."
            </p>
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
                        autofocus
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
                {move || options.get().flatten().and_then(Result::ok).and_then(|o| o.remember_days).map(|days| view! {
                    <div class="check-row">
                        <input type="checkbox" id="remember-browser" name="remember_browser" value="true" />
                        <label for="remember-browser">
                            {format!("Don't ask for a code on this browser for {days} days")}
                        </label>
                    </div>
                })}
                <button type="submit" class="button-primary button-wide" disabled=move || pending.get()>
                    {move || if pending.get() { "Checking…" } else { "Verify" }}
                </button>
            </ActionForm>
            <p class="hint">
                <button type="button" class="button-link" on:click=move |_| recovery.update(|r| *r = !*r)>
                    {move || if recovery.get() { "Use a code from your authenticator app" } else { "Use a recovery code instead" }}
                </button>
            </p>
            <ResetRequestPanel />
            <p class="auth-footer">
                <a href="/login" rel="external">"Sign in as someone else"</a>
            </p>
        </section>
    }
}
