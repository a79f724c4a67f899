//! The notification bell: unread count and the newest notifications, updated live.

use super::live::{use_live, use_live_status};
use super::pending_resets::pending_count;
use crate::api::resets::{MarkNotificationsRead, list_notifications};
use crate::domain::time::format_utc;
use leptos::prelude::*;

#[component]
pub fn Bell() -> impl IntoView {
    let live = use_live();
    let status = use_live_status();
    let mark = ServerAction::<MarkNotificationsRead>::new();
    // Refetched on every live event and after marking read.
    let list = LocalResource::new(move || {
        // Tracked so that a live event, a reconnect (events may have been missed) or marking
        // read fetches again. `try_get`: on the server this runs after the page's reactive
        // owner is gone and must not panic.
        let _ = (
            live.0.try_get(),
            status.reconnects.try_get(),
            mark.version().try_get(),
        );
        list_notifications()
    });
    let open = RwSignal::new(false);
    // `try_get` throughout: the header is rendered inside a Suspend, and on the server a first
    // render can be dropped while its attributes are still resolved.
    let unread = move || {
        list.try_get()
            .flatten()
            .and_then(Result::ok)
            .map_or(0, |n| n.unread)
    };
    let toggle = move |_| {
        let opening = !open.get_untracked();
        open.set(opening);
        if opening && unread() > 0 {
            mark.dispatch(MarkNotificationsRead {});
        }
    };
    let pending = pending_count();
    // The panel closes on Escape (focus back on the bell) and on a click outside it.
    let root = NodeRef::<leptos::html::Div>::new();
    let button = NodeRef::<leptos::html::Button>::new();
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && open.get_untracked() {
            open.set(false);
            if let Some(button) = button.get_untracked() {
                let _ = button.focus();
            }
        }
    });
    let outside = window_event_listener(leptos::ev::click, move |ev| {
        if !open.get_untracked() {
            return;
        }
        let inside = match (root.get_untracked(), ev.target()) {
            (Some(root), Some(target)) => {
                use leptos::wasm_bindgen::JsCast;
                target
                    .dyn_ref::<leptos::web_sys::Node>()
                    .is_some_and(|node| root.contains(Some(node)))
            }
            _ => true,
        };
        if !inside {
            open.set(false);
        }
    });
    on_cleanup(move || {
        escape.remove();
        outside.remove();
    });
    view! {
        <div class="bell" node_ref=root>
            <button
                type="button"
                class="bell-button"
                node_ref=button
                aria-expanded=move || open.try_get().unwrap_or(false).to_string()
                aria-controls="bell-panel"
                aria-label=move || format!("Notifications, {} unread", unread())
                on:click=toggle
            >
                <svg class="bell-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
                    <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" />
                </svg>
                <span class="bell-count" aria-hidden="true" hidden=move || unread() == 0>{unread}</span>
            </button>
            <div id="bell-panel" class="bell-panel" hidden=move || !open.try_get().unwrap_or(false)>
                <h2 class="bell-title">"Notifications"</h2>
                {move || (pending.get() > 0).then(|| {
                    let n = pending.get();
                    view! {
                        <p class="bell-pending">
                            <a href="/admin/admins?pending=1">
                                {format!("{n} 2FA reset request{} waiting for a decision", if n == 1 { "" } else { "s" })}
                            </a>
                        </p>
                    }
                })}
                {move || list.try_get().flatten().map(|result| match result {
                        Ok(n) if n.items.is_empty() => view! { <p class="hint">"Nothing yet."</p> }.into_any(),
                        Ok(n) => view! {
                            <ul class="bell-list">
                                {n.items.into_iter().map(|item| view! {
                                    <li class:unread=!item.read>
                                        <p>{item.message}</p>
                                        <p class="hint">
                                            {format_utc(item.created_at)}
                                            {super::live::local_link(item.link).map(|href| view! { " · " <a href=href>"Open"</a> })}
                                        </p>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="hint">{e.to_string()}</p> }.into_any(),
                    })}
            </div>
        </div>
    }
}
