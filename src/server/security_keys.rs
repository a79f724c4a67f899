//! Security keys and passkeys (WebAuthn) as a second factor beside TOTP: registration from the
//! profile or the setup step of a sign-in, assertion at the code step and to confirm a
//! removal. The relying party is the dashboard's public address (`MSSP_PUBLIC_URL`).
//!
//! A ceremony's state lives in the server-side session (webauthn-rs's
//! `danger-allow-state-serialisation`): any instance may finish a ceremony another started,
//! and each state is used once (taken out of the session before it is checked).

use crate::domain::factors::{self, Factors};
use crate::model::AppError;
use crate::model::types::{KeyCeremony, SetupDone};
use crate::server::auth::{Client, SignedIn, require_pending_code};
use crate::server::db::admins::{self, Admin, SetupPrompt};
use crate::server::db::recovery_codes;
use crate::server::db::security_keys::{self as keys, InsertError, StoredKey};
use crate::server::notify::{self, Event, Notice};
use crate::server::signin::{self, Passed};
use crate::server::throttle::{self, Secret, Subject};
use crate::server::{Ctx, OrInternal, internal, two_factor};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tower_sessions::Session;
use webauthn_rs::prelude::{
    PublicKeyCredential, RegisterPublicKeyCredential, SecurityKeyAuthentication,
    SecurityKeyRegistration, Url, Uuid, WebauthnError,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// Session key of a registration in progress.
const REGISTRATION_KEY: &str = "key_registration";
/// Session key of an assertion in progress.
const ASSERTION_KEY: &str = "key_assertion";
/// A ceremony not finished within this time must be started again.
const CEREMONY_TTL_SECONDS: i64 = 5 * 60;
/// The longest credential (JSON from the browser) read; real ones are a few KB.
const MAX_CREDENTIAL_BYTES: usize = 64 * 1024;

/// The relying party for `public_url`: its host is the RP id, its origin the only one allowed.
/// A loopback address (the default `http://127.0.0.1:PORT`) becomes `localhost`, which browsers
/// accept over plain http; any port then, for development. `None` when the address names no
/// domain (an IP address): browsers refuse security keys there.
pub fn relying_party(public_url: &str) -> Result<Option<Webauthn>, String> {
    let url = Url::parse(public_url).map_err(|e| format!("MSSP_PUBLIC_URL {public_url:?}: {e}"))?;
    let loopback = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|h| h.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback());
    let (rp_id, origin, any_port) = match url.domain() {
        // Browsers use security keys only in a secure context: https, or localhost.
        Some(domain) if domain != "localhost" && url.scheme() != "https" => {
            tracing::warn!(
                public_url,
                "security keys are unavailable: MSSP_PUBLIC_URL must be https (or localhost)"
            );
            return Ok(None);
        }
        Some(domain) => (domain.to_string(), url.clone(), domain == "localhost"),
        None if loopback => local(&url)?,
        None => {
            tracing::warn!(
                public_url,
                "security keys are unavailable: MSSP_PUBLIC_URL must name a domain"
            );
            return Ok(None);
        }
    };
    let webauthn = WebauthnBuilder::new(&rp_id, &origin)
        .and_then(|b| b.rp_name("MSSP Dashboard").allow_any_port(any_port).build())
        .map_err(|e| format!("security keys for MSSP_PUBLIC_URL {public_url:?}: {e}"))?;
    Ok(Some(webauthn))
}

fn local(url: &Url) -> Result<(String, Url, bool), String> {
    let mut origin = url.clone();
    origin
        .set_host(Some("localhost"))
        .map_err(|e| format!("MSSP_PUBLIC_URL: {e}"))?;
    Ok(("localhost".into(), origin, true))
}

fn relying(ctx: &Ctx) -> Result<&Webauthn, AppError> {
    ctx.webauthn.as_ref().ok_or_else(|| {
        AppError::Conflict(
            "Security keys are not available on this dashboard: its address (MSSP_PUBLIC_URL) \
             must be a domain name. Ask its operator."
                .into(),
        )
    })
}

