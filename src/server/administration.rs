//! Administration for the super admin: the account's settings and its admins. Every function
//! takes the signed-in super admin and works inside their account only; ids of other accounts
//! are "not found", like ids that do not exist.

use crate::domain::admin_list::{
    Cursor, PAGE_SIZE, TableQuery, View, page_count, pending_first_window,
};
use crate::domain::admin_rules::{self, AdminState};
use crate::domain::enforcement::{self, Rule};
use crate::domain::identity;
use crate::domain::role::Role;
use crate::model::AppError;
use crate::model::types::{
    AccountSettings, AddedAdmin, AdminDetail, AdminRow, AdminTable, Grace, PendingReset,
    SetupCodeDue, TwoFactorOverview,
};
use crate::server::auth::{Client, SignedIn};
use crate::server::db::admin_table::{self, Changes, EditError, TableRow, Which};
use crate::server::db::reset_requests;
use crate::server::db::{accounts, admins};
use crate::server::notify::{self, Event};
use crate::server::password::Tenant;
use crate::server::{Ctx, OrInternal, internal};

/// The Settings page of the signed-in super admin's account (all read with the session's admin).
pub fn settings(ctx: &Ctx, signed_in: &SignedIn, now: i64) -> AccountSettings {
    let account = &signed_in.account;
    AccountSettings {
        account_name: account.name.clone(),
        force_2fa: account.force_2fa,
        grace: Grace::of(
            &enforcement::effective(account.enforcement_rule(), None),
            now,
        ),
        remember_days: account.remember_browser_days,
        you_have_two_factor: signed_in.admin.factors.any(),
        require_keys: account.require_keys,
        keys_available: ctx.webauthn.is_some(),
    }
}

/// Saves "Force two-factor authentication" with its grace period (`grace_days`, 0 to
/// `MAX_GRACE_DAYS`; empty or 0: at each admin's next sign-in; saving the days the form showed
/// keeps the deadline, other days start a new period from now) and the days a browser may skip
/// the code (0 to 30; 0: off). Nothing is saved when either is refused.
pub async fn save_settings(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    form: SettingsForm<'_>,
) -> Result<AccountSettings, AppError> {
    let now = ctx.now();
    let force_2fa = form.force_2fa;
    let days = grace_days_of(force_2fa, form.grace_days)?;
    let shown = shown_days(form.grace_shown);
    let remember_days = crate::domain::remember::parse_days(form.remember_days)
        .map_err(|message| AppError::invalid("remember_days", message))?;
    // As stored: the signed-in view counts it only where keys work.
    let stored_keys = accounts::find(&ctx.db, signed_in.account.id)
        .await
        .or_internal()?
        .ok_or(AppError::NotFound)?
        .require_keys;
    // Where keys do not work (the public address names no domain) the form cannot show the
    // setting: what it sends is ignored, so a save does not turn it off unseen.
    let require_keys = if ctx.webauthn.is_some() {
        form.require_keys
    } else {
        stored_keys
    };
    if require_keys && !stored_keys && signed_in.admin.factors.keys == 0 {
        return Err(AppError::invalid(
            "require_keys",
            "Add a security key of your own first (Profile → Security keys): with this on, \
             you need one too.",
        ));
    }
    let before = signed_in.account.enforcement_rule();
    let rule = Rule {
        on: force_2fa,
        deadline: enforcement::deadline_after_save(
            force_2fa,
            days,
            shown,
            before.deadline.filter(|_| before.on),
            now,
        ),
    };
    accounts::save_settings(
        &ctx.db,
        signed_in.account.id,
        rule,
        remember_days,
        require_keys,
    )
    .await
    .or_internal()?;
    tracing::info!(
        account = signed_in.account.id,
        by = signed_in.admin.id,
        force_2fa,
        deadline = ?rule.deadline,
        "account 2FA setting saved"
    );
    if rule != before {
        notify::audit(
            ctx,
            Event {
                account_id: Some(signed_in.account.id),
                actor_id: Some(signed_in.admin.id),
                target_id: None,
                event: "enforcement_changed",
                detail: &format!("Force two-factor authentication {}", rule_words(rule, now)),
            },
            client,
            now,
        )
        .await?;
    }
    if remember_days != signed_in.account.remember_browser_days {
        let forgotten = if remember_days < signed_in.account.remember_browser_days {
            " (remembered browsers forgotten)"
        } else {
            ""
        };
        let detail = match remember_days {
            0 => format!("Don't ask for a code on a remembered browser: off{forgotten}"),
            n => format!("Don't ask for a code on a remembered browser for {n} days{forgotten}"),
        };
        notify::audit(
            ctx,
            Event {
                account_id: Some(signed_in.account.id),
                actor_id: Some(signed_in.admin.id),
                target_id: None,
                event: "remember_browser_changed",
                detail: &detail,
            },
            client,
            now,
        )
        .await?;
    }
    if require_keys != signed_in.account.require_keys {
        notify::audit(
            ctx,
            Event {
                account_id: Some(signed_in.account.id),
                actor_id: Some(signed_in.admin.id),
                target_id: None,
                event: "require_keys_changed",
                detail: if require_keys {
                    "Require security keys on"
                } else {
                    "Require security keys off"
                },
            },
            client,
            now,
        )
        .await?;
    }
    Ok(AccountSettings {
        force_2fa,
        grace: Grace::of(&enforcement::effective(rule, None), now),
        remember_days,
        require_keys,
        ..settings(ctx, signed_in, now)
    })
}

