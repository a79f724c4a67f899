//! After a reset: the setup code the super admin handed over, asked after the password and
//! before the new 2FA setup.

use super::errors::{FieldError, FormAlert, is_invalid};
use super::go;
use crate::api::auth::VerifySetupCode;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SetupCodeStepPage() -> impl IntoView {
    let action = ServerAction::<VerifySetupCode>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(next)) = action.value().get() {
            go(&next);
        }
    });
    let pending = action.pending();
    view! {
        <Title text="Setup code" />
        <section class="auth-card" aria-labelledby="setup-code-title">
            <h1 id="setup-code-title">"Enter your setup code"</h1>
            <p class="lead">
                "Your two-factor authentication was reset. Your super admin gave you a setup code
                by phone or in person: enter it to set up two-factor authentication again."
            </p>
            <FormAlert error />
            <ActionForm action>
                <div class="field">
                    <label for="setup-code">"Setup code"</label>
                    <input
                        id="setup-code"
                        name="setup_code"
                        type="text"
                        class="code-input setup-code-input"
                        autocomplete="off"
                        autocapitalize="characters"
                        spellcheck="false"
                        maxlength="20"
                        required
                        autofocus
                        aria-invalid=is_invalid(error, "setup_code")
                        aria-describedby="setup-code-hint setup-code-error"
                    />
                    <p class="hint" id="setup-code-hint">
                        "12 letters and digits, like ABCD-EFGH-JKLM. It works until you have set up
                        two-factor authentication again."
                    </p>
                    <FieldError id="setup-code-error" field="setup_code" error />
                </div>
                <button type="submit" class="button-primary button-wide" disabled=move || pending.get()>
                    {move || if pending.get() { "Checking…" } else { "Continue" }}
                </button>
            </ActionForm>
            <p class="hint">
                "No code, or it expired? Ask your super admin for a new one. If you did not ask
                for a reset, tell them now: someone else may know your password."
            </p>
            <p class="auth-footer">
                <a href="/login" rel="external">"Sign in as someone else"</a>
            </p>
        </section>
    }
}
