//! Outbound e-mail against a real SMTP server on loopback: a letter's job delivers it once and
//! forgets its text, a refusing server fails it at once, an unreachable or slow one makes it
//! try again; password reset links work once and run out; notices go by e-mail as each user
//! chose.

use std::time::Duration;

use guanxi_core::db::{self, Backend};
use guanxi_core::identity::{auth, reset, users};
use guanxi_core::jobs::runner::Runner;
use guanxi_core::mail::{self, Letter};
use guanxi_core::notifications::{self, Notice, prefs};
use guanxi_core::{Core, CoreError, codes};
use guanxi_smtp_sink::{Behaviour, SmtpSink};
use serde_json::json;

use crate::support::{Fresh, actor, admin, backends, mailing, two_teams};

fn letter(to: &str) -> Letter {
    Letter {
        to: to.into(),
        to_name: "张伟".into(),
        subject: "提醒：跟进华为的报价 — follow up".into(),
        text: "张伟，您好：\n\n请跟进报价。\n.\n..a line with dots\n".into(),
        html: "<p>张伟，您好：</p><p>请跟进<b>报价</b>。</p>".into(),
    }
}

/// Each job's state, attempts, last error and whether its payload is still kept.
async fn jobs_of(core: &Core, kind: &str) -> Vec<(String, i64, String, bool)> {
    db::raw_query(
        core.db.reader(),
        &format!(
            "SELECT state, attempts, last_error, payload FROM jobs WHERE kind = '{kind}' ORDER BY id"
        ),
        vec![],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            db::get_string(r, "state").unwrap(),
            db::get_i64(r, "attempts").unwrap(),
            db::get_string(r, "last_error").unwrap(),
            !db::get_json(r, "payload").unwrap().is_null(),
        )
    })
    .collect()
}

async fn exec(core: &Core, sql: &str) {
    let txn = core.db.begin().await.unwrap();
    db::raw_execute(&txn, sql, vec![]).await.unwrap();
    txn.commit().await.unwrap();
}

async fn queue(core: &Core, l: &Letter) {
    let txn = core.db.begin().await.unwrap();
    mail::queue(&txn, l, None).await.unwrap();
    txn.commit().await.unwrap();
}

fn runner(core: &Core) -> Runner {
    Runner::new(core.clone(), guanxi_core::standard_jobs(core.db.backend()))
}

#[tokio::test]
async fn a_letter_reaches_the_smtp_server_once_in_both_parts_and_its_text_is_forgotten() {
    let sink = SmtpSink::start().await.unwrap();
    let fresh = Fresh::new(Backend::Sqlite).await;
    let core = fresh.core_with(mailing(sink.host(), sink.port())).await;
    let sent = letter("zhang.wei@example.com");
    queue(&core, &sent).await;
    runner(&core).run_due().await.unwrap();
    // Run again: nothing is sent twice.
    runner(&core).run_due().await.unwrap();
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.messages().len(), 1, "{:?}", sink.messages());
    let m = &got[0];
    assert_eq!(m.to, vec!["zhang.wei@example.com".to_string()]);
    assert_eq!(m.from, "crm@example.com");
    assert_eq!(m.header("Subject").as_deref(), Some(sent.subject.as_str()));
    assert!(m.header("From").unwrap().contains("crm@example.com"));
    assert!(m.header("To").unwrap().contains("zhang.wei@example.com"));
    assert_eq!(m.text_part().unwrap().replace("\r\n", "\n"), sent.text);
    assert_eq!(m.html_part().unwrap().replace("\r\n", "\n"), sent.html);
    assert_eq!(
        jobs_of(&core, mail::KIND).await,
        vec![("done".into(), 1, String::new(), false)],
        "a delivered letter's text is not kept"
    );
    fresh.cleanup(core).await;
}