/// The Settings form as it is sent.
pub struct SettingsForm<'a> {
    pub force_2fa: bool,
    /// Days of grace for "Force two-factor authentication" (read when it is on).
    pub grace_days: &'a str,
    /// The days of grace the form showed (sent back unchanged: the deadline stays).
    pub grace_shown: &'a str,
    /// "Don't ask for a code on a remembered browser for N days"; empty or 0: off.
    pub remember_days: &'a str,
    /// "Require security keys".
    pub require_keys: bool,
}

/// The grace period a form asks for, read only when the enforcement is turned on (the field is
/// hidden otherwise).
fn grace_days_of(on: bool, value: &str) -> Result<i64, AppError> {
    if !on {
        return Ok(0);
    }
    enforcement::parse_grace_days(value).map_err(|message| AppError::invalid("grace_days", message))
}

/// The days of grace the form showed when it was opened (a hidden field); anything else: none.
fn shown_days(value: &str) -> Option<i64> {
    enforcement::parse_grace_days(value).ok()
}

/// An enforcement in the audit log's words: "off", "on", "on, 14 days to set it up".
fn rule_words(rule: Rule, now: i64) -> String {
    match (rule.on, rule.deadline) {
        (false, _) => "off".into(),
        (true, None) => "on".into(),
        (true, Some(deadline)) => format!(
            "on, {} days to set it up",
            enforcement::days_left(deadline, now)
        ),
    }
}

fn row(r: TableRow, account: &accounts::Account) -> AdminRow {
    let requirement = account.requirement(r.enforce_2fa.map(|on| Rule {
        on,
        deadline: r.enforce_2fa_deadline,
    }));
    AdminRow {
        id: r.id,
        name: r.name,
        username: r.username,
        email: r.email,
        role: r.role,
        active: r.active,
        two_factor_active: r.factors.any(),
        factors: r.factors,
        needs_key: r.active && requirement.wants_key() && r.factors.keys == 0,
        enforcement: requirement.enforcement,
        must_change_password: r.must_change_password,
        last_sign_in_at: r.last_sign_in_at,
        reset_request: r
            .pending_reset
            .map(|(request_id, requested_at)| PendingReset {
                request_id,
                requested_at,
            }),
        setup_skipped_at: r.setup_skipped_at,
    }
}

