//! Admins of an account. Every lookup that serves a signed-in admin is scoped by account id.

use super::accounts::Account;
use super::{Db, flag};
use crate::domain::enforcement::Rule;
use crate::domain::factors::Factors;
use crate::domain::role::Role;
use crate::server::password::PasswordHash;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Clone, Debug)]
pub struct Admin {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub username: String,
    pub name: String,
    pub password_hash: PasswordHash,
    pub role: Role,
    pub active: bool,
    /// "Enforce 2FA" for this admin; `None` means the account setting applies.
    pub enforce_2fa: Option<bool>,
    /// The end of the grace period of this admin's own "Enforce 2FA" (see `enforcement::Rule`).
    pub enforce_2fa_deadline: Option<i64>,
    pub last_sign_in_at: Option<i64>,
    /// The password was chosen by a super admin: a new one is due at sign-in.
    pub must_change_password: bool,
    /// 2FA was reset: the setup comes at the next sign-in...
    pub prompt_2fa_setup: bool,
    /// ...required, or only offered (then it may be skipped, and comes again).
    pub setup_required: bool,
    /// When an offered setup was last skipped.
    pub setup_skipped_at: Option<i64>,
    /// After a reset: the setup code's MAC ("key id:mac") and when it stops working.
    pub setup_code: Option<(String, i64)>,
    /// The second factors set up (as of this read): TOTP, security keys.
    pub factors: Factors,
    /// A "Request 2FA Reset" of this admin waits for a decision (as of this read).
    pub reset_pending: bool,
    /// Moves on whenever all the admin's sessions are ended; a session made under another
    /// generation is refused (see `sessions::end_for_admin`).
    pub session_generation: i64,
}

impl Admin {
    /// "Enforce 2FA" as the super admin set it for this admin; `None`: the account's applies.
    pub fn enforcement_rule(&self) -> Option<Rule> {
        self.enforce_2fa.map(|on| Rule {
            on,
            deadline: self.enforce_2fa_deadline,
        })
    }
}

/// What the next sign-in asks of an admin without 2FA, apart from enforcement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupPrompt {
    /// Nothing.
    None,
    /// The setup, which they may skip (and see again at each sign-in).
    Offered,
    /// The setup, before anything else.
    Required,
}

/// `SELECT <admin columns> FROM admins <rest>` as one static string (columns named by table,
/// so `rest` may join).
macro_rules! select_admins {
    ($extra:literal, $rest:literal) => {
        concat!(
            "SELECT admins.id, admins.account_id, admins.email, admins.username, admins.name, \
             admins.password_hash, admins.role, admins.active, admins.enforce_2fa, \
             admins.enforce_2fa_deadline, admins.last_sign_in_at, admins.must_change_password, admins.prompt_2fa_setup, \
             admins.setup_required, admins.setup_skipped_at, admins.setup_code, \
             admins.setup_code_expires_at, admins.session_generation, admins.factors, \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM totp_credentials t \
             WHERE t.admin_id = admins.id) THEN 1 ELSE 0 END AS BIGINT) AS has_totp, \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM reset_requests r \
             WHERE r.admin_id = admins.id AND r.status = 'pending') THEN 1 ELSE 0 END AS BIGINT) \
             AS reset_pending",
            $extra,
            " FROM admins ",
            $rest
        )
    };
    ($rest:literal) => {
        select_admins!("", $rest)
    };
}

fn from_row(row: &AnyRow) -> Result<Admin, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(Admin {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        email: row.try_get("email")?,
        username: row.try_get("username")?,
        name: row.try_get("name")?,
        password_hash: PasswordHash::from_stored(row.try_get("password_hash")?),
        role: Role::parse(&role)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown role {role:?}").into()))?,
        active: row.try_get::<i64, _>("active")? != 0,
        enforce_2fa: row
            .try_get::<Option<i64>, _>("enforce_2fa")?
            .map(|v| v != 0),
        enforce_2fa_deadline: row.try_get("enforce_2fa_deadline")?,
        last_sign_in_at: row.try_get("last_sign_in_at")?,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        prompt_2fa_setup: row.try_get::<i64, _>("prompt_2fa_setup")? != 0,
        setup_required: row.try_get::<i64, _>("setup_required")? != 0,
        setup_skipped_at: row.try_get("setup_skipped_at")?,
        setup_code: match (
            row.try_get::<Option<String>, _>("setup_code")?,
            row.try_get::<Option<i64>, _>("setup_code_expires_at")?,
        ) {
            (Some(mac), Some(expires_at)) => Some((mac, expires_at)),
            _ => None,
        },
        factors: {
            let totp = row.try_get::<i64, _>("has_totp")? != 0;
            Factors {
                totp,
                keys: row.try_get::<i64, _>("factors")? - i64::from(totp),
            }
        },
        reset_pending: row.try_get::<i64, _>("reset_pending")? != 0,
        session_generation: row.try_get("session_generation")?,
    })
}

