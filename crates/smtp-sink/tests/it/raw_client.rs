//! The server over real TCP, driven by a small hand-written SMTP client.

use std::time::{Duration, Instant};

use guanxi_smtp_sink::{Behaviour, Options, SmtpSink};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

const WAIT: Duration = Duration::from_secs(10);

fn b64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Client {
    /// Connects and reads the greeting.
    async fn connect(sink: &SmtpSink) -> Client {
        let mut client = Client::connect_silent(sink).await;
        let (code, text) = client.reply().await;
        assert_eq!(code, 220, "{text}");
        client
    }

    async fn connect_silent(sink: &SmtpSink) -> Client {
        let stream = TcpStream::connect(sink.addr()).await.unwrap();
        let (read, write) = stream.into_split();
        Client {
            reader: BufReader::new(read),
            writer: write,
        }
    }

    /// Reads one reply, multi-line or not: its code and its lines' text joined by `\n`.
    async fn reply(&mut self) -> (u16, String) {
        let mut text = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(WAIT, self.reader.read_line(&mut line))
                .await
                .expect("reply in time")
                .unwrap();
            assert!(n > 0, "connection closed while waiting for a reply");
            assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
            let code: u16 = line[..3].parse().unwrap();
            text.push(line[4..line.len() - 2].to_owned());
            if line.as_bytes()[3] == b' ' {
                return (code, text.join("\n"));
            }
            assert_eq!(line.as_bytes()[3], b'-', "{line:?}");
        }
    }

    async fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).await.unwrap();
    }

    /// Sends a command line and returns the reply's code.
    async fn cmd(&mut self, line: &str) -> u16 {
        self.send(&format!("{line}\r\n")).await;
        self.reply().await.0
    }

    /// Sends a whole message, already dot-stuffed, and returns the final reply's code.
    async fn mail(&mut self, from: &str, to: &[&str], stuffed_data: &str) -> u16 {
        assert_eq!(self.cmd(&format!("MAIL FROM:<{from}>")).await, 250);
        for rcpt in to {
            assert_eq!(self.cmd(&format!("RCPT TO:<{rcpt}>")).await, 250);
        }
        assert_eq!(self.cmd("DATA").await, 354);
        self.send(stuffed_data).await;
        self.send(".\r\n").await;
        self.reply().await.0
    }

    /// Whether the server closed the connection.
    async fn closed(&mut self) -> bool {
        let mut buf = [0u8; 64];
        matches!(
            tokio::time::timeout(WAIT, self.reader.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}

#[tokio::test]
async fn ehlo_advertises_the_extensions() {
    let sink = SmtpSink::start().await.unwrap();
    assert_eq!(sink.host(), "127.0.0.1");
    assert_eq!(sink.port(), sink.addr().port());
    let mut c = Client::connect(&sink).await;
    c.send("EHLO client.example\r\n").await;
    let (code, text) = c.reply().await;
    assert_eq!(code, 250);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"AUTH PLAIN LOGIN"), "{text}");
    assert!(lines.contains(&"8BITMIME"), "{text}");
    assert!(lines.contains(&"SMTPUTF8"), "{text}");
    assert!(lines.contains(&"SIZE 10485760"), "{text}");
    assert!(!text.contains("STARTTLS"));
    assert_eq!(c.cmd("HELO client.example").await, 250);
    assert_eq!(c.cmd("STARTTLS").await, 502);
    assert_eq!(c.cmd("VRFY someone").await, 502);
    assert_eq!(c.cmd("QUIT").await, 221);
    assert!(c.closed().await);
}

#[tokio::test]
async fn dot_stuffing_and_two_recipients() {
    let sink = SmtpSink::start().await.unwrap();
    let mut c = Client::connect(&sink).await;
    assert_eq!(c.cmd("EHLO me").await, 250);
    let code = c
        .mail(
            "sender@example.com",
            &["one@example.com", "two@example.com"],
            "Subject: dots\r\n\r\n..leading dot\r\n..\r\n...\r\nmiddle . dot\r\n",
        )
        .await;
    assert_eq!(code, 250);
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, "sender@example.com");
    assert_eq!(got[0].to, ["one@example.com", "two@example.com"]);
    assert_eq!(
        got[0].data,
        "Subject: dots\r\n\r\n.leading dot\r\n.\r\n..\r\nmiddle . dot\r\n"
    );
    assert_eq!(got[0].auth_user, None);
    assert_eq!(
        got[0].text_part().as_deref(),
        Some(".leading dot\n.\n..\nmiddle . dot")
    );
}

