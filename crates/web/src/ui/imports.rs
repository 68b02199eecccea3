//! Importing in the browser, for every entity of the registry: the upload page
//! (`/<plural>/import`), the mapping and preview page (`/<plural>/import/<id>`), the run's page
//! with its progress (`/imports/<id>`, polled at `/imports/<id>/progress.json`), its error file
//! (`/imports/<id>/errors.csv`) and the history of runs (`/imports`). The file is kept and read
//! by the core (`import::uploads`, `import::job`); the import itself is a job.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::get;
use guanxi_core::import::mapping::{ColumnMapping, Mapping, TargetKind, Targets, suggest};
use guanxi_core::import::prepare::date_example;
use guanxi_core::import::run::{self, Outcome, Policy, RowError, Sink};
use guanxi_core::import::uploads::{self, Upload};
use guanxi_core::import::{ReadError, job};
use guanxi_core::records::EntityDef;
use guanxi_core::{CoreError, Params, Scope};
use serde_json::json;
use uuid::Uuid;

use super::display::field_label;
use super::posted::Posted;
use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::api::query_pairs;
use crate::auth::{UiUser, check_csrf};
use crate::error::ApiError;
use crate::i18n::{EveryLanguage, I18n};
use crate::import_errors::ErrorCsv;

/// How many rows the preview imports in a dry run.
const PREVIEW_ROWS: u64 = 10;
/// How many values of a column the mapping table shows.
const SAMPLES: usize = 3;
/// How many runs the history lists.
const HISTORY: u64 = 200;

pub fn router(def: &'static EntityDef) -> Router<State> {
    Router::new()
        .route(
            &format!("/{}/import", def.plural),
            get(move |s: AxState<State>, u: UiUser| upload_page(def, s, u))
                .post(
                    move |s: AxState<State>,
                          u: UiUser,
                          h: HeaderMap,
                          m: Result<Multipart, MultipartRejection>| {
                        upload(def, s, u, h, m)
                    },
                )
                // The upload is streamed and capped by the settings' limit, not the form limit.
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            &format!("/{}/import/{{id}}", def.plural),
            get(
                move |s: AxState<State>, u: UiUser, i: Path<String>, q: RawQuery| {
                    mapping_get(def, s, u, i, q)
                },
            )
            .post(move |s: AxState<State>, i: Path<String>, p: Posted| mapping_post(def, s, i, p)),
        )
}

pub fn cross_entity_router() -> Router<State> {
    Router::new()
        .route("/imports", get(history))
        .route("/imports/{id}", get(run_page))
        .route("/imports/{id}/progress.json", get(progress))
        .route("/imports/{id}/errors.csv", get(errors_csv))
        .route("/imports/{id}/undo", axum::routing::post(undo_post))
        .route("/imports/{id}/stop", axum::routing::post(stop_post))
}

fn may_import(user: &UiUser, def: &'static EntityDef) -> Result<(), ApiError> {
    if user.actor.grant(def.name).write == Scope::None {
        return Err(CoreError::forbidden_for(
            guanxi_core::error::codes::ROLE_CANNOT_WRITE,
            def.name,
        )
        .into());
    }
    Ok(())
}

/// A refusal worded for the page it shows on.
fn words_of(i18n: &I18n, e: CoreError) -> String {
    let e = ApiError::from(e);
    match &e.fields {
        Some(fields) if !fields.is_empty() => fields
            .values()
            .map(|f| i18n.field_error(f))
            .collect::<Vec<_>>()
            .join(&i18n.t("error-separator")),
        _ => e.message_in(i18n),
    }
}

// ---------------------------------------------------------------------------------------------
// Upload.

#[derive(Template)]
#[template(path = "imports/upload.html")]
struct UploadPage {
    page: PageCtx,
    plural: &'static str,
    limit: String,
    error: Option<String>,
}

fn upload_form(
    st: &State,
    user: &UiUser,
    def: &'static EntityDef,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let entity_label = i18n.t(&format!("nav-{}", def.plural));
    let mb = st.core.settings.import_max_bytes >> 20;
    let mut res = render(&UploadPage {
        page: PageCtx::new(
            user,
            i18n.t1("import-title", "entity", entity_label.as_str()),
            def.plural,
        ),
        plural: def.plural,
        limit: i18n.t1("import-limits", "limit", mb),
        error,
    });
    *res.status_mut() = status;
    res
}

async fn upload_page(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
) -> Response {
    if let Err(e) = may_import(&user, def) {
        return error_page(&user, e);
    }
    upload_form(&st, &user, def, None, StatusCode::OK)
}

