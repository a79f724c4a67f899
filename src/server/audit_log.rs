//! Administration → Audit log: the account's security events, filtered, and as CSV.

use crate::domain::admin_list::{PAGE_SIZE, page_count};
use crate::domain::time::{format_utc, parse_date};
use crate::model::AppError;
use crate::model::types::{AuditEntry, AuditPage};
use crate::server::auth::{SignedIn, require_super_admin};
use crate::server::db::{admins, audit};
use crate::server::{Ctx, OrInternal};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use serde::Deserialize;
use tower_sessions::Session;

/// The filters as the page and the CSV link send them; empty means any.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FilterForm {
    #[serde(default)]
    pub admin: String,
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl FilterForm {
    pub fn parse(&self) -> Result<audit::Filter, AppError> {
        let admin_id = match self.admin.trim() {
            "" => None,
            id => Some(
                id.parse::<i64>()
                    .map_err(|_| AppError::invalid("admin", "Choose an admin from the list."))?,
            ),
        };
        let date = |field: &'static str, value: &str| -> Result<Option<i64>, AppError> {
            match value.trim() {
                "" => Ok(None),
                v => parse_date(v)
                    .map(Some)
                    .ok_or_else(|| AppError::invalid(field, "Enter a date like 2026-11-27.")),
            }
        };
        let event = self.event.trim();
        if event.len() > 64
            || !event
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        {
            return Err(AppError::invalid(
                "event",
                "Choose an event type from the list.",
            ));
        }
        Ok(audit::Filter {
            admin_id,
            event: (!event.is_empty()).then(|| event.to_string()),
            from: date("from", &self.from)?,
            // "to" includes that whole day.
            until: date("to", &self.to)?.map(|d| d + 86_400),
        })
    }
}

fn entry(r: audit::Row) -> AuditEntry {
    AuditEntry {
        id: r.id,
        at: r.created_at,
        event: r.event,
        actor: r.actor,
        target: r.target,
        detail: r.detail,
        address: r.client_ip,
    }
}

pub async fn page(
    ctx: &Ctx,
    signed_in: &SignedIn,
    form: &FilterForm,
    page: i64,
) -> Result<AuditPage, AppError> {
    let filter = form.parse()?;
    let db = &ctx.db;
    let account = signed_in.account.id;
    let page = page.clamp(1, i64::MAX / PAGE_SIZE);
    let rows = audit::list(db, account, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        .await
        .or_internal()?;
    let total = audit::count(db, account, &filter).await.or_internal()?;
    let event_types = audit::event_types(db, account).await.or_internal()?;
    let admins = admins::names(db, account, 1000).await.or_internal()?;
    Ok(AuditPage {
        entries: rows.into_iter().map(entry).collect(),
        total,
        page,
        pages: page_count(total),
        event_types,
        admins,
    })
}

fn csv_field(value: &str) -> String {
    // Quote every field; double quotes inside. A leading = + - @ would make spreadsheets run
    // it as a formula: prefix it with a quote.
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    format!("\"{}\"", value.replace('"', "\"\""))
}

/// `GET /admin/audit.csv?admin=&event=&from=&to=`: the filtered log as CSV, for the account's
/// super admin (checked here: this is a plain route, not a server function).
pub async fn csv(
    State(ctx): State<Ctx>,
    session: Session,
    Query(form): Query<FilterForm>,
) -> Response {
    let refuse = |status: StatusCode, message: &str| (status, message.to_string()).into_response();
    // The same checks as the server functions: fully signed in (enforcement applied), a super
    // admin read fresh.
    let signed = match require_super_admin(&ctx, &session).await {
        Ok(signed) => signed,
        Err(e) if e.needs_sign_in() => return refuse(StatusCode::UNAUTHORIZED, &e.to_string()),
        Err(AppError::Forbidden(message)) => return refuse(StatusCode::FORBIDDEN, &message),
        Err(_) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The export failed; it has been logged.",
            );
        }
    };
    let filter = match form.parse() {
        Ok(filter) => filter,
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
    };
    let rows = match audit::list(&ctx.db, signed.account.id, &filter, 100_000, 0).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!("audit export: {e}");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The export failed; it has been logged.",
            );
        }
    };
    let mut out = String::from("time_utc,event,actor,target,detail,client_address\r\n");
    for r in rows {
        let fields = [
            format_utc(r.created_at),
            r.event,
            r.actor.unwrap_or_default(),
            r.target.unwrap_or_default(),
            r.detail,
            r.client_ip.unwrap_or_default(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit-log.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "\"plain\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }

    #[test]
    fn filters_parse_or_explain() {
        let ok = FilterForm {
            admin: "7".into(),
            event: "2fa_enabled".into(),
            from: "2026-11-01".into(),
            to: "2026-11-01".into(),
        };
        let f = ok.parse().unwrap();
        assert_eq!(f.admin_id, Some(7));
        assert_eq!(f.until.unwrap() - f.from.unwrap(), 86_400);
        for bad in [
            FilterForm {
                admin: "x".into(),
                ..Default::default()
            },
            FilterForm {
                event: "drop table".into(),
                ..Default::default()
            },
            FilterForm {
                from: "yesterday".into(),
                ..Default::default()
            },
        ] {
            assert!(bad.parse().is_err(), "{bad:?}");
        }
    }
}