/// The user handle an authenticator stores for the admin: stable, and not the database id.
fn user_handle(admin_id: i64) -> Uuid {
    let digest = Sha256::digest(format!("mssp-dashboard security key user {admin_id}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    internal(format!("session store: {e}"))
}

fn ceremony_json(value: &impl Serialize) -> Result<KeyCeremony, AppError> {
    Ok(KeyCeremony {
        options_json: serde_json::to_string(value).or_internal()?,
    })
}

/// What the browser sent back, parsed; a malformed answer is the admin's 422.
fn parse_answer<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, AppError> {
    let refused = || {
        AppError::invalid(
            "credential",
            "The security key's answer could not be read. Try again.",
        )
    };
    if json.len() > MAX_CREDENTIAL_BYTES {
        return Err(refused());
    }
    serde_json::from_str(json).map_err(|_| refused())
}

#[derive(Serialize, Deserialize)]
struct PendingRegistration {
    admin_id: i64,
    name: String,
    started_at: i64,
    state: SecurityKeyRegistration,
}

/// What an assertion is for: a sign-in's second factor, or confirming a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    SignIn,
    Confirm,
}

#[derive(Serialize, Deserialize)]
struct PendingAssertion {
    admin_id: i64,
    purpose: Purpose,
    started_at: i64,
    state: SecurityKeyAuthentication,
}

/// "Add a security key": checks the name (and the current password from the profile; not at
/// the setup step of a sign-in), and answers the options for `navigator.credentials.create`.
/// Nothing is stored on the admin until `finish_registration` gets the key's answer.
pub async fn start_registration(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    name: &str,
    current_password: &str,
) -> Result<KeyCeremony, AppError> {
    let webauthn = relying(ctx)?;
    let name = factors::key_name(name).map_err(|m| AppError::invalid("key_name", m))?;
    let now = ctx.now();
    let admin = &signed_in.admin;
    if admin.factors.keys >= factors::MAX_KEYS {
        return Err(AppError::Conflict(format!(
            "You have {} security keys, the most there may be: remove one first.",
            factors::MAX_KEYS
        )));
    }
    if !two_factor::fresh_sign_in(signed_in, now) {
        signin::confirm_password(ctx, signed_in, client, current_password, now).await?;
    }
    let existing = keys::credentials(&ctx.db, admin.id).await.or_internal()?;
    // A suspended credential is not excluded: the same physical key may be registered anew
    // (a new credential), and then confirm the suspended one's removal.
    let exclude = existing
        .iter()
        .filter(|k| !k.suspended)
        .map(|k| k.key.cred_id().clone())
        .collect();
    let (mut options, state) = webauthn
        .start_securitykey_registration(
            user_handle(admin.id),
            &admin.email,
            &admin.name,
            Some(exclude),
            None,
            None,
        )
        .or_internal()?;
    // webauthn-rs asks opportunistically for credProtect "user verification required" (not
    // enforced); Chromium refuses that request outright for a key that is not discoverable
    // ("NotSupportedError: Requested protection policy is inconsistent"), so it is not asked.
    // User verification stays preferred.
    if let Some(extensions) = options.public_key.extensions.as_mut() {
        extensions.cred_protect = None;
    }
    signed_in
        .session
        .insert(
            REGISTRATION_KEY,
            PendingRegistration {
                admin_id: admin.id,
                name,
                started_at: now,
                state,
            },
        )
        .await
        .map_err(session_error)?;
    ceremony_json(&options)
}

/// Stores the key when its answer checks out. The admin's first factor comes with recovery
/// codes (shown once) and signs out their other sessions; at the setup step of a sign-in the
/// sign-in completes (`next`) when the key meets what is required.
pub async fn finish_registration(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    credential: &str,
) -> Result<SetupDone, AppError> {
    let webauthn = relying(ctx)?;
    let answer: RegisterPublicKeyCredential = parse_answer(credential)?;
    let now = ctx.now();
    let admin = &signed_in.admin;
    let session = &signed_in.session;
    let pending: Option<PendingRegistration> = session
        .remove(REGISTRATION_KEY)
        .await
        .map_err(session_error)?;
    let Some(pending) =
        pending.filter(|p| p.admin_id == admin.id && now - p.started_at < CEREMONY_TTL_SECONDS)
    else {
        return Err(AppError::Conflict(
            "No security key is being added (or it took more than 5 minutes). Click \"Add a \
             security key\" again."
                .into(),
        ));
    };
    let key = webauthn
        .finish_securitykey_registration(&answer, &pending.state)
        .map_err(|e| {
            tracing::info!(admin = admin.id, "security key registration refused: {e}");
            AppError::invalid(
                "credential",
                "The security key's answer was not accepted. Try again, with the key at hand.",
            )
        })?;
    let first_factor = !admin.factors.any();
    let (shown, stored) = two_factor::new_recovery_codes();
    let mut tx = ctx.db.write().await.or_internal()?;
    match keys::insert(&mut tx, admin.id, &pending.name, &key, now).await {
        Ok(_) => {}
        Err(InsertError::Duplicate) => {
            return Err(AppError::Conflict(
                "This security key is registered already.".into(),
            ));
        }
        Err(InsertError::TooMany) => {
            return Err(AppError::Conflict(format!(
                "You have {} security keys, the most there may be: remove one first.",
                factors::MAX_KEYS
            )));
        }
        Err(InsertError::Db(e)) => return Err(internal(e)),
    }
    if first_factor {
        recovery_codes::replace(&mut tx, &ctx.keyring, admin.id, &stored, now)
            .await
            .or_internal()?;
    }
    if admin.prompt_2fa_setup || admin.setup_skipped_at.is_some() {
        admins::set_setup_prompt_in(&mut tx, admin.id, SetupPrompt::None, now)
            .await
            .or_internal()?;
    }
    tx.commit().await.or_internal()?;
    // At once after the commit: the first factor signs out the sessions made without one.
    let factors = Factors {
        keys: admin.factors.keys + 1,
        ..admin.factors
    };
    let next = two_factor::enrolled(ctx, signed_in, client, factors, first_factor, now).await?;
    tracing::info!(admin = admin.id, "security key added");
    notify::audit(
        ctx,
        Event::by_self(admin, "security_key_added", &pending.name),
        client,
        now,
    )
    .await?;
    notify::admin(
        ctx,
        admin,
        "security_key_added",
        "A security key was added",
        &format!(
            "The security key \"{}\" was added to your account. If this was not you, tell your \
             super admin now.",
            pending.name
        ),
        now,
    )
    .await?;
    // Where keys are required, another key is a lasting way in that only needed the password
    // (and a recovery code, say, at sign-in): the super admins hear of it too.
    if admin.factors.keys > 0
        && signed_in
            .account
            .requirement(admin.enforcement_rule())
            .wants_key()
    {
        notify::super_admins(
            ctx,
            admin.account_id,
            Some(admin.id),
            Notice {
                kind: "security_key_added",
                subject: &format!("{} added a security key", admin.name),
                message: &format!(
                    "{} added the security key \"{}\" to the one(s) they had. Where security \
                     keys are required, a key is a lasting way in: check with {} that it was \
                     them, and reset their 2FA if not.",
                    admin.name, pending.name, admin.name
                ),
                link: "/admin/admins",
            },
            now,
        )
        .await?;
    }
    Ok(SetupDone {
        next,
        recovery_codes: if first_factor { shown } else { Vec::new() },
    })
}

/// Starts an assertion over the admin's keys, for `purpose`.
async fn start_assertion(
    ctx: &Ctx,
    session: &Session,
    admin: &Admin,
    purpose: Purpose,
) -> Result<KeyCeremony, AppError> {
    let webauthn = relying(ctx)?;
    let stored = keys::credentials(&ctx.db, admin.id).await.or_internal()?;
    if stored.is_empty() {
        return Err(AppError::Conflict(
            "You have no security key registered.".into(),
        ));
    }
    // A suspended key (its counter went back) is not asked for: neither copy of it signs in.
    let creds: Vec<_> = stored
        .into_iter()
        .filter(|k| !k.suspended)
        .map(|k| k.key)
        .collect();
    if creds.is_empty() {
        return Err(AppError::Forbidden(match purpose {
            Purpose::SignIn => {
                "Your security key was suspended: it answered like a copy of itself. Use another \
                 factor (a recovery code), or \"Request 2FA Reset\"."
            }
            Purpose::Confirm => {
                "Your security key was suspended: it answered like a copy of itself, so it \
                 confirms nothing. Add a new key, or ask your super admin to reset your 2FA."
            }
        }
        .into()));
    }
    let (options, state) = webauthn
        .start_securitykey_authentication(&creds)
        .or_internal()?;
    session
        .insert(
            ASSERTION_KEY,
            PendingAssertion {
                admin_id: admin.id,
                purpose,
                started_at: ctx.now(),
                state,
            },
        )
        .await
        .map_err(session_error)?;
    ceremony_json(&options)
}

/// "Use your security key" at the code step.
pub async fn start_sign_in(ctx: &Ctx, session: &Session) -> Result<KeyCeremony, AppError> {
    let signed = require_pending_code(ctx, session).await?;
    start_assertion(ctx, session, &signed.admin, Purpose::SignIn).await
}

/// Before removing a key: the admin confirms with one of their keys.
pub async fn start_confirmation(ctx: &Ctx, signed_in: &SignedIn) -> Result<KeyCeremony, AppError> {
    start_assertion(ctx, &signed_in.session, &signed_in.admin, Purpose::Confirm).await
}

/// Checks a key's answer to the assertion `purpose` started for `admin`, and records its use.
/// The outer error is internal (or a ceremony that cannot be checked: not counted); the inner
/// one a refusal to count as a wrong second factor.
async fn check_assertion(
    ctx: &Ctx,
    session: &Session,
    admin: &Admin,
    purpose: Purpose,
    answer: &PublicKeyCredential,
    client: &Client,
    now: i64,
) -> Result<Result<(), AppError>, AppError> {
    let webauthn = relying(ctx)?;
    let pending: Option<PendingAssertion> =
        session.remove(ASSERTION_KEY).await.map_err(session_error)?;
    let Some(pending) = pending.filter(|p| {
        p.admin_id == admin.id && p.purpose == purpose && now - p.started_at < CEREMONY_TTL_SECONDS
    }) else {
        return Err(AppError::Conflict(
            "The security key was not asked (or it took more than 5 minutes). Try again.".into(),
        ));
    };
    let refused = || {
        AppError::invalid(
            "credential",
            "That security key was not accepted. Use a key registered to you.",
        )
    };
    let result = match webauthn.finish_securitykey_authentication(answer, &pending.state) {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            // Whoever holds a copy of the key can send any counter: the copy that answers
            // first with a high one would pass, and the owner's key would be the one refused.
            // So the credential itself is suspended, both copies with it, until it is removed.
            if let Some(name) = keys::suspend(&ctx.db, admin.id, &answer.raw_id, now)
                .await
                .or_internal()?
            {
                clone_suspected(ctx, admin, &name, client, now).await?;
            }
            return Ok(Err(AppError::Forbidden(
                "This security key was refused and suspended: its signature counter went back, \
                 which a cloned key does. Your super admins were told. Use another factor, or \
                 \"Request 2FA Reset\"."
                    .into(),
            )));
        }
        Err(e) => {
            tracing::info!(admin = admin.id, "security key assertion refused: {e}");
            return Ok(Err(refused()));
        }
    };
    // The key as stored now: its counter is moved on only from the value the check saw.
    let stored: Vec<StoredKey> = keys::credentials(&ctx.db, admin.id).await.or_internal()?;
    let Some(used) = stored
        .into_iter()
        .find(|k| k.key.cred_id() == result.cred_id() && !k.suspended)
    else {
        // Removed or suspended between the start and this answer.
        return Ok(Err(refused()));
    };
    let counter = i64::from(result.counter());
    if counter > 0 && counter <= used.sign_count {
        // webauthn-rs checked the counter against the one the ceremony started with; another
        // assertion of this key was accepted since: two at once arriving out of order, or a
        // copy racing its original. Not suspended (the owner's own double click would be),
        // but logged, so a pattern of these can be seen.
        tracing::warn!(
            admin = admin.id,
            key = used.id,
            counter,
            stored = used.sign_count,
            "security key counter overtaken by a concurrent assertion"
        );
        return Err(AppError::Conflict(
            "The security key was used twice at the same moment. Try again.".into(),
        ));
    }
    let mut updated = used.key.clone();
    updated.update_credential(&result);
    let moved = counter.max(used.sign_count);
    if !keys::record_use(&ctx.db, admin.id, &used, &updated, moved, now)
        .await
        .or_internal()?
    {
        return Err(AppError::Conflict(
            "The security key was used twice at the same moment. Try again.".into(),
        ));
    }
    Ok(Ok(()))
}

