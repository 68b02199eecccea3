//! The OpenAPI 3.1 document at `/api/v1/openapi.json`, generated from the entity definitions
//! (the same ones the record engine validates against) and typed through utoipa's model.

use guanxi_core::EntityDef;
use guanxi_core::Registry;
use guanxi_core::dedupe::Action;
use guanxi_core::records::Access;
use guanxi_core::records::def::{ADDRESS_PARTS, ChildDef, FieldKind};
use guanxi_core::records::filter::FilterOp;
use serde_json::{Value, json};

fn field_schema(kind: &FieldKind) -> Value {
    match kind {
        FieldKind::Text { max } | FieldKind::LongText { max } => {
            json!({"type": ["string", "null"], "maxLength": max})
        }
        FieldKind::Choice(options) => {
            json!({"type": ["string", "null"], "enum": options.codes()})
        }
        FieldKind::MultiChoice(options) => {
            json!({"type": "array", "uniqueItems": true, "items": {"type": "string", "enum": options.codes()}})
        }
        FieldKind::Decimal { scale } => {
            json!({"type": ["number", "null"], "description": format!("an exact number, at most {scale} decimals")})
        }
        FieldKind::User => {
            json!({"type": ["string", "null"], "format": "uuid", "description": "id of an active user"})
        }
        FieldKind::Regarding => json!({"oneOf": [
            {"type": "object", "required": ["entity", "id"], "additionalProperties": false, "properties": {
                "entity": {"type": "string", "description": "the record's entity (account, contact, …)"},
                "id": {"type": "string", "format": "uuid"}}},
            {"type": "null"}
        ]}),
        FieldKind::Int { min, max } => {
            json!({"type": ["integer", "null"], "minimum": min, "maximum": max})
        }
        FieldKind::Money => {
            json!({"oneOf": [{"$ref": "#/components/schemas/Money"}, {"type": "null"}]})
        }
        FieldKind::Date => json!({"type": ["string", "null"], "format": "date"}),
        FieldKind::Bool => json!({"type": "boolean"}),
        FieldKind::Url => json!({"type": ["string", "null"], "format": "uri", "maxLength": 500}),
        FieldKind::TaxId => {
            json!({"type": ["string", "null"], "maxLength": 32, "description": "unified social credit code (checked) or another tax id"})
        }
        FieldKind::Phones => {
            json!({"type": "array", "maxItems": 20, "items": {"$ref": "#/components/schemas/Phone"}})
        }
        FieldKind::Emails => {
            json!({"type": "array", "maxItems": 20, "items": {"$ref": "#/components/schemas/Email"}})
        }
        FieldKind::StringList { max_items, max_len } => {
            json!({"type": "array", "maxItems": max_items, "items": {"type": "string", "maxLength": max_len}})
        }
        FieldKind::Address => json!({"$ref": "#/components/schemas/Address"}),
        FieldKind::Ref { entity, .. } => {
            json!({"type": ["string", "null"], "format": "uuid", "description": format!("id of a live {entity}")})
        }
        FieldKind::LineRef { via, child } => {
            json!({"type": ["string", "null"], "format": "uuid", "description": format!("id of one of the {} of the record {via} refers to", child.name)})
        }
        FieldKind::DateTime => json!({"type": ["string", "null"], "format": "date-time"}),
        FieldKind::Duration => {
            json!({"type": ["integer", "null"], "minimum": 0, "description": "seconds"})
        }
        FieldKind::Percent => {
            json!({"type": ["number", "null"], "minimum": 0, "maximum": 100, "description": "a percentage, at most 2 decimals"})
        }
        FieldKind::Labels { max } => json!({"oneOf": [
            {"type": "object", "properties": {"en": {"type": "string", "maxLength": max}, "zh-CN": {"type": "string", "maxLength": max}}, "additionalProperties": false},
            {"type": "string", "maxLength": max, "description": "the same text in every language"},
            {"type": "null"}
        ]}),
    }
}

/// A child collection: a list of lines, each with its id (kept when sent back) and its fields.
fn child_schema(child: &ChildDef) -> Value {
    let mut props = serde_json::Map::new();
    props.insert(
        "id".into(),
        json!({"type": "string", "format": "uuid", "description": "send back to keep the line; a line without one is new"}),
    );
    let mut required = vec![];
    for f in child.fields {
        props.insert(f.name.into(), field_schema(&f.kind));
        if f.required {
            required.push(f.name);
        }
    }
    let mut s = json!({"type": "array", "maxItems": child.max, "description": "the whole list; a write replaces it",
        "items": {"type": "object", "additionalProperties": false, "required": required, "properties": props}});
    if child.computed {
        s["readOnly"] = json!(true);
    }
    s
}