pub async fn table(
    ctx: &Ctx,
    signed_in: &SignedIn,
    query: &TableQuery,
) -> Result<AdminTable, AppError> {
    let db = &ctx.db;
    let account = &signed_in.account;
    crate::server::resets::expire_due_quietly(ctx, ctx.now()).await;
    let (total, pending_total, overview) = tokio::try_join!(
        admin_table::count(db, account.id, query, Which::All),
        // The pending count ignores the search: it is what the "Pending resets (N)" filter
        // promises.
        reset_requests::pending_count(db, account.id),
        admin_table::overview(db, account.id, account.enforcement_rule(), ctx.now()),
    )
    .or_internal()?;
    let offset = query.offset();
    let (rows, shown_total) = match query.view {
        View::Sorted => {
            let rows = match keyset(ctx, account.id, query, Which::All).await? {
                Some(rows) => rows,
                None => {
                    admin_table::page(db, account.id, query, Which::All, false, offset, PAGE_SIZE)
                        .await
                        .or_internal()?
                }
            };
            (rows, total)
        }
        View::PendingOnly => {
            let matching = admin_table::count(db, account.id, query, Which::Pending)
                .await
                .or_internal()?;
            let rows = admin_table::page(
                db,
                account.id,
                query,
                Which::Pending,
                false,
                offset,
                PAGE_SIZE,
            )
            .await
            .or_internal()?;
            (rows, matching)
        }
        View::PendingFirst => {
            let pending = admin_table::count(db, account.id, query, Which::Pending)
                .await
                .or_internal()?;
            // A page wholly past the pending requests continues from its neighbour's row; one
            // that holds some of them reads the few requests and the first of the rest.
            let keyset = if offset >= pending {
                keyset(ctx, account.id, query, Which::NotPending).await?
            } else {
                None
            };
            let rows = match keyset {
                Some(rows) => rows,
                None => {
                    let window = pending_first_window(offset, pending);
                    let mut rows = admin_table::page(
                        db,
                        account.id,
                        query,
                        Which::Pending,
                        true,
                        window.pending_offset,
                        window.pending_limit,
                    )
                    .await
                    .or_internal()?;
                    rows.extend(
                        admin_table::page(
                            db,
                            account.id,
                            query,
                            Which::NotPending,
                            false,
                            window.rest_offset,
                            window.rest_limit,
                        )
                        .await
                        .or_internal()?,
                    );
                    rows
                }
            };
            (rows, total)
        }
    };
    Ok(AdminTable {
        rows: rows.into_iter().map(|r| row(r, account)).collect(),
        total: shown_total,
        page: query.page,
        pages: page_count(shown_total),
        pending_total,
        overview: TwoFactorOverview {
            active_admins: overview.active_admins,
            two_factor_active: overview.two_factor_active,
            enforced_not_set_up: overview.enforced_not_set_up,
            in_grace_period: overview.in_grace_period,
        },
        account_force_2fa: account.force_2fa,
    })
}

/// The page a "Next" or "Previous" link asks for, read from its cursor (keyset pagination);
/// `None` when it has no cursor or the cursor no longer places the page: then the page is
/// counted from the top by its number. A "Previous" that finds fewer rows than a page (rows
/// went since) is counted too, so that page 1 is always whole.
async fn keyset(
    ctx: &Ctx,
    account_id: i64,
    query: &TableQuery,
    which: Which,
) -> Result<Option<Vec<TableRow>>, AppError> {
    let Some(cursor) = query.cursor else {
        return Ok(None);
    };
    let rows = admin_table::page_at(&ctx.db, account_id, query, which, cursor, PAGE_SIZE)
        .await
        .or_internal()?;
    Ok(rows.filter(|rows| matches!(cursor, Cursor::After(_)) || rows.len() as i64 == PAGE_SIZE))
}

