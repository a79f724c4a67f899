//! A pending "Request 2FA Reset": the yellow badge with Reset and Deny, each opening a
//! confirmation dialog that shows the evidence before anything irreversible happens.

use super::errors::{FieldError, FormAlert, is_invalid};
use crate::api::resets::{Approve2faReset, Deny2faReset, get_reset_review};
use crate::domain::time::format_utc;
use crate::model::AppError;
use crate::model::types::{ResetDecided, ResetReview};

use leptos::prelude::*;

/// Which button opened the dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Reset,
    Deny,
}

/// The badge, its time and its two buttons. `on_decided` gets what happens next, in words.
#[component]
pub fn ResetDecision(
    request_id: i64,
    requested_at: i64,
    name: String,
    #[prop(into)] on_decided: Callback<ResetDecided>,
) -> impl IntoView {
    let open: RwSignal<Option<Mode>> = RwSignal::new(None);
    let reset_label = format!("Reset 2FA of {name}");
    let deny_label = format!("Deny 2FA reset of {name}");
    view! {
        <div class="reset-badge">
            <span class="badge badge-reset">"Reset requested"</span>
            <span class="hint">{format_utc(requested_at)}</span>
            <span class="reset-actions">
                <button type="button" class="button-danger button-small" aria-label=reset_label
                    aria-haspopup="dialog"
                    on:click=move |_| open.set(Some(Mode::Reset))>
                    "Reset"
                </button>
                <button type="button" class="button-quiet button-small" aria-label=deny_label
                    aria-haspopup="dialog"
                    on:click=move |_| open.set(Some(Mode::Deny))>
                    "Deny"
                </button>
            </span>
            {move || open.get().map(|mode| view! {
                <ReviewDialog
                    request_id
                    mode
                    on_close=move |_| open.set(None)
                    on_decided=move |decided: ResetDecided| {
                        open.set(None);
                        on_decided.run(decided);
                    }
                />
            })}
        </div>
    }
}

/// A modal `<dialog>` (focus stays inside, Escape cancels): who asked, when, from where, what
/// the evidence says, and the reminder to confirm the person's identity another way.
#[component]
fn ReviewDialog(
    request_id: i64,
    mode: Mode,
    #[prop(into)] on_close: Callback<()>,
    #[prop(into)] on_decided: Callback<ResetDecided>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    // Opened as a modal once in the page: the rest of the page is inert meanwhile.
    Effect::new(move |_| {
        if let Some(dialog) = dialog.get()
            && !dialog.open()
        {
            let _ = dialog.show_modal();
        }
    });
    let review = LocalResource::new(move || get_reset_review(request_id));
    let approve = ServerAction::<Approve2faReset>::new();
    let deny = ServerAction::<Deny2faReset>::new();
    let require_setup = RwSignal::new(true);
    let reason = RwSignal::new(String::new());
    let decided = Signal::derive(move || approve.value().get().or_else(|| deny.value().get()));
    Effect::new(move |_| {
        if let Some(Ok(done)) = decided.get() {
            on_decided.run(done);
        }
    });
    let error: Signal<Option<AppError>> =
        Signal::derive(move || decided.get().and_then(Result::err));
    let busy = move || approve.pending().get() || deny.pending().get();
    let title = match mode {
        Mode::Reset => "Reset two-factor authentication?",
        Mode::Deny => "Deny the 2FA reset request?",
    };
    view! {
        <dialog
            node_ref=dialog
            class="review-dialog"
            role="alertdialog"
            aria-modal="true"
            aria-labelledby="review-title"
            aria-describedby="review-evidence"
            // Escape: the browser closes the dialog; say so to the owner.
            on:cancel=move |_: leptos::ev::Event| on_close.run(())
        >
            <h2 id="review-title">{title}</h2>
            <div id="review-evidence">
                {move || match review.get() {
                    None => view! { <p class="loading">"Loading the request…"</p> }.into_any(),
                    Some(Err(e)) => view! {
                        <div class="alert alert-error" role="alert"><p>{e.to_string()}</p></div>
                    }.into_any(),
                    Some(Ok(r)) => view! { <Evidence review=r mode /> }.into_any(),
                }}
            </div>
            <FormAlert error />
            {match mode {
                Mode::Reset => view! {
                    <div class="check-row">
                        <input type="checkbox" id="review-require-setup"
                            prop:checked=move || require_setup.get()
                            on:change=move |ev| require_setup.set(event_target_checked(&ev)) />
                        <label for="review-require-setup">
                            "Require the setup of two-factor authentication at their next sign-in"
                        </label>
                    </div>
                    <p class="hint">
                        "Unchecked, the setup is only offered: they may skip it (the table shows it
                        if they do) and sign in with their password alone meanwhile."
                    </p>
                    <p class="hint">
                        "You then see a setup code to give them by phone or in person: their next
                        sign-in asks for it, so knowing their password alone is not enough."
                    </p>
                }.into_any(),
                Mode::Deny => view! {
                    <div class="field">
                        <label for="review-reason">"Reason (optional; they see it)"</label>
                        <textarea id="review-reason" rows="3" maxlength="500"
                            aria-invalid=is_invalid(error, "reason")
                            aria-describedby="review-reason-error"
                            prop:value=move || reason.get()
                            on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                        <FieldError id="review-reason-error" field="reason" error />
                    </div>
                }.into_any(),
            }}
            <div class="actions">
                {match mode {
                    Mode::Reset => view! {
                        <button type="button" class="button-danger" disabled=busy
                            on:click=move |_| {
                                approve.dispatch(Approve2faReset {
                                    request_id,
                                    require_setup: Some(require_setup.get_untracked()),
                                });
                            }>
                            {move || if approve.pending().get() { "Resetting…" } else { "Reset 2FA" }}
                        </button>
                    }.into_any(),
                    Mode::Deny => view! {
                        <button type="button" class="button-primary" disabled=busy
                            on:click=move |_| {
                                deny.dispatch(Deny2faReset {
                                    request_id,
                                    reason: Some(reason.get_untracked()),
                                });
                            }>
                            {move || if deny.pending().get() { "Denying…" } else { "Deny request" }}
                        </button>
                    }.into_any(),
                }}
                <button type="button" class="button-quiet" autofocus
                    on:click=move |_| {
                        if let Some(dialog) = dialog.get_untracked() {
                            dialog.close();
                        }
                        on_close.run(());
                    }>
                    "Cancel"
                </button>
            </div>
        </dialog>
    }
}