fn title_case(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn entity_schemas(def: &EntityDef, schemas: &mut serde_json::Map<String, Value>) {
    let name = title_case(def.name);
    let mut props = serde_json::Map::new();
    let mut input = serde_json::Map::new();
    let mut required = vec![];
    for f in def.fields {
        let mut s = field_schema(&f.kind);
        if f.computed {
            s["readOnly"] = json!(true);
            props.insert(f.name.into(), s);
        } else {
            props.insert(f.name.into(), s.clone());
            input.insert(f.name.into(), s);
        }
        if f.required {
            required.push(f.name);
        }
    }
    for child in def.children {
        let s = child_schema(child);
        if !child.computed {
            input.insert(child.name.into(), s.clone());
        }
        props.insert(child.name.into(), s);
    }
    let custom = json!({"type": "object", "description": "custom field values by key, as defined under /api/v1/custom-fields", "additionalProperties": true});
    input.insert("custom".into(), custom.clone());
    input.insert(
        "owner_id".into(),
        json!({"type": "string", "format": "uuid", "description": "defaults to the caller"}),
    );
    input.insert("version".into(), json!({"type": "integer", "description": "on update: the version you edited (like If-Match)"}));
    if !def.dedupe.is_empty() {
        input.insert("allow_duplicate".into(), json!({"type": "boolean", "default": false, "writeOnly": true,
            "description": "save even though records that a duplicate-check rule only warns about match (409 duplicate with params.action warn); a rule that blocks refuses anyway"}));
    }
    props.insert("custom".into(), custom);
    for (k, v) in [
        (
            "id",
            json!({"type": "string", "format": "uuid", "readOnly": true}),
        ),
        ("owner_id", json!({"type": "string", "format": "uuid"})),
        ("version", json!({"type": "integer", "readOnly": true})),
        (
            "created_at",
            json!({"type": "string", "format": "date-time", "readOnly": true}),
        ),
        (
            "created_by",
            json!({"type": ["string", "null"], "format": "uuid", "readOnly": true}),
        ),
        (
            "updated_at",
            json!({"type": "string", "format": "date-time", "readOnly": true}),
        ),
        (
            "updated_by",
            json!({"type": ["string", "null"], "format": "uuid", "readOnly": true}),
        ),
        (
            "deleted_at",
            json!({"type": ["string", "null"], "format": "date-time", "readOnly": true}),
        ),
        (
            "deleted_by",
            json!({"type": ["string", "null"], "format": "uuid", "readOnly": true}),
        ),
    ] {
        props.insert(k.into(), v);
    }
    schemas.insert(name.clone(), json!({"type": "object", "properties": props}));
    schemas.insert(
        format!("{name}Input"),
        json!({"type": "object", "additionalProperties": false, "required": required, "properties": input}),
    );
    schemas.insert(
        format!("{name}Page"),
        json!({"type": "object", "properties": {
            "data": {"type": "array", "items": {"$ref": format!("#/components/schemas/{name}")}},
            "next_cursor": {"type": ["string", "null"], "description": "pass as cursor= for the next page"},
            "total": {"type": "integer", "description": "present when count is asked for: exact with count=exact; with count=true exact up to 10,000 and 10,000 beyond"},
            "total_more": {"type": "boolean", "description": "more records match than total says (count=true past 10,000)"}
        }}),
    );
}

fn errors(codes: &[u16]) -> Value {
    let mut m = serde_json::Map::new();
    for c in codes {
        let desc = match c {
            400 => "malformed request: body, filter, sort, cursor or limit (code names which)",
            401 => "not authenticated",
            403 => "the role or record scope does not allow it, or the CSRF token is missing",
            404 => "no such record (or not visible to the caller)",
            409 => "the record changed since it was read",
            412 => "If-Match names a version that is not current",
            413 => "the body is over the size limit",
            415 => "the body is not application/json",
            422 => "validation failed; error.fields names each field",
            429 => "too many attempts",
            _ => "error",
        };
        m.insert(c.to_string(), json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}));
    }
    Value::Object(m)
}

fn ok(desc: &str, schema: Value, codes: &[u16]) -> Value {
    let mut r = errors(codes);
    r["200"] = json!({"description": desc, "content": {"application/json": {"schema": schema}}});
    r
}

fn with(mut r: Value, status: &str, desc: &str, schema: Option<Value>) -> Value {
    r[status] = match schema {
        Some(s) => json!({"description": desc, "content": {"application/json": {"schema": s}}}),
        None => json!({"description": desc}),
    };
    r
}

fn sref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn id_param() -> Value {
    json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}})
}

fn if_match_param() -> Value {
    json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"}, "description": "the ETag (version) you read; a stale one gets 412"})
}

