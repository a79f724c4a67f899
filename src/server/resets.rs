//! "Request 2FA Reset": the admin asks from the code step, every super admin of the account is
//! notified (in the app, live, and by email when SMTP is set), and one of them approves or
//! denies. Every step is written to the audit log.
//!
//! [`reset_second_factor`] is the one implementation of a reset: the approval of a request and
//! the operator's `reset-2fa` command both call it.

use crate::domain::rate_limit::Limit;
use crate::domain::reset::{self, RequestStatus};
use crate::domain::time::format_utc;
use crate::model::AppError;
use crate::model::types::{
    LiveEvent, NotificationItem, Notifications, ResetDecided, ResetHistoryItem, ResetRequestState,
    ResetReview, SetupCodeShown,
};
use crate::server::auth::{Client, SignedIn};
use crate::server::db::admins::{self, Admin, SetupPrompt};
use crate::server::db::reset_requests::ResetRequest;
use crate::server::db::{
    audit, notifications, rate_limits, reset_requests, security_keys, sessions, totp,
};
use crate::server::hub::Audience;
use crate::server::{Ctx, OrInternal, internal, known_browser, notify, setup_codes};

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
/// Requests of one admin that notify the super admins, per day.
const NOTICES_PER_DAY: Limit = Limit {
    max: 3,
    window_seconds: 86_400,
};

async fn limit(ctx: &Ctx, key: String, limit: Limit, now: i64) -> Result<(), AppError> {
    rate_limits::hit(
        &mut *ctx.db.pool.acquire().await.or_internal()?,
        &key,
        limit,
        now,
    )
    .await
    .or_internal()?
    .map_err(|retry_after_seconds| AppError::TooManyRequests {
        retry_after_seconds,
    })
}

/// The account's active super admins other than `except`: (id, email).
async fn other_super_admins(
    ctx: &Ctx,
    account_id: i64,
    except: i64,
) -> Result<Vec<(i64, String)>, AppError> {
    let mut all = admins::super_admins(&ctx.db, account_id)
        .await
        .or_internal()?;
    all.retain(|(id, _)| *id != except);
    Ok(all)
}

