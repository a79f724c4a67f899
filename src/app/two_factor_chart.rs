//! The overview above the admin table: how many active admins have 2FA, how many must set it
//! up (now, or by the end of a grace period), as a bar people read at a glance (with the numbers in words beside it).

use crate::model::types::TwoFactorOverview;
use leptos::prelude::*;

#[component]
pub fn TwoFactorChart(overview: TwoFactorOverview) -> impl IntoView {
    let total = overview.active_admins.max(1) as f64;
    let active = overview.two_factor_active;
    let missing = overview.enforced_not_set_up;
    let grace = overview.in_grace_period;
    let optional = (overview.active_admins - active - missing - grace).max(0);
    let pct = |n: i64| n as f64 * 100.0 / total;
    let label = format!(
        "{active} of {} active admins have 2FA active; {missing} enforced but not set up; {grace} in grace period; {optional} not enforced and not set up.",
        overview.active_admins
    );
    view! {
        <section class="card chart-card" aria-labelledby="overview-title">
            <h2 id="overview-title">"Two-factor authentication"</h2>
            <svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label=label>
                <rect x="0" y="0" width=pct(active) height="6" class="seg-active" />
                <rect x=pct(active) y="0" width=pct(missing) height="6" class="seg-missing" />
                <rect x=pct(active) + pct(missing) y="0" width=pct(grace) height="6" class="seg-grace" />
                <rect x=pct(active) + pct(missing) + pct(grace) y="0" width=pct(optional) height="6" class="seg-optional" />
            </svg>
            <ul class="legend">
                <li><span class="swatch seg-active" aria-hidden="true"></span><strong>{active}</strong>" 2FA active"</li>
                <li><span class="swatch seg-missing" aria-hidden="true"></span><strong>{missing}</strong>" enforced, not set up"</li>
                <li><span class="swatch seg-grace" aria-hidden="true"></span><strong>{grace}</strong>" in grace period"</li>
                <li><span class="swatch seg-optional" aria-hidden="true"></span><strong>{optional}</strong>" not enforced, not set up"</li>
            </ul>
        </section>
    }
}