/// What the request and the audit log say about who asked.
#[component]
fn Evidence(review: ResetReview, mode: Mode) -> impl IntoView {
    let name = review.admin_name.clone();
    let address = review
        .requested_ip
        .clone()
        .unwrap_or_else(|| "an unknown address".into());
    let browser = if review.from_known_browser {
        view! {
            <li class="evidence-ok">
                {format!("The request came from a browser that has signed in as {name} before.")}
            </li>
        }
        .into_any()
    } else {
        view! {
            <li class="evidence-warn">
                {format!("The request came from a browser that has never signed in as {name}.")}
            </li>
        }
        .into_any()
    };
    let seen = match (
        review.sign_ins_from_address,
        review.last_sign_in_from_address,
    ) {
        (0, _) | (_, None) => view! {
            <li class="evidence-warn">{format!("{name} has never signed in from {address}.")}</li>
        }
        .into_any(),
        (n, Some(last)) => view! {
            <li class="evidence-ok">
                {format!(
                    "{name} signed in from {address} {n} time{} before, last on {}.",
                    if n == 1 { "" } else { "s" },
                    format_utc(last)
                )}
            </li>
        }
        .into_any(),
    };
    view! {
        <dl class="review-facts">
            <dt>"Who asked"</dt>
            <dd>{format!("{} ({})", review.admin_name, review.admin_email)}</dd>
            <dt>"When"</dt>
            <dd>{format_utc(review.requested_at)}</dd>
            <dt>"From"</dt>
            <dd>
                {address.clone()}
                {review.device.clone().map(|d| format!(" · {d}"))}
            </dd>
        </dl>
        <ul class="evidence">{browser}{seen}</ul>
        {(mode == Mode::Reset).then(|| view! {
            <div class="alert alert-warn" role="note">
                <p>
                    <strong>"Before you reset: "</strong>
                    {format!(
                        "confirm it is really {name} in another way, for example by calling them \
                         back on a number you already know. Whoever asked knows their password; \
                         the reset removes their authenticator app, security keys and recovery \
                         codes and signs out all their sessions."
                    )}
                </p>
            </div>
        })}
    }
}