/// "Request 2FA Reset" from a sign-in waiting for its code (so after a correct password, and
/// only for an admin who has 2FA). One pending request per admin: asking again answers the
/// same request without notifying again.
pub async fn request(
    ctx: &Ctx,
    signed: &SignedIn,
    client: &Client,
) -> Result<ResetRequestState, AppError> {
    let now = ctx.now();
    let admin = &signed.admin;
    limit(
        ctx,
        format!("reset-request:admin:{}", admin.id),
        PER_ADMIN,
        now,
    )
    .await?;
    if let Some(ip) = &client.ip {
        let bucket = crate::domain::network::throttle_bucket(ip);
        limit(ctx, format!("reset-request:ip:{bucket}"), PER_ADDRESS, now).await?;
    }
    let recipients = other_super_admins(ctx, admin.account_id, admin.id).await?;
    if recipients.is_empty() {
        // The account's only super admin: nobody could decide it. No request is made.
        notify::audit(
            ctx,
            notify::Event::by_self(admin, "2fa_reset_refused", "nobody else can approve it"),
            client,
            now,
        )
        .await?;
        return Ok(ResetRequestState::NobodyCanApprove);
    }
    let already_pending = match reset_requests::latest_for_admin(&ctx.db, admin.id)
        .await
        .or_internal()?
    {
        Some(latest) => current(ctx, latest, now).await?.status == RequestStatus::Pending,
        None => false,
    };
    // Requests made and withdrawn over and over tell the super admins (bell and email) a few
    // times a day, not each time; the badge and the live event stay. Asking again for the
    // request that waits counts nothing (it notifies nobody).
    let notify_allowed = !already_pending
        && rate_limits::hit(
            &mut *ctx.db.pool.acquire().await.or_internal()?,
            &format!("reset-request:told:{}", admin.id),
            NOTICES_PER_DAY,
            now,
        )
        .await
        .or_internal()?
        .is_ok();
    let mut tx = ctx.db.write().await.or_internal()?;
    let (request, created) = reset_requests::create_pending(
        &mut tx,
        admin.account_id,
        admin.id,
        reset_requests::Origin {
            ip: client.ip.as_deref(),
            user_agent: client.user_agent.as_deref(),
            known_browser: known_browser::find(ctx, client, admin.id).is_some(),
        },
        now,
    )
    .await
    .or_internal()?;
    if created {
        audit::record(
            &mut tx,
            audit::Event {
                account_id: Some(admin.account_id),
                actor_id: Some(admin.id),
                target_id: Some(admin.id),
                event: "2fa_reset_requested",
                detail: &format!("request {}", request.id),
            },
            client.ip.as_deref(),
            now,
        )
        .await
        .or_internal()?;
        let message = format!("{} requested a 2FA reset.", admin.name);
        let channels = if ctx.mailer.is_some() {
            "in-app, email"
        } else {
            "in-app"
        };
        for (recipient, _) in recipients.iter().filter(|_| notify_allowed) {
            notifications::insert(
                &mut tx,
                notifications::NewNotification {
                    account_id: admin.account_id,
                    recipient_id: *recipient,
                    kind: "2fa_reset_requested",
                    subject_id: Some(admin.id),
                    message: &message,
                    link: Some(&review_link(admin.id)),
                },
                now,
            )
            .await
            .or_internal()?;
            audit::record(
                &mut tx,
                audit::Event {
                    account_id: Some(admin.account_id),
                    actor_id: Some(admin.id),
                    target_id: Some(*recipient),
                    event: "2fa_reset_notified",
                    detail: &format!("request {} ({channels})", request.id),
                },
                client.ip.as_deref(),
                now,
            )
            .await
            .or_internal()?;
        }
    }
    tx.commit().await.or_internal()?;
    if created {
        tracing::info!(
            admin = admin.id,
            request = request.id,
            "2FA reset requested"
        );
        ctx.hub
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
        if let Some(mailer) = ctx.mailer.as_ref().filter(|_| notify_allowed) {
            let link = format!("{}{}", ctx.config.public_url(), review_link(admin.id));
            mailer.send_later(
                recipients.into_iter().map(|(_, email)| email).collect(),
                format!("2FA reset requested by {}", admin.name),
                format!(
                    "{} ({}) lost access to their authenticator app and asked for a reset of their \
                     two-factor authentication at {} (from {}).\n\nReview the request: {link}\n\n\
                     Before you reset, confirm it is really them in another way (call them back on a \
                     number you already know). If you did not expect this, deny it: whoever asked \
                     knows {}'s password.\n",
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
        by_email: ctx.mailer.is_some(),
    })
}

/// What the code step shows: a pending request, or a denial or expiry not told yet (told once).
pub async fn own_state(ctx: &Ctx, signed: &SignedIn) -> Result<ResetRequestState, AppError> {
    let db = &ctx.db;
    expire_due_quietly(ctx, ctx.now()).await;
    let latest = reset_requests::latest_for_admin(db, signed.admin.id)
        .await
        .or_internal()?;
    let Some(r) = latest else {
        return Ok(ResetRequestState::None);
    };
    let r = current(ctx, r, ctx.now()).await?;
    let state = match r.status {
        RequestStatus::Pending => {
            return Ok(ResetRequestState::Pending {
                requested_at: r.requested_at,
                by_email: ctx.mailer.is_some(),
            });
        }
        RequestStatus::Denied if !r.outcome_seen => ResetRequestState::Denied {
            decided_at: r.decided_at.unwrap_or(r.requested_at),
            reason: r.reason.clone(),
        },
        RequestStatus::Expired if !r.outcome_seen => ResetRequestState::Expired {
            requested_at: r.requested_at,
        },
        _ => return Ok(ResetRequestState::None),
    };
    reset_requests::mark_outcome_seen(db, r.id)
        .await
        .or_internal()?;
    Ok(state)
}

/// Requests nobody decided within `MSSP_RESET_REQUEST_DAYS` expire: the badge goes, the
/// requester is told at their next attempt, and may ask again.
pub async fn expire_due(ctx: &Ctx, now: i64) -> Result<(), AppError> {
    use std::sync::atomic::Ordering;
    // Every page and decision asks; the database is asked at most every 10 seconds.
    let last = ctx.expiry_checked_at.load(Ordering::Relaxed);
    if (0..10).contains(&(now - last)) {
        return Ok(());
    }
    ctx.expiry_checked_at.store(now, Ordering::Relaxed);
    let cutoff = now - i64::from(ctx.config.reset_request_days) * 86_400;
    let overdue = reset_requests::overdue(&ctx.db, cutoff)
        .await
        .or_internal()?;
    for request in overdue {
        expire(ctx, &request, now).await?;
    }
    Ok(())
}

/// Expires `request` (pending, overdue): audit, the badge goes, the requester is told.
/// Answers whether this call expired it (another may have been first).
async fn expire(ctx: &Ctx, request: &ResetRequest, now: i64) -> Result<bool, AppError> {
    let mut tx = ctx.db.write().await.or_internal()?;
    if !reset_requests::decide(&mut tx, request.id, RequestStatus::Expired, None, None, now)
        .await
        .or_internal()?
    {
        return Ok(false);
    }
    audit::record(
        &mut tx,
        audit::Event {
            account_id: Some(request.account_id),
            actor_id: None,
            target_id: Some(request.admin_id),
            event: "2fa_reset_expired",
            detail: &format!(
                "request {} (no decision within {} days)",
                request.id, ctx.config.reset_request_days
            ),
        },
        None,
        now,
    )
    .await
    .or_internal()?;
    tx.commit().await.or_internal()?;
    if let Some(admin) = admins::find_in_account(&ctx.db, request.account_id, request.admin_id)
        .await
        .or_internal()?
    {
        publish_resolved(ctx, &admin, request.id, RequestStatus::Expired, None).await;
        notify::admin(
            ctx,
            &admin,
            "2fa_reset_expired",
            "Your 2FA reset request expired",
            &format!(
                "Nobody decided your request to reset your two-factor authentication within \
                 {} days, so it expired. If you still cannot use your authenticator app, ask \
                 again from the sign-in page, or contact your super admin.",
                ctx.config.reset_request_days
            ),
            now,
        )
        .await?;
    }
    Ok(true)
}

/// The request as it stands at `now`: a pending one that ran out is expired first (whatever
/// the periodic check has done), so it can be neither decided nor block a new request.
async fn current(ctx: &Ctx, request: ResetRequest, now: i64) -> Result<ResetRequest, AppError> {
    if request.status == RequestStatus::Pending
        && reset::expired(request.requested_at, now, ctx.config.reset_request_days)
    {
        expire(ctx, &request, now).await?;
        return Ok(ResetRequest {
            status: RequestStatus::Expired,
            ..request
        });
    }
    Ok(request)
}

/// `expire_due` where a failure must not fail the page that asked (it is logged).
pub async fn expire_due_quietly(ctx: &Ctx, now: i64) {
    if let Err(e) = expire_due(ctx, now).await {
        tracing::warn!("expiring reset requests: {e}");
    }
}

/// Where a notification about an admin's reset request leads: their page in Administration,
/// with the request and its Reset / Deny at the top.
pub fn review_link(admin_id: i64) -> String {
    format!("/admin/admins/{admin_id}")
}

/// The evidence for judging request `request_id` of the super admin's account.
pub async fn review(
    ctx: &Ctx,
    signed: &SignedIn,
    request_id: i64,
) -> Result<ResetReview, AppError> {
    expire_due_quietly(ctx, ctx.now()).await;
    let request = reset_requests::find_in_account(&ctx.db, signed.account.id, request_id)
        .await
        .or_internal()?
        .ok_or(AppError::NotFound)?;
    let request = current(ctx, request, ctx.now()).await?;
    if request.status != RequestStatus::Pending {
        return Err(AppError::Conflict(format!(
            "This request was already {}.",
            request.status.as_str()
        )));
    }
    let admin = admins::find_in_account(&ctx.db, signed.account.id, request.admin_id)
        .await
        .or_internal()?
        .ok_or(AppError::NotFound)?;
    let (sign_ins_from_address, last_sign_in_from_address) = match &request.requested_ip {
        Some(ip) => audit::sign_ins_from(&ctx.db, admin.id, ip)
            .await
            .or_internal()?,
        None => (0, None),
    };
    Ok(ResetReview {
        request_id: request.id,
        admin_id: admin.id,
        admin_name: admin.name,
        admin_email: admin.email,
        requested_at: request.requested_at,
        requested_ip: request.requested_ip,
        device: request
            .requested_user_agent
            .as_deref()
            .map(crate::domain::device::describe),
        from_known_browser: request.from_known_browser,
        sign_ins_from_address,
        last_sign_in_from_address,
    })
}

/// Who resets an admin's second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetBy {
    /// A super admin of the admin's account, approving a request (its id); the setup at the
    /// next sign-in is required or only offered, as they chose.
    SuperAdmin {
        admin_id: i64,
        request_id: i64,
        require_setup: bool,
    },
    /// The operator with shell access (`mssp-dashboard reset-2fa`).
    Operator,
    /// The operator, because the key of the admin's secrets is lost (`forget-key`).
    LostKey,
}

/// What a reset did. Its `Debug` leaves the setup code out, so no log line can carry it.
#[derive(Clone, PartialEq, Eq)]
pub struct ResetDone {
    /// The admin had a TOTP credential (and its recovery codes), now removed.
    pub removed_totp: bool,
    /// Security keys removed.
    pub removed_keys: u64,
    /// Sessions of the admin that were ended.
    pub ended_sessions: u64,
    /// The reset request this answered, if one was pending.
    pub request_id: Option<i64>,
    /// What the next sign-in asks of the admin.
    pub prompt: SetupPrompt,
    /// The setup code the next sign-in asks for, shown this once to whoever reset (none after
    /// a lost key: the account's super admins issue one when they want it).
    pub setup_code: Option<String>,
}

impl std::fmt::Debug for ResetDone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetDone")
            .field("removed_totp", &self.removed_totp)
            .field("removed_keys", &self.removed_keys)
            .field("ended_sessions", &self.ended_sessions)
            .field("request_id", &self.request_id)
            .field("prompt", &self.prompt)
            .field(
                "setup_code",
                &self.setup_code.as_ref().map(|_| "<shown once>"),
            )
            .finish()
    }
}