async fn upload(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Err(e) = may_import(&user, def) {
        return error_page(&user, e);
    }
    let i18n = I18n::for_actor(&user.actor);
    let limit = st.core.settings.import_max_bytes;
    let too_large = |st: &State, user: &UiUser| {
        let e: CoreError = ReadError::FileTooLarge { limit }.into();
        upload_form(
            st,
            user,
            def,
            Some(words_of(&i18n, e)),
            StatusCode::PAYLOAD_TOO_LARGE,
        )
    };
    // A body far past the limit is refused before it is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(1 << 20)) {
        return too_large(&st, &user);
    }
    let Ok(mut multipart) = multipart else {
        let e = CoreError::BadRequest {
            code: guanxi_core::error::codes::IMPORT_NO_FILE,
            message: "no file".into(),
            params: Params::new(),
        };
        return upload_form(
            &st,
            &user,
            def,
            Some(words_of(&i18n, e)),
            StatusCode::BAD_REQUEST,
        );
    };
    let mut csrf_ok = false;
    let mut stored: Option<Upload> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                return upload_form(
                    &st,
                    &user,
                    def,
                    Some(i18n.t("import-upload-broken")),
                    StatusCode::BAD_REQUEST,
                );
            }
        };
        match field.name() {
            Some("_csrf") => {
                let sent = field.text().await.unwrap_or_default();
                csrf_ok = check_csrf(&user, Some(&sent)).is_ok();
            }
            Some("file") => {
                if !csrf_ok {
                    return error_page(
                        &user,
                        check_csrf(&user, None)
                            .err()
                            .unwrap_or_else(ApiError::not_found),
                    );
                }
                let name = field.file_name().unwrap_or_default().trim().to_string();
                if name.is_empty() {
                    continue;
                }
                let mut writer =
                    match uploads::UploadWriter::begin(&st.core, &user.actor, def, &name).await {
                        Ok(w) => w,
                        Err(e) => return error_page(&user, e.into()),
                    };
                loop {
                    match field.chunk().await {
                        Ok(Some(bytes)) => match writer.push(&bytes).await {
                            Ok(()) => {}
                            Err(CoreError::BadRequest { code, .. })
                                if code == guanxi_core::error::codes::FILE_TOO_LARGE =>
                            {
                                return too_large(&st, &user);
                            }
                            Err(e) => {
                                return upload_form(
                                    &st,
                                    &user,
                                    def,
                                    Some(words_of(&i18n, e)),
                                    StatusCode::BAD_REQUEST,
                                );
                            }
                        },
                        Ok(None) => break,
                        Err(_) => {
                            let _ = writer.abort().await;
                            return upload_form(
                                &st,
                                &user,
                                def,
                                Some(i18n.t("import-upload-broken")),
                                StatusCode::BAD_REQUEST,
                            );
                        }
                    }
                }
                match writer.finish().await {
                    Ok(u) => stored = Some(u),
                    Err(e) => {
                        return upload_form(
                            &st,
                            &user,
                            def,
                            Some(words_of(&i18n, e)),
                            StatusCode::UNPROCESSABLE_ENTITY,
                        );
                    }
                }
            }
            _ => {}
        }
    }
    let Some(upload) = stored else {
        if !csrf_ok {
            return error_page(
                &user,
                check_csrf(&user, None)
                    .err()
                    .unwrap_or_else(ApiError::not_found),
            );
        }
        let e = CoreError::BadRequest {
            code: guanxi_core::error::codes::IMPORT_NO_FILE,
            message: "no file".into(),
            params: Params::new(),
        };
        return upload_form(
            &st,
            &user,
            def,
            Some(words_of(&i18n, e)),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    // A file that cannot be read is said so here, and not kept.
    if let Err(e) = job::open(&st.core, &upload, None).await {
        let _ = uploads::delete(&st.core, &user.actor, def, upload.id).await;
        return upload_form(
            &st,
            &user,
            def,
            Some(words_of(&i18n, e)),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    Redirect::to(&format!("/{}/import/{}", def.plural, upload.id)).into_response()
}

// ---------------------------------------------------------------------------------------------
// Mapping and preview.

/// One `<option>`.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A column of the file in the mapping table.
pub struct ColumnLine {
    pub index: usize,
    pub header: String,
    /// How the column writes dates, for a column that feeds a date field (else empty).
    pub dates: Vec<Opt>,
    pub samples: Vec<String>,
    pub options: Vec<Opt>,
    pub mapped: bool,
}

/// A row of the preview.
pub struct PreviewLine {
    pub line: u64,
    /// created, updated, skipped, failed, already
    pub outcome: &'static str,
    pub text: String,
    pub values: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "imports/mapping.html")]
struct MappingPage {
    page: PageCtx,
    plural: &'static str,
    id: String,
    file_name: String,
    file_facts: String,
    sheets: Vec<Opt>,
    columns: Vec<ColumnLine>,
    policies: Vec<(String, String, String, bool)>,
    saved: Vec<Opt>,
    preview: Vec<PreviewLine>,
    preview_note: Option<String>,
    problems: Vec<String>,
    can_start: bool,
    message: Option<String>,
    failed: bool,
    save_name: String,
}

/// What the page was asked to show.
struct Wanted {
    sheet: Option<String>,
    policy: Policy,
    /// The posted choice per column (index → target path, "" for none); none: suggest.
    columns: Option<HashMap<usize, String>>,
    /// The posted date format per column (index → strftime, "" for 自动识别).
    dates: HashMap<usize, String>,
    /// A saved mapping to apply.
    saved: Option<Uuid>,
    message: Option<(String, bool)>,
    save_name: String,
}

fn encoding_words(i18n: &I18n, name: &str) -> String {
    let key = match name.to_ascii_lowercase().as_str() {
        "gbk" | "gb18030" => "import-encoding-gbk",
        "utf-8" => "import-encoding-utf8",
        "utf-16le" | "utf-16be" => "import-encoding-utf16",
        "big5" => "import-encoding-big5",
        _ => return name.to_string(),
    };
    i18n.t(key)
}

fn delimiter_words(i18n: &I18n, d: u8) -> String {
    match d {
        b',' => i18n.t("import-delimiter-comma"),
        b';' => i18n.t("import-delimiter-semicolon"),
        b'\t' => i18n.t("import-delimiter-tab"),
        b'|' => i18n.t("import-delimiter-bar"),
        other => format!("“{}”", other as char),
    }
}

/// A target's name as the select shows it.
fn target_label(
    i18n: &I18n,
    def: &'static EntityDef,
    t: &guanxi_core::import::mapping::Target,
    custom: &[guanxi_core::custom_fields::CustomFieldDef],
) -> String {
    match &t.kind {
        TargetKind::Custom => custom
            .iter()
            .find(|c| c.path() == t.path)
            .map(|c| c.label(i18n.code).to_string())
            .unwrap_or_else(|| t.path.clone()),
        TargetKind::Owner => i18n.t("field-owner_id"),
        TargetKind::Currency => i18n.t("import-currency"),
        TargetKind::WholeName { .. } => field_label(def.name, &t.path, i18n),
        TargetKind::Field | TargetKind::AddressPart { .. } => field_label(def.name, &t.path, i18n),
    }
}

/// Collects a dry run's outcomes for the preview.
#[derive(Default)]
struct Preview {
    outcomes: Vec<(u64, Outcome, Option<Uuid>)>,
    errors: Vec<RowError>,
}

impl Sink for Preview {
    fn error(&mut self, error: RowError) {
        self.errors.push(error);
    }
    fn row(&mut self, line: u64, outcome: Outcome, record: Option<Uuid>) {
        self.outcomes.push((line, outcome, record));
    }
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::not_found())
}

async fn mapping_get(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let wanted = Wanted {
        sheet: form_get(&pairs, "sheet")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        policy: form_get(&pairs, "policy")
            .and_then(Policy::parse)
            .unwrap_or(Policy::Skip),
        columns: None,
        dates: HashMap::new(),
        saved: form_get(&pairs, "mapping").and_then(|s| Uuid::parse_str(s).ok()),
        message: None,
        save_name: String::new(),
    };
    mapping_page(def, &st, &user, &id, wanted).await
}

fn posted_columns(form: &[(String, String)]) -> HashMap<usize, String> {
    form.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("map.")?.parse().ok()?, v.clone())))
        .collect()
}

