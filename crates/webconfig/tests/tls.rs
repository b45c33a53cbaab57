//! Serving through `TlsListener` with a generated CA: server certificates, client
//! certificates, TLS versions, and the guard over TLS.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use axum::Router;
use axum::routing::get;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

struct Pki {
    ca_pem: String,
    server_pem: String,
    server_key: String,
    client_pem: String,
    client_key: String,
}

fn new_pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names).unwrap().signed_by(&key, &ca).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (server_pem, server_key) = leaf(vec!["localhost".into(), "127.0.0.1".into()]);
    let (client_pem, client_key) = leaf(vec!["client.local".into()]);
    Pki { ca_pem: ca.pem(), server_pem, server_key, client_pem, client_key }
}

fn write_files(dir: &Path, pki: &Pki) {
    std::fs::write(dir.join("server.crt"), &pki.server_pem).unwrap();
    std::fs::write(dir.join("server.key"), &pki.server_key).unwrap();
    std::fs::write(dir.join("ca.crt"), &pki.ca_pem).unwrap();
}

/// Serves a tiny app with the config at `yaml`; returns the https base URL.
async fn serve(dir: &Path, yaml: &str) -> String {
    let path = dir.join("web.yml");
    std::fs::write(&path, yaml).unwrap();
    let cfg = webconfig::load(&path).unwrap();
    let app = Router::new()
        .route("/", get(|| async { "root" }))
        .route("/-/healthy", get(|| async { "Healthy" }));
    let app = cfg.protect(app);
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let listener = webconfig::TlsListener::new(tcp, cfg.tls_acceptor().unwrap()).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("https://127.0.0.1:{port}")
}

fn client(pki: &Pki) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
}

