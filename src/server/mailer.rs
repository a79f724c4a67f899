//! Email notifications over SMTP (lettre), when `MSSP_SMTP_URL` is configured. Sending runs in
//! the background: a slow or failing mail server never delays or fails a request.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Clone, Debug)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `url`: `smtp://host:port` (STARTTLS when offered... see lettre's URL forms),
    /// `smtps://user:password@host`, or `smtp://host:port?tls=required`.
    pub fn new(url: &str, from: &str) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("MSSP_SMTP_URL: {e}"))?
            .build();
        let from = from.parse().map_err(|e| format!("MSSP_SMTP_FROM: {e}"))?;
        Ok(Mailer { transport, from })
    }

    /// Sends `subject`/`body` to each address, in the background; failures are logged.
    pub fn send_later(&self, to: Vec<String>, subject: String, body: String) {
        let mailer = self.clone();
        tokio::spawn(async move {
            for address in to {
                let message = address
                    .parse::<Mailbox>()
                    .map_err(|e| e.to_string())
                    .and_then(|mailbox| {
                        Message::builder()
                            .from(mailer.from.clone())
                            .to(mailbox)
                            .subject(subject.clone())
                            .body(body.clone())
                            .map_err(|e| e.to_string())
                    });
                match message {
                    Ok(message) => {
                        if let Err(e) = mailer.transport.send(message).await {
                            tracing::warn!(to = %address, "sending email: {e}");
                        }
                    }
                    Err(e) => tracing::warn!(to = %address, "building email: {e}"),
                }
            }
        });
    }
}