fn posted_dates(form: &[(String, String)]) -> HashMap<usize, String> {
    form.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("date.")?.parse().ok()?, v.clone())))
        .collect()
}

/// The mapping the form says: each column's field, and for a column that feeds dates the
/// format it writes them in (none: recognised from the usual ones).
fn mapping_of(
    headers: &[String],
    columns: &HashMap<usize, String>,
    dates: &HashMap<usize, String>,
    targets: &Targets,
    entity: &str,
) -> Mapping {
    Mapping {
        entity: Some(entity.to_string()),
        columns: headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let field = columns.get(&i).filter(|f| !f.is_empty()).cloned();
                // A format left from a date field the column no longer feeds is dropped.
                let date_format = dates
                    .get(&i)
                    .filter(|f| !f.is_empty())
                    .filter(|_| {
                        field
                            .as_deref()
                            .and_then(|f| targets.get(f))
                            .is_some_and(|t| t.dates)
                    })
                    .cloned();
                ColumnMapping {
                    header: h.clone(),
                    ignore: field.is_none(),
                    field,
                    date_format,
                    ..ColumnMapping::default()
                }
            })
            .collect(),
    }
}

/// The date formats the wizard offers for a date field, each with its wording's key.
const DATE_FORMATS: &[(&str, &str)] = &[
    ("%Y-%m-%d", "ymd-dash"),
    ("%Y/%m/%d", "ymd-slash"),
    ("%Y年%m月%d日", "ymd-chinese"),
    ("%Y%m%d", "ymd-digits"),
    ("%m/%d/%Y", "mdy"),
    ("%d/%m/%Y", "dmy"),
    ("%d.%m.%Y", "dmy-dot"),
];

/// … and for a date-time field.
const DATE_TIME_FORMATS: &[(&str, &str)] = &[
    ("%Y-%m-%d %H:%M", "ymd-dash"),
    ("%Y/%m/%d %H:%M", "ymd-slash"),
    ("%m/%d/%Y %H:%M", "mdy"),
    ("%d/%m/%Y %H:%M", "dmy"),
    ("%d.%m.%Y %H:%M", "dmy-dot"),
];

/// The choices of a date column's format: 自动识别, the usual ones worded with an example, and
/// the one a saved mapping or a mapping file names when it is none of those.
fn date_options(i18n: &I18n, with_time: bool, chosen: Option<&str>) -> Vec<Opt> {
    let presets = if with_time {
        DATE_TIME_FORMATS
    } else {
        DATE_FORMATS
    };
    let mut out = vec![Opt {
        value: String::new(),
        label: i18n.t("import-date-auto"),
        selected: chosen.is_none(),
    }];
    out.extend(presets.iter().map(|(f, key)| Opt {
        value: (*f).to_string(),
        label: i18n.t_with(
            &format!("import-date-{key}"),
            &[("example", date_example(f))],
        ),
        selected: chosen == Some(*f),
    }));
    if let Some(c) = chosen.filter(|c| !presets.iter().any(|(f, _)| f == c)) {
        out.push(Opt {
            value: c.to_string(),
            label: i18n.t1("import-date-other", "example", date_example(c)),
            selected: true,
        });
    }
    out
}

/// Whether target `path` holds dates, and whether with a time of day.
fn date_target(
    targets: &Targets,
    custom: &[guanxi_core::custom_fields::CustomFieldDef],
    path: &str,
) -> Option<bool> {
    let t = targets.get(path).filter(|t| t.dates)?;
    let kind = match t.field {
        Some(f) => Some(&f.kind),
        None => custom.iter().find(|c| c.path() == path).map(|c| &c.kind),
    };
    Some(matches!(
        kind,
        Some(guanxi_core::records::FieldKind::DateTime)
    ))
}

