//! The required new password of a sign-in with a password a super admin chose.

use super::errors::{FieldError, FormAlert, is_invalid};
use super::go;
use super::sign_out_button::SignOutButton;
use crate::api::auth::SetInitialPassword;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NewPasswordPage() -> impl IntoView {
    let action = ServerAction::<SetInitialPassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(next)) = action.value().get() {
            go(&next);
        }
    });
    let pending = action.pending();
    view! {
        <Title text="Choose a new password" />
        <section class="auth-card" aria-labelledby="new-password-title">
            <h1 id="new-password-title">"Choose a new password"</h1>
            <p class="lead">"Your super admin set your current password. Choose your own to continue."</p>
            <FormAlert error />
            <ActionForm action>
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="new_password" type="password" autocomplete="new-password"
                        required minlength="12" maxlength="128"
                        aria-invalid=is_invalid(error, "new_password") aria-describedby="new-password-hint new-password-error" />
                    <p class="hint" id="new-password-hint">"At least 12 characters."</p>
                    <FieldError id="new-password-error" field="new_password" error />
                </div>
                <div class="field">
                    <label for="confirm-password">"Repeat the new password"</label>
                    <input id="confirm-password" name="confirm_password" type="password" autocomplete="new-password"
                        required maxlength="128"
                        aria-invalid=is_invalid(error, "confirm_password") aria-describedby="confirm-password-error" />
                    <FieldError id="confirm-password-error" field="confirm_password" error />
                </div>
                <button type="submit" class="button-primary button-wide" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { "Save password" }}
                </button>
            </ActionForm>
            <div class="auth-footer"><SignOutButton /></div>
        </section>
    }
}
