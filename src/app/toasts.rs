//! Toasts: live events shown for a few seconds on whatever page is open. They wait while the
//! pointer or the keyboard focus is on them, and each can be dismissed.

use super::live::use_live;
use crate::model::types::LiveEvent;
use leptos::prelude::*;
use std::time::Duration;

/// How long a toast stays, counted only while nobody is reading it.
const SHOWN_FOR: Duration = Duration::from_secs(8);
const TICK: Duration = Duration::from_millis(250);

#[derive(Clone, Debug, PartialEq)]
struct Toast {
    id: u64,
    message: String,
    link: Option<(String, &'static str)>,
    /// Time left, in ticks.
    left: u32,
}

fn toast_for(id: u64, event: &LiveEvent) -> Option<Toast> {
    let left = u32::try_from(SHOWN_FOR.as_millis() / TICK.as_millis()).unwrap_or(32);
    match event {
        LiveEvent::ResetRequested {
            admin_name,
            admin_id,
            ..
        } => Some(Toast {
            id,
            message: format!("{admin_name} requested a 2FA reset."),
            link: Some((format!("/admin/admins/{admin_id}"), "Review the request")),
            left,
        }),
        LiveEvent::Notice { message, link } => Some(Toast {
            id,
            message: message.clone(),
            link: super::live::local_link(link.clone()).map(|l| (l, "Open")),
            left,
        }),
        LiveEvent::ResetResolved { .. } | LiveEvent::Resync => None,
    }
}

#[component]
pub fn Toasts() -> impl IntoView {
    let live = use_live();
    let toasts: RwSignal<Vec<Toast>> = RwSignal::new(Vec::new());
    // Paused while hovered or while focus is inside.
    let hovered = RwSignal::new(false);
    let focused = RwSignal::new(false);
    Effect::new(move |_| {
        let Some((seq, event)) = live.0.get() else {
            return;
        };
        if let Some(toast) = toast_for(seq, &event) {
            toasts.update(|t| t.push(toast));
        }
    });
    if let Ok(timer) = set_interval_with_handle(
        move || {
            if hovered.get_untracked() || focused.get_untracked() {
                return;
            }
            if toasts.with_untracked(Vec::is_empty) {
                return;
            }
            toasts.update(|t| {
                for toast in t.iter_mut() {
                    toast.left = toast.left.saturating_sub(1);
                }
                t.retain(|toast| toast.left > 0);
            });
        },
        TICK,
    ) {
        on_cleanup(move || timer.clear());
    }
    view! {
        <div
            class="toasts"
            role="status"
            aria-live="polite"
            on:mouseenter=move |_| hovered.set(true)
            on:mouseleave=move |_| hovered.set(false)
            on:focusin=move |_| focused.set(true)
            on:focusout=move |_| focused.set(false)
        >
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