async fn mapping_post(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    Path(id): Path<String>,
    Posted { user, form }: Posted,
) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    if let Err(e) = may_import(&user, def) {
        return error_page(&user, e);
    }
    let uid = match parse_id(&id) {
        Ok(u) => u,
        Err(e) => return error_page(&user, e),
    };
    let upload = match uploads::upload(&st.core, &user.actor, def, uid).await {
        Ok(u) => u,
        Err(e) => return error_page(&user, e.into()),
    };
    let op = form_get(&form, "op").unwrap_or("preview");
    let mut wanted = Wanted {
        sheet: form_get(&form, "sheet")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        policy: form_get(&form, "policy")
            .and_then(Policy::parse)
            .unwrap_or(Policy::Skip),
        columns: Some(posted_columns(&form)),
        dates: posted_dates(&form),
        saved: None,
        message: None,
        save_name: form_get(&form, "save_name").unwrap_or_default().to_string(),
    };
    match op {
        "cancel" => {
            return match uploads::delete(&st.core, &user.actor, def, upload.id).await {
                Ok(()) => {
                    Redirect::to(&format!("/{}?done=import_cancelled", def.plural)).into_response()
                }
                Err(e) => error_page(&user, e.into()),
            };
        }
        "apply" => {
            wanted.saved = form_get(&form, "saved").and_then(|s| Uuid::parse_str(s).ok());
            wanted.columns = None;
        }
        "save" | "start" => {
            let source = match job::open(&st.core, &upload, wanted.sheet.clone()).await {
                Ok(s) => s,
                Err(e) => {
                    wanted.message = Some((words_of(&i18n, e), true));
                    return mapping_page(def, &st, &user, &id, wanted).await;
                }
            };
            let columns = wanted.columns.clone().unwrap_or_default();
            let custom = match st.core.records(def).custom_defs().await {
                Ok(c) => c,
                Err(e) => return error_page(&user, e.into()),
            };
            let targets = Targets::of(def, &custom);
            let mapping = mapping_of(
                source.headers(),
                &columns,
                &wanted.dates,
                &targets,
                def.name,
            );
            if op == "save" {
                let name = wanted.save_name.clone();
                wanted.message = Some(
                    match uploads::save_mapping(&st.core, &user.actor, def, &name, &mapping).await {
                        Ok(_) => {
                            wanted.save_name.clear();
                            (i18n.t1("import-mapping-saved", "name", name.trim()), false)
                        }
                        Err(e) => (words_of(&i18n, e), true),
                    },
                );
                return mapping_page(def, &st, &user, &id, wanted).await;
            }
            if uploads::run_of(&st.core, &user.actor, upload.id)
                .await
                .is_ok()
            {
                return Redirect::to(&format!("/imports/{}", upload.id)).into_response();
            }
            if mapping.columns.iter().all(|c| c.ignore) {
                wanted.message = Some((
                    i18n.error(
                        guanxi_core::error::codes::IMPORT_NOTHING_MAPPED,
                        &Params::new(),
                    ),
                    true,
                ));
                return mapping_page(def, &st, &user, &id, wanted).await;
            }
            let choice = job::Choice {
                policy: wanted.policy,
                mapping,
                sheet: wanted.sheet.clone(),
            };
            return match job::queue(&st.core, &user.actor, def, &upload, &choice).await {
                Ok(run) => {
                    Redirect::to(&format!("/imports/{run}?done=import_queued")).into_response()
                }
                Err(e) => {
                    wanted.message = Some((words_of(&i18n, e), true));
                    mapping_page(def, &st, &user, &id, wanted).await
                }
            };
        }
        _ => {}
    }
    mapping_page(def, &st, &user, &id, wanted).await
}

