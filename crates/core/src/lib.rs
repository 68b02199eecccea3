//! Guanxi's domain: entities, storage, services, authorization, audit and search. Knows nothing
//! of HTTP; the web layer and the command line call the same services.

pub mod address;
pub mod areas;
pub mod audit;
pub mod authz;
pub mod backups;
pub mod custom_fields;
pub mod db;
pub mod dedupe;
pub mod error;
pub mod identity;
pub mod import;
pub mod insights;
pub mod jobs;
pub mod mail;
pub mod moveall;
pub mod normalize;
pub mod notifications;
pub mod recent;
pub mod records;
pub mod refs;
pub mod reminders;
pub mod saved_views;
pub mod search;
pub mod settings;
pub mod setup;
pub mod tidy;
pub mod time_zone;

pub use authz::{Actor, Grant, Role, Scope};
pub use db::{Db, IfMissing};
pub use error::{CoreError, CoreResult, FieldError, FieldErrors, Params, codes};
pub use records::{EntityDef, Registry};
pub use settings::Settings;

use chrono::{DateTime, SubsecRound, Utc};

/// The current instant at the microsecond precision both databases store, so a value read back
/// equals the value written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The service root: the database, the settings and the registry of entities every service
/// call needs.
#[derive(Clone)]
pub struct Core {
    pub db: Db,
    pub settings: Settings,
    pub registry: &'static Registry,
    /// Custom field definitions as recently read.
    pub custom_fields: std::sync::Arc<custom_fields::Cache>,
    /// How each sales rep's lists were lately read (SQLite).
    pub scope_plans: std::sync::Arc<records::scope_plan::ScopePlans>,
    /// Sends e-mail through the configured SMTP server; none when none is configured.
    pub mailer: Option<std::sync::Arc<mail::Mailer>>,
}

/// The jobs every process runs, for a database of `backend`: what `guanxi serve` and `guanxi jobs
/// run` register. Composed here, above the services whose jobs they are, so that the job runner
/// knows none of them.
pub fn standard_jobs(backend: db::Backend) -> jobs::Handlers {
    let handlers = jobs::Handlers::default()
        .register(mail::KIND, mail::SendEmail)
        .register_on(tidy::KIND, tidy::schedule(), tidy::Tidy)
        .register_on(
            insights::refresh::KIND,
            insights::refresh::schedule(),
            insights::refresh::NightlyRefresh,
        )
        .register(insights::rescore::CHANGED_JOB, insights::rescore::Rescore);
    match backend {
        db::Backend::Sqlite => handlers.register_every(
            search::upkeep::KIND,
            search::upkeep::EVERY,
            search::upkeep::SearchUpkeep,
        ),
        db::Backend::Postgres => handlers,
    }
}

impl Core {
    /// A core serving every area's entities.
    pub fn new(db: Db, settings: Settings) -> Core {
        // Settings are checked as they load (`Mailer::new` names what is wrong); a core made
        // from unchecked ones sends nothing rather than failing to start.
        let mailer = settings
            .mail
            .as_ref()
            .and_then(|m| match mail::Mailer::new(m) {
                Ok(mailer) => Some(std::sync::Arc::new(mailer)),
                Err(e) => {
                    tracing::error!(error = %e, "outbound e-mail is off");
                    None
                }
            });
        Core {
            mailer,
            db,
            settings,
            registry: areas::registry(),
            custom_fields: Default::default(),
            scope_plans: Default::default(),
        }
    }

    pub fn records(&self, def: &'static EntityDef) -> records::service::RecordService<'_> {
        records::service::RecordService::new(self, def)
    }
}