fn entity_paths(def: &EntityDef, paths: &mut serde_json::Map<String, Value>) {
    let name = title_case(def.name);
    let p = def.plural;
    let ops: Vec<&str> = FilterOp::ALL.iter().map(|o| o.as_str()).collect();
    let mut fields: Vec<String> = def
        .fields
        .iter()
        .flat_map(|f| match f.kind {
            FieldKind::Address => ADDRESS_PARTS
                .iter()
                .map(|part| format!("{}.{part}", f.name))
                .collect(),
            _ => vec![f.name.to_string()],
        })
        .collect();
    fields.extend(
        [
            "id",
            "owner_id",
            "created_at",
            "updated_at",
            "created_by",
            "updated_by",
            "version",
        ]
        .map(String::from),
    );
    let sortable: Vec<String> = def
        .fields
        .iter()
        .filter(|f| f.sortable)
        .map(|f| f.name.to_string())
        .chain(["created_at".into(), "updated_at".into()])
        .collect();
    let list_params = json!([
        {"name": "sort", "in": "query", "schema": {"type": "string"}, "description": format!("a sortable field, '-' for descending: {}", sortable.join(", "))},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "next_cursor from the previous page"},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
        {"name": "count", "in": "query", "schema": {"type": "string", "enum": ["true", "exact"]}, "description": "also return total: true counts exactly up to 10,000 (total_more marks more), exact counts all"},
        {"name": "filter", "in": "query", "schema": {"type": "string"}, "description": "a JSON filter tree: {\"and\"|\"or\": [...]}, {\"not\": {...}}, {\"field\", \"op\", \"value\"}"},
        {"name": "field conditions", "in": "query", "schema": {"type": "string"}, "style": "form",
         "description": format!("any other parameter is a condition: FIELD=value or FIELD[op]=value with op one of {}; custom fields as custom.KEY; FIELD is one of {}", ops.join(", "), fields.join(", "))}
    ]);
    // An export takes the list's filters and sort, pages itself, and has a form to choose.
    let mut export_params: Vec<Value> = list_params
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| !matches!(p["name"].as_str(), Some("limit" | "count")))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    export_params.push(json!({"name": "format", "in": "query", "schema": {"type": "string", "enum": ["codes", "labels", "csv", "xlsx", "codes,csv", "codes,xlsx", "labels,csv", "labels,xlsx"], "default": "codes"},
        "description": "a form, a kind of file, or both: codes (column codes and values as the API gives them, for programs) or labels (worded for people in the caller's language, CSV with a UTF-8 BOM); csv or xlsx (the file the path names when left out)"}));
    export_params.push(json!({"name": "cols", "in": "query", "schema": {"type": "string"},
        "description": "labels only: the columns to export, comma-separated, in that order (e.g. name,type,owner_id,billing_address.city); every column when absent"}));
    // A save that would duplicate another record is a conflict too.
    let duplicate = "duplicate: a live record shares a key of a duplicate-check rule (params rule, action, entity, owner, record_id when readable, matches); with action warn, send allow_duplicate: true to save anyway";
    let (mut create_errors, mut update_errors) = (
        errors(&[400, 401, 403, 413, 415, 422]),
        ok(
            "the updated record",
            sref(&name),
            &[400, 401, 403, 404, 409, 412, 413, 415, 422],
        ),
    );
    if !def.dedupe.is_empty() {
        create_errors["409"] = errors(&[409])["409"].clone();
        create_errors["409"]["description"] = json!(duplicate);
        update_errors["409"]["description"] = json!(format!(
            "the record changed since it was read (version_conflict), or {duplicate}"
        ));
    }
    paths.insert(format!("/api/v1/{p}"), json!({
        "get": {"operationId": format!("list_{p}"), "tags": [p], "summary": format!("List {p} the caller may read"), "parameters": list_params,
                "responses": ok("a page", sref(&format!("{name}Page")), &[400, 401, 403])},
        "post": {"operationId": format!("create_{}", def.name), "tags": [p], "summary": format!("Create a {}", def.name),
                 "requestBody": body(sref(&format!("{name}Input"))),
                 "responses": with(create_errors, "201", "created; the body is the record with its id, ETag is its version", Some(sref(&name)))}
    }));
    paths.insert(format!("/api/v1/{p}/{{id}}"), json!({
        "parameters": [id_param()],
        "get": {"operationId": format!("get_{}", def.name), "tags": [p], "responses": ok("the record; ETag is its version", sref(&name), &[401, 404])},
        "patch": {"operationId": format!("update_{}", def.name), "tags": [p], "summary": "Change some fields", "parameters": [if_match_param()],
                  "requestBody": body(sref(&format!("{name}Input"))),
                  "responses": update_errors},
        "delete": {"operationId": format!("delete_{}", def.name), "tags": [p], "summary": "Move to the recycle bin", "parameters": [if_match_param()],
                   "responses": with(errors(&[401, 403, 404, 409, 412]), "204", "deleted", None)}
    }));
    paths.insert(format!("/api/v1/{p}/{{id}}/history"), json!({
        "parameters": [id_param()],
        "get": {"operationId": format!("history_{}", def.name), "tags": [p], "summary": "Who changed which field from what to what, newest first",
                "responses": ok("audit entries", json!({"type": "object", "properties": {"data": {"type": "array", "items": sref("AuditEntry")}}}), &[401, 404])}
    }));
    paths.insert(format!("/api/v1/{p}/{{id}}/restore"), json!({
        "parameters": [id_param()],
        "post": {"operationId": format!("restore_{}", def.name), "tags": [p], "summary": "Restore from the recycle bin",
                 "responses": ok("the restored record", sref(&name), &[401, 403, 404, 409])}
    }));
    if def.access == Access::Records {
        reminder_paths(def, paths);
    }
    if !def.dedupe.is_empty() {
        dedupe_paths(def, paths);
    }
    for action in def.actions {
        let mut props = serde_json::Map::new();
        let mut required = vec![];
        for f in action.input {
            props.insert(f.name.into(), field_schema(&f.kind));
            if f.required {
                required.push(f.name);
            }
        }
        let from = if action.from.is_empty() {
            String::new()
        } else {
            format!(" (from {})", action.from.join(" or "))
        };
        paths.insert(format!("/api/v1/{p}/{{id}}/{}", action.name), json!({
            "parameters": [id_param()],
            "post": {"operationId": format!("{}_{}", action.name, def.name), "tags": [p],
                     "summary": format!("{}{from}", action.name.replace('_', " ")),
                     "parameters": [if_match_param()],
                     "requestBody": body(json!({"type": "object", "additionalProperties": false, "required": required, "properties": props})),
                     "responses": ok("the record after the action", sref(&name), &[400, 401, 403, 404, 409, 412, 413, 415, 422])}
        }));
    }
    paths.insert(format!("/api/v1/{p}/change-owner"), json!({
        "post": {"operationId": format!("change_owner_{p}"), "tags": [p], "summary": "Give records a new owner (all or none)",
                 "requestBody": body(json!({"type": "object", "required": ["ids", "owner_id"], "properties": {
                     "ids": {"type": "array", "maxItems": 1000, "items": {"type": "string", "format": "uuid"}},
                     "owner_id": {"type": "string", "format": "uuid"}}})),
                 "responses": ok("how many changed", json!({"type": "object", "properties": {"changed": {"type": "integer"}}}), &[400, 401, 403, 404, 409, 422])}
    }));
    let mut aggregate_errors = errors(&[400, 401, 403]);
    aggregate_errors["400"]["description"] = json!(
        "not_groupable (params.field: a field that cannot name groups, a date without a bucket, more than two), not_measurable (params.field: not a number, an amount or a percentage), invalid_query (group or measure given twice, sort, cursor, limit or count given), or a filter the list would refuse"
    );
    paths.insert(format!("/api/v1/{p}/aggregate"), json!({
        "get": {"operationId": format!("aggregate_{p}"), "tags": [p],
                "summary": "Counts, sums, averages, minimums and maximums of the matching records the caller may read, grouped by one or two fields",
                "description": "Takes the list's filters. `group`: one or two comma-separated fields that name groups (choices, references, users, stages, yes/no), a date as `field:day|week|month|quarter|year` (UTC; a week is named by its Monday). `measure`: comma-separated `count` (the default), `sum:<field>`, `avg:<field>`, `min:<field>`, `max:<field>` of numbers, amounts and percentages. An amount is never added across currencies: each group with a money measure is split by currency, and money values are `{amount, currency}`. At most 1,000 groups, records without a value last; `truncated` says when there were more.",
                "parameters": [
                    {"name": "group", "in": "query", "required": true, "schema": {"type": "string"}, "example": "owner_id,close_date:month"},
                    {"name": "measure", "in": "query", "schema": {"type": "string"}, "example": "count,sum:amount"},
                    {"name": "filter", "in": "query", "schema": {"type": "string"}, "description": "a JSON filter tree, as the list takes it; any other parameter is a field condition"}
                ],
                "responses": with(aggregate_errors, "200", "groups", Some(json!({"type": "object", "required": ["groups", "truncated"], "properties": {
                    "groups": {"type": "array", "items": {"type": "object", "properties": {
                        "keys": {"type": "array", "description": "one per grouping: an id, a code, a bucket name such as 2026-05 or 2026-Q2, or null"},
                        "values": {"type": "array", "description": "one per measure: a number, or {amount, currency}, or null"}}}},
                    "truncated": {"type": "boolean"}}})))}
    }));
    paths.insert(format!("/api/v1/{p}/export.csv"), json!({
        "get": {"operationId": format!("export_{p}"), "tags": [p], "summary": "CSV of the matching records (same filters as the list), formula cells neutralized",
                "description": "Up to 100,000 rows, streamed. One column per field (address and money values split into parts such as `billing_address.city` and `amount.currency`), one per collection of lines, the system fields, then `custom.<key>`. `format=codes` (the default here): column codes as headers, each cell the API value (text as is; numbers and true/false as JSON; lists, lines and names per language as JSON). `format=labels`: headers, choices, references, owners and times worded for people in the caller's language.",
                "parameters": export_params,
                "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}, "400": errors(&[400])["400"], "401": errors(&[401])["401"],
                              "429": {"description": "too_many_exports: the caller or the server already runs as many exports as allowed; Retry-After says when to try again",
                                      "content": {"application/json": {"schema": sref("Error")}}}}}
    }));
    paths.insert(format!("/api/v1/{p}/export.xlsx"), json!({
        "get": {"operationId": format!("export_{p}_xlsx"), "tags": [p], "summary": "An Excel workbook of the matching records (same filters as the list), formula cells neutralized",
                "description": "Up to 100,000 rows, streamed. One column per field (address and money values split into parts such as `billing_address.city` and `amount.currency`), one per collection of lines, the system fields, then `custom.<key>`. `format=codes` (the default here): column codes as headers, each cell the API value (text as is; numbers and true/false as JSON; lists, lines and names per language as JSON). `format=labels`: headers, choices, references, owners and times worded for people in the caller's language.",
                "parameters": export_params,
                "responses": {"200": {"description": "XLSX", "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}}, "400": errors(&[400])["400"], "401": errors(&[401])["401"],
                              "429": {"description": "too_many_exports: the caller or the server already runs as many exports as allowed; Retry-After says when to try again",
                                      "content": {"application/json": {"schema": sref("Error")}}}}}
    }));
}

