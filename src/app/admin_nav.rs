//! The Administration section's own navigation.

use super::client_only::ClientOnly;
use super::pending_resets::PendingBadge;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn AdminNav() -> impl IntoView {
    view! {
        <nav class="sub-nav" aria-label="Administration">
            <A href="/admin/admins">"Admin Management"<ClientOnly><PendingBadge /></ClientOnly></A>
            <A href="/admin/settings">"Settings"</A>
            <A href="/admin/audit">"Audit log"</A>
        </nav>
    }
}
