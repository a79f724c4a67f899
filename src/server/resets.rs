//! "Request 2FA Reset": the admin asks from the code step, every super admin of the account is
//! notified (in the app, live, and by email when SMTP is set), and one of them approves or
//! denies. Every step is written to the audit log.

use crate::api::error::AppError;
use crate::api::types::{
    LiveEvent, NotificationItem, Notifications, ResetHistoryItem, ResetRequestState,
};
use crate::domain::rate_limit::Limit;
use crate::domain::reset::{self, Decision, RequestStatus};
use crate::domain::time::format_utc;
use crate::server::auth::{Client, SignedIn, state};
use crate::server::db::{audit, notifications, rate_limits, reset_requests, sessions, totp};
use crate::server::live::Audience;
use crate::server::{internal, now};
use sqlx::Row;

/// Requests per admin and per client address (a pending request is answered again, but each
/// call counts).
const PER_ADMIN: Limit = Limit {
    max: 5,
    window_seconds: 3600,
};
const PER_ADDRESS: Limit = Limit {
    max: 20,
    window_seconds: 3600,
};

async fn limit(key: String, limit: Limit) -> Result<(), AppError> {
    let db = &state()?.db;
    rate_limits::hit(db, &key, limit, now())
        .await
        .map_err(internal)?
        .map_err(|retry_after_seconds| AppError::TooManyRequests {
            retry_after_seconds,
        })
}

struct SuperAdmin {
    id: i64,
    email: String,
}