/// The admin whose email or username is `identifier` (already lower-cased).
pub async fn find_by_identifier(db: &Db, identifier: &str) -> Result<Option<Admin>, sqlx::Error> {
    sqlx::query(select_admins!("WHERE email = $1 OR username = $1"))
        .bind(identifier)
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The admin `id`, whatever the account (operator commands only).
pub async fn find(db: &Db, id: i64) -> Result<Option<Admin>, sqlx::Error> {
    sqlx::query(select_admins!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The admin `id` if it belongs to `account_id`; another account's admin is "not found".
pub async fn find_in_account(
    db: &Db,
    account_id: i64,
    id: i64,
) -> Result<Option<Admin>, sqlx::Error> {
    sqlx::query(select_admins!("WHERE id = $1 AND account_id = $2"))
        .bind(id)
        .bind(account_id)
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// A signed-in admin's request: the admin `id` of `account_id`, with the account, in one read.
pub async fn find_with_account(
    db: &Db,
    account_id: i64,
    id: i64,
) -> Result<Option<(Admin, Account)>, sqlx::Error> {
    let row = sqlx::query(select_admins!(
        ", accounts.name AS account_name, accounts.force_2fa AS account_force_2fa, \
         accounts.force_2fa_deadline AS account_force_2fa_deadline, \
         accounts.remember_browser_days AS account_remember_browser_days, \
         accounts.remember_epoch AS account_remember_epoch, \
         accounts.require_keys AS account_require_keys",
        "JOIN accounts ON accounts.id = admins.account_id \
         WHERE admins.id = $1 AND admins.account_id = $2"
    ))
    .bind(id)
    .bind(account_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|row| {
        Ok((
            from_row(&row)?,
            Account {
                id: account_id,
                name: row.try_get("account_name")?,
                force_2fa: row.try_get::<i64, _>("account_force_2fa")? != 0,
                force_2fa_deadline: row.try_get("account_force_2fa_deadline")?,
                remember_browser_days: row.try_get("account_remember_browser_days")?,
                remember_epoch: row.try_get("account_remember_epoch")?,
                require_keys: row.try_get::<i64, _>("account_require_keys")? != 0,
            },
        ))
    })
    .transpose()
}

pub struct NewAdmin<'a> {
    pub account_id: i64,
    pub email: &'a str,
    pub username: &'a str,
    pub name: &'a str,
    pub password_hash: &'a PasswordHash,
    pub role: Role,
    /// True when someone else chose the password (Add admin).
    pub must_change_password: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("an admin with this {0} already exists")]
    Duplicate(&'static str),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Inserts an admin. Takes a connection so it can run inside the caller's transaction.
pub async fn create(
    conn: &mut AnyConnection,
    new: NewAdmin<'_>,
    now: i64,
) -> Result<i64, CreateError> {
    // A username that equals someone's email (or the reverse) would make sign-in ambiguous.
    let clash: Option<String> = sqlx::query(
        "SELECT CASE WHEN email = $1 OR username = $1 THEN 'email' ELSE 'username' END AS field \
         FROM admins WHERE email IN ($1, $2) OR username IN ($1, $2) LIMIT 1",
    )
    .bind(new.email)
    .bind(new.username)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| r.try_get("field"))
    .transpose()?;
    if let Some(field) = clash {
        return Err(CreateError::Duplicate(if field == "email" {
            "email"
        } else {
            "username"
        }));
    }
    let row = sqlx::query(
        "INSERT INTO admins (account_id, email, username, name, password_hash, role, active, \
                             must_change_password, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $8) RETURNING id",
    )
    .bind(new.account_id)
    .bind(new.email)
    .bind(new.username)
    .bind(new.name)
    .bind(new.password_hash.as_stored())
    .bind(new.role.as_str())
    .bind(flag(new.must_change_password))
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        // Lost a race with another insert of the same email or username.
        if super::is_unique_violation(&e) {
            CreateError::Duplicate("email or username")
        } else {
            CreateError::Db(e)
        }
    })?;
    Ok(row.try_get("id")?)
}

pub async fn record_sign_in(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE admins SET last_sign_in_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_active(db: &Db, id: i64, active: bool, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE admins SET active = $1, updated_at = $2 WHERE id = $3")
        .bind(flag(active))
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn set_password(
    db: &Db,
    id: i64,
    hash: &PasswordHash,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE admins SET password_hash = $1, must_change_password = 0, updated_at = $2 WHERE id = $3")
        .bind(hash.as_stored())
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// "Skip for now" on an offered setup: remembered (the table shows it), and offered again.
/// Answers false when the setup code changed since `seen_code` was read (a new code or a new
/// reset meanwhile): nothing is written then.
pub async fn record_setup_skipped(
    conn: &mut AnyConnection,
    id: i64,
    seen_code: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    // The setup code did its work: until the setup is done, the password alone signs in (the
    // super admin chose to offer the setup only).
    let done = sqlx::query(
        "UPDATE admins SET setup_skipped_at = $1, setup_code = NULL, \
                           setup_code_expires_at = NULL \
         WHERE id = $2 AND COALESCE(setup_code, '') = $3",
    )
    .bind(now)
    .bind(id)
    .bind(seen_code.unwrap_or_default())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets the setup codes kept under `key_id` (a lost key): they could never be checked.
/// Answers how many.
pub async fn forget_setup_codes_under(
    conn: &mut AnyConnection,
    key_id: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE admins SET setup_code = NULL, setup_code_expires_at = NULL \
         WHERE setup_code LIKE $1",
    )
    .bind(format!("{key_id}:%"))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// (id, email) of the account's active super admins.
pub async fn super_admins(db: &Db, account_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT id, email FROM admins WHERE account_id = $1 AND role = 'super_admin' AND active = 1 \
         ORDER BY id",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("email")?)))
    .collect()
}

/// The setup code the next sign-in asks for (inside the caller's transaction), replacing any
/// earlier one; only for an admin after a reset without 2FA set up again, checked in the same
/// statement (a setup finished meanwhile wins). Answers whether it was stored.
pub async fn set_setup_code_in(
    conn: &mut AnyConnection,
    id: i64,
    mac: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE admins SET setup_code = $1, setup_code_expires_at = $2, updated_at = $3 \
         WHERE id = $4 AND prompt_2fa_setup = 1 AND factors = 0",
    )
    .bind(mac)
    .bind(expires_at)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What the next sign-in asks (inside the caller's transaction); any earlier skip is forgotten.
/// With nothing to ask, the setup code goes too.
pub async fn set_setup_prompt_in(
    conn: &mut AnyConnection,
    id: i64,
    prompt: SetupPrompt,
    now: i64,
) -> Result<(), sqlx::Error> {
    let (prompt, required) = match prompt {
        SetupPrompt::None => (false, false),
        SetupPrompt::Offered => (true, false),
        SetupPrompt::Required => (true, true),
    };
    sqlx::query(
        "UPDATE admins SET prompt_2fa_setup = $1, setup_required = $2, setup_skipped_at = NULL, \
                           setup_code = CASE WHEN $1 = 0 THEN NULL ELSE setup_code END, \
                           setup_code_expires_at = CASE WHEN $1 = 0 THEN NULL \
                                                        ELSE setup_code_expires_at END, \
                           updated_at = $3 WHERE id = $4",
    )
    .bind(flag(prompt))
    .bind(flag(required))
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// (id, name) of the account's admins by name, at most `limit` (filters of the audit log).
pub async fn names(
    db: &Db,
    account_id: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query("SELECT id, name FROM admins WHERE account_id = $1 ORDER BY LOWER(name) LIMIT $2")
        .bind(account_id)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect()
}
