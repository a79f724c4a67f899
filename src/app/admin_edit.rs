//! Administration → Admin Management → Edit: name, role, active, and "Enforce 2FA".

use super::admin_management::focus_id;
use super::admin_nav::AdminNav;
use super::errors::{FieldError, FormAlert, error_page, is_invalid};
use super::live::live_refresh;
use super::loaded::load;
use super::notice::{Notice, NoticeView};
use super::reset_decision::ResetDecision;
use crate::api::admin::{UnlockAdminSignIn, UpdateAdmin, get_admin};
use crate::api::resets::{NewSetupCode, list_reset_requests};
use crate::domain::admin_rules::ASSIGNABLE_ROLES;
use crate::domain::enforcement::{EnforcementSource, MAX_GRACE_DAYS, Rule, effective};
use crate::domain::role::Role;
use crate::domain::time::format_utc;
use crate::model::types::{AdminDetail, Grace, LiveEvent, ResetDecided, SetupCodeDue};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn EditAdminPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    // A request made or decided elsewhere shows here too, and the page catches up after a
    // reconnect.
    let refresh = live_refresh(|event| {
        matches!(
            event,
            LiveEvent::ResetRequested { .. } | LiveEvent::ResetResolved { .. }
        )
    });
    let reload = RwSignal::new(0u64);
    let admin = load(
        move || (id(), refresh.get(), reload.get()),
        |(id, _, _)| get_admin(id),
    );
    let notice: RwSignal<Option<Notice>> = RwSignal::new(None);
    let told = Callback::new(move |told: Notice| {
        notice.set(Some(told));
        reload.update(|n| *n += 1);
        request_animation_frame(|| focus_id("edit-notice"));
    });
    view! {
        <Title text="Edit admin · Administration" />
        <h1>"Administration"</h1>
        <AdminNav />
        <p><A href="/admin/admins">"← Admin Management"</A></p>
        <div role="status" class="notice-slot" id="edit-notice" tabindex="-1">
            {move || notice.get().map(|notice| view! { <NoticeView notice /> })}
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match admin.await {
                    Ok(detail) => {
                        let admin_id = detail.row.id;
                        let pending = detail.row.reset_request.clone().map(|p| view! {
                            <section class="card narrow card-pending" aria-labelledby="pending-title">
                                <h2 id="pending-title">"Pending 2FA reset request"</h2>
                                <p>
                                    {format!(
                                        "{} asked for a reset of their two-factor authentication. \
                                         Open it to see who asked, from where, and what the audit \
                                         log says, before you decide.",
                                        detail.row.name
                                    )}
                                </p>
                                <ResetDecision
                                    request_id=p.request_id
                                    requested_at=p.requested_at
                                    name=detail.row.name.clone()
                                    on_decided=move |d: ResetDecided| told.run(d.into())
                                />
                            </section>
                        });
                        let detail_for_code = detail.clone();
                        view! {
                            {pending}
                            <EditForm detail on_saved=move |_| told.run(String::from("Saved.").into()) />
                            <UnlockCard admin_id on_done=move |m: String| told.run(m.into()) />
                            <SetupCodeCard detail=detail_for_code on_issued=told />
                            <ResetHistory admin_id />
                        }
                        .into_any()
                    }
                    Err(e) => error_page(e),
                }
            })}
        </Transition>
    }
}

/// After a reset, before the admin has set 2FA up again: whether their next sign-in asks for a
/// setup code, and "New setup code" when the first was lost or ran out.
#[component]
fn SetupCodeCard(detail: AdminDetail, #[prop(into)] on_issued: Callback<Notice>) -> impl IntoView {
    let Some(due) = detail.setup_code_due.filter(|_| !detail.is_self) else {
        return ().into_any();
    };
    let admin_id = detail.row.id;
    let name = detail.row.name.clone();
    let issue = ServerAction::<NewSetupCode>::new();
    let error = Signal::derive(move || issue.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(done)) = issue.value().get() {
            on_issued.run(done.into());
        }
    });
    let state = match due {
        SetupCodeDue::Valid { expires_at } => format!(
            "{name}'s two-factor authentication was reset. Their next sign-in asks for the setup \
             code you gave them (valid until {}).",
            format_utc(expires_at)
        ),
        SetupCodeDue::Expired { expires_at } => format!(
            "The setup code of {name} expired on {}: they cannot sign in until you give them a \
             new one.",
            format_utc(expires_at)
        ),
        SetupCodeDue::None => format!(
            "{name}'s two-factor authentication was reset and they have not set it up again; \
             their sign-in asks for their password alone. A setup code makes it ask for the code \
             you give them too."
        ),
    };
    view! {
        <section class="card narrow" aria-labelledby="setup-code-title">
            <h2 id="setup-code-title">"Setup code"</h2>
            <p>{state}</p>
            <FormAlert error />
            <button type="button" class="button-quiet" disabled=move || issue.pending().get()
                on:click=move |_| { issue.dispatch(NewSetupCode { admin_id }); }>
                "New setup code"
            </button>
        </section>
    }
    .into_any()
}

