//! Administration → Admin Management: the account's admins with their 2FA state, search,
//! sort, pages, and "Add admin".

use super::add_admin_form::AddAdminPanel;
use super::admin_nav::AdminNav;
use super::errors::error_page;
use super::live::live_refresh;
use super::loaded::load;
use super::notice::{Notice, NoticeView};
use super::reset_decision::ResetDecision;
use super::two_factor_chart::TwoFactorChart;
use crate::api::admin::list_admins;
use crate::domain::admin_list::SortKey;
use crate::domain::enforcement::EnforcementSource;
use crate::domain::time::format_utc;
use crate::model::types::{AdminRow, AdminTable, LiveEvent, ResetDecided};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

/// The table's state as it stands in the address: search, sort key (empty: the default order,
/// pending reset requests first), direction, page, and the "Pending resets" filter.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TableParams {
    q: String,
    sort: String,
    dir: String,
    page: i64,
    pending: bool,
    /// The row the page continues after (set by "Next") or before ("Previous").
    after: Option<i64>,
    before: Option<i64>,
}

impl TableParams {
    /// The address of this table state.
    fn href(&self) -> String {
        let mut parts = Vec::new();
        if !self.sort.is_empty() {
            parts.push(format!("sort={}", encode(&self.sort)));
            parts.push(format!("dir={}", encode(&self.dir)));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        if !self.q.is_empty() {
            parts.push(format!("q={}", encode(&self.q)));
        }
        if self.pending {
            parts.push("pending=1".into());
        }
        if self.page > 1 {
            if let Some(id) = self.after {
                parts.push(format!("after={id}"));
            } else if let Some(id) = self.before {
                parts.push(format!("before={id}"));
            }
        }
        if parts.is_empty() {
            "/admin/admins".into()
        } else {
            format!("/admin/admins?{}", parts.join("&"))
        }
    }

    /// The sort key the rows follow: the default view (pending requests first) is by name
    /// after them.
    fn effective_sort(&self) -> &str {
        if self.sort.is_empty() {
            SortKey::Name.as_str()
        } else {
            &self.sort
        }
    }

    fn sorted_by(&self, key: SortKey) -> TableParams {
        let same = self.effective_sort() == key.as_str();
        TableParams {
            sort: key.as_str().to_string(),
            dir: if same && self.dir == "asc" {
                "desc"
            } else {
                "asc"
            }
            .to_string(),
            page: 1,
            after: None,
            before: None,
            ..self.clone()
        }
    }

    fn on_page(&self, page: i64) -> TableParams {
        TableParams {
            page,
            after: None,
            before: None,
            ..self.clone()
        }
    }

    /// The next page, continuing after the row with id `last`.
    fn next_after(&self, last: Option<i64>) -> TableParams {
        TableParams {
            after: last,
            ..self.on_page(self.page + 1)
        }
    }

    /// The previous page, ending before the row with id `first`.
    fn previous_before(&self, first: Option<i64>) -> TableParams {
        TableParams {
            before: first,
            ..self.on_page(self.page - 1)
        }
    }

    fn filtered(&self, pending: bool) -> TableParams {
        TableParams {
            pending,
            page: 1,
            after: None,
            before: None,
            ..self.clone()
        }
    }
}

/// What a row's buttons can do to the page around them.
#[derive(Clone, Copy)]
struct TableActions {
    /// Tells what happened (and moves the focus there), then reloads the table.
    decided: Callback<ResetDecided>,
    /// The element to focus once the table has been drawn again (after a sort or page link).
    focus_after: RwSignal<Option<String>>,
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Moves the keyboard focus to the element with `id`, if it is there.
pub(super) fn focus_id(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        if let Some(el) = document()
            .get_element_by_id(id)
            .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

#[component]
pub fn AdminManagementPage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| {
        let q = query.read();
        let sort = q
            .get("sort")
            .filter(|s| SortKey::parse(s).is_some())
            .unwrap_or_default();
        TableParams {
            q: q.get("q").unwrap_or_default(),
            dir: if q.get("dir").as_deref() == Some("desc") {
                "desc"
            } else {
                "asc"
            }
            .into(),
            sort,
            page: q
                .get("page")
                .and_then(|p| p.parse().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1),
            pending: q.get("pending").as_deref() == Some("1"),
            after: q.get("after").and_then(|id| id.parse().ok()),
            before: q.get("before").and_then(|id| id.parse().ok()),
        }
    });
    // Reset requests appear and disappear live, in every open tab; after a reconnect the page
    // catches up on what it may have missed.
    let refresh = live_refresh(|event| {
        matches!(
            event,
            LiveEvent::ResetRequested { .. } | LiveEvent::ResetResolved { .. }
        )
    });
    let reload = RwSignal::new(0u64);
    let table = load(
        move || (params.get(), refresh.get(), reload.get()),
        |(p, _, _)| {
            list_admins(
                p.q,
                p.sort,
                p.dir,
                p.page,
                Some(p.pending),
                p.after,
                p.before,
            )
        },
    );
    let notice: RwSignal<Option<Notice>> = RwSignal::new(None);
    let focus_after: RwSignal<Option<String>> = RwSignal::new(None);
    let decided = Callback::new(move |decided: ResetDecided| {
        notice.set(Some(decided.into()));
        reload.update(|n| *n += 1);
        // The buttons that were pressed are gone with their row: the message takes the focus.
        request_animation_frame(|| focus_id("admins-notice"));
    });
    provide_context(TableActions {
        decided,
        focus_after,
    });
    view! {
        <Title text="Admin Management · Administration" />
        <h1>"Administration"</h1>
        <AdminNav />
        <div role="status" class="notice-slot" id="admins-notice" tabindex="-1">
            {move || notice.get().map(|notice| view! { <NoticeView notice /> })}
        </div>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                table.await.ok().map(|t| view! { <TwoFactorChart overview=t.overview /> })
            })}
        </Transition>
        <section class="card" aria-labelledby="admins-title">
            // Outside the part a live event redraws: a half-filled "Add admin" or a search being
            // typed survives it.
            <div class="card-head">
                <h2 id="admins-title" tabindex="-1">"Admin Management"</h2>
                <AddAdminPanel on_added=move |message: String| {
                    notice.set(Some(message.into()));
                    reload.update(|n| *n += 1);
                } />
            </div>
            <SearchForm params=params.get_untracked() />
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match table.await {
                        Ok(t) => {
                            let params = params.get_untracked();
                            view! {
                                <FilterTabs params=params.clone() pending_total=t.pending_total />
                                <TableView table=t params />
                            }
                            .into_any()
                        }
                        Err(e) => error_page(e),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SearchForm(params: TableParams) -> impl IntoView {
    view! {
        <Form method="GET" action="/admin/admins" attr:class="search-form" attr:role="search">
            <label for="admin-search">"Search by name, email or username"</label>
            <div class="search-row">
                <input id="admin-search" name="q" type="search" value=params.q.clone() maxlength="100" />
                {(!params.sort.is_empty()).then(|| view! {
                    <input type="hidden" name="sort" value=params.sort.clone() />
                    <input type="hidden" name="dir" value=params.dir.clone() />
                })}
                {params.pending.then(|| view! { <input type="hidden" name="pending" value="1" /> })}
                <button type="submit" class="button-quiet">"Search"</button>
            </div>
        </Form>
    }
}

/// "All admins" / "Pending resets (N)".
#[component]
fn FilterTabs(params: TableParams, pending_total: i64) -> impl IntoView {
    let actions = expect_context::<TableActions>();
    let all = params.filtered(false).href();
    let pending = params.filtered(true).href();
    let pending_only = params.pending;
    view! {
        <nav class="filter-tabs" aria-label="Which admins">
            // Plain links (the router still navigates in the page): `<A>` would mark both as the
            // current page, since they differ only in the query.
            <a href=all id="filter-all" aria-current=(!pending_only).then_some("page")
                on:click=move |_| actions.focus_after.set(Some("filter-all".into()))>
                "All admins"
            </a>
            <a href=pending id="filter-pending" aria-current=pending_only.then_some("page")
                class=(pending_total > 0).then_some("has-pending")
                on:click=move |_| actions.focus_after.set(Some("filter-pending".into()))>
                {format!("Pending resets ({pending_total})")}
            </a>
        </nav>
    }
}

fn sort_header(label: &'static str, key: SortKey, params: &TableParams) -> impl IntoView + use<> {
    let actions = expect_context::<TableActions>();
    let current = params.effective_sort() == key.as_str();
    let aria_sort = match (current, params.dir.as_str()) {
        (true, "desc") => "descending",
        (true, _) => "ascending",
        _ => "none",
    };
    let arrow = match aria_sort {
        "ascending" => " ▲",
        "descending" => " ▼",
        _ => "",
    };
    let href = params.sorted_by(key).href();
    let id = format!("sort-{}", key.as_str());
    let focus = id.clone();
    view! {
        <th scope="col" aria-sort=aria_sort>
            <a href=href class="sort-link" id=id
                on:click=move |_| actions.focus_after.set(Some(focus.clone()))>
                {label}<span aria-hidden="true">{arrow}</span>
            </a>
        </th>
    }
}

#[component]
fn TableView(table: AdminTable, params: TableParams) -> impl IntoView {
    let actions = expect_context::<TableActions>();
    let AdminTable {
        rows,
        total,
        page,
        pages,
        ..
    } = table;
    let empty = rows.is_empty();
    // "Next" and "Previous" continue from this page's last and first rows; the page number
    // they carry names the page.
    let shown = TableParams {
        page,
        ..params.clone()
    };
    let prev = (page > 1).then(|| shown.previous_before(rows.first().map(|r| r.id)).href());
    let next = (page < pages).then(|| shown.next_after(rows.last().map(|r| r.id)).href());
    let noun = match (params.pending, total == 1) {
        (true, true) => "admin with a pending reset request",
        (true, false) => "admins with a pending reset request",
        (false, true) => "admin",
        (false, false) => "admins",
    };
    // After a sort, page or filter link the table is drawn anew: the focus goes back to the
    // link that was used (or to the table's heading when that link is gone).
    Effect::new(move |_| {
        if let Some(id) = actions.focus_after.get_untracked() {
            actions.focus_after.set(None);
            request_animation_frame(move || {
                focus_id(&id);
                #[cfg(feature = "hydrate")]
                if document().get_element_by_id(&id).is_none() {
                    focus_id("admins-title");
                }
            });
        }
    });
    view! {
        <div class="table-wrap">
            <table class="admin-table">
                <caption class="visually-hidden">"Admins of this account"</caption>
                <thead>
                    <tr>
                        {sort_header("Name", SortKey::Name, &params)}
                        {sort_header("Email", SortKey::Email, &params)}
                        {sort_header("Role", SortKey::Role, &params)}
                        {sort_header("2FA Activation", SortKey::TwoFactor, &params)}
                        <th scope="col">"Enforce 2FA"</th>
                        {sort_header("Last sign-in", SortKey::LastSignIn, &params)}
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| view! { <AdminTableRow row /> }).collect_view()}
                </tbody>
            </table>
        </div>
        {empty.then(|| view! {
            <p class="empty">
                {if params.pending { "No reset request is waiting for a decision." } else { "No admin matches this search." }}
            </p>
        })}
        <nav class="pagination" aria-label="Pages of admins">
            {match prev {
                Some(href) => view! {
                    <a href=href class="button-quiet" rel="prev" id="page-prev"
                        on:click=move |_| actions.focus_after.set(Some("page-prev".into()))>"Previous"</a>
                }.into_any(),
                None => view! { <span class="button-quiet disabled" aria-disabled="true">"Previous"</span> }.into_any(),
            }}
            <span class="page-info">{format!("Page {page} of {pages} · {total} {noun}")}</span>
            {match next {
                Some(href) => view! {
                    <a href=href class="button-quiet" rel="next" id="page-next"
                        on:click=move |_| actions.focus_after.set(Some("page-next".into()))>"Next"</a>
                }.into_any(),
                None => view! { <span class="button-quiet disabled" aria-disabled="true">"Next"</span> }.into_any(),
            }}
        </nav>
    }
}