async fn super_admins(account_id: i64, except: i64) -> Result<Vec<SuperAdmin>, AppError> {
    let db = &state()?.db;
    let rows = sqlx::query(
        "SELECT id, email FROM admins WHERE account_id = $1 AND role = 'super_admin' AND active = 1 AND id <> $2",
    )
    .bind(account_id)
    .bind(except)
    .fetch_all(&db.pool)
    .await
    .map_err(internal)?;
    rows.iter()
        .map(|r| {
            Ok(SuperAdmin {
                id: r.try_get("id")?,
                email: r.try_get("email")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(internal)
}

/// "Request 2FA Reset" from a sign-in waiting for its code (so after a correct password, and
/// only for an admin who has 2FA). One pending request per admin: asking again answers the
/// same request without notifying again.
pub async fn request(signed: &SignedIn, client: &Client) -> Result<ResetRequestState, AppError> {
    let admin = &signed.admin;
    limit(format!("reset-request:admin:{}", admin.id), PER_ADMIN).await?;
    if let Some(ip) = &client.ip {
        limit(format!("reset-request:ip:{ip}"), PER_ADDRESS).await?;
    }
    let st = state()?;
    let now = now();
    let recipients = super_admins(admin.account_id, admin.id).await?;
    let mut tx = st.db.pool.begin().await.map_err(internal)?;
    let (request, created) = reset_requests::create_pending(
        &mut tx,
        admin.account_id,
        admin.id,
        client.ip.as_deref(),
        now,
    )
    .await
    .map_err(internal)?;
    if created {
        audit::record(
            &mut tx,
            audit::Entry {
                account_id: Some(admin.account_id),
                actor_id: Some(admin.id),
                target_id: Some(admin.id),
                event: "2fa_reset_requested",
                detail: &format!("request {}", request.id),
                client_ip: client.ip.as_deref(),
            },
            now,
        )
        .await
        .map_err(internal)?;
        let message = format!("{} requested a 2FA reset.", admin.name);
        let channels = if st.mailer.is_some() {
            "in-app, email"
        } else {
            "in-app"
        };
        for recipient in &recipients {
            notifications::insert(
                &mut tx,
                notifications::NewNotification {
                    account_id: admin.account_id,
                    recipient_id: recipient.id,
                    kind: "2fa_reset_requested",
                    subject_id: Some(admin.id),
                    message: &message,
                    link: Some("/admin/admins"),
                },
                now,
            )
            .await
            .map_err(internal)?;
            audit::record(
                &mut tx,
                audit::Entry {
                    account_id: Some(admin.account_id),
                    actor_id: Some(admin.id),
                    target_id: Some(recipient.id),
                    event: "2fa_reset_notified",
                    detail: &format!("request {} ({channels})", request.id),
                    client_ip: client.ip.as_deref(),
                },
                now,
            )
            .await
            .map_err(internal)?;
        }
    }
    tx.commit().await.map_err(internal)?;
    if created {
        tracing::info!(
            admin = admin.id,
            request = request.id,
            "2FA reset requested"
        );
        st.hub
            .publish(
                admin.account_id,
                Audience::SuperAdmins,
                LiveEvent::ResetRequested {
                    request_id: request.id,
                    admin_id: admin.id,
                    admin_name: admin.name.clone(),
                    requested_at: request.requested_at,
                },
            )
            .await;
        if let Some(mailer) = &st.mailer {
            let link = format!("{}/admin/admins", st.config.public_url());
            mailer.send_later(
                recipients.into_iter().map(|r| r.email).collect(),
                format!("2FA reset requested by {}", admin.name),
                format!(
                    "{} ({}) lost access to their authenticator app and asked for a reset of their \
                     two-factor authentication at {} (from {}).\n\nReview the request in \
                     Administration → Admin Management: {link}\n\nIf you did not expect this, deny it: \
                     whoever asked knows {}'s password.\n",
                    admin.name,
                    admin.email,
                    format_utc(request.requested_at),
                    client.ip.as_deref().unwrap_or("an unknown address"),
                    admin.name,
                ),
            );
        }
    }
    Ok(ResetRequestState::Pending {
        requested_at: request.requested_at,
    })
}

/// What the code step shows: a pending request, or a denial not told yet (told once).
pub async fn own_state(signed: &SignedIn) -> Result<ResetRequestState, AppError> {
    let db = &state()?.db;
    let latest = reset_requests::latest_for_admin(db, signed.admin.id)
        .await
        .map_err(internal)?;
    Ok(match latest {
        Some(r) if r.status == RequestStatus::Pending => ResetRequestState::Pending {
            requested_at: r.requested_at,
        },
        Some(r) if r.status == RequestStatus::Denied && !r.outcome_seen => {
            reset_requests::mark_outcome_seen(db, r.id)
                .await
                .map_err(internal)?;
            ResetRequestState::Denied {
                decided_at: r.decided_at.unwrap_or(r.requested_at),
            }
        }
        _ => ResetRequestState::None,
    })
}

/// Approve (reset) or deny, by a super admin of the same account; one outcome however many
/// super admins click at once.
pub async fn decide(
    signed: &SignedIn,
    request_id: i64,
    decision: Decision,
    client: &Client,
) -> Result<(), AppError> {
    let st = state()?;
    let account_id = signed.account.id;
    let request = reset_requests::find_in_account(&st.db, account_id, request_id)
        .await
        .map_err(internal)?
        .ok_or(AppError::NotFound)?;
    let refused = |e: reset::DecisionRefused| match e {
        reset::DecisionRefused::OwnRequest => AppError::Forbidden(e.to_string()),
        reset::DecisionRefused::AlreadyDecided(_) => AppError::Conflict(e.to_string()),
    };
    reset::check_decision(signed.admin.id, request.admin_id, request.status).map_err(refused)?;
    let target = crate::server::db::admins::find_in_account(&st.db, account_id, request.admin_id)
        .await
        .map_err(internal)?
        .ok_or(AppError::NotFound)?;
    let now = now();
    let mut tx = st.db.pool.begin().await.map_err(internal)?;
    let status = decision.status();
    if !reset_requests::decide(&mut tx, request.id, status, Some(signed.admin.id), now)
        .await
        .map_err(internal)?
    {
        drop(tx);
        // Someone else decided between our read and our write: say what happened.
        let current = reset_requests::find_in_account(&st.db, account_id, request.id)
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)?;
        let by = current
            .decided_by_name
            .map(|n| format!(" by {n}"))
            .unwrap_or_default();
        return Err(AppError::Conflict(format!(
            "This request was already {}{by}.",
            current.status.as_str()
        )));
    }
    if decision == Decision::Approve {
        totp::delete_in(&mut tx, target.id)
            .await
            .map_err(internal)?;
        sessions::delete_for_admin_in(&mut tx, target.id)
            .await
            .map_err(internal)?;
        sqlx::query("UPDATE admins SET prompt_2fa_setup = 1, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(target.id)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
    }
    audit::record(
        &mut tx,
        audit::Entry {
            account_id: Some(account_id),
            actor_id: Some(signed.admin.id),
            target_id: Some(target.id),
            event: match decision {
                Decision::Approve => "2fa_reset_approved",
                Decision::Deny => "2fa_reset_denied",
            },
            detail: &format!("request {}", request.id),
            client_ip: client.ip.as_deref(),
        },
        now,
    )
    .await
    .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(
        admin = target.id,
        by = signed.admin.id,
        request = request.id,
        status = status.as_str(),
        "2FA reset decided"
    );
    let event = LiveEvent::ResetResolved {
        request_id: request.id,
        admin_id: target.id,
        admin_name: target.name.clone(),
        status,
    };
    st.hub
        .publish(account_id, Audience::SuperAdmins, event.clone())
        .await;
    st.hub
        .publish(account_id, Audience::Admin(target.id), event)
        .await;
    Ok(())
}

/// A pending request becomes moot when its admin signs in with a code after all.
pub async fn withdraw_pending(
    account_id: i64,
    admin_id: i64,
    admin_name: &str,
    client: &Client,
) -> Result<(), AppError> {
    let st = state()?;
    let now = now();
    let mut tx = st.db.pool.begin().await.map_err(internal)?;
    let Some(pending) = reset_requests::pending_for_admin(&mut tx, admin_id)
        .await
        .map_err(internal)?
    else {
        return Ok(());
    };
    if !reset_requests::decide(&mut tx, pending.id, RequestStatus::Withdrawn, None, now)
        .await
        .map_err(internal)?
    {
        return Ok(());
    }
    audit::record(
        &mut tx,
        audit::Entry {
            account_id: Some(account_id),
            actor_id: Some(admin_id),
            target_id: Some(admin_id),
            event: "2fa_reset_withdrawn",
            detail: &format!("request {} (signed in with a code)", pending.id),
            client_ip: client.ip.as_deref(),
        },
        now,
    )
    .await
    .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    st.hub
        .publish(
            account_id,
            Audience::SuperAdmins,
            LiveEvent::ResetResolved {
                request_id: pending.id,
                admin_id,
                admin_name: admin_name.to_string(),
                status: RequestStatus::Withdrawn,
            },
        )
        .await;
    Ok(())
}

/// The history of an admin's requests, for the super admin.
pub async fn history(signed: &SignedIn, admin_id: i64) -> Result<Vec<ResetHistoryItem>, AppError> {
    let db = &state()?.db;
    crate::server::db::admins::find_in_account(db, signed.account.id, admin_id)
        .await
        .map_err(internal)?
        .ok_or(AppError::NotFound)?;
    let items = reset_requests::history(db, signed.account.id, admin_id)
        .await
        .map_err(internal)?;
    Ok(items
        .into_iter()
        .map(|r| ResetHistoryItem {
            id: r.id,
            status: r.status,
            requested_at: r.requested_at,
            requested_ip: r.requested_ip,
            decided_at: r.decided_at,
            decided_by: r.decided_by_name,
        })
        .collect())
}

pub async fn notifications(signed: &SignedIn) -> Result<Notifications, AppError> {
    let db = &state()?.db;
    let (items, unread) = notifications::latest(db, signed.admin.id, 20)
        .await
        .map_err(internal)?;
    Ok(Notifications {
        unread,
        items: items
            .into_iter()
            .map(|n| NotificationItem {
                id: n.id,
                message: n.message,
                link: n.link,
                created_at: n.created_at,
                read: n.read,
            })
            .collect(),
    })
}

pub async fn mark_read(signed: &SignedIn) -> Result<(), AppError> {
    let db = &state()?.db;
    notifications::mark_all_read(db, signed.admin.id, now())
        .await
        .map_err(internal)
}