/// The message for a request that someone else decided first.
async fn already_decided(ctx: &Ctx, account_id: i64, request_id: i64) -> AppError {
    match reset_requests::find_in_account(&ctx.db, account_id, request_id).await {
        Ok(Some(current)) => {
            let by = current
                .decided_by_name
                .map(|n| format!(" by {n}"))
                .unwrap_or_default();
            AppError::Conflict(format!(
                "This request was already {}{by}.",
                current.status.as_str()
            ))
        }
        Ok(None) => AppError::NotFound,
        Err(e) => crate::server::internal(e),
    }
}

/// Resets `target`'s second factor, in one transaction: removes the TOTP credential, the
/// security keys and the recovery codes, ends every session of the admin, asks for a new setup at the next sign-in,
/// answers the reset request (the one approved, or any pending one when the operator resets),
/// and writes the audit log. Then tells the super admins and the waiting sign-in page.
pub async fn reset_second_factor(
    ctx: &Ctx,
    target: &Admin,
    by: ResetBy,
    client: &Client,
) -> Result<ResetDone, AppError> {
    let now = ctx.now();
    let mut tx = ctx.db.write().await.or_internal()?;
    let (request_id, actor_id, event, decided_by) = match by {
        ResetBy::SuperAdmin {
            admin_id,
            request_id,
            ..
        } => (
            Some(request_id),
            Some(admin_id),
            "2fa_reset_approved",
            Some(admin_id),
        ),
        ResetBy::Operator | ResetBy::LostKey => {
            let pending = reset_requests::pending_for_admin(&mut tx, target.id)
                .await
                .or_internal()?;
            (pending.map(|r| r.id), None, "2fa_reset_by_operator", None)
        }
    };
    if let Some(id) = request_id
        && !reset_requests::decide(&mut tx, id, RequestStatus::Approved, decided_by, None, now)
            .await
            .or_internal()?
    {
        drop(tx);
        // Someone else decided between our read and our write: say what happened.
        return Err(already_decided(ctx, target.account_id, id).await);
    }
    let removed_totp = totp::delete_in(&mut tx, target.id).await.or_internal()?;
    // Security keys hold no secret under the server's keys: a lost key (`forget-key`) leaves
    // them working.
    let removed_keys = if matches!(by, ResetBy::LostKey) {
        0
    } else {
        security_keys::delete_all(&mut tx, target.id)
            .await
            .or_internal()?
    };
    let ended_sessions = sessions::end_for_admin(&mut tx, target.id)
        .await
        .or_internal()?;
    let prompt = match by {
        ResetBy::SuperAdmin {
            require_setup: false,
            ..
        } => SetupPrompt::Offered,
        _ => SetupPrompt::Required,
    };
    admins::set_setup_prompt_in(&mut tx, target.id, prompt, now)
        .await
        .or_internal()?;
    let setup_code = match by {
        // The credential went and the prompt was set above, in this transaction: it is stored.
        ResetBy::SuperAdmin { .. } | ResetBy::Operator => Some(
            setup_codes::issue_in(ctx, &mut tx, target.id, now)
                .await
                .or_internal()?
                .ok_or_else(|| internal("setup code not stored after a reset"))?,
        ),
        ResetBy::LostKey => None,
    };
    let detail = match (by, request_id) {
        (ResetBy::Operator, None) => "mssp-dashboard reset-2fa".to_string(),
        (ResetBy::Operator, Some(id)) => format!("mssp-dashboard reset-2fa (request {id})"),
        (ResetBy::LostKey, _) => "mssp-dashboard forget-key: its key was lost".to_string(),
        (
            ResetBy::SuperAdmin {
                request_id,
                require_setup,
                ..
            },
            _,
        ) => format!(
            "request {request_id}; setup at next sign-in {}",
            if require_setup { "required" } else { "offered" }
        ),
    };
    audit::record(
        &mut tx,
        audit::Event {
            account_id: Some(target.account_id),
            actor_id,
            target_id: Some(target.id),
            event,
            detail: &detail,
        },
        client.ip.as_deref(),
        now,
    )
    .await
    .or_internal()?;
    tx.commit().await.or_internal()?;
    tracing::warn!(
        admin = target.id,
        by = ?by,
        removed_totp,
        removed_keys,
        ended_sessions,
        "two-factor authentication reset"
    );
    if let Some(request_id) = request_id {
        publish_resolved(ctx, target, request_id, RequestStatus::Approved, None).await;
    }
    let by_whom = match by {
        ResetBy::SuperAdmin { .. } => "a super admin of your account, approving your request",
        ResetBy::Operator => "the operator of the dashboard",
        ResetBy::LostKey => "the operator of the dashboard, because the key protecting it was lost",
    };
    notify::admin(
        ctx,
        target,
        "2fa_reset",
        "Your two-factor authentication was reset",
        &format!(
            "Your two-factor authentication was reset by {by_whom}. Every session of yours was \
             signed out; set it up again at your next sign-in.{}",
            if setup_code.is_some() {
                " That sign-in asks for a setup code, which you receive by phone or in person, \
                 never by email. If you did not ask for this reset, tell your super admin now."
            } else {
                ""
            }
        ),
        now,
    )
    .await?;
    Ok(ResetDone {
        removed_totp,
        removed_keys,
        ended_sessions,
        request_id,
        prompt,
        setup_code,
    })
}

