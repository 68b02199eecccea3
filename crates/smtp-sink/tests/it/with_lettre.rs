//! The server against the SMTP client the product sends with: lettre, plain SMTP on loopback.

use std::time::{Duration, Instant};

use guanxi_smtp_sink::{Behaviour, SmtpSink};
use lettre::message::{Mailbox, MultiPart, header};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, SmtpTransport, Tokio1Executor, Transport,
};

const WAIT: Duration = Duration::from_secs(10);

/// A transport for the sink: plain SMTP (no TLS, no STARTTLS) to 127.0.0.1 and its port.
fn transport(sink: &SmtpSink) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(sink.host())
        .port(sink.port())
        .timeout(Some(Duration::from_secs(5)))
        .build()
}

fn mailbox(s: &str) -> Mailbox {
    s.parse().unwrap()
}

fn simple(subject: &str, body: &str) -> Message {
    Message::builder()
        .from(mailbox("Guanxi <noreply@guanxi.example>"))
        .to(mailbox("user@example.com"))
        .subject(subject)
        .header(header::ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .unwrap()
}

#[tokio::test]
async fn multipart_alternative_in_chinese_round_trips() {
    let sink = SmtpSink::start().await.unwrap();
    let subject = "欢迎加入关系客户管理系统：张三，您的账户已经开通，请在二十四小时内设置密码";
    let text = "张三，您好！\n\n您的账户已经开通。请点击下面的链接设置密码：\nhttps://crm.example.com/reset?token=abc.def\n\n—— 关系 CRM\n";
    let html = "<p>张三，您好！</p>\n<p>您的账户已经开通。请<a href=\"https://crm.example.com/reset?token=abc.def\">设置密码</a>。</p>";
    let message = Message::builder()
        .from(mailbox("关系 CRM <noreply@guanxi.example>"))
        .to(mailbox("张三 <zhangsan@example.com>"))
        .to(mailbox("lisi@example.com"))
        .subject(subject)
        .multipart(MultiPart::alternative_plain_html(
            text.to_owned(),
            html.to_owned(),
        ))
        .unwrap();
    transport(&sink).send(message).await.unwrap();

    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.from, "noreply@guanxi.example");
    assert_eq!(m.to, ["zhangsan@example.com", "lisi@example.com"]);
    assert_eq!(m.auth_user, None);
    assert_eq!(m.header("subject").as_deref(), Some(subject));
    assert_eq!(
        m.header("From").as_deref(),
        Some("关系 CRM <noreply@guanxi.example>")
    );
    assert_eq!(
        m.header("To").as_deref(),
        Some("张三 <zhangsan@example.com>, lisi@example.com")
    );
    assert_eq!(m.text_part().as_deref(), Some(text));
    assert_eq!(m.html_part().as_deref(), Some(html));
    // What lettre does with such a message, which the decoding above has to undo: a subject
    // in several base64 encoded-words over folded lines, base64 bodies for Chinese text.
    let raw_subject = m
        .data
        .split("\r\n")
        .skip_while(|l| !l.starts_with("Subject:"))
        .take_while(|l| l.starts_with("Subject:") || l.starts_with(' '))
        .collect::<Vec<_>>();
    assert!(raw_subject.len() > 1, "{raw_subject:?}");
    assert!(raw_subject[0].contains("=?utf-8?b?"), "{raw_subject:?}");
    assert!(
        m.data.contains("Content-Transfer-Encoding: base64"),
        "{}",
        m.data
    );
}

#[tokio::test]
async fn mostly_ascii_text_goes_quoted_printable() {
    let sink = SmtpSink::start().await.unwrap();
    let body = "Dear customer, your invoice for the café order is attached. Total: 100 € — thank you for choosing Guanxi, the CRM for teams. Line two = the end.\n";
    let message = simple("Café invoice", body);
    transport(&sink).send(message).await.unwrap();
    let got = sink.wait_for(1, WAIT).await;
    let m = &got[0];
    assert!(
        m.data
            .contains("Content-Transfer-Encoding: quoted-printable"),
        "{}",
        m.data
    );
    assert_eq!(m.header("Subject").as_deref(), Some("Café invoice"));
    assert_eq!(m.text_part().as_deref(), Some(body));
    assert_eq!(m.html_part(), None);
}

#[tokio::test]
async fn ascii_and_dots_go_through_unchanged() {
    let sink = SmtpSink::start().await.unwrap();
    let body = "Hello,\n.\n.leading dot\n..two dots\nBye";
    transport(&sink).send(simple("Plain", body)).await.unwrap();
    let got = sink.wait_for(1, WAIT).await;
    assert!(got[0].data.contains("\r\n.leading dot\r\n..two dots\r\n"));
    assert_eq!(got[0].text_part().as_deref(), Some(body));
    assert_eq!(got[0].header("subject").as_deref(), Some("Plain"));
}

#[tokio::test]
async fn mixed_with_an_attachment() {
    let sink = SmtpSink::start().await.unwrap();
    let message = Message::builder()
        .from(mailbox("noreply@guanxi.example"))
        .to(mailbox("user@example.com"))
        .subject("报表")
        .multipart(
            MultiPart::mixed()
                .multipart(MultiPart::alternative_plain_html(
                    "见附件。".to_owned(),
                    "<p>见附件。</p>".to_owned(),
                ))
                .singlepart(
                    lettre::message::Attachment::new("report.txt".to_owned())
                        .body("附件内容".to_owned(), header::ContentType::TEXT_PLAIN),
                ),
        )
        .unwrap();
    transport(&sink).send(message).await.unwrap();
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got[0].text_part().as_deref(), Some("见附件。"));
    assert_eq!(got[0].html_part().as_deref(), Some("<p>见附件。</p>"));
}