/// A key's counter went back: refused, audited, and reported to the admin and the super admins.
async fn clone_suspected(
    ctx: &Ctx,
    admin: &Admin,
    key_name: &str,
    client: &Client,
    now: i64,
) -> Result<(), AppError> {
    tracing::warn!(
        admin = admin.id,
        key = key_name,
        "security key counter went back"
    );
    notify::audit(
        ctx,
        Event::by_self(admin, "security_key_clone_suspected", key_name),
        client,
        now,
    )
    .await?;
    let message = format!(
        "The security key \"{key_name}\" of {} answered with a signature counter lower than \
         before, which a cloned key does. It was refused and suspended: it signs nobody in until \
         it is removed. Check with {} and reset their 2FA if the key may be copied.",
        admin.name, admin.name
    );
    notify::super_admins(
        ctx,
        admin.account_id,
        None,
        Notice {
            kind: "security_key_clone_suspected",
            subject: &format!("A security key of {} may be cloned", admin.name),
            message: &message,
            link: "/admin/admins",
        },
        now,
    )
    .await
}

/// "Use your security key" at the code step: the key's answer, counted like a code.
pub async fn finish_sign_in(
    ctx: &Ctx,
    session: &Session,
    client: &Client,
    credential: &str,
    remember_browser: bool,
) -> Result<String, AppError> {
    let answer: PublicKeyCredential = parse_answer(credential)?;
    let signed = require_pending_code(ctx, session).await?;
    let now = ctx.now();
    let admin = &signed.admin;
    let attempt = throttle::admit(ctx, client, Secret::Code, Subject::Admin(admin), now).await?;
    let outcome =
        match check_assertion(ctx, session, admin, Purpose::SignIn, &answer, client, now).await {
            Ok(outcome) => outcome,
            Err(e) => {
                attempt.abandon(ctx).await?;
                return Err(e);
            }
        };
    if let Err(refused) = outcome {
        attempt
            .failed(
                ctx,
                Some(admin),
                Event::by_self(admin, "sign_in_failed", "security key refused"),
                client,
                now,
            )
            .await?;
        return Err(refused);
    }
    signin::second_factor_passed(
        ctx,
        &signed,
        client,
        attempt,
        Passed::SecurityKey,
        remember_browser,
        now,
    )
    .await
}