/// The duplicate check of an entity that declares rules: the check, and what each rule does.
fn dedupe_paths(def: &EntityDef, paths: &mut serde_json::Map<String, Value>) {
    let p = def.plural;
    let rules: Vec<&str> = def.dedupe.iter().map(|d| d.rule.as_str()).collect();
    let actions: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    let setting = json!({"type": "object", "required": ["rule", "action", "default_action", "fields"], "properties": {
        "rule": {"type": "string", "enum": &rules},
        "action": {"type": "string", "enum": &actions, "description": "warn: a save with a match is refused unless allow_duplicate is true; block: refused always"},
        "default_action": {"type": "string", "enum": &actions, "description": "what the rule does when no administrator chose"},
        "fields": {"type": "array", "items": {"type": "string"}, "description": "the fields whose values the rule compares"}}});
    let matched = json!({"type": "object", "required": ["rule", "rules", "action", "readable", "record_id", "title", "owner_name", "fields"], "properties": {
        "rule": {"type": "string", "enum": &rules, "description": "the strongest rule matched: one that blocks first"},
        "rules": {"type": "array", "items": {"type": "string", "enum": &rules}},
        "action": {"type": "string", "enum": &actions},
        "readable": {"type": "boolean", "description": "whether the caller may read the record; if not, only its owner's name is given"},
        "record_id": {"type": ["string", "null"], "format": "uuid"},
        "title": {"type": ["string", "null"]},
        "owner_name": {"type": "string"},
        "fields": {"type": ["object", "null"], "description": "the matched rules' fields and the entity's key facts"}}});
    paths.insert(format!("/api/v1/{p}/duplicates"), json!({
        "post": {"operationId": format!("duplicates_{p}"), "tags": [p],
                 "summary": "Live records a record would duplicate (查重), at most 20, the strongest match first",
                 "description": format!("The body is a record as typed, whole or in part (just a name); values that do not validate are left out of the check. `id`, when given, is the record being edited, which does not match itself. Rules: {}. A save (create or update) answers 409 `duplicate` for the same matches: params rule, action, entity, owner, record_id (when readable) and matches.", rules.join(", ")),
                 "requestBody": body(json!({"type": "object"})),
                 "responses": ok("matches", json!({"type": "object", "properties": {"data": {"type": "array", "items": matched}}}), &[400, 401, 403, 413, 415, 422])}
    }));
    paths.insert(format!("/api/v1/{p}/dedupe-rules"), json!({
        "get": {"operationId": format!("dedupe_rules_{p}"), "tags": [p], "summary": "What each duplicate-check rule does",
                "responses": ok("the rules", json!({"type": "object", "properties": {"data": {"type": "array", "items": setting.clone()}}}), &[401])}
    }));
    paths.insert(format!("/api/v1/{p}/dedupe-rules/{{rule}}"), json!({
        "parameters": [{"name": "rule", "in": "path", "required": true, "schema": {"type": "string", "enum": &rules}}],
        "put": {"operationId": format!("set_dedupe_rule_{p}"), "tags": [p], "summary": "Set what a duplicate-check rule does (administrators)",
                "requestBody": body(json!({"type": "object", "required": ["action"], "additionalProperties": false, "properties": {"action": {"type": "string", "enum": &actions}}})),
                "responses": ok("the rule", setting, &[400, 401, 403, 413, 415, 422])}
    }));
}

