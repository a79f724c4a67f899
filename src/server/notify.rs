//! Security events: written to the audit log, and told to the people they concern (in the app,
//! live, and by email when SMTP is configured).

use crate::api::error::AppError;
use crate::api::types::LiveEvent;
use crate::server::auth::{Client, state};
use crate::server::db::{admins, audit, notifications};
use crate::server::live::Audience;
use crate::server::{internal, now};
use sqlx::Row;

/// One audit log entry, written on its own.
pub async fn audit(
    account_id: Option<i64>,
    actor_id: Option<i64>,
    target_id: Option<i64>,
    event: &str,
    detail: &str,
    client: &Client,
) -> Result<(), AppError> {
    let st = state()?;
    let mut conn = st.db.pool.acquire().await.map_err(internal)?;
    audit::record(
        &mut conn,
        audit::Entry {
            account_id,
            actor_id,
            target_id,
            event,
            detail,
            client_ip: client.ip.as_deref(),
        },
        now(),
    )
    .await
    .map_err(internal)
}

/// Tells an admin about their own account (bell, and email when SMTP is set).
pub async fn admin(
    admin: &admins::Admin,
    kind: &str,
    subject: &str,
    message: &str,
) -> Result<(), AppError> {
    let st = state()?;
    let mut conn = st.db.pool.acquire().await.map_err(internal)?;
    notifications::insert(
        &mut conn,
        notifications::NewNotification {
            account_id: admin.account_id,
            recipient_id: admin.id,
            kind,
            subject_id: Some(admin.id),
            message,
            link: Some("/profile"),
        },
        now(),
    )
    .await
    .map_err(internal)?;
    if let Some(mailer) = &st.mailer {
        mailer.send_later(
            vec![admin.email.clone()],
            subject.to_string(),
            format!(
                "{message}\n\nIf this was not you, tell your super admin at once.\n{}/profile\n",
                st.config.public_url()
            ),
        );
    }
    Ok(())
}

/// Tells every active super admin of the account (but `except`): bell, live toast, email.
pub async fn super_admins(
    account_id: i64,
    except: Option<i64>,
    kind: &str,
    subject: &str,
    message: &str,
    link: &str,
) -> Result<(), AppError> {
    let st = state()?;
    let rows = sqlx::query(
        "SELECT id, email FROM admins WHERE account_id = $1 AND role = 'super_admin' AND active = 1",
    )
    .bind(account_id)
    .fetch_all(&st.db.pool)
    .await
    .map_err(internal)?;
    let mut emails = Vec::new();
    let mut conn = st.db.pool.acquire().await.map_err(internal)?;
    for row in rows {
        let id: i64 = row.try_get("id").map_err(internal)?;
        if Some(id) == except {
            continue;
        }
        emails.push(row.try_get::<String, _>("email").map_err(internal)?);
        notifications::insert(
            &mut conn,
            notifications::NewNotification {
                account_id,
                recipient_id: id,
                kind,
                subject_id: None,
                message,
                link: Some(link),
            },
            now(),
        )
        .await
        .map_err(internal)?;
    }
    drop(conn);
    st.hub
        .publish(
            account_id,
            Audience::SuperAdmins,
            LiveEvent::Notice {
                message: message.to_string(),
                link: Some(link.to_string()),
            },
        )
        .await;
    if let Some(mailer) = &st.mailer {
        mailer.send_later(
            emails,
            subject.to_string(),
            format!("{message}\n\n{}{link}\n", st.config.public_url()),
        );
    }
    Ok(())
}