#[tokio::test]
async fn tls_with_basic_auth_and_headers() {
    let dir = tempfile::tempdir().unwrap();
    let pki = new_pki();
    write_files(dir.path(), &pki);
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let url = serve(
        dir.path(),
        &format!(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n\
             http_server_config:\n  headers:\n    X-Frame-Options: deny\n\
             basic_auth_users:\n  admin: '{hash}'\n"
        ),
    )
    .await;
    let c = client(&pki).build().unwrap();
    let r = c.get(format!("{url}/-/healthy")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-frame-options"], "deny");
    let r = c.get(format!("{url}/")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Basic");
    assert_eq!(r.headers()["x-frame-options"], "deny");
    assert_eq!(r.text().await.unwrap(), "Unauthorized\n");
    let r = c.get(format!("{url}/")).basic_auth("admin", Some("wrong")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    for _ in 0..3 {
        let r = c.get(format!("{url}/")).basic_auth("admin", Some("s3cret")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "root");
    }
    // A client that does not trust the CA cannot connect; plain HTTP is not served.
    assert!(reqwest::get(format!("{url}/-/healthy")).await.is_err());
    let plain = url.replace("https://", "http://");
    assert!(c.get(format!("{plain}/-/healthy")).send().await.is_err());
}

#[tokio::test]
async fn min_version_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let pki = new_pki();
    write_files(dir.path(), &pki);
    let url = serve(
        dir.path(),
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n",
    )
    .await;
    let old = client(&pki).max_tls_version(reqwest::tls::Version::TLS_1_2).build().unwrap();
    assert!(old.get(format!("{url}/-/healthy")).send().await.is_err());
    let new = client(&pki).build().unwrap();
    assert_eq!(new.get(format!("{url}/-/healthy")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn client_certificates_are_required_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let pki = new_pki();
    write_files(dir.path(), &pki);
    let url = serve(
        dir.path(),
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  \
         client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n",
    )
    .await;
    let anonymous = client(&pki).build().unwrap();
    assert!(anonymous.get(format!("{url}/-/healthy")).send().await.is_err());
    let id =
        reqwest::Identity::from_pem(format!("{}{}", pki.client_pem, pki.client_key).as_bytes())
            .unwrap();
    let with_cert = client(&pki).identity(id).build().unwrap();
    assert_eq!(with_cert.get(format!("{url}/-/healthy")).send().await.unwrap().status(), 200);
    // A certificate from another CA is refused.
    let other = new_pki();
    let id =
        reqwest::Identity::from_pem(format!("{}{}", other.client_pem, other.client_key).as_bytes())
            .unwrap();
    let foreign = client(&pki).identity(id).build().unwrap();
    assert!(foreign.get(format!("{url}/-/healthy")).send().await.is_err());
}

#[test]
fn bad_tls_settings_fail_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let pki = new_pki();
    write_files(dir.path(), &pki);
    let path = dir.path().join("web.yml");
    let check = |yaml: &str, want: &str| {
        std::fs::write(&path, yaml).unwrap();
        let e = webconfig::load(&path).unwrap_err().to_string();
        assert!(e.contains(want), "{yaml}: {e}");
        assert!(e.contains("web.yml"), "{e}");
    };
    let base = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";
    check("tls_server_config:\n  key_file: server.key\n", "missing one of cert or cert_file");
    check("tls_server_config:\n  cert_file: server.crt\n", "missing one of key or key_file");
    check(
        "tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n",
        "failed to read cert_file",
    );
    check("tls_server_config:\n  cert_file: server.key\n  key_file: server.key\n", "X509KeyPair");
    check(&format!("{base}  client_auth_type: Sometimes\n"), "invalid ClientAuth: Sometimes");
    check(&format!("{base}  client_ca_file: ca.crt\n"), "without a Client Auth Policy");
    check(
        &format!("{base}  client_auth_type: RequireAndVerifyClientCert\n"),
        "needs client_ca_file",
    );
    check(&format!("{base}  min_version: TLS14\n"), "unknown TLS version: TLS14");
    check(&format!("{base}  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n"), "not supported");
    check(&format!("{base}  curve_preferences: [CurveP521]\n"), "not supported");
    check(&format!("{base}  certfile: x\n"), "certfile");
    // Go's names are accepted.
    std::fs::write(
        &path,
        format!(
            "{base}  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305]\n  \
             curve_preferences: [X25519, CurveP256]\n  min_version: TLS10\n  max_version: TLS12\n  \
             prefer_server_cipher_suites: false\n"
        ),
    )
    .unwrap();
    assert!(webconfig::load(&path).unwrap().tls_acceptor().is_some());
}

#[tokio::test]
async fn a_rotated_certificate_is_served_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (new_pki(), new_pki());
    write_files(dir.path(), &old);
    let url =
        serve(dir.path(), "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")
            .await;
    let trusts_old = client(&old).build().unwrap();
    let trusts_new = client(&new).build().unwrap();
    assert_eq!(trusts_old.get(format!("{url}/-/healthy")).send().await.unwrap().status(), 200);
    assert!(trusts_new.get(format!("{url}/-/healthy")).send().await.is_err());

    // Half a rotation (new certificate, old key) keeps the old pair in service.
    std::fs::write(dir.path().join("server.crt"), &new.server_pem).unwrap();
    let fresh = client(&old).build().unwrap();
    assert_eq!(fresh.get(format!("{url}/-/healthy")).send().await.unwrap().status(), 200);

    std::fs::write(dir.path().join("server.key"), &new.server_key).unwrap();
    let fresh_new = client(&new).build().unwrap();
    assert_eq!(fresh_new.get(format!("{url}/-/healthy")).send().await.unwrap().status(), 200);
    let fresh_old = client(&old).build().unwrap();
    assert!(fresh_old.get(format!("{url}/-/healthy")).send().await.is_err());
}

#[tokio::test]
async fn users_and_headers_follow_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let pki = new_pki();
    write_files(dir.path(), &pki);
    let tls = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";
    let alice = bcrypt::hash("a-pass", 4).unwrap();
    let url = serve(dir.path(), &format!("{tls}basic_auth_users:\n  alice: '{alice}'\n")).await;
    let c = client(&pki).build().unwrap();
    let status = |user: &'static str, pass: &'static str| {
        let (c, url) = (c.clone(), url.clone());
        async move {
            let r = c.get(format!("{url}/")).basic_auth(user, Some(pass)).send().await.unwrap();
            (r.status().as_u16(), r.headers().get("x-frame-options").cloned())
        }
    };
    assert_eq!(status("alice", "a-pass").await, (200, None));

    // Replace alice by bob and add a header: takes effect on the next request.
    let bob = bcrypt::hash("b-pass", 4).unwrap();
    std::fs::write(
        dir.path().join("web.yml"),
        format!(
            "{tls}http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n\
             basic_auth_users:\n  bob: '{bob}'\n"
        ),
    )
    .unwrap();
    assert_eq!(status("alice", "a-pass").await.0, 401);
    let (code, header) = status("bob", "b-pass").await;
    assert_eq!(code, 200);
    assert_eq!(header.unwrap(), "sameorigin");

    // A broken edit keeps the previous users in force.
    std::fs::write(dir.path().join("web.yml"), "basic_auth_users: [oops\n").unwrap();
    assert_eq!(status("bob", "b-pass").await.0, 200);
    assert_eq!(status("alice", "a-pass").await.0, 401);
}
