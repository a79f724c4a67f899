//! The header: brand, navigation for the signed-in admin, and "Sign out".

use super::{CurrentAdmin, go};
use crate::api::auth::SignOut;
use crate::api::types::Me;
use leptos::prelude::*;
use leptos_router::components::A;

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
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            go("/login");
        }
    });
    let is_super_admin = me.role.is_super_admin();
    view! {
        <nav class="main-nav" aria-label="Main">
            <A href="/" exact=true>"Dashboard"</A>
            {is_super_admin.then(|| view! { <A href="/admin">"Administration"</A> })}
            <A href="/profile">"Profile"</A>
        </nav>
        <div class="who">
            <span class="who-name">{me.name.clone()}</span>
            <span class="who-role">{me.role.label()}</span>
            <ActionForm action=sign_out attr:class="inline-form">
                <button type="submit" class="button-quiet">"Sign out"</button>
            </ActionForm>
        </div>
    }
}
