//! Security events: written to the audit log, and told to the people they concern (in the app,
//! live, and by email when SMTP is configured).

use crate::model::AppError;
use crate::model::types::LiveEvent;
use crate::server::auth::Client;
use crate::server::db::{admins, audit, notifications};
use crate::server::hub::Audience;
use crate::server::{Ctx, OrInternal};

pub use crate::server::db::audit::Event;

/// One audit log entry, written on its own.
pub async fn audit(ctx: &Ctx, entry: Event<'_>, client: &Client, now: i64) -> Result<(), AppError> {
    let mut conn = ctx.db.pool.acquire().await.or_internal()?;
    audit_in(&mut conn, entry, client, now).await
}

/// One audit log entry, written with the caller's other writes (its transaction).
pub async fn audit_in(
    conn: &mut sqlx::AnyConnection,
    entry: Event<'_>,
    client: &Client,
    now: i64,
) -> Result<(), AppError> {
    audit::record(conn, entry, client.ip.as_deref(), now)
        .await
        .or_internal()
}

/// Tells an admin about their own account (bell, and email when SMTP is set).
pub async fn admin(
    ctx: &Ctx,
    admin: &admins::Admin,
    kind: &str,
    subject: &str,
    message: &str,
    now: i64,
) -> Result<(), AppError> {
    let mut conn = ctx.db.pool.acquire().await.or_internal()?;
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
        now,
    )
    .await
    .or_internal()?;
    if let Some(mailer) = &ctx.mailer {
        mailer.send_later(
            vec![admin.email.clone()],
            subject.to_string(),
            format!(
                "{message}\n\nIf this was not you, tell your super admin at once.\n{}/profile\n",
                ctx.config.public_url()
            ),
        );
    }
    Ok(())
}

/// What is told to the super admins.
pub struct Notice<'a> {
    pub kind: &'a str,
    pub subject: &'a str,
    pub message: &'a str,
    pub link: &'a str,
}

/// Tells every active super admin of the account (but `except`): bell, live toast, email.
pub async fn super_admins(
    ctx: &Ctx,
    account_id: i64,
    except: Option<i64>,
    notice: Notice<'_>,
    now: i64,
) -> Result<(), AppError> {
    let recipients = admins::super_admins(&ctx.db, account_id)
        .await
        .or_internal()?;
    let mut emails = Vec::new();
    let mut conn = ctx.db.pool.acquire().await.or_internal()?;
    for (id, email) in recipients {
        if Some(id) == except {
            continue;
        }
        emails.push(email);
        notifications::insert(
            &mut conn,
            notifications::NewNotification {
                account_id,
                recipient_id: id,
                kind: notice.kind,
                subject_id: None,
                message: notice.message,
                link: Some(notice.link),
            },
            now,
        )
        .await
        .or_internal()?;
    }
    drop(conn);
    ctx.hub
        .publish(
            account_id,
            Audience::SuperAdmins,
            LiveEvent::Notice {
                message: notice.message.to_string(),
                link: Some(notice.link.to_string()),
            },
        )
        .await;
    if let Some(mailer) = &ctx.mailer {
        mailer.send_later(
            emails,
            notice.subject.to_string(),
            format!(
                "{}\n\n{}{}\n",
                notice.message,
                ctx.config.public_url(),
                notice.link
            ),
        );
    }
    Ok(())
}
