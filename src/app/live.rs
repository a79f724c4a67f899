//! The live connection (server-sent events from `/api/events`), what it last said, and whether
//! it is up. After a reconnect (laptop sleep, server restart, another instance) pages refetch
//! what they show: events sent while the connection was down are not replayed.

use crate::model::types::LiveEvent;
use leptos::prelude::*;

/// The newest live event, numbered so that two equal events still notify.
#[derive(Clone, Copy)]
pub struct Live(pub RwSignal<Option<(u64, LiveEvent)>>);

/// The connection's state, for the "live updates paused" notice.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveState {
    /// Not opened on this page (or not yet).
    Off,
    Open,
    /// Lost; the browser is reconnecting.
    Reconnecting,
}

/// The connection's state, and how many times it came back after being lost.
#[derive(Clone, Copy)]
pub struct LiveStatus {
    pub state: RwSignal<LiveState>,
    pub reconnects: RwSignal<u64>,
}

pub fn provide_live() {
    provide_context(Live(RwSignal::new(None)));
    provide_context(LiveStatus {
        state: RwSignal::new(LiveState::Off),
        reconnects: RwSignal::new(0),
    });
}

pub fn use_live() -> Live {
    expect_context::<Live>()
}

pub fn use_live_status() -> LiveStatus {
    expect_context::<LiveStatus>()
}

/// A link of a notification, kept only when it is a path on this site: a forged event must not
/// send a super admin elsewhere (`https://…`, `//host`, `javascript:`).
pub fn local_link(link: Option<String>) -> Option<String> {
    // Browsers drop tabs and line breaks anywhere in a URL and read `\` as `/`: none of them,
    // nor spaces or other control characters, may appear, and the path must not start `//`.
    link.filter(|l| {
        l.starts_with('/')
            && !l.starts_with("//")
            && !l
                .chars()
                .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
    })
}

/// A signal that changes with every event of the kinds `wanted` accepts, with every `Resync`
/// and with every reconnect: what a page refetches on.
pub fn live_refresh(wanted: fn(&LiveEvent) -> bool) -> Memo<(u64, u64)> {
    let live = use_live();
    let status = use_live_status();
    let last = RwSignal::new(0u64);
    Memo::new(move |_| {
        // A resync (the server's relay from other instances was lost) is a missed event of
        // every kind.
        if let Some((seq, event)) = live.0.get()
            && (wanted(&event) || event == LiveEvent::Resync)
        {
            last.set(seq);
        }
        (last.get(), status.reconnects.get())
    })
}

/// Opens the live connection while the calling component is mounted (in the browser only; the
/// browser reconnects by itself after a network error or a server restart).
pub fn connect_live() {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        use web_sys::{Event, EventSource, MessageEvent};

        struct Handle {
            source: EventSource,
            _on_message: Closure<dyn FnMut(MessageEvent)>,
            _on_open: Closure<dyn FnMut(Event)>,
            _on_error: Closure<dyn FnMut(Event)>,
        }
        let live = use_live();
        let status = use_live_status();
        let handle: StoredValue<Option<Handle>, LocalStorage> = StoredValue::new_local(None);
        Effect::new(move |_| {
            let Ok(source) = EventSource::new("/api/events") else {
                return;
            };
            let mut seq = 0u64;
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                let Some(text) = e.data().as_string() else {
                    return;
                };
                // From bytes, like every other answer the browser reads (see `loaded.rs`).
                if let Ok(event) = serde_json::from_slice::<LiveEvent>(text.as_bytes()) {
                    seq += 1;
                    live.0.set(Some((seq, event)));
                }
            });
            let on_open = Closure::<dyn FnMut(Event)>::new(move |_| {
                if status.state.get_untracked() == LiveState::Reconnecting {
                    status.reconnects.update(|n| *n += 1);
                }
                status.state.set(LiveState::Open);
            });
            let on_error = Closure::<dyn FnMut(Event)>::new({
                let source = source.clone();
                move |_| {
                    // CONNECTING: the browser retries (network, server restart). CLOSED: the
                    // server refused (signed out, the sign-in ran out): nothing to wait for.
                    status
                        .state
                        .set(if source.ready_state() == EventSource::CLOSED {
                            LiveState::Off
                        } else {
                            LiveState::Reconnecting
                        });
                }
            });
            source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            handle.set_value(Some(Handle {
                source,
                _on_message: on_message,
                _on_open: on_open,
                _on_error: on_error,
            }));
        });
        on_cleanup(move || {
            if let Some(Some(handle)) = handle.try_update_value(Option::take) {
                handle.source.close();
            }
            status.state.set(LiveState::Off);
        });
    }
}

/// "Live updates paused, reconnecting…" while the connection is down.
#[component]
pub fn LiveNotice() -> impl IntoView {
    let status = use_live_status();
    view! {
        <div class="live-notice" role="status">
            {move || (status.state.get() == LiveState::Reconnecting).then(|| view! {
                <p class="alert alert-warn">
                    "Live updates paused: reconnecting… This page catches up by itself when the
                    connection is back."
                </p>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::local_link;

    #[test]
    fn only_links_to_this_site_are_kept() {
        for kept in ["/admin/admins/7", "/profile"] {
            assert_eq!(local_link(Some(kept.into())).as_deref(), Some(kept));
        }
        for dropped in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n\\evil",
            "/ /evil",
            "/a\\b",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(local_link(Some(dropped.into())), None, "{dropped}");
        }
    }
}
