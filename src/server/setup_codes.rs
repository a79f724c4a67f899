//! Setup codes (see [`crate::domain::setup_code`]): issued with a reset, asked by the next
//! sign-in after the password, cleared once the admin has set 2FA up again (or skipped an
//! offered setup). Stored as a keyed hash under the server key, bound to the admin.

use crate::domain::setup_code::{self as rules, VALID_DAYS};
use crate::server::Ctx;
use crate::server::db::admins::{self, Admin};
use crate::server::keyring;
use rand::Rng;
use sqlx::AnyConnection;

const CONTEXT: &str = "setup-code";

fn value(admin_id: i64, normalized: &str) -> String {
    format!("{admin_id}.{normalized}")
}

/// Twelve random symbols, formatted (the generator is not held across an await).
fn draw() -> String {
    let mut symbols = [0u8; 12];
    let mut rng = rand::rng();
    for s in &mut symbols {
        *s = rng.random_range(0..32);
    }
    rules::format(&symbols)
}

/// Draws a new code for `admin_id` and stores it (inside the caller's transaction), replacing
/// any earlier one. Answers the code as it is shown, once (only its MAC is kept); `None` when
/// the admin is not waiting to set 2FA up again after a reset.
pub async fn issue_in(
    ctx: &Ctx,
    conn: &mut AnyConnection,
    admin_id: i64,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let shown = draw();
    let normalized = rules::normalize(&shown).unwrap_or_default();
    let (key_id, mac) = ctx.keyring.mac(&value(admin_id, &normalized), CONTEXT);
    let stored = admins::set_setup_code_in(
        conn,
        admin_id,
        &format!("{key_id}:{mac}"),
        now + VALID_DAYS * 86_400,
        now,
    )
    .await?;
    Ok(stored.then_some(shown))
}

/// Does the admin's next sign-in ask for a setup code (apart from whether 2FA is set up)? Only
/// after a reset, whose setup is not done yet.
pub fn due(admin: &Admin) -> bool {
    admin.prompt_2fa_setup && admin.setup_code.is_some()
}

/// Is `input` the admin's setup code? (Whether it is still valid is asked separately.)
pub fn matches(ctx: &Ctx, admin: &Admin, input: &str) -> bool {
    let (Some((stored, _)), Some(normalized)) = (&admin.setup_code, rules::normalize(input)) else {
        return false;
    };
    let Some((key_id, mac)) = stored.split_once(':') else {
        return false;
    };
    ctx.keyring
        .mac_with(key_id, &value(admin.id, &normalized), CONTEXT)
        .is_ok_and(|expected| keyring::equal(&expected, mac))
}
