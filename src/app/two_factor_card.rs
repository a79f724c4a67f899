//! "Enable Two-Factor Authentication": the switch on the profile, the QR setup and turning off.

use super::errors::{FieldError, FormAlert, is_invalid};
use super::recovery_codes::RecoveryCodes;
use crate::api::profile::{ConfirmTotpSetup, DisableTotp, StartTotpSetup};
use crate::domain::time::format_utc;
use crate::model::AppError;
use crate::model::types::{Profile, TotpSetup};
use leptos::prelude::*;

#[component]
pub fn TwoFactorCard(
    profile: Profile,
    /// Called after 2FA was turned on or off, with a message for the admin.
    #[prop(into)]
    on_change: Callback<String>,
) -> impl IntoView {
    let enabled = profile.totp_enabled;
    let enforcement = profile.enforcement;
    // Turning the app off is refused while the enforcement counts on it: a key left does
    // instead (and is what "Require security keys" counts anyway).
    let has_keys = !profile.security_keys.is_empty();
    let locked = enabled && enforcement.enforced && !has_keys;

    let setup: RwSignal<Option<TotpSetup>> = RwSignal::new(None);
    // The password prompt before a setup starts.
    let confirming = RwSignal::new(false);
    // Turned on in this visit (the recovery codes are on screen, the profile not yet reloaded).
    let confirmed = RwSignal::new(false);
    let disabling = RwSignal::new(false);

    let start = ServerAction::<StartTotpSetup>::new();
    Effect::new(move |_| {
        if let Some(Ok(started)) = start.value().get() {
            setup.set(Some(started));
            confirming.set(false);
        }
    });

    let checked = move || {
        (enabled && !disabling.get())
            || setup.get().is_some()
            || confirming.get()
            || start.pending().get()
    };
    let on_toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        match (enabled, on) {
            (false, true) => confirming.set(true),
            (false, false) => {
                setup.set(None);
                confirming.set(false);
            }
            (true, false) => disabling.set(true),
            (true, true) => disabling.set(false),
        }
    };

    let status = if enabled && enforcement.enforced {
        format!("On and required. {}", enforcement.reason())
    } else if enabled && has_keys {
        "On: every sign-in offers your security key, or a code from your authenticator app."
            .to_string()
    } else if enabled {
        "On: every sign-in asks for a code from your authenticator app.".to_string()
    } else if has_keys {
        "No authenticator app: your security key is your second factor (an app may be added too)."
            .to_string()
    } else if let (true, Some(deadline)) = (enforcement.enforced, enforcement.deadline) {
        format!(
            "Off, but required from {} (grace period). {}",
            format_utc(deadline),
            enforcement.reason()
        )
    } else if enforcement.enforced {
        format!("Off, but required. {}", enforcement.reason())
    } else {
        "Off: signing in needs your password only.".to_string()
    };

    view! {
        <section class="card" aria-labelledby="twofa-title">
            <h2 id="twofa-title">"Two-factor authentication"</h2>
            <div class="switch-row">
                <input
                    type="checkbox"
                    role="switch"
                    id="enable-2fa"
                    class="switch"
                    prop:checked=checked
                    disabled=locked
                    aria-describedby="twofa-status"
                    on:change=on_toggle
                />
                <label for="enable-2fa">"Enable Two-Factor Authentication"</label>
            </div>
            <p id="twofa-status" class="hint">
                {move || if enabled || confirmed.get() {
                    view! { <span class="badge badge-ok">"On"</span> }.into_any()
                } else {
                    view! { <span class="badge badge-warn">"Off"</span> }.into_any()
                }}
                " "
                {move || if confirmed.get() {
                    "On: every sign-in asks for a code from your authenticator app.".to_string()
                } else if setup.get().is_some() {
                    "Not on yet: scan the QR code and enter a code from the app to finish.".to_string()
                } else if confirming.get() {
                    "Not on yet: confirm it is you to start.".to_string()
                } else {
                    status.clone()
                }}
            </p>
            {move || confirming.get().then(|| view! {
                <ConfirmPasswordPanel start on_cancel=Callback::new(move |_| confirming.set(false)) />
            })}
            {move || setup.get().map(|s| view! {
                <SetupPanel
                    setup=s
                    on_cancel=Callback::new(move |_| setup.set(None))
                    on_confirmed=Callback::new(move |_| confirmed.set(true))
                    on_done=move |_| on_change.run(ENABLED_MESSAGE.to_string())
                />
            })}
            {move || disabling.get().then(|| view! { <DisablePanel on_cancel=move |_| disabling.set(false) on_change /> })}
        </section>
    }
}

