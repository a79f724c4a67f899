//! The user interface: the HTML shell, the router, and one file per page or widget.

mod add_admin_form;
mod admin_edit;
mod admin_management;
mod admin_nav;
mod admin_settings;
mod audit_log;
mod bell;
mod client_only;
mod code_step;
mod dashboard;
mod errors;
mod forced_setup;
mod header;
mod live;
mod loaded;
mod new_password;
mod not_found;
mod notice;
mod password_card;
mod pending_resets;
mod profile;
mod recovery_codes;
mod reset_decision;
mod reset_request_panel;
mod security_cards;
mod security_keys_card;
mod setup_code_step;
mod sign_in;
mod sign_out_button;
mod toasts;
mod two_factor_card;
mod two_factor_chart;
mod webauthn;

use crate::api::auth::current_admin;
use crate::model::AppError;
use crate::model::types::Me;
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, lazy_route, path};
use loaded::{Loaded, load};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // Named by content hash in release builds (`hash-files`), kept by browsers.
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The signed-in admin, loaded once per page load for the header and the pages.
pub type CurrentAdmin = Loaded<Result<Option<Me>, AppError>>;

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    live::provide_live();
    let me: CurrentAdmin = load(|| (), |_| current_admin());
    provide_context(me);

    // Lets tests (and people debugging) see when the page has hydrated and is interactive.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title formatter=|text: String| {
            if text.is_empty() { "MSSP Dashboard".to_string() } else { format!("{text} · MSSP Dashboard") }
        } />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header::Header />
            <main id="main" tabindex="-1">
                <Routes fallback=not_found::NotFound>
                    // The sign-in steps are in the main bundle; every other page is a lazy route:
                    // its code is a WASM chunk of its own (release builds use `--split`), loaded
                    // when the page is first shown, so the sign-in page downloads only what it
                    // needs.
                    <Route path=path!("/login") view=sign_in::SignInPage />
                    <Route path=path!("/login/code") view=code_step::CodeStepPage />
                    <Route path=path!("/login/setup-code") view=setup_code_step::SetupCodeStepPage />
                    <Route path=path!("/") view={Lazy::<Dashboard>::new()} />
                    <Route path=path!("/login/new-password") view={Lazy::<NewPassword>::new()} />
                    <Route path=path!("/login/setup-2fa") view={Lazy::<ForcedSetup>::new()} />
                    <Route path=path!("/profile") view={Lazy::<Profile>::new()} />
                    <Route path=path!("/admin/admins") view={Lazy::<AdminManagement>::new()} />
                    <Route path=path!("/admin/admins/:id") view={Lazy::<EditAdmin>::new()} />
                    <Route path=path!("/admin/settings") view={Lazy::<Settings>::new()} />
                    <Route path=path!("/admin/audit") view={Lazy::<AuditLog>::new()} />
                </Routes>
            </main>
        </Router>
    }
}

struct Dashboard;

#[lazy_route]
impl LazyRoute for Dashboard {
    fn data() -> Self {
        Dashboard
    }

    fn view(_this: Self) -> AnyView {
        view! { <dashboard::DashboardPage /> }.into_any()
    }
}

struct NewPassword;

#[lazy_route]
impl LazyRoute for NewPassword {
    fn data() -> Self {
        NewPassword
    }

    fn view(_this: Self) -> AnyView {
        view! { <new_password::NewPasswordPage /> }.into_any()
    }
}

struct ForcedSetup;

#[lazy_route]
impl LazyRoute for ForcedSetup {
    fn data() -> Self {
        ForcedSetup
    }

    fn view(_this: Self) -> AnyView {
        view! { <forced_setup::ForcedSetupPage /> }.into_any()
    }
}

struct Profile;

#[lazy_route]
impl LazyRoute for Profile {
    fn data() -> Self {
        Profile
    }

    fn view(_this: Self) -> AnyView {
        view! { <profile::ProfilePage /> }.into_any()
    }
}

struct AdminManagement;

#[lazy_route]
impl LazyRoute for AdminManagement {
    fn data() -> Self {
        AdminManagement
    }

    fn view(_this: Self) -> AnyView {
        view! { <admin_management::AdminManagementPage /> }.into_any()
    }
}

struct EditAdmin;

#[lazy_route]
impl LazyRoute for EditAdmin {
    fn data() -> Self {
        EditAdmin
    }

    fn view(_this: Self) -> AnyView {
        view! { <admin_edit::EditAdminPage /> }.into_any()
    }
}

struct Settings;

#[lazy_route]
impl LazyRoute for Settings {
    fn data() -> Self {
        Settings
    }

    fn view(_this: Self) -> AnyView {
        view! { <admin_settings::SettingsPage /> }.into_any()
    }
}

struct AuditLog;

#[lazy_route]
impl LazyRoute for AuditLog {
    fn data() -> Self {
        AuditLog
    }

    fn view(_this: Self) -> AnyView {
        view! { <audit_log::AuditLogPage /> }.into_any()
    }
}

/// Full page load to `path`: after sign-in and sign-out every piece of the page must be drawn
/// again from the server's view of the session.
pub fn go(path: &str) {
    let _ = window().location().set_href(path);
}
