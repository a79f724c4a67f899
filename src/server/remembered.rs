//! Remember this browser: "Don't ask for a code on this browser for N days".
//!
//! When the account allows it (Settings, 1 to 30 days; off by default), the code step may leave
//! a random 256-bit token in an HttpOnly cookie. Only its SHA-256 is stored, with the admin and
//! the admin's session generation when it was made: the password step skips the code for that
//! admin from that browser while the row exists, is of the admin's current generation, and is
//! within both its own end and the account's setting now. A reset approval, turning 2FA off, a
//! new password, "Sign out all other sessions" and a deactivation move the generation on (and
//! delete the rows), so each revokes every remembered browser of the admin; the profile lists
//! them and forgets each. Lowering the account's days or turning them off moves the account's
//! remember epoch on, which forgets every browser remembered before. Only an authenticator code
//! remembers a browser (not a recovery code, meant for emergencies), and the admin is told. The
//! password is always asked. Where "Require security keys" applies to the admin, no browser is
//! remembered or recognised: every sign-in asks for the key.

use crate::domain::{device, remember};
use crate::model::AppError;
use crate::model::types::RememberedBrowser;
use crate::server::auth::{Client, SignedIn};
use crate::server::db::accounts::Account;
use crate::server::db::admins::Admin;
use crate::server::db::remembered_browsers::{self as rows, Current, NewRemembered};
use crate::server::notify::{self, Event};
use crate::server::{Ctx, OrInternal};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tower_cookies::Cookie;
use tower_cookies::cookie::SameSite;

/// Name of the cookie over plain http (development).
pub const COOKIE: &str = "mssp_remember";
/// Name of the cookie when served over https.
pub const SECURE_COOKIE: &str = "__Host-mssp_remember";

fn cookie_name(ctx: &Ctx) -> &'static str {
    if ctx.config.cookie_secure {
        SECURE_COOKIE
    } else {
        COOKIE
    }
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The hash of this browser's token, when it holds one of the right shape.
fn presented(ctx: &Ctx, client: &Client) -> Option<String> {
    let cookie = client.cookies.as_ref()?.get(cookie_name(ctx))?;
    let token = cookie.value();
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hash(token))
}

/// What a remembered browser of `admin` must still match.
fn current(admin: &Admin, account: &Account) -> Current {
    Current {
        admin_id: admin.id,
        generation: admin.session_generation,
        epoch: account.remember_epoch,
    }
}

/// True when this browser was remembered for `admin` and may skip the code now (the caller
/// asks only when the code would be asked). Marks it used.
pub async fn recognises(
    ctx: &Ctx,
    client: &Client,
    admin: &Admin,
    account: &Account,
    now: i64,
) -> Result<bool, AppError> {
    if account.remember_browser_days <= 0
        || !admin.factors.any()
        || !account
            .requirement(admin.enforcement_rule())
            .allows_remembered_browsers()
    {
        return Ok(false);
    }
    let Some(token_hash) = presented(ctx, client) else {
        return Ok(false);
    };
    let Some((created_at, expires_at)) =
        rows::find(&ctx.db, &token_hash, current(admin, account), now)
            .await
            .or_internal()?
    else {
        return Ok(false);
    };
    if now >= remember::valid_until(created_at, expires_at, account.remember_browser_days) {
        return Ok(false);
    }
    rows::touch(&ctx.db, &token_hash, admin.id, now)
        .await
        .or_internal()
}

/// After a passed code step with "Don't ask for a code on this browser" checked: remembers this
/// browser for the account's days (nothing when the account does not allow it).
pub async fn remember(
    ctx: &Ctx,
    client: &Client,
    admin: &Admin,
    account: &Account,
    now: i64,
) -> Result<(), AppError> {
    let days = account.remember_browser_days;
    let Some(cookies) = &client.cookies else {
        return Ok(());
    };
    if days <= 0
        || !account
            .requirement(admin.enforcement_rule())
            .allows_remembered_browsers()
    {
        return Ok(());
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let token_hash = hash(&token);
    rows::insert(
        &ctx.db,
        NewRemembered {
            token_hash: &token_hash,
            admin_id: admin.id,
            generation: admin.session_generation,
            epoch: account.remember_epoch,
            now,
            expires_at: remember::expires_at(now, days),
            user_agent: client.user_agent.as_deref(),
            client_ip: client.ip.as_deref(),
        },
    )
    .await
    .or_internal()?;
    notify::audit(
        ctx,
        Event::by_self(
            admin,
            "browser_remembered",
            &format!("no code asked on this browser for {days} days"),
        ),
        client,
        now,
    )
    .await?;
    // Told, so that a browser remembered by someone else (a relayed code) does not go unseen.
    notify::admin(
        ctx,
        admin,
        "browser_remembered",
        "A browser was remembered",
        &format!(
            "Signing in from {} ({}) asks for your password only, for {days} days. If this was \
             not you, forget it on your profile and change your password.",
            device::describe(client.user_agent.as_deref().unwrap_or_default()),
            client.ip.as_deref().unwrap_or("unknown address"),
        ),
        now,
    )
    .await?;
    // The token goes to the browser last: if anything before failed, the stored row has no
    // holder, and the owner was told of every browser that has one.
    let mut cookie = Cookie::new(cookie_name(ctx), token);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Strict);
    cookie.set_secure(ctx.config.cookie_secure);
    cookie.set_path("/");
    cookie.set_max_age(time::Duration::days(days));
    cookies.add(cookie);
    Ok(())
}

/// The admin's remembered browsers that still skip the code, this one first.
pub async fn list(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
) -> Result<Vec<RememberedBrowser>, AppError> {
    let now = ctx.now();
    let admin = &signed_in.admin;
    let days = signed_in.account.remember_browser_days;
    let this = presented(ctx, client);
    let rows = rows::list(&ctx.db, current(admin, &signed_in.account), now)
        .await
        .or_internal()?;
    let mut list: Vec<RememberedBrowser> = rows
        .into_iter()
        .map(|r| RememberedBrowser {
            current: this.as_deref() == Some(r.token_hash.as_str()),
            until: remember::valid_until(r.created_at, r.expires_at, days),
            handle: r.token_hash,
            device: device::describe(r.user_agent.as_deref().unwrap_or_default()),
            address: r.client_ip,
            remembered_at: r.created_at,
            last_used_at: r.last_used_at,
        })
        .filter(|r| now < r.until)
        .collect();
    list.sort_by_key(|r| (!r.current, -r.remembered_at));
    Ok(list)
}

/// "Forget" on one of the admin's remembered browsers: it asks for the code again.
pub async fn forget(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    handle: &str,
) -> Result<(), AppError> {
    if handle.len() != 64 || !handle.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::invalid(
            "handle",
            "That is not a remembered browser of yours.",
        ));
    }
    // Only the admin's own: another admin's handle is "not found".
    if !rows::delete_one(&ctx.db, signed_in.admin.id, &handle.to_ascii_lowercase())
        .await
        .or_internal()?
    {
        return Err(AppError::NotFound);
    }
    notify::audit(
        ctx,
        Event::by_self(&signed_in.admin, "browser_forgotten", "from the profile"),
        client,
        ctx.now(),
    )
    .await
}