/// "Confirm it's you": the current password before a new authenticator can be added.
#[component]
pub fn ConfirmPasswordPanel(
    start: ServerAction<StartTotpSetup>,
    /// Shows a Cancel button when given.
    #[prop(optional, into)]
    on_cancel: Option<Callback<()>>,
) -> impl IntoView {
    let error: Signal<Option<AppError>> =
        Signal::derive(move || start.value().get().and_then(Result::err));
    let pending = start.pending();
    // The panel opens from the switch: the password field takes the focus.
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
    view! {
        <div class="setup" role="group" aria-labelledby="confirm-title">
            <h3 id="confirm-title">"Confirm it's you"</h3>
            <p>"Enter your password to add an authenticator app to your account."</p>
            <FormAlert error />
            <ActionForm action=start>
                <div class="field">
                    <label for="enable-password">"Your current password"</label>
                    <input
                        id="enable-password"
                        name="current_password"
                        type="password"
                        autocomplete="current-password"
                        required
                        node_ref=input
                        aria-invalid=is_invalid(error, "current_password")
                        aria-describedby="enable-password-error"
                    />
                    <FieldError id="enable-password-error" field="current_password" error />
                </div>
                <div class="actions">
                    <button type="submit" class="button-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Checking…" } else { "Continue" }}
                    </button>
                    {on_cancel.map(|cancel| view! {
                        <button type="button" class="button-quiet" on:click=move |_| cancel.run(())>"Cancel"</button>
                    })}
                </div>
            </ActionForm>
        </div>
    }
}

const ENABLED_MESSAGE: &str = "Two-factor authentication is on. From now on every sign-in asks for a code from your authenticator app.";

/// The QR code, the secret and the code field of a started setup. `on_done` gets the page to
/// go to when the setup completed a sign-in.
#[component]
pub fn SetupPanel(
    setup: TotpSetup,
    /// Shows a Cancel button when given.
    #[prop(optional)]
    on_cancel: Option<Callback<()>>,
    /// Told as soon as the code was right (before the recovery codes are acknowledged).
    #[prop(optional)]
    on_confirmed: Option<Callback<()>>,
    #[prop(into)] on_done: Callback<Option<String>>,
) -> impl IntoView {
    let confirm = ServerAction::<ConfirmTotpSetup>::new();
    let error = Signal::derive(move || confirm.value().get().and_then(Result::err));
    let pending = confirm.pending();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(confirmed)) = (confirm.value().get(), on_confirmed) {
            confirmed.run(());
        }
    });
    move || match confirm.value().get() {
        // Turned on: the recovery codes first, then on.
        Some(Ok(done)) if done.recovery_codes.is_empty() => {
            // A security key came first: its recovery codes stay as they are.
            let next = done.next.clone();
            view! {
                <div class="alert alert-ok" role="status"><p>"Your authenticator app is set up."</p></div>
                <button type="button" class="button-primary" on:click=move |_| on_done.run(next.clone())>"Continue"</button>
            }
            .into_any()
        }
        Some(Ok(done)) => {
            let next = done.next.clone();
            view! {
                <div class="alert alert-ok" role="status"><p>"Two-factor authentication is on."</p></div>
                <RecoveryCodes codes=done.recovery_codes on_saved=move |_| on_done.run(next.clone()) />
            }
            .into_any()
        }
        _ => setup_form(setup.clone(), on_cancel, confirm, error, pending).into_any(),
    }
}

