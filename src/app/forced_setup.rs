//! The required 2FA setup of a sign-in, when 2FA is enforced for the admin and not set up.

use super::errors::FormAlert;
use super::go;
use super::recovery_codes::RecoveryCodes;
use super::security_keys_card::AddPanel;
use super::sign_out_button::SignOutButton;
use super::two_factor_card::{ConfirmPasswordPanel, SetupPanel};
use crate::api::auth::Skip2faSetup;
use crate::api::profile::StartTotpSetup;
use crate::domain::time::format_utc;
use crate::model::AppError;
use crate::model::types::{SetupDone, TotpSetup};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ForcedSetupPage() -> impl IntoView {
    let start = ServerAction::<StartTotpSetup>::new();
    // Started from the browser once the page is live: the secret lives in the session, which
    // a streamed server render could not save.
    Effect::new(move |_| {
        start.dispatch(StartTotpSetup {
            current_password: String::new(),
        });
    });
    let skip = ServerAction::<Skip2faSetup>::new();
    let show_setup = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(next)) = skip.value().get() {
            go(&next);
        }
    });
    // 2FA became required while this session was open, long after its password: the password
    // is asked again before an authenticator can be added (the session may be a stolen one).
    let needs_password = move || {
        matches!(
            start.value().get(),
            Some(Err(AppError::Invalid { ref field, .. })) if field == "current_password"
        )
    };
    // Asked for the password once: a key added here is asked for it too.
    let stale = RwSignal::new(false);
    Effect::new(move |_| {
        if needs_password() {
            stale.set(true);
        }
    });
    // "Use a security key instead", or the key a "Require security keys" setup asks for.
    let with_key = RwSignal::new(false);
    let key_done: RwSignal<Option<SetupDone>> = RwSignal::new(None);
    let error = Signal::derive(move || {
        start
            .value()
            .get()
            .and_then(Result::err)
            .filter(|e| e.for_field("current_password").is_none())
            .or_else(|| skip.value().get().and_then(Result::err))
    });
    view! {
        <Title text="Set up two-factor authentication" />
        <section class="auth-card auth-card-wide" aria-labelledby="forced-title">
            <h1 id="forced-title">"Set up two-factor authentication"</h1>
            {move || match start.value().get() {
                Some(Ok(TotpSetup { grace: Some(grace), skippable: true, .. })) => view! {
                    <p class="lead">
                        {format!(
                            "Two-factor authentication is required for you from {}: {} left to set it up.",
                            format_utc(grace.until),
                            if grace.days_left == 1 { "1 day".to_string() } else { format!("{} days", grace.days_left) },
                        )}
                    </p>
                    <p class="hint">
                        "Until then you may continue without it, and you are asked again at each
                        sign-in. From then on every sign-in asks for a code from your authenticator app."
                    </p>
                    <p class="actions">
                        <button type="button" class="button-primary" on:click=move |_| show_setup.set(true)
                            hidden=move || show_setup.get()>
                            "Set up now"
                        </button>
                        <button type="button" class="button-quiet" on:click=move |_| { skip.dispatch(Skip2faSetup {}); }>
                            "Remind me next time"
                        </button>
                    </p>
                }.into_any(),
                Some(Ok(setup)) if setup.skippable => view! {
                    <p class="lead">
                        "Your two-factor authentication was reset. Set it up again with your
                        authenticator app, or skip it for now."
                    </p>
                    <p>
                        <button type="button" class="button-quiet" on:click=move |_| { skip.dispatch(Skip2faSetup {}); }>
                            "Skip for now"
                        </button>
                    </p>
                }.into_any(),
                Some(Ok(setup)) if setup.key_required => view! {
                    <p class="lead">
                        "Your account requires a security key (Require security keys). Add yours to
                        continue: a security key (YubiKey, Titan) or a passkey on this device."
                    </p>
                }.into_any(),
                Some(Ok(setup)) if setup.after_reset => view! {
                    <p class="lead">
                        "Your two-factor authentication was reset. Set it up again with your
                        authenticator app to continue."
                    </p>
                }.into_any(),
                _ => view! {
                    <p class="lead">
                        "Your account requires two-factor authentication. Set it up now to continue: from
                        then on every sign-in asks for a code from your authenticator app."
                    </p>
                }.into_any(),
            }}
            <FormAlert error />
            {move || match start.value().get() {
                // In a grace period the QR code waits for "Set up now".
                Some(Ok(TotpSetup { grace: Some(_), skippable: true, .. })) if !show_setup.get() => ().into_any(),
                Some(Ok(_)) if key_done.get().is_some() => {
                    let done = key_done.get().unwrap_or(SetupDone { next: None, recovery_codes: Vec::new() });
                    let next = done.next.clone();
                    view! {
                        <div class="alert alert-ok" role="status"><p>"Your security key is added."</p></div>
                        <RecoveryCodes codes=done.recovery_codes on_saved=move |_| go(next.as_deref().unwrap_or("/")) />
                    }.into_any()
                }
                Some(Ok(setup)) if setup.key_required || with_key.get() => {
                    if !setup.keys_available {
                        return view! {
                            <p class="alert alert-error" role="alert">
                                "Security keys are not available on this dashboard: its address must be a
                                domain name. Ask its operator."
                            </p>
                        }.into_any();
                    }
                    let key_required = setup.key_required;
                    view! {
                        <AddPanel ask_password=stale.get_untracked()
                            on_cancel=move |_| if !key_required { with_key.set(false) }
                            on_added=move |done: SetupDone| {
                                if done.recovery_codes.is_empty() {
                                    go(done.next.as_deref().unwrap_or("/"));
                                } else {
                                    key_done.set(Some(done));
                                }
                            } />
                    }.into_any()
                }
                Some(Ok(setup)) => {
                    let on_done = move |next: Option<String>| go(next.as_deref().unwrap_or("/"));
                    let keys_available = setup.keys_available;
                    view! {
                        <SetupPanel setup=setup on_done=on_done />
                        {keys_available.then(|| view! {
                            <p class="hint">
                                <button type="button" class="button-link" id="use-key-instead"
                                    on:click=move |_| with_key.set(true)>
                                    "Use a security key instead"
                                </button>
                            </p>
                        })}
                    }.into_any()
                }
                Some(Err(_)) if needs_password() => view! { <ConfirmPasswordPanel start /> }.into_any(),
                Some(Err(_)) => ().into_any(),
                None => view! { <p class="loading">"Preparing your QR code…"</p> }.into_any(),
            }}
            <div class="auth-footer"><SignOutButton /></div>
        </section>
    }
}
