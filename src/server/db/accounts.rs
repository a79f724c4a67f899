//! MSSP accounts (tenants).

use super::{Db, flag};
use crate::domain::enforcement::Rule;
use crate::domain::factors::Requirement;
use sqlx::{AnyConnection, Row};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub force_2fa: bool,
    /// The end of "Force two-factor authentication"'s grace period (see `enforcement::Rule`).
    pub force_2fa_deadline: Option<i64>,
    /// "Don't ask for a code on this browser for N days": N, 0 when off.
    pub remember_browser_days: i64,
    /// Moves on when that setting is lowered or turned off: browsers remembered under an
    /// earlier epoch are forgotten.
    pub remember_epoch: i64,
    /// "Require security keys": where 2FA is enforced, TOTP alone does not do.
    pub require_keys: bool,
}

impl Account {
    /// "Force two-factor authentication", with its grace period.
    pub fn enforcement_rule(&self) -> Rule {
        Rule {
            on: self.force_2fa,
            deadline: self.force_2fa_deadline,
        }
    }

    /// What 2FA must be for an admin whose own "Enforce 2FA" is `admin`.
    pub fn requirement(&self, admin: Option<Rule>) -> Requirement {
        Requirement {
            enforcement: crate::domain::enforcement::effective(self.enforcement_rule(), admin),
            keys_required: self.require_keys,
        }
    }
}

/// Inserts an account. Takes a connection so it can run inside the caller's transaction.
pub async fn create(
    conn: &mut AnyConnection,
    name: &str,
    now: i64,
) -> Result<Account, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO accounts (name, force_2fa, created_at) VALUES ($1, 0, $2) RETURNING id",
    )
    .bind(name)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Account {
        id: row.try_get("id")?,
        name: name.to_string(),
        force_2fa: false,
        force_2fa_deadline: None,
        remember_browser_days: 0,
        remember_epoch: 0,
        require_keys: false,
    })
}

pub async fn find(db: &Db, id: i64) -> Result<Option<Account>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, name, force_2fa, force_2fa_deadline, remember_browser_days, remember_epoch, \
         require_keys FROM accounts WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(Account {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            force_2fa: r.try_get::<i64, _>("force_2fa")? != 0,
            force_2fa_deadline: r.try_get("force_2fa_deadline")?,
            remember_browser_days: r.try_get("remember_browser_days")?,
            remember_epoch: r.try_get("remember_epoch")?,
            require_keys: r.try_get::<i64, _>("require_keys")? != 0,
        })
    })
    .transpose()
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM accounts")
        .fetch_one(&db.pool)
        .await?
        .try_get("n")
}

/// Saves the account's Settings: "Force two-factor authentication" with the end of its grace
/// period (`None` when off), the days a browser may be remembered (0: off) and "Require
/// security keys". Lowering the days (or turning them off), or turning "Require security keys"
/// on (a browser remembered after an app code must not outlive it), moves the remember epoch on
/// and forgets, in the same transaction, every browser remembered under an earlier one. `false` when there is no such account.
pub async fn save_settings(
    db: &Db,
    id: i64,
    rule: Rule,
    remember_browser_days: i64,
    require_keys: bool,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.write().await?;
    // Every right-hand side reads the row as it was: the epoch moves when the new days are
    // fewer than the old.
    let done = sqlx::query(
        "UPDATE accounts SET force_2fa = $1, force_2fa_deadline = $2, \
         remember_epoch = remember_epoch + CASE WHEN $3 < remember_browser_days \
             OR ($5 = 1 AND require_keys = 0) THEN 1 ELSE 0 END, \
         remember_browser_days = $3, require_keys = $5 WHERE id = $4",
    )
    .bind(flag(rule.on))
    .bind(rule.deadline.filter(|_| rule.on))
    .bind(remember_browser_days)
    .bind(id)
    .bind(flag(require_keys))
    .execute(&mut *tx)
    .await?;
    super::remembered_browsers::delete_of_old_epochs(&mut tx, id).await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}
