//! Administration → Settings: "Force two-factor authentication" (with its grace period) and how
//! long a browser may skip the code.

use super::admin_edit::grace_hint;
use super::admin_nav::AdminNav;
use super::errors::{FieldError, FormAlert, error_page, is_invalid};
use super::loaded::load;
use crate::api::admin::{SaveAccountSettings, get_account_settings};
use crate::domain::enforcement::MAX_GRACE_DAYS;
use crate::domain::remember::MAX_DAYS as MAX_REMEMBER_DAYS;
use crate::model::types::Grace;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let settings = load(|| (), |_| get_account_settings());
    view! {
        <Title text="Settings · Administration" />
        <h1>"Administration"</h1>
        <AdminNav />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(s) => view! {
                        <SettingsForm
                            force_2fa=s.force_2fa
                            grace=s.grace
                            remember_days=s.remember_days
                            account_name=s.account_name
                            you_have_two_factor=s.you_have_two_factor
                            require_keys=s.require_keys
                            keys_available=s.keys_available
                        />
                    }.into_any(),
                    Err(e) => error_page(e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SettingsForm(
    force_2fa: bool,
    grace: Option<Grace>,
    remember_days: i64,
    account_name: String,
    you_have_two_factor: bool,
    require_keys: bool,
    keys_available: bool,
) -> impl IntoView {
    let checked = RwSignal::new(force_2fa);
    let keys = RwSignal::new(require_keys);
    let save = ServerAction::<SaveAccountSettings>::new();
    // What the server answered last: the grace period running now.
    let grace = Signal::derive(move || match save.value().get() {
        Some(Ok(s)) => s.grace,
        _ => grace,
    });
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let saved = move || matches!(save.value().get(), Some(Ok(_)));
    // Forcing 2FA applies to the super admin too: without it (and without a grace period), the
    // setup comes first.
    Effect::new(move |_| {
        if let Some(Ok(s)) = save.value().get()
            && s.force_2fa
            && s.grace.is_none()
            && !s.you_have_two_factor
        {
            super::go(crate::domain::access::SETUP_PATH);
        }
    });
    let pending = save.pending();
    view! {
        <section class="card narrow" aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <p class="hint">{format!("For every admin of {account_name}, super admins included.")}</p>
            <FormAlert error />
            <ActionForm action=save>
                <input type="hidden" name="force_2fa" prop:value=move || checked.get().to_string() />
                <div class="check-row">
                    <input
                        type="checkbox"
                        id="force-2fa"
                        prop:checked=move || checked.get()
                        on:change=move |ev| checked.set(event_target_checked(&ev))
                        aria-describedby="force-2fa-hint"
                    />
                    <label for="force-2fa">"Force two-factor authentication"</label>
                </div>
                <p class="hint" id="force-2fa-hint">
                    "Every admin without two-factor authentication is sent to set it up: at their
                    next sign-in, or at their next click when signed in. Nobody can turn it off.
                    \"Enforce 2FA\" on one admin in Admin Management overrides this for that admin."
                    {(!you_have_two_factor).then_some(
                        " You have not set it up yourself: saving with this on (and no grace period) takes you to the setup first."
                    )}
                </p>
                <div class="field" hidden=move || !checked.get()>
                    <label for="grace-days">"Grace period (days)"</label>
                    <input id="grace-days" name="grace_days" type="number" min="0" max=MAX_GRACE_DAYS
                        step="1" inputmode="numeric" value=grace.get_untracked().map_or(0, |g| g.days_left)
                        aria-invalid=is_invalid(error, "grace_days")
                        aria-describedby="grace-days-hint grace-days-error" />
                    <input type="hidden" name="grace_shown" prop:value=move || grace.get().map_or(0, |g| g.days_left) />
                    <p class="hint" id="grace-days-hint">{move || grace_hint(grace.get())}</p>
                    <FieldError id="grace-days-error" field="grace_days" error />
                </div>
                <input type="hidden" name="require_keys" prop:value=move || keys.get().to_string() />
                <div class="check-row">
                    <input
                        type="checkbox"
                        id="require-keys"
                        prop:checked=move || keys.get()
                        disabled=!keys_available && !require_keys
                        on:change=move |ev| keys.set(event_target_checked(&ev))
                        aria-invalid=is_invalid(error, "require_keys")
                        aria-describedby="require-keys-hint require-keys-error"
                    />
                    <label for="require-keys">"Require security keys"</label>
                </div>
                <p class="hint" id="require-keys-hint">
                    {if keys_available {
                        "Where two-factor authentication is enforced (above, or \"Enforce 2FA\" on an
                        admin), only a security key or passkey will do: an admin with the authenticator
                        app alone is asked to add a key (within the grace period, if any), and an admin
                        with a key cannot sign in with an app code (recovery codes still work), nor skip
                        it on a remembered browser. For customers who demand phishing-resistant MFA. Admin Management shows who still
                        needs a key. Turning it on needs a key of your own."
                    } else {
                        "Security keys are not available on this dashboard: its address (MSSP_PUBLIC_URL)
                        must be a domain name."
                    }}
                </p>
                <FieldError id="require-keys-error" field="require_keys" error />
                <div class="field">
                    <label for="remember-days">"Don't ask for a code on a remembered browser for (days)"</label>
                    <input id="remember-days" name="remember_days" type="number" min="0" max=MAX_REMEMBER_DAYS
                        step="1" inputmode="numeric" value=remember_days
                        aria-invalid=is_invalid(error, "remember_days")
                        aria-describedby="remember-days-hint remember-days-error" />
                    <p class="hint" id="remember-days-hint">
                        "0: off (every sign-in asks for the code). Otherwise the code step offers
                        \"Don't ask for a code on this browser\" for that many days, at most 30; the
                        password is always asked. Lowering it (or 0) forgets every browser
                        remembered so far; each admin sees and forgets theirs on their profile."
                    </p>
                    <FieldError id="remember-days-error" field="remember_days" error />
                </div>
                <div class="actions">
                    <button type="submit" class="button-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Saving…" } else { "Save" }}
                    </button>
                    <span role="status" class="saved">{move || saved().then_some("Saved.")}</span>
                </div>
            </ActionForm>
        </section>
    }
}
