//! The email integration: SMTP via `lettre`, STARTTLS (or implicit TLS on port 465) and
//! auth, HTML body with an optional text alternative.

use alertmanager::config::EmailConfig;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::context::{NotifyContext, secret};
use crate::error::NotifyError;

fn permanent(e: impl std::fmt::Display) -> NotifyError {
    NotifyError::permanent(format!("email: {e}"))
}

/// Renders the message.
pub fn build_message(cfg: &EmailConfig, ctx: &NotifyContext) -> Result<Message, NotifyError> {
    let from = ctx.render_opt(cfg.from.as_deref())?;
    let to = ctx.render_opt(Some(&cfg.to))?;
    let subject = match cfg.headers.get("Subject") {
        Some(s) => ctx.render_opt(Some(s))?,
        None => ctx.render_opt(Some(r#"{{ template "email.default.subject" . }}"#))?,
    };
    let mut b =
        Message::builder().from(from.parse::<Mailbox>().map_err(permanent)?).subject(subject);
    for addr in to.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        b = b.to(addr.parse::<Mailbox>().map_err(permanent)?);
    }
    let html = ctx.render(cfg.html.as_deref(), r#"{{ template "email.default.html" . }}"#)?;
    let text = ctx.render_opt(cfg.text.as_deref())?;
    let body = if text.is_empty() {
        MultiPart::mixed()
            .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html))
    } else {
        MultiPart::alternative_plain_html(text, html)
    };
    let mut msg = b.multipart(body).map_err(permanent)?;
    for (k, v) in &cfg.headers {
        if ["subject", "to", "from"].contains(&k.to_ascii_lowercase().as_str()) {
            continue;
        }
        let value = ctx.render_opt(Some(v))?;
        let name = HeaderName::new_from_ascii(k.clone()).map_err(permanent)?;
        msg.headers_mut().insert_raw(HeaderValue::new(name, value));
    }
    Ok(msg)
}

fn transport(cfg: &EmailConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, NotifyError> {
    let smarthost = cfg.smarthost.clone().unwrap_or_default();
    let (host, port) = smarthost
        .rsplit_once(':')
        .ok_or_else(|| permanent(format!("invalid smarthost {smarthost:?}")))?;
    let port: u16 = port.parse().map_err(permanent)?;
    let insecure = cfg.tls_config.as_ref().is_some_and(|t| t.insecure_skip_verify);
    let server_name = cfg
        .tls_config
        .as_ref()
        .and_then(|t| t.server_name.clone())
        .unwrap_or_else(|| host.to_string());
    let params = TlsParameters::builder(server_name)
        .dangerous_accept_invalid_certs(insecure)
        .build_rustls()
        .map_err(permanent)?;
    let tls = if port == 465 {
        Tls::Wrapper(params)
    } else if cfg.require_tls.unwrap_or(true) {
        Tls::Required(params)
    } else {
        Tls::None
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).tls(tls);
    if let Some(hello) = &cfg.hello {
        b = b.hello_name(ClientId::Domain(hello.clone()));
    }
    if let Some(user) = cfg.auth_username.as_ref().filter(|u| !u.is_empty()) {
        let password = secret(cfg.auth_password.as_deref(), cfg.auth_password_file.as_deref())
            .unwrap_or_default();
        b = b.credentials(Credentials::new(user.clone(), password));
    }
    Ok(b.build())
}

pub async fn notify(cfg: &EmailConfig, ctx: &NotifyContext) -> Result<(), NotifyError> {
    let msg = build_message(cfg, ctx)?;
    let t = transport(cfg)?;
    match t.send(msg).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(permanent(e)),
        Err(e) => Err(NotifyError::retryable(format!("email: {e}"))),
    }
}
