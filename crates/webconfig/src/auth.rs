//! The HTTP guard: basic auth against bcrypt hashes (with a cache of verifications, since
//! bcrypt is deliberately slow) and the configured response headers, as an axum middleware.
//! `/-/healthy` stays open so liveness probes need no credentials. Users and headers are
//! re-read when the file changes (exporter-toolkit reads it on every request); a file that no
//! longer parses keeps the previous users and headers in force and is logged. The server's own
//! clients (its self-scrape, its Alertmanager's webhook to itself) know no user's password:
//! they present a random bearer token the server set with [`HttpGuard::allow_internal_token`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

/// The one path answered without credentials.
pub const UNAUTHENTICATED_PATH: &str = "/-/healthy";

/// The bcrypt hash of "fakepassword" (exporter-toolkit's), checked for unknown users so a
/// timing difference does not reveal which user names exist.
const FAKE_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/// Cached verifications kept at most; beyond that a tenth is evicted.
const CACHE_SIZE: usize = 100;

/// Users (name to bcrypt hash) and response headers in force.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    pub(crate) users: HashMap<String, String>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
}

/// Modification time and length of the web config file.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &std::path::Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Enforces basic auth and adds headers. Build with [`crate::WebConfig::guard`].
#[derive(Debug)]
pub struct HttpGuard {
    /// The file to follow for changes (`None`: fixed rules).
    source: Option<PathBuf>,
    rules: Mutex<(Stamp, Arc<Rules>)>,
    /// SHA-256 of (user, hash, password) to the verification's outcome; never the password.
    cache: Mutex<HashMap<[u8; 32], bool>>,
    /// One bcrypt comparison at a time, as exporter-toolkit: bounds the CPU an attacker can use.
    /// Waiting is async, so a flood of wrong passwords never ties up blocking threads.
    bcrypt: tokio::sync::Semaphore,
    /// The bearer token of the server's own clients, if set.
    internal: Mutex<Option<Vec<u8>>>,
}

impl HttpGuard {
    pub(crate) fn new(rules: Rules, source: Option<PathBuf>) -> Self {
        let stamp = source.as_deref().and_then(stamp);
        HttpGuard {
            source,
            rules: Mutex::new((stamp, Arc::new(rules))),
            cache: Mutex::new(HashMap::new()),
            bcrypt: tokio::sync::Semaphore::new(1),
            internal: Mutex::new(None),
        }
    }

    /// The rules in force, re-read first if the file changed.
    fn rules(&self) -> Arc<Rules> {
        let mut current = self.rules.lock();
        if let Some(path) = &self.source {
            let now = stamp(path);
            if now.is_some() && now != current.0 {
                current.0 = now;
                let reread =
                    std::fs::read_to_string(path).map_err(|e| e.to_string()).and_then(|text| {
                        crate::rules_from_text(&text, path).map_err(|e| e.to_string())
                    });
                match reread {
                    Ok(rules) => current.1 = Arc::new(rules),
                    Err(e) => {
                        tracing::warn!(err = %e, "web config file changed but cannot be used; keeping the previous users and headers")
                    }
                }
            }
        }
        current.1.clone()
    }

    /// Whether requests need credentials at all.
    pub fn requires_auth(&self) -> bool {
        !self.rules().users.is_empty()
    }

    /// Checks `Authorization: Basic ...` against the users; verifications are cached.
    pub async fn authorized(self: &Arc<Self>, headers: &HeaderMap) -> bool {
        let rules = self.rules();
        self.check(&rules, headers).await
    }

    /// Also accepts `Authorization: Bearer <token>` from now on: the credential of the
    /// server's own HTTP clients. Use a long random token; it is compared in constant time.
    pub fn allow_internal_token(&self, token: &str) {
        *self.internal.lock() = Some(token.as_bytes().to_vec());
    }

