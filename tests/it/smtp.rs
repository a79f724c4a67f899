//! A real SMTP listener on loopback for the tests: speaks enough SMTP for lettre and keeps
//! every message it receives.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Received {
    pub rcpt_to: Vec<String>,
    pub data: String,
}

pub struct SmtpListener {
    pub url: String,
    pub inbox: Arc<Mutex<Vec<Received>>>,
}

pub async fn start() -> SmtpListener {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox: Arc<Mutex<Vec<Received>>> = Arc::default();
    let keep = inbox.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let inbox = keep.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test.local ESMTP ready\r\n").await;
                let mut rcpt_to = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-test.local\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL FROM") {
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO") {
                        rcpt_to.push(line[8..].trim().trim_matches(['<', '>']).to_string());
                        b"250 OK\r\n"
                    } else if upper.starts_with("DATA") {
                        let _ = write.write_all(b"354 end with .\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        inbox.lock().unwrap().push(Received {
                            rcpt_to: std::mem::take(&mut rcpt_to),
                            data,
                        });
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
                        b"250 OK\r\n"
                    } else {
                        b"502 not implemented\r\n"
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    SmtpListener {
        url: format!("smtp://127.0.0.1:{port}"),
        inbox,
    }
}
