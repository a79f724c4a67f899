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
        .hash(None, password)
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
    let mut tx = ctx.db.pool.begin().await?;
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