#[tokio::test]
async fn commands_in_and_out_of_order() {
    let sink = SmtpSink::start().await.unwrap();
    let mut c = Client::connect(&sink).await;
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 503);
    assert_eq!(c.cmd("ehlo me").await, 250);
    assert_eq!(c.cmd("NOOP").await, 250);
    assert_eq!(c.cmd("RCPT TO:<b@example.com>").await, 503);
    assert_eq!(c.cmd("DATA").await, 503);
    assert_eq!(c.cmd("FROB nicate").await, 502);
    assert_eq!(c.cmd("").await, 500);
    assert_eq!(c.cmd("MAIL TO:<a@example.com>").await, 501);
    assert_eq!(
        c.cmd("mail from:<a@example.com> SIZE=100 BODY=8BITMIME SMTPUTF8")
            .await,
        250
    );
    assert_eq!(c.cmd("MAIL FROM:<again@example.com>").await, 503);
    assert_eq!(c.cmd("DATA").await, 503);
    assert_eq!(c.cmd("RCPT TO:<>").await, 501);
    assert_eq!(c.cmd("RCPT TO:<dropped@example.com>").await, 250);
    assert_eq!(c.cmd("RSET").await, 250);
    assert_eq!(c.cmd("RCPT TO:<b@example.com>").await, 503);
    // Several messages on one connection, the null reverse path among them.
    assert_eq!(
        c.mail(
            "a@example.com",
            &["b@example.com"],
            "Subject: 1\r\n\r\none\r\n"
        )
        .await,
        250
    );
    assert_eq!(
        c.mail("", &["c@example.com"], "Subject: 2\r\n\r\ntwo\r\n")
            .await,
        250
    );
    let got = sink.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].to, ["b@example.com"]);
    assert_eq!(got[0].header("subject").as_deref(), Some("1"));
    assert_eq!(got[1].from, "");
    assert_eq!(got[1].to, ["c@example.com"]);
    assert_eq!(c.cmd("QUIT").await, 221);
}

#[tokio::test]
async fn auth_plain() {
    let sink = SmtpSink::start_with(Options {
        behaviour: Behaviour::AuthRequired {
            user: "mailer".into(),
            pass: "s3cret 密码".into(),
        },
        ..Options::default()
    })
    .await
    .unwrap();
    let mut c = Client::connect(&sink).await;
    assert_eq!(c.cmd("AUTH PLAIN").await, 503, "AUTH before EHLO");
    assert_eq!(c.cmd("EHLO me").await, 250);
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 530);
    let wrong = b64(b"\0mailer\0wrong");
    assert_eq!(c.cmd(&format!("AUTH PLAIN {wrong}")).await, 535);
    assert_eq!(c.cmd("AUTH PLAIN not*base64").await, 501);
    assert_eq!(c.cmd("AUTH CRAM-MD5").await, 504);
    // Cancelled at the continuation.
    assert_eq!(c.cmd("AUTH PLAIN").await, 334);
    assert_eq!(c.cmd("*").await, 501);
    // The response at the continuation rather than with the command.
    assert_eq!(c.cmd("AUTH PLAIN").await, 334);
    let right = b64("\0mailer\0s3cret 密码".as_bytes());
    assert_eq!(c.cmd(&right).await, 235);
    assert_eq!(c.cmd(&format!("AUTH PLAIN {right}")).await, 503);
    assert_eq!(
        c.mail(
            "a@example.com",
            &["b@example.com"],
            "Subject: x\r\n\r\nx\r\n"
        )
        .await,
        250
    );
    // With the response given with the command, on another connection.
    let mut c = Client::connect(&sink).await;
    assert_eq!(c.cmd("EHLO me").await, 250);
    let with_authzid = b64("mailer\0mailer\0s3cret 密码".as_bytes());
    assert_eq!(c.cmd(&format!("AUTH PLAIN {with_authzid}")).await, 235);
    assert_eq!(
        c.mail(
            "a@example.com",
            &["b@example.com"],
            "Subject: y\r\n\r\ny\r\n"
        )
        .await,
        250
    );
    let got = sink.messages();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|m| m.auth_user.as_deref() == Some("mailer")));
}