#[tokio::test]
async fn a_refusing_server_fails_a_letter_at_once_and_a_slow_or_absent_one_retries() {
    let sink = SmtpSink::start().await.unwrap();
    let fresh = Fresh::new(Backend::Sqlite).await;
    let core = fresh.core_with(mailing(sink.host(), sink.port())).await;

    // A lasting refusal: failed after one attempt, the server's words kept, the letter too
    // (an administrator may send it again once the address is fixed).
    sink.set_behaviour(Behaviour::RefuseRecipients);
    queue(&core, &letter("nobody@example.com")).await;
    runner(&core).run_due().await.unwrap();
    let jobs = jobs_of(&core, mail::KIND).await;
    assert_eq!(jobs.len(), 1);
    let (state, attempts, error, kept) = &jobs[0];
    assert_eq!((state.as_str(), *attempts, *kept), ("failed", 1, true));
    assert!(
        error.contains("refused") && error.contains("550"),
        "{error}"
    );

    // A temporary failure: queued again for later, with the reason.
    sink.set_behaviour(Behaviour::TempFail);
    exec(&core, "DELETE FROM jobs").await;
    queue(&core, &letter("later@example.com")).await;
    runner(&core).run_due().await.unwrap();
    let (state, attempts, error, _) = jobs_of(&core, mail::KIND).await.remove(0);
    assert_eq!((state.as_str(), attempts), ("queued", 1));
    assert!(error.contains("451"), "{error}");

    // A server that never answers: the send times out and the job waits to try again, rather
    // than holding the runner.
    sink.set_behaviour(Behaviour::Stall);
    let stalled = fresh.core_with(mailing(sink.host(), sink.port())).await;
    exec(&core, "DELETE FROM jobs").await;
    queue(&core, &letter("slow@example.com")).await;
    let started = std::time::Instant::now();
    runner(&stalled).run_due().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    let (state, _, error, _) = jobs_of(&core, mail::KIND).await.remove(0);
    assert_eq!(state, "queued", "{error}");
    assert!(!error.is_empty());

    // Nobody listening at all.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let absent = fresh.core_with(mailing("127.0.0.1".into(), closed)).await;
    let err = mail::send(&absent, &letter("a@example.com"))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(sink.messages().is_empty());
    fresh.cleanup(core).await;
}