    fn internal_token_matches(&self, headers: &HeaderMap) -> bool {
        let Some(given) = bearer_token(headers) else { return false };
        let internal = self.internal.lock();
        let Some(want) = internal.as_deref() else { return false };
        given.len() == want.len()
            && given.iter().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    async fn check(self: &Arc<Self>, rules: &Rules, headers: &HeaderMap) -> bool {
        if self.internal_token_matches(headers) {
            return true;
        }
        let Some((user, pass)) = basic_credentials(headers) else { return false };
        let known = rules.users.get(&user);
        let hash = known.map(String::as_str).unwrap_or(FAKE_HASH).to_string();
        let key = cache_key(&user, &hash, &pass);
        if let Some(ok) = self.cache.lock().get(&key).copied() {
            return ok && known.is_some();
        }
        let Ok(_one_at_a_time) = self.bcrypt.acquire().await else { return false };
        let verified =
            tokio::task::spawn_blocking(move || bcrypt::verify(&pass, &hash).unwrap_or(false))
                .await
                .unwrap_or(false);
        let ok = verified && known.is_some();
        self.remember(key, ok);
        ok
    }

    fn remember(&self, key: [u8; 32], ok: bool) {
        let mut cache = self.cache.lock();
        if cache.len() >= CACHE_SIZE {
            let evict: Vec<[u8; 32]> = cache.keys().take(CACHE_SIZE / 10).copied().collect();
            for k in evict {
                cache.remove(&k);
            }
        }
        cache.insert(key, ok);
    }

    /// Number of cached verifications (tests and metrics).
    pub fn cached_verifications(&self) -> usize {
        self.cache.lock().len()
    }
}

fn add_headers(rules: &Rules, resp: &mut Response) {
    for (name, value) in &rules.headers {
        resp.headers_mut().insert(name.clone(), value.clone());
    }
}

fn cache_key(user: &str, hash: &str, pass: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [user.as_bytes(), hash.as_bytes(), pass] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// Go's `Request.BasicAuth`: case-insensitive "Basic " prefix, standard base64, split at the
/// first colon. The user name must be UTF-8 (users are YAML strings); the password is bytes.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, Vec<u8>)> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    if value.len() < 6 || !value[..6].eq_ignore_ascii_case(b"Basic ") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(&value[6..]).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let user = String::from_utf8(decoded[..colon].to_vec()).ok()?;
    Some((user, decoded[colon + 1..].to_vec()))
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
fn bearer_token(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    if value.len() < 7 || !value[..7].eq_ignore_ascii_case(b"Bearer ") {
        return None;
    }
    Some(&value[7..])
}

/// Prometheus' answer to missing or wrong credentials.
fn unauthorized() -> Response {
    let mut resp = (StatusCode::UNAUTHORIZED, "Unauthorized\n").into_response();
    let h = resp.headers_mut();
    h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

/// The middleware: `axum::middleware::from_fn_with_state(guard, webconfig::middleware)`.
/// Wrap the outermost router so it covers every route and the fallback.
pub async fn middleware(State(guard): State<Arc<HttpGuard>>, req: Request, next: Next) -> Response {
    let rules = guard.rules();
    let open = rules.users.is_empty() || req.uri().path() == UNAUTHENTICATED_PATH;
    let mut resp = if open || guard.check(&rules, req.headers()).await {
        next.run(req).await
    } else {
        unauthorized()
    };
    add_headers(&rules, &mut resp);
    resp
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn auth(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn parses_basic_credentials_like_go() {
        assert_eq!(
            basic_credentials(&auth(&format!("basic {}", b64("u:p:q")))),
            Some(("u".into(), b"p:q".to_vec()))
        );
        assert_eq!(basic_credentials(&auth(&format!("Bearer {}", b64("u:p")))), None);
        assert_eq!(basic_credentials(&auth(&format!("Basic {}", b64("nocolon")))), None);
        assert_eq!(basic_credentials(&auth("Basic !!!")), None);
        assert_eq!(basic_credentials(&HeaderMap::new()), None);
    }

    #[tokio::test]
    async fn verifies_and_caches() {
        let hash = bcrypt::hash("secret", 4).unwrap();
        let rules = Rules { users: HashMap::from([("alice".into(), hash)]), headers: vec![] };
        let g = Arc::new(HttpGuard::new(rules, None));
        assert!(g.authorized(&auth(&format!("Basic {}", b64("alice:secret")))).await);
        assert_eq!(g.cached_verifications(), 1);
        assert!(g.authorized(&auth(&format!("Basic {}", b64("alice:secret")))).await);
        assert_eq!(g.cached_verifications(), 1);
        assert!(!g.authorized(&auth(&format!("Basic {}", b64("alice:wrong")))).await);
        assert!(!g.authorized(&auth(&format!("Basic {}", b64("bob:secret")))).await);
        assert!(!g.authorized(&auth(&format!("Basic {}", b64("bob:fakepassword")))).await);
        assert!(!g.authorized(&HeaderMap::new()).await);
    }

    #[tokio::test]
    async fn internal_token_is_accepted_only_once_set_and_only_exactly() {
        let hash = bcrypt::hash("secret", 4).unwrap();
        let rules = Rules { users: HashMap::from([("alice".into(), hash)]), headers: vec![] };
        let g = Arc::new(HttpGuard::new(rules, None));
        let token = "0123456789abcdef0123456789abcdef";
        assert!(!g.authorized(&auth(&format!("Bearer {token}"))).await);
        g.allow_internal_token(token);
        assert!(g.authorized(&auth(&format!("Bearer {token}"))).await);
        assert!(g.authorized(&auth(&format!("bearer {token}"))).await);
        assert!(!g.authorized(&auth(&format!("Bearer {token}0"))).await);
        assert!(!g.authorized(&auth(&format!("Bearer {}", &token[1..]))).await);
        assert!(!g.authorized(&auth("Bearer ")).await);
        assert!(!g.authorized(&auth(&format!("Basic {}", b64(&format!("alice:{token}"))))).await);
        assert!(g.authorized(&auth(&format!("Basic {}", b64("alice:secret")))).await);
    }

    #[test]
    fn cache_is_bounded() {
        let g = HttpGuard::new(Rules::default(), None);
        for i in 0..1000u32 {
            g.remember(cache_key("u", "h", &i.to_le_bytes()), true);
        }
        assert!(g.cached_verifications() <= CACHE_SIZE);
    }
}