/// "Unlock sign-in from new browsers", for when a stranger's guesses keep them locked.
#[component]
fn UnlockCard(admin_id: i64, #[prop(into)] on_done: Callback<String>) -> impl IntoView {
    let unlock = ServerAction::<UnlockAdminSignIn>::new();
    let error = Signal::derive(move || unlock.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(())) = unlock.value().get() {
            on_done.run(
                "Sign-in from new browsers is unlocked. Their known browsers were never locked."
                    .into(),
            );
        }
    });
    view! {
        <section class="card narrow" aria-labelledby="unlock-title">
            <h2 id="unlock-title">"Sign-in from new browsers"</h2>
            <p class="hint">
                "Repeated wrong passwords or codes from browsers this admin never signed in on
                lock only those browsers, for a while. If they need a new browser now (after you
                made sure it is really them), unlock it."
            </p>
            <FormAlert error />
            <button type="button" class="button-quiet" disabled=move || unlock.pending().get()
                on:click=move |_| { unlock.dispatch(UnlockAdminSignIn { id: admin_id }); }>
                "Unlock sign-in from new browsers"
            </button>
        </section>
    }
}

/// What a grace period field says: what the days mean, and the deadline running now.
pub fn grace_hint(grace: Option<Grace>) -> String {
    let meaning = "0: required at the next sign-in. Until the grace period ends, an admin \
                   without 2FA is asked at each sign-in and may continue without it.";
    match grace {
        Some(g) => format!(
            "{meaning} Now: set up by {} ({} days left); saving the same days keeps that date.",
            format_utc(g.until),
            g.days_left
        ),
        None => meaning.to_string(),
    }
}

/// "Enforce 2FA" as the form holds it: the admin's own value or the account setting.
fn mode_of(value: Option<bool>) -> &'static str {
    match value {
        None => "account",
        Some(true) => "on",
        Some(false) => "off",
    }
}