/// How the admin confirms a removal: a key's answer, or a code from the authenticator app.
pub enum Confirmation<'a> {
    Key(&'a str),
    Code(&'a str),
}

/// A current second factor of the signed-in admin, before a sensitive change: a key's answer
/// to `start_confirmation`, or a code from the authenticator app. Counted like a code.
pub async fn confirm(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    confirmation: Confirmation<'_>,
    now: i64,
) -> Result<(), AppError> {
    let admin = &signed_in.admin;
    match confirmation {
        Confirmation::Code(code) => {
            // Where a key is required and the admin has one, a (phishable) app code does not
            // confirm what would outlast the sign-in: new recovery codes, a removed key.
            if !signed_in
                .account
                .requirement(admin.enforcement_rule())
                .accepts_code(admin.factors)
            {
                return Err(AppError::Forbidden(
                    "Your account requires a security key (Require security keys): confirm \
                     with your key."
                        .into(),
                ));
            }
            two_factor::check_current_code(ctx, signed_in, client, code, now).await?
        }
        Confirmation::Key(credential) => {
            let answer: PublicKeyCredential = parse_answer(credential)?;
            let attempt =
                throttle::admit(ctx, client, Secret::Code, Subject::Admin(admin), now).await?;
            let outcome = match check_assertion(
                ctx,
                &signed_in.session,
                admin,
                Purpose::Confirm,
                &answer,
                client,
                now,
            )
            .await
            {
                Ok(outcome) => outcome,
                Err(e) => {
                    attempt.abandon(ctx).await?;
                    return Err(e);
                }
            };
            match outcome {
                Ok(()) => attempt.succeeded_alone(ctx, now).await?,
                Err(refused) => {
                    attempt
                        .failed(
                            ctx,
                            Some(admin),
                            Event::by_self(
                                admin,
                                "reauthentication_failed",
                                "security key refused",
                            ),
                            client,
                            now,
                        )
                        .await?;
                    return Err(refused);
                }
            }
        }
    }
    Ok(())
}

/// Removes one of the admin's keys after a current second factor; refused while an
/// enforcement counts on it.
pub async fn remove(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    key_id: i64,
    confirmation: Confirmation<'_>,
) -> Result<(), AppError> {
    let now = ctx.now();
    let admin = &signed_in.admin;
    let listed = keys::list(&ctx.db, admin.id).await.or_internal()?;
    let Some(key) = listed.into_iter().find(|k| k.id == key_id) else {
        return Err(AppError::NotFound);
    };
    signed_in
        .account
        .requirement(admin.enforcement_rule())
        .check_removal(admin.factors.without_a_key())
        .map_err(|reason| AppError::Forbidden(reason.to_string()))?;
    confirm(ctx, signed_in, client, confirmation, now).await?;
    let last_factor = !admin.factors.without_a_key().any();
    let mut tx = ctx.db.write().await.or_internal()?;
    if !keys::delete(&mut tx, admin.id, key.id)
        .await
        .or_internal()?
    {
        return Err(AppError::NotFound);
    }
    if last_factor {
        // 2FA is off now: the recovery codes go with it, as when TOTP is turned off.
        recovery_codes::replace(&mut tx, &ctx.keyring, admin.id, &[], now)
            .await
            .or_internal()?;
    }
    tx.commit().await.or_internal()?;
    if last_factor {
        signin::end_other_sessions(ctx, signed_in).await?;
    }
    tracing::info!(admin = admin.id, "security key removed");
    notify::audit(
        ctx,
        Event::by_self(admin, "security_key_removed", &key.name),
        client,
        now,
    )
    .await?;
    notify::admin(
        ctx,
        admin,
        "security_key_removed",
        "A security key was removed",
        &format!(
            "The security key \"{}\" was removed from your account. If this was not you, tell \
             your super admin now.",
            key.name
        ),
        now,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_public_address() {
        let rp = relying_party("https://dash.example.com").unwrap().unwrap();
        assert_eq!(
            rp.get_allowed_origins(),
            &[Url::parse("https://dash.example.com").unwrap()]
        );
        // Loopback becomes localhost (browsers refuse IP addresses as a relying party).
        let local = relying_party("http://127.0.0.1:3000").unwrap().unwrap();
        assert_eq!(
            local.get_allowed_origins(),
            &[Url::parse("http://localhost:3000").unwrap()]
        );
        assert!(relying_party("http://10.0.0.5:3000").unwrap().is_none());
        // Plain http on a domain: browsers refuse keys there.
        assert!(relying_party("http://dash.example.com").unwrap().is_none());
        assert!(relying_party("http://localhost:8080").unwrap().is_some());
        assert!(relying_party("not a url").is_err());
    }

    #[test]
    fn the_user_handle_is_stable_and_apart_per_admin() {
        assert_eq!(user_handle(7), user_handle(7));
        assert_ne!(user_handle(7), user_handle(8));
    }
}
