//! The landing page after sign-in.

use super::errors::error_page;
use super::loaded::load;
use crate::api::profile::get_profile;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let profile = load(|| (), |_| get_profile());
    view! {
        <Title text="Dashboard" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let profile = match profile.await {
                    Ok(p) => p,
                    Err(e) => return error_page(e),
                };
                let me = profile.me;
                let enabled = profile.totp_enabled || !profile.security_keys.is_empty();
                view! {
                    <h1>"Welcome, " {me.name.clone()}</h1>
                    <p class="lead">{format!("{} · {}", me.account_name, me.role.label())}</p>
                    <div class="cards">
                        <section class="card" aria-labelledby="security-title">
                            <h2 id="security-title">"Your sign-in security"</h2>
                            {if enabled {
                                view! {
                                    <p><span class="badge badge-ok">"2FA on"</span></p>
                                    <p>"Every sign-in asks for a code from your authenticator app."</p>
                                }.into_any()
                            } else {
                                view! {
                                    <p><span class="badge badge-warn">"2FA off"</span></p>
                                    <p>"Your account is protected by a password only. Attackers target MSSP admins: turn on two-factor authentication."</p>
                                    <p><a class="button-primary" href="/profile">"Enable Two-Factor Authentication"</a></p>
                                }.into_any()
                            }}
                        </section>
                        <section class="card" aria-labelledby="account-title">
                            <h2 id="account-title">"Your account"</h2>
                            <dl class="facts">
                                <dt>"MSSP account"</dt><dd>{me.account_name.clone()}</dd>
                                <dt>"Email"</dt><dd>{me.email.clone()}</dd>
                                <dt>"Username"</dt><dd>{me.username.clone()}</dd>
                            </dl>
                        </section>
                    </div>
                }
                .into_any()
            })}
        </Suspense>
    }
}
