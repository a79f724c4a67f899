//! How many "Request 2FA Reset" wait for the super admin's decision: on the Administration
//! link, in Admin Management's navigation and in the bell, kept current by the live connection.

use super::live::live_refresh;
use crate::api::resets::count_pending_resets;
use crate::model::types::LiveEvent;
use leptos::prelude::*;

/// The count, for a signed-in super admin (absent for anyone else).
#[derive(Clone, Copy)]
pub struct PendingResets(pub LocalResource<i64>);

/// Loads the count and keeps it current; call once where a super admin's pages start.
pub fn provide_pending_resets() {
    let refresh = live_refresh(|event| {
        matches!(
            event,
            LiveEvent::ResetRequested { .. } | LiveEvent::ResetResolved { .. }
        )
    });
    let count = LocalResource::new(move || {
        refresh.track();
        async move { count_pending_resets().await.unwrap_or(0) }
    });
    provide_context(PendingResets(count));
}

/// The count now (0 while unknown or for anyone but a super admin).
pub fn pending_count() -> Signal<i64> {
    let resource = use_context::<PendingResets>();
    Signal::derive(move || resource.and_then(|r| r.0.try_get().flatten()).unwrap_or(0))
}

/// " (N)" after a link's text, with a spoken label, when N > 0.
#[component]
pub fn PendingBadge() -> impl IntoView {
    let count = pending_count();
    move || {
        let n = count.get();
        (n > 0).then(|| {
            view! {
                <span class="count-badge" aria-label=format!("{n} pending 2FA reset request{}", if n == 1 { "" } else { "s" })>
                    {n}
                </span>
            }
        })
    }
}