#[component]
fn EditForm(detail: AdminDetail, #[prop(into)] on_saved: Callback<()>) -> impl IntoView {
    let row = detail.row.clone();
    let account_force = detail.account_force_2fa;
    let active = RwSignal::new(row.active);
    let mode = RwSignal::new(mode_of(detail.enforce_2fa));
    let own_value = move || match mode.get() {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    };
    let rule = |on| Rule { on, deadline: None };
    let enforced = move || effective(rule(account_force), own_value().map(rule)).enforced;
    let applies = move || match effective(rule(account_force), own_value().map(rule)).source {
        EnforcementSource::Account => format!(
            "Applies: the account setting. \"Force two-factor authentication\" is {}.",
            if account_force { "on" } else { "off" }
        ),
        EnforcementSource::Admin => {
            "Applies: set for this admin, whatever the account setting.".to_string()
        }
    };

    let grace_days = detail.grace.map_or(0, |g| g.days_left);
    let grace_hint = grace_hint(detail.grace);

    let save = ServerAction::<UpdateAdmin>::new();
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            on_saved.run(());
        }
    });
    let pending = save.pending();
    let roles: Vec<Role> = if row.role == Role::SuperAdmin {
        vec![Role::SuperAdmin, Role::Admin, Role::SubAdmin]
    } else {
        ASSIGNABLE_ROLES.to_vec()
    };
    let current_role = row.role;
    let two_factor = if row.two_factor_active {
        "Active"
    } else {
        "Not set up"
    };
    let last = row
        .last_sign_in_at
        .map_or_else(|| "Never".to_string(), format_utc);
    view! {
        <section class="card narrow" aria-labelledby="edit-title">
            <h2 id="edit-title">{format!("Edit {}", row.name)}</h2>
            <dl class="facts">
                <dt>"Email"</dt><dd>{row.email.clone()}</dd>
                <dt>"Username"</dt><dd>{row.username.clone()}</dd>
                <dt>"2FA Activation"</dt><dd>{two_factor}</dd>
                <dt>"Last sign-in"</dt><dd>{last}</dd>
            </dl>
            {detail.is_self.then(|| view! { <p class="hint">"This is you."</p> })}
            <FormAlert error />
            <ActionForm action=save>
                <input type="hidden" name="id" value=row.id />
                <input type="hidden" name="active" prop:value=move || active.get().to_string() />
                <input type="hidden" name="enforce_2fa" prop:value=move || mode.get() />
                <div class="field">
                    <label for="edit-name">"Name"</label>
                    <input id="edit-name" name="name" type="text" value=row.name.clone() required maxlength="100"
                        aria-invalid=is_invalid(error, "name") aria-describedby="edit-name-error" />
                    <FieldError id="edit-name-error" field="name" error />
                </div>
                <div class="field">
                    <label for="edit-role">"Role"</label>
                    <select id="edit-role" name="role" aria-invalid=is_invalid(error, "role") aria-describedby="edit-role-error">
                        {roles.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=r == current_role>{r.label()}</option>
                        }).collect_view()}
                    </select>
                    <FieldError id="edit-role-error" field="role" error />
                </div>
                <div class="check-row">
                    <input type="checkbox" id="edit-active" prop:checked=move || active.get()
                        on:change=move |ev| active.set(event_target_checked(&ev)) />
                    <label for="edit-active">"Active"</label>
                </div>
                <p class="hint">"An inactive admin cannot sign in; their sessions end when you save."</p>
                <fieldset class="enforce">
                    <legend>"Two-factor authentication"</legend>
                    <div class="switch-row">
                        <input type="checkbox" role="switch" id="edit-enforce" class="switch"
                            prop:checked=enforced
                            on:change=move |ev| mode.set(if event_target_checked(&ev) { "on" } else { "off" })
                            aria-describedby="enforce-applies" />
                        <label for="edit-enforce">"Enforce 2FA"</label>
                    </div>
                    <p class="hint" id="enforce-applies">{applies}</p>
                    <div class="field" hidden=move || mode.get() != "on">
                        <label for="edit-grace">"Grace period (days)"</label>
                        <input id="edit-grace" name="grace_days" type="number" min="0" max=MAX_GRACE_DAYS
                            step="1" inputmode="numeric" value=grace_days
                            aria-invalid=is_invalid(error, "grace_days")
                            aria-describedby="edit-grace-hint edit-grace-error" />
                        <input type="hidden" name="grace_shown" value=grace_days />
                        <p class="hint" id="edit-grace-hint">{grace_hint}</p>
                        <FieldError id="edit-grace-error" field="grace_days" error />
                    </div>
                    <button type="button" class="button-quiet button-small"
                        hidden=move || mode.get() == "account"
                        on:click=move |_| mode.set("account")>
                        "Use account setting"
                    </button>
                </fieldset>
                <div class="actions">
                    <button type="submit" class="button-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

/// The admin's 2FA reset requests, newest first.
#[component]
fn ResetHistory(admin_id: i64) -> impl IntoView {
    let history = load(move || admin_id, list_reset_requests);
    view! {
        <section class="card narrow" aria-labelledby="history-title">
            <h2 id="history-title">"2FA reset requests"</h2>
            <Transition fallback=|| ()>
                {move || history.get().map(|result| match result {
                    Ok(items) if items.is_empty() => view! { <p class="hint">"None."</p> }.into_any(),
                    Ok(items) => view! {
                        <div class="table-wrap">
                            <table class="admin-table">
                                <thead><tr>
                                    <th scope="col">"Requested"</th>
                                    <th scope="col">"From"</th>
                                    <th scope="col">"Outcome"</th>
                                    <th scope="col">"By"</th>
                                    <th scope="col">"When"</th>
                                </tr></thead>
                                <tbody>
                                    {items.into_iter().map(|r| view! {
                                        <tr>
                                            <td class="cell-time" data-label="Requested">{format_utc(r.requested_at)}</td>
                                            <td data-label="From">{r.requested_ip.unwrap_or_default()}</td>
                                            <td data-label="Outcome">
                                                {r.status.label()}
                                                {r.reason.map(|reason| view! { <span class="hint reason">{format!("“{reason}”")}</span> })}
                                            </td>
                                            <td data-label="By">{r.decided_by.unwrap_or_default()}</td>
                                            <td class="cell-time" data-label="When">{r.decided_at.map(format_utc).unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p class="hint">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}
