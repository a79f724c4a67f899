//! Administration → Audit log: security events of the account, filtered, exportable as CSV.

use super::admin_nav::AdminNav;
use super::errors::error_page;
use super::loaded::load;
use crate::api::admin::list_audit_log;
use crate::domain::time::format_utc;
use crate::model::types::AuditPage;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
struct Filters {
    admin: String,
    event: String,
    from: String,
    to: String,
}

impl Filters {
    fn query(&self) -> String {
        let enc = |v: &str| {
            v.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        };
        format!(
            "admin={}&event={}&from={}&to={}",
            enc(&self.admin),
            enc(&self.event),
            enc(&self.from),
            enc(&self.to)
        )
    }
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| {
        let q = query.read();
        let filters = Filters {
            admin: q.get("admin").unwrap_or_default(),
            event: q.get("event").unwrap_or_default(),
            from: q.get("from").unwrap_or_default(),
            to: q.get("to").unwrap_or_default(),
        };
        let page = q
            .get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1);
        (filters, page)
    });
    let log = load(
        move || params.get(),
        |(f, page)| list_audit_log(f.admin, f.event, f.from, f.to, page),
    );
    view! {
        <Title text="Audit log · Administration" />
        <h1>"Administration"</h1>
        <AdminNav />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (filters, _) = params.get_untracked();
                match log.await {
                    Ok(page) => view! { <AuditView page filters /> }.into_any(),
                    Err(e) => error_page(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditView(page: AuditPage, filters: Filters) -> impl IntoView {
    let AuditPage {
        entries,
        total,
        page,
        pages,
        event_types,
        admins,
    } = page;
    let csv = format!("/admin/audit.csv?{}", filters.query());
    let link = |p: i64| format!("/admin/audit?{}&page={p}", filters.query());
    let prev = (page > 1).then(|| link(page - 1));
    let next = (page < pages).then(|| link(page + 1));
    let empty = entries.is_empty();
    view! {
        <section class="card" aria-labelledby="audit-title">
            <div class="card-head">
                <h2 id="audit-title">"Audit log"</h2>
                <a class="button-quiet" href=csv rel="external" download="audit-log.csv">"Export CSV"</a>
            </div>
            <Form method="GET" action="/admin/audit" attr:class="filters" attr:role="search">
                <div class="form-grid">
                    <div class="field">
                        <label for="audit-admin">"Admin"</label>
                        <select id="audit-admin" name="admin">
                            <option value="" selected=filters.admin.is_empty()>"Any admin"</option>
                            {admins.into_iter().map(|(id, name)| {
                                let selected = filters.admin == id.to_string();
                                view! { <option value=id.to_string() selected=selected>{name}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="audit-event">"Event"</label>
                        <select id="audit-event" name="event">
                            <option value="" selected=filters.event.is_empty()>"Any event"</option>
                            {event_types.into_iter().map(|e| {
                                let selected = filters.event == e;
                                view! { <option value=e.clone() selected=selected>{e.replace('_', " ")}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="audit-from">"From (UTC)"</label>
                        <input id="audit-from" name="from" type="date" value=filters.from.clone() />
                    </div>
                    <div class="field">
                        <label for="audit-to">"To (UTC)"</label>
                        <input id="audit-to" name="to" type="date" value=filters.to.clone() />
                    </div>
                </div>
                <button type="submit" class="button-quiet">"Filter"</button>
            </Form>
            <div class="table-wrap">
                <table class="admin-table audit-table">
                    <caption class="visually-hidden">"Security events, newest first"</caption>
                    <thead><tr>
                        <th scope="col">"Time (UTC)"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"By"</th>
                        <th scope="col">"About"</th>
                        <th scope="col">"Detail"</th>
                        <th scope="col">"Address"</th>
                    </tr></thead>
                    <tbody>
                        {entries.into_iter().map(|e| view! {
                            <tr data-event=e.event.clone()>
                                <td class="cell-time">{format_utc(e.at)}</td>
                                <td>{e.event.replace('_', " ")}</td>
                                <td>{e.actor.unwrap_or_default()}</td>
                                <td>{e.target.unwrap_or_default()}</td>
                                <td>{e.detail}</td>
                                <td>{e.address.unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {empty.then(|| view! { <p class="empty">"No event matches these filters."</p> })}
            <nav class="pagination" aria-label="Pages of the audit log">
                {match prev {
                    Some(href) => view! { <A href=href attr:class="button-quiet">"Previous"</A> }.into_any(),
                    None => view! { <span class="button-quiet disabled" aria-disabled="true">"Previous"</span> }.into_any(),
                }}
                <span class="page-info">{format!("Page {page} of {pages} · {total} events")}</span>
                {match next {
                    Some(href) => view! { <A href=href attr:class="button-quiet">"Next"</A> }.into_any(),
                    None => view! { <span class="button-quiet disabled" aria-disabled="true">"Next"</span> }.into_any(),
                }}
            </nav>
        </section>
    }
}