/// Tells the super admins (the badge goes) and the requester's waiting page.
async fn publish_resolved(
    ctx: &Ctx,
    target: &Admin,
    request_id: i64,
    status: RequestStatus,
    reason: Option<&str>,
) {
    let event = LiveEvent::ResetResolved {
        request_id,
        admin_id: target.id,
        admin_name: target.name.clone(),
        status,
        reason: reason.map(str::to_string),
    };
    ctx.hub
        .publish(target.account_id, Audience::SuperAdmins, event.clone())
        .await;
    ctx.hub
        .publish(target.account_id, Audience::Admin(target.id), event)
        .await;
}

/// How a super admin decides a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Reset, with the setup at the next sign-in required (or only offered).
    Approve { require_setup: bool },
    /// Keep the 2FA; the optional reason is shown to the requester.
    Deny { reason: Option<String> },
}

/// The longest reason a denial may carry.
pub const MAX_REASON_CHARS: usize = 500;

/// Approve (reset) or deny, by a super admin of the same account; one outcome however many
/// super admins click at once. Answers what happens next, in words.
pub async fn decide(
    ctx: &Ctx,
    signed: &SignedIn,
    client: &Client,
    request_id: i64,
    verdict: Verdict,
) -> Result<ResetDecided, AppError> {
    let account_id = signed.account.id;
    if let Verdict::Deny {
        reason: Some(reason),
    } = &verdict
        && reason.chars().count() > MAX_REASON_CHARS
    {
        return Err(AppError::invalid(
            "reason",
            format!("Keep the reason under {MAX_REASON_CHARS} characters."),
        ));
    }
    if let Verdict::Deny {
        reason: Some(reason),
    } = &verdict
        && !reset::is_plain_text(reason)
    {
        return Err(AppError::invalid(
            "reason",
            "Write the reason as plain text: no control or direction-changing characters.",
        ));
    }
    let request = reset_requests::find_in_account(&ctx.db, account_id, request_id)
        .await
        .or_internal()?
        .ok_or(AppError::NotFound)?;
    let request = current(ctx, request, ctx.now()).await?;
    let refused = |e: reset::DecisionRefused| match e {
        reset::DecisionRefused::OwnRequest => AppError::Forbidden(e.to_string()),
        reset::DecisionRefused::AlreadyDecided(_) => AppError::Conflict(e.to_string()),
    };
    reset::check_decision(signed.admin.id, request.admin_id, request.status).map_err(refused)?;
    let target = admins::find_in_account(&ctx.db, account_id, request.admin_id)
        .await
        .or_internal()?
        .ok_or(AppError::NotFound)?;
    let name = &target.name;
    let mut setup_code = None;
    let message = match verdict {
        Verdict::Approve { require_setup } => {
            let done = reset_second_factor(
                ctx,
                &target,
                ResetBy::SuperAdmin {
                    admin_id: signed.admin.id,
                    request_id: request.id,
                    require_setup,
                },
                client,
            )
            .await?;
            let next = match done.prompt {
                SetupPrompt::Offered => format!(
                    "At their next sign-in {name} is offered the setup and may skip it; the table \
                     shows it if they do."
                ),
                _ => format!(
                    "At their next sign-in {name} must set up two-factor authentication again \
                     before anything else."
                ),
            };
            setup_code = done.setup_code;
            format!(
                "2FA of {name} was reset: their authenticator app{} and recovery codes no \
                 longer work, and {} signed out. {next} They were told by email and in the app.",
                match done.removed_keys {
                    0 => String::new(),
                    1 => ", security key".to_string(),
                    n => format!(", {n} security keys"),
                },
                match done.ended_sessions {
                    0 => "no session of theirs needed to be".to_string(),
                    1 => "their 1 session was".to_string(),
                    n => format!("their {n} sessions were"),
                }
            )
        }
        Verdict::Deny { reason } => {
            deny(ctx, signed, client, &target, request.id, reason.as_deref()).await?;
            format!(
                "The 2FA reset request of {name} was denied; their 2FA stays as it is. They see \
                 the denial{} at their next attempt and by email.",
                if reason.is_some() {
                    " and your reason"
                } else {
                    ""
                }
            )
        }
    };
    Ok(ResetDecided {
        message,
        setup_code: setup_code.map(|code| SetupCodeShown::new(code, name)),
    })
}

