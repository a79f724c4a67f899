//! Throttling wherever a secret is checked: the password step, the code step (TOTP and recovery
//! codes), and the re-checks of a signed-in session (turning 2FA on or off, new recovery codes,
//! a new password). Every attempt is counted before its secret is checked.
//!
//! Which counters an attempt counts on depends on the browser (see `known_browser`):
//! - a browser that completed a sign-in for this admin before: its own counter, nothing else;
//! - any other browser: the client address (IPv6 by /64) and the admin's counter for unknown
//!   browsers, which an attacker can lock, but only for browsers the owner has not used.

use crate::domain::network::throttle_bucket;
use crate::domain::rate_limit::Limit;
use crate::domain::throttle::Policy;
use crate::model::AppError;
use crate::server::auth::Client;
use crate::server::db::admins::Admin;
use crate::server::db::auth_failures::{self, Admitted};
use crate::server::db::rate_limits;
use crate::server::notify::{self, Event, Notice};
use crate::server::{Ctx, OrInternal, known_browser};
use sqlx::AnyConnection;

/// Lock notices per admin, kind and hour.
const NOTICES_PER_HOUR: Limit = Limit {
    max: 1,
    window_seconds: 3600,
};

/// The kind of secret tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    Password,
    /// A TOTP code or a recovery code.
    Code,
}

impl Secret {
    fn step(self) -> &'static str {
        match self {
            Secret::Password => "password",
            Secret::Code => "code",
        }
    }
}

