//! "Sign out": ends the session on the server, then loads the sign-in page.

use super::go;
use crate::api::auth::SignOut;
use leptos::prelude::*;

#[component]
pub fn SignOutButton() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            go("/login");
        }
    });
    view! {
        <ActionForm action=sign_out attr:class="inline-form">
            <button type="submit" class="button-quiet">"Sign out"</button>
        </ActionForm>
    }
}
