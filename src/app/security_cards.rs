//! Profile cards: recovery codes left (and new ones), and the admin's active sessions.

use super::errors::{FieldError, FormAlert, is_invalid};
use super::recovery_codes::RecoveryCodes;
use crate::api::profile::{
    EndOtherSessions, EndSession, ForgetRememberedBrowser, RegenerateRecoveryCodes,
    list_remembered_browsers, list_sessions, regenerate_recovery_codes,
};
use crate::domain::time::format_utc;
use leptos::prelude::*;

#[component]
pub fn RecoveryCard(
    left: i64,
    /// A code from the app confirms (the admin has it, and no key is required of them); a key
    /// confirms (the admin has keys).
    totp: bool,
    keys: bool,
    #[prop(into)] on_change: Callback<String>,
) -> impl IntoView {
    let regenerate = ServerAction::<RegenerateRecoveryCodes>::new();
    // Confirmed with a security key instead: asked in the browser, then the same call.
    let with_key = Action::new_local(move |_: &()| async move {
        let credential = super::webauthn::confirm_with_key().await?;
        regenerate_recovery_codes(None, Some(credential)).await
    });
    let result = move || with_key.value().get().or_else(|| regenerate.value().get());
    let error = Signal::derive(move || result().and_then(Result::err));
    let open = RwSignal::new(false);
    let pending = Signal::derive(move || regenerate.pending().get() || with_key.pending().get());
    view! {
        <section class="card" aria-labelledby="recovery-card-title">
            <h2 id="recovery-card-title">"Recovery codes"</h2>
            <p>
                <strong data-testid="recovery-left">{left}</strong>
                " of 10 recovery codes left. Each signs you in once if you lose your phone."
            </p>
            {move || match result() {
                Some(Ok(codes)) => view! {
                    <RecoveryCodes codes on_saved=move |_| {
                        on_change.run("New recovery codes saved. The old ones no longer work.".to_string());
                    } />
                }.into_any(),
                _ => view! {
                    <button type="button" class="button-quiet" hidden=move || open.get()
                        on:click=move |_| open.set(true)>"Get new recovery codes"</button>
                    <div hidden=move || !open.get()>
                        <FormAlert error />
                        <FieldError id="regenerate-credential-error" field="credential" error />
                        {keys.then(|| view! {
                            <p>
                                <button type="button" class="button-primary" disabled=move || pending.get()
                                    on:click=move |_| { with_key.dispatch(()); }>
                                    "Confirm with a security key"
                                </button>
                            </p>
                        })}
                        <ActionForm action=regenerate attr:hidden=!totp>
                            <div class="field">
                                <label for="regenerate-code">"2FA security code"</label>
                                <input id="regenerate-code" name="code" type="text" class="code-input"
                                    inputmode="numeric" autocomplete="one-time-code" maxlength="9" required
                                    aria-invalid=is_invalid(error, "code") aria-describedby="regenerate-hint regenerate-error" />
                                <p class="hint" id="regenerate-hint">"New codes replace all the old ones."</p>
                                <FieldError id="regenerate-error" field="code" error />
                            </div>
                            <button type="submit" class="button-primary" disabled=move || pending.get()>
                                "Create new codes"
                            </button>
                        </ActionForm>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
pub fn SessionsCard() -> impl IntoView {
    let end_one = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let sessions = LocalResource::new(move || {
        // Tracked to fetch again after a sign-out; `try_get` because on the server this may
        // run after the page's reactive owner is gone.
        let _ = (end_one.version().try_get(), end_others.version().try_get());
        list_sessions()
    });
    let error = Signal::derive(move || {
        end_one
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| end_others.value().get().and_then(Result::err))
    });
    view! {
        <section class="card" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Where you are signed in"</h2>
            <FormAlert error />

                {move || sessions.try_get().flatten().is_none().then(|| view! { <p class="loading">"Loading…"</p> })}
                {move || sessions.try_get().flatten().map(|result| match result {
                    Ok(list) => {
                        let others = list.iter().filter(|s| !s.current).count();
                        view! {
                            <ul class="session-list">
                                {list.into_iter().map(|s| {
                                    let handle = s.handle.clone();
                                    let label = format!("Sign out {} ({})", s.device, s.address.clone().unwrap_or_default());
                                    view! {
                                        <li>
                                            <div>
                                                <strong>{s.device.clone()}</strong>
                                                {s.current.then(|| view! { " " <span class="badge badge-ok">"This browser"</span> })}
                                                <p class="hint">
                                                    {format!("{} · signed in {} · last seen {}",
                                                        s.address.clone().unwrap_or_else(|| "unknown address".into()),
                                                        format_utc(s.signed_in_at), format_utc(s.last_seen_at))}
                                                </p>
                                            </div>
                                            {(!s.current).then(|| view! {
                                                <button type="button" class="button-quiet button-small" aria-label=label
                                                    on:click=move |_| { end_one.dispatch(EndSession { handle: handle.clone() }); }>
                                                    "Sign out"
                                                </button>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            {(others > 0).then(|| view! {
                                <button type="button" class="button-quiet"
                                    on:click=move |_| { end_others.dispatch(EndOtherSessions {}); }>
                                    "Sign out all other sessions"
                                </button>
                            })}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="hint">{e.to_string()}</p> }.into_any(),
                })}
            <RememberedBrowsers ended_others=end_others.version() />
        </section>
    }
}

/// The browsers that skip the code ("Don't ask for a code on this browser"), each forgotten
/// with one click. Shown only when there are some.
#[component]
fn RememberedBrowsers(#[prop(into)] ended_others: Signal<usize>) -> impl IntoView {
    let forget = ServerAction::<ForgetRememberedBrowser>::new();
    let remembered = LocalResource::new(move || {
        let _ = (forget.version().try_get(), ended_others.try_get());
        list_remembered_browsers()
    });
    let error = Signal::derive(move || forget.value().get().and_then(Result::err));
    move || {
        let list = remembered.try_get().flatten().and_then(Result::ok)?;
        (!list.is_empty()).then(|| view! {
            <h3 id="remembered-title">"Remembered browsers"</h3>
            <p class="hint">
                "These browsers are not asked for a code, only the password, until the date shown.
                Turning two-factor authentication off, a new password or \"Sign out all other
                sessions\" forgets them all."
            </p>
            <FormAlert error />
            <ul class="remembered-list" aria-labelledby="remembered-title">
                {list.into_iter().map(|r| {
                    let handle = r.handle.clone();
                    let address = r.address.clone().unwrap_or_else(|| "unknown address".into());
                    let label = format!("Forget {} ({address})", r.device);
                    view! {
                        <li>
                            <div>
                                <strong>{r.device.clone()}</strong>
                                {r.current.then(|| view! { " " <span class="badge badge-ok">"This browser"</span> })}
                                <p class="hint">
                                    {format!("{address} · remembered {} · no code asked until {} · last used {}",
                                        format_utc(r.remembered_at), format_utc(r.until),
                                        r.last_used_at.map_or_else(|| "never".to_string(), format_utc))}
                                </p>
                            </div>
                            <button type="button" class="button-quiet button-small" aria-label=label
                                on:click=move |_| { forget.dispatch(ForgetRememberedBrowser { handle: handle.clone() }); }>
                                "Forget"
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })
    }
}
