//! Settings from, in order of precedence: command-line flags, `GUANXI_*` environment variables,
//! the config file (`guanxi.toml` in the working directory, or `--config`), built-in defaults.

use std::path::Path;

use anyhow::{Context, Result, bail};
use guanxi_core::Settings;
use guanxi_core::mail::{MailSettings, Secret, TlsMode};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database: Option<String>,
    pub listen: Option<String>,
    pub default_region: Option<String>,
    pub default_currency: Option<String>,
    pub default_time_zone: Option<String>,
    pub session_hours: Option<i64>,
    pub secure_cookies: Option<bool>,
    pub max_login_failures: Option<i64>,
    pub throttle_window_minutes: Option<i64>,
    pub trusted_proxies: Option<Vec<String>>,
    pub public_url: Option<String>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_tls: Option<String>,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<String>,
    pub mail_from: Option<String>,
    pub smtp_timeout_secs: Option<u64>,
    pub backup_dir: Option<String>,
    pub backup_every_hours: Option<u64>,
    pub backup_keep: Option<usize>,
    /// The largest file people may upload to import, in MiB.
    pub import_max_mb: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database: String,
    pub listen: String,
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR networks).
    pub trusted_proxies: guanxi_web::TrustedProxies,
    pub settings: Settings,
    /// Scheduled backups: none when no directory is configured.
    pub backups: Option<guanxi_core::backups::BackupSchedule>,
}

pub const DEFAULT_DATABASE: &str = "guanxi.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_parse<T: std::str::FromStr>(name: &str) -> Result<Option<T>> {
    match env(name) {
        None => Ok(None),
        Some(v) => v
            .parse::<T>()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{name}={v} is not valid")),
    }
}

impl Config {
    /// Loads the file (if any) and the environment; flags are applied by the caller.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let file: FileConfig = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading config file {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("config file {}", p.display()))?
            }
            None if Path::new("guanxi.toml").exists() => {
                let text = std::fs::read_to_string("guanxi.toml").context("reading guanxi.toml")?;
                toml::from_str(&text).context("config file guanxi.toml")?
            }
            None => FileConfig::default(),
        };
        let d = Settings::default();
        let mail = mail_settings(&file)?;
        let backups = backup_schedule(&file)?;
        let time_zone = env("GUANXI_DEFAULT_TIME_ZONE").or(file.default_time_zone);
        let default_time_zone = match time_zone.as_deref().map(str::trim) {
            None => d.default_time_zone,
            Some(name) => guanxi_core::time_zone::parse(name).with_context(|| {
                format!("default_time_zone must be an IANA time zone such as Asia/Shanghai, not '{name}'")
            })?,
        };
        let settings = Settings {
            default_region: env("GUANXI_DEFAULT_REGION")
                .or(file.default_region)
                .unwrap_or(d.default_region)
                .to_uppercase(),
            default_currency: env("GUANXI_DEFAULT_CURRENCY")
                .or(file.default_currency)
                .unwrap_or(d.default_currency)
                .to_uppercase(),
            default_time_zone,
            session_hours: env_parse("GUANXI_SESSION_HOURS")?
                .or(file.session_hours)
                .unwrap_or(d.session_hours),
            max_login_failures: env_parse("GUANXI_MAX_LOGIN_FAILURES")?
                .or(file.max_login_failures)
                .unwrap_or(d.max_login_failures),
            throttle_window_minutes: env_parse("GUANXI_THROTTLE_WINDOW_MINUTES")?
                .or(file.throttle_window_minutes)
                .unwrap_or(d.throttle_window_minutes),
            public_url: String::new(),
            mail,
            import_max_bytes: env_parse::<u64>("GUANXI_IMPORT_MAX_MB")?
                .or(file.import_max_mb)
                .map_or(d.import_max_bytes, |mb| mb.saturating_mul(1 << 20)),
        };
        let listen = env("GUANXI_LISTEN")
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let settings = Settings {
            public_url: env("GUANXI_PUBLIC_URL")
                .or(file.public_url)
                .unwrap_or_else(|| format!("http://{listen}"))
                .trim_end_matches('/')
                .to_owned(),
            ..settings
        };
        let cfg = Config {
            database: env("GUANXI_DATABASE")
                .or(file.database)
                .unwrap_or_else(|| DEFAULT_DATABASE.into()),
            listen,
            secure_cookies: env_parse("GUANXI_SECURE_COOKIES")?
                .or(file.secure_cookies)
                .unwrap_or(false),
            trusted_proxies: guanxi_web::TrustedProxies::parse(
                &env("GUANXI_TRUSTED_PROXIES")
                    .map(|v| {
                        v.split(',')
                            .map(str::trim)
                            .filter(|e| !e.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .or(file.trusted_proxies)
                    .unwrap_or_default(),
            )
            .map_err(anyhow::Error::msg)?,
            settings,
            backups,
        };
        cfg.check()?;
        Ok(cfg)
    }

    pub fn check(&self) -> Result<()> {
        let s = &self.settings;
        if s.default_region.len() != 2 || !s.default_region.chars().all(|c| c.is_ascii_alphabetic())
        {
            bail!(
                "default_region must be a two-letter country code, not '{}'",
                s.default_region
            );
        }
        if !guanxi_core::records::money::valid_currency(&s.default_currency) {
            bail!(
                "default_currency must be a three-letter ISO code, not '{}'",
                s.default_currency
            );
        }
        if !(1..=24 * 90).contains(&s.session_hours) {
            bail!("session_hours must be between 1 and 2160");
        }
        if s.max_login_failures < 1 || s.throttle_window_minutes < 1 {
            bail!("max_login_failures and throttle_window_minutes must be at least 1");
        }
        let url = url::Url::parse(&s.public_url).ok();
        if !url.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some()) {
            bail!(
                "public_url must be the http(s) address people open Guanxi at, not '{}'",
                s.public_url
            );
        }
        if let Some(mail) = &s.mail {
            mail.check().map_err(anyhow::Error::msg)?;
        }
        self.listen
            .parse::<std::net::SocketAddr>()
            .with_context(|| format!("listen address '{}' is not ADDR:PORT", self.listen))?;
        Ok(())
    }
}