/// The reminders on a record of an entity whose records have owners: list, set, cancel.
fn reminder_paths(def: &EntityDef, paths: &mut serde_json::Map<String, Value>) {
    let p = def.plural;
    let mut set_errors = errors(&[400, 401, 403, 404, 413, 415, 422]);
    set_errors["403"]["description"] = json!(
        "the caller may read the record but neither owns it nor may change it (reason record_out_of_reach), or the role may not read it"
    );
    set_errors["422"]["description"] = json!(
        "error.fields names at (required, not_a_string, not_a_date_time, reminder_in_past, out_of_range: more than 5 years ahead) or note (not_a_string, too_long, control_characters), and unknown_field for any other key"
    );
    paths.insert(format!("/api/v1/{p}/{{id}}/reminders"), json!({
        "parameters": [id_param()],
        "get": {"operationId": format!("list_reminders_{}", def.name), "tags": [p],
                "summary": "The record's reminders not yet shown, soonest first (at most 100)",
                "responses": ok("pending reminders", list_of("Reminder"), &[401, 403, 404])},
        "post": {"operationId": format!("set_reminder_{}", def.name), "tags": [p],
                 "summary": "Set a reminder for the record's owner: at that time it shows in their notifications, and goes by e-mail when they chose so",
                 "description": "The caller must own the record or be allowed to change it. The reminder is for whoever owns the record now.",
                 "requestBody": body(sref("ReminderInput")),
                 "responses": with(set_errors, "201", "set", Some(sref("Reminder")))}
    }));
    let mut cancel_errors = errors(&[401, 403, 404]);
    cancel_errors["404"]["description"] =
        json!("no such record, or no such reminder pending on it (one that has shown is gone)");
    paths.insert(format!("/api/v1/{p}/{{id}}/reminders/{{reminder}}"), json!({
        "parameters": [id_param(), {"name": "reminder", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
        "delete": {"operationId": format!("cancel_reminder_{}", def.name), "tags": [p],
                   "summary": "Cancel a pending reminder (and its e-mail)",
                   "responses": with(cancel_errors, "204", "cancelled", None)}
    }));
}

fn simple(op: &str, tag: &str, summary: &str, req: Option<Value>, res: Value) -> Value {
    let mut o = json!({"operationId": op, "tags": [tag], "summary": summary, "responses": res});
    if let Some(b) = req {
        o["requestBody"] = body(b);
    }
    o
}

fn list_of(s: &str) -> Value {
    json!({"type": "object", "properties": {"data": {"type": "array", "items": sref(s)}}})
}

/// OpenAPI wants `required` stated on every parameter; fill in `false` where a route left it out.
fn state_required(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Array(params)) = o.get_mut("parameters") {
                for p in params.iter_mut() {
                    if let Value::Object(po) = p {
                        po.entry("required").or_insert(Value::Bool(false));
                    }
                }
            }
            for child in o.values_mut() {
                state_required(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(state_required),
        _ => {}
    }
}

pub fn build(registry: &Registry) -> Value {
    // The engine's codes and each entity's own: what `error.fields.*.code` may be.
    let error_codes: Vec<&str> = guanxi_core::codes::ALL
        .iter()
        .chain(registry.all().iter().flat_map(|d| d.error_codes))
        .copied()
        .collect();
    let mut schemas = serde_json::Map::new();
    let mut paths = serde_json::Map::new();
    for def in registry.all() {
        entity_schemas(def, &mut schemas);
        entity_paths(def, &mut paths);
    }
    let addr: serde_json::Map<String, Value> = ADDRESS_PARTS
        .iter()
        .map(|p| {
            (
                p.to_string(),
                json!({"type": ["string", "null"], "maxLength": 200}),
            )
        })
        .collect();
    for (k, v) in [
        (
            "Error",
            json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "description": "stable snake_case code, e.g. validation_failed, not_found, precondition_failed"},
            "message": {"type": "string", "description": "worded in the caller's language"},
            "reason": {"type": "string", "description": "why, for a code with several reasons: forbidden (admin_only, role_cannot_read, role_cannot_write, record_out_of_reach) and not_found (no_such_route)"},
            "params": {"type": "object", "description": "what the wording of the reason or code needs, e.g. {limit, has, unit} for filter_too_complex"},
            "fields": {"type": "object", "description": "field name → what is wrong with it", "additionalProperties": {
                "type": "object", "required": ["code", "message", "params"], "properties": {
                    "code": {"type": "string", "enum": &error_codes},
                    "message": {"type": "string", "description": "worded in the caller's language"},
                    "params": {"type": "object", "description": "what the wording needs (max, value, options, entity, …); entry (from 1) and part name a list item or a part of the value"}}}}}}}}),
        ),
        (
            "Money",
            json!({"type": "object", "required": ["amount"], "properties": {"amount": {"type": "string", "description": "decimal, e.g. \"12000.50\""}, "currency": {"type": "string", "description": "ISO 4217, default CNY"}}}),
        ),
        (
            "Phone",
            json!({"type": "object", "required": ["number"], "properties": {"number": {"type": "string", "description": "returned in E.164"}, "label": {"type": "string"}}}),
        ),
        (
            "Email",
            json!({"type": "object", "required": ["address"], "properties": {"address": {"type": "string", "format": "email"}, "label": {"type": "string"}}}),
        ),
        (
            "Address",
            json!({"type": ["object", "null"], "additionalProperties": false, "properties": addr}),
        ),
        (
            "AuditEntry",
            json!({"type": "object", "properties": {"id": {"type": "string"}, "action": {"type": "string", "enum": ["create", "update", "delete", "restore", "purge"]}, "actor_id": {"type": ["string", "null"]}, "actor_name": {"type": ["string", "null"]}, "at": {"type": "string", "format": "date-time"},
            "changes": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "from": {}, "to": {}}}}}}),
        ),
        (
            "User",
            json!({"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "email": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string", "enum": ["admin", "manager", "sales", "marketing", "service", "read_only"]}, "team_id": {"type": ["string", "null"]}, "locale": {"type": "string", "enum": ["zh-CN", "en"]}, "money_format": {"type": "string", "enum": ["grouped", "wan"]}, "time_zone": {"type": "string", "description": "the IANA time zone pages show times in and forms read them in, e.g. Asia/Shanghai; empty for the instance default"}, "disabled": {"type": "boolean"}, "created_at": {"type": "string"}, "version": {"type": "integer"}}}),
        ),
        (
            "UserInput",
            json!({"type": "object", "additionalProperties": false, "properties": {"email": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string"}, "team_id": {"type": ["string", "null"]}, "password": {"type": "string", "minLength": 8}, "locale": {"type": "string"}, "disabled": {"type": "boolean"}}}),
        ),
        (
            "UserPatch",
            json!({"type": "object", "additionalProperties": false, "properties": {"name": {"type": "string"}, "role": {"type": "string"}, "team_id": {"type": ["string", "null"]}, "locale": {"type": "string", "enum": ["zh-CN", "en"]}, "money_format": {"type": "string", "enum": ["grouped", "wan"]}, "time_zone": {"type": "string", "description": "the IANA time zone pages show times in and forms read them in, e.g. Asia/Shanghai; empty for the instance default"}, "disabled": {"type": "boolean"}}}),
        ),
        (
            "Team",
            json!({"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}}}),
        ),
        (
            "CustomField",
            json!({"type": "object", "properties": {"id": {"type": "string"}, "entity": {"type": "string", "enum": registry.all().iter().map(|e| e.name).collect::<Vec<_>>()}, "key": {"type": "string"}, "label_en": {"type": "string"}, "label_zh": {"type": "string"},
            "kind": {"type": "string", "enum": guanxi_core::custom_fields::CUSTOM_KINDS}, "required": {"type": "boolean"}, "options": {"type": "array", "items": {"type": "string"}, "description": "the options of a choice or multi_choice field"}, "refers_to": {"type": ["string", "null"], "description": "the entity a ref field points at"}, "position": {"type": "integer"}, "version": {"type": "integer"}}}),
        ),
        (
            "Reminder",
            json!({"type": "object", "required": ["id", "user_id", "at", "note"], "properties": {
                "id": {"type": "string", "format": "uuid", "description": "pass to DELETE …/reminders/{reminder} to cancel it"},
                "user_id": {"type": "string", "format": "uuid", "description": "whose notifications it shows in: the record's owner when it was set"},
                "at": {"type": "string", "format": "date-time", "description": "when it shows, in UTC, to the microsecond"},
                "note": {"type": "string", "description": "empty when none; the reminder then reads as the record's name"}}}),
        ),
        (
            "ReminderInput",
            json!({"type": "object", "required": ["at"], "additionalProperties": false, "properties": {
                "at": {"type": "string", "format": "date-time", "description": "RFC 3339 with an offset, e.g. 2030-05-06T10:00:00+08:00; in the future and at most 5 years ahead"},
                "note": {"type": ["string", "null"], "maxLength": 200, "description": "what to do, e.g. 跟进报价; trimmed; no control characters"}}}),
        ),
        (
            "SearchHit",
            json!({"type": "object", "properties": {"entity": {"type": "string"}, "id": {"type": "string"}, "title": {"type": "string"}, "hint": {"type": ["string", "null"], "description": "the record's key facts in the caller's language (company, phone, owner), to tell records of the same name apart"}}}),
        ),
        (
            "ApiToken",
            json!({"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "prefix": {"type": "string"}, "created_at": {"type": "string"}, "last_used_at": {"type": ["string", "null"]}}}),
        ),
        (
            "SavedView",
            json!({"type": "object", "required": ["entity", "name"], "properties": {"id": {"type": "string", "readOnly": true}, "entity": {"type": "string"}, "name": {"type": "string", "maxLength": 100},
                "filter": {"type": "object", "description": "the list's filter in its JSON form ({\"and\": [{\"field\", \"op\", \"value\"}, …]}, with or/not as lists take them); none for every record"},
                "sort": {"type": ["string", "null"], "description": "field or -field"},
                "columns": {"type": "array", "items": {"type": "string"}, "description": "the columns in order; empty for the entity's own"},
                "shared": {"type": "boolean", "description": "shown to everyone in the owner's team"},
                "owner_name": {"type": "string", "readOnly": true}, "mine": {"type": "boolean", "readOnly": true}}}),
        ),
    ] {
        schemas.insert(k.into(), v);
    }
    let idp = json!([id_param()]);
    let me_answer = json!({"type": "object", "properties": {"user": sref("User"), "grants": {"type": "object"}, "time_zone_in_effect": {"type": "string", "description": "the zone the caller reads in: their own, else the instance default"}}});
    let extra = [
        (
            "/api/v1/me",
            json!({
            "get": simple("get_me", "identity", "The caller and their grants", None, ok("me", me_answer.clone(), &[401])),
            "patch": simple("update_me", "identity", "Change your name, language, money format or time zone (an unknown zone is refused with unknown_time_zone)", Some(json!({"type": "object", "additionalProperties": false, "properties": {"name": {"type": "string"}, "locale": {"type": "string", "enum": ["zh-CN", "en"]}, "money_format": {"type": "string", "enum": ["grouped", "wan"]}, "time_zone": {"type": "string", "description": "the IANA time zone pages show times in and forms read them in, e.g. Asia/Shanghai; empty for the instance default"}}})), ok("me", me_answer.clone(), &[400, 401, 422]))}),
        ),
        (
            "/api/v1/users",
            json!({
            "get": simple("list_users", "identity", "All users", None, ok("users", list_of("User"), &[401])),
            "post": simple("create_user", "identity", "Add a user (admin)", Some(sref("UserInput")), with(errors(&[400, 401, 403, 422]), "201", "created", Some(sref("User"))))}),
        ),
        (
            "/api/v1/users/{id}",
            json!({"parameters": idp,
            "get": simple("get_user", "identity", "One user", None, ok("user", sref("User"), &[401, 404])),
            "patch": simple("update_user", "identity", "Change role, team, language, money format, time zone or disable (admin)", Some(sref("UserPatch")), ok("user", sref("User"), &[400, 401, 403, 404, 422]))}),
        ),
        (
            "/api/v1/users/{id}/password",
            json!({"parameters": idp,
            "post": simple("set_password", "identity", "Set a password: an admin for anyone, or people for themselves with their current password. Ends the user's sessions and revokes their API tokens unless keep_tokens is true. Common or easily guessed passwords and the user's e-mail are refused.", Some(json!({"type": "object", "required": ["password"], "additionalProperties": false, "properties": {"password": {"type": "string", "minLength": 8, "maxLength": 256}, "current_password": {"type": "string", "description": "required when changing your own password"}, "keep_tokens": {"type": "boolean", "default": false}}})), with(errors(&[400, 401, 403, 404, 422, 429]), "204", "changed", None))}),
        ),
        (
            "/api/v1/teams",
            json!({
            "get": simple("list_teams", "identity", "All teams", None, ok("teams", list_of("Team"), &[401])),
            "post": simple("create_team", "identity", "Add a team (admin)", Some(json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}})), with(errors(&[400, 401, 403, 422]), "201", "created", Some(sref("Team"))))}),
        ),
        (
            "/api/v1/teams/{id}",
            json!({"parameters": idp,
            "get": simple("get_team", "identity", "One team", None, ok("team", sref("Team"), &[401, 404])),
            "patch": simple("rename_team", "identity", "Rename (admin)", Some(json!({"type": "object", "properties": {"name": {"type": "string"}}})), ok("team", sref("Team"), &[400, 401, 403, 404, 422])),
            "delete": simple("delete_team", "identity", "Delete (admin); members stay without a team", None, with(errors(&[401, 403, 404]), "204", "deleted", None))}),
        ),
        (
            "/api/v1/roles",
            json!({
            "get": simple("list_roles", "identity", "Each role's read and write scope per entity", None, ok("roles", json!({"type": "object"}), &[401]))}),
        ),
        (
            "/api/v1/roles/{role}/grants/{entity}",
            json!({
            "parameters": [{"name": "role", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "entity", "in": "path", "required": true, "schema": {"type": "string"}}],
            "put": simple("set_grant", "identity", "Set a role's scope for an entity (admin)", Some(json!({"type": "object", "required": ["read", "write"], "properties": {"read": {"type": "string", "enum": ["none", "own", "team", "all"]}, "write": {"type": "string", "enum": ["none", "own", "team", "all"]}}})), ok("set", json!({"type": "object"}), &[400, 401, 403, 422]))}),
        ),
        (
            "/api/v1/tokens",
            json!({
            "get": simple("list_tokens", "identity", "Your API tokens", None, ok("tokens", list_of("ApiToken"), &[401])),
            "post": simple("create_token", "identity", "Create an API token; the secret is shown once", Some(json!({"type": "object", "properties": {"name": {"type": "string"}}})), with(errors(&[400, 401, 422]), "201", "created", Some(json!({"type": "object", "properties": {"token": {"type": "string"}, "info": sref("ApiToken")}}))))}),
        ),
        (
            "/api/v1/tokens/{id}",
            json!({"parameters": idp,
            "delete": simple("revoke_token", "identity", "Revoke a token", None, with(errors(&[401, 404]), "204", "revoked", None))}),
        ),
        (
            "/api/v1/custom-fields",
            json!({
            "get": {"operationId": "list_custom_fields", "tags": ["custom-fields"], "parameters": [{"name": "entity", "in": "query", "schema": {"type": "string"}}], "responses": ok("definitions", list_of("CustomField"), &[401])},
            "post": simple("create_custom_field", "custom-fields", "Define a custom field (admin)", Some(sref("CustomField")), with(errors(&[400, 401, 403, 422]), "201", "created", Some(sref("CustomField"))))}),
        ),
        (
            "/api/v1/custom-fields/{id}",
            json!({"parameters": idp,
            "get": simple("get_custom_field", "custom-fields", "One definition", None, ok("definition", sref("CustomField"), &[401, 404])),
            "patch": {"operationId": "update_custom_field", "tags": ["custom-fields"], "parameters": [if_match_param()], "requestBody": body(sref("CustomField")), "responses": ok("definition", sref("CustomField"), &[400, 401, 403, 404, 412, 422])},
            "delete": simple("delete_custom_field", "custom-fields", "Remove a definition (admin)", None, with(errors(&[401, 403, 404]), "204", "deleted", None))}),
        ),
        (
            "/api/v1/search",
            json!({
            "get": {"operationId": "search", "tags": ["search"], "summary": "Find accounts and contacts by name (Chinese substrings, pinyin, initials), phone, e-mail or domain",
                    "parameters": [{"name": "q", "in": "query", "required": true, "schema": {"type": "string", "maxLength": 200}}, {"name": "entity", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
                    "responses": ok("hits", list_of("SearchHit"), &[400, 401])}}),
        ),
        (
            "/api/v1/divisions",
            json!({
            "get": {"operationId": "divisions", "tags": ["addresses"], "summary": "China's administrative divisions (GB/T 2260): the provinces, or the cities or districts under `parent`",
                    "parameters": [{"name": "parent", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{6}$"}, "description": "a division's six-digit code; absent for the provinces"}],
                    "responses": ok("divisions", json!({"type": "object", "properties": {"data": {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}}}}), &[401, 404])}}),
        ),
        (
            "/api/v1/divisions/split",
            json!({
            "get": {"operationId": "split_address", "tags": ["addresses"], "summary": "Split a one-line Chinese address (北京市丰台区科技园路382号) into province, city, district and street",
                    "parameters": [{"name": "line", "in": "query", "required": true, "schema": {"type": "string", "maxLength": 500}}],
                    "responses": ok("the parts", json!({"type": "object", "properties": {"province": {"type": "string"}, "city": {"type": "string"}, "district": {"type": "string"}, "street": {"type": "string"}}}), &[401, 422])}}),
        ),
        (
            "/api/v1/recycle-bin",
            json!({
            "get": {"operationId": "recycle_bin", "tags": ["recycle-bin"], "summary": "Deleted records the caller may read", "parameters": [{"name": "entity", "in": "query", "schema": {"type": "string"}}, {"name": "cursor", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                    "responses": ok("deleted records", json!({"type": "object"}), &[400, 401])}}),
        ),
        (
            "/api/v1/recycle-bin/{entity}/{id}",
            json!({
            "parameters": [{"name": "entity", "in": "path", "required": true, "schema": {"type": "string"}}, id_param()],
            "delete": simple("purge", "recycle-bin", "Delete for good (admin)", None, with(errors(&[401, 403, 404]), "204", "purged", None))}),
        ),
        (
            "/api/v1/recycle-bin/{entity}/{id}/restore",
            json!({
            "parameters": [{"name": "entity", "in": "path", "required": true, "schema": {"type": "string"}}, id_param()],
            "post": simple("restore", "recycle-bin", "Restore", None, ok("restored", json!({"type": "object"}), &[401, 403, 404]))}),
        ),
        (
            "/api/v1/saved-views",
            json!({
            "get": {"operationId": "list_saved_views", "tags": ["saved-views"], "parameters": [{"name": "entity", "in": "query", "required": true, "schema": {"type": "string"}}], "responses": ok("views", list_of("SavedView"), &[401, 404])},
            "post": simple("save_view", "saved-views", "Save a list view: its filter, sort and columns, shared with the team or not (replaces the caller's view of the same name)", Some(sref("SavedView")), with(errors(&[400, 401, 422]), "201", "saved", Some(sref("SavedView"))))}),
        ),
        (
            "/api/v1/saved-views/{id}",
            json!({"parameters": idp,
            "delete": simple("delete_saved_view", "saved-views", "Delete one of the caller's views (or, as an administrator, a shared one)", None, with(errors(&[401, 404]), "204", "deleted", None))}),
        ),
        (
            "/api/v1/notifications",
            json!({
            "get": {"operationId": "list_notifications", "tags": ["notifications"], "summary": "The caller's notifications that show now, newest first, with the unread count",
                    "parameters": [{"name": "unread", "in": "query", "schema": {"type": "boolean"}}, {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}, {"name": "before", "in": "query", "description": "the last id of the previous page (next_before)", "schema": {"type": "string", "format": "uuid"}}],
                    "responses": ok("notifications", json!({"type": "object"}), &[400, 401, 404])}}),
        ),
        (
            "/api/v1/notifications/unread-count",
            json!({
            "get": {"operationId": "unread_notifications", "tags": ["notifications"], "summary": "How many of the caller's notifications are unread (what pages poll for the bell)",
                    "responses": ok("count", json!({"type": "object", "properties": {"unread": {"type": "integer"}}}), &[401])}}),
        ),
        (
            "/api/v1/notifications/read-all",
            json!({
            "post": simple("read_all_notifications", "notifications", "Mark every notification read", None, ok("marked", json!({"type": "object", "properties": {"marked": {"type": "integer"}}}), &[401]))}),
        ),
        (
            "/api/v1/notifications/{id}/read",
            json!({"parameters": idp,
            "post": simple("read_notification", "notifications", "Mark one notification read", None, with(errors(&[401, 404]), "204", "read", None))}),
        ),
        (
            "/api/v1/openapi.json",
            json!({
            "get": {"operationId": "openapi", "tags": ["meta"], "security": [], "responses": {"200": {"description": "this document"}}}}),
        ),
    ];
    for (k, v) in extra {
        paths.insert(k.into(), v);
    }
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "Guanxi API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Guanxi 关系 CRM. Authenticate with `Authorization: Bearer <token>` (create one with `guanxi token create` or under Settings). Lists use cursor pagination; updates honour If-Match."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE, "description": "browser session; state-changing requests also need the X-CSRF-Token header"}
            }
        }
    });
    state_required(&mut doc["paths"]);
    doc
}

/// The document, passed through utoipa's OpenAPI model so its structure is checked.
pub fn document(registry: &Registry) -> Value {
    let raw = build(registry);
    match serde_json::from_value::<utoipa::openapi::OpenApi>(raw.clone()) {
        Ok(typed) => serde_json::to_value(typed).unwrap_or(raw),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document does not fit the OpenAPI model");
            raw
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn document_fits_the_openapi_model_and_names_every_entity_route() {
        let raw = super::build(guanxi_core::areas::registry());
        let typed: utoipa::openapi::OpenApi =
            serde_json::from_value(raw.clone()).expect("valid OpenAPI model");
        for def in guanxi_core::areas::registry().all() {
            let list = format!("/api/v1/{}", def.plural);
            assert!(typed.paths.paths.contains_key(&list), "{list} missing");
            let one = format!("{list}/{{id}}");
            assert!(typed.paths.paths.contains_key(&one), "{one} missing");
            let reminders = format!("{one}/reminders");
            assert_eq!(
                typed.paths.paths.contains_key(&reminders),
                def.access == super::Access::Records,
                "{reminders}: documented exactly for entities whose records have owners"
            );
        }
        for p in [
            "/api/v1/search",
            "/api/v1/recycle-bin",
            "/api/v1/custom-fields",
            "/api/v1/me",
            "/api/v1/users",
            "/api/v1/teams",
        ] {
            assert!(raw["paths"].get(p).is_some(), "{p} missing");
        }
    }
}