#[tokio::test]
async fn a_reset_link_works_once_runs_out_and_tells_nobody_who_has_an_account() {
    for backend in backends() {
        let sink = SmtpSink::start().await.unwrap();
        let fresh = Fresh::new(backend).await;
        let core = fresh.core_with(mailing(sink.host(), sink.port())).await;
        let boss = admin(&core, "boss@example.com").await;
        let [rep, _, _] = two_teams(&core, &boss).await;
        let rep_user = users::get(core.db.reader(), rep).await.unwrap();
        let (_, session) = auth::login(
            &core.db,
            &core.settings,
            "rep@example.com",
            "correct horse battery",
            "t",
        )
        .await
        .unwrap();

        // Unknown and disabled addresses: nothing queued, and no error either.
        let write = |_: &users::User, secret: &str| Letter {
            text: secret.to_owned(),
            ..letter("ignored@example.com")
        };
        reset::request(&core, "stranger@example.com", write)
            .await
            .unwrap();
        assert!(jobs_of(&core, mail::KIND).await.is_empty());

        // The rep asks: one letter, holding the one copy of the secret.
        let mut secret = String::new();
        reset::request(&core, " REP@example.com ", |user, s| {
            assert_eq!(user.id, rep);
            secret = s.to_owned();
            letter(&user.email)
        })
        .await
        .unwrap();
        assert_eq!(jobs_of(&core, mail::KIND).await.len(), 1);
        assert!(secret.len() >= 40);
        let stored = db::raw_query(
            core.db.reader(),
            "SELECT secret_hash FROM password_resets",
            vec![],
        )
        .await
        .unwrap();
        assert!(
            stored
                .iter()
                .all(|r| db::get_string(r, "secret_hash").unwrap() != secret),
            "only the secret's hash is stored"
        );
        assert_eq!(reset::holder(&core, &secret).await.unwrap().id, rep);

        // A weak password is refused, and the link still works.
        let weak = reset::complete(&core, &secret, "password").await;
        assert!(matches!(weak, Err(CoreError::Validation(_))), "{weak:?}");
        let user = reset::complete(&core, &secret, "new plum tram cycle 42")
            .await
            .unwrap();
        assert_eq!(user.id, rep_user.id);
        auth::login(
            &core.db,
            &core.settings,
            "rep@example.com",
            "new plum tram cycle 42",
            "t",
        )
        .await
        .unwrap();
        assert!(
            auth::session_actor(&core, &session.token).await.is_err(),
            "the sessions from before the reset ended"
        );

        // Used once: never again.
        for again in [
            reset::complete(&core, &secret, "another fine password 7")
                .await
                .map(|_| ()),
            reset::holder(&core, &secret).await.map(|_| ()),
        ] {
            match again {
                Err(CoreError::BadRequest { code, .. }) => {
                    assert_eq!(code, codes::RESET_LINK_INVALID)
                }
                other => panic!("a used link worked again: {other:?}"),
            }
        }

        // A link past its time does not work.
        let mut late = String::new();
        reset::request(&core, "rep@example.com", |u, s| {
            late = s.to_owned();
            letter(&u.email)
        })
        .await
        .unwrap();
        exec(
            &core,
            "UPDATE password_resets SET expires_at = created_at WHERE used_at IS NULL",
        )
        .await;
        assert!(reset::holder(&core, &late).await.is_err());
        assert!(
            reset::complete(&core, &late, "yet another good one 9")
                .await
                .is_err()
        );

        // Asking again and again fills nobody's mailbox: at most three letters in 30 minutes.
        for _ in 0..5 {
            reset::request(&core, "rep@example.com", |u, _| letter(&u.email))
                .await
                .unwrap();
        }
        assert_eq!(jobs_of(&core, mail::KIND).await.len(), 3);

        // A disabled user gets no letter.
        users::update(
            &core.db,
            Some(&boss),
            rep,
            users::UserPatch {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        exec(&core, "DELETE FROM password_resets").await;
        reset::request(&core, "rep@example.com", |u, _| letter(&u.email))
            .await
            .unwrap();
        assert_eq!(jobs_of(&core, mail::KIND).await.len(), 3);
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn without_an_smtp_server_nothing_is_queued_to_send() {
    let fresh = Fresh::new(Backend::Sqlite).await;
    let core = fresh.core().await;
    let boss = admin(&core, "boss@example.com").await;
    reset::request(&core, "boss@example.com", |u, _| letter(&u.email))
        .await
        .unwrap();
    let txn = core.db.begin().await.unwrap();
    notifications::notify(
        &core,
        &txn,
        Notice {
            user_id: boss.user_id,
            kind: "reminder",
            params: json!({"title": "x"}),
            about: None,
            visible_at: guanxi_core::now(),
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let queued = db::raw_query(core.db.reader(), "SELECT kind FROM jobs", vec![])
        .await
        .unwrap();
    assert!(queued.is_empty());
    let err = mail::send(&core, &letter("a@example.com"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("GUANXI_SMTP_HOST"), "{err}");
    fresh.cleanup(core).await;
}

#[tokio::test]
async fn a_notice_goes_by_email_when_it_shows_as_each_user_chose() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        // Nothing is sent here: the notice's e-mail is worded and sent by the web layer's job.
        let core = fresh.core_with(mailing("127.0.0.1".into(), 9)).await;
        let boss = admin(&core, "boss@example.com").await;
        let [rep, mate, _] = two_teams(&core, &boss).await;
        let mate_actor = actor(&core, "mate@example.com").await;
        assert_eq!(
            prefs::email_choices(&core, &mate_actor).await.unwrap(),
            vec![("reminder", true), ("insight_alert", true)],
            "reminders and insight alerts come by e-mail unless a user says otherwise"
        );
        prefs::set_email_choice(&core, &mate_actor, "reminder", false)
            .await
            .unwrap();
        assert_eq!(
            prefs::email_choices(&core, &mate_actor).await.unwrap(),
            vec![("reminder", false), ("insight_alert", true)]
        );
        let unknown = prefs::set_email_choice(&core, &mate_actor, "gossip", true).await;
        assert!(matches!(unknown, Err(CoreError::Validation(_))));

        let at = guanxi_core::now() + chrono::Duration::hours(2);
        let txn = core.db.begin().await.unwrap();
        let mut ids = Vec::new();
        for user_id in [rep, mate] {
            ids.push(
                notifications::notify(
                    &core,
                    &txn,
                    Notice {
                        user_id,
                        kind: "reminder",
                        params: json!({"title": "报价"}),
                        about: None,
                        visible_at: at,
                    },
                )
                .await
                .unwrap(),
            );
        }
        txn.commit().await.unwrap();
        let queued = db::raw_query(
            core.db.reader(),
            "SELECT payload, due_at FROM jobs WHERE kind = 'notice-email'",
            vec![],
        )
        .await
        .unwrap();
        assert_eq!(queued.len(), 1, "only the rep wants it by e-mail");
        assert_eq!(
            db::get_json(&queued[0], "payload").unwrap(),
            json!({"notification": ids[0]})
        );
        assert_eq!(db::get_ts(&queued[0], "due_at").unwrap(), at);
        fresh.cleanup(core).await;
    }
}
