//! Administration, for the super admin of the account.

use super::errors::error_page;
use crate::api::admin::get_account_overview;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdministrationPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_account_overview());
    view! {
        <Title text="Administration" />
        <h1>"Administration"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let o = match overview.await {
                    Ok(o) => o,
                    Err(e) => return error_page(e),
                };
                view! {
                    <p class="lead">{o.account_name.clone()}</p>
                    <div class="stats">
                        <div class="stat"><span class="stat-value">{o.admins}</span><span class="stat-label">"Admins"</span></div>
                        <div class="stat"><span class="stat-value">{o.active_admins}</span><span class="stat-label">"Active"</span></div>
                        <div class="stat"><span class="stat-value">{o.with_two_factor}</span><span class="stat-label">"With 2FA active"</span></div>
                    </div>
                }
                .into_any()
            })}
        </Suspense>
    }
}
