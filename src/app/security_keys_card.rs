//! "Security keys" on the profile: the admin's security keys and passkeys (name, added, last
//! used), "Add a security key" (named; the current password first) and "Remove" (confirmed by
//! a key or a code from the authenticator app).

use super::errors::{FieldError, FormAlert, is_invalid};
use super::recovery_codes::RecoveryCodes;
use super::webauthn;
use crate::api::profile::remove_security_key;
use crate::domain::factors::MAX_KEY_NAME_CHARS;
use crate::domain::time::format_utc;
use crate::model::AppError;
use crate::model::types::{Profile, SecurityKeyInfo, SetupDone};
use leptos::prelude::*;

#[component]
pub fn SecurityKeysCard(
    profile: Profile,
    /// Called after a key was added or removed, with a message for the admin.
    #[prop(into)]
    on_change: Callback<String>,
) -> impl IntoView {
    let keys = profile.security_keys.clone();
    let count = keys.len();
    let totp_enabled = profile.code_confirms;
    let all_suspended = count > 0 && keys.iter().all(|k| k.suspended);
    let status = if all_suspended {
        "Your security key is suspended (below): until you add a new one, sign in with a \
         recovery code."
            .to_string()
    } else if profile.key_required && keys.is_empty() {
        "Your account requires a security key (Require security keys): add one.".to_string()
    } else if profile.key_required {
        "Your account requires a security key: sign in with it.".to_string()
    } else if keys.is_empty() {
        "None yet. A security key (YubiKey, Titan) or a passkey on this device (Windows Hello, \
         Touch ID, Android) signs you in with a touch, and cannot be phished."
            .to_string()
    } else {
        "Every sign-in offers your security key first.".to_string()
    };
    let adding = RwSignal::new(false);
    // A key this visit added as the first factor: its recovery codes are on screen.
    let codes: RwSignal<Option<Vec<String>>> = RwSignal::new(None);
    let removing: RwSignal<Option<SecurityKeyInfo>> = RwSignal::new(None);
    view! {
        <section class="card" aria-labelledby="keys-title">
            <h2 id="keys-title">"Security keys"</h2>
            <p class="hint">{status}</p>
            {(count > 0).then(|| view! {
                <ul class="key-list" aria-label="Your security keys">
                    {keys.into_iter().map(|key| {
                        let shown = key.clone();
                        view! {
                            <li class="key-item">
                                <span class="key-icon" aria-hidden="true"></span>
                                <div class="key-facts">
                                    <strong>{shown.name.clone()}</strong>
                                    <span class="hint">
                                        {format!("Added {}", format_utc(shown.added_at))}
                                        " · "
                                        {shown.last_used_at.map_or("Never used".to_string(), |t| format!("Last used {}", format_utc(t)))}
                                    </span>
                                    {shown.suspended.then(|| view! {
                                        <span class="badge badge-warn key-suspended">
                                            "Suspended: it answered like a copy of itself, so it is not accepted. Add a new key and remove this one, or ask your super admin to reset your 2FA."
                                        </span>
                                    })}
                                </div>
                                <button type="button" class="button-quiet"
                                    aria-label=format!("Remove {}", shown.name)
                                    on:click=move |_| removing.set(Some(key.clone()))>
                                    "Remove"
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            {move || removing.get().map(|key| view! {
                <RemovePanel key totp_enabled
                    on_cancel=move |_| removing.set(None)
                    on_change />
            })}
            {move || codes.get().map(|c| view! {
                <RecoveryCodes codes=c on_saved=move |_| {
                    codes.set(None);
                    on_change.run("Security key added.".to_string());
                } />
            })}
            {if !profile.keys_available {
                view! {
                    <p class="hint">
                        "Security keys are not available on this dashboard: its address must be a
                        domain name (MSSP_PUBLIC_URL). Ask its operator."
                    </p>
                }.into_any()
            } else {
                view! {
                    <Show when=move || !adding.get() && codes.get().is_none()>
                        <button type="button" class="button-primary" on:click=move |_| adding.set(true)>
                            "Add a security key"
                        </button>
                    </Show>
                    <Show when=move || adding.get()>
                        <AddPanel
                            ask_password=true
                            on_cancel=move |_| adding.set(false)
                            on_added=move |done: SetupDone| {
                                adding.set(false);
                                if done.recovery_codes.is_empty() {
                                    on_change.run("Security key added.".to_string());
                                } else {
                                    codes.set(Some(done.recovery_codes));
                                }
                            } />
                    </Show>
                }.into_any()
            }}
        </section>
    }
}

/// "Add a security key": its name (and the current password, from the profile), then the key.
#[component]
pub fn AddPanel(
    /// From the profile the current password is asked; at the setup step of a sign-in it was
    /// given moments ago.
    ask_password: bool,
    #[prop(into)] on_cancel: Callback<()>,
    #[prop(into)] on_added: Callback<SetupDone>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let add = Action::new_local(move |(name, password): &(String, String)| {
        webauthn::add_key(name.clone(), ask_password.then(|| password.clone()))
    });
    Effect::new(move |_| {
        if let Some(Ok(done)) = add.value().get() {
            on_added.run(done);
        }
    });
    let error: Signal<Option<AppError>> =
        Signal::derive(move || add.value().get().and_then(Result::err));
    let pending = add.pending();
    view! {
        <div class="setup" role="group" aria-labelledby="add-key-title">
            <h3 id="add-key-title">"Add a security key"</h3>
            <p>"Name the key, confirm it is you, then insert or touch the key when the browser asks."</p>
            <FormAlert error />
            <form on:submit=move |ev| {
                ev.prevent_default();
                add.dispatch((name.get_untracked(), password.get_untracked()));
            }>
                <div class="field">
                    <label for="key-name">"Name of the key"</label>
                    <input id="key-name" type="text" required maxlength=MAX_KEY_NAME_CHARS
                        placeholder="YubiKey on my keyring"
                        bind:value=name
                        aria-invalid=is_invalid(error, "key_name")
                        aria-describedby="key-name-error" />
                    <FieldError id="key-name-error" field="key_name" error />
                </div>
                {ask_password.then(|| view! {
                    <div class="field">
                        <label for="key-password">"Current password"</label>
                        <input id="key-password" type="password" required autocomplete="current-password"
                            bind:value=password
                            aria-invalid=is_invalid(error, "current_password")
                            aria-describedby="key-password-error" />
                        <FieldError id="key-password-error" field="current_password" error />
                    </div>
                })}
                <FieldError id="key-credential-error" field="credential" error />
                <div class="actions">
                    <button type="submit" class="button-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Waiting for your security key…" } else { "Add the key" }}
                    </button>
                    <button type="button" class="button-quiet" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                </div>
            </form>
        </div>
    }
}

#[component]
fn RemovePanel(
    key: SecurityKeyInfo,
    totp_enabled: bool,
    #[prop(into)] on_cancel: Callback<()>,
    #[prop(into)] on_change: Callback<String>,
) -> impl IntoView {
    let id = key.id;
    let code = RwSignal::new(String::new());
    // With a key's answer (asked in the browser) or a code from the app.
    let remove = Action::new_local(move |with_code: &Option<String>| {
        let with_code = with_code.clone();
        async move {
            match with_code {
                Some(code) => remove_security_key(id, Some(code), None).await,
                None => {
                    let credential = webauthn::confirm_with_key().await?;
                    remove_security_key(id, None, Some(credential)).await
                }
            }
        }
    });
    let name = key.name.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            on_change.run(format!("Security key \"{name}\" removed."));
        }
    });
    let error: Signal<Option<AppError>> =
        Signal::derive(move || remove.value().get().and_then(Result::err));
    let pending = remove.pending();
    view! {
        <div class="setup" role="group" aria-labelledby="remove-key-title">
            <h3 id="remove-key-title">{format!("Remove \"{}\"", key.name)}</h3>
            <p>"Confirm with a security key of yours"{totp_enabled.then_some(", or a current code from your authenticator app")}"."</p>
            <FormAlert error />
            <FieldError id="remove-credential-error" field="credential" error />
            <div class="actions">
                <button type="button" class="button-danger" disabled=move || pending.get()
                    on:click=move |_| { remove.dispatch(None); }>
                    {move || if pending.get() { "Checking…" } else { "Confirm with a security key" }}
                </button>
                <button type="button" class="button-quiet" on:click=move |_| on_cancel.run(())>"Keep it"</button>
            </div>
            {totp_enabled.then(|| view! {
                <form on:submit=move |ev| {
                    ev.prevent_default();
                    remove.dispatch(Some(code.get_untracked()));
                }>
                    <div class="field">
                        <label for="remove-key-code">"2FA security code"</label>
                        <input id="remove-key-code" type="text" class="code-input" inputmode="numeric"
                            autocomplete="one-time-code" maxlength="9" bind:value=code
                            aria-invalid=is_invalid(error, "code")
                            aria-describedby="remove-key-code-error" />
                        <FieldError id="remove-key-code-error" field="code" error />
                    </div>
                    <button type="submit" class="button-danger" disabled=move || pending.get()>"Remove with the code"</button>
                </form>
            })}
        </div>
    }
}
