//! Request and response guards around the whole app: refusing cross-site requests, security
//! headers with a per-response CSP nonce, and a request-rate limit per client address.

use crate::model::AppError;
use crate::server::Ctx;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use rand::RngCore;

/// The CSP nonce of this response, for the inline scripts Leptos writes.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

fn json_error(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::to_string(&error).unwrap_or_default();
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// The origin ("scheme://host[:port]") of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| {
        format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase()
        )
    })
}

/// State-changing requests must come from our own pages: the `Origin` (or, without it, the
/// `Referer`) must be this site, on top of SameSite cookies. Requests with neither header do
/// not come from a browser page and carry no ambient authority worth forging.
pub async fn same_origin_only(State(ctx): State<Ctx>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let claimed = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(|o| o.trim().to_string())
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(origin_of)
        });
    let Some(claimed) = claimed else {
        return next.run(req).await;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut allowed = vec![format!("http://{host}"), format!("https://{host}")];
    allowed.extend(origin_of(&ctx.config.public_url()));
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(&claimed)) {
        next.run(req).await
    } else {
        tracing::warn!(origin = %claimed, path = %req.uri().path(), "cross-site request refused");
        json_error(AppError::Forbidden("Cross-site request refused.".into()))
    }
}

/// Security headers on every response; a fresh CSP nonce for every page.
pub async fn security_headers(State(ctx): State<Ctx>, mut req: Request, next: Next) -> Response {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let is_static = req.uri().path().starts_with("/pkg/");
    let live_reload = live_reload_source(req.headers());
    let mut res = next.run(req).await;
    let kept_for_good = res.headers().contains_key(header::CACHE_CONTROL);
    let headers = res.headers_mut();
    let csp = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'{live_reload}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(header::CONTENT_SECURITY_POLICY, &csp);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    if ctx.config.cookie_secure {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    if is_static {
        // A file named by its content was marked immutable where it is served (`web`); any
        // other a browser keeps but asks each time whether it changed (Last-Modified, then 304
        // without a body). The release build ships them brotli- and gzip-compressed beside the
        // plain files (`--precompress`); which one a response carries depends on
        // Accept-Encoding.
        if !kept_for_good {
            set(header::CACHE_CONTROL, "no-cache");
        }
        set(header::VARY, "Accept-Encoding");
    } else {
        // Pages and answers about signed-in admins must not be kept by browsers or proxies.
        set(header::CACHE_CONTROL, "no-store");
    }
    res
}

/// Under `cargo leptos watch` (which sets LEPTOS_WATCH) the page reloads itself through a
/// websocket to cargo-leptos on the reload port of the same host: `connect-src` must allow it,
/// or a change never reaches the open page. Nothing is added outside the development loop.
fn live_reload_source(headers: &http::HeaderMap) -> String {
    if std::env::var("LEPTOS_WATCH").as_deref() != Ok("true") {
        return String::new();
    }
    let port = std::env::var("LEPTOS_RELOAD_PORT")
        .ok()
        .filter(|p| p.parse::<u16>().is_ok())
        .unwrap_or_else(|| "3001".into());
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|h| match h.rsplit_once(':') {
            Some((name, port)) if port.parse::<u16>().is_ok() => name,
            _ => h,
        })
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b))
        })
        .unwrap_or("localhost");
    format!(" ws://{host}:{port} wss://{host}:{port}")
}

/// A 429 from the request-rate limit, in the shape server functions answer errors.
pub fn too_many_requests(error: tower_governor::GovernorError) -> Response<Body> {
    let wait = match &error {
        tower_governor::GovernorError::TooManyRequests { wait_time, .. } => *wait_time,
        _ => 1,
    };
    let mut res = json_error(AppError::TooManyRequests {
        retry_after_seconds: u32::try_from(wait.max(1)).unwrap_or(u32::MAX),
    });
    if let Ok(v) = HeaderValue::from_str(&wait.max(1).to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://Dash.Example.com/login?x=1").as_deref(),
            Some("https://dash.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:3000").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(origin_of("null"), None);
        assert_eq!(origin_of("https://"), None);
    }
}
