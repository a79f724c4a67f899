//! The live connection (server-sent events from `/api/events`) and what it last said.

use crate::model::types::LiveEvent;
use leptos::prelude::*;

/// The newest live event, numbered so that two equal events still notify.
#[derive(Clone, Copy)]
pub struct Live(pub RwSignal<Option<(u64, LiveEvent)>>);

pub fn provide_live() {
    provide_context(Live(RwSignal::new(None)));
}

pub fn use_live() -> Live {
    expect_context::<Live>()
}

/// Opens the live connection while the calling component is mounted (in the browser only; the
/// browser reconnects by itself after a network error).
pub fn connect_live() {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        use web_sys::{EventSource, MessageEvent};

        type Handle = (EventSource, Closure<dyn FnMut(MessageEvent)>);
        let live = use_live();
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
                if let Ok(event) = serde_json::from_str::<LiveEvent>(&text) {
                    seq += 1;
                    live.0.set(Some((seq, event)));
                }
            });
            source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            handle.set_value(Some((source, on_message)));
        });
        on_cleanup(move || {
            if let Some(Some((source, _))) = handle.try_update_value(Option::take) {
                source.close();
            }
        });
    }
}
