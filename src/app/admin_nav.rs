//! The Administration section's own navigation.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn AdminNav() -> impl IntoView {
    view! {
        <nav class="sub-nav" aria-label="Administration">
            <A href="/admin/admins">"Admin Management"</A>
            <A href="/admin/settings">"Settings"</A>
            <A href="/admin/audit">"Audit log"</A>
        </nav>
    }
}