pub async fn detail(ctx: &Ctx, signed_in: &SignedIn, id: i64) -> Result<AdminDetail, AppError> {
    let db = &ctx.db;
    crate::server::resets::expire_due_quietly(ctx, ctx.now()).await;
    let admin = admins::find_in_account(db, signed_in.account.id, id)
        .await
        .or_internal()?
        .ok_or(AppError::NotFound)?;
    let force = signed_in.account.force_2fa;
    let enforcement = enforcement::effective(
        signed_in.account.enforcement_rule(),
        admin.enforcement_rule(),
    );
    let now = ctx.now();
    Ok(AdminDetail {
        row: AdminRow {
            id: admin.id,
            name: admin.name.clone(),
            username: admin.username.clone(),
            email: admin.email.clone(),
            role: admin.role,
            active: admin.active,
            two_factor_active: admin.factors.any(),
            factors: admin.factors,
            needs_key: admin.active
                && signed_in
                    .account
                    .requirement(admin.enforcement_rule())
                    .wants_key()
                && admin.factors.keys == 0,
            enforcement,
            must_change_password: admin.must_change_password,
            last_sign_in_at: admin.last_sign_in_at,
            reset_request: crate::server::db::reset_requests::latest_for_admin(db, admin.id)
                .await
                .or_internal()?
                .filter(|r| r.status == crate::domain::reset::RequestStatus::Pending)
                .map(|r| PendingReset {
                    request_id: r.id,
                    requested_at: r.requested_at,
                }),
            setup_skipped_at: admin.setup_skipped_at,
        },
        enforce_2fa: admin.enforce_2fa,
        account_force_2fa: force,
        grace: admin
            .enforcement_rule()
            .and_then(|rule| Grace::of(&enforcement::effective(rule, None), now)),
        is_self: admin.id == signed_in.admin.id,
        setup_code_due: (admin.prompt_2fa_setup && !admin.factors.any()).then(|| {
            match admin.setup_code {
                Some((_, expires_at)) if crate::domain::setup_code::is_valid(expires_at, now) => {
                    SetupCodeDue::Valid { expires_at }
                }
                Some((_, expires_at)) => SetupCodeDue::Expired { expires_at },
                None => SetupCodeDue::None,
            }
        }),
    })
}

fn parse_role(value: &str) -> Result<Role, AppError> {
    Role::parse(value)
        .ok_or_else(|| AppError::invalid("role", "Choose a role: Admin or Sub-admin."))
}

/// "Enforce 2FA" as the form sends it: "account" (use the account setting), "on" or "off".
pub fn parse_enforce(value: &str) -> Result<Option<bool>, AppError> {
    match value {
        "account" => Ok(None),
        "on" => Ok(Some(true)),
        "off" => Ok(Some(false)),
        _ => Err(AppError::invalid(
            "enforce_2fa",
            "Choose on, off, or the account setting.",
        )),
    }
}

pub struct NewAdminForm<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub password: &'a str,
}

/// "Add admin": the admin must change the initial password at first sign-in.
pub async fn add_admin(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    form: NewAdminForm<'_>,
) -> Result<AddedAdmin, AppError> {
    let now = ctx.now();
    let email = identity::email(form.email)?;
    let username = identity::username(form.username)?;
    let name = identity::display_name("name", form.name)?;
    let role = parse_role(form.role)?;
    admin_rules::check_new_role(role).map_err(|e| AppError::invalid("role", e.to_string()))?;
    let password = identity::new_password(form.password)?;
    let hash = ctx
        .passwords
        .hash(Tenant::Account(signed_in.account.id), password)
        .await?;
    let mut conn = ctx.db.pool.acquire().await.or_internal()?;
    let id = admins::create(
        &mut conn,
        admins::NewAdmin {
            account_id: signed_in.account.id,
            email: &email,
            username: &username,
            name: &name,
            password_hash: &hash,
            role,
            must_change_password: true,
        },
        now,
    )
    .await
    .map_err(|e| match e {
        // Emails and usernames are unique across the deployment (either signs in). The answer
        // is the same whether this account or another one uses it, and names no account.
        admins::CreateError::Duplicate("email") => {
            AppError::invalid("email", "This email is already in use: choose another.")
        }
        admins::CreateError::Duplicate("username") => AppError::invalid(
            "username",
            "This username is already in use: choose another.",
        ),
        admins::CreateError::Duplicate(_) => {
            AppError::Conflict("This email or username is already in use: choose another.".into())
        }
        admins::CreateError::Db(e) => internal(e),
    })?;
    tracing::info!(
        account = signed_in.account.id,
        by = signed_in.admin.id,
        admin = id,
        "admin added"
    );
    notify::audit(
        ctx,
        Event {
            account_id: Some(signed_in.account.id),
            actor_id: Some(signed_in.admin.id),
            target_id: Some(id),
            event: "admin_created",
            detail: &format!("{email} as {}", role.as_str()),
        },
        client,
        now,
    )
    .await?;
    Ok(AddedAdmin { id, name })
}

