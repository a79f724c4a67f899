//! Showing errors: at the top of a form, next to a field, or in place of a page.

use crate::model::AppError;
use leptos::prelude::*;

/// An error that is not about one field, above the form.
#[component]
pub fn FormAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().filter(AppError::is_general).map(|e| {
            let expired = matches!(&e, AppError::Conflict(m) if m.contains("Enter your password again"));
            let next = e.sign_in_page().or(expired.then_some("/login"));
            view! {
                <div class="alert alert-error" role="alert">
                    <p>{e.to_string()}</p>
                    {next.map(|href| view! { <p><a href=href rel="external">"Continue signing in"</a></p> })}
                </div>
            }
        })
    }
}

/// The message for one field, placed under it; `id` is what the input's aria-describedby names.
#[component]
pub fn FieldError(
    id: &'static str,
    field: &'static str,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.for_field(field)).map(|message| {
            view! { <p class="field-error" id=id>{message}</p> }
        })
    }
}

/// True when `error` is about `field` (for aria-invalid).
pub fn is_invalid(
    error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl Fn() -> Option<&'static str> {
    move || error.get().and_then(|e| e.for_field(field)).map(|_| "true")
}

/// In place of a page whose data could not be loaded.
pub fn error_page(e: AppError) -> AnyView {
    let next = e.sign_in_page();
    view! {
        <section class="card">
            <div class="alert alert-error" role="alert">
                <p>{e.to_string()}</p>
            </div>
            {next.map(|href| view! { <p><a href=href rel="external">"Continue signing in"</a></p> })}
        </section>
    }
    .into_any()
}
