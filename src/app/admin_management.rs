//! Administration → Admin Management: the account's admins with their 2FA state, search,
//! sort, pages, and "Add admin".

use super::add_admin_form::AddAdminPanel;
use super::admin_nav::AdminNav;
use super::errors::error_page;
use super::live::use_live;
use super::two_factor_chart::TwoFactorChart;
use crate::api::admin::list_admins;
use crate::api::resets::{Approve2faReset, Deny2faReset};
use crate::domain::admin_list::SortKey;
use crate::domain::enforcement::EnforcementSource;
use crate::domain::time::format_utc;
use crate::model::types::{AdminRow, AdminTable, LiveEvent};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

/// The table's state as it stands in the address: search, sort key, direction, page.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TableParams {
    q: String,
    sort: String,
    dir: String,
    page: i64,
}

impl TableParams {
    /// The address of this table state.
    fn href(&self) -> String {
        let mut href = format!(
            "/admin/admins?sort={}&dir={}&page={}",
            encode(&self.sort),
            encode(&self.dir),
            self.page
        );
        if !self.q.is_empty() {
            href.push_str("&q=");
            href.push_str(&encode(&self.q));
        }
        href
    }

    fn sorted_by(&self, key: SortKey) -> TableParams {
        let same = self.sort == key.as_str();
        TableParams {
            sort: key.as_str().to_string(),
            dir: if same && self.dir == "asc" {
                "desc"
            } else {
                "asc"
            }
            .to_string(),
            page: 1,
            ..self.clone()
        }
    }

    fn on_page(&self, page: i64) -> TableParams {
        TableParams {
            page,
            ..self.clone()
        }
    }
}

