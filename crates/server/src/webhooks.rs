//! Sends the webhook deliveries the store writer queues ([`crate::webhook_events`]),
//! signed as the Standard Webhooks specification says (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature` with HMAC-SHA256), off every call's path.
//! A receiver that fails or does not answer gets the delivery again later, the wait
//! growing, and a call's events wait for its earlier ones, so each receiver sees a call
//! in order; a restart loses nothing, as the outbox is read again.
//!
//! The client is hyper's HTTP/1.1 connection with rustls: a receiver is one host, so
//! one kept-alive connection per receiver serves, and no pooling client is needed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use switchboard_store::{DeliveryOutcome, QueuedDelivery, Store};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::config::{Config, WebhookEndpoint};
use crate::{DATABASE_FILE, unix_ms};

/// Waits before the next try after the n-th failure; after the last, the delivery is
/// given up (about 18 hours after it was made).
const RETRY_AFTER: [Duration; 8] = [
    Duration::from_secs(2),
    Duration::from_secs(10),
    Duration::from_secs(60),
    Duration::from_secs(300),
    Duration::from_secs(1800),
    Duration::from_secs(7200),
    Duration::from_secs(18_000),
    Duration::from_secs(36_000),
];

/// How long one try may take, connecting included.
const SEND_LIMIT: Duration = Duration::from_secs(15);

/// How long finished deliveries stay in the panel's log.
const KEEP_LOG: Duration = Duration::from_secs(30 * 24 * 3600);

type Sender = SendRequest<Full<Bytes>>;

const USER_AGENT: &str = concat!("Switchboard/", env!("CARGO_PKG_VERSION"));

/// Where a receiver's URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    https: bool,
    host: String,
    port: u16,
    /// The `Host` header.
    authority: String,
    path: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, String> {
        const WHAT: &str = "must be an http:// or https:// URL, such as https://crm.example/hooks";
        let uri: hyper::Uri = url.parse().map_err(|_| WHAT.to_string())?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(WHAT.into()),
        };
        let authority = uri.authority().ok_or("must name a host")?;
        if authority.as_str().contains('@') {
            return Err("must not hold a user name or password: the secret signs requests".into());
        }
        let host = authority.host().trim_matches(['[', ']']);
        if host.is_empty() {
            return Err("must name a host".into());
        }
        Ok(Target {
            https,
            host: host.to_string(),
            port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
            authority: authority.to_string(),
            path: uri
                .path_and_query()
                .map_or("/".to_string(), |p| p.as_str().to_string()),
        })
    }
}

/// The `webhook-signature` header of `body` sent as message `id` at unix second
/// `timestamp`.
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    let signed = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("v1,{signed}")
}

/// Sends due deliveries until `shutdown`; `wake` is told when new ones are queued.
pub async fn run(data_dir: PathBuf, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    let mut store = match Store::open(&data_dir.join(DATABASE_FILE)) {
        Ok(store) => store,
        Err(e) => return tracing::error!("webhooks cannot open the database: {e}"),
    };
    let mut connections = HashMap::new();
    let mut tidied = 0;
    loop {
        if unix_ms() - tidied > 3_600_000 {
            tidied = unix_ms();
            if let Err(e) = store.forget_deliveries(tidied - KEEP_LOG.as_millis() as i64) {
                tracing::error!("cannot tidy the webhook log: {e}");
            }
        }
        send_due(&mut store, &mut connections).await;
        let due = store.next_delivery_due().ok().flatten();
        if !crate::mailer::wait_until_due(due, &wake, &mut shutdown).await {
            return;
        }
    }
}

/// Tries every due delivery once: receivers side by side, each one's in order.
async fn send_due(store: &mut Store, connections: &mut HashMap<String, Sender>) {
    let due = match store.due_deliveries(unix_ms(), 100) {
        Ok(due) => due,
        Err(e) => return tracing::error!("cannot read the webhook outbox: {e}"),
    };
    if due.is_empty() {
        return;
    }
    // Read afresh each time: the admin may have changed a secret or removed a receiver.
    let settings = match Config::webhooks(store) {
        Ok(settings) => settings,
        Err(e) => return tracing::error!("cannot read the webhook settings: {e}"),
    };
    let mut by_receiver: HashMap<String, Vec<QueuedDelivery>> = HashMap::new();
    for d in due {
        by_receiver
            .entry(d.delivery.endpoint.clone())
            .or_default()
            .push(d);
    }
    let mut tries = JoinSet::new();
    for (url, deliveries) in by_receiver {
        let receiver = settings.endpoint(&url).cloned();
        let connection = connections.remove(&url);
        tries.spawn(async move {
            let mut connection = connection;
            let mut outcomes = Vec::new();
            for d in deliveries {
                let outcome = match &receiver {
                    Some(r) => try_once(r, &d, &mut connection).await,
                    None => DeliveryOutcome::Failed {
                        status: None,
                        error: "this receiver is no longer in the settings".into(),
                        retry_at: None,
                    },
                };
                outcomes.push((d, outcome));
            }
            (url, connection, outcomes)
        });
    }
    while let Some(done) = tries.join_next().await {
        let Ok((url, connection, outcomes)) = done else {
            continue;
        };
        if let Some(c) = connection {
            connections.insert(url, c);
        }
        for (d, outcome) in outcomes {
            if let DeliveryOutcome::Failed { error, .. } = &outcome {
                tracing::warn!(
                    "webhook {} to {} not delivered (try {}): {error}",
                    d.delivery.event,
                    d.delivery.endpoint,
                    d.attempts + 1
                );
            }
            if let Err(e) = store.record_delivery(d.id, &outcome, unix_ms()) {
                tracing::error!("cannot update the webhook outbox: {e}");
            }
        }
    }
}