async fn mapping_page(
    def: &'static EntityDef,
    st: &State,
    user: &UiUser,
    id: &str,
    mut wanted: Wanted,
) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    if let Err(e) = may_import(user, def) {
        return error_page(user, e);
    }
    let uid = match parse_id(id) {
        Ok(u) => u,
        Err(e) => return error_page(user, e),
    };
    let core = &st.core;
    let upload = match uploads::upload(core, &user.actor, def, uid).await {
        Ok(u) => u,
        Err(e) => return error_page(user, e.into()),
    };
    if uploads::run_of(core, &user.actor, upload.id).await.is_ok() {
        return Redirect::to(&format!("/imports/{}", upload.id)).into_response();
    }
    let sheets = job::sheets(core, &upload).await.unwrap_or_default();
    if wanted.sheet.as_ref().is_some_and(|s| !sheets.contains(s)) {
        wanted.sheet = None;
    }
    let mut source = match job::open(core, &upload, wanted.sheet.clone()).await {
        Ok(s) => s,
        Err(e) => return error_page(user, e.into()),
    };
    let headers = source.headers().to_vec();
    let format = source.format().clone();
    let first: Vec<_> = source
        .by_ref()
        .filter_map(Result::ok)
        .take(PREVIEW_ROWS as usize)
        .collect();
    let custom = match core.records(def).custom_defs().await {
        Ok(c) => c,
        Err(e) => return error_page(user, e.into()),
    };
    let targets = Targets::of(def, &custom);
    let saved = guanxi_core::import::uploads::mappings(core, &user.actor, def)
        .await
        .unwrap_or_default();
    let mut problems = Vec::new();
    // The mapping shown: posted, a saved one applied, or the suggestion.
    let mapping = match (
        &wanted.columns,
        wanted.saved.and_then(|s| saved.iter().find(|m| m.id == s)),
    ) {
        (Some(cols), _) => mapping_of(&headers, cols, &wanted.dates, &targets, def.name),
        (None, Some(s)) => {
            let missing = uploads::missing_headers(&s.mapping, &headers);
            if missing.is_empty() {
                wanted.message = Some((
                    i18n.t1("import-mapping-applied", "name", s.name.as_str()),
                    false,
                ));
            } else {
                let mut p = Params::new();
                p.insert("columns", json!(missing.join(&i18n.t("list-separator"))));
                p.insert("count", json!(missing.len()));
                p.insert("name", json!(s.name));
                wanted.message = Some((
                    i18n.error(guanxi_core::error::codes::MAPPING_HEADERS_MISSING, &p),
                    true,
                ));
            }
            // The file's columns the saved mapping names; the others are not imported.
            let mut m = s.mapping.clone();
            m.columns.retain(|c| !missing.contains(&c.header));
            for h in &headers {
                if !m.columns.iter().any(|c| {
                    guanxi_core::import::mapping::normalize_header(&c.header)
                        == guanxi_core::import::mapping::normalize_header(h)
                }) {
                    m.columns.push(ColumnMapping {
                        header: h.clone(),
                        ignore: true,
                        ..ColumnMapping::default()
                    });
                }
            }
            m
        }
        (None, None) => suggest(&targets, &headers, &EveryLanguage::default()).mapping(),
    };
    // Per column, what it feeds (and how it writes dates).
    let chosen_columns: Vec<Option<&ColumnMapping>> = headers
        .iter()
        .map(|h| {
            mapping
                .columns
                .iter()
                .find(|c| c.header.trim() == h.trim())
                .or_else(|| {
                    let n = guanxi_core::import::mapping::normalize_header(h);
                    mapping
                        .columns
                        .iter()
                        .find(|c| guanxi_core::import::mapping::normalize_header(&c.header) == n)
                })
                .filter(|c| !c.ignore)
        })
        .collect();
    let chosen: Vec<Option<String>> = chosen_columns
        .iter()
        .map(|c| c.and_then(|c| c.field.clone()))
        .collect();
    let labels: Vec<(String, String)> = targets
        .list
        .iter()
        .map(|t| (t.path.clone(), target_label(&i18n, def, t, &custom)))
        .collect();
    let columns: Vec<ColumnLine> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let pick = chosen.get(i).cloned().flatten();
            let mut options = vec![Opt {
                value: String::new(),
                label: i18n.t("import-dont-import"),
                selected: pick.is_none(),
            }];
            options.extend(labels.iter().map(|(p, l)| Opt {
                value: p.clone(),
                label: l.clone(),
                selected: pick.as_deref() == Some(p.as_str()),
            }));
            let dates = pick
                .as_deref()
                .and_then(|p| date_target(&targets, &custom, p))
                .map(|with_time| {
                    let format = chosen_columns
                        .get(i)
                        .copied()
                        .flatten()
                        .and_then(|c| c.date_format.as_deref());
                    date_options(&i18n, with_time, format)
                })
                .unwrap_or_default();
            ColumnLine {
                index: i,
                header: h.clone(),
                dates,
                samples: first
                    .iter()
                    .filter_map(|r| r.fields.get(i))
                    .filter(|v| !v.is_empty())
                    .take(SAMPLES)
                    .cloned()
                    .collect(),
                options,
                mapped: pick.is_some(),
            }
        })
        .collect();
    // The preview: a dry run of the first rows.
    let mut preview = Vec::new();
    let mut preview_note = None;
    let mut can_start = false;
    // As the job will read them: an export for people reads back in either language.
    let resolved = mapping
        .resolve(&targets, &headers)
        .map(|p| p.reading_labels(def, &custom, &EveryLanguage::default()));
    match resolved {
        Err(errors) => {
            problems.extend(errors.iter().map(|e| i18n.error(e.code(), &e.params())));
        }
        Ok(plan) if plan.columns.iter().all(Option::is_none) => {
            problems.push(i18n.error(
                guanxi_core::error::codes::IMPORT_NOTHING_MAPPED,
                &Params::new(),
            ));
        }
        Ok(plan) => {
            can_start = true;
            let mut dry = match job::open(core, &upload, wanted.sheet.clone()).await {
                Ok(s) => s,
                Err(e) => return error_page(user, e.into()),
            };
            let choice = job::Choice {
                policy: wanted.policy,
                mapping: mapping.clone(),
                sheet: wanted.sheet.clone(),
            };
            let mut options = job::options(&upload, &choice, true);
            options.stop_after = Some(PREVIEW_ROWS);
            let mut sink = Preview::default();
            match run::run(core, &user.actor, def, &mut dry, &plan, &options, &mut sink).await {
                Ok(report) => {
                    if report.counts.already > 0 {
                        preview_note =
                            Some(i18n.t1("import-preview-already", "count", report.counts.already));
                    }
                }
                Err(e) => problems.push(words_of(&i18n, e)),
            }
            let service = core.records(def);
            for row in &first {
                let values: Vec<(String, String)> = plan
                    .values(row)
                    .take(4)
                    .map(|(_, c, v)| {
                        let label = labels
                            .iter()
                            .find(|(p, _)| *p == c.field)
                            .map(|(_, l)| l.clone())
                            .unwrap_or_default();
                        (label, v.to_string())
                    })
                    .collect();
                let found = sink.outcomes.iter().find(|(l, _, _)| *l == row.line);
                let (outcome, text) = match found {
                    None => ("already", i18n.t("import-outcome-already")),
                    Some((_, o, rec)) => {
                        let title = match rec {
                            Some(id) if *o != Outcome::Created => service
                                .get(&user.actor, *id)
                                .await
                                .map(|r| (def.title)(&r, i18n.code))
                                .unwrap_or_default(),
                            _ => String::new(),
                        };
                        match o {
                            Outcome::Created => ("created", i18n.t("import-outcome-created")),
                            Outcome::Updated => {
                                ("updated", i18n.t1("import-outcome-updated", "title", title))
                            }
                            Outcome::Skipped => {
                                ("skipped", i18n.t1("import-outcome-skipped", "title", title))
                            }
                            Outcome::Unchanged => (
                                "skipped",
                                i18n.t1("import-outcome-unchanged", "title", title),
                            ),
                            Outcome::Failed => {
                                let reasons: Vec<String> = sink
                                    .errors
                                    .iter()
                                    .filter(|e| e.line == row.line)
                                    .map(|e| {
                                        let m = i18n.error(e.code, &e.params);
                                        if e.column.is_empty() {
                                            m
                                        } else {
                                            format!("{}：{m}", e.column)
                                        }
                                    })
                                    .collect();
                                (
                                    "failed",
                                    i18n.t1("import-outcome-failed", "reason", reasons.join(" ")),
                                )
                            }
                        }
                    }
                };
                preview.push(PreviewLine {
                    line: row.line,
                    outcome,
                    text,
                    values,
                });
            }
        }
    }
    let mut facts = vec![i18n.t1("import-file-size", "size", size_words(upload.size))];
    if let Some(e) = format.encoding {
        facts.push(i18n.t1("import-file-encoding", "encoding", encoding_words(&i18n, e)));
    }
    if let Some(d) = format.delimiter {
        facts.push(i18n.t1(
            "import-file-delimiter",
            "delimiter",
            delimiter_words(&i18n, d),
        ));
    }
    facts.push(i18n.t1("import-file-columns", "count", headers.len()));
    let current_sheet = format.sheet.clone();
    let entity_label = i18n.t(&format!("nav-{}", def.plural));
    let (message, failed) = match wanted.message.take() {
        Some((m, f)) => (Some(m), f),
        None => (None, false),
    };
    render(&MappingPage {
        page: PageCtx::new(
            user,
            i18n.t1("import-title", "entity", entity_label.as_str()),
            def.plural,
        ),
        plural: def.plural,
        id: upload.id.to_string(),
        file_name: upload.file_name.clone(),
        file_facts: facts.join(" · "),
        sheets: sheets
            .iter()
            .map(|s| Opt {
                value: s.clone(),
                label: s.clone(),
                selected: current_sheet.as_deref() == Some(s.as_str()),
            })
            .collect(),
        columns,
        policies: Policy::ALL
            .iter()
            .map(|p| {
                (
                    p.as_str().to_string(),
                    i18n.t(&format!("import-policy-{}", p.as_str())),
                    i18n.t(&format!("import-policy-{}-hint", p.as_str())),
                    *p == wanted.policy,
                )
            })
            .collect(),
        saved: saved
            .iter()
            .map(|s| Opt {
                value: s.id.to_string(),
                label: s.name.clone(),
                selected: wanted.saved == Some(s.id),
            })
            .collect(),
        preview,
        preview_note,
        problems,
        can_start,
        message,
        failed,
        save_name: wanted.save_name,
    })
}