/// What a row's buttons can do to the page around them.
#[derive(Clone, Copy)]
struct TableActions {
    notice: RwSignal<Option<String>>,
    refetch: Callback<()>,
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

#[component]
pub fn AdminManagementPage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| {
        let q = query.read();
        TableParams {
            q: q.get("q").unwrap_or_default(),
            sort: q
                .get("sort")
                .filter(|s| SortKey::parse(s).is_some())
                .unwrap_or_else(|| "name".into()),
            dir: if q.get("dir").as_deref() == Some("desc") {
                "desc"
            } else {
                "asc"
            }
            .into(),
            page: q
                .get("page")
                .and_then(|p| p.parse().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1),
        }
    });
    let table = Resource::new(
        move || params.get(),
        |p| list_admins(p.q, p.sort, p.dir, p.page),
    );
    let notice: RwSignal<Option<String>> = RwSignal::new(None);
    // Reset requests appear and disappear live, in every open tab.
    let live = use_live();
    Effect::new(move |_| {
        if let Some((_, LiveEvent::ResetRequested { .. } | LiveEvent::ResetResolved { .. })) =
            live.0.get()
        {
            table.refetch();
        }
    });
    provide_context(TableActions {
        notice,
        refetch: Callback::new(move |_| table.refetch()),
    });
    view! {
        <Title text="Admin Management · Administration" />
        <h1>"Administration"</h1>
        <AdminNav />
        <div role="status" class="notice-slot">
            {move || notice.get().map(|n| view! { <p class="alert alert-ok">{n}</p> })}
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match table.await {
                    Ok(t) => view! {
                        <TwoFactorChart overview=t.overview />
                        <section class="card" aria-labelledby="admins-title">
                            <div class="card-head">
                                <h2 id="admins-title">"Admin Management"</h2>
                                <AddAdminPanel on_added=move |message: String| {
                                    notice.set(Some(message));
                                    table.refetch();
                                } />
                            </div>
                            <SearchForm params=params.get_untracked() />
                            <TableView table=t params=params.get_untracked() />
                        </section>
                    }
                    .into_any(),
                    Err(e) => error_page(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn SearchForm(params: TableParams) -> impl IntoView {
    view! {
        <Form method="GET" action="/admin/admins" attr:class="search-form" attr:role="search">
            <label for="admin-search">"Search by name, email or username"</label>
            <div class="search-row">
                <input id="admin-search" name="q" type="search" value=params.q.clone() maxlength="100" />
                <input type="hidden" name="sort" value=params.sort.clone() />
                <input type="hidden" name="dir" value=params.dir.clone() />
                <button type="submit" class="button-quiet">"Search"</button>
            </div>
        </Form>
    }
}

fn sort_header(label: &'static str, key: SortKey, params: &TableParams) -> impl IntoView + use<> {
    let current = params.sort == key.as_str();
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
    view! {
        <th scope="col" aria-sort=aria_sort>
            <A href=href attr:class="sort-link">{label}<span aria-hidden="true">{arrow}</span></A>
        </th>
    }
}

#[component]
fn TableView(table: AdminTable, params: TableParams) -> impl IntoView {
    let AdminTable {
        rows,
        total,
        page,
        pages,
        ..
    } = table;
    let empty = rows.is_empty();
    let prev = (page > 1).then(|| params.on_page(page - 1).href());
    let next = (page < pages).then(|| params.on_page(page + 1).href());
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
        {empty.then(|| view! { <p class="empty">"No admin matches this search."</p> })}
        <nav class="pagination" aria-label="Pages of admins">
            {match prev {
                Some(href) => view! { <A href=href attr:class="button-quiet" attr:rel="prev">"Previous"</A> }.into_any(),
                None => view! { <span class="button-quiet disabled" aria-disabled="true">"Previous"</span> }.into_any(),
            }}
            <span class="page-info">{format!("Page {page} of {pages} · {total} admins")}</span>
            {match next {
                Some(href) => view! { <A href=href attr:class="button-quiet" attr:rel="next">"Next"</A> }.into_any(),
                None => view! { <span class="button-quiet disabled" aria-disabled="true">"Next"</span> }.into_any(),
            }}
        </nav>
    }
}

#[component]
fn AdminTableRow(row: AdminRow) -> impl IntoView {
    let edit = format!("/admin/admins/{}", row.id);
    let enforcement = match (row.enforcement.enforced, row.enforcement.source) {
        (true, EnforcementSource::Account) => "Yes · account setting",
        (true, EnforcementSource::Admin) => "Yes · set for this admin",
        (false, EnforcementSource::Account) => "No · account setting",
        (false, EnforcementSource::Admin) => "No · set for this admin",
    };
    let two_factor = if row.two_factor_active {
        view! { <span class="badge badge-ok">"Active"</span> }.into_any()
    } else {
        view! { <span class="badge badge-muted">"Not set up"</span> }.into_any()
    };
    let reset = row.reset_request.clone().map(|pending| {
        view! { <ResetDecision request_id=pending.request_id requested_at=pending.requested_at name=row.name.clone() /> }
    });
    let last = row
        .last_sign_in_at
        .map_or_else(|| "Never".to_string(), format_utc);
    view! {
        <tr data-admin-id=row.id>
            <td>
                <span class="cell-name">{row.name.clone()}</span>
                {(!row.active).then(|| view! { " " <span class="badge badge-muted">"Inactive"</span> })}
                <span class="cell-username">{row.username.clone()}</span>
            </td>
            <td class="cell-email">{row.email.clone()}</td>
            <td>{row.role.label()}</td>
            <td class="cell-2fa">{two_factor}{reset}</td>
            <td class="cell-enforce">{enforcement}</td>
            <td class="cell-time">{last}</td>
            <td>
                <A href=edit attr:class="button-quiet button-small" attr:aria-label=format!("Edit {}", row.name)>"Edit"</A>
            </td>
        </tr>
    }
}

/// The yellow "Reset requested" badge with its Reset and Deny buttons.
#[component]
fn ResetDecision(request_id: i64, requested_at: i64, name: String) -> impl IntoView {
    let actions = expect_context::<TableActions>();
    let approve = ServerAction::<Approve2faReset>::new();
    let deny = ServerAction::<Deny2faReset>::new();
    let who = name.clone();
    Effect::new(move |_| {
        let message = match (approve.value().get(), deny.value().get()) {
            (Some(Ok(())), _) => {
                format!("2FA of {who} was reset. They set it up again at their next sign-in.")
            }
            (_, Some(Ok(()))) => {
                format!("The 2FA reset request of {who} was denied; their 2FA stays as it is.")
            }
            (Some(Err(e)), _) | (_, Some(Err(e))) => e.to_string(),
            _ => return,
        };
        actions.notice.set(Some(message));
        actions.refetch.run(());
    });
    let busy = move || approve.pending().get() || deny.pending().get();
    view! {
        <div class="reset-badge">
            <span class="badge badge-reset">"Reset requested"</span>
            <span class="hint">{format_utc(requested_at)}</span>
            <span class="reset-actions">
                <button type="button" class="button-danger button-small" disabled=busy
                    aria-label=format!("Reset 2FA of {name}")
                    on:click=move |_| { approve.dispatch(Approve2faReset { request_id }); }>
                    "Reset"
                </button>
                <button type="button" class="button-quiet button-small" disabled=busy
                    aria-label=format!("Deny 2FA reset of {name}")
                    on:click=move |_| { deny.dispatch(Deny2faReset { request_id }); }>
                    "Deny"
                </button>
            </span>
        </div>
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
        };
        assert_eq!(
            p.sorted_by(SortKey::Name).href(),
            "/admin/admins?sort=name&dir=desc&page=1&q=a%26b%20c"
        );
        assert_eq!(p.sorted_by(SortKey::Email).dir, "asc");
        assert_eq!(
            p.on_page(4).href(),
            "/admin/admins?sort=name&dir=asc&page=4&q=a%26b%20c"
        );
    }
}