/// The scheduled backups, when a directory is set: none writes none.
fn backup_schedule(file: &FileConfig) -> Result<Option<guanxi_core::backups::BackupSchedule>> {
    use guanxi_core::backups::{BackupSchedule, DEFAULT_EVERY_HOURS, DEFAULT_KEEP};
    let Some(dir) = env("GUANXI_BACKUP_DIR").or_else(|| file.backup_dir.clone()) else {
        return Ok(None);
    };
    let every_hours = env_parse("GUANXI_BACKUP_EVERY_HOURS")?
        .or(file.backup_every_hours)
        .unwrap_or(DEFAULT_EVERY_HOURS);
    if !(1..=24 * 31).contains(&every_hours) {
        bail!("backup_every_hours must be between 1 and 744, not {every_hours}");
    }
    let keep = env_parse("GUANXI_BACKUP_KEEP")?
        .or(file.backup_keep)
        .unwrap_or(DEFAULT_KEEP);
    if !(1..=10_000).contains(&keep) {
        bail!("backup_keep must be between 1 and 10000, not {keep}");
    }
    Ok(Some(BackupSchedule {
        dir: dir.into(),
        every_hours,
        keep,
    }))
}

/// The SMTP settings, when a host is set: none sends no e-mail.
fn mail_settings(file: &FileConfig) -> Result<Option<MailSettings>> {
    let Some(host) = env("GUANXI_SMTP_HOST").or_else(|| file.smtp_host.clone()) else {
        return Ok(None);
    };
    let tls = match env("GUANXI_SMTP_TLS").or_else(|| file.smtp_tls.clone()) {
        None => TlsMode::StartTls,
        Some(t) => TlsMode::parse(&t)
            .with_context(|| format!("smtp_tls must be none, starttls or tls, not '{t}'"))?,
    };
    let user = env("GUANXI_SMTP_USER")
        .or_else(|| file.smtp_user.clone())
        .unwrap_or_default();
    Ok(Some(MailSettings {
        port: env_parse("GUANXI_SMTP_PORT")?
            .or(file.smtp_port)
            .unwrap_or(tls.default_port()),
        tls,
        password: Secret::new(
            env("GUANXI_SMTP_PASSWORD")
                .or_else(|| file.smtp_password.clone())
                .unwrap_or_default(),
        ),
        from: env("GUANXI_MAIL_FROM")
            .or_else(|| file.mail_from.clone())
            .unwrap_or_else(|| user.clone()),
        user,
        timeout: std::time::Duration::from_secs(
            env_parse("GUANXI_SMTP_TIMEOUT_SECS")?
                .or(file.smtp_timeout_secs)
                .unwrap_or(20)
                .clamp(1, 300),
        ),
        host,
    }))
}