/// The "2FA Activation" cell: active or not with the factors (icons with text), a missing key
/// where the account requires one, a skipped setup, and a pending reset request.
pub(super) fn two_factor_status(row: &AdminRow) -> AnyView {
    let factors = row.factors;
    let needs_key = row.needs_key.then(|| {
        view! { <span class="badge badge-warn needs-key">"Needs a security key"</span> }
    });
    if row.two_factor_active {
        let keys = match factors.keys {
            0 => None,
            1 => Some("Security key".to_string()),
            n => Some(format!("{n} security keys")),
        };
        view! {
            <span class="badge badge-ok">"Active"</span>
            " "
            <span class="factors">
                {factors.totp.then(|| view! {
                    <span class="factor factor-app" title="Authenticator app (TOTP)">"App"</span>
                })}
                {(factors.totp && keys.is_some()).then_some(" ")}
                {keys.map(|k| view! {
                    <span class="factor factor-key" title="Security key or passkey">{k}</span>
                })}
            </span>
            {needs_key}
        }
        .into_any()
    } else if let Some(skipped) = row.setup_skipped_at {
        view! {
            <span class="badge badge-muted">"Not set up"</span>
            <span class="hint skipped">{format!("Skipped the setup on {}", format_utc(skipped))}</span>
        }
        .into_any()
    } else {
        view! { <span class="badge badge-muted">"Not set up"</span> {needs_key} }.into_any()
    }
}

