//! One SMTP connection: RFC 5321's commands, and RFC 4954's `AUTH PLAIN` and `AUTH LOGIN`.

use std::io;
use std::sync::Arc;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;

use crate::{Behaviour, Received, Shared};

/// Serves one connection until the client quits or goes, or the server stops.
pub(crate) async fn run(stream: TcpStream, shared: Arc<Shared>) {
    if shared.behaviour() == Behaviour::Stall {
        stall(stream).await;
        return;
    }
    let (read, write) = stream.into_split();
    let mut session = Session {
        shared,
        reader: BufReader::new(read),
        writer: write,
        helo: None,
        auth_user: None,
        from: None,
        to: Vec::new(),
    };
    // An I/O error ends the connection; there is no one to tell.
    let _ = session.serve().await;
}

/// Keeps the connection open, saying nothing, until the client closes it.
async fn stall(mut stream: TcpStream) {
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

enum Line {
    /// A whole line, with its line ending.
    Complete,
    /// A line longer than the limit; it was read and thrown away.
    TooLong,
    /// The client closed the connection (a last line without line ending is dropped).
    Eof,
}

/// Reads one line into `buf` (cleared first), of at most `limit` bytes with its line ending.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Line::Eof);
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let used = chunk.len();
        if !too_long {
            if buf.len() + used > limit {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        reader.consume(used);
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

fn trim_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

struct Session {
    shared: Arc<Shared>,
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: OwnedWriteHalf,
    helo: Option<String>,
    auth_user: Option<String>,
    /// The reverse path once `MAIL FROM` was accepted: a mail transaction is under way.
    from: Option<String>,
    to: Vec<String>,
}

/// What to do after a command.
enum Next {
    Continue,
    Quit,
}

impl Session {
    async fn reply(&mut self, text: &str) -> io::Result<()> {
        let mut out = String::with_capacity(text.len() + 2);
        out.push_str(text);
        out.push_str("\r\n");
        self.writer.write_all(out.as_bytes()).await?;
        self.writer.flush().await
    }

    fn reset_transaction(&mut self) {
        self.from = None;
        self.to.clear();
    }

    async fn serve(&mut self) -> io::Result<()> {
        let greeting = format!(
            "220 {} ESMTP guanxi-smtp-sink ready",
            self.shared.options.hostname
        );
        self.reply(&greeting).await?;
        let mut buf = Vec::new();
        loop {
            match read_line(
                &mut self.reader,
                &mut buf,
                self.shared.options.max_line_bytes,
            )
            .await?
            {
                Line::Eof => return Ok(()),
                Line::TooLong => {
                    self.reply("500 5.5.6 Line too long").await?;
                    continue;
                }
                Line::Complete => {}
            }
            let line = String::from_utf8_lossy(trim_line_ending(&buf)).into_owned();
            if let Next::Quit = self.command(&line).await? {
                return Ok(());
            }
        }
    }

    async fn command(&mut self, line: &str) -> io::Result<Next> {
        let (verb, arg) = match line.find(' ') {
            Some(i) => (&line[..i], line[i + 1..].trim()),
            None => (line, ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => self.ehlo(arg).await?,
            "HELO" => {
                if arg.is_empty() {
                    self.reply("501 5.5.4 HELO needs a domain").await?;
                } else {
                    self.helo = Some(arg.to_owned());
                    self.reset_transaction();
                    let text = format!("250 {} hello {arg}", self.shared.options.hostname);
                    self.reply(&text).await?;
                }
            }
            "MAIL" => self.mail(arg).await?,
            "RCPT" => self.rcpt(arg).await?,
            "DATA" => {
                if !arg.is_empty() {
                    self.reply("501 5.5.4 DATA takes no argument").await?;
                } else {
                    return self.data().await;
                }
            }
            "RSET" => {
                self.reset_transaction();
                self.reply("250 2.0.0 OK").await?;
            }
            "NOOP" => self.reply("250 2.0.0 OK").await?,
            "QUIT" => {
                self.reply("221 2.0.0 Bye").await?;
                return Ok(Next::Quit);
            }
            "AUTH" => return self.auth(arg).await,
            "" => self.reply("500 5.5.2 Empty command").await?,
            _ => self.reply("502 5.5.1 Command not implemented").await?,
        }
        Ok(Next::Continue)
    }

    async fn ehlo(&mut self, arg: &str) -> io::Result<()> {
        if arg.is_empty() {
            return self.reply("501 5.5.4 EHLO needs a domain").await;
        }
        self.helo = Some(arg.to_owned());
        self.reset_transaction();
        let options = &self.shared.options;
        let text = format!(
            "250-{} hello {arg}\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n\
             250-ENHANCEDSTATUSCODES\r\n250 SIZE {}",
            options.hostname, options.max_message_bytes
        );
        self.reply(&text).await
    }

    async fn mail(&mut self, arg: &str) -> io::Result<()> {
        if self.helo.is_none() {
            return self.reply("503 5.5.1 Say EHLO first").await;
        }
        if self.from.is_some() {
            return self.reply("503 5.5.1 A transaction is under way").await;
        }
        let Some((path, params)) = parse_path(arg, "FROM:") else {
            return self.reply("501 5.5.4 Syntax: MAIL FROM:<address>").await;
        };
        for param in params.split_ascii_whitespace() {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            if key.eq_ignore_ascii_case("SIZE") {
                match value.parse::<u64>() {
                    Ok(size) if size > self.shared.options.max_message_bytes as u64 => {
                        return self.reply("552 5.3.4 Message too big").await;
                    }
                    Ok(_) => {}
                    Err(_) => return self.reply("501 5.5.4 Bad SIZE").await,
                }
            }
        }
        match self.shared.behaviour() {
            Behaviour::TempFail => {
                return self
                    .reply("451 4.3.0 Temporary failure, try again later")
                    .await;
            }
            Behaviour::AuthRequired { .. } if self.auth_user.is_none() => {
                return self.reply("530 5.7.0 Authentication required").await;
            }
            _ => {}
        }
        self.from = Some(path);
        self.reply("250 2.1.0 OK").await
    }

    async fn rcpt(&mut self, arg: &str) -> io::Result<()> {
        if self.from.is_none() {
            return self.reply("503 5.5.1 Need MAIL first").await;
        }
        let Some((path, _params)) = parse_path(arg, "TO:") else {
            return self.reply("501 5.5.4 Syntax: RCPT TO:<address>").await;
        };
        if path.is_empty() {
            return self.reply("501 5.1.3 Empty recipient").await;
        }
        if self.shared.behaviour() == Behaviour::RefuseRecipients {
            return self.reply("550 5.1.1 Recipient refused").await;
        }
        if self.to.len() >= self.shared.options.max_recipients {
            return self.reply("452 4.5.3 Too many recipients").await;
        }
        self.to.push(path);
        self.reply("250 2.1.5 OK").await
    }

    async fn data(&mut self) -> io::Result<Next> {
        let Some(from) = self.from.clone() else {
            self.reply("503 5.5.1 Need MAIL first").await?;
            return Ok(Next::Continue);
        };
        if self.to.is_empty() {
            self.reply("503 5.5.1 Need RCPT first").await?;
            return Ok(Next::Continue);
        }
        self.reply("354 End data with <CRLF>.<CRLF>").await?;
        let max = self.shared.options.max_message_bytes;
        let mut data = Vec::new();
        let mut too_big = false;
        let mut buf = Vec::new();
        loop {
            match read_line(&mut self.reader, &mut buf, max.saturating_add(3)).await? {
                Line::Eof => return Ok(Next::Quit),
                Line::TooLong => {
                    too_big = true;
                    continue;
                }
                Line::Complete => {}
            }
            if trim_line_ending(&buf) == b"." {
                break;
            }
            let line = buf.strip_prefix(b".").unwrap_or(&buf);
            if data.len() + line.len() > max {
                too_big = true;
            }
            if !too_big {
                data.extend_from_slice(line);
            }
        }
        let to = std::mem::take(&mut self.to);
        self.reset_transaction();
        if too_big {
            self.reply("552 5.3.4 Message too big").await?;
        } else if self.shared.behaviour() == Behaviour::RefuseData {
            self.reply("554 5.6.0 Message refused").await?;
        } else {
            self.shared.keep(Received {
                from,
                to,
                data: String::from_utf8_lossy(&data).into_owned(),
                auth_user: self.auth_user.clone(),
            });
            self.reply("250 2.0.0 OK queued").await?;
        }
        Ok(Next::Continue)
    }

    /// Reads one line of an exchange inside a command, without its line ending.
    async fn read_response(&mut self) -> io::Result<Option<String>> {
        let mut buf = Vec::new();
        match read_line(
            &mut self.reader,
            &mut buf,
            self.shared.options.max_line_bytes,
        )
        .await?
        {
            Line::Eof => Ok(None),
            Line::TooLong => Ok(Some(String::new())),
            Line::Complete => Ok(Some(
                String::from_utf8_lossy(trim_line_ending(&buf)).into_owned(),
            )),
        }
    }

    async fn auth(&mut self, arg: &str) -> io::Result<Next> {
        if self.helo.is_none() {
            self.reply("503 5.5.1 Say EHLO first").await?;
            return Ok(Next::Continue);
        }
        if self.auth_user.is_some() {
            self.reply("503 5.5.1 Already authenticated").await?;
            return Ok(Next::Continue);
        }
        if self.from.is_some() {
            self.reply("503 5.5.1 AUTH is not allowed during a transaction")
                .await?;
            return Ok(Next::Continue);
        }
        let (mechanism, initial) = match arg.split_once(' ') {
            Some((m, rest)) => (m, Some(rest.trim().to_owned())),
            None => (arg, None),
        };
        let credentials = match mechanism.to_ascii_uppercase().as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(r) => r,
                    None => {
                        self.reply("334 ").await?;
                        match self.read_response().await? {
                            Some(r) => r,
                            None => return Ok(Next::Quit),
                        }
                    }
                };
                if response == "*" {
                    self.reply("501 5.7.0 Authentication cancelled").await?;
                    return Ok(Next::Continue);
                }
                decode_plain(&response)
            }
            "LOGIN" => {
                let user = match initial {
                    Some(r) => r,
                    None => {
                        // "Username:"
                        self.reply("334 VXNlcm5hbWU6").await?;
                        match self.read_response().await? {
                            Some(r) => r,
                            None => return Ok(Next::Quit),
                        }
                    }
                };
                if user == "*" {
                    self.reply("501 5.7.0 Authentication cancelled").await?;
                    return Ok(Next::Continue);
                }
                // "Password:"
                self.reply("334 UGFzc3dvcmQ6").await?;
                let Some(pass) = self.read_response().await? else {
                    return Ok(Next::Quit);
                };
                if pass == "*" {
                    self.reply("501 5.7.0 Authentication cancelled").await?;
                    return Ok(Next::Continue);
                }
                decode_text(&user).zip(decode_text(&pass))
            }
            "" => {
                self.reply("501 5.5.4 Syntax: AUTH mechanism").await?;
                return Ok(Next::Continue);
            }
            _ => {
                self.reply("504 5.5.4 Unrecognized authentication type")
                    .await?;
                return Ok(Next::Continue);
            }
        };
        let Some((user, pass)) = credentials else {
            self.reply("501 5.5.2 Cannot decode the response").await?;
            return Ok(Next::Continue);
        };
        let accepted = match self.shared.behaviour() {
            Behaviour::AuthRequired {
                user: want_user,
                pass: want_pass,
            } => user == want_user && pass == want_pass,
            _ => true,
        };
        if accepted {
            self.auth_user = Some(user);
            self.reply("235 2.7.0 Authentication successful").await?;
        } else {
            self.reply("535 5.7.8 Authentication credentials invalid")
                .await?;
        }
        Ok(Next::Continue)
    }
}

/// Parses `FROM:<path> params` (or `TO:…`): the path without brackets, and the parameters.
fn parse_path<'a>(arg: &'a str, keyword: &str) -> Option<(String, &'a str)> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    if let Some(inner) = rest.strip_prefix('<') {
        let end = inner.find('>')?;
        let path = &inner[..end];
        // A source route (`@a,@b:user@c`) is to be accepted and ignored.
        let path = match path.starts_with('@') {
            true => path.split_once(':').map_or(path, |(_, mailbox)| mailbox),
            false => path,
        };
        Some((path.to_owned(), inner[end + 1..].trim()))
    } else {
        // Some clients leave out the brackets.
        let (path, params) = rest.split_once(' ').unwrap_or((rest, ""));
        if path.is_empty() {
            return None;
        }
        Some((path.to_owned(), params.trim()))
    }
}

