//! Known browsers (OWASP "Slowing down online guessing attacks with device cookies").
//!
//! A browser that completes a sign-in for an admin gets a device token for that admin: a
//! long-lived HttpOnly cookie, signed with the server's key. Wrong passwords and codes from a
//! browser that holds a valid token count against that token only; a stranger's count against
//! the admin's "untrusted" counter and the client address. So an attacker can slow new browsers
//! while an attack goes on, but never lock the owner out of a browser they have used before.
//!
//! A token is `ADMIN.NONCE.ISSUED.KEYID.MAC`: the MAC (HMAC-SHA-256 under the key KEYID,
//! truncated to 128 bits) binds the nonce and the time it was issued to the admin; the server
//! refuses tokens older than 180 days whatever the cookie says. One cookie holds the tokens of
//! up to five admins.

use crate::server::Ctx;
use crate::server::auth::Client;
use rand::RngCore;
use tower_cookies::Cookie;
use tower_cookies::cookie::SameSite;

/// Name of the cookie over plain http (development).
pub const COOKIE: &str = "mssp_device";
/// Name of the cookie when served over https.
pub const SECURE_COOKIE: &str = "__Host-mssp_device";
/// How long a browser stays known.
const LIFETIME_DAYS: i64 = 180;
/// Admins one browser is known for.
const MAX_TOKENS: usize = 5;
const CONTEXT: &str = "known-browser";

/// A browser known for one admin; its counters are its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownBrowser {
    pub nonce: String,
}

fn cookie_name(ctx: &Ctx) -> &'static str {
    if ctx.config.cookie_secure {
        SECURE_COOKIE
    } else {
        COOKIE
    }
}

fn mac(
    ctx: &Ctx,
    key_id: Option<&str>,
    admin_id: i64,
    nonce: &str,
    issued: i64,
) -> Option<(String, String)> {
    let value = format!("{admin_id}.{nonce}.{issued}");
    let (key_id, full) = match key_id {
        // Only keys we hold: an unknown id must not make the server read its key file again.
        Some(id) if ctx.keyring.has(id) => (
            id.to_string(),
            ctx.keyring.mac_with(id, &value, CONTEXT).ok()?,
        ),
        Some(_) => return None,
        None => ctx.keyring.mac(&value, CONTEXT),
    };
    Some((key_id, full.get(..32)?.to_string()))
}

fn token(ctx: &Ctx, admin_id: i64, nonce: &str, issued: i64) -> Option<String> {
    mac(ctx, None, admin_id, nonce, issued)
        .map(|(key_id, mac)| format!("{admin_id}.{nonce}.{issued}.{key_id}.{mac}"))
}

/// The tokens in the browser's cookie.
fn tokens(ctx: &Ctx, client: &Client) -> Vec<String> {
    let Some(cookies) = &client.cookies else {
        return Vec::new();
    };
    cookies
        .get(cookie_name(ctx))
        .map(|c| {
            c.value()
                .split('~')
                .filter(|t| !t.is_empty() && t.len() < 200)
                .take(MAX_TOKENS)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The token's admin, when its signature is ours and it is not too old.
fn verify(ctx: &Ctx, token: &str) -> Option<(i64, KnownBrowser)> {
    let mut parts = token.split('.');
    let (admin, nonce, issued, key_id, given) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if parts.next().is_some() || nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    let admin_id: i64 = admin.parse().ok()?;
    let issued: i64 = issued.parse().ok()?;
    // A token from the future is forged or from a broken clock; neither is known.
    let age = ctx.now().checked_sub(issued)?;
    if !(0..=LIFETIME_DAYS * 86_400).contains(&age) {
        return None;
    }
    let (_, expected) = mac(ctx, Some(key_id), admin_id, nonce, issued)?;
    crate::server::keyring::equal(&expected, given).then(|| {
        (
            admin_id,
            KnownBrowser {
                nonce: nonce.to_string(),
            },
        )
    })
}

/// Whether the browser has completed a sign-in for any admin before (its token is ours and
/// fresh): read from the cookie alone, before the admin it names now is looked up.
pub fn known_for_someone(ctx: &Ctx, client: &Client) -> bool {
    tokens(ctx, client).iter().any(|t| verify(ctx, t).is_some())
}

/// The browser, when it has completed a sign-in for `admin_id` before.
pub fn find(ctx: &Ctx, client: &Client, admin_id: i64) -> Option<KnownBrowser> {
    tokens(ctx, client)
        .iter()
        .filter_map(|t| verify(ctx, t))
        .find(|(admin, _)| *admin == admin_id)
        .map(|(_, browser)| browser)
}

/// After a completed sign-in: this browser is known for `admin_id` from now on (the token it
/// already holds for the admin is kept, so its counters stay its own).
pub fn remember(ctx: &Ctx, client: &Client, admin_id: i64) {
    let Some(cookies) = &client.cookies else {
        return;
    };
    let mut kept: Vec<String> = tokens(ctx, client)
        .into_iter()
        .filter(|t| verify(ctx, t).is_some_and(|(admin, _)| admin != admin_id))
        .collect();
    // The nonce a browser holds for the admin is kept (its counters stay its own); the time is
    // renewed with each completed sign-in.
    let nonce = find(ctx, client, admin_id).map_or_else(
        || {
            let mut nonce = [0u8; 16];
            rand::rng().fill_bytes(&mut nonce);
            hex::encode(nonce)
        },
        |known| known.nonce,
    );
    let token = token(ctx, admin_id, &nonce, ctx.now());
    let Some(token) = token else {
        return;
    };
    kept.truncate(MAX_TOKENS - 1);
    kept.insert(0, token);
    let mut cookie = Cookie::new(cookie_name(ctx), kept.join("~"));
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(ctx.config.cookie_secure);
    cookie.set_path("/");
    cookie.set_max_age(time::Duration::days(LIFETIME_DAYS));
    cookies.add(cookie);
}
