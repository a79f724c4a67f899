//! The required 2FA setup of a sign-in, when 2FA is enforced for the admin and not set up.

use super::errors::FormAlert;
use super::go;
use super::sign_out_button::SignOutButton;
use super::two_factor_card::{ConfirmPasswordPanel, SetupPanel};
use crate::api::auth::Skip2faSetup;
use crate::api::profile::StartTotpSetup;
use crate::domain::time::format_utc;
use crate::model::AppError;
use crate::model::types::TotpSetup;
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
                Some(Ok(setup)) => {
                    let on_done = move |next: Option<String>| go(next.as_deref().unwrap_or("/"));
                    view! { <SetupPanel setup=setup on_done=on_done /> }.into_any()
                }
                Some(Err(_)) if needs_password() => view! { <ConfirmPasswordPanel start /> }.into_any(),
                Some(Err(_)) => ().into_any(),
                None => view! { <p class="loading">"Preparing your QR code…"</p> }.into_any(),
            }}
            <div class="auth-footer"><SignOutButton /></div>
        </section>
    }
}