/// One try of `d` to `receiver`, on `connection` when it is still open.
async fn try_once(
    receiver: &WebhookEndpoint,
    d: &QueuedDelivery,
    connection: &mut Option<Sender>,
) -> DeliveryOutcome {
    let posted = tokio::time::timeout(SEND_LIMIT, post(receiver, d, connection)).await;
    let (status, error) = match posted {
        Ok(Ok(status)) if (200..300).contains(&status) => {
            return DeliveryOutcome::Delivered { status };
        }
        Ok(Ok(status)) => (Some(status), format!("the receiver answered {status}")),
        Ok(Err(error)) => (None, error),
        Err(_) => (None, format!("no answer within {} s", SEND_LIMIT.as_secs())),
    };
    if status.is_none() {
        *connection = None;
    }
    DeliveryOutcome::Failed {
        status,
        error,
        retry_at: retry_after(d.attempts).map(|wait| unix_ms() + wait.as_millis() as i64),
    }
}

fn retry_after(attempts: u32) -> Option<Duration> {
    RETRY_AFTER.get(attempts as usize).copied()
}

/// Posts `d`, signed now; answers the receiver's status. A kept-alive connection the
/// receiver closed meanwhile is replaced once.
async fn post(
    receiver: &WebhookEndpoint,
    d: &QueuedDelivery,
    connection: &mut Option<Sender>,
) -> Result<u16, String> {
    let target = Target::parse(&receiver.url)?;
    let key = receiver.key().ok_or("the receiver's secret is malformed")?;
    let timestamp = unix_ms() / 1000;
    let signed = signature(&key, &d.delivery.message_id, timestamp, &d.delivery.payload);
    let request = || {
        hyper::Request::post(target.path.as_str())
            .header(hyper::header::HOST, target.authority.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, USER_AGENT)
            .header("webhook-id", d.delivery.message_id.as_str())
            .header("webhook-timestamp", timestamp)
            .header("webhook-signature", signed.as_str())
            .body(Full::new(Bytes::from(d.delivery.payload.clone())))
            .map_err(|e| e.to_string())
    };
    if let Some(sender) = connection.as_mut().filter(|s| !s.is_closed())
        && sender.ready().await.is_ok()
        && let Ok(response) = sender.send_request(request()?).await
    {
        return Ok(response.status().as_u16());
    }
    let sender = connection.insert(connect(&target).await?);
    let response = sender
        .send_request(request()?)
        .await
        .map_err(|e| format!("the receiver closed the connection: {e}"))?;
    Ok(response.status().as_u16())
}

async fn connect(target: &Target) -> Result<Sender, String> {
    let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", target.authority))?;
    let _ = tcp.set_nodelay(true);
    if !target.https {
        return handshake(tcp).await;
    }
    let dial = crate::trunks::tls_dial(&target.host, None)?;
    let tls = tokio_rustls::TlsConnector::from(dial.config)
        .connect(dial.name, tcp)
        .await
        .map_err(|e| format!("TLS with {} failed: {e}", target.authority))?;
    handshake(tls).await
}

async fn handshake<T>(io: T) -> Result<Sender, String>
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification (spec/standard-webhooks.md).
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_receiver_url_is_http_or_https_with_a_host_and_no_password() {
        let t = Target::parse("https://crm.example/hooks/pbx?team=1").unwrap();
        assert_eq!(
            (t.https, t.host.as_str(), t.port, t.path.as_str()),
            (true, "crm.example", 443, "/hooks/pbx?team=1")
        );
        let t = Target::parse("http://[::1]:8080").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("::1", 8080, "/")
        );
        for bad in [
            "ftp://crm.example/",
            "crm.example/hooks",
            "http://user:pw@crm.example/",
            "",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_failed_delivery_waits_longer_each_time_and_is_given_up_after_the_last() {
        let waits: Vec<Option<u64>> = (0..9)
            .map(|n| retry_after(n).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            waits,
            [
                Some(2),
                Some(10),
                Some(60),
                Some(300),
                Some(1800),
                Some(7200),
                Some(18_000),
                Some(36_000),
                None
            ]
        );
    }
}
