//! What `serve` requires of every request and adds to every response: the session token, the
//! `Host` header (against DNS rebinding), and the security headers with the desktop's CSP.

use super::{error, AppState};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use shelfmark_core::api::ApiResult;
use shelfmark_core::ErrorCode;
use subtle::ConstantTimeEq;

/// The desktop app's configuration, for its CSP.
pub const TAURI_CONF: &str = include_str!("../../../../tauri.conf.json");

/// 16 random bytes as 32 hex characters.
pub fn random_token() -> ApiResult<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        error(
            ErrorCode::Internal,
            format!("could not get random bytes: {e}"),
        )
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The desktop CSP made fit for a browser: the Tauri-only sources (`asset:`, `ipc:`) dropped,
/// `connect-src 'self'`, and `frame-ancestors 'none'`.
pub fn browser_csp(tauri_conf: &str) -> String {
    const STRICT: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
         script-src 'self'; connect-src 'self'; frame-src 'none'; object-src 'none'; base-uri 'none'; \
         form-action 'none'";
    let conf: serde_json::Value = serde_json::from_str(tauri_conf).unwrap_or_default();
    let csp = conf["app"]["security"]["csp"].as_str().unwrap_or(STRICT);
    let tauri_only = [
        "asset:",
        "http://asset.localhost",
        "ipc:",
        "http://ipc.localhost",
    ];
    let mut out = Vec::new();
    let (mut connect, mut ancestors) = (false, false);
    for directive in csp.split(';') {
        let mut words = directive.split_whitespace();
        let Some(name) = words.next() else { continue };
        let mut values: Vec<&str> = words.filter(|v| !tauri_only.contains(v)).collect();
        if name == "connect-src" {
            connect = true;
            values = vec!["'self'"];
        }
        ancestors |= name == "frame-ancestors";
        if values.is_empty() {
            values.push("'none'");
        }
        out.push(format!("{name} {}", values.join(" ")));
    }
    if !connect {
        out.push("connect-src 'self'".into());
    }
    if !ancestors {
        out.push("frame-ancestors 'none'".into());
    }
    out.join("; ")
}

/// Headers every response carries.
pub fn harden(mut resp: Response, csp: &HeaderValue) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    resp
}

pub fn host_allowed(st: &AppState, headers: &HeaderMap) -> bool {
    let Some(hosts) = &st.hosts else { return true };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
}

pub fn authorized(st: &AppState, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, given)) = value.trim().split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && bool::from(given.trim().as_bytes().ct_eq(st.token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shelfmark_core::api::Archive;
    use std::net::SocketAddr;
    use std::sync::Arc;

    #[test]
    fn csp_follows_tauri_conf_without_tauri_sources() {
        let csp = browser_csp(TAURI_CONF);
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("connect-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("object-src 'none'"), "{csp}");
        assert!(!csp.contains("ipc"), "{csp}");
        assert!(!csp.contains("asset"), "{csp}");
        // Without a CSP in the config, a strict default.
        assert!(browser_csp("{}").contains("default-src 'self'"));
    }

    #[test]
    fn other_host_headers_are_refused_on_loopback() {
        let archive = Arc::new(Archive::open(&std::env::temp_dir()).unwrap());
        let addr: SocketAddr = "127.0.0.1:4321".parse().unwrap();
        let st = AppState::new(archive, "t".repeat(32), addr, false);
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:4321"));
        assert!(host_allowed(&st, &h));
        h.insert(header::HOST, HeaderValue::from_static("localhost:4321"));
        assert!(host_allowed(&st, &h));
        h.insert(header::HOST, HeaderValue::from_static("evil.example:4321"));
        assert!(!host_allowed(&st, &h));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("bearer {}", "t".repeat(32))).unwrap(),
        );
        assert!(authorized(&st, &h));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(!authorized(&st, &h));
    }
}