/// "New setup code" on an admin's Edit page: for an admin whose 2FA was reset and who has not
/// set it up again (the first code was lost or ran out). The earlier code stops working.
pub async fn new_setup_code(
    ctx: &Ctx,
    signed: &SignedIn,
    client: &Client,
    admin_id: i64,
) -> Result<ResetDecided, AppError> {
    let target = admins::find_in_account(&ctx.db, signed.account.id, admin_id)
        .await
        .or_internal()?
        .ok_or(AppError::NotFound)?;
    let name = &target.name;
    if target.id == signed.admin.id {
        return Err(AppError::Forbidden(
            "You cannot give yourself a setup code. Another super admin can, or the operator \
             with `mssp-dashboard reset-2fa`."
                .into(),
        ));
    }
    if target.factors.any() {
        return Err(AppError::Conflict(format!(
            "{name} has two-factor authentication set up: a setup code is only for after a reset."
        )));
    }
    if !target.prompt_2fa_setup {
        return Err(AppError::Conflict(format!(
            "{name} is not waiting to set up two-factor authentication after a reset."
        )));
    }
    let now = ctx.now();
    let mut tx = ctx.db.write().await.or_internal()?;
    let Some(code) = setup_codes::issue_in(ctx, &mut tx, target.id, now)
        .await
        .or_internal()?
    else {
        // The setup was finished between the checks above and this write.
        return Err(AppError::Conflict(format!(
            "{name} has just set up two-factor authentication: no setup code is needed."
        )));
    };
    // Whoever is signed in as them now (past an old code, or after a skipped setup) is signed
    // out: the new code is asked of everyone.
    let ended_sessions = sessions::end_for_admin(&mut tx, target.id)
        .await
        .or_internal()?;
    audit::record(
        &mut tx,
        audit::Event {
            account_id: Some(target.account_id),
            actor_id: Some(signed.admin.id),
            target_id: Some(target.id),
            event: "2fa_setup_code_issued",
            detail: "",
        },
        client.ip.as_deref(),
        now,
    )
    .await
    .or_internal()?;
    tx.commit().await.or_internal()?;
    notify::admin(
        ctx,
        &target,
        "2fa_setup_code_issued",
        "A new setup code for your sign-in",
        &format!(
            "{} issued a new setup code for you; any earlier one no longer works. Your next \
             sign-in asks for it. You receive it by phone or in person, never by email.",
            signed.admin.name
        ),
        now,
    )
    .await?;
    Ok(ResetDecided {
        message: format!(
            "A new setup code for {name} is below; the earlier one no longer works{}. Their \
             next sign-in asks for it.",
            match ended_sessions {
                0 => String::new(),
                1 => ", and their 1 session was signed out".to_string(),
                n => format!(", and their {n} sessions were signed out"),
            }
        ),
        setup_code: Some(SetupCodeShown::new(code, name)),
    })
}

