//! The email integration against a minimal local SMTP server: auth, envelope, subject from
//! the default template, HTML and text bodies.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use alertmanager::template::Templates;
use alertmanager::{Alertmanager, Config, ManualClock, Options, PostableAlert};
use model::Labels;
use receivers::NotifyContext;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Accepts one SMTP session and returns the commands and the DATA it saw.
async fn smtp_server() -> (u16, mpsc::UnboundedReceiver<(Vec<String>, String)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut lines = BufReader::new(r).lines();
        w.write_all(b"220 localhost ESMTP\r\n").await.unwrap();
        let (mut cmds, mut data, mut in_data) = (Vec::new(), String::new(), false);
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    w.write_all(b"250 queued\r\n").await.unwrap();
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            cmds.push(line.clone());
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-localhost\r\n250 AUTH PLAIN LOGIN\r\n"
            } else if upper.starts_with("AUTH") {
                b"235 ok\r\n"
            } else if upper.starts_with("DATA") {
                in_data = true;
                b"354 go\r\n"
            } else if upper.starts_with("QUIT") {
                w.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            w.write_all(reply).await.unwrap();
        }
        let _ = tx.send((cmds, data));
    });
    (port, rx)
}

#[tokio::test]
async fn sends_mail_with_auth_and_bodies() {
    let (port, mut rx) = smtp_server().await;
    let yaml = format!(
        "global:\n  smtp_smarthost: '127.0.0.1:{port}'\n  smtp_from: 'am@example.org'\n  smtp_auth_username: user\n  smtp_auth_password: secret\n  smtp_require_tls: false\nroute: {{receiver: mail, group_by: [alertname]}}\nreceivers:\n- name: mail\n  email_configs:\n  - to: 'ops@example.org'\n    text: 'text body {{{{ .Status }}}}'\n    headers: {{X-Team: db}}\n"
    );
    let cfg = Config::parse(&yaml, "am.yml").unwrap();
    let clock = ManualClock::new(1_800_000_000_000);
    let mut am = Alertmanager::new(cfg, Options::default(), Arc::new(clock.clone())).unwrap();
    am.push(vec![PostableAlert {
        labels: Labels::new([("alertname", "Down"), ("job", "api")]),
        ..Default::default()
    }]);
    clock.advance(30_000);
    let n = am.tick().remove(0);
    let ctx = NotifyContext::new(
        &n,
        "http://am",
        Arc::new(Templates::defaults()),
        reqwest::Client::new(),
    );
    receivers::notify(&n.integration, &ctx).await.unwrap();
    let (cmds, data) = rx.recv().await.unwrap();
    assert!(cmds.iter().any(|c| c.starts_with("AUTH PLAIN")), "{cmds:?}");
    assert!(cmds.iter().any(|c| c == "MAIL FROM:<am@example.org>"), "{cmds:?}");
    assert!(cmds.iter().any(|c| c == "RCPT TO:<ops@example.org>"), "{cmds:?}");
    assert!(data.contains("Subject: [FIRING:1] Down (api)"), "{data}");
    assert!(data.contains("X-Team: db"), "{data}");
    assert!(data.contains("text body firing"), "{data}");
    assert!(data.contains("text/html"), "{data}");
}
