//! The notification bell: unread count and the newest notifications, updated live.

use super::live::use_live;
use crate::api::resets::{MarkNotificationsRead, list_notifications};
use crate::domain::time::format_utc;
use leptos::prelude::*;

#[component]
pub fn Bell() -> impl IntoView {
    let live = use_live();
    let mark = ServerAction::<MarkNotificationsRead>::new();
    // Refetched on every live event and after marking read.
    let list = Resource::new(
        move || (live.0.get().map(|(seq, _)| seq), mark.version().get()),
        |_| list_notifications(),
    );
    let open = RwSignal::new(false);
    let unread = move || list.get().and_then(Result::ok).map_or(0, |n| n.unread);
    let toggle = move |_| {
        let opening = !open.get_untracked();
        open.set(opening);
        if opening && unread() > 0 {
            mark.dispatch(MarkNotificationsRead {});
        }
    };
    view! {
        <div class="bell">
            <button
                type="button"
                class="bell-button"
                aria-expanded=move || open.get().to_string()
                aria-controls="bell-panel"
                aria-label=move || format!("Notifications, {} unread", unread())
                on:click=toggle
            >
                <span aria-hidden="true">"🔔"</span>
                <span class="bell-count" aria-hidden="true" hidden=move || unread() == 0>{unread}</span>
            </button>
            <div id="bell-panel" class="bell-panel" hidden=move || !open.get()>
                <h2 class="bell-title">"Notifications"</h2>
                <Transition fallback=|| ()>
                    {move || list.get().map(|result| match result {
                        Ok(n) if n.items.is_empty() => view! { <p class="hint">"Nothing yet."</p> }.into_any(),
                        Ok(n) => view! {
                            <ul class="bell-list">
                                {n.items.into_iter().map(|item| view! {
                                    <li class:unread=!item.read>
                                        <p>{item.message}</p>
                                        <p class="hint">
                                            {format_utc(item.created_at)}
                                            {item.link.map(|href| view! { " · " <a href=href>"Open"</a> })}
                                        </p>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="hint">{e.to_string()}</p> }.into_any(),
                    })}
                </Transition>
            </div>
        </div>
    }
}