async fn deny(
    ctx: &Ctx,
    signed: &SignedIn,
    client: &Client,
    target: &Admin,
    request_id: i64,
    reason: Option<&str>,
) -> Result<(), AppError> {
    let now = ctx.now();
    let mut tx = ctx.db.write().await.or_internal()?;
    if !reset_requests::decide(
        &mut tx,
        request_id,
        RequestStatus::Denied,
        Some(signed.admin.id),
        reason,
        now,
    )
    .await
    .or_internal()?
    {
        drop(tx);
        return Err(already_decided(ctx, target.account_id, request_id).await);
    }
    audit::record(
        &mut tx,
        audit::Event {
            account_id: Some(target.account_id),
            actor_id: Some(signed.admin.id),
            target_id: Some(target.id),
            event: "2fa_reset_denied",
            detail: &match reason {
                Some(reason) => format!("request {request_id}: {reason}"),
                None => format!("request {request_id}"),
            },
        },
        client.ip.as_deref(),
        now,
    )
    .await
    .or_internal()?;
    tx.commit().await.or_internal()?;
    tracing::info!(
        admin = target.id,
        by = signed.admin.id,
        request = request_id,
        "2FA reset denied"
    );
    publish_resolved(ctx, target, request_id, RequestStatus::Denied, reason).await;
    notify::admin(
        ctx,
        target,
        "2fa_reset_denied",
        "Your 2FA reset request was denied",
        &format!(
            "Your super admin denied your request to reset your two-factor authentication.{} \
             Your authenticator app stays the way to sign in; contact your super admin if you \
             cannot use it.",
            reason
                .map(|r| format!(" Their reason: {r}"))
                .unwrap_or_default()
        ),
        now,
    )
    .await
}

