//! Creating accounts: the operator's `create-account` and the development demo data.

use crate::domain::identity;
use crate::domain::role::Role;
use crate::server::db::{Db, accounts, admins};
use crate::server::now;
use crate::server::password::Passwords;

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
pub async fn create_account(
    db: &Db,
    passwords: &Passwords,
    new: NewAccount<'_>,
) -> Result<(i64, i64), SeedError> {
    let account_name = identity::display_name("name", new.account_name)?;
    let email = identity::email(new.email)?;
    let username = identity::username(new.username)?;
    let admin_name = identity::display_name("admin_name", new.admin_name)?;
    let password = identity::new_password(new.password)?;
    let hash = passwords
        .hash(password)
        .await
        .map_err(|e| SeedError::Other(e.to_string()))?;
    let now = now();
    let mut tx = db.pool.begin().await?;
    let account = accounts::create(&mut tx, &account_name, now).await?;
    let admin_id = admins::create(
        &mut tx,
        admins::NewAdmin {
            account_id: account.id,
            email: &email,
            username: &username,
            name: &admin_name,
            password_hash: &hash,
            role: Role::SuperAdmin,
            must_change_password: false,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((account.id, admin_id))
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

/// Creates the demo account when the database has no account at all. Answers whether it did.
pub async fn seed_demo(db: &Db, passwords: &Passwords) -> Result<bool, SeedError> {
    if accounts::count(db).await? > 0 {
        return Ok(false);
    }
    let now = now();
    let mut hashes = Vec::new();
    for user in &DEMO_USERS {
        hashes.push(
            passwords
                .hash(user.password)
                .await
                .map_err(|e| SeedError::Other(e.to_string()))?,
        );
    }
    let mut tx = db.pool.begin().await?;
    let account = accounts::create(&mut tx, "Demo MSSP", now).await?;
    for (user, hash) in DEMO_USERS.iter().zip(&hashes) {
        admins::create(
            &mut tx,
            admins::NewAdmin {
                account_id: account.id,
                email: user.email,
                username: user.username,
                name: user.name,
                password_hash: hash,
                role: user.role,
                must_change_password: false,
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}
