//! "Change password" on the profile.

use super::errors::{FormAlert, is_invalid};
use crate::api::profile::ChangePassword;
use leptos::prelude::*;

#[component]
pub fn PasswordCard(#[prop(into)] on_change: Callback<String>) -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            if let Some(form) = form.get() {
                form.reset();
            }
            on_change
                .run("Password changed. Your other sessions have been signed out.".to_string());
        }
    });
    let pending = action.pending();
    let field = move |name: &'static str, label: &'static str, autocomplete: &'static str| {
        let id = name.replace('_', "-");
        let error_id = format!("{id}-error");
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <input id=id name=name type="password" autocomplete=autocomplete required maxlength="128"
                    aria-invalid=is_invalid(error, name) aria-describedby=error_id.clone() />
                <p class="field-error" id=error_id hidden=move || error.get().and_then(|e| e.for_field(name)).is_none()>
                    {move || error.get().and_then(|e| e.for_field(name))}
                </p>
            </div>
        }
    };
    view! {
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            <FormAlert error />
            <ActionForm action node_ref=form>
                {field("current_password", "Current password", "current-password")}
                {field("new_password", "New password", "new-password")}
                {field("confirm_password", "Repeat the new password", "new-password")}
                <button type="submit" class="button-primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { "Change password" }}
                </button>
            </ActionForm>
        </section>
    }
}
