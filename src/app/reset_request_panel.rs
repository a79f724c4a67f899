//! "Request 2FA Reset" under the code field of sign-in, and what became of the request.

use super::live::{connect_live, use_live};
use super::loaded::load;
use crate::api::resets::{Request2faReset, Withdraw2faReset, get_reset_request_state};
use crate::domain::reset::RequestStatus;
use crate::domain::time::format_utc;
use crate::model::types::{LiveEvent, ResetRequestState};
use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq)]
enum Shown {
    Nothing,
    Pending {
        requested_at: i64,
        just_now: bool,
        by_email: bool,
    },
    Denied {
        decided_at: Option<i64>,
        reason: Option<String>,
    },
    /// The requester is the account's only super admin: nobody can decide a request.
    NobodyCanApprove,
    Expired {
        requested_at: i64,
    },
    Withdrawn,
    Approved,
    Failed(String),
}

#[component]
pub fn ResetRequestPanel(
    /// What the admin may have lost: "Lost your …?".
    #[prop(into)]
    lost: Signal<&'static str>,
) -> impl IntoView {
    // Tells this page live when the super admin decides.
    connect_live();
    let initial = load(|| (), |_| get_reset_request_state());
    view! {
        <div class="reset-request">
            <p class="hint">{move || format!("Lost your {}?", lost.get())}</p>
            // The server waits for the request's state, so the page arrives (and hydrates)
            // with the right button and message.
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let initial = initial.await.ok();
                    view! { <RequestControls initial /> }
                })}
            </Transition>
        </div>
    }
}

/// The button and what became of the request, from the state at page load onwards.
#[component]
fn RequestControls(initial: Option<ResetRequestState>) -> impl IntoView {
    let live = use_live();
    let request = ServerAction::<Request2faReset>::new();
    let withdraw = ServerAction::<Withdraw2faReset>::new();
    // Which of the two actions spoke last.
    let withdrawn_last = RwSignal::new(false);
    let shown = Memo::new(move |_| {
        if let Some((_, LiveEvent::ResetResolved { status, reason, .. })) = live.0.get() {
            match status {
                RequestStatus::Approved => return Shown::Approved,
                RequestStatus::Denied => {
                    return Shown::Denied {
                        decided_at: None,
                        reason,
                    };
                }
                _ => {}
            }
        }
        if withdrawn_last.get() {
            match withdraw.value().get() {
                Some(Ok(_)) => return Shown::Withdrawn,
                Some(Err(e)) => return Shown::Failed(e.to_string()),
                None => {}
            }
        }
        match request.value().get() {
            Some(Ok(ResetRequestState::Pending {
                requested_at,
                by_email,
            })) => {
                return Shown::Pending {
                    requested_at,
                    just_now: true,
                    by_email,
                };
            }
            Some(Ok(ResetRequestState::NobodyCanApprove)) => return Shown::NobodyCanApprove,
            Some(Err(e)) => return Shown::Failed(e.to_string()),
            _ => {}
        }
        match initial.clone() {
            Some(ResetRequestState::Pending {
                requested_at,
                by_email,
            }) => Shown::Pending {
                requested_at,
                just_now: false,
                by_email,
            },
            Some(ResetRequestState::Denied { decided_at, reason }) => Shown::Denied {
                decided_at: Some(decided_at),
                reason,
            },
            Some(ResetRequestState::Expired { requested_at }) => Shown::Expired { requested_at },
            _ => Shown::Nothing,
        }
    });
    let can_request = move || {
        matches!(
            shown.get(),
            Shown::Nothing
                | Shown::Failed(_)
                | Shown::NobodyCanApprove
                | Shown::Denied { .. }
                | Shown::Expired { .. }
                | Shown::Withdrawn
        )
    };
    let pending = request.pending();
    let withdrawing = withdraw.pending();
    view! {
        <button
            type="button"
            class="button-quiet"
            disabled=move || pending.get() || !can_request()
            on:click=move |_| {
                // A new request: an earlier outcome (a denial) no longer applies.
                live.0.set(None);
                withdrawn_last.set(false);
                request.dispatch(Request2faReset {});
            }
        >
            "Request 2FA Reset"
        </button>
        {move || {
            match shown.get() {
                Shown::Nothing => ().into_any(),
                Shown::Pending { requested_at, just_now, by_email } => view! {
                    <div class="alert alert-info" role="status">
                        <p>
                            {if just_now { "Your super admin has been notified." } else { "Your 2FA reset request is waiting for your super admin." }}
                            {format!(" (requested {})", format_utc(requested_at))}
                        </p>
                        <p>
                            "Once they reset your two-factor authentication, sign in with your password
                            and set up your authenticator app again."
                        </p>
                        <p>
                            "This page shows their decision while it stays open (for up to 5 minutes)."
                            {if by_email {
                                " You will also get an email with the decision, so you can close it."
                            } else {
                                " Otherwise you see it when you sign in again."
                            }}
                        </p>
                        <button
                            type="button"
                            class="button-quiet"
                            disabled=move || withdrawing.get()
                            on:click=move |_| {
                                withdrawn_last.set(true);
                                withdraw.dispatch(Withdraw2faReset {});
                            }
                        >
                            "Withdraw request"
                        </button>
                    </div>
                }.into_any(),
                Shown::NobodyCanApprove => view! {
                    <div class="alert alert-error" role="alert">
                        <p>
                            "No request was sent: you are the only super admin of your account, so
                            nobody else could approve it."
                        </p>
                        <p>
                            "Sign in with one of the recovery codes you saved when you set up 2FA
                            (\"Use a recovery code instead\" above). Without them, the operator of
                            this dashboard can reset your 2FA with "<code>"mssp-dashboard reset-2fa"</code>"."
                        </p>
                    </div>
                }.into_any(),
                Shown::Withdrawn => view! {
                    <div class="alert alert-info" role="status">
                        <p>"You withdrew your 2FA reset request. Your super admin no longer sees it."</p>
                    </div>
                }.into_any(),
                Shown::Expired { requested_at } => view! {
                    <div class="alert alert-error" role="alert">
                        <p>
                            {format!("Your 2FA reset request of {} expired: nobody decided it in time. ", format_utc(requested_at))}
                            "You can ask again."
                        </p>
                    </div>
                }.into_any(),
                Shown::Approved => view! {
                    <div class="alert alert-ok" role="status">
                        <p>"Your super admin reset your two-factor authentication."</p>
                        <p>
                            <a href="/login" rel="external">"Sign in again"</a>
                            " with your password and the setup code they give you by phone or in
                            person, to set it up again."
                        </p>
                    </div>
                }.into_any(),
                Shown::Denied { decided_at, reason } => view! {
                    <div class="alert alert-error" role="alert">
                        <p>
                            "Your super admin denied your 2FA reset request"
                            {decided_at.map(|t| format!(" ({})", format_utc(t)))}
                            ". Contact them if you still cannot use your authenticator app."
                        </p>
                        {reason.map(|r| view! { <p>"Their reason: "{r}</p> })}
                    </div>
                }.into_any(),
                Shown::Failed(message) => view! {
                    <div class="alert alert-error" role="alert"><p>{message}</p></div>
                }.into_any(),
            }
        }}
    }
}
