//! Settings from, in order of precedence: command-line flags, `GUANXI_*` environment variables,
//! the config file (`guanxi.toml` in the working directory, or `--config`), built-in defaults.

use std::path::Path;

use anyhow::{Context, Result, bail};
use guanxi_core::Settings;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database: Option<String>,
    pub listen: Option<String>,
    pub default_region: Option<String>,
    pub default_currency: Option<String>,
    pub session_hours: Option<i64>,
    pub secure_cookies: Option<bool>,
    pub max_login_failures: Option<i64>,
    pub throttle_window_minutes: Option<i64>,
    pub trusted_proxies: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database: String,
    pub listen: String,
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR networks).
    pub trusted_proxies: guanxi_web::TrustedProxies,
    pub settings: Settings,
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
        let settings = Settings {
            default_region: env("GUANXI_DEFAULT_REGION")
                .or(file.default_region)
                .unwrap_or(d.default_region)
                .to_uppercase(),
            default_currency: env("GUANXI_DEFAULT_CURRENCY")
                .or(file.default_currency)
                .unwrap_or(d.default_currency)
                .to_uppercase(),
            session_hours: env_parse("GUANXI_SESSION_HOURS")?
                .or(file.session_hours)
                .unwrap_or(d.session_hours),
            max_login_failures: env_parse("GUANXI_MAX_LOGIN_FAILURES")?
                .or(file.max_login_failures)
                .unwrap_or(d.max_login_failures),
            throttle_window_minutes: env_parse("GUANXI_THROTTLE_WINDOW_MINUTES")?
                .or(file.throttle_window_minutes)
                .unwrap_or(d.throttle_window_minutes),
        };
        let cfg = Config {
            database: env("GUANXI_DATABASE")
                .or(file.database)
                .unwrap_or_else(|| DEFAULT_DATABASE.into()),
            listen: env("GUANXI_LISTEN")
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.into()),
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
        self.listen
            .parse::<std::net::SocketAddr>()
            .with_context(|| format!("listen address '{}' is not ADDR:PORT", self.listen))?;
        Ok(())
    }
}
