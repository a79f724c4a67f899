//! The password step of sign-in.

use super::errors::{FieldError, FormAlert, is_invalid};
use super::go;
use crate::api::auth::SignIn;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(next)) = action.value().get() {
            go(&next);
        }
    });
    let pending = action.pending();
    view! {
        <Title text="Sign in" />
        <section class="auth-card" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">"Sign in"</h1>
            <p class="lead">"Sign in to manage your MSSP account."</p>
            <FormAlert error />
            <ActionForm action>
                <div class="field">
                    <label for="identifier">"Email or username"</label>
                    <input
                        id="identifier"
                        name="identifier"
                        type="text"
                        autocomplete="username"
                        autocapitalize="none"
                        spellcheck="false"
                        maxlength="254"
                        required
                        autofocus
                        aria-invalid=is_invalid(error, "identifier")
                        aria-describedby="identifier-error"
                    />
                    <FieldError id="identifier-error" field="identifier" error />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input
                        id="password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        maxlength="128"
                        required
                        aria-invalid=is_invalid(error, "password")
                        aria-describedby="password-error"
                    />
                    <FieldError id="password-error" field="password" error />
                </div>
                <button type="submit" class="button-primary button-wide" disabled=move || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </section>
    }
}
