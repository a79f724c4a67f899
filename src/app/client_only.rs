//! Widgets drawn only in the browser, after hydration: their data is per-viewer and live, and
//! reading it during the server render (inside the header's Suspense) would hold the render
//! up or break hydration.

use leptos::prelude::*;

#[component]
pub fn ClientOnly(children: ChildrenFn) -> impl IntoView {
    let mounted = RwSignal::new(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| mounted.set(true));
    move || mounted.get().then(|| children())
}