#[tokio::test]
async fn auth_login() {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_behaviour(Behaviour::AuthRequired {
        user: "mailer".into(),
        pass: "pw".into(),
    });
    let mut c = Client::connect(&sink).await;
    assert_eq!(c.cmd("EHLO me").await, 250);
    c.send("AUTH LOGIN\r\n").await;
    assert_eq!(c.reply().await, (334, "VXNlcm5hbWU6".to_owned()));
    c.send(&format!("{}\r\n", b64(b"mailer"))).await;
    assert_eq!(c.reply().await, (334, "UGFzc3dvcmQ6".to_owned()));
    assert_eq!(c.cmd(&b64(b"wrong")).await, 535);
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 530);
    // The user name given with the command.
    assert_eq!(c.cmd(&format!("AUTH LOGIN {}", b64(b"mailer"))).await, 334);
    assert_eq!(c.cmd(&b64(b"pw")).await, 235);
    assert_eq!(
        c.mail(
            "a@example.com",
            &["b@example.com"],
            "Subject: x\r\n\r\nx\r\n"
        )
        .await,
        250
    );
    assert_eq!(sink.messages()[0].auth_user.as_deref(), Some("mailer"));
}

#[tokio::test]
async fn any_credentials_do_when_auth_is_not_required() {
    let sink = SmtpSink::start().await.unwrap();
    let mut c = Client::connect(&sink).await;
    assert_eq!(c.cmd("EHLO me").await, 250);
    let plain = b64(b"\0whoever\0whatever");
    assert_eq!(c.cmd(&format!("AUTH PLAIN {plain}")).await, 235);
    assert_eq!(
        c.mail("a@example.com", &["b@example.com"], "\r\nx\r\n")
            .await,
        250
    );
    assert_eq!(sink.messages()[0].auth_user.as_deref(), Some("whoever"));
}

#[tokio::test]
async fn refusals_have_their_codes() {
    let sink = SmtpSink::start().await.unwrap();
    let mut c = Client::connect(&sink).await;
    assert_eq!(c.cmd("EHLO me").await, 250);

    sink.set_behaviour(Behaviour::TempFail);
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 451);

    sink.set_behaviour(Behaviour::RefuseRecipients);
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 250);
    assert_eq!(c.cmd("RCPT TO:<b@example.com>").await, 550);
    assert_eq!(c.cmd("DATA").await, 503);
    assert_eq!(c.cmd("RSET").await, 250);

    sink.set_behaviour(Behaviour::RefuseData);
    assert_eq!(
        c.mail(
            "a@example.com",
            &["b@example.com"],
            "Subject: no\r\n\r\nno\r\n"
        )
        .await,
        554
    );
    assert!(sink.messages().is_empty());

    sink.set_behaviour(Behaviour::Accept);
    assert_eq!(sink.behaviour(), Behaviour::Accept);
    assert_eq!(
        c.mail(
            "a@example.com",
            &["b@example.com"],
            "Subject: yes\r\n\r\nyes\r\n"
        )
        .await,
        250
    );
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("Subject").as_deref(), Some("yes"));
}

#[tokio::test]
async fn limits() {
    let sink = SmtpSink::start_with(Options {
        max_message_bytes: 100,
        max_line_bytes: 64,
        max_recipients: 2,
        ..Options::default()
    })
    .await
    .unwrap();
    let mut c = Client::connect(&sink).await;
    c.send("EHLO me\r\n").await;
    let (code, text) = c.reply().await;
    assert_eq!(code, 250);
    assert!(text.lines().any(|l| l == "SIZE 100"), "{text}");
    assert_eq!(c.cmd(&format!("NOOP {}", "x".repeat(100))).await, 500);
    assert_eq!(c.cmd("NOOP").await, 250, "the long line was skipped whole");
    assert_eq!(c.cmd("MAIL FROM:<a@example.com> SIZE=101").await, 552);
    assert_eq!(c.cmd("MAIL FROM:<a@example.com> SIZE=100").await, 250);
    assert_eq!(c.cmd("RCPT TO:<b@example.com>").await, 250);
    assert_eq!(c.cmd("RCPT TO:<c@example.com>").await, 250);
    assert_eq!(c.cmd("RCPT TO:<d@example.com>").await, 452);
    assert_eq!(c.cmd("DATA").await, 354);
    c.send(&format!("Subject: big\r\n\r\n{}\r\n.\r\n", "y".repeat(100)))
        .await;
    assert_eq!(c.reply().await.0, 552);
    // Data lines may be longer than command lines.
    let body = "z".repeat(80);
    assert_eq!(
        c.mail(
            "a@example.com",
            &["b@example.com"],
            &format!("\r\n{body}\r\n")
        )
        .await,
        250
    );
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].text_part(), Some(body));
}