/// Whose secret is tried: an admin, or a name no admin has (counted alike, so a lock tells
/// nothing about who exists).
#[derive(Clone, Copy, Debug)]
pub enum Subject<'a> {
    Admin(&'a Admin),
    Unknown(&'a str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Shared by everyone at one address: a success takes back only its own attempt.
    Address,
    /// One browser's own counter for the admin.
    KnownBrowser,
    /// The admin's counter for browsers they have not used before.
    Untrusted,
}

struct Counter {
    key: String,
    policy: Policy,
    kind: Kind,
    admitted: Admitted,
}

impl Counter {
    /// Takes this attempt back from the counter (starting from what admitting it wrote).
    async fn take_back(&self, conn: &mut AnyConnection) -> Result<(), AppError> {
        auth_failures::forgive(conn, &self.key, self.policy, self.admitted.written)
            .await
            .or_internal()
    }
}

/// An attempt admitted on all its counters.
pub struct Attempt {
    secret: Secret,
    /// Whose secret it tried ("admin:7", "name:x"), for what a success may forgive.
    subject: String,
    counters: Vec<Counter>,
}

/// Counts an attempt at `subject`'s secret from `client`; `TooManyRequests` while one of its
/// counters is locked (then the secret is not checked at all).
pub async fn admit(
    ctx: &Ctx,
    client: &Client,
    secret: Secret,
    subject: Subject<'_>,
    now: i64,
) -> Result<Attempt, AppError> {
    let step = secret.step();
    let policy = match secret {
        Secret::Password => ctx.config.password_policy(),
        Secret::Code => ctx.config.code_policy(),
    };
    let known = match subject {
        Subject::Admin(admin) => known_browser::find(ctx, client, admin.id),
        Subject::Unknown(_) => None,
    };
    let mut wanted = Vec::new();
    match known {
        Some(browser) => wanted.push((
            format!("{step}:browser:{}", browser.nonce),
            policy,
            Kind::KnownBrowser,
        )),
        None => {
            if let Some(ip) = &client.ip {
                wanted.push((
                    format!("{step}:ip:{}", throttle_bucket(ip)),
                    ctx.config.address_policy(),
                    Kind::Address,
                ));
            }
            wanted.push((
                format!("{step}:untrusted:{}", subject_key(subject)),
                policy,
                Kind::Untrusted,
            ));
        }
    }
    // Every counter is looked at (in one read) before any counts this attempt: a refusal by
    // one does not use up another's allowance (an address shared by a whole office, say).
    let looked_at = wanted
        .iter()
        .map(|(key, policy, _)| (key.as_str(), *policy))
        .collect::<Vec<_>>();
    // A locked counter refuses after this read alone, which waits for no writer.
    let seen = auth_failures::check_all(
        &mut *ctx.db.pool.acquire().await.or_internal()?,
        &looked_at,
        now,
    )
    .await
    .or_internal()?
    .map_err(|retry_after_seconds| AppError::TooManyRequests {
        retry_after_seconds,
    })?;
    // Counted in one transaction, committed before the secret is checked. What the read saw
    // is each compare-and-swap's first guess; a counter changed since is read again inside the
    // transaction (`auth_failures::admit`), and one locked since refuses.
    let mut tx = ctx.db.write().await.or_internal()?;
    let mut counters: Vec<Counter> = Vec::with_capacity(wanted.len());
    for ((key, policy, kind), seen) in wanted.into_iter().zip(seen) {
        match auth_failures::admit(&mut tx, &key, policy, now, seen)
            .await
            .or_internal()?
        {
            Ok(admitted) => counters.push(Counter {
                key,
                policy,
                kind,
                admitted,
            }),
            Err(retry_after_seconds) => {
                // Locked meanwhile: the counters already passed do not count this attempt.
                tx.rollback().await.or_internal()?;
                return Err(AppError::TooManyRequests {
                    retry_after_seconds,
                });
            }
        }
    }
    tx.commit().await.or_internal()?;
    Ok(Attempt {
        secret,
        subject: subject_key(subject),
        counters,
    })
}

fn subject_key(subject: Subject<'_>) -> String {
    match subject {
        Subject::Admin(admin) => format!("admin:{}", admin.id),
        Subject::Unknown(name) => format!("name:{name}"),
    }
}

/// Successes that take their attempt back from an address counter, per address, admin and hour:
/// an office behind one address is not slowed by its people's sign-ins, and an insider signing
/// in to their own account between guesses at others wipes out at most this many.
const FORGIVEN_PER_HOUR: Limit = Limit {
    max: 30,
    window_seconds: 3600,
};

impl Attempt {
    /// The secret was right: the run of failures ends (an address only takes back this one,
    /// and only so often). Written through `conn`, in the transaction of what the success
    /// writes besides (the session moved on), when there is one.
    pub async fn succeeded(self, conn: &mut AnyConnection, now: i64) -> Result<(), AppError> {
        for counter in &self.counters {
            match counter.kind {
                Kind::Address => {
                    let allowance = format!("forgiven:{}:{}", counter.key, self.subject);
                    if rate_limits::hit(&mut *conn, &allowance, FORGIVEN_PER_HOUR, now)
                        .await
                        .or_internal()?
                        .is_ok()
                    {
                        counter.take_back(&mut *conn).await?;
                    }
                }
                Kind::KnownBrowser | Kind::Untrusted => {
                    auth_failures::clear(&mut *conn, &counter.key)
                        .await
                        .or_internal()?
                }
            }
        }
        Ok(())
    }

    /// [`Attempt::succeeded`] in a statement of its own (no transaction to join).
    pub async fn succeeded_alone(self, ctx: &Ctx, now: i64) -> Result<(), AppError> {
        let mut conn = ctx.db.pool.acquire().await.or_internal()?;
        self.succeeded(&mut conn, now).await
    }

    /// The secret was never checked (the hashing queue was full, an internal error): the
    /// attempt is taken back everywhere.
    pub async fn abandon(self, ctx: &Ctx) -> Result<(), AppError> {
        let mut tx = ctx.db.write().await.or_internal()?;
        for counter in &self.counters {
            counter.take_back(&mut tx).await?;
        }
        tx.commit().await.or_internal()
    }

    /// The secret was wrong (the failure is counted already): `event` goes to the audit log.
    /// When this failure locked one of the admin's counters, the lock goes there too and the
    /// account's super admins are told (at most once an hour).
    pub async fn failed(
        self,
        ctx: &Ctx,
        admin: Option<&Admin>,
        event: Event<'_>,
        client: &Client,
        now: i64,
    ) -> Result<(), AppError> {
        notify::audit(ctx, event, client, now).await?;
        let locked = self
            .counters
            .iter()
            .find(|c| c.kind != Kind::Address && c.admitted.locks);
        let (Some(admin), Some(locked)) = (admin, locked) else {
            return Ok(());
        };
        crate::server::metrics::lock(self.secret.step());
        let what = match self.secret {
            Secret::Password => "passwords",
            Secret::Code => "2FA codes",
        };
        let whence = match locked.kind {
            Kind::KnownBrowser => "from a browser they signed in on",
            _ => "from browsers they have not used before",
        };
        let detail = format!("repeated wrong {what} {whence}");
        notify::audit(
            ctx,
            Event {
                actor_id: None,
                ..Event::by_self(admin, "lockout", &detail)
            },
            client,
            now,
        )
        .await?;
        // Told at most once an hour per admin and kind: locks that follow each other (each
        // failure after the first lock locks again) would flood the super admins' mail.
        let told = format!(
            "told:lock:{}:{}:{}",
            admin.id,
            self.secret.step(),
            if locked.kind == Kind::KnownBrowser {
                "browser"
            } else {
                "untrusted"
            }
        );
        if rate_limits::hit(
            &mut *ctx.db.pool.acquire().await.or_internal()?,
            &told,
            NOTICES_PER_HOUR,
            now,
        )
        .await
        .or_internal()?
        .is_err()
        {
            return Ok(());
        }
        let effect = match locked.kind {
            Kind::KnownBrowser => "That browser is locked for a while.".to_string(),
            _ => format!(
                "Sign-ins from browsers {} has not used before are slowed for a while; browsers \
                 they have signed in on are not affected.",
                admin.name
            ),
        };
        let whoever = match self.secret {
            Secret::Password => "",
            Secret::Code => " Whoever tries knows their password.",
        };
        notify::super_admins(
            ctx,
            admin.account_id,
            None,
            Notice {
                kind: match self.secret {
                    Secret::Password => "repeated_wrong_passwords",
                    Secret::Code => "repeated_wrong_codes",
                },
                subject: &format!("Repeated wrong {what} for {}", admin.name),
                message: &format!(
                    "Repeated wrong {what} for {} ({}) {whence}. {effect}{whoever}",
                    admin.name, admin.email
                ),
                link: &format!("/admin/admins/{}", admin.id),
            },
            now,
        )
        .await
    }
}