fn size_words(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

// ---------------------------------------------------------------------------------------------
// The run and the history.

pub struct RunLine {
    pub href: String,
    pub file_name: String,
    pub entity: String,
    pub who: String,
    pub when: String,
    pub when_iso: String,
    pub policy: String,
    pub status: String,
    pub status_code: String,
    pub counts: String,
}

#[derive(Template)]
#[template(path = "imports/run.html")]
struct RunPage {
    page: PageCtx,
    id: String,
    file_name: String,
    entity_label: String,
    records_href: String,
    status: String,
    status_code: String,
    live: bool,
    percent: u64,
    progress_text: String,
    counts: Vec<(String, &'static str, u64)>,
    started: String,
    started_iso: String,
    policy: String,
    errors_href: Option<String>,
    notice: Option<String>,
    /// The importing user or an administrator, on a run that ended having written something.
    can_undo: bool,
    /// The importing user or an administrator, on a run that is queued or running and not yet
    /// asked to stop.
    can_stop: bool,
    /// What an undo just left as it was, each with why.
    kept: Vec<String>,
}

#[derive(Template)]
#[template(path = "imports/history.html")]
struct HistoryPage {
    page: PageCtx,
    runs: Vec<RunLine>,
}

fn live(status: &str) -> bool {
    matches!(status, "queued" | "running")
}

fn percent(run: &uploads::RunView) -> u64 {
    match (run.status.as_str(), run.total) {
        ("finished", _) => 100,
        (_, Some(t)) if t > 0 => (run.counts.read * 100 / t).min(100),
        _ => 0,
    }
}

fn status_words(i18n: &I18n, status: &str) -> String {
    i18n.maybe(&format!("import-status-{status}"))
        .unwrap_or_else(|| status.to_string())
}

async fn user_names(st: &State) -> HashMap<Uuid, String> {
    guanxi_core::identity::users::list(&st.core.db)
        .await
        .map(|l| l.iter().map(|u| (u.id, u.name.clone())).collect())
        .unwrap_or_default()
}

async fn load_run(st: &State, user: &UiUser, id: &str) -> Result<uploads::RunView, ApiError> {
    let id = parse_id(id)?;
    Ok(uploads::run_of(&st.core, &user.actor, id).await?)
}

async fn run_page(
    AxState(st): AxState<State>,
    user: UiUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let done = form_get(&pairs, "done").map(str::to_string);
    render_run(&st, &user, &id, Notice::Came(done), Vec::new()).await
}

/// What the run's page says above the run.
enum Notice {
    /// The page as reached (after starting the import, `done=import_queued`, or asking it to
    /// stop): the run's state now, never a "started" that is no longer true.
    Came(Option<String>),
    /// What an action on the page just did.
    Said(String),
}

/// The sentence that says where run `run` stands: started (only while it runs and the
/// person just started it), stopping, or how it ended with its counts.
fn state_notice(i18n: &I18n, run: &uploads::RunView, came_from: Option<&str>) -> Option<String> {
    let c = &run.counts;
    let n = |v: u64| super::display::group(&v.to_string());
    let counts = [
        ("created", n(c.created)),
        ("updated", n(c.updated)),
        ("skipped", n(c.skipped)),
        ("failed", n(c.failed)),
    ];
    if live(&run.status) {
        return if run.stop_requested {
            Some(i18n.t("import-stopping"))
        } else if came_from == Some("import_queued") {
            Some(i18n.t("import-queued"))
        } else {
            None
        };
    }
    // A run stopped before it wrote anything has nothing to keep or undo.
    let nothing = run.status == "stopped" && c.created + c.updated == 0;
    let key = format!(
        "import-result-{}{}",
        run.status,
        if nothing { "-nothing" } else { "" }
    );
    Some(i18n.t_with(&key, &counts)).filter(|words| *words != key)
}

/// Asks the run to stop; the page then says it is stopping (or, once the job noticed, that it
/// stopped, with its counts).
async fn stop_post(
    AxState(st): AxState<State>,
    Path(id): Path<String>,
    Posted { user, .. }: Posted,
) -> Response {
    let run_id = match parse_id(&id) {
        Ok(u) => u,
        Err(e) => return error_page(&user, e),
    };
    match guanxi_core::import::ledger::request_stop(&st.core, &user.actor, run_id).await {
        Ok(_) => {
            Redirect::to(&format!("/imports/{run_id}?done=import_stop_requested")).into_response()
        }
        Err(e) => error_page(&user, e.into()),
    }
}

/// Undoes the run and shows it again, with what the undo did and what it left as it was.
async fn undo_post(
    AxState(st): AxState<State>,
    Path(id): Path<String>,
    Posted { user, .. }: Posted,
) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let run_id = match parse_id(&id) {
        Ok(u) => u,
        Err(e) => return error_page(&user, e),
    };
    match guanxi_core::import::undo::undo(&st.core, &user.actor, run_id).await {
        Ok(report) => {
            let notice = i18n.t_with(
                "import-undone",
                &[
                    ("removed", report.removed.to_string()),
                    ("restored", report.restored.to_string()),
                    ("kept", report.skipped_count.to_string()),
                ],
            );
            let mut kept: Vec<String> = report
                .skipped
                .iter()
                .map(|s| {
                    let title = if s.title.is_empty() {
                        i18n.t("import-undo-untitled")
                    } else {
                        s.title.clone()
                    };
                    let mut params = guanxi_core::error::Params::new();
                    params.insert("title", serde_json::Value::String(title));
                    i18n.error(s.reason, &params)
                })
                .collect();
            let more = report.skipped_count.saturating_sub(kept.len() as u64);
            if more > 0 {
                kept.push(i18n.t_with("import-undo-kept-more", &[("count", more.to_string())]));
            }
            render_run(&st, &user, &id, Notice::Said(notice), kept).await
        }
        Err(e) => error_page(&user, e.into()),
    }
}

/// How far a run has read: of how many rows, while that is being counted "…", and once it
/// has ended without knowing (stopped before the count finished) only what it read.
fn progress_text(i18n: &I18n, run: &uploads::RunView) -> String {
    let read = run.counts.read.to_string();
    match run.total {
        Some(t) => i18n.t_with(
            "import-progress",
            &[("read", read), ("total", t.to_string())],
        ),
        None if live(&run.status) => {
            i18n.t_with("import-progress", &[("read", read), ("total", "…".into())])
        }
        None => i18n.t_with("import-progress-read", &[("read", read)]),
    }
}

async fn render_run(
    st: &State,
    user: &UiUser,
    id: &str,
    notice: Notice,
    kept: Vec<String>,
) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let run = match load_run(st, user, id).await {
        Ok(r) => r,
        Err(e) => return error_page(user, e),
    };
    let def = st.core.registry.by_name(&run.entity);
    let entity_label = def
        .map(|d| i18n.t(&format!("nav-{}", d.plural)))
        .unwrap_or_else(|| run.entity.clone());
    let c = &run.counts;
    let own = run.created_by == user.actor.user_id || user.actor.is_admin();
    let can_undo = own
        && matches!(run.status.as_str(), "finished" | "stopped" | "interrupted")
        && c.created + c.updated > 0;
    let can_stop = own && live(&run.status) && !run.stop_requested;
    let notice = match notice {
        Notice::Said(s) => Some(s),
        Notice::Came(done) => state_notice(&i18n, &run, done.as_deref()),
    };
    render(&RunPage {
        page: PageCtx::new(user, i18n.t("imports-run-title"), "imports"),
        id: run.id.to_string(),
        file_name: run.file_name.clone(),
        records_href: def
            .map(|d| format!("/{}", d.plural))
            .unwrap_or_else(|| "/".into()),
        entity_label,
        status: status_words(&i18n, &run.status),
        status_code: run.status.clone(),
        live: live(&run.status),
        percent: percent(&run),
        progress_text: progress_text(&i18n, &run),
        counts: vec![
            (i18n.t("import-count-created"), "created", c.created),
            (i18n.t("import-count-updated"), "updated", c.updated),
            (i18n.t("import-count-skipped"), "skipped", c.skipped),
            (i18n.t("import-count-failed"), "failed", c.failed),
            (i18n.t("import-count-already"), "already", c.already),
        ],
        started: i18n.instant(run.started_at),
        started_iso: run.started_at.to_rfc3339(),
        policy: i18n.t(&format!("import-policy-{}", run.policy)),
        errors_href: (c.failed > 0).then(|| format!("/imports/{}/errors.csv", run.id)),
        notice,
        can_undo,
        can_stop,
        kept,
    })
}

