//! The edge of every server function: what the request holds (the server's context, the
//! session, the client), gathered once from the Leptos request context and handed on as
//! arguments. The only place below the router that reads a Leptos context.

use crate::model::AppError;
use crate::server::auth::{self, Client, SignedIn};
use crate::server::{Ctx, internal};
use http::request::Parts;
use leptos::prelude::use_context;
use tower_sessions::Session;

/// What a server function works with.
pub struct Call {
    pub ctx: Ctx,
    pub session: Session,
    pub client: Client,
}

/// The call being served.
pub fn call() -> Result<Call, AppError> {
    let ctx = use_context::<Ctx>().ok_or_else(|| internal("server context missing"))?;
    let parts =
        use_context::<Parts>().ok_or_else(|| internal("request parts missing from context"))?;
    let session = parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| internal("session layer missing"))?;
    let client = Client::from_parts(&parts, ctx.config.proxies().as_ref());
    Ok(Call {
        ctx,
        session,
        client,
    })
}

impl Call {
    /// A fully signed-in admin.
    pub async fn admin(&self) -> Result<SignedIn, AppError> {
        auth::require_admin(&self.ctx, &self.session).await
    }

    /// A fully signed-in super admin.
    pub async fn super_admin(&self) -> Result<SignedIn, AppError> {
        auth::require_super_admin(&self.ctx, &self.session).await
    }

    /// A sign-in waiting for its second factor.
    pub async fn pending_code(&self) -> Result<SignedIn, AppError> {
        auth::require_pending_code(&self.ctx, &self.session).await
    }

    /// A sign-in that must choose a new password.
    pub async fn password_change(&self) -> Result<SignedIn, AppError> {
        auth::require_password_change(&self.ctx, &self.session).await
    }

    /// A session that may set up 2FA (profile, or the required step of a sign-in).
    pub async fn enrolment(&self) -> Result<SignedIn, AppError> {
        auth::require_enrolment(&self.ctx, &self.session).await
    }
}
