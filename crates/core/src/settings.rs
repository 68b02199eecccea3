//! Settings the domain needs: regional defaults and limits. Loaded by the CLI from a file and
//! environment variables; the defaults suit a company in mainland China.

#[derive(Clone, Debug)]
pub struct Settings {
    /// Region for phone numbers typed without a country code (ISO 3166 alpha-2).
    pub default_region: String,
    /// Currency for amounts given without one (ISO 4217).
    pub default_currency: String,
    /// The time zone of users who have not chosen one: the zone pages show times in and forms
    /// read them in.
    pub default_time_zone: crate::time_zone::Tz,
    /// How long a login session lasts.
    pub session_hours: i64,
    /// Failed logins allowed within `throttle_window_minutes` before the account or address is
    /// locked for that long.
    pub max_login_failures: i64,
    pub throttle_window_minutes: i64,
    /// The address people open Guanxi at, for the links in e-mails. Configured rather than
    /// taken from a request's `Host`, which a stranger asking for a password reset could forge
    /// to have the link point at their own site.
    pub public_url: String,
    /// The SMTP server outbound e-mail goes through; none sends no e-mail.
    pub mail: Option<crate::mail::MailSettings>,
    /// The largest file people may upload to import, in bytes.
    pub import_max_bytes: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_region: "CN".into(),
            default_currency: "CNY".into(),
            default_time_zone: crate::time_zone::Tz::Asia__Shanghai,
            session_hours: 12,
            max_login_failures: 5,
            throttle_window_minutes: 15,
            public_url: "http://127.0.0.1:8080".into(),
            mail: None,
            import_max_bytes: crate::import::uploads::DEFAULT_MAX_BYTES,
        }
    }
}
