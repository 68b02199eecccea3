//! How exports read to people: the formatting layer over core's export rows (which hold codes).
//! Headers are field labels, choices their labels, references the titles the reader may see,
//! owners users' names, all in one language; the server's downloads and `guanxi export` share it.
//! Which form ([`Format`]) and which kind of file ([`FileType`]) are chosen here too; the writers
//! themselves are core's.

use guanxi_core::EntityDef;
use guanxi_core::custom_fields::CustomFieldDef;
use guanxi_core::records::FieldKind;
use guanxi_core::records::def::ChildDef;
use guanxi_core::records::export::{
    Audience, Codes, Column, Formatter, Names, Source, Typed, code_text, typed,
};
use guanxi_core::refs::RefView;
use serde_json::Value;

use crate::i18n::I18n;
use crate::ui::display;

/// The two forms an export comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Column codes and values as codes ([`Codes`]): for programs, and for importing back.
    Codes,
    /// Labels, names and titles in one language ([`Labels`]): for people.
    Labels,
}

impl Format {
    /// `codes` or `labels`.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "codes" => Some(Format::Codes),
            "labels" => Some(Format::Labels),
            _ => None,
        }
    }

    /// Whether a CSV file in this form starts with the UTF-8 byte order mark: labels do, since
    /// people open them in Excel, which reads a CSV file without one in the system's code page
    /// (GBK on Chinese Windows) and garbles every Chinese character. Codes do not: they are for
    /// programs, and many CSV readers (Python's `csv` with plain `utf-8`, Go's `encoding/csv`,
    /// `cut`, PostgreSQL's `COPY`) take the BOM for part of the first header, so `id` would no
    /// longer be found. A reader that strips a BOM (the `csv` crate Guanxi reads CSV with does)
    /// takes either.
    pub fn bom(self) -> bool {
        self == Format::Labels
    }

    /// The formatter for this form; `locale` and `region` (where phone numbers are local) matter
    /// only to labels.
    pub fn formatter(
        self,
        def: &'static EntityDef,
        locale: &str,
        region: &str,
    ) -> Box<dyn Formatter + Send + Sync> {
        match self {
            Format::Codes => Box::new(Codes),
            Format::Labels => Box::new(Labels::new(def, locale, region)),
        }
    }
}

/// The kinds of file an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Csv,
    /// An Excel workbook of one sheet.
    Xlsx,
}

impl FileType {
    /// `csv` or `xlsx` (any case).
    pub fn parse(s: &str) -> Option<FileType> {
        if s.eq_ignore_ascii_case("csv") {
            Some(FileType::Csv)
        } else if s.eq_ignore_ascii_case("xlsx") {
            Some(FileType::Xlsx)
        } else {
            None
        }
    }

    /// The kind of file a name ends in (`deals.xlsx`), if it is one of these.
    pub fn of_file_name(name: &std::path::Path) -> Option<FileType> {
        FileType::parse(name.extension()?.to_str()?)
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileType::Csv => "csv",
            FileType::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Csv => "text/csv; charset=utf-8",
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// The form for people, in one language.
pub struct Labels {
    entity: &'static str,
    plural: &'static str,
    i18n: I18n,
    region: String,
}

impl Labels {
    pub fn new(def: &'static EntityDef, locale: &str, region: &str) -> Labels {
        Labels {
            entity: def.name,
            plural: def.plural,
            i18n: I18n::new(locale),
            region: region.to_string(),
        }
    }

    fn label(&self, entity: &str, field: &str) -> String {
        display::field_label(entity, field, &self.i18n)
    }

    /// A value of a field of `kind`: the record's own, a custom field's or a line's.
    fn value(&self, kind: &FieldKind, v: &Value, names: &Names) -> String {
        match names.reference(kind, v) {
            Some(RefView::Readable(title)) => title.to_string(),
            // As record pages show it: neither the title nor whether the record exists.
            Some(RefView::Unreadable) => self.i18n.t("record-unreadable"),
            None => match kind {
                FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::Regarding => {
                    String::new()
                }
                FieldKind::User => names.user(v).map(str::to_string).unwrap_or_default(),
                _ => display::human(kind, v, &self.i18n, &self.region),
            },
        }
    }

    fn custom(&self, d: &CustomFieldDef, v: &Value, names: &Names) -> String {
        self.value(&d.kind, v, names)
    }

    /// Every line on a row of its own within the cell, each as `label: value` for the line's
    /// fields that hold something.
    fn lines(&self, child: &ChildDef, v: &Value, names: &Names) -> String {
        let Some(lines) = v.as_array() else {
            return String::new();
        };
        lines
            .iter()
            .map(|line| {
                child
                    .fields
                    .iter()
                    .filter_map(|f| {
                        let text =
                            self.value(&f.kind, line.get(f.name).unwrap_or(&Value::Null), names);
                        (!text.is_empty())
                            .then(|| format!("{}: {text}", self.label(child.name, f.name)))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn instant(&self, v: &Value) -> String {
        display::human(&FieldKind::DateTime, v, &self.i18n, &self.region)
    }
}

impl Formatter for Labels {
    fn wants_names(&self) -> bool {
        true
    }

    fn header(&self, column: &Column) -> String {
        match &column.source {
            Source::Id => self.i18n.t("field-id"),
            Source::Field(f) => self.label(self.entity, f.name),
            Source::Part { field, part } => match field.kind {
                FieldKind::Money => format!(
                    "{} · {}",
                    self.label(self.entity, field.name),
                    self.i18n.t(&format!("money-{part}"))
                ),
                // An address part: the label names the part.
                _ => self.label(self.entity, &column.code),
            },
            Source::System(s) => self.label(self.entity, s),
            Source::Custom(d) => {
                let l = d.label(self.i18n.code);
                if l.is_empty() {
                    column.code.clone()
                } else {
                    l.to_string()
                }
            }
            Source::Lines(child) => self.label(self.entity, child.name),
            // As the list heads the column.
            Source::Title { .. } => self.label(self.entity, "name"),
        }
    }

    fn cell(&self, column: &Column, value: &Value, names: &Names) -> String {
        match &column.source {
            Source::Field(f) => self.value(&f.kind, value, names),
            Source::System("owner_id" | "created_by" | "updated_by") => names
                .user(value)
                .map(str::to_string)
                .unwrap_or_else(|| code_text(value)),
            Source::System("created_at" | "updated_at") => self.instant(value),
            Source::Custom(d) => self.custom(d, value, names),
            Source::Lines(child) => self.lines(child, value, names),
            Source::Id | Source::Part { .. } | Source::System(_) | Source::Title { .. } => {
                code_text(value)
            }
        }
    }

    /// Numbers, percentages, dates and times as a spreadsheet's own values; the text beside
    /// them (what CSV holds) words them in the reader's format.
    fn typed(&self, column: &Column, value: &Value) -> Typed {
        typed(column, value, Audience::People)
    }

    fn sheet_name(&self, _def: &EntityDef) -> String {
        self.i18n.t(&format!("entity-{}", self.plural))
    }
}