async fn progress(AxState(st): AxState<State>, user: UiUser, Path(id): Path<String>) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let run = match load_run(&st, &user, &id).await {
        Ok(r) => r,
        Err(e) => return (e.status, Json(e.body(&i18n))).into_response(),
    };
    let c = &run.counts;
    Json(json!({
        "status": run.status,
        "status_text": status_words(&i18n, &run.status),
        "live": live(&run.status),
        "percent": percent(&run),
        "progress_text": progress_text(&i18n, &run),
        "read": c.read,
        "total": run.total,
        "created": c.created,
        "updated": c.updated,
        "skipped": c.skipped,
        "failed": c.failed,
        "already": c.already,
        "notice": state_notice(&i18n, &run, None),
    }))
    .into_response()
}

/// How many kept errors the error file reads at a time.
const ERROR_PAGE: u64 = 1000;

/// The run's error file, written as it is read: the kept errors a page at a time, each page a
/// chunk of the body, so a run with half a million errors never has them all in memory.
async fn errors_csv(AxState(st): AxState<State>, user: UiUser, Path(id): Path<String>) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let run = match load_run(&st, &user, &id).await {
        Ok(r) => r,
        Err(e) => return error_page(&user, e),
    };
    let headers: Vec<String> = Mapping::from_toml(&run.mapping)
        .map(|m| m.columns.into_iter().map(|c| c.header).collect())
        .unwrap_or_default();
    // The first page before answering: a failure then is a page that says so, not a cut file.
    let (first, next) = match uploads::errors_page(&st.core, run.id, None, ERROR_PAGE).await {
        Ok(p) => p,
        Err(e) => return error_page(&user, e.into()),
    };
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let buffer = Shared::default();
    tokio::spawn(write_errors(
        st.core.clone(),
        run.id,
        (ErrorCsv::new(buffer.clone(), i18n, headers), buffer),
        (first, next),
        tx,
    ));
    let stem = run
        .file_name
        .rsplit_once('.')
        .map_or(run.file_name.as_str(), |(s, _)| s)
        .to_string();
    let name = format!("{stem}.errors.csv");
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"import.errors.csv\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        axum::body::Body::from_stream(Chunks(rx)),
    )
        .into_response()
}

