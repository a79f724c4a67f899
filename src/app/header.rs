//! The header: brand, navigation for the signed-in admin, and "Sign out".

use super::CurrentAdmin;
use super::bell::Bell;
use super::client_only::ClientOnly;
use super::live::{LiveNotice, connect_live};
use super::pending_resets::{PendingBadge, provide_pending_resets};
use super::sign_out_button::SignOutButton;
use super::toasts::Toasts;
use crate::model::types::Me;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

#[component]
pub fn Header() -> impl IntoView {
    let me = expect_context::<CurrentAdmin>();
    view! {
        <header class="site-header">
            <div class="site-header-inner">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    "MSSP Dashboard"
                </a>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match me.await {
                            Ok(Some(me)) => view! { <SignedInNav me /> }.into_any(),
                            _ => ().into_any(),
                        }
                    })}
                </Transition>
            </div>
        </header>
    }
}

#[component]
fn SignedInNav(me: Me) -> impl IntoView {
    let is_super_admin = me.role.is_super_admin();
    if is_super_admin {
        // Reset requests and other account events arrive live on every page.
        connect_live();
        provide_pending_resets();
    }
    view! {
        <nav class="main-nav" aria-label="Main">
            <A href="/" exact=true>"Dashboard"</A>
            {is_super_admin.then(|| {
                // Current on every Administration page, not only Admin Management.
                let location = use_location();
                let current = move || location.pathname.get().starts_with("/admin").then_some("page");
                view! {
                    <a href="/admin/admins" aria-current=current>
                        "Administration"<ClientOnly><PendingBadge /></ClientOnly>
                    </a>
                }
            })}
            <A href="/profile">"Profile"</A>
        </nav>
        <div class="who">
            <ClientOnly><Bell /></ClientOnly>
            <span class="who-name">{me.name.clone()}</span>
            <span class="who-role">{me.role.label()}</span>
            <SignOutButton />
        </div>
        <ClientOnly><Toasts /></ClientOnly>
        {is_super_admin.then(|| view! { <ClientOnly><LiveNotice /></ClientOnly> })}
    }
}
