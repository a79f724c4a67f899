//! "Add admin" in Admin Management.

use super::errors::{FieldError, FormAlert, is_invalid};
use crate::api::admin::AddAdmin;
use crate::domain::admin_rules::ASSIGNABLE_ROLES;
use leptos::prelude::*;

#[component]
pub fn AddAdminPanel(#[prop(into)] on_added: Callback<String>) -> impl IntoView {
    let open = RwSignal::new(false);
    let add = ServerAction::<AddAdmin>::new();
    let error = Signal::derive(move || add.value().get().and_then(Result::err));
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(added)) = add.value().get() {
            let name = added.name;
            // The next admin starts from an empty form.
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
            open.set(false);
            on_added.run(format!(
                "Added {name}. Give them their initial password; they choose a new one at their first sign-in."
            ));
        }
    });
    let pending = add.pending();
    let field = move |id: &'static str,
                      label: &'static str,
                      kind: &'static str,
                      autocomplete: &'static str,
                      hint: Option<&'static str>| {
        let error_id = format!("add-{id}-error");
        let hint_id = format!("add-{id}-hint");
        let described = if hint.is_some() {
            format!("{hint_id} {error_id}")
        } else {
            error_id.clone()
        };
        view! {
            <div class="field">
                <label for=format!("add-{id}")>{label}</label>
                <input
                    id=format!("add-{id}")
                    name=id
                    type=kind
                    autocomplete=autocomplete
                    required
                    aria-invalid=is_invalid(error, id)
                    aria-describedby=described
                />
                {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
                <p class="field-error" id=error_id.clone() hidden=move || error.get().and_then(|e| e.for_field(id)).is_none()>
                    {move || error.get().and_then(|e| e.for_field(id))}
                </p>
            </div>
        }
    };
    view! {
        <button
            type="button"
            class="button-primary"
            aria-expanded=move || open.get().to_string()
            aria-controls="add-admin"
            on:click=move |_| open.update(|o| *o = !*o)
        >
            "Add admin"
        </button>
        <div id="add-admin" class="add-admin" hidden=move || !open.get()>
            <h3>"Add admin"</h3>
            <FormAlert error />
            <ActionForm action=add node_ref=form>
                <div class="form-grid">
                    {field("email", "Email", "email", "off", None)}
                    {field("username", "Username", "text", "off", Some("Letters, digits, dots, dashes and underscores."))}
                    {field("name", "Name", "text", "off", None)}
                    <div class="field">
                        <label for="add-role">"Role"</label>
                        <select id="add-role" name="role" aria-describedby="add-role-error">
                            {ASSIGNABLE_ROLES.iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                        </select>
                        <FieldError id="add-role-error" field="role" error />
                    </div>
                    {field("password", "Initial password", "password", "new-password", Some("At least 12 characters. They must change it at their first sign-in."))}
                </div>
                <div class="actions">
                    <button type="submit" class="button-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Creating…" } else { "Create admin" }}
                    </button>
                    <button type="button" class="button-quiet" on:click=move |_| open.set(false)>"Cancel"</button>
                </div>
            </ActionForm>
        </div>
    }
}