/// A pending request becomes moot when its admin signs in with a code after all.
pub async fn withdraw_pending(
    ctx: &Ctx,
    admin: &Admin,
    client: &Client,
    now: i64,
) -> Result<(), AppError> {
    withdraw(ctx, admin, client, now, "signed in with a code").await?;
    Ok(())
}

/// "Withdraw request" on the code step: the requester takes their pending request back.
pub async fn withdraw_own(
    ctx: &Ctx,
    signed: &SignedIn,
    client: &Client,
) -> Result<ResetRequestState, AppError> {
    if withdraw(
        ctx,
        &signed.admin,
        client,
        ctx.now(),
        "withdrawn by the requester",
    )
    .await?
    {
        Ok(ResetRequestState::None)
    } else {
        Err(AppError::Conflict(
            "You have no pending 2FA reset request.".into(),
        ))
    }
}

/// Withdraws the admin's pending request, if any; answers whether there was one.
async fn withdraw(
    ctx: &Ctx,
    admin: &Admin,
    client: &Client,
    now: i64,
    why: &str,
) -> Result<bool, AppError> {
    let mut tx = ctx.db.write().await.or_internal()?;
    let Some(pending) = reset_requests::pending_for_admin(&mut tx, admin.id)
        .await
        .or_internal()?
    else {
        return Ok(false);
    };
    if !reset_requests::decide(
        &mut tx,
        pending.id,
        RequestStatus::Withdrawn,
        None,
        None,
        now,
    )
    .await
    .or_internal()?
    {
        return Ok(false);
    }
    audit::record(
        &mut tx,
        audit::Event {
            account_id: Some(admin.account_id),
            actor_id: Some(admin.id),
            target_id: Some(admin.id),
            event: "2fa_reset_withdrawn",
            detail: &format!("request {} ({why})", pending.id),
        },
        client.ip.as_deref(),
        now,
    )
    .await
    .or_internal()?;
    tx.commit().await.or_internal()?;
    ctx.hub
        .publish(
            admin.account_id,
            Audience::SuperAdmins,
            LiveEvent::ResetResolved {
                request_id: pending.id,
                admin_id: admin.id,
                admin_name: admin.name.clone(),
                status: RequestStatus::Withdrawn,
                reason: None,
            },
        )
        .await;
    Ok(true)
}