fn setup_form(
    setup: TotpSetup,
    on_cancel: Option<Callback<()>>,
    confirm: ServerAction<ConfirmTotpSetup>,
    error: Signal<Option<AppError>>,
    pending: Memo<bool>,
) -> impl IntoView {
    // The panel appears after a click elsewhere: its heading takes the focus, so a screen
    // reader announces it and the keyboard continues from here.
    let heading = NodeRef::<leptos::html::H3>::new();
    Effect::new(move |_| {
        if let Some(heading) = heading.get() {
            let _ = heading.focus();
        }
    });
    view! {
        <div class="setup" role="group" aria-labelledby="setup-title">
            <h3 id="setup-title" tabindex="-1" node_ref=heading>"Set up your authenticator app"</h3>
            <ol class="steps">
                <li>"Open Google Authenticator or Microsoft Authenticator and add an account."</li>
                <li>"Scan this QR code with the app."</li>
            </ol>
            <div class="qr" role="img" aria-label="QR code to add MSSP Dashboard to your authenticator app" inner_html=setup.qr_svg.clone()></div>
            <p class="open-in-app">
                "On this phone? "
                <a href=setup.otpauth_uri.clone() class="button-quiet button-small">"Open in your authenticator app"</a>
            </p>
            <p>"Can't scan it? Choose \"Enter a setup key\" in the app and type this key:"</p>
            <p><code class="secret" data-testid="totp-secret">{setup.secret_grouped.clone()}</code></p>
            <p class="hint setup-meta">
                {format!("Account: {} · Issuer: {} · Time-based, 6 digits", setup.account, setup.issuer)}
            </p>
            <FormAlert error />
            <ActionForm action=confirm>
                <div class="field">
                    <label for="setup-code">"3. Enter the 6-digit code the app shows"</label>
                    <input
                        id="setup-code"
                        name="code"
                        type="text"
                        class="code-input"
                        inputmode="numeric"
                        autocomplete="one-time-code"
                        maxlength="9"
                        required
                        aria-invalid=is_invalid(error, "code")
                        aria-describedby="setup-code-error"
                    />
                    <FieldError id="setup-code-error" field="code" error />
                </div>
                <div class="actions">
                    <button type="submit" class="button-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Checking…" } else { "Turn on" }}
                    </button>
                    {on_cancel.map(|cancel| view! {
                        <button type="button" class="button-quiet" on:click=move |_| cancel.run(())>"Cancel"</button>
                    })}
                </div>
            </ActionForm>
        </div>
    }
}

#[component]
fn DisablePanel(
    #[prop(into)] on_cancel: Callback<()>,
    #[prop(into)] on_change: Callback<String>,
) -> impl IntoView {
    let disable = ServerAction::<DisableTotp>::new();
    let error: Signal<Option<AppError>> =
        Signal::derive(move || disable.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(())) = disable.value().get() {
            on_change.run(
                "Two-factor authentication is off. Signing in now needs your password only."
                    .to_string(),
            );
        }
    });
    let pending = disable.pending();
    view! {
        <div class="setup" role="group" aria-labelledby="disable-title">
            <h3 id="disable-title">"Turn off two-factor authentication"</h3>
            <p>"Enter a current code from your authenticator app to confirm."</p>
            <FormAlert error />
            <ActionForm action=disable>
                <div class="field">
                    <label for="disable-code">"2FA security code"</label>
                    <input
                        id="disable-code"
                        name="code"
                        type="text"
                        class="code-input"
                        inputmode="numeric"
                        autocomplete="one-time-code"
                        maxlength="9"
                        required
                        aria-invalid=is_invalid(error, "code")
                        aria-describedby="disable-code-error"
                    />
                    <FieldError id="disable-code-error" field="code" error />
                </div>
                <div class="actions">
                    <button type="submit" class="button-danger" disabled=move || pending.get()>
                        {move || if pending.get() { "Checking…" } else { "Turn off" }}
                    </button>
                    <button type="button" class="button-quiet" on:click=move |_| on_cancel.run(())>"Keep it on"</button>
                </div>
            </ActionForm>
        </div>
    }
}
