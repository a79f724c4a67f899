//! The code step of sign-in: the "2FA security code".

use super::errors::{FieldError, FormAlert, is_invalid};
use super::go;
use super::reset_request_panel::ResetRequestPanel;
use crate::api::auth::VerifySignInCode;
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
                    <label for="code">"2FA security code"</label>
                    <input
                        id="code"
                        name="code"
                        type="text"
                        class="code-input"
                        inputmode="numeric"
                        autocomplete="one-time-code"
                        maxlength="9"
                        required
                        autofocus
                        aria-invalid=is_invalid(error, "code")
                        aria-describedby="code-hint code-error"
                    />
                    <p class="hint" id="code-hint">"The code changes every 30 seconds."</p>
                    <FieldError id="code-error" field="code" error />
                </div>
                <button type="submit" class="button-primary button-wide" disabled=move || pending.get()>
                    {move || if pending.get() { "Checking…" } else { "Verify" }}
                </button>
            </ActionForm>
            <ResetRequestPanel />
            <p class="auth-footer">
                <a href="/login" rel="external">"Sign in as someone else"</a>
            </p>
        </section>
    }
}