/// The history of an admin's requests, for the super admin.
pub async fn history(
    ctx: &Ctx,
    signed: &SignedIn,
    admin_id: i64,
) -> Result<Vec<ResetHistoryItem>, AppError> {
    let db = &ctx.db;
    admins::find_in_account(db, signed.account.id, admin_id)
        .await
        .or_internal()?
        .ok_or(AppError::NotFound)?;
    let items = reset_requests::history(db, signed.account.id, admin_id)
        .await
        .or_internal()?;
    Ok(items
        .into_iter()
        .map(|r| ResetHistoryItem {
            id: r.id,
            status: r.status,
            requested_at: r.requested_at,
            requested_ip: r.requested_ip,
            decided_at: r.decided_at,
            decided_by: r.decided_by_name,
            reason: r.reason,
        })
        .collect())
}

/// How many requests of the super admin's account wait for a decision.
pub async fn pending_count(ctx: &Ctx, signed: &SignedIn) -> Result<i64, AppError> {
    expire_due_quietly(ctx, ctx.now()).await;
    reset_requests::pending_count(&ctx.db, signed.account.id)
        .await
        .or_internal()
}

pub async fn notifications(ctx: &Ctx, signed: &SignedIn) -> Result<Notifications, AppError> {
    let (items, unread) = notifications::latest(&ctx.db, signed.admin.id, 20)
        .await
        .or_internal()?;
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

pub async fn mark_read(ctx: &Ctx, signed: &SignedIn) -> Result<(), AppError> {
    notifications::mark_all_read(&ctx.db, signed.admin.id, ctx.now())
        .await
        .or_internal()
}
