//! The admin's profile: who they are and their two-factor authentication.

use super::client_only::ClientOnly;
use super::errors::error_page;
use super::loaded::load;
use super::password_card::PasswordCard;
use super::security_cards::{RecoveryCard, SessionsCard};
use super::security_keys_card::SecurityKeysCard;
use super::two_factor_card::TwoFactorCard;
use crate::api::profile::get_profile;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let profile = load(|| (), |_| get_profile());
    // Lives outside the Transition so it survives the refetch after a change.
    let notice: RwSignal<Option<String>> = RwSignal::new(None);
    view! {
        <Title text="Profile" />
        <h1>"Profile"</h1>
        <div role="status" class="notice-slot">
            {move || notice.get().map(|n| view! { <p class="alert alert-ok">{n}</p> })}
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let p = match profile.await {
                    Ok(p) => p,
                    Err(e) => return error_page(e),
                };
                let me = p.me.clone();
                let (totp_enabled, recovery_left) = (p.totp_enabled, p.recovery_codes_left);
                let has_keys = !p.security_keys.is_empty();
                let code_confirms = p.code_confirms;
                view! {
                    <div class="cards">
                        <section class="card" aria-labelledby="details-title">
                            <h2 id="details-title">"Your details"</h2>
                            <dl class="facts">
                                <dt>"Name"</dt><dd>{me.name}</dd>
                                <dt>"Email"</dt><dd>{me.email}</dd>
                                <dt>"Username"</dt><dd>{me.username}</dd>
                                <dt>"Role"</dt><dd>{me.role.label()}</dd>
                                <dt>"MSSP account"</dt><dd>{me.account_name}</dd>
                            </dl>
                        </section>
                        <TwoFactorCard
                            profile=p.clone()
                            on_change=move |message: String| {
                                notice.set(Some(message));
                                profile.refetch();
                            }
                        />
                        <SecurityKeysCard
                            profile=p
                            on_change=move |message: String| {
                                notice.set(Some(message));
                                profile.refetch();
                            }
                        />
                        {(totp_enabled || has_keys).then(|| view! {
                            <RecoveryCard left=recovery_left totp=code_confirms keys=has_keys on_change=move |message: String| {
                                notice.set(Some(message));
                                profile.refetch();
                            } />
                        })}
                        <PasswordCard on_change=move |message: String| notice.set(Some(message)) />
                        <ClientOnly><SessionsCard /></ClientOnly>
                    </div>
                }
                .into_any()
            })}
        </Transition>
    }
}