#[component]
fn AdminTableRow(row: AdminRow) -> impl IntoView {
    let actions = expect_context::<TableActions>();
    let edit = format!("/admin/admins/{}", row.id);
    let enforcement = match (row.enforcement.enforced, row.enforcement.source) {
        (true, EnforcementSource::Account) => "Yes · account setting",
        (true, EnforcementSource::Admin) => "Yes · set for this admin",
        (false, EnforcementSource::Account) => "No · account setting",
        (false, EnforcementSource::Admin) => "No · set for this admin",
    };
    // The end of a grace period (past or to come) of an admin still without 2FA.
    let deadline = row
        .enforcement
        .deadline
        .filter(|_| row.enforcement.enforced && !row.two_factor_active);
    let two_factor = two_factor_status(&row);
    let reset = row.reset_request.clone().map(|pending| {
        view! {
            <ResetDecision
                request_id=pending.request_id
                requested_at=pending.requested_at
                name=row.name.clone()
                on_decided=actions.decided
            />
        }
    });
    let last = row
        .last_sign_in_at
        .map_or_else(|| "Never".to_string(), format_utc);
    let pending = row.reset_request.is_some();
    view! {
        <tr data-admin-id=row.id class:row-pending=pending>
            <td data-label="Name">
                <span class="cell-name">{row.name.clone()}</span>
                {(!row.active).then(|| view! { " " <span class="badge badge-muted">"Inactive"</span> })}
                <span class="cell-username">{row.username.clone()}</span>
            </td>
            <td class="cell-email" data-label="Email">{row.email.clone()}</td>
            <td data-label="Role">{row.role.label()}</td>
            <td class="cell-2fa" data-label="2FA Activation">{two_factor}{reset}</td>
            <td class="cell-enforce" data-label="Enforce 2FA">
                {enforcement}
                {deadline.map(|d| view! { <span class="hint deadline">{format!("Set up by {}", format_utc(d))}</span> })}
            </td>
            <td class="cell-time" data-label="Last sign-in">{last}</td>
            <td class="cell-actions">
                <A href=edit attr:class="button-quiet button-small" attr:aria-label=format!("Edit {}", row.name)>"Edit"</A>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_search_and_toggle_the_direction() {
        let p = TableParams {
            q: "a&b c".into(),
            sort: "name".into(),
            dir: "asc".into(),
            page: 3,
            pending: false,
            after: None,
            before: None,
        };
        assert_eq!(
            p.sorted_by(SortKey::Name).href(),
            "/admin/admins?sort=name&dir=desc&q=a%26b%20c"
        );
        assert_eq!(p.sorted_by(SortKey::Email).dir, "asc");
        assert_eq!(
            p.on_page(4).href(),
            "/admin/admins?sort=name&dir=asc&page=4&q=a%26b%20c"
        );
        assert_eq!(
            p.filtered(true).href(),
            "/admin/admins?sort=name&dir=asc&q=a%26b%20c&pending=1"
        );
        let default = TableParams {
            q: String::new(),
            sort: String::new(),
            dir: "asc".into(),
            page: 1,
            pending: false,
            after: None,
            before: None,
        };
        assert_eq!(default.href(), "/admin/admins");
        assert_eq!(
            p.next_after(Some(41)).href(),
            "/admin/admins?sort=name&dir=asc&page=4&q=a%26b%20c&after=41"
        );
        assert_eq!(
            p.previous_before(Some(17)).href(),
            "/admin/admins?sort=name&dir=asc&page=2&q=a%26b%20c&before=17"
        );
        assert_eq!(
            p.previous_before(Some(17)).previous_before(Some(9)).href(),
            "/admin/admins?sort=name&dir=asc&q=a%26b%20c",
            "page 1 needs no cursor"
        );
        assert_eq!(
            p.next_after(Some(41)).sorted_by(SortKey::Email).href(),
            "/admin/admins?sort=email&dir=asc&q=a%26b%20c"
        );
    }
}