fn decode_text(b64: &str) -> Option<String> {
    let bytes = crate::base64::decode_strict(b64.as_bytes())?;
    String::from_utf8(bytes).ok()
}

/// `AUTH PLAIN`'s response: base64 of `authzid NUL authcid NUL passwd`.
fn decode_plain(b64: &str) -> Option<(String, String)> {
    // "=" stands for an empty response.
    let text = if b64 == "=" {
        String::new()
    } else {
        decode_text(b64)?
    };
    let mut parts = text.split('\0');
    let _authzid = parts.next()?;
    let user = parts.next()?;
    let pass = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    Some((user.to_owned(), pass.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            parse_path("FROM:<a@b.c> SIZE=12 BODY=8BITMIME", "FROM:"),
            Some(("a@b.c".to_owned(), "SIZE=12 BODY=8BITMIME"))
        );
        assert_eq!(parse_path("from: <>", "FROM:"), Some((String::new(), "")));
        assert_eq!(
            parse_path("To:<@relay:张三@例子.cn>", "TO:"),
            Some(("张三@例子.cn".to_owned(), ""))
        );
        assert_eq!(parse_path("TO:x@y", "TO:"), Some(("x@y".to_owned(), "")));
        assert_eq!(parse_path("TO:<x@y", "TO:"), None);
        assert_eq!(parse_path("FROM:<x@y>", "TO:"), None);
        assert_eq!(parse_path("", "TO:"), None);
    }

    #[test]
    fn plain_responses() {
        // "\0user\0pass"
        assert_eq!(
            decode_plain("AHVzZXIAcGFzcw=="),
            Some(("user".to_owned(), "pass".to_owned()))
        );
        assert_eq!(decode_plain("dXNlcg=="), None);
        assert_eq!(decode_plain("not base64!"), None);
        assert_eq!(decode_plain("="), None);
    }

    #[tokio::test]
    async fn line_limits() {
        let input: &[u8] = b"short\r\nthis line is too long\r\nok\nlast without end";
        let mut reader = BufReader::with_capacity(4, input);
        let mut buf = Vec::new();
        assert!(matches!(
            read_line(&mut reader, &mut buf, 10).await.unwrap(),
            Line::Complete
        ));
        assert_eq!(buf, b"short\r\n");
        assert!(matches!(
            read_line(&mut reader, &mut buf, 10).await.unwrap(),
            Line::TooLong
        ));
        assert!(matches!(
            read_line(&mut reader, &mut buf, 10).await.unwrap(),
            Line::Complete
        ));
        assert_eq!(buf, b"ok\n");
        assert!(matches!(
            read_line(&mut reader, &mut buf, 100).await.unwrap(),
            Line::Eof
        ));
    }
}
