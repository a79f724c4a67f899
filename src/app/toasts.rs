//! Toasts: live events shown for a few seconds on whatever page is open.

use super::live::use_live;
use crate::model::types::LiveEvent;
use leptos::prelude::*;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
struct Toast {
    id: u64,
    message: String,
    link: Option<(String, &'static str)>,
}

fn toast_for(id: u64, event: &LiveEvent) -> Option<Toast> {
    match event {
        LiveEvent::ResetRequested { admin_name, .. } => Some(Toast {
            id,
            message: format!("{admin_name} requested a 2FA reset."),
            link: Some(("/admin/admins".into(), "Review in Admin Management")),
        }),
        LiveEvent::Notice { message, link } => Some(Toast {
            id,
            message: message.clone(),
            link: link.clone().map(|l| (l, "Open")),
        }),
        LiveEvent::ResetResolved { .. } => None,
    }
}

#[component]
pub fn Toasts() -> impl IntoView {
    let live = use_live();
    let toasts: RwSignal<Vec<Toast>> = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        let Some((seq, event)) = live.0.get() else {
            return;
        };
        if let Some(toast) = toast_for(seq, &event) {
            toasts.update(|t| t.push(toast));
            set_timeout(
                move || toasts.update(|t| t.retain(|x| x.id != seq)),
                Duration::from_secs(8),
            );
        }
    });
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.get() key=|t| t.id let:toast>
                <div class="toast">
                    <p>{toast.message.clone()}</p>
                    {toast.link.clone().map(|(href, label)| view! { <a href=href>{label}</a> })}
                    <button type="button" class="toast-close" aria-label="Dismiss"
                        on:click=move |_| toasts.update(|t| t.retain(|x| x.id != toast.id))>"×"</button>
                </div>
            </For>
        </div>
    }
}