#[tokio::test]
async fn auth_plain_and_login() {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_behaviour(Behaviour::AuthRequired {
        user: "mailer".into(),
        pass: "s3cret".into(),
    });
    for mechanism in [Mechanism::Plain, Mechanism::Login] {
        let good = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(sink.host())
            .port(sink.port())
            .credentials(Credentials::new("mailer".into(), "s3cret".into()))
            .authentication(vec![mechanism])
            .build();
        good.send(simple(&format!("{mechanism:?}"), "hi"))
            .await
            .unwrap();

        let bad = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(sink.host())
            .port(sink.port())
            .credentials(Credentials::new("mailer".into(), "wrong".into()))
            .authentication(vec![mechanism])
            .build();
        let err = bad.send(simple("bad", "hi")).await.unwrap_err();
        assert!(err.is_permanent(), "{err}");
        assert_eq!(err.status().unwrap().to_string(), "535", "{err}");
    }
    // No credentials at all.
    let err = transport(&sink)
        .send(simple("none", "hi"))
        .await
        .unwrap_err();
    assert_eq!(err.status().unwrap().to_string(), "530", "{err}");

    let got = sink.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].header("Subject").as_deref(), Some("Plain"));
    assert_eq!(got[1].header("Subject").as_deref(), Some("Login"));
    assert!(got.iter().all(|m| m.auth_user.as_deref() == Some("mailer")));
}

#[tokio::test]
async fn refusals_reach_lettre_with_their_codes() {
    let sink = SmtpSink::start().await.unwrap();
    let smtp = transport(&sink);
    for (behaviour, code, permanent) in [
        (Behaviour::RefuseRecipients, "550", true),
        (Behaviour::RefuseData, "554", true),
        (Behaviour::TempFail, "451", false),
    ] {
        sink.set_behaviour(behaviour.clone());
        let err = smtp.send(simple("refused", "no")).await.unwrap_err();
        assert_eq!(
            err.status().map(|c| c.to_string()).as_deref(),
            Some(code),
            "{behaviour:?}: {err}"
        );
        assert_eq!(err.is_permanent(), permanent, "{behaviour:?}: {err}");
        assert_eq!(err.is_transient(), !permanent, "{behaviour:?}: {err}");
    }
    assert!(sink.messages().is_empty());
    sink.set_behaviour(Behaviour::Accept);
    smtp.send(simple("accepted", "yes")).await.unwrap();
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);
}

/// lettre's async transport applies its `timeout` to the TCP connect only: against a server
/// that accepts and then says nothing, `send` waits for ever, so the caller must bound it.
#[tokio::test]
async fn stall_needs_a_timeout_around_the_async_send() {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_behaviour(Behaviour::Stall);
    let smtp = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(sink.host())
        .port(sink.port())
        .timeout(Some(Duration::from_secs(1)))
        .build();
    let started = Instant::now();
    let sent =
        tokio::time::timeout(Duration::from_secs(1), smtp.send(simple("stalled", "x"))).await;
    let took = started.elapsed();
    assert!(sent.is_err(), "{sent:?}");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(sink.messages().is_empty());
    assert_eq!(sink.connections(), 1);
}

/// lettre's blocking transport sets its `timeout` as the socket's read and write timeouts.
/// On Linux the expired read shows as a network error (`WouldBlock`, "Resource temporarily
/// unavailable"), not as one whose `is_timeout()` is true.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_makes_the_blocking_transport_time_out() {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_behaviour(Behaviour::Stall);
    let (host, port) = (sink.host(), sink.port());
    let started = Instant::now();
    let err = tokio::task::spawn_blocking(move || {
        SmtpTransport::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(1)))
            .build()
            .send(&simple("stalled", "x"))
            .unwrap_err()
    })
    .await
    .unwrap();
    let took = started.elapsed();
    assert!(err.to_string().contains("network error"), "{err:?}");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn fifty_concurrent_sends_are_each_recorded_once() {
    let sink = SmtpSink::start().await.unwrap();
    let smtp = transport(&sink);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let smtp = smtp.clone();
        tasks.push(tokio::spawn(async move {
            let message = Message::builder()
                .from(mailbox("noreply@guanxi.example"))
                .to(mailbox(&format!("user{i}@example.com")))
                .subject(format!("通知 {i}"))
                .body(format!("第 {i} 封"))
                .unwrap();
            smtp.send(message).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let got = sink.wait_for(50, WAIT).await;
    assert_eq!(got.len(), 50);
    let mut seen: Vec<usize> = got
        .iter()
        .map(|m| {
            let subject = m.header("Subject").unwrap();
            let i: usize = subject.strip_prefix("通知 ").unwrap().parse().unwrap();
            assert_eq!(m.to, [format!("user{i}@example.com")]);
            assert_eq!(m.text_part(), Some(format!("第 {i} 封")));
            i
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
    // Nothing more arrives later.
    assert_eq!(
        sink.wait_for(51, Duration::from_millis(300)).await.len(),
        50
    );
}