pub struct EditForm<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub active: bool,
    pub enforce_2fa: &'a str,
    /// The grace period of "Enforce 2FA" on, in days (see `save_settings`).
    pub grace_days: &'a str,
    /// The days the form showed.
    pub grace_shown: &'a str,
}

pub async fn edit_admin(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    id: i64,
    form: EditForm<'_>,
) -> Result<(), AppError> {
    let now = ctx.now();
    let name = identity::display_name("name", form.name)?;
    let role = parse_role(form.role)?;
    let enforce_2fa = parse_enforce(form.enforce_2fa)?;
    let days = grace_days_of(enforce_2fa == Some(true), form.grace_days)?;
    let shown = shown_days(form.grace_shown);
    let after = AdminState {
        role,
        active: form.active,
    };
    let db = &ctx.db;
    let before = admins::find_in_account(db, signed_in.account.id, id)
        .await
        .or_internal()?
        .ok_or(AppError::NotFound)?;
    let kept = before
        .enforcement_rule()
        .filter(|r| r.on)
        .and_then(|r| r.deadline);
    let rule = enforce_2fa.map(|on| Rule {
        on,
        deadline: enforcement::deadline_after_save(on, days, shown, kept, now),
    });
    admin_table::edit(
        db,
        signed_in.account.id,
        id,
        Changes {
            name: &name,
            role,
            active: form.active,
            enforce_2fa: rule,
        },
        now,
        |before, others| admin_rules::check_edit(before, after, others),
    )
    .await
    .map_err(|e| match e {
        EditError::NotFound => AppError::NotFound,
        EditError::Refused(refused @ admin_rules::EditRefused::PromotionToSuperAdmin) => {
            AppError::invalid("role", refused.to_string())
        }
        EditError::Refused(refused @ admin_rules::EditRefused::LastSuperAdmin) => {
            AppError::Conflict(refused.to_string())
        }
        EditError::Db(e) => internal(e),
    })?;
    tracing::info!(
        account = signed_in.account.id,
        by = signed_in.admin.id,
        admin = id,
        role = role.as_str(),
        active = form.active,
        enforce_2fa = ?enforce_2fa,
        "admin changed"
    );
    let by_super_admin = |event, detail| Event {
        account_id: Some(signed_in.account.id),
        actor_id: Some(signed_in.admin.id),
        target_id: Some(id),
        event,
        detail,
    };
    let detail = format!(
        "name {:?}, role {}, active {}",
        name,
        role.as_str(),
        form.active
    );
    notify::audit(ctx, by_super_admin("admin_changed", &detail), client, now).await?;
    if before.enforcement_rule() != rule {
        let value = match rule {
            None => "account setting".into(),
            Some(rule) => rule_words(rule, now),
        };
        let detail = format!("Enforce 2FA: {value}");
        notify::audit(
            ctx,
            by_super_admin("enforcement_changed", &detail),
            client,
            now,
        )
        .await?;
    }
    Ok(())
}

/// "Unlock sign-in from new browsers": ends the lock a stranger's wrong passwords or codes put
/// on browsers the admin has not used before (their known browsers were never locked).
pub async fn unlock_sign_in(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    id: i64,
) -> Result<(), AppError> {
    let now = ctx.now();
    let admin = admins::find_in_account(&ctx.db, signed_in.account.id, id)
        .await
        .or_internal()?
        .ok_or(AppError::NotFound)?;
    // The unlock and its audit entry land together.
    let mut tx = ctx.db.write().await.or_internal()?;
    for step in ["password", "code"] {
        crate::server::db::auth_failures::clear(
            &mut tx,
            &format!("{step}:untrusted:admin:{}", admin.id),
        )
        .await
        .or_internal()?;
    }
    notify::audit_in(
        &mut tx,
        Event {
            account_id: Some(signed_in.account.id),
            actor_id: Some(signed_in.admin.id),
            target_id: Some(admin.id),
            event: "sign_in_unlocked",
            detail: "sign-in from new browsers unlocked",
        },
        client,
        now,
    )
    .await?;
    tx.commit().await.or_internal()
}
