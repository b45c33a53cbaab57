//! `--web.config.file` on the whole server: with basic auth configured, every route (all
//! documented `/api/v1` endpoints, the Alertmanager API, Pharos' own APIs, lifecycle, the UI
//! and unknown paths, with every method) refuses anonymous requests except `/-/healthy`, and
//! the same requests with credentials pass; TLS serves with a generated certificate.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use reqwest::{Method, StatusCode};
use server::{Server, ServerOptions};

const USER: &str = "admin";
const PASSWORD: &str = "correct horse";

/// Every `/api/v1/...` path (with its methods) in the endpoint table of docs/api-endpoints.md.
fn documented_endpoints() -> Vec<(String, Vec<Method>)> {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api-endpoints.md");
    let text = std::fs::read_to_string(doc).unwrap();
    let mut out = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("| `/")) {
        let cells: Vec<&str> = line.split('|').collect();
        let methods: Vec<Method> = ["GET", "POST", "PUT", "DELETE"]
            .iter()
            .filter(|m| cells[2].contains(*m))
            .map(|m| Method::from_bytes(m.as_bytes()).unwrap())
            .collect();
        let methods = if methods.is_empty() { vec![Method::GET] } else { methods };
        for path in cells[1].split('`').skip(1).step_by(2).filter(|p| p.starts_with('/')) {
            let path = path.replace("<name>", "__name__").replace('*', "x");
            out.push((path, methods.clone()));
        }
    }
    out
}

/// Everything else the one listener serves, and paths it does not.
fn other_endpoints() -> Vec<(String, Vec<Method>)> {
    use Method as M;
    let list: &[(&str, &[Method])] = &[
        ("/api/v2/status", &[M::GET]),
        ("/api/v2/receivers", &[M::GET]),
        ("/api/v2/alerts", &[M::GET, M::POST]),
        ("/api/v2/alerts/groups", &[M::GET]),
        ("/api/v2/silences", &[M::GET, M::POST]),
        ("/api/v2/silence/00000000-0000-0000-0000-000000000000", &[M::GET, M::DELETE]),
        ("/api/v1/alerts", &[M::POST]),
        ("/api/pharos/v1/notifications", &[M::GET, M::POST]),
        ("/api/pharos/v1/dashboards", &[M::GET, M::POST]),
        ("/api/pharos/v1/dashboards/service-overview", &[M::GET, M::DELETE]),
        ("/api/pharos/v1/annotations", &[M::GET, M::POST]),
        ("/metrics", &[M::GET]),
        ("/-/ready", &[M::GET]),
        ("/-/reload", &[M::POST, M::PUT, M::GET]),
        ("/-/quit", &[M::GET]),
        ("/", &[M::GET]),
        ("/index.html", &[M::GET]),
        ("/graph", &[M::GET]),
        ("/alerts", &[M::GET]),
        ("/d/service-overview", &[M::GET]),
        ("/assets/x", &[M::GET]),
        ("/favicon.ico", &[M::GET]),
        ("/no/such/path", &[M::GET]),
        ("/api/v1/no_such_endpoint", &[M::GET]),
        ("/api/v2/no_such_endpoint", &[M::GET]),
        ("/api/pharos/v1/no_such_endpoint", &[M::GET]),
        ("/-/healthy/", &[M::GET]),
        ("/-/healthz", &[M::GET]),
    ];
    list.iter().map(|(p, m)| (p.to_string(), m.to_vec())).collect()
}

const ALL_METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::OPTIONS,
];

fn web_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    let path = dir.join("web.yml");
    std::fs::write(
        &path,
        format!(
            "basic_auth_users:\n  {USER}: '{hash}'\n\
             http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n{extra}"
        ),
    )
    .unwrap();
    path
}

fn options(dir: &Path, web_config_file: std::path::PathBuf) -> ServerOptions {
    ServerOptions {
        listen_address: "127.0.0.1:0".into(),
        storage_path: dir.join("data"),
        web_config_file: Some(web_config_file),
        enable_lifecycle: true,
        enable_admin_api: true,
        enable_remote_write_receiver: true,
        ..ServerOptions::default()
    }
}

