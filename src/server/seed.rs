//! Creating accounts: the operator's `create-account` and the development demo data.

use crate::domain::identity;
use crate::domain::role::Role;
use crate::server::Ctx;
use crate::server::db::{accounts, admins};
use crate::server::password::PasswordHash;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{0}")]
    Invalid(#[from] identity::Invalid),
    #[error("{0}")]
    Create(#[from] admins::CreateError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Other(String),
}

pub struct NewAccount<'a> {
    pub account_name: &'a str,
    pub email: &'a str,
    pub username: &'a str,
    pub admin_name: &'a str,
    pub password: &'a str,
}

/// Validates and creates an account with its super admin, both or neither.
pub async fn create_account(ctx: &Ctx, new: NewAccount<'_>) -> Result<(i64, i64), SeedError> {
    let account_name = identity::display_name("name", new.account_name)?;
    let email = identity::email(new.email)?;
    let username = identity::username(new.username)?;
    let admin_name = identity::display_name("admin_name", new.admin_name)?;
    let password = identity::new_password(new.password)?;
    let hash = hash(ctx, password).await?;
    let (account_id, admin_ids) = insert_account(
        ctx,
        &account_name,
        &[Member {
            email: &email,
            username: &username,
            name: &admin_name,
            hash: &hash,
            role: Role::SuperAdmin,
        }],
    )
    .await?;
    Ok((account_id, admin_ids[0]))
}

async fn hash(ctx: &Ctx, password: &str) -> Result<PasswordHash, SeedError> {
    ctx.passwords
        .hash(crate::server::password::Tenant::Nobody, password)
        .await
        .map_err(|e| SeedError::Other(e.to_string()))
}

/// An admin of a new account, validated and with the password hashed.
struct Member<'a> {
    email: &'a str,
    username: &'a str,
    name: &'a str,
    hash: &'a PasswordHash,
    role: Role,
}

/// Creates an account and its admins in one transaction; answers their ids.
async fn insert_account(
    ctx: &Ctx,
    name: &str,
    members: &[Member<'_>],
) -> Result<(i64, Vec<i64>), SeedError> {
    let now = ctx.now();
    let mut tx = ctx.db.write().await?;
    let account = accounts::create(&mut tx, name, now).await?;
    let mut ids = Vec::with_capacity(members.len());
    for member in members {
        ids.push(
            admins::create(
                &mut tx,
                admins::NewAdmin {
                    account_id: account.id,
                    email: member.email,
                    username: member.username,
                    name: member.name,
                    password_hash: member.hash,
                    role: member.role,
                    must_change_password: false,
                },
                now,
            )
            .await?,
        );
    }
    tx.commit().await?;
    Ok((account.id, ids))
}

/// One demo admin.
pub struct DemoUser {
    pub name: &'static str,
    pub email: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub role: Role,
}

/// The demo account's admins. Development only: `serve --demo`.
pub const DEMO_USERS: [DemoUser; 3] = [
    DemoUser {
        name: "Sam Super",
        email: "super@demo.example",
        username: "super",
        password: "demo-super-admin-pw",
        role: Role::SuperAdmin,
    },
    DemoUser {
        name: "Alice Analyst",
        email: "alice@demo.example",
        username: "alice",
        password: "demo-alice-admin-pw",
        role: Role::Admin,
    },
    DemoUser {
        name: "Bob Builder",
        email: "bob@demo.example",
        username: "bob",
        password: "demo-bob-admin-pw",
        role: Role::Admin,
    },
];

/// What `seed_demo` found or did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Demo {
    /// The demo account was created now.
    Created,
    /// The demo account is there from an earlier start.
    Present,
    /// The database holds other accounts and no demo: nothing was created.
    NotCreated,
}

/// Creates the demo account when the database has no account at all.
pub async fn seed_demo(ctx: &Ctx) -> Result<Demo, SeedError> {
    if admins::find_by_identifier(&ctx.db, DEMO_USERS[0].username)
        .await?
        .is_some()
    {
        return Ok(Demo::Present);
    }
    if accounts::count(&ctx.db).await? > 0 {
        return Ok(Demo::NotCreated);
    }
    let mut hashes = Vec::new();
    for user in &DEMO_USERS {
        hashes.push(hash(ctx, user.password).await?);
    }
    let members: Vec<Member<'_>> = DEMO_USERS
        .iter()
        .zip(&hashes)
        .map(|(user, hash)| Member {
            email: user.email,
            username: user.username,
            name: user.name,
            hash,
            role: user.role,
        })
        .collect();
    insert_account(ctx, "Demo MSSP", &members).await?;
    Ok(Demo::Created)
}

/// Adds `count` admins named `User 1..` to an account in one transaction, quickly (batched
/// inserts, one made-up password hash that matches no password): for benchmarks and browser
/// tests of large accounts. Every fifth has "Enforce 2FA" on, every fiftieth is inactive, every
/// fourth a sub-admin, every third has a TOTP credential (stored as legacy plaintext, which the
/// next start encrypts). Emails and usernames carry `tag`, so several runs do not collide.
pub async fn bulk_admins(
    db: &crate::server::db::Db,
    account_id: i64,
    tag: &str,
    count: i64,
) -> Result<(), SeedError> {
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(SeedError::Other(
            "the tag must be letters, digits or '-'".into(),
        ));
    }
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0000000000000000000000000000000000000000000";
    let mut tx = db.write().await?;
    let mut next = 1;
    while next <= count {
        let end = (next + 500).min(count + 1);
        let mut sql = String::from(
            "INSERT INTO admins (account_id, email, username, name, password_hash, role, active, \
             enforce_2fa, last_sign_in_at, created_at, updated_at) VALUES ",
        );
        for i in next..end {
            let enforce = if i % 5 == 0 { "1" } else { "NULL" };
            let active = if i % 50 == 0 { 0 } else { 1 };
            let role = if i % 4 == 0 { "sub_admin" } else { "admin" };
            sql.push_str(&format!(
                "({account_id}, 'user{i}@{tag}.example', '{tag}-user{i}', 'User {i}', '{hash}', \
                 '{role}', {active}, {enforce}, {}, 0, 0),",
                1_700_000_000 + i * 37 % 100_000
            ));
        }
        sql.pop();
        // Built from integers and a tag of letters, digits and '-' only.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
        next = end;
    }
    sqlx::query(
        "INSERT INTO totp_credentials (admin_id, secret, last_used_step, created_at) \
         SELECT id, 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 0, 0 FROM admins \
         WHERE account_id = $1 AND id % 3 = 0 AND email LIKE $2 \
         AND id NOT IN (SELECT admin_id FROM totp_credentials)",
    )
    .bind(account_id)
    .bind(format!("%@{tag}.example"))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // Statistics as a running database has them (PostgreSQL's autovacuum gathers them soon
    // after a bulk insert).
    sqlx::query("ANALYZE").execute(&db.pool).await?;
    Ok(())
}