type Chunk = Result<axum::body::Bytes, std::io::Error>;

/// Writes the error file's pages into `tx`, one chunk a page, reading the next page while the
/// body sends this one; ends when the reader went away.
async fn write_errors(
    core: guanxi_core::Core,
    run_id: Uuid,
    (mut csv, buffer): (ErrorCsv<Shared>, Shared),
    (mut page, mut next): (Vec<uploads::StoredError>, Option<(u64, u64)>),
    tx: tokio::sync::mpsc::Sender<Chunk>,
) {
    if let Err(e) = csv.start() {
        let _ = tx.send(Err(e)).await;
        return;
    }
    loop {
        let written = page
            .iter()
            .try_for_each(|e| csv.error(e.line, &e.column, &e.code, &e.params, &e.values));
        if let Err(e) = written.and_then(|()| csv.flush()) {
            let _ = tx.send(Err(e)).await;
            return;
        }
        let chunk = buffer.take();
        if !chunk.is_empty() && tx.send(Ok(chunk.into())).await.is_err() {
            return;
        }
        let Some(after) = next else { return };
        match uploads::errors_page(&core, run_id, Some(after), ERROR_PAGE).await {
            Ok((p, n)) => (page, next) = (p, n),
            Err(e) => {
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                return;
            }
        }
    }
}

/// A buffer the CSV writer writes into and the task empties after each page.
#[derive(Clone, Default)]
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Shared {
    fn take(&self) -> Vec<u8> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The receiving end of the error file's channel, as the stream the response body reads.
struct Chunks(tokio::sync::mpsc::Receiver<Chunk>);

impl futures_core::Stream for Chunks {
    type Item = Chunk;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Chunk>> {
        self.0.poll_recv(cx)
    }
}

async fn history(AxState(st): AxState<State>, user: UiUser) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let runs = match uploads::list_runs(&st.core, &user.actor, HISTORY).await {
        Ok(r) => r,
        Err(e) => return error_page(&user, e.into()),
    };
    let names = user_names(&st).await;
    let runs = runs
        .into_iter()
        .map(|r| {
            let c = &r.counts;
            RunLine {
                href: format!("/imports/{}", r.id),
                file_name: r.file_name.clone(),
                entity: st
                    .core
                    .registry
                    .by_name(&r.entity)
                    .map(|d| i18n.t(&format!("nav-{}", d.plural)))
                    .unwrap_or_else(|| r.entity.clone()),
                who: names.get(&r.created_by).cloned().unwrap_or_default(),
                when: i18n.instant(r.started_at),
                when_iso: r.started_at.to_rfc3339(),
                policy: i18n.t(&format!("import-policy-{}", r.policy)),
                status: status_words(&i18n, &r.status),
                status_code: r.status.clone(),
                counts: i18n.t_with(
                    "import-counts-short",
                    &[
                        ("created", c.created.to_string()),
                        ("updated", c.updated.to_string()),
                        ("skipped", c.skipped.to_string()),
                        ("failed", c.failed.to_string()),
                    ],
                ),
            }
        })
        .collect();
    render(&HistoryPage {
        page: PageCtx::new(&user, i18n.t("imports-title"), "imports"),
        runs,
    })
}