#[tokio::test]
async fn every_route_but_healthy_needs_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(options(dir.path(), web_config(dir.path(), ""))).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();
    let documented = documented_endpoints();
    assert!(documented.len() >= 30, "endpoint table not found: {documented:?}");
    assert!(documented.iter().any(|(p, _)| p == "/federate"));
    assert!(documented.iter().any(|(p, _)| p == "/api/v1/label/__name__/values"));
    let endpoints: Vec<_> = documented.into_iter().chain(other_endpoints()).collect();

    // Anonymous: every path, every method, is 401 with Prometheus' challenge.
    for (path, _) in &endpoints {
        for method in ALL_METHODS {
            let r = client.request(method.clone(), format!("{base}{path}")).send().await.unwrap();
            if path == "/-/healthy" {
                // Open to every method; those it does not serve get 405, never a challenge.
                let want = if matches!(method, Method::GET | Method::HEAD) { 200 } else { 405 };
                assert_eq!(r.status().as_u16(), want, "{method} {path}");
                continue;
            }
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "anonymous {method} {path}");
            assert_eq!(r.headers()["www-authenticate"], "Basic", "{method} {path}");
            assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{method} {path}");
        }
        // Wrong password and unknown user are refused the same way.
        for (u, p) in [(USER, "wrong"), ("mallory", PASSWORD), ("", "")] {
            let r =
                client.get(format!("{base}{path}")).basic_auth(u, Some(p)).send().await.unwrap();
            let want_ok = path == "/-/healthy";
            assert_eq!(r.status() == StatusCode::UNAUTHORIZED, !want_ok, "{u}:{p} GET {path}");
        }
    }

    // With credentials: the same requests reach their handlers.
    for (path, methods) in &endpoints {
        for method in methods {
            if path == "/-/quit" && *method != Method::GET {
                continue;
            }
            let r = client
                .request(method.clone(), format!("{base}{path}"))
                .basic_auth(USER, Some(PASSWORD))
                .send()
                .await
                .unwrap();
            assert_ne!(r.status(), StatusCode::UNAUTHORIZED, "authenticated {method} {path}");
            assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{method} {path}");
        }
    }
    let r = client
        .get(format!("{base}/api/v1/query?query=1%2B1"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let healthy = client.get(format!("{base}/-/healthy")).send().await.unwrap();
    assert_eq!(healthy.text().await.unwrap(), "Prometheus Server is Healthy.\n");

    // Quit, authenticated, last: it ends the server.
    let mut server = server;
    let r = client
        .post(format!("{base}/-/quit"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    server.quit_requested().await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_bad_web_config_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.yml");
    std::fs::write(&path, "basic_auth_users:\n  admin: notahash\n").unwrap();
    let err = Server::start(options(dir.path(), path.clone())).await.err().unwrap().to_string();
    assert!(err.contains("web.yml") && err.contains("not a bcrypt hash"), "{err}");
    std::fs::write(
        &path,
        "tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n",
    )
    .unwrap();
    let err = Server::start(options(dir.path(), path.clone())).await.err().unwrap().to_string();
    assert!(err.contains("missing.crt"), "{err}");
    let err = Server::start(options(dir.path(), dir.path().join("absent.yml")))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("absent.yml"), "{err}");
}

#[tokio::test]
async fn serves_tls_with_a_generated_certificate() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    std::fs::write(dir.path().join("server.crt"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("server.key"), key.serialize_pem()).unwrap();
    let cfg = web_config(
        dir.path(),
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n",
    );
    let server = Server::start(options(dir.path(), cfg)).await.unwrap();
    let port = server.local_addr().port();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let base = format!("https://127.0.0.1:{port}");
    let r = client.get(format!("{base}/-/healthy")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = client.get(format!("{base}/-/ready")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client
        .get(format!("{base}/api/v1/query?query=up"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains(r#""status":"success""#));
    // Plain HTTP on the TLS port gets no answer; untrusted clients cannot connect.
    assert!(client.get(format!("http://127.0.0.1:{port}/-/healthy")).send().await.is_err());
    assert!(reqwest::get(format!("{base}/-/healthy")).await.is_err());
    server.stop().await.unwrap();
}