#[tokio::test]
async fn stall_sends_nothing() {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_behaviour(Behaviour::Stall);
    let mut stalled = Client::connect_silent(&sink).await;
    let mut buf = [0u8; 16];
    let read =
        tokio::time::timeout(Duration::from_millis(500), stalled.reader.read(&mut buf)).await;
    assert!(read.is_err(), "the server said something: {read:?}");
    stalled.cmd_no_reply("EHLO me").await;
    sink.set_behaviour(Behaviour::Accept);
    let mut c = Client::connect(&sink).await;
    assert_eq!(c.cmd("EHLO me").await, 250);
    assert_eq!(sink.connections(), 2);
}

impl Client {
    async fn cmd_no_reply(&mut self, line: &str) {
        self.send(&format!("{line}\r\n")).await;
        let mut buf = [0u8; 16];
        let read =
            tokio::time::timeout(Duration::from_millis(200), self.reader.read(&mut buf)).await;
        assert!(read.is_err(), "the server answered: {read:?}");
    }
}

#[tokio::test]
async fn wait_for_returns_after_n_or_after_the_timeout() {
    let sink = SmtpSink::start().await.unwrap();
    let started = Instant::now();
    assert!(
        sink.wait_for(1, Duration::from_millis(300))
            .await
            .is_empty()
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(sink.wait_for(0, WAIT).await.is_empty());

    let sender = {
        let sink = sink.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut c = Client::connect(&sink).await;
            assert_eq!(c.cmd("EHLO me").await, 250);
            for i in 0..2 {
                let data = format!("Subject: {i}\r\n\r\nbody\r\n");
                assert_eq!(
                    c.mail("a@example.com", &["b@example.com"], &data).await,
                    250
                );
            }
            c
        })
    };
    let started = Instant::now();
    let got = sink.wait_for(2, Duration::from_secs(30)).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(got.len(), 2);
    let _connection = sender.await.unwrap();

    let started = Instant::now();
    let got = sink.wait_for(3, Duration::from_millis(300)).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(got.len(), 2);

    sink.clear();
    assert!(sink.messages().is_empty());
    assert!(sink.wait_for(1, Duration::from_millis(50)).await.is_empty());
}

#[tokio::test]
async fn many_concurrent_connections_each_recorded_once() {
    let sink = SmtpSink::start().await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let sink = sink.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(&sink).await;
            assert_eq!(c.cmd("EHLO me").await, 250);
            let data = format!("Subject: message {i}\r\n\r\nbody {i}\r\n");
            let to = format!("user{i}@example.com");
            assert_eq!(c.mail("a@example.com", &[&to], &data).await, 250);
            assert_eq!(c.cmd("QUIT").await, 221);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let got = sink.wait_for(50, WAIT).await;
    assert_eq!(got.len(), 50);
    let mut subjects: Vec<String> = got.iter().map(|m| m.header("Subject").unwrap()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 50);
    for m in &got {
        let i = m.header("subject").unwrap()["message ".len()..].to_owned();
        assert_eq!(m.to, [format!("user{i}@example.com")]);
        assert_eq!(m.text_part(), Some(format!("body {i}")));
    }
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_server() {
    let sink = SmtpSink::start().await.unwrap();
    let addr = sink.addr();
    let mut open = Client::connect(&sink).await;
    let other = sink.clone();
    drop(sink);
    assert_eq!(open.cmd("NOOP").await, 250, "a clone keeps it running");
    drop(other);
    assert!(open.closed().await, "the open connection is closed");
    // The listener is gone too (give the runtime a moment to drop it).
    let mut refused = false;
    for _ in 0..50 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused);
}

#[tokio::test]
async fn shutdown_stops_it_whatever_handles_remain() {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_behaviour(Behaviour::Stall);
    let mut stalled = Client::connect_silent(&sink).await;
    let _other = sink.clone();
    sink.shutdown();
    assert!(stalled.closed().await);
}
